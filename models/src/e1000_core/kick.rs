//! The transmit engine's quota per kick.
//!
//! QEMU walks the whole ring inside the TDT write. A ring of 65536 TSO descriptors with
//! `mss = 1` is then billions of frames for one register write: bounded, but no fuzzer (and no
//! work budget meant to catch endless loops) can tell it from a hang. Real hardware transmits
//! asynchronously at wire speed and drivers wait for descriptor write-back, so a model sends up
//! to [`TX_FRAMES_PER_KICK`] frames (or fetches [`TX_DESCS_PER_KICK`] descriptors, or
//! [`TX_FETCH_BYTES_PER_KICK`] bytes) per kick, then resumes on a timer after their wire time
//! ([`TxKick::busy_ns`]). A packet is never split: the last one of a kick may overshoot by one
//! TSO packet's segments. The descriptor quota also keeps what one register write costs a
//! fuzzer small: a ring of empty descriptors is walked 256 at a time, not 4096.
//! (Regression: `regressions/e1000e/tso-mss-1-ring-is-not-a-hang.qtest`.)

/// Frames one kick of the transmit engine may send before it yields to the virtual clock
/// (a Linux driver's batch between two TDT writes is at most its ring, typically 256).
pub const TX_FRAMES_PER_KICK: u32 = 256;
/// Descriptors one kick may fetch before it yields: a Linux driver's whole ring.
pub const TX_DESCS_PER_KICK: u32 = 256;
/// Bytes (descriptors and buffers) one kick may fetch before it yields, for the same reason:
/// 65536 descriptors each naming a 64 KiB buffer are 4 GiB of copying for one write. 64 KiB
/// is one full TSO super-frame, or 40 full-size frames.
pub const TX_FETCH_BYTES_PER_KICK: u64 = 64 << 10;
/// Wire time of one byte at 1 Gb/s.
pub const WIRE_NS_PER_BYTE: u64 = 8;
/// Wire overhead per frame: preamble, SFD, FCS and inter-frame gap.
pub const WIRE_OVERHEAD_BYTES: u64 = 24;

/// What the current kick of the transmit engine has sent and fetched.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TxKick {
    frames: u32,
    descriptors: u32,
    wire_bytes: u64,
    fetched_bytes: u64,
}

impl TxKick {
    /// The quota is used up: yield before the next descriptor.
    pub fn spent(&self) -> bool {
        self.frames >= TX_FRAMES_PER_KICK
            || self.descriptors >= TX_DESCS_PER_KICK
            || self.fetched_bytes >= TX_FETCH_BYTES_PER_KICK
    }

    /// Account one descriptor of `len` bytes fetched by DMA.
    pub fn fetched_descriptor(&mut self, len: u64) {
        self.descriptors = self.descriptors.saturating_add(1);
        self.fetched(len);
    }

    /// Account `n` bytes fetched by DMA (a descriptor or a buffer).
    pub fn fetched(&mut self, n: u64) {
        self.fetched_bytes = self.fetched_bytes.saturating_add(n);
    }

    /// Account one frame of `len` bytes put on the wire (or looped back).
    pub fn sent(&mut self, len: usize) {
        self.frames = self.frames.saturating_add(1);
        self.wire_bytes = self
            .wire_bytes
            .saturating_add(len as u64 + WIRE_OVERHEAD_BYTES);
    }

    /// When the engine is free again: the wire time of what this kick sent or fetched.
    pub fn busy_ns(&self) -> u64 {
        self.wire_bytes
            .max(self.fetched_bytes)
            .saturating_mul(WIRE_NS_PER_BYTE)
            .max(1)
    }
}
