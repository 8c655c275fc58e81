//! A CD medium: the generated blank ISO 9660 volume, or an image file.

use super::{CD_SECTOR_SIZE, DEFAULT_CD_SECTORS, ImageFile, IoError};
use std::fmt;
use std::sync::Arc;

/// Where a CD medium's data comes from.
#[derive(Clone, PartialEq, Eq)]
enum MediumData {
    /// Held in memory (the generated blank volume). An `Arc<Vec<u8>>`, not an `Arc<[u8]>`:
    /// turning the zeroed `Vec` into an `Arc<[u8]>` would copy it, touching all 2 MiB on every
    /// machine build, where the `Vec`'s zeroed pages are only mapped as a guest reads them
    /// (a machine build paid twice that copy in each `devfuzz replay`, checking its devices and
    /// building its runner: two thirds of a one-input replay's time).
    Memory(Arc<Vec<u8>>),
    /// An image file.
    Image(Arc<ImageFile>),
}

impl fmt::Debug for MediumData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Memory(bytes) => write!(f, "Memory({} bytes)", bytes.len()),
            Self::Image(file) => write!(f, "{file:?}"),
        }
    }
}

/// A CD medium (read-only, 2048-byte sectors).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Medium {
    data: MediumData,
    sectors: u64,
}

impl Medium {
    /// The default medium: a blank ISO 9660 volume of [`DEFAULT_CD_SECTORS`] sectors (a primary
    /// volume descriptor at sector 16 and the set terminator at 17, zeros elsewhere), generated
    /// when a machine is built (2 MiB, shared by that machine's checkpoints and resets).
    pub fn blank() -> Self {
        let data = generate_blank_iso(DEFAULT_CD_SECTORS);
        Self {
            sectors: data.len() as u64 / CD_SECTOR_SIZE as u64,
            data: MediumData::Memory(data),
        }
    }

    /// A medium read from an image file (its size rounded down to whole sectors).
    pub fn image(file: Arc<ImageFile>) -> Self {
        Self {
            sectors: file.len() / CD_SECTOR_SIZE as u64,
            data: MediumData::Image(file),
        }
    }

    /// Capacity in 2048-byte sectors.
    pub fn sectors(&self) -> u64 {
        self.sectors
    }

    /// Read the first `buf.len()` (at most 2048) bytes of sector `lba`, which the caller has
    /// checked against [`Medium::sectors`] (as the ATAPI READ commands do): an in-memory medium
    /// indexes its buffer with it directly.
    pub fn read(&self, lba: u64, buf: &mut [u8]) -> Result<(), IoError> {
        let n = buf.len().min(CD_SECTOR_SIZE);
        let buf = &mut buf[..n];
        let start = lba.saturating_mul(CD_SECTOR_SIZE as u64);
        match &self.data {
            MediumData::Memory(bytes) => {
                let start = usize::try_from(start).unwrap_or(usize::MAX);
                buf.copy_from_slice(&bytes[start..start.saturating_add(buf.len())]);
                Ok(())
            }
            MediumData::Image(file) => file.read_at(start, buf),
        }
    }

    /// The bytes of sectors `lba..lba + count`, where the medium holds them in memory (the
    /// generated volume): a DMA moves them from there without a copy. `None` for an image file,
    /// or a range past the end of the medium.
    pub fn run(&self, lba: u64, count: u64) -> Option<&[u8]> {
        let MediumData::Memory(bytes) = &self.data else {
            return None;
        };
        let start = usize::try_from(lba.checked_mul(CD_SECTOR_SIZE as u64)?).ok()?;
        let len = usize::try_from(count.checked_mul(CD_SECTOR_SIZE as u64)?).ok()?;
        bytes.get(start..start.checked_add(len)?)
    }

    /// Read `buf.len()` bytes from the start of sector `lba` on, which the caller has checked
    /// against [`Medium::sectors`], in one piece.
    pub fn read_run(&self, lba: u64, buf: &mut [u8]) -> Result<(), IoError> {
        match self.run(lba, buf.len().div_ceil(CD_SECTOR_SIZE) as u64) {
            Some(bytes) => {
                buf.copy_from_slice(&bytes[..buf.len()]);
                Ok(())
            }
            None => match &self.data {
                MediumData::Image(file) => {
                    file.read_at(lba.saturating_mul(CD_SECTOR_SIZE as u64), buf)
                }
                MediumData::Memory(_) => Err(IoError::Io),
            },
        }
    }
}

/// Bytes of a blank ISO 9660 volume of `sectors` 2048-byte sectors (ECMA-119 §8.4, §8.3).
fn generate_blank_iso(sectors: u64) -> Arc<Vec<u8>> {
    let mut iso = vec![0u8; sectors as usize * CD_SECTOR_SIZE];
    let pvd = &mut iso[16 * CD_SECTOR_SIZE..17 * CD_SECTOR_SIZE];
    pvd[0] = 1; // volume descriptor type: primary
    pvd[1..6].copy_from_slice(b"CD001");
    pvd[6] = 1; // version
    pvd[8..40].fill(b' '); // system identifier
    pvd[40..72].fill(b' '); // volume identifier
    pvd[40..50].copy_from_slice(b"DEVFUZZ_CD");
    // Volume space size, both-endian (ECMA-119 §7.3.3).
    let size = sectors as u32;
    pvd[80..84].copy_from_slice(&size.to_le_bytes());
    pvd[84..88].copy_from_slice(&size.to_be_bytes());
    pvd[120..122].copy_from_slice(&1u16.to_le_bytes()); // volume set size
    pvd[122..124].copy_from_slice(&1u16.to_be_bytes());
    pvd[124..126].copy_from_slice(&1u16.to_le_bytes()); // volume sequence number
    pvd[126..128].copy_from_slice(&1u16.to_be_bytes());
    pvd[128..130].copy_from_slice(&2048u16.to_le_bytes()); // logical block size
    pvd[130..132].copy_from_slice(&2048u16.to_be_bytes());
    pvd[881] = 1; // file structure version
    let term = &mut iso[17 * CD_SECTOR_SIZE..18 * CD_SECTOR_SIZE];
    term[0] = 0xff; // volume descriptor set terminator
    term[1..6].copy_from_slice(b"CD001");
    term[6] = 1;
    Arc::new(iso)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_medium_is_an_iso9660_volume() {
        let m = Medium::blank();
        assert_eq!(m.sectors(), DEFAULT_CD_SECTORS);
        let mut buf = [0u8; CD_SECTOR_SIZE];
        m.read(16, &mut buf).unwrap();
        assert_eq!(&buf[..6], b"\x01CD001");
        assert_eq!(
            u32::from_le_bytes([buf[80], buf[81], buf[82], buf[83]]),
            DEFAULT_CD_SECTORS as u32
        );
        m.read(17, &mut buf).unwrap();
        assert_eq!(&buf[..6], b"\xffCD001");
        let run = m.run(16, 2).unwrap();
        assert_eq!(&run[CD_SECTOR_SIZE..CD_SECTOR_SIZE + 6], b"\xffCD001");
        assert_eq!(m.run(DEFAULT_CD_SECTORS - 1, 2), None, "past the end");
        let mut two = vec![0u8; CD_SECTOR_SIZE + 10];
        m.read_run(16, &mut two).unwrap();
        assert_eq!(&two[..], &run[..CD_SECTOR_SIZE + 10]);
        assert_eq!(m, Medium::blank());
    }
}
