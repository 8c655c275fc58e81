//! Running programs: binary inputs (ops) and text traces (qtest commands) on a target's
//! machine, with findings caught in one place, and conversion between the two forms.

use crate::access::{AccessSize, Space};
use crate::device::DeviceId;
use crate::machine::{
    Machine, MachineOptions, PCI_CONFIG_ADDRESS_PORT, PCI_CONFIG_DATA_PORT, StopReason,
};
use crate::observe::access_cmd;
use crate::ops::{self, Op};
use crate::outcome::{CaptureScope, Outcome, finding_from_panic};
use crate::pci::{self, BAR_COUNT, BarKind, Bdf};
use crate::qtest::{Cmd, Reply};
use crate::space::Backing;
use crate::target::{Builder, MachineProfile, PROLOGUE_IO_BASE, PROLOGUE_MEM_BASE, Target};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

/// A region the fuzzer can address right now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LiveRegion {
    /// Memory or I/O.
    pub space: Space,
    /// Where it is mapped.
    pub base: u64,
    /// Its size.
    pub size: u64,
    /// Who answers.
    pub backing: Backing,
}

/// Result of converting a text trace to a binary input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Encoded {
    /// The binary input.
    pub bytes: Vec<u8>,
    /// Commands that had no binary form on this target (an address outside its regions, a
    /// read of RAM) and were left out, as `(line index, command)`.
    pub dropped: Vec<(usize, Cmd)>,
}

/// Errors of text execution that are the trace's fault, not a finding.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RunError {
    /// `event` named a device this machine does not have.
    #[error("no device named '{0}' on this machine")]
    UnknownDevice(String),
    /// A trace could not be encoded as ops.
    #[error(transparent)]
    Encode(#[from] ops::EncodeError),
    /// The command wrote more distinct RAM pages than the machine's page budget allows; the
    /// writes past it were dropped (a qtest session has no budget: this does not happen there).
    #[error("guest RAM page budget exhausted: writes past it were dropped")]
    RamBudget,
    /// A clock step longer than a binary input can say ([`MAX_CLOCK_OPS`] CLOCK_STEP ops).
    #[error(
        "clock step of {0} ns needs more than {MAX_CLOCK_OPS} CLOCK_STEP ops of at most 2^32-1 ns: no binary form"
    )]
    ClockTooFar(u64),
}

/// The most CLOCK_STEP ops one text clock command becomes in a binary input (about 73
/// minutes of virtual time): bounds what a conversion emits, whatever number the text holds.
pub const MAX_CLOCK_OPS: u64 = 1024;

/// What one qtest command did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// The reply line.
    Reply(String),
    /// The command could not run (the reply is `ERR <error>`).
    Error(RunError),
    /// The command hit a bug; the machine was reset.
    Finding(Box<crate::outcome::Finding>),
}

/// Runs inputs for one target, reusing one machine (reset between inputs).
pub struct Runner {
    target: Target,
    machine: Machine,
    live: Vec<LiveRegion>,
    live_layout: Option<(u64, u64, u64)>,
    /// What READ/WRITE ops may address, in live-region order (fixed for a runner: the
    /// target's device and region names resolved once).
    addressable: Vec<Backing>,
    functions: Vec<(DeviceId, Bdf)>,
    event_devices: Vec<DeviceId>,
    prologue: Vec<Cmd>,
    recording: Option<Vec<Cmd>>,
}

impl Runner {
    /// A runner for `target` with default options.
    pub fn new(target: &Target) -> Self {
        Self::with_options(target, MachineOptions::default())
    }

    /// A runner that stands for a whole machine, cold, with no prologue: what the qtest server
    /// and text replays use. Every region, PCI function and device event is addressable.
    pub fn for_machine(machine: &'static MachineProfile, opts: MachineOptions) -> Self {
        Self::for_machine_with(machine, Arc::new(machine.build), opts)
    }

    /// [`Runner::for_machine`] on a machine built by `build` (the profile with options).
    pub fn for_machine_with(
        machine: &'static MachineProfile,
        build: Builder,
        opts: MachineOptions,
    ) -> Self {
        let target = Target {
            name: machine.name,
            description: machine.description,
            machine,
            devices: &["*"],
            regions: &[],
            pci: true,
            event_devices: &[],
            pci_enum: false,
        };
        Self::with_builder(&target, build, opts)
    }

    /// A runner for `target` with the given machine options.
    pub fn with_options(target: &Target, opts: MachineOptions) -> Self {
        Self::with_builder(target, Arc::new(target.machine.build), opts)
    }

    /// A runner for `target` on a machine built by `build` (the target's profile with
    /// options applied, see [`crate::target::MachineProfile::builder`]).
    pub fn with_builder(target: &Target, build: Builder, opts: MachineOptions) -> Self {
        let target = *target;
        let machine = Machine::with_builder(build, opts);
        let functions = if target.pci {
            machine
                .pci_functions()
                .into_iter()
                .map(|(b, d)| (d, b))
                .collect()
        } else {
            Vec::new()
        };
        let event_devices = target
            .event_devices
            .iter()
            .filter_map(|n| machine.device_by_name(n))
            .collect();
        let host = [Backing::PciConfigAddress, Backing::PciConfigData];
        let host = host.iter().copied().take(if target.pci { 2 } else { 0 });
        let devices = (0..machine.device_count())
            .map(|d| DeviceId(d as u16))
            .filter(|id| target.addresses_device(machine.device_name(*id)))
            .flat_map(|id| {
                let name = machine.device_name(id);
                machine
                    .device_regions(id)
                    .iter()
                    .enumerate()
                    .filter(move |(_, spec)| target.addresses_region(name, spec.name))
                    .map(move |(r, _)| Backing::Device(id, crate::device::RegionId(r as u16)))
            });
        let addressable = host.chain(devices).collect();
        let prologue = if target.pci_enum {
            pci_enum(&machine)
        } else {
            Vec::new()
        };
        Self {
            target,
            machine,
            live: Vec::new(),
            live_layout: None,
            addressable,
            functions,
            event_devices,
            prologue,
            recording: None,
        }
    }

    /// The target.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// Return the machine to its cold state (for a qtest session).
    pub fn reset_cold(&mut self) {
        self.machine.reset();
    }

    /// Execute one command on the current machine state, catching a finding: the qtest
    /// server's step.
    pub fn step(&mut self, cmd: &Cmd) -> Step {
        let _scope = CaptureScope::enter();
        match catch_unwind(AssertUnwindSafe(|| self.exec_cmd(cmd))) {
            Ok(Ok(_)) if self.machine.stop_reason() == Some(StopReason::RamBudget) => {
                Step::Error(RunError::RamBudget)
            }
            Ok(Ok(reply)) => Step::Reply(reply.to_string()),
            Ok(Err(e)) => Step::Error(e),
            Err(payload) => {
                let device = self
                    .machine
                    .innermost_engaged()
                    .map(|d| self.machine.device_name(d));
                let finding = finding_from_panic(payload, device, 0);
                self.machine.reset();
                Step::Finding(Box::new(finding))
            }
        }
    }

    /// The machine (for inspection after a run).
    pub fn machine(&mut self) -> &mut Machine {
        &mut self.machine
    }

    /// The prologue commands run before each binary input.
    pub fn prologue(&self) -> &[Cmd] {
        &self.prologue
    }

    /// Regions READ/WRITE ops can address now, in op-index order: the PCI host's two registers
    /// first (if the target has them), then each addressable device's mapped regions in device
    /// and region order.
    pub fn live_regions(&mut self) -> &[LiveRegion] {
        let layout = self.machine.layout_id();
        if self.live_layout != Some(layout) {
            self.live_layout = Some(layout);
            self.live.clear();
            for &b in &self.addressable {
                for space in [Space::Io, Space::Memory] {
                    if let Some(m) = self.machine.space(space).mapping_of(b) {
                        self.live.push(LiveRegion {
                            space,
                            base: m.base,
                            size: m.size,
                            backing: b,
                        });
                    }
                }
            }
        }
        &self.live
    }

    /// Run a binary input: reset, prologue, ops. Findings are caught and returned.
    ///
    /// The state after reset and prologue is the same for every input, so the machine keeps a
    /// [checkpoint](Machine::checkpoint) of it and later inputs start by restoring that (only
    /// the devices the last input entered are loaded back); a finding, which rebuilds the
    /// machine, drops the checkpoint and the next input takes a new one.
    pub fn run_input(&mut self, input: &[u8]) -> Outcome {
        self.run_input_each(input, |_, _| {})
    }

    /// [`Runner::run_input`], calling `after(op index, machine)` after each op (to take an
    /// observer's log op by op). With an observer installed every input starts from a reset
    /// and runs the prologue, so its record is complete.
    pub fn run_input_each(
        &mut self,
        input: &[u8],
        mut after: impl FnMut(usize, &mut Machine),
    ) -> Outcome {
        self.machine.take_canaries();
        let restored = self.machine.observer_mut().is_none() && self.machine.restore();
        if !restored {
            self.machine.reset();
        }
        let mut index = 0usize;
        let _scope = CaptureScope::enter();
        let result = catch_unwind(AssertUnwindSafe(|| {
            if !restored {
                for cmd in &self.prologue {
                    exec(&mut self.machine, cmd).ok();
                }
                if self.machine.observer_mut().is_none() {
                    self.machine.checkpoint();
                }
            }
            for op in ops::decode(input) {
                self.machine.begin_op();
                self.exec_op(&op);
                self.machine.end_op();
                after(index, &mut self.machine);
                index += 1;
                if self.machine.stop_reason().is_some() {
                    break;
                }
            }
        }));
        self.finish(result, index)
    }

    /// Run a text trace on a cold machine (no prologue: the trace says everything), as
    /// `devfuzz replay` and the regression tests do.
    pub fn run_trace(&mut self, cmds: &[Cmd]) -> Result<Outcome, RunError> {
        self.run_trace_each(cmds, |_, _| {})
    }

    /// [`Runner::run_trace`], calling `after(command index, machine)` after each command.
    pub fn run_trace_each(
        &mut self,
        cmds: &[Cmd],
        mut after: impl FnMut(usize, &mut Machine),
    ) -> Result<Outcome, RunError> {
        self.machine.take_canaries();
        self.machine.reset();
        let mut index = 0usize;
        let _scope = CaptureScope::enter();
        let mut error = None;
        let result = catch_unwind(AssertUnwindSafe(|| {
            for cmd in cmds {
                if let Err(e) = self.exec_cmd(cmd) {
                    error = Some(e);
                    return;
                }
                after(index, &mut self.machine);
                index += 1;
                if self.machine.stop_reason().is_some() {
                    break;
                }
            }
        }));
        if let Some(e) = error {
            return Err(e);
        }
        Ok(self.finish(result, index))
    }

    fn finish(&mut self, result: std::thread::Result<()>, index: usize) -> Outcome {
        match result {
            Ok(()) => Outcome::Ok {
                ops: index,
                canaries: self.machine.take_canaries(),
            },
            Err(payload) => {
                let device = self
                    .machine
                    .innermost_engaged()
                    .map(|d| self.machine.device_name(d));
                let mut finding = finding_from_panic(payload, device, index);
                finding.canaries = self.machine.take_canaries();
                Outcome::Finding(Box::new(finding))
            }
        }
    }

    /// Execute one qtest command on the current machine state and return its reply.
    /// Findings propagate as panics (the caller catches).
    pub fn exec_cmd(&mut self, cmd: &Cmd) -> Result<Reply, RunError> {
        exec(&mut self.machine, cmd)
    }

    fn record(&mut self, cmd: Cmd) {
        if let Some(r) = &mut self.recording {
            r.push(cmd);
        }
    }

    /// Execute one op (the hot path: no allocation unless recording).
    fn exec_op(&mut self, op: &Op<'_>) {
        match *op {
            Op::Read {
                region,
                offset,
                size,
            }
            | Op::Write {
                region,
                offset,
                size,
                ..
            } => {
                let live = self.live_regions();
                if live.is_empty() {
                    return;
                }
                let r = live[usize::from(region) % live.len()];
                let addr = r.base + u64::from(offset) % r.size;
                let size = if r.space == Space::Io {
                    size.min(AccessSize::B4)
                } else {
                    size
                };
                let value = if let Op::Write { value, .. } = *op {
                    Some(value & size.mask())
                } else {
                    None
                };
                if self.recording.is_some() {
                    self.record(access_cmd(r.space, addr, size, value));
                }
                match value {
                    Some(v) => self.machine.write(r.space, addr, size, v),
                    None => {
                        self.machine.read(r.space, addr, size);
                    }
                }
            }
            Op::CfgRead {
                function,
                offset,
                size,
            }
            | Op::CfgWrite {
                function,
                offset,
                size,
                ..
            } => {
                if self.functions.is_empty() {
                    return;
                }
                let (_, bdf) = self.functions[usize::from(function) % self.functions.len()];
                let address = bdf.config_address(offset & 0xfc);
                let port = PCI_CONFIG_DATA_PORT + u64::from(offset & 3);
                self.record(access_cmd(
                    Space::Io,
                    PCI_CONFIG_ADDRESS_PORT,
                    AccessSize::B4,
                    Some(u64::from(address)),
                ));
                self.machine.write(
                    Space::Io,
                    PCI_CONFIG_ADDRESS_PORT,
                    AccessSize::B4,
                    u64::from(address),
                );
                let value = if let Op::CfgWrite { value, .. } = *op {
                    Some(u64::from(value) & size.mask())
                } else {
                    None
                };
                self.record(access_cmd(Space::Io, port, size, value));
                match value {
                    Some(v) => self.machine.write(Space::Io, port, size, v),
                    None => {
                        self.machine.read(Space::Io, port, size);
                    }
                }
            }
            Op::RamWrite { addr, data } => {
                let ram = self.machine.ram().size();
                if ram == 0 || data.is_empty() {
                    return;
                }
                let rel = u64::from(addr) % ram;
                let a = self.machine.ram().base() + rel;
                let n = data
                    .len()
                    .min(usize::try_from(ram - rel).unwrap_or(usize::MAX));
                if self.recording.is_some() {
                    self.record(Cmd::WriteBulk {
                        addr: a,
                        data: data[..n].to_vec(),
                        base64: false,
                    });
                }
                self.machine.write_bulk(a, &data[..n]);
            }
            Op::DmaPattern(p) => self.machine.add_dma_pattern(p),
            Op::DmaClear => self.machine.clear_dma_patterns(),
            Op::ClockStep(ns) => {
                let step = if ns == 0 { None } else { Some(u64::from(ns)) };
                self.record(Cmd::ClockStep(step));
                self.machine.clock_step(step);
            }
            Op::Event { device, payload } => {
                if self.event_devices.is_empty() {
                    return;
                }
                let id = self.event_devices[usize::from(device) % self.event_devices.len()];
                if self.recording.is_some() {
                    let name = self.machine.device_name(id).to_string();
                    self.record(Cmd::Event {
                        device: name,
                        payload: payload.to_vec(),
                    });
                }
                self.machine.event(id, payload);
            }
        }
    }

    /// Convert a binary input to a text trace that replays exactly on a cold machine: the
    /// prologue as explicit configuration writes, every lazy DMA fill as an explicit `write`
    /// before the op that consumed it. Also returns the input's outcome.
    pub fn input_to_trace(&mut self, input: &[u8]) -> (Vec<Cmd>, Outcome) {
        self.recording = Some(Vec::new());
        self.machine.record_fills(true);
        self.machine.take_canaries();
        self.machine.reset();
        let mut out: Vec<Cmd> = Vec::new();
        let mut index = 0usize;
        let _scope = CaptureScope::enter();
        let result = catch_unwind(AssertUnwindSafe(|| {
            for cmd in self.prologue.clone() {
                self.exec_cmd(&cmd).ok();
                out.push(cmd);
            }
            for op in ops::decode(input) {
                self.machine.begin_op();
                let r = catch_unwind(AssertUnwindSafe(|| self.exec_op(&op)));
                self.flush_recording(&mut out);
                if let Err(p) = r {
                    std::panic::resume_unwind(p);
                }
                self.machine.end_op();
                index += 1;
                if self.machine.stop_reason().is_some() {
                    break;
                }
            }
        }));
        let outcome = self.finish(result, index);
        self.recording = None;
        self.machine.record_fills(false);
        (out, outcome)
    }

    fn flush_recording(&mut self, out: &mut Vec<Cmd>) {
        for f in self.machine.take_fills() {
            out.push(Cmd::WriteBulk {
                addr: f.addr,
                data: f.data,
                base64: false,
            });
        }
        if let Some(r) = &mut self.recording {
            out.append(r);
        }
    }

    /// Convert a text trace to a binary input for this target. The trace runs after the
    /// target's prologue (as the binary will), and each access becomes a region-relative op
    /// against the regions live at that moment; RAM writes become RAM_WRITE ops.
    pub fn trace_to_input(&mut self, cmds: &[Cmd]) -> Result<Encoded, RunError> {
        self.machine.reset();
        for cmd in self.prologue.clone() {
            self.exec_cmd(&cmd)?;
        }
        let mut encoder = ops::Encoder::default();
        let mut dropped = Vec::new();
        // A trace printed by `input_to_trace` starts with the prologue; the binary reruns it.
        let skip = if cmds.starts_with(&self.prologue) {
            self.prologue.len()
        } else {
            0
        };
        for (i, cmd) in cmds.iter().enumerate().skip(skip) {
            let before = encoder.len();
            self.encode_cmd(cmd, &mut encoder)?;
            if encoder.len() == before && !matches!(cmd, Cmd::Endianness) {
                dropped.push((i, cmd.clone()));
            }
            let _scope = CaptureScope::enter();
            if catch_unwind(AssertUnwindSafe(|| self.exec_cmd(cmd))).is_err() {
                // The trace ends in a finding: everything up to it is encoded.
                self.machine.reset();
                break;
            }
        }
        Ok(Encoded {
            bytes: encoder.finish(),
            dropped,
        })
    }

    /// The READ or WRITE op that reaches `addr` through a live region, if one does.
    fn region_op(
        &mut self,
        space: Space,
        addr: u64,
        size: AccessSize,
        value: Option<u64>,
    ) -> Option<Op<'static>> {
        let live = self.live_regions();
        let (index, r) = live
            .iter()
            .enumerate()
            .find(|(_, r)| r.space == space && addr >= r.base && addr - r.base < r.size)?;
        let region = u8::try_from(index).ok()?;
        let offset = u32::try_from(addr - r.base).ok()?;
        Some(match value {
            Some(v) => Op::Write {
                region,
                offset,
                size,
                value: v,
            },
            None => Op::Read {
                region,
                offset,
                size,
            },
        })
    }

    fn push_region_op(
        &mut self,
        out: &mut ops::Encoder,
        space: Space,
        addr: u64,
        size: AccessSize,
        value: Option<u64>,
    ) -> Result<(), RunError> {
        if let Some(op) = self.region_op(space, addr, size, value) {
            out.push(&op)?;
        }
        Ok(())
    }

    fn encode_cmd(&mut self, cmd: &Cmd, out: &mut ops::Encoder) -> Result<(), RunError> {
        match cmd {
            Cmd::Out { size, port, value } => self.push_region_op(
                out,
                Space::Io,
                u64::from(*port),
                *size,
                Some(u64::from(*value)),
            )?,
            Cmd::In { size, port } => {
                self.push_region_op(out, Space::Io, u64::from(*port), *size, None)?
            }
            Cmd::Write { size, addr, value } => {
                match self.region_op(Space::Memory, *addr, *size, Some(*value)) {
                    // One access of the trace's width, as the text says: not split into pieces.
                    Some(op) => out.push(&op)?,
                    None => {
                        let bytes = value.to_le_bytes();
                        self.encode_bulk(
                            *addr,
                            Some(&bytes[..size.bytes() as usize]),
                            size.bytes() as usize,
                            out,
                        )?
                    }
                }
            }
            Cmd::Read { size, addr } => {
                self.push_region_op(out, Space::Memory, *addr, *size, None)?
            }
            Cmd::WriteBulk { addr, data, .. } => {
                self.encode_bulk(*addr, Some(data), data.len(), out)?
            }
            Cmd::Memset { addr, len, byte } => {
                let data = vec![*byte; usize::try_from(*len).unwrap_or(0)];
                self.encode_bulk(*addr, Some(&data), data.len(), out)?;
            }
            Cmd::ReadBulk { addr, len, .. } => {
                self.encode_bulk(*addr, None, usize::try_from(*len).unwrap_or(0), out)?
            }
            Cmd::ClockStep(None) => out.push(&Op::ClockStep(0))?,
            Cmd::ClockStep(Some(ns)) => push_clock(out, *ns)?,
            Cmd::ClockSet(t) => push_clock(out, t.saturating_sub(self.machine.now()))?,
            Cmd::Endianness => {}
            Cmd::Event { device, payload } => {
                let id = self
                    .machine
                    .device_by_name(device)
                    .ok_or_else(|| RunError::UnknownDevice(device.clone()))?;
                if let Some(i) = self.event_devices.iter().position(|d| *d == id) {
                    out.push(&Op::Event {
                        device: i as u8,
                        payload,
                    })?;
                }
            }
        }
        Ok(())
    }

    /// Encode a memory access of `len` bytes: RAM runs as RAM_WRITE ops (reads of RAM have no
    /// binary form), device regions as naturally aligned READ/WRITE ops of up to 8 bytes.
    fn encode_bulk(
        &mut self,
        addr: u64,
        data: Option<&[u8]>,
        len: usize,
        out: &mut ops::Encoder,
    ) -> Result<(), RunError> {
        let (ram_base, ram) = (self.machine.ram().base(), self.machine.ram().size());
        let mut off = 0usize;
        while off < len {
            let a = addr.wrapping_add(off as u64);
            let seg = self.machine.space_mut(Space::Memory).lookup(a);
            match seg {
                Some(s) if s.backing == Backing::Ram => {
                    let n = usize::try_from(s.last - a)
                        .unwrap_or(usize::MAX)
                        .saturating_add(1)
                        .min(len - off);
                    if let Some(d) = data {
                        for (k, chunk) in d[off..off + n].chunks(ops::MAX_OP_DATA).enumerate() {
                            let at = a + (k * ops::MAX_OP_DATA) as u64 - ram_base;
                            if let Ok(addr) = u32::try_from(at)
                                && at < ram
                            {
                                out.push(&Op::RamWrite { addr, data: chunk })?;
                            }
                        }
                    }
                    off += n;
                }
                _ => {
                    let room = seg.map_or(1, |s| (s.last - a).saturating_add(1));
                    let size = crate::access::piece_size(
                        a,
                        (len - off) as u64,
                        room,
                        seg.as_ref().map(|s| &s.rules),
                    );
                    let p = size.bytes() as usize;
                    let value = data.map(|d| {
                        let mut v = [0u8; 8];
                        v[..p].copy_from_slice(&d[off..off + p]);
                        u64::from_le_bytes(v)
                    });
                    self.push_region_op(out, Space::Memory, a, size, value)?;
                    off += p;
                }
            }
        }
        Ok(())
    }
}

/// Execute one qtest command on `machine` as one guest operation; the reply prints as QEMU's
/// line. Findings propagate as panics (the caller catches).
pub fn exec(machine: &mut Machine, cmd: &Cmd) -> Result<Reply, RunError> {
    machine.begin_op();
    let reply = match *cmd {
        Cmd::Out { size, port, value } => {
            machine.write(Space::Io, u64::from(port), size, u64::from(value));
            Reply::Ok
        }
        Cmd::In { size, port } => Reply::In(machine.read(Space::Io, u64::from(port), size)),
        Cmd::Write { size, addr, value } => {
            machine.write(Space::Memory, addr, size, value);
            Reply::Ok
        }
        Cmd::Read { size, addr } => Reply::Read(machine.read(Space::Memory, addr, size)),
        Cmd::WriteBulk { addr, ref data, .. } => {
            machine.write_bulk(addr, data);
            Reply::Ok
        }
        Cmd::ReadBulk { addr, len, base64 } => {
            let mut buf = vec![0u8; usize::try_from(len).unwrap_or(0)];
            machine.read_bulk(addr, &mut buf);
            Reply::Bulk { data: buf, base64 }
        }
        Cmd::Memset { addr, len, byte } => {
            machine.write_bulk(addr, &vec![byte; usize::try_from(len).unwrap_or(0)]);
            Reply::Ok
        }
        Cmd::ClockStep(ns) => Reply::Clock(machine.clock_step(ns)),
        Cmd::ClockSet(t) => {
            let now = machine.now();
            Reply::Clock(machine.clock_step(Some(t.saturating_sub(now))))
        }
        Cmd::Endianness => Reply::Little,
        Cmd::Event {
            ref device,
            ref payload,
        } => {
            let id = machine
                .device_by_name(device)
                .ok_or_else(|| RunError::UnknownDevice(device.clone()))?;
            machine.event(id, payload);
            Reply::Ok
        }
    };
    machine.end_op();
    Ok(reply)
}

fn push_clock(out: &mut ops::Encoder, mut ns: u64) -> Result<(), RunError> {
    if ns.div_ceil(u64::from(u32::MAX)) > MAX_CLOCK_OPS {
        return Err(RunError::ClockTooFar(ns));
    }
    while ns > 0 {
        let step = ns.min(u64::from(u32::MAX));
        out.push(&Op::ClockStep(step as u32))?;
        ns -= step;
    }
    Ok(())
}

/// The `pci_enum` prologue: for every PCI function, assign each BAR an address (I/O from
/// 0xC000, memory from 0xE0000000, each aligned to its size) and enable I/O, memory and bus
/// mastering — as explicit 0xCF8/0xCFC writes, so it prints as text.
fn pci_enum(machine: &Machine) -> Vec<Cmd> {
    let mut cmds = Vec::new();
    let mut io_next = PROLOGUE_IO_BASE;
    let mut mem_next = PROLOGUE_MEM_BASE;
    let cfg_write =
        |cmds: &mut Vec<Cmd>, bdf: pci::Bdf, offset: u8, size: AccessSize, value: u32| {
            cmds.push(Cmd::Out {
                size: AccessSize::B4,
                port: PCI_CONFIG_ADDRESS_PORT as u16,
                value: bdf.config_address(offset & 0xfc),
            });
            cmds.push(Cmd::Out {
                size,
                port: (PCI_CONFIG_DATA_PORT + u64::from(offset & 3)) as u16,
                value,
            });
        };
    for (bdf, dev) in machine.pci_functions() {
        let Some(cfg) = machine.device(dev).and_then(|d| d.pci()) else {
            continue;
        };
        let mut command = 0u16;
        for (slot, def) in cfg.bar_defs().iter().enumerate().take(BAR_COUNT) {
            let Some(def) = def else { continue };
            let offset = pci::BAR0 + 4 * slot as u8;
            let next = if def.kind == BarKind::Io {
                &mut io_next
            } else {
                &mut mem_next
            };
            let base = next.div_ceil(def.size) * def.size;
            *next = base + def.size;
            cfg_write(&mut cmds, bdf, offset, AccessSize::B4, base as u32);
            if let BarKind::Memory64 { .. } = def.kind {
                cfg_write(
                    &mut cmds,
                    bdf,
                    offset + 4,
                    AccessSize::B4,
                    (base >> 32) as u32,
                );
            }
            command |= if def.kind == BarKind::Io {
                pci::COMMAND_IO
            } else {
                pci::COMMAND_MEMORY
            };
        }
        command |= pci::COMMAND_IO | pci::COMMAND_MEMORY | pci::COMMAND_MASTER;
        cfg_write(
            &mut cmds,
            bdf,
            pci::COMMAND,
            AccessSize::B2,
            u32::from(command | cfg.command()),
        );
    }
    cmds
}
