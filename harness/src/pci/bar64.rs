//! 64-bit memory BARs: a BAR whose type bits say 64-bit takes the next BAR's dword for the
//! high half of its address (PCI 3.0 §6.2.5.1).
//!
//! Apart from the header because most functions have none: a machine's PCI coverage counts
//! this file only when one of its functions declares a 64-bit BAR (`config:bar64` in
//! `fuzz/device-files.txt`).

use super::{BAR_COUNT, BAR0, BarKind, COMMAND_MEMORY, PciConfig};

impl PciConfig {
    /// The type bits and the writable address mask of the low dword of 64-bit BAR `index`, of
    /// `size` bytes; makes the high dword's address bits above the size writable. Panics when
    /// the BAR has no next slot or is under 16 bytes: a model bug, caught by its own tests.
    pub(super) fn declare_bar64(
        &mut self,
        index: usize,
        size: u64,
        prefetchable: bool,
    ) -> (u32, u32) {
        assert!(
            index + 1 < BAR_COUNT && size >= 16,
            "a 64-bit BAR needs the next slot and 16 bytes"
        );
        let off = BAR0 + 4 * index as u8;
        self.set_wmask_u32(off + 4, !((size - 1) >> 32) as u32);
        (
            0x4 | u32::from(prefetchable) << 3,
            !(size as u32).wrapping_sub(1) & !0xf,
        )
    }

    /// The memory address 64-bit BAR `slot` holds (low and high dwords), when memory decode
    /// is on (as [`PciConfig::rom_address`] for the ROM).
    pub(super) fn bar64_address(&self, slot: usize) -> Option<u64> {
        let off = BAR0 + 4 * slot as u8;
        (self.command() & COMMAND_MEMORY != 0)
            .then(|| u64::from(self.u32(off + 4)) << 32 | u64::from(self.u32(off)))
    }

    /// Whether the function declares a 64-bit BAR.
    pub fn has_bar64(&self) -> bool {
        self.bars[..BAR_COUNT]
            .iter()
            .flatten()
            .any(|d| matches!(d.kind, BarKind::Memory64 { .. }))
    }
}

#[cfg(test)]
mod tests {
    use super::super::{AccessSize, BarDef, BarKind, COMMAND, PciConfig};
    use crate::access::Space;
    use crate::ids::RegionId;

    fn with_bar64() -> PciConfig {
        let kind = BarKind::Memory64 {
            prefetchable: false,
        };
        PciConfig::new(0x8086, 0x10c9, 0x020000, 1, 0).with_bar(
            3,
            BarDef {
                region: RegionId(3),
                kind,
                size: 0x4000,
            },
        )
    }

    #[test]
    fn a_64_bit_bar_sizes_in_both_dwords() {
        let mut cfg = with_bar64();
        assert_eq!(cfg.read(0x1c, AccessSize::B4), 0x4, "64-bit type bits");
        cfg.write(0x1c, AccessSize::B4, 0xffff_ffff);
        cfg.write(0x20, AccessSize::B4, 0xffff_ffff);
        assert_eq!(cfg.read(0x1c, AccessSize::B4), 0xffff_c004);
        assert_eq!(cfg.read(0x20, AccessSize::B4), 0xffff_ffff);
        assert!(cfg.has_bar64());
        assert!(!PciConfig::new(0x8086, 0x10d3, 0x020000, 0, 0).has_bar64());
    }

    #[test]
    fn a_64_bit_bar_maps_above_4_gib_with_memory_decode() {
        let mut cfg = with_bar64();
        cfg.write(0x1c, AccessSize::B4, 0xfeb0_0000);
        cfg.write(0x20, AccessSize::B4, 0x1);
        assert_eq!(cfg.bar_mapping(3), None, "memory decode disabled");
        cfg.write(COMMAND, AccessSize::B2, 0x2);
        let m = cfg.bar_mapping(3).expect("mapped");
        assert_eq!(
            (m.space, m.base, m.size),
            (Space::Memory, 0x1_feb0_0000, 0x4000)
        );
        cfg.write(0x1c, AccessSize::B4, 0xffff_ffff);
        cfg.write(0x20, AccessSize::B4, 0xffff_ffff);
        assert_eq!(cfg.bar_mapping(3), None, "a sizing write is not a mapping");
    }
}
