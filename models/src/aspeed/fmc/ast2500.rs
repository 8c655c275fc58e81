//! What the AST2400's and AST2500's FMC do differently from the AST2600's: segment registers in
//! 8 MiB units holding absolute addresses (facts §2.2), start == end for a disabled segment.
//!
//! A file of its own so that a target counts the encodings of the SoC it runs on
//! (`fuzz/device-files.txt`): the AST2600 target cannot reach these lines, nor the AST2500
//! target those of `ast2600.rs`.

use super::{CHOICE_CS0_START_READ_ONLY, Segment, WINDOW_SIZE};
use crate::aspeed::FLASH_WINDOW_BASE;
use harness::device::Context;

/// The segment a register value describes (window offsets); `None` when it is not a valid one:
/// outside the window, or ending before it starts.
pub(super) fn decode_segment(value: u32) -> Option<Segment> {
    let start = u64::from((value >> 16) & 0xFF) << 23;
    let end = u64::from(value >> 24) << 23;
    if start == end {
        return Some(Segment::default());
    }
    if start < FLASH_WINDOW_BASE || end <= start || end > FLASH_WINDOW_BASE + WINDOW_SIZE {
        return None;
    }
    Some(Segment {
        start: start - FLASH_WINDOW_BASE,
        end: end - FLASH_WINDOW_BASE,
    })
}

/// A segment as QEMU decodes a register value: `(start, size)` with `start` an absolute
/// address and `size` wrapping at 32 bits (size 0: disabled).
pub(super) fn qemu_segment(value: u32) -> (u64, u32) {
    let start = ((value >> 16) & 0xFF) << 23;
    let end = (value >> 24) << 23;
    (u64::from(start), end.wrapping_sub(start))
}

/// CS0's segment register as written with `value`: its start field (bits 23:16) keeps the
/// window's base.
pub(super) fn cs0_segment(ctx: &mut dyn Context, value: u32) -> u32 {
    let base_start = ((FLASH_WINDOW_BASE >> 23) as u32) << 16;
    if value & 0x00FF_0000 != base_start {
        ctx.note_choice(CHOICE_CS0_START_READ_ONLY);
    }
    (value & !0x00FF_0000) | base_start
}
