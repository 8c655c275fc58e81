//! Machine profiles and fuzz targets: what the models crate registers with the harness.

use crate::machine::MachineSpec;

/// A named machine (QEMU's `-M`): a builder of devices, memory map and PCI topology.
#[derive(Clone, Copy, Debug)]
pub struct MachineProfile {
    /// Name as used by `--machine`.
    pub name: &'static str,
    /// One line for `devfuzz list`.
    pub description: &'static str,
    /// Builds a fresh machine description.
    pub build: fn() -> MachineSpec,
}

/// A fuzz target: a machine profile plus what the fuzzer may address on it (QEMU's
/// `QEMU_FUZZ_OBJECTS`).
#[derive(Clone, Copy, Debug)]
pub struct Target {
    /// Name as used on the command line and by cargo-fuzz.
    pub name: &'static str,
    /// One line for `devfuzz list`.
    pub description: &'static str,
    /// The machine it runs on.
    pub machine: &'static MachineProfile,
    /// Devices whose regions READ/WRITE ops address. `"*"` means every device.
    pub devices: &'static [&'static str],
    /// Of those devices' regions, only these (by region name); empty means all of them.
    pub regions: &'static [&'static str],
    /// Whether 0xCF8/0xCFC are addressable regions and CFG ops reach every PCI function.
    pub pci: bool,
    /// Devices that EVENT ops address.
    pub event_devices: &'static [&'static str],
    /// Map every BAR and enable I/O, memory and bus mastering before the ops run (QEMU
    /// generic-fuzz's `pci_enum`).
    pub pci_enum: bool,
}

impl Target {
    /// Whether READ/WRITE ops may address `device`'s regions.
    pub fn addresses_device(&self, device: &str) -> bool {
        self.devices.iter().any(|d| *d == "*" || *d == device)
    }

    /// Whether READ/WRITE ops may address the region named `region` of `device`.
    pub fn addresses_region(&self, device: &str, region: &str) -> bool {
        self.addresses_device(device) && (self.regions.is_empty() || self.regions.contains(&region))
    }
}

/// First I/O address the prologue assigns to I/O BARs.
pub const PROLOGUE_IO_BASE: u64 = 0xc000;
/// First memory address the prologue assigns to memory BARs.
pub const PROLOGUE_MEM_BASE: u64 = 0xe000_0000;
