//! Check programs: qtest text whose reads carry the answers they expect, and the scoring of a
//! run against them.
//!
//! A check program is a qtest trace in which a read may end in `=> VALUE` or
//! `=> VALUE/MASK` (only the bits in MASK are compared), a bulk `read` in `=> 0xBYTES`
//! (optionally `/0xMASKBYTES`), and any command may end in a `# note` (records and imports
//! put the register there: `readl 0xfebc0008 => 0x80283  # widget-mmio+0x8`). Comment lines
//! `# phase: NAME` start a phase (`# phase: NAME unscored` one that runs but is not scored),
//! and `# machine: PROFILE[,OPTS]` names the machine. An access record (`--record`) is a
//! check program, so any run checks itself when replayed.
//!
//! Scoring is the same whoever answers: this machine ([`crate::runner::Runner`] through
//! [`LocalServer`]) or any qtest server (QEMU) through [`QtestServer`].

use crate::access::{AccessSize, Space};
use crate::outcome::Finding;
use crate::qtest::{self, Cmd, ParseError, TraceError};
use crate::runner::{Runner, Step};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// What a read is expected to answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expect {
    /// A register read: compare `got & mask` with `value & mask`.
    Value {
        /// Expected value.
        value: u64,
        /// Bits that matter.
        mask: u64,
    },
    /// A bulk read: compare bytes under a byte mask.
    Bytes {
        /// Expected bytes.
        data: Vec<u8>,
        /// Bits that matter, per byte (all ones when not given).
        mask: Vec<u8>,
    },
}

/// What a read answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Got {
    /// A register or port value.
    Value(u64),
    /// Bulk bytes.
    Bytes(Vec<u8>),
}

impl Expect {
    /// Whether `got` satisfies this expectation.
    pub fn matches(&self, got: &Got) -> bool {
        match (self, got) {
            (Expect::Value { value, mask }, Got::Value(g)) => g & mask == value & mask,
            (Expect::Bytes { data, mask }, Got::Bytes(g)) => {
                g.len() == data.len()
                    && g.iter()
                        .zip(data)
                        .zip(mask)
                        .all(|((g, e), m)| g & m == e & m)
            }
            _ => false,
        }
    }
}

impl std::fmt::Display for Expect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // A mask of the whole access width is no mask.
            Expect::Value { value, mask }
                if [0xff, 0xffff, 0xffff_ffff, u64::MAX].contains(mask) && value & !mask == 0 =>
            {
                write!(f, "{value:#x}")
            }
            Expect::Value { value, mask } => write!(f, "{value:#x}/{mask:#x}"),
            Expect::Bytes { data, mask } if mask.iter().all(|&m| m == 0xff) => {
                write!(f, "0x{}", qtest::hex(data))
            }
            Expect::Bytes { data, mask } => {
                write!(f, "0x{}/0x{}", qtest::hex(data), qtest::hex(mask))
            }
        }
    }
}

impl std::fmt::Display for Got {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Got::Value(v) => write!(f, "{v:#x}"),
            Got::Bytes(b) => write!(f, "0x{}", qtest::hex(b)),
        }
    }
}

/// One command of a check program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// 1-based line number in the file.
    pub number: usize,
    /// The command.
    pub cmd: Cmd,
    /// What a read expects, if anything.
    pub expect: Option<Expect>,
    /// The `# note` after the command (a register name), if any.
    pub note: Option<String>,
    /// Index into [`Program::phases`].
    pub phase: usize,
}

/// A phase of a program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Phase {
    /// Its name (`main` before the first `# phase:` line).
    pub name: String,
    /// Whether its reads count in the score.
    pub scored: bool,
}

/// A parsed check program.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Program {
    /// Commands in order.
    pub lines: Vec<Line>,
    /// Phases in order of appearance.
    pub phases: Vec<Phase>,
    /// `# machine:` header, if present.
    pub machine: Option<String>,
}

impl Program {
    /// The commands alone (what replay and minimisation use).
    pub fn commands(&self) -> Vec<Cmd> {
        self.lines.iter().map(|l| l.cmd.clone()).collect()
    }

    /// Reads that carry an expectation.
    pub fn checked_reads(&self) -> usize {
        self.lines.iter().filter(|l| l.expect.is_some()).count()
    }
}

/// Split a program line into its command text, its expectation text and its note.
fn split_line(line: &str) -> (&str, Option<&str>, Option<&str>) {
    let (body, note) = match line.find(" #").or_else(|| line.find("\t#")) {
        Some(i) => (&line[..i], Some(line[i + 2..].trim())),
        None => (line, None),
    };
    match body.find("=>") {
        Some(i) => (body[..i].trim(), Some(body[i + 2..].trim()), note),
        None => (body.trim(), None, note),
    }
}

fn bad(msg: String) -> ParseError {
    ParseError::Bad(msg)
}

/// Parse `VALUE[/MASK]` for a read of `size` (values are masked to the width).
fn parse_value_expect(text: &str, size: AccessSize) -> Result<Expect, ParseError> {
    let (v, m) = match text.split_once('/') {
        Some((v, m)) => (v, Some(m)),
        None => (text, None),
    };
    let value = qtest::parse_number(v.trim())
        .ok_or_else(|| bad(format!("bad expected value '{}'", v.trim())))?;
    let mask = match m {
        Some(m) => {
            qtest::parse_number(m.trim()).ok_or_else(|| bad(format!("bad mask '{}'", m.trim())))?
        }
        None => u64::MAX,
    };
    if value & !size.mask() != 0 {
        return Err(bad(format!(
            "expected value {value:#x} is wider than the {}-byte read",
            size.bytes()
        )));
    }
    Ok(Expect::Value {
        value,
        mask: mask & size.mask(),
    })
}

fn parse_hex_exact(text: &str, what: &str) -> Result<Vec<u8>, ParseError> {
    let h = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .ok_or_else(|| bad(format!("{what} must start with 0x")))?;
    if h.len() % 2 != 0 || !h.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(bad(format!("bad hex {what} '{text}'")));
    }
    Ok((0..h.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap_or(0))
        .collect())
}

fn parse_bytes_expect(text: &str, len: u64) -> Result<Expect, ParseError> {
    let (d, m) = match text.split_once('/') {
        Some((d, m)) => (d.trim(), Some(m.trim())),
        None => (text, None),
    };
    let data = parse_hex_exact(d, "expected bytes")?;
    if data.len() as u64 != len {
        return Err(bad(format!(
            "expected {} bytes, the read is {len}",
            data.len()
        )));
    }
    let mask = match m {
        Some(m) => {
            let mask = parse_hex_exact(m, "mask")?;
            if mask.len() != data.len() {
                return Err(bad("mask and expected bytes differ in length".into()));
            }
            mask
        }
        None => vec![0xff; data.len()],
    };
    Ok(Expect::Bytes { data, mask })
}

/// A program line: the command, what it expects, its note.
pub type ProgramLine = (Cmd, Option<Expect>, Option<String>);

/// Parse one program line: `Ok(None)` for blank and comment lines.
pub fn parse_program_line(line: &str) -> Result<Option<ProgramLine>, ParseError> {
    let trimmed = line.trim();
    if trimmed.is_empty() || trimmed.starts_with('#') {
        return Ok(None);
    }
    let (body, expect, note) = split_line(trimmed);
    let Some(cmd) = qtest::parse_line(body)? else {
        return Err(bad("'=>' without a command".into()));
    };
    let expect = match expect {
        None => None,
        Some(text) => Some(match &cmd {
            Cmd::In { size, .. } | Cmd::Read { size, .. } => parse_value_expect(text, *size)?,
            Cmd::ReadBulk { len, .. } => parse_bytes_expect(text, *len)?,
            other => {
                return Err(bad(format!(
                    "'=>' on '{other}': only reads carry expected values"
                )));
            }
        }),
    };
    Ok(Some((cmd, expect, note.map(str::to_string))))
}

/// Parse a whole check program; the first bad line is an error naming its number.
pub fn parse_program(text: &str) -> Result<Program, TraceError> {
    let mut p = Program {
        phases: vec![Phase {
            name: "main".into(),
            scored: true,
        }],
        ..Program::default()
    };
    let mut phase = 0usize;
    let mut started = false;
    for (i, raw) in text.lines().enumerate() {
        let t = raw.trim();
        if let Some(rest) = t.strip_prefix('#') {
            let rest = rest.trim();
            if let Some(name) = rest.strip_prefix("phase:") {
                let mut words = name.split_whitespace();
                let Some(n) = words.next() else {
                    return Err(TraceError {
                        line: i + 1,
                        error: bad("'# phase:' needs a name".into()),
                    });
                };
                let scored = match words.next() {
                    None => true,
                    Some("unscored") => false,
                    Some(w) => {
                        return Err(TraceError {
                            line: i + 1,
                            error: bad(format!("phase '{n}': unexpected '{w}' (only 'unscored')")),
                        });
                    }
                };
                let ph = Phase {
                    name: n.to_string(),
                    scored,
                };
                if !started && phase == 0 {
                    p.phases[0] = ph;
                } else {
                    p.phases.push(ph);
                    phase = p.phases.len() - 1;
                }
                started = true;
            } else if let Some(m) = rest.strip_prefix("machine:")
                && p.machine.is_none()
            {
                p.machine = Some(m.trim().to_string());
            }
            continue;
        }
        match parse_program_line(raw) {
            Ok(None) => {}
            Ok(Some((cmd, expect, note))) => {
                started = true;
                p.lines.push(Line {
                    number: i + 1,
                    cmd,
                    expect,
                    note,
                    phase,
                });
            }
            Err(error) => return Err(TraceError { line: i + 1, error }),
        }
    }
    Ok(p)
}

/// Read the value out of a qtest reply line for `cmd` (`OK 0x0055`, `OK 0x1122` for a bulk
/// read, base64 for `b64read`). `None` for commands that answer no value.
pub fn reply_value(cmd: &Cmd, reply: &str) -> Result<Option<Got>, String> {
    let rest = || {
        reply
            .strip_prefix("OK ")
            .map(str::trim)
            .ok_or_else(|| format!("answer '{}'", clip(reply)))
    };
    match cmd {
        Cmd::In { .. } | Cmd::Read { .. } => {
            let v = rest()?;
            qtest::parse_number(v)
                .map(|v| Some(Got::Value(v)))
                .ok_or_else(|| format!("answer '{}' is no value", clip(reply)))
        }
        Cmd::ReadBulk { base64: false, .. } => {
            let v = rest()?;
            parse_hex_exact(v, "reply")
                .map(|b| Some(Got::Bytes(b)))
                .map_err(|e| e.to_string())
        }
        Cmd::ReadBulk { base64: true, .. } => {
            use base64::Engine as _;
            let v = rest()?;
            base64::engine::general_purpose::STANDARD
                .decode(v)
                .map(|b| Some(Got::Bytes(b)))
                .map_err(|e| format!("bad base64 answer: {e}"))
        }
        _ => {
            if reply == "OK" || reply.starts_with("OK ") {
                Ok(None)
            } else {
                Err(format!("answer '{}'", clip(reply)))
            }
        }
    }
}

/// At most 120 characters of a line, for messages.
pub fn clip(s: &str) -> String {
    if s.len() <= 120 {
        s.to_string()
    } else {
        let mut end = 120;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}...", &s[..end])
    }
}

/// Why a qtest server could not answer.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The command hit a bug in a model (this machine only).
    #[error("finding {}", .0.signature())]
    Finding(Box<Finding>),
    /// The server is gone, silent or speaking nonsense.
    #[error("{0}")]
    Failed(String),
}

/// Anything that answers qtest commands with QEMU's reply lines.
pub trait QtestServer {
    /// Send one command and return its reply line (`OK ...`, `ERR ...`, `FAIL ...`).
    fn send(&mut self, cmd: &Cmd) -> Result<String, ServerError>;

    /// The register `cmd` would touch now, for per-register tables (`None`: not known).
    fn register(&mut self, _cmd: &Cmd) -> Option<String> {
        None
    }

    /// Whether `cmd` is a guest access that runs past the end of the region it starts in
    /// (see [`crate::machine::Machine::crosses_segment`]); `false` when not known.
    fn crosses_segment(&mut self, _cmd: &Cmd) -> bool {
        false
    }

    /// How many system resets the guest has requested so far (0 when not known).
    fn guest_resets(&mut self) -> u64 {
        0
    }

    /// Whether a device timer is pending: work the machine finishes only when virtual time
    /// moves on (`false` when not known).
    fn timers_pending(&mut self) -> bool {
        false
    }

    /// The device `cmd` would reach now, for [`Report::choices`] (`None`: not known, or no
    /// device).
    fn device(&mut self, _cmd: &Cmd) -> Option<&'static str> {
        None
    }

    /// The choices where QEMU differs that devices noted since the last call (device, choice;
    /// see [`crate::device::Context::note_choice`]), leaving none. Empty when not known (no
    /// observer installed).
    fn take_choices(&mut self) -> Vec<(&'static str, &'static str)> {
        Vec::new()
    }
}

/// This machine as a qtest server.
pub struct LocalServer<'r> {
    runner: &'r mut Runner,
}

impl<'r> LocalServer<'r> {
    /// Serve commands on `runner`'s machine as it is now (call
    /// [`Runner::reset_cold`] first for a cold start).
    pub fn new(runner: &'r mut Runner) -> Self {
        Self { runner }
    }

    /// The machine behind it.
    pub fn machine(&mut self) -> &mut crate::machine::Machine {
        self.runner.machine()
    }
}

impl QtestServer for LocalServer<'_> {
    fn send(&mut self, cmd: &Cmd) -> Result<String, ServerError> {
        match self.runner.step(cmd) {
            Step::Reply(r) => Ok(r),
            Step::Error(e) => Ok(format!("ERR {e}")),
            Step::Finding(f) => Err(ServerError::Finding(f)),
        }
    }

    fn register(&mut self, cmd: &Cmd) -> Option<String> {
        let (space, addr, size) = match *cmd {
            Cmd::In { size, port } | Cmd::Out { size, port, .. } => {
                (Space::Io, u64::from(port), size)
            }
            Cmd::Read { size, addr } | Cmd::Write { size, addr, .. } => (Space::Memory, addr, size),
            _ => return None,
        };
        let place = self.runner.machine().describe(space, addr);
        place.register().map(|r| format!("{r}/{}", size.bytes()))
    }

    fn guest_resets(&mut self) -> u64 {
        self.runner.machine().guest_resets()
    }

    fn timers_pending(&mut self) -> bool {
        self.runner.machine().clock().next_deadline().is_some()
    }

    fn device(&mut self, cmd: &Cmd) -> Option<&'static str> {
        let (space, addr) = match *cmd {
            Cmd::In { port, .. } | Cmd::Out { port, .. } => (Space::Io, u64::from(port)),
            Cmd::Read { addr, .. } | Cmd::Write { addr, .. } => (Space::Memory, addr),
            _ => return None,
        };
        match self.runner.machine().describe(space, addr) {
            crate::observe::Place::Device { device, .. } => Some(device),
            crate::observe::Place::Config { device, .. } => device,
            _ => None,
        }
    }

    fn take_choices(&mut self) -> Vec<(&'static str, &'static str)> {
        self.runner
            .machine()
            .observer_mut()
            .map(crate::observe::Observer::take_choices)
            .unwrap_or_default()
    }

    fn crosses_segment(&mut self, cmd: &Cmd) -> bool {
        let (space, addr, size) = match *cmd {
            Cmd::In { size, port } | Cmd::Out { size, port, .. } => {
                (Space::Io, u64::from(port), size)
            }
            Cmd::Read { size, addr } | Cmd::Write { size, addr, .. } => (Space::Memory, addr, size),
            _ => return false,
        };
        self.runner
            .machine()
            .crosses_segment(space, addr, size.bytes())
    }
}

/// The register key of a read: its note (plus width) when the program has one, else what
/// the server says, else the address.
fn register_key(server: &mut dyn QtestServer, line: &Line) -> String {
    let width = match line.cmd {
        Cmd::In { size, .. } | Cmd::Read { size, .. } => size.bytes(),
        Cmd::ReadBulk { len, .. } => len,
        _ => 0,
    };
    if let Some(note) = &line.note {
        let reg = note.split_whitespace().take(2).collect::<Vec<_>>();
        let reg = if reg.first() == Some(&"cfg") {
            reg.join(" ")
        } else {
            reg.first().map_or(String::new(), |s| s.to_string())
        };
        if !reg.is_empty() && reg != "ram" && reg != "unassigned" {
            return format!("{reg}/{width}");
        }
    }
    if let Some(r) = server.register(&line.cmd) {
        return r;
    }
    match line.cmd {
        Cmd::In { port, .. } => format!("io {port:#x}/{width}"),
        Cmd::Read { addr, .. } | Cmd::ReadBulk { addr, .. } => format!("mem {addr:#x}/{width}"),
        _ => String::new(),
    }
}

/// One read that answered differently.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// Line number in the program.
    pub line: usize,
    /// The command.
    pub cmd: String,
    /// What the program expected.
    pub expected: String,
    /// What the server answered.
    pub got: String,
    /// The register.
    pub register: String,
    /// The device of ours it reached, where known ([`QtestServer::device`]).
    pub device: Option<&'static str>,
    /// The commands before it (line number, text), oldest first.
    pub context: Vec<(usize, String)>,
}

/// Counts for one register.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RegisterScore {
    /// Checked reads.
    pub reads: usize,
    /// Of which matched.
    pub matched: usize,
    /// First mismatching line.
    pub first_mismatch: Option<usize>,
}

/// Counts for one phase.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhaseScore {
    /// The phase.
    pub phase: Phase,
    /// Checked reads.
    pub reads: usize,
    /// Of which matched.
    pub matched: usize,
}

/// The result of checking a program.
#[derive(Debug, Default)]
pub struct Report {
    /// Per phase, in order.
    pub phases: Vec<PhaseScore>,
    /// Every mismatch in a scored phase, in order.
    pub mismatches: Vec<Mismatch>,
    /// Per register (scored phases only).
    pub registers: BTreeMap<String, RegisterScore>,
    /// Commands sent.
    pub commands: usize,
    /// Why the run stopped before the end, with the line: a finding, a server failure, or a
    /// command the server refused.
    pub stopped: Option<(usize, String)>,
    /// Commands the server answered `ERR`/`FAIL` (line, reply); the run goes on.
    pub refused: Vec<(usize, String)>,
    /// [`lockstep`] only: the first access that ran past the end of the region it starts in
    /// on our side (line, register key, whether it wrote). This bus splits it where QEMU does
    /// not (and a read may have side effects: QEMU's i8042 pops two bytes for `inw 0x60`), so
    /// later differences may be its consequence.
    pub crossing_access: Option<(usize, String, bool)>,
    /// [`lockstep`] only: the first command after which our machine had gone through a
    /// system reset the guest requested (line). What a reset keeps differs from QEMU's in
    /// written-down ways, so later differences are keyed `after-reset:REGISTER`.
    pub reset_at: Option<usize>,
    /// [`lockstep`] only: the lines of mismatches read while a device timer of ours was
    /// pending. QEMU's clock stands still under `-S` while its I/O completes in wall-clock
    /// time, so such a difference may be timing (keyed `timer-pending:REGISTER` by
    /// `diff-corpus`).
    pub timer_pending_mismatches: Vec<usize>,
    /// [`lockstep`] only: the choices where QEMU differs that our devices noted
    /// ([`crate::device::Context::note_choice`]), with the line of the command during which
    /// each was noted: (line, device, choice). A mismatch of that device on that line or later
    /// may be the choice's doing (`diff-corpus` keys it `choice:NAME:REGISTER`).
    pub choices: Vec<(usize, &'static str, &'static str)>,
}

impl Report {
    /// An empty report with `program`'s phases.
    fn for_program(program: &Program) -> Self {
        Report {
            phases: program
                .phases
                .iter()
                .map(|p| PhaseScore {
                    phase: p.clone(),
                    reads: 0,
                    matched: 0,
                })
                .collect(),
            ..Report::default()
        }
    }

    /// Count one compared read (or answer) of a scored phase under `register`, keeping the
    /// mismatch with the commands before it.
    #[allow(clippy::too_many_arguments)]
    fn tally(
        &mut self,
        line: &Line,
        register: String,
        device: Option<&'static str>,
        ok: bool,
        expected: String,
        got: String,
        recent: &std::collections::VecDeque<(usize, String)>,
    ) {
        let r = self.registers.entry(register.clone()).or_default();
        r.reads += 1;
        r.matched += usize::from(ok);
        if !ok {
            r.first_mismatch.get_or_insert(line.number);
            self.mismatches.push(Mismatch {
                line: line.number,
                cmd: line.cmd.to_string(),
                expected,
                got,
                register,
                device,
                context: recent.iter().cloned().collect(),
            });
        }
    }

    /// The first choice where QEMU differs that `m`'s device noted during `m`'s command or
    /// before it ([`Report::choices`]): what `diff-corpus` marks its key with.
    pub fn choice_before(&self, m: &Mismatch) -> Option<&'static str> {
        let device = m.device?;
        self.choices
            .iter()
            .find(|&&(line, d, _)| line <= m.line && d == device)
            .map(|&(_, _, choice)| choice)
    }

    /// Checked reads in scored phases.
    pub fn reads(&self) -> usize {
        self.phases
            .iter()
            .filter(|p| p.phase.scored)
            .map(|p| p.reads)
            .sum()
    }

    /// Of which matched.
    pub fn matched(&self) -> usize {
        self.phases
            .iter()
            .filter(|p| p.phase.scored)
            .map(|p| p.matched)
            .sum()
    }

    /// Share of scored reads that matched, in percent (100 when nothing was checked).
    pub fn score(&self) -> f64 {
        match self.reads() {
            0 => 100.0,
            n => 100.0 * self.matched() as f64 / n as f64,
        }
    }

    /// Whether every scored read matched and the program ran to its end.
    pub fn clean(&self) -> bool {
        self.mismatches.is_empty() && self.stopped.is_none()
    }

    /// The report as text: per-phase scores, the first divergence with context, and the
    /// per-register table (mismatching registers first, at most `max_registers` rows).
    pub fn render(&self, max_registers: usize) -> String {
        let mut s = String::new();
        for p in &self.phases {
            let _ = writeln!(
                s,
                "phase {:<16} {:>7} of {:>7} reads match ({:.2}%){}",
                p.phase.name,
                p.matched,
                p.reads,
                if p.reads == 0 {
                    100.0
                } else {
                    100.0 * p.matched as f64 / p.reads as f64
                },
                if p.phase.scored { "" } else { "  (unscored)" }
            );
        }
        if let Some(m) = self.mismatches.first() {
            let _ = writeln!(s, "first divergence at line {}: {}", m.line, m.cmd);
            let _ = writeln!(
                s,
                "  expected {}, got {}  ({})",
                m.expected, m.got, m.register
            );
            if !m.context.is_empty() {
                let _ = writeln!(s, "  after:");
                for (n, c) in &m.context {
                    let _ = writeln!(s, "    {n:>6}  {c}");
                }
            }
        }
        if let Some((line, why)) = &self.stopped {
            let _ = writeln!(s, "stopped at line {line}: {why}");
        }
        if !self.refused.is_empty() {
            let _ = writeln!(
                s,
                "{} command(s) refused by the server, first at line {}: {}",
                self.refused.len(),
                self.refused[0].0,
                self.refused[0].1
            );
        }
        let mut regs: Vec<(&String, &RegisterScore)> = self.registers.iter().collect();
        regs.sort_by_key(|(k, r)| {
            (
                std::cmp::Reverse(r.reads - r.matched),
                std::cmp::Reverse(r.reads),
                (*k).clone(),
            )
        });
        if !regs.is_empty() {
            let _ = writeln!(
                s,
                "{:<32} {:>7} {:>7} {:>8}  first mismatch",
                "register", "reads", "match", "mismatch"
            );
            for (k, r) in regs.iter().take(max_registers) {
                let _ = writeln!(
                    s,
                    "{:<32} {:>7} {:>7} {:>8}  {}",
                    k,
                    r.reads,
                    r.matched,
                    r.reads - r.matched,
                    r.first_mismatch
                        .map_or(String::new(), |l| format!("line {l}"))
                );
            }
            if regs.len() > max_registers {
                let _ = writeln!(s, "({} more registers)", regs.len() - max_registers);
            }
        }
        let _ = writeln!(
            s,
            "score: {:.2}% ({} of {} checked reads match; {} commands)",
            self.score(),
            self.matched(),
            self.reads(),
            self.commands
        );
        s
    }
}

/// What [`lockstep`] appends to the register key of a read that runs past the end of the
/// region it starts in (`i8042-cmd+0x0/2 past-end`).
pub const PAST_END: &str = "past-end";

/// What `diff-corpus` puts before the register of a difference that follows a system reset
/// the guest requested (`after-reset:i8042-data+0x0/1`).
pub const AFTER_RESET: &str = "after-reset:";

/// What `diff-corpus` puts before the register of a first difference read while a device
/// timer of ours was pending (`timer-pending:ide0-ctl+0x0/1`).
pub const TIMER_PENDING: &str = "timer-pending:";

/// What `diff-corpus` puts before the register of a difference read from a device after it
/// noted a choice where QEMU differs (`choice:wel-cleared-after-write:aspeed.smc.flash+0x0/1`).
pub const CHOICE: &str = "choice:";

/// How many commands before a divergence a report shows.
pub const CONTEXT_LINES: usize = 4;

/// Run `program` on `server` and score every read that carries an expectation.
pub fn check(program: &Program, server: &mut dyn QtestServer) -> Report {
    let mut report = Report::for_program(program);
    let mut recent: std::collections::VecDeque<(usize, String)> = Default::default();
    for line in &program.lines {
        let key = line
            .expect
            .as_ref()
            .map(|_| register_key(server, line))
            .unwrap_or_default();
        let reply = match server.send(&line.cmd) {
            Ok(r) => r,
            Err(e) => {
                report.stopped = Some((line.number, e.to_string()));
                break;
            }
        };
        report.commands += 1;
        if reply.starts_with("ERR") || reply.starts_with("FAIL") {
            report.refused.push((line.number, clip(&reply)));
        }
        if let Some(expect) = &line.expect {
            let got = reply_value(&line.cmd, &reply);
            let scored = program.phases[line.phase].scored;
            let ok = matches!(&got, Ok(Some(g)) if expect.matches(g));
            let ps = &mut report.phases[line.phase];
            ps.reads += 1;
            ps.matched += usize::from(ok);
            if scored {
                let got = match got {
                    Ok(Some(g)) => g.to_string(),
                    Ok(None) => "no value".to_string(),
                    Err(e) => e,
                };
                report.tally(line, key, None, ok, expect.to_string(), got, &recent);
            }
        }
        if recent.len() == CONTEXT_LINES {
            recent.pop_front();
        }
        recent.push_back((line.number, line.cmd.to_string()));
    }
    report
}

/// Run `program` on two servers in lockstep, one command each in turn, and score ours
/// against the reference: every read is compared (expectations in the program are ignored);
/// a command the reference refuses runs on neither side (and is listed in
/// [`Report::refused`]);
/// and any other command whose answers differ (`OK` against `ERR`) counts as a mismatch of
/// register `(answer)`. Also returns the reference's value for each line (for writing check
/// programs from its answers).
pub fn lockstep(
    program: &Program,
    ours: &mut dyn QtestServer,
    reference: &mut dyn QtestServer,
) -> (Report, Vec<Option<Got>>) {
    let mut report = Report::for_program(program);
    let mut values = Vec::with_capacity(program.lines.len());
    let mut recent: std::collections::VecDeque<(usize, String)> = Default::default();
    for line in &program.lines {
        let is_read = matches!(
            line.cmd,
            Cmd::In { .. } | Cmd::Read { .. } | Cmd::ReadBulk { .. }
        );
        let crosses = ours.crosses_segment(&line.cmd);
        let device = if is_read {
            ours.device(&line.cmd)
        } else {
            None
        };
        let key = if is_read {
            let key = register_key(ours, line);
            if crosses {
                format!("{key} {PAST_END}")
            } else {
                key
            }
        } else {
            "(answer)".to_string()
        };
        if crosses && report.crossing_access.is_none() {
            let at = ours
                .register(&line.cmd)
                .unwrap_or_else(|| line.cmd.to_string());
            report.crossing_access = Some((line.number, at, !is_read));
        }
        let theirs = match reference.send(&line.cmd) {
            Ok(r) => r,
            Err(e) => {
                report.stopped = Some((line.number, format!("reference: {e}")));
                break;
            }
        };
        if theirs.starts_with("FAIL") || theirs.starts_with("ERR") {
            // The reference cannot run this command (QEMU without the qtest accelerator has
            // no `clock_step`, and no `event` at all). It runs on neither side, so both stay
            // in step: not a divergence of the model, and listed apart.
            report
                .refused
                .push((line.number, format!("reference: {}", clip(&theirs))));
            values.push(None);
            continue;
        }
        let resets = ours.guest_resets();
        let pending = ours.timers_pending();
        let mine = match ours.send(&line.cmd) {
            Ok(r) => r,
            Err(e) => {
                report.stopped = Some((line.number, format!("devfuzz: {e}")));
                break;
            }
        };
        if report.reset_at.is_none() && ours.guest_resets() != resets {
            report.reset_at = Some(line.number);
        }
        for (dev, choice) in ours.take_choices() {
            report.choices.push((line.number, dev, choice));
        }
        report.commands += 1;
        let reference_value = reply_value(&line.cmd, &theirs).ok().flatten();
        let (ok, expected, got) = if is_read {
            let a = reply_value(&line.cmd, &mine);
            let ok = matches!((&a, &reference_value), (Ok(Some(x)), Some(y)) if x == y);
            let show = |r: Result<Option<Got>, String>| match r {
                Ok(Some(g)) => g.to_string(),
                Ok(None) => "no value".to_string(),
                Err(e) => e,
            };
            (ok, show(reply_value(&line.cmd, &theirs)), show(a))
        } else {
            (mine == theirs, clip(&theirs), clip(&mine))
        };
        values.push(reference_value);
        let scored = program.phases[line.phase].scored;
        if is_read {
            let ps = &mut report.phases[line.phase];
            ps.reads += 1;
            ps.matched += usize::from(ok);
        }
        if scored && (is_read || !ok) {
            report.tally(line, key, device, ok, expected, got, &recent);
            if !ok && pending {
                report.timer_pending_mismatches.push(line.number);
            }
        }
        if recent.len() == CONTEXT_LINES {
            recent.pop_front();
        }
        recent.push_back((line.number, line.cmd.to_string()));
    }
    (report, values)
}

/// Write `program` as a check program whose reads expect `values` (one per line, `None`
/// for lines without one), with each line's note.
pub fn render_program(program: &Program, values: &[Option<Got>]) -> String {
    let mut s = String::new();
    let mut phase = usize::MAX;
    for (i, line) in program.lines.iter().enumerate() {
        if line.phase != phase && program.phases.len() > 1 {
            phase = line.phase;
            let p = &program.phases[phase];
            let _ = writeln!(
                s,
                "# phase: {}{}",
                p.name,
                if p.scored { "" } else { " unscored" }
            );
        }
        let _ = write!(s, "{}", line.cmd);
        if let Some(Some(v)) = values.get(i) {
            let _ = write!(s, " => {v}");
        }
        if let Some(n) = &line.note {
            let _ = write!(s, "  # {n}");
        }
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expectations_parse_with_masks_and_notes() {
        let p = parse_program(
            "# machine: pc\n# phase: setup unscored\noutb 0x64 0xaa\n# phase: probe\ninb 0x60 => 0x55  # widget-data+0x0\nreadl 0x1000 => 0x80/0xf0\nread 0x10 2 => 0x1122/0xff00\n",
        )
        .unwrap();
        assert_eq!(p.machine.as_deref(), Some("pc"));
        assert_eq!(p.phases.len(), 2);
        assert!(!p.phases[0].scored && p.phases[1].scored);
        assert_eq!(p.lines[0].phase, 0);
        assert_eq!(p.lines[1].phase, 1);
        assert_eq!(
            p.lines[1].expect,
            Some(Expect::Value {
                value: 0x55,
                mask: 0xff
            })
        );
        assert_eq!(p.lines[1].note.as_deref(), Some("widget-data+0x0"));
        assert_eq!(
            p.lines[2].expect,
            Some(Expect::Value {
                value: 0x80,
                mask: 0xf0
            })
        );
        let e = p.lines[3].expect.as_ref().unwrap();
        assert!(e.matches(&Got::Bytes(vec![0x11, 0x99])));
        assert!(!e.matches(&Got::Bytes(vec![0x12, 0x22])));
    }

    #[test]
    fn bad_expectations_name_their_line() {
        for (text, needle) in [
            ("outb 0x64 0xaa => 0x1\n", "only reads"),
            ("inb 0x60 => 0x155\n", "wider"),
            ("inb 0x60 => zz\n", "bad expected value"),
            ("read 0 2 => 0x11\n", "expected 1 bytes"),
            ("read 0 2 => 0x112\n", "bad hex"),
            ("=> 0x1\n", "without a command"),
            ("# phase:\n", "needs a name"),
            ("# phase: a b\n", "unexpected"),
        ] {
            let e = parse_program(text).unwrap_err();
            assert_eq!(e.line, 1, "{text}");
            assert!(e.to_string().contains(needle), "{text}: {e}");
        }
    }

    /// A qtest server answering reads from a script, with the devices behind ports and the
    /// choices it notes after given commands.
    struct Scripted {
        answers: Vec<u64>,
        next: usize,
        sent: usize,
        /// (command index, device, choice)
        notes: Vec<(usize, &'static str, &'static str)>,
    }

    impl Scripted {
        fn new(answers: &[u64], notes: &[(usize, &'static str, &'static str)]) -> Self {
            Self {
                answers: answers.to_vec(),
                next: 0,
                sent: 0,
                notes: notes.to_vec(),
            }
        }
    }

    impl QtestServer for Scripted {
        fn send(&mut self, cmd: &Cmd) -> Result<String, ServerError> {
            self.sent += 1;
            Ok(match cmd {
                Cmd::In { .. } => {
                    let v = self.answers.get(self.next).copied().unwrap_or(0);
                    self.next += 1;
                    format!("OK {v:#x}")
                }
                _ => "OK".to_string(),
            })
        }

        fn device(&mut self, cmd: &Cmd) -> Option<&'static str> {
            match cmd {
                Cmd::In { port: 0x60, .. } => Some("widget"),
                Cmd::In { .. } => Some("gadget"),
                _ => None,
            }
        }

        fn take_choices(&mut self) -> Vec<(&'static str, &'static str)> {
            let sent = self.sent;
            self.notes
                .iter()
                .filter(|n| n.0 == sent)
                .map(|n| (n.1, n.2))
                .collect()
        }
    }

    #[test]
    fn a_noted_choice_marks_later_mismatches_of_its_device_only() {
        let p = parse_program("inb 0x60\ninb 0x60\noutb 0x61 0x1\ninb 0x60\ninb 0x61\n").unwrap();
        // Ours notes a choice of `widget` during the second command (a read that differs)
        // and one of `gadget` during the third.
        let mut ours = Scripted::new(
            &[1, 2, 3, 4],
            &[(2, "widget", "first-choice"), (3, "gadget", "other-choice")],
        );
        let mut reference = Scripted::new(&[9, 9, 9, 9], &[]);
        let (report, _) = lockstep(&p, &mut ours, &mut reference);
        assert_eq!(
            report.choices,
            vec![(2, "widget", "first-choice"), (3, "gadget", "other-choice")]
        );
        let marks: Vec<Option<&str>> = report
            .mismatches
            .iter()
            .map(|m| report.choice_before(m))
            .collect();
        // Line 1 came before any choice; line 2 is the read during which it was noted; line 4
        // is widget's later read; line 5 is gadget's, after gadget's own choice.
        assert_eq!(
            marks,
            vec![
                None,
                Some("first-choice"),
                Some("first-choice"),
                Some("other-choice")
            ]
        );
        // A reference's choices are never asked for: only ours note them.
        let mut plain = Scripted::new(&[1, 2, 3, 4], &[]);
        let mut reference = Scripted::new(&[9, 9, 9, 9], &[(1, "widget", "x")]);
        let (report, _) = lockstep(&p, &mut plain, &mut reference);
        assert!(report.choices.is_empty());
        assert!(
            report
                .mismatches
                .iter()
                .all(|m| report.choice_before(m).is_none())
        );
    }

    #[test]
    fn replies_parse_per_command() {
        let inb = qtest::parse_line("inb 0x60").unwrap().unwrap();
        assert_eq!(reply_value(&inb, "OK 0x0055"), Ok(Some(Got::Value(0x55))));
        assert!(reply_value(&inb, "ERR nope").is_err());
        let rd = qtest::parse_line("b64read 0 3").unwrap().unwrap();
        assert_eq!(
            reply_value(&rd, "OK AQID"),
            Ok(Some(Got::Bytes(vec![1, 2, 3])))
        );
        let out = qtest::parse_line("outb 0x60 1").unwrap().unwrap();
        assert_eq!(reply_value(&out, "OK"), Ok(None));
    }
}
