//! Device models and machine profiles for devfuzz, and the registry of fuzz targets.
#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod aspeed;
pub mod e1000_core;
pub mod e1000e;
pub mod i8042;
pub mod ide;
pub mod igb;
pub mod pc;
pub mod planted;
pub mod planted_bug;

use harness::target::{MachineProfile, Target};

/// Every machine profile.
pub static MACHINES: &[&MachineProfile] = &[
    &pc::PC,
    &pc::PC_NODISK,
    &pc::PC_IGB,
    &aspeed::AST2400,
    &aspeed::AST2500,
    &aspeed::AST2600,
];

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
        pci_enum: false,
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
        name: "e1000e",
        description: "Intel 82574L NIC (e1000e at 00:02.0): BAR0 registers, BAR2 I/O window, MSI-X, config space, incoming frames",
        machine: &pc::PC,
        devices: &["e1000e"],
        regions: &[],
        pci: true,
        event_devices: &["e1000e"],
        pci_enum: true,
    },
    Target {
        name: "igb",
        description: "Intel 82576 NIC (igb at 00:02.0 of pc-igb): BAR0 registers, BAR2 I/O window, MSI-X, config space, incoming frames",
        machine: &pc::PC_IGB,
        devices: &["igb"],
        regions: &[],
        pci: true,
        event_devices: &["igb"],
        pci_enum: true,
    },
    Target {
        name: "pc",
        description: "the whole pc machine: every device region, configuration space and event (keys and mouse, drive faults and media, incoming frames)",
        machine: &pc::PC,
        devices: &["*"],
        regions: &[],
        pci: true,
        event_devices: &["i8042", "piix3-ide", "e1000e"],
        pci_enum: true,
    },
    Target {
        name: "ide",
        description: "PIIX3 IDE (00:01.1) primary channel with an ATA disk: ports 0x1F0-0x1F7/0x3F6, bus master (BAR4), config space, backend faults",
        machine: &pc::PC,
        devices: &["piix3-ide"],
        regions: &["ide-bmdma", "ide0-cmd", "ide0-ctl"],
        pci: true,
        event_devices: &["piix3-ide"],
        pci_enum: true,
    },
    Target {
        name: "ide_atapi",
        description: "PIIX3 IDE (00:01.1) secondary channel with an ATAPI CD-ROM: ports 0x170-0x177/0x376, bus master (BAR4), config space, medium events",
        machine: &pc::PC,
        devices: &["piix3-ide"],
        regions: &["ide-bmdma", "ide1-cmd", "ide1-ctl"],
        pci: true,
        event_devices: &["piix3-ide"],
        pci_enum: true,
    },
    Target {
        name: "aspeed_fmc",
        description: "ASPEED AST2500 FMC: registers at 0x1E620000, flash window at 0x20000000 (mx25l25635e), DMA to DRAM",
        machine: &aspeed::AST2500,
        devices: &["aspeed.fmc-ast2500"],
        regions: &[],
        pci: false,
        event_devices: &[],
        pci_enum: false,
    },
    Target {
        name: "aspeed_fmc_2600",
        description: "ASPEED AST2600 FMC: registers at 0x1E620000, flash window at 0x20000000 (mx66u51235f), DMA to DRAM",
        machine: &aspeed::AST2600,
        devices: &["aspeed.fmc-ast2600"],
        regions: &[],
        pci: false,
        event_devices: &[],
        pci_enum: false,
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
