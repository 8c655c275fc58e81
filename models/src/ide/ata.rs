//! The ATA hard disk (facts §3.3): its command set, its PIO blocks, and the data side of its DMA
//! transfers (READ/WRITE DMA, DATA SET MANAGEMENT).

use super::backend::{Disk, Fault, IoError, SECTOR_SIZE};
use super::bmdma::{Cursor, Segments};
use super::drive::{
    Action, AfterPio, Deferred, Dir, DmaKind, DriveCore, FIRMWARE_REVISION, WIN_CHECKPOWERMODE1,
    WIN_CHECKPOWERMODE2, WIN_DIAGNOSE, WIN_FLUSH_CACHE, WIN_FLUSH_CACHE_EXT, WIN_IDENTIFY,
    WIN_IDLE, WIN_READ, WIN_SETFEATURES, WIN_SLEEPNOW1, WIN_SLEEPNOW2, WIN_STANDBYNOW1,
    WIN_STANDBYNOW2, complete, diagnose, error_bits, put_string, put_words, serial,
};
use super::planted::CHS_ZERO_GEOMETRY;
use super::scratch::Scratch;
use super::sector_address::Chs;
use super::taskfile::{
    DEV_HEAD, ERROR_ABRT, STATUS_BSY, STATUS_DRDY, STATUS_DRQ, STATUS_READY, Taskfile,
};
use harness::device::Context;
use harness::transient::Transient;

// Commands (ATA/ATAPI-7 names).
const WIN_DSM: u8 = 0x06; // DATA SET MANAGEMENT
/// DATA SET MANAGEMENT FEATURES: TRIM.
const DSM_TRIM: u8 = 0x01;
const WIN_RECAL: u8 = 0x10; // RECALIBRATE
const WIN_READ_ONCE: u8 = 0x21; // READ SECTORS without retry
const WIN_READ_EXT: u8 = 0x24; // READ SECTORS EXT
const WIN_READDMA_EXT: u8 = 0x25; // READ DMA EXT
const WIN_READ_NATIVE_MAX_EXT: u8 = 0x27; // READ NATIVE MAX ADDRESS EXT
const WIN_MULTREAD_EXT: u8 = 0x29; // READ MULTIPLE EXT
const WIN_WRITE: u8 = 0x30; // WRITE SECTORS
const WIN_WRITE_ONCE: u8 = 0x31; // WRITE SECTORS without retry
const WIN_WRITE_EXT: u8 = 0x34; // WRITE SECTORS EXT
const WIN_WRITEDMA_EXT: u8 = 0x35; // WRITE DMA EXT
const WIN_MULTWRITE_EXT: u8 = 0x39; // WRITE MULTIPLE EXT
const WIN_WRITE_VERIFY: u8 = 0x3c; // WRITE VERIFY
const WIN_VERIFY: u8 = 0x40; // READ VERIFY SECTORS
const WIN_VERIFY_ONCE: u8 = 0x41; // READ VERIFY SECTORS without retry
const WIN_VERIFY_EXT: u8 = 0x42; // READ VERIFY SECTORS EXT
const WIN_SEEK: u8 = 0x70; // SEEK
const WIN_SPECIFY: u8 = 0x91; // INITIALIZE DEVICE PARAMETERS
const WIN_SMART: u8 = 0xb0; // SMART
const WIN_MULTREAD: u8 = 0xc4; // READ MULTIPLE
const WIN_MULTWRITE: u8 = 0xc5; // WRITE MULTIPLE
const WIN_SETMULT: u8 = 0xc6; // SET MULTIPLE MODE
const WIN_READDMA: u8 = 0xc8; // READ DMA
const WIN_READDMA_ONCE: u8 = 0xc9; // READ DMA without retry
const WIN_WRITEDMA: u8 = 0xca; // WRITE DMA
const WIN_WRITEDMA_ONCE: u8 = 0xcb; // WRITE DMA without retry
const WIN_SECURITY_FREEZE_LOCK: u8 = 0xf5; // SECURITY FREEZE LOCK (CFA WEAR LEVEL)
const WIN_READ_NATIVE_MAX: u8 = 0xf8; // READ NATIVE MAX ADDRESS

// SMART subcommands (FEATURES), valid with LBA Mid/High = 0x4F/0xC2.
const SMART_READ_DATA: u8 = 0xd0;
const SMART_READ_THRESHOLDS: u8 = 0xd1;
const SMART_ATTR_AUTOSAVE: u8 = 0xd2;
const SMART_IMMEDIATE_OFFLINE: u8 = 0xd4;
const SMART_READ_LOG: u8 = 0xd5;
const SMART_ENABLE: u8 = 0xd8;
const SMART_DISABLE: u8 = 0xd9;
const SMART_STATUS: u8 = 0xda;
const SMART_LCYL: u8 = 0x4f;
const SMART_HCYL: u8 = 0xc2;
/// Entries of the SMART self-test log.
const SMART_SELFTESTS: usize = 21;
const DISK_MODEL: &str = "QEMU HARDDISK";
/// LBA28 addresses at most 2^28 - 1 sectors.
const LBA28_MAX_SECTORS: u64 = (1 << 28) - 1;
/// Most sectors per READ/WRITE MULTIPLE block (IDENTIFY word 47).
const MAX_MULT_SECTORS: u8 = 16;
/// Bytes of disk data a DMA step moves between the backend and memory at a time.
const DMA_CHUNK_BYTES: usize = 64 * 1024;
/// What a DMA read of sectors nothing was written to moves.
static ZEROS: [u8; DMA_CHUNK_BYTES] = [0; DMA_CHUNK_BYTES];

/// An ATA hard disk on a [`Disk`].
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct AtaDisk {
    pub(super) core: DriveCore,
    disk: Disk,
    power_on_fault: Option<Fault>,
    /// Default geometry (IDENTIFY words 1, 3, 6).
    geometry: Chs,
    /// Current CHS translation (INITIALIZE DEVICE PARAMETERS; words 54-58).
    translation: Chs,
    smart_enabled: bool,
    smart_autosave: bool,
    /// SMART self-tests run (1..=21 once one has, wrapping), and each log entry's test kind.
    selftests: u8,
    selftest_kinds: [Option<u8>; SMART_SELFTESTS],
    /// Sectors per READ/WRITE MULTIPLE block.
    mult_sectors: u8,
    /// Sectors per DRQ block of the running PIO command.
    req_sectors: u32,
    /// Sectors left in the running command.
    remaining: u32,
    /// The running command addresses with LBA48.
    lba48: bool,
    /// DMA data between guest memory and the disk.
    scratch: Transient<Scratch>,
}

harness::clone_by_field!(AtaDisk {
    core,
    disk,
    power_on_fault,
    geometry,
    translation,
    smart_enabled,
    smart_autosave,
    selftests,
    selftest_kinds,
    mult_sectors,
    req_sectors,
    remaining,
    lba48,
    scratch,
});

impl AtaDisk {
    /// A hard disk on `disk`, failing `fault` from power-on, as drive `number`.
    pub(crate) fn new(disk: Disk, fault: Option<Fault>, number: u8) -> Self {
        let geometry = Chs::for_capacity(disk.sectors());
        let mut d = Self {
            core: DriveCore::new(number),
            disk,
            power_on_fault: fault,
            geometry,
            translation: geometry,
            smart_enabled: true,
            smart_autosave: true,
            selftests: 0,
            selftest_kinds: [None; SMART_SELFTESTS],
            mult_sectors: MAX_MULT_SECTORS,
            req_sectors: 0,
            remaining: 0,
            lba48: false,
            scratch: Transient::default(),
        };
        d.power_on();
        d
    }

    /// The state a reset (SRST, power-on) leaves, as QEMU's `ide_reset`: no command, no
    /// transfer, 16 sectors per multiple block. Settings made with SET FEATURES and INITIALIZE
    /// DEVICE PARAMETERS stay.
    pub(super) fn soft_reset(&mut self) {
        self.core.pio = Default::default();
        self.mult_sectors = MAX_MULT_SECTORS;
        self.req_sectors = 0;
        self.remaining = 0;
        self.lba48 = false;
    }

    /// The power-on state: nothing written, the power-on fault, the default translation, SMART
    /// as shipped.
    pub(super) fn power_on(&mut self) {
        self.soft_reset();
        self.core.power_on();
        self.disk.forget_writes();
        self.disk.set_fault(self.power_on_fault);
        self.translation = self.geometry;
        self.smart_enabled = true;
        self.smart_autosave = true;
        self.selftests = 0;
        self.selftest_kinds = [None; SMART_SELFTESTS];
    }

    /// Make `fault` the failing sector.
    pub(super) fn set_fault(&mut self, fault: Option<Fault>) {
        self.disk.set_fault(fault);
    }

    /// An ATA command (status is DRDY|BSY, error 0 on entry).
    pub(super) fn command(&mut self, ctx: &mut dyn Context, tf: &mut Taskfile, cmd: u8) -> Action {
        match cmd {
            WIN_RECAL | WIN_SEEK => complete(tf, STATUS_READY),
            WIN_SECURITY_FREEZE_LOCK => {
                // QEMU takes it for CFA WEAR LEVEL: the sector count reads 0.
                tf.nsector = 0;
                complete(tf, STATUS_READY)
            }
            WIN_READ | WIN_READ_ONCE => self.cmd_read_pio(tf, false, false),
            WIN_READ_EXT => self.cmd_read_pio(tf, true, false),
            WIN_MULTREAD => self.cmd_read_pio(tf, false, true),
            WIN_MULTREAD_EXT => self.cmd_read_pio(tf, true, true),
            WIN_WRITE | WIN_WRITE_ONCE | WIN_WRITE_VERIFY => self.cmd_write_pio(tf, false, false),
            WIN_WRITE_EXT => self.cmd_write_pio(tf, true, false),
            WIN_MULTWRITE => self.cmd_write_pio(tf, false, true),
            WIN_MULTWRITE_EXT => self.cmd_write_pio(tf, true, true),
            WIN_READDMA | WIN_READDMA_ONCE => self.cmd_dma(tf, false, false),
            WIN_READDMA_EXT => self.cmd_dma(tf, false, true),
            WIN_WRITEDMA | WIN_WRITEDMA_ONCE => self.cmd_dma(tf, true, false),
            WIN_WRITEDMA_EXT => self.cmd_dma(tf, true, true),
            WIN_DSM => self.cmd_data_set_management(tf),
            WIN_VERIFY | WIN_VERIFY_ONCE => self.cmd_verify(tf, false),
            WIN_VERIFY_EXT => self.cmd_verify(tf, true),
            WIN_READ_NATIVE_MAX => self.cmd_read_native_max(tf, false),
            WIN_READ_NATIVE_MAX_EXT => self.cmd_read_native_max(tf, true),
            WIN_DIAGNOSE => diagnose(tf, false),
            WIN_SPECIFY => self.cmd_specify(ctx, tf),
            WIN_SMART => self.cmd_smart(tf),
            WIN_SETMULT => self.cmd_set_multiple(tf),
            WIN_IDENTIFY => self.cmd_identify(tf),
            WIN_SETFEATURES => self.core.set_features(tf),
            // Nothing is cached: a flush completes at once (QEMU's finishes before the guest's
            // next access in every capture).
            WIN_FLUSH_CACHE | WIN_FLUSH_CACHE_EXT => complete(tf, STATUS_READY),
            // SECTOR COUNT 0xFF: active or idle (the disk never spins down). The CD-ROM aborts
            // it, as QEMU's command table has it.
            WIN_CHECKPOWERMODE1 | WIN_CHECKPOWERMODE2 => {
                tf.nsector = 0xff;
                complete(tf, STATUS_READY)
            }
            WIN_STANDBYNOW1..=WIN_IDLE | WIN_SLEEPNOW1 | WIN_STANDBYNOW2..=WIN_SLEEPNOW2 => {
                complete(tf, STATUS_DRDY)
            }
            // NOP, DEVICE RESET, PACKET, IDENTIFY PACKET DEVICE and everything else.
            _ => Action::Fail(ERROR_ABRT),
        }
    }

    /// The PIO window has moved its last byte.
    pub(super) fn pio_done(&mut self, tf: &mut Taskfile) -> Action {
        match self.core.pio.after {
            AfterPio::ReadNext => self.pio_read_next(tf),
            AfterPio::WriteBlock => {
                // A block past the end of the disk aborts at once (QEMU checks the range
                // before it submits the write).
                if !self.block_in_range(tf) {
                    return Action::Fail(ERROR_ABRT);
                }
                tf.status = STATUS_READY | STATUS_BSY;
                Action::Defer(Deferred::PioWrite)
            }
            _ => Action::Done,
        }
    }

    /// The request latency has passed.
    pub(super) fn deferred(&mut self, tf: &mut Taskfile, op: Deferred) -> Action {
        match op {
            Deferred::PioRead => self.pio_read_block(tf),
            Deferred::PioWrite => self.pio_write_commit(tf),
            Deferred::CdRead => Action::Done,
        }
    }

    /// The sector address in the registers, for the running command.
    fn command_sector(&self, tf: &Taskfile) -> u64 {
        tf.sector_address(self.lba48, self.translation)
    }

    /// `n` sectors of the running command are done: the registers show the next address and
    /// the sectors left.
    fn advance_sectors(&mut self, tf: &mut Taskfile, lba: u64, n: u32) {
        self.remaining = self.remaining.saturating_sub(n);
        // A CHS address with sector 0 is sector -1 (QEMU's int64 `sector_num`), and a TRIM
        // never checks the address in the registers: wrap as QEMU's `sector_num + n` does.
        tf.set_sector_address(lba.wrapping_add(u64::from(n)), self.lba48, self.translation);
        tf.set_sector_count(self.remaining, self.lba48);
    }

    /// Whether the next PIO block (its block size, at most the sectors left) lies on the disk
    /// (QEMU's `ide_sect_range_ok` before each block).
    fn block_in_range(&self, tf: &Taskfile) -> bool {
        self.range_ok(tf, self.req_sectors.min(self.remaining))
    }

    /// Whether all the remaining sectors lie on the disk (a DMA request).
    pub(super) fn request_in_range(&self, tf: &Taskfile) -> bool {
        self.range_ok(tf, self.remaining)
    }

    fn range_ok(&self, tf: &Taskfile, n: u32) -> bool {
        let lba = self.command_sector(tf);
        let total = self.disk.sectors();
        lba <= total && u64::from(n) <= total - lba
    }

    /// Set up a PIO transfer of the command's sectors, in blocks of one sector or (for the
    /// MULTIPLE commands) of the SET MULTIPLE MODE size; false (abort) for a MULTIPLE command
    /// while that mode is off.
    fn start_pio(&mut self, tf: &Taskfile, lba48: bool, multiple: bool) -> bool {
        if multiple && self.mult_sectors == 0 {
            return false;
        }
        self.lba48 = lba48;
        self.remaining = tf.sector_count(lba48);
        self.req_sectors = if multiple {
            u32::from(self.mult_sectors)
        } else {
            1
        };
        true
    }

    /// READ SECTORS (EXT) / READ MULTIPLE (EXT): BSY while the first block is read.
    fn cmd_read_pio(&mut self, tf: &mut Taskfile, lba48: bool, multiple: bool) -> Action {
        if !self.start_pio(tf, lba48, multiple) {
            return Action::Fail(ERROR_ABRT);
        }
        self.read_block(tf)
    }

    /// Start reading the next PIO block: BSY until it is in, or an abort at once if it is past
    /// the end of the disk (QEMU's `ide_sector_read`).
    fn read_block(&mut self, tf: &mut Taskfile) -> Action {
        tf.error = 0;
        if !self.block_in_range(tf) {
            return Action::Fail(ERROR_ABRT);
        }
        tf.status = STATUS_READY | STATUS_BSY;
        Action::Defer(Deferred::PioRead)
    }

    /// Move the command's next PIO block between the disk and the PIO buffer (`write`: to the
    /// disk), checked against the disk first and traced as QEMU's block layer does: its first
    /// sector and sector count, or the failure.
    fn pio_block_io(&mut self, tf: &Taskfile, write: bool) -> Result<(u64, u32), Action> {
        let lba = self.command_sector(tf);
        let n = self.req_sectors.min(self.remaining);
        let fail = |e| Action::Fail(error_bits(e));
        self.disk.check(lba, u64::from(n), write).map_err(fail)?;
        tracing::trace!(target: "dma_blk_io", "offset {:#x} sectors {n} to_dev {write}", lba * SECTOR_SIZE as u64);
        let buf = self.core.io.upto(n as usize * SECTOR_SIZE);
        if write {
            self.disk.write_run(lba, buf)
        } else {
            self.disk.read_run(lba, buf)
        }
        .map_err(fail)?;
        Ok((lba, n))
    }

    /// A PIO read block is in: DRQ and an interrupt, or an error.
    fn pio_read_block(&mut self, tf: &mut Taskfile) -> Action {
        let (lba, n) = match self.pio_block_io(tf, false) {
            Ok(block) => block,
            Err(fail) => return fail,
        };
        self.core
            .pio_start(Dir::In, 0, n as usize * SECTOR_SIZE, AfterPio::ReadNext);
        self.advance_sectors(tf, lba, n);
        tf.status = STATUS_READY | STATUS_DRQ;
        Action::Interrupt
    }

    /// The guest has read a PIO block: the next one, or the end of the command.
    fn pio_read_next(&mut self, tf: &mut Taskfile) -> Action {
        if self.remaining == 0 {
            tf.status = STATUS_READY;
            Action::Done
        } else {
            self.read_block(tf)
        }
    }

    /// WRITE SECTORS (EXT) / WRITE MULTIPLE (EXT): DRQ at once, no interrupt.
    fn cmd_write_pio(&mut self, tf: &mut Taskfile, lba48: bool, multiple: bool) -> Action {
        if !self.start_pio(tf, lba48, multiple) {
            return Action::Fail(ERROR_ABRT);
        }
        let n = self.req_sectors.min(self.remaining) as usize;
        self.core
            .pio_start(Dir::Out, 0, n * SECTOR_SIZE, AfterPio::WriteBlock);
        tf.status = STATUS_READY | STATUS_DRQ;
        Action::Done
    }

    /// A PIO write block has been committed (or failed): interrupt, then DRQ for the next.
    fn pio_write_commit(&mut self, tf: &mut Taskfile) -> Action {
        let (lba, n) = match self.pio_block_io(tf, true) {
            Ok(block) => block,
            Err(fail) => return fail,
        };
        self.advance_sectors(tf, lba, n);
        if self.remaining == 0 {
            tf.status = STATUS_READY;
        } else {
            let next = self.req_sectors.min(self.remaining) as usize;
            self.core
                .pio_start(Dir::Out, 0, next * SECTOR_SIZE, AfterPio::WriteBlock);
            tf.status = STATUS_READY | STATUS_DRQ;
        }
        Action::Interrupt
    }

    /// READ DMA (EXT) / WRITE DMA (EXT): DRQ until the bus master runs the transfer.
    fn cmd_dma(&mut self, tf: &mut Taskfile, write: bool, lba48: bool) -> Action {
        self.lba48 = lba48;
        self.remaining = tf.sector_count(lba48);
        Action::Dma(DmaKind::Ata { write })
    }

    /// DATA SET MANAGEMENT: TRIM takes its range entries by DMA, SECTOR COUNT 512-byte blocks
    /// of them (the 8-bit count as written: 0 is none; LBA48 is not re-read, as in QEMU).
    fn cmd_data_set_management(&mut self, tf: &mut Taskfile) -> Action {
        if tf.feature != DSM_TRIM {
            return Action::Fail(ERROR_ABRT);
        }
        self.remaining = u32::from(tf.nsector);
        Action::Dma(DmaKind::Trim)
    }

    /// READ VERIFY SECTORS (EXT): accepted as is, with no range check and no medium access
    /// (QEMU: "do sector number check ?").
    fn cmd_verify(&mut self, tf: &mut Taskfile, lba48: bool) -> Action {
        self.lba48 = lba48;
        complete(tf, STATUS_READY)
    }

    /// READ NATIVE MAX ADDRESS (EXT): the last sector's address in the taskfile.
    fn cmd_read_native_max(&mut self, tf: &mut Taskfile, lba48: bool) -> Action {
        let total = self.disk.sectors();
        if total == 0 {
            return Action::Fail(ERROR_ABRT);
        }
        self.lba48 = lba48;
        tf.set_sector_address(total - 1, lba48, self.translation);
        complete(tf, STATUS_READY)
    }

    /// INITIALIZE DEVICE PARAMETERS: the CHS translation becomes SECTOR COUNT sectors per
    /// track and DEVICE bits 3:0 + 1 heads. A zero sector count is refused.
    fn cmd_specify(&mut self, ctx: &mut dyn Context, tf: &mut Taskfile) -> Action {
        let sectors = u32::from(tf.nsector);
        let heads = u32::from(tf.select & DEV_HEAD) + 1;
        let zero_bug = self.core.planted.active(CHS_ZERO_GEOMETRY);
        if let Some(bug) = zero_bug {
            bug.reached(ctx);
        }
        if sectors == 0 {
            let Some(bug) = zero_bug else {
                return Action::Fail(ERROR_ABRT);
            };
            // PLANTED `ide-chs-zero-geometry` (Morphuzz: FPE in `ide_set_sector`): the zero
            // sector count is taken, and the next CHS command divides by it.
            bug.triggered(ctx);
        }
        let per_cylinder = u64::from(heads * sectors);
        let cylinders = self
            .disk
            .sectors()
            .checked_div(per_cylinder)
            .unwrap_or(0)
            .min(65535) as u32;
        self.translation = Chs {
            cylinders,
            heads,
            sectors,
        };
        complete(tf, STATUS_READY)
    }

    /// SET MULTIPLE MODE: a power of two up to 16 sectors per block (0 disables).
    fn cmd_set_multiple(&mut self, tf: &mut Taskfile) -> Action {
        let n = tf.nsector;
        if n > MAX_MULT_SECTORS || n & n.wrapping_sub(1) != 0 {
            return Action::Fail(ERROR_ABRT);
        }
        self.mult_sectors = n;
        complete(tf, STATUS_READY)
    }

    /// IDENTIFY DEVICE: 256 words, built the first time and kept (QEMU's `identify_set`).
    fn cmd_identify(&mut self, tf: &mut Taskfile) -> Action {
        if self.core.identify.is_none() {
            self.core.identify = Some(Box::new(self.identify_words()));
        }
        if let Some(words) = &self.core.identify {
            put_words(self.core.io.upto(2 * words.len()), words);
        }
        self.core.send_block(tf, SECTOR_SIZE)
    }

    /// SMART: needs the signature in LBA Mid/High, and SMART enabled for all but ENABLE
    /// (QEMU's `cmd_smart`; the drive never reports a threshold exceeded).
    fn cmd_smart(&mut self, tf: &mut Taskfile) -> Action {
        if tf.lcyl != SMART_LCYL
            || tf.hcyl != SMART_HCYL
            || (!self.smart_enabled && tf.feature != SMART_ENABLE)
        {
            return Action::Fail(ERROR_ABRT);
        }
        let buf = self.core.io.upto(SECTOR_SIZE);
        match tf.feature {
            SMART_ENABLE => self.smart_enabled = true,
            SMART_DISABLE => self.smart_enabled = false,
            SMART_ATTR_AUTOSAVE => match tf.sector {
                0x00 => self.smart_autosave = false,
                0xf1 => self.smart_autosave = true,
                _ => return Action::Fail(ERROR_ABRT),
            },
            // No threshold exceeded: LBA Mid/High keep 0x4F/0xC2.
            SMART_STATUS => {}
            SMART_IMMEDIATE_OFFLINE => match tf.sector {
                // Off-line routine, short and extended self-test: logged as passed.
                0..=2 => {
                    self.selftests = self.selftests % SMART_SELFTESTS as u8 + 1;
                    self.selftest_kinds[usize::from(self.selftests - 1)] = Some(tf.sector);
                }
                _ => return Action::Fail(ERROR_ABRT),
            },
            SMART_READ_DATA => {
                smart_data(buf, self.smart_autosave);
                return self.core.send_block(tf, SECTOR_SIZE);
            }
            SMART_READ_THRESHOLDS => {
                smart_thresholds(buf);
                return self.core.send_block(tf, SECTOR_SIZE);
            }
            SMART_READ_LOG => {
                buf.fill(0);
                buf[0] = 0x01;
                match tf.sector {
                    // Summary error log: no errors.
                    0x01 => {}
                    // Self-test log.
                    0x06 => {
                        for (i, kind) in self.selftest_kinds.iter().enumerate() {
                            if let Some(kind) = *kind {
                                // Passed, at power-on hour 0x1234.
                                buf[2 + 24 * i..6 + 24 * i].copy_from_slice(&[kind, 0, 0x34, 0x12]);
                            }
                        }
                        buf[508] = self.selftests;
                    }
                    _ => return Action::Fail(ERROR_ABRT),
                }
                smart_checksum(buf);
                return self.core.send_block(tf, SECTOR_SIZE);
            }
            _ => return Action::Fail(ERROR_ABRT),
        }
        complete(tf, STATUS_READY)
    }

    // ---- DMA data phase ------------------------------------------------------------------

    /// Bytes per sector, and bytes wanted for the next step, of a transfer.
    pub(super) fn dma_step(&self) -> (u64, u64) {
        (
            SECTOR_SIZE as u64,
            u64::from(self.remaining) * SECTOR_SIZE as u64,
        )
    }

    /// Move the bytes `segs` describe for `kind`. Requests are checked before any data moves.
    pub(super) fn dma_transfer(
        &mut self,
        ctx: &mut dyn Context,
        tf: &Taskfile,
        kind: DmaKind,
        segs: &Segments,
    ) -> Result<(), IoError> {
        let bytes = segs.total;
        let lba = self.command_sector(tf);
        let mut cursor = Cursor::new(segs);
        match kind {
            DmaKind::Ata { write } => {
                let count = bytes.div_ceil(SECTOR_SIZE as u64);
                self.disk.check(lba, count, write)?;
                tracing::trace!(
                    target: "dma_blk_io",
                    "offset {:#x} bytes {bytes} to_dev {write}",
                    lba * SECTOR_SIZE as u64
                );
                // Runs of up to 64 KiB: each is one backend call and one DMA call per PRD
                // entry it spans; a run the disk holds nothing for moves from a static block
                // of zeros, without a buffer.
                let mut done = 0u64;
                while done < bytes {
                    ctx.work(1);
                    let len = ((bytes - done) as usize).min(DMA_CHUNK_BYTES);
                    let first = lba + done / SECTOR_SIZE as u64;
                    if write {
                        // The segments cover `bytes`: the cursor writes every byte of the
                        // chunk, except memory nothing wrote, which the mask names by
                        // sector (a 64 KiB chunk has 128) and nothing copies or scans.
                        let (chunk, known_zero) = self
                            .scratch
                            .gather_sparse(len, |buf, zeros| cursor.get_sparse(ctx, buf, zeros));
                        // A partial last sector (only the planted partial-table path) is not
                        // written.
                        let whole = len / SECTOR_SIZE;
                        let every = u128::MAX
                            .checked_shr(u128::BITS - whole as u32)
                            .unwrap_or(0);
                        if known_zero == every {
                            self.disk.write_zeros(first, whole as u64)?;
                        } else {
                            self.disk.write_run_sparse(first, chunk, known_zero)?;
                        }
                    } else if self
                        .disk
                        .reads_zeros(first, len.div_ceil(SECTOR_SIZE) as u64)
                    {
                        cursor.put(ctx, &ZEROS[..len]);
                    } else {
                        // `read_run` fills the whole chunk or fails.
                        let chunk = self.scratch.take(len);
                        self.disk.read_run(first, chunk)?;
                        cursor.put(ctx, chunk);
                    }
                    done += len as u64;
                    cursor.budget_check()?;
                }
            }
            DmaKind::Trim => {
                // DATA SET MANAGEMENT / TRIM: 8-byte entries of a 48-bit LBA and a 16-bit
                // count. Every range must be on the disk; the data stays (QEMU's default
                // `discard=ignore`).
                let mut entries = vec![0u8; bytes as usize];
                cursor.get(ctx, &mut entries);
                for entry in entries.chunks_exact(8) {
                    let entry = u64::from_le_bytes(entry.try_into().unwrap_or_default());
                    let (first, count) = (entry & 0xffff_ffff_ffff, entry >> 48);
                    let total = self.disk.sectors();
                    if count != 0 && (first > total || count > total - first) {
                        return Err(IoError::Io);
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// `sectors` of the transfer moved; returns whether the transfer is complete.
    pub(super) fn dma_advance(&mut self, tf: &mut Taskfile, sectors: u32) -> bool {
        let lba = self.command_sector(tf);
        self.advance_sectors(tf, lba, sectors);
        self.remaining == 0
    }

    /// The IDENTIFY DEVICE block (ATA/ATAPI-7 §6.17, QEMU's values).
    fn identify_words(&self) -> [u16; 256] {
        let mut w = [0u16; 256];
        let total = self.disk.sectors();
        let g = self.geometry;
        let t = self.translation;
        w[0] = 0x0040; // fixed device
        w[1] = g.cylinders as u16;
        w[3] = g.heads as u16;
        w[4] = (SECTOR_SIZE as u32 * g.sectors) as u16; // retired: bytes per track
        w[5] = SECTOR_SIZE as u16; // retired: bytes per sector
        w[6] = g.sectors as u16;
        put_string(&mut w[10..20], &serial(self.core.number));
        w[20] = 3; // buffer type
        w[21] = 512; // buffer size in sectors
        w[22] = 4; // ECC bytes
        put_string(&mut w[23..27], FIRMWARE_REVISION.as_bytes());
        put_string(&mut w[27..47], DISK_MODEL.as_bytes());
        w[47] = 0x8000 | u16::from(MAX_MULT_SECTORS);
        w[48] = 1; // dword I/O
        w[49] = (1 << 11) | (1 << 9) | (1 << 8); // IORDY, LBA, DMA
        w[51] = 0x200; // PIO timing
        w[52] = 0x200; // DMA timing
        w[53] = 1 | 2 | 4; // words 54-58, 64-70 and 88 valid
        let current = u64::from(t.cylinders) * u64::from(t.heads) * u64::from(t.sectors);
        w[54] = t.cylinders as u16;
        w[55] = t.heads as u16;
        w[56] = t.sectors as u16;
        w[57] = current as u16;
        w[58] = (current >> 16) as u16;
        if self.mult_sectors != 0 {
            w[59] = 0x100 | u16::from(self.mult_sectors);
        }
        let lba28 = total.min(LBA28_MAX_SECTORS);
        w[60] = lba28 as u16;
        w[61] = (lba28 >> 16) as u16;
        // SW/MW DMA 0-2 and UDMA 0-5 supported, UDMA 5 selected (SET FEATURES updates them).
        (w[62], w[63], w[88]) = (0x07, 0x07, 0x203f);
        w[64] = 0x03; // PIO 3-4
        w[65] = 120; // multiword DMA cycle times (ns)
        w[66] = 120;
        w[67] = 120; // PIO cycle times
        w[68] = 120;
        w[69] = 1 << 14; // deterministic read after TRIM
        w[80] = 0xf0; // ATA-4 to ATA-7
        w[81] = 0x16;
        w[82] = (1 << 14) | (1 << 5) | 1; // NOP, write cache, SMART supported
        w[83] = (1 << 14) | (1 << 13) | (1 << 12) | (1 << 10); // FLUSH CACHE (EXT), LBA48
        w[84] = 1 << 14;
        w[85] = (1 << 14) | u16::from(self.core.write_cache) << 5 | 1; // NOP, write cache, SMART enabled
        w[86] = (1 << 13) | (1 << 12) | (1 << 10);
        w[87] = 1 << 14;
        w[93] = 1 | (1 << 14) | 0x2000; // hardware reset result: device 0 passed
        w[100] = total as u16;
        w[101] = (total >> 16) as u16;
        w[102] = (total >> 32) as u16;
        w[103] = (total >> 48) as u16;
        w[106] = 0x6000; // physical sector size is logical (512)
        w[169] = 1; // DATA SET MANAGEMENT / TRIM supported
        w
    }
}

/// QEMU's SMART attributes: id, flags (2 bytes), value, worst, raw value (6 bytes), threshold.
const SMART_ATTRIBUTES: [[u8; 12]; 7] = [
    [
        0x01, 0x03, 0x00, 0x64, 0x64, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x06,
    ], // raw read errors
    [
        0x03, 0x03, 0x00, 0x64, 0x64, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ], // spin up
    [
        0x04, 0x02, 0x00, 0x64, 0x64, 0x64, 0x00, 0x00, 0x00, 0x00, 0x00, 0x14,
    ], // start stop count
    [
        0x05, 0x03, 0x00, 0x64, 0x64, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x24,
    ], // remapped sectors
    [
        0x09, 0x03, 0x00, 0x64, 0x64, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ], // power-on hours
    [
        0x0c, 0x03, 0x00, 0x64, 0x64, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ], // power cycles
    [
        190, 0x03, 0x00, 0x45, 0x45, 0x1f, 0x00, 0x1f, 0x1f, 0x00, 0x00, 0x32,
    ], // airflow temperature
];

/// SMART READ DATA: the attributes and the off-line / self-test capabilities, checksummed.
fn smart_data(buf: &mut [u8], autosave: bool) {
    buf.fill(0);
    buf[0] = 0x01; // structure revision
    for (i, attr) in SMART_ATTRIBUTES.iter().enumerate() {
        buf[2 + 12 * i..2 + 12 * i + 11].copy_from_slice(&attr[..11]);
    }
    buf[362] = 0x02 | if autosave { 0x80 } else { 0 }; // off-line collection status
    buf[364] = 0x20; // off-line collection time (seconds)
    buf[365] = 0x01;
    buf[367] = 0x19; // off-line capabilities: execute, self-test
    buf[368] = 0x03; // SMART capabilities: saves data across power cycles
    buf[370] = 0x01; // error logging supported
    buf[372] = 0x02; // short self-test polling time (minutes)
    buf[373] = 0x36; // extended self-test polling time
    buf[374] = 0x01; // conveyance self-test polling time
    smart_checksum(buf);
}

/// SMART READ THRESHOLDS: each attribute's id and threshold, checksummed.
fn smart_thresholds(buf: &mut [u8]) {
    buf.fill(0);
    buf[0] = 0x01;
    for (i, attr) in SMART_ATTRIBUTES.iter().enumerate() {
        buf[2 + 12 * i] = attr[0];
        buf[3 + 12 * i] = attr[11];
    }
    smart_checksum(buf);
}

/// The last byte of a SMART block makes its bytes sum to 0.
fn smart_checksum(buf: &mut [u8]) {
    let sum = buf[..SECTOR_SIZE - 1]
        .iter()
        .fold(0u8, |s, b| s.wrapping_add(*b));
    buf[SECTOR_SIZE - 1] = 0u8.wrapping_sub(sum);
}
