//! What both drive kinds share, and what their handlers hand back to the channel.
//!
//! A drive ([`super::ata::AtaDisk`] or [`super::atapi::AtapiCd`]) runs its command set on the
//! registers of its unit and returns an [`Action`]: the part of the protocol the channel owns
//! (the interrupt line, the request latency on the virtual clock, the bus master). The PIO data
//! phase is a window of the drive's buffer ([`DriveCore::pio`]) that the channel moves through
//! the data register, calling the drive back ([`AfterPio`]) when the window is used up.
//!
//! The ATA commands both kinds take (SET FEATURES, the power-management commands, EXECUTE DEVICE
//! DIAGNOSTIC) and the IDENTIFY strings are here too.

use super::backend::{IoError, SECTOR_SIZE};
use super::taskfile::{ERROR_ABRT, ERROR_UNC, STATUS_DRQ, STATUS_READY, Taskfile};
use crate::planted_bug::Planted;
use std::fmt;

// ATA commands (ATA/ATAPI-7 names) both drive kinds know.
pub(super) const WIN_READ: u8 = 0x20; // READ SECTORS
pub(super) const WIN_DIAGNOSE: u8 = 0x90; // EXECUTE DEVICE DIAGNOSTIC
pub(super) const WIN_STANDBYNOW2: u8 = 0x94; // STANDBY IMMEDIATE (old code)
pub(super) const WIN_CHECKPOWERMODE2: u8 = 0x98; // CHECK POWER MODE (old code)
pub(super) const WIN_SLEEPNOW2: u8 = 0x99; // SLEEP (old code)
pub(super) const WIN_STANDBYNOW1: u8 = 0xe0; // STANDBY IMMEDIATE
pub(super) const WIN_IDLE: u8 = 0xe3; // IDLE (0xE1 IDLE IMMEDIATE, 0xE2 STANDBY)
pub(super) const WIN_CHECKPOWERMODE1: u8 = 0xe5; // CHECK POWER MODE
pub(super) const WIN_SLEEPNOW1: u8 = 0xe6; // SLEEP
pub(super) const WIN_FLUSH_CACHE: u8 = 0xe7; // FLUSH CACHE
pub(super) const WIN_FLUSH_CACHE_EXT: u8 = 0xea; // FLUSH CACHE EXT
pub(super) const WIN_IDENTIFY: u8 = 0xec; // IDENTIFY DEVICE
pub(super) const WIN_SETFEATURES: u8 = 0xef; // SET FEATURES

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

/// Firmware revision in IDENTIFY (QEMU's hardware version string).
pub(super) const FIRMWARE_REVISION: &str = "2.5+";
/// Bytes of a drive's PIO buffer: a READ/WRITE MULTIPLE block of 16 sectors (and room for a CD
/// sector or any ATAPI reply).
pub(super) const IO_BUFFER_SIZE: usize = 16 * SECTOR_SIZE;

/// What the channel must do once a drive's handler has set its registers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Action {
    /// Nothing more: the registers say it all (DRQ for a data phase the host starts, or a
    /// command that ends without an interrupt).
    Done,
    /// Assert INTRQ.
    Interrupt,
    /// The command fails with this ERROR value: status 0x41, the PIO transfer dropped, an
    /// interrupt.
    Fail(u8),
    /// The drive works (BSY) for the request latency, then the channel calls it back with this.
    Defer(Deferred),
    /// A DMA data phase: wait for the bus master to run this transfer.
    Dma(DmaKind),
    /// DEVICE RESET: finish the unit's request in flight, then reset it.
    ResetUnit,
}

/// Work a drive finishes after the request latency.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Deferred {
    /// A disk's PIO read block is read from the medium.
    PioRead,
    /// A disk's PIO write block is committed.
    PioWrite,
    /// A CD-ROM's PIO read has fetched its next sector.
    CdRead,
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

/// A drive's PIO buffer. It knows how far it was written since it was last all zeros, so a
/// snapshot load copies only that much (the whole 8 KiB per drive was a tenth of the `ide`
/// target's restores).
pub(super) struct IoBuffer {
    bytes: Box<[u8; IO_BUFFER_SIZE]>,
    /// Every byte from here on is zero.
    used: usize,
}

/// `clone_from` copies into the buffer it has, only the bytes either side may have written.
impl Clone for IoBuffer {
    fn clone(&self) -> Self {
        Self {
            bytes: self.bytes.clone(),
            used: self.used,
        }
    }

    fn clone_from(&mut self, source: &Self) {
        let n = self.used.max(source.used);
        self.bytes[..n].copy_from_slice(&source.bytes[..n]);
        self.used = source.used;
    }
}

/// Equal when the bytes are.
impl PartialEq for IoBuffer {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}

impl Eq for IoBuffer {}

impl IoBuffer {
    fn new() -> Self {
        Self {
            bytes: Box::new([0; IO_BUFFER_SIZE]),
            used: 0,
        }
    }

    /// The first `end` bytes, to write (`end` at most [`IO_BUFFER_SIZE`]).
    pub fn upto(&mut self, end: usize) -> &mut [u8] {
        self.used = self.used.max(end.min(IO_BUFFER_SIZE));
        &mut self.bytes[..end]
    }

    /// All zeros again.
    pub fn clear(&mut self) {
        self.bytes[..self.used].fill(0);
        self.used = 0;
    }
}

impl std::ops::Deref for IoBuffer {
    type Target = [u8; IO_BUFFER_SIZE];
    fn deref(&self) -> &Self::Target {
        &self.bytes
    }
}

impl fmt::Debug for IoBuffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let used = self
            .bytes
            .iter()
            .rposition(|b| *b != 0)
            .map_or(0, |i| i + 1);
        write!(f, "IoBuffer({:02x?})", &self.bytes[..used.min(64)])?;
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

/// The state every drive has: its buffer and PIO window, its IDENTIFY block and the settings of
/// SET FEATURES.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct DriveCore {
    pub io: IoBuffer,
    pub pio: Pio,
    /// Drive number for the serial ("QM0000n", 1 + 2 * channel + unit).
    pub number: u8,
    /// The IDENTIFY (PACKET) DEVICE block, built by the first IDENTIFY and kept from then on,
    /// resets included; SET FEATURES updates its words 62, 63, 85 and 88 (QEMU's
    /// `identify_data`).
    pub identify: Option<Box<[u16; 256]>>,
    pub write_cache: bool,
    /// The planted bugs the device was built with.
    pub planted: Planted,
}

harness::clone_by_field!(DriveCore {
    io,
    pio,
    number,
    identify,
    write_cache,
    planted,
});

impl DriveCore {
    /// Drive `number`, in its power-on state.
    pub fn new(number: u8) -> Self {
        Self {
            io: IoBuffer::new(),
            pio: Pio::default(),
            number,
            identify: None,
            write_cache: true,
            planted: Planted::NONE,
        }
    }

    /// The power-on state (the planted-bug selection stays).
    pub fn power_on(&mut self) {
        self.pio = Pio::default();
        self.io.clear();
        self.identify = None;
        self.write_cache = true;
    }

    /// The unit slot the drive sits in (0 master, 1 slave), from its number.
    pub fn unit(&self) -> u8 {
        self.number.wrapping_sub(1) % 2
    }

    /// Start a PIO transfer of `start..end` of the buffer.
    pub fn pio_start(&mut self, dir: Dir, start: usize, end: usize, after: AfterPio) {
        self.pio = Pio {
            dir,
            ptr: start,
            end: end.min(IO_BUFFER_SIZE),
            after,
        };
    }

    /// Start a PIO transfer of the first `len` bytes of the buffer to the host, with status
    /// DRQ and an interrupt (IDENTIFY, SMART READ DATA).
    pub fn send_block(&mut self, tf: &mut Taskfile, len: usize) -> Action {
        self.pio_start(Dir::In, 0, len, AfterPio::Stop);
        tf.status = STATUS_READY | STATUS_DRQ;
        Action::Interrupt
    }

    /// SET FEATURES (both device kinds).
    pub fn set_features(&mut self, tf: &mut Taskfile) -> Action {
        match tf.feature {
            SETFEATURES_EN_WCACHE | SETFEATURES_DIS_WCACHE => {
                self.write_cache = tf.feature == SETFEATURES_EN_WCACHE;
                if let Some(w) = &mut self.identify {
                    w[85] = (1 << 14) | u16::from(self.write_cache) << 5 | 1;
                }
            }
            SETFEATURES_XFER => match tf.nsector >> 3 {
                XFER_PIO_DEFAULT | XFER_PIO | XFER_SW_DMA | XFER_MW_DMA | XFER_UDMA => {
                    if let Some(w) = &mut self.identify {
                        (w[62], w[63], w[88]) = dma_mode_words(tf.nsector);
                    }
                }
                _ => return Action::Fail(ERROR_ABRT),
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
            _ => return Action::Fail(ERROR_ABRT),
        }
        complete(tf, STATUS_READY)
    }
}

/// The command succeeded: `status`, an interrupt.
pub(super) fn complete(tf: &mut Taskfile, status: u8) -> Action {
    tf.status = status;
    Action::Interrupt
}

/// EXECUTE DEVICE DIAGNOSTIC: the signature and error 0x01; a disk interrupts, a packet device
/// does not.
pub(super) fn diagnose(tf: &mut Taskfile, cd: bool) -> Action {
    if tf.diagnostic(Some(cd)) {
        Action::Interrupt
    } else {
        Action::Done
    }
}

/// The ERROR register value for a failed disk request.
pub(super) fn error_bits(e: IoError) -> u8 {
    match e {
        IoError::Medium => ERROR_UNC,
        _ => ERROR_ABRT,
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

#[cfg(test)]
mod tests {
    use super::{IO_BUFFER_SIZE, IoBuffer};
    use proptest::prelude::*;

    /// What one step does to a pair of buffers: write a run of bytes into one, clear one, or
    /// load one from the other.
    #[derive(Clone, Debug)]
    enum Step {
        Write {
            to: usize,
            at: usize,
            bytes: Vec<u8>,
        },
        Clear(usize),
        Load {
            to: usize,
        },
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            (
                0..2usize,
                0..IO_BUFFER_SIZE,
                prop::collection::vec(any::<u8>(), 1..64)
            )
                .prop_map(|(to, at, bytes)| Step::Write { to, at, bytes }),
            (0..2usize).prop_map(Step::Clear),
            (0..2usize).prop_map(|to| Step::Load { to }),
        ]
    }

    proptest! {
        /// Loading copies only the bytes either buffer wrote, and that is all it needs to:
        /// the buffers hold what plain arrays given the same steps hold.
        #[test]
        fn a_buffer_loads_and_clears_as_a_whole_copy_would(steps in prop::collection::vec(step(), 1..40)) {
            let mut bufs = [IoBuffer::new(), IoBuffer::new()];
            let mut plain = [vec![0u8; IO_BUFFER_SIZE], vec![0u8; IO_BUFFER_SIZE]];
            for s in steps {
                match s {
                    Step::Write { to, at, bytes } => {
                        let end = (at + bytes.len()).min(IO_BUFFER_SIZE);
                        bufs[to].upto(end)[at..].copy_from_slice(&bytes[..end - at]);
                        plain[to][at..end].copy_from_slice(&bytes[..end - at]);
                    }
                    Step::Clear(to) => {
                        bufs[to].clear();
                        plain[to].fill(0);
                    }
                    Step::Load { to } => {
                        let [a, b] = &mut bufs;
                        if to == 0 { a.clone_from(b) } else { b.clone_from(a) }
                        plain[to] = plain[1 - to].clone();
                    }
                }
                for i in 0..2 {
                    prop_assert_eq!(&bufs[i][..], &plain[i][..]);
                }
                prop_assert_eq!(bufs[0] == bufs[1], plain[0] == plain[1]);
            }
        }
    }
}
