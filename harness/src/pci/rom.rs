//! The expansion ROM BAR (configuration offset 0x30): declared by a function that has an
//! option ROM, decoded like a 32-bit memory BAR that also needs its enable bit (bit 0).
//!
//! Apart from the header because most functions have none: a machine's PCI coverage counts
//! this file only when one of its functions declares a ROM (`config:rom` in
//! `fuzz/device-files.txt`).

use super::{BarDef, BarKind, COMMAND_MEMORY, PciConfig, ROM_ADDRESS, ROM_SLOT};
use crate::ids::RegionId;

impl PciConfig {
    /// Declare the expansion ROM BAR backed by `region` of `size` bytes (a power of two >= 2 KiB).
    /// Panics on another size: a model bug, caught by the model's own tests.
    pub fn with_rom(mut self, region: RegionId, size: u64) -> Self {
        assert!(
            size.is_power_of_two() && (0x800..=1 << 31).contains(&size),
            "ROM size must be a power of two from 2 KiB to 2 GiB"
        );
        self.set_wmask_u32(ROM_ADDRESS, !(size as u32 - 1) | 1);
        self.bars[ROM_SLOT] = Some(BarDef {
            region,
            kind: BarKind::Memory32 {
                prefetchable: false,
            },
            size,
        });
        self
    }

    /// Whether the function declares an expansion ROM.
    pub fn has_rom(&self) -> bool {
        self.bars[ROM_SLOT].is_some()
    }

    /// The raw ROM address register when the ROM decodes: memory space enabled in the command
    /// register and the ROM's enable bit set (the bit is below the ROM's size, so it is not
    /// part of the base).
    pub(super) fn rom_address(&self) -> Option<u64> {
        let raw = self.u32(ROM_ADDRESS);
        (self.command() & COMMAND_MEMORY != 0 && raw & 1 != 0).then_some(u64::from(raw))
    }
}

#[cfg(test)]
mod tests {
    use super::super::{AccessSize, COMMAND, PciConfig, ROM_SLOT};
    use crate::ids::RegionId;

    fn with_rom() -> PciConfig {
        PciConfig::new(0x8086, 0x100e, 0x020000, 3, 0).with_rom(RegionId(2), 0x40000)
    }

    #[test]
    fn rom_sizing_reads_back_the_size_mask_and_the_enable_bit() {
        // facts §5.2: a 256 KiB ROM reads back 0xFFFC0000 after an all-ones write (enable off).
        let mut cfg = with_rom();
        cfg.write(0x30, AccessSize::B4, 0xffff_f800);
        assert_eq!(cfg.read(0x30, AccessSize::B4), 0xfffc_0000);
        cfg.write(0x30, AccessSize::B4, 0xffff_ffff);
        assert_eq!(cfg.read(0x30, AccessSize::B4), 0xfffc_0001);
        assert!(cfg.has_rom());
        assert!(!PciConfig::new(0x8086, 0x100e, 0x020000, 3, 0).has_rom());
    }

    #[test]
    fn rom_maps_only_with_memory_decode_and_its_enable_bit() {
        let mut cfg = with_rom();
        cfg.write(0x30, AccessSize::B4, 0xfeb8_0001);
        assert_eq!(cfg.bar_mapping(ROM_SLOT), None, "memory decode disabled");
        cfg.write(COMMAND, AccessSize::B2, 0x2);
        cfg.write(0x30, AccessSize::B4, 0xfeb8_0000);
        assert_eq!(cfg.bar_mapping(ROM_SLOT), None, "ROM needs its enable bit");
        cfg.write(0x30, AccessSize::B4, 0xfeb8_0001);
        let m = cfg.bar_mapping(ROM_SLOT).expect("enabled ROM maps");
        assert_eq!(
            (m.base, m.size, m.region),
            (0xfeb8_0000, 0x40000, RegionId(2))
        );
        cfg.write(0x30, AccessSize::B4, 0xffff_ffff);
        assert_eq!(
            cfg.bar_mapping(ROM_SLOT),
            None,
            "a sizing write is not a mapping"
        );
    }
}
