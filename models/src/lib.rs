//! Device models and machine profiles for devfuzz, and the registry of fuzz targets.
#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod fuzzing;
pub mod i8042;
pub mod pc;
pub mod planted;

use harness::target::{MachineProfile, Target};

/// Every machine profile.
pub static MACHINES: &[&MachineProfile] = &[&pc::PC];

/// Every fuzz target.
pub static TARGETS: &[Target] = &[
    Target {
        name: "ps2",
        description: "i8042 controller with PS/2 keyboard and mouse (ports 0x60/0x64, key and mouse events)",
        machine: &pc::PC,
        devices: &["i8042"],
        regions: &[],
        pci: false,
        event_devices: &["i8042"],
        pci_enum: true,
    },
    Target {
        name: "pci",
        description: "PCI configuration mechanism #1 (0xCF8/0xCFC) and every function's configuration space",
        machine: &pc::PC,
        devices: &[],
        regions: &[],
        pci: true,
        event_devices: &[],
        pci_enum: true,
    },
    Target {
        name: "pc",
        description: "the whole pc machine: every device region, configuration space and event",
        machine: &pc::PC,
        devices: &["*"],
        regions: &[],
        pci: true,
        event_devices: &["i8042"],
        pci_enum: true,
    },
];

/// The target named `name`.
pub fn target(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.name == name)
}

/// The machine profile named `name`.
pub fn machine(name: &str) -> Option<&'static MachineProfile> {
    MACHINES.iter().copied().find(|m| m.name == name)
}
