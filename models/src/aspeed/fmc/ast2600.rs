//! What the AST2600's FMC does differently from the AST2400's and AST2500's: segment registers
//! in 1 MiB units holding window offsets (0: disabled), the DMA request/grant handshake of
//! DMA_CTRL, and QEMU's way of taking a byte written after a 3-byte address (facts §2.2).
//!
//! A file of its own so that a target counts the encodings of the SoC it runs on
//! (`fuzz/device-files.txt`): the AST2500 target cannot reach these lines, nor the AST2600
//! target those of `ast2500.rs`.

use super::{CHOICE_CS0_START_READ_ONLY, DMA_CTRL, Fmc, Segment};
use crate::aspeed::FLASH_WINDOW_BASE;
use crate::aspeed::spi_nor::{self, SpiNor};
use harness::device::Context;

/// DMA_CTRL bit 30: the DMA is granted.
const DMA_CTRL_GRANT: u32 = 1 << 30;
/// DMA_CTRL bit 31: the DMA is requested.
const DMA_CTRL_REQUEST: u32 = 1 << 31;
/// DMA_CTRL value that requests the DMA (granted at once).
pub(super) const DMA_REQUEST_MAGIC: u32 = 0xAEED_0000;
/// DMA_CTRL value that releases it.
pub(super) const DMA_RELEASE_MAGIC: u32 = 0xDEEA_0000;

/// The segment a register value describes (window offsets); `None` when it ends before it
/// starts.
pub(super) fn decode_segment(value: u32) -> Option<Segment> {
    if value == 0 {
        return Some(Segment::default());
    }
    let start = u64::from((value << 16) & 0x0FF0_0000);
    let end = u64::from(value & 0x0FF0_0000) + (1 << 20);
    (end > start).then_some(Segment { start, end })
}

/// A segment as QEMU decodes a register value: `(start, size)` with `start` an absolute
/// address and `size` wrapping at 32 bits (size 0: disabled).
pub(super) fn qemu_segment(value: u32) -> (u64, u32) {
    if value == 0 {
        return (FLASH_WINDOW_BASE, 0);
    }
    let start = (value << 16) & 0x0FF0_0000;
    let end = value & 0x0FF0_0000;
    (
        FLASH_WINDOW_BASE + u64::from(start),
        (end + (1 << 20)).wrapping_sub(start),
    )
}

/// CS0's segment register as written with `value`: its start field (bits 11:4) stays 0, the
/// window's first MiB.
pub(super) fn cs0_segment(ctx: &mut dyn Context, value: u32) -> u32 {
    if value & 0x0000_0FF0 != 0 {
        ctx.note_choice(CHOICE_CS0_START_READ_ONLY);
    }
    value & !0x0000_0FF0
}

/// Bytes `run` written to a user-mode chip select whose flash still collects a command's
/// address or dummy bytes: QEMU's AST2600 controller takes a byte after a 3-byte address for a
/// fourth address byte, not a dummy (measured: 0x0B, three address bytes and one dummy byte,
/// then reads of zeros), so each such byte is noted as a choice.
pub(super) fn write_stream_before_data(ctx: &mut dyn Context, flash: &mut SpiNor, run: &[u8]) {
    for &b in run {
        if flash.dummy_after_3_byte_address() {
            ctx.note_choice(spi_nor::CHOICE_DUMMY_BYTES);
        }
        flash.write_stream(ctx, &[b]);
    }
}

impl Fmc {
    /// DMA_CTRL written with `value` on the AST2600: the FMC grants a request at once and needs
    /// none to start (facts §2.2 [V]). As in QEMU, the request and grant bits held are part of
    /// the value compared with the magic words (a second request while granted is a DMA_CTRL
    /// write), and any other write clears them (also when it is refused); the datasheet does
    /// not say.
    pub(super) fn write_dma_ctrl_with_handshake(&mut self, ctx: &mut dyn Context, value: u32) {
        let handshake = DMA_CTRL_REQUEST | DMA_CTRL_GRANT;
        match value | (self.reg(DMA_CTRL) & handshake) {
            DMA_REQUEST_MAGIC => {
                self.set(DMA_CTRL, self.reg(DMA_CTRL) | handshake);
                tracing::trace!(target: "aspeed_smc_dma_ctrl", "request granted");
            }
            DMA_RELEASE_MAGIC => self.set(DMA_CTRL, self.reg(DMA_CTRL) & !handshake),
            value => {
                self.write_dma_ctrl_value(ctx, value);
                self.set(DMA_CTRL, self.reg(DMA_CTRL) & !handshake);
            }
        }
    }
}
