//! Watching a machine run: the access record and DMA watchpoints.
//!
//! A machine with an [`Observer`] logs, in order, every guest access (CPU or qtest) that
//! reaches RAM, a device region, the PCI host or a configuration space, with the value
//! answered, plus the clock steps and external events that drive it, and between them what the
//! machine did on its own: device DMA, lazy DMA fills, IRQ line changes, timer expiries. The
//! log renders as a qtest program ([`render`]) whose reads carry the answers
//! (`readl 0xfebc0008 => 0x80283`), so the record of a run replays and checks itself.
//!
//! Watchpoints mark the DMA and fills that touch a guest-physical range, with the bytes moved
//! and the model's own source line. A machine without an observer pays one branch per guest
//! access and per DMA: nothing is logged or allocated.

use crate::access::{AccessSize, Space};
use crate::device::TimerId;
use crate::pci::Bdf;
use crate::qtest::{self, Cmd};
use std::fmt::Write as _;
use std::panic::Location;

/// Where a guest access lands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Place {
    /// Guest RAM.
    Ram,
    /// Nothing is mapped there.
    Unassigned,
    /// A register of the PCI host: `pci-conf-idx` (0xCF8..0xCFB) or `pci-conf-data` while no
    /// function is addressed.
    PciHost {
        /// QEMU's name of the register block.
        name: &'static str,
        /// Offset in it.
        offset: u64,
    },
    /// A device region.
    Device {
        /// The device's name.
        device: &'static str,
        /// The region's name.
        region: &'static str,
        /// Offset in the region.
        offset: u64,
    },
    /// A function's configuration space through mechanism #1.
    Config {
        /// The function addressed.
        bdf: Bdf,
        /// The device behind it, if any.
        device: Option<&'static str>,
        /// Register offset in its configuration space.
        offset: u8,
    },
}

impl Place {
    /// The register this place names, for per-register tables: `widget-mmio+0x8`,
    /// `cfg 00:02.0+0x10`; `None` for RAM and unassigned addresses.
    pub fn register(&self) -> Option<String> {
        match self {
            Place::Ram | Place::Unassigned => None,
            Place::PciHost { name, offset } => Some(format!("{name}+{offset:#x}")),
            Place::Device { region, offset, .. } => Some(format!("{region}+{offset:#x}")),
            Place::Config { bdf, offset, .. } => Some(format!("cfg {bdf}+{offset:#x}")),
        }
    }

    /// A short note for a record line: the register, and for configuration space the device.
    pub fn note(&self) -> String {
        match self {
            Place::Ram => "ram".to_string(),
            Place::Unassigned => "unassigned".to_string(),
            Place::Config {
                device: Some(d), ..
            } => format!("{} {d}", self.register().unwrap_or_default()),
            Place::Config { device: None, .. } => {
                format!("{} (no function)", self.register().unwrap_or_default())
            }
            _ => self.register().unwrap_or_default(),
        }
    }
}

/// A guest-physical range to watch for DMA: `ADDR[+LEN][:r|w|rw]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Watch {
    /// First byte.
    pub start: u64,
    /// Length in bytes (at least 1).
    pub len: u64,
    /// Device reads (and the lazy fills that serve them).
    pub read: bool,
    /// Device writes.
    pub write: bool,
}

/// Why a watch specification is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("bad watch '{spec}': {why} (expected ADDR[+LEN][:r|w|rw])")]
pub struct WatchParseError {
    /// The text given.
    pub spec: String,
    /// What is wrong.
    pub why: &'static str,
}

impl std::str::FromStr for Watch {
    type Err = WatchParseError;

    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let bad = |why| WatchParseError {
            spec: spec.to_string(),
            why,
        };
        let (range, mode) = spec.split_once(':').unwrap_or((spec, "rw"));
        let (read, write) = match mode {
            "r" => (true, false),
            "w" => (false, true),
            "rw" | "wr" => (true, true),
            _ => return Err(bad("mode must be r, w or rw")),
        };
        let (addr, len) = match range.split_once('+') {
            Some((a, l)) => (a, Some(l)),
            None => (range, None),
        };
        let start = qtest::parse_number(addr).ok_or_else(|| bad("bad address"))?;
        let len = match len {
            Some(l) => qtest::parse_number(l).ok_or_else(|| bad("bad length"))?,
            None => 1,
        };
        if len == 0 {
            return Err(bad("length must be at least 1"));
        }
        if start.checked_add(len - 1).is_none() {
            return Err(bad("range passes the top of the address space"));
        }
        Ok(Self {
            start,
            len,
            read,
            write,
        })
    }
}

impl Watch {
    /// The part of `addr..addr+len` inside the watched range, if any.
    pub fn overlap(&self, addr: u64, len: u64) -> Option<(u64, u64)> {
        if len == 0 {
            return None;
        }
        let lo = addr.max(self.start);
        let hi = addr
            .saturating_add(len - 1)
            .min(self.start + (self.len - 1));
        (lo <= hi).then(|| (lo, hi - lo + 1))
    }
}

/// One thing the machine did, in the order it happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// A guest access (or a qtest bulk access of RAM).
    Access {
        /// Memory or I/O.
        space: Space,
        /// Absolute address (port number in I/O space).
        addr: u64,
        /// Access width.
        size: AccessSize,
        /// The value written, or `None` for a read.
        write: Option<u64>,
        /// The value answered (for a read).
        value: u64,
        /// Where it landed.
        place: Place,
    },
    /// The guest wrote bytes to RAM (`write`, `memset`, a RAM_WRITE op).
    RamWrite {
        /// Guest-physical address.
        addr: u64,
        /// The bytes.
        data: Vec<u8>,
    },
    /// The guest read bytes of RAM in bulk (`read`, `b64read`).
    RamRead {
        /// Guest-physical address.
        addr: u64,
        /// The bytes answered.
        data: Vec<u8>,
    },
    /// Virtual time moved by `ns` (a `clock_step` or `clock_set`).
    Clock {
        /// Nanoseconds.
        ns: u64,
    },
    /// An external event delivered to a device.
    Event {
        /// The device.
        device: &'static str,
        /// Its payload.
        payload: Vec<u8>,
    },
    /// A device DMA transfer.
    Dma {
        /// The device.
        device: &'static str,
        /// Device writes guest memory (`true`) or reads it.
        write: bool,
        /// Guest-physical address.
        addr: u64,
        /// Bytes.
        len: u64,
        /// How it ended: `None` done, `Some(reason)` refused or cut short.
        error: Option<String>,
        /// The model's source line that asked for it.
        at: Option<&'static Location<'static>>,
        /// Watchpoints it touched: `(watch index, address, bytes)`, with the model's frames.
        hits: Vec<WatchHit>,
    },
    /// Bytes the program never wrote, supplied to a DMA read from the input's DMA patterns.
    Fill {
        /// Guest-physical address.
        addr: u64,
        /// The bytes supplied.
        data: Vec<u8>,
        /// Watchpoints it touched.
        hits: Vec<WatchHit>,
    },
    /// A machine IRQ line changed level.
    Irq {
        /// Line name.
        line: &'static str,
        /// Line number.
        number: usize,
        /// New level.
        level: bool,
    },
    /// A device took a documented choice where QEMU differs
    /// ([`crate::device::Context::note_choice`]).
    Choice {
        /// The device.
        device: &'static str,
        /// The choice's name.
        choice: &'static str,
    },
    /// A device timer expired.
    Timer {
        /// The device.
        device: &'static str,
        /// Its timer number.
        timer: TimerId,
        /// Virtual time of the expiry.
        at: u64,
    },
}

/// A DMA or fill that touched a watched range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatchHit {
    /// Index of the watch in [`Observer::watches`].
    pub watch: usize,
    /// First byte touched inside the watched range.
    pub addr: u64,
    /// The bytes moved there.
    pub data: Vec<u8>,
    /// Model frames (workspace-relative `file:line`), innermost first.
    pub frames: Vec<String>,
}

/// What a machine with an observer logs. Install it with [`crate::machine::Machine::observe`].
#[derive(Debug, Default)]
pub struct Observer {
    /// The log since it was last taken.
    pub entries: Vec<Entry>,
    /// DMA watchpoints.
    pub watches: Vec<Watch>,
    /// The first watch hit is a finding (kind `watch`), so a program can be minimised down to
    /// the DMA that touches a buffer.
    pub break_on_watch: bool,
    /// Keep no log beyond the current guest command: only the watchpoints matter (what
    /// `minimize --watch` uses, run after run).
    pub watch_only: bool,
    /// Set while a guest access is being carried out (its pieces are not logged again).
    pub(crate) in_access: bool,
    /// Index of the open guest access's entry (lazy fills are replayed before it).
    pub(crate) open: Option<usize>,
    /// Choices devices noted since [`Observer::take_choices`] (device, choice), also in the
    /// log as [`Entry::Choice`].
    pub choices: Vec<(&'static str, &'static str)>,
}

impl Observer {
    /// An observer with these watchpoints.
    pub fn new(watches: Vec<Watch>, break_on_watch: bool) -> Self {
        Self {
            watches,
            break_on_watch,
            ..Self::default()
        }
    }

    /// Take the log so far.
    pub fn take(&mut self) -> Vec<Entry> {
        self.open = None;
        std::mem::take(&mut self.entries)
    }

    /// Take the choices noted so far (device, choice), leaving none.
    pub fn take_choices(&mut self) -> Vec<(&'static str, &'static str)> {
        std::mem::take(&mut self.choices)
    }

    /// Which watches `addr..addr+len` touches in this direction, with the bytes there.
    pub(crate) fn hits(
        &self,
        addr: u64,
        data: Option<&[u8]>,
        len: u64,
        write: bool,
    ) -> Vec<WatchHit> {
        let mut hits = Vec::new();
        for (i, w) in self.watches.iter().enumerate() {
            if !(if write { w.write } else { w.read }) {
                continue;
            }
            if let Some((a, n)) = w.overlap(addr, len) {
                let bytes = data
                    .map(|d| {
                        let from = (a - addr) as usize;
                        d[from.min(d.len())..(from + n as usize).min(d.len())].to_vec()
                    })
                    .unwrap_or_default();
                hits.push(WatchHit {
                    watch: i,
                    addr: a,
                    data: bytes,
                    frames: crate::outcome::model_frames_here(),
                });
            }
        }
        hits
    }
}

/// Render a RAM write as qtest: `memset` for a run of one byte, `write` otherwise.
fn ram_write_cmd(addr: u64, data: &[u8]) -> Cmd {
    match data.first() {
        Some(&b) if data.len() > 16 && data.iter().all(|&x| x == b) => Cmd::Memset {
            addr,
            len: data.len() as u64,
            byte: b,
        },
        _ => Cmd::WriteBulk {
            addr,
            data: data.to_vec(),
            base64: false,
        },
    }
}

/// The qtest command an access entry replays as.
pub fn access_cmd(space: Space, addr: u64, size: AccessSize, write: Option<u64>) -> Cmd {
    match (space, write) {
        (Space::Io, Some(v)) => Cmd::Out {
            size,
            port: addr as u16,
            value: v as u32,
        },
        (Space::Io, None) => Cmd::In {
            size,
            port: addr as u16,
        },
        (Space::Memory, Some(v)) => Cmd::Write {
            size,
            addr,
            value: v,
        },
        (Space::Memory, None) => Cmd::Read { size, addr },
    }
}

/// Append one entry to a record as text: commands as qtest lines (reads with `=> VALUE`),
/// machine activity as `#` comment lines.
pub fn render_entry(out: &mut String, entry: &Entry) {
    match entry {
        Entry::Access {
            space,
            addr,
            size,
            write,
            value,
            place,
        } => {
            let cmd = access_cmd(*space, *addr, *size, *write);
            match write {
                Some(_) => {
                    let _ = writeln!(out, "{cmd}  # {}", place.note());
                }
                None => {
                    let _ = writeln!(out, "{cmd} => {value:#x}  # {}", place.note());
                }
            }
        }
        Entry::RamWrite { addr, data } => {
            let _ = writeln!(out, "{}", ram_write_cmd(*addr, data));
        }
        Entry::RamRead { addr, data } => {
            let _ = writeln!(
                out,
                "read {addr:#x} {:#x} => 0x{}",
                data.len(),
                qtest::hex(data)
            );
        }
        Entry::Clock { ns } => {
            let _ = writeln!(out, "clock_step {ns}");
        }
        Entry::Event { device, payload } => {
            let _ = writeln!(out, "event {device} 0x{}", qtest::hex(payload));
        }
        Entry::Dma {
            device,
            write,
            addr,
            len,
            error,
            at,
            ..
        } => {
            let _ = write!(
                out,
                "# dma {device} {} {addr:#x}+{len:#x}",
                if *write { "write" } else { "read" }
            );
            if let Some(e) = error {
                let _ = write!(out, " ({e})");
            }
            if let Some(at) = at {
                let _ = write!(
                    out,
                    " at {}:{}",
                    crate::outcome::relative_path(at.file()),
                    at.line()
                );
            }
            out.push('\n');
        }
        Entry::Fill { addr, data, .. } => {
            let _ = writeln!(out, "# fill {addr:#x}+{:#x} (lazy DMA fill)", data.len());
            let _ = writeln!(out, "{}", ram_write_cmd(*addr, data));
        }
        Entry::Irq {
            line,
            number,
            level,
        } => {
            let _ = writeln!(
                out,
                "# irq {line} (line {number}) {}",
                if *level { "raise" } else { "lower" }
            );
        }
        Entry::Timer { device, timer, at } => {
            let _ = writeln!(out, "# timer {device} {} at {at} ns", timer.0);
        }
        Entry::Choice { device, choice } => {
            let _ = writeln!(out, "# choice {device} {choice}");
        }
    }
}

/// Render a whole log (see [`render_entry`]).
pub fn render(entries: &[Entry]) -> String {
    let mut out = String::new();
    for e in entries {
        render_entry(&mut out, e);
    }
    out
}

/// Every watch hit in a log, in order: `(entry index, device or "fill", direction, hit)`.
pub fn watch_hits(entries: &[Entry]) -> Vec<(&'static str, bool, &WatchHit)> {
    let mut hits = Vec::new();
    for e in entries {
        match e {
            Entry::Dma {
                device,
                write,
                hits: h,
                ..
            } => hits.extend(h.iter().map(|h| (*device, *write, h))),
            Entry::Fill { hits: h, .. } => hits.extend(h.iter().map(|h| ("(lazy fill)", true, h))),
            _ => {}
        }
    }
    hits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watch_specs_parse_and_refuse() {
        let w: Watch = "0x1000+0x10:w".parse().unwrap();
        assert_eq!(
            w,
            Watch {
                start: 0x1000,
                len: 0x10,
                read: false,
                write: true
            }
        );
        let w: Watch = "4096".parse().unwrap();
        assert_eq!((w.len, w.read, w.write), (1, true, true));
        for bad in ["", "0x10+0", "zz", "0x10:x", "0xffffffffffffffff+2", "1+q"] {
            assert!(bad.parse::<Watch>().is_err(), "{bad}");
        }
    }

    #[test]
    fn overlap_is_the_shared_part() {
        let w: Watch = "0x100+0x10".parse().unwrap();
        assert_eq!(w.overlap(0xf8, 0x10), Some((0x100, 8)));
        assert_eq!(w.overlap(0x10f, 0x10), Some((0x10f, 1)));
        assert_eq!(w.overlap(0x110, 4), None);
        assert_eq!(w.overlap(0xf0, 0x10), None);
    }
}
