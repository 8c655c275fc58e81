//! The ATAPI CD-ROM: the ATA commands a packet device takes, the PACKET protocol (PIO and DMA
//! data phases, interrupt reason, byte count limit), and the MMC commands QEMU's `ide-cd`
//! answers, with its sense data, its medium-change sequence and its reply layouts.

use super::backend::{CD_SECTOR_SIZE, Fault, IoError, Medium};
use super::bmdma::{Cursor, Segments};
use super::drive::{
    Action, AfterPio, Deferred, Dir, DmaKind, DriveCore, FIRMWARE_REVISION, IO_BUFFER_SIZE,
    WIN_DIAGNOSE, WIN_FLUSH_CACHE, WIN_IDENTIFY, WIN_READ, WIN_SETFEATURES, complete, diagnose,
    put_string, put_words, serial,
};
use super::planted::{ATAPI_DATA_OVERRUN, ATAPI_LBA_OVERREAD};
use super::taskfile::{
    ERROR_ABRT, STATUS_BSY, STATUS_DRDY, STATUS_DRQ, STATUS_ERR, STATUS_READY, Taskfile,
};
use harness::device::Context;

// ATA commands specific to packet devices.
const WIN_DEVICE_RESET: u8 = 0x08; // DEVICE RESET
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
/// ERROR of a CHECK CONDITION for a pending unit attention: sense key 6 and MC (media change).
const ERROR_UNIT_ATTENTION: u8 = (SENSE_UNIT_ATTENTION << 4) | 0x08;

// MMC/SPC operation codes.
const GPCMD_TEST_UNIT_READY: u8 = 0x00;
const GPCMD_REQUEST_SENSE: u8 = 0x03;
const GPCMD_INQUIRY: u8 = 0x12;
const GPCMD_START_STOP_UNIT: u8 = 0x1b;
const GPCMD_PREVENT_ALLOW_MEDIUM_REMOVAL: u8 = 0x1e;
const GPCMD_READ_CDVD_CAPACITY: u8 = 0x25;
const GPCMD_READ_10: u8 = 0x28;
const GPCMD_SEEK: u8 = 0x2b;
const GPCMD_READ_TOC_PMA_ATIP: u8 = 0x43;
const GPCMD_GET_CONFIGURATION: u8 = 0x46;
const GPCMD_GET_EVENT_STATUS_NOTIFICATION: u8 = 0x4a;
const GPCMD_READ_DISC_INFO: u8 = 0x51;
const GPCMD_MODE_SENSE_10: u8 = 0x5a;
const GPCMD_READ_12: u8 = 0xa8;
const GPCMD_READ_DVD_STRUCTURE: u8 = 0xad;
const GPCMD_SET_SPEED: u8 = 0xbb;
const GPCMD_MECHANISM_STATUS: u8 = 0xbd;
const GPCMD_READ_CD: u8 = 0xbe;

// Sense keys.
const SENSE_NONE: u8 = 0x00;
const SENSE_NOT_READY: u8 = 0x02;
const SENSE_MEDIUM_ERROR: u8 = 0x03;
const SENSE_ILLEGAL_REQUEST: u8 = 0x05;
const SENSE_UNIT_ATTENTION: u8 = 0x06;
// Additional sense codes.
const ASC_UNRECOVERED_READ_ERROR: u8 = 0x11;
const ASC_ILLEGAL_OPCODE: u8 = 0x20;
const ASC_LOGICAL_BLOCK_OOR: u8 = 0x21;
const ASC_INV_FIELD_IN_CMD_PACKET: u8 = 0x24;
const ASC_MEDIUM_MAY_HAVE_CHANGED: u8 = 0x28;
const ASC_INCOMPATIBLE_FORMAT: u8 = 0x30;
const ASC_SAVING_PARAMETERS_NOT_SUPPORTED: u8 = 0x39;
const ASC_MEDIUM_NOT_PRESENT: u8 = 0x3a;
const ASC_DATA_PHASE_ERROR: u8 = 0x4b;
const ASC_MEDIA_REMOVAL_PREVENTED: u8 = 0x53;

// MODE SENSE pages.
const MODE_PAGE_R_W_ERROR: u8 = 0x01;
const MODE_PAGE_AUDIO_CTL: u8 = 0x0e;
const MODE_PAGE_CAPABILITIES: u8 = 0x2a;
// GET CONFIGURATION profiles.
const MMC_PROFILE_DVD_ROM: u16 = 0x0010;
const MMC_PROFILE_CD_ROM: u16 = 0x0008;
// GET EVENT STATUS NOTIFICATION.
const GESN_POLLED: u8 = 0x01;
const GESN_MEDIA_CLASS: u8 = 4;
const GESN_NEA: u8 = 0x80; // no event available
const MEC_NO_CHANGE: u8 = 0;
const MEC_EJECT_REQUESTED: u8 = 1;
const MEC_NEW_MEDIA: u8 = 2;
const MS_TRAY_OPEN: u8 = 0x01;
const MS_MEDIA_PRESENT: u8 = 0x02;
// READ TOC.
const TOC_LEAD_OUT: u8 = 0xaa;
/// Frames before LBA 0 in MSF addresses (2 seconds).
const MSF_OFFSET: u64 = 150;
/// A raw CD sector (READ CD "all data"): sync, header, user data, EDC/ECC.
const CD_RAW_SECTOR_SIZE: usize = 2352;
/// Media of more 2048-byte sectors than a CD holds (80 minutes) are DVDs (QEMU's rule).
const CD_MAX_SECTORS: u64 = 80 * 60 * 75;

const DRIVE_MODEL: &str = "QEMU DVD-ROM";
const INQUIRY_VENDOR: &[u8; 8] = b"QEMU    ";
const INQUIRY_PRODUCT: &[u8; 16] = b"QEMU DVD-ROM    ";
/// Longest reply built here: READ DVD STRUCTURE's 2 KiB of physical format information and
/// its header.
const REPLY_MAX: usize = 2048 + 4;
/// GET CONFIGURATION's allocation length is cut to one sector (QEMU).
const GET_CONFIGURATION_MAX: usize = 512;

/// What the command table says of an opcode (QEMU's `atapi_cmd_table` flags).
#[derive(Clone, Copy, Default)]
struct Flags {
    /// Runs while a unit attention is pending (and does not report a medium change).
    allow_ua: bool,
    /// Needs a medium: NOT READY without one.
    check_ready: bool,
    /// Never moves data: a byte count limit of 0 is fine.
    nondata: bool,
    /// Moves data only for some fields: the handler checks the byte count limit.
    conddata: bool,
}

/// The flags of `op`, or `None` for an opcode the drive does not implement.
fn flags(op: u8) -> Option<Flags> {
    let f = Flags::default();
    Some(match op {
        GPCMD_TEST_UNIT_READY => Flags {
            check_ready: true,
            nondata: true,
            ..f
        },
        GPCMD_REQUEST_SENSE
        | GPCMD_INQUIRY
        | GPCMD_GET_CONFIGURATION
        | GPCMD_GET_EVENT_STATUS_NOTIFICATION => Flags {
            allow_ua: true,
            ..f
        },
        GPCMD_START_STOP_UNIT | GPCMD_PREVENT_ALLOW_MEDIUM_REMOVAL | GPCMD_SET_SPEED => {
            Flags { nondata: true, ..f }
        }
        GPCMD_READ_CDVD_CAPACITY
        | GPCMD_READ_10
        | GPCMD_READ_TOC_PMA_ATIP
        | GPCMD_READ_DISC_INFO
        | GPCMD_READ_12
        | GPCMD_READ_DVD_STRUCTURE => Flags {
            check_ready: true,
            ..f
        },
        GPCMD_SEEK => Flags {
            check_ready: true,
            nondata: true,
            ..f
        },
        GPCMD_READ_CD => Flags {
            check_ready: true,
            conddata: true,
            ..f
        },
        GPCMD_MODE_SENSE_10 | GPCMD_MECHANISM_STATUS => f,
        _ => return None,
    })
}

/// A reply being built: a zeroed buffer and the length used.
struct Reply {
    buf: Box<[u8; REPLY_MAX]>,
    len: usize,
}

impl Reply {
    fn new() -> Self {
        Self {
            buf: Box::new([0; REPLY_MAX]),
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

    /// `n` zero bytes.
    fn zeros(&mut self, n: usize) {
        self.len = (self.len + n).min(REPLY_MAX);
    }

    /// A space-padded string of `width` bytes.
    fn padded(&mut self, text: &[u8], width: usize) {
        for i in 0..width {
            self.bytes(&[text.get(i).copied().unwrap_or(b' ')]);
        }
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

/// A CD address: LBA, or (reserved,) minute/second/frame.
fn put_address(r: &mut Reply, lba: u64, msf: bool) {
    if msf {
        let f = lba + MSF_OFFSET;
        r.bytes(&[0, (f / 4500) as u8, (f / 75 % 60) as u8, (f % 75) as u8]);
    } else {
        r.u32(lba as u32);
    }
}

/// A raw (2352-byte) sector around the 2048 user bytes at `buf[16..2064]` (QEMU's
/// `cd_data_to_raw`: sync pattern, MSF header, mode 1, no EDC/ECC).
fn cd_data_to_raw(buf: &mut [u8], lba: u64) {
    buf[0] = 0;
    buf[1..11].fill(0xff);
    buf[11] = 0;
    let f = lba + MSF_OFFSET;
    buf[12..16].copy_from_slice(&[(f / 4500) as u8, (f / 75 % 60) as u8, (f % 75) as u8, 1]);
    buf[16 + CD_SECTOR_SIZE..CD_RAW_SECTOR_SIZE].fill(0);
}

/// CD sectors one ATAPI DMA step moves (128 KiB: QEMU's 256-sector DMA buffer); a raw READ
/// CD moves one sector a step.
const CD_DMA_CHUNK_SECTORS: u32 = 64;

/// ATAPI sense data as QEMU keeps it: a sense key and an additional sense code (the qualifier
/// is always 0).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Sense {
    key: u8,
    asc: u8,
}

/// An ATAPI CD-ROM drive (QEMU's names in brackets).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct AtapiCd {
    pub(super) core: DriveCore,
    power_on_medium: Option<Medium>,
    /// The disc in the drive: gone after the user ejected it, back when the tray closes.
    medium: Option<Medium>,
    /// The tray is open: the medium (if any) is not accessible [`tray_open`].
    tray_open: bool,
    /// PREVENT ALLOW MEDIUM REMOVAL [`tray_locked`].
    locked: bool,
    /// A medium change the guest has not been told about: 1 reports NOT READY to the next
    /// command that does not allow a unit attention, 2 then UNIT ATTENTION [`cdrom_changed`].
    changed: u8,
    /// Media events for GET EVENT STATUS NOTIFICATION [`events`].
    new_media: bool,
    eject_request: bool,
    /// The last error's sense; only a reported UNIT ATTENTION is cleared.
    sense: Sense,
    fault: Option<Fault>,
    power_on_fault: Option<Fault>,
    /// The current PACKET command's data phase is DMA (FEATURES bit 0) [`atapi_dma`].
    dma: bool,
    /// Reply bytes not yet handed to a PIO block [`packet_transfer_size`].
    xfer_left: u64,
    /// Bytes left in the current DRQ block [`elementary_transfer_size`].
    elementary: u64,
    /// The reply comes from medium sectors, fetched one at a time from `read_lba` [`lba != -1`].
    reading: bool,
    read_lba: u64,
    /// Bytes per sector of the read: 2048, or 2352 for a raw READ CD [`cd_sector_size`].
    sector_size: usize,
    /// Position in the reply data, or in the current sector [`io_buffer_index`].
    buf_index: usize,
}

harness::clone_by_field!(AtapiCd {
    core,
    power_on_medium,
    medium,
    tray_open,
    locked,
    changed,
    new_media,
    eject_request,
    sense,
    fault,
    power_on_fault,
    dma,
    xfer_left,
    elementary,
    reading,
    read_lba,
    sector_size,
    buf_index,
});

impl AtapiCd {
    /// A CD-ROM drive holding `medium`, failing `fault` from power-on, as drive `number`.
    pub(crate) fn new(medium: Option<Medium>, fault: Option<Fault>, number: u8) -> Self {
        let mut d = Self {
            core: DriveCore::new(number),
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
        };
        d.power_on();
        d
    }

    /// The state a reset (SRST, DEVICE RESET, power-on) leaves, as QEMU's `ide_reset`: no
    /// command, no transfer; the drive forgets its sense, its pending medium change, its lock,
    /// and closes its tray.
    pub(super) fn soft_reset(&mut self) {
        self.core.pio = Default::default();
        self.stop_transfer();
        self.sense = Sense::default();
        self.changed = 0;
        self.dma = false;
        self.locked = false;
        self.tray_open = false;
        self.sector_size = CD_SECTOR_SIZE;
    }

    /// The power-on state: the power-on medium and fault, no media event.
    pub(super) fn power_on(&mut self) {
        self.soft_reset();
        self.core.power_on();
        self.medium.clone_from(&self.power_on_medium);
        self.new_media = false;
        self.eject_request = false;
        self.fault = self.power_on_fault;
        // A soft reset keeps the next read's sector (QEMU's `ide_reset` leaves `lba`); it is
        // not seen until a read sets it again, but a powered-on drive must equal a new one.
        self.read_lba = 0;
    }

    /// Make `fault` the failing sector.
    pub(super) fn set_fault(&mut self, fault: Option<Fault>) {
        self.fault = fault;
    }

    /// The medium, if the guest can access it (present and the tray closed).
    fn medium_present(&self) -> Option<&Medium> {
        self.medium.as_ref().filter(|_| !self.tray_open)
    }

    fn stop_transfer(&mut self) {
        self.xfer_left = 0;
        self.elementary = 0;
        self.reading = false;
        self.buf_index = 0;
    }

    /// An ATA command (QEMU's command table: the commands a packet device may take; everything
    /// else aborts).
    pub(super) fn command(&mut self, tf: &mut Taskfile, cmd: u8) -> Action {
        match cmd {
            // No interrupt, status 0 (ATA8-ACS "normal outputs" of DEVICE RESET).
            WIN_DEVICE_RESET => Action::ResetUnit,
            WIN_DIAGNOSE => diagnose(tf, true),
            WIN_PACKETCMD => self.cmd_packet(tf),
            WIN_PIDENTIFY => self.cmd_identify_packet(tf),
            WIN_IDENTIFY | WIN_READ => {
                // A packet device aborts IDENTIFY DEVICE and READ SECTORS, showing its
                // signature (ATA-4 8.27.5.2).
                tf.set_signature(Some(true));
                Action::Fail(ERROR_ABRT)
            }
            WIN_SETFEATURES => self.core.set_features(tf),
            // A flush reaches the medium: without one (empty drive, open tray) it fails, and
            // the drive aborts it (QEMU's flush gets ENOMEDIUM) [V].
            WIN_FLUSH_CACHE if self.medium.is_none() || self.tray_open => Action::Fail(ERROR_ABRT),
            WIN_FLUSH_CACHE => complete(tf, STATUS_READY),
            _ => Action::Fail(ERROR_ABRT),
        }
    }

    /// Whether the drive takes `cmd` while busy: only DEVICE RESET.
    pub(super) fn takes_while_busy(cmd: u8) -> bool {
        cmd == WIN_DEVICE_RESET
    }

    /// The PIO window has moved its last byte.
    pub(super) fn pio_done(&mut self, ctx: &mut dyn Context, tf: &mut Taskfile) -> Action {
        match self.core.pio.after {
            AfterPio::Packet => self.packet(ctx, tf),
            AfterPio::AtapiReply => self.reply_next(tf),
            _ => Action::Done,
        }
    }

    /// The request latency has passed.
    pub(super) fn deferred(&mut self, tf: &mut Taskfile, op: Deferred) -> Action {
        match op {
            Deferred::CdRead => self.read_sector(tf),
            Deferred::PioRead | Deferred::PioWrite => Action::Done,
        }
    }

    /// IDENTIFY PACKET DEVICE: built the first time and kept, like IDENTIFY DEVICE.
    fn cmd_identify_packet(&mut self, tf: &mut Taskfile) -> Action {
        let number = self.core.number;
        let words = self.core.identify.get_or_insert_with(|| {
            let mut w = Box::new([0u16; 256]);
            // ATAPI, CD-ROM, removable, DRQ within 50 us, 12-byte packets.
            w[0] = (2 << 14) | (5 << 8) | (1 << 7) | (2 << 5);
            put_string(&mut w[10..20], &serial(number));
            w[20] = 3;
            w[21] = 512;
            w[22] = 4;
            put_string(&mut w[23..27], FIRMWARE_REVISION.as_bytes());
            put_string(&mut w[27..47], DRIVE_MODEL.as_bytes());
            w[48] = 1;
            w[49] = (1 << 9) | (1 << 8); // LBA, DMA
            w[53] = 7;
            (w[62], w[63], w[88]) = (0x07, 0x07, 0x203f);
            w[64] = 3;
            w[65] = 0xb4;
            w[66] = 0xb4;
            w[67] = 0x12c;
            w[68] = 0xb4;
            w[71] = 30;
            w[72] = 30;
            w[80] = 0x1e; // ATA/ATAPI-1 to 4
            w
        });
        put_words(self.core.io.upto(2 * words.len()), words);
        self.core.send_block(tf, 512)
    }

    /// PACKET: DRQ for the 12-byte command packet (no interrupt).
    fn cmd_packet(&mut self, tf: &mut Taskfile) -> Action {
        if tf.feature & PACKET_OVL != 0 {
            return Action::Fail(ERROR_ABRT);
        }
        self.dma = tf.feature & PACKET_DMA != 0;
        self.stop_transfer();
        self.core
            .pio_start(Dir::Out, 0, ATAPI_PACKET_SIZE, AfterPio::Packet);
        tf.nsector = INT_REASON_COD;
        tf.status = STATUS_READY | STATUS_DRQ;
        Action::Done
    }

    /// The byte count limit in LBA Mid/High (QEMU reads it afresh for every DRQ block); 0xFFFF
    /// means 0xFFFE.
    fn byte_count_limit(tf: &Taskfile) -> u64 {
        match u16::from(tf.hcyl) << 8 | u16::from(tf.lcyl) {
            0xffff => 0xfffe,
            n => u64::from(n),
        }
    }

    /// A PIO data command with a byte count limit of 0 is aborted at the ATA level: status
    /// 0x41, ABRT, no interrupt (QEMU's `validate_bcl`).
    fn validate_bcl(&mut self, tf: &mut Taskfile) -> bool {
        if self.dma || Self::byte_count_limit(tf) != 0 {
            return true;
        }
        tf.set_error(ERROR_ABRT);
        self.core.pio = Default::default();
        false
    }

    /// The command packet is in: execute it (QEMU's `ide_atapi_cmd`).
    fn packet(&mut self, ctx: &mut dyn Context, tf: &mut Taskfile) -> Action {
        let mut cdb = [0u8; ATAPI_PACKET_SIZE];
        cdb.copy_from_slice(&self.core.io[..ATAPI_PACKET_SIZE]);
        tracing::trace!(target: "ide_atapi_cmd", "unit {} cmd {:#04x}", self.core.unit(), cdb[0]);
        let op = cdb[0];
        let f = flags(op);
        let allow_ua = f.is_some_and(|f| f.allow_ua);
        if self.sense.key == SENSE_UNIT_ATTENTION && !allow_ua {
            return Self::check_status(tf);
        }
        // A changed medium is reported as absent once, then as a unit attention.
        if !allow_ua && !self.tray_open && self.medium.is_some() && self.changed != 0 {
            return if self.changed == 1 {
                self.changed = 2;
                self.error(tf, SENSE_NOT_READY, ASC_MEDIUM_NOT_PRESENT)
            } else {
                self.changed = 0;
                self.error(tf, SENSE_UNIT_ATTENTION, ASC_MEDIUM_MAY_HAVE_CHANGED)
            };
        }
        if f.is_some_and(|f| f.check_ready) && self.medium_present().is_none() {
            return self.error(tf, SENSE_NOT_READY, ASC_MEDIUM_NOT_PRESENT);
        }
        let Some(f) = f else {
            return self.error(tf, SENSE_ILLEGAL_REQUEST, ASC_ILLEGAL_OPCODE);
        };
        if !(f.nondata || f.conddata || self.validate_bcl(tf)) {
            return Action::Done;
        }
        match op {
            GPCMD_TEST_UNIT_READY | GPCMD_SET_SPEED => self.ok(tf),
            GPCMD_REQUEST_SENSE => self.cmd_request_sense(tf, &cdb),
            GPCMD_INQUIRY => self.cmd_inquiry(tf, &cdb),
            GPCMD_START_STOP_UNIT => self.cmd_start_stop_unit(ctx, tf, &cdb),
            GPCMD_PREVENT_ALLOW_MEDIUM_REMOVAL => {
                self.locked = cdb[4] & 1 != 0;
                self.ok(tf)
            }
            GPCMD_READ_CDVD_CAPACITY => self.cmd_read_capacity(tf),
            GPCMD_READ_10 => {
                let count = u32::from(be16(&cdb[7..9]));
                self.cmd_read(ctx, tf, be32(&cdb[2..6]), count)
            }
            GPCMD_READ_12 => self.cmd_read(ctx, tf, be32(&cdb[2..6]), be32(&cdb[6..10])),
            GPCMD_SEEK => self.cmd_seek(tf, &cdb),
            GPCMD_READ_TOC_PMA_ATIP => self.cmd_read_toc(tf, &cdb),
            GPCMD_GET_CONFIGURATION => self.cmd_get_configuration(tf, &cdb),
            GPCMD_GET_EVENT_STATUS_NOTIFICATION => self.cmd_get_event_status(tf, &cdb),
            GPCMD_READ_DISC_INFO => self.cmd_read_disc_information(tf, &cdb),
            GPCMD_MODE_SENSE_10 => self.cmd_mode_sense(tf, &cdb),
            GPCMD_READ_DVD_STRUCTURE => self.cmd_read_dvd_structure(tf, &cdb),
            GPCMD_MECHANISM_STATUS => {
                let mut r = Reply::new();
                r.bytes(&[0, 0, 0, 0, 0, 1, 0, 0]);
                self.reply(tf, &r, usize::from(be16(&cdb[8..10])))
            }
            GPCMD_READ_CD => self.cmd_read_cd(ctx, tf, &cdb),
            _ => self.error(tf, SENSE_ILLEGAL_REQUEST, ASC_ILLEGAL_OPCODE),
        }
    }

    /// The packet command completed: status 0x50, interrupt reason "command, to host". The
    /// sense data stays (QEMU).
    fn ok(&mut self, tf: &mut Taskfile) -> Action {
        tf.error = 0;
        tf.nsector = (tf.nsector & !INT_REASON_MASK) | INT_REASON_IO | INT_REASON_COD;
        self.core.pio = Default::default();
        self.stop_transfer();
        complete(tf, STATUS_READY)
    }

    /// The packet command failed (CHECK CONDITION): status 0x41, ERROR = sense key << 4.
    fn error(&mut self, tf: &mut Taskfile, key: u8, asc: u8) -> Action {
        self.sense = Sense { key, asc };
        self.stop_transfer();
        tf.error = key << 4;
        tf.nsector = (tf.nsector & !INT_REASON_MASK) | INT_REASON_IO | INT_REASON_COD;
        tf.status = STATUS_DRDY | STATUS_ERR;
        self.core.pio = Default::default();
        Action::Interrupt
    }

    /// A command other than REQUEST SENSE, INQUIRY, GET CONFIGURATION and GET EVENT STATUS while
    /// a unit attention is pending: status 0x01 (not even DRDY), ERROR 0x68, interrupt reason 0
    /// (QEMU's `ide_atapi_cmd_check_status`).
    fn check_status(tf: &mut Taskfile) -> Action {
        tf.error = ERROR_UNIT_ATTENTION;
        tf.status = STATUS_ERR;
        tf.nsector = 0;
        Action::Interrupt
    }

    /// A medium request failed: no medium is NOT READY, an injected medium error MEDIUM
    /// ERROR, anything else ILLEGAL REQUEST / LBA out of range (QEMU's `ide_atapi_io_error`).
    pub(super) fn io_error(&mut self, tf: &mut Taskfile, e: IoError) -> Action {
        match e {
            IoError::NoMedium => self.error(tf, SENSE_NOT_READY, ASC_MEDIUM_NOT_PRESENT),
            IoError::Medium => self.error(tf, SENSE_MEDIUM_ERROR, ASC_UNRECOVERED_READ_ERROR),
            _ => self.error(tf, SENSE_ILLEGAL_REQUEST, ASC_LOGICAL_BLOCK_OOR),
        }
    }

    /// Send `reply` (at most `alloc` bytes of it) in the data phase the packet asked for
    /// (QEMU's `ide_atapi_cmd_reply`).
    fn reply(&mut self, tf: &mut Taskfile, reply: &Reply, alloc: usize) -> Action {
        let size = reply.len.min(alloc).min(IO_BUFFER_SIZE);
        self.core.io.upto(size).copy_from_slice(&reply.buf[..size]);
        self.reading = false;
        self.xfer_left = size as u64;
        self.elementary = 0;
        self.buf_index = 0;
        if self.dma {
            return Action::Dma(DmaKind::Reply { len: size as u32 });
        }
        tf.status = STATUS_READY;
        self.reply_next(tf)
    }

    /// The next PIO block of the reply, or the end of the command (QEMU's
    /// `ide_atapi_cmd_reply_end`). A DRQ block ("elementary transfer") holds up to the byte
    /// count limit; when it spans sectors of a READ, the next sector is fetched in the middle of
    /// the block, without an interrupt. Each new block sets interrupt reason "data, to host",
    /// its size in LBA Mid/High, DRQ, and interrupts.
    fn reply_next(&mut self, tf: &mut Taskfile) -> Action {
        let bcl = Self::byte_count_limit(tf);
        if self.xfer_left == 0 {
            return self.ok(tf);
        }
        if self.reading && self.buf_index >= self.sector_size {
            if self.elementary == 0 {
                // A new block starts with a sector fetched from the medium.
                tf.status |= STATUS_BSY;
                return Action::Defer(Deferred::CdRead);
            }
            if let Err(e) = self.fetch_sector() {
                return self.io_error(tf, e);
            }
        }
        let size;
        let mut action = Action::Done;
        if self.elementary > 0 {
            size = self
                .elementary
                .min((self.sector_size - self.buf_index) as u64);
        } else {
            let mut limit = bcl;
            let mut n = self.xfer_left;
            if n > limit {
                // A block that is not the last has an even size.
                limit &= !1;
                n = limit;
            }
            self.elementary = n;
            tf.nsector = (tf.nsector & !INT_REASON_MASK) | INT_REASON_IO;
            tf.lcyl = n as u8;
            tf.hcyl = (n >> 8) as u8;
            size = if self.reading {
                n.min((self.sector_size - self.buf_index) as u64)
            } else {
                n
            };
            action = Action::Interrupt;
        }
        self.xfer_left -= size;
        self.elementary -= size;
        let start = self.buf_index;
        self.buf_index += size as usize;
        let end = start + size as usize;
        // An odd block is padded to a whole word (QEMU leaves its last byte unreadable).
        if end % 2 == 1 && end < IO_BUFFER_SIZE {
            self.core.io.upto(end + 1)[end] = 0;
        }
        if size == 0 {
            // A byte count limit of 1 cannot move data: the block stays empty, as in QEMU.
            self.core
                .pio_start(Dir::In, start, start, AfterPio::AtapiReply);
        } else {
            self.core
                .pio_start(Dir::In, start, end + end % 2, AfterPio::AtapiReply);
        }
        tf.status = (tf.status & !STATUS_BSY) | STATUS_DRQ;
        action
    }

    /// Read sector `read_lba` of the medium into the start of the buffer (as a raw sector for
    /// READ CD's 2352-byte sectors) and advance.
    fn fetch_sector(&mut self) -> Result<(), IoError> {
        let lba = self.read_lba;
        let medium = self
            .medium
            .as_ref()
            .filter(|_| !self.tray_open)
            .ok_or(IoError::NoMedium)?;
        Fault::check(self.fault, lba, 1)?;
        let io = self.core.io.upto(CD_RAW_SECTOR_SIZE);
        if self.sector_size == CD_RAW_SECTOR_SIZE {
            medium.read(lba, &mut io[16..16 + CD_SECTOR_SIZE])?;
            cd_data_to_raw(&mut io[..CD_RAW_SECTOR_SIZE], lba);
        } else {
            medium.read(lba, &mut io[..CD_SECTOR_SIZE])?;
        }
        tracing::trace!(target: "dma_blk_io", "offset {:#x} bytes {CD_SECTOR_SIZE} to_dev false", lba * CD_SECTOR_SIZE as u64);
        self.read_lba += 1;
        self.buf_index = 0;
        Ok(())
    }

    /// The sector of a PIO READ has been fetched (or failed): BSY clears and the block starts.
    fn read_sector(&mut self, tf: &mut Taskfile) -> Action {
        if let Err(e) = self.fetch_sector() {
            return self.io_error(tf, e);
        }
        tf.status &= !STATUS_BSY;
        self.reply_next(tf)
    }

    /// Start reading `count` sectors of `sector_size` bytes from `lba` (checked by the caller).
    fn start_read(&mut self, tf: &mut Taskfile, lba: u64, count: u32, raw: bool) -> Action {
        let sector_size = if raw {
            CD_RAW_SECTOR_SIZE
        } else {
            CD_SECTOR_SIZE
        };
        self.sector_size = sector_size;
        if self.dma {
            // BSY and DRQ until the transfer ends (QEMU: "check if BUSY_STAT should be set");
            // the channel sets them.
            return Action::Dma(DmaKind::CdRead {
                lba,
                left: count,
                raw,
            });
        }
        self.reading = true;
        self.read_lba = lba;
        self.xfer_left = u64::from(count) * sector_size as u64;
        self.elementary = 0;
        self.buf_index = sector_size;
        tf.status = STATUS_READY;
        self.reply_next(tf)
    }

    /// Check `count` sectors at `lba` against the medium: ILLEGAL REQUEST / LBA out of range
    /// (the error's action) when they are not on it.
    fn read_range_check(
        &mut self,
        ctx: &mut dyn Context,
        tf: &mut Taskfile,
        lba: u32,
        count: u32,
    ) -> Option<Action> {
        let overread_bug = self.core.planted.active(ATAPI_LBA_OVERREAD);
        let total = self.medium_present().map_or(0, |m| m.sectors());
        if let Some(bug) = overread_bug {
            bug.reached(ctx);
        }
        let (lba, count) = (u64::from(lba), u64::from(count));
        if lba + count > total {
            // The range check of CVE-2020-29443's fix.
            let Some(bug) = overread_bug else {
                return Some(self.error(tf, SENSE_ILLEGAL_REQUEST, ASC_LOGICAL_BLOCK_OOR));
            };
            // PLANTED `ide-atapi-lba-overread`: the LBA and length go unchecked to the reads.
            bug.triggered(ctx);
        }
        None
    }

    /// READ(10)/READ(12): `count` sectors from `lba`.
    fn cmd_read(
        &mut self,
        ctx: &mut dyn Context,
        tf: &mut Taskfile,
        lba: u32,
        count: u32,
    ) -> Action {
        if count == 0 {
            return self.ok(tf);
        }
        if let Some(error) = self.read_range_check(ctx, tf, lba, count) {
            return error;
        }
        self.start_read(tf, u64::from(lba), count, false)
    }

    /// READ CD: user data (2048 bytes a sector) or all of a raw sector (2352), by CDB byte 9.
    fn cmd_read_cd(&mut self, ctx: &mut dyn Context, tf: &mut Taskfile, cdb: &[u8]) -> Action {
        let count = u32::from(cdb[6]) << 16 | u32::from(cdb[7]) << 8 | u32::from(cdb[8]);
        if count == 0 {
            return self.ok(tf);
        }
        let lba = be32(&cdb[2..6]);
        if let Some(error) = self.read_range_check(ctx, tf, lba, count) {
            return error;
        }
        let request = cdb[9] & 0xf8;
        if request == 0 {
            return self.ok(tf);
        }
        if !self.validate_bcl(tf) {
            return Action::Done;
        }
        match request {
            0x10 => self.start_read(tf, u64::from(lba), count, false),
            0xf8 => self.start_read(tf, u64::from(lba), count, true),
            _ => self.error(tf, SENSE_ILLEGAL_REQUEST, ASC_INV_FIELD_IN_CMD_PACKET),
        }
    }

    /// SEEK(10): the LBA must be on the medium.
    fn cmd_seek(&mut self, tf: &mut Taskfile, cdb: &[u8]) -> Action {
        let total = self.medium_present().map_or(0, |m| m.sectors());
        if u64::from(be32(&cdb[2..6])) >= total {
            return self.error(tf, SENSE_ILLEGAL_REQUEST, ASC_LOGICAL_BLOCK_OOR);
        }
        self.ok(tf)
    }

    /// REQUEST SENSE: fixed-format sense data (valid bit set, no qualifier); reporting a unit
    /// attention clears its key, any other sense stays until the next error (QEMU).
    fn cmd_request_sense(&mut self, tf: &mut Taskfile, cdb: &[u8]) -> Action {
        let s = self.sense;
        if s.key == SENSE_UNIT_ATTENTION {
            self.sense.key = SENSE_NONE;
        }
        let mut r = Reply::new();
        r.bytes(&[
            0xf0, 0, s.key, 0, 0, 0, 0, 10, 0, 0, 0, 0, s.asc, 0, 0, 0, 0, 0,
        ]);
        self.reply(tf, &r, usize::from(cdb[4]))
    }

    /// INQUIRY: standard data, or the vital product data pages 0x00 (supported pages) and 0x83
    /// (device identification, as libata builds it).
    fn cmd_inquiry(&mut self, tf: &mut Taskfile, cdb: &[u8]) -> Action {
        let serial = serial(self.core.number);
        let alloc = usize::from(cdb[4]);
        let mut r = Reply::new();
        if cdb[1] & 1 == 0 {
            // CD/DVD device, removable, ATAPI-2 (QEMU's version bytes), 31 more bytes.
            r.bytes(&[0x05, 0x80, 0x00, 0x21, 31, 0, 0, 0]);
            r.bytes(INQUIRY_VENDOR);
            r.bytes(INQUIRY_PRODUCT);
            r.padded(FIRMWARE_REVISION.as_bytes(), 4);
            return self.reply(tf, &r, alloc);
        }
        let page = cdb[2];
        r.bytes(&[0x05, page, 0, 0]);
        match page {
            0x00 => r.bytes(&[0x00, 0x83]),
            0x83 => {
                if r.len + 24 > alloc {
                    return self.error(tf, SENSE_ILLEGAL_REQUEST, ASC_DATA_PHASE_ERROR);
                }
                // Vendor-specific: the serial number.
                r.bytes(&[0x02, 0x00, 0x00, 20]);
                r.padded(&serial, 20);
                // T10 vendor identification: "ATA", the model and the serial.
                if r.len + 72 <= alloc {
                    r.bytes(&[0x02, 0x01, 0x00, 68]);
                    r.padded(b"ATA", 8);
                    r.padded(DRIVE_MODEL.as_bytes(), 40);
                    r.padded(&serial, 20);
                }
            }
            _ => return self.error(tf, SENSE_ILLEGAL_REQUEST, ASC_INV_FIELD_IN_CMD_PACKET),
        }
        r.buf[3] = (r.len - 4) as u8;
        self.reply(tf, &r, alloc)
    }

    /// START STOP UNIT: load or eject (unless locked); a power condition is accepted as is.
    fn cmd_start_stop_unit(
        &mut self,
        ctx: &mut dyn Context,
        tf: &mut Taskfile,
        cdb: &[u8],
    ) -> Action {
        let (start, load_eject, power_condition) = (cdb[4] & 1 != 0, cdb[4] & 2 != 0, cdb[4] >> 4);
        if power_condition != 0 {
            if let Some(bug) = self.core.planted.active(ATAPI_DATA_OVERRUN) {
                // PLANTED `ide-atapi-data-overrun` (CVE-2015-5154): the power-condition path
                // returns without completing the command: DRQ stays set, the packet transfer
                // stays current with its pointer at its end.
                bug.reached(ctx);
                return Action::Done;
            }
            return self.ok(tf);
        }
        if load_eject {
            if !start && !self.tray_open && self.locked {
                let key = if self.medium.is_some() {
                    SENSE_NOT_READY
                } else {
                    SENSE_ILLEGAL_REQUEST
                };
                return self.error(tf, key, ASC_MEDIA_REMOVAL_PREVENTED);
            }
            self.tray_open = !start;
        }
        self.ok(tf)
    }

    /// READ CAPACITY: the last LBA and the block size.
    fn cmd_read_capacity(&mut self, tf: &mut Taskfile) -> Action {
        let total = self.medium_present().map_or(0, |m| m.sectors());
        let mut r = Reply::new();
        r.u32(total.wrapping_sub(1) as u32);
        r.u32(CD_SECTOR_SIZE as u32);
        self.reply(tf, &r, 8)
    }
    /// READ TOC/PMA/ATIP, by the format in bits 7:6 of the last CDB byte (SFF-8020; QEMU
    /// ignores byte 2): 0 the TOC (one data track and the lead-out), 1 the session
    /// information, 2 the raw TOC.
    fn cmd_read_toc(&mut self, tf: &mut Taskfile, cdb: &[u8]) -> Action {
        let total = self.medium_present().map_or(0, |m| m.sectors());
        let msf = cdb[1] & 2 != 0;
        let track = cdb[6];
        let alloc = usize::from(be16(&cdb[7..9]));
        let mut r = Reply::new();
        match cdb[9] >> 6 {
            0 if track <= 1 || track == TOC_LEAD_OUT => {
                r.bytes(&[0, 0, 1, 1]);
                if track <= 1 {
                    r.bytes(&[0, 0x14, 1, 0]);
                    put_address(&mut r, 0, msf);
                }
                r.bytes(&[0, 0x16, TOC_LEAD_OUT, 0]);
                put_address(&mut r, total, msf);
            }
            1 => r.bytes(&[0, 0x0a, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0]),
            2 => {
                r.bytes(&[0, 0, 1, 1]);
                // Points A0 (first track), A1 (last track), A2 (lead-out) and track 1.
                r.bytes(&[1, 0x14, 0, 0xa0, 0, 0, 0, 0, 1, 0, 0]);
                r.bytes(&[1, 0x14, 0, 0xa1, 0, 0, 0, 0, 1, 0, 0]);
                r.bytes(&[1, 0x14, 0, 0xa2, 0, 0, 0]);
                put_address(&mut r, total, msf);
                r.bytes(&[1, 0x14, 0, 1, 0, 0, 0]);
                put_address(&mut r, 0, msf);
            }
            _ => {
                return self.error(tf, SENSE_ILLEGAL_REQUEST, ASC_INV_FIELD_IN_CMD_PACKET);
            }
        }
        if cdb[9] >> 6 != 1 {
            let data_length = (r.len - 2) as u16;
            r.set_u16(0, data_length);
        }
        self.reply(tf, &r, alloc)
    }

    /// The profile the medium makes current: DVD-ROM, CD-ROM, or none.
    fn current_profile(&self) -> u16 {
        match self.medium_present().map(|m| m.sectors()) {
            Some(n) if n > CD_MAX_SECTORS => MMC_PROFILE_DVD_ROM,
            Some(n) if n > 0 => MMC_PROFILE_CD_ROM,
            _ => 0,
        }
    }

    /// GET CONFIGURATION: only from feature 0, the profile list (DVD-ROM and CD-ROM).
    fn cmd_get_configuration(&mut self, tf: &mut Taskfile, cdb: &[u8]) -> Action {
        if cdb[2] != 0 || cdb[3] != 0 {
            return self.error(tf, SENSE_ILLEGAL_REQUEST, ASC_INV_FIELD_IN_CMD_PACKET);
        }
        let current = self.current_profile();
        let alloc = usize::from(be16(&cdb[7..9])).min(GET_CONFIGURATION_MAX);
        let mut r = Reply::new();
        r.u32(16); // data length
        r.zeros(2);
        r.u16(current);
        // Feature 0 (profile list): persistent, current, 8 bytes of descriptors.
        r.bytes(&[0, 0, 0x03, 8]);
        for profile in [MMC_PROFILE_DVD_ROM, MMC_PROFILE_CD_ROM] {
            r.u16(profile);
            r.bytes(&[u8::from(profile == current), 0]);
        }
        self.reply(tf, &r, alloc)
    }

    /// GET EVENT STATUS NOTIFICATION (polled): the media class; reporting an event clears it.
    fn cmd_get_event_status(&mut self, tf: &mut Taskfile, cdb: &[u8]) -> Action {
        if cdb[1] & GESN_POLLED == 0 {
            return self.error(tf, SENSE_ILLEGAL_REQUEST, ASC_INV_FIELD_IN_CMD_PACKET);
        }
        let alloc = usize::from(be16(&cdb[7..9]));
        let supported = 1 << GESN_MEDIA_CLASS;
        let mut r = Reply::new();
        if cdb[4] & supported != 0 {
            let status = if self.tray_open {
                MS_TRAY_OPEN
            } else if self.medium.is_some() {
                MS_MEDIA_PRESENT
            } else {
                0
            };
            let mut event = MEC_NO_CHANGE;
            if status != MS_TRAY_OPEN {
                if self.new_media {
                    event = MEC_NEW_MEDIA;
                    self.new_media = false;
                } else if self.eject_request {
                    event = MEC_EJECT_REQUESTED;
                    self.eject_request = false;
                }
            }
            r.bytes(&[0, 4, GESN_MEDIA_CLASS, supported, event, status, 0, 0]);
        } else {
            r.bytes(&[0, 0, GESN_NEA, supported]);
        }
        self.reply(tf, &r, alloc)
    }

    /// READ DISC INFORMATION (standard type only): one complete session, one track.
    fn cmd_read_disc_information(&mut self, tf: &mut Taskfile, cdb: &[u8]) -> Action {
        if cdb[1] & 7 != 0 {
            return self.error(tf, SENSE_ILLEGAL_REQUEST, ASC_INV_FIELD_IN_CMD_PACKET);
        }
        let mut r = Reply::new();
        r.bytes(&[0, 32, 0x0e, 1, 1, 1, 1, 0x20]);
        r.zeros(34 - 8);
        self.reply(tf, &r, usize::from(be16(&cdb[7..9])))
    }

    /// MODE SENSE(10), current values only: the R/W error recovery, CD audio control and CD
    /// capabilities pages.
    fn cmd_mode_sense(&mut self, tf: &mut Taskfile, cdb: &[u8]) -> Action {
        let locked = self.locked;
        let alloc = usize::from(be16(&cdb[7..9]));
        let (control, page) = (cdb[2] >> 6, cdb[2] & 0x3f);
        if control == 3 {
            return self.error(
                tf,
                SENSE_ILLEGAL_REQUEST,
                ASC_SAVING_PARAMETERS_NOT_SUPPORTED,
            );
        }
        let len = match page {
            MODE_PAGE_R_W_ERROR => 16,
            MODE_PAGE_AUDIO_CTL => 24,
            MODE_PAGE_CAPABILITIES => 30,
            _ => 0,
        };
        if control != 0 || len == 0 {
            return self.error(tf, SENSE_ILLEGAL_REQUEST, ASC_INV_FIELD_IN_CMD_PACKET);
        }
        let mut r = Reply::new();
        // Header: mode data length, medium type 0x70 (QEMU), no block descriptors.
        r.u16(len as u16 - 2);
        r.bytes(&[0x70, 0, 0, 0, 0, 0]);
        r.bytes(&[page, len as u8 - 10]);
        match page {
            MODE_PAGE_R_W_ERROR => r.bytes(&[0, 5, 0, 0, 0, 0]),
            MODE_PAGE_AUDIO_CTL => r.zeros(14),
            _ => {
                r.bytes(&[
                    0x3b, // reads CD-R, CD-RW, method 2, DVD-ROM
                    0,
                    0x71, // audio play, composite, digital ports, multi-session
                    0x60, // ISRC, UPC
                    // tray loading mechanism, eject, lock, lock state
                    0x29 | (u8::from(locked) << 1),
                    0,
                ]);
                r.u16(704); // maximum read speed (4x)
                r.u16(2); // volume levels
                r.u16(512); // buffer (KiB)
                r.u16(704); // current read speed
                r.zeros(6);
            }
        }
        self.reply(tf, &r, alloc)
    }

    /// READ DVD STRUCTURE of a DVD medium (layer 0): physical format, copyright, manufacturing
    /// information, and the list of these (format 0xFF).
    fn cmd_read_dvd_structure(&mut self, tf: &mut Taskfile, cdb: &[u8]) -> Action {
        let total = self.medium_present().map_or(0, |m| m.sectors());
        let profile = self.current_profile();
        let alloc = usize::from(be16(&cdb[8..10]));
        match Self::dvd_structure(cdb, total, profile) {
            Ok(r) => self.reply(tf, &r, alloc),
            Err(asc) => self.error(tf, SENSE_ILLEGAL_REQUEST, asc),
        }
    }

    /// The READ DVD STRUCTURE reply, or the additional sense code of its error.
    fn dvd_structure(cdb: &[u8], total: u64, profile: u16) -> Result<Reply, u8> {
        let (media, format, layer) = (cdb[1], cdb[7], cdb[6]);
        if format < 0xff {
            if profile == MMC_PROFILE_CD_ROM {
                return Err(ASC_INCOMPATIBLE_FORMAT);
            } else if profile == 0 {
                return Err(ASC_INV_FIELD_IN_CMD_PACKET);
            }
        }
        let mut r = Reply::new();
        match format {
            _ if media != 0 => return Err(ASC_INV_FIELD_IN_CMD_PACKET),
            0x00 => {
                if layer != 0 {
                    return Err(ASC_INV_FIELD_IN_CMD_PACKET);
                }
                // DVD-ROM part version 1, 120 mm, one layer read-only, sectors 0..total-1.
                r.bytes(&[0, 0, 0, 0, 1, 0x0f, 1, 0]);
                r.u32(0);
                r.u32(total.wrapping_sub(1) as u32);
                r.u32(total.wrapping_sub(1) as u32);
                r.set_u16(0, 2048 + 2);
                r.len = 2048 + 4;
            }
            // No copyright protection, no region restriction.
            0x01 => r.bytes(&[0, 4 + 2, 0, 0, 0, 0, 0, 0]),
            0x04 => {
                r.set_u16(0, 2048 + 2);
                r.len = 2048 + 4;
            }
            0xff => {
                r.bytes(&[0, 16 + 2, 0, 0]);
                for (f, len) in [
                    (0x00u8, 2048 + 4u16),
                    (0x01, 4 + 4),
                    (0x03, 188 + 4),
                    (0x04, 2048 + 4),
                ] {
                    r.bytes(&[f, 0x40]);
                    r.u16(len);
                }
            }
            _ => return Err(ASC_INV_FIELD_IN_CMD_PACKET),
        }
        Ok(r)
    }

    /// The user pressed eject, or closed the tray (the event [`super::EVENT_MEDIUM`]), as
    /// QEMU's `eject` and `change` monitor commands do: an unlocked tray opens and the medium is
    /// taken out; a locked one only posts an eject request; an open tray closes with the
    /// medium put back. Each change is a new-media event, a medium change reported to the next
    /// command, and an interrupt.
    pub(super) fn medium_event(&mut self) -> Action {
        if self.tray_open {
            self.tray_open = false;
            self.medium.clone_from(&self.power_on_medium);
        } else if self.locked {
            self.eject_request = true;
            return Action::Interrupt;
        } else {
            self.tray_open = true;
            self.medium = None;
        }
        self.changed = 1;
        self.new_media = true;
        self.eject_request = false;
        Action::Interrupt
    }

    // ---- DMA data phase ------------------------------------------------------------------

    /// Bytes per sector, and bytes wanted for the next step, of a transfer.
    pub(super) fn dma_step(kind: DmaKind) -> (u64, u64) {
        match kind {
            DmaKind::CdRead {
                left, raw: false, ..
            } => (
                CD_SECTOR_SIZE as u64,
                u64::from(left.min(CD_DMA_CHUNK_SECTORS)) * CD_SECTOR_SIZE as u64,
            ),
            DmaKind::CdRead { raw: true, .. } => {
                let raw = CD_RAW_SECTOR_SIZE as u64;
                (raw, raw)
            }
            DmaKind::Reply { len } => (1, u64::from(len)),
            DmaKind::Ata { .. } | DmaKind::Trim => (1, 0),
        }
    }

    /// Move the bytes `segs` describe for `kind`. A read is checked before any data moves.
    pub(super) fn dma_transfer(
        &mut self,
        ctx: &mut dyn Context,
        kind: DmaKind,
        segs: &Segments,
    ) -> Result<(), IoError> {
        let bytes = segs.total;
        let mut cursor = Cursor::new(segs);
        match kind {
            DmaKind::CdRead { lba, raw, .. } => {
                let sector_size = if raw {
                    CD_RAW_SECTOR_SIZE
                } else {
                    CD_SECTOR_SIZE
                };
                let count = bytes.div_ceil(sector_size as u64);
                let medium = self.medium_present().ok_or(IoError::NoMedium)?;
                Fault::check(self.fault, lba, count)?;
                tracing::trace!(
                    target: "dma_blk_io",
                    "offset {:#x} bytes {bytes} to_dev false",
                    lba * CD_SECTOR_SIZE as u64
                );
                let on_medium = lba
                    .checked_add(count)
                    .is_some_and(|end| end <= medium.sectors());
                if !raw && on_medium {
                    // The whole run at once: straight from the medium's memory, or one read
                    // of the image file.
                    for _ in 0..count {
                        ctx.work(1);
                    }
                    let len = count as usize * CD_SECTOR_SIZE;
                    if let Some(data) = medium.run(lba, count) {
                        cursor.put(ctx, &data[..bytes as usize]);
                    } else {
                        let mut chunk = vec![0u8; len];
                        medium.read_run(lba, &mut chunk)?;
                        cursor.put(ctx, &chunk[..bytes as usize]);
                    }
                    return cursor.budget_check();
                }
                let mut chunk = vec![0u8; count as usize * sector_size];
                for (i, sector) in chunk.chunks_mut(sector_size).enumerate() {
                    ctx.work(1);
                    let lba = lba + i as u64;
                    if raw {
                        medium.read(lba, &mut sector[16..16 + CD_SECTOR_SIZE])?;
                        cd_data_to_raw(sector, lba);
                    } else {
                        medium.read(lba, sector)?;
                    }
                }
                cursor.put(ctx, &chunk[..bytes as usize]);
                return cursor.budget_check();
            }
            DmaKind::Reply { .. } => {
                let len = (bytes as usize).min(IO_BUFFER_SIZE);
                cursor.put(ctx, &self.core.io[..len]);
            }
            DmaKind::Ata { .. } | DmaKind::Trim => {}
        }
        Ok(())
    }

    /// `sectors` of `kind` moved: what is left of it, or `None` when it is complete.
    pub(super) fn dma_advance(kind: DmaKind, sectors: u32) -> Option<DmaKind> {
        match kind {
            DmaKind::CdRead { lba, left, raw } => {
                let left = left.saturating_sub(sectors);
                (left != 0).then_some(DmaKind::CdRead {
                    lba: lba + u64::from(sectors),
                    left,
                    raw,
                })
            }
            _ => None,
        }
    }

    /// The transfer completed: the packet command is over.
    pub(super) fn dma_done(&mut self, tf: &mut Taskfile) -> Action {
        self.ok(tf)
    }
}
