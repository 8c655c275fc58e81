//! Checksums and frame accounting both chips share: the internet checksum and its insertion,
//! the Ethernet CRC, the PRC/PTC size buckets and the per-frame statistics (facts §1.7, §1.8).

use super::filter::RxKind;
use super::regfile::RegFile;
use super::regs::*;

/// Minimum Ethernet frame without FCS.
pub const MIN_FRAME: usize = 60;

/// Index of the PRC/PTC counter for a frame of `len` bytes with FCS (64, 65-127, ..., 1024+).
pub fn size_bucket(len: usize) -> u64 {
    match len {
        0..=64 => 0,
        65..=127 => 1,
        128..=255 => 2,
        256..=511 => 3,
        512..=1023 => 4,
        _ => 5,
    }
}

/// Insert the internet checksum of `frame[start..=end]` (to the end of the frame when `end` is
/// 0 or past it) at `offset`, the field zeroed first; out-of-range offsets leave the frame
/// unchanged.
pub fn insert_checksum(frame: &mut [u8], start: usize, offset: usize, end: usize) {
    if offset.checked_add(2).is_none_or(|e| e > frame.len()) {
        return;
    }
    let last = if end == 0 || end >= frame.len() {
        frame.len()
    } else {
        end + 1
    };
    if start >= last {
        return;
    }
    frame[offset..offset + 2].fill(0);
    let sum = internet_checksum(&frame[start..last]);
    frame[offset..offset + 2].copy_from_slice(&sum.to_be_bytes());
}

/// Insert the internet checksum of `frame[start..]` at `offset`, keeping what the field holds
/// as a seed (the pseudo-header sum a driver puts there for TCP/UDP offload) and adding `extra`
/// (the L4 length a TSO segment adds to a length-less pseudo-header seed). Out-of-range
/// offsets leave the frame unchanged.
pub fn insert_seeded_checksum(frame: &mut [u8], start: usize, offset: usize, extra: u16) {
    if start >= frame.len() || offset.checked_add(2).is_none_or(|e| e > frame.len()) {
        return;
    }
    let mut sum = u32::from(!internet_checksum(&frame[start..])) + u32::from(extra);
    sum = (sum & 0xFFFF) + (sum >> 16);
    let sum = !(sum as u16);
    frame[offset..offset + 2].copy_from_slice(&sum.to_be_bytes());
}

/// Bytes [`internet_checksum`] sums per step.
const CHECKSUM_BLOCK: usize = 64;

/// RFC 1071 ones'-complement checksum. The sum is taken over little-endian words and
/// byte-swapped at the end (RFC 1071 §2(B): the sum is independent of byte order but for a
/// swap), 64 bytes per step into a wide accumulator whose carries are folded back once at the
/// end (end-around carry is associative, and 2^32 = 1 modulo 0xFFFF). Frames reach 64 KiB and
/// are summed per segment; in a fuzz build each loop iteration also bumps a coverage counter,
/// so the loop takes few, wide steps.
pub fn internet_checksum(data: &[u8]) -> u16 {
    let mut blocks = data.chunks_exact(CHECKSUM_BLOCK);
    // Stays below 2^37: each step folds the upper half in before adding a block (< 2^36).
    let mut sum: u64 = 0;
    for block in &mut blocks {
        if let Ok(block) = block.try_into() {
            sum = (sum & 0xFFFF_FFFF) + (sum >> 32) + block_sum(block);
        }
    }
    let rest = blocks.remainder();
    if !rest.is_empty() {
        // The odd last byte is the high byte of a big-endian word padded with zero.
        let mut last = [0u8; CHECKSUM_BLOCK];
        for (to, from) in last.iter_mut().zip(rest) {
            *to = *from;
        }
        sum = (sum & 0xFFFF_FFFF) + (sum >> 32) + block_sum(&last);
    }
    while sum >> 16 != 0 {
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    !(sum as u16).swap_bytes()
}

/// The sum of a block's little-endian 64-bit words, each as its two 32-bit halves (congruent
/// modulo 0xFFFF to the sum of its 16-bit words); below 2^36. Indexing a fixed-size block
/// (rather than `copy_from_slice`, whose overlap check a fuzz build's debug assertions keep)
/// lets the compiler unroll it into straight-line code; inlined and with wrapping adds (they
/// cannot overflow), a fuzz build adds no call, stack-depth probe or overflow check per block.
#[inline(always)]
fn block_sum(block: &[u8; CHECKSUM_BLOCK]) -> u64 {
    let mut sum = 0u64;
    for i in 0..CHECKSUM_BLOCK / 8 {
        let b = |k: usize| u64::from(block[8 * i + k]);
        let low = b(0) | b(1) << 8 | b(2) << 16 | b(3) << 24;
        let high = b(4) | b(5) << 8 | b(6) << 16 | b(7) << 24;
        sum = sum.wrapping_add(low).wrapping_add(high);
    }
    sum
}

/// Ethernet CRC-32 (IEEE 802.3), as the FCS carries it (little-endian on the wire).
pub fn ethernet_crc(data: &[u8]) -> u32 {
    crc32fast::hash(data)
}

/// The statistics counters a frame updates, as one [`RegFile::block_mut`] (they share a page).
const FRAME_STATS: (u64, usize) = (PRC64, ((BPTC + 4 - PRC64) / 4) as usize);

/// Count a transmitted frame (without FCS): TPT, GPTC, TOTL/GOTCL, BPTC/MPTC, PTCxx.
pub fn count_tx(regs: &mut RegFile, frame: &[u8]) {
    let len = frame.len();
    let Some(mut stats) = regs.block_mut(FRAME_STATS.0, FRAME_STATS.1) else {
        return;
    };
    stats.count(TPT, 1);
    stats.count(GPTC, 1);
    stats.count64(TOTL, len as u64);
    stats.count64(GOTCL, len as u64);
    if frame.len() >= 6 && frame[..6] == [0xFF; 6] {
        stats.count(BPTC, 1);
    } else if frame.first().is_some_and(|b| b & 1 != 0) {
        stats.count(MPTC, 1);
    }
    stats.count(PTC64 + 4 * size_bucket(len + 4), 1);
}

/// Count a received frame of `wire_len` bytes (with FCS): TPR, GPRC, TORL/GORCL, BPRC/MPRC,
/// PRCxx.
pub fn count_rx(regs: &mut RegFile, kind: RxKind, wire_len: usize) {
    let Some(mut stats) = regs.block_mut(FRAME_STATS.0, FRAME_STATS.1) else {
        return;
    };
    stats.count(TPR, 1);
    stats.count(GPRC, 1);
    stats.count64(TORL, wire_len as u64);
    stats.count64(GORCL, wire_len as u64);
    match kind {
        RxKind::Broadcast => stats.count(BPRC, 1),
        RxKind::Multicast => stats.count(MPRC, 1),
        RxKind::Unicast => {}
    }
    stats.count(PRC64 + 4 * size_bucket(wire_len), 1);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 1071's reference: fold after every 16-bit word.
    fn checksum_word_by_word(data: &[u8]) -> u16 {
        let mut sum: u32 = 0;
        for pair in data.chunks(2) {
            sum += u32::from(u16::from_be_bytes([
                pair[0],
                pair.get(1).copied().unwrap_or(0),
            ]));
            sum = (sum & 0xFFFF) + (sum >> 16);
        }
        !(sum as u16)
    }

    #[test]
    fn checksum_matches_the_word_by_word_definition() {
        // RFC 1071 section 3's example bytes sum to 0xddf2.
        assert_eq!(
            internet_checksum(&[0, 1, 0xf2, 3, 0xf4, 0xf5, 0xf6, 0xf7]),
            !0xddf2
        );
        // Bytes that vary without a pattern a carry could hide in (Fibonacci hashing).
        let data: Vec<u8> = (0..3000u32)
            .map(|i| (i.wrapping_mul(0x9e37_79b9) >> 24) as u8)
            .collect();
        for len in (0..200).chain([1499, 1500, 3000]) {
            assert_eq!(
                internet_checksum(&data[..len]),
                checksum_word_by_word(&data[..len]),
                "{len} bytes"
            );
        }
        assert_eq!(
            internet_checksum(&[0xff; 64]),
            checksum_word_by_word(&[0xff; 64])
        );
        assert_eq!(internet_checksum(&[]), 0xffff);
        // Every start offset against the 64-byte steps, and sums with many carries.
        for start in 0..70 {
            let part = &data[start..start + 1000];
            assert_eq!(
                internet_checksum(part),
                checksum_word_by_word(part),
                "at {start}"
            );
        }
        let ones = vec![0xffu8; 70_001];
        for len in [63, 64, 65, 4096, 65_536, 70_001] {
            assert_eq!(
                internet_checksum(&ones[..len]),
                checksum_word_by_word(&ones[..len]),
                "{len} bytes of 0xff"
            );
        }
        assert_eq!(internet_checksum(&[0; 100]), 0xffff, "all zero sums to 0");
    }

    /// The per-frame statistics, as separate register updates (what the block must equal).
    fn count_tx_by_register(regs: &mut RegFile, frame: &[u8]) {
        let len = frame.len();
        regs.count(TPT, 1);
        regs.count(GPTC, 1);
        regs.count64(TOTL, len as u64);
        regs.count64(GOTCL, len as u64);
        if frame.len() >= 6 && frame[..6] == [0xFF; 6] {
            regs.count(BPTC, 1);
        } else if frame.first().is_some_and(|b| b & 1 != 0) {
            regs.count(MPTC, 1);
        }
        regs.count(PTC64 + 4 * size_bucket(len + 4), 1);
    }

    fn count_rx_by_register(regs: &mut RegFile, kind: RxKind, wire_len: usize) {
        regs.count(TPR, 1);
        regs.count(GPRC, 1);
        regs.count64(TORL, wire_len as u64);
        regs.count64(GORCL, wire_len as u64);
        match kind {
            RxKind::Broadcast => regs.count(BPRC, 1),
            RxKind::Multicast => regs.count(MPRC, 1),
            RxKind::Unicast => {}
        }
        regs.count(PRC64 + 4 * size_bucket(wire_len), 1);
    }

    #[test]
    fn frame_statistics_equal_counting_each_register() {
        let mut block = RegFile::new(0x8000);
        // Near saturation, so the saturating and 64-bit carries are exercised.
        block.set(TPT, u32::MAX - 1);
        block.set(TOTL, u32::MAX - 10);
        block.set(GORCL + 4, u32::MAX);
        block.set(GORCL, u32::MAX - 100);
        let mut by_register = block.clone();
        let mut frames: Vec<Vec<u8>> = vec![vec![], vec![0xff; 6], vec![0xff; 60], vec![1; 61]];
        frames.extend([64, 65, 127, 128, 600, 1024, 1500, 9000].map(|n| vec![0x02; n]));
        for (i, f) in frames.iter().enumerate() {
            count_tx(&mut block, f);
            count_tx_by_register(&mut by_register, f);
            let kind = [RxKind::Unicast, RxKind::Multicast, RxKind::Broadcast][i % 3];
            count_rx(&mut block, kind, f.len() + 4);
            count_rx_by_register(&mut by_register, kind, f.len() + 4);
        }
        assert_eq!(block, by_register);
        assert_eq!(block.get(TPT), u32::MAX, "saturated");
    }

    #[test]
    fn crc_matches_the_check_value_and_the_bitwise_definition() {
        assert_eq!(ethernet_crc(b"123456789"), 0xcbf4_3926);
        let bitwise = |data: &[u8]| {
            let mut crc = u32::MAX;
            for &b in data {
                crc ^= u32::from(b);
                for _ in 0..8 {
                    crc = if crc & 1 != 0 {
                        crc >> 1 ^ 0xEDB8_8320
                    } else {
                        crc >> 1
                    };
                }
            }
            !crc
        };
        let frame: Vec<u8> = (0..=255u8).cycle().take(1514).collect();
        assert_eq!(ethernet_crc(&frame), bitwise(&frame));
    }
}
