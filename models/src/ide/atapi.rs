//! The ATAPI CD-ROM: the ATA commands a packet device takes, the PACKET protocol (PIO and DMA
//! data phases, interrupt reason, byte count limit), and the MMC commands a driver uses to find
//! and read a medium, with sense data for errors.

use super::ata::{
    FIRMWARE_REVISION, WIN_CHECKPOWERMODE1, WIN_CHECKPOWERMODE2, WIN_DIAGNOSE, WIN_FLUSH_CACHE,
    WIN_FLUSH_CACHE_EXT, WIN_IDENTIFY, WIN_IDLE, WIN_SETFEATURES, WIN_SLEEPNOW1, WIN_SLEEPNOW2,
    WIN_STANDBYNOW1, WIN_STANDBYNOW2, dma_mode_words, put_string, put_words, serial,
};
use super::backend::{CD_SECTOR_SIZE, Fault, IoError};
use super::channel::{
    AfterPio, CdState, Channel, Dir, DmaKind, Drive, Media, Pending, Pio, STATUS_BSY, STATUS_DRDY,
    STATUS_DRQ, STATUS_ERR, STATUS_READY, Sense,
};
use super::{Bug, planted_reached, planted_triggered};
use harness::device::Context;

// ATA commands specific to packet devices.
pub(super) const WIN_DEVICE_RESET: u8 = 0x08; // DEVICE RESET
const WIN_PACKETCMD: u8 = 0xa0; // PACKET
const WIN_PIDENTIFY: u8 = 0xa1; // IDENTIFY PACKET DEVICE

/// Bytes of a command packet (IDENTIFY PACKET word 0 bits 1:0 = 0).
const ATAPI_PACKET_SIZE: usize = 12;
// PACKET FEATURES bits.
const PACKET_DMA: u8 = 0x01; // data phase by DMA
const PACKET_OVL: u8 = 0x02; // overlapped (not supported)
// Interrupt Reason (the Sector Count register of a packet device).
const INT_REASON_COD: u8 = 0x01; // command (1) or data (0)
const INT_REASON_IO: u8 = 0x02; // to the host (1) or to the device (0)
const INT_REASON_MASK: u8 = 0x07;

// MMC/SPC operation codes.
const GPCMD_TEST_UNIT_READY: u8 = 0x00;
const GPCMD_REQUEST_SENSE: u8 = 0x03;
const GPCMD_INQUIRY: u8 = 0x12;
const GPCMD_START_STOP_UNIT: u8 = 0x1b;
const GPCMD_PREVENT_ALLOW_MEDIUM_REMOVAL: u8 = 0x1e;
const GPCMD_READ_CDVD_CAPACITY: u8 = 0x25;
const GPCMD_READ_10: u8 = 0x28;
const GPCMD_READ_TOC_PMA_ATIP: u8 = 0x43;
const GPCMD_GET_CONFIGURATION: u8 = 0x46;
const GPCMD_GET_EVENT_STATUS_NOTIFICATION: u8 = 0x4a;
const GPCMD_MODE_SENSE_10: u8 = 0x5a;
const GPCMD_READ_12: u8 = 0xa8;

// Sense keys.
const SENSE_NOT_READY: u8 = 0x02;
const SENSE_MEDIUM_ERROR: u8 = 0x03;
const SENSE_ILLEGAL_REQUEST: u8 = 0x05;
const SENSE_UNIT_ATTENTION: u8 = 0x06;
const SENSE_ABORTED_COMMAND: u8 = 0x0b;
// Additional sense codes.
const ASC_UNRECOVERED_READ_ERROR: u8 = 0x11;
const ASC_ILLEGAL_OPCODE: u8 = 0x20;
const ASC_LOGICAL_BLOCK_OOR: u8 = 0x21;
const ASC_INV_FIELD_IN_CMD_PACKET: u8 = 0x24;
const ASC_MEDIUM_MAY_HAVE_CHANGED: u8 = 0x28;
const ASC_SAVING_PARAMETERS_NOT_SUPPORTED: u8 = 0x39;
const ASC_MEDIUM_NOT_PRESENT: u8 = 0x3a;
const ASCQ_TRAY_CLOSED: u8 = 0x01;
const ASCQ_TRAY_OPEN: u8 = 0x02;
const ASC_MEDIA_REMOVAL_PREVENTED: u8 = 0x53;
const ASCQ_MEDIA_REMOVAL_PREVENTED: u8 = 0x02;

// MODE SENSE pages and page control.
const MODE_PAGE_R_W_ERROR: u8 = 0x01;
const MODE_PAGE_CAPABILITIES: u8 = 0x2a;
const MODE_PAGE_ALL: u8 = 0x3f;
const PAGE_CONTROL_SAVED: u8 = 3;
// GET CONFIGURATION.
const MMC_PROFILE_CD_ROM: u16 = 0x0008;
const FEATURE_PROFILE_LIST: u16 = 0x0000;
const FEATURE_CORE: u16 = 0x0001;
const FEATURE_REMOVABLE_MEDIUM: u16 = 0x0003;
const INTERFACE_ATAPI: u32 = 2;
const RT_ONE: u8 = 2; // return only the starting feature
// GET EVENT STATUS NOTIFICATION.
const GESN_POLLED: u8 = 0x01;
const GESN_MEDIA_CLASS: u8 = 4;
const GESN_NEA: u8 = 0x80; // no event available
const MEC_NO_CHANGE: u8 = 0;
const MEC_EJECT_REQUESTED: u8 = 1;
const MEC_NEW_MEDIA: u8 = 2;
const MEC_MEDIA_REMOVAL: u8 = 3;
const MS_TRAY_OPEN: u8 = 0x01;
const MS_MEDIA_PRESENT: u8 = 0x02;
// READ TOC.
const TOC_FORMAT_TOC: u8 = 0;
const TOC_FORMAT_SESSION_INFO: u8 = 1;
const TOC_LEAD_OUT: u8 = 0xaa;
const TOC_DATA_TRACK: u8 = 0x14; // ADR 1, control: data track
/// Frames before LBA 0 in MSF addresses (2 seconds).
const MSF_OFFSET: u64 = 150;

const DRIVE_MODEL: &str = "QEMU DVD-ROM";
const INQUIRY_VENDOR: &[u8; 8] = b"QEMU    ";
const INQUIRY_PRODUCT: &[u8; 16] = b"QEMU DVD-ROM    ";
/// Longest reply built here (MODE SENSE of all pages is the largest, 40 bytes).
const REPLY_MAX: usize = 64;

/// A reply being built.
struct Reply {
    buf: [u8; REPLY_MAX],
    len: usize,
}

impl Reply {
    fn new() -> Self {
        Self {
            buf: [0; REPLY_MAX],
            len: 0,
        }
    }

    fn bytes(&mut self, data: &[u8]) {
        let end = (self.len + data.len()).min(REPLY_MAX);
        self.buf[self.len..end].copy_from_slice(&data[..end - self.len]);
        self.len = end;
    }

    fn u16(&mut self, v: u16) {
        self.bytes(&v.to_be_bytes());
    }

    fn u32(&mut self, v: u32) {
        self.bytes(&v.to_be_bytes());
    }

    /// Patch a big-endian u16 at `at`.
    fn set_u16(&mut self, at: usize, v: u16) {
        self.buf[at..at + 2].copy_from_slice(&v.to_be_bytes());
    }
}

fn be16(b: &[u8]) -> u16 {
    u16::from_be_bytes([b[0], b[1]])
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

/// Commands that run while a unit attention is pending (SPC: they do not report it).
fn allows_unit_attention(op: u8) -> bool {
    matches!(
        op,
        GPCMD_INQUIRY
            | GPCMD_REQUEST_SENSE
            | GPCMD_GET_CONFIGURATION
            | GPCMD_GET_EVENT_STATUS_NOTIFICATION
    )
}

/// Commands that need a medium (NOT READY without one).
fn needs_medium(op: u8) -> bool {
    matches!(
        op,
        GPCMD_TEST_UNIT_READY
            | GPCMD_READ_CDVD_CAPACITY
            | GPCMD_READ_10
            | GPCMD_READ_12
            | GPCMD_READ_TOC_PMA_ATIP
    )
}

/// A CD address: LBA, or minute/second/frame.
fn put_address(r: &mut Reply, lba: u64, msf: bool) {
    if msf {
        let f = lba + MSF_OFFSET;
        r.bytes(&[0, (f / 4500) as u8, (f / 75 % 60) as u8, (f % 75) as u8]);
    } else {
        r.u32(lba as u32);
    }
}

impl Channel {
    fn cd(&mut self, u: usize) -> Option<&mut CdState> {
        match &mut self.units[u].drive {
            Some(Drive {
                media: Media::Cd(cd),
                ..
            }) => Some(cd),
            _ => None,
        }
    }

    /// An ATA command to the packet device of unit `u`.
    pub(super) fn atapi_device_command(&mut self, ctx: &mut dyn Context, u: usize, cmd: u8) {
        match cmd {
            WIN_DEVICE_RESET => {
                // No interrupt, status 0 (ATA8-ACS "normal outputs" of DEVICE RESET).
                self.reset_unit(ctx, u);
            }
            WIN_DIAGNOSE => self.cmd_diagnose(ctx, u),
            WIN_PACKETCMD => self.cmd_packet(ctx, u),
            WIN_PIDENTIFY => self.cmd_identify_packet(ctx, u),
            WIN_IDENTIFY => {
                // A packet device aborts IDENTIFY DEVICE, showing its signature.
                let tf = &mut self.units[u].tf;
                (tf.nsector, tf.sector, tf.lcyl, tf.hcyl) = (1, 1, 0x14, 0xeb);
                self.abort(ctx, u);
            }
            WIN_SETFEATURES => self.cmd_set_features(ctx, u),
            WIN_CHECKPOWERMODE1 | WIN_CHECKPOWERMODE2 => self.cmd_check_power_mode(ctx, u),
            WIN_STANDBYNOW1..=WIN_IDLE | WIN_SLEEPNOW1 | WIN_STANDBYNOW2..=WIN_SLEEPNOW2 => {
                self.complete(ctx, u, STATUS_DRDY)
            }
            WIN_FLUSH_CACHE | WIN_FLUSH_CACHE_EXT => self.complete(ctx, u, STATUS_READY),
            _ => self.abort(ctx, u),
        }
    }

    /// IDENTIFY PACKET DEVICE.
    fn cmd_identify_packet(&mut self, ctx: &mut dyn Context, u: usize) {
        let Some(d) = &mut self.units[u].drive else {
            return;
        };
        let mut w = [0u16; 256];
        // ATAPI, CD-ROM, removable, DRQ within 50 us, 12-byte packets.
        w[0] = (2 << 14) | (5 << 8) | (1 << 7) | (2 << 5);
        put_string(&mut w[10..20], &serial(d.number));
        w[20] = 3;
        w[21] = 512;
        w[22] = 4;
        put_string(&mut w[23..27], FIRMWARE_REVISION.as_bytes());
        put_string(&mut w[27..47], DRIVE_MODEL.as_bytes());
        w[48] = 1;
        w[49] = (1 << 9) | (1 << 8); // LBA, DMA
        w[53] = 7;
        (w[62], w[63], w[88]) = dma_mode_words(d.xfer_mode);
        w[64] = 3;
        w[65] = 0xb4;
        w[66] = 0xb4;
        w[67] = 0x12c;
        w[68] = 0xb4;
        w[71] = 30;
        w[72] = 30;
        w[80] = 0x1e; // ATA/ATAPI-1 to 4
        put_words(&mut d.io[..], &w);
        self.send_block(ctx, u, 512);
    }

    /// PACKET: DRQ for the 12-byte command packet (no interrupt).
    fn cmd_packet(&mut self, ctx: &mut dyn Context, u: usize) {
        let tf = self.units[u].tf;
        if tf.feature & PACKET_OVL != 0 {
            return self.abort(ctx, u);
        }
        let Some(d) = &mut self.units[u].drive else {
            return;
        };
        let Media::Cd(cd) = &mut d.media else { return };
        cd.dma = tf.feature & PACKET_DMA != 0;
        cd.byte_count_limit = u16::from(tf.hcyl) << 8 | u16::from(tf.lcyl);
        cd.stop_transfer();
        d.pio_start(Dir::Out, 0, ATAPI_PACKET_SIZE, AfterPio::Packet);
        let tf = &mut self.units[u].tf;
        tf.nsector = INT_REASON_COD;
        tf.status = STATUS_READY | STATUS_DRQ;
    }

    /// The command packet is in: execute it.
    pub(super) fn atapi_packet(&mut self, ctx: &mut dyn Context, u: usize) {
        let Some(d) = &mut self.units[u].drive else {
            return;
        };
        let mut cdb = [0u8; ATAPI_PACKET_SIZE];
        cdb.copy_from_slice(&d.io[..ATAPI_PACKET_SIZE]);
        let Media::Cd(cd) = &mut d.media else { return };
        tracing::trace!(target: "ide_atapi_cmd", "unit {u} cmd {:#04x}", cdb[0]);
        let op = cdb[0];
        if op != GPCMD_REQUEST_SENSE {
            cd.sense = Sense::default();
        }
        if cd.unit_attention && !allows_unit_attention(op) {
            cd.unit_attention = false;
            return self.atapi_error(ctx, u, SENSE_UNIT_ATTENTION, ASC_MEDIUM_MAY_HAVE_CHANGED, 0);
        }
        if needs_medium(op) && cd.medium_present().is_none() {
            let ascq = if cd.tray_open {
                ASCQ_TRAY_OPEN
            } else {
                ASCQ_TRAY_CLOSED
            };
            return self.atapi_error(ctx, u, SENSE_NOT_READY, ASC_MEDIUM_NOT_PRESENT, ascq);
        }
        match op {
            GPCMD_TEST_UNIT_READY => self.atapi_ok(ctx, u),
            GPCMD_REQUEST_SENSE => self.cmd_request_sense(ctx, u, &cdb),
            GPCMD_INQUIRY => self.cmd_inquiry(ctx, u, &cdb),
            GPCMD_START_STOP_UNIT => self.cmd_start_stop_unit(ctx, u, &cdb),
            GPCMD_PREVENT_ALLOW_MEDIUM_REMOVAL => {
                if let Some(cd) = self.cd(u) {
                    cd.locked = cdb[4] & 1 != 0;
                }
                self.atapi_ok(ctx, u);
            }
            GPCMD_READ_CDVD_CAPACITY => self.cmd_read_capacity(ctx, u),
            GPCMD_READ_10 => {
                let count = u32::from(be16(&cdb[7..9]));
                self.cmd_read(ctx, u, be32(&cdb[2..6]), count);
            }
            GPCMD_READ_12 => self.cmd_read(ctx, u, be32(&cdb[2..6]), be32(&cdb[6..10])),
            GPCMD_READ_TOC_PMA_ATIP => self.cmd_read_toc(ctx, u, &cdb),
            GPCMD_GET_CONFIGURATION => self.cmd_get_configuration(ctx, u, &cdb),
            GPCMD_GET_EVENT_STATUS_NOTIFICATION => self.cmd_get_event_status(ctx, u, &cdb),
            GPCMD_MODE_SENSE_10 => self.cmd_mode_sense(ctx, u, &cdb),
            _ => self.atapi_error(ctx, u, SENSE_ILLEGAL_REQUEST, ASC_ILLEGAL_OPCODE, 0),
        }
    }

    /// The packet command completed: status 0x50, interrupt reason "command, to host".
    pub(super) fn atapi_ok(&mut self, ctx: &mut dyn Context, u: usize) {
        let unit = &mut self.units[u];
        unit.tf.error = 0;
        unit.tf.nsector = (unit.tf.nsector & !INT_REASON_MASK) | INT_REASON_IO | INT_REASON_COD;
        if let Some(d) = &mut unit.drive {
            d.pio = Pio::default();
        }
        if let Some(cd) = self.cd(u) {
            cd.stop_transfer();
        }
        self.complete(ctx, u, STATUS_READY);
    }

    /// The packet command failed (CHECK CONDITION): status 0x41, ERROR = sense key << 4.
    fn atapi_error(&mut self, ctx: &mut dyn Context, u: usize, key: u8, asc: u8, ascq: u8) {
        if let Some(cd) = self.cd(u) {
            cd.sense = Sense { key, asc, ascq };
            cd.stop_transfer();
        }
        let unit = &mut self.units[u];
        unit.tf.error = key << 4;
        unit.tf.nsector = (unit.tf.nsector & !INT_REASON_MASK) | INT_REASON_IO | INT_REASON_COD;
        unit.tf.status = STATUS_DRDY | STATUS_ERR;
        if let Some(d) = &mut unit.drive {
            d.pio = Pio::default();
        }
        self.raise_irq(ctx);
    }

    /// A medium request failed.
    pub(super) fn atapi_io_error(&mut self, ctx: &mut dyn Context, u: usize, e: IoError) {
        match e {
            IoError::NoMedium => self.atapi_error(
                ctx,
                u,
                SENSE_NOT_READY,
                ASC_MEDIUM_NOT_PRESENT,
                ASCQ_TRAY_OPEN,
            ),
            IoError::Medium => {
                self.atapi_error(ctx, u, SENSE_MEDIUM_ERROR, ASC_UNRECOVERED_READ_ERROR, 0)
            }
            _ => self.atapi_error(ctx, u, SENSE_ABORTED_COMMAND, 0, 0),
        }
    }

    /// Send `reply` (at most `alloc` bytes of it) in the data phase the packet asked for.
    fn atapi_reply(&mut self, ctx: &mut dyn Context, u: usize, reply: &Reply, alloc: usize) {
        let size = reply.len.min(alloc);
        let Some(d) = &mut self.units[u].drive else {
            return;
        };
        d.io[..reply.len].copy_from_slice(&reply.buf[..reply.len]);
        let Media::Cd(cd) = &mut d.media else { return };
        if size == 0 {
            return self.atapi_ok(ctx, u);
        }
        if cd.dma {
            return self.arm_dma(ctx, u, DmaKind::Reply { len: size as u32 });
        }
        cd.reading = false;
        cd.xfer_left = size as u64;
        cd.buf_index = 0;
        cd.buf_len = size;
        self.atapi_reply_next(ctx, u);
    }

    /// The next PIO block of the reply: at most the byte count limit, within the current
    /// sector; DRQ, interrupt reason "data, to host", the block size in LBA Mid/High, an
    /// interrupt. When all is sent, the command completes.
    pub(super) fn atapi_reply_next(&mut self, ctx: &mut dyn Context, u: usize) {
        let Some(d) = &mut self.units[u].drive else {
            return;
        };
        let Media::Cd(cd) = &mut d.media else { return };
        if cd.xfer_left == 0 {
            return self.atapi_ok(ctx, u);
        }
        if cd.reading && cd.buf_index >= cd.buf_len {
            self.units[u].tf.status = STATUS_READY | STATUS_BSY;
            return self.schedule(ctx, u, Pending::CdRead);
        }
        // A limit of 0 or 1 cannot move data; a block that is not the last has an even size.
        let bcl = match cd.byte_count_limit {
            0 | 1 => 0xfffe,
            n => u64::from(n),
        };
        let limit = if cd.xfer_left > bcl { bcl & !1 } else { bcl };
        let size = cd
            .xfer_left
            .min(limit)
            .min((cd.buf_len - cd.buf_index) as u64) as usize;
        let start = cd.buf_index;
        cd.buf_index += size;
        cd.xfer_left -= size as u64;
        // An odd block is padded to a whole word.
        let end = start + size;
        if end % 2 == 1 {
            if let Some(pad) = d.io.get_mut(end) {
                *pad = 0;
            }
        }
        d.pio_start(Dir::In, start, end + end % 2, AfterPio::AtapiReply);
        let tf = &mut self.units[u].tf;
        tf.nsector = (tf.nsector & !INT_REASON_MASK) | INT_REASON_IO;
        tf.lcyl = size as u8;
        tf.hcyl = (size >> 8) as u8;
        tf.status = STATUS_READY | STATUS_DRQ;
        self.raise_irq(ctx);
    }

    /// The next sector of a PIO READ has been fetched (or failed).
    pub(super) fn atapi_read_sector(&mut self, ctx: &mut dyn Context, u: usize) {
        let Some(cd) = self.cd(u) else { return };
        let lba = cd.read_lba;
        let mut sector = [0u8; CD_SECTOR_SIZE];
        let fetched = match cd.medium_present() {
            None => Err(IoError::NoMedium),
            Some(medium) => {
                Fault::check(cd.fault, lba, 1).and_then(|()| medium.read(lba, &mut sector))
            }
        };
        if let Err(e) = fetched {
            return self.atapi_io_error(ctx, u, e);
        }
        tracing::trace!(target: "dma_blk_io", "offset {:#x} bytes {CD_SECTOR_SIZE} to_dev false", lba * CD_SECTOR_SIZE as u64);
        cd.read_lba += 1;
        cd.buf_index = 0;
        cd.buf_len = CD_SECTOR_SIZE;
        if let Some(d) = &mut self.units[u].drive {
            d.io[..CD_SECTOR_SIZE].copy_from_slice(&sector);
        }
        self.atapi_reply_next(ctx, u);
    }

    /// READ(10)/READ(12): `count` sectors from `lba`, checked against the medium.
    fn cmd_read(&mut self, ctx: &mut dyn Context, u: usize, lba: u32, count: u32) {
        let overread_bug = self.planted.index(Bug::AtapiLbaOverread);
        let Some(cd) = self.cd(u) else { return };
        let total = cd.medium_present().map_or(0, |m| m.sectors());
        if count == 0 {
            return self.atapi_ok(ctx, u);
        }
        let (lba, count64) = (u64::from(lba), u64::from(count));
        if let Some(bug) = overread_bug {
            planted_reached(bug);
        }
        if lba + count64 > total {
            // The range check of CVE-2020-29443's fix.
            let Some(bug) = overread_bug else {
                return self.atapi_error(ctx, u, SENSE_ILLEGAL_REQUEST, ASC_LOGICAL_BLOCK_OOR, 0);
            };
            // PLANTED `ide-atapi-lba-overread`: the LBA and length go unchecked to the reads.
            planted_triggered(bug);
        }
        if cd.dma {
            return self.arm_dma(ctx, u, DmaKind::CdRead { lba, left: count });
        }
        cd.reading = true;
        cd.read_lba = lba;
        cd.xfer_left = count64 * CD_SECTOR_SIZE as u64;
        cd.buf_index = 0;
        cd.buf_len = 0;
        self.units[u].tf.status = STATUS_READY | STATUS_BSY;
        self.schedule(ctx, u, Pending::CdRead);
    }

    /// REQUEST SENSE: fixed-format sense data; reporting it clears it.
    fn cmd_request_sense(&mut self, ctx: &mut dyn Context, u: usize, cdb: &[u8]) {
        let Some(cd) = self.cd(u) else { return };
        let s = std::mem::take(&mut cd.sense);
        let mut r = Reply::new();
        r.bytes(&[
            0x70, 0, s.key, 0, 0, 0, 0, 10, 0, 0, 0, 0, s.asc, s.ascq, 0, 0, 0, 0,
        ]);
        self.atapi_reply(ctx, u, &r, usize::from(cdb[4]));
    }

    /// INQUIRY: standard data (no vital product data pages).
    fn cmd_inquiry(&mut self, ctx: &mut dyn Context, u: usize, cdb: &[u8]) {
        if cdb[1] & 1 != 0 || cdb[2] != 0 {
            return self.atapi_error(
                ctx,
                u,
                SENSE_ILLEGAL_REQUEST,
                ASC_INV_FIELD_IN_CMD_PACKET,
                0,
            );
        }
        let mut r = Reply::new();
        // CD/DVD device, removable, ATAPI-2 (QEMU's version bytes), 31 more bytes.
        r.bytes(&[0x05, 0x80, 0x00, 0x21, 31, 0, 0, 0]);
        r.bytes(INQUIRY_VENDOR);
        r.bytes(INQUIRY_PRODUCT);
        let mut rev = [b' '; 4];
        rev.copy_from_slice(&FIRMWARE_REVISION.as_bytes()[..4]);
        r.bytes(&rev);
        self.atapi_reply(ctx, u, &r, usize::from(be16(&cdb[3..5])));
    }

    /// START STOP UNIT: load or eject (unless locked); a power condition is accepted as is.
    fn cmd_start_stop_unit(&mut self, ctx: &mut dyn Context, u: usize, cdb: &[u8]) {
        let (start, load_eject, power_condition) = (cdb[4] & 1 != 0, cdb[4] & 2 != 0, cdb[4] >> 4);
        if power_condition != 0 {
            if let Some(bug) = self.planted.index(Bug::AtapiDataOverrun) {
                // PLANTED `ide-atapi-data-overrun` (CVE-2015-5154): the power-condition path
                // returns without completing the command: DRQ stays set, the packet transfer
                // stays current with its pointer at its end.
                planted_reached(bug);
                return;
            }
            return self.atapi_ok(ctx, u);
        }
        let Some(cd) = self.cd(u) else { return };
        if load_eject {
            if start {
                cd.tray_open = false;
            } else if cd.locked {
                return self.atapi_error(
                    ctx,
                    u,
                    SENSE_ILLEGAL_REQUEST,
                    ASC_MEDIA_REMOVAL_PREVENTED,
                    ASCQ_MEDIA_REMOVAL_PREVENTED,
                );
            } else {
                cd.tray_open = true;
            }
        }
        self.atapi_ok(ctx, u);
    }

    /// READ CAPACITY: the last LBA and the block size.
    fn cmd_read_capacity(&mut self, ctx: &mut dyn Context, u: usize) {
        let Some(cd) = self.cd(u) else { return };
        let total = cd.medium_present().map_or(0, |m| m.sectors());
        let mut r = Reply::new();
        r.u32(total.saturating_sub(1).min(u64::from(u32::MAX)) as u32);
        r.u32(CD_SECTOR_SIZE as u32);
        self.atapi_reply(ctx, u, &r, 8);
    }

    /// READ TOC/PMA/ATIP, formats 0 (TOC: one data track and the lead-out) and 1 (session
    /// information).
    fn cmd_read_toc(&mut self, ctx: &mut dyn Context, u: usize, cdb: &[u8]) {
        let Some(cd) = self.cd(u) else { return };
        let total = cd.medium_present().map_or(0, |m| m.sectors());
        let msf = cdb[1] & 2 != 0;
        // SFF-8020 put the format in bits 7:6 of the last byte.
        let format = match cdb[2] & 0x0f {
            0 => cdb[9] >> 6,
            f => f,
        };
        let track = cdb[6];
        let alloc = usize::from(be16(&cdb[7..9]));
        let mut r = Reply::new();
        match format {
            TOC_FORMAT_TOC if track <= 1 || track == TOC_LEAD_OUT => {
                r.bytes(&[0, 0, 1, 1]);
                if track <= 1 {
                    r.bytes(&[0, TOC_DATA_TRACK, 1, 0]);
                    put_address(&mut r, 0, msf);
                }
                r.bytes(&[0, TOC_DATA_TRACK, TOC_LEAD_OUT, 0]);
                put_address(&mut r, total, msf);
            }
            TOC_FORMAT_SESSION_INFO => {
                r.bytes(&[0, 0, 1, 1, 0, TOC_DATA_TRACK, 1, 0]);
                put_address(&mut r, 0, msf);
            }
            _ => {
                return self.atapi_error(
                    ctx,
                    u,
                    SENSE_ILLEGAL_REQUEST,
                    ASC_INV_FIELD_IN_CMD_PACKET,
                    0,
                );
            }
        }
        let data_length = (r.len - 2) as u16;
        r.set_u16(0, data_length);
        self.atapi_reply(ctx, u, &r, alloc);
    }

    /// GET CONFIGURATION: the profile list (CD-ROM), Core and Removable Medium features.
    fn cmd_get_configuration(&mut self, ctx: &mut dyn Context, u: usize, cdb: &[u8]) {
        let Some(cd) = self.cd(u) else { return };
        let present = cd.medium_present().is_some();
        let locked = cd.locked;
        let rt = cdb[1] & 3;
        let first = be16(&cdb[2..4]);
        let alloc = usize::from(be16(&cdb[7..9]));
        let mut r = Reply::new();
        r.bytes(&[0; 6]);
        r.u16(if present { MMC_PROFILE_CD_ROM } else { 0 });
        let wanted = |code: u16| {
            if rt == RT_ONE {
                code == first
            } else {
                code >= first
            }
        };
        if wanted(FEATURE_PROFILE_LIST) {
            r.u16(FEATURE_PROFILE_LIST);
            r.bytes(&[0x03, 4]); // persistent, current; 4 bytes of descriptors
            r.u16(MMC_PROFILE_CD_ROM);
            r.bytes(&[u8::from(present), 0]);
        }
        if wanted(FEATURE_CORE) {
            r.u16(FEATURE_CORE);
            r.bytes(&[0x07, 8]); // version 1, persistent, current
            r.u32(INTERFACE_ATAPI);
            r.bytes(&[0, 0, 0, 0]);
        }
        if wanted(FEATURE_REMOVABLE_MEDIUM) {
            r.u16(FEATURE_REMOVABLE_MEDIUM);
            r.bytes(&[0x03, 4]);
            // Tray loading mechanism, eject, lock supported; the lock state.
            r.bytes(&[0x20 | 0x08 | 0x01 | (u8::from(locked) << 2), 0, 0, 0]);
        }
        let data_length = (r.len - 4) as u32;
        r.buf[..4].copy_from_slice(&data_length.to_be_bytes());
        self.atapi_reply(ctx, u, &r, alloc);
    }

    /// GET EVENT STATUS NOTIFICATION (polled): the media class, which reporting clears.
    fn cmd_get_event_status(&mut self, ctx: &mut dyn Context, u: usize, cdb: &[u8]) {
        if cdb[1] & GESN_POLLED == 0 {
            return self.atapi_error(
                ctx,
                u,
                SENSE_ILLEGAL_REQUEST,
                ASC_INV_FIELD_IN_CMD_PACKET,
                0,
            );
        }
        let Some(cd) = self.cd(u) else { return };
        let alloc = usize::from(be16(&cdb[7..9]));
        let supported = 1 << GESN_MEDIA_CLASS;
        let mut r = Reply::new();
        if cdb[4] & supported != 0 {
            let event = std::mem::replace(&mut cd.media_event, MEC_NO_CHANGE);
            let status = if cd.tray_open { MS_TRAY_OPEN } else { 0 }
                | if cd.medium_present().is_some() {
                    MS_MEDIA_PRESENT
                } else {
                    0
                };
            r.bytes(&[0, 6, GESN_MEDIA_CLASS, supported, event, status, 0, 0]);
        } else {
            r.bytes(&[0, 2, GESN_NEA, supported]);
        }
        self.atapi_reply(ctx, u, &r, alloc);
    }

    /// MODE SENSE(10): the R/W error recovery and CD capabilities pages.
    fn cmd_mode_sense(&mut self, ctx: &mut dyn Context, u: usize, cdb: &[u8]) {
        let Some(cd) = self.cd(u) else { return };
        let locked = cd.locked;
        let control = cdb[2] >> 6;
        let page = cdb[2] & 0x3f;
        let alloc = usize::from(be16(&cdb[7..9]));
        if control == PAGE_CONTROL_SAVED {
            return self.atapi_error(
                ctx,
                u,
                SENSE_ILLEGAL_REQUEST,
                ASC_SAVING_PARAMETERS_NOT_SUPPORTED,
                0,
            );
        }
        if !matches!(
            page,
            MODE_PAGE_R_W_ERROR | MODE_PAGE_CAPABILITIES | MODE_PAGE_ALL
        ) {
            return self.atapi_error(
                ctx,
                u,
                SENSE_ILLEGAL_REQUEST,
                ASC_INV_FIELD_IN_CMD_PACKET,
                0,
            );
        }
        // Changeable values: none (all zero bits).
        let changeable = control == 1;
        let value = |v: u8| if changeable { 0 } else { v };
        let mut r = Reply::new();
        // Header: mode data length (patched), medium type 0x70 (QEMU), no block descriptors.
        r.bytes(&[0, 0, 0x70, 0, 0, 0, 0, 0]);
        if matches!(page, MODE_PAGE_R_W_ERROR | MODE_PAGE_ALL) {
            r.bytes(&[MODE_PAGE_R_W_ERROR, 6, 0, value(5), 0, 0, 0, 0]);
        }
        if matches!(page, MODE_PAGE_CAPABILITIES | MODE_PAGE_ALL) {
            r.bytes(&[MODE_PAGE_CAPABILITIES, 0x12]);
            r.bytes(&[
                value(0x3b), // reads CD-R, CD-RW, method 2, DVD-ROM
                0,
                value(0x71), // audio play, composite, digital ports, multi-session
                value(0x7f), // CD-DA, accurate stream, R-W, ISRC, UPC, barcode
                // tray loading mechanism, eject, lock, lock state
                value(0x29 | (u8::from(locked) << 1)),
                0,
            ]);
            r.u16(u16::from(value(0x02)) << 8 | u16::from(value(0xc2))); // max speed 706 KB/s
            r.u16(u16::from(value(2))); // volume levels
            r.u16(u16::from(value(0x02)) << 8); // buffer 512 KiB
            r.u16(u16::from(value(0x02)) << 8 | u16::from(value(0xc2))); // current speed
            r.bytes(&[0, 0, 0, 0]);
        }
        let data_length = (r.len - 2) as u16;
        r.set_u16(0, data_length);
        self.atapi_reply(ctx, u, &r, alloc);
    }

    /// The user pressed eject, or closed the tray (the event [`super::EVENT_MEDIUM`]).
    pub(super) fn medium_event(&mut self, _ctx: &mut dyn Context, u: usize) {
        let Some(cd) = self.cd(u) else { return };
        if cd.tray_open {
            cd.tray_open = false;
            cd.medium.clone_from(&cd.power_on_medium);
            if cd.medium.is_some() {
                cd.unit_attention = true;
                cd.media_event = MEC_NEW_MEDIA;
            }
        } else if cd.locked {
            cd.media_event = MEC_EJECT_REQUESTED;
        } else {
            cd.tray_open = true;
            cd.media_event = MEC_MEDIA_REMOVAL;
        }
    }
}
