//! The network backend's capture file: every frame the NIC sends to the wire and every frame
//! the backend delivers to it, in classic pcap format (QEMU's `-object filter-dump`).
//!
//! Timestamps come from the virtual clock, so the same input writes the same file. The file is
//! created (truncated) when the machine is configured with the `pcap=<file>` option and stays
//! open: every machine built from that configuration, and every checkpoint of its NIC, shares
//! the one writer, and each frame is one append (written through at once, so the file is
//! complete whenever a reader looks) up to a size limit; frames are stored whole, without FCS.
//! In fuzzing builds (`cfg(fuzzing)`) nothing is written: the per-input path stays free of
//! host I/O.

use std::fmt;
use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Classic pcap global header: magic, version 2.4, GMT offset 0, accuracy 0, snapshot length
/// 65535, link type 1 (Ethernet), all little-endian.
const GLOBAL_HEADER: [u8; 24] = [
    0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0,
];

/// Largest frame a record holds (the snapshot length).
const SNAPLEN: usize = 65535;

/// An append-only pcap file. Clones share the open file; two captures are equal when they
/// write to the same path with the same limit.
#[derive(Clone)]
pub struct Pcap {
    path: PathBuf,
    limit: u64,
    writer: Arc<Mutex<Writer>>,
}

/// The open file and how much is in it.
struct Writer {
    file: File,
    len: u64,
}

impl fmt::Debug for Pcap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pcap")
            .field("path", &self.path)
            .field("limit", &self.limit)
            .finish()
    }
}

impl PartialEq for Pcap {
    fn eq(&self, other: &Self) -> bool {
        self.path == other.path && self.limit == other.limit
    }
}

impl Eq for Pcap {}

impl Pcap {
    /// Size the file stops growing at, unless [`Pcap::with_limit`] says otherwise.
    pub const DEFAULT_LIMIT: u64 = 64 << 20;

    /// Create (or truncate) `path` and write the pcap header.
    pub fn create(path: impl AsRef<Path>) -> std::io::Result<Self> {
        let path = path.as_ref().to_path_buf();
        let mut file = harness::file::create_regular(&path).map_err(|e| match e {
            harness::file::FileError::Io { source, .. } => source,
            other => std::io::Error::other(other.reason()),
        })?;
        file.write_all(&GLOBAL_HEADER)?;
        Ok(Self {
            path,
            limit: Self::DEFAULT_LIMIT,
            writer: Arc::new(Mutex::new(Writer {
                file,
                len: GLOBAL_HEADER.len() as u64,
            })),
        })
    }

    /// The same capture with another size limit.
    pub fn with_limit(mut self, limit: u64) -> Self {
        self.limit = limit;
        self
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append one frame seen at virtual time `now_ns`; returns whether it was written (not
    /// in fuzzing builds, nor past the size limit, nor when the write failed).
    pub fn record(&self, frame: &[u8], now_ns: u64) -> bool {
        if cfg!(fuzzing) {
            return false;
        }
        let stored = &frame[..frame.len().min(SNAPLEN)];
        let mut rec = Vec::with_capacity(16 + stored.len());
        let secs = u32::try_from(now_ns / 1_000_000_000).unwrap_or(u32::MAX);
        let micros = ((now_ns % 1_000_000_000) / 1000) as u32;
        rec.extend_from_slice(&secs.to_le_bytes());
        rec.extend_from_slice(&micros.to_le_bytes());
        rec.extend_from_slice(&(stored.len() as u32).to_le_bytes());
        rec.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        rec.extend_from_slice(stored);
        let Ok(mut writer) = self.writer.lock() else {
            return false;
        };
        if writer.len.saturating_add(rec.len() as u64) > self.limit {
            return false;
        }
        if writer.file.write_all(&rec).is_err() {
            return false;
        }
        writer.len += rec.len() as u64;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_follow_the_pcap_layout_with_virtual_timestamps() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.pcap");
        let pcap = Pcap::create(&path).unwrap();
        assert!(pcap.record(&[0xff; 60], 1_500_002_000));
        assert!(pcap.record(&[1, 2, 3], 0));
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[..24], &GLOBAL_HEADER);
        let rec = &bytes[24..];
        assert_eq!(&rec[0..4], &1u32.to_le_bytes(), "seconds");
        assert_eq!(&rec[4..8], &500_002u32.to_le_bytes(), "microseconds");
        assert_eq!(&rec[8..12], &60u32.to_le_bytes());
        assert_eq!(&rec[12..16], &60u32.to_le_bytes());
        assert_eq!(&rec[16..76], &[0xff; 60]);
        assert_eq!(&rec[76 + 8..76 + 16], &[3, 0, 0, 0, 3, 0, 0, 0]);
        assert_eq!(&rec[76 + 16..], &[1, 2, 3]);
        // A clone writes to the same open file.
        assert!(pcap.clone().record(&[4], 0));
        assert_eq!(std::fs::read(&path).unwrap().len(), bytes.len() + 17);
        // A full file takes no more records.
        let small = Pcap::create(&path).unwrap().with_limit(24 + 16 + 60);
        assert!(small.record(&[0; 60], 0));
        assert!(!small.record(&[0; 1], 0));
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 24 + 16 + 60);
    }
}
