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

mod baseline;
mod bench;
mod bench_config;
mod bench_corpora;
mod bench_findings;
mod bench_in_process;
mod bench_libfuzzer;
mod bench_same_inputs;
mod bench_time_to_bug;
mod campaign;
mod convert;
mod coverage;
mod coverage_unreached;
mod differential;
mod engine_log;
mod engines;
mod error;
mod fuzz_build;
mod input_file;
mod interrupt;
mod list;
mod minimize;
mod output_file;
mod qtest_client;
mod qtest_lines;
mod qtest_server;
mod record;
mod replay;
mod session;
mod setup;
mod trace;

use clap::{Parser, Subcommand};
use differential::ReferenceArgs;
use error::{CliResult, UsageError};
use harness::machine::MachineOptions;
use session::Session;
use setup::{Reentrancy, RunFlags, find_target, target_builder, workspace_root};
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
    #[arg(long, default_value_t = campaign::DEFAULT_TIMEOUT_SECS)]
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
    /// libFuzzer builds: which crates get edge coverage and compare tracing (see
    /// `bench/results.md` for how the default was chosen).
    #[arg(long, value_enum, default_value_t = fuzz_build::Instrument::DEFAULT)]
    instrument: fuzz_build::Instrument,
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
        /// Instrumentation of the fuzz builds (comma-separated): which crates get edge
        /// coverage and compare tracing. Several are measured side by side.
        #[arg(long, value_enum, value_delimiter = ',', default_values_t = [fuzz_build::Instrument::DEFAULT])]
        instrument: Vec<fuzz_build::Instrument>,
        /// Also build this git revision (in a worktree under target/baseline/) and measure it
        /// side by side with this tree: exec/s ratios new/old per target, same seeds, and
        /// in-process programs/s of both builds (only those with --in-process-only).
        #[arg(long)]
        baseline: Option<String>,
        /// Instrumentation of the baseline build (`full`: how every revision before
        /// `--instrument` built).
        #[arg(long, value_enum, default_value = "full")]
        baseline_instrument: fuzz_build::Instrument,
        /// Rounds of a side-by-side run (each build measured once per round, in turn).
        #[arg(long, default_value_t = 3)]
        rounds: u32,
        /// Also measure the line coverage of each target's own device files by the corpus of
        /// its exec/s run (a coverage build per target, as `devfuzz coverage`); the runs then
        /// take the target's dictionary and `-seed=1`. With `--exec-seconds 600`: the figure
        /// after 10 minutes from the seeds. (Side-by-side runs always measure it.)
        #[arg(long)]
        device_lines: bool,
        /// Measure nothing: write bench/results.md (and the plot) again from
        /// bench/results.json, e.g. after editing its notes.
        #[arg(long)]
        report_only: bool,
    },
    /// Line coverage of the models from a corpus: a per-file table and an HTML report.
    Coverage {
        /// Fuzz target (see `devfuzz list`).
        target: String,
        /// Corpus directory (default: the target's seeds, converted into fuzz/corpus/`<target>`).
        #[arg(long)]
        corpus: Option<PathBuf>,
        /// List this many of the largest unreached blocks of the target's device files (0: none).
        #[arg(long, default_value_t = 10)]
        unreached: usize,
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
    /// Minimise a crashing input and store it as `regressions/<target>/<name>.qtest`.
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
    /// that differ by register and write each group's smallest input to `fuzz/diffs/<target>/`.
    DiffCorpus {
        /// Fuzz target (see `devfuzz list`).
        target: String,
        /// The other qtest server's command line.
        #[arg(long, value_name = "CMD")]
        against: String,
        /// Corpus directory (default: fuzz/corpus/`<target>`).
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
        Command::Coverage {
            target,
            corpus,
            unreached,
        } => coverage_cmd(&target, corpus.as_deref(), unreached),
        Command::List => list::list(),
        Command::Bench {
            exec_seconds,
            trials,
            trial_seconds,
            in_process_only,
            sanitizer,
            targets,
            time_to_bug,
            jobs,
            instrument,
            baseline,
            baseline_instrument,
            rounds,
            device_lines,
            report_only,
        } => bench_cmd(
            report_only,
            bench::BenchConfig {
                root: PathBuf::new(),
                exec_seconds,
                trials,
                trial_seconds,
                in_process_only,
                sanitizer: sanitizer.as_str().to_string(),
                targets,
                bugs: time_to_bug,
                jobs,
                instruments: instrument,
                baseline,
                baseline_instrument,
                rounds,
                device_lines,
            },
        ),
        Command::Fuzz(args) => fuzz(session, args),
        Command::Replay {
            target,
            files,
            flags,
        } => replay::replay(session, &target, &files, &flags),
        Command::Qtest { machine, flags } => qtest_server::qtest_server(session, &machine, &flags),
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
        } => differential::diff_corpus_cmd(session, &target, &against, corpus, timeout, limit),
        Command::Convert {
            target,
            input,
            output,
        } => convert::convert(session, &target, &input, &output),
        Command::Minimize {
            target,
            input,
            output,
            reentrancy,
            max_runs,
            watch,
        } => minimize::minimize_cmd(
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
        } => minimize::regress(session, &target, &input, &name, bug, found_by, force),
    };
    match result {
        Ok(code) => code,
        Err(UsageError(msg)) => {
            eprintln!("devfuzz: error: {msg}");
            ExitCode::from(2)
        }
    }
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
        instrument,
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
        instrument,
        engine,
        record,
        reentrancy: reentrancy.into(),
    };
    interrupt::catch("triage");
    let groups = campaign.run().map_err(UsageError)?;
    campaign::print_summary(target, &groups, &root);
    Ok(if groups.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn bench_cmd(report_only: bool, mut cfg: bench::BenchConfig) -> CliResult {
    let root = workspace_root()?;
    cfg.root = root.clone();
    if report_only {
        let results = bench::load(&root)
            .map_err(UsageError)?
            .ok_or_else(|| UsageError("no bench/results.json to report".into()))?;
        bench::write(&root, &results).map_err(UsageError)?;
        say!("wrote bench/results.md from bench/results.json");
        return Ok(ExitCode::SUCCESS);
    }
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
    interrupt::catch("the bench removes its working corpora and stops");
    let results = bench::run(&cfg).map_err(UsageError)?;
    // Read as the run ends, so a run that ended meanwhile keeps its figures.
    let old = bench::load(&root).map_err(UsageError)?;
    let results = match old {
        Some(old) => results.merged_over(old),
        None => results,
    };
    bench::write(&root, &results).map_err(UsageError)?;
    say!(
        "{}",
        std::fs::read_to_string(root.join("bench/results.md")).unwrap_or_default()
    );
    // Last, where it is seen: the bench succeeded, but its runs crashed or hung.
    for (i, line) in results.findings.iter().enumerate() {
        if i == 0 {
            say!("bench: {line}");
        } else {
            say!("  {line}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn coverage_cmd(target: &str, corpus: Option<&Path>, unreached: usize) -> CliResult {
    let target = find_target(target)?;
    let root = workspace_root()?;
    if let Some(done) = dry_run(format_args!("measure coverage of {}", target.name)) {
        return done;
    }
    let report = coverage::run(&root, target.name, corpus, unreached).map_err(UsageError)?;
    say!("{}", report.table);
    if !report.unreached.is_empty() {
        say!(
            "the {} largest unreached blocks of the device files (lines without code inside a block do not break it):",
            report.unreached.len()
        );
        for block in &report.unreached {
            say!("{block}");
        }
        say!("");
    }
    say!(
        "{}'s device files: {:.1}% of lines covered ({} of {}); all of models/: {:.1}%",
        target.name,
        report.device_lines.percent(),
        report.device_lines.covered,
        report.device_lines.total,
        report.line_percent_models
    );
    say!("HTML report: {}", report.html_index.display());
    Ok(ExitCode::SUCCESS)
}
