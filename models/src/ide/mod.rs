//! PIIX3 IDE (`piix3-ide`, 8086:7010, function 1 of the PIIX3 at 00:01.1 on `pc`) with bus-master
//! DMA, an ATA disk and an ATAPI CD-ROM, behaving as QEMU's `piix3-ide`, `ide-hd` and `ide-cd`
//! do (facts §3; values marked \[V\] there were observed on QEMU).
//!
//! Not emulated: PIO and DMA timing (IDETIM and friends are plain scratch registers, as in QEMU),
//! native-PCI mode (the legacy ports are always decoded), overlapped and queued commands, ATAPI
//! audio, READ CD and DVD structures, security, HPA (SET MAX), TRIM, the SMART logs.
//!
//! # Regions, IRQs and timers
//! | region | what | `pc` address |
//! |---|---|---|
//! | [`BMDMA_REGION`] `ide-bmdma` | BAR4: bus-master registers, 8 bytes per channel | guest-assigned |
//! | [`PRIMARY_CMD_REGION`] `ide0-cmd` | primary command block | 0x1F0-0x1F7 |
//! | [`PRIMARY_CTL_REGION`] `ide0-ctl` | primary control block | 0x3F6 |
//! | [`SECONDARY_CMD_REGION`] `ide1-cmd` | secondary command block | 0x170-0x177 |
//! | [`SECONDARY_CTL_REGION`] `ide1-ctl` | secondary control block | 0x376 |
//!
//! IRQ pin [`IRQ_PRIMARY_PIN`] is the primary channel's INTRQ (ISA IRQ 14 on `pc`),
//! [`IRQ_SECONDARY_PIN`] the secondary's (IRQ 15). The configuration space's interrupt pin is 0:
//! the function uses no PCI INTx. Each channel has one timer (`TimerId(channel)`): a disk or CD
//! request completes [`IO_LATENCY_NS`] of virtual time after it is issued, so "a new command
//! while a DMA is pending" and "SRST while a DMA is pending" are reachable and deterministic.
//!
//! # Drives
//! Configured per slot with [`IdeConfig`]: by default a 1 GiB sparse in-memory disk (reads zeros
//! until written, like QEMU's `null-co` with `read-zeroes=on`) as primary master and a CD-ROM with
//! a generated blank ISO 9660 medium (2 MiB) as secondary master. A disk can instead be a raw image
//! file opened read-only (writes fail as aborted commands) or copy-on-write (writes stay in memory
//! until the device resets); a CD medium can be an image file or absent. Image files are only
//! ever read. The `pc` profiles take their drives as machine options (`--machine
//! pc,hda=none,hdc=cdrom-empty`, see [`config`]); the `pc-nodisk` profile starts with none.
//!
//! # Event payload
//! `payload[0] % 3` selects the event; missing bytes read as 0, an empty payload does nothing.
//! `payload[1]` names the drive: bit 1 the channel (0 primary, 1 secondary), bit 0 the unit
//! (0 master, 1 slave); an event for an absent drive does nothing.
//! - [`EVENT_FAULT`] (0): make one sector of the drive fail: `payload[2..10]` is the sector
//!   (little-endian u64; a 512-byte LBA for a disk, a 2048-byte LBA for a CD), `payload[10]`
//!   bit 0 picks the error: 0 an I/O error (the command aborts: ATA ERROR = ABRT; ATAPI sense
//!   ILLEGAL REQUEST / LBA out of range, as QEMU reports EIO), 1 a medium error (ATA ERROR = UNC;
//!   ATAPI sense MEDIUM ERROR / unrecovered read error). A request touching that sector fails as
//!   a whole before any data moves: status 0x41, an interrupt, ACTIVE clear for a DMA, nothing
//!   written to the disk or to memory. A new fault replaces the drive's previous one.
//! - [`EVENT_CLEAR_FAULT`] (1): the drive's sectors all work again.
//! - [`EVENT_MEDIUM`] (2): CD-ROM only: the user presses eject, or closes the tray (QEMU's
//!   `eject` and `change` monitor commands). With the tray closed and the medium unlocked, the
//!   tray opens and the medium is taken out; locked, only an eject request is posted (GET EVENT
//!   STATUS NOTIFICATION reports it). With the tray open, it closes with the power-on medium put
//!   back. Each change interrupts, is a new-media event, and is reported to the next command
//!   that does not allow a unit attention as NOT READY, then to the one after as UNIT
//!   ATTENTION (medium may have changed).
//!
//! # Choices (QEMU behaviour kept, and where this model differs)
//! Checked against QEMU 10.0 (`qemu-system-x86_64 -M pc`, `ide-hd`, `ide-cd`) with `devfuzz diff
//! --against`, and scored on a real Linux 6.1 `ata_piix` run (tests/conformance/captures/ide.md).
//! - As in QEMU: taskfile writes go to both units and ignore a busy selected unit; an absent
//!   slave reads 0 in Error and Status and its own taskfile in the other registers (what the
//!   channel was written, its no-device signature 0xFF after a reset); a channel with no drive
//!   reads 0 everywhere. Power-on and every reset leave QEMU's `ide_reset` state: status 0x50
//!   (a packet device too), error 0, the device register 0xA0, the signature; SRST then runs
//!   the diagnostic (error 0x01, a packet device's status 0, an interrupt from the others) and
//!   keeps the selected unit selected; DEVICE RESET leaves status 0 and error 0. Every write
//!   with SRST set resets the channel at once (QEMU does it in a bottom half before the next
//!   qtest command), after finishing an in-flight request (QEMU's `ide_cancel_dma_sync` drains
//!   it); clearing BMICOM.START also finishes an in-flight request first. The DMA direction
//!   comes from the command, not from BMICOM bit 3. A PRD table is read up to its EOT entry or
//!   4 KiB; a disk request the table is too short for moves nothing and ends with status 0x50,
//!   ACTIVE clear and no interrupt, a packet device's moves what the table covers and keeps its
//!   DRQ status; a longer table leaves ACTIVE set after a disk request (never after a packet
//!   command, nor after a TRIM of 0 blocks). Each new DMA command forgets the current PRD
//!   (`bmdma_start_dma`). BMISTA.ERROR is never set. Requests past the end of the disk abort
//!   before any I/O (a PIO block, a DMA request when the bus master starts); READ VERIFY
//!   checks nothing. IDENTIFY (PACKET) DEVICE builds its block the first time and keeps it,
//!   resets included (SET FEATURES patches words 62/63/85/88 of it). DATA SET MANAGEMENT / TRIM
//!   takes its range entries by DMA and checks them; the data stays (QEMU's default
//!   `discard=ignore`). SMART answers QEMU's attributes, thresholds, logs and self-tests. FLUSH
//!   CACHE completes at once. ATAPI: QEMU's command table and its flags (the commands that need
//!   a medium, that run under a unit attention, that move no data), sense data kept until the
//!   next error (only a reported UNIT ATTENTION is cleared; no qualifier), a pending unit
//!   attention failing other commands with status 0x01 / error 0x68, a medium change reported
//!   as NOT READY once and then UNIT ATTENTION, a byte count limit of 0 aborting a PIO data
//!   command at the ATA level, DRQ blocks of up to the byte count limit that span sectors (the
//!   next sector read inside the block), DMA replies moved at once, DMA reads with status 0xD8
//!   in chunks of 64 sectors, and QEMU's reply layouts (INQUIRY with VPD pages 0x00 and 0x83,
//!   GET CONFIGURATION's profile list, MODE SENSE pages 0x01/0x0E/0x2A, READ TOC formats 0-2
//!   from CDB byte 9, READ DISC INFORMATION, MECHANISM STATUS, READ CD, READ DVD STRUCTURE).
//!   CHS addresses are converted with QEMU's formula and no field check. READ/WRITE MULTIPLE
//!   work with 16 sectors per block after every reset.
//! - Differences: disk and CD medium requests complete [`IO_LATENCY_NS`] of virtual time after
//!   they are issued (QEMU completes them in its main loop, usually before the guest's next
//!   access: a program needs a `clock_step` to see them done). INITIALIZE DEVICE PARAMETERS
//!   sets the CHS translation and aborts a zero sector count; QEMU ignores the command. A
//!   command to an absent master is ignored (QEMU runs it on a drive-less state). nIEN masks
//!   the IRQ line at once, and SRST lowers it (QEMU keeps the line as it was). Injected faults
//!   are this model's: a medium error reports UNC (ATAPI: MEDIUM ERROR). An ATAPI PIO block of
//!   odd length is padded to a whole word (QEMU leaves its last byte unreadable), and MODE
//!   SENSE's audio control page reads zeros where QEMU leaves the buffer's previous contents
//!   (bytes 10-16, 18, 20, 22). DMA whose memory accesses fail (bus mastering disabled, a
//!   blocked re-entrant access) loses those bytes and completes, as QEMU does.
//!
//! # Planted bugs
//! Builds with the cargo feature `planted-bugs` can select `ide-prd-zero-sectors`,
//! `ide-atapi-data-overrun`, `ide-atapi-lba-overread`, `ide-dma-partial-sector` and
//! `ide-chs-zero-geometry` (see [`crate::planted`] for their root causes and sequences). The
//! device is handed its part of the selection when it is built and keeps it across resets.

mod ata;
mod atapi;
pub mod backend;
mod bmdma;
mod channel;
pub mod config;
mod drive;
pub mod planted;
mod scratch;
mod sector_address;
mod taskfile;
#[cfg(test)]
mod tests;
mod unit;

use crate::planted_bug::Planted;
use backend::{Fault, IoError};
use channel::Channel;
pub use channel::IO_LATENCY_NS;
pub use config::{ConfigError, DiskBacking, DriveConfig, IdeConfig, MediumConfig};
use harness::access::{AccessRules, AccessSize, Space};
use harness::device::{Context, Device, RegionId, RegionSpec, TimerId};
use harness::pci::{BarDef, BarKind, PciConfig};

/// Intel's PCI vendor ID.
pub const VENDOR_INTEL: u16 = 0x8086;
/// PIIX3 IDE device ID.
pub const DEVICE_PIIX3_IDE: u16 = 0x7010;
/// Class code: mass storage, IDE, prog-if 0x80 (bus-master capable, both channels legacy).
const CLASS_IDE_BUS_MASTER: u32 = 0x01_01_80;
/// Subsystem vendor/ID QEMU gives every function (Red Hat / QEMU).
const SUBSYSTEM: (u16, u16) = (0x1af4, 0x1100);
/// Configuration status at reset: fast back-to-back capable, DEVSEL medium.
const PCI_STATUS_RESET: u16 = 0x0280;
/// IDE timing register of the primary channel (bit 15: decode enable; not acted on, as in QEMU).
pub const IDETIM_PRIMARY: u8 = 0x40;
/// IDE timing register of the secondary channel.
pub const IDETIM_SECONDARY: u8 = 0x42;
/// BAR4: the bus-master I/O block (BMIBA).
pub const BMIBA_BAR: usize = 4;
/// Size of the bus-master block: 8 bytes per channel.
pub const BMDMA_SIZE: u64 = 16;

/// BAR4: the bus-master registers of both channels.
pub const BMDMA_REGION: RegionId = RegionId(0);
/// Primary command block (0x1F0-0x1F7 on `pc`).
pub const PRIMARY_CMD_REGION: RegionId = RegionId(1);
/// Primary control block (0x3F6 on `pc`).
pub const PRIMARY_CTL_REGION: RegionId = RegionId(2);
/// Secondary command block (0x170-0x177 on `pc`).
pub const SECONDARY_CMD_REGION: RegionId = RegionId(3);
/// Secondary control block (0x376 on `pc`).
pub const SECONDARY_CTL_REGION: RegionId = RegionId(4);
/// The primary channel's interrupt output (ISA IRQ 14 on `pc`).
pub const IRQ_PRIMARY_PIN: u8 = 0;
/// The secondary channel's interrupt output (ISA IRQ 15 on `pc`).
pub const IRQ_SECONDARY_PIN: u8 = 1;

/// Legacy primary command block base.
pub const PRIMARY_CMD_PORT: u64 = 0x1f0;
/// Legacy primary control block (device control / alternate status).
pub const PRIMARY_CTL_PORT: u64 = 0x3f6;
/// Legacy secondary command block base.
pub const SECONDARY_CMD_PORT: u64 = 0x170;
/// Legacy secondary control block.
pub const SECONDARY_CTL_PORT: u64 = 0x376;

// Bus-master block, per channel (the secondary's at +8).
const BMICOM: u64 = 0; // Bus Master IDE Command
const BMISTA: u64 = 2; // Bus Master IDE Status
const BMIDTP: u64 = 4; // Bus Master IDE Descriptor Table Pointer, 4 bytes
const BM_CHANNEL_STRIDE: u64 = 8;

/// Event selector: make a sector fail.
pub const EVENT_FAULT: u8 = 0;
/// Event selector: remove the drive's fault.
pub const EVENT_CLEAR_FAULT: u8 = 1;
/// Event selector: eject or close the CD-ROM tray.
pub const EVENT_MEDIUM: u8 = 2;

/// Command blocks: the data register takes 16- and 32-bit accesses, the others are bytes.
/// The handler sees every access as the guest made it, aligned or not, and decides as QEMU's
/// port I/O list does: a word at an 8-bit register is two byte accesses, a dword there is not
/// decoded ([`Channel::read_cmd`](channel::Channel::read_cmd)).
const CMD_RULES: AccessRules = AccessRules {
    valid_min: AccessSize::B1,
    valid_max: AccessSize::B4,
    unaligned: true,
    impl_min: AccessSize::B1,
    impl_max: AccessSize::B4,
    impl_unaligned: true,
};
/// The bus-master block: bytes for BMICOM/BMISTA, up to dwords for BMIDTP; unaligned
/// accesses reach the handler in aligned pieces.
const BMDMA_RULES: AccessRules = AccessRules {
    impl_unaligned: false,
    ..CMD_RULES
};

/// The PIIX3 IDE function. See the [module documentation](self).
#[derive(Debug, PartialEq, Eq)]
pub struct Ide {
    cfg: PciConfig,
    channels: [Channel; 2],
}

// Restoring the checkpoint before each input reuses the drives' buffers (the overlay's arena,
// the DMA scratch buffer) instead of allocating them anew.
harness::clone_by_field!(Ide { cfg, channels });

impl Ide {
    /// The function with the default drives (see [`IdeConfig::default`]).
    pub fn new() -> Self {
        let drives = IdeConfig::default_drives();
        Self::from_drives(drives)
    }

    /// The function with the drives `config` describes (opening its image files).
    pub fn with_config(config: &IdeConfig) -> Result<Self, ConfigError> {
        Ok(Self::from_drives(config.open()?))
    }

    /// The function with both channels empty.
    pub fn without_drives() -> Self {
        Self::from_drives(Default::default())
    }

    fn from_drives(drives: [[Option<unit::Drive>; 2]; 2]) -> Self {
        let planted = Planted::NONE;
        let [primary, secondary] = drives;
        Self {
            cfg: Self::power_on_config(),
            channels: [
                Channel::new(0, primary, planted),
                Channel::new(1, secondary, planted),
            ],
        }
    }

    /// Re-introduce `planted`, the function's part of the selection (entries of
    /// [`planted::PLANTED`]), in both channels and their drives; they are kept across resets.
    pub fn set_planted(&mut self, planted: Planted) {
        for channel in &mut self.channels {
            channel.set_planted(planted);
        }
    }

    fn power_on_config() -> PciConfig {
        let mut cfg = PciConfig::new(VENDOR_INTEL, DEVICE_PIIX3_IDE, CLASS_IDE_BUS_MASTER, 0, 0)
            .with_subsystem(SUBSYSTEM.0, SUBSYSTEM.1)
            .with_bar(
                BMIBA_BAR,
                BarDef {
                    region: BMDMA_REGION,
                    kind: BarKind::Io,
                    size: BMDMA_SIZE,
                },
            );
        cfg.set_u16(harness::pci::STATUS, PCI_STATUS_RESET);
        cfg
    }

    /// BAR4 read: `offset` within the 16-byte block.
    fn read_bmdma(&mut self, offset: u64, size: AccessSize) -> u64 {
        let bm = self.channels[(offset / BM_CHANNEL_STRIDE) as usize & 1].bm();
        let reg = offset % BM_CHANNEL_STRIDE;
        let value = match reg {
            BMICOM if size == AccessSize::B1 => u64::from(bm.cmd()),
            BMISTA if size == AccessSize::B1 => u64::from(bm.status()),
            BMIDTP..=7 => bm.read_table(reg - BMIDTP, size.bytes()),
            // Reserved bytes, and BMICOM/BMISTA read wider than a byte: all-ones (QEMU).
            _ => size.mask(),
        };
        tracing::trace!(target: "bmdma_read", "addr {offset:#x} size {size} val {value:#x}");
        value
    }

    /// BAR4 write.
    fn write_bmdma(&mut self, ctx: &mut dyn Context, offset: u64, size: AccessSize, value: u64) {
        tracing::trace!(target: "bmdma_write", "addr {offset:#x} size {size} val {value:#x}");
        let channel = &mut self.channels[(offset / BM_CHANNEL_STRIDE) as usize & 1];
        let reg = offset % BM_CHANNEL_STRIDE;
        match reg {
            BMICOM if size == AccessSize::B1 => channel.write_bmicom(ctx, value as u8),
            BMISTA if size == AccessSize::B1 => channel.write_bmista(value as u8),
            BMIDTP..=7 => channel.write_bmidtp(reg - BMIDTP, size.bytes(), value),
            _ => {}
        }
    }

    /// The channel and unit an event's drive byte names.
    fn event_drive(&mut self, drive: u8) -> (&mut Channel, usize) {
        let channel = &mut self.channels[usize::from(drive >> 1) & 1];
        (channel, usize::from(drive & 1))
    }
}

impl Default for Ide {
    fn default() -> Self {
        Self::new()
    }
}

impl Device for Ide {
    fn name(&self) -> &'static str {
        "piix3-ide"
    }

    fn regions(&self) -> Vec<RegionSpec> {
        vec![
            RegionSpec::new("ide-bmdma", Space::Io, BMDMA_SIZE, BMDMA_RULES),
            RegionSpec::new("ide0-cmd", Space::Io, 8, CMD_RULES),
            RegionSpec::new("ide0-ctl", Space::Io, 1, AccessRules::BYTES),
            RegionSpec::new("ide1-cmd", Space::Io, 8, CMD_RULES),
            RegionSpec::new("ide1-ctl", Space::Io, 1, AccessRules::BYTES),
        ]
    }

    fn read(
        &mut self,
        ctx: &mut dyn Context,
        region: RegionId,
        offset: u64,
        size: AccessSize,
    ) -> u64 {
        match region {
            BMDMA_REGION => self.read_bmdma(offset, size),
            PRIMARY_CMD_REGION => self.channels[0].read_cmd(ctx, offset, size),
            PRIMARY_CTL_REGION => u64::from(self.channels[0].read_alt_status()),
            SECONDARY_CMD_REGION => self.channels[1].read_cmd(ctx, offset, size),
            SECONDARY_CTL_REGION => u64::from(self.channels[1].read_alt_status()),
            _ => size.mask(),
        }
    }

    fn write(
        &mut self,
        ctx: &mut dyn Context,
        region: RegionId,
        offset: u64,
        size: AccessSize,
        value: u64,
    ) {
        match region {
            BMDMA_REGION => self.write_bmdma(ctx, offset, size, value),
            PRIMARY_CMD_REGION => self.channels[0].write_cmd(ctx, offset, size, value),
            PRIMARY_CTL_REGION => self.channels[0].write_devctl(ctx, value as u8),
            SECONDARY_CMD_REGION => self.channels[1].write_cmd(ctx, offset, size, value),
            SECONDARY_CTL_REGION => self.channels[1].write_devctl(ctx, value as u8),
            _ => {}
        }
    }

    fn pci(&self) -> Option<&PciConfig> {
        Some(&self.cfg)
    }

    fn pci_mut(&mut self) -> Option<&mut PciConfig> {
        Some(&mut self.cfg)
    }

    fn timer(&mut self, ctx: &mut dyn Context, timer: TimerId) {
        if let Some(channel) = self.channels.get_mut(usize::from(timer.0)) {
            channel.timer(ctx);
        }
    }

    fn event(&mut self, ctx: &mut dyn Context, payload: &[u8]) {
        let Some(&selector) = payload.first() else {
            return;
        };
        let arg = |i: usize| payload.get(i).copied().unwrap_or(0);
        let (channel, unit) = self.event_drive(arg(1));
        match selector % 3 {
            EVENT_FAULT => {
                let sector = (2..10).rev().fold(0u64, |v, i| v << 8 | u64::from(arg(i)));
                let error = if arg(10) & 1 != 0 {
                    IoError::Medium
                } else {
                    IoError::Io
                };
                channel.set_fault(unit, Some(Fault { sector, error }));
            }
            EVENT_CLEAR_FAULT => channel.set_fault(unit, None),
            _ => channel.medium_event(ctx, unit),
        }
    }

    fn reset(&mut self) {
        tracing::trace!(target: "ide_reset", "");
        self.cfg = Self::power_on_config();
        for channel in &mut self.channels {
            channel.power_on_reset();
        }
    }
}
