//! One IDE channel: its two unit slots, the device control register, the channel's INTRQ, its
//! bus master, the PIO data path, and the request in flight.
//!
//! The channel owns the protocol: taskfile writes and reads, command dispatch, the data register,
//! deferred completion on the virtual clock, and the DMA engine that walks the PRD table. The
//! drives (`ata.rs`, `atapi.rs`, reached through [`Drive`]) own their command sets: each handler
//! sets its unit's registers and returns an [`Action`] the channel carries out.

use super::backend::{Fault, IoError};
use super::bmdma::{BM_STATUS_INT, BusMaster, CmdEffect, Segments};
use super::drive::{Action, Deferred, Dir, DmaKind, Pio};
use super::planted::ATAPI_DATA_OVERRUN;
#[cfg(feature = "planted-bugs")]
use super::planted::{DMA_PARTIAL_SECTOR, PRD_ZERO_SECTORS};
use super::taskfile::{
    DEV_OBSOLETE, DEV_SELECT, DEVCTL_HOB, DEVCTL_NIEN, DEVCTL_SRST, REG_DATA, REG_DEVICE,
    REG_ERROR, REG_HCYL, REG_LCYL, REG_NSECTOR, REG_SECTOR, REG_STATUS, STATUS_BSY, STATUS_DRDY,
    STATUS_DRQ, STATUS_READY, Taskfile,
};
use super::unit::{Drive, Unit};
use crate::planted_bug::Planted;
use harness::access::AccessSize;
use harness::device::{Context, TimerId};

/// Virtual time a disk or CD request takes.
pub const IO_LATENCY_NS: u64 = 100_000;
/// Choice where QEMU differs (noted through `Context::note_choice`, written down in
/// qemu-differences.txt): a bus master stop while our DMA request waits for its latency
/// finishes the whole request at once, deterministically; QEMU's drain leaves it as far as its
/// asynchronous I/O got in wall-clock time, so its task file and status answer differently
/// from run to run.
pub const CHOICE_STOP_FINISHES_REQUEST: &str = "bm-stop-finishes-request";

/// Deferred work of the channel: what happens when its timer fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pending {
    /// The drive finishes a request.
    Drive(Deferred),
    /// The DMA transfer runs.
    Dma,
}

/// A DMA transfer a command armed: it runs when the bus master is active.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct DmaJob {
    unit: usize,
    kind: DmaKind,
}

/// What to do with a PRD table shorter than the transfer.
enum ShortTable {
    /// End the transfer: nothing moves, ACTIVE clears, no interrupt.
    End,
    /// PLANTED `ide-prd-zero-sectors`: no complete sector, read as "no progress": go again.
    #[cfg(feature = "planted-bugs")]
    Rearm,
    /// PLANTED `ide-dma-partial-sector`: transfer the bytes the table has.
    #[cfg(feature = "planted-bugs")]
    Partial,
}

/// One channel. See the [module documentation](self).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Channel {
    /// 0 primary, 1 secondary: also the IRQ pin and the timer number.
    index: u8,
    units: [Unit; 2],
    /// The unit the DEV bit selects.
    selected: usize,
    /// Device Control (nIEN, HOB; SRST acts at once and is not kept).
    devctl: u8,
    /// The selected drive's INTRQ.
    intrq: bool,
    bm: BusMaster,
    dma: Option<DmaJob>,
    /// Deferred work and the unit it belongs to; the channel timer is armed while it is set.
    pending: Option<(usize, Pending)>,
    planted: Planted,
}

harness::clone_by_field!(Channel {
    index,
    units,
    selected,
    devctl,
    intrq,
    bm,
    dma,
    pending,
    planted,
});

impl Channel {
    /// Channel `index` with `drives` (master, slave), in its power-on state.
    pub(crate) fn new(index: u8, drives: [Option<Drive>; 2], planted: Planted) -> Self {
        let [master, slave] = drives.map(|drive| {
            drive.map(|mut d| {
                d.set_planted(planted);
                d
            })
        });
        let mut ch = Self {
            index,
            units: [
                Unit {
                    tf: Taskfile::default(),
                    drive: master,
                },
                Unit {
                    tf: Taskfile::default(),
                    drive: slave,
                },
            ],
            selected: 0,
            devctl: 0,
            intrq: false,
            bm: BusMaster::default(),
            dma: None,
            pending: None,
            planted,
        };
        ch.power_on_reset();
        ch
    }

    /// The power-on state (the machine cancels timers and lowers IRQ lines itself).
    pub(crate) fn power_on_reset(&mut self) {
        for unit in &mut self.units {
            if let Some(d) = &mut unit.drive {
                d.power_on();
            }
            unit.reset_registers();
        }
        self.selected = 0;
        self.devctl = 0;
        self.intrq = false;
        self.bm = BusMaster::default();
        self.dma = None;
        self.pending = None;
    }

    /// Re-introduce `planted` (kept across resets).
    pub(super) fn set_planted(&mut self, planted: Planted) {
        self.planted = planted;
        for d in self.units.iter_mut().filter_map(|u| u.drive.as_mut()) {
            d.set_planted(planted);
        }
    }

    /// The bus-master registers.
    pub(super) fn bm(&self) -> &BusMaster {
        &self.bm
    }

    fn timer_id(&self) -> TimerId {
        TimerId(u16::from(self.index))
    }

    // ---- interrupts ---------------------------------------------------------------------

    /// The drive asserts INTRQ; the bus master notes it in BMISTA.INT unless nIEN masks it.
    pub(super) fn raise_irq(&mut self, ctx: &mut dyn Context) {
        self.intrq = true;
        if self.devctl & DEVCTL_NIEN == 0 {
            self.bm.add_status(BM_STATUS_INT);
        }
        self.update_irq(ctx);
    }

    fn lower_irq(&mut self, ctx: &mut dyn Context) {
        self.intrq = false;
        self.update_irq(ctx);
    }

    fn update_irq(&self, ctx: &mut dyn Context) {
        ctx.set_irq(self.index, self.intrq && self.devctl & DEVCTL_NIEN == 0);
    }

    // ---- command block ------------------------------------------------------------------

    /// Command block read. The data register takes 16- and 32-bit reads, and a byte read
    /// there moves a whole word and answers its low byte (QEMU: "the pre-GRUB Solaris x86
    /// bootloader relies upon inb consuming a word"). The other registers are eight bits
    /// wide: a 16-bit read takes two of them in turn, a 32-bit one is not decoded and reads
    /// all-ones (ATA leaves both undefined; this is QEMU's port I/O).
    pub(super) fn read_cmd(&mut self, ctx: &mut dyn Context, offset: u64, size: AccessSize) -> u64 {
        match (offset, size) {
            (REG_DATA, AccessSize::B1) => return self.read_data(ctx, AccessSize::B2) & 0xff,
            (REG_DATA, _) => return self.read_data(ctx, size),
            (_, AccessSize::B4 | AccessSize::B8) => return size.mask(),
            _ => {}
        }
        (0..size.bytes()).rev().fold(0u64, |v, i| {
            v << 8 | u64::from(self.read_register(ctx, offset + i))
        })
    }

    /// Command block write (see [`Channel::read_cmd`]).
    pub(super) fn write_cmd(
        &mut self,
        ctx: &mut dyn Context,
        offset: u64,
        size: AccessSize,
        value: u64,
    ) {
        match (offset, size) {
            // A byte write of the data register is not a data transfer (QEMU ignores it too).
            (REG_DATA, AccessSize::B1) => return,
            (REG_DATA, _) => return self.write_data(ctx, size, value),
            (_, AccessSize::B4 | AccessSize::B8) => return,
            _ => {}
        }
        for i in 0..size.bytes() {
            self.write_register(ctx, offset + i, (value >> (8 * i)) as u8);
        }
    }

    /// Whether Error and Status reads of the selected unit give 0: no drive on the channel, or
    /// the slave selected and absent (QEMU).
    fn selected_absent(&self) -> bool {
        self.no_drive() || (self.selected == 1 && self.units[1].drive.is_none())
    }

    /// Whether the channel has no drive at all: every register reads 0 (QEMU).
    fn no_drive(&self) -> bool {
        self.units.iter().all(|u| u.drive.is_none())
    }

    fn read_register(&mut self, ctx: &mut dyn Context, reg: u64) -> u8 {
        let absent = self.selected_absent();
        let no_drive = self.no_drive();
        let hob = self.devctl & DEVCTL_HOB != 0;
        let tf = self.units[self.selected].tf;
        // The taskfile of an absent slave holds what was written to the channel, and reads
        // back (QEMU); only Error and Status read 0.
        let pick = |low: u8, high: u8| match (no_drive, hob) {
            (true, _) => 0,
            (false, false) => low,
            (false, true) => high,
        };
        let value = match reg {
            // Byte reads of the data register are data transfers (`read_cmd`).
            REG_DATA => 0xff,
            REG_ERROR if absent => 0,
            REG_ERROR => pick(tf.error, tf.hob_feature),
            REG_NSECTOR => pick(tf.nsector, tf.hob_nsector),
            REG_SECTOR => pick(tf.sector, tf.hob_sector),
            REG_LCYL => pick(tf.lcyl, tf.hob_lcyl),
            REG_HCYL => pick(tf.hcyl, tf.hob_hcyl),
            REG_DEVICE if no_drive => 0,
            REG_DEVICE => tf.select,
            REG_STATUS => {
                // Reading Status acknowledges the interrupt.
                self.lower_irq(ctx);
                if absent { 0 } else { tf.status }
            }
            _ => 0xff,
        };
        tracing::trace!(
            target: "ide_ioport_read",
            "channel {} reg {reg} val {value:#04x} unit {}",
            self.index,
            self.selected
        );
        value
    }

    fn write_register(&mut self, ctx: &mut dyn Context, reg: u64, value: u8) {
        tracing::trace!(
            target: "ide_ioport_write",
            "channel {} reg {reg} val {value:#04x} unit {}",
            self.index,
            self.selected
        );
        match reg {
            REG_DATA => {}
            REG_ERROR | REG_NSECTOR | REG_SECTOR | REG_LCYL | REG_HCYL => {
                // LBA48: the byte written before stays as the register's HOB byte.
                self.write_taskfile(value, |tf, v| {
                    if let Some((current, hob)) = tf.doubled(reg) {
                        *hob = *current;
                        *current = v;
                    }
                });
            }
            REG_DEVICE => self.write_device(value),
            REG_STATUS => self.exec_cmd(ctx, value),
            _ => {}
        }
    }

    /// Device/Head write: both units take it, and DEV selects one.
    fn write_device(&mut self, value: u8) {
        if self.write_taskfile(value, |tf, v| tf.select = v | DEV_OBSOLETE) {
            self.selected = usize::from(value & DEV_SELECT != 0);
        }
    }

    /// A taskfile register write goes to both units, unless the selected unit is busy; each
    /// register keeps its previous value as the HOB byte, and the write clears HOB.
    fn write_taskfile(&mut self, value: u8, store: impl Fn(&mut Taskfile, u8)) -> bool {
        if self.units[self.selected].tf.status & (STATUS_BSY | STATUS_DRQ) != 0 {
            return false;
        }
        self.devctl &= !DEVCTL_HOB;
        for unit in &mut self.units {
            store(&mut unit.tf, value);
        }
        true
    }

    /// Alternate Status: the status without acknowledging the interrupt.
    pub(super) fn read_alt_status(&self) -> u8 {
        if self.selected_absent() {
            0
        } else {
            self.units[self.selected].tf.status
        }
    }

    /// Device Control write: nIEN takes effect at once, SRST resets both units.
    pub(super) fn write_devctl(&mut self, ctx: &mut dyn Context, value: u8) {
        tracing::trace!(target: "ide_ctrl_write", "channel {} val {value:#04x}", self.index);
        self.devctl = value & !DEVCTL_SRST;
        if value & DEVCTL_SRST != 0 {
            self.soft_reset(ctx);
        }
        self.update_irq(ctx);
    }

    /// SRST: finish the request in flight, then reset both units and run their diagnostic
    /// (QEMU's `ide_perform_srst`). The selected unit stays selected, as in QEMU, though both
    /// device registers read 0xA0.
    fn soft_reset(&mut self, ctx: &mut dyn Context) {
        self.drain(ctx);
        self.dma = None;
        let mut interrupt = false;
        for unit in &mut self.units {
            if let Some(d) = &mut unit.drive {
                d.soft_reset();
            }
            unit.reset_registers();
            interrupt |= unit.diagnostic();
        }
        self.lower_irq(ctx);
        if interrupt {
            self.raise_irq(ctx);
        }
    }

    /// A unit's reset by DEVICE RESET (ATAPI only): finish its request, then reset it; status 0
    /// and error 0, no interrupt (QEMU's `cmd_device_reset`).
    pub(super) fn reset_unit(&mut self, ctx: &mut dyn Context, u: usize) {
        if self.pending.is_some_and(|(owner, _)| owner == u) {
            self.drain(ctx);
        }
        if self.dma.is_some_and(|job| job.unit == u) {
            self.dma = None;
        }
        let unit = &mut self.units[u];
        if let Some(d) = &mut unit.drive {
            d.soft_reset();
        }
        unit.reset_registers();
        unit.tf.status = 0;
    }

    // ---- commands -----------------------------------------------------------------------

    fn exec_cmd(&mut self, ctx: &mut dyn Context, cmd: u8) {
        let u = self.selected;
        tracing::trace!(target: "ide_exec_cmd", "channel {} unit {u} cmd {cmd:#04x}", self.index);
        // Writing a command clears HOB and acknowledges the interrupt, taken or not (QEMU).
        self.devctl &= !DEVCTL_HOB;
        self.lower_irq(ctx);
        let unit = &mut self.units[u];
        let Some(drive) = &mut unit.drive else {
            return;
        };
        // Only DEVICE RESET is accepted while busy, and only by a packet device.
        if unit.tf.status & (STATUS_BSY | STATUS_DRQ) != 0 && !drive.takes_while_busy(cmd) {
            return;
        }
        unit.tf.status = STATUS_DRDY | STATUS_BSY;
        unit.tf.error = 0;
        let action = drive.command(ctx, &mut unit.tf, cmd);
        self.perform(ctx, u, action);
    }

    /// Carry out what unit `u`'s drive asked for.
    fn perform(&mut self, ctx: &mut dyn Context, u: usize, action: Action) {
        match action {
            Action::Done => {}
            Action::Interrupt => self.raise_irq(ctx),
            Action::Fail(error) => self.fail(ctx, u, error),
            Action::Defer(op) => self.schedule(ctx, u, Pending::Drive(op)),
            Action::Dma(kind) => self.arm_dma(ctx, u, kind),
            Action::ResetUnit => self.reset_unit(ctx, u),
        }
    }

    /// The command fails with `error`: status 0x41, an interrupt, no data transfer.
    fn fail(&mut self, ctx: &mut dyn Context, u: usize, error: u8) {
        let unit = &mut self.units[u];
        unit.tf.set_error(error);
        if let Some(d) = &mut unit.drive {
            d.core_mut().pio = Pio::default();
        }
        self.raise_irq(ctx);
    }

    // ---- PIO data -----------------------------------------------------------------------

    /// A 16- or 32-bit read of the data register: the next bytes of a device-to-host transfer,
    /// or 0 when there is none (DRQ clear, the other direction, or fewer bytes left).
    fn read_data(&mut self, ctx: &mut dyn Context, size: AccessSize) -> u64 {
        let u = self.selected;
        let unit = &mut self.units[u];
        let Some(d) = &mut unit.drive else { return 0 };
        let d = d.core_mut();
        if unit.tf.status & STATUS_DRQ == 0 || d.pio.dir != Dir::In {
            return 0;
        }
        let n = size.bytes() as usize;
        let (ptr, end) = (d.pio.ptr, d.pio.end);
        if ptr + n > end {
            return 0;
        }
        let mut bytes = [0u8; 8];
        bytes[..n].copy_from_slice(&d.io[ptr..ptr + n]);
        d.pio.ptr = ptr + n;
        if d.pio.ptr >= end {
            unit.tf.status &= !STATUS_DRQ;
            self.pio_done(ctx, u);
        }
        u64::from_le_bytes(bytes)
    }

    /// A 16- or 32-bit write of the data register: the next bytes of a host-to-device
    /// transfer; ignored without one.
    fn write_data(&mut self, ctx: &mut dyn Context, size: AccessSize, value: u64) {
        let u = self.selected;
        let overrun_bug = self.planted.active(ATAPI_DATA_OVERRUN);
        let unit = &mut self.units[u];
        let Some(d) = &mut unit.drive else { return };
        let d = d.core_mut();
        if unit.tf.status & STATUS_DRQ == 0 || d.pio.dir != Dir::Out {
            return;
        }
        let n = size.bytes() as usize;
        let (ptr, end) = (d.pio.ptr, d.pio.end);
        if ptr + n > end {
            // The bound of CVE-2015-5154's fix ("p + 2 > data_end").
            let Some(bug) = overrun_bug else { return };
            bug.triggered(ctx);
        }
        // The transfer window: a write past `end` lands outside it.
        d.io.upto(end)[ptr..end][..n].copy_from_slice(&value.to_le_bytes()[..n]);
        d.pio.ptr = ptr + n;
        if d.pio.ptr >= end {
            // PLANTED `ide-atapi-data-overrun`: before the fix, DRQ was left for the
            // end-of-transfer step to clear.
            if overrun_bug.is_none() {
                unit.tf.status &= !STATUS_DRQ;
            }
            self.pio_done(ctx, u);
        }
    }

    /// The PIO transfer of unit `u` has moved its last byte.
    fn pio_done(&mut self, ctx: &mut dyn Context, u: usize) {
        let unit = &mut self.units[u];
        let Some(d) = &mut unit.drive else {
            return;
        };
        let action = d.pio_done(ctx, &mut unit.tf);
        self.perform(ctx, u, action);
    }

    // ---- deferred work ------------------------------------------------------------------

    /// Run `op` for unit `u` after the request latency.
    fn schedule(&mut self, ctx: &mut dyn Context, u: usize, op: Pending) {
        // One request per channel: a drive is busy while its request is in flight, and a busy
        // drive takes no new command and cannot be deselected.
        self.drain(ctx);
        self.pending = Some((u, op));
        ctx.timer_set(self.timer_id(), ctx.now().saturating_add(IO_LATENCY_NS));
    }

    /// The channel timer fired.
    pub(super) fn timer(&mut self, ctx: &mut dyn Context) {
        if let Some((u, op)) = self.pending.take() {
            self.run(ctx, u, op);
        }
    }

    /// Finish the request in flight now (QEMU's `ide_cancel_dma_sync` drains it).
    fn drain(&mut self, ctx: &mut dyn Context) {
        if let Some((u, op)) = self.pending.take() {
            ctx.timer_cancel(self.timer_id());
            self.run(ctx, u, op);
        }
    }

    fn run(&mut self, ctx: &mut dyn Context, u: usize, op: Pending) {
        match op {
            Pending::Drive(op) => {
                let unit = &mut self.units[u];
                let Some(d) = &mut unit.drive else {
                    return;
                };
                let action = d.deferred(&mut unit.tf, op);
                self.perform(ctx, u, action);
            }
            Pending::Dma => self.run_dma(ctx),
        }
    }

    // ---- bus master ---------------------------------------------------------------------

    /// BMICOM write.
    pub(super) fn write_bmicom(&mut self, ctx: &mut dyn Context, value: u8) {
        match self.bm.write_cmd(value) {
            CmdEffect::Start => self.kick_dma(ctx),
            CmdEffect::Stop => {
                if matches!(self.pending, Some((_, Pending::Dma))) {
                    ctx.note_choice(CHOICE_STOP_FINISHES_REQUEST);
                    self.drain(ctx);
                }
                self.bm.stopped();
            }
            CmdEffect::None => {}
        }
    }

    /// BMISTA write.
    pub(super) fn write_bmista(&mut self, value: u8) {
        self.bm.write_status(value);
    }

    /// BMIDTP write of `len` bytes at byte `offset` of the register.
    pub(super) fn write_bmidtp(&mut self, offset: u64, len: u64, value: u64) {
        self.bm.write_table(offset, len, value);
    }

    /// A command has a DMA data phase: wait for the bus master (status DRQ; a CD-ROM read is
    /// BSY too until the transfer ends, as in QEMU).
    fn arm_dma(&mut self, ctx: &mut dyn Context, u: usize, kind: DmaKind) {
        self.bm.new_transfer();
        self.dma = Some(DmaJob { unit: u, kind });
        self.units[u].tf.status = STATUS_READY | STATUS_DRQ;
        self.kick_dma(ctx);
        if matches!(kind, DmaKind::CdRead { .. }) {
            self.units[u].tf.status |= STATUS_BSY;
        }
    }

    /// Schedule the armed transfer if the bus master is active.
    fn kick_dma(&mut self, ctx: &mut dyn Context) {
        if let Some(job) = self.dma
            && self.bm.active()
            && self.pending.is_none()
        {
            let unit = &self.units[job.unit];
            if unit
                .drive
                .as_ref()
                .is_some_and(|d| d.dma_at_once(&unit.tf, job.kind))
            {
                self.run_dma(ctx);
            } else {
                self.schedule(ctx, job.unit, Pending::Dma);
            }
        }
    }

    /// Run the armed DMA transfer: walk the PRD table, move the data, complete (QEMU's
    /// `ide_dma_cb` loop). Each step moves a whole request (ATA) or up to 64 sectors (ATAPI).
    fn run_dma(&mut self, ctx: &mut dyn Context) {
        let mut segs = Segments::default();
        while let Some(job) = self.dma {
            ctx.work(1);
            let Some(drive) = &self.units[job.unit].drive else {
                self.dma = None;
                return;
            };
            let (sector, want) = drive.dma_step(job.kind);
            tracing::trace!(
                target: "ide_dma_cb",
                "channel {} unit {} {:?} want {want}",
                self.index,
                job.unit,
                job.kind
            );
            self.bm.prepare(ctx, want, &mut segs);
            if segs.total < want {
                match self.short_table(ctx, segs.total, sector) {
                    ShortTable::End => {
                        if matches!(job.kind, DmaKind::CdRead { .. } | DmaKind::Reply { .. }) {
                            // A packet device's data moves as far as the table goes (QEMU's
                            // `bmdma_rw_buf`); a disk's request moves nothing.
                            let _ = self.dma_transfer(ctx, job, &segs);
                        }
                        return self.dma_short();
                    }
                    #[cfg(feature = "planted-bugs")]
                    ShortTable::Rearm => continue,
                    #[cfg(feature = "planted-bugs")]
                    ShortTable::Partial => {}
                }
            }
            if let Err(e) = self.dma_transfer(ctx, job, &segs) {
                return self.dma_error(ctx, job.unit, e);
            }
            // Sector bookkeeping: only whole sectors ever move (QEMU's
            // `assert(n * 512 == s->sg.size)` in `ide_dma_cb`).
            let moved = segs.total;
            let sectors = moved / sector;
            assert!(
                sectors * sector == moved,
                "IDE DMA moved {moved} bytes: not a whole number of {sector}-byte sectors"
            );
            let unit = &mut self.units[job.unit];
            let next = match &mut unit.drive {
                Some(d) => d.dma_advance(&mut unit.tf, job.kind, sectors as u32),
                None => None,
            };
            match next {
                Some(kind) => self.dma = Some(DmaJob { kind, ..job }),
                None => return self.dma_done(ctx, job.unit, want == 0),
            }
        }
    }

    /// A PRD table with `got` bytes for a step that wants more. The fixed model ends the
    /// transfer (facts §3.4 case 5).
    #[cfg_attr(not(feature = "planted-bugs"), allow(unused_variables))]
    fn short_table(&self, ctx: &mut dyn Context, got: u64, sector: u64) -> ShortTable {
        if sector > 1 {
            #[cfg(feature = "planted-bugs")]
            if let Some(bug) = self.planted.active(PRD_ZERO_SECTORS) {
                // PLANTED `ide-prd-zero-sectors` (CVE-2014-9718): "prepared zero complete
                // sectors" is taken for "success, no progress yet" and the step is re-armed.
                bug.reached(ctx);
                if got < sector {
                    bug.triggered(ctx);
                    return ShortTable::Rearm;
                }
            }
            #[cfg(feature = "planted-bugs")]
            if let Some(bug) = self.planted.active(DMA_PARTIAL_SECTOR) {
                // PLANTED `ide-dma-partial-sector` (CVE-2019-20175): a table that ends inside
                // a sector is transferred as far as it goes.
                bug.reached(ctx);
                if got >= sector {
                    if got % sector != 0 {
                        bug.triggered(ctx);
                    }
                    return ShortTable::Partial;
                }
            }
        }
        ShortTable::End
    }

    /// Have the drive move the bytes `segs` describe for `job`.
    fn dma_transfer(
        &mut self,
        ctx: &mut dyn Context,
        job: DmaJob,
        segs: &Segments,
    ) -> Result<(), IoError> {
        let unit = &mut self.units[job.unit];
        match &mut unit.drive {
            Some(d) => d.dma_transfer(ctx, &unit.tf, job.kind, segs),
            None => Ok(()),
        }
    }

    /// The PRD table ended before the transfer: nothing (more) moves, ACTIVE clears, no
    /// interrupt, the count registers stay; a disk shows status 0x50, a packet device keeps
    /// its DRQ status (QEMU).
    fn dma_short(&mut self) {
        if let Some(job) = self.dma.take() {
            let unit = &mut self.units[job.unit];
            match &unit.drive {
                Some(d) => d.dma_short(&mut unit.tf),
                None => unit.tf.status = STATUS_READY,
            }
        }
        self.bm.set_inactive();
    }

    /// The request failed: ACTIVE clears, the drive reports the error (an interrupt).
    /// BMISTA.ERROR is not set (QEMU's `ide_dma_error` does not either).
    fn dma_error(&mut self, ctx: &mut dyn Context, u: usize, e: IoError) {
        self.dma = None;
        self.bm.set_inactive();
        let unit = &mut self.units[u];
        if let Some(d) = &mut unit.drive {
            let action = d.dma_error(&mut unit.tf, e);
            self.perform(ctx, u, action);
        }
    }

    /// The transfer completed: ACTIVE stays set while the PRD table has bytes left.
    /// A packet command, and a request that wanted no data (a TRIM of 0 blocks, which never
    /// walks the table), always end the bus master's transfer (QEMU's `ide_set_inactive(s,
    /// false)`).
    fn dma_done(&mut self, ctx: &mut dyn Context, u: usize, empty: bool) {
        self.dma = None;
        let unit = &mut self.units[u];
        let Some(d) = &mut unit.drive else {
            return;
        };
        if d.is_cd() || empty || self.bm.table_exhausted() {
            self.bm.set_inactive();
        }
        let action = d.dma_done(&mut unit.tf);
        self.perform(ctx, u, action);
    }

    // ---- backend events -----------------------------------------------------------------

    /// Make `fault` unit `u`'s failing sector.
    pub(super) fn set_fault(&mut self, u: usize, fault: Option<Fault>) {
        if let Some(d) = &mut self.units[u].drive {
            d.set_fault(fault);
        }
    }

    /// The user's medium event on unit `u` (a CD-ROM's tray).
    pub(super) fn medium_event(&mut self, ctx: &mut dyn Context, u: usize) {
        if let Some(d) = &mut self.units[u].drive {
            let action = d.medium_event();
            self.perform(ctx, u, action);
        }
    }
}
