//! The machine's state: everything that changes as it runs, in one value. A reset puts back
//! the state the machine was built in, a checkpoint is a copy, a restore copies it back, and
//! two machines are in the same state when their states (and devices and RAM) are equal.
//!
//! The devices are not in it (each saves itself through [`crate::device::Snapshot`], and a
//! restore loads back only those the input entered), nor RAM (a checkpoint is taken with no
//! RAM written; reset and restore clear the pages written since).

use super::budget::{Budget, StopReason};
use super::bus::Bus;
use super::dma::Dma;
use super::guard::Guard;
use super::irq::IrqState;
use crate::clock::Clock;
use std::any::Any;

/// Everything about a machine that changes as it runs, but for its devices and RAM.
#[derive(Debug, PartialEq, Eq)]
pub struct State {
    /// The spaces, the BARs mapped, the PCI host's registers.
    pub(super) bus: Bus,
    /// Virtual time and armed timers.
    pub(super) clock: Clock,
    /// IRQ levels and raises.
    pub(super) irq: IrqState,
    /// Work spent and left.
    pub(super) budget: Budget,
    /// DMA patterns, fills, the transfer in progress.
    pub(super) dma: Dma,
    /// Engaged devices and blocked accesses.
    pub(super) guard: Guard,
    /// A device asked for a system reset during the current operation.
    pub(super) reset_requested: bool,
    /// Why the input must stop after the current operation.
    pub(super) stop: Option<StopReason>,
}

clone_by_field!(State {
    bus,
    clock,
    irq,
    budget,
    dma,
    guard,
    reset_requested,
    stop,
});

/// What [`super::Machine::checkpoint`] saved: everything [`super::Machine::restore`] puts
/// back.
pub(super) struct Checkpoint {
    /// The machine's build (a rebuilt machine's devices are other values).
    pub(super) epoch: u64,
    /// Each device's [`crate::device::Snapshot::save`].
    pub(super) devices: Vec<Box<dyn Any>>,
    pub(super) state: State,
}
