//! The ATA command set of the hard disk (facts §3.3), and what it shares with the CD-ROM
//! (SET FEATURES, the power-management commands, the IDENTIFY strings).

use super::CHS_ZERO_GEOMETRY;
use super::backend::SECTOR_SIZE;
use super::channel::{
    AfterPio, Channel, Chs, Dir, DmaKind, Drive, IO_BUFFER_SIZE, MAX_MULT_SECTORS, Media, Pending,
    SMART_SELFTESTS, STATUS_BSY, STATUS_DRDY, STATUS_DRQ, STATUS_READY,
};
use harness::device::Context;

// Commands (ATA/ATAPI-7 names).
const WIN_DSM: u8 = 0x06; // DATA SET MANAGEMENT
/// DATA SET MANAGEMENT FEATURES: TRIM.
const DSM_TRIM: u8 = 0x01;
const WIN_RECAL: u8 = 0x10; // RECALIBRATE
pub(super) const WIN_READ: u8 = 0x20; // READ SECTORS
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
pub(super) const WIN_DIAGNOSE: u8 = 0x90; // EXECUTE DEVICE DIAGNOSTIC
const WIN_SPECIFY: u8 = 0x91; // INITIALIZE DEVICE PARAMETERS
pub(super) const WIN_STANDBYNOW2: u8 = 0x94; // STANDBY IMMEDIATE (old code)
pub(super) const WIN_SLEEPNOW2: u8 = 0x99; // SLEEP (old code)
pub(super) const WIN_CHECKPOWERMODE2: u8 = 0x98; // CHECK POWER MODE (old code)
const WIN_SMART: u8 = 0xb0; // SMART
const WIN_MULTREAD: u8 = 0xc4; // READ MULTIPLE
const WIN_MULTWRITE: u8 = 0xc5; // WRITE MULTIPLE
const WIN_SETMULT: u8 = 0xc6; // SET MULTIPLE MODE
const WIN_READDMA: u8 = 0xc8; // READ DMA
const WIN_READDMA_ONCE: u8 = 0xc9; // READ DMA without retry
const WIN_WRITEDMA: u8 = 0xca; // WRITE DMA
const WIN_WRITEDMA_ONCE: u8 = 0xcb; // WRITE DMA without retry
pub(super) const WIN_STANDBYNOW1: u8 = 0xe0; // STANDBY IMMEDIATE
pub(super) const WIN_IDLE: u8 = 0xe3; // IDLE (0xE1 IDLE IMMEDIATE, 0xE2 STANDBY)
pub(super) const WIN_CHECKPOWERMODE1: u8 = 0xe5; // CHECK POWER MODE
pub(super) const WIN_SLEEPNOW1: u8 = 0xe6; // SLEEP
pub(super) const WIN_FLUSH_CACHE: u8 = 0xe7; // FLUSH CACHE
pub(super) const WIN_IDENTIFY: u8 = 0xec; // IDENTIFY DEVICE
pub(super) const WIN_FLUSH_CACHE_EXT: u8 = 0xea; // FLUSH CACHE EXT
pub(super) const WIN_SETFEATURES: u8 = 0xef; // SET FEATURES
const WIN_SECURITY_FREEZE_LOCK: u8 = 0xf5; // SECURITY FREEZE LOCK (CFA WEAR LEVEL)
const WIN_READ_NATIVE_MAX: u8 = 0xf8; // READ NATIVE MAX ADDRESS

// SET FEATURES subcommands (FEATURES register).
const SETFEATURES_EN_WCACHE: u8 = 0x02; // enable write cache
const SETFEATURES_XFER: u8 = 0x03; // set transfer mode (SECTOR COUNT = mode)
const SETFEATURES_EN_APM: u8 = 0x05; // enable advanced power management
const SETFEATURES_EN_AAM: u8 = 0x42; // enable automatic acoustic management
const SETFEATURES_DIS_RLA: u8 = 0x55; // disable read look-ahead
const SETFEATURES_DIS_DEFAULTS: u8 = 0x66; // keep settings over software reset
const SETFEATURES_DIS_WCACHE: u8 = 0x82; // disable write cache
const SETFEATURES_DIS_APM: u8 = 0x85; // disable APM
const SETFEATURES_EN_RLA: u8 = 0xaa; // enable read look-ahead
const SETFEATURES_DIS_AAM: u8 = 0xc2; // disable AAM
const SETFEATURES_EN_DEFAULTS: u8 = 0xcc; // revert to defaults over software reset
/// Subcommands QEMU also accepts and ignores (vendor/obsolete settings).
const SETFEATURES_IGNORED: [u8; 4] = [0x67, 0x69, 0x96, 0x9a];
// Transfer mode classes (SECTOR COUNT bits 7:3 of SET TRANSFER MODE).
const XFER_PIO_DEFAULT: u8 = 0x00;
const XFER_PIO: u8 = 0x01;
const XFER_SW_DMA: u8 = 0x02;
const XFER_MW_DMA: u8 = 0x04;
const XFER_UDMA: u8 = 0x08;

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
/// Firmware revision in IDENTIFY (QEMU's hardware version string).
pub(super) const FIRMWARE_REVISION: &str = "2.5+";
const DISK_MODEL: &str = "QEMU HARDDISK";
/// LBA28 addresses at most 2^28 - 1 sectors.
const LBA28_MAX_SECTORS: u64 = (1 << 28) - 1;

impl Channel {
    /// An ATA command to the disk of unit `u` (status is DRDY|BSY, error 0 on entry).
    pub(super) fn ata_command(&mut self, ctx: &mut dyn Context, u: usize, cmd: u8) {
        match cmd {
            WIN_RECAL | WIN_SEEK => self.complete(ctx, u, STATUS_READY),
            WIN_SECURITY_FREEZE_LOCK => {
                // QEMU takes it for CFA WEAR LEVEL: the sector count reads 0.
                self.units[u].tf.nsector = 0;
                self.complete(ctx, u, STATUS_READY);
            }
            WIN_READ | WIN_READ_ONCE => self.cmd_read_pio(ctx, u, false, false),
            WIN_READ_EXT => self.cmd_read_pio(ctx, u, true, false),
            WIN_MULTREAD => self.cmd_read_pio(ctx, u, false, true),
            WIN_MULTREAD_EXT => self.cmd_read_pio(ctx, u, true, true),
            WIN_WRITE | WIN_WRITE_ONCE | WIN_WRITE_VERIFY => {
                self.cmd_write_pio(ctx, u, false, false)
            }
            WIN_WRITE_EXT => self.cmd_write_pio(ctx, u, true, false),
            WIN_MULTWRITE => self.cmd_write_pio(ctx, u, false, true),
            WIN_MULTWRITE_EXT => self.cmd_write_pio(ctx, u, true, true),
            WIN_READDMA | WIN_READDMA_ONCE => self.cmd_dma(ctx, u, false, false),
            WIN_READDMA_EXT => self.cmd_dma(ctx, u, false, true),
            WIN_WRITEDMA | WIN_WRITEDMA_ONCE => self.cmd_dma(ctx, u, true, false),
            WIN_WRITEDMA_EXT => self.cmd_dma(ctx, u, true, true),
            WIN_DSM => self.cmd_data_set_management(ctx, u),
            WIN_VERIFY | WIN_VERIFY_ONCE => self.cmd_verify(ctx, u, false),
            WIN_VERIFY_EXT => self.cmd_verify(ctx, u, true),
            WIN_READ_NATIVE_MAX => self.cmd_read_native_max(ctx, u, false),
            WIN_READ_NATIVE_MAX_EXT => self.cmd_read_native_max(ctx, u, true),
            WIN_DIAGNOSE => self.cmd_diagnose(ctx, u),
            WIN_SPECIFY => self.cmd_specify(ctx, u),
            WIN_SMART => self.cmd_smart(ctx, u),
            WIN_SETMULT => self.cmd_set_multiple(ctx, u),
            WIN_IDENTIFY => self.cmd_identify(ctx, u),
            WIN_SETFEATURES => self.cmd_set_features(ctx, u),
            // Nothing is cached: a flush completes at once (QEMU's finishes before the guest's
            // next access in every capture).
            WIN_FLUSH_CACHE | WIN_FLUSH_CACHE_EXT => self.complete(ctx, u, STATUS_READY),
            WIN_CHECKPOWERMODE1 | WIN_CHECKPOWERMODE2 => self.cmd_check_power_mode(ctx, u),
            WIN_STANDBYNOW1..=WIN_IDLE | WIN_SLEEPNOW1 | WIN_STANDBYNOW2..=WIN_SLEEPNOW2 => {
                self.complete(ctx, u, STATUS_DRDY)
            }
            // NOP, DEVICE RESET, PACKET, IDENTIFY PACKET DEVICE and everything else.
            _ => self.abort(ctx, u),
        }
    }

    /// The disk of unit `u`, with its drive.
    fn disk(&mut self, u: usize) -> Option<&mut Drive> {
        self.units[u].drive.as_mut().filter(|d| !d.is_cd())
    }

    /// READ SECTORS (EXT) / READ MULTIPLE (EXT): BSY while the first block is read.
    fn cmd_read_pio(&mut self, ctx: &mut dyn Context, u: usize, lba48: bool, multiple: bool) {
        let count = self.units[u].tf.sector_count(lba48);
        let Some(d) = self.disk(u) else { return };
        if multiple && d.mult_sectors == 0 {
            return self.abort(ctx, u);
        }
        d.lba48 = lba48;
        d.remaining = count;
        d.req_sectors = if multiple {
            u32::from(d.mult_sectors)
        } else {
            1
        };
        self.read_block(ctx, u);
    }

    /// Start reading the next PIO block: BSY until it is in, or an abort at once if it is past
    /// the end of the disk (QEMU's `ide_sector_read`).
    fn read_block(&mut self, ctx: &mut dyn Context, u: usize) {
        self.units[u].tf.error = 0;
        if !self.block_in_range(u) {
            return self.abort(ctx, u);
        }
        self.units[u].tf.status = STATUS_READY | STATUS_BSY;
        self.schedule(ctx, u, Pending::PioRead);
    }

    /// A PIO read block is in: DRQ and an interrupt, or an error.
    pub(super) fn pio_read_block(&mut self, ctx: &mut dyn Context, u: usize) {
        let lba = self.command_sector(u);
        let Some(d) = self.disk(u) else { return };
        let n = d.req_sectors.min(d.remaining);
        let Media::Disk(ds) = &mut d.media else {
            return;
        };
        if let Err(e) = ds.disk.check(lba, u64::from(n), false) {
            return self.fail(ctx, u, Self::error_bits(e));
        }
        tracing::trace!(target: "dma_blk_io", "offset {:#x} sectors {n} to_dev false", lba * SECTOR_SIZE as u64);
        for (i, sector) in d.io[..n as usize * SECTOR_SIZE]
            .chunks_mut(SECTOR_SIZE)
            .enumerate()
        {
            if let Err(e) = ds.disk.read(lba + i as u64, sector) {
                return self.fail(ctx, u, Self::error_bits(e));
            }
        }
        d.pio_start(Dir::In, 0, n as usize * SECTOR_SIZE, AfterPio::ReadNext);
        self.advance_sectors(u, lba, n);
        self.units[u].tf.status = STATUS_READY | STATUS_DRQ;
        self.raise_irq(ctx);
    }

    /// The guest has read a PIO block: the next one, or the end of the command.
    pub(super) fn pio_read_next(&mut self, ctx: &mut dyn Context, u: usize) {
        let remaining = self.disk(u).map_or(0, |d| d.remaining);
        if remaining == 0 {
            self.units[u].tf.status = STATUS_READY;
        } else {
            self.read_block(ctx, u);
        }
    }

    /// WRITE SECTORS (EXT) / WRITE MULTIPLE (EXT): DRQ at once, no interrupt.
    fn cmd_write_pio(&mut self, ctx: &mut dyn Context, u: usize, lba48: bool, multiple: bool) {
        let count = self.units[u].tf.sector_count(lba48);
        let Some(d) = self.disk(u) else { return };
        if multiple && d.mult_sectors == 0 {
            return self.abort(ctx, u);
        }
        d.lba48 = lba48;
        d.remaining = count;
        d.req_sectors = if multiple {
            u32::from(d.mult_sectors)
        } else {
            1
        };
        let n = d.req_sectors.min(d.remaining) as usize;
        d.pio_start(Dir::Out, 0, n * SECTOR_SIZE, AfterPio::WriteBlock);
        self.units[u].tf.status = STATUS_READY | STATUS_DRQ;
    }

    /// A PIO write block has been committed (or failed): interrupt, then DRQ for the next.
    pub(super) fn pio_write_commit(&mut self, ctx: &mut dyn Context, u: usize) {
        let lba = self.command_sector(u);
        let Some(d) = self.disk(u) else { return };
        let n = d.req_sectors.min(d.remaining);
        let Media::Disk(ds) = &mut d.media else {
            return;
        };
        if let Err(e) = ds.disk.check(lba, u64::from(n), true) {
            return self.fail(ctx, u, Self::error_bits(e));
        }
        tracing::trace!(target: "dma_blk_io", "offset {:#x} sectors {n} to_dev true", lba * SECTOR_SIZE as u64);
        for (i, sector) in d.io[..n as usize * SECTOR_SIZE]
            .chunks(SECTOR_SIZE)
            .enumerate()
        {
            if let Err(e) = ds.disk.write(lba + i as u64, sector) {
                return self.fail(ctx, u, Self::error_bits(e));
            }
        }
        self.advance_sectors(u, lba, n);
        let Some(d) = self.disk(u) else { return };
        if d.remaining == 0 {
            self.units[u].tf.status = STATUS_READY;
        } else {
            let next = d.req_sectors.min(d.remaining) as usize;
            d.pio_start(Dir::Out, 0, next * SECTOR_SIZE, AfterPio::WriteBlock);
            self.units[u].tf.status = STATUS_READY | STATUS_DRQ;
        }
        self.raise_irq(ctx);
    }

    /// READ DMA (EXT) / WRITE DMA (EXT): DRQ until the bus master runs the transfer.
    fn cmd_dma(&mut self, ctx: &mut dyn Context, u: usize, write: bool, lba48: bool) {
        let count = self.units[u].tf.sector_count(lba48);
        let Some(d) = self.disk(u) else { return };
        d.lba48 = lba48;
        d.remaining = count;
        self.arm_dma(ctx, u, DmaKind::Ata { write });
    }

    /// DATA SET MANAGEMENT: TRIM takes its range entries by DMA, SECTOR COUNT 512-byte blocks
    /// of them (the 8-bit count as written: 0 is none; LBA48 is not re-read, as in QEMU).
    fn cmd_data_set_management(&mut self, ctx: &mut dyn Context, u: usize) {
        let tf = self.units[u].tf;
        let Some(d) = self.disk(u) else { return };
        if tf.feature != DSM_TRIM {
            return self.abort(ctx, u);
        }
        d.remaining = u32::from(tf.nsector);
        self.arm_dma(ctx, u, DmaKind::Trim);
    }

    /// READ VERIFY SECTORS (EXT): accepted as is, with no range check and no medium access
    /// (QEMU: "do sector number check ?").
    fn cmd_verify(&mut self, ctx: &mut dyn Context, u: usize, lba48: bool) {
        let Some(d) = self.disk(u) else { return };
        d.lba48 = lba48;
        self.complete(ctx, u, STATUS_READY);
    }

    /// READ NATIVE MAX ADDRESS (EXT): the last sector's address in the taskfile.
    fn cmd_read_native_max(&mut self, ctx: &mut dyn Context, u: usize, lba48: bool) {
        let Some(d) = self.disk(u) else { return };
        let Media::Disk(ds) = &d.media else { return };
        let total = ds.disk.sectors();
        if total == 0 {
            return self.abort(ctx, u);
        }
        d.lba48 = lba48;
        let (translation, tf) = (ds.translation, &mut self.units[u].tf);
        tf.set_sector_address(total - 1, lba48, translation);
        self.complete(ctx, u, STATUS_READY);
    }

    /// EXECUTE DEVICE DIAGNOSTIC: the signature and error 0x01; a disk interrupts, a packet
    /// device does not.
    pub(super) fn cmd_diagnose(&mut self, ctx: &mut dyn Context, u: usize) {
        if self.units[u].diagnostic() {
            self.raise_irq(ctx);
        }
    }

    /// INITIALIZE DEVICE PARAMETERS: the CHS translation becomes SECTOR COUNT sectors per
    /// track and DEVICE bits 3:0 + 1 heads. A zero sector count is refused.
    fn cmd_specify(&mut self, ctx: &mut dyn Context, u: usize) {
        let tf = self.units[u].tf;
        let sectors = u32::from(tf.nsector);
        let heads = u32::from(tf.select & super::channel::DEV_HEAD) + 1;
        let zero_bug = self.planted.active(CHS_ZERO_GEOMETRY);
        if let Some(bug) = zero_bug {
            bug.reached(ctx);
        }
        if sectors == 0 {
            let Some(bug) = zero_bug else {
                return self.abort(ctx, u);
            };
            // PLANTED `ide-chs-zero-geometry` (Morphuzz: FPE in `ide_set_sector`): the zero
            // sector count is taken, and the next CHS command divides by it.
            bug.triggered(ctx);
        }
        let Some(Drive {
            media: Media::Disk(ds),
            ..
        }) = self.disk(u)
        else {
            return;
        };
        let per_cylinder = u64::from(heads * sectors);
        let cylinders = ds
            .disk
            .sectors()
            .checked_div(per_cylinder)
            .unwrap_or(0)
            .min(65535) as u32;
        ds.translation = Chs {
            cylinders,
            heads,
            sectors,
        };
        self.complete(ctx, u, STATUS_READY);
    }

    /// SET MULTIPLE MODE: a power of two up to 16 sectors per block (0 disables).
    fn cmd_set_multiple(&mut self, ctx: &mut dyn Context, u: usize) {
        let n = self.units[u].tf.nsector;
        let Some(d) = self.disk(u) else { return };
        if n > MAX_MULT_SECTORS || n & n.wrapping_sub(1) != 0 {
            return self.abort(ctx, u);
        }
        d.mult_sectors = n;
        self.complete(ctx, u, STATUS_READY);
    }

    /// CHECK POWER MODE: SECTOR COUNT 0xFF, active or idle (the drive never spins down).
    pub(super) fn cmd_check_power_mode(&mut self, ctx: &mut dyn Context, u: usize) {
        self.units[u].tf.nsector = 0xff;
        self.complete(ctx, u, STATUS_READY);
    }

    /// Start a PIO transfer of the first `len` bytes of the buffer to the host, with status
    /// DRQ and an interrupt (IDENTIFY, SMART READ DATA).
    pub(super) fn send_block(&mut self, ctx: &mut dyn Context, u: usize, len: usize) {
        let Some(d) = &mut self.units[u].drive else {
            return;
        };
        d.pio_start(Dir::In, 0, len, AfterPio::Stop);
        self.units[u].tf.status = STATUS_READY | STATUS_DRQ;
        self.raise_irq(ctx);
    }

    /// IDENTIFY DEVICE: 256 words, built the first time and kept (QEMU's `identify_set`).
    fn cmd_identify(&mut self, ctx: &mut dyn Context, u: usize) {
        let Some(d) = self.disk(u) else { return };
        if d.identify.is_none() {
            d.identify = Some(Box::new(identify_disk(d)));
        }
        if let Some(words) = &d.identify {
            put_words(&mut d.io[..], words);
        }
        self.send_block(ctx, u, SECTOR_SIZE);
    }

    /// SET FEATURES (both device kinds).
    pub(super) fn cmd_set_features(&mut self, ctx: &mut dyn Context, u: usize) {
        let tf = self.units[u].tf;
        let Some(d) = &mut self.units[u].drive else {
            return;
        };
        match tf.feature {
            SETFEATURES_EN_WCACHE | SETFEATURES_DIS_WCACHE => {
                d.write_cache = tf.feature == SETFEATURES_EN_WCACHE;
                if let Some(w) = &mut d.identify {
                    w[85] = (1 << 14) | u16::from(d.write_cache) << 5 | 1;
                }
            }
            SETFEATURES_XFER => match tf.nsector >> 3 {
                XFER_PIO_DEFAULT | XFER_PIO | XFER_SW_DMA | XFER_MW_DMA | XFER_UDMA => {
                    if let Some(w) = &mut d.identify {
                        (w[62], w[63], w[88]) = dma_mode_words(tf.nsector);
                    }
                }
                _ => return self.abort(ctx, u),
            },
            SETFEATURES_EN_APM
            | SETFEATURES_DIS_APM
            | SETFEATURES_EN_AAM
            | SETFEATURES_DIS_AAM
            | SETFEATURES_EN_RLA
            | SETFEATURES_DIS_RLA
            | SETFEATURES_EN_DEFAULTS
            | SETFEATURES_DIS_DEFAULTS => {}
            f if SETFEATURES_IGNORED.contains(&f) => {}
            _ => return self.abort(ctx, u),
        }
        self.complete(ctx, u, STATUS_READY);
    }

    /// SMART: needs the signature in LBA Mid/High, and SMART enabled for all but ENABLE
    /// (QEMU's `cmd_smart`; the drive never reports a threshold exceeded).
    fn cmd_smart(&mut self, ctx: &mut dyn Context, u: usize) {
        let tf = self.units[u].tf;
        let Some(Drive {
            media: Media::Disk(ds),
            io,
            ..
        }) = self.disk(u)
        else {
            return;
        };
        if tf.lcyl != SMART_LCYL
            || tf.hcyl != SMART_HCYL
            || (!ds.smart_enabled && tf.feature != SMART_ENABLE)
        {
            return self.abort(ctx, u);
        }
        let buf = &mut io[..SECTOR_SIZE];
        match tf.feature {
            SMART_ENABLE => ds.smart_enabled = true,
            SMART_DISABLE => ds.smart_enabled = false,
            SMART_ATTR_AUTOSAVE => match tf.sector {
                0x00 => ds.smart_autosave = false,
                0xf1 => ds.smart_autosave = true,
                _ => return self.abort(ctx, u),
            },
            // No threshold exceeded: LBA Mid/High keep 0x4F/0xC2.
            SMART_STATUS => {}
            SMART_IMMEDIATE_OFFLINE => match tf.sector {
                // Off-line routine, short and extended self-test: logged as passed.
                0..=2 => {
                    ds.selftests = ds.selftests % SMART_SELFTESTS as u8 + 1;
                    ds.selftest_kinds[usize::from(ds.selftests - 1)] = Some(tf.sector);
                }
                _ => return self.abort(ctx, u),
            },
            SMART_READ_DATA => {
                smart_data(buf, ds.smart_autosave);
                return self.send_block(ctx, u, SECTOR_SIZE);
            }
            SMART_READ_THRESHOLDS => {
                smart_thresholds(buf);
                return self.send_block(ctx, u, SECTOR_SIZE);
            }
            SMART_READ_LOG => {
                buf.fill(0);
                buf[0] = 0x01;
                match tf.sector {
                    // Summary error log: no errors.
                    0x01 => {}
                    // Self-test log.
                    0x06 => {
                        for (i, kind) in ds.selftest_kinds.iter().enumerate() {
                            if let Some(kind) = *kind {
                                // Passed, at power-on hour 0x1234.
                                buf[2 + 24 * i..6 + 24 * i].copy_from_slice(&[kind, 0, 0x34, 0x12]);
                            }
                        }
                        buf[508] = ds.selftests;
                    }
                    _ => return self.abort(ctx, u),
                }
                smart_checksum(buf);
                return self.send_block(ctx, u, SECTOR_SIZE);
            }
            _ => return self.abort(ctx, u),
        }
        self.complete(ctx, u, STATUS_READY);
    }
}

/// Store `words` little-endian at the start of `buf`.
pub(super) fn put_words(buf: &mut [u8], words: &[u16; 256]) {
    for (i, w) in words.iter().enumerate() {
        buf[2 * i..2 * i + 2].copy_from_slice(&w.to_le_bytes());
    }
    debug_assert!(buf.len() <= IO_BUFFER_SIZE);
}

/// An ATA string: two characters per word, the first in the high byte, space-padded.
pub(super) fn put_string(words: &mut [u16], text: &[u8]) {
    for (i, w) in words.iter_mut().enumerate() {
        let c = |j: usize| u16::from(text.get(j).copied().unwrap_or(b' '));
        *w = c(2 * i) << 8 | c(2 * i + 1);
    }
}

/// The serial number QEMU gives drive `number`: "QM0000n".
pub(super) fn serial(number: u8) -> [u8; 7] {
    [b'Q', b'M', b'0', b'0', b'0', b'0', b'0' + number % 10]
}

/// IDENTIFY words 62, 63 and 88 for transfer mode `mode` (SET FEATURES 0x03's count): the
/// supported modes (SW/MW DMA 0-2, UDMA 0-5) and the one selected (facts §3.3).
pub(super) fn dma_mode_words(mode: u8) -> (u16, u16, u16) {
    let selected = 1u16 << ((mode & 7) + 8);
    match mode >> 3 {
        XFER_SW_DMA => (0x07 | selected, 0x07, 0x3f),
        XFER_MW_DMA => (0x07, 0x07 | selected, 0x3f),
        XFER_UDMA => (0x07, 0x07, 0x3f | selected),
        _ => (0x07, 0x07, 0x3f),
    }
}

/// The IDENTIFY DEVICE block of a disk (ATA/ATAPI-7 §6.17, QEMU's values).
fn identify_disk(d: &Drive) -> [u16; 256] {
    let mut w = [0u16; 256];
    let Media::Disk(ds) = &d.media else {
        return w;
    };
    let total = ds.disk.sectors();
    let g = ds.geometry;
    let t = ds.translation;
    w[0] = 0x0040; // fixed device
    w[1] = g.cylinders as u16;
    w[3] = g.heads as u16;
    w[4] = (SECTOR_SIZE as u32 * g.sectors) as u16; // retired: bytes per track
    w[5] = SECTOR_SIZE as u16; // retired: bytes per sector
    w[6] = g.sectors as u16;
    put_string(&mut w[10..20], &serial(d.number));
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
    if d.mult_sectors != 0 {
        w[59] = 0x100 | u16::from(d.mult_sectors);
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
    w[85] = (1 << 14) | u16::from(d.write_cache) << 5 | 1; // NOP, write cache, SMART enabled
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
