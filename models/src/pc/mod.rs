//! QEMU's `pc` machine (`-M pc -nodefaults`): i440FX host bridge and PIIX3, with the devices
//! at the addresses and PCI slots QEMU uses, so public QEMU reproducers replay unchanged.
//!
//! Memory: 128 MiB of RAM at 0 (QEMU's default `-m`), the PCI hole below RAM in priority (as
//! QEMU maps `pci_memory` at priority -1). I/O: 0xCF8/0xCFC configuration mechanism #1 (with
//! the 0xCF9 reset control register), the i8042 at 0x60/0x64. IRQs: the 16 ISA lines.

pub mod chipset;

use crate::i8042::{self, I8042};
use chipset::{ChipsetFunction, ChipsetKind};
use harness::machine::MachineSpec;
use harness::pci::Bdf;
use harness::target::MachineProfile;

/// RAM size of the profile (QEMU's default `-m 128M`).
pub const RAM_SIZE: u64 = 128 << 20;
/// i8042 data port.
pub const I8042_DATA_PORT: u64 = 0x60;
/// i8042 status/command port.
pub const I8042_CMD_PORT: u64 = 0x64;
/// ISA IRQ of the keyboard.
pub const IRQ_KEYBOARD: usize = 1;
/// ISA IRQ of the PS/2 mouse.
pub const IRQ_MOUSE: usize = 12;

const ISA_IRQS: [&str; 16] = [
    "irq0", "irq1", "irq2", "irq3", "irq4", "irq5", "irq6", "irq7", "irq8", "irq9", "irq10",
    "irq11", "irq12", "irq13", "irq14", "irq15",
];

/// Build the `pc` machine.
pub fn build() -> MachineSpec {
    let mut spec = MachineSpec {
        ram_size: RAM_SIZE,
        ram_priority: 0,
        mem_bar_priority: -1,
        io_bar_priority: 1,
        pci_host: true,
        irq_lines: ISA_IRQS.to_vec(),
        ..MachineSpec::default()
    };
    let host = spec.add(Box::new(ChipsetFunction::new(ChipsetKind::I440fx)));
    spec.add_pci(Bdf::new(0, 0, 0), host);
    let isa = spec.add(Box::new(ChipsetFunction::new(ChipsetKind::Piix3)));
    spec.add_pci(Bdf::new(0, 1, 0), isa);
    let pm = spec.add(Box::new(ChipsetFunction::new(ChipsetKind::Piix4Pm)));
    spec.add_pci(Bdf::new(0, 1, 3), pm);
    let kbd = spec.add(Box::new(I8042::new()));
    spec.map_fixed(kbd, i8042::DATA_REGION, I8042_DATA_PORT, 0);
    spec.map_fixed(kbd, i8042::CMD_REGION, I8042_CMD_PORT, 0);
    spec.wire_irq(kbd, i8042::IRQ_KBD_PIN, IRQ_KEYBOARD);
    spec.wire_irq(kbd, i8042::IRQ_AUX_PIN, IRQ_MOUSE);
    spec
}

/// The `pc` profile.
pub static PC: MachineProfile = MachineProfile {
    name: "pc",
    description: "QEMU -M pc -nodefaults: i440FX, PIIX3, PIIX4 PM, i8042 at 0x60/0x64, 128 MiB RAM",
    build,
};
