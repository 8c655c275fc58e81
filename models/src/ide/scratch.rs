//! A reusable byte buffer for data on its way between guest memory and a disk: its contents
//! are no part of the drive's state, so a DMA step does not allocate and zero a fresh buffer
//! (at 64 KiB per step that was a tenth of the `ide` target's time).

use super::backend::SECTOR_SIZE;
use std::ops::Range;

/// Bytes in transit, held as a [`harness::transient::Transient`] (no part of the drive's
/// state): whoever takes a slice writes every byte of it before reading one.
#[derive(Default)]
pub(super) struct Scratch {
    bytes: Vec<u8>,
    /// The ranges a sparse gather left unwritten because they are zeros.
    zeros: Vec<Range<usize>>,
}

impl Scratch {
    /// `len` bytes of the buffer, grown (with zeros) if it is shorter; what they hold is left
    /// from earlier use: the caller must write each byte before it reads it.
    pub(super) fn take(&mut self, len: usize) -> &mut [u8] {
        if self.bytes.len() < len {
            self.bytes.resize(len, 0);
        }
        &mut self.bytes[..len]
    }

    /// `len` bytes gathered by `gather`, which writes every byte of the buffer it is given
    /// except the ranges it pushes onto the list (bytes that are zeros, in order, adjacent
    /// ones merged), with a mask of the whole sectors each range covers: bit `i` set says sector `i` is zeros, whatever
    /// the buffer holds there (so nothing has to write or scan it). Only the first 128
    /// sectors have a bit; every other byte of the ranges is zeroed in the buffer.
    pub(super) fn gather_sparse(
        &mut self,
        len: usize,
        gather: impl FnOnce(&mut [u8], &mut Vec<Range<usize>>),
    ) -> (&mut [u8], u128) {
        self.take(len);
        let Self { bytes, zeros } = self;
        let buf = &mut bytes[..len];
        zeros.clear();
        gather(buf, zeros);
        let mut known = 0u128;
        for r in zeros.iter() {
            let (start, end) = (r.start.min(len), r.end.min(len));
            // Whole sectors of the range, and of those the ones a mask bit can name.
            let first = start.div_ceil(SECTOR_SIZE);
            let last = (end / SECTOR_SIZE).max(first);
            let named = last.min(u128::BITS as usize).max(first);
            known |= sector_bits(first, named);
            let zero_from = (named * SECTOR_SIZE).clamp(start, end);
            let zero_to = (first * SECTOR_SIZE).clamp(start, end);
            buf[start..zero_to].fill(0);
            buf[zero_from.max(zero_to)..end].fill(0);
        }
        (buf, known)
    }
}

/// The mask with bits `first..named` set (`first <= named <= 128`), without a loop per bit.
fn sector_bits(first: usize, named: usize) -> u128 {
    let count = named.saturating_sub(first);
    if count == 0 {
        return 0;
    }
    (u128::MAX >> (u128::BITS as usize - count)) << first
}

#[cfg(test)]
mod tests {
    use super::{Range, SECTOR_SIZE, Scratch};

    /// Gather `len` bytes of 0xee except `ranges`, into a scratch buffer full of 0x77.
    fn gather(len: usize, ranges: &[Range<usize>]) -> (Vec<u8>, u128) {
        let mut s = Scratch::default();
        s.take(len).fill(0x77);
        let (buf, known) = s.gather_sparse(len, |buf, zeros| {
            buf.fill(0xee);
            for r in ranges {
                buf[r.clone()].fill(0x77);
                zeros.push(r.clone());
            }
        });
        (buf.to_vec(), known)
    }

    #[test]
    #[allow(
        clippy::single_range_in_vec_init,
        reason = "lists of ranges, not of indices"
    )]
    fn a_sparse_gather_names_whole_zero_sectors_and_zeroes_the_rest_of_its_ranges() {
        let len = 130 * SECTOR_SIZE + 100;
        for ranges in [
            vec![],
            vec![0..len],
            vec![100..200],
            vec![100..1100, 1100..1600],
            vec![0..512, 3000..3001, 64 * 1024 - 1..len],
        ] {
            let (buf, known) = gather(len, &ranges);
            for (i, b) in buf.iter().enumerate() {
                let sector = i / SECTOR_SIZE;
                let inside = |r: &Range<usize>| r.contains(&i);
                if !ranges.iter().any(inside) {
                    assert_eq!(*b, 0xee, "{ranges:?}: byte {i} is the gather's");
                } else if known >> sector.min(127) & 1 == 0 || sector >= 128 {
                    assert_eq!(*b, 0, "{ranges:?}: byte {i} of an unnamed sector is zeroed");
                }
            }
            for s in 0..128 {
                // The sectors one range covers whole (adjacent ranges come merged).
                let whole = ranges
                    .iter()
                    .any(|r| r.start <= s * SECTOR_SIZE && (s + 1) * SECTOR_SIZE <= r.end);
                assert_eq!(known >> s & 1 != 0, whole, "{ranges:?}: sector {s}");
            }
        }
    }

    #[test]
    fn sector_bits_sets_exactly_the_named_bits() {
        for first in 0..=128usize {
            for named in first..=128 {
                let want = (first..named).fold(0u128, |m, b| m | 1 << b);
                assert_eq!(super::sector_bits(first, named), want, "{first}..{named}");
            }
        }
    }
}
