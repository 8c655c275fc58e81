//! QEMU's `pc` machine (`-M pc -nodefaults`): i440FX host bridge and PIIX3, with the devices
//! at the addresses and PCI slots QEMU uses, so public QEMU reproducers replay unchanged.
//!
//! Memory: 128 MiB of RAM at 0 (QEMU's default `-m`), the PCI hole below RAM in priority (as
//! QEMU maps `pci_memory` at priority -1). I/O: 0xCF8/0xCFC configuration mechanism #1 (with
//! the PIIX3's reset control register over 0xCF9), the i8042 at 0x60/0x64, the PIIX3 IDE function (00:01.1) with its
//! legacy ports at 0x1F0-0x1F7/0x3F6 and 0x170-0x177/0x376 (IRQ 14/15). IRQs: the 16 ISA lines.

pub mod chipset;

use crate::e1000_core::pcap::Pcap;
use crate::e1000e::{self, E1000e};
use crate::i8042::{self, I8042};
use crate::ide::{self, Ide, IdeConfig};
use crate::igb::{self, Igb};
use crate::planted::Selection;
use chipset::{ChipsetFunction, ChipsetKind};
use harness::machine::MachineSpec;
use harness::pci::Bdf;
use harness::target::{Builder, MachineProfile, ProfileOption};
use std::sync::Arc;

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
/// ISA IRQ of the primary IDE channel.
pub const IRQ_IDE_PRIMARY: usize = 14;
/// ISA IRQ of the secondary IDE channel.
pub const IRQ_IDE_SECONDARY: usize = 15;
/// PCI slot of the e1000e (00:02.0, as `-M pc -nodefaults -device e1000e` places it).
pub const E1000E_SLOT: u8 = 2;
/// ISA IRQ the e1000e's INTA is wired to (11: what SeaBIOS routes slot 2's INTA to through
/// PIRQC, facts §5.3; the PIRQ routing registers are not modelled).
pub const IRQ_E1000E: usize = 11;

const ISA_IRQS: [&str; 16] = [
    "irq0", "irq1", "irq2", "irq3", "irq4", "irq5", "irq6", "irq7", "irq8", "irq9", "irq10",
    "irq11", "irq12", "irq13", "irq14", "irq15",
];

/// Build the `pc` machine with its defaults: a disk as primary master and a CD-ROM with a
/// medium as secondary master (see [`crate::ide::config`]), the e1000e at 00:02.0.
pub fn build() -> MachineSpec {
    build_with(Ide::with_config(&IdeConfig::default()).unwrap_or_else(|_| Ide::without_drives()))
}

/// Build the `pc-nodisk` machine: the IDE function with both channels empty, as
/// `-M pc -nodefaults` has it.
pub fn build_nodisk() -> MachineSpec {
    build_with(Ide::without_drives())
}

/// Build the `pc-igb` machine: `pc` with an igb (82576) at 00:02.0 instead of the e1000e,
/// same slot and IRQ.
pub fn build_igb() -> MachineSpec {
    let ide = Ide::with_config(&IdeConfig::default()).unwrap_or_else(|_| Ide::without_drives());
    build_with_nic(ide, Nic::Igb)
}

/// The options of the `pc` profiles: `nic` and the IDE drives (QEMU's `-hda`..`-hdd`).
pub const PC_OPTIONS: &[ProfileOption] = &[
    ProfileOption {
        key: "nic",
        help: "the NIC at 00:02.0: e1000e (default) or igb",
    },
    ProfileOption {
        key: "pcap",
        help: "<file>: write every frame the NIC sends or the backend delivers to it there (pcap, virtual timestamps; truncated first)",
    },
    ProfileOption {
        key: "hda",
        help: "primary master: none | disk | disk:<sectors> | disk-cow:<image> | disk-ro:<image> | cdrom | cdrom-empty | cdrom:<iso>",
    },
    ProfileOption {
        key: "hdb",
        help: "primary slave (values as hda)",
    },
    ProfileOption {
        key: "hdc",
        help: "secondary master (values as hda)",
    },
    ProfileOption {
        key: "hdd",
        help: "secondary slave (values as hda)",
    },
    ProfileOption {
        key: "hda.fail",
        help: "<sector>: that sector of hda fails with an I/O error (ABRT) from power-on",
    },
    ProfileOption {
        key: "hda.fail-unc",
        help: "<sector>: that sector of hda fails with a medium error (UNC) from power-on",
    },
    ProfileOption {
        key: "hdb.fail",
        help: "as hda.fail",
    },
    ProfileOption {
        key: "hdb.fail-unc",
        help: "as hda.fail-unc",
    },
    ProfileOption {
        key: "hdc.fail",
        help: "as hda.fail",
    },
    ProfileOption {
        key: "hdc.fail-unc",
        help: "as hda.fail-unc",
    },
    ProfileOption {
        key: "hdd.fail",
        help: "as hda.fail",
    },
    ProfileOption {
        key: "hdd.fail-unc",
        help: "as hda.fail-unc",
    },
    crate::planted::PROFILE_OPTION,
];

/// A `pc` builder with `items` applied over `base` drives and `nic`. Image files are opened
/// here, once: the builder clones the opened IDE function for every rebuild.
fn configure_from(
    items: &[(String, String)],
    base: IdeConfig,
    nic: Nic,
) -> Result<Builder, String> {
    let (planted, items) = Selection::from_items(items)?;
    let mut ide_items = Vec::new();
    let mut nic = nic;
    let mut pcap = None;
    for (key, value) in &items {
        if key == "pcap" {
            pcap = Some(Pcap::create(value).map_err(|e| format!("pcap={value}: {e}"))?);
        } else if key == "nic" {
            nic = match value.as_str() {
                "e1000e" => Nic::E1000e,
                "igb" => Nic::Igb,
                other => return Err(format!("nic={other}: not e1000e or igb")),
            };
        } else {
            ide_items.push(format!("{key}={value}"));
        }
    }
    let config = base
        .with_items(&ide_items.join(","))
        .map_err(|e| e.to_string())?;
    let mut ide = Ide::with_config(&config).map_err(|e| e.to_string())?;
    ide.set_planted(planted.planted(ide::planted::PLANTED));
    Ok(Arc::new(move || {
        build_full(ide.clone(), nic, pcap.clone(), planted)
    }))
}

fn configure_pc(items: &[(String, String)]) -> Result<Builder, String> {
    configure_from(items, IdeConfig::default(), Nic::E1000e)
}

fn configure_nodisk(items: &[(String, String)]) -> Result<Builder, String> {
    configure_from(items, IdeConfig::empty(), Nic::E1000e)
}

fn configure_igb(items: &[(String, String)]) -> Result<Builder, String> {
    configure_from(items, IdeConfig::default(), Nic::Igb)
}

/// The NIC at 00:02.0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nic {
    /// Intel 82574L (`e1000e`), QEMU's default for `-device e1000e`.
    E1000e,
    /// Intel 82576 (`igb`).
    Igb,
}

/// Build the `pc` machine around the IDE function `ide` (its drives already chosen).
pub fn build_with(ide: Ide) -> MachineSpec {
    build_with_nic(ide, Nic::E1000e)
}

/// Build the `pc` machine around the IDE function `ide` with `nic` at 00:02.0.
pub fn build_with_nic(ide: Ide, nic: Nic) -> MachineSpec {
    build_full(ide, nic, None, Selection::NONE)
}

/// Build the `pc` machine around `ide` (its planted bugs already set), with `nic` at 00:02.0
/// capturing its traffic to `pcap`, and the other devices built with the planted bugs of
/// `planted`.
pub fn build_full(ide: Ide, nic: Nic, pcap: Option<Pcap>, planted: Selection) -> MachineSpec {
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
    // Over byte 1 of CONFIG_ADDRESS, as QEMU maps it (priority 1).
    spec.map_fixed(
        isa,
        chipset::RESET_CONTROL_REGION,
        chipset::RESET_CONTROL_PORT,
        1,
    );
    let pm = spec.add(Box::new(ChipsetFunction::with_planted(
        ChipsetKind::Piix4Pm,
        planted.planted(chipset::PLANTED),
    )));
    spec.add_pci(Bdf::new(0, 1, 3), pm);
    let kbd = spec.add(Box::new(I8042::with_planted(
        planted.planted(i8042::PLANTED),
    )));
    spec.map_fixed(kbd, i8042::DATA_REGION, I8042_DATA_PORT, 0);
    spec.map_fixed(kbd, i8042::CMD_REGION, I8042_CMD_PORT, 0);
    spec.wire_irq(kbd, i8042::IRQ_KBD_PIN, IRQ_KEYBOARD);
    spec.wire_irq(kbd, i8042::IRQ_AUX_PIN, IRQ_MOUSE);
    let (dev, pin) = match nic {
        Nic::E1000e => {
            let mut nic = E1000e::new();
            nic.set_pcap(pcap);
            nic.set_planted(planted.planted(e1000e::PLANTED));
            (spec.add(Box::new(nic)), e1000e::IRQ_PIN)
        }
        Nic::Igb => {
            let mut nic = Igb::new();
            nic.set_pcap(pcap);
            (spec.add(Box::new(nic)), igb::IRQ_PIN)
        }
    };
    spec.add_pci(Bdf::new(0, E1000E_SLOT, 0), dev);
    spec.wire_irq(dev, pin, IRQ_E1000E);
    add_ide(&mut spec, ide);
    spec
}

/// The PIIX3 IDE function at 00:01.1, its legacy ports and IRQs 14/15.
fn add_ide(spec: &mut MachineSpec, ide: Ide) {
    let id = spec.add(Box::new(ide));
    spec.add_pci(Bdf::new(0, 1, 1), id);
    spec.map_fixed(id, ide::PRIMARY_CMD_REGION, ide::PRIMARY_CMD_PORT, 0);
    spec.map_fixed(id, ide::PRIMARY_CTL_REGION, ide::PRIMARY_CTL_PORT, 0);
    spec.map_fixed(id, ide::SECONDARY_CMD_REGION, ide::SECONDARY_CMD_PORT, 0);
    spec.map_fixed(id, ide::SECONDARY_CTL_REGION, ide::SECONDARY_CTL_PORT, 0);
    spec.wire_irq(id, ide::IRQ_PRIMARY_PIN, IRQ_IDE_PRIMARY);
    spec.wire_irq(id, ide::IRQ_SECONDARY_PIN, IRQ_IDE_SECONDARY);
}

/// The `pc` profile.
pub static PC: MachineProfile = MachineProfile {
    name: "pc",
    description: "QEMU -M pc -nodefaults: i440FX, PIIX3, PIIX IDE (disk hda, CD-ROM hdc), PIIX4 PM, i8042 at 0x60/0x64, 128 MiB RAM",
    build,
    options: PC_OPTIONS,
    configure: Some(configure_pc),
};

/// The `pc-nodisk` profile: `pc` with no IDE drive (QEMU's `-M pc -nodefaults` exactly).
pub static PC_NODISK: MachineProfile = MachineProfile {
    name: "pc-nodisk",
    description: "pc without IDE drives (both PIIX IDE channels empty)",
    build: build_nodisk,
    options: PC_OPTIONS,
    configure: Some(configure_nodisk),
};

/// The `pc-igb` profile: `pc` with an igb (82576) at 00:02.0 in place of the e1000e.
pub static PC_IGB: MachineProfile = MachineProfile {
    name: "pc-igb",
    description: "pc with an Intel 82576 (igb) at 00:02.0 instead of the e1000e (same slot, IRQ 11)",
    build: build_igb,
    options: PC_OPTIONS,
    configure: Some(configure_igb),
};
