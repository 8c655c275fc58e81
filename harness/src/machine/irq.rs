//! IRQ routing: which device output drives which machine line (fixed when the machine is
//! built), the levels the devices drive now, and how often each line rose.

use super::Machine;
use super::spec::MachineSpec;
use crate::ids::DeviceId;
use crate::observe::Entry;

/// One device output wired to a machine line, with the level the device drives on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct IrqSource {
    device: DeviceId,
    pin: u8,
    line: usize,
    level: bool,
}

/// The wiring, fixed when the machine is built.
pub(super) struct IrqRouting {
    /// Machine IRQ line names (index = line number).
    pub(super) lines: Vec<&'static str>,
    /// Per device: the indices of its sources (so `set_irq` looks at the device's own pins,
    /// not every source of the machine).
    by_device: Vec<Vec<usize>>,
    /// Per machine line: the indices of the sources that drive it.
    by_line: Vec<Vec<usize>>,
}

/// What the lines carry: every source's level, and the raises counted per line.
#[derive(Debug, PartialEq, Eq)]
pub struct IrqState {
    sources: Vec<IrqSource>,
    raises: Vec<u64>,
}

clone_by_field!(IrqState { sources, raises });

impl IrqRouting {
    /// The wiring of `spec` for `devices` devices, and its state with every line low.
    pub(super) fn new(spec: &MachineSpec, devices: usize) -> (Self, IrqState) {
        let mut by_device = vec![Vec::new(); devices];
        for (i, &(device, _, _)) in spec.irq_wiring.iter().enumerate() {
            if let Some(list) = by_device.get_mut(usize::from(device.0)) {
                list.push(i);
            }
        }
        let lines = spec
            .irq_wiring
            .iter()
            .map(|&(_, _, line)| line + 1)
            .max()
            .unwrap_or(0)
            .max(spec.irq_lines.len());
        let mut by_line = vec![Vec::new(); lines];
        for (i, &(_, _, line)) in spec.irq_wiring.iter().enumerate() {
            by_line[line].push(i);
        }
        let state = IrqState {
            sources: spec
                .irq_wiring
                .iter()
                .map(|&(device, pin, line)| IrqSource {
                    device,
                    pin,
                    line,
                    level: false,
                })
                .collect(),
            raises: vec![0; spec.irq_lines.len()],
        };
        let routing = Self {
            lines: spec.irq_lines.clone(),
            by_device,
            by_line,
        };
        (routing, state)
    }

    /// Current level of line `line` (wired-OR of its sources).
    fn level(&self, state: &IrqState, line: usize) -> bool {
        self.by_line
            .get(line)
            .is_some_and(|v| v.iter().any(|&i| state.sources[i].level))
    }
}

impl IrqState {
    /// Every source low (a system reset); the raises counted so far stay.
    pub(super) fn lower_all(&mut self) {
        for s in &mut self.sources {
            s.level = false;
        }
    }
}

impl Machine {
    /// Machine IRQ line names.
    pub fn irq_line_names(&self) -> &[&'static str] {
        &self.irq.lines
    }

    /// Current level of machine IRQ line `line` (wired-OR of its sources).
    pub fn irq_level(&self, line: usize) -> bool {
        self.irq.level(&self.state.irq, line)
    }

    /// How many times line `line` went from low to high.
    pub fn irq_raises(&self, line: usize) -> u64 {
        self.state.irq.raises.get(line).copied().unwrap_or(0)
    }

    /// Device `dev` drives its output `pin` to `level`.
    #[inline]
    pub(super) fn set_irq(&mut self, dev: DeviceId, pin: u8, level: bool) {
        let dev = usize::from(dev.0);
        let n = self.irq.by_device.get(dev).map_or(0, Vec::len);
        for k in 0..n {
            let i = self.irq.by_device[dev][k];
            let s = self.state.irq.sources[i];
            if s.pin != pin || s.level == level {
                continue;
            }
            let was = self.irq_level(s.line);
            self.state.irq.sources[i].level = level;
            let now = self.irq_level(s.line);
            if !was && now {
                if let Some(r) = self.state.irq.raises.get_mut(s.line) {
                    *r += 1;
                }
            }
            if was != now {
                if self.observer.is_some() {
                    self.log_irq(s.line, now);
                }
                tracing::trace!(target: "irq_level", "{} line {} -> {}", self.irq.lines.get(s.line).unwrap_or(&"?"), s.line, u8::from(now));
            }
        }
    }

    #[cold]
    #[inline(never)]
    fn log_irq(&mut self, line: usize, level: bool) {
        let name = self.irq.lines.get(line).copied().unwrap_or("?");
        if let Some(o) = &mut self.observer {
            o.entries.push(Entry::Irq {
                line: name,
                number: line,
                level,
            });
        }
    }
}
