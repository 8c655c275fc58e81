//! Is the model right? `check`, `import`, `diff` and `diff-corpus`: conformance programs,
//! QEMU trace logs turned into them, and comparisons of two runs or two emulators.
//! `docs/differential.md` shows each by example.

use crate::error::{CliResult, UsageError};
use crate::qtest_client::ChildServer;
use crate::record::{ObserveFlags, Recorder};
use harness::check::{self, Got, LocalServer, Program, QtestServer, ServerError};
use harness::machine::{Machine, MachineOptions};
use harness::qtest::Cmd;
use harness::runner::Runner;
use harness::target::Target;
use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// Another qtest server to compare with (`check`, `diff`).
#[derive(clap::Args)]
pub struct ReferenceArgs {
    /// The other qtest server's command line (`check`: score it instead of this machine, e.g.
    /// QEMU's ceiling on its own capture; `diff`: run in lockstep with it), e.g.
    /// 'qemu-system-x86_64 -M pc -m 128M -nodefaults -display none -S -qtest stdio -device
    /// e1000e,romfile='.
    #[arg(long, value_name = "CMD")]
    pub against: Option<String>,
    /// Seconds to wait for each answer of the --against server.
    #[arg(long, default_value_t = 10)]
    pub timeout: u64,
    /// Rows of the per-register table.
    #[arg(long, default_value_t = REGISTER_ROWS)]
    pub registers: usize,
}

/// Rows of the per-register table printed by default.
pub const REGISTER_ROWS: usize = 40;

/// Largest decompressed log or program read (a capture of minutes of driver traffic is a few
/// MiB).
pub const MAX_TEXT_BYTES: u64 = 1 << 30;

/// Read a text file, gunzipping `.gz`.
pub fn read_text(path: &Path) -> Result<String, UsageError> {
    let bytes = crate::input_file::read_bytes(path)?;
    let bytes = if path.extension().is_some_and(|e| e == "gz") {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .take(MAX_TEXT_BYTES + 1)
            .read_to_end(&mut out)
            .map_err(|e| UsageError(format!("{}: not gzip: {e}", path.display())))?;
        if out.len() as u64 > MAX_TEXT_BYTES {
            return Err(UsageError(format!(
                "{}: more than {} MiB once decompressed",
                path.display(),
                MAX_TEXT_BYTES >> 20
            )));
        }
        out
    } else {
        bytes
    };
    String::from_utf8(bytes).map_err(|_| UsageError(format!("{}: not UTF-8 text", path.display())))
}

/// Parse a check program (or a record, or any qtest trace) from a file.
pub fn load_program(path: &Path) -> Result<Program, UsageError> {
    let text = read_text(path)?;
    check::parse_program(&text)
        .map_err(|e| UsageError(format!("{}:{}: {}", path.display(), e.line, e.error)))
}

/// A cold machine for `spec` (`NAME[,OPTS]`), run as a qtest session is (no input budget).
pub fn session_runner(
    session: &crate::session::Session,
    spec: &str,
    opts: MachineOptions,
) -> Result<Runner, UsageError> {
    let (name, extra) = spec.split_once(',').unwrap_or((spec, ""));
    let profile = models::machine(name).ok_or_else(|| {
        let names: Vec<&str> = models::MACHINES.iter().map(|m| m.name).collect();
        UsageError(format!(
            "unknown machine '{name}' (machines: {})",
            names.join(", ")
        ))
    })?;
    let build = crate::setup::machine_builder(session, profile, extra, &session.bugs)?;
    // A session, as `devfuzz qtest`: no input work budget and all of RAM, as in QEMU.
    let opts = MachineOptions {
        work_per_input: u64::MAX,
        ram_page_budget: usize::MAX,
        ..opts
    };
    let mut runner = Runner::for_machine_with(profile, build, opts);
    runner.reset_cold();
    Ok(runner)
}

/// The machine a command runs on: `--machine`, else the program's `# machine:` header.
fn machine_spec(
    flag: Option<String>,
    program: &Program,
    path: &Path,
) -> Result<String, UsageError> {
    flag.or_else(|| program.machine.clone()).ok_or_else(|| {
        UsageError(format!(
            "{}: no machine (give --machine, or a '# machine:' line in the program)",
            path.display()
        ))
    })
}

/// This machine as a qtest server that also takes the observer's log after each command.
struct Observed<'a> {
    local: LocalServer<'a>,
    recorder: &'a mut Recorder,
    lines: &'a [usize],
    next: usize,
    path: String,
}

impl QtestServer for Observed<'_> {
    fn send(&mut self, cmd: &Cmd) -> Result<String, ServerError> {
        let r = self.local.send(cmd);
        let line = self.lines.get(self.next).copied().unwrap_or(0);
        self.next += 1;
        let machine: &mut Machine = self.local.machine();
        self.recorder
            .take(machine, &format!("{}:{line}", self.path));
        r
    }

    fn register(&mut self, cmd: &Cmd) -> Option<String> {
        self.local.register(cmd)
    }
}

fn spawn(against: &str, timeout: u64) -> Result<ChildServer, UsageError> {
    ChildServer::spawn(against, Duration::from_secs(timeout.max(1))).map_err(UsageError)
}

fn exit_for(report: &check::Report) -> ExitCode {
    if report.clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// A server failure (not a divergence) is an error of the run: exit 2 with its reason.
fn refuse_failed(report: &check::Report) -> Result<(), UsageError> {
    if let Some((line, why)) = &report.stopped
        && !why.contains("finding ")
    {
        return Err(UsageError(format!("line {line}: {why}")));
    }
    Ok(())
}

/// `devfuzz check PROGRAM`.
pub fn check_cmd(
    session: &crate::session::Session,
    path: &Path,
    machine: Option<String>,
    reference: &ReferenceArgs,
    observe: &ObserveFlags,
    opts: MachineOptions,
) -> CliResult {
    let (against, timeout, rows) = (
        reference.against.clone(),
        reference.timeout,
        reference.registers,
    );
    let program = load_program(path)?;
    if program.checked_reads() == 0 {
        return Err(UsageError(format!(
            "{}: no read carries an expected value ('=> VALUE'): nothing to check",
            path.display()
        )));
    }
    let report = match against {
        Some(cmd) => {
            if observe.active() {
                return Err(UsageError(
                    "--record and --watch observe this machine; they do not apply with --against"
                        .into(),
                ));
            }
            let mut server = spawn(&cmd, timeout)?;
            say!("check: {} against '{cmd}'", path.display());
            check::check(&program, &mut server)
        }
        None => {
            let spec = machine_spec(machine, &program, path)?;
            let mut runner = session_runner(session, &spec, opts)?;
            harness::outcome::capture_backtraces(true);
            runner.machine().observe(observe.observer());
            let mut recorder = Recorder::create(
                observe,
                &[
                    format!("machine: {spec}"),
                    format!("check of {}", path.display()),
                ],
            )?;
            let lines: Vec<usize> = program.lines.iter().map(|l| l.number).collect();
            say!("check: {} on {spec}", path.display());
            let report = {
                let mut server = Observed {
                    local: LocalServer::new(&mut runner),
                    recorder: &mut recorder,
                    lines: &lines,
                    next: 0,
                    path: path.display().to_string(),
                };
                check::check(&program, &mut server)
            };
            recorder.finish()?;
            report
        }
    };
    say!("{}", report.render(rows).trim_end());
    refuse_failed(&report)?;
    Ok(exit_for(&report))
}

/// `devfuzz import LOG --device D --machine M -o OUT`.
pub fn import_cmd(
    session: &crate::session::Session,
    log: &Path,
    spec: &str,
    opts: harness::qemu_log::ImportOptions,
    output: &Path,
) -> CliResult {
    if output == log {
        return Err(UsageError(format!(
            "-o {}: that is the input log",
            output.display()
        )));
    }
    let text = read_text(log)?;
    let mut runner = session_runner(session, spec, MachineOptions::default())?;
    let (body, summary) = harness::qemu_log::import(&text, runner.machine(), &opts)
        .map_err(|e| UsageError(format!("{}: {e}", log.display())))?;
    if summary.commands == 0 {
        return Err(UsageError(format!(
            "{}: no access of device '{}' in the log ({} lines, {} trace events read); is it traced with -trace 'memory_region_ops_*' -trace 'pci_cfg_*'?",
            log.display(),
            opts.device,
            summary.lines,
            summary.events
        )));
    }
    let mut text = format!(
        "# devfuzz import of {}\n# machine: {spec}\n# device: {}{}\n",
        log.display(),
        opts.device,
        summary
            .qemu_bdf
            .map(|b| format!(" (QEMU pci {b})"))
            .unwrap_or_default()
    );
    text.push_str(&summary.header());
    text.push_str(&body);
    std::fs::write(output, text)
        .map_err(|e| UsageError(format!("cannot write {}: {e}", output.display())))?;
    say!(
        "wrote {}: {} commands, {} reads checked, {} clock steps; {} accesses of other devices left out; {} cannot be expressed",
        output.display(),
        summary.commands,
        summary.reads,
        summary.clock_steps,
        summary.other_accesses,
        summary.inexpressible
    );
    Ok(ExitCode::SUCCESS)
}

/// One command of a record, with the machine activity that followed it.
#[derive(Debug)]
struct RecordStep {
    line: usize,
    cmd: String,
    value: Option<String>,
    register: Option<String>,
    activity: Vec<String>,
}

fn record_steps(path: &Path) -> Result<Vec<RecordStep>, UsageError> {
    let text = read_text(path)?;
    let mut steps: Vec<RecordStep> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let t = raw.trim();
        if let Some(c) = t.strip_prefix('#') {
            let c = c.trim();
            let activity = ["dma ", "fill ", "irq ", "timer ", "choice "]
                .iter()
                .any(|p| c.starts_with(p));
            if activity && let Some(last) = steps.last_mut() {
                last.activity.push(c.to_string());
            }
            continue;
        }
        let parsed = check::parse_program_line(raw)
            .map_err(|e| UsageError(format!("{}:{}: {e}", path.display(), i + 1)))?;
        let Some((cmd, expect, note)) = parsed else {
            continue;
        };
        let register = note.map(|n| {
            let w: Vec<&str> = n.split_whitespace().collect();
            if w.first() == Some(&"cfg") {
                w.iter().take(2).copied().collect::<Vec<_>>().join(" ")
            } else {
                w.first().map_or(String::new(), |s| s.to_string())
            }
        });
        steps.push(RecordStep {
            line: i + 1,
            cmd: cmd.to_string(),
            value: expect.map(|e| e.to_string()),
            register,
            activity: Vec::new(),
        });
    }
    Ok(steps)
}

/// `devfuzz diff A B`: two records (or a record and a check program), aligned by command.
pub fn diff_records(a: &Path, b: &Path, rows: usize) -> CliResult {
    let sa = record_steps(a)?;
    let sb = record_steps(b)?;
    let mut reads = 0usize;
    let mut read_diffs: Vec<(usize, usize, &RecordStep, &RecordStep)> = Vec::new();
    let mut dma_diffs: Vec<(usize, &RecordStep, &RecordStep)> = Vec::new();
    let mut per_register: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut structural = None;
    for (i, (x, y)) in sa.iter().zip(&sb).enumerate() {
        if x.cmd != y.cmd {
            structural = Some(i);
            break;
        }
        if let (Some(vx), Some(vy)) = (&x.value, &y.value) {
            reads += 1;
            let key = x
                .register
                .clone()
                .or_else(|| y.register.clone())
                .unwrap_or_else(|| {
                    x.cmd
                        .split_whitespace()
                        .take(2)
                        .collect::<Vec<_>>()
                        .join(" ")
                });
            let e = per_register.entry(key).or_default();
            e.0 += 1;
            if vx != vy {
                e.1 += 1;
                read_diffs.push((i, x.line, x, y));
            }
        }
        // Activity is compared only where both sides recorded it (a check program has none).
        if !x.activity.is_empty() || !y.activity.is_empty() {
            let strip = |v: &[String]| -> Vec<String> {
                v.iter()
                    .map(|s| s.split(" at ").next().unwrap_or(s).to_string())
                    .collect()
            };
            if strip(&x.activity) != strip(&y.activity)
                && !(x.activity.is_empty() || y.activity.is_empty())
            {
                dma_diffs.push((i, x, y));
            }
        }
    }
    say!(
        "diff: {} ({} commands) vs {} ({} commands)",
        a.display(),
        sa.len(),
        b.display(),
        sb.len()
    );
    let first = [
        read_diffs.first().map(|d| d.0),
        dma_diffs.first().map(|d| d.0),
        structural,
    ]
    .into_iter()
    .flatten()
    .min();
    if let Some(i) = first {
        say!(
            "first divergence at command {} (A line {}, B line {}):",
            i + 1,
            sa[i].line,
            sb.get(i).map_or(0, |s| s.line)
        );
        for s in &sa[i.saturating_sub(check::CONTEXT_LINES)..i] {
            say!("    {:>6}  {}", s.line, s.cmd);
        }
        let (x, y) = (&sa[i], &sb[i]);
        if Some(i) == structural {
            say!(
                "  A: {}\n  B: {}\n  (the programs differ from here on; nothing after is compared)",
                x.cmd,
                y.cmd
            );
        } else {
            say!(
                "  A: {}{}",
                x.cmd,
                x.value
                    .as_ref()
                    .map(|v| format!(" => {v}"))
                    .unwrap_or_default()
            );
            say!(
                "  B: {}{}",
                y.cmd,
                y.value
                    .as_ref()
                    .map(|v| format!(" => {v}"))
                    .unwrap_or_default()
            );
            if x.activity != y.activity {
                for l in &x.activity {
                    say!("  A: # {l}");
                }
                for l in &y.activity {
                    say!("  B: # {l}");
                }
            }
        }
    }
    if structural.is_none() && sa.len() != sb.len() {
        say!(
            "lengths differ: A has {} commands, B {}",
            sa.len(),
            sb.len()
        );
    }
    say!("reads compared: {reads}, differing: {}", read_diffs.len());
    say!(
        "commands whose DMA/IRQ/timer activity differs: {}",
        dma_diffs.len()
    );
    let mut regs: Vec<_> = per_register.iter().filter(|(_, (_, d))| *d > 0).collect();
    regs.sort_by_key(|(k, (n, d))| (std::cmp::Reverse(*d), std::cmp::Reverse(*n), (*k).clone()));
    if !regs.is_empty() {
        say!("{:<32} {:>7} {:>8}", "register", "reads", "differ");
        for (k, (n, d)) in regs.iter().take(rows) {
            say!("{:<32} {:>7} {:>8}", k, n, d);
        }
    }
    let same = read_diffs.is_empty()
        && dma_diffs.is_empty()
        && structural.is_none()
        && sa.len() == sb.len();
    Ok(if same {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `devfuzz diff PROGRAM --machine M --against CMD`: lockstep on two servers.
pub fn diff_against(
    session: &crate::session::Session,
    path: &Path,
    machine: Option<String>,
    against: &str,
    reference: &ReferenceArgs,
    write_check: Option<&Path>,
    opts: MachineOptions,
) -> CliResult {
    let (timeout, rows) = (reference.timeout, reference.registers);
    let program = load_program(path)?;
    let spec = machine_spec(machine, &program, path)?;
    let mut runner = session_runner(session, &spec, opts)?;
    runner
        .machine()
        .observe(Some(harness::observe::Observer::default()));
    let mut reference = spawn(against, timeout)?;
    let (report, values) = {
        let mut ours = LocalServer::new(&mut runner);
        check::lockstep(&program, &mut ours, &mut reference)
    };
    say!(
        "diff: {} on {spec} (devfuzz) against '{against}' (reference)",
        path.display()
    );
    say!("{}", report.render(rows).trim_end());
    if reference.irq_lines > 0 {
        say!(
            "({} asynchronous IRQ lines from the reference set aside)",
            reference.irq_lines
        );
    }
    if let Some((line, device, choice)) = report.choices.first() {
        say!(
            "choices where QEMU differs by design, noted by our devices: {}, first at line {line}: {device} {choice}",
            report.choices.len()
        );
    }
    if let Some(out) = write_check {
        let text = format!(
            "# check program: the reference's answers to {}\n# reference: {against}\n# machine: {spec}\n{}",
            path.display(),
            check::render_program(&program, &values)
        );
        std::fs::write(out, text)
            .map_err(|e| UsageError(format!("cannot write {}: {e}", out.display())))?;
        say!(
            "wrote {} (the reference's answers as a check program)",
            out.display()
        );
    }
    refuse_failed(&report)?;
    Ok(exit_for(&report))
}

/// A difference kept on purpose, written beside a model.
#[derive(Clone, Debug)]
pub struct Intended {
    /// Register pattern (`e1000e-mmio+0x8`, or a prefix ending in `*`).
    pub pattern: String,
    /// Why.
    pub reason: String,
    /// The file it is written in.
    pub file: PathBuf,
}

/// Every `qemu-differences.txt` under `models/src/`: lines `REGISTER[/SIZE][*]  reason`, `#`
/// comments.
pub fn intended_differences(root: &Path) -> Result<Vec<Intended>, UsageError> {
    let mut out = Vec::new();
    let dir = root.join("models/src");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(out);
    };
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path().join("qemu-differences.txt"))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    for f in files {
        let text = read_text(&f)?;
        for (i, line) in text.lines().enumerate() {
            let t = line.trim();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            let (pattern, reason) = t.split_once(char::is_whitespace).ok_or_else(|| {
                UsageError(format!(
                    "{}:{}: expected 'REGISTER reason'",
                    f.display(),
                    i + 1
                ))
            })?;
            out.push(Intended {
                pattern: pattern.to_string(),
                reason: reason.trim().to_string(),
                file: f.clone(),
            });
        }
    }
    Ok(out)
}

/// The intended difference covering `register` (a `REG/SIZE` key): a pattern with a `/SIZE`
/// names that access width only, one without it every width; a trailing `*` makes it a prefix.
pub fn intended_for<'a>(list: &'a [Intended], register: &str) -> Option<&'a Intended> {
    let bare = register.split('/').next().unwrap_or(register);
    list.iter().find(|d| {
        let key = if d.pattern.contains('/') {
            register
        } else {
            bare
        };
        match d.pattern.strip_suffix('*') {
            Some(prefix) => key.starts_with(prefix),
            None => key == d.pattern,
        }
    })
}

/// The `diff-corpus` key of a mismatch: its register, marked when it follows an access this
/// bus split at a region's end (`REG/SIZE write past-end`; a read that split is itself keyed
/// `REG/SIZE past-end`), a guest-requested reset (`after-reset:REG`), a choice where QEMU
/// differs that the register's device noted during this read or before it
/// (`choice:NAME:REG`, the first one it noted) or was read while one of our device timers was
/// pending (`timer-pending:REG`); the first of these that applies.
fn mismatch_key(report: &check::Report, m: &check::Mismatch) -> String {
    let reset = report.reset_at.filter(|&at| at < m.line);
    match &report.crossing_access {
        Some((at, reg, write)) if *at < m.line => {
            if *write {
                format!("{reg} write {}", check::PAST_END)
            } else {
                format!("{reg} {}", check::PAST_END)
            }
        }
        _ if reset.is_some() => format!("{}{}", check::AFTER_RESET, m.register),
        _ if let Some(choice) = report.choice_before(m) => {
            format!("{}{choice}:{}", check::CHOICE, m.register)
        }
        _ if report.timer_pending_mismatches.contains(&m.line) => {
            format!("{}{}", check::TIMER_PENDING, m.register)
        }
        _ => m.register.clone(),
    }
}

/// The intended difference a `diff-corpus` key falls under: past a region's end (the bus's
/// rule), or a line of a `qemu-differences.txt`. A prefixed key (after a reset, while a timer
/// is pending, after a choice) is intended when written down with its prefix, or when the
/// register alone is; a `choice:NAME:REG` key also when `choice:NAME` is written down (the
/// choice, whatever register it shows in).
fn intended_key<'a>(
    list: &'a [Intended],
    past_end: &'a Intended,
    key: &str,
) -> Option<&'a Intended> {
    if key.ends_with(check::PAST_END) {
        return Some(past_end);
    }
    if let Some(rest) = key.strip_prefix(check::CHOICE)
        && let Some((name, register)) = rest.split_once(':')
    {
        let choice = format!("{}{name}", check::CHOICE);
        return list
            .iter()
            .find(|d| d.pattern == choice)
            .or_else(|| intended_for(list, key))
            .or_else(|| intended_for(list, register));
    }
    let bare = [check::AFTER_RESET, check::TIMER_PENDING]
        .iter()
        .find_map(|p| key.strip_prefix(p));
    intended_for(list, key).or_else(|| bare.and_then(|b| intended_for(list, b)))
}

/// A divergence group of `diff-corpus`: inputs diverging in one register, and the smallest
/// one's program with the reference's answers and its file.
type Group = (usize, Program, Vec<Option<Got>>, PathBuf);

/// `devfuzz diff-corpus TARGET --against CMD`.
pub fn diff_corpus(
    session: &crate::session::Session,
    root: &Path,
    target: &Target,
    corpus: &Path,
    against: &str,
    timeout: u64,
    limit: usize,
) -> CliResult {
    let intended = intended_differences(root)?;
    let past_end = Intended {
        pattern: format!("*{}", check::PAST_END),
        reason: "the access runs past the end of the region it starts in: this bus splits it \
                 into bytes at the boundary, as a PC chipset does; QEMU hands every byte to the \
                 first region"
            .to_string(),
        file: root.join("docs/ARCHITECTURE.md"),
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus)
        .map_err(|e| UsageError(format!("cannot read corpus {}: {e}", corpus.display())))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files.truncate(limit);
    if files.is_empty() {
        return Err(UsageError(format!("corpus {} is empty", corpus.display())));
    }
    let spec = format!(
        "{}{}",
        target.machine.name,
        if session.machine_opts.is_empty() {
            String::new()
        } else {
            format!(",{}", session.machine_opts)
        }
    );
    // register -> (inputs diverging, smallest program and the reference's answers)
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    let mut ran = 0usize;
    let mut failed = 0usize;
    for (n, f) in files.iter().enumerate() {
        eprint!("\rdiff-corpus: {}/{}   ", n + 1, files.len());
        let cmds = if crate::input_file::is_text_name(f) {
            load_program(f)?.commands()
        } else {
            let build = crate::setup::target_builder(session, target, "", &session.bugs)?;
            let mut r = Runner::with_builder(target, build, MachineOptions::default());
            r.input_to_trace(&crate::input_file::read_bytes(f)?).0
        };
        let text: String = cmds.iter().map(|c| format!("{c}\n")).collect();
        let program = check::parse_program(&text).map_err(|e| UsageError(e.to_string()))?;
        let mut runner = session_runner(session, target.machine.name, MachineOptions::default())?;
        // An observer collects the choices where QEMU differs that our devices note.
        runner
            .machine()
            .observe(Some(harness::observe::Observer::default()));
        let mut reference = spawn(against, timeout)?;
        let (report, values) = {
            let mut ours = LocalServer::new(&mut runner);
            check::lockstep(&program, &mut ours, &mut reference)
        };
        if report
            .stopped
            .as_ref()
            .is_some_and(|(_, w)| w.starts_with("reference"))
        {
            failed += 1;
            continue;
        }
        ran += 1;
        // An input is grouped by its first divergence that is not written down as intended:
        // what differs after it may only be its consequence (state the two sides no longer
        // share). Differences that leave state apart (an access split at a region's end, a
        // reset) mark everything after them, so they stay the group when nothing else came
        // first.
        let keys: Vec<String> = report
            .mismatches
            .iter()
            .map(|m| mismatch_key(&report, m))
            .collect();
        let key = keys
            .iter()
            .find(|k| intended_key(&intended, &past_end, k).is_none())
            .or(keys.first());
        if let Some(key) = key.cloned() {
            let g = groups
                .entry(key)
                .or_insert_with(|| (0, program.clone(), values.clone(), f.clone()));
            g.0 += 1;
            if program.lines.len() < g.1.lines.len() {
                g.1 = program.clone();
                g.2 = values.clone();
                g.3 = f.clone();
            }
        }
    }
    eprintln!();
    let out_dir = root.join("fuzz/diffs").join(target.name);
    std::fs::create_dir_all(&out_dir)
        .map_err(|e| UsageError(format!("cannot create {}: {e}", out_dir.display())))?;
    say!(
        "diff-corpus {}: {ran} inputs compared against '{against}'{}",
        target.name,
        if failed > 0 {
            format!(", {failed} the reference could not run")
        } else {
            String::new()
        }
    );
    let (mut new, mut kept) = (Vec::new(), Vec::new());
    for (reg, (count, program, values, from)) in &groups {
        let file = out_dir.join(format!(
            "{}.qtest",
            reg.chars()
                .map(|c| if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                })
                .collect::<String>()
        ));
        let text = format!(
            "# divergence in {reg}: {count} input(s); smallest from {}\n# reference: {against}\n# machine: {spec}\n{}",
            from.display(),
            check::render_program(program, values)
        );
        std::fs::write(&file, text)
            .map_err(|e| UsageError(format!("cannot write {}: {e}", file.display())))?;
        match intended_key(&intended, &past_end, reg) {
            Some(d) => kept.push((reg, *count, file, d)),
            None => new.push((reg, *count, file)),
        }
    }
    say!("new divergences: {}", new.len());
    for (reg, count, file) in &new {
        say!("  {reg:<32} {count:>5} input(s)  {}", file.display());
    }
    say!(
        "intended differences (written down beside the model): {}",
        kept.len()
    );
    for (reg, count, file, d) in &kept {
        say!(
            "  {reg:<32} {count:>5} input(s)  {}  [{}: {}]",
            file.display(),
            d.file.display(),
            d.reason
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `devfuzz diff-corpus TARGET --against CMD`: the corpus defaults to `fuzz/corpus/<target>`.
pub fn diff_corpus_cmd(
    session: &crate::session::Session,
    target: &str,
    against: &str,
    corpus: Option<PathBuf>,
    timeout: u64,
    limit: usize,
) -> CliResult {
    let target = crate::setup::find_target(target)?;
    let root = crate::setup::workspace_root()?;
    let corpus = corpus.unwrap_or_else(|| root.join("fuzz/corpus").join(target.name));
    diff_corpus(session, &root, target, &corpus, against, timeout, limit)
}
