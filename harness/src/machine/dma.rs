//! DMA: a device's transfers to and from guest memory (through the guard, by whole RAM runs
//! where it can), the patterns that fill RAM the program never wrote (QEMU generic-fuzz's
//! lazy DMA fill), and the record of those fills a text conversion writes out.

use super::Machine;
use super::budget::StopReason;
use crate::access::Space;
use crate::device::DmaError;
use crate::ids::DeviceId;
use crate::observe::Entry;
use crate::outcome::Signal;
use crate::space::Backing;
use std::ops::Range;
use std::panic::Location;

/// A DMA fill recorded for text conversion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DmaFill {
    /// Guest-physical address.
    pub addr: u64,
    /// The bytes supplied.
    pub data: Vec<u8>,
}

/// Most DMA patterns one input may add.
const MAX_PATTERNS: usize = 64;

/// The DMA patterns, end to end in one buffer: adding one allocates nothing once the buffers
/// have grown, and a restore empties them in place.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Patterns {
    bytes: Vec<u8>,
    /// Where each pattern ends in `bytes`.
    ends: Vec<usize>,
}

clone_by_field!(Patterns { bytes, ends });

impl Patterns {
    fn push(&mut self, pattern: &[u8]) {
        if !pattern.is_empty() && self.ends.len() < MAX_PATTERNS {
            self.bytes.extend_from_slice(pattern);
            self.ends.push(self.bytes.len());
        }
    }

    fn clear(&mut self) {
        self.bytes.clear();
        self.ends.clear();
    }

    pub(super) fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    fn len(&self) -> usize {
        self.ends.len()
    }

    /// Pattern `i` (`i < len()`).
    fn get(&self, i: usize) -> &[u8] {
        let start = i.checked_sub(1).map_or(0, |p| self.ends[p]);
        &self.bytes[start..self.ends[i]]
    }
}

/// The DMA patterns of the input, the fills they made, and the transfer in progress.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Dma {
    /// Bytes lazy fills repeat, in turn.
    pub(super) patterns: Patterns,
    /// Fills made so far (which pattern is next).
    pub(super) fill_index: usize,
    /// Bytes all fills supplied so far.
    pub(super) fill_used: usize,
    /// The transfer in progress hit an engaged device (guard mode).
    pub(super) blocked: bool,
    /// The next device call is one piece of a DMA transfer into a device region (already
    /// paid for by the transfer's bytes).
    pub(super) piece: bool,
    /// Where the device called for the transfer in progress.
    pub(super) caller: Option<&'static Location<'static>>,
}

clone_by_field!(Dma {
    patterns,
    fill_index,
    fill_used,
    blocked,
    piece,
    caller,
});

impl Machine {
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
    pub fn add_dma_pattern(&mut self, pattern: &[u8]) {
        self.state.dma.patterns.push(pattern);
    }

    /// Drop all DMA patterns: later fills stop.
    pub fn clear_dma_patterns(&mut self) {
        self.state.dma.patterns.clear();
    }

    // ---- transfers -------------------------------------------------------------------------

    pub(super) fn dma(
        &mut self,
        dev: DeviceId,
        addr: u64,
        len: usize,
        read_buf: Option<&mut [u8]>,
        write_data: Option<&[u8]>,
    ) -> Result<(), DmaError> {
        if self.observer.is_none() {
            return self.dma_inner(dev, addr, len, read_buf, write_data, None);
        }
        match read_buf {
            Some(buf) => {
                let r = self.dma_inner(dev, addr, len, Some(&mut *buf), None, None);
                self.log_dma(dev, addr, len, false, Some(buf), &r);
                r
            }
            None => {
                let r = self.dma_inner(dev, addr, len, None, write_data, None);
                self.log_dma(dev, addr, len, write_data.is_some(), write_data, &r);
                r
            }
        }
    }

    /// A DMA read that leaves the parts of `buf` that read as zeros without a copy (RAM pages
    /// nothing wrote this input, after the lazy fill had its chance; everything without bus
    /// mastering) as they were and passes their ranges to `zeros` (`Context::dma_read_sparse`).
    /// With an observer installed it reads everything, so the record shows the bytes.
    pub(super) fn dma_read_sparse(
        &mut self,
        dev: DeviceId,
        addr: u64,
        buf: &mut [u8],
        zeros: &mut dyn FnMut(Range<usize>),
    ) -> Result<(), DmaError> {
        let len = buf.len();
        if self.observer.is_some() {
            return self.dma(dev, addr, len, Some(buf), None);
        }
        self.dma_inner(dev, addr, len, Some(buf), None, Some(zeros))
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
        let at = self.state.dma.caller;
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

    fn dma_inner(
        &mut self,
        dev: DeviceId,
        addr: u64,
        len: usize,
        mut read_buf: Option<&mut [u8]>,
        write_data: Option<&[u8]>,
        mut zeros: Option<&mut dyn FnMut(Range<usize>)>,
    ) -> Result<(), DmaError> {
        if !self
            .state
            .bus
            .bus_master
            .get(usize::from(dev.0))
            .copied()
            .unwrap_or(false)
        {
            match (read_buf, zeros) {
                (Some(b), Some(zeros)) if !b.is_empty() => zeros(0..b.len()),
                (Some(b), _) => b.fill(0),
                (None, _) => {}
            }
            return Err(DmaError::BusMasterDisabled);
        }
        // Moving data is work too: a model that DMAs megabytes per register write must not
        // look free to the work budgets.
        let units = self.state.budget.dma_units(len);
        if units != 0 {
            let at = self.state.dma.caller.unwrap_or_else(Location::caller);
            self.charge(units, at);
        }
        // Once the input's work is spent no more data moves: the transfer stops here (the rest
        // of a read is all-ones) and the input ends after this operation, as a transfer into
        // device registers does piece by piece below. One READ DMA EXT is 32 MiB otherwise.
        if len != 0 && self.input_budget_spent() {
            if let Some(b) = read_buf {
                b.fill(0xff);
            }
            self.state.stop.get_or_insert(StopReason::WorkBudget);
            return Err(DmaError::Budget);
        }
        let first = self.state.bus.mem.lookup(addr);
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
                    match zeros {
                        Some(zeros) => self.ram.read_sparse(addr, b, zeros),
                        None => self.ram.read(addr, b),
                    }
                }
                (None, Some(d)) => self.ram_write(addr, d),
                (None, None) => {}
            }
            return match self.state.stop {
                Some(StopReason::RamBudget) => Err(DmaError::Budget),
                _ => Ok(()),
            };
        }
        self.state.dma.blocked = false;
        let mut off = 0usize;
        while off < len {
            let Some(a) = addr.checked_add(off as u64) else {
                if let Some(b) = read_buf.as_deref_mut() {
                    b[off..].fill(0xff);
                }
                break;
            };
            let seg = self.state.bus.mem.lookup(a);
            let left = len - off;
            let n = match seg {
                None => {
                    // Unassigned up to the next segment: reads all-ones, writes dropped.
                    let next = self
                        .state
                        .bus
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
                            let piece = &mut b[off..off + n];
                            match zeros.as_deref_mut() {
                                Some(zeros) => self.ram.read_sparse(a, piece, &mut |r| {
                                    zeros(r.start + off..r.end + off);
                                }),
                                None => self.ram.read(a, piece),
                            }
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
                Some(_) if self.input_budget_spent() => {
                    // Each piece into device registers is a device call the input pays for
                    // (`Machine::call_device`): once the input's work is spent, the transfer
                    // stops here and the input ends after this operation. Without this, one
                    // READ DMA EXT aimed at a register file is millions of register calls.
                    if let Some(b) = read_buf.as_deref_mut() {
                        b[off..].fill(0xff);
                    }
                    self.state.stop.get_or_insert(StopReason::WorkBudget);
                    self.state.dma.blocked = false;
                    return Err(DmaError::Budget);
                }
                Some(s) => {
                    let room = (s.last - a).saturating_add(1);
                    let size = crate::access::piece_size(a, left as u64, room, Some(&s.rules));
                    let p = size.bytes() as usize;
                    self.state.dma.piece = true;
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
                    self.state.dma.piece = false;
                    p
                }
            };
            off += n;
        }
        if self.state.stop == Some(StopReason::RamBudget) {
            return Err(DmaError::Budget);
        }
        if std::mem::take(&mut self.state.dma.blocked) {
            return Err(DmaError::Blocked);
        }
        Ok(())
    }

    /// Supply bytes the program never wrote from the DMA patterns (QEMU generic-fuzz's
    /// `fuzz_dma_read_cb`): each byte at most once per input, capped per fill and per input.
    pub(super) fn lazy_fill(&mut self, addr: u64, len: usize) {
        if self.state.dma.patterns.is_empty() || self.state.dma.fill_used >= self.opts.fill_budget {
            return;
        }
        if !self.ram.has_undefined(addr, len) {
            return;
        }
        let mut ranges = std::mem::take(&mut self.fill_ranges);
        self.ram.undefined_ranges_into(addr, len, &mut ranges);
        let pattern_index = self.state.dma.fill_index % self.state.dma.patterns.len();
        self.state.dma.fill_index += 1;
        let mut allowance = self
            .opts
            .fill_max
            .min(self.opts.fill_budget - self.state.dma.fill_used);
        for r in &ranges {
            if allowance == 0 {
                break;
            }
            let n = r.len().min(allowance);
            let pattern = self.state.dma.patterns.get(pattern_index);
            let a = addr + r.start as u64;
            if self.ram.fill_pattern(a, n, pattern).is_err() {
                self.state.stop = Some(StopReason::RamBudget);
                break;
            }
            allowance -= n;
            self.state.dma.fill_used += n;
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
