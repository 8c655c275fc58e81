//! The work budgets: what one guest operation and one input may cost before the run stops
//! (a hang finding, or a quiet end of the input).

use super::Machine;
use crate::outcome::Signal;
use std::panic::Location;

/// Default of [`super::MachineOptions::work_per_input`]: a driver-like bring-up with a
/// loopback round trip spends under 200 units; one transmit kick at most about 300.
pub const WORK_PER_INPUT: u64 = 1 << 12;

/// DMA bytes that cost one work unit (bytes add up across transfers, so sixteen 64-byte
/// transfers cost one unit): a device that moves megabytes per operation spends its budgets
/// like one that loops.
pub const DMA_BYTES_PER_WORK_UNIT: usize = 1024;

/// Why a run must stop after the current operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// The input dirtied as many RAM pages as it may.
    RamBudget,
    /// The input spent [`super::MachineOptions::work_per_input`].
    WorkBudget,
}

/// Work spent and left: per operation, per input, and DMA bytes not yet charged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    /// Work units the current operation may still spend.
    pub(super) work_left: u64,
    /// Work units spent since the last reset (all operations of the input).
    pub(super) work_spent: u64,
    /// DMA bytes not yet charged as work (less than [`DMA_BYTES_PER_WORK_UNIT`]).
    pub(super) dma_uncharged: usize,
}

impl Budget {
    /// A budget with nothing spent and `work_per_op` left.
    pub(super) fn new(work_per_op: u64) -> Self {
        Self {
            work_left: work_per_op,
            work_spent: 0,
            dma_uncharged: 0,
        }
    }

    /// Spend `units`; `false` when the operation's budget ran out.
    #[inline]
    fn spend(&mut self, units: u64) -> bool {
        self.work_spent = self.work_spent.saturating_add(units);
        self.work_left = self.work_left.saturating_sub(units);
        self.work_left != 0
    }

    /// Spend `units` of the input's work only: work bounded by something else (a DMA piece
    /// into device registers, bounded by its transfer's length) that must not end the input's
    /// run as a hang.
    #[inline]
    pub(super) fn spend_input_only(&mut self, units: u64) {
        self.work_spent = self.work_spent.saturating_add(units);
    }

    /// Add `len` DMA bytes; the whole work units they complete, to be charged.
    #[inline]
    pub(super) fn dma_units(&mut self, len: usize) -> u64 {
        self.dma_uncharged = self.dma_uncharged.saturating_add(len);
        if self.dma_uncharged < DMA_BYTES_PER_WORK_UNIT {
            return 0;
        }
        let units = (self.dma_uncharged / DMA_BYTES_PER_WORK_UNIT) as u64;
        self.dma_uncharged %= DMA_BYTES_PER_WORK_UNIT;
        units
    }
}

impl Machine {
    /// Start a new guest operation: refill the work budget.
    #[inline]
    pub fn begin_op(&mut self) {
        self.refill_work();
    }

    /// Give the current operation (or piece, or virtual instant) a whole budget again.
    #[inline]
    pub(super) fn refill_work(&mut self) {
        self.state.budget.work_left = self.opts.work_per_op;
    }

    /// Work units (device calls, timer expiries, model loop steps) spent since the last
    /// [`reset`](Self::reset): what the input has cost so far.
    pub fn work_spent(&self) -> u64 {
        self.state.budget.work_spent
    }

    /// Why the run must stop, if it must.
    pub fn stop_reason(&self) -> Option<StopReason> {
        self.state.stop
    }

    pub(super) fn input_budget_spent(&self) -> bool {
        self.state.budget.work_spent >= self.opts.work_per_input
    }

    /// Charge `units` of work; the operation's budget running out is a hang at `location`.
    #[inline]
    pub(super) fn charge(&mut self, units: u64, location: &'static Location<'static>) {
        if !self.state.budget.spend(units) {
            self.hang(location);
        }
    }

    #[cold]
    #[inline(never)]
    fn hang(&self, location: &'static Location<'static>) -> ! {
        let device = self
            .state
            .guard
            .engaged
            .last()
            .map_or("machine", |d| self.device_name(*d))
            .to_string();
        std::panic::panic_any(Signal::Hang { device, location });
    }
}
