//! What a machine is built from: the devices, where they are mapped, the PCI functions, RAM,
//! the IRQ wiring ([`MachineSpec`]), and the limits it runs under ([`MachineOptions`]).

use super::budget::WORK_PER_INPUT;
use super::guard::ReentrancyMode;
use crate::device::Device;
use crate::ids::{DeviceId, RegionId};
use crate::pci::Bdf;
use std::sync::Arc;

/// Builds a machine's spec; a machine keeps it to rebuild itself after a finding. A profile's
/// default builder is its `build` function; options produce others (see
/// [`crate::target::MachineProfile::builder`]).
pub type Builder = Arc<dyn Fn() -> MachineSpec + Send + Sync>;

/// Resource limits and policies of a machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MachineOptions {
    /// Re-entrancy policy.
    pub reentrancy: ReentrancyMode,
    /// Distinct guest RAM pages one input may dirty.
    pub ram_page_budget: usize,
    /// Work units one guest operation may cause (device calls, timer expiries, model loops,
    /// DMA by the KiB: [`super::DMA_BYTES_PER_WORK_UNIT`]); running out is a hang finding.
    pub work_per_op: u64,
    /// Work units one input may spend in all. Once spent, the input ends quietly (no finding)
    /// after the current operation, or inside a clock step before the next timer that would
    /// move virtual time on; timers due at the same instant still run, so a livelock stays a
    /// hang. This bounds what one input costs: a ring walk resumed by timer after timer is
    /// cut off, a single endless walk is still caught by `work_per_op`.
    pub work_per_input: u64,
    /// Bytes one lazy DMA fill may supply.
    pub fill_max: usize,
    /// Bytes all lazy DMA fills of one input may supply.
    pub fill_budget: usize,
}

impl Default for MachineOptions {
    fn default() -> Self {
        Self {
            reentrancy: ReentrancyMode::Guard,
            ram_page_budget: 4096,
            work_per_op: 1 << 20,
            work_per_input: WORK_PER_INPUT,
            fill_max: 4096,
            fill_budget: 1 << 20,
        }
    }
}

/// A device region mapped at a fixed address (ISA ports, SoC register blocks).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FixedMapping {
    /// The device.
    pub device: DeviceId,
    /// Its region.
    pub region: RegionId,
    /// Address in the region's space.
    pub base: u64,
    /// Overlap priority.
    pub priority: i32,
}

/// Everything needed to build a machine; machine profiles produce one.
#[derive(Debug, Default)]
pub struct MachineSpec {
    /// Devices, indexed by [`DeviceId`].
    pub devices: Vec<Box<dyn Device>>,
    /// Fixed mappings.
    pub fixed: Vec<FixedMapping>,
    /// PCI functions on bus 0.
    pub pci: Vec<(Bdf, DeviceId)>,
    /// Guest RAM size in bytes.
    pub ram_size: u64,
    /// Guest-physical address of RAM (0 on a PC; the SoC's DRAM base elsewhere).
    pub ram_base: u64,
    /// Priority of RAM in the memory space.
    pub ram_priority: i32,
    /// Priority of memory BARs (QEMU's `pc` puts the PCI hole below RAM: -1).
    pub mem_bar_priority: i32,
    /// Priority of I/O BARs (above ISA devices in QEMU: 1).
    pub io_bar_priority: i32,
    /// Whether configuration mechanism #1 answers at 0xCF8/0xCFC.
    pub pci_host: bool,
    /// Machine IRQ line names (index = line number).
    pub irq_lines: Vec<&'static str>,
    /// `(device, pin, line)`: which device output drives which machine line.
    pub irq_wiring: Vec<(DeviceId, u8, usize)>,
}

impl MachineSpec {
    /// Add a device and return its id.
    pub fn add(&mut self, device: Box<dyn Device>) -> DeviceId {
        self.devices.push(device);
        DeviceId((self.devices.len() - 1) as u16)
    }
    /// Map a device region at a fixed address.
    pub fn map_fixed(&mut self, device: DeviceId, region: RegionId, base: u64, priority: i32) {
        self.fixed.push(FixedMapping {
            device,
            region,
            base,
            priority,
        });
    }
    /// Place a device on PCI bus 0 at `bdf`.
    pub fn add_pci(&mut self, bdf: Bdf, device: DeviceId) {
        self.pci.push((bdf, device));
    }
    /// Wire a device's interrupt output `pin` to machine line `line`.
    pub fn wire_irq(&mut self, device: DeviceId, pin: u8, line: usize) {
        self.irq_wiring.push((device, pin, line));
    }
}
