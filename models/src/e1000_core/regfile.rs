//! The register file: one dword per 4 bytes of BAR0 up to a model's end, plus the statistics
//! counter rules (saturating adds; clear on read; 64-bit pairs clear when the high half is read).

use super::regs::{GORCH, GORCL, GOTCH, GOTCL, TORH, TORL, TOTH, TOTL};
use std::rc::Rc;

/// Dwords per page of the register file.
const PAGE_WORDS: usize = 256;

/// One page of dwords.
type Page = [u32; PAGE_WORDS];

/// Dword storage for a register file of `end` bytes. Offsets past the end read 0 and drop
/// writes, so no guest offset can index outside it.
///
/// The dwords live in 1 KiB pages shared copy-on-write, so a clone (the machine clones a device
/// to restore its checkpoint before every fuzz input) copies page pointers, and an input pays
/// for the pages it writes; `clone_from` replaces only the pages that differ. The file also
/// holds its reset contents ([`keep_as_reset`](Self::keep_as_reset)) as shared pages, so a
/// device reset ([`reset`](Self::reset)) puts page pointers back instead of writing each
/// register. The pages are `Rc`, not `Arc`: a device never leaves its thread, and an atomic
/// reference count would cost a locked instruction on every register write (`make_mut`) and
/// every page of every checkpoint restore.
pub struct RegFile {
    pages: Vec<Rc<Page>>,
    /// The pages a reset returns to, shared by every clone.
    reset_pages: Rc<[Rc<Page>]>,
    /// Dwords in the file.
    len: usize,
}

impl Clone for RegFile {
    fn clone(&self) -> Self {
        Self {
            pages: self.pages.clone(),
            reset_pages: Rc::clone(&self.reset_pages),
            len: self.len,
        }
    }

    /// Reuses the page table and skips the pages both files already share.
    fn clone_from(&mut self, source: &Self) {
        if self.pages.len() == source.pages.len() {
            for (page, from) in self.pages.iter_mut().zip(&source.pages) {
                if !Rc::ptr_eq(page, from) {
                    *page = Rc::clone(from);
                }
            }
        } else {
            self.pages.clone_from(&source.pages);
        }
        if !Rc::ptr_eq(&self.reset_pages, &source.reset_pages) {
            self.reset_pages = Rc::clone(&source.reset_pages);
        }
        self.len = source.len;
    }
}

impl PartialEq for RegFile {
    /// Equal contents (what was written when, and the reset contents, do not matter).
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.pages == other.pages
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
    /// A zeroed register file covering byte offsets `[0, end)`; a reset zeroes it until
    /// [`keep_as_reset`](Self::keep_as_reset) says otherwise.
    pub fn new(end: u64) -> Self {
        let len = (end / 4) as usize;
        let zero = Rc::new([0; PAGE_WORDS]);
        let pages = vec![zero; len.div_ceil(PAGE_WORDS)];
        Self {
            reset_pages: Rc::from(pages.as_slice()),
            pages,
            len,
        }
    }

    /// Make the present contents what [`reset`](Self::reset) returns to (a device builds its
    /// reset values once, here).
    pub fn keep_as_reset(&mut self) {
        self.reset_pages = Rc::from(self.pages.as_slice());
    }

    /// Return every register to the reset contents (touches only the pages that differ).
    pub fn reset(&mut self) {
        for (page, reset) in self.pages.iter_mut().zip(self.reset_pages.iter()) {
            if !Rc::ptr_eq(page, reset) {
                *page = Rc::clone(reset);
            }
        }
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
            Rc::make_mut(page)[i % PAGE_WORDS] = value;
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

    /// The registers of `[base, base + 4 * words)` to change in place, or `None` when that
    /// range leaves its page or the file. A frame updates about ten statistics counters; as a
    /// block they cost one copy-on-write check instead of one call each.
    pub fn block_mut(&mut self, base: u64, words: usize) -> Option<Block<'_>> {
        let first = usize::try_from(base / 4).ok()?;
        let in_page = first % PAGE_WORDS;
        if base % 4 != 0 || first >= self.len || words > PAGE_WORDS - in_page {
            return None;
        }
        let page = Rc::make_mut(&mut self.pages[first / PAGE_WORDS]);
        Some(Block {
            base,
            words: &mut page[in_page..in_page + words],
        })
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

/// Registers of one page of a [`RegFile`] changed in place ([`RegFile::block_mut`]); offsets
/// outside the block are ignored, as offsets past the file's end are.
pub struct Block<'a> {
    base: u64,
    words: &'a mut [u32],
}

impl Block<'_> {
    fn word(&mut self, offset: u64) -> Option<&mut u32> {
        let i = usize::try_from(offset.checked_sub(self.base)? / 4).ok()?;
        self.words.get_mut(i)
    }

    /// [`RegFile::count`] inside the block.
    pub fn count(&mut self, offset: u64, n: u32) {
        if let Some(w) = self.word(offset) {
            *w = w.saturating_add(n);
        }
    }

    /// [`RegFile::count64`] inside the block.
    pub fn count64(&mut self, low: u64, n: u64) {
        let (Some(lo), Some(hi)) = (self.word(low).map(|w| *w), self.word(low + 4).map(|w| *w))
        else {
            return;
        };
        let v = (u64::from(hi) << 32 | u64::from(lo)).saturating_add(n);
        if let Some(w) = self.word(low) {
            *w = v as u32;
        }
        if let Some(w) = self.word(low + 4) {
            *w = (v >> 32) as u32;
        }
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
        a.reset();
        assert_eq!(b.get(0x404), 8, "resetting the original leaves the clone");
        assert_ne!(a, b);
        let mut c = RegFile::new(0x2000);
        c.set(0x10, 1);
        c.clone_from(&b);
        assert_eq!(c, b, "clone_from copies the contents");
        c.set(0x404, 10);
        assert_eq!(b.get(0x404), 8, "and stays independent");
    }

    #[test]
    fn a_block_counts_as_the_file_does_and_stays_in_its_page() {
        let mut by_file = RegFile::new(0x1000);
        by_file.set(0x408, u32::MAX - 1);
        by_file.set(0x410, u32::MAX);
        let mut by_block = by_file.clone();
        let shared = by_file.clone();
        for (offset, n) in [(0x400, 1), (0x404, 7), (0x408, 5), (0x4fc, 2)] {
            by_file.count(offset, n);
        }
        by_file.count64(0x410, 3);
        by_file.count64(0x418, u64::MAX);
        let mut b = by_block.block_mut(0x400, 64).expect("inside one page");
        for (offset, n) in [(0x400, 1), (0x404, 7), (0x408, 5), (0x4fc, 2)] {
            b.count(offset, n);
        }
        b.count64(0x410, 3);
        b.count64(0x418, u64::MAX);
        b.count(0x500, 1);
        b.count(0x3fc, 1);
        assert_eq!(
            by_block, by_file,
            "the same counts; offsets outside the block ignored"
        );
        assert_eq!(shared.get(0x400), 0, "copy on write");
        assert!(by_block.block_mut(0x400, 256).is_some());
        assert!(by_block.block_mut(0x404, 256).is_none(), "past its page");
        assert!(by_block.block_mut(0x1000, 1).is_none(), "past the file");
        assert!(by_block.block_mut(0x402, 1).is_none(), "unaligned");
    }

    #[test]
    fn reset_returns_to_the_kept_contents_and_equals_a_fresh_file() {
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
        regs.reset();
        assert_eq!(regs, RegFile::new(0x100));
        regs.set(0x40, 9);
        regs.keep_as_reset();
        let kept = regs.clone();
        regs.set(0x40, 10);
        regs.set(0x80, 11);
        regs.reset();
        assert_eq!(regs, kept, "back to the kept contents");
        assert_eq!((regs.get(0x40), regs.get(0x80)), (9, 0));
        let mut copy = RegFile::new(0x100);
        copy.clone_from(&regs);
        copy.set(0x40, 12);
        copy.reset();
        assert_eq!(copy.get(0x40), 9, "a copy resets to the same contents");
    }
}
