//! A stand-alone [`Context`] for unit-testing a device with no machine around it: flat RAM for
//! DMA, recorded IRQ levels and timers, a work counter, a reset-request flag.

use crate::device::{Canary, Context, DmaError, TimerId};
use std::collections::BTreeMap;

/// A recording context for model unit tests.
#[derive(Clone, Debug, Default)]
pub struct TestContext {
    /// Virtual time returned by [`Context::now`].
    pub now: u64,
    /// Flat "guest RAM" for DMA; accesses beyond it read all-ones and drop writes.
    pub ram: Vec<u8>,
    /// Whether DMA is allowed (models Bus Master Enable).
    pub bus_master: bool,
    /// Current level of each IRQ pin the device drove.
    pub irq: BTreeMap<u8, bool>,
    /// Every level change, in order: `(pin, level)`.
    pub irq_log: Vec<(u8, bool)>,
    /// Armed timers: timer -> deadline.
    pub timers: BTreeMap<TimerId, u64>,
    /// Set by [`Context::request_reset`].
    pub reset_requested: bool,
    /// Work units spent.
    pub work: u64,
    /// Planted-bug canaries counted ([`Context::canary`]).
    pub canaries: crate::outcome::Canaries,
    /// Choices where QEMU differs, as noted ([`Context::note_choice`]), in order.
    pub choices: Vec<&'static str>,
}

impl TestContext {
    /// A context with `ram_size` bytes of zeroed RAM and bus mastering on.
    pub fn new(ram_size: usize) -> Self {
        Self {
            ram: vec![0; ram_size],
            bus_master: true,
            ..Self::default()
        }
    }

    /// Current level of `pin` (low if never driven).
    pub fn irq_level(&self, pin: u8) -> bool {
        self.irq.get(&pin).copied().unwrap_or(false)
    }
}

impl Context for TestContext {
    fn now(&self) -> u64 {
        self.now
    }

    fn dma_read(&mut self, addr: u64, buf: &mut [u8]) -> Result<(), DmaError> {
        if !self.bus_master {
            buf.fill(0);
            return Err(DmaError::BusMasterDisabled);
        }
        for (i, b) in buf.iter_mut().enumerate() {
            *b = usize::try_from(addr)
                .ok()
                .and_then(|a| a.checked_add(i))
                .and_then(|a| self.ram.get(a).copied())
                .unwrap_or(0xff);
        }
        Ok(())
    }

    fn dma_write(&mut self, addr: u64, data: &[u8]) -> Result<(), DmaError> {
        if !self.bus_master {
            return Err(DmaError::BusMasterDisabled);
        }
        for (i, b) in data.iter().enumerate() {
            if let Some(slot) = usize::try_from(addr)
                .ok()
                .and_then(|a| a.checked_add(i))
                .and_then(|a| self.ram.get_mut(a))
            {
                *slot = *b;
            }
        }
        Ok(())
    }

    fn set_irq(&mut self, pin: u8, level: bool) {
        if self.irq.insert(pin, level) != Some(level) {
            self.irq_log.push((pin, level));
        }
    }

    fn timer_set(&mut self, timer: TimerId, deadline: u64) {
        self.timers.insert(timer, deadline);
    }

    fn timer_cancel(&mut self, timer: TimerId) {
        self.timers.remove(&timer);
    }

    fn request_reset(&mut self) {
        self.reset_requested = true;
    }

    fn work(&mut self, units: u64) {
        self.work += units;
    }

    fn canary(&mut self, id: &'static str, canary: Canary) {
        self.canaries.count(id, canary);
    }

    fn note_choice(&mut self, choice: &'static str) {
        self.choices.push(choice);
    }
}
