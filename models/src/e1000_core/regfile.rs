//! The register file: one dword per 4 bytes of BAR0 up to a model's end, plus the statistics
//! counter rules (saturating adds; clear on read; 64-bit pairs clear when the high half is read).

use super::regs::{GORCH, GORCL, GOTCH, GOTCL, TORH, TORL, TOTH, TOTL};
use std::sync::Arc;

/// Dwords per page of the register file.
const PAGE_WORDS: usize = 256;

/// Dword storage for a register file of `end` bytes. Offsets past the end read 0 and drop
/// writes, so no guest offset can index outside it.
///
/// The dwords live in 1 KiB pages shared copy-on-write, so a clone (the machine clones a device
/// to restore its checkpoint before every fuzz input) copies page pointers, and an input pays
/// for the pages it writes. The file also remembers which dwords were written since the last
/// [`clear`](Self::clear), so a device reset zeroes those instead of the whole file.
#[derive(Clone)]
pub struct RegFile {
    pages: Vec<Arc<[u32; PAGE_WORDS]>>,
    /// Dwords in the file.
    len: usize,
    /// Indices of the dwords written since the last clear, each once.
    written: Vec<u32>,
    /// One bit per dword: in `written`.
    marked: Box<[u64]>,
}

impl PartialEq for RegFile {
    /// Equal contents (what was written when does not matter).
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.pages.iter().zip(&other.pages).all(|(a, b)| a == b)
    }
}

impl Eq for RegFile {}

impl std::fmt::Debug for RegFile {
    /// The non-zero registers by offset: equal texts exactly when the contents are equal.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(
                self.pages
                    .iter()
                    .flat_map(|p| p.iter())
                    .enumerate()
                    .filter(|(_, w)| **w != 0)
                    .map(|(i, w)| (format!("{:#x}", 4 * i), format!("{w:#x}"))),
            )
            .finish()
    }
}

impl RegFile {
    /// A zeroed register file covering byte offsets `[0, end)`.
    pub fn new(end: u64) -> Self {
        let len = (end / 4) as usize;
        let zero = Arc::new([0; PAGE_WORDS]);
        Self {
            pages: vec![zero; len.div_ceil(PAGE_WORDS)],
            len,
            written: Vec::new(),
            marked: vec![0; len.div_ceil(64)].into_boxed_slice(),
        }
    }

    /// Zero every register (touches only what was written).
    pub fn clear(&mut self) {
        for &i in &self.written {
            let i = i as usize;
            if self.pages[i / PAGE_WORDS][i % PAGE_WORDS] != 0 {
                Arc::make_mut(&mut self.pages[i / PAGE_WORDS])[i % PAGE_WORDS] = 0;
            }
            self.marked[i / 64] &= !(1 << (i % 64));
        }
        self.written.clear();
    }

    /// The register at byte `offset` (0 outside the file).
    pub fn get(&self, offset: u64) -> u32 {
        let i = (offset / 4) as usize;
        if i >= self.len {
            return 0;
        }
        self.pages[i / PAGE_WORDS][i % PAGE_WORDS]
    }

    /// Store `value` at byte `offset` (dropped outside the file).
    pub fn set(&mut self, offset: u64, value: u32) {
        let i = (offset / 4) as usize;
        if i >= self.len {
            return;
        }
        let page = &mut self.pages[i / PAGE_WORDS];
        if page[i % PAGE_WORDS] != value {
            Arc::make_mut(page)[i % PAGE_WORDS] = value;
        }
        let bit = 1u64 << (i % 64);
        if self.marked[i / 64] & bit == 0 {
            self.marked[i / 64] |= bit;
            self.written.push(i as u32);
        }
    }

    /// Store only the bits of `mask`, keeping the others.
    pub fn set_masked(&mut self, offset: u64, value: u32, mask: u32) {
        let old = self.get(offset);
        self.set(offset, (old & !mask) | (value & mask));
    }

    /// Add to a 32-bit statistics counter, saturating as the hardware does.
    pub fn count(&mut self, offset: u64, n: u32) {
        let v = self.get(offset).saturating_add(n);
        self.set(offset, v);
    }

    /// Add to a 64-bit statistics counter (low at `low`, high at `low + 4`).
    pub fn count64(&mut self, low: u64, n: u64) {
        let v = (u64::from(self.get(low + 4)) << 32 | u64::from(self.get(low))).saturating_add(n);
        self.set(low, v as u32);
        self.set(low + 4, (v >> 32) as u32);
    }

    /// Read a statistics register: clear on read, except that a 64-bit pair clears both halves
    /// when its high half is read.
    pub fn read_stat(&mut self, offset: u64) -> u32 {
        let value = self.get(offset);
        match offset {
            GORCL | GOTCL | TORL | TOTL => {}
            GORCH | GOTCH | TORH | TOTH => {
                self.set(offset - 4, 0);
                self.set(offset, 0);
            }
            _ => self.set(offset, 0),
        }
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clone_is_independent_of_its_original() {
        let mut a = RegFile::new(0x2000);
        a.set(0x404, 7);
        let mut b = a.clone();
        b.set(0x404, 8);
        b.set(0x1ffc, 9);
        assert_eq!((a.get(0x404), a.get(0x1ffc)), (7, 0));
        assert_eq!((b.get(0x404), b.get(0x1ffc)), (8, 9));
        a.clear();
        assert_eq!(b.get(0x404), 8, "clearing the original leaves the clone");
        assert_ne!(a, b);
    }

    #[test]
    fn clear_zeroes_everything_written_and_equals_a_fresh_file() {
        let mut regs = RegFile::new(0x100);
        for (offset, value) in [
            (0, 1),
            (0xfc, 2),
            (0x40, 3),
            (0x40, 4),
            (0x100, 5),
            (0x44, 0),
        ] {
            regs.set(offset, value);
        }
        regs.count64(TORL, u64::MAX);
        assert_eq!(regs.get(0x40), 4);
        assert_eq!(regs.get(0x100), 0, "past the end");
        regs.clear();
        assert_eq!(regs, RegFile::new(0x100));
        regs.set(0x40, 9);
        regs.clear();
        assert_eq!(regs, RegFile::new(0x100), "marks were reset with the words");
    }
}
