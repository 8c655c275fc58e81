//! The [`Context`] a device gets from its machine for the length of one call: DMA, IRQ
//! outputs, timers, a system reset request and work accounting, each passed on to the part
//! of the machine that owns it.

use super::Machine;
use crate::device::{Context, DmaError};
use crate::ids::{DeviceId, TimerId};
use std::panic::Location;

/// The [`Context`] of device `dev` on machine `m`.
pub(super) struct DeviceCtx<'m> {
    pub(super) m: &'m mut Machine,
    pub(super) dev: DeviceId,
}

impl DeviceCtx<'_> {
    fn with_caller<R>(
        &mut self,
        loc: &'static Location<'static>,
        f: impl FnOnce(&mut Machine) -> R,
    ) -> R {
        let saved = self.m.state.dma.caller.replace(loc);
        let r = f(self.m);
        self.m.state.dma.caller = saved;
        r
    }
}

impl Context for DeviceCtx<'_> {
    fn now(&self) -> u64 {
        self.m.state.clock.now()
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
    fn dma_read_sparse(
        &mut self,
        addr: u64,
        buf: &mut [u8],
        zeros: &mut dyn FnMut(std::ops::Range<usize>),
    ) -> Result<(), DmaError> {
        let dev = self.dev;
        self.with_caller(Location::caller(), |m| {
            m.dma_read_sparse(dev, addr, buf, zeros)
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
        self.m.set_irq(self.dev, pin, level);
    }

    fn timer_set(&mut self, timer: TimerId, deadline: u64) {
        self.m.state.clock.set(self.dev, timer, deadline);
    }

    fn timer_cancel(&mut self, timer: TimerId) {
        self.m.state.clock.cancel(self.dev, timer);
    }

    fn request_reset(&mut self) {
        self.m.state.reset_requested = true;
    }

    #[track_caller]
    fn work(&mut self, units: u64) {
        self.m.charge(units, Location::caller());
    }

    fn canary(&mut self, id: &'static str, canary: crate::device::Canary) {
        self.m.canaries.count(id, canary);
    }

    fn note_choice(&mut self, choice: &'static str) {
        if self.m.observer.is_some() {
            self.m.observed_choice(self.dev, choice);
        }
    }

    fn note_choices(&mut self, choice: &'static str, count: usize) {
        if self.m.observer.is_some() {
            for _ in 0..count {
                self.m.observed_choice(self.dev, choice);
            }
        }
    }
}
