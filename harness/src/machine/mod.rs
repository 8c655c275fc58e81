//! A machine: devices, the memory and I/O spaces they are mapped into, guest RAM, the PCI host
//! (configuration mechanism #1), the virtual clock, IRQ lines and the re-entrancy guard.
//!
//! | module | holds |
//! |---|---|
//! | `spec` | what a machine is built from ([`MachineSpec`], [`Builder`]) and its limits ([`MachineOptions`]) |
//! | `state` | everything that changes as it runs, in one [`State`]: reset, checkpoint and restore copy it whole |
//! | `bus` | the spaces, dispatch of a guest access, the PCI host and BAR mapping |
//! | `dma` | device DMA, lazy fills from the DMA patterns, the record of fills |
//! | `guard` | device calls and the re-entrancy guard ([`ReentrancyMode`]) |
//! | `budget` | the work budgets per operation and per input ([`StopReason`]) |
//! | `irq` | IRQ routing and levels |
//! | `context` | the [`crate::device::Context`] a device gets |
//! | `observing` | what an installed observer logs |

mod budget;
mod bus;
mod context;
mod dma;
mod guard;
mod irq;
mod observing;
mod spec;
mod state;

pub use budget::{DMA_BYTES_PER_WORK_UNIT, StopReason, WORK_PER_INPUT};
pub use bus::{PCI_CONFIG_ADDRESS_PORT, PCI_CONFIG_DATA_PORT};
pub use dma::DmaFill;
pub use guard::ReentrancyMode;
pub use spec::{Builder, FixedMapping, MachineOptions, MachineSpec};
pub use state::State;

use crate::clock::Clock;
use crate::device::{Device, RegionSpec};
use crate::ids::{DeviceId, RegionId};
use crate::observe::{Entry, Observer};
use crate::ram::GuestRam;
use budget::Budget;
use bus::{Bus, PciFunction};
use dma::Dma;
use guard::Guard;
use irq::IrqRouting;
use state::Checkpoint;
use std::fmt::Write as _;
use std::sync::Arc;

/// A sandboxed machine.
pub struct Machine {
    /// How to build it again (after a finding).
    build: Builder,
    opts: MachineOptions,
    /// Per device: the device, or `None` while it is engaged (see `guard`).
    devices: Vec<Option<Box<dyn Device>>>,
    names: Vec<&'static str>,
    regions: Vec<Vec<RegionSpec>>,
    fixed: Vec<FixedMapping>,
    ram: GuestRam,
    ram_priority: i32,
    mem_bar_priority: i32,
    io_bar_priority: i32,
    pci_host: bool,
    irq: IrqRouting,
    /// Everything else that changes as the machine runs.
    state: State,
    /// The state the machine was built in: what [`Machine::reset`] returns to.
    power_on: State,
    /// How many times this machine was rebuilt from its spec (after findings): part of
    /// [`Machine::layout_id`], whose view ids restart with the spaces.
    epoch: u64,
    /// Per device: entered (or reset) since the last checkpoint or restore, so its state may
    /// differ from the checkpoint's.
    touched: Vec<bool>,
    checkpoint: Option<Checkpoint>,
    /// The access record and watchpoints, when asked for (kept across rebuilds).
    observer: Option<Box<Observer>>,
    /// Lazy fills recorded for a text conversion, when asked for.
    recorded_fills: Option<Vec<DmaFill>>,
    /// Scratch for [`Machine::lazy_fill`] (no state: empty between calls).
    fill_ranges: Vec<std::ops::Range<usize>>,
    /// Planted-bug canaries counted since [`Machine::take_canaries`] (observation only: not
    /// machine state, never checkpointed).
    canaries: crate::outcome::Canaries,
    /// System resets the guest requested ([`Machine::guest_resets`]; observation only).
    guest_resets: u64,
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
        let (irq, irq_state) = IrqRouting::new(&spec, ndev);
        let functions = spec
            .pci
            .iter()
            .map(|&(bdf, device)| PciFunction::new(bdf, device))
            .collect();
        let state = State {
            bus: Bus::new(functions, ndev),
            clock: Clock::default(),
            irq: irq_state,
            budget: Budget::new(opts.work_per_op),
            dma: Dma::default(),
            guard: Guard::default(),
            reset_requested: false,
            stop: None,
        };
        let mut m = Self {
            build,
            opts,
            devices: spec.devices.into_iter().map(Some).collect(),
            names,
            regions,
            fixed: spec.fixed,
            ram: GuestRam::at(spec.ram_base, spec.ram_size, opts.ram_page_budget),
            ram_priority: spec.ram_priority,
            mem_bar_priority: spec.mem_bar_priority,
            io_bar_priority: spec.io_bar_priority,
            pci_host: spec.pci_host,
            irq,
            power_on: state.clone(),
            state,
            epoch: 0,
            touched: vec![true; ndev],
            checkpoint: None,
            observer: None,
            recorded_fills: None,
            fill_ranges: Vec::new(),
            canaries: crate::outcome::Canaries::default(),
            guest_resets: 0,
        };
        m.map_static();
        m.refresh_all_pci();
        m.power_on.clone_from(&m.state);
        m
    }

    /// The options this machine was built with.
    pub fn options(&self) -> MachineOptions {
        self.opts
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

    /// Guest RAM.
    pub fn ram(&self) -> &GuestRam {
        &self.ram
    }

    /// Current virtual time.
    pub fn now(&self) -> u64 {
        self.state.clock.now()
    }

    /// The clock and its armed timers.
    pub fn clock(&self) -> &Clock {
        &self.state.clock
    }

    /// Everything about the machine that changes as it runs, but for its devices and RAM.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// Finish a guest operation: carry out a reset a device requested during it, and end the
    /// input (see [`stop_reason`](Self::stop_reason)) when it has spent its work budget.
    pub fn end_op(&mut self) {
        if self.input_budget_spent() {
            self.state.stop.get_or_insert(StopReason::WorkBudget);
        }
        if self.state.reset_requested {
            self.state.reset_requested = false;
            tracing::trace!(target: "qemu_system_reset_request", "reset requested by guest");
            self.guest_resets = self.guest_resets.wrapping_add(1);
            self.system_reset();
        }
    }

    // ---- clock, events ---------------------------------------------------------------------

    /// Advance virtual time by `ns`, or to the next deadline when `None`, firing due timers in
    /// order. Returns the new time.
    pub fn clock_step(&mut self, ns: Option<u64>) -> u64 {
        let now = self.state.clock.now();
        let target = match ns {
            Some(n) => now.saturating_add(n),
            None => self.state.clock.next_deadline().unwrap_or(now),
        };
        let opened =
            self.observing_guest() && self.open_entry(Entry::Clock { ns: target - now }).is_some();
        self.clock_run(target);
        if opened {
            self.close_entry();
        }
        self.state.clock.now()
    }

    fn clock_run(&mut self, target: u64) {
        let mut instant = self.state.clock.now();
        while let Some(deadline) = self.state.clock.next_deadline().filter(|&d| d <= target) {
            if deadline > self.state.clock.now() && self.input_budget_spent() {
                // Out of work for this input: stop here, before time moves on.
                self.state.stop.get_or_insert(StopReason::WorkBudget);
                return;
            }
            if deadline > instant {
                // The per-operation budget is per virtual instant: work a model spreads over
                // virtual time (a transmit ring resumed kick by kick) does not add up to a
                // hang; timers due at one instant share it, so a livelock still is one.
                instant = deadline;
                self.refill_work();
            }
            let Some(t) = self.state.clock.pop_due(target) else {
                break;
            };
            if let Some(o) = &mut self.observer {
                o.entries.push(Entry::Timer {
                    device: self.names[usize::from(t.device.0)],
                    timer: t.timer,
                    at: self.state.clock.now(),
                });
            }
            self.call_device(t.device, |d, ctx| d.timer(ctx, t.timer));
            if self.state.reset_requested {
                break;
            }
        }
        self.state.clock.advance_to(target);
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

    // ---- reset, checkpoint, restore --------------------------------------------------------

    /// A system reset (as the guest requests it): devices to power-on state, BARs unmapped,
    /// timers cancelled, IRQ lines low. RAM and virtual time are kept.
    pub fn system_reset(&mut self) {
        for d in self.devices.iter_mut().flatten() {
            d.reset();
        }
        self.touched.fill(true);
        self.state.bus.reset();
        let now = self.state.clock.now();
        self.state.clock.reset();
        self.state.clock.advance_to(now);
        self.state.irq.lower_all();
        self.state.reset_requested = false;
        self.refresh_all_pci();
    }

    /// How many system resets the guest has requested (through a device) since this machine
    /// was built: observation for tools that compare runs, not machine state (neither reset
    /// nor restore touches it).
    pub fn guest_resets(&self) -> u64 {
        self.guest_resets
    }

    /// The planted-bug canaries devices counted since the last call
    /// ([`crate::device::Context::canary`]), leaving none.
    pub fn take_canaries(&mut self) -> crate::outcome::Canaries {
        std::mem::take(&mut self.canaries)
    }

    /// Return to the state of a freshly built machine, fast: devices reset, only dirtied RAM
    /// pages cleared, the rest of the state copied from the power-on state. After a finding
    /// unwound out of a device, the machine is rebuilt.
    pub fn reset(&mut self) {
        if self.devices.iter().any(Option::is_none) {
            let opts = self.opts;
            let epoch = self.epoch + 1;
            let observer = self.observer.take();
            let recording = self.recorded_fills.is_some();
            *self = Self::with_builder(self.build.clone(), opts);
            self.epoch = epoch;
            self.observer = observer;
            self.record_fills(recording);
            self.clear_observer_state();
            return;
        }
        for d in self.devices.iter_mut().flatten() {
            d.reset();
        }
        self.touched.fill(true);
        self.state.clone_from(&self.power_on);
        self.ram.reset();
        self.clear_recorders();
    }

    /// What neither the state nor RAM holds but an input starts without: the fills recorded
    /// for the last one, the observer's open entry.
    fn clear_recorders(&mut self) {
        if let Some(r) = &mut self.recorded_fills {
            r.clear();
        }
        self.clear_observer_state();
    }

    /// Save the current state as the one [`restore`](Self::restore) returns to: what a runner
    /// does right after a target's prologue, so each input starts from there without a reset
    /// and a replayed prologue. Refused (returns `false`, nothing saved) unless the machine is
    /// between operations with no RAM written, no DMA patterns, no stop and no device missing.
    pub fn checkpoint(&mut self) -> bool {
        self.checkpoint = None;
        let s = &self.state;
        let quiet = self.ram.dirty_pages() == 0
            && s.dma.patterns.is_empty()
            && s.dma.fill_used == 0
            && s.stop.is_none()
            && s.guard.engaged.is_empty()
            && !s.reset_requested;
        if !quiet || self.devices.iter().any(Option::is_none) {
            return false;
        }
        self.checkpoint = Some(Checkpoint {
            epoch: self.epoch,
            devices: self.devices.iter().flatten().map(|d| d.save()).collect(),
            state: self.state.clone(),
        });
        self.touched.fill(false);
        true
    }

    /// Return to the [`checkpoint`](Self::checkpoint): only the devices entered since are
    /// loaded back, RAM is cleared as by [`reset`](Self::reset), and the state is copied back.
    /// `false` (and nothing done) when there is no checkpoint, or the machine was rebuilt
    /// after a finding since it was taken.
    pub fn restore(&mut self) -> bool {
        // Borrowed in place: a checkpoint is large, and moving it out and back costs a copy.
        let Some(cp) = &self.checkpoint else {
            return false;
        };
        if cp.epoch != self.epoch || self.devices.iter().any(Option::is_none) {
            self.checkpoint = None;
            return false;
        }
        for ((slot, dev), saved) in self.devices.iter_mut().enumerate().zip(&cp.devices) {
            if std::mem::take(&mut self.touched[slot])
                && let Some(d) = dev
            {
                d.load(saved.as_ref());
            }
        }
        self.state.clone_from(&cp.state);
        self.ram.reset();
        self.clear_recorders();
        true
    }

    /// Everything observable about the machine as text: devices, RAM contents and the
    /// [`State`]. Two machines are in the same state when their texts are equal.
    pub fn state_text(&self) -> String {
        let mut s = String::new();
        for (i, d) in self.devices.iter().enumerate() {
            let _ = writeln!(s, "device {i} {}: {:?}", self.names[i], d);
        }
        let _ = writeln!(s, "ram: {:?}", self.ram);
        let _ = writeln!(s, "{:#?}", self.state);
        s
    }
}
