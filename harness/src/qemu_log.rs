//! QEMU trace-event logs to check programs: any guest run on QEMU becomes a conformance test.
//!
//! Input: a log of QEMU's `log` trace backend (`-trace memory_region_ops_*`, `-trace
//! pci_cfg_*`, `-trace pci_update_mappings_*`, `-D FILE`), with or without
//! `-msg timestamp=on` (which prefixes each event with `PID@SECONDS.MICROS:`). Output: a check
//! program for one device of a devfuzz machine:
//!
//! - every guest access to the device's regions, at the absolute address the log gives, with
//!   `=> VALUE` (masked to the access width) on reads; the device's regions are its fixed
//!   mappings on the devfuzz machine and its BARs where the log's `pci_update_mappings_add`
//!   put them;
//! - every access to its configuration space through 0xCF8/0xCFC, with the CONFIG_ADDRESS
//!   write in front rewritten to the device's address on the devfuzz machine, so the
//!   firmware's BAR programming replays and the device sits where the log had it;
//! - q35's ECAM (`pcie-mmcfg-mmio`) accesses as mechanism #1 accesses where the offset is
//!   below 256; the rest as comments that say they cannot be expressed;
//! - gaps in the log's timestamps (wall-clock time of a TCG guest: an approximation of guest
//!   time) of at least [`ImportOptions::min_gap_ns`] as `clock_step`.
//!
//! What the log cannot give is not invented: guest RAM contents (descriptor rings, buffers)
//! are not traced, so a device that DMAs reads zeros on replay where the guest had data.

use crate::access::{AccessSize, Space};
use crate::device::DeviceId;
use crate::machine::Machine;
use crate::pci::{BarKind, Bdf, ROM_SLOT};
use crate::qtest::suffix;
use crate::space::Backing;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Where q35 puts its ECAM window (QEMU's `PCIE_BASE_ADDR_DEFAULT`).
pub const Q35_ECAM_BASE: u64 = 0xb000_0000;

/// Import settings.
#[derive(Clone, Debug)]
pub struct ImportOptions {
    /// The device on the devfuzz machine.
    pub device: String,
    /// Its name in QEMU's `pci_cfg_*` events (default: the same).
    pub qemu_name: Option<String>,
    /// Smallest timestamp gap written as a `clock_step` (ns).
    pub min_gap_ns: u64,
    /// Largest single `clock_step` written (ns); longer gaps are capped (a guest idling for
    /// seconds needs no seconds of virtual time).
    pub max_gap_ns: u64,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self {
            device: String::new(),
            qemu_name: None,
            min_gap_ns: 100_000,
            max_gap_ns: 1_000_000_000,
        }
    }
}

/// Why a log cannot be imported.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    /// The device is not on the machine.
    #[error("no device named '{0}' on this machine")]
    UnknownDevice(String),
    /// A trace event this importer reads has fields it cannot parse.
    #[error("line {line}: malformed {event} event: {why}")]
    Malformed {
        /// 1-based line number.
        line: usize,
        /// The event.
        event: &'static str,
        /// What is wrong.
        why: String,
    },
}

/// Counts of what an import did with the log.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportSummary {
    /// Lines in the log.
    pub lines: usize,
    /// Trace events of the kinds read here.
    pub events: usize,
    /// Lines that are other trace events or not trace events (QEMU messages).
    pub other_lines: usize,
    /// Accesses to other devices and RAM-less regions, left out.
    pub other_accesses: usize,
    /// Commands written (accesses of the device, its configuration space, CONFIG_ADDRESS).
    pub commands: usize,
    /// Of which reads with an expected value.
    pub reads: usize,
    /// `clock_step`s written for timestamp gaps.
    pub clock_steps: usize,
    /// Accesses of the device that cannot be expressed (ECAM beyond 256 bytes, 8-byte port
    /// accesses), written as comments.
    pub inexpressible: usize,
    /// The device's QEMU address, if it is a PCI function that the log names.
    pub qemu_bdf: Option<Bdf>,
}

impl ImportSummary {
    /// The summary as comment lines for the program's header.
    pub fn header(&self) -> String {
        format!(
            "# log: {} lines, {} events read, {} other lines\n# kept: {} commands ({} reads checked), {} clock steps; left out: {} accesses of other devices; cannot be expressed: {}\n",
            self.lines,
            self.events,
            self.other_lines,
            self.commands,
            self.reads,
            self.clock_steps,
            self.other_accesses,
            self.inexpressible
        )
    }
}

/// One trace event of the kinds read here.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Event {
    Mr {
        write: bool,
        addr: u64,
        value: u64,
        size: u64,
        name: String,
    },
    Cfg {
        dev: String,
        bdf: Bdf,
    },
    Mapping {
        add: bool,
        dev: String,
        bdf: Bdf,
        bar: usize,
        addr: u64,
        size: u64,
    },
}

/// Split `PID@SEC.USEC:rest` into the timestamp (ns) and the rest.
fn split_timestamp(line: &str) -> (Option<u64>, &str) {
    let Some(at) = line.find('@') else {
        return (None, line);
    };
    let Some(colon) = line[at..].find(':').map(|c| at + c) else {
        return (None, line);
    };
    if !line[..at].chars().all(|c| c.is_ascii_digit()) || at == 0 {
        return (None, line);
    }
    let stamp = &line[at + 1..colon];
    let (sec, usec) = stamp.split_once('.').unwrap_or((stamp, "0"));
    match (sec.parse::<u64>(), usec.parse::<u64>()) {
        (Ok(s), Ok(u)) => (
            Some(s.saturating_mul(1_000_000_000).saturating_add(u * 1000)),
            &line[colon + 1..],
        ),
        _ => (None, line),
    }
}

fn parse_bdf(s: &str) -> Option<Bdf> {
    let (bus, rest) = s.split_once(':')?;
    let (dev, func) = rest.split_once('.')?;
    Some(Bdf::new(
        u8::from_str_radix(bus, 16).ok()?,
        u8::from_str_radix(dev, 16).ok()?,
        u8::from_str_radix(func, 16).ok()?,
    ))
}

fn hex_field(s: &str) -> Option<u64> {
    u64::from_str_radix(s.strip_prefix("0x").unwrap_or(s), 16).ok()
}

/// Parse one event line (after the timestamp). `Ok(None)`: not an event read here.
fn parse_event(rest: &str, line: usize) -> Result<Option<Event>, ImportError> {
    let rest = rest.trim_end();
    let (name, args) = rest.split_once(' ').unwrap_or((rest, ""));
    let malformed = |event: &'static str, why: &str| ImportError::Malformed {
        line,
        event,
        why: why.to_string(),
    };
    match name {
        "memory_region_ops_read" | "memory_region_ops_write" => {
            let ev = if name.ends_with("read") {
                "memory_region_ops_read"
            } else {
                "memory_region_ops_write"
            };
            // cpu N mr 0xPTR addr 0xA value 0xV size S name 'NAME'
            let (fields, region) = match args.find(" name '") {
                Some(i) => (
                    &args[..i],
                    args[i + 7..].strip_suffix('\'').unwrap_or(&args[i + 7..]),
                ),
                None => return Err(malformed(ev, "no region name")),
            };
            let words: Vec<&str> = fields.split_whitespace().collect();
            let get = |key: &str| {
                words
                    .iter()
                    .position(|w| *w == key)
                    .and_then(|i| words.get(i + 1))
                    .copied()
            };
            let addr = get("addr")
                .and_then(hex_field)
                .ok_or_else(|| malformed(ev, "bad or missing addr"))?;
            let value = get("value")
                .and_then(hex_field)
                .ok_or_else(|| malformed(ev, "bad or missing value"))?;
            let size = get("size")
                .and_then(|s| s.parse::<u64>().ok())
                .filter(|s| matches!(s, 1 | 2 | 4 | 8))
                .ok_or_else(|| malformed(ev, "bad or missing size"))?;
            Ok(Some(Event::Mr {
                write: ev.ends_with("write"),
                addr,
                value,
                size,
                name: region.to_string(),
            }))
        }
        "pci_cfg_read" | "pci_cfg_write" => {
            let ev = if name.ends_with("read") {
                "pci_cfg_read"
            } else {
                "pci_cfg_write"
            };
            // DEV BB:DD.F @0xOFF -> 0xV
            let words: Vec<&str> = args.split_whitespace().collect();
            let (dev, bdf) = match words.as_slice() {
                [dev, bdf, ..] => (*dev, parse_bdf(bdf)),
                _ => return Err(malformed(ev, "too few fields")),
            };
            let bdf = bdf.ok_or_else(|| malformed(ev, "bad bus:device.function"))?;
            Ok(Some(Event::Cfg {
                dev: dev.to_string(),
                bdf,
            }))
        }
        "pci_update_mappings_add" | "pci_update_mappings_del" => {
            let ev = if name.ends_with("add") {
                "pci_update_mappings_add"
            } else {
                "pci_update_mappings_del"
            };
            // DEV BB:DD.F BAR,0xADDR+0xSIZE
            let words: Vec<&str> = args.split_whitespace().collect();
            let [dev, bdf, spec] = words.as_slice() else {
                return Err(malformed(ev, "expected DEV BDF BAR,ADDR+SIZE"));
            };
            let bdf = parse_bdf(bdf).ok_or_else(|| malformed(ev, "bad bus:device.function"))?;
            let (bar, range) = spec
                .split_once(',')
                .ok_or_else(|| malformed(ev, "expected BAR,ADDR+SIZE"))?;
            let (addr, size) = range
                .split_once('+')
                .ok_or_else(|| malformed(ev, "expected ADDR+SIZE"))?;
            Ok(Some(Event::Mapping {
                add: ev.ends_with("add"),
                dev: dev.to_string(),
                bdf,
                bar: bar
                    .parse()
                    .ok()
                    .filter(|b| *b <= ROM_SLOT)
                    .ok_or_else(|| malformed(ev, "bad BAR number"))?,
                addr: hex_field(addr).ok_or_else(|| malformed(ev, "bad address"))?,
                size: hex_field(size).ok_or_else(|| malformed(ev, "bad size"))?,
            }))
        }
        _ => Ok(None),
    }
}

/// What the importer knows of the device on the devfuzz machine.
struct Target {
    id: DeviceId,
    bdf: Option<Bdf>,
    /// BAR slot -> (space, region name).
    bars: BTreeMap<usize, (Space, &'static str)>,
    /// Fixed mappings: (space, base, size, region name).
    fixed: Vec<(Space, u64, u64, &'static str)>,
}

fn target_of(machine: &Machine, name: &str) -> Result<Target, ImportError> {
    let id = machine
        .device_by_name(name)
        .ok_or_else(|| ImportError::UnknownDevice(name.to_string()))?;
    let bdf = machine
        .pci_functions()
        .into_iter()
        .find(|(_, d)| *d == id)
        .map(|(b, _)| b);
    let regions = machine.device_regions(id);
    let mut bars = BTreeMap::new();
    if let Some(cfg) = machine.device(id).and_then(|d| d.pci()) {
        for (slot, def) in cfg.bar_defs().iter().enumerate() {
            if let Some(def) = def {
                let space = if def.kind == BarKind::Io {
                    Space::Io
                } else {
                    Space::Memory
                };
                let name = regions
                    .get(usize::from(def.region.0))
                    .map_or("?", |r| r.name);
                bars.insert(slot, (space, name));
            }
        }
    }
    let mut fixed = Vec::new();
    for (r, spec) in regions.iter().enumerate() {
        let backing = Backing::Device(id, crate::device::RegionId(r as u16));
        if let Some(m) = machine.space(spec.space).mapping_of(backing) {
            fixed.push((spec.space, m.base, m.size, spec.name));
        }
    }
    Ok(Target {
        id,
        bdf,
        bars,
        fixed,
    })
}

fn size_of(n: u64) -> Option<AccessSize> {
    AccessSize::from_bytes(n)
}

/// The program being written.
struct Writer {
    out: String,
    last_ts: Option<u64>,
    cf8_written: Option<u32>,
    summary: ImportSummary,
    min_gap: u64,
    max_gap: u64,
}

impl Writer {
    /// Write the time since the last `clock_step` once it adds up to `min_gap`: gaps too
    /// short to write on their own are carried forward, so the replay's clock keeps up with the
    /// guest's (a timer due 500 ms after a write fires before the read that expects it).
    fn time(&mut self, ts: Option<u64>) {
        let Some(t) = ts else { return };
        match self.last_ts {
            None => self.last_ts = Some(t),
            Some(last) if t > last && t - last >= self.min_gap => {
                let gap = (t - last).min(self.max_gap);
                let _ = writeln!(self.out, "clock_step {gap}");
                self.summary.clock_steps += 1;
                self.last_ts = Some(t);
            }
            Some(_) => {}
        }
    }

    fn access(
        &mut self,
        space: Space,
        addr: u64,
        size: AccessSize,
        write: bool,
        value: u64,
        note: &str,
    ) {
        let value = value & size.mask();
        let verb = match (space, write) {
            (Space::Io, true) => "out",
            (Space::Io, false) => "in",
            (Space::Memory, true) => "write",
            (Space::Memory, false) => "read",
        };
        let _ = write!(self.out, "{verb}{} {addr:#x}", suffix(size));
        if write {
            let _ = write!(self.out, " {value:#x}");
        } else {
            let _ = write!(self.out, " => {value:#x}");
            self.summary.reads += 1;
        }
        let _ = writeln!(self.out, "  # {note}");
        self.summary.commands += 1;
    }

    /// A configuration-space access of the device at register `reg` (+ byte lane).
    fn config(&mut self, bdf: Bdf, reg: u8, size: AccessSize, write: bool, value: u64, dev: &str) {
        let address = bdf.config_address(reg & 0xfc);
        if self.cf8_written != Some(address) {
            let _ = writeln!(self.out, "outl 0xcf8 {address:#x}  # pci-conf-idx+0x0");
            self.summary.commands += 1;
            self.cf8_written = Some(address);
        }
        let port = 0xcfc + u64::from(reg & 3);
        self.access(
            Space::Io,
            port,
            size,
            write,
            value,
            &format!("cfg {bdf}+{reg:#x} {dev}"),
        );
    }
}

/// Import `log` for the device named in `opts` on `machine` (a cold machine of the profile
/// the program will run on). Returns the program text (without a header) and its summary.
pub fn import(
    log: &str,
    machine: &Machine,
    opts: &ImportOptions,
) -> Result<(String, ImportSummary), ImportError> {
    let target = target_of(machine, &opts.device)?;
    let qemu_name = opts.qemu_name.as_deref().unwrap_or(&opts.device);
    // First pass: the device's QEMU address, from any event that names it.
    let mut qemu_bdf = None;
    for (i, raw) in log.lines().enumerate() {
        let (_, rest) = split_timestamp(raw);
        match parse_event(rest, i + 1)? {
            Some(Event::Cfg { dev, bdf }) | Some(Event::Mapping { dev, bdf, .. })
                if dev == qemu_name =>
            {
                qemu_bdf = Some(bdf);
                break;
            }
            _ => {}
        }
    }
    let mut w = Writer {
        out: String::new(),
        last_ts: None,
        cf8_written: None,
        summary: ImportSummary {
            qemu_bdf,
            ..ImportSummary::default()
        },
        min_gap: opts.min_gap_ns.max(1),
        max_gap: opts.max_gap_ns.max(1),
    };
    let dev_name = machine.device_name(target.id);
    // The log's BARs of the device: slot -> (base, size).
    let mut bars: BTreeMap<usize, (u64, u64)> = BTreeMap::new();
    let mut config_address = 0u32;
    for (i, raw) in log.lines().enumerate() {
        w.summary.lines += 1;
        let (ts, rest) = split_timestamp(raw);
        let Some(ev) = parse_event(rest, i + 1)? else {
            w.summary.other_lines += 1;
            continue;
        };
        w.summary.events += 1;
        match ev {
            Event::Cfg { .. } => {}
            Event::Mapping {
                add,
                bdf,
                bar,
                addr,
                size,
                ..
            } => {
                if Some(bdf) == qemu_bdf {
                    if add {
                        bars.insert(bar, (addr, size));
                    } else {
                        bars.remove(&bar);
                    }
                }
            }
            Event::Mr {
                write,
                addr,
                value,
                size,
                name,
            } => {
                let Some(asize) = size_of(size) else {
                    continue;
                };
                match name.as_str() {
                    "pci-conf-idx" => {
                        if write && size == 4 && addr == 0xcf8 {
                            config_address = value as u32;
                        } else {
                            w.summary.other_accesses += 1;
                        }
                        continue;
                    }
                    "pci-conf-data" => {
                        let lane = (addr & 3) as u8;
                        match (Bdf::from_config_address(config_address), target.bdf) {
                            (Some((bdf, reg)), Some(ours)) if Some(bdf) == qemu_bdf => {
                                w.time(ts);
                                w.config(ours, reg | lane, asize, write, value, dev_name);
                            }
                            _ => w.summary.other_accesses += 1,
                        }
                        continue;
                    }
                    "pcie-mmcfg-mmio" => {
                        let off = addr.wrapping_sub(Q35_ECAM_BASE);
                        let bdf = Bdf::new(
                            ((off >> 20) & 0xff) as u8,
                            ((off >> 15) & 0x1f) as u8,
                            ((off >> 12) & 7) as u8,
                        );
                        let reg = off & 0xfff;
                        if Some(bdf) != qemu_bdf {
                            w.summary.other_accesses += 1;
                        } else if let (true, Some(ours)) = (reg < 256, target.bdf) {
                            w.time(ts);
                            w.config(ours, reg as u8, asize, write, value, dev_name);
                        } else {
                            let _ = writeln!(
                                w.out,
                                "# cannot be expressed: ECAM {} of {bdf} register {reg:#x} (beyond mechanism #1's 256 bytes), value {value:#x}",
                                if write { "write" } else { "read" }
                            );
                            w.summary.inexpressible += 1;
                        }
                        continue;
                    }
                    _ => {}
                }
                // A BAR of the device where the log mapped it, or one of its fixed regions.
                let hit = bars
                    .iter()
                    .find(|(_, (base, len))| addr >= *base && addr - base < *len)
                    .and_then(|(slot, (base, _))| {
                        target
                            .bars
                            .get(slot)
                            .map(|(space, region)| (*space, *region, addr - base))
                    })
                    .or_else(|| {
                        let fixed: Vec<_> = target
                            .fixed
                            .iter()
                            .filter(|(_, base, len, _)| addr >= *base && addr - base < *len)
                            .collect();
                        // An address both an I/O and a memory region of the device cover
                        // is decided by QEMU's region name.
                        let pick = if fixed.len() > 1 {
                            fixed
                                .iter()
                                .find(|(_, _, _, n)| *n == name)
                                .or(fixed.first())
                        } else {
                            fixed.first()
                        };
                        pick.map(|(space, base, _, region)| (*space, *region, addr - base))
                    });
                let Some((space, region, offset)) = hit else {
                    w.summary.other_accesses += 1;
                    continue;
                };
                if space == Space::Io && size == 8 {
                    let _ = writeln!(
                        w.out,
                        "# cannot be expressed: 8-byte port access at {addr:#x}"
                    );
                    w.summary.inexpressible += 1;
                    continue;
                }
                w.time(ts);
                let note = if name == region {
                    format!("{region}+{offset:#x}")
                } else {
                    format!("{region}+{offset:#x} (qemu {name})")
                };
                w.access(space, addr, asize, write, value, &note);
            }
        }
    }
    Ok((w.out, w.summary))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::{Context, Device, RegionId, RegionSpec};

    #[derive(Clone, Debug)]
    struct Dummy(crate::pci::PciConfig);

    impl Device for Dummy {
        fn name(&self) -> &'static str {
            "dummy"
        }
        fn regions(&self) -> Vec<RegionSpec> {
            Vec::new()
        }
        fn read(&mut self, _: &mut dyn Context, _: RegionId, _: u64, _: AccessSize) -> u64 {
            0
        }
        fn write(&mut self, _: &mut dyn Context, _: RegionId, _: u64, _: AccessSize, _: u64) {}
        fn pci(&self) -> Option<&crate::pci::PciConfig> {
            Some(&self.0)
        }
        fn pci_mut(&mut self) -> Option<&mut crate::pci::PciConfig> {
            Some(&mut self.0)
        }
        fn reset(&mut self) {}
    }

    #[test]
    fn q35_ecam_accesses_become_mechanism_1_or_say_they_cannot() {
        // A device at 00:02.0: ECAM below 256 bytes is
        // replayed through 0xCF8/0xCFC, beyond it is a comment and a count.
        let machine = Machine::new(
            || {
                let mut spec = crate::machine::MachineSpec {
                    ram_size: 1 << 20,
                    pci_host: true,
                    ..Default::default()
                };
                let dev = spec.add(Box::new(Dummy(crate::pci::PciConfig::new(
                    0x8086, 0x1234, 0x020000, 0, 0,
                ))));
                spec.add_pci(Bdf::new(0, 2, 0), dev);
                spec
            },
            crate::machine::MachineOptions::default(),
        );
        let log = "pci_cfg_read dummy 00:02.0 @0x0 -> 0x12348086\n\
memory_region_ops_read cpu 0 mr 0x1 addr 0xb0010000 value 0x12348086 size 4 name 'pcie-mmcfg-mmio'\n\
memory_region_ops_read cpu 0 mr 0x1 addr 0xb0010100 value 0x1 size 4 name 'pcie-mmcfg-mmio'\n\
memory_region_ops_read cpu 0 mr 0x1 addr 0xb0018000 value 0xffffffff size 4 name 'pcie-mmcfg-mmio'\n";
        let (text, summary) = import(
            log,
            &machine,
            &ImportOptions {
                device: "dummy".into(),
                ..Default::default()
            },
        )
        .unwrap();
        assert!(text.contains("outl 0xcf8 0x80001000"), "{text}");
        assert!(text.contains("inl 0xcfc => 0x12348086"), "{text}");
        assert!(
            text.contains("cannot be expressed: ECAM read of 00:02.0 register 0x100"),
            "{text}"
        );
        assert_eq!(summary.inexpressible, 1);
        assert_eq!(summary.other_accesses, 1, "00:03.0 is another function");
        assert_eq!(summary.qemu_bdf, Some(Bdf::new(0, 2, 0)));
    }

    #[test]
    fn short_gaps_add_up_to_a_clock_step() {
        // Three accesses 60 µs apart with a 100 µs threshold: no step after the second, one of
        // 120 µs (both gaps) before the third, so the replay's clock keeps up.
        let mut lines = Vec::new();
        for (i, us) in [0u64, 60, 120].iter().enumerate() {
            lines.push(format!(
                "1@1000.{:06}:memory_region_ops_read cpu 0 mr 0x1 addr 0x{:x} value 0x0 size 1 name 'x'",
                us,
                0x60 + i
            ));
        }
        let mut w = Writer {
            out: String::new(),
            last_ts: None,
            cf8_written: None,
            summary: ImportSummary::default(),
            min_gap: 100_000,
            max_gap: 1_000_000_000,
        };
        for line in &lines {
            let (ts, _) = split_timestamp(line);
            w.time(ts);
        }
        assert_eq!(w.out, "clock_step 120000\n");
        assert_eq!(w.summary.clock_steps, 1);
    }

    #[test]
    fn timestamps_split_off_the_event() {
        assert_eq!(
            split_timestamp("8590@1796537597.125477:pci_cfg_read x"),
            (Some(1_796_537_597_125_477_000), "pci_cfg_read x")
        );
        assert_eq!(split_timestamp("pci_cfg_read x"), (None, "pci_cfg_read x"));
        assert_eq!(
            split_timestamp("qemu: warning: a@b:c"),
            (None, "qemu: warning: a@b:c")
        );
    }

    #[test]
    fn events_parse_and_malformed_ones_name_their_line() {
        let e = parse_event(
            "memory_region_ops_read cpu -1 mr 0x55 addr 0xfebc0008 value 0x80283 size 4 name 'widget-mmio'",
            1,
        )
        .unwrap();
        assert_eq!(
            e,
            Some(Event::Mr {
                write: false,
                addr: 0xfebc0008,
                value: 0x80283,
                size: 4,
                name: "widget-mmio".into()
            })
        );
        let e = parse_event(
            "pci_update_mappings_add widget 00:02.0 0,0xfebc0000+0x20000",
            1,
        )
        .unwrap();
        assert!(matches!(
            e,
            Some(Event::Mapping {
                bar: 0,
                addr: 0xfebc0000,
                size: 0x20000,
                add: true,
                ..
            })
        ));
        assert_eq!(parse_event("kvm_run_exit 1", 1).unwrap(), None);
        let err = parse_event(
            "memory_region_ops_write cpu 0 mr 0x1 addr zz value 0x0 size 4 name 'x'",
            7,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 7: malformed memory_region_ops_write event: bad or missing addr"
        );
        assert!(parse_event("pci_update_mappings_del widget 00:02.0", 3).is_err());
    }
}
