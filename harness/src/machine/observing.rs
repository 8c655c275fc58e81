//! The access record: what an installed [`Observer`] logs of the guest's accesses, and where
//! an access lands ([`Place`]). Without an observer the machine tests `observer.is_some()` once
//! per guest access and once per DMA transfer, and does nothing else here.

use super::Machine;
use crate::access::{AccessSize, Space};
use crate::observe::{Entry, Observer, Place};
use crate::pci::Bdf;
use crate::space::Backing;

impl Machine {
    /// Whether the observer logs what happens now as the guest's own doing (no device engaged,
    /// no guest command open).
    pub(super) fn observing_guest(&self) -> bool {
        self.state.guard.engaged.is_empty() && self.observer.as_ref().is_some_and(|o| !o.in_access)
    }

    /// Open a guest command's entry in the log: later activity is its consequence.
    pub(super) fn open_entry(&mut self, entry: Entry) -> Option<usize> {
        let o = self.observer.as_mut()?;
        o.entries.push(entry);
        let idx = o.entries.len() - 1;
        o.open = Some(idx);
        o.in_access = true;
        Some(idx)
    }

    pub(super) fn close_entry(&mut self) {
        if let Some(o) = &mut self.observer {
            o.in_access = false;
            o.open = None;
            if o.watch_only {
                o.entries.clear();
                o.choices.clear();
            }
        }
    }

    #[cold]
    #[inline(never)]
    pub(super) fn observed_access(
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

    /// A device noted a choice where QEMU differs ([`crate::device::Context::note_choice`]).
    #[cold]
    #[inline(never)]
    pub(super) fn observed_choice(&mut self, dev: crate::ids::DeviceId, choice: &'static str) {
        let device = self.device_name(dev);
        if let Some(o) = &mut self.observer {
            o.choices.push((device, choice));
            o.entries.push(Entry::Choice { device, choice });
        }
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
            Backing::PciConfigData => match Bdf::from_config_address(self.state.bus.config_address)
            {
                Some((bdf, reg)) => {
                    let device = self
                        .state
                        .bus
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

    pub(super) fn clear_observer_state(&mut self) {
        if let Some(o) = &mut self.observer {
            o.in_access = false;
            o.open = None;
        }
    }
}
