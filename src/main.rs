//! `devfuzz`: the command-line tool. See README.md for usage by example.

#![forbid(unsafe_code)]

/// `println!` that ignores a reader who went away (`devfuzz replay ... | head`): output is
/// best-effort, the exit code still tells the outcome.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

mod bench;
mod campaign;
mod coverage;
mod differential;
mod engine_log;
mod engines;
mod error;
mod input_file;
mod interrupt;
mod output_file;
mod qtest_client;
mod qtest_lines;
mod record;
mod trace;

use clap::{Parser, Subcommand, ValueEnum};
use differential::ReferenceArgs;
use error::{CliResult, UsageError};
use harness::machine::{MachineOptions, ReentrancyMode};
use harness::outcome::Outcome;
use harness::qtest;
use harness::runner::{Runner, Step};
use harness::target::{MachineProfile, Target};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "devfuzz",
    version,
    about = "Coverage-guided fuzzing harness for emulated device models"
)]
struct Cli {
    /// Planted bugs to activate (comma-separated ids or `all`; overrides DEVFUZZ_BUGS). Needs a
    /// build with `--features planted-bugs`.
    #[arg(long, global = true, value_name = "IDS")]
    bugs: Option<String>,
    /// Options of the target's machine profile, comma-separated key=value (e.g.
    /// `hda=none,hdc=cdrom-empty`; `devfuzz list` shows each profile's); overrides
    /// DEVFUZZ_MACHINE_OPTS and reaches fuzz engines through it.
    #[arg(short = 'O', long, global = true, value_name = "OPTS")]
    machine_opts: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum Reentrancy {
    /// Block accesses into an engaged device (QEMU >= 8.1 behaviour).
    Guard,
    /// Report them as findings.
    Detect,
}

impl From<Reentrancy> for ReentrancyMode {
    fn from(r: Reentrancy) -> Self {
        match r {
            Reentrancy::Guard => ReentrancyMode::Guard,
            Reentrancy::Detect => ReentrancyMode::Detect,
        }
    }
}

#[derive(clap::Args)]
struct RunFlags {
    /// Print trace events whose names match these globs (comma-separated), e.g. 'ps2_*'.
    #[arg(long, value_name = "GLOB")]
    trace: Option<trace::Filter>,
    /// What to do with DMA re-entrancy.
    #[arg(long, value_enum, default_value = "guard")]
    reentrancy: Reentrancy,
    #[command(flatten)]
    observe: record::ObserveFlags,
}

impl RunFlags {
    fn options(&self) -> MachineOptions {
        if let Some(filter) = &self.trace {
            trace::enable(filter.clone());
        }
        MachineOptions {
            reentrancy: self.reentrancy.into(),
            ..MachineOptions::default()
        }
    }
}

/// Options of `devfuzz fuzz`.
#[derive(clap::Args)]
struct FuzzArgs {
    /// Fuzz target (see `devfuzz list`).
    target: String,
    /// Seconds to fuzz.
    #[arg(long, default_value_t = 60)]
    time: u64,
    /// Parallel fuzzing processes.
    #[arg(short = 'j', long, default_value_t = 1)]
    jobs: u32,
    /// Largest input in bytes.
    #[arg(long, default_value_t = 4096)]
    max_len: usize,
    /// Per-input timeout in seconds.
    #[arg(long, default_value_t = 10)]
    timeout: u64,
    /// Memory limit per fuzzing process in MiB.
    #[arg(long, default_value_t = 2048)]
    rss_limit_mb: u64,
    /// The fuzzer: libfuzzer (cargo-fuzz), afl (cargo-afl) or honggfuzz (cargo hfuzz).
    #[arg(long, value_enum, ignore_case = true, default_value = "libfuzzer")]
    engine: engines::EngineName,
    /// cargo-fuzz sanitizer. Harness and models have no `unsafe`, so the default is none:
    /// about six times the exec/s of AddressSanitizer.
    #[arg(long, value_enum, default_value = "none")]
    sanitizer: engines::libfuzzer::Sanitizer,
    /// Triage writes each reproducer's access record beside it (`<artifact>.record.qtest`):
    /// every access with its answer, DMA, IRQs and timers.
    #[arg(long)]
    record: bool,
    /// Re-entrancy mode of the fuzz binaries: guard (QEMU >= 8.1) or detect (every DMA into an
    /// engaged device is a crash: do the guard's fixes hold up?). Sets DEVFUZZ_REENTRANCY.
    #[arg(long, value_enum, default_value = "guard")]
    reentrancy: Reentrancy,
}

#[derive(Subcommand)]
enum Command {
    /// List fuzz targets, machines, their devices and regions.
    List,
    /// Run inputs (binary, or `.qtest` text) on a target and print each outcome.
    Replay {
        /// Fuzz target (see `devfuzz list`).
        target: String,
        /// Input files; `.qtest` files are text traces, anything else a binary input.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[command(flatten)]
        flags: RunFlags,
    },
    /// Serve QEMU's qtest protocol on stdin/stdout for a machine, starting cold.
    Qtest {
        /// Machine profile (see `devfuzz list`), optionally with options: `pc,hda=none`.
        #[arg(long, short = 'M')]
        machine: String,
        #[command(flatten)]
        flags: RunFlags,
    },
    /// The main job: fuzz a target (libFuzzer, AFL++ or honggfuzz), then triage every new crash.
    Fuzz(FuzzArgs),
    /// Measure exec/s, in-process programs/s, time-to-bug and minimisation; write bench/.
    Bench {
        /// Seconds of libFuzzer per exec/s figure.
        #[arg(long, default_value_t = 20)]
        exec_seconds: u64,
        /// Trials per planted bug.
        #[arg(long, default_value_t = 10)]
        trials: u32,
        /// Time limit of one trial in seconds.
        #[arg(long, default_value_t = 600)]
        trial_seconds: u64,
        /// Only the in-process figures (no cargo-fuzz).
        #[arg(long)]
        in_process_only: bool,
        /// cargo-fuzz sanitizer for the engine measurements.
        #[arg(long, value_enum, default_value = "none")]
        sanitizer: engines::libfuzzer::Sanitizer,
        /// Measure only these targets (comma-separated; default all). Results are merged into
        /// the existing bench/results.json.
        #[arg(long, value_delimiter = ',')]
        targets: Option<Vec<String>>,
        /// Time only these planted bugs (comma-separated ids, or `none`; default: every bug of
        /// the measured targets). Without `--targets`, only these bugs are timed (no exec/s).
        #[arg(long, value_delimiter = ',')]
        time_to_bug: Option<Vec<String>>,
        /// Time-to-bug trials run at once (one libFuzzer process each; at most one per core
        /// keeps the times honest).
        #[arg(short, long, default_value_t = 1)]
        jobs: usize,
    },
    /// Line coverage of the models from a corpus: a per-file table and an HTML report.
    Coverage {
        /// Fuzz target (see `devfuzz list`).
        target: String,
        /// Corpus directory (default: the target's seeds, converted into fuzz/corpus/<target>).
        #[arg(long)]
        corpus: Option<PathBuf>,
    },
    /// Minimise a crashing input (binary or `.qtest`) to a 1-minimal trace with the same signature.
    Minimize {
        /// Fuzz target the input belongs to.
        target: String,
        /// The crashing input.
        input: PathBuf,
        /// Where to write the minimised `.qtest` trace.
        #[arg(short, long)]
        output: PathBuf,
        /// Re-entrancy mode to reproduce in (default: guard, falling back to detect).
        #[arg(long, value_enum)]
        reentrancy: Option<Reentrancy>,
        /// Stop after this many trace replays and keep the best trace so far (a slow crash
        /// can otherwise take long); default: no limit, the result is 1-minimal.
        #[arg(long)]
        max_runs: Option<usize>,
        /// Minimise down to the first device DMA that touches this range (a `watch` finding,
        /// as `replay --watch RANGE --watch-break` reports it); repeatable.
        #[arg(long = "watch", value_name = "ADDR[+LEN][:r|w|rw]")]
        watch: Vec<harness::observe::Watch>,
    },
    /// Minimise a crashing input and store it as regressions/<target>/<name>.qtest.
    Regress {
        /// Fuzz target the input belongs to.
        target: String,
        /// The crashing input.
        input: PathBuf,
        /// File name (letters, digits, '-' and '_').
        #[arg(long)]
        name: String,
        /// One line describing the bug (default: the finding).
        #[arg(long)]
        bug: Option<String>,
        /// How it was found (default: the input's path).
        #[arg(long)]
        found_by: Option<String>,
        /// Replace an existing file of that name.
        #[arg(long)]
        force: bool,
    },
    /// Run a check program (qtest with `=> VALUE[/MASK]` on reads) and score the answers:
    /// exit 0 all match, 1 a divergence, 2 bad input.
    Check {
        /// The program (a record, an import, or written by hand; `.gz` is read as gzip).
        program: PathBuf,
        /// Machine profile with options (default: the program's `# machine:` line).
        #[arg(long, short = 'M')]
        machine: Option<String>,
        #[command(flatten)]
        reference: ReferenceArgs,
        #[command(flatten)]
        flags: RunFlags,
    },
    /// Turn a QEMU trace-event log (-trace memory_region_ops_* -trace pci_cfg_* -trace
    /// pci_update_mappings_*) into a check program for one device.
    Import {
        /// The log (`-D FILE`; `.gz` is read as gzip).
        log: PathBuf,
        /// The device on the devfuzz machine (see `devfuzz list`).
        #[arg(long)]
        device: String,
        /// Machine profile with options the program is for.
        #[arg(long, short = 'M', default_value = "pc")]
        machine: String,
        /// The device's name in QEMU's pci_cfg events, where it differs.
        #[arg(long)]
        qemu_name: Option<String>,
        /// Smallest timestamp gap (ns) written as a clock_step.
        #[arg(long, default_value_t = 100_000)]
        min_gap_ns: u64,
        /// Where to write the program.
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Compare two records (`diff A B`), or run a program here and on another qtest server
    /// in lockstep (`diff PROGRAM --against CMD`) and report every read that differs.
    Diff {
        /// A record, check program or any qtest trace.
        a: PathBuf,
        /// The second record (without --against).
        b: Option<PathBuf>,
        /// Machine profile with options (with --against; default: the program's header).
        #[arg(long, short = 'M')]
        machine: Option<String>,
        #[command(flatten)]
        reference: ReferenceArgs,
        /// With --against: write the program with the reference's answers as a check program.
        #[arg(long, value_name = "FILE")]
        write_check: Option<PathBuf>,
    },
    /// Run every corpus entry of a target here and on another qtest server; group the reads
    /// that differ by register and write each group's smallest input to fuzz/diffs/<target>/.
    DiffCorpus {
        /// Fuzz target (see `devfuzz list`).
        target: String,
        /// The other qtest server's command line.
        #[arg(long, value_name = "CMD")]
        against: String,
        /// Corpus directory (default: fuzz/corpus/<target>).
        #[arg(long)]
        corpus: Option<PathBuf>,
        /// Seconds to wait for each answer.
        #[arg(long, default_value_t = 10)]
        timeout: u64,
        /// Compare at most this many entries (in name order).
        #[arg(long, default_value_t = 1000)]
        limit: usize,
    },
    /// Convert between a binary input and a `.qtest` trace (direction from the input's name).
    Convert {
        /// Fuzz target the input belongs to.
        target: String,
        /// Input file (`.qtest` text, or binary).
        input: PathBuf,
        /// Output file.
        #[arg(short, long)]
        output: PathBuf,
    },
}

/// What this invocation's global flags chose, read once in `main` and handed to the commands
/// that build machines: `-O` (or `DEVFUZZ_MACHINE_OPTS`) and `--bugs` (or `DEVFUZZ_BUGS`).
#[derive(Clone, Debug, Default)]
pub struct Session {
    /// The machine options (`key=value,...`), empty for the defaults.
    pub machine_opts: String,
    /// The planted bugs (comma-separated ids), empty for none.
    pub bugs: String,
}

/// The builder of `profile` with `extra` options (from `--machine NAME,OPTS`), `-O` and the
/// planted bugs `bugs` (comma-separated ids: its `bugs` option).
fn machine_builder(
    session: &Session,
    profile: &MachineProfile,
    extra: &str,
    bugs: &str,
) -> Result<harness::target::Builder, UsageError> {
    let opts = [extra, &session.machine_opts]
        .into_iter()
        .filter(|o| !o.trim().is_empty())
        .collect::<Vec<_>>()
        .join(",");
    profile
        .builder(&harness::target::with_bugs(&opts, bugs))
        .map_err(|e| UsageError(e.to_string()))
}

/// [`machine_builder`] for a target's machine, refusing options that take away a device the
/// target fuzzes (`-O nic=igb` on `e1000e`).
fn target_builder(
    session: &Session,
    target: &Target,
    extra: &str,
    bugs: &str,
) -> Result<harness::target::Builder, UsageError> {
    let build = machine_builder(session, target.machine, extra, bugs)?;
    let missing = target.missing_devices(&build);
    if !missing.is_empty() {
        return Err(UsageError(format!(
            "target {} fuzzes device '{}', which machine {} does not have with options '{}'",
            target.name,
            missing.join("', '"),
            target.machine.name,
            [extra, session.machine_opts.as_str()]
                .into_iter()
                .filter(|o| !o.trim().is_empty())
                .collect::<Vec<_>>()
                .join(",")
        )));
    }
    Ok(build)
}

/// The planted bugs `--bugs` (or else `DEVFUZZ_BUGS`) selects, checked.
fn select_bugs(flag: Option<&str>) -> Result<String, UsageError> {
    let ids = match flag {
        Some(ids) => ids.to_string(),
        None => std::env::var(models::planted::ENV_VAR).unwrap_or_default(),
    };
    if !ids.trim().is_empty() && !models::planted::ENABLED_IN_BUILD {
        return Err(UsageError(format!(
            "planted bugs '{ids}' requested, but this devfuzz was built without them: cargo run --release --features planted-bugs -- ..."
        )));
    }
    models::planted::Selection::parse(&ids).map_err(|e| UsageError(e.to_string()))?;
    Ok(ids.trim().to_string())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let bugs = match select_bugs(cli.bugs.as_deref()) {
        Ok(bugs) => bugs,
        Err(UsageError(msg)) => {
            eprintln!("devfuzz: error: {msg}");
            return ExitCode::from(2);
        }
    };
    if cli
        .machine_opts
        .as_deref()
        .is_some_and(|o| o.trim().is_empty())
    {
        eprintln!("devfuzz: error: -O needs key=value options (see `devfuzz list`)");
        return ExitCode::from(2);
    }
    let session = Session {
        machine_opts: cli
            .machine_opts
            .clone()
            .or_else(|| std::env::var(harness::entry::MACHINE_OPTS_VAR).ok())
            .unwrap_or_default(),
        bugs,
    };
    // One way to select planted bugs, the one reproducer headers record (`# planted:`).
    if harness::target::parse_options(&session.machine_opts)
        .is_ok_and(|items| items.iter().any(|(k, _)| k == harness::target::BUGS_OPTION))
    {
        eprintln!(
            "devfuzz: error: -O {}=...: select planted bugs with --bugs (or DEVFUZZ_BUGS)",
            harness::target::BUGS_OPTION
        );
        return ExitCode::from(2);
    }
    let session = &session;
    let result = match cli.command {
        Command::Coverage { target, corpus } => coverage_cmd(&target, corpus.as_deref()),
        Command::List => list(),
        Command::Bench {
            exec_seconds,
            trials,
            trial_seconds,
            in_process_only,
            sanitizer,
            targets,
            time_to_bug,
            jobs,
        } => bench_cmd(bench::BenchConfig {
            root: PathBuf::new(),
            exec_seconds,
            trials,
            trial_seconds,
            in_process_only,
            sanitizer: sanitizer.as_str().to_string(),
            targets,
            bugs: time_to_bug,
            jobs,
        }),
        Command::Fuzz(args) => fuzz(session, args),
        Command::Replay {
            target,
            files,
            flags,
        } => replay(session, &target, &files, &flags),
        Command::Qtest { machine, flags } => qtest_server(session, &machine, &flags),
        Command::Check {
            program,
            machine,
            reference,
            flags,
        } => {
            let opts = flags.options();
            differential::check_cmd(session, &program, machine, &reference, &flags.observe, opts)
        }
        Command::Import {
            log,
            device,
            machine,
            qemu_name,
            min_gap_ns,
            output,
        } => differential::import_cmd(
            session,
            &log,
            &machine,
            harness::qemu_log::ImportOptions {
                device,
                qemu_name,
                min_gap_ns,
                ..Default::default()
            },
            &output,
        ),
        Command::Diff {
            a,
            b,
            machine,
            reference,
            write_check,
        } => match (b, reference.against.clone()) {
            (Some(b), None) => {
                if machine.is_some() || write_check.is_some() {
                    Err(UsageError(
                        "--machine and --write-check go with --against, not with two records"
                            .into(),
                    ))
                } else {
                    differential::diff_records(&a, &b, reference.registers)
                }
            }
            (None, Some(cmd)) => differential::diff_against(
                session,
                &a,
                machine,
                &cmd,
                &reference,
                write_check.as_deref(),
                MachineOptions::default(),
            ),
            (Some(_), Some(_)) => Err(UsageError(
                "give two records, or one program and --against, not both".into(),
            )),
            (None, None) => Err(UsageError(
                "diff needs two records, or one program and --against CMD".into(),
            )),
        },
        Command::DiffCorpus {
            target,
            against,
            corpus,
            timeout,
            limit,
        } => diff_corpus_cmd(session, &target, &against, corpus, timeout, limit),
        Command::Convert {
            target,
            input,
            output,
        } => convert(session, &target, &input, &output),
        Command::Minimize {
            target,
            input,
            output,
            reentrancy,
            max_runs,
            watch,
        } => minimize_cmd(
            session,
            &target,
            &input,
            &output,
            reentrancy,
            max_runs.unwrap_or(usize::MAX),
            &watch,
        ),
        Command::Regress {
            target,
            input,
            name,
            bug,
            found_by,
            force,
        } => regress(session, &target, &input, &name, bug, found_by, force),
    };
    match result {
        Ok(code) => code,
        Err(UsageError(msg)) => {
            eprintln!("devfuzz: error: {msg}");
            ExitCode::from(2)
        }
    }
}

fn find_target(name: &str) -> Result<&'static Target, UsageError> {
    models::target(name).ok_or_else(|| {
        let names: Vec<&str> = models::TARGETS.iter().map(|t| t.name).collect();
        UsageError(format!(
            "unknown target '{name}' (targets: {})",
            names.join(", ")
        ))
    })
}

/// A runner for `target` set up as `setup` says (its machine options, work budget), in
/// `mode`.
fn setup_runner(
    session: &Session,
    target: &Target,
    setup: &input_file::Setup,
    mode: ReentrancyMode,
) -> Result<Runner, UsageError> {
    let defaults = MachineOptions::default();
    let opts = MachineOptions {
        reentrancy: mode,
        work_per_input: setup.work_per_input.unwrap_or(defaults.work_per_input),
        ..defaults
    };
    Ok(Runner::with_builder(
        target,
        target_builder(session, target, &setup.machine_opts, &setup.planted)?,
        opts,
    ))
}

fn list() -> CliResult {
    say!("targets:");
    for t in models::TARGETS {
        say!(
            "  {:<10} machine {:<6} {}",
            t.name,
            t.machine.name,
            t.description
        );
    }
    say!(
        "planted bugs ({}):",
        if models::planted::ENABLED_IN_BUILD {
            "built in; select with --bugs or DEVFUZZ_BUGS"
        } else {
            "not in this build: --features planted-bugs"
        }
    );
    for b in models::planted::BUGS {
        say!(
            "  {:<22} target {:<4} {:<9} {}",
            b.id,
            b.target,
            b.device,
            b.cites
        );
    }
    say!("machines:");
    for profile in models::MACHINES {
        say!("  {:<10} {}", profile.name, profile.description);
        for o in profile.options {
            say!("    option {}={}", o.key, o.help);
        }
        let mut runner = Runner::for_machine(profile, MachineOptions::default());
        let m = runner.machine();
        let pci = m.pci_functions();
        for d in 0..m.device_count() {
            let id = harness::device::DeviceId(d as u16);
            let at = pci
                .iter()
                .find(|(_, dev)| *dev == id)
                .map(|(b, _)| format!(" pci {b}"))
                .unwrap_or_default();
            say!("    device {}{at}", m.device_name(id));
            for (r, spec) in m.device_regions(id).iter().enumerate() {
                let backing =
                    harness::space::Backing::Device(id, harness::device::RegionId(r as u16));
                let place = m
                    .space(spec.space)
                    .mapping_of(backing)
                    .map(|mp| format!("at {:#x}", mp.base))
                    .unwrap_or_else(|| "unmapped (BAR)".to_string());
                say!(
                    "      region {:<16} {:?} size {:#x} {place}",
                    spec.name,
                    spec.space,
                    spec.size
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_outcome(path: &Path, outcome: &Outcome) {
    match outcome {
        Outcome::Ok { ops, .. } => say!("{}: ok ({ops} ops)", path.display()),
        Outcome::Finding(f) => {
            say!("{}: FINDING {}", path.display(), f.signature());
            say!("  {}", f.message);
            say!("  during op {}", f.op_index);
            for frame in &f.backtrace {
                say!("    at {frame}");
            }
        }
    }
}

/// What makes two inputs' runners the same: machine options, input work budget, re-entrancy
/// mode and planted bugs.
type RunnerKey = (String, Option<u64>, ReentrancyMode, String);

fn replay(session: &Session, target: &str, files: &[PathBuf], flags: &RunFlags) -> CliResult {
    harness::outcome::capture_backtraces(true);
    let target = find_target(target)?;
    let opts = flags.options();
    target_builder(session, target, "", &session.bugs)?; // refuse bad -O options before reading any file
    if flags.observe.active() {
        let mut runner = Runner::with_builder(
            target,
            target_builder(session, target, "", &session.bugs)?,
            opts,
        );
        return replay_observed(session, target, &mut runner, files, flags);
    }
    let mut found = false;
    // Inputs with the same setup share one runner (a corpus replays without building a
    // machine per file); the planted bugs are part of the key, devices read them when built.
    let mut cached: Option<(RunnerKey, Runner)> = None;
    for path in files {
        let input = input_file::load_by_name(path)?;
        let setup = input_file::Setup::apply(&input, session)?;
        // A reproducer found in detect mode replays in detect mode.
        let mode = match (opts.reentrancy, setup.reentrancy) {
            (ReentrancyMode::Guard, Some(recorded)) => recorded,
            (mode, _) => mode,
        };
        let key = (
            setup.machine_opts.clone(),
            setup.work_per_input,
            mode,
            setup.planted.clone(),
        );
        let runner = match &mut cached {
            Some((k, r)) if *k == key => r,
            _ => {
                let r = setup_runner(session, target, &setup, mode)?;
                &mut cached.insert((key, r)).1
            }
        };
        let outcome = match input.form {
            input_file::Form::Text => runner
                .run_trace(&input.trace)
                .map_err(|e| UsageError(format!("{}: {e}", path.display())))?,
            input_file::Form::Binary => runner.run_input(&input.bytes),
        };
        found |= outcome.finding().is_some();
        print_outcome(path, &outcome);
        if let Outcome::Ok { ops, .. } = outcome
            && input.form == input_file::Form::Text
            && ops < input.trace.len()
        {
            say!(
                "  stopped after {ops} of {} commands: the input's work budget is spent{}",
                input.trace.len(),
                if setup.may_stop {
                    " (its header allows it)"
                } else {
                    " ('# work-per-input: none' in its header lifts it)"
                }
            );
        }
    }
    Ok(if found {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The record header naming the machine and its options.
fn record_header(session: &Session, machine: &str, opts: MachineOptions) -> Vec<String> {
    let extra = &session.machine_opts;
    vec![
        format!(
            "machine: {machine}{}",
            if extra.is_empty() {
                String::new()
            } else {
                format!(",{extra}")
            }
        ),
        format!(
            "options: reentrancy={} work_per_op={} work_per_input={}",
            opts.reentrancy.as_str(),
            opts.work_per_op,
            opts.work_per_input
        ),
    ]
}

/// `replay` with `--record` / `--watch`: one input, its log taken command by command.
fn replay_observed(
    session: &Session,
    target: &Target,
    runner: &mut Runner,
    files: &[PathBuf],
    flags: &RunFlags,
) -> CliResult {
    if flags.observe.record.is_some() && files.len() > 1 {
        return Err(UsageError(
            "--record takes one input (a record is one run)".into(),
        ));
    }
    let mut header = record_header(session, target.machine.name, runner.machine().options());
    header.push(format!("target: {}", target.name));
    let mut found = false;
    for path in files {
        let mut rec = record::Recorder::create(&flags.observe, &{
            let mut h = header.clone();
            h.push(format!("input: {}", path.display()));
            h
        })?;
        runner.machine().observe(flags.observe.observer());
        let name = path.display().to_string();
        let outcome = if input_file::is_text_name(path) {
            let program = differential::load_program(path)?;
            let lines: Vec<usize> = program.lines.iter().map(|l| l.number).collect();
            runner
                .run_trace_each(&program.commands(), |i, m| {
                    rec.take(m, &format!("{name}:{}", lines[i]))
                })
                .map_err(|e| UsageError(format!("{}: {e}", path.display())))?
        } else {
            let bytes = input_file::read_bytes(path)?;
            runner.run_input_each(&bytes, |i, m| rec.take(m, &format!("op {i}")))
        };
        rec.take(runner.machine(), "the end of the input");
        rec.comment(&format!("outcome: {}", outcome.summary()));
        rec.finish()?;
        runner.machine().observe(None);
        found |= outcome.finding().is_some();
        print_outcome(path, &outcome);
    }
    Ok(if found {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn diff_corpus_cmd(
    session: &Session,
    target: &str,
    against: &str,
    corpus: Option<PathBuf>,
    timeout: u64,
    limit: usize,
) -> CliResult {
    let target = find_target(target)?;
    let root = workspace_root()?;
    let corpus = corpus.unwrap_or_else(|| root.join("fuzz/corpus").join(target.name));
    differential::diff_corpus(session, &root, target, &corpus, against, timeout, limit)
}

fn qtest_server(session: &Session, machine: &str, flags: &RunFlags) -> CliResult {
    // A qtest session is not one fuzz input: no input work budget and all of RAM, as in QEMU.
    let mut runner = differential::session_runner(session, machine, flags.options())?;
    let opts = runner.machine().options();
    harness::outcome::capture_backtraces(true);
    runner.machine().observe(flags.observe.observer());
    let mut rec = record::Recorder::create(&flags.observe, &record_header(session, machine, opts))?;
    let mut line_no = 0usize;
    let mut stdin = std::io::stdin().lock();
    let mut stdout = std::io::stdout().lock();
    let result = qtest_loop(&mut runner, &mut rec, &mut line_no, &mut stdin, &mut stdout);
    rec.finish()?;
    result
}

fn qtest_loop(
    runner: &mut Runner,
    rec: &mut record::Recorder,
    line_no: &mut usize,
    stdin: &mut impl BufRead,
    stdout: &mut impl Write,
) -> CliResult {
    while let Some(line) = qtest_lines::next_line(stdin, qtest::MAX_LINE)
        .map_err(|e| UsageError(format!("reading stdin: {e}")))?
    {
        *line_no += 1;
        let line = match line {
            qtest_lines::Line::Text(bytes) => bytes,
            qtest_lines::Line::TooLong(n) => {
                if writeln!(
                    stdout,
                    "ERR line of {n} bytes is longer than {}",
                    qtest::MAX_LINE
                )
                .and_then(|()| stdout.flush())
                .is_err()
                {
                    break;
                }
                continue;
            }
        };
        let line = String::from_utf8_lossy(&line);
        let reply = match qtest::parse_line(&line) {
            Ok(None) => continue,
            Err(e) => e.reply(),
            Ok(Some(cmd)) => match runner.step(&cmd) {
                Step::Reply(r) => {
                    rec.take(runner.machine(), &format!("stdin:{line_no}"));
                    r
                }
                Step::Error(e) => format!("ERR {e}"),
                Step::Finding(f) => {
                    rec.take(runner.machine(), &format!("stdin:{line_no}"));
                    rec.comment(&format!("outcome: {}", f.signature()));
                    let _ = writeln!(stdout, "FAIL finding {}", f.signature());
                    let _ = stdout.flush();
                    eprintln!("devfuzz: finding: {f}");
                    for frame in &f.backtrace {
                        eprintln!("    at {frame}");
                    }
                    return Ok(ExitCode::from(1));
                }
            },
        };
        if writeln!(stdout, "{reply}")
            .and_then(|()| stdout.flush())
            .is_err()
        {
            break; // the client went away
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn convert(session: &Session, target: &str, input: &Path, output: &Path) -> CliResult {
    let target = find_target(target)?;
    let loaded = input_file::load_by_content(input)?;
    output_file::refuse_overwriting(input, output)?;
    let to_text = loaded.form == input_file::Form::Binary;
    output_file::check_form_name(output, to_text)?;
    let setup = input_file::Setup::apply(&loaded, session)?;
    let mut runner = setup_runner(session, target, &setup, ReentrancyMode::Guard)?;
    let data = if to_text {
        let (cmds, outcome) = runner.input_to_trace(&loaded.bytes);
        let mut text = format!(
            "# devfuzz trace of {} on target {}\n# outcome: {}\n",
            input.display(),
            target.name,
            outcome.summary()
        );
        text.push_str(&setup.header(&session.machine_opts, None).render());
        for c in cmds {
            text.push_str(&c.to_string());
            text.push('\n');
        }
        text.into_bytes()
    } else {
        let encoded = runner
            .trace_to_input(&loaded.trace)
            .map_err(|e| UsageError(format!("{}: {e}", input.display())))?;
        for (i, cmd) in &encoded.dropped {
            eprintln!(
                "devfuzz: note: command {} ('{cmd}') has no binary form on target {}; left out",
                i + 1,
                target.name
            );
        }
        let header = setup.header(&session.machine_opts, None);
        if !header.planted.is_empty() || !header.machine_opts.is_empty() {
            eprintln!(
                "devfuzz: note: a binary input has no header; replay it with{}{}",
                if header.planted.is_empty() {
                    String::new()
                } else {
                    format!(" --bugs {}", header.planted.join(","))
                },
                if header.machine_opts.is_empty() {
                    String::new()
                } else {
                    format!(" -O {}", header.machine_opts)
                }
            );
        }
        encoded.bytes
    };
    output_file::write(output, &data)?;
    Ok(ExitCode::SUCCESS)
}

/// The input as a cold-machine trace (text as written, binary through `input_to_trace`) and
/// the setup it records.
fn load_trace(
    session: &Session,
    target: &Target,
    input: &Path,
) -> Result<(Vec<qtest::Cmd>, input_file::Setup, bool), UsageError> {
    let loaded = input_file::load_by_name(input)?;
    let setup = input_file::Setup::apply(&loaded, session)?;
    let trace = match loaded.form {
        input_file::Form::Text => loaded.trace,
        input_file::Form::Binary => {
            let mut runner = setup_runner(session, target, &setup, ReentrancyMode::Guard)?;
            runner.input_to_trace(&loaded.bytes).0
        }
    };
    Ok((trace, setup, loaded.header_file.is_some()))
}

/// Minimise in `mode`, or in the mode the input records, or in guard then detect mode.
fn minimize_in(
    session: &Session,
    target: &Target,
    trace: &[qtest::Cmd],
    setup: &input_file::Setup,
    mode: Option<ReentrancyMode>,
    max_runs: usize,
    watches: &[harness::observe::Watch],
) -> Result<(harness::minimize::Minimized, ReentrancyMode), UsageError> {
    let modes = match mode.or(setup.reentrancy) {
        Some(m) => vec![m],
        None => vec![ReentrancyMode::Guard, ReentrancyMode::Detect],
    };
    for mode in modes {
        let mut runner = setup_runner(session, target, setup, mode)?;
        if !watches.is_empty() {
            let mut observer = harness::observe::Observer::new(watches.to_vec(), true);
            observer.watch_only = true;
            runner.machine().observe(Some(observer));
        }
        let start = std::time::Instant::now();
        let result = harness::minimize::minimize_bounded(&mut runner, trace, max_runs, |p| {
            eprint!(
                "\rminimize [{}]: {} commands, {} runs   ",
                p.pass, p.commands, p.runs
            );
        });
        match result {
            Ok(m) => {
                eprintln!(
                    "\rminimized {} -> {} commands in {} runs ({:.2} s){}, signature {}",
                    m.original_len,
                    m.trace.len(),
                    m.runs,
                    start.elapsed().as_secs_f64(),
                    if m.budget_exhausted {
                        " — run budget spent, not 1-minimal"
                    } else {
                        ""
                    },
                    m.signature
                );
                return Ok((m, mode));
            }
            Err(harness::minimize::MinimizeError::NoFinding) => continue,
            Err(e) => return Err(UsageError(e.to_string())),
        }
    }
    Err(UsageError(format!(
        "the input gives no finding on target {}{} (nothing to minimise){}",
        target.name,
        if setup.planted.is_empty() {
            String::new()
        } else {
            format!(" with planted bugs {}", setup.planted)
        },
        if setup.planted.is_empty()
            && session.machine_opts.is_empty()
            && setup.machine_opts.is_empty()
        {
            "; a crash from a campaign with planted bugs or machine options needs them again (cargo run --release --features planted-bugs -- --bugs IDS, -O OPTS), or use the .qtest reproducer devfuzz fuzz writes next to it, which records them"
        } else {
            ""
        }
    )))
}

fn minimize_cmd(
    session: &Session,
    target: &str,
    input: &Path,
    output: &Path,
    mode: Option<Reentrancy>,
    max_runs: usize,
    watches: &[harness::observe::Watch],
) -> CliResult {
    let target = find_target(target)?;
    output_file::refuse_overwriting(input, output)?;
    output_file::check_form_name(output, true)?;
    let (trace, setup, _) = load_trace(session, target, input)?;
    let mode = mode.map(ReentrancyMode::from);
    let (m, mode) = minimize_in(session, target, &trace, &setup, mode, max_runs, watches)?;
    let mut text = format!(
        "# minimized from {} ({} -> {} commands) on target {}, reentrancy {}\n# signature: {}\n",
        input.display(),
        m.original_len,
        m.trace.len(),
        target.name,
        mode.as_str(),
        m.signature
    );
    text.push_str(&setup.header(&session.machine_opts, Some(mode)).render());
    for c in &m.trace {
        text.push_str(&format!("{c}\n"));
    }
    output_file::write(output, text.as_bytes())?;
    say!("{}", output.display());
    Ok(ExitCode::SUCCESS)
}

/// The workspace root: the nearest ancestor of the current directory holding `regressions/`
/// and `harness/`.
fn workspace_root() -> Result<PathBuf, UsageError> {
    let cwd = std::env::current_dir().map_err(|e| UsageError(format!("current directory: {e}")))?;
    cwd.ancestors()
        .find(|d| d.join("regressions").is_dir() && d.join("harness").is_dir())
        .map(Path::to_path_buf)
        .ok_or_else(|| UsageError("run this inside the devfuzz tree (no regressions/ folder above the current directory)".into()))
}

/// `kind:device`: the part of a signature that survives edits to the model.
fn signature_prefix(signature: &str) -> String {
    signature
        .splitn(3, ':')
        .take(2)
        .collect::<Vec<_>>()
        .join(":")
}

fn regress(
    session: &Session,
    target: &str,
    input: &Path,
    name: &str,
    bug: Option<String>,
    found_by: Option<String>,
    force: bool,
) -> CliResult {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(UsageError(format!(
            "--name '{name}': use letters, digits, '-' and '_' only"
        )));
    }
    let target = find_target(target)?;
    let root = workspace_root()?;
    let path = root
        .join("regressions")
        .join(target.name)
        .join(format!("{name}.qtest"));
    if path.exists() && !force {
        return Err(UsageError(format!(
            "{} exists (use --force to replace it)",
            path.display()
        )));
    }
    let (trace, setup, _) = load_trace(session, target, input)?;
    let (m, mode) = minimize_in(session, target, &trace, &setup, None, usize::MAX, &[])?;
    let planted: Vec<String> = models::planted::Selection::parse(&setup.planted)
        .map_err(|e| UsageError(e.to_string()))?
        .ids()
        .into_iter()
        .map(String::from)
        .collect();
    let found = signature_prefix(&m.signature);
    let regression = harness::regression::Regression {
        bug: bug.unwrap_or_else(|| format!("{found} found by fuzzing")),
        signature: m.signature.clone(),
        expect: "ok".to_string(),
        expect_without_guard: Some(if mode == ReentrancyMode::Detect {
            found.clone()
        } else {
            "ok".to_string()
        }),
        expect_planted: (!planted.is_empty()).then(|| found.clone()),
        planted: planted.clone(),
        found_by: found_by
            .unwrap_or_else(|| format!("devfuzz fuzz {} ({})", target.name, input.display())),
        header: harness::regression::Header {
            reentrancy: None,
            may_stop: stops_early(session, target, &setup, &m.trace)?,
            ..setup.header(&session.machine_opts, None)
        },
        trace: m.trace,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| UsageError(format!("cannot create {}: {e}", dir.display())))?;
    }
    std::fs::write(&path, regression.render())
        .map_err(|e| UsageError(format!("cannot write {}: {e}", path.display())))?;
    say!(
        "wrote {}",
        path.strip_prefix(&root).unwrap_or(&path).display()
    );
    if mode == ReentrancyMode::Guard && planted.is_empty() {
        say!(
            "note: the bug reproduces under the guard in this build; `cargo test` fails on this file until it is fixed"
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Whether `trace` ends early under the guard because the input work budget runs out (a
/// regression must then say it may).
fn stops_early(
    session: &Session,
    target: &Target,
    setup: &input_file::Setup,
    trace: &[qtest::Cmd],
) -> Result<bool, UsageError> {
    let mut runner = setup_runner(session, target, setup, ReentrancyMode::Guard)?;
    let outcome = runner
        .run_trace(trace)
        .map_err(|e| UsageError(e.to_string()))?;
    Ok(matches!(outcome, Outcome::Ok { ops, .. } if ops < trace.len()))
}

/// `DEVFUZZ_DRY_RUN=1`: commands that start engines (`fuzz`, `bench`, `coverage`) check their
/// arguments and stop there, saying what they would run (the README's examples are tested so).
fn dry_run(what: std::fmt::Arguments<'_>) -> Option<CliResult> {
    if std::env::var_os("DEVFUZZ_DRY_RUN").is_some_and(|v| !v.is_empty() && v != "0") {
        say!("dry run (DEVFUZZ_DRY_RUN): would {what}");
        return Some(Ok(ExitCode::SUCCESS));
    }
    None
}

fn fuzz(session: &Session, args: FuzzArgs) -> CliResult {
    let FuzzArgs {
        target,
        time: seconds,
        jobs,
        max_len,
        timeout,
        rss_limit_mb,
        engine,
        sanitizer,
        record,
        reentrancy,
    } = args;
    let target = target.as_str();
    let target = find_target(target)?;
    if seconds == 0 {
        return Err(UsageError(
            "--time 0: give the campaign's length in seconds, at least 1 (libFuzzer takes 0 as no limit)".into(),
        ));
    }
    if jobs == 0 {
        return Err(UsageError(
            "-j 0: give the number of fuzzing processes, at least 1".into(),
        ));
    }
    let root = workspace_root()?;
    let bugs = models::planted::Selection::parse(&session.bugs)
        .map_err(|e| UsageError(e.to_string()))?
        .to_string();
    target_builder(session, target, "", &session.bugs)?; // refuse bad options before building anything
    if let Some(done) = dry_run(format_args!(
        "fuzz {} for {seconds} s with {jobs} job(s)",
        target.name
    )) {
        return done;
    }
    let campaign = campaign::Campaign {
        root: root.clone(),
        target,
        seconds,
        jobs,
        max_len,
        timeout,
        rss_limit_mb,
        bugs,
        machine_opts: session.machine_opts.clone(),
        sanitizer,
        engine,
        record,
        reentrancy: reentrancy.into(),
    };
    interrupt::catch();
    let groups = campaign.run().map_err(UsageError)?;
    campaign::print_summary(target, &groups, &root);
    Ok(if groups.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn bench_cmd(mut cfg: bench::BenchConfig) -> CliResult {
    let root = workspace_root()?;
    cfg.root = root.clone();
    for t in cfg.targets.iter().flatten() {
        find_target(t)?;
    }
    if let Some(ids) = &mut cfg.bugs {
        ids.retain(|id| id != "none");
        for id in ids.iter() {
            if !models::planted::BUGS.iter().any(|b| b.id == id) {
                return Err(UsageError(format!(
                    "no planted bug '{id}' (see `devfuzz list`)"
                )));
            }
        }
    }
    if let Some(done) = dry_run(format_args!("run the benchmark")) {
        return done;
    }
    let old = bench::load(&root).map_err(UsageError)?;
    let results = bench::run(&cfg).map_err(UsageError)?;
    let results = match old {
        Some(old) => results.merged_over(old),
        None => results,
    };
    bench::write(&root, &results).map_err(UsageError)?;
    say!(
        "{}",
        std::fs::read_to_string(root.join("bench/results.md")).unwrap_or_default()
    );
    Ok(ExitCode::SUCCESS)
}

fn coverage_cmd(target: &str, corpus: Option<&Path>) -> CliResult {
    let target = find_target(target)?;
    let root = workspace_root()?;
    if let Some(done) = dry_run(format_args!("measure coverage of {}", target.name)) {
        return done;
    }
    let report = coverage::run(&root, target.name, corpus).map_err(UsageError)?;
    say!("{}", report.table);
    say!(
        "models: {:.1}% of lines covered",
        report.line_percent_models
    );
    say!("HTML report: {}", report.html_index.display());
    Ok(ExitCode::SUCCESS)
}
