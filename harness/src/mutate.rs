//! Structure-aware mutations of op programs (see [`crate::ops`]), for engines that take a custom
//! mutator (libFuzzer's `LLVMFuzzerCustomMutator`).
//!
//! A blind byte mutation rarely writes a whole MMIO address into guest memory, yet DMA that
//! lands in a device's own registers is a classic bug class (the re-entrancy CVEs: a device
//! reads a descriptor whose buffer address is its own BAR). [`aim_dma_at_region`] plants such
//! addresses where device DMA reads them: in the data of RAM_WRITE ops and in DMA fill patterns.
//!
//! Every function here is deterministic in its arguments (its randomness comes from a seed, no
//! global state) and total: any bytes, any sizes.

use crate::ops::{MAX_OP_DATA, OPCODE_COUNT, SEPARATOR, opcode};

/// SplitMix64: a small, seedable generator, plenty for picking mutation sites.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform enough in `0..n`; 0 when `n` is 0.
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
}

/// Where one op's data lies in the input, and how its bytes map to guest addresses.
#[derive(Clone, Copy, Debug)]
struct Site {
    /// Input index of the first data byte.
    start: usize,
    /// Data bytes the decoder uses (at most [`MAX_OP_DATA`]).
    len: usize,
    /// Offset into the data of the first 8-aligned value position.
    first: usize,
}

impl Site {
    /// Value width written at this site: 8 when an aligned 8-byte slot fits, else 4 when an
    /// aligned 4-byte slot does, else none.
    fn width(&self) -> Option<usize> {
        [8, 4].into_iter().find(|w| self.first + w <= self.len)
    }
}

/// The RAM_WRITE and DMA_PATTERN ops of `input` with room for an aligned value, in input order.
fn sites(input: &[u8]) -> impl Iterator<Item = Site> + '_ {
    let mut at = 0usize;
    let mut done = false;
    std::iter::from_fn(move || {
        while !done {
            let rest = input.get(at..).unwrap_or(&[]);
            let (start, end) = match rest.windows(SEPARATOR.len()).position(|w| w == SEPARATOR) {
                Some(i) => (at, at + i),
                None => {
                    done = true;
                    (at, input.len())
                }
            };
            at = end + SEPARATOR.len();
            let Some(chunk) = input.get(start..end) else {
                continue;
            };
            let Some(&first) = chunk.first() else {
                continue;
            };
            let site = match first % OPCODE_COUNT {
                opcode::RAM_WRITE => {
                    let addr = (1..5).rev().fold(0u64, |v, i| {
                        v << 8 | u64::from(chunk.get(i).copied().unwrap_or(0))
                    });
                    // Data byte k lands at guest address addr + k: align that to 8.
                    let first = ((8 - addr % 8) % 8) as usize;
                    Site {
                        start: start + 5,
                        len: chunk.len().saturating_sub(5).min(MAX_OP_DATA),
                        first,
                    }
                }
                opcode::DMA_PATTERN => Site {
                    start: start + 1,
                    len: (chunk.len() - 1).min(MAX_OP_DATA),
                    first: 0,
                },
                _ => continue,
            };
            if site.width().is_some() {
                return Some(site);
            }
        }
        None
    })
}

/// Whether a separator occurrence in `input` overlaps `span` (the rest of the input unchanged).
fn separator_overlaps(input: &[u8], span: std::ops::Range<usize>) -> bool {
    let from = span.start.saturating_sub(SEPARATOR.len() - 1);
    (from..span.end).any(|i| input.get(i..i + SEPARATOR.len()) == Some(&SEPARATOR[..]))
}

/// Plant the address of an MMIO region where device DMA will read it: in `data[..size]` (an op
/// program, see [`crate::ops`]), pick one RAM_WRITE or DMA_PATTERN op and overwrite 8 bytes of its
/// data (4 when only 4 fit) with `base + off`, little-endian, for one of `regions` (each
/// `(base, size)`, e.g. a device's memory BARs) and a 4-byte-aligned `off` inside it: 0, a small
/// offset (< 0x100), or anywhere in the region. When `registers` is not empty, half the time
/// the value is one of them instead: the register addresses the program itself accesses (a
/// DMA that lands on a register the driver programs, such as a transmit control register, is
/// the one that re-enters the device's logic).
///
/// For RAM_WRITE the value lands at an 8-aligned *guest* address (where descriptor rings keep
/// their buffer pointers); in a DMA pattern at an 8-aligned pattern offset. The op sequence
/// stays the same: no opcode, operand or separator changes, and a write that would form a new
/// `FUZZ` separator is refused.
///
/// Returns `Some(size)` (the length is unchanged; `size` is clamped to `data.len()`) after a
/// write, or `None` when there is no region, no qualifying op, or the write would have formed a
/// separator. Deterministic in its arguments (`seed` drives every choice) and total.
pub fn aim_dma_at_region(
    data: &mut [u8],
    size: usize,
    regions: &[(u64, u64)],
    registers: &[u64],
    seed: u32,
) -> Option<usize> {
    let size = size.min(data.len());
    let input = &mut data[..size];
    let regions_with_room = regions.iter().filter(|r| r.1 > 0).count() as u64;
    if regions_with_room == 0 && registers.is_empty() {
        return None;
    }
    let mut rng = SplitMix(u64::from(seed) ^ 0x6465_7666_757a_7a21);
    let count = sites(input).count() as u64;
    if count == 0 {
        return None;
    }
    let site = sites(input).nth(rng.below(count) as usize)?;
    let width = site.width()?;
    let slots = (site.len - site.first - width) / 8 + 1;
    let at = site.start + site.first + 8 * rng.below(slots as u64) as usize;

    let value = if !registers.is_empty() && (regions_with_room == 0 || rng.below(2) == 0) {
        registers[rng.below(registers.len() as u64) as usize]
    } else {
        let n = rng.below(regions_with_room) as usize;
        let &(base, region_size) = regions.iter().filter(|r| r.1 > 0).nth(n)?;
        let off = match rng.below(3) {
            0 => 0,
            1 => rng.below(0x40) * 4,
            _ => rng.below(region_size),
        };
        base.wrapping_add((off % region_size) & !3)
    };
    let value = value.to_le_bytes();

    let span = at..at + width;
    let old: [u8; 8] = {
        let mut o = [0u8; 8];
        o[..width].copy_from_slice(input.get(span.clone())?);
        o
    };
    input
        .get_mut(span.clone())?
        .copy_from_slice(&value[..width]);
    if separator_overlaps(input, span.clone()) {
        input.get_mut(span)?.copy_from_slice(&old[..width]);
        return None;
    }
    Some(size)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::{Op, decode, encode};

    const BAR: (u64, u64) = (0xfebc_0000, 0x2_0000);

    fn program() -> Vec<u8> {
        encode(&[
            Op::ClockStep(5),
            Op::RamWrite {
                addr: 0x1003,
                data: &[0x11; 40],
            },
            Op::DmaClear,
        ])
        .unwrap()
    }

    #[test]
    fn writes_a_region_address_at_an_aligned_guest_address_of_a_ram_write() {
        for seed in 0..200 {
            let before = program();
            let mut after = before.clone();
            assert_eq!(
                aim_dma_at_region(&mut after, before.len(), &[BAR], &[], seed),
                Some(before.len())
            );
            let old: Vec<_> = decode(&before).collect();
            let new: Vec<_> = decode(&after).collect();
            assert_eq!(new.len(), old.len());
            assert_eq!((new[0], new[2]), (old[0], old[2]));
            let Op::RamWrite { addr, data } = new[1] else {
                panic!("{:?}", new[1]);
            };
            assert_eq!(addr, 0x1003);
            assert_eq!(data.len(), 40);
            let changed: Vec<usize> = (0..40).filter(|&k| data[k] != 0x11).collect();
            let k = changed[0];
            assert_eq!((0x1003 + k) % 8, 0, "seed {seed}: offset {k}");
            assert!(changed.iter().all(|&c| c < k + 8));
            let mut v = [0u8; 8];
            v.copy_from_slice(&data[k..k + 8]);
            let v = u64::from_le_bytes(v);
            assert!(v >= BAR.0 && v < BAR.0 + BAR.1 && v % 4 == 0, "{v:#x}");
        }
    }

    #[test]
    fn aims_at_the_programs_own_registers_half_the_time() {
        let tctl = BAR.0 + 0x400;
        let mut hits = 0;
        for seed in 0..400 {
            let mut input = program();
            aim_dma_at_region(&mut input, 1000, &[BAR], &[tctl], seed).unwrap();
            let Op::RamWrite { data, .. } = decode(&input).nth(1).unwrap() else {
                panic!("not a RAM_WRITE");
            };
            hits += data.windows(8).filter(|w| *w == tctl.to_le_bytes()).count();
        }
        assert!(
            (120..280).contains(&hits),
            "{hits} of 400 aimed at the register"
        );
        let mut input = program();
        aim_dma_at_region(&mut input, 1000, &[], &[tctl], 7).unwrap();
        let Op::RamWrite { data, .. } = decode(&input).nth(1).unwrap() else {
            panic!("not a RAM_WRITE");
        };
        assert!(
            data.windows(8).any(|w| w == tctl.to_le_bytes()),
            "no regions: registers only"
        );
    }

    #[test]
    fn writes_into_dma_patterns_and_falls_back_to_four_bytes() {
        let mut input = encode(&[Op::DmaPattern(&[0xaa; 6])]).unwrap();
        assert_eq!(
            aim_dma_at_region(&mut input, 7, &[(0x1000, 4)], &[], 1),
            Some(7)
        );
        assert_eq!(input, [opcode::DMA_PATTERN, 0, 0x10, 0, 0, 0xaa, 0xaa]);
    }

    #[test]
    fn none_without_data_ops_or_regions() {
        let mut input = encode(&[
            Op::ClockStep(5),
            Op::DmaClear,
            Op::RamWrite {
                addr: 1,
                data: &[0; 9],
            },
            Op::DmaPattern(&[1, 2, 3]),
        ])
        .unwrap();
        let before = input.clone();
        for seed in 0..50 {
            assert_eq!(aim_dma_at_region(&mut input, 1000, &[BAR], &[], seed), None);
            assert_eq!(
                aim_dma_at_region(&mut program(), 1000, &[], &[], seed),
                None
            );
            assert_eq!(
                aim_dma_at_region(&mut program(), 1000, &[(5, 0)], &[], seed),
                None
            );
        }
        assert_eq!(input, before);
    }

    #[test]
    fn refuses_to_form_a_separator() {
        // The slot ends with "FU" and "ZZ" follows it.
        let mut input = vec![opcode::DMA_PATTERN];
        input.extend([0u8; 8]);
        input.extend(b"ZZ");
        let before = input.clone();
        let region = (u64::from_le_bytes(*b"\0\0\0\0\0\0FU"), 4);
        assert_eq!(aim_dma_at_region(&mut input, 11, &[region], &[], 0), None);
        assert_eq!(input, before);
        // The address operand ends with "FUZ" and the slot would start with 'Z'.
        let mut input = vec![opcode::RAM_WRITE, 0, b'F', b'U', b'Z'];
        input.extend([0u8; 8]);
        let before = input.clone();
        assert_eq!(
            aim_dma_at_region(&mut input, 13, &[(0x5a, 4)], &[], 0),
            None
        );
        assert_eq!(input, before);
        assert_eq!(
            aim_dma_at_region(&mut input, 13, &[(0x58, 4)], &[], 0),
            Some(13)
        );
        assert_eq!(&input[5..], &[0x58, 0, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn equal_seeds_mutate_equally() {
        let mut a = program();
        let mut b = program();
        let regions = [BAR, (0xe000_0000, 0x4000), (0xc000_0000, 0x1000)];
        for seed in [0, 1, 7, 0xdead_beef] {
            let ra = aim_dma_at_region(&mut a, 1 << 20, &regions, &[], seed);
            let rb = aim_dma_at_region(&mut b, 1 << 20, &regions, &[], seed);
            assert_eq!((ra, &a), (rb, &b));
        }
    }

    /// Each op with its data blanked: what a mutation must leave alone.
    fn shape(input: &[u8]) -> Vec<String> {
        decode(input)
            .map(|op| match op {
                Op::RamWrite { addr, data } => format!("ram {addr} {}", data.len()),
                Op::DmaPattern(p) => format!("pattern {}", p.len()),
                op => format!("{op:?}"),
            })
            .collect()
    }

    use proptest::test_runner::{Config, RngSeed};

    proptest::proptest! {
        // A fixed seed: the same cases in every run (a failure still shrinks).
        #![proptest_config(Config { rng_seed: RngSeed::Fixed(0xa1d), ..Config::default() })]
        #[test]
        fn total_over_arbitrary_inputs_and_sizes(
            data in proptest::collection::vec(
                proptest::sample::select(b"FUZZ\x04\x05\x0d\x00\xff".to_vec()),
                0..400,
            ),
            region in (proptest::prelude::any::<u64>(), 0..0x10_0000u64),
            seed in proptest::prelude::any::<u32>(),
        ) {
            let mut data = data;
            let len = data.len();
            let regions = [region, (u64::MAX - 3, 0x100), (0, u64::MAX)];
            for (i, size) in [0, len / 2, len, len + 1, usize::MAX].into_iter().enumerate() {
                let kept = size.min(len);
                let before = shape(&data[..kept]);
                let seed = seed.wrapping_add(i as u32);
                let got = aim_dma_at_region(&mut data, size, &regions, &[], seed);
                if let Some(n) = got {
                    proptest::prop_assert_eq!(n, kept);
                }
                proptest::prop_assert_eq!(before, shape(&data[..kept]));
            }
        }
    }
}
