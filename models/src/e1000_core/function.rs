//! The PCI function both chips present (facts §1.1): the same four BARs (registers, flash
//! window, I/O window, MSI-X table and PBA) and the same power management, MSI and MSI-X
//! capability layouts; where they sit in configuration space, and the PCIe capability, stay
//! with each model.

use super::{MSI_CTRL_ENABLE, MSIX_CTRL_ENABLE, MSIX_CTRL_MASKALL};
use harness::access::{AccessRules, AccessSize, Space};
use harness::device::{RegionId, RegionSpec};
use harness::pci::{self, BarDef, BarKind, PciConfig};

/// BAR0: the register file.
pub const MMIO_REGION: RegionId = RegionId(0);
/// BAR1: the flash window (no decode).
pub const FLASH_REGION: RegionId = RegionId(1);
/// BAR2: IOADDR/IODATA.
pub const IO_REGION: RegionId = RegionId(2);
/// BAR3: MSI-X table and PBA.
pub const MSIX_REGION: RegionId = RegionId(3);
/// The INTx output (INTA).
pub const IRQ_PIN: u8 = 0;

/// Size of BAR0 and BAR1.
pub const MMIO_SIZE: u64 = 128 << 10;
/// Size of BAR2.
pub const IO_SIZE: u64 = 32;
/// Size of BAR3.
pub const MSIX_SIZE: u64 = 16 << 10;
/// Offset of the PBA in BAR3.
pub const MSIX_PBA_OFFSET: u64 = 0x2000;

/// How the guest's accesses reach the four BARs (QEMU 10, probed): any access of 1 to 8 bytes
/// at any alignment, cut into naturally aligned pieces of at most a dword, each handed to the
/// model with its own offset and size (the shared `Nic::bar_read` says what a piece does).
/// An aligned 8-byte access is two dword accesses, low first: the datasheets let software
/// access a register pair (RAL/RAH, the 64-bit ring bases) as one 64-bit access, and the PCI
/// spec allows aligned QWORD accesses to the MSI-X table.
pub const BAR_ACCESS: AccessRules = AccessRules {
    valid_min: AccessSize::B1,
    valid_max: AccessSize::B8,
    unaligned: true,
    impl_min: AccessSize::B1,
    impl_max: AccessSize::B4,
    impl_unaligned: false,
};

/// The four regions, named `names` (registers, flash, I/O, MSI-X), accessed as [`BAR_ACCESS`].
pub fn regions(names: [&'static str; 4]) -> Vec<RegionSpec> {
    let [mmio, flash, io, msix] = names;
    vec![
        RegionSpec::new(mmio, Space::Memory, MMIO_SIZE, BAR_ACCESS),
        RegionSpec::new(flash, Space::Memory, MMIO_SIZE, BAR_ACCESS),
        RegionSpec::new(io, Space::Io, IO_SIZE, BAR_ACCESS),
        RegionSpec::new(msix, Space::Memory, MSIX_SIZE, BAR_ACCESS),
    ]
}

/// `cfg` with the four BARs; BAR3 is a 64-bit BAR when `msix_64bit` (the 82576).
#[inline]
pub fn with_bars(cfg: PciConfig, msix_64bit: bool) -> PciConfig {
    let mem32 = BarKind::Memory32 {
        prefetchable: false,
    };
    let bar = |region, kind, size| BarDef { region, kind, size };
    let msix_kind = if msix_64bit {
        BarKind::Memory64 {
            prefetchable: false,
        }
    } else {
        mem32
    };
    cfg.with_bar(0, bar(MMIO_REGION, mem32, MMIO_SIZE))
        .with_bar(1, bar(FLASH_REGION, mem32, MMIO_SIZE))
        .with_bar(2, bar(IO_REGION, BarKind::Io, IO_SIZE))
        .with_bar(3, bar(MSIX_REGION, msix_kind, MSIX_SIZE))
}

/// Power management at `at`, next in the capability list: PM 1.1, device-specific
/// initialisation, D3hot only; power state, PME enable and data select writable, PME status
/// write-1-to-clear.
#[inline]
pub fn power_management(cfg: &mut PciConfig, at: u8) {
    cfg.add_capability_at(at, pci::CAP_ID_PM, 8);
    cfg.set_u16(at + 2, 0x0022);
    cfg.set_wmask_u16(at + 4, 0x1F03);
    cfg.set_w1cmask_u16(at + 4, 0x8000);
}

/// MSI at `at`, next in the capability list: one vector, 64-bit address, and per-vector masking
/// when `vector_mask` (mask bit writable at +0x10, pending bits at +0x14).
#[inline]
pub fn msi(cfg: &mut PciConfig, at: u8, vector_mask: bool) {
    cfg.add_capability_at(at, pci::CAP_ID_MSI, if vector_mask { 0x18 } else { 0x0E });
    cfg.set_u16(at + 2, if vector_mask { 0x0180 } else { 0x0080 });
    cfg.set_wmask_u16(at + 2, MSI_CTRL_ENABLE);
    cfg.set_wmask_u32(at + 4, 0xFFFF_FFFC);
    cfg.set_wmask_u32(at + 8, 0xFFFF_FFFF);
    cfg.set_wmask_u16(at + 0xC, 0xFFFF);
    if vector_mask {
        cfg.set_wmask_u32(at + 0x10, 1);
    }
}

/// MSI-X at `at`, next in the capability list: `vectors` vectors, the table at 0 and the PBA at
/// [`MSIX_PBA_OFFSET`] of BAR3; enable and mask-all writable.
#[inline]
pub fn msix(cfg: &mut PciConfig, at: u8, vectors: usize) {
    cfg.add_capability_at(at, pci::CAP_ID_MSIX, 0x0C);
    cfg.set_u16(at + 2, (vectors - 1) as u16);
    cfg.set_wmask_u16(at + 2, MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL);
    cfg.set_u32(at + 4, 3);
    cfg.set_u32(at + 8, MSIX_PBA_OFFSET as u32 | 3);
}
