//! Sandboxed guest RAM: sparse, page-granular and bounded.
//!
//! RAM covers guest-physical `base..base + size`. Pages are allocated on first write and kept for reuse;
//! a per-input budget caps how many distinct pages an input may dirty, and reset zeroes only the
//! pages the input dirtied. Each byte also carries a *defined* bit — set when the program or a
//! device wrote it, or when a lazy DMA fill supplied it — so fills happen once per byte.

use std::fmt;

/// Page size of the sparse RAM.
pub const PAGE_SIZE: usize = 4096;

#[derive(Clone)]
struct Page {
    data: [u8; PAGE_SIZE],
    defined: [u64; PAGE_SIZE / 64],
}

impl Page {
    fn new() -> Box<Self> {
        Box::new(Self {
            data: [0; PAGE_SIZE],
            defined: [0; PAGE_SIZE / 64],
        })
    }
}

/// The input touched more distinct pages than its budget allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("guest RAM budget of {pages} pages exhausted")]
pub struct RamBudgetExhausted {
    /// The budget that was exceeded.
    pub pages: usize,
}

/// Sparse guest RAM.
#[derive(Clone)]
pub struct GuestRam {
    base: u64,
    size: u64,
    pages: Vec<Option<Box<Page>>>,
    dirty: Vec<u32>,
    is_dirty: Vec<bool>,
    page_budget: usize,
}

impl fmt::Debug for GuestRam {
    /// Lists the non-zero pages by a content digest, so two RAMs compare equal as text exactly
    /// when their contents do.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_map();
        for (i, p) in self.pages.iter().enumerate() {
            if let Some(p) = p {
                if p.data.iter().any(|&b| b != 0) || p.defined.iter().any(|&w| w != 0) {
                    let digest = p.data.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
                        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
                    });
                    let def: u32 = p.defined.iter().map(|w| w.count_ones()).sum();
                    list.entry(
                        &format_args!("{:#x}", self.base + (i * PAGE_SIZE) as u64),
                        &format_args!("{digest:016x}/{def}"),
                    );
                }
            }
        }
        list.finish()
    }
}

impl GuestRam {
    /// RAM of `size` bytes (rounded up to pages) at guest-physical 0 with a budget of
    /// `page_budget` dirty pages per input.
    pub fn new(size: u64, page_budget: usize) -> Self {
        Self::at(0, size, page_budget)
    }

    /// RAM of `size` bytes at guest-physical `base` (page aligned: rounded down).
    pub fn at(base: u64, size: u64, page_budget: usize) -> Self {
        let base = base & !(PAGE_SIZE as u64 - 1);
        let size = size.min(u64::MAX - base);
        let npages = usize::try_from(size.div_ceil(PAGE_SIZE as u64)).unwrap_or(usize::MAX);
        Self {
            base,
            size: npages as u64 * PAGE_SIZE as u64,
            pages: vec![None; npages],
            dirty: Vec::new(),
            is_dirty: vec![false; npages],
            page_budget,
        }
    }

    /// Size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Guest-physical address of the first byte.
    pub fn base(&self) -> u64 {
        self.base
    }

    /// Whether `addr` is RAM.
    pub fn contains(&self, addr: u64) -> bool {
        addr.checked_sub(self.base)
            .is_some_and(|rel| rel < self.size)
    }

    /// Pages dirtied since the last reset.
    pub fn dirty_pages(&self) -> usize {
        self.dirty.len()
    }

    fn page_mut(&mut self, index: usize) -> Result<&mut Page, RamBudgetExhausted> {
        if !self.is_dirty[index] {
            if self.dirty.len() >= self.page_budget {
                return Err(RamBudgetExhausted {
                    pages: self.page_budget,
                });
            }
            self.is_dirty[index] = true;
            self.dirty.push(index as u32);
        }
        Ok(self.pages[index].get_or_insert_with(Page::new))
    }

    /// Read bytes at `addr`; bytes outside RAM are not touched in `buf`.
    pub fn read(&self, addr: u64, buf: &mut [u8]) {
        self.for_each_chunk(addr, buf.len(), |page, off, range| {
            let dst = &mut buf[range];
            match &self.pages[page] {
                Some(p) => dst.copy_from_slice(&p.data[off..off + dst.len()]),
                None => dst.fill(0),
            }
        });
    }

    /// Write bytes at `addr` and mark them defined. Bytes outside RAM are dropped. Stops at the
    /// first page the budget does not allow.
    pub fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), RamBudgetExhausted> {
        let mut done = 0usize;
        while let Some((page, off, n)) = self.next_chunk(addr, data.len(), &mut done) {
            let p = self.page_mut(page)?;
            p.data[off..off + n].copy_from_slice(&data[done - n..done]);
            set_bits(&mut p.defined, off, n);
        }
        Ok(())
    }

    /// Byte ranges (relative to `addr`) in `addr..addr+len` that are RAM but not yet defined.
    pub fn undefined_ranges(&self, addr: u64, len: usize) -> Vec<std::ops::Range<usize>> {
        let mut out: Vec<std::ops::Range<usize>> = Vec::new();
        let mut push = |r: std::ops::Range<usize>| match out.last_mut() {
            Some(last) if last.end == r.start => last.end = r.end,
            _ => out.push(r),
        };
        self.for_each_chunk(addr, len, |page, off, range| {
            let Some(p) = &self.pages[page] else {
                push(range);
                return;
            };
            // Word at a time: skip fully defined words, take fully undefined ones whole.
            let mut bit = off;
            let end = off + range.len();
            while bit < end {
                let word = p.defined[bit / 64];
                let in_word = (64 - bit % 64).min(end - bit);
                let mask = if in_word == 64 {
                    u64::MAX
                } else {
                    ((1u64 << in_word) - 1) << (bit % 64)
                };
                let pos = range.start + (bit - off);
                match word & mask {
                    m if m == mask => {}
                    0 => push(pos..pos + in_word),
                    _ => {
                        for k in 0..in_word {
                            if word & (1 << ((bit + k) % 64)) == 0 {
                                push(pos + k..pos + k + 1);
                            }
                        }
                    }
                }
                bit += in_word;
            }
        });
        out
    }

    /// The next page-sized piece of `addr..addr+len` from `*done` on that lies in RAM, as
    /// `(page index, offset in page, length)`; advances `*done` past it (and past bytes below
    /// RAM). `None` once the rest is outside RAM.
    fn next_chunk(&self, addr: u64, len: usize, done: &mut usize) -> Option<(usize, usize, usize)> {
        while *done < len {
            let a = addr.checked_add(*done as u64)?;
            let Some(rel) = a.checked_sub(self.base) else {
                *done += usize::try_from(self.base - a)
                    .unwrap_or(usize::MAX)
                    .min(len - *done);
                continue;
            };
            if rel >= self.size {
                return None;
            }
            let page = (rel / PAGE_SIZE as u64) as usize;
            let off = (rel % PAGE_SIZE as u64) as usize;
            let n = (PAGE_SIZE - off).min(len - *done);
            *done += n;
            return Some((page, off, n));
        }
        None
    }

    /// Call `f(page index, offset in page, range in the caller's buffer)` for each page-sized
    /// piece of `addr..addr+len` that lies in RAM.
    fn for_each_chunk(
        &self,
        addr: u64,
        len: usize,
        mut f: impl FnMut(usize, usize, std::ops::Range<usize>),
    ) {
        let mut done = 0usize;
        while let Some((page, off, n)) = self.next_chunk(addr, len, &mut done) {
            f(page, off, done - n..done);
        }
    }

    /// Zero the pages dirtied since the last reset and clear their defined bits.
    pub fn reset(&mut self) {
        for &i in &self.dirty {
            let i = i as usize;
            self.is_dirty[i] = false;
            if let Some(p) = &mut self.pages[i] {
                p.data.fill(0);
                p.defined.fill(0);
            }
        }
        self.dirty.clear();
    }
}

/// Set bits `from..from + n` of a bitmap, a word at a time.
fn set_bits(bits: &mut [u64], from: usize, n: usize) {
    let mut bit = from;
    let end = from + n;
    while bit < end {
        let in_word = (64 - bit % 64).min(end - bit);
        let mask = if in_word == 64 {
            u64::MAX
        } else {
            ((1u64 << in_word) - 1) << (bit % 64)
        };
        bits[bit / 64] |= mask;
        bit += in_word;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unwritten_ram_reads_zero_and_allocates_nothing() {
        let ram = GuestRam::new(1 << 20, 8);
        let mut buf = [0xaa; 16];
        ram.read(0x1234, &mut buf);
        assert_eq!(buf, [0; 16]);
        assert_eq!(ram.dirty_pages(), 0);
    }

    #[test]
    fn writes_across_pages_read_back_and_mark_defined() {
        let mut ram = GuestRam::new(1 << 20, 8);
        ram.write(0xffe, &[1, 2, 3, 4]).unwrap();
        let mut buf = [0; 4];
        ram.read(0xffe, &mut buf);
        assert_eq!(buf, [1, 2, 3, 4]);
        assert_eq!(ram.dirty_pages(), 2);
        assert_eq!(ram.undefined_ranges(0xffc, 8), vec![0..2, 6..8]);
    }

    #[test]
    fn budget_cuts_off_further_pages() {
        let mut ram = GuestRam::new(1 << 20, 2);
        ram.write(0, &[1]).unwrap();
        ram.write(0x1000, &[1]).unwrap();
        assert_eq!(
            ram.write(0x2000, &[1]),
            Err(RamBudgetExhausted { pages: 2 })
        );
        ram.write(0x10, &[2]).unwrap();
    }

    #[test]
    fn accesses_beyond_ram_are_dropped() {
        let mut ram = GuestRam::new(0x2000, 8);
        ram.write(0x1ffe, &[9; 4]).unwrap();
        ram.write(u64::MAX - 1, &[9; 4]).unwrap();
        let mut buf = [7; 4];
        ram.read(0x1ffe, &mut buf);
        assert_eq!(buf, [9, 9, 7, 7]);
    }

    #[test]
    fn defined_ranges_agree_with_a_byte_by_byte_model() {
        let mut ram = GuestRam::new(1 << 16, 64);
        let mut model = vec![false; 1 << 16];
        let mut x = 0x2545_f491u64;
        for _ in 0..300 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let at = (x % 0x3000) as usize;
            let n = ((x >> 20) % 300) as usize;
            ram.write(at as u64, &vec![1; n]).unwrap();
            model[at..at + n].fill(true);
            let (q, qn) = (((x >> 30) % 0x3000) as usize, ((x >> 40) % 700) as usize);
            let mut want: Vec<std::ops::Range<usize>> = Vec::new();
            for i in 0..qn {
                if !model[q + i] {
                    match want.last_mut() {
                        Some(r) if r.end == i => r.end = i + 1,
                        _ => want.push(i..i + 1),
                    }
                }
            }
            assert_eq!(ram.undefined_ranges(q as u64, qn), want);
        }
    }

    #[test]
    fn ram_at_a_base_answers_only_there() {
        let mut ram = GuestRam::at(0x8000_0000, 0x2000, 8);
        assert!(
            !ram.contains(0x7fff_ffff) && ram.contains(0x8000_0000) && !ram.contains(0x8000_2000)
        );
        ram.write(0x7fff_fffe, &[1, 2, 3, 4]).unwrap();
        let mut buf = [9; 4];
        ram.read(0x7fff_fffe, &mut buf);
        assert_eq!(buf, [9, 9, 3, 4], "bytes below the base are not RAM");
        assert_eq!(ram.undefined_ranges(0x8000_0000, 4), vec![2..4]);
    }

    #[test]
    fn reset_zeroes_only_what_was_dirtied_and_matches_fresh() {
        let fresh = GuestRam::new(1 << 16, 8);
        let mut ram = GuestRam::new(1 << 16, 8);
        ram.write(0x3000, &[5; 100]).unwrap();
        ram.reset();
        assert_eq!(format!("{ram:?}"), format!("{fresh:?}"));
        assert_eq!(ram.dirty_pages(), 0);
    }
}
