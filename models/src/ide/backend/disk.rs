//! An ATA disk's contents: a base (zeros, or an image file) under a sparse overlay of the
//! sectors the guest wrote, which a device reset drops.

use super::{Fault, ImageFile, ImageMode, IoError, OVERLAY_MAX_SECTORS, SECTOR_SIZE};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// Sectors per overlay chunk: the sectors of one 64 KiB DMA run, so a run finds its slots with
/// one or two map lookups.
const CHUNK_SECTORS: usize = 128;

/// Which sectors of a chunk are stored: each sector's slot in [`Overlay::data`] plus one, 0 where
/// nothing is.
type Slots = [u16; CHUNK_SECTORS];

/// A chunk with no sector stored.
const EMPTY_CHUNK: Slots = [0; CHUNK_SECTORS];

/// Sectors the guest wrote, by LBA; an all-zero sector of a disk without an image is not stored.
///
/// The data lives in one arena of sector slots (no allocation per sector, and a reset keeps the
/// arena's memory for the next input); a map of 128-sector chunks says which slot holds which
/// sector. A chunk with no sector stored is not kept.
#[derive(Default)]
struct Overlay {
    chunks: BTreeMap<u64, Slots>,
    data: Vec<[u8; SECTOR_SIZE]>,
    /// Slots of `data` no sector uses (sectors that were zeroed again).
    free: Vec<u16>,
}

// `clone_from` keeps the arena's memory (a checkpoint's overlay is usually empty).
harness::clone_by_field!(Overlay { chunks, data, free });

impl Overlay {
    /// Sectors stored.
    fn len(&self) -> usize {
        self.data.len() - self.free.len()
    }

    /// Drop every sector, keeping the memory.
    fn clear(&mut self) {
        self.chunks.clear();
        self.data.clear();
        self.free.clear();
    }

    /// The stored sectors in `lba..end`, in order.
    fn range(&self, lba: u64, end: u64) -> impl Iterator<Item = (u64, &[u8; SECTOR_SIZE])> {
        let chunk_size = CHUNK_SECTORS as u64;
        let last = end.div_ceil(chunk_size);
        let chunks = if lba < end {
            self.chunks.range(lba / chunk_size..last)
        } else {
            self.chunks.range(0..0)
        };
        chunks.flat_map(move |(&chunk, slots)| {
            let base = chunk * chunk_size;
            let from = lba.saturating_sub(base).min(chunk_size) as usize;
            let to = (end - base).min(chunk_size) as usize;
            slots[from..to]
                .iter()
                .enumerate()
                .filter(|(_, slot)| **slot != 0)
                .map(move |(i, slot)| {
                    (base + (from + i) as u64, &self.data[usize::from(*slot - 1)])
                })
        })
    }

    /// Every stored sector, in order.
    fn iter(&self) -> impl Iterator<Item = (u64, &[u8; SECTOR_SIZE])> {
        self.range(0, u64::MAX)
    }

    /// Drop the sectors in `lba..lba + count`.
    fn remove(&mut self, lba: u64, count: u64) {
        let end = lba.saturating_add(count);
        if self.range(lba, end).next().is_none() {
            return;
        }
        let chunk_size = CHUNK_SECTORS as u64;
        let Self { chunks, free, .. } = self;
        chunks.retain(|&chunk, slots| {
            let base = chunk * chunk_size;
            if base + chunk_size <= lba || base >= end {
                return true;
            }
            let from = lba.saturating_sub(base) as usize;
            let to = (end - base).min(chunk_size) as usize;
            for slot in &mut slots[from..to] {
                if *slot != 0 {
                    free.push(*slot - 1);
                    *slot = 0;
                }
            }
            slots.iter().fold(0, |any, slot| any | slot) != 0
        });
    }

    /// Store the whole sectors of `data` from sector `lba` on, in order; an all-zero sector is
    /// dropped instead unless `keep_zeros`. A new sector past [`OVERLAY_MAX_SECTORS`] fails
    /// with the ones before it stored.
    /// `known_zero(i)` says sector `i` of `data` is zeros without looking at it.
    fn store_run(
        &mut self,
        lba: u64,
        data: &[u8],
        keep_zeros: bool,
        known_zero: impl Fn(usize) -> bool,
    ) -> Result<(), IoError> {
        let mut sectors = data.chunks_exact(SECTOR_SIZE);
        let mut at = lba;
        while sectors.len() != 0 {
            let chunk = at / CHUNK_SECTORS as u64;
            let first = (at % CHUNK_SECTORS as u64) as usize;
            let take = (CHUNK_SECTORS - first).min(sectors.len());
            let mut slots = self.chunks.remove(&chunk).unwrap_or(EMPTY_CHUNK);
            let done = (at - lba) as usize;
            let stored = self.store_in_chunk(
                &mut slots[first..first + take],
                &mut sectors,
                keep_zeros,
                |i| known_zero(done + i),
            );
            if slots.iter().fold(0, |any, slot| any | slot) != 0 {
                self.chunks.insert(chunk, slots);
            }
            stored?;
            at += take as u64;
        }
        Ok(())
    }

    /// Store the next `slots.len()` sectors of `sectors` into the sectors `slots` describe.
    fn store_in_chunk(
        &mut self,
        slots: &mut [u16],
        sectors: &mut std::slice::ChunksExact<'_, u8>,
        keep_zeros: bool,
        known_zero: impl Fn(usize) -> bool,
    ) -> Result<(), IoError> {
        for (i, (slot, sector)) in slots.iter_mut().zip(sectors).enumerate() {
            let drop = !keep_zeros && (known_zero(i) || is_zero(sector));
            match (*slot, drop) {
                (0, true) => {}
                (used, true) => {
                    self.free.push(used - 1);
                    *slot = 0;
                }
                (0, false) => {
                    let index = match self.free.pop() {
                        Some(index) => {
                            self.data[usize::from(index)].copy_from_slice(sector);
                            index
                        }
                        None if self.data.len() < OVERLAY_MAX_SECTORS => {
                            let Ok(sector) = <&[u8; SECTOR_SIZE]>::try_from(sector) else {
                                return Err(IoError::Io);
                            };
                            self.data.push(*sector);
                            (self.data.len() - 1) as u16
                        }
                        None => return Err(IoError::NoSpace),
                    };
                    *slot = index + 1;
                }
                (used, false) => self.data[usize::from(used - 1)].copy_from_slice(sector),
            }
        }
        Ok(())
    }
}

/// Two overlays are equal when they store the same sectors with the same data, wherever in
/// their arenas.
impl PartialEq for Overlay {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for Overlay {}

impl fmt::Debug for Overlay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The content is compared by `PartialEq`; a digest keeps state dumps short.
        let digest = self
            .iter()
            .fold(0xcbf2_9ce4_8422_2325u64, |h, (lba, data)| {
                data.iter().fold(h ^ lba, |h, b| {
                    (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3)
                })
            });
        write!(f, "Overlay({} sectors, {digest:#x})", self.len())
    }
}

/// A disk's contents: a base (zeros, or an image file) under an overlay of written sectors.
#[derive(Debug, PartialEq, Eq)]
pub struct Disk {
    sectors: u64,
    base: Option<Arc<ImageFile>>,
    writable: bool,
    overlay: Overlay,
    fault: Option<Fault>,
}

harness::clone_by_field!(Disk {
    sectors,
    base,
    writable,
    overlay,
    fault,
});

impl Disk {
    /// A sparse in-memory disk of `sectors` sectors reading zeros until written.
    pub fn memory(sectors: u64) -> Self {
        Self {
            sectors,
            base: None,
            writable: true,
            overlay: Overlay::default(),
            fault: None,
        }
    }

    /// A disk backed by an image file (its size rounded down to whole sectors).
    pub fn image(file: Arc<ImageFile>, mode: ImageMode) -> Self {
        Self {
            sectors: file.len() / SECTOR_SIZE as u64,
            base: Some(file),
            writable: mode == ImageMode::CopyOnWrite,
            overlay: Overlay::default(),
            fault: None,
        }
    }

    /// Capacity in sectors.
    pub fn sectors(&self) -> u64 {
        self.sectors
    }

    /// The injected fault, if any.
    pub fn fault(&self) -> Option<Fault> {
        self.fault
    }

    /// Make `fault` the disk's failing sector (`None` clears it).
    pub fn set_fault(&mut self, fault: Option<Fault>) {
        self.fault = fault;
    }

    /// Drop everything written (a power cycle of the emulated machine).
    pub fn forget_writes(&mut self) {
        self.overlay.clear();
    }

    /// Whether a request for `count` sectors at `lba` would be refused before any data moves: a
    /// range past the end, an injected fault, a write to a read-only image.
    pub fn check(&self, lba: u64, count: u64, write: bool) -> Result<(), IoError> {
        if lba.checked_add(count).is_none_or(|end| end > self.sectors) {
            return Err(IoError::Io);
        }
        if write && !self.writable {
            return Err(IoError::ReadOnly);
        }
        Fault::check(self.fault, lba, count)
    }

    /// Read the first `buf.len()` (at most 512) bytes of sector `lba`.
    pub fn read(&self, lba: u64, buf: &mut [u8]) -> Result<(), IoError> {
        self.check(lba, 1, false)?;
        let n = buf.len().min(SECTOR_SIZE);
        self.read_run(lba, &mut buf[..n])
    }

    /// Read `buf.len()` bytes from the start of sector `lba` on (whole sectors, the last one
    /// possibly in part), checked as one request: each written sector is copied once, and each
    /// gap between them is read from the base in one piece (or zero-filled).
    pub fn read_run(&self, lba: u64, buf: &mut [u8]) -> Result<(), IoError> {
        let count = buf.len().div_ceil(SECTOR_SIZE) as u64;
        self.check(lba, count, false)?;
        let mut done = 0usize;
        for (at, data) in self.overlay.range(lba, lba + count) {
            let start = (at - lba) as usize * SECTOR_SIZE;
            self.read_base(lba + (done / SECTOR_SIZE) as u64, &mut buf[done..start])?;
            let end = (start + SECTOR_SIZE).min(buf.len());
            buf[start..end].copy_from_slice(&data[..end - start]);
            done = end;
        }
        self.read_base(lba + (done / SECTOR_SIZE) as u64, &mut buf[done..])
    }

    /// Whether sectors `lba..lba + count` read as zeros without looking: no image under them
    /// and nothing written there.
    pub fn reads_zeros(&self, lba: u64, count: u64) -> bool {
        self.base.is_none()
            && self
                .overlay
                .range(lba, lba.saturating_add(count))
                .next()
                .is_none()
    }

    /// What lies under the overlay at sector `lba` on: the image file, or zeros.
    fn read_base(&self, lba: u64, buf: &mut [u8]) -> Result<(), IoError> {
        match &self.base {
            _ if buf.is_empty() => Ok(()),
            Some(file) => file.read_at(lba * SECTOR_SIZE as u64, buf),
            None => {
                buf.fill(0);
                Ok(())
            }
        }
    }

    /// Write sector `lba` with `data` (a whole sector; a shorter slice is refused).
    pub fn write(&mut self, lba: u64, data: &[u8]) -> Result<(), IoError> {
        self.check(lba, 1, true)?;
        if data.len() != SECTOR_SIZE {
            return Err(IoError::Io);
        }
        self.overlay
            .store_run(lba, data, self.base.is_some(), |_| false)
    }

    /// Write the whole sectors of `data` from sector `lba` on (a partial last sector is not
    /// written), checked as one request. Sectors are stored in order: when the overlay fills
    /// up, the ones before stay written.
    pub fn write_run(&mut self, lba: u64, data: &[u8]) -> Result<(), IoError> {
        let count = (data.len() / SECTOR_SIZE) as u64;
        self.check(lba, count, true)?;
        // Zeros on a disk without an image (what a DMA from untouched memory writes) are not
        // stored: the sectors written there before go.
        let whole = &data[..count as usize * SECTOR_SIZE];
        self.overlay
            .store_run(lba, whole, self.base.is_some(), |_| false)
    }

    /// [`write_run`](Self::write_run), where bit `i` of `known_zero` says sector `i` of
    /// `data` is zeros whatever `data` holds there (as the IDE's DMA scratch buffer gathers
    /// it): on a disk without an image it is dropped unread; over an image it is zeroed in
    /// `data` and stored.
    pub fn write_run_sparse(
        &mut self,
        lba: u64,
        data: &mut [u8],
        known_zero: u128,
    ) -> Result<(), IoError> {
        let count = (data.len() / SECTOR_SIZE) as u64;
        self.check(lba, count, true)?;
        let whole = &mut data[..count as usize * SECTOR_SIZE];
        let named = |i: usize| i < u128::BITS as usize && known_zero >> i & 1 != 0;
        if self.base.is_some() {
            for (i, sector) in whole.chunks_exact_mut(SECTOR_SIZE).enumerate() {
                if named(i) {
                    sector.fill(0);
                }
            }
            return self.overlay.store_run(lba, whole, true, |_| false);
        }
        self.overlay.store_run(lba, whole, false, named)
    }

    /// [`write_run`](Self::write_run) of `count` sectors of zeros.
    pub fn write_zeros(&mut self, lba: u64, count: u64) -> Result<(), IoError> {
        self.check(lba, count, true)?;
        if self.base.is_none() {
            self.overlay.remove(lba, count);
            return Ok(());
        }
        // Over an image, zeros are stored: they hide what the image holds there.
        for at in lba..lba + count {
            self.overlay
                .store_run(at, &[0; SECTOR_SIZE], true, |_| false)?;
        }
        Ok(())
    }
}

/// Bytes [`is_zero`] takes per step. In the fuzz builds every loop iteration bumps a coverage
/// counter, so a loop over bytes (or small words) runs at the speed of that counter; a block of
/// words ORed in straight-line code does not. (`==` against a block of zeros would be one
/// `memcmp`, but libFuzzer hooks every `memcmp` call, at a cost above the compare's own.)
const ZERO_CHECK_BLOCK: usize = 256;

/// Whether `data` is all zeros.
fn is_zero(data: &[u8]) -> bool {
    let mut blocks = data.chunks_exact(ZERO_CHECK_BLOCK);
    blocks
        .by_ref()
        .all(|block| <&[u8; ZERO_CHECK_BLOCK]>::try_from(block).is_ok_and(|b| or_words(b) == 0))
        && blocks.remainder().iter().all(|b| *b == 0)
}

/// The OR of a block's bytes, 8 at a time: a loop of a fixed count over whole words with
/// indices the compiler can check once, which it unrolls and vectorises.
#[inline(always)]
fn or_words(block: &[u8; ZERO_CHECK_BLOCK]) -> u64 {
    (0..ZERO_CHECK_BLOCK / 8).fold(0, |acc, i| {
        let word: [u8; 8] = std::array::from_fn(|k| block[i * 8 + k]);
        acc | u64::from_ne_bytes(word)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_zero_sees_a_single_set_bit_anywhere() {
        for len in [0, 1, 7, 255, 256, 300, SECTOR_SIZE, 2 * SECTOR_SIZE + 5] {
            let mut data = vec![0u8; len];
            assert!(is_zero(&data), "{len} zeros");
            for at in 0..len {
                data[at] = 0x80;
                assert!(!is_zero(&data), "{len} bytes, bit set at {at}");
                data[at] = 0;
            }
        }
    }

    #[test]
    fn memory_disk_reads_zeros_and_keeps_writes_until_forgotten() {
        let mut d = Disk::memory(16);
        let mut buf = [0xaau8; SECTOR_SIZE];
        d.read(3, &mut buf).unwrap();
        assert!(buf.iter().all(|b| *b == 0));
        d.write(3, &[0x5a; SECTOR_SIZE]).unwrap();
        d.read(3, &mut buf).unwrap();
        assert_eq!(buf, [0x5a; SECTOR_SIZE]);
        d.write(3, &[0; SECTOR_SIZE]).unwrap();
        assert_eq!(d, Disk::memory(16), "a zero sector is not stored");
        d.write(4, &[1; SECTOR_SIZE]).unwrap();
        d.forget_writes();
        assert_eq!(d, Disk::memory(16));
    }

    #[test]
    fn disk_requests_past_the_end_or_on_a_fault_fail_before_any_data_moves() {
        let mut d = Disk::memory(8);
        assert_eq!(d.check(7, 1, false), Ok(()));
        assert_eq!(d.check(7, 2, false), Err(IoError::Io));
        assert_eq!(d.check(u64::MAX, 2, false), Err(IoError::Io));
        d.set_fault(Some(Fault {
            sector: 5,
            error: IoError::Medium,
        }));
        assert_eq!(d.check(3, 2, true), Ok(()));
        assert_eq!(d.check(3, 3, true), Err(IoError::Medium));
        assert_eq!(
            d.write(5, &[1; SECTOR_SIZE]),
            Err(IoError::Medium),
            "nothing stored"
        );
        d.set_fault(None);
        let mut buf = [0u8; SECTOR_SIZE];
        d.read(5, &mut buf).unwrap();
        assert!(buf.iter().all(|b| *b == 0));
    }

    #[test]
    fn runs_read_and_write_as_the_sectors_do() {
        let mut d = Disk::memory(16);
        let mut data = vec![0u8; 3 * SECTOR_SIZE];
        data[..SECTOR_SIZE].fill(1);
        data[2 * SECTOR_SIZE..].fill(3);
        assert!(d.reads_zeros(4, 3));
        d.write_run(4, &data).unwrap();
        assert_eq!(
            d.overlay.len(),
            2,
            "the zero sector in the middle is not stored"
        );
        assert!(!d.reads_zeros(4, 1) && d.reads_zeros(5, 1) && !d.reads_zeros(0, 16));
        // A run across written sectors and gaps, ending inside a sector.
        let mut back = vec![0xaau8; 4 * SECTOR_SIZE - 100];
        d.read_run(3, &mut back).unwrap();
        let mut want = vec![0u8; SECTOR_SIZE];
        want.extend_from_slice(&data);
        want.truncate(back.len());
        assert_eq!(back, want);
        for (i, chunk) in back.chunks(SECTOR_SIZE).enumerate() {
            let mut one = vec![0xaau8; chunk.len()];
            d.read(3 + i as u64, &mut one).unwrap();
            assert_eq!(one, chunk, "sector {}", 3 + i);
        }
        assert_eq!(d.read_run(15, &mut back), Err(IoError::Io), "past the end");
        assert_eq!(d.write_run(15, &data), Err(IoError::Io), "past the end");
        // Zeros over written sectors drop them.
        d.write_run(4, &[0u8; 3 * SECTOR_SIZE]).unwrap();
        assert!(d.reads_zeros(0, 16));
        d.write_run(4, &data).unwrap();
        // A partial last sector is not written.
        d.write_run(10, &[7u8; SECTOR_SIZE + 2]).unwrap();
        assert!(d.reads_zeros(11, 1) && !d.reads_zeros(10, 1));
    }

    /// The overlay as it was first written: one map entry per stored sector.
    #[derive(Default)]
    struct SectorMap(BTreeMap<u64, [u8; SECTOR_SIZE]>);

    impl SectorMap {
        fn write_run(&mut self, lba: u64, data: &[u8], keep_zeros: bool) {
            for (i, sector) in data.chunks_exact(SECTOR_SIZE).enumerate() {
                let at = lba + i as u64;
                if !keep_zeros && sector.iter().all(|b| *b == 0) {
                    self.0.remove(&at);
                } else {
                    self.0.insert(at, sector.try_into().unwrap());
                }
            }
        }

        fn read_run(&self, lba: u64, buf: &mut [u8]) {
            for (i, piece) in buf.chunks_mut(SECTOR_SIZE).enumerate() {
                match self.0.get(&(lba + i as u64)) {
                    Some(data) => piece.copy_from_slice(&data[..piece.len()]),
                    None => piece.fill(0),
                }
            }
        }
    }

    #[test]
    fn the_chunked_overlay_agrees_with_a_map_of_sectors() {
        // Seeded: the same walk every run.
        let mut rng = fastrand::Rng::with_seed(0x1de5_0ed5);
        let sectors = 4 * CHUNK_SECTORS as u64;
        let mut disk = Disk::memory(sectors);
        let mut model = SectorMap::default();
        for step in 0..3000 {
            let lba = rng.u64(0..sectors);
            let count = rng.u64(0..=(sectors - lba).min(300));
            let len = count as usize * SECTOR_SIZE + rng.usize(0..SECTOR_SIZE);
            if rng.u8(0..4) == 0 {
                let mut back = vec![0xaau8; len.min((sectors - lba) as usize * SECTOR_SIZE)];
                let mut want = back.clone();
                disk.read_run(lba, &mut back).unwrap();
                model.read_run(lba, &mut want);
                assert_eq!(back, want, "step {step}: read {lba}+{count}");
                assert_eq!(
                    disk.reads_zeros(lba, count),
                    model.0.range(lba..lba + count).next().is_none()
                );
                continue;
            }
            // Sectors of zeros, of one byte value, or of noise.
            let mut data = vec![0u8; len];
            for sector in data.chunks_mut(SECTOR_SIZE) {
                match rng.u8(0..3) {
                    0 => {}
                    1 => sector.fill(rng.u8(..)),
                    _ => sector[rng.usize(..sector.len())] = rng.u8(1..),
                }
            }
            if rng.u8(0..8) == 0 {
                data.fill(0);
            }
            if rng.u8(0..8) == 0 {
                disk.write_zeros(lba, count).unwrap();
                model.write_run(lba, &vec![0; count as usize * SECTOR_SIZE], false);
            } else if len >= SECTOR_SIZE && rng.bool() {
                disk.write(lba, &data[..SECTOR_SIZE]).unwrap();
                model.write_run(lba, &data[..SECTOR_SIZE], false);
            } else {
                disk.write_run(lba, &data).unwrap();
                model.write_run(lba, &data, false);
            }
            assert_eq!(disk.overlay.len(), model.0.len(), "step {step}");
            assert!(disk.overlay.len() <= disk.overlay.data.len());
            let stored: Vec<(u64, [u8; SECTOR_SIZE])> =
                disk.overlay.iter().map(|(lba, d)| (lba, *d)).collect();
            let want: Vec<(u64, [u8; SECTOR_SIZE])> =
                model.0.iter().map(|(lba, d)| (*lba, *d)).collect();
            assert!(stored == want, "step {step}: stored sectors differ");
        }
        // The same sectors written in another order compare equal (and print the same).
        let mut other = Disk::memory(sectors);
        for (lba, data) in model.0.iter().rev() {
            other.write(*lba, data).unwrap();
        }
        assert_eq!(other, disk);
        assert_eq!(format!("{other:?}"), format!("{disk:?}"));
        disk.forget_writes();
        assert_eq!(disk, Disk::memory(sectors));
    }

    #[test]
    fn a_full_overlay_keeps_the_sectors_written_before() {
        let mut d = Disk::memory(OVERLAY_MAX_SECTORS as u64 + 4);
        for lba in 0..OVERLAY_MAX_SECTORS as u64 - 1 {
            d.write(lba, &[1; SECTOR_SIZE]).unwrap();
        }
        let run = [2u8; 3 * SECTOR_SIZE];
        let first = OVERLAY_MAX_SECTORS as u64 - 1;
        assert_eq!(d.write_run(first, &run), Err(IoError::NoSpace));
        let mut buf = [0u8; SECTOR_SIZE];
        d.read(first, &mut buf).unwrap();
        assert_eq!(buf, [2; SECTOR_SIZE]);
        d.read(first + 1, &mut buf).unwrap();
        assert_eq!(buf, [0; SECTOR_SIZE]);
    }

    #[test]
    fn overlay_is_bounded() {
        let mut d = Disk::memory(OVERLAY_MAX_SECTORS as u64 + 2);
        for lba in 0..OVERLAY_MAX_SECTORS as u64 {
            d.write(lba, &[1; SECTOR_SIZE]).unwrap();
        }
        assert_eq!(
            d.write(OVERLAY_MAX_SECTORS as u64, &[1; SECTOR_SIZE]),
            Err(IoError::NoSpace)
        );
        assert_eq!(
            d.write(0, &[2; SECTOR_SIZE]),
            Ok(()),
            "rewriting a stored sector needs no room"
        );
    }

    #[test]
    fn image_disk_read_only_and_copy_on_write() {
        let scratch = tempfile::tempdir().unwrap();
        let path = scratch.path().join("disk.img");
        let mut content = vec![0u8; 4 * SECTOR_SIZE];
        content[SECTOR_SIZE..2 * SECTOR_SIZE].fill(0x11);
        std::fs::write(&path, &content).unwrap();
        let file = ImageFile::open(&path).unwrap();
        let ro = Disk::image(file.clone(), ImageMode::ReadOnly);
        let mut cow = Disk::image(file, ImageMode::CopyOnWrite);
        assert_eq!(ro.sectors(), 4);
        let mut buf = [0u8; SECTOR_SIZE];
        ro.read(1, &mut buf).unwrap();
        assert_eq!(buf, [0x11; SECTOR_SIZE]);
        assert_eq!(ro.check(1, 1, true), Err(IoError::ReadOnly));
        cow.write(1, &[0x22; SECTOR_SIZE]).unwrap();
        cow.read(1, &mut buf).unwrap();
        assert_eq!(buf, [0x22; SECTOR_SIZE]);
        cow.write_zeros(1, 1).unwrap();
        cow.read(1, &mut buf).unwrap();
        assert_eq!(buf, [0; SECTOR_SIZE], "zeros are stored over an image");
        cow.forget_writes();
        cow.read(1, &mut buf).unwrap();
        assert_eq!(buf, [0x11; SECTOR_SIZE], "the file is never written");
        assert_eq!(std::fs::read(&path).unwrap(), content);
    }
}
