//! One IDE channel: its two unit slots with their taskfiles, the device control register, the
//! channel's INTRQ, its bus master, the PIO data path, and the I/O request in flight.
//!
//! The ATA and ATAPI command sets live in `ata.rs` and `atapi.rs` as further methods of
//! [`Channel`]; this file holds the register interface and the machinery they share (PIO
//! transfers, deferred completion on the virtual clock, the DMA engine).

use super::backend::{CD_SECTOR_SIZE, Disk, Fault, IoError, Medium, SECTOR_SIZE};
use super::bmdma::{BusMaster, CmdEffect, Cursor, Segments};
use super::{ATAPI_DATA_OVERRUN, DMA_PARTIAL_SECTOR, PRD_ZERO_SECTORS, Planted};
use harness::access::AccessSize;
use harness::device::{Context, TimerId};
use std::fmt;

// Command block registers (offsets from the base port).
pub(super) const REG_DATA: u64 = 0; // Data (16/32-bit PIO)
pub(super) const REG_ERROR: u64 = 1; // R: Error, W: Features
pub(super) const REG_NSECTOR: u64 = 2; // Sector Count (ATAPI: Interrupt Reason)
pub(super) const REG_SECTOR: u64 = 3; // LBA Low / Sector Number
pub(super) const REG_LCYL: u64 = 4; // LBA Mid / Cylinder Low (ATAPI: Byte Count low)
pub(super) const REG_HCYL: u64 = 5; // LBA High / Cylinder High (ATAPI: Byte Count high)
pub(super) const REG_DEVICE: u64 = 6; // Device/Head
pub(super) const REG_STATUS: u64 = 7; // R: Status, W: Command

// Status register.
pub(super) const STATUS_ERR: u8 = 0x01; // Error
pub(super) const STATUS_DRQ: u8 = 0x08; // Data Request
pub(super) const STATUS_DSC: u8 = 0x10; // Device Seek Complete
pub(super) const STATUS_DRDY: u8 = 0x40; // Device Ready
pub(super) const STATUS_BSY: u8 = 0x80; // Busy
/// Status of an idle ATA device.
pub(super) const STATUS_READY: u8 = STATUS_DRDY | STATUS_DSC;

// Error register.
pub(super) const ERROR_ABRT: u8 = 0x04; // Aborted Command
pub(super) const ERROR_UNC: u8 = 0x40; // Uncorrectable Data Error
/// Error register after a reset or EXECUTE DEVICE DIAGNOSTIC: device 0 passed.
pub(super) const DIAGNOSTIC_PASSED: u8 = 0x01;

// Device Control register.
const DEVCTL_NIEN: u8 = 0x02; // interrupt disable
const DEVCTL_SRST: u8 = 0x04; // software reset
pub(super) const DEVCTL_HOB: u8 = 0x80; // high order byte readback

// Device/Head register.
pub(super) const DEV_HEAD: u8 = 0x0f; // head number / LBA 27:24
pub(super) const DEV_SELECT: u8 = 0x10; // DEV: 0 master, 1 slave
pub(super) const DEV_LBA: u8 = 0x40; // LBA addressing
const DEV_OBSOLETE: u8 = 0xa0; // bits 7 and 5, always read 1 (QEMU)

/// Virtual time a disk or CD request takes.
pub const IO_LATENCY_NS: u64 = 100_000;
/// Bytes of a drive's PIO buffer: a READ/WRITE MULTIPLE block of 16 sectors (and room for a CD
/// sector or any ATAPI reply).
pub(super) const IO_BUFFER_SIZE: usize = 16 * SECTOR_SIZE;
/// Most sectors per READ/WRITE MULTIPLE block (IDENTIFY word 47).
pub(super) const MAX_MULT_SECTORS: u8 = 16;
/// CD sectors one ATAPI DMA step moves (128 KiB: QEMU's 256-sector DMA buffer); a raw READ
/// CD moves one sector a step.
const CD_DMA_CHUNK_SECTORS: u32 = 64;
/// Bytes of disk data a DMA step moves between the backend and memory at a time.
const DMA_CHUNK_BYTES: usize = 64 * 1024;

/// The registers of one unit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Taskfile {
    pub feature: u8,
    pub nsector: u8,
    pub sector: u8,
    pub lcyl: u8,
    pub hcyl: u8,
    pub hob_feature: u8,
    pub hob_nsector: u8,
    pub hob_sector: u8,
    pub hob_lcyl: u8,
    pub hob_hcyl: u8,
    pub select: u8,
    pub status: u8,
    pub error: u8,
}

/// A CHS geometry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Chs {
    pub cylinders: u32,
    pub heads: u32,
    pub sectors: u32,
}

impl Chs {
    /// The geometry QEMU guesses for a disk of `total` sectors: 16 heads, 63 sectors per track,
    /// 2..=16383 cylinders.
    pub fn for_capacity(total: u64) -> Self {
        let cylinders = (total / (16 * 63)).clamp(2, 16383) as u32;
        Self {
            cylinders,
            heads: 16,
            sectors: 63,
        }
    }
}

impl Taskfile {
    /// The reset signature (ATA-8 §9.12): what kind of device answers, if any.
    /// QEMU 10 leaves the device register at 0xA0 (no head, LBA or DEV bit).
    pub(super) fn set_signature(&mut self, cd: Option<bool>) {
        self.select = DEV_OBSOLETE;
        self.nsector = 1;
        self.sector = 1;
        (self.lcyl, self.hcyl) = match cd {
            Some(false) => (0x00, 0x00),
            Some(true) => (0x14, 0xeb),
            None => (0xff, 0xff),
        };
    }

    /// The sector address the registers hold (QEMU's `ide_get_sector`): LBA28, LBA48, or CHS
    /// converted with `chs` (no field checks: an impossible address is caught by the range check).
    pub fn sector_address(&self, lba48: bool, chs: Chs) -> u64 {
        let b = u64::from;
        if self.select & DEV_LBA != 0 {
            if lba48 {
                b(self.hob_hcyl) << 40
                    | b(self.hob_lcyl) << 32
                    | b(self.hob_sector) << 24
                    | b(self.hcyl) << 16
                    | b(self.lcyl) << 8
                    | b(self.sector)
            } else {
                b(self.select & DEV_HEAD) << 24
                    | b(self.hcyl) << 16
                    | b(self.lcyl) << 8
                    | b(self.sector)
            }
        } else {
            let cylinder = b(self.hcyl) << 8 | b(self.lcyl);
            let head = b(self.select & DEV_HEAD);
            let (heads, sectors) = (u64::from(chs.heads), u64::from(chs.sectors));
            ((cylinder * heads + head) * sectors + b(self.sector)).wrapping_sub(1)
        }
    }

    /// Store sector address `lba` in the registers (QEMU's `ide_set_sector`).
    pub fn set_sector_address(&mut self, lba: u64, lba48: bool, chs: Chs) {
        if self.select & DEV_LBA != 0 {
            self.sector = lba as u8;
            self.lcyl = (lba >> 8) as u8;
            self.hcyl = (lba >> 16) as u8;
            if lba48 {
                self.hob_sector = (lba >> 24) as u8;
                self.hob_lcyl = (lba >> 32) as u8;
                self.hob_hcyl = (lba >> 40) as u8;
            } else {
                self.select = (self.select & !DEV_HEAD) | ((lba >> 24) as u8 & DEV_HEAD);
            }
        } else {
            let per_cylinder = u64::from(chs.heads) * u64::from(chs.sectors);
            let cylinder = lba / per_cylinder;
            let rest = lba % per_cylinder;
            self.hcyl = (cylinder >> 8) as u8;
            self.lcyl = cylinder as u8;
            let head = rest / u64::from(chs.sectors);
            self.select = (self.select & !DEV_HEAD) | (head as u8 & DEV_HEAD);
            self.sector = (rest % u64::from(chs.sectors) + 1) as u8;
        }
    }

    /// The sector count of a command (QEMU's `ide_cmd_lba48_transform`): 0 means 256 (LBA28)
    /// or 65536 (LBA48).
    pub fn sector_count(&self, lba48: bool) -> u32 {
        if lba48 {
            match u32::from(self.hob_nsector) << 8 | u32::from(self.nsector) {
                0 => 65536,
                n => n,
            }
        } else {
            match self.nsector {
                0 => 256,
                n => u32::from(n),
            }
        }
    }

    /// Show `remaining` sectors left in the count registers.
    pub fn set_sector_count(&mut self, remaining: u32, lba48: bool) {
        self.nsector = remaining as u8;
        if lba48 {
            self.hob_nsector = (remaining >> 8) as u8;
        }
    }
}

/// A drive's PIO buffer.
#[derive(Clone, PartialEq, Eq)]
pub(super) struct IoBuffer(Box<[u8; IO_BUFFER_SIZE]>);

impl IoBuffer {
    fn new() -> Self {
        Self(Box::new([0; IO_BUFFER_SIZE]))
    }
}

impl std::ops::Deref for IoBuffer {
    type Target = [u8; IO_BUFFER_SIZE];
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl std::ops::DerefMut for IoBuffer {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl fmt::Debug for IoBuffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let used = self.0.iter().rposition(|b| *b != 0).map_or(0, |i| i + 1);
        write!(f, "IoBuffer({:02x?})", &self.0[..used.min(64)])?;
        if used > 64 {
            write!(f, "..{used}")?;
        }
        Ok(())
    }
}

/// Direction of a PIO transfer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Dir {
    /// Device to host: the guest reads the data register.
    In,
    /// Host to device: the guest writes it.
    Out,
}

/// What happens when a PIO transfer's last byte has moved (QEMU's `end_transfer_func`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum AfterPio {
    /// Nothing: the command is over (IDENTIFY, SMART READ DATA).
    Stop,
    /// PIO read: the next block, or the end of the command.
    ReadNext,
    /// PIO write: commit the block.
    WriteBlock,
    /// ATAPI: the 12-byte command packet is in; execute it.
    Packet,
    /// ATAPI: the next block of the reply.
    AtapiReply,
}

/// The PIO transfer of a drive: a window `ptr..end` of its buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Pio {
    pub dir: Dir,
    pub ptr: usize,
    pub end: usize,
    pub after: AfterPio,
}

impl Default for Pio {
    fn default() -> Self {
        Self {
            dir: Dir::In,
            ptr: 0,
            end: 0,
            after: AfterPio::Stop,
        }
    }
}

/// ATAPI sense data as QEMU keeps it: a sense key and an additional sense code (the qualifier
/// is always 0).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Sense {
    pub key: u8,
    pub asc: u8,
}

/// Disk-specific state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct DiskState {
    pub disk: Disk,
    pub power_on_fault: Option<Fault>,
    /// Default geometry (IDENTIFY words 1, 3, 6).
    pub geometry: Chs,
    /// Current CHS translation (INITIALIZE DEVICE PARAMETERS; words 54-58).
    pub translation: Chs,
    pub smart_enabled: bool,
    pub smart_autosave: bool,
    /// SMART self-tests run (1..=21 once one has, wrapping), and each log entry's test kind.
    pub selftests: u8,
    pub selftest_kinds: [Option<u8>; SMART_SELFTESTS],
}

/// Entries of the SMART self-test log.
pub(super) const SMART_SELFTESTS: usize = 21;

/// CD-ROM-specific state (QEMU's names in brackets).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct CdState {
    pub power_on_medium: Option<Medium>,
    /// The disc in the drive: gone after the user ejected it, back when the tray closes.
    pub medium: Option<Medium>,
    /// The tray is open: the medium (if any) is not accessible [`tray_open`].
    pub tray_open: bool,
    /// PREVENT ALLOW MEDIUM REMOVAL [`tray_locked`].
    pub locked: bool,
    /// A medium change the guest has not been told about: 1 reports NOT READY to the next
    /// command that does not allow a unit attention, 2 then UNIT ATTENTION [`cdrom_changed`].
    pub changed: u8,
    /// Media events for GET EVENT STATUS NOTIFICATION [`events`].
    pub new_media: bool,
    pub eject_request: bool,
    /// The last error's sense; only a reported UNIT ATTENTION is cleared.
    pub sense: Sense,
    pub fault: Option<Fault>,
    pub power_on_fault: Option<Fault>,
    /// The current PACKET command's data phase is DMA (FEATURES bit 0) [`atapi_dma`].
    pub dma: bool,
    /// Reply bytes not yet handed to a PIO block [`packet_transfer_size`].
    pub xfer_left: u64,
    /// Bytes left in the current DRQ block [`elementary_transfer_size`].
    pub elementary: u64,
    /// The reply comes from medium sectors, fetched one at a time from `read_lba` [`lba != -1`].
    pub reading: bool,
    pub read_lba: u64,
    /// Bytes per sector of the read: 2048, or 2352 for a raw READ CD [`cd_sector_size`].
    pub sector_size: usize,
    /// Position in the reply data, or in the current sector [`io_buffer_index`].
    pub buf_index: usize,
}

impl CdState {
    /// The medium, if the guest can access it (present and the tray closed).
    pub fn medium_present(&self) -> Option<&Medium> {
        self.medium.as_ref().filter(|_| !self.tray_open)
    }

    pub fn stop_transfer(&mut self) {
        self.xfer_left = 0;
        self.elementary = 0;
        self.reading = false;
        self.buf_index = 0;
    }
}

/// What a drive is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Media {
    Disk(DiskState),
    Cd(CdState),
}

/// A drive in a unit slot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Drive {
    pub(super) media: Media,
    pub(super) io: IoBuffer,
    pub(super) pio: Pio,
    /// Drive number for the serial ("QM0000n", 1 + 2 * channel + unit).
    pub(super) number: u8,
    /// The IDENTIFY (PACKET) DEVICE block, built by the first IDENTIFY and kept from then on,
    /// resets included; SET FEATURES updates its words 62, 63, 85 and 88 (QEMU's
    /// `identify_data`).
    pub(super) identify: Option<Box<[u16; 256]>>,
    pub(super) write_cache: bool,
    /// Sectors per READ/WRITE MULTIPLE block.
    pub(super) mult_sectors: u8,
    /// Sectors per DRQ block of the running PIO command.
    pub(super) req_sectors: u32,
    /// Sectors left in the running command.
    pub(super) remaining: u32,
    /// The running command addresses with LBA48.
    pub(super) lba48: bool,
}

impl Drive {
    /// A hard disk on `disk`, failing `fault` from power-on.
    pub(crate) fn disk(disk: Disk, fault: Option<Fault>, number: u8) -> Self {
        let geometry = Chs::for_capacity(disk.sectors());
        let mut d = Self::with_media(
            Media::Disk(DiskState {
                disk,
                power_on_fault: fault,
                geometry,
                translation: geometry,
                smart_enabled: true,
                smart_autosave: true,
                selftests: 0,
                selftest_kinds: [None; SMART_SELFTESTS],
            }),
            number,
        );
        d.power_on();
        d
    }

    /// A CD-ROM drive holding `medium`.
    pub(crate) fn cdrom(medium: Option<Medium>, fault: Option<Fault>, number: u8) -> Self {
        let mut d = Self::with_media(
            Media::Cd(CdState {
                power_on_medium: medium.clone(),
                medium,
                tray_open: false,
                locked: false,
                changed: 0,
                new_media: false,
                eject_request: false,
                sense: Sense::default(),
                fault,
                power_on_fault: fault,
                dma: false,
                xfer_left: 0,
                elementary: 0,
                reading: false,
                read_lba: 0,
                sector_size: CD_SECTOR_SIZE,
                buf_index: 0,
            }),
            number,
        );
        d.power_on();
        d
    }

    fn with_media(media: Media, number: u8) -> Self {
        Self {
            media,
            io: IoBuffer::new(),
            pio: Pio::default(),
            number,
            identify: None,
            write_cache: true,
            mult_sectors: MAX_MULT_SECTORS,
            req_sectors: 0,
            remaining: 0,
            lba48: false,
        }
    }

    pub(super) fn is_cd(&self) -> bool {
        matches!(self.media, Media::Cd(_))
    }

    /// The state a reset (SRST, DEVICE RESET, power-on) leaves, as QEMU's `ide_reset`: no
    /// command, no transfer, 16 sectors per multiple block; a CD-ROM forgets its sense, its
    /// pending medium change, its lock, and closes its tray. Settings made with SET FEATURES and
    /// INITIALIZE DEVICE PARAMETERS stay.
    fn soft_reset(&mut self) {
        self.pio = Pio::default();
        self.mult_sectors = MAX_MULT_SECTORS;
        self.req_sectors = 0;
        self.remaining = 0;
        self.lba48 = false;
        if let Media::Cd(cd) = &mut self.media {
            cd.stop_transfer();
            cd.sense = Sense::default();
            cd.changed = 0;
            cd.dma = false;
            cd.locked = false;
            cd.tray_open = false;
            cd.sector_size = CD_SECTOR_SIZE;
        }
    }

    /// The power-on state.
    fn power_on(&mut self) {
        self.soft_reset();
        self.io.fill(0);
        self.identify = None;
        self.write_cache = true;
        match &mut self.media {
            Media::Disk(ds) => {
                ds.disk.forget_writes();
                ds.disk.set_fault(ds.power_on_fault);
                ds.translation = ds.geometry;
                ds.smart_enabled = true;
                ds.smart_autosave = true;
                ds.selftests = 0;
                ds.selftest_kinds = [None; SMART_SELFTESTS];
            }
            Media::Cd(cd) => {
                cd.medium.clone_from(&cd.power_on_medium);
                cd.new_media = false;
                cd.eject_request = false;
                cd.fault = cd.power_on_fault;
            }
        }
    }

    /// Start a PIO transfer of `start..end` of the buffer.
    pub(super) fn pio_start(&mut self, dir: Dir, start: usize, end: usize, after: AfterPio) {
        self.pio = Pio {
            dir,
            ptr: start,
            end: end.min(IO_BUFFER_SIZE),
            after,
        };
    }
}

/// A unit slot: its registers, and the drive if one is attached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Unit {
    pub tf: Taskfile,
    pub drive: Option<Drive>,
}

impl Unit {
    /// Registers after a reset (QEMU's `ide_reset`): all zero, the device register 0xA0, status
    /// 0x50 (also for a packet device and an absent unit), then the signature.
    fn reset_registers(&mut self) {
        let cd = self.drive.as_ref().map(Drive::is_cd);
        self.tf = Taskfile {
            select: DEV_OBSOLETE,
            status: STATUS_READY,
            ..Taskfile::default()
        };
        self.tf.set_signature(cd);
    }

    /// What EXECUTE DEVICE DIAGNOSTIC leaves (and SRST after the reset): the signature and
    /// error 0x01; status 0x50, or 0 for a packet device. Returns whether the device interrupts
    /// (all but a packet device, an absent one too, as in QEMU).
    pub(super) fn diagnostic(&mut self) -> bool {
        let cd = self.drive.as_ref().map(Drive::is_cd);
        self.tf.set_signature(cd);
        self.tf.error = DIAGNOSTIC_PASSED;
        if cd == Some(true) {
            self.tf.status = 0;
            false
        } else {
            self.tf.status = STATUS_READY;
            true
        }
    }
}

/// Deferred work of the channel: what happens when its timer fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Pending {
    /// A PIO read block has been read from the disk.
    PioRead,
    /// A PIO write block has been committed.
    PioWrite,
    /// The DMA transfer runs.
    Dma,
    /// An ATAPI PIO read has fetched its next sector.
    CdRead,
}

/// A DMA transfer a command armed: it runs when the bus master is active.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct DmaJob {
    pub unit: usize,
    pub kind: DmaKind,
}

/// What a DMA transfer moves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum DmaKind {
    /// READ DMA (`write` false: disk to memory) or WRITE DMA: the taskfile's address, the
    /// drive's remaining sector count.
    Ata { write: bool },
    /// ATAPI READ: `left` CD sectors from `lba` to memory, as raw 2352-byte sectors if `raw`.
    CdRead { lba: u64, left: u32, raw: bool },
    /// An ATAPI reply of `len` bytes from the drive's buffer.
    Reply { len: u32 },
    /// DATA SET MANAGEMENT (TRIM): the drive's remaining sector count of range entries from
    /// memory.
    Trim,
}

/// What to do with a PRD table shorter than the transfer.
enum ShortTable {
    /// End the transfer: nothing moves, ACTIVE clears, no interrupt.
    End,
    /// PLANTED `ide-prd-zero-sectors`: no complete sector, read as "no progress": go again.
    Rearm,
    /// PLANTED `ide-dma-partial-sector`: transfer the bytes the table has.
    Partial,
}

/// One channel. See the [module documentation](self).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Channel {
    /// 0 primary, 1 secondary: also the IRQ pin and the timer number.
    index: u8,
    pub(super) units: [Unit; 2],
    /// The unit the DEV bit selects.
    pub(super) selected: usize,
    /// Device Control (nIEN, HOB; SRST acts at once and is not kept).
    pub(super) devctl: u8,
    /// The selected drive's INTRQ.
    intrq: bool,
    pub(super) bm: BusMaster,
    pub(super) dma: Option<DmaJob>,
    /// Deferred work and the unit it belongs to; the channel timer is armed while it is set.
    pending: Option<(usize, Pending)>,
    pub(super) planted: Planted,
}

impl Channel {
    /// Channel `index` with `drives` (master, slave), in its power-on state.
    pub(crate) fn new(index: u8, drives: [Option<Drive>; 2], planted: Planted) -> Self {
        let [master, slave] = drives;
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
            self.bm.add_status(super::bmdma::BM_STATUS_INT);
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

    /// Command block read. The data register takes 16- and 32-bit reads; anything else is
    /// read a byte at a time.
    pub(super) fn read_cmd(&mut self, ctx: &mut dyn Context, offset: u64, size: AccessSize) -> u64 {
        if offset == REG_DATA && size != AccessSize::B1 {
            return self.read_data(ctx, size);
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
        if offset == REG_DATA && size != AccessSize::B1 {
            return self.write_data(ctx, size, value);
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
            // A byte read of the data register is not a data transfer.
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
            REG_ERROR => {
                self.write_taskfile(value, |tf, v| {
                    tf.hob_feature = tf.feature;
                    tf.feature = v;
                });
            }
            REG_NSECTOR => {
                self.write_taskfile(value, |tf, v| {
                    tf.hob_nsector = tf.nsector;
                    tf.nsector = v;
                });
            }
            REG_SECTOR => {
                self.write_taskfile(value, |tf, v| {
                    tf.hob_sector = tf.sector;
                    tf.sector = v;
                });
            }
            REG_LCYL => {
                self.write_taskfile(value, |tf, v| {
                    tf.hob_lcyl = tf.lcyl;
                    tf.lcyl = v;
                });
            }
            REG_HCYL => {
                self.write_taskfile(value, |tf, v| {
                    tf.hob_hcyl = tf.hcyl;
                    tf.hcyl = v;
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
        let Some(drive) = &unit.drive else {
            return;
        };
        let cd = drive.is_cd();
        // Only DEVICE RESET is accepted while busy, and only by a packet device.
        if unit.tf.status & (STATUS_BSY | STATUS_DRQ) != 0
            && !(cd && cmd == super::atapi::WIN_DEVICE_RESET)
        {
            return;
        }
        unit.tf.status = STATUS_DRDY | STATUS_BSY;
        unit.tf.error = 0;
        if cd {
            self.atapi_device_command(ctx, u, cmd);
        } else {
            self.ata_command(ctx, u, cmd);
        }
    }

    /// The command succeeded: `status`, an interrupt.
    pub(super) fn complete(&mut self, ctx: &mut dyn Context, u: usize, status: u8) {
        self.units[u].tf.status = status;
        self.raise_irq(ctx);
    }

    /// The command is aborted: status 0x41, ERROR = ABRT, an interrupt.
    pub(super) fn abort(&mut self, ctx: &mut dyn Context, u: usize) {
        self.fail(ctx, u, ERROR_ABRT);
    }

    /// The command fails with `error`: status 0x41, an interrupt, no data transfer.
    pub(super) fn fail(&mut self, ctx: &mut dyn Context, u: usize, error: u8) {
        let unit = &mut self.units[u];
        unit.tf.status = STATUS_DRDY | STATUS_ERR;
        unit.tf.error = error;
        if let Some(d) = &mut unit.drive {
            d.pio = Pio::default();
        }
        self.raise_irq(ctx);
    }

    /// Whether the next PIO block of unit `u`'s command (its block size, at most the sectors
    /// left) lies on the disk (QEMU's `ide_sect_range_ok` before each block).
    pub(super) fn block_in_range(&self, u: usize) -> bool {
        let n = self.units[u]
            .drive
            .as_ref()
            .map_or(0, |d| d.req_sectors.min(d.remaining));
        self.range_ok(u, n)
    }

    /// Whether all of unit `u`'s remaining sectors lie on the disk (a DMA request).
    pub(super) fn request_in_range(&self, u: usize) -> bool {
        let n = self.units[u].drive.as_ref().map_or(0, |d| d.remaining);
        self.range_ok(u, n)
    }

    fn range_ok(&self, u: usize, n: u32) -> bool {
        let lba = self.command_sector(u);
        match &self.units[u].drive {
            Some(Drive {
                media: Media::Disk(ds),
                ..
            }) => {
                let total = ds.disk.sectors();
                lba <= total && u64::from(n) <= total - lba
            }
            _ => true,
        }
    }

    /// The ERROR register value for a failed disk request.
    pub(super) fn error_bits(e: IoError) -> u8 {
        match e {
            IoError::Medium => ERROR_UNC,
            _ => ERROR_ABRT,
        }
    }

    /// The sector address in unit `u`'s registers, for its running command.
    pub(super) fn command_sector(&self, u: usize) -> u64 {
        let unit = &self.units[u];
        let (lba48, chs) = match &unit.drive {
            Some(
                d @ Drive {
                    media: Media::Disk(ds),
                    ..
                },
            ) => (d.lba48, ds.translation),
            _ => return 0,
        };
        unit.tf.sector_address(lba48, chs)
    }

    /// `n` sectors of unit `u`'s running command are done: the registers show the next
    /// address and the sectors left.
    pub(super) fn advance_sectors(&mut self, u: usize, lba: u64, n: u32) {
        let unit = &mut self.units[u];
        let Some(d) = &mut unit.drive else { return };
        let Media::Disk(ds) = &d.media else { return };
        d.remaining = d.remaining.saturating_sub(n);
        unit.tf
            .set_sector_address(lba + u64::from(n), d.lba48, ds.translation);
        unit.tf.set_sector_count(d.remaining, d.lba48);
    }

    // ---- PIO data -----------------------------------------------------------------------

    /// A 16- or 32-bit read of the data register: the next bytes of a device-to-host transfer,
    /// or 0 when there is none (DRQ clear, the other direction, or fewer bytes left).
    fn read_data(&mut self, ctx: &mut dyn Context, size: AccessSize) -> u64 {
        let u = self.selected;
        let unit = &mut self.units[u];
        let Some(d) = &mut unit.drive else { return 0 };
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
        d.io[ptr..end][..n].copy_from_slice(&value.to_le_bytes()[..n]);
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
        let Some(d) = &self.units[u].drive else {
            return;
        };
        match d.pio.after {
            AfterPio::Stop => {}
            AfterPio::ReadNext => self.pio_read_next(ctx, u),
            AfterPio::WriteBlock => {
                // A block past the end of the disk aborts at once (QEMU checks the range
                // before it submits the write).
                if !self.block_in_range(u) {
                    return self.abort(ctx, u);
                }
                self.units[u].tf.status = STATUS_READY | STATUS_BSY;
                self.schedule(ctx, u, Pending::PioWrite);
            }
            AfterPio::Packet => self.atapi_packet(ctx, u),
            AfterPio::AtapiReply => self.atapi_reply_next(ctx, u),
        }
    }

    // ---- deferred work ------------------------------------------------------------------

    /// Run `op` for unit `u` after the request latency.
    pub(super) fn schedule(&mut self, ctx: &mut dyn Context, u: usize, op: Pending) {
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
            Pending::PioRead => self.pio_read_block(ctx, u),
            Pending::PioWrite => self.pio_write_commit(ctx, u),
            Pending::Dma => self.run_dma(ctx),
            Pending::CdRead => self.atapi_read_sector(ctx, u),
        }
    }

    // ---- bus master ---------------------------------------------------------------------

    /// BMICOM write.
    pub(super) fn write_bmicom(&mut self, ctx: &mut dyn Context, value: u8) {
        match self.bm.write_cmd(value) {
            CmdEffect::Start => self.kick_dma(ctx),
            CmdEffect::Stop => {
                if matches!(self.pending, Some((_, Pending::Dma))) {
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

    /// A command has a DMA data phase: wait for the bus master (status DRQ).
    pub(super) fn arm_dma(&mut self, ctx: &mut dyn Context, u: usize, kind: DmaKind) {
        self.bm.new_transfer();
        self.dma = Some(DmaJob { unit: u, kind });
        self.units[u].tf.status = STATUS_READY | STATUS_DRQ;
        self.kick_dma(ctx);
    }

    /// Schedule the armed transfer if the bus master is active.
    fn kick_dma(&mut self, ctx: &mut dyn Context) {
        if let Some(job) = self.dma
            && self.bm.active()
            && self.pending.is_none()
        {
            let bad_range =
                matches!(job.kind, DmaKind::Ata { .. }) && !self.request_in_range(job.unit);
            if matches!(job.kind, DmaKind::Reply { .. }) || bad_range {
                // A reply comes from the drive's buffer, with no medium access, and a request
                // past the end of the disk fails before any: either ends at once (QEMU does it
                // inside the BMICOM write or the command).
                self.run_dma(ctx);
            } else {
                self.schedule(ctx, job.unit, Pending::Dma);
            }
        }
    }

    /// Bytes per sector, and bytes wanted for the next step, of the armed transfer.
    fn dma_step(&self, job: DmaJob) -> (u64, u64) {
        match job.kind {
            DmaKind::Ata { .. } | DmaKind::Trim => {
                let left = self.units[job.unit]
                    .drive
                    .as_ref()
                    .map_or(0, |d| d.remaining);
                (SECTOR_SIZE as u64, u64::from(left) * SECTOR_SIZE as u64)
            }
            DmaKind::CdRead {
                left, raw: false, ..
            } => (
                CD_SECTOR_SIZE as u64,
                u64::from(left.min(CD_DMA_CHUNK_SECTORS)) * CD_SECTOR_SIZE as u64,
            ),
            DmaKind::CdRead { raw: true, .. } => {
                let raw = super::atapi::CD_RAW_SECTOR_SIZE as u64;
                (raw, raw)
            }
            DmaKind::Reply { len } => (1, u64::from(len)),
        }
    }

    /// Run the armed DMA transfer: walk the PRD table, move the data, complete (QEMU's
    /// `ide_dma_cb` loop). Each step moves a whole request (ATA) or up to 64 sectors (ATAPI).
    fn run_dma(&mut self, ctx: &mut dyn Context) {
        let mut segs = Segments::default();
        while let Some(job) = self.dma {
            ctx.work(1);
            let (sector, want) = self.dma_step(job);
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
                    ShortTable::Rearm => continue,
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
            if self.dma_advance(job, sectors as u32) {
                return self.dma_done(ctx, job.unit, want == 0);
            }
        }
    }

    /// A PRD table with `got` bytes for a step that wants more. The fixed model ends the
    /// transfer (facts §3.4 case 5).
    fn short_table(&self, ctx: &mut dyn Context, got: u64, sector: u64) -> ShortTable {
        if sector > 1 {
            if let Some(bug) = self.planted.active(PRD_ZERO_SECTORS) {
                // PLANTED `ide-prd-zero-sectors` (CVE-2014-9718): "prepared zero complete
                // sectors" is taken for "success, no progress yet" and the step is re-armed.
                bug.reached(ctx);
                if got < sector {
                    bug.triggered(ctx);
                    return ShortTable::Rearm;
                }
            }
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

    /// Move the bytes `segs` describe for `job`. Requests are checked before any data moves.
    fn dma_transfer(
        &mut self,
        ctx: &mut dyn Context,
        job: DmaJob,
        segs: &Segments,
    ) -> Result<(), IoError> {
        let bytes = segs.total;
        let lba = self.command_sector(job.unit);
        let Some(d) = &mut self.units[job.unit].drive else {
            return Ok(());
        };
        let mut cursor = Cursor::new(segs);
        match (job.kind, &mut d.media) {
            (DmaKind::Ata { write }, Media::Disk(ds)) => {
                let count = bytes.div_ceil(SECTOR_SIZE as u64);
                ds.disk.check(lba, count, write)?;
                tracing::trace!(
                    target: "dma_blk_io",
                    "offset {:#x} bytes {bytes} to_dev {write}",
                    lba * SECTOR_SIZE as u64
                );
                let mut chunk = vec![0u8; (bytes as usize).min(DMA_CHUNK_BYTES)];
                let mut done = 0u64;
                while done < bytes {
                    ctx.work(1);
                    let len = ((bytes - done) as usize).min(DMA_CHUNK_BYTES);
                    let first = lba + done / SECTOR_SIZE as u64;
                    let buf = &mut chunk[..len];
                    if write {
                        cursor.get(ctx, buf);
                        // A partial last sector (only the planted partial-table path) is not
                        // written.
                        for (i, sector) in buf.chunks_exact(SECTOR_SIZE).enumerate() {
                            ds.disk.write(first + i as u64, sector)?;
                        }
                    } else {
                        for (i, sector) in buf.chunks_mut(SECTOR_SIZE).enumerate() {
                            ds.disk.read(first + i as u64, sector)?;
                        }
                        cursor.put(ctx, buf);
                    }
                    done += len as u64;
                }
            }
            (DmaKind::CdRead { lba, raw, .. }, Media::Cd(cd)) => {
                let sector_size = if raw {
                    super::atapi::CD_RAW_SECTOR_SIZE
                } else {
                    CD_SECTOR_SIZE
                };
                let count = bytes.div_ceil(sector_size as u64);
                let medium = cd.medium_present().ok_or(IoError::NoMedium)?;
                Fault::check(cd.fault, lba, count)?;
                tracing::trace!(
                    target: "dma_blk_io",
                    "offset {:#x} bytes {bytes} to_dev false",
                    lba * CD_SECTOR_SIZE as u64
                );
                let mut chunk = vec![0u8; count as usize * sector_size];
                for (i, sector) in chunk.chunks_mut(sector_size).enumerate() {
                    ctx.work(1);
                    let lba = lba + i as u64;
                    if raw {
                        medium.read(lba, &mut sector[16..16 + CD_SECTOR_SIZE])?;
                        super::atapi::cd_data_to_raw(sector, lba);
                    } else {
                        medium.read(lba, sector)?;
                    }
                }
                cursor.put(ctx, &chunk[..bytes as usize]);
            }
            (DmaKind::Trim, Media::Disk(ds)) => {
                // DATA SET MANAGEMENT / TRIM: 8-byte entries of a 48-bit LBA and a 16-bit
                // count. Every range must be on the disk; the data stays (QEMU's default
                // `discard=ignore`).
                let mut entries = vec![0u8; bytes as usize];
                cursor.get(ctx, &mut entries);
                for entry in entries.chunks_exact(8) {
                    let entry = u64::from_le_bytes(entry.try_into().unwrap_or_default());
                    let (first, count) = (entry & 0xffff_ffff_ffff, entry >> 48);
                    let total = ds.disk.sectors();
                    if count != 0 && (first > total || count > total - first) {
                        return Err(IoError::Io);
                    }
                }
            }
            (DmaKind::Reply { .. }, _) => {
                let len = (bytes as usize).min(IO_BUFFER_SIZE);
                cursor.put(ctx, &d.io[..len]);
            }
            _ => {}
        }
        Ok(())
    }

    /// `sectors` of `job` moved; returns whether the transfer is complete.
    fn dma_advance(&mut self, job: DmaJob, sectors: u32) -> bool {
        match job.kind {
            DmaKind::Ata { .. } | DmaKind::Trim => {
                let lba = self.command_sector(job.unit);
                self.advance_sectors(job.unit, lba, sectors);
                self.units[job.unit]
                    .drive
                    .as_ref()
                    .is_none_or(|d| d.remaining == 0)
            }
            DmaKind::CdRead { lba, left, raw } => {
                let left = left.saturating_sub(sectors);
                self.dma = Some(DmaJob {
                    unit: job.unit,
                    kind: DmaKind::CdRead {
                        lba: lba + u64::from(sectors),
                        left,
                        raw,
                    },
                });
                left == 0
            }
            DmaKind::Reply { .. } => true,
        }
    }

    /// The PRD table ended before the transfer: nothing (more) moves, ACTIVE clears, no
    /// interrupt, the count registers stay; a disk shows status 0x50, a packet device keeps
    /// its DRQ status (QEMU).
    fn dma_short(&mut self) {
        if let Some(job) = self.dma.take() {
            let unit = &mut self.units[job.unit];
            if !unit.drive.as_ref().is_some_and(Drive::is_cd) {
                unit.tf.status = STATUS_READY;
            }
        }
        self.bm.set_inactive();
    }

    /// The request failed: error status, ACTIVE clears, an interrupt. BMISTA.ERROR is not set
    /// (QEMU's `ide_dma_error` does not either).
    fn dma_error(&mut self, ctx: &mut dyn Context, u: usize, e: IoError) {
        self.dma = None;
        self.bm.set_inactive();
        if self.units[u].drive.as_ref().is_some_and(Drive::is_cd) {
            self.atapi_io_error(ctx, u, e);
        } else {
            self.fail(ctx, u, Self::error_bits(e));
        }
    }

    /// The transfer completed: ACTIVE stays set while the PRD table has bytes left.
    /// A packet command, and a request that wanted no data (a TRIM of 0 blocks, which never
    /// walks the table), always end the bus master's transfer (QEMU's `ide_set_inactive(s,
    /// false)`).
    fn dma_done(&mut self, ctx: &mut dyn Context, u: usize, empty: bool) {
        self.dma = None;
        let cd = self.units[u].drive.as_ref().is_some_and(Drive::is_cd);
        if cd || empty || self.bm.table_exhausted() {
            self.bm.set_inactive();
        }
        if cd {
            self.atapi_ok(ctx, u);
        } else {
            self.complete(ctx, u, STATUS_READY);
        }
    }

    // ---- backend events -----------------------------------------------------------------

    /// Make `fault` unit `u`'s failing sector.
    pub(super) fn set_fault(&mut self, u: usize, fault: Option<Fault>) {
        let Some(d) = &mut self.units[u].drive else {
            return;
        };
        match &mut d.media {
            Media::Disk(ds) => ds.disk.set_fault(fault),
            Media::Cd(cd) => cd.fault = fault,
        }
    }
}
