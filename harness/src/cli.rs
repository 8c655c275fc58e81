//! A small devfuzz command line for any target table: what a crate outside devfuzz ships as
//! its own `<crate>-devfuzz` binary with one line,
//!
//! ```ignore
//! fn main() -> std::process::ExitCode {
//!     harness::cli::main("my-devices-devfuzz", my_devices::TARGETS)
//! }
//! ```
//!
//! Commands (see [`USAGE`]): `list`, `replay`, `convert`, `minimize`, `qtest`, `determinism`,
//! `seeds` and `regressions`. Exit codes as devfuzz's: 0 nothing found, 1 a finding (or a
//! divergence, or a regression that no longer holds), 2 a usage or input error, printed as
//! one line. Inputs named `*.qtest` are qtest text traces, anything else binary inputs
//! (docs/ops.md). Fuzzing itself is `cargo fuzz run` in the crate's fuzz folder, with the
//! corpus `seeds` writes.
//!
//! Every command is also a function, so tests call them without a process:
//!
//! ```
//! # use harness::target::{MachineProfile, Target};
//! # fn empty() -> harness::machine::MachineSpec { Default::default() }
//! static M: MachineProfile = MachineProfile::new("m", "an empty board", empty);
//! static TARGETS: &[Target] = &[Target::new("t", "nothing to fuzz", &M, &["*"])];
//! let code = harness::cli::run("x-devfuzz", TARGETS, &["list".to_string()], &mut std::io::sink());
//! assert_eq!(code, 0);
//! let code = harness::cli::run("x-devfuzz", TARGETS, &["replay".into(), "nope".into()], &mut std::io::sink());
//! assert_eq!(code, 2);
//! ```

use crate::entry::{self, Observed};
use crate::machine::MachineOptions;
use crate::outcome::Outcome;
use crate::qtest::{self, Cmd};
use crate::regression::{Header, Regression, matches};
use crate::runner::{Runner, Step};
use crate::target::{MachineProfile, Target};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The largest input file read (as devfuzz: 64 MiB).
pub const MAX_INPUT_BYTES: u64 = 64 << 20;

/// What the commands are, for `help` and usage errors (`{bin}` is the program's name).
pub const USAGE: &str = "\
usage: {bin} <command> ...
  list                                   machines and targets
  replay <target> <file>...              run inputs (.qtest text or binary); exit 1 on a finding
  convert <target> <in> -o <out>         binary -> .qtest text, or .qtest text -> binary
  minimize <target> <in> -o <out.qtest>  smallest trace with the same finding signature
  qtest --machine <profile>[,k=v...]     qtest server on stdin/stdout
  determinism <target> <file|dir>... [--pause-ms N]
                                         run every input twice, N ms apart (default 1100),
                                         and report the first difference (exit 1)
  seeds <target> <seed dir> <corpus dir> convert every seed .qtest into a binary corpus entry
  fuzz <target> [--time S] [--fuzz-dir DIR]
                                         seeds -> corpus, cargo fuzz run (libFuzzer, fork mode,
                                         DIR/dicts/<target>.dict), then triage new crashes:
                                         replay, group by signature, minimise one per group
  regressions <dir>                      replay <dir>/<target>/*.qtest against their # expect:";

/// A one-line error for the user (exit code 2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageError(pub String);

type CliResult = Result<u8, UsageError>;

/// Run the command line of this process and return its exit code; errors go to stderr as one
/// line `<bin>: <reason>`, output to stdout.
pub fn main(bin: &str, targets: &'static [Target]) -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    ExitCode::from(run(bin, targets, &args, &mut std::io::stdout().lock()))
}

/// Run one command (`args` without the program name), writing its output to `out`; returns
/// the exit code (0, 1 or 2). Usage errors are printed to stderr.
pub fn run(bin: &str, targets: &'static [Target], args: &[String], out: &mut dyn Write) -> u8 {
    match dispatch(targets, args, out) {
        Ok(code) => code,
        Err(UsageError(reason)) => {
            if reason.is_empty() {
                eprintln!("{}", USAGE.replace("{bin}", bin));
            } else {
                eprintln!("{bin}: {reason}");
            }
            2
        }
    }
}

fn dispatch(targets: &'static [Target], args: &[String], out: &mut dyn Write) -> CliResult {
    let Some((command, rest)) = args.split_first() else {
        return Err(UsageError(String::new()));
    };
    let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
    match (command.as_str(), rest.as_slice()) {
        ("help" | "--help" | "-h", _) => Err(UsageError(String::new())),
        ("list", []) => list(targets, out),
        ("replay", [target, files @ ..]) if !files.is_empty() => {
            replay(find(targets, target)?, files, out)
        }
        ("convert", [target, input, "-o", output]) => convert(
            find(targets, target)?,
            Path::new(input),
            Path::new(output),
            out,
        ),
        ("minimize", [target, input, "-o", output]) => minimize(
            find(targets, target)?,
            Path::new(input),
            Path::new(output),
            out,
        ),
        ("qtest", ["--machine", machine]) => {
            let (name, opts) = machine.split_once(',').unwrap_or((machine, ""));
            let profile = profile(targets, name)?;
            let build = profile
                .builder(opts)
                .map_err(|e| UsageError(e.to_string()))?;
            qtest_server_with(
                profile,
                build,
                &mut std::io::stdin().lock(),
                &mut std::io::stdout().lock(),
            )
        }
        ("determinism", [target, rest @ ..]) if !rest.is_empty() => {
            let (files, pause) = match rest {
                [files @ .., "--pause-ms", n] => (files, parse_ms(n)?),
                files => (files, 1100),
            };
            determinism(find(targets, target)?, files, pause, out)
        }
        ("seeds", [target, seeds, corpus]) => seed_corpus(
            find(targets, target)?,
            Path::new(seeds),
            Path::new(corpus),
            out,
        ),
        ("fuzz", [target, rest @ ..]) => {
            let mut seconds = 60u64;
            let mut dir = PathBuf::from("fuzz");
            let mut it = rest.iter();
            while let Some(flag) = it.next() {
                match (*flag, it.next()) {
                    ("--time", Some(s)) => {
                        seconds = s.parse().map_err(|_| {
                            UsageError(format!("--time {s}: not a number of seconds"))
                        })?
                    }
                    ("--fuzz-dir", Some(d)) => dir = PathBuf::from(d),
                    (flag, _) => {
                        return Err(UsageError(format!(
                            "fuzz: unknown or incomplete flag '{flag}'"
                        )));
                    }
                }
            }
            fuzz(find(targets, target)?, &dir, seconds, out)
        }
        ("regressions", [dir]) => {
            let failed = check_regressions(targets, Path::new(dir), out)?;
            Ok(u8::from(failed > 0))
        }
        (
            "list" | "replay" | "convert" | "minimize" | "qtest" | "determinism" | "seeds" | "fuzz"
            | "regressions",
            _,
        ) => Err(UsageError(format!(
            "wrong arguments for '{command}' ({})",
            USAGE
                .lines()
                .find(|l| l.trim_start().starts_with(command.as_str()))
                .map_or("", str::trim)
        ))),
        _ => Err(UsageError(format!(
            "unknown command '{command}' (commands: list, replay, convert, minimize, qtest, determinism, seeds, fuzz, regressions)"
        ))),
    }
}

fn parse_ms(n: &str) -> Result<u64, UsageError> {
    n.parse()
        .map_err(|_| UsageError(format!("--pause-ms {n}: not a number of milliseconds")))
}

fn find(targets: &'static [Target], name: &str) -> Result<&'static Target, UsageError> {
    entry::find(targets, name).ok_or_else(|| {
        let names: Vec<&str> = targets.iter().map(|t| t.name).collect();
        UsageError(format!(
            "unknown target '{name}' (targets: {})",
            names.join(", ")
        ))
    })
}

/// The machine profiles of `targets`, each once, in order of first use.
pub fn profiles(targets: &'static [Target]) -> Vec<&'static MachineProfile> {
    let mut out: Vec<&'static MachineProfile> = Vec::new();
    for t in targets {
        if !out.iter().any(|m| m.name == t.machine.name) {
            out.push(t.machine);
        }
    }
    out
}

fn profile(targets: &'static [Target], name: &str) -> Result<&'static MachineProfile, UsageError> {
    let all = profiles(targets);
    all.iter().copied().find(|m| m.name == name).ok_or_else(|| {
        let names: Vec<&str> = all.iter().map(|m| m.name).collect();
        UsageError(format!(
            "unknown machine '{name}' (machines: {})",
            names.join(", ")
        ))
    })
}

fn write_out(out: &mut dyn Write, text: std::fmt::Arguments<'_>) -> Result<(), UsageError> {
    out.write_fmt(text)
        .and_then(|()| out.write_all(b"\n"))
        .map_err(|e| UsageError(format!("writing output: {e}")))
}

macro_rules! say {
    ($out:expr, $($arg:tt)*) => { write_out($out, format_args!($($arg)*))? };
}

fn list(targets: &'static [Target], out: &mut dyn Write) -> CliResult {
    say!(out, "machines:");
    for m in profiles(targets) {
        say!(out, "  {:<20} {}", m.name, m.description);
        let spec = (m.build)();
        for d in &spec.devices {
            let regions: Vec<String> = d
                .regions()
                .iter()
                .map(|r| format!("{} ({:?}, {:#x} bytes)", r.name, r.space, r.size))
                .collect();
            say!(out, "    {:<18} {}", d.name(), regions.join(", "));
        }
    }
    say!(out, "targets:");
    for t in targets {
        say!(
            out,
            "  {:<20} {} [machine {}]",
            t.name,
            t.description,
            t.machine.name
        );
    }
    Ok(0)
}

/// A file named on the command line: `.qtest` text or binary.
enum Input {
    Text(Vec<Cmd>, Header),
    Binary(Vec<u8>),
}

fn read(path: &Path) -> Result<Vec<u8>, UsageError> {
    crate::file::read_capped(path, MAX_INPUT_BYTES, "no input can use more")
        .map_err(|e| UsageError(format!("cannot read {e}")))
}

fn is_text(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "qtest")
}

fn load(path: &Path) -> Result<Input, UsageError> {
    let bytes = read(path)?;
    if !is_text(path) {
        return Ok(Input::Binary(bytes));
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| UsageError(format!("{}: not UTF-8 text", path.display())))?;
    let header =
        Header::parse(&text).map_err(|e| UsageError(format!("{}: {e}", path.display())))?;
    let trace = qtest::parse_trace(&text).map_err(|e| {
        UsageError(format!(
            "{}:{}: {}",
            path.display(),
            e.line,
            e.error.reply()
        ))
    })?;
    Ok(Input::Text(trace, header))
}

/// The machine options in force: the file header's `# machine-opts:`, else
/// [`entry::MACHINE_OPTS_VAR`] (as in a fuzz binary), else none.
fn machine_opts(header: Option<&Header>) -> String {
    match header.map(|h| h.machine_opts.trim()) {
        Some(opts) if !opts.is_empty() => opts.to_string(),
        _ => std::env::var(entry::MACHINE_OPTS_VAR).unwrap_or_default(),
    }
}

/// A runner for `target` under `header` (its machine options, work budget and re-entrancy
/// mode) for replays.
fn runner_for(target: &Target, header: Option<&Header>) -> Result<Runner, UsageError> {
    let opts = MachineOptions {
        work_per_input: header
            .and_then(|h| h.work_per_input)
            .unwrap_or(MachineOptions::default().work_per_input),
        reentrancy: header.and_then(|h| h.reentrancy).unwrap_or_default(),
        ..MachineOptions::default()
    };
    let build = target
        .machine
        .builder(&machine_opts(header))
        .map_err(|e| UsageError(e.to_string()))?;
    Ok(Runner::with_builder(target, build, opts))
}

fn print_outcome(out: &mut dyn Write, path: &Path, outcome: &Outcome) -> Result<(), UsageError> {
    match outcome {
        Outcome::Ok { ops, .. } => say!(out, "{}: ok ({ops} ops)", path.display()),
        Outcome::Finding(f) => {
            say!(out, "{}: FINDING {}", path.display(), f.signature());
            say!(out, "  {}", f.message);
            say!(out, "  during op {}", f.op_index);
            for frame in &f.backtrace {
                say!(out, "    at {frame}");
            }
        }
    }
    Ok(())
}

fn run_file(target: &Target, path: &Path) -> Result<Outcome, UsageError> {
    match load(path)? {
        Input::Text(trace, header) => runner_for(target, Some(&header))?
            .run_trace(&trace)
            .map_err(|e| UsageError(format!("{}: {e}", path.display()))),
        Input::Binary(bytes) => Ok(runner_for(target, None)?.run_input(&bytes)),
    }
}

fn replay(target: &Target, files: &[&str], out: &mut dyn Write) -> CliResult {
    crate::outcome::capture_backtraces(true);
    let mut found = false;
    for file in files {
        let path = Path::new(file);
        let outcome = run_file(target, path)?;
        found |= outcome.finding().is_some();
        print_outcome(out, path, &outcome)?;
    }
    Ok(u8::from(found))
}

fn refuse_overwriting(input: &Path, output: &Path) -> Result<(), UsageError> {
    let same = match (std::fs::canonicalize(input), std::fs::canonicalize(output)) {
        (Ok(i), Ok(o)) => i == o,
        _ => false,
    };
    if same {
        return Err(UsageError(format!(
            "{} is the input: refusing to overwrite it (choose another -o)",
            output.display()
        )));
    }
    Ok(())
}

fn write_file(path: &Path, data: &[u8]) -> Result<(), UsageError> {
    crate::file::create_regular(path)
        .and_then(|mut f| {
            f.write_all(data)
                .map_err(|source| crate::file::FileError::Io {
                    path: path.to_path_buf(),
                    source,
                })
        })
        .map_err(|e| UsageError(format!("cannot write {e}")))
}

/// A binary input as a text trace with a header naming the target and its outcome.
fn to_text(target: &Target, bytes: &[u8], from: &Path) -> Result<String, UsageError> {
    let (cmds, outcome) = runner_for(target, None)?.input_to_trace(bytes);
    let mut text = format!(
        "# devfuzz trace of {} on target {}\n# outcome: {}\n",
        from.display(),
        target.name,
        outcome.summary()
    );
    let opts = machine_opts(None);
    if !opts.is_empty() {
        text.push_str(&format!("# machine-opts: {opts}\n"));
    }
    for c in cmds {
        text.push_str(&c.to_string());
        text.push('\n');
    }
    Ok(text)
}

/// A text trace as a binary input for `target` (commands with no binary form are noted on
/// stderr and left out).
fn to_binary(target: &Target, trace: &[Cmd], from: &Path) -> Result<Vec<u8>, UsageError> {
    let encoded = runner_for(target, None)?
        .trace_to_input(trace)
        .map_err(|e| UsageError(format!("{}: {e}", from.display())))?;
    for (i, cmd) in &encoded.dropped {
        eprintln!(
            "note: {} command {} ('{cmd}') has no binary form on target {}; left out",
            from.display(),
            i + 1,
            target.name
        );
    }
    Ok(encoded.bytes)
}

fn convert(target: &Target, input: &Path, output: &Path, out: &mut dyn Write) -> CliResult {
    refuse_overwriting(input, output)?;
    let data = match load(input)? {
        Input::Binary(bytes) => {
            if !is_text(output) {
                return Err(UsageError(format!(
                    "{}: the output is a qtest text trace; name it *.qtest",
                    output.display()
                )));
            }
            to_text(target, &bytes, input)?.into_bytes()
        }
        Input::Text(trace, _) => {
            if is_text(output) {
                return Err(UsageError(format!(
                    "{}: the output is a binary input; a .qtest name would replay it as text",
                    output.display()
                )));
            }
            to_binary(target, &trace, input)?
        }
    };
    write_file(output, &data)?;
    say!(out, "{} -> {}", input.display(), output.display());
    Ok(0)
}

fn minimize(target: &Target, input: &Path, output: &Path, out: &mut dyn Write) -> CliResult {
    refuse_overwriting(input, output)?;
    if !is_text(output) {
        return Err(UsageError(format!(
            "{}: the output is a qtest text trace; name it *.qtest",
            output.display()
        )));
    }
    let (trace, header) = match load(input)? {
        Input::Text(trace, header) => (trace, Some(header)),
        Input::Binary(bytes) => (runner_for(target, None)?.input_to_trace(&bytes).0, None),
    };
    let mut runner = runner_for(target, header.as_ref())?;
    let opts = machine_opts(header.as_ref());
    let m =
        crate::minimize::minimize_bounded(&mut runner, &trace, 100_000, |_| {}).map_err(|e| {
            UsageError(format!(
                "{}: {e} on target {}",
                input.display(),
                target.name
            ))
        })?;
    let mut text = format!(
        "# minimized from {} on target {}\n# signature: {}\n",
        input.display(),
        target.name,
        m.signature
    );
    if !opts.is_empty() {
        text.push_str(&format!("# machine-opts: {opts}\n"));
    }
    for c in &m.trace {
        text.push_str(&c.to_string());
        text.push('\n');
    }
    write_file(output, text.as_bytes())?;
    say!(
        out,
        "minimized {} -> {} commands in {} runs{}, signature {}",
        m.original_len,
        m.trace.len(),
        m.runs,
        if m.budget_exhausted {
            " (run budget spent, not 1-minimal)"
        } else {
            ""
        },
        m.signature
    );
    Ok(0)
}

/// Serve the qtest protocol for `machine` on `input`/`output` until the input ends: one
/// reply line per command, in QEMU's format; a finding answers `FAIL finding <signature>`
/// and ends the session with code 1.
///
/// ```
/// # use harness::target::{MachineProfile, Target};
/// # fn empty() -> harness::machine::MachineSpec { Default::default() }
/// static M: MachineProfile = MachineProfile::new("m", "", empty);
/// let mut reply = Vec::new();
/// let code = harness::cli::qtest_server(&M, &mut &b"inb 0x80\nclock_step 10\n"[..], &mut reply).unwrap();
/// assert_eq!(code, 0);
/// assert_eq!(String::from_utf8(reply).unwrap(), "OK 0x00ff\nOK 10\n");
/// ```
pub fn qtest_server(
    machine: &'static MachineProfile,
    input: &mut dyn BufRead,
    output: &mut dyn Write,
) -> CliResult {
    qtest_server_with(machine, std::sync::Arc::new(machine.build), input, output)
}

/// [`qtest_server`] on the machine `build` builds (the profile with options).
pub fn qtest_server_with(
    machine: &'static MachineProfile,
    build: crate::target::Builder,
    input: &mut dyn BufRead,
    output: &mut dyn Write,
) -> CliResult {
    let opts = MachineOptions {
        work_per_input: u64::MAX,
        ram_page_budget: usize::MAX,
        ..MachineOptions::default()
    };
    let mut runner = Runner::for_machine_with(machine, build, opts);
    crate::outcome::capture_backtraces(true);
    runner.reset_cold();
    let mut line = String::new();
    loop {
        line.clear();
        let n = std::io::Read::take(&mut *input, qtest::MAX_LINE as u64 + 1)
            .read_line(&mut line)
            .map_err(|e| UsageError(format!("reading the session: {e}")))?;
        if n == 0 {
            return Ok(0);
        }
        let reply = if n > qtest::MAX_LINE {
            // Skip the rest of an over-long line.
            let mut rest = Vec::new();
            let _ = input.read_until(b'\n', &mut rest);
            format!("ERR line longer than {}", qtest::MAX_LINE)
        } else {
            match qtest::parse_line(line.trim_end_matches(['\n', '\r'])) {
                Ok(None) => continue,
                Err(e) => e.reply(),
                Ok(Some(cmd)) => match runner.step(&cmd) {
                    Step::Reply(r) => r,
                    Step::Error(e) => format!("ERR {e}"),
                    Step::Finding(f) => {
                        let _ = writeln!(output, "FAIL finding {}", f.signature());
                        let _ = output.flush();
                        eprintln!("finding: {f}");
                        return Ok(1);
                    }
                },
            }
        };
        if writeln!(output, "{reply}")
            .and_then(|()| output.flush())
            .is_err()
        {
            return Ok(0); // the client went away
        }
    }
}

/// The files of `paths`: files as named, directories' regular files in name order.
fn expand(paths: &[&str]) -> Result<Vec<PathBuf>, UsageError> {
    let mut files = Vec::new();
    for p in paths {
        let path = Path::new(p);
        if path.is_dir() {
            let mut inside: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| UsageError(format!("{}: {e}", path.display())))?
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect();
            inside.sort();
            files.extend(inside);
        } else {
            files.push(path.to_path_buf());
        }
    }
    Ok(files)
}

fn observe_file(target: &Target, path: &Path) -> Result<Observed, UsageError> {
    let bytes = match load(path)? {
        Input::Binary(bytes) => bytes,
        Input::Text(trace, _) => to_binary(target, &trace, path)?,
    };
    Ok(entry::observe(&mut runner_for(target, None)?, &bytes))
}

/// Run every input, wait `pause_ms`, run them all again and compare what each did
/// ([`entry::observe`]): a model that reads the wall clock shows once the clock moved.
fn determinism(target: &Target, paths: &[&str], pause_ms: u64, out: &mut dyn Write) -> CliResult {
    let files = expand(paths)?;
    let first = files
        .iter()
        .map(|f| observe_file(target, f))
        .collect::<Result<Vec<_>, _>>()?;
    std::thread::sleep(std::time::Duration::from_millis(pause_ms));
    let mut differ = 0usize;
    for (file, a) in files.iter().zip(&first) {
        let b = observe_file(target, file)?;
        if let Some(d) = a.difference(&b) {
            differ += 1;
            say!(
                out,
                "{}: NONDETERMINISTIC ({pause_ms} ms apart): {d}",
                file.display()
            );
        }
    }
    say!(
        out,
        "determinism: {differ} of {} inputs on target {} differ between two runs {pause_ms} ms apart",
        files.len(),
        target.name
    );
    Ok(u8::from(differ > 0))
}

/// Convert every `*.qtest` of `seeds` into `corpus/seed-<stem>` (a binary input).
fn seed_corpus(target: &Target, seeds: &Path, corpus: &Path, out: &mut dyn Write) -> CliResult {
    let dir = seeds.to_string_lossy().to_string();
    let files: Vec<PathBuf> = expand(&[&dir])?
        .into_iter()
        .filter(|f| is_text(f))
        .collect();
    if files.is_empty() {
        return Err(UsageError(format!("{}: no .qtest seeds", seeds.display())));
    }
    std::fs::create_dir_all(corpus)
        .map_err(|e| UsageError(format!("{}: {e}", corpus.display())))?;
    for f in &files {
        let Input::Text(trace, _) = load(f)? else {
            continue;
        };
        let bytes = to_binary(target, &trace, f)?;
        let stem = f
            .file_stem()
            .map_or_else(String::new, |s| s.to_string_lossy().to_string());
        write_file(&corpus.join(format!("seed-{stem}")), &bytes)?;
    }
    say!(
        out,
        "seeds: {} seeds of {} -> {}",
        files.len(),
        target.name,
        corpus.display()
    );
    Ok(0)
}

/// Environment variable naming the toolchain `fuzz` runs cargo-fuzz with (default `nightly`).
pub const FUZZ_TOOLCHAIN_VAR: &str = "FUZZ_TOOLCHAIN";

/// A campaign with cargo-fuzz: the seeds of `dir/seeds/<target>` into `dir/corpus/<target>`,
/// `cargo +nightly fuzz run` for `seconds` in fork mode (crashes do not stop it) with the
/// dictionary `dir/dicts/<target>.dict` if there is one, the engine's output in
/// `dir/logs/<target>.log`; then every new artifact is replayed, grouped by signature, and
/// the first of each group minimised into `<artifact>.min.qtest`.
fn fuzz(target: &Target, dir: &Path, seconds: u64, out: &mut dyn Write) -> CliResult {
    if !dir.join("Cargo.toml").is_file() {
        return Err(UsageError(format!(
            "{}: no cargo-fuzz crate here (--fuzz-dir DIR)",
            dir.display()
        )));
    }
    let name = target.name;
    let seeds = dir.join("seeds").join(name);
    let corpus = dir.join("corpus").join(name);
    if seeds.is_dir() {
        seed_corpus(target, &seeds, &corpus, out)?;
    }
    std::fs::create_dir_all(&corpus)
        .map_err(|e| UsageError(format!("{}: {e}", corpus.display())))?;
    let artifacts = dir.join("artifacts").join(name);
    let before: Vec<PathBuf> = expand(&[&artifacts.to_string_lossy()]).unwrap_or_default();
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs).map_err(|e| UsageError(format!("{}: {e}", logs.display())))?;
    let log_path = logs.join(format!("{name}.log"));
    let log = crate::file::create_regular(&log_path)
        .map_err(|e| UsageError(format!("cannot write {e}")))?;
    let toolchain = std::env::var(FUZZ_TOOLCHAIN_VAR).unwrap_or_else(|_| "nightly".to_string());
    let mut flags = vec![
        format!("-max_total_time={seconds}"),
        "-fork=1".to_string(),
        "-ignore_crashes=1".to_string(),
        "-ignore_timeouts=1".to_string(),
        "-ignore_ooms=1".to_string(),
        "-max_len=4096".to_string(),
        "-timeout=10".to_string(),
        "-rss_limit_mb=2048".to_string(),
        "-print_final_stats=1".to_string(),
    ];
    let dict = dir.join("dicts").join(format!("{name}.dict"));
    if dict.is_file() {
        flags.push(format!("-dict=dicts/{name}.dict"));
    }
    say!(
        out,
        "fuzz: {name} for {seconds} s (cargo +{toolchain} fuzz run; log {})",
        log_path.display()
    );
    let status = std::process::Command::new("cargo")
        .arg(format!("+{toolchain}"))
        .args(["fuzz", "run", "--sanitizer", "none", name])
        .arg(format!("corpus/{name}"))
        .arg("--")
        .args(&flags)
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .stdout(
            log.try_clone()
                .map_err(|e| UsageError(format!("{}: {e}", log_path.display())))?,
        )
        .stderr(log)
        .status()
        .map_err(|e| UsageError(format!("cannot run cargo fuzz: {e}")))?;
    let new: Vec<PathBuf> = expand(&[&artifacts.to_string_lossy()])
        .unwrap_or_default()
        .into_iter()
        .filter(|a| !before.contains(a) && !is_text(a))
        .collect();
    if !status.success() && new.is_empty() {
        return Err(UsageError(format!(
            "cargo fuzz run failed ({status}); see {}",
            log_path.display()
        )));
    }
    triage(target, &new, out)
}

/// Replay `artifacts`, group them by finding signature and minimise the first of each group
/// into `<artifact>.min.qtest`; 1 when any gives a finding.
fn triage(target: &Target, artifacts: &[PathBuf], out: &mut dyn Write) -> CliResult {
    let mut groups: Vec<(String, Vec<&PathBuf>)> = Vec::new();
    for a in artifacts {
        let signature = match run_file(target, a)? {
            Outcome::Finding(f) => f.signature(),
            // A crash of the engine's own (a timeout, out of memory) that replays clean.
            Outcome::Ok { .. } => "no finding on replay".to_string(),
        };
        match groups.iter_mut().find(|(s, _)| *s == signature) {
            Some((_, files)) => files.push(a),
            None => groups.push((signature, vec![a])),
        }
    }
    say!(
        out,
        "triage: {} new artifacts, {} signatures",
        artifacts.len(),
        groups.len()
    );
    let mut found = false;
    for (signature, files) in &groups {
        say!(out, "  {signature}: {} artifacts", files.len());
        if signature == "no finding on replay" {
            continue;
        }
        found = true;
        let first = files[0];
        let min = PathBuf::from(format!("{}.min.qtest", first.display()));
        minimize(target, first, &min, out)?;
        say!(out, "    reproducer: {}", min.display());
    }
    Ok(u8::from(found))
}

/// Replay every regression file `<dir>/<target>/*.qtest` (a `# expect:` header, see
/// [`crate::regression`]) under the guard, and with `# expect-without-guard:` in detect mode;
/// print one line per file and return how many failed. A folder named for no target of
/// `targets` is an error.
pub fn check_regressions(
    targets: &'static [Target],
    dir: &Path,
    out: &mut dyn Write,
) -> Result<usize, UsageError> {
    let mut failed = 0;
    let mut folders: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| UsageError(format!("{}: {e}", dir.display())))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    folders.sort();
    for folder in folders {
        let name = folder
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().to_string());
        let target = find(targets, &name)?;
        let dir = folder.to_string_lossy().to_string();
        for file in expand(&[&dir])?.into_iter().filter(|f| is_text(f)) {
            let text = String::from_utf8(read(&file)?)
                .map_err(|_| UsageError(format!("{}: not UTF-8 text", file.display())))?;
            let r = Regression::parse(&text)
                .map_err(|e| UsageError(format!("{}: {e}", file.display())))?;
            let mut modes = vec![(crate::machine::ReentrancyMode::Guard, r.expect.clone())];
            if let Some(e) = &r.expect_without_guard {
                modes.push((crate::machine::ReentrancyMode::Detect, e.clone()));
            }
            for (mode, expect) in modes {
                let header = Header {
                    reentrancy: Some(mode),
                    ..r.header.clone()
                };
                let outcome = runner_for(target, Some(&header))?
                    .run_trace(&r.trace)
                    .map_err(|e| UsageError(format!("{}: {e}", file.display())))?;
                let ok = matches(&expect, &outcome);
                failed += usize::from(!ok);
                say!(
                    out,
                    "{} [{}]: {} (expect {expect}, got {})",
                    file.display(),
                    mode.as_str(),
                    if ok { "ok" } else { "FAILED" },
                    outcome.summary()
                );
            }
        }
    }
    Ok(failed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::{AccessRules, AccessSize, Space};
    use crate::device::{Context, Device, RegionId, RegionSpec};
    use crate::machine::MachineSpec;

    /// Port 0x80 remembers a byte; writing 0xee after 0x42 panics (a planted bug).
    #[derive(Clone, Debug, Default)]
    struct Fragile(u8);

    impl Device for Fragile {
        fn name(&self) -> &'static str {
            "fragile"
        }
        fn regions(&self) -> Vec<RegionSpec> {
            vec![RegionSpec::new("fragile", Space::Io, 1, AccessRules::BYTES)]
        }
        fn read(&mut self, _: &mut dyn Context, _: RegionId, _: u64, _: AccessSize) -> u64 {
            u64::from(self.0)
        }
        fn write(&mut self, _: &mut dyn Context, _: RegionId, _: u64, _: AccessSize, v: u64) {
            assert!(!(self.0 == 0x42 && v == 0xee), "fragile: 0xee after 0x42");
            self.0 = v as u8;
        }
        fn reset(&mut self) {
            *self = Self::default();
        }
    }

    fn board() -> MachineSpec {
        let mut spec = MachineSpec::default();
        let d = spec.add(Box::new(Fragile::default()));
        spec.map_fixed(d, RegionId(0), 0x80, 0);
        spec
    }
    static BOARD: MachineProfile = MachineProfile::new("board", "", board);
    static TARGETS: &[Target] = &[Target::new("fragile", "", &BOARD, &["fragile"])];

    fn cli(args: &[&str]) -> (u8, String) {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let mut out = Vec::new();
        let code = run("t", TARGETS, &args, &mut out);
        (code, String::from_utf8(out).unwrap())
    }

    #[test]
    fn replay_minimize_and_convert_a_finding() {
        let scratch = tempfile::tempdir().unwrap();
        let dir = scratch.path();
        let crash = dir.join("crash.qtest");
        std::fs::write(
            &crash,
            "outb 0x80 0x1\ninb 0x80\noutb 0x80 0x42\ninb 0x80\noutb 0x80 0xee\noutb 0x80 0x3\n",
        )
        .unwrap();
        let (code, out) = cli(&["replay", "fragile", crash.to_str().unwrap()]);
        assert_eq!(code, 1, "{out}");
        assert!(out.contains("FINDING panic:fragile:"), "{out}");
        let min = dir.join("min.qtest");
        let (code, out) = cli(&[
            "minimize",
            "fragile",
            crash.to_str().unwrap(),
            "-o",
            min.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{out}");
        let text = std::fs::read_to_string(&min).unwrap();
        let cmds: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(cmds, ["outb 0x80 0x42", "outb 0x80 0xee"], "{text}");
        let bin = dir.join("min.bin");
        let (code, _) = cli(&[
            "convert",
            "fragile",
            min.to_str().unwrap(),
            "-o",
            bin.to_str().unwrap(),
        ]);
        assert_eq!(code, 0);
        let (code, out) = cli(&["replay", "fragile", bin.to_str().unwrap()]);
        assert_eq!(code, 1, "{out}");
        // The binary converts back to the same two commands.
        let back = dir.join("back.qtest");
        cli(&[
            "convert",
            "fragile",
            bin.to_str().unwrap(),
            "-o",
            back.to_str().unwrap(),
        ]);
        let back = std::fs::read_to_string(back).unwrap();
        assert!(back.contains("# outcome: panic:fragile:"), "{back}");
        assert!(back.contains("outb 0x80 0x42\noutb 0x80 0xee\n"), "{back}");
    }

    #[test]
    fn bad_input_is_one_line_and_exit_2() {
        let scratch = tempfile::tempdir().unwrap();
        let dir = scratch.path();
        let bad = dir.join("bad.qtest");
        std::fs::write(&bad, "outb 0x80\n").unwrap();
        for args in [
            vec!["replay", "fragile", bad.to_str().unwrap()],
            vec!["replay", "nope", "x"],
            vec!["replay", "fragile", "/nonexistent/file"],
            vec!["replay"],
            vec!["frobnicate"],
            vec![
                "convert",
                "fragile",
                bad.to_str().unwrap(),
                "-o",
                bad.to_str().unwrap(),
            ],
            vec!["determinism", "fragile", "x", "--pause-ms", "soon"],
            vec!["qtest", "--machine", "board,ram=1"],
        ] {
            assert_eq!(cli(&args).0, 2, "{args:?}");
        }
    }

    #[test]
    fn seeds_become_a_corpus_and_regressions_replay() {
        let scratch = tempfile::tempdir().unwrap();
        let dir = scratch.path();
        let seeds = dir.join("seeds");
        std::fs::create_dir_all(&seeds).unwrap();
        std::fs::write(seeds.join("probe.qtest"), "outb 0x80 0x1\ninb 0x80\n").unwrap();
        let corpus = dir.join("corpus");
        let (code, out) = cli(&[
            "seeds",
            "fragile",
            seeds.to_str().unwrap(),
            corpus.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{out}");
        assert!(corpus.join("seed-probe").is_file());
        let (code, out) = cli(&[
            "determinism",
            "fragile",
            corpus.to_str().unwrap(),
            "--pause-ms",
            "1",
        ]);
        assert_eq!(code, 0, "{out}");
        assert!(out.contains("0 of 1 inputs"), "{out}");

        let regs = dir.join("regressions/fragile");
        std::fs::create_dir_all(&regs).unwrap();
        std::fs::write(
            regs.join("fixed.qtest"),
            "# bug: none\n# signature: -\n# expect: ok\noutb 0x80 0xee\n",
        )
        .unwrap();
        std::fs::write(
            regs.join("known.qtest"),
            "# bug: planted\n# signature: panic:fragile\n# expect: panic:fragile\noutb 0x80 0x42\noutb 0x80 0xee\n",
        )
        .unwrap();
        let (code, out) = cli(&["regressions", dir.join("regressions").to_str().unwrap()]);
        assert_eq!(code, 0, "{out}");
        assert_eq!(out.matches(": ok (expect").count(), 2, "{out}");
    }

    #[test]
    fn the_qtest_server_reports_a_finding_and_stops() {
        let mut reply = Vec::new();
        let code = qtest_server(
            &BOARD,
            &mut &b"outb 0x80 0x42\ninb 0x80\noutb 0x80 0xee\ninb 0x80\n"[..],
            &mut reply,
        )
        .unwrap();
        assert_eq!(code, 1);
        let reply = String::from_utf8(reply).unwrap();
        assert!(
            reply.starts_with("OK\nOK 0x0042\nFAIL finding panic:fragile:"),
            "{reply}"
        );
        assert_eq!(reply.lines().count(), 3, "{reply}");
    }
}
