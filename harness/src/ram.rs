//! Sandboxed guest RAM: sparse, page-granular and bounded.
//!
//! RAM covers guest-physical `base..base + size`. Pages are allocated on first write; a
//! per-input budget caps how many distinct pages an input may dirty, and reset zeroes only the
//! pages the input dirtied and gives them back to a pool of at most [`POOL_MAX_PAGES`] zeroed
//! pages that later writes take from (the rest are freed). So what a process holds stays
//! bounded — the pages of the current input plus the pool — however many different pages a
//! long campaign's inputs dirty one after the other. Each byte also carries a *defined* bit — set when the program or a
//! device wrote it, or when a lazy DMA fill supplied it — so fills happen once per byte.

use std::fmt;
use std::ops::Range;

/// Page size of the sparse RAM.
pub const PAGE_SIZE: usize = 4096;

/// Most zeroed pages a [`GuestRam`] keeps for reuse across resets (16 MiB of data: one input's
/// default page budget).
pub const POOL_MAX_PAGES: usize = 4096;

#[derive(Clone)]
struct Page {
    data: [u8; PAGE_SIZE],
    defined: [u64; PAGE_SIZE / 64],
    /// The bytes written since the page was last zeroed lie in `written_lo..written_hi`
    /// (empty: `PAGE_SIZE..0`), so a reset zeroes that span, not the whole page.
    written_lo: usize,
    written_hi: usize,
}

impl Page {
    fn new() -> Box<Self> {
        Box::new(Self {
            data: [0; PAGE_SIZE],
            defined: [0; PAGE_SIZE / 64],
            written_lo: PAGE_SIZE,
            written_hi: 0,
        })
    }

    /// `off..off + n` is about to be written: widen the written span over it.
    #[inline]
    fn touch(&mut self, off: usize, n: usize) {
        self.written_lo = self.written_lo.min(off);
        self.written_hi = self.written_hi.max(off + n);
    }

    /// Zero what was written (data and defined bits) and empty the span.
    fn zero_written(&mut self) {
        let (lo, hi) = (self.written_lo, self.written_hi);
        if lo < hi {
            self.data[lo..hi].fill(0);
            self.defined[lo / 64..hi.div_ceil(64)].fill(0);
        }
        self.written_lo = PAGE_SIZE;
        self.written_hi = 0;
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
    /// Zeroed pages for reuse.
    pool: Vec<Box<Page>>,
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
            pool: Vec::new(),
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
        let slot = &mut self.pages[index];
        if slot.is_none() {
            *slot = Some(self.pool.pop().unwrap_or_else(Page::new));
        }
        Ok(slot.get_or_insert_with(Page::new))
    }

    /// Pages of host memory this RAM holds: those written since the last reset and the pool.
    pub fn allocated_pages(&self) -> usize {
        self.pages.iter().filter(|p| p.is_some()).count() + self.pool.len()
    }

    /// Where `addr..addr + len` lies when it is inside one page of RAM: `(page, offset)`.
    /// Device DMA (descriptors, short buffers) is almost always such a piece, so the methods
    /// below take this path before the general page walk.
    #[inline]
    fn within_one_page(&self, addr: u64, len: usize) -> Option<(usize, usize)> {
        let rel = addr.checked_sub(self.base)?;
        let off = (rel % PAGE_SIZE as u64) as usize;
        (rel < self.size && len <= PAGE_SIZE - off)
            .then_some(((rel / PAGE_SIZE as u64) as usize, off))
    }

    /// Read bytes at `addr`; bytes outside RAM are not touched in `buf`.
    pub fn read(&self, addr: u64, buf: &mut [u8]) {
        if let Some((page, off)) = self.within_one_page(addr, buf.len()) {
            match &self.pages[page] {
                Some(p) => buf.copy_from_slice(&p.data[off..off + buf.len()]),
                None => buf.fill(0),
            }
            return;
        }
        self.for_each_chunk(addr, buf.len(), |page, off, range| {
            let dst = &mut buf[range];
            match &self.pages[page] {
                Some(p) => dst.copy_from_slice(&p.data[off..off + dst.len()]),
                None => dst.fill(0),
            }
        });
    }

    /// [`read`](Self::read), except that the parts of `buf` on pages nothing wrote since the
    /// last reset (zeros) are left as they were and their ranges in `buf` are passed to
    /// `zeros` instead: adjacent ones as one range, in order. Bytes outside RAM are not
    /// touched or passed.
    pub fn read_sparse(&self, addr: u64, buf: &mut [u8], zeros: &mut dyn FnMut(Range<usize>)) {
        let mut pending: Option<Range<usize>> = None;
        self.for_each_chunk(addr, buf.len(), |page, off, range| {
            match &self.pages[page] {
                Some(p) => {
                    let dst = &mut buf[range];
                    dst.copy_from_slice(&p.data[off..off + dst.len()]);
                }
                None => match &mut pending {
                    Some(z) if z.end == range.start => z.end = range.end,
                    _ => {
                        if let Some(z) = pending.replace(range) {
                            zeros(z);
                        }
                    }
                },
            }
        });
        if let Some(z) = pending {
            zeros(z);
        }
    }

    /// Write bytes at `addr` and mark them defined. Bytes outside RAM are dropped. Stops at the
    /// first page the budget does not allow.
    pub fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), RamBudgetExhausted> {
        if let Some((page, off)) = self.within_one_page(addr, data.len()) {
            let p = self.page_mut(page)?;
            p.touch(off, data.len());
            p.data[off..off + data.len()].copy_from_slice(data);
            set_bits(&mut p.defined, off, data.len());
            return Ok(());
        }
        let mut done = 0usize;
        while let Some((page, off, n)) = self.next_chunk(addr, data.len(), &mut done) {
            let p = self.page_mut(page)?;
            p.touch(off, n);
            p.data[off..off + n].copy_from_slice(&data[done - n..done]);
            set_bits(&mut p.defined, off, n);
        }
        Ok(())
    }

    /// Write `len` bytes at `addr` from `pattern` repeated (starting at its first byte) and
    /// mark them defined: [`write`](Self::write) of `pattern.iter().cycle().take(len)`,
    /// without building that buffer. An empty pattern writes nothing.
    pub fn fill_pattern(
        &mut self,
        addr: u64,
        len: usize,
        pattern: &[u8],
    ) -> Result<(), RamBudgetExhausted> {
        if pattern.is_empty() {
            return Ok(());
        }
        let mut done = 0usize;
        while let Some((page, off, n)) = self.next_chunk(addr, len, &mut done) {
            let p = self.page_mut(page)?;
            p.touch(off, n);
            repeat_into(
                &mut p.data[off..off + n],
                pattern,
                (done - n) % pattern.len(),
            );
            set_bits(&mut p.defined, off, n);
        }
        Ok(())
    }

    /// Whether any byte of `addr..addr+len` is RAM but not yet defined (what
    /// [`undefined_ranges`](Self::undefined_ranges) would list, without listing it).
    pub fn has_undefined(&self, addr: u64, len: usize) -> bool {
        let mut done = 0usize;
        while let Some((page, off, n)) = self.next_chunk(addr, len, &mut done) {
            let Some(p) = &self.pages[page] else {
                return true;
            };
            if !bits_all_set(&p.defined, off, n) {
                return true;
            }
        }
        false
    }

    /// Byte ranges (relative to `addr`) in `addr..addr+len` that are RAM but not yet defined.
    pub fn undefined_ranges(&self, addr: u64, len: usize) -> Vec<std::ops::Range<usize>> {
        let mut out = Vec::new();
        self.undefined_ranges_into(addr, len, &mut out);
        out
    }

    /// [`undefined_ranges`](Self::undefined_ranges) into `out` (cleared first), so a caller on
    /// the per-input path can reuse one buffer.
    pub fn undefined_ranges_into(
        &self,
        addr: u64,
        len: usize,
        out: &mut Vec<std::ops::Range<usize>>,
    ) {
        out.clear();
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

    /// Zero the pages dirtied since the last reset and clear their defined bits: each goes
    /// back to the pool (up to [`POOL_MAX_PAGES`]) or is freed, and reads as zeros again.
    pub fn reset(&mut self) {
        for &i in &self.dirty {
            let i = i as usize;
            self.is_dirty[i] = false;
            if let Some(mut p) = self.pages[i].take()
                && self.pool.len() < POOL_MAX_PAGES
            {
                p.zero_written();
                self.pool.push(p);
            }
        }
        self.dirty.clear();
    }
}

/// Fill `dst` with `pattern` repeated, starting at `pattern[phase]`: one period by hand,
/// then doubling copies (a fill is up to a page, and a pattern is often a few bytes).
fn repeat_into(dst: &mut [u8], pattern: &[u8], phase: usize) {
    let (tail, head) = pattern.split_at(phase);
    let first = dst.len().min(pattern.len());
    let a = first.min(head.len());
    dst[..a].copy_from_slice(&head[..a]);
    dst[a..first].copy_from_slice(&tail[..first - a]);
    let mut filled = first;
    while filled < dst.len() {
        let n = filled.min(dst.len() - filled);
        dst.copy_within(..n, filled);
        filled += n;
    }
}

/// The words that bits `from..from + n` (n > 0) of a bitmap fall in, `first..=last`, with the
/// masks of those bits in the first and the last word (every bit of the words between).
#[inline]
fn word_span(from: usize, n: usize) -> (usize, u64, usize, u64) {
    let last_bit = from + n - 1;
    (
        from / 64,
        u64::MAX << (from % 64),
        last_bit / 64,
        u64::MAX >> (63 - last_bit % 64),
    )
}

/// Whether bits `from..from + n` of a bitmap are all set, whole words at once.
fn bits_all_set(bits: &[u64], from: usize, n: usize) -> bool {
    if n == 0 {
        return true;
    }
    let (first, first_mask, last, last_mask) = word_span(from, n);
    if first == last {
        let mask = first_mask & last_mask;
        return bits[first] & mask == mask;
    }
    bits[first] & first_mask == first_mask
        && all_ones(&bits[first + 1..last])
        && bits[last] & last_mask == last_mask
}

/// Whether every word of `words` has every bit set, eight words per step: in the fuzz builds
/// each loop iteration bumps a coverage counter, and a page's bitmap is 64 words.
fn all_ones(words: &[u64]) -> bool {
    let and = |words: &[u64]| words.iter().fold(u64::MAX, |acc, w| acc & w);
    let mut blocks = words.chunks_exact(8);
    blocks.all(|block| and(block) == u64::MAX) && and(blocks.remainder()) == u64::MAX
}

/// Set bits `from..from + n` of a bitmap, whole words at once.
fn set_bits(bits: &mut [u64], from: usize, n: usize) {
    if n == 0 {
        return;
    }
    let (first, first_mask, last, last_mask) = word_span(from, n);
    if first == last {
        bits[first] |= first_mask & last_mask;
        return;
    }
    bits[first] |= first_mask;
    bits[first + 1..last].fill(u64::MAX);
    bits[last] |= last_mask;
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

    /// `read_sparse` of `len` bytes at `addr` into a buffer of 0xee: the buffer and the zero
    /// ranges it passed.
    fn sparse(ram: &GuestRam, addr: u64, len: usize) -> (Vec<u8>, Vec<Range<usize>>) {
        let mut buf = vec![0xee; len];
        let mut zeros = Vec::new();
        ram.read_sparse(addr, &mut buf, &mut |r| zeros.push(r));
        (buf, zeros)
    }

    #[test]
    #[allow(
        clippy::single_range_in_vec_init,
        reason = "lists of ranges, not of indices"
    )]
    fn sparse_reads_skip_exactly_the_pages_nothing_wrote_since_the_reset() {
        let mut ram = GuestRam::at(0x1_0000, 0x4000, 8);
        assert_eq!(
            sparse(&ram, 0x1_0000, 0x4000).1,
            vec![0..0x4000],
            "one merged range"
        );
        assert_eq!(
            sparse(&ram, 0x1_0000, 0).1,
            vec![],
            "an empty read passes nothing"
        );
        assert_eq!(
            sparse(&ram, 0xfffe, 4),
            (vec![0xee, 0xee, 0xee, 0xee], vec![2..4]),
            "below RAM: untouched and not passed"
        );
        ram.write(0x1_2fff, &[7]).unwrap();
        ram.write(0x1_1000, &[0]).unwrap();
        let (buf, zeros) = sparse(&ram, 0x1_0ffe, 0x2004);
        assert_eq!(
            zeros,
            vec![0..2, 0x2002..0x2004],
            "written pages are read, zeros too"
        );
        assert_eq!(buf[..2], [0xee, 0xee]);
        assert!(buf[2..0x2001].iter().all(|&b| b == 0));
        assert_eq!(buf[0x2001..], [7, 0xee, 0xee]);
        let mut plain = vec![0xee; 0x2004];
        ram.read(0x1_0ffe, &mut plain);
        assert_eq!(
            plain[2..0x2002],
            buf[2..0x2002],
            "what it reads, read reads"
        );
        ram.reset();
        assert_eq!(
            sparse(&ram, 0x1_0000, 0x4000).1,
            vec![0..0x4000],
            "a reset forgets"
        );
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

    use proptest::test_runner::{Config, RngSeed};

    proptest::proptest! {
        // A fixed seed: the same cases in every run (a failure still shrinks).
        #![proptest_config(Config { rng_seed: RngSeed::Fixed(0x0a3), ..Config::default() })]
        #[test]
        fn defined_ranges_agree_with_a_byte_by_byte_model(
            // (write at, write length, query at, query length)
            steps in proptest::collection::vec(
                (0..0x3000usize, 0..300usize, 0..0x3000usize, 0..700usize),
                1..64,
            )
        ) {
            let mut ram = GuestRam::new(1 << 16, 64);
            let mut model = vec![false; 1 << 16];
            for (at, n, q, qn) in steps {
                ram.write(at as u64, &vec![1; n]).unwrap();
                model[at..at + n].fill(true);
                let mut want: Vec<std::ops::Range<usize>> = Vec::new();
                for i in 0..qn {
                    if !model[q + i] {
                        match want.last_mut() {
                            Some(r) if r.end == i => r.end = i + 1,
                            _ => want.push(i..i + 1),
                        }
                    }
                }
                proptest::prop_assert_eq!(ram.undefined_ranges(q as u64, qn), want.clone());
                proptest::prop_assert_eq!(ram.has_undefined(q as u64, qn), !want.is_empty());
            }
        }
    }

    #[test]
    fn pattern_fill_equals_writing_the_repeated_pattern() {
        let pattern = [1, 2, 3, 4, 5, 6, 7];
        for (at, n) in [(0x10u64, 5usize), (0xffd, 9), (0x1ff0, 0x1100), (0x3ffe, 8)] {
            let mut filled = GuestRam::new(0x4000, 8);
            let mut written = GuestRam::new(0x4000, 8);
            filled.fill_pattern(at, n, &pattern).unwrap();
            let bytes: Vec<u8> = pattern.iter().copied().cycle().take(n).collect();
            written.write(at, &bytes).unwrap();
            assert_eq!(format!("{filled:?}"), format!("{written:?}"), "{at:#x}+{n}");
            assert!(!filled.has_undefined(at, n.min((0x4000 - at) as usize)));
        }
        let mut ram = GuestRam::new(0x4000, 8);
        ram.fill_pattern(0, 16, &[]).unwrap();
        assert_eq!(ram.dirty_pages(), 0, "an empty pattern writes nothing");
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
    fn host_memory_stays_bounded_whatever_pages_inputs_dirty() {
        // 72 inputs, each dirtying 4096 pages no earlier input touched (on 1.5 GiB of RAM).
        let budget = 4096;
        let mut ram = GuestRam::new(72 * budget as u64 * PAGE_SIZE as u64, budget);
        let mut most = 0;
        for input in 0..72u64 {
            for page in 0..budget as u64 {
                let addr = (input * budget as u64 + page) * PAGE_SIZE as u64;
                ram.write(addr + 7, &[0x5a]).unwrap();
            }
            most = most.max(ram.allocated_pages());
            ram.reset();
        }
        assert!(
            most <= budget + POOL_MAX_PAGES,
            "{most} pages held at once (budget {budget}, pool {POOL_MAX_PAGES})"
        );
        let mut buf = [1u8; 8];
        ram.read(7 * PAGE_SIZE as u64, &mut buf);
        assert_eq!(buf, [0; 8], "a reused page reads as zeros");
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

    #[test]
    fn a_page_reused_after_a_reset_is_zero_wherever_it_was_written() {
        let mut ram = GuestRam::new(1 << 16, 8);
        ram.write(0x3001, &[5; 3]).unwrap();
        ram.fill_pattern(0x3ff0, 16, &[7, 8]).unwrap();
        ram.write(0x3800, &[9]).unwrap();
        ram.reset();
        // The pool's page now backs another address.
        ram.write(0x5000, &[1]).unwrap();
        let mut page = vec![0xaa; PAGE_SIZE];
        ram.read(0x5000, &mut page);
        assert_eq!(page[0], 1);
        assert!(page[1..].iter().all(|&b| b == 0));
        assert_eq!(ram.undefined_ranges(0x5000, PAGE_SIZE), vec![1..PAGE_SIZE]);
    }

    #[test]
    fn bitmap_spans_agree_with_bit_by_bit() {
        for from in 0..140 {
            for n in 0..200 {
                let mut bits = [0u64; 8];
                set_bits(&mut bits, from, n);
                for b in 0..512 {
                    let want = b >= from && b < from + n;
                    assert_eq!(
                        bits[b / 64] >> (b % 64) & 1 == 1,
                        want,
                        "{from}+{n} bit {b}"
                    );
                }
                assert!(bits_all_set(&bits, from, n));
                if n > 0 {
                    let hole = from + n / 2;
                    bits[hole / 64] &= !(1 << (hole % 64));
                    assert!(!bits_all_set(&bits, from, n), "{from}+{n} hole {hole}");
                }
            }
        }
    }
}
