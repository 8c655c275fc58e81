//! A machine: devices, the memory and I/O spaces they are mapped into, guest RAM, the PCI host
//! (configuration mechanism #1), the virtual clock, IRQ lines and the re-entrancy guard.
//!
//! Every device call goes through [`Machine::call_device`], which takes the device out of its
//! slot for the duration of the call. A device that is out of its slot is *engaged*: an access
//! that reaches it (its own DMA landing in its own BAR, or a chain A -> B -> A) is blocked or
//! reported, depending on [`ReentrancyMode`]. Timers and events run through the same path, so
//! deferred work is guarded by construction.

use crate::access::{AccessRules, AccessSize, Space};
use crate::clock::Clock;
use crate::device::{Context, Device, DeviceId, DmaError, RegionId, RegionSpec, TimerId};
use crate::observe::{Entry, Observer, Place};
use crate::outcome::Signal;
use crate::pci::{BAR_COUNT, BarMapping, Bdf, COMMAND_IO, COMMAND_MEMORY};
use crate::qtest::{Cmd, Reply};
use crate::ram::GuestRam;
use crate::space::{AddressSpace, Backing, Mapping, Segment};
use crate::target::Builder;
use std::fmt::Write as _;
use std::panic::Location;
use std::sync::Arc;

/// A qtest command the machine cannot carry out.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ExecError {
    /// `event` named a device this machine does not have.
    #[error("no device named '{0}' on this machine")]
    UnknownDevice(String),
}

/// What to do when an access would enter an engaged device.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ReentrancyMode {
    /// Drop the access (reads give 0) and emit `mem_reentrancy_blocked`, as QEMU >= 8.1 does.
    #[default]
    Guard,
    /// Report the access as a finding: the bug class the guard exists for.
    Detect,
}

impl ReentrancyMode {
    /// `"guard"` or `"detect"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Guard => "guard",
            Self::Detect => "detect",
        }
    }
}

/// Default of [`MachineOptions::work_per_input`]: a driver-like bring-up with a loopback
/// round trip spends under 200 units; one transmit kick at most about 300.
pub const WORK_PER_INPUT: u64 = 1 << 12;

/// DMA bytes that cost one work unit (bytes add up across transfers, so sixteen 64-byte
/// transfers cost one unit): a device that moves megabytes per operation spends its budgets
/// like one that loops.
pub const DMA_BYTES_PER_WORK_UNIT: usize = 1024;

/// Resource limits and policies of a machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MachineOptions {
    /// Re-entrancy policy.
    pub reentrancy: ReentrancyMode,
    /// Distinct guest RAM pages one input may dirty.
    pub ram_page_budget: usize,
    /// Work units one guest operation may cause (device calls, timer expiries, model loops,
    /// DMA by the KiB: [`DMA_BYTES_PER_WORK_UNIT`]); running out is a hang finding.
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

/// Port of CONFIG_ADDRESS.
pub const PCI_CONFIG_ADDRESS_PORT: u64 = 0xcf8;
/// Port of CONFIG_DATA.
pub const PCI_CONFIG_DATA_PORT: u64 = 0xcfc;
const PCI_HOST_RULES: AccessRules = AccessRules {
    valid_min: AccessSize::B1,
    valid_max: AccessSize::B4,
    unaligned: true,
    impl_min: AccessSize::B1,
    impl_max: AccessSize::B4,
};
/// Reset control register (PIIX "RCR") at 0xCF9: bit 2 resets the system.
const RCR_RESET: u8 = 0x04;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct PciFunction {
    bdf: Bdf,
    device: DeviceId,
    mapped: [Option<BarMapping>; BAR_COUNT + 1],
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct IrqSource {
    device: DeviceId,
    pin: u8,
    line: usize,
    level: bool,
}

/// Why a run must stop after the current operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// The input dirtied as many RAM pages as it may.
    RamBudget,
    /// The input spent [`MachineOptions::work_per_input`].
    WorkBudget,
}

/// A DMA fill recorded for text conversion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DmaFill {
    /// Guest-physical address.
    pub addr: u64,
    /// The bytes supplied.
    pub data: Vec<u8>,
}

/// A sandboxed machine.
pub struct Machine {
    build: Builder,
    opts: MachineOptions,
    devices: Vec<Option<Box<dyn Device>>>,
    names: Vec<&'static str>,
    regions: Vec<Vec<RegionSpec>>,
    fixed: Vec<FixedMapping>,
    pci: Vec<PciFunction>,
    bus_master: Vec<bool>,
    mem: AddressSpace,
    io: AddressSpace,
    ram: GuestRam,
    ram_priority: i32,
    mem_bar_priority: i32,
    io_bar_priority: i32,
    pci_host: bool,
    config_address: u32,
    reset_control: u8,
    clock: Clock,
    irq_lines: Vec<&'static str>,
    irq_sources: Vec<IrqSource>,
    /// Per device: the indices of its IRQ sources (fixed wiring, so `set_irq` looks at the
    /// device's own pins, not every source of the machine).
    irq_by_device: Vec<Vec<usize>>,
    /// Per machine line: the indices of the sources that drive it.
    irq_by_line: Vec<Vec<usize>>,
    irq_raises: Vec<u64>,
    engaged: Vec<DeviceId>,
    work_left: u64,
    /// Work units spent since the last [`Machine::reset`] (all operations of the input).
    work_spent: u64,
    /// DMA bytes not yet charged as work (less than [`DMA_BYTES_PER_WORK_UNIT`]).
    dma_uncharged: usize,
    /// How many times this machine was rebuilt from its spec (after findings): part of
    /// [`Machine::layout_id`], whose view ids restart with the spaces.
    epoch: u64,
    dma_patterns: Vec<Vec<u8>>,
    fill_index: usize,
    fill_used: usize,
    recorded_fills: Option<Vec<DmaFill>>,
    /// Scratch for [`Machine::lazy_fill`] (no state: empty between calls).
    fill_ranges: Vec<std::ops::Range<usize>>,
    blocked: u64,
    dma_blocked: bool,
    /// The next device call is one piece of a DMA transfer into a device region (already paid
    /// for by the transfer's bytes).
    dma_piece: bool,
    dma_caller: Option<&'static Location<'static>>,
    reset_requested: bool,
    /// Planted-bug canaries counted since [`Machine::take_canaries`] (observation only: not
    /// machine state, never checkpointed).
    canaries: crate::outcome::Canaries,
    stop: Option<StopReason>,
    /// Per device: entered (or reset) since the last checkpoint or restore, so its state may
    /// differ from the checkpoint's.
    touched: Vec<bool>,
    checkpoint: Option<Checkpoint>,
    /// The access record and watchpoints, when asked for (kept across rebuilds).
    observer: Option<Box<Observer>>,
}

/// What [`Machine::checkpoint`] saved: everything [`Machine::restore`] puts back.
struct Checkpoint {
    epoch: u64,
    devices: Vec<Box<dyn std::any::Any>>,
    pci_mapped: Vec<[Option<BarMapping>; BAR_COUNT + 1]>,
    bus_master: Vec<bool>,
    mem: (Vec<Mapping>, u64),
    io: (Vec<Mapping>, u64),
    clock: Clock,
    irq_sources: Vec<IrqSource>,
    irq_raises: Vec<u64>,
    config_address: u32,
    reset_control: u8,
    work_spent: u64,
    dma_uncharged: usize,
    blocked: u64,
}

impl std::fmt::Debug for Machine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.state_text())
    }
}

impl Machine {
    /// Build a machine from a profile's default builder.
    pub fn new(build: fn() -> MachineSpec, opts: MachineOptions) -> Self {
        Self::with_builder(Arc::new(build), opts)
    }

    /// Build a machine from a [`Builder`] (a profile with options applied).
    pub fn with_builder(build: Builder, opts: MachineOptions) -> Self {
        let spec = build();
        let names = spec.devices.iter().map(|d| d.name()).collect();
        let regions: Vec<Vec<RegionSpec>> = spec.devices.iter().map(|d| d.regions()).collect();
        let ndev = spec.devices.len();
        let mut m = Self {
            build,
            opts,
            devices: spec.devices.into_iter().map(Some).collect(),
            names,
            regions,
            fixed: spec.fixed,
            pci: spec
                .pci
                .iter()
                .map(|&(bdf, device)| PciFunction {
                    bdf,
                    device,
                    mapped: [None; BAR_COUNT + 1],
                })
                .collect(),
            bus_master: vec![true; ndev],
            mem: AddressSpace::new(Space::Memory),
            io: AddressSpace::new(Space::Io),
            ram: GuestRam::at(spec.ram_base, spec.ram_size, opts.ram_page_budget),
            ram_priority: spec.ram_priority,
            mem_bar_priority: spec.mem_bar_priority,
            io_bar_priority: spec.io_bar_priority,
            pci_host: spec.pci_host,
            config_address: 0,
            reset_control: 0,
            clock: Clock::default(),
            irq_raises: vec![0; spec.irq_lines.len()],
            irq_by_device: {
                let mut v = vec![Vec::new(); ndev];
                for (i, &(device, _, _)) in spec.irq_wiring.iter().enumerate() {
                    if let Some(list) = v.get_mut(usize::from(device.0)) {
                        list.push(i);
                    }
                }
                v
            },
            irq_by_line: {
                let lines = spec
                    .irq_wiring
                    .iter()
                    .map(|&(_, _, line)| line + 1)
                    .max()
                    .unwrap_or(0)
                    .max(spec.irq_lines.len());
                let mut v = vec![Vec::new(); lines];
                for (i, &(_, _, line)) in spec.irq_wiring.iter().enumerate() {
                    v[line].push(i);
                }
                v
            },
            irq_lines: spec.irq_lines,
            irq_sources: spec
                .irq_wiring
                .iter()
                .map(|&(device, pin, line)| IrqSource {
                    device,
                    pin,
                    line,
                    level: false,
                })
                .collect(),
            engaged: Vec::new(),
            work_left: opts.work_per_op,
            work_spent: 0,
            dma_uncharged: 0,
            epoch: 0,
            dma_patterns: Vec::new(),
            fill_index: 0,
            fill_used: 0,
            recorded_fills: None,
            fill_ranges: Vec::new(),
            blocked: 0,
            dma_blocked: false,
            dma_piece: false,
            dma_caller: None,
            reset_requested: false,
            canaries: crate::outcome::Canaries::default(),
            stop: None,
            touched: vec![true; ndev],
            checkpoint: None,
            observer: None,
        };
        m.pci.sort_by_key(|f| f.bdf);
        m.map_static();
        m.refresh_all_pci();
        m
    }

    fn map_static(&mut self) {
        if self.ram.size() > 0 {
            self.mem.map(
                Backing::Ram,
                self.ram.base(),
                self.ram.size(),
                self.ram_priority,
                AccessRules::ANY,
            );
        }
        if self.pci_host {
            self.io.map(
                Backing::PciConfigAddress,
                PCI_CONFIG_ADDRESS_PORT,
                4,
                0,
                PCI_HOST_RULES,
            );
            self.io.map(
                Backing::PciConfigData,
                PCI_CONFIG_DATA_PORT,
                4,
                0,
                PCI_HOST_RULES,
            );
        }
        for i in 0..self.fixed.len() {
            let f = self.fixed[i];
            if let Some(spec) = self.region_spec(f.device, f.region) {
                let (space, size, rules) = (spec.space, spec.size, spec.rules);
                self.space_mut(space).map(
                    Backing::Device(f.device, f.region),
                    f.base,
                    size,
                    f.priority,
                    rules,
                );
            }
        }
    }

    /// The options this machine was built with.
    pub fn options(&self) -> MachineOptions {
        self.opts
    }

    /// Change the re-entrancy policy.
    pub fn set_reentrancy(&mut self, mode: ReentrancyMode) {
        self.opts.reentrancy = mode;
    }

    /// Number of devices.
    pub fn device_count(&self) -> usize {
        self.names.len()
    }

    /// A device's name.
    pub fn device_name(&self, id: DeviceId) -> &'static str {
        self.names.get(usize::from(id.0)).copied().unwrap_or("?")
    }

    /// Find a device by name.
    pub fn device_by_name(&self, name: &str) -> Option<DeviceId> {
        self.names
            .iter()
            .position(|n| *n == name)
            .map(|i| DeviceId(i as u16))
    }

    /// A device's region list.
    pub fn device_regions(&self, id: DeviceId) -> &[RegionSpec] {
        self.regions
            .get(usize::from(id.0))
            .map_or(&[], Vec::as_slice)
    }

    fn region_spec(&self, id: DeviceId, region: RegionId) -> Option<&RegionSpec> {
        self.regions
            .get(usize::from(id.0))?
            .get(usize::from(region.0))
    }

    /// Borrow a device for inspection (tests, state dumps). `None` while it is engaged.
    pub fn device(&self, id: DeviceId) -> Option<&dyn Device> {
        self.devices.get(usize::from(id.0))?.as_deref()
    }

    /// PCI functions in bus/device/function order.
    pub fn pci_functions(&self) -> Vec<(Bdf, DeviceId)> {
        self.pci.iter().map(|f| (f.bdf, f.device)).collect()
    }

    /// The address space for `space`.
    pub fn space_mut(&mut self, space: Space) -> &mut AddressSpace {
        match space {
            Space::Memory => &mut self.mem,
            Space::Io => &mut self.io,
        }
    }

    /// The address space for `space`, read-only.
    pub fn space(&self, space: Space) -> &AddressSpace {
        match space {
            Space::Memory => &self.mem,
            Space::Io => &self.io,
        }
    }

    /// Combined generation of both spaces: changes whenever any mapping does.
    pub fn mapping_generation(&self) -> u64 {
        self.mem.generation().wrapping_add(self.io.generation())
    }

    /// The layout of both spaces as [`AddressSpace::view_id`]s: equal whenever the mappings
    /// are, so per-input work derived from the layout can be kept across inputs.
    pub fn layout_id(&mut self) -> (u64, u64, u64) {
        (self.epoch, self.mem.view_id(), self.io.view_id())
    }

    /// Guest RAM.
    pub fn ram(&self) -> &GuestRam {
        &self.ram
    }

    /// Current virtual time.
    pub fn now(&self) -> u64 {
        self.clock.now()
    }

    /// The clock and its armed timers.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Machine IRQ line names.
    pub fn irq_line_names(&self) -> &[&'static str] {
        &self.irq_lines
    }

    /// Current level of machine IRQ line `line` (wired-OR of its sources).
    pub fn irq_level(&self, line: usize) -> bool {
        self.irq_by_line
            .get(line)
            .is_some_and(|v| v.iter().any(|&i| self.irq_sources[i].level))
    }

    /// How many times line `line` went from low to high.
    pub fn irq_raises(&self, line: usize) -> u64 {
        self.irq_raises.get(line).copied().unwrap_or(0)
    }

    /// Accesses blocked by the guard since the last reset.
    pub fn blocked_accesses(&self) -> u64 {
        self.blocked
    }

    /// Work units (device calls, timer expiries, model loop steps) spent since the last
    /// [`reset`](Self::reset): what the input has cost so far.
    pub fn work_spent(&self) -> u64 {
        self.work_spent
    }

    /// Why the run must stop, if it must.
    pub fn stop_reason(&self) -> Option<StopReason> {
        self.stop
    }

    /// The innermost engaged device (after a finding unwound out of it).
    pub fn innermost_engaged(&self) -> Option<DeviceId> {
        self.engaged.last().copied()
    }

    /// Start a new guest operation: refill the work budget.
    pub fn begin_op(&mut self) {
        self.work_left = self.opts.work_per_op;
    }

    fn input_budget_spent(&self) -> bool {
        self.work_spent >= self.opts.work_per_input
    }

    /// Finish a guest operation: carry out a reset a device requested during it, and end the
    /// input (see [`stop_reason`](Self::stop_reason)) when it has spent its work budget.
    pub fn end_op(&mut self) {
        if self.input_budget_spent() {
            self.stop.get_or_insert(StopReason::WorkBudget);
        }
        if self.reset_requested {
            self.reset_requested = false;
            tracing::trace!(target: "qemu_system_reset_request", "reset requested by guest");
            self.system_reset();
        }
    }

    /// Start recording lazy DMA fills (for text conversion).
    pub fn record_fills(&mut self, on: bool) {
        self.recorded_fills = on.then(Vec::new);
    }

    /// Take the fills recorded since the last call.
    pub fn take_fills(&mut self) -> Vec<DmaFill> {
        self.recorded_fills
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// Add a DMA pattern: bytes lazy fills repeat.
    pub fn add_dma_pattern(&mut self, pattern: Vec<u8>) {
        if !pattern.is_empty() && self.dma_patterns.len() < 64 {
            self.dma_patterns.push(pattern);
        }
    }

    /// Drop all DMA patterns: later fills stop.
    pub fn clear_dma_patterns(&mut self) {
        self.dma_patterns.clear();
    }

    fn charge(&mut self, units: u64, location: &'static Location<'static>) {
        self.work_spent = self.work_spent.saturating_add(units);
        self.work_left = self.work_left.saturating_sub(units);
        if self.work_left == 0 {
            let device = self
                .engaged
                .last()
                .map_or("machine", |d| self.device_name(*d))
                .to_string();
            std::panic::panic_any(Signal::Hang { device, location });
        }
    }

    /// Run `f` with device `id` engaged. Returns `None` if the device is already engaged (the
    /// caller applies the re-entrancy policy) or does not exist.
    fn call_device<R>(
        &mut self,
        id: DeviceId,
        f: impl FnOnce(&mut dyn Device, &mut DeviceCtx<'_>) -> R,
    ) -> Option<R> {
        let slot = usize::from(id.0);
        let mut dev = self.devices.get_mut(slot)?.take()?;
        self.touched[slot] = true;
        // A piece of a DMA transfer was paid for with the transfer's bytes
        // ([`DMA_BYTES_PER_WORK_UNIT`]); calls the device makes itself are charged as usual.
        if !std::mem::take(&mut self.dma_piece) {
            self.charge(1, Location::caller());
        }
        self.engaged.push(id);
        let r = f(dev.as_mut(), &mut DeviceCtx { m: self, dev: id });
        self.engaged.pop();
        self.devices[slot] = Some(dev);
        Some(r)
    }

    /// Whether an access to `backing` would enter a device that is engaged (mid-call).
    fn reenters(&self, backing: Backing) -> bool {
        match backing {
            Backing::Device(dev, _) => self
                .devices
                .get(usize::from(dev.0))
                .is_some_and(Option::is_none),
            _ => false,
        }
    }

    /// `pieces` accesses from `addr` (`at`: region and offset) on would enter engaged device
    /// `into`: count them as blocked (guard) or report the first (detect).
    fn reentered(&mut self, into: DeviceId, at: (RegionId, u64), addr: u64, pieces: u64) {
        let from = self
            .engaged
            .last()
            .map_or("guest", |d| self.device_name(*d));
        let into_name = self.device_name(into);
        match self.opts.reentrancy {
            ReentrancyMode::Guard => {
                self.blocked += pieces;
                self.dma_blocked = true;
                tracing::trace!(target: "mem_reentrancy_blocked", "{from} -> {into_name} @{addr:#x} x{pieces}");
            }
            ReentrancyMode::Detect => std::panic::panic_any(Signal::Reentrancy {
                from: from.to_string(),
                into: into_name.to_string(),
                addr,
                register: format!(
                    "{}+{:#x}",
                    self.region_spec(into, at.0).map_or("?", |r| r.name),
                    at.1
                ),
                location: self.dma_caller,
            }),
        }
    }

    // ---- guest accesses -------------------------------------------------------------------

    /// A guest (CPU or qtest) read of `size` bytes at `addr` in `space`.
    #[inline]
    pub fn read(&mut self, space: Space, addr: u64, size: AccessSize) -> u64 {
        if self.observer.is_some() {
            return self.observed_access(space, addr, size, None);
        }
        self.access(space, addr, size, None)
    }

    /// A guest (CPU or qtest) write of `size` bytes at `addr` in `space`.
    #[inline]
    pub fn write(&mut self, space: Space, addr: u64, size: AccessSize, value: u64) {
        let value = Some(value & size.mask());
        if self.observer.is_some() {
            self.observed_access(space, addr, size, value);
            return;
        }
        self.access(space, addr, size, value);
    }

    /// Whether the observer logs what happens now as the guest's own doing (no device engaged,
    /// no guest command open).
    fn observing_guest(&self) -> bool {
        self.engaged.is_empty() && self.observer.as_ref().is_some_and(|o| !o.in_access)
    }

    /// Open a guest command's entry in the log: later activity is its consequence.
    fn open_entry(&mut self, entry: Entry) -> Option<usize> {
        let o = self.observer.as_mut()?;
        o.entries.push(entry);
        let idx = o.entries.len() - 1;
        o.open = Some(idx);
        o.in_access = true;
        Some(idx)
    }

    fn close_entry(&mut self) {
        if let Some(o) = &mut self.observer {
            o.in_access = false;
            o.open = None;
            if o.watch_only {
                o.entries.clear();
            }
        }
    }

    #[cold]
    #[inline(never)]
    fn observed_access(
        &mut self,
        space: Space,
        addr: u64,
        size: AccessSize,
        write: Option<u64>,
    ) -> u64 {
        if !self.observing_guest() {
            return self.access(space, addr, size, write);
        }
        let place = self.describe(space, addr);
        let idx = self.open_entry(Entry::Access {
            space,
            addr,
            size,
            write,
            value: 0,
            place,
        });
        let v = self.access(space, addr, size, write);
        // Lazy fills are logged before the access that caused them, which moves it down.
        if let Some(o) = &mut self.observer
            && let Some(Entry::Access { value, .. }) =
                o.open.or(idx).and_then(|i| o.entries.get_mut(i))
        {
            *value = if write.is_some() { 0 } else { v };
        }
        self.close_entry();
        v
    }

    /// Where a guest access at `addr` in `space` would land now.
    pub fn describe(&mut self, space: Space, addr: u64) -> Place {
        let Some(seg) = self.space_mut(space).lookup(addr) else {
            return Place::Unassigned;
        };
        let offset = addr - seg.base;
        match seg.backing {
            Backing::Ram => Place::Ram,
            Backing::PciConfigAddress => Place::PciHost {
                name: "pci-conf-idx",
                offset,
            },
            Backing::PciConfigData => match Bdf::from_config_address(self.config_address) {
                Some((bdf, reg)) => {
                    let device = self
                        .pci
                        .iter()
                        .find(|f| f.bdf == bdf)
                        .map(|f| self.device_name(f.device));
                    Place::Config {
                        bdf,
                        device,
                        offset: reg | offset as u8,
                    }
                }
                None => Place::PciHost {
                    name: "pci-conf-data",
                    offset,
                },
            },
            Backing::Device(dev, region) => Place::Device {
                device: self.device_name(dev),
                region: self.region_spec(dev, region).map_or("?", |r| r.name),
                offset,
            },
        }
    }

    /// Install (or with `None` remove) an observer: the access record and DMA watchpoints.
    pub fn observe(&mut self, observer: Option<Observer>) {
        self.observer = observer.map(Box::new);
    }

    /// The observer, if one is installed (take its log with [`Observer::take`]).
    pub fn observer_mut(&mut self) -> Option<&mut Observer> {
        self.observer.as_deref_mut()
    }

    /// Read `buf.len()` bytes of memory as the CPU would (qtest `read`), split into natural
    /// accesses; RAM is copied directly.
    pub fn read_bulk(&mut self, addr: u64, buf: &mut [u8]) {
        self.bulk(addr, buf.len(), |m, a, off, n, seg| match seg {
            Some(s) if s.backing == Backing::Ram => {
                m.ram.read(a, &mut buf[off..off + n]);
                if m.observing_guest()
                    && let Some(o) = &mut m.observer
                {
                    o.entries.push(Entry::RamRead {
                        addr: a,
                        data: buf[off..off + n].to_vec(),
                    });
                }
            }
            _ => {
                let size = AccessSize::from_bytes(n as u64).unwrap_or(AccessSize::B1);
                let v = m.read(Space::Memory, a, size);
                buf[off..off + n].copy_from_slice(&v.to_le_bytes()[..n]);
            }
        });
    }

    /// Write bytes to memory as the CPU would (qtest `write`).
    pub fn write_bulk(&mut self, addr: u64, data: &[u8]) {
        self.bulk(addr, data.len(), |m, a, off, n, seg| match seg {
            Some(s) if s.backing == Backing::Ram => {
                if m.observing_guest()
                    && let Some(o) = &mut m.observer
                {
                    o.entries.push(Entry::RamWrite {
                        addr: a,
                        data: data[off..off + n].to_vec(),
                    });
                }
                m.ram_write(a, &data[off..off + n])
            }
            _ => {
                let mut v = [0u8; 8];
                v[..n].copy_from_slice(&data[off..off + n]);
                let size = AccessSize::from_bytes(n as u64).unwrap_or(AccessSize::B1);
                m.write(Space::Memory, a, size, u64::from_le_bytes(v));
            }
        });
    }

    /// Walk `addr..addr+len` in pieces: whole RAM runs, otherwise naturally aligned accesses of
    /// at most 8 bytes that stay inside one segment.
    fn bulk(
        &mut self,
        addr: u64,
        len: usize,
        mut f: impl FnMut(&mut Self, u64, usize, usize, Option<Segment>),
    ) {
        let mut off = 0usize;
        while off < len {
            let Some(a) = addr.checked_add(off as u64) else {
                break;
            };
            let seg = self.mem.lookup(a);
            let room = seg.map_or(1, |s| (s.last - a).saturating_add(1));
            let left = (len - off) as u64;
            let n = match seg {
                Some(s) if s.backing == Backing::Ram => left.min(room),
                _ => {
                    // Each piece is one guest access with a work budget of its own: a bulk
                    // access of a legal size (a 16 MiB flash window is 4 Mi device calls) is
                    // many accesses, not one endless loop.
                    self.work_left = self.opts.work_per_op;
                    crate::access::piece_size(a, left, room, seg.as_ref().map(|s| &s.rules)).bytes()
                }
            } as usize;
            f(self, a, off, n, seg);
            off += n;
        }
    }

    fn ram_write(&mut self, addr: u64, data: &[u8]) {
        if self.ram.write(addr, data).is_err() {
            self.stop = Some(StopReason::RamBudget);
        }
    }

    fn access(&mut self, space: Space, addr: u64, size: AccessSize, write: Option<u64>) -> u64 {
        let Some(seg) = self.space_mut(space).lookup(addr) else {
            return size.mask(); // unassigned: reads all-ones, writes dropped
        };
        let n = size.bytes();
        let fits = addr.checked_add(n - 1).is_some_and(|end| end <= seg.last);
        if !fits {
            // Crosses into another segment (or the top of the space): one byte at a time.
            let mut v = 0u64;
            for i in 0..n {
                let a = addr.wrapping_add(i);
                let byte = write.map(|w| (w >> (8 * i)) & 0xff);
                v |= (self.access(space, a, AccessSize::B1, byte) & 0xff) << (8 * i);
            }
            return v;
        }
        let offset = addr - seg.base;
        match seg.backing {
            Backing::Ram => {
                let mut b = [0u8; 8];
                match write {
                    Some(w) => {
                        self.ram_write(addr, &w.to_le_bytes()[..n as usize]);
                        0
                    }
                    None => {
                        self.ram.read(addr, &mut b[..n as usize]);
                        u64::from_le_bytes(b)
                    }
                }
            }
            Backing::PciConfigAddress => self.config_address_access(offset, size, write),
            Backing::PciConfigData => self.config_data_access(offset, size, write),
            Backing::Device(dev, region) => {
                self.device_access(dev, region, seg.rules, addr, offset, size, write)
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn device_access(
        &mut self,
        dev: DeviceId,
        region: RegionId,
        rules: AccessRules,
        addr: u64,
        offset: u64,
        size: AccessSize,
        write: Option<u64>,
    ) -> u64 {
        if !rules.accepts(offset, size) {
            return size.mask();
        }
        if self
            .devices
            .get(usize::from(dev.0))
            .is_some_and(Option::is_none)
        {
            self.reentered(dev, (region, offset), addr, 1);
            return 0;
        }
        let total = size.bytes();
        // The common case: an aligned access the handler implements as it is. (It lies inside
        // the region: the caller checked that it fits the segment, and segments lie inside
        // their mapping.)
        if size >= rules.impl_min && size <= rules.impl_max && offset % total == 0 {
            return match write {
                Some(v) => {
                    self.call_device(dev, |d, ctx| d.write(ctx, region, offset, size, v));
                    0
                }
                None => {
                    self.call_device(dev, |d, ctx| d.read(ctx, region, offset, size))
                        .unwrap_or(0)
                        & size.mask()
                }
            };
        }
        let region_size = self.region_spec(dev, region).map_or(0, |r| r.size);
        let mut result = 0u64;
        let mut done = 0u64;
        while done < total {
            let off = offset + done;
            let left = total - done;
            let mut p = rules.impl_max.bytes().min(8);
            while p > 1 && (p > left || off % p != 0) {
                p /= 2;
            }
            let (piece_off, piece_size, shift, take) = if p < rules.impl_min.bytes() {
                let w = rules.impl_min.bytes();
                let aligned = off & !(w - 1);
                (
                    aligned,
                    w,
                    (off - aligned) * 8,
                    (aligned + w - off).min(left),
                )
            } else {
                (off, p, 0, p)
            };
            let take_mask = if take >= 8 {
                u64::MAX
            } else {
                (1u64 << (take * 8)) - 1
            };
            let psize = AccessSize::from_bytes(piece_size).unwrap_or(AccessSize::B1);
            if piece_off + piece_size <= region_size {
                let piece = match write {
                    Some(w) => {
                        let v = ((w >> (done * 8)) & take_mask) << shift;
                        self.call_device(dev, |d, ctx| d.write(ctx, region, piece_off, psize, v));
                        0
                    }
                    None => self
                        .call_device(dev, |d, ctx| d.read(ctx, region, piece_off, psize))
                        .unwrap_or(0),
                };
                result |= ((piece >> shift) & take_mask) << (done * 8);
            } else {
                result |= take_mask << (done * 8);
            }
            done += take;
        }
        result & size.mask()
    }

    // ---- PCI configuration mechanism #1 ------------------------------------------------------

    fn config_address_access(&mut self, offset: u64, size: AccessSize, write: Option<u64>) -> u64 {
        match (offset, size, write) {
            // CONFIG_ADDRESS takes only whole dword writes (facts §5.1).
            (0, AccessSize::B4, Some(v)) => {
                self.config_address = v as u32;
                0
            }
            (1, AccessSize::B1, Some(v)) => {
                self.reset_control = v as u8 & 0x0e;
                if v as u8 & RCR_RESET != 0 {
                    self.reset_requested = true;
                }
                0
            }
            (1, AccessSize::B1, None) => u64::from(self.reset_control),
            (_, _, Some(_)) => 0,
            (_, _, None) => (u64::from(self.config_address) >> (offset * 8)) & size.mask(),
        }
    }

    fn config_data_access(&mut self, offset: u64, size: AccessSize, write: Option<u64>) -> u64 {
        let Some((bdf, reg)) = Bdf::from_config_address(self.config_address) else {
            return size.mask();
        };
        // QEMU ORs the low CONFIG_ADDRESS bits into the offset (facts §5.1): public
        // reproducers rely on it, and a real driver never sets them.
        let start = reg | offset as u8;
        let Some(func) = self.pci.iter().position(|f| f.bdf == bdf) else {
            return size.mask();
        };
        let dev = self.pci[func].device;
        let n = size.bytes().min(4);
        // An access that crosses a dword goes byte by byte, as the header's byte lanes do.
        let whole = u64::from(start % 4) + n <= 4;
        let (count, psize) = if whole {
            (1, size)
        } else {
            (n, AccessSize::B1)
        };
        let name = self.device_name(dev);
        let mut value = 0u64;
        for i in 0..count {
            let Some(off) = start.checked_add(i as u8) else {
                break;
            };
            match write {
                Some(w) => {
                    let v = (w >> (8 * i)) as u32 & psize.mask() as u32;
                    tracing::trace!(target: "pci_cfg_write", "{name} {bdf} @{off:#x} <- {v:#x}");
                    self.call_device(dev, |d, ctx| d.config_write(ctx, off, psize, v));
                }
                None => {
                    let v = self
                        .call_device(dev, |d, ctx| d.config_read(ctx, off, psize))
                        .unwrap_or(u32::MAX);
                    tracing::trace!(target: "pci_cfg_read", "{name} {bdf} @{off:#x} -> {v:#x}");
                    value |= (u64::from(v) & psize.mask()) << (8 * i);
                }
            }
        }
        // Only the command register, the BARs and the ROM BAR decide where a function is
        // mapped and whether it may master the bus.
        let touches = |lo: u8, hi: u8| start <= hi && start.saturating_add(n as u8 - 1) >= lo;
        if write.is_some() && (touches(0x04, 0x05) || touches(0x10, 0x27) || touches(0x30, 0x33)) {
            self.refresh_pci(func);
        }
        value
    }

    fn refresh_all_pci(&mut self) {
        for i in 0..self.pci.len() {
            self.refresh_pci(i);
        }
    }

    /// Re-read a function's BARs and command register and (un)map its regions to match.
    fn refresh_pci(&mut self, func: usize) {
        let f = self.pci[func];
        let Some(cfg) = self.devices[usize::from(f.device.0)]
            .as_ref()
            .and_then(|d| d.pci())
        else {
            return;
        };
        let master = cfg.bus_master();
        self.bus_master[usize::from(f.device.0)] = master;
        // With I/O and memory decoding off nothing is mapped (the common case after a reset).
        if cfg.command() & (COMMAND_IO | COMMAND_MEMORY) == 0
            && self.pci[func].mapped.iter().all(Option::is_none)
        {
            return;
        }
        let wanted: [Option<BarMapping>; BAR_COUNT + 1] =
            std::array::from_fn(|s| cfg.bar_mapping(s));
        let name = self.device_name(f.device);
        for (slot, new) in wanted.into_iter().enumerate() {
            let old = self.pci[func].mapped[slot];
            if old == new {
                continue;
            }
            if let Some(o) = old {
                tracing::trace!(target: "pci_update_mappings_del", "{name} {} {slot},{:#x}+{:#x}", f.bdf, o.base, o.size);
                self.space_mut(o.space)
                    .unmap(Backing::Device(f.device, o.region));
            }
            if let Some(n) = new {
                tracing::trace!(target: "pci_update_mappings_add", "{name} {} {slot},{:#x}+{:#x}", f.bdf, n.base, n.size);
                let rules = self
                    .region_spec(f.device, n.region)
                    .map_or(AccessRules::ANY, |r| r.rules);
                let prio = match n.space {
                    Space::Memory => self.mem_bar_priority,
                    Space::Io => self.io_bar_priority,
                };
                self.space_mut(n.space).map(
                    Backing::Device(f.device, n.region),
                    n.base,
                    n.size,
                    prio,
                    rules,
                );
            }
            self.pci[func].mapped[slot] = new;
        }
    }

    // ---- clock, events ---------------------------------------------------------------------

    /// Advance virtual time by `ns`, or to the next deadline when `None`, firing due timers in
    /// order. Returns the new time.
    pub fn clock_step(&mut self, ns: Option<u64>) -> u64 {
        let target = match ns {
            Some(n) => self.clock.now().saturating_add(n),
            None => self.clock.next_deadline().unwrap_or(self.clock.now()),
        };
        let opened = self.observing_guest()
            && self
                .open_entry(Entry::Clock {
                    ns: target - self.clock.now(),
                })
                .is_some();
        self.clock_run(target);
        if opened {
            self.close_entry();
        }
        self.clock.now()
    }

    fn clock_run(&mut self, target: u64) {
        let mut instant = self.clock.now();
        while let Some(deadline) = self.clock.next_deadline().filter(|&d| d <= target) {
            if deadline > self.clock.now() && self.input_budget_spent() {
                // Out of work for this input: stop here, before time moves on.
                self.stop.get_or_insert(StopReason::WorkBudget);
                return;
            }
            if deadline > instant {
                // The per-operation budget is per virtual instant: work a model spreads over
                // virtual time (a transmit ring resumed kick by kick) does not add up to a
                // hang; timers due at one instant share it, so a livelock still is one.
                instant = deadline;
                self.work_left = self.opts.work_per_op;
            }
            let Some(t) = self.clock.pop_due(target) else {
                break;
            };
            if let Some(o) = &mut self.observer {
                o.entries.push(Entry::Timer {
                    device: self.names[usize::from(t.device.0)],
                    timer: t.timer,
                    at: self.clock.now(),
                });
            }
            self.call_device(t.device, |d, ctx| d.timer(ctx, t.timer));
            if self.reset_requested {
                break;
            }
        }
        self.clock.advance_to(target);
    }

    /// Deliver an external event to a device.
    pub fn event(&mut self, device: DeviceId, payload: &[u8]) {
        let opened = self.observing_guest()
            && self
                .open_entry(Entry::Event {
                    device: self.device_name(device),
                    payload: payload.to_vec(),
                })
                .is_some();
        self.call_device(device, |d, ctx| d.event(ctx, payload));
        if opened {
            self.close_entry();
        }
    }

    // ---- qtest commands ---------------------------------------------------------------------

    /// Execute one qtest command as one guest operation; the reply prints as QEMU's line.
    pub fn exec(&mut self, cmd: &Cmd) -> Result<Reply, ExecError> {
        self.begin_op();
        let reply = match *cmd {
            Cmd::Out { size, port, value } => {
                self.write(Space::Io, u64::from(port), size, u64::from(value));
                Reply::Ok
            }
            Cmd::In { size, port } => Reply::In(self.read(Space::Io, u64::from(port), size)),
            Cmd::Write { size, addr, value } => {
                self.write(Space::Memory, addr, size, value);
                Reply::Ok
            }
            Cmd::Read { size, addr } => Reply::Read(self.read(Space::Memory, addr, size)),
            Cmd::WriteBulk { addr, ref data, .. } => {
                self.write_bulk(addr, data);
                Reply::Ok
            }
            Cmd::ReadBulk { addr, len, base64 } => {
                let mut buf = vec![0u8; usize::try_from(len).unwrap_or(0)];
                self.read_bulk(addr, &mut buf);
                Reply::Bulk { data: buf, base64 }
            }
            Cmd::Memset { addr, len, byte } => {
                self.write_bulk(addr, &vec![byte; usize::try_from(len).unwrap_or(0)]);
                Reply::Ok
            }
            Cmd::ClockStep(ns) => Reply::Clock(self.clock_step(ns)),
            Cmd::ClockSet(t) => {
                let now = self.now();
                Reply::Clock(self.clock_step(Some(t.saturating_sub(now))))
            }
            Cmd::Endianness => Reply::Little,
            Cmd::Event {
                ref device,
                ref payload,
            } => {
                let id = self
                    .device_by_name(device)
                    .ok_or_else(|| ExecError::UnknownDevice(device.clone()))?;
                self.event(id, payload);
                Reply::Ok
            }
        };
        self.end_op();
        Ok(reply)
    }

    // ---- reset -----------------------------------------------------------------------------

    /// A system reset (as the guest requests it): devices to power-on state, BARs unmapped,
    /// timers cancelled, IRQ lines low. RAM and virtual time are kept.
    pub fn system_reset(&mut self) {
        for d in self.devices.iter_mut().flatten() {
            d.reset();
        }
        self.touched.fill(true);
        for f in &mut self.pci {
            for m in f.mapped.iter_mut().filter_map(Option::take) {
                let space = match m.space {
                    Space::Memory => &mut self.mem,
                    Space::Io => &mut self.io,
                };
                space.unmap(Backing::Device(f.device, m.region));
            }
        }
        let now = self.clock.now();
        self.clock.reset();
        self.clock.advance_to(now);
        for s in &mut self.irq_sources {
            s.level = false;
        }
        self.config_address = 0;
        self.reset_control = 0;
        self.reset_requested = false;
        self.refresh_all_pci();
    }

    /// The planted-bug canaries devices counted since the last call
    /// ([`crate::device::Context::canary`]), leaving none.
    pub fn take_canaries(&mut self) -> crate::outcome::Canaries {
        std::mem::take(&mut self.canaries)
    }

    /// Return to the state of a freshly built machine, fast: devices reset, only dirtied RAM
    /// pages cleared. After a finding unwound out of a device, the machine is rebuilt.
    pub fn reset(&mut self) {
        if self.devices.iter().any(Option::is_none) {
            let opts = self.opts;
            let epoch = self.epoch + 1;
            let observer = self.observer.take();
            *self = Self::with_builder(self.build.clone(), opts);
            self.epoch = epoch;
            self.observer = observer;
            self.clear_observer_state();
            return;
        }
        // Static mappings (RAM, the PCI host, fixed regions) never move; system_reset unmaps
        // the BARs, so the spaces are back to their first mappings without rebuilding them.
        self.system_reset();
        self.mem.renumber();
        self.io.renumber();
        self.ram.reset();
        self.clock.reset();
        self.irq_raises.fill(0);
        self.clear_input_state();
        self.work_spent = 0;
        self.dma_uncharged = 0;
        self.blocked = 0;
    }

    /// The per-input bookkeeping both [`reset`](Self::reset) and [`restore`](Self::restore)
    /// start over (the work spent and blocked counts each sets itself).
    fn clear_input_state(&mut self) {
        self.engaged.clear();
        self.work_left = self.opts.work_per_op;
        self.dma_patterns.clear();
        self.fill_index = 0;
        self.fill_used = 0;
        if let Some(r) = &mut self.recorded_fills {
            r.clear();
        }
        self.dma_blocked = false;
        self.dma_piece = false;
        self.dma_caller = None;
        self.reset_requested = false;
        self.stop = None;
        self.clear_observer_state();
    }

    fn clear_observer_state(&mut self) {
        if let Some(o) = &mut self.observer {
            o.in_access = false;
            o.open = None;
        }
    }

    /// Save the current state as the one [`restore`](Self::restore) returns to: what a runner
    /// does right after a target's prologue, so each input starts from there without a reset
    /// and a replayed prologue. Refused (returns `false`, nothing saved) unless the machine is
    /// between operations with no RAM written, no DMA patterns, no stop and no device missing.
    pub fn checkpoint(&mut self) -> bool {
        self.checkpoint = None;
        let quiet = self.ram.dirty_pages() == 0
            && self.dma_patterns.is_empty()
            && self.fill_used == 0
            && self.stop.is_none()
            && self.engaged.is_empty()
            && !self.reset_requested;
        if !quiet || self.devices.iter().any(Option::is_none) {
            return false;
        }
        self.checkpoint = Some(Checkpoint {
            epoch: self.epoch,
            devices: self.devices.iter().flatten().map(|d| d.save()).collect(),
            pci_mapped: self.pci.iter().map(|f| f.mapped).collect(),
            bus_master: self.bus_master.clone(),
            mem: (self.mem.mappings().to_vec(), self.mem.next_order()),
            io: (self.io.mappings().to_vec(), self.io.next_order()),
            clock: self.clock.clone(),
            irq_sources: self.irq_sources.clone(),
            irq_raises: self.irq_raises.clone(),
            config_address: self.config_address,
            reset_control: self.reset_control,
            work_spent: self.work_spent,
            dma_uncharged: self.dma_uncharged,
            blocked: self.blocked,
        });
        self.touched.fill(false);
        true
    }

    /// Return to the [`checkpoint`](Self::checkpoint): only the devices entered since are
    /// loaded back, RAM is cleared as by [`reset`](Self::reset), and the rest of the machine's
    /// state is put back. `false` (and nothing done) when there is no checkpoint, or the
    /// machine was rebuilt after a finding since it was taken.
    pub fn restore(&mut self) -> bool {
        let Some(cp) = self.checkpoint.take() else {
            return false;
        };
        if cp.epoch != self.epoch || self.devices.iter().any(Option::is_none) {
            return false;
        }
        for ((slot, dev), saved) in self.devices.iter_mut().enumerate().zip(&cp.devices) {
            if std::mem::take(&mut self.touched[slot])
                && let Some(d) = dev
            {
                d.load(saved.as_ref());
            }
        }
        for (f, mapped) in self.pci.iter_mut().zip(&cp.pci_mapped) {
            f.mapped = *mapped;
        }
        self.bus_master.clone_from(&cp.bus_master);
        self.mem.restore(&cp.mem.0, cp.mem.1);
        self.io.restore(&cp.io.0, cp.io.1);
        self.ram.reset();
        self.clock.clone_from(&cp.clock);
        self.irq_sources.clone_from(&cp.irq_sources);
        self.irq_raises.clone_from(&cp.irq_raises);
        self.config_address = cp.config_address;
        self.reset_control = cp.reset_control;
        self.clear_input_state();
        self.work_spent = cp.work_spent;
        self.dma_uncharged = cp.dma_uncharged;
        self.blocked = cp.blocked;
        self.checkpoint = Some(cp);
        true
    }

    /// Everything observable about the machine as text: devices, mappings, RAM contents, clock,
    /// IRQs. Two machines are in the same state when their texts are equal.
    pub fn state_text(&self) -> String {
        let mut s = String::new();
        for (i, d) in self.devices.iter().enumerate() {
            let _ = writeln!(s, "device {i} {}: {:?}", self.names[i], d);
        }
        let _ = writeln!(s, "memory: {:?}", self.mem.mappings());
        let _ = writeln!(s, "io: {:?}", self.io.mappings());
        let _ = writeln!(s, "pci: {:?}", self.pci);
        let _ = writeln!(s, "bus_master: {:?}", self.bus_master);
        let _ = writeln!(s, "ram: {:?}", self.ram);
        let _ = writeln!(s, "clock: {:?}", self.clock.armed());
        let _ = writeln!(s, "now: {}", self.clock.now());
        let _ = writeln!(
            s,
            "irq: {:?} raises {:?}",
            self.irq_sources, self.irq_raises
        );
        let _ = writeln!(
            s,
            "cf8: {:#x} rcr: {:#x} patterns: {:?} fill: {}/{} blocked: {} stop: {:?}",
            self.config_address,
            self.reset_control,
            self.dma_patterns,
            self.fill_index,
            self.fill_used,
            self.blocked,
            self.stop
        );
        s
    }

    // ---- DMA -------------------------------------------------------------------------------

    fn dma(
        &mut self,
        dev: DeviceId,
        addr: u64,
        len: usize,
        read_buf: Option<&mut [u8]>,
        write_data: Option<&[u8]>,
    ) -> Result<(), DmaError> {
        if self.observer.is_none() {
            return self.dma_inner(dev, addr, len, read_buf, write_data);
        }
        match read_buf {
            Some(buf) => {
                let r = self.dma_inner(dev, addr, len, Some(&mut *buf), None);
                self.log_dma(dev, addr, len, false, Some(buf), &r);
                r
            }
            None => {
                let r = self.dma_inner(dev, addr, len, None, write_data);
                self.log_dma(dev, addr, len, write_data.is_some(), write_data, &r);
                r
            }
        }
    }

    /// Log a finished DMA transfer, with the watchpoints it touched; with watch-break on, a
    /// hit is a finding.
    #[cold]
    #[inline(never)]
    fn log_dma(
        &mut self,
        dev: DeviceId,
        addr: u64,
        len: usize,
        write: bool,
        data: Option<&[u8]>,
        result: &Result<(), DmaError>,
    ) {
        let at = self.dma_caller;
        let device = self.names[usize::from(dev.0)];
        let Some(o) = &mut self.observer else {
            return;
        };
        let hits = o.hits(addr, data, len as u64, write);
        let first_hit = hits.first().map(|h| h.addr);
        o.entries.push(Entry::Dma {
            device,
            write,
            addr,
            len: len as u64,
            error: result.as_ref().err().map(ToString::to_string),
            at,
            hits,
        });
        if o.break_on_watch
            && let Some(addr) = first_hit
        {
            std::panic::panic_any(Signal::Watch {
                device: device.to_string(),
                addr,
                write,
                location: at,
            });
        }
    }

    #[cold]
    #[inline(never)]
    fn log_irq(&mut self, line: usize, level: bool) {
        let name = self.irq_lines.get(line).copied().unwrap_or("?");
        if let Some(o) = &mut self.observer {
            o.entries.push(Entry::Irq {
                line: name,
                number: line,
                level,
            });
        }
    }

    fn dma_inner(
        &mut self,
        dev: DeviceId,
        addr: u64,
        len: usize,
        mut read_buf: Option<&mut [u8]>,
        write_data: Option<&[u8]>,
    ) -> Result<(), DmaError> {
        if !self
            .bus_master
            .get(usize::from(dev.0))
            .copied()
            .unwrap_or(false)
        {
            if let Some(b) = read_buf {
                b.fill(0);
            }
            return Err(DmaError::BusMasterDisabled);
        }
        // Moving data is work too: a model that DMAs megabytes per register write must not
        // look free to the work budgets.
        self.dma_uncharged = self.dma_uncharged.saturating_add(len);
        if self.dma_uncharged >= DMA_BYTES_PER_WORK_UNIT {
            let units = (self.dma_uncharged / DMA_BYTES_PER_WORK_UNIT) as u64;
            self.dma_uncharged %= DMA_BYTES_PER_WORK_UNIT;
            let at = self.dma_caller.unwrap_or_else(Location::caller);
            self.charge(units, at);
        }
        let first = self.mem.lookup(addr);
        if let Some(seg) = first
            && let Backing::Device(owner, region) = seg.backing
            && owner == dev
            && self.region_spec(owner, region).is_some_and(|r| r.self_dma)
        {
            return Err(DmaError::OwnRegion {
                region,
                offset: addr - seg.base,
            });
        }
        // The common case, a descriptor or buffer inside one RAM segment: no walk.
        if let Some(seg) = first
            && seg.backing == Backing::Ram
            && len != 0
            && (len - 1) as u64 <= seg.last - addr
        {
            match (read_buf, write_data) {
                (Some(b), _) => {
                    self.lazy_fill(addr, len);
                    self.ram.read(addr, b);
                }
                (None, Some(d)) => self.ram_write(addr, d),
                (None, None) => {}
            }
            return match self.stop {
                Some(StopReason::RamBudget) => Err(DmaError::Budget),
                _ => Ok(()),
            };
        }
        self.dma_blocked = false;
        let mut off = 0usize;
        while off < len {
            let Some(a) = addr.checked_add(off as u64) else {
                if let Some(b) = read_buf.as_deref_mut() {
                    b[off..].fill(0xff);
                }
                break;
            };
            let seg = self.mem.lookup(a);
            let left = len - off;
            let n = match seg {
                None => {
                    // Unassigned up to the next segment: reads all-ones, writes dropped.
                    let next = self
                        .mem
                        .segments()
                        .iter()
                        .find(|s| s.start > a)
                        .map(|s| s.start);
                    let gap = next.map_or(u64::MAX, |n| n - a);
                    let n = usize::try_from(gap).unwrap_or(usize::MAX).min(left);
                    if let Some(b) = read_buf.as_deref_mut() {
                        b[off..off + n].fill(0xff);
                    }
                    n
                }
                Some(s) if s.backing == Backing::Ram => {
                    let n = usize::try_from(s.last - a)
                        .unwrap_or(usize::MAX)
                        .saturating_add(1)
                        .min(left);
                    match (read_buf.as_deref_mut(), write_data) {
                        (Some(b), _) => {
                            self.lazy_fill(a, n);
                            self.ram.read(a, &mut b[off..off + n]);
                        }
                        (None, Some(d)) => self.ram_write(a, &d[off..off + n]),
                        (None, None) => {}
                    }
                    n
                }
                Some(s) if self.reenters(s.backing) => {
                    // Every piece up to the segment's end enters an engaged device: apply the
                    // re-entrancy policy piece by piece, as the dispatch would, without it.
                    let room = (s.last - a).saturating_add(1);
                    let span = usize::try_from(room).unwrap_or(usize::MAX).min(left);
                    let widest = s.rules.valid_max.bytes().min(8) as usize;
                    let mut done = 0usize;
                    while done < span {
                        let at = a + done as u64;
                        let size = crate::access::piece_size(
                            at,
                            (span - done) as u64,
                            room - done as u64,
                            Some(&s.rules),
                        );
                        let p = size.bytes() as usize;
                        // Once pieces are as wide as the region allows, the rest of the span
                        // is a run of equal pieces (up to a narrower tail): take it at once.
                        let pieces = if p == widest { (span - done) / p } else { 1 };
                        let fill = if s.rules.accepts(at - s.base, size) {
                            if let Backing::Device(owner, region) = s.backing {
                                self.reentered(owner, (region, at - s.base), at, pieces as u64);
                            }
                            0
                        } else {
                            0xff
                        };
                        if let Some(b) = read_buf.as_deref_mut() {
                            b[off + done..off + done + pieces * p].fill(fill);
                        }
                        done += pieces * p;
                    }
                    span
                }
                Some(s) => {
                    let room = (s.last - a).saturating_add(1);
                    let size = crate::access::piece_size(a, left as u64, room, Some(&s.rules));
                    let p = size.bytes() as usize;
                    self.dma_piece = true;
                    match (read_buf.as_deref_mut(), write_data) {
                        (Some(b), _) => {
                            let v = self.access(Space::Memory, a, size, None);
                            b[off..off + p].copy_from_slice(&v.to_le_bytes()[..p]);
                        }
                        (None, Some(d)) => {
                            let mut v = [0u8; 8];
                            v[..p].copy_from_slice(&d[off..off + p]);
                            self.access(Space::Memory, a, size, Some(u64::from_le_bytes(v)));
                        }
                        (None, None) => {}
                    }
                    self.dma_piece = false;
                    p
                }
            };
            off += n;
        }
        if self.stop == Some(StopReason::RamBudget) {
            return Err(DmaError::Budget);
        }
        if std::mem::take(&mut self.dma_blocked) {
            return Err(DmaError::Blocked);
        }
        Ok(())
    }

    /// Supply bytes the program never wrote from the DMA patterns (QEMU generic-fuzz's
    /// `fuzz_dma_read_cb`): each byte at most once per input, capped per fill and per input.
    fn lazy_fill(&mut self, addr: u64, len: usize) {
        if self.dma_patterns.is_empty() || self.fill_used >= self.opts.fill_budget {
            return;
        }
        if !self.ram.has_undefined(addr, len) {
            return;
        }
        let mut ranges = std::mem::take(&mut self.fill_ranges);
        self.ram.undefined_ranges_into(addr, len, &mut ranges);
        let pattern_index = self.fill_index % self.dma_patterns.len();
        self.fill_index += 1;
        let mut allowance = self
            .opts
            .fill_max
            .min(self.opts.fill_budget - self.fill_used);
        for r in &ranges {
            if allowance == 0 {
                break;
            }
            let n = r.len().min(allowance);
            let pattern = &self.dma_patterns[pattern_index];
            let a = addr + r.start as u64;
            if self.ram.fill_pattern(a, n, pattern).is_err() {
                self.stop = Some(StopReason::RamBudget);
                break;
            }
            allowance -= n;
            self.fill_used += n;
            if let Some(o) = &mut self.observer {
                let data: Vec<u8> = pattern.iter().copied().cycle().take(n).collect();
                let hits = o.hits(a, Some(&data), n as u64, false);
                let entry = Entry::Fill {
                    addr: a,
                    data,
                    hits,
                };
                match o.open {
                    Some(i) => {
                        o.entries.insert(i, entry);
                        o.open = Some(i + 1);
                    }
                    None => o.entries.push(entry),
                }
            }
            if let Some(rec) = &mut self.recorded_fills {
                rec.push(DmaFill {
                    addr: a,
                    data: pattern.iter().copied().cycle().take(n).collect(),
                });
            }
        }
        self.fill_ranges = ranges;
        self.fill_ranges.clear();
    }
}

/// The [`Context`] a device gets from a machine.
struct DeviceCtx<'m> {
    m: &'m mut Machine,
    dev: DeviceId,
}

impl DeviceCtx<'_> {
    fn with_caller<R>(
        &mut self,
        loc: &'static Location<'static>,
        f: impl FnOnce(&mut Machine) -> R,
    ) -> R {
        let saved = self.m.dma_caller.replace(loc);
        let r = f(self.m);
        self.m.dma_caller = saved;
        r
    }
}

impl Context for DeviceCtx<'_> {
    fn now(&self) -> u64 {
        self.m.clock.now()
    }

    #[track_caller]
    fn dma_read(&mut self, addr: u64, buf: &mut [u8]) -> Result<(), DmaError> {
        let dev = self.dev;
        let len = buf.len();
        self.with_caller(Location::caller(), |m| {
            m.dma(dev, addr, len, Some(buf), None)
        })
    }

    #[track_caller]
    fn dma_write(&mut self, addr: u64, data: &[u8]) -> Result<(), DmaError> {
        let dev = self.dev;
        self.with_caller(Location::caller(), |m| {
            m.dma(dev, addr, data.len(), None, Some(data))
        })
    }

    fn set_irq(&mut self, pin: u8, level: bool) {
        let dev = usize::from(self.dev.0);
        let n = self.m.irq_by_device.get(dev).map_or(0, Vec::len);
        for k in 0..n {
            let i = self.m.irq_by_device[dev][k];
            let s = self.m.irq_sources[i];
            if s.pin != pin || s.level == level {
                continue;
            }
            let was = self.m.irq_level(s.line);
            self.m.irq_sources[i].level = level;
            let now = self.m.irq_level(s.line);
            if !was && now {
                if let Some(r) = self.m.irq_raises.get_mut(s.line) {
                    *r += 1;
                }
            }
            if was != now {
                if self.m.observer.is_some() {
                    self.m.log_irq(s.line, now);
                }
                tracing::trace!(target: "irq_level", "{} line {} -> {}", self.m.irq_lines.get(s.line).unwrap_or(&"?"), s.line, u8::from(now));
            }
        }
    }

    fn timer_set(&mut self, timer: TimerId, deadline: u64) {
        self.m.clock.set(self.dev, timer, deadline);
    }

    fn timer_cancel(&mut self, timer: TimerId) {
        self.m.clock.cancel(self.dev, timer);
    }

    fn request_reset(&mut self) {
        self.m.reset_requested = true;
    }

    #[track_caller]
    fn work(&mut self, units: u64) {
        self.m.charge(units, Location::caller());
    }

    fn canary(&mut self, id: &'static str, canary: crate::device::Canary) {
        self.m.canaries.count(id, canary);
    }
}
