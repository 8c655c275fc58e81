//! A unit slot of a channel (master or slave): its registers and the drive attached, if any. The
//! [`Drive`] enum hands each call of the channel to the drive's own command set.

use super::ata::AtaDisk;
use super::atapi::AtapiCd;
use super::backend::{Fault, IoError};
use super::bmdma::Segments;
use super::drive::{Action, Deferred, DmaKind, DriveCore, error_bits};
use super::taskfile::{STATUS_READY, Taskfile};
use crate::planted_bug::Planted;
use harness::device::Context;

/// A drive: an ATA hard disk or an ATAPI CD-ROM.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Drive {
    /// An ATA hard disk.
    Disk(AtaDisk),
    /// An ATAPI CD-ROM drive.
    Cd(AtapiCd),
}

/// `clone_from` of the same kind of drive reuses its buffers (see `clone_by_field!`).
impl Clone for Drive {
    fn clone(&self) -> Self {
        match self {
            Drive::Disk(d) => Drive::Disk(d.clone()),
            Drive::Cd(d) => Drive::Cd(d.clone()),
        }
    }

    fn clone_from(&mut self, source: &Self) {
        match (self, source) {
            (Drive::Disk(to), Drive::Disk(from)) => to.clone_from(from),
            (Drive::Cd(to), Drive::Cd(from)) => to.clone_from(from),
            (to, from) => *to = from.clone(),
        }
    }
}

impl Drive {
    /// Whether this is a packet device.
    pub(super) fn is_cd(&self) -> bool {
        matches!(self, Drive::Cd(_))
    }

    /// What both kinds share: the PIO buffer and window, IDENTIFY, the planted bugs.
    pub(super) fn core_mut(&mut self) -> &mut DriveCore {
        match self {
            Drive::Disk(d) => &mut d.core,
            Drive::Cd(d) => &mut d.core,
        }
    }

    /// Build the drive with the device's planted-bug selection.
    pub(super) fn set_planted(&mut self, planted: Planted) {
        self.core_mut().planted = planted;
    }

    /// The state a reset (SRST, DEVICE RESET) leaves.
    pub(super) fn soft_reset(&mut self) {
        match self {
            Drive::Disk(d) => d.soft_reset(),
            Drive::Cd(d) => d.soft_reset(),
        }
    }

    /// The power-on state.
    pub(super) fn power_on(&mut self) {
        match self {
            Drive::Disk(d) => d.power_on(),
            Drive::Cd(d) => d.power_on(),
        }
    }

    /// Make `fault` the failing sector.
    pub(super) fn set_fault(&mut self, fault: Option<Fault>) {
        match self {
            Drive::Disk(d) => d.set_fault(fault),
            Drive::Cd(d) => d.set_fault(fault),
        }
    }

    /// Whether the drive takes `cmd` while BSY or DRQ is set.
    pub(super) fn takes_while_busy(&self, cmd: u8) -> bool {
        self.is_cd() && AtapiCd::takes_while_busy(cmd)
    }

    /// Command `cmd` (status DRDY|BSY, error 0 on entry).
    pub(super) fn command(&mut self, ctx: &mut dyn Context, tf: &mut Taskfile, cmd: u8) -> Action {
        match self {
            Drive::Disk(d) => d.command(ctx, tf, cmd),
            Drive::Cd(d) => d.command(tf, cmd),
        }
    }

    /// The PIO window has moved its last byte.
    pub(super) fn pio_done(&mut self, ctx: &mut dyn Context, tf: &mut Taskfile) -> Action {
        match self {
            Drive::Disk(d) => d.pio_done(tf),
            Drive::Cd(d) => d.pio_done(ctx, tf),
        }
    }

    /// The request latency of `op` has passed.
    pub(super) fn deferred(&mut self, tf: &mut Taskfile, op: Deferred) -> Action {
        match self {
            Drive::Disk(d) => d.deferred(tf, op),
            Drive::Cd(d) => d.deferred(tf, op),
        }
    }

    /// Whether a transfer of `kind` ends as soon as the bus master starts, without the request
    /// latency: a reply comes from the drive's buffer, and a disk request past the end of the
    /// disk fails before any medium access (QEMU does either inside the BMICOM write or the
    /// command).
    pub(super) fn dma_at_once(&self, tf: &Taskfile, kind: DmaKind) -> bool {
        match (self, kind) {
            (_, DmaKind::Reply { .. }) => true,
            (Drive::Disk(d), DmaKind::Ata { .. }) => !d.request_in_range(tf),
            _ => false,
        }
    }

    /// Bytes per sector, and bytes wanted for the next step, of a transfer of `kind`.
    pub(super) fn dma_step(&self, kind: DmaKind) -> (u64, u64) {
        match self {
            Drive::Disk(d) => d.dma_step(),
            Drive::Cd(_) => AtapiCd::dma_step(kind),
        }
    }

    /// Move the bytes `segs` describe for `kind`.
    pub(super) fn dma_transfer(
        &mut self,
        ctx: &mut dyn Context,
        tf: &Taskfile,
        kind: DmaKind,
        segs: &Segments,
    ) -> Result<(), IoError> {
        match self {
            Drive::Disk(d) => d.dma_transfer(ctx, tf, kind, segs),
            Drive::Cd(d) => d.dma_transfer(ctx, kind, segs),
        }
    }

    /// `sectors` of `kind` moved: what is left of it, or `None` when it is complete.
    pub(super) fn dma_advance(
        &mut self,
        tf: &mut Taskfile,
        kind: DmaKind,
        sectors: u32,
    ) -> Option<DmaKind> {
        match self {
            Drive::Disk(d) => (!d.dma_advance(tf, sectors)).then_some(kind),
            Drive::Cd(_) => AtapiCd::dma_advance(kind, sectors),
        }
    }

    /// The transfer completed.
    pub(super) fn dma_done(&mut self, tf: &mut Taskfile) -> Action {
        match self {
            Drive::Disk(_) => {
                tf.status = STATUS_READY;
                Action::Interrupt
            }
            Drive::Cd(d) => d.dma_done(tf),
        }
    }

    /// The transfer failed with `e` before or while its data moved.
    pub(super) fn dma_error(&mut self, tf: &mut Taskfile, e: IoError) -> Action {
        match self {
            Drive::Disk(_) => Action::Fail(error_bits(e)),
            Drive::Cd(d) => d.io_error(tf, e),
        }
    }

    /// The PRD table ended before the transfer: a disk shows status 0x50, a packet device keeps
    /// its DRQ status (QEMU).
    pub(super) fn dma_short(&self, tf: &mut Taskfile) {
        if !self.is_cd() {
            tf.status = STATUS_READY;
        }
    }

    /// The user's medium event (eject or close the tray): a CD-ROM's only.
    pub(super) fn medium_event(&mut self) -> Action {
        match self {
            Drive::Disk(_) => Action::Done,
            Drive::Cd(d) => d.medium_event(),
        }
    }
}

/// A unit slot: its registers, and the drive if one is attached.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Unit {
    pub tf: Taskfile,
    pub drive: Option<Drive>,
}

harness::clone_by_field!(Unit { tf, drive });

impl Unit {
    /// The signature kind of the slot: `None` without a drive, else whether it is a CD-ROM.
    pub fn kind(&self) -> Option<bool> {
        self.drive.as_ref().map(Drive::is_cd)
    }

    /// Registers after a reset (QEMU's `ide_reset`).
    pub fn reset_registers(&mut self) {
        let kind = self.kind();
        self.tf.reset(kind);
    }

    /// EXECUTE DEVICE DIAGNOSTIC's outputs; whether the device interrupts.
    pub fn diagnostic(&mut self) -> bool {
        let kind = self.kind();
        self.tf.diagnostic(kind)
    }
}
