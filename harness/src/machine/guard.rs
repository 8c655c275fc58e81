//! The re-entrancy guard. A device call takes the device out of its slot for the duration of
//! the call ([`Machine::call_device`]); a device out of its slot is *engaged*, and an access
//! that reaches it meanwhile (its own DMA landing in its own BAR, or a chain A -> B -> A) is
//! blocked or reported, as [`ReentrancyMode`] says. Timers and events take the same path, so
//! deferred work is guarded by construction.

use super::Machine;
use super::context::DeviceCtx;
use crate::device::Device;
use crate::ids::{DeviceId, RegionId};
use crate::outcome::Signal;
use crate::space::Backing;
use std::panic::Location;

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

/// The devices engaged now, innermost last, and the accesses blocked since the last reset.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Guard {
    pub(super) engaged: Vec<DeviceId>,
    pub(super) blocked: u64,
}

clone_by_field!(Guard { engaged, blocked });

impl Machine {
    /// Change the re-entrancy policy.
    pub fn set_reentrancy(&mut self, mode: ReentrancyMode) {
        self.opts.reentrancy = mode;
    }

    /// Accesses blocked by the guard since the last reset.
    pub fn blocked_accesses(&self) -> u64 {
        self.state.guard.blocked
    }

    /// The innermost engaged device (after a finding unwound out of it).
    pub fn innermost_engaged(&self) -> Option<DeviceId> {
        self.state.guard.engaged.last().copied()
    }

    /// Whether device `id` is engaged (mid-call: out of its slot).
    #[inline]
    pub(super) fn engaged(&self, id: DeviceId) -> bool {
        self.devices
            .get(usize::from(id.0))
            .is_some_and(Option::is_none)
    }

    /// Run `f` with device `id` engaged. Returns `None` if the device is already engaged (the
    /// caller applies the re-entrancy policy) or does not exist.
    pub(super) fn call_device<R>(
        &mut self,
        id: DeviceId,
        f: impl FnOnce(&mut dyn Device, &mut DeviceCtx<'_>) -> R,
    ) -> Option<R> {
        let slot = usize::from(id.0);
        let mut dev = self.devices.get_mut(slot)?.take()?;
        self.touched[slot] = true;
        // A piece of a DMA transfer into device registers is bounded by the transfer's length:
        // it costs the input a unit of work (so a transfer of megabytes into a register file
        // ends the input, `Machine::dma_inner`) but not the operation's hang budget. Calls the
        // device makes itself are charged as usual.
        if std::mem::take(&mut self.state.dma.piece) {
            self.state.budget.spend_input_only(1);
        } else {
            self.charge(1, Location::caller());
        }
        self.state.guard.engaged.push(id);
        let r = f(dev.as_mut(), &mut DeviceCtx { m: self, dev: id });
        self.state.guard.engaged.pop();
        self.devices[slot] = Some(dev);
        Some(r)
    }

    /// Whether an access to `backing` would enter a device that is engaged (mid-call).
    #[inline]
    pub(super) fn reenters(&self, backing: Backing) -> bool {
        match backing {
            Backing::Device(dev, _) => self.engaged(dev),
            _ => false,
        }
    }

    /// `pieces` accesses from `addr` (`at`: region and offset) on would enter engaged device
    /// `into`: count them as blocked (guard) or report the first (detect).
    pub(super) fn reentered(
        &mut self,
        into: DeviceId,
        at: (RegionId, u64),
        addr: u64,
        pieces: u64,
    ) {
        let from = self
            .state
            .guard
            .engaged
            .last()
            .map_or("guest", |d| self.device_name(*d));
        let into_name = self.device_name(into);
        match self.opts.reentrancy {
            ReentrancyMode::Guard => {
                self.state.guard.blocked += pieces;
                self.state.dma.blocked = true;
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
                location: self.state.dma.caller,
            }),
        }
    }
}
