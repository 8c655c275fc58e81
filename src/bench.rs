//! `devfuzz bench`: the figures the README quotes, measured and written to `bench/`.
//!
//! - exec/s of each target under libFuzzer (release build) next to an empty libFuzzer target
//!   run on the same machine in the same run (the engine's floor);
//! - in-process programs/s without an engine;
//! - time-to-bug per planted bug over N fresh campaigns (found count, median, min, max) and a
//!   survival plot;
//! - minimisation time of a 1000-op crashing input.
//!
//! `--baseline REV` and several `--instrument`s measure builds side by side instead: per round,
//! per target, each build runs once on the same seeds, dictionary and libFuzzer seed, and the
//! figure is the ratio of exec/s to the first build in the same round, with the line coverage of
//! the target's own device files reached by the last round's corpus.
//!
//! `--targets` and `--time-to-bug` narrow a run; its figures are merged into the existing
//! `bench/results.json` (replacing the entries measured again, keeping the rest), so a long
//! campaign can be measured piece by piece. Each exec/s figure keeps the empty target's rate
//! from its own run, so ratios stay honest across merged runs.

pub use crate::bench_config::{BenchConfig, TimeToBug};
use crate::bench_corpora::Corpora;
use crate::bench_findings::RunArtifacts;
pub use crate::bench_in_process::InProcessSideBySide;
use crate::bench_libfuzzer::{dict_of, libfuzzer, stop_if_interrupted};
use crate::bench_time_to_bug::{Leftovers, TrialBuild, time_to_bug};
use crate::fuzz_build::{FuzzBuild, Instrument};
use harness::runner::Runner;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// One exec/s figure.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ExecRate {
    /// Target (or "empty").
    pub target: String,
    /// libFuzzer's final exec/s.
    pub exec_per_sec: f64,
    /// The empty target's exec/s in the same run (the engine's floor).
    #[serde(default)]
    pub empty_exec_per_sec: Option<f64>,
    /// The process's peak resident memory over the run, as libFuzzer reports it (MiB).
    #[serde(default)]
    pub peak_rss_mb: Option<f64>,
    /// Seconds of the run.
    #[serde(default)]
    pub seconds: Option<u64>,
    /// The run it was measured in: `2026-12-06 at 0123456789` (empty: a run from before
    /// runs were stamped). A `--targets` run replaces only its own rows.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub measured: String,
    /// Lines of the target's own device files that the run's corpus executed (`None`: not
    /// measured; `--device-lines`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_lines: Option<crate::coverage::LineCoverage>,
}

/// exec/s of one build of one target in a side-by-side run (`--baseline`, several
/// `--instrument`s): the builds take turns on the same seeds, dictionary and libFuzzer seed.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SideBySide {
    /// Target.
    pub target: String,
    /// The build (`scoped`, `base main@0123456789 full`, ...).
    pub build: String,
    /// The build the ratios are against (the first of the run).
    pub reference: String,
    /// libFuzzer's exec/s in each round.
    pub rates: Vec<f64>,
    /// This build's exec/s over the reference's in the same round.
    pub ratios: Vec<f64>,
    /// Seconds of each run.
    pub seconds: u64,
    /// Lines of the target's own device files that the corpus of the last round's run
    /// executed (`None`: not measured).
    #[serde(default)]
    pub device_lines: Option<crate::coverage::LineCoverage>,
    /// Seconds this build took, in each round, to replay the same inputs: the union of the
    /// builds' last-round corpora (empty: not measured).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub same_input_secs: Vec<f64>,
    /// The reference's replay seconds over this build's, per round: above 1, this build is
    /// faster on the same inputs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub same_input_ratios: Vec<f64>,
    /// How many inputs the replay ran.
    #[serde(default)]
    pub same_inputs: usize,
    /// The run it was measured in: `2026-12-06 at 0123456789` (empty: a run from before
    /// runs were stamped). Ratios compare only within one run.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub measured: String,
}

/// The start of the notes on a side-by-side run from before runs were stamped.
const SIDE_BY_SIDE_NOTE: &str = "side by side: ";

/// The start of the notes on the side-by-side run measured at `stamp` (kept with its rows).
fn side_by_side_note(stamp: &str) -> String {
    format!("side by side [{stamp}]: ")
}

/// The stamp of the side-by-side run a note is of (empty: a run from before stamps), or
/// `None` for other notes.
fn side_by_side_note_stamp(note: &str) -> Option<&str> {
    if note.starts_with(SIDE_BY_SIDE_NOTE) {
        return Some("");
    }
    note.strip_prefix("side by side [")?
        .split_once("]: ")
        .map(|(stamp, _)| stamp)
}

/// When and on what this run measures: `2026-12-06 at 0123456789` (UTC date, this tree's
/// commit, marked when the tree has uncommitted changes).
fn run_stamp(root: &Path) -> String {
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 86_400);
    format!(
        "{} at {}",
        civil_date(days),
        crate::baseline::describe_head(root)
    )
}

/// The proleptic Gregorian date `days` after 1970-01-01, as `YYYY-MM-DD` (Howard Hinnant's
/// days-to-civil algorithm).
fn civil_date(days: u64) -> String {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// The median of `v` (`None` when empty).
fn median(v: &[f64]) -> Option<f64> {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(v[n / 2]),
        _ => Some((v[n / 2 - 1] + v[n / 2]) / 2.0),
    }
}

/// One build of the fuzz targets measured in a run: this tree or the baseline's, with one
/// instrumentation.
#[derive(Clone, Debug)]
struct Variant {
    label: String,
    root: PathBuf,
    instrument: Instrument,
    /// Whether this is the baseline's build (another revision).
    baseline: bool,
}

impl Variant {
    fn build(&self, sanitizer: &str, planted: bool) -> FuzzBuild {
        FuzzBuild::new(&self.root, self.instrument, sanitizer, planted)
    }

    /// A folder-name form of the label.
    fn slug(&self) -> String {
        crate::bench_findings::slug(&self.label)
    }
}

/// The builds of a run: the baseline's (if any) first, then this tree's instrumentations.
fn variants(cfg: &BenchConfig) -> Result<Vec<Variant>, String> {
    let mut v = Vec::new();
    if let Some(rev) = &cfg.baseline {
        let b = crate::baseline::worktree(&cfg.root, rev)?;
        eprintln!(
            "bench: baseline {} checked out in {}",
            b.label(),
            b.dir.display()
        );
        v.push(Variant {
            label: format!("{} {}", b.label(), cfg.baseline_instrument),
            root: b.dir,
            instrument: cfg.baseline_instrument,
            baseline: true,
        });
    }
    let instruments = if cfg.instruments.is_empty() {
        vec![Instrument::DEFAULT]
    } else {
        cfg.instruments.clone()
    };
    for i in instruments {
        v.push(Variant {
            label: i.to_string(),
            root: cfg.root.clone(),
            instrument: i,
            baseline: false,
        });
    }
    Ok(v)
}

/// In-process programs/s of one target.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct InProcess {
    /// Target.
    pub target: String,
    /// Programs per second without an engine.
    pub programs_per_sec: f64,
    /// The run it was measured in: `2026-12-06 at 0123456789` (empty: a run from before
    /// runs were stamped). A `--targets` run replaces only its own rows.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub measured: String,
}

/// The minimisation benchmark.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct MinimizeFigure {
    /// Ops of the crashing input.
    pub ops_before: usize,
    /// Commands of the minimised trace.
    pub commands_after: usize,
    /// Seconds it took.
    pub seconds: f64,
}

/// All results.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Results {
    /// Machine description.
    pub host: String,
    /// libFuzzer exec/s (empty target first).
    #[serde(rename = "libfuzzer_exec_per_sec")]
    pub exec: Vec<ExecRate>,
    /// In-process programs/s per target.
    pub in_process: Vec<InProcess>,
    /// Time-to-bug per planted bug.
    pub time_to_bug: Vec<TimeToBug>,
    /// The minimisation benchmark.
    pub minimize: Option<MinimizeFigure>,
    /// The last side-by-side run's exec/s (and coverage) per build and target.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub side_by_side: Vec<SideBySide>,
    /// The last `--baseline` run's in-process programs/s per target, baseline and this tree.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub in_process_side_by_side: Vec<InProcessSideBySide>,
    /// Notes on what was skipped and why.
    pub notes: Vec<String>,
    /// This run's findings summary ([`crate::bench_findings::summary`]), printed last; also
    /// in the notes.
    #[serde(skip)]
    pub findings: Vec<String>,
}

impl Results {
    /// `self` (newer) over `old`: entries measured again replace the old ones, the rest stay;
    /// everything in target and bug table order.
    pub fn merged_over(mut self, old: Results) -> Results {
        for e in old.exec {
            if !self.exec.iter().any(|n| n.target == e.target) {
                self.exec.push(e);
            }
        }
        for e in old.in_process {
            if !self.in_process.iter().any(|n| n.target == e.target) {
                self.in_process.push(e);
            }
        }
        // Side by side: the targets measured now replace all their old rows; the other
        // targets' rows stay, each with the run it is from, and so do that run's notes.
        let kept: Vec<SideBySide> = old
            .side_by_side
            .into_iter()
            .filter(|e| !self.side_by_side.iter().any(|n| n.target == e.target))
            .collect();
        let kept_in_process: Vec<InProcessSideBySide> = old
            .in_process_side_by_side
            .into_iter()
            .filter(|e| {
                !self
                    .in_process_side_by_side
                    .iter()
                    .any(|n| n.target == e.target)
            })
            .collect();
        let kept_notes: Vec<String> = old
            .notes
            .into_iter()
            .filter(|n| {
                side_by_side_note_stamp(n).is_some_and(|s| {
                    kept.iter().any(|e| e.measured == s)
                        || kept_in_process.iter().any(|e| e.measured == s)
                }) && !self.notes.contains(n)
            })
            .collect();
        self.side_by_side.extend(kept);
        self.in_process_side_by_side.extend(kept_in_process);
        self.notes.extend(kept_notes);
        for e in old.time_to_bug {
            if !self
                .time_to_bug
                .iter()
                .any(|n| n.bug == e.bug && n.build == e.build)
            {
                self.time_to_bug.push(e);
            }
        }
        if self.minimize.is_none() {
            self.minimize = old.minimize;
        }
        let target_rank = |t: &str| {
            (
                t != "empty",
                models::TARGETS.iter().position(|x| x.name == t),
            )
        };
        self.exec.sort_by_key(|e| target_rank(&e.target));
        self.in_process.sort_by_key(|e| target_rank(&e.target));
        // Stable: the builds of a target keep their order.
        self.side_by_side.sort_by_key(|e| target_rank(&e.target));
        self.in_process_side_by_side
            .sort_by_key(|e| target_rank(&e.target));
        let bug_rank = |b: &str| models::planted::BUGS.iter().position(|x| x.id == b);
        self.time_to_bug.sort_by_key(|t| bug_rank(&t.bug));
        self
    }
}

/// Deterministic inputs shaped like fuzzer inputs: ops of random bytes between separators.
pub fn sample_inputs(count: usize, seed: u64) -> Vec<Vec<u8>> {
    let mut x = seed | 1;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    (0..count)
        .map(|_| {
            let ops = 1 + next() % 32;
            let mut input = Vec::new();
            for i in 0..ops {
                if i > 0 {
                    input.extend_from_slice(harness::ops::SEPARATOR);
                }
                let len = 1 + next() % 15;
                input.extend((0..len).map(|_| next() as u8));
            }
            input
        })
        .collect()
}

fn in_process_rate(target: &harness::target::Target) -> f64 {
    let inputs = sample_inputs(512, 0xbe7c4);
    let mut runner = Runner::new(target);
    let start = Instant::now();
    let mut runs = 0u64;
    while start.elapsed() < Duration::from_secs(2) {
        for i in &inputs {
            std::hint::black_box(runner.run_input(i));
        }
        runs += inputs.len() as u64;
    }
    runs as f64 / start.elapsed().as_secs_f64()
}

fn parse_exec_per_sec(log: &str) -> Option<f64> {
    log.lines()
        .filter_map(|l| l.split("exec/s: ").nth(1))
        .filter_map(|rest| rest.split_whitespace().next()?.parse::<f64>().ok())
        .next_back()
}

/// One exec/s run: the target's name, libFuzzer's log and the run's wall seconds, or why it
/// could not run.
type Measured = Result<(String, String, f64), String>;

/// The largest `rss: NNMb` libFuzzer printed: the process's peak resident memory.
fn parse_peak_rss_mb(log: &str) -> Option<f64> {
    log.lines()
        .filter_map(|l| l.split("rss: ").nth(1))
        .filter_map(|rest| rest.split("Mb").next()?.trim().parse::<f64>().ok())
        .reduce(f64::max)
}

/// Measure everything the configuration asks for; every figure carries the run's stamp
/// ([`run_stamp`]).
pub fn run(cfg: &BenchConfig) -> Result<Results, String> {
    let stamp = run_stamp(&cfg.root);
    let mut r = measure(cfg, &stamp)?;
    let stamps = r
        .exec
        .iter_mut()
        .map(|e| &mut e.measured)
        .chain(r.in_process.iter_mut().map(|e| &mut e.measured))
        .chain(r.time_to_bug.iter_mut().map(|e| &mut e.measured))
        .chain(r.side_by_side.iter_mut().map(|e| &mut e.measured))
        .chain(
            r.in_process_side_by_side
                .iter_mut()
                .map(|e| &mut e.measured),
        );
    for m in stamps {
        m.clone_from(&stamp);
    }
    Ok(r)
}

/// Measure everything the configuration asks for (the run's stamp is `stamp`).
fn measure(cfg: &BenchConfig, stamp: &str) -> Result<Results, String> {
    let mut r = Results {
        host: host_description(),
        ..Results::default()
    };
    let figures = cfg.measures_targets();
    // A side-by-side run measures its builds only: this tree's own programs/s table and
    // minimisation are kept from the last single-build run (`--baseline` measures programs/s
    // of both builds, below).
    for t in models::TARGETS
        .iter()
        .filter(|t| figures && !cfg.side_by_side() && cfg.wants_target(t.name))
    {
        eprintln!("bench: in-process {}", t.name);
        r.in_process.push(InProcess {
            target: t.name.to_string(),
            programs_per_sec: in_process_rate(t),
            measured: String::new(),
        });
    }
    if figures && !cfg.side_by_side() && cfg.wants_target("ps2") {
        r.minimize = minimize_bench(&mut r.notes);
    }
    if let Some(rev) = cfg.baseline.as_deref().filter(|_| figures) {
        let baseline = crate::baseline::worktree(&cfg.root, rev)?;
        let targets: Vec<&str> = models::TARGETS
            .iter()
            .map(|t| t.name)
            .filter(|n| cfg.wants_target(n))
            .collect();
        let note = side_by_side_note(stamp);
        let load_before = load_average();
        let (rows, notes) = crate::bench_in_process::side_by_side(cfg, &baseline, &note, &targets)?;
        r.notes.extend(notes);
        if !rows.is_empty() {
            r.notes.push(format!(
                "{note}load average (1 min) {load_before} before the in-process runs, {} after",
                load_average()
            ));
        }
        r.in_process_side_by_side = rows;
    }
    if cfg.in_process_only {
        r.notes
            .push("engine measurements skipped (--in-process-only)".into());
        return Ok(r);
    }
    crate::campaign::ensure_cargo_fuzz()?;
    stop_if_interrupted()?;
    // Removed when this function returns, also on an error or an interrupt.
    let corpora = Corpora::new(&cfg.root)?;
    if !cfg.side_by_side() {
        r.notes.push(corpora.note());
    }
    let limits = |secs: u64| {
        vec![
            format!("-max_total_time={secs}"),
            // libFuzzer's own default is 1200 s: a slow input would hold a run up to its end.
            format!("-timeout={}", crate::campaign::DEFAULT_TIMEOUT_SECS),
            "-max_len=4096".into(),
            crate::campaign::LEN_CONTROL.into(),
            "-print_final_stats=1".into(),
        ]
    };
    let measured: Vec<&str> = models::TARGETS
        .iter()
        .map(|t| t.name)
        .filter(|n| figures && cfg.wants_target(n))
        .collect();
    if cfg.side_by_side() {
        let bugs: Vec<&models::planted::PlantedBug> = models::planted::BUGS
            .iter()
            .filter(|b| cfg.wants_bug(b))
            .collect();
        side_by_side(cfg, stamp, &corpora, &mut r, &measured, &bugs, &limits)?;
        return Ok(r);
    }
    let single = FuzzBuild::new(&cfg.root, cfg.instrument(), &cfg.sanitizer, false);
    if !measured.is_empty() {
        let mut bins = measured.clone();
        bins.push("empty");
        single.build(&bins)?;
        let build = cfg.instrument().to_string();
        let runs = bins
            .iter()
            .map(|name| RunArtifacts::new(&cfg.root, &format!("exec-{name}"), name, &build, false))
            .collect::<Result<Vec<_>, String>>()?;
        // The empty target first, alone: the engine's floor.
        let measure = |name: &str| -> Measured {
            eprintln!("bench: libFuzzer exec/s of {name} ({} s)", cfg.exec_seconds);
            let corpus = corpora.seeds_only(&cfg.root, name, models::target(name))?;
            let binary = single.binary(name);
            let mut args = limits(cfg.exec_seconds);
            if cfg.device_lines {
                // As a coverage campaign runs (docs/coverage.md): the dictionary, a fixed seed.
                args.extend(dict_of(&cfg.root, name).map(|d| format!("-dict={}", d.display())));
                args.push("-seed=1".into());
            }
            let artifacts = runs.iter().find(|a| a.target == name);
            args.extend(artifacts.map(RunArtifacts::prefix_arg));
            let (secs, log, _) = libfuzzer(&binary, None, &corpus, &args)?;
            Ok((name.to_string(), log, secs))
        };
        // With one lane the empty target runs first, alone; with more it is one of the runs.
        let mut logs = Vec::new();
        let mut measured: Vec<&str> = measured;
        if cfg.jobs > 1 {
            measured.insert(0, "empty");
        } else {
            logs.push(measure("empty")?);
        }
        // The targets `cfg.jobs` at a time (one libFuzzer process each).
        let lanes = cfg.jobs.clamp(1, measured.len());
        if lanes > 1 {
            r.notes.push(format!(
                "exec/s of the targets measured {lanes} at a time on a {}-core host: each figure is lower than alone",
                std::thread::available_parallelism().map_or(0, |n| n.get())
            ));
        }
        let next = std::sync::Mutex::new(0usize);
        let done: std::sync::Mutex<Vec<(usize, Measured)>> = std::sync::Mutex::new(Vec::new());
        std::thread::scope(|scope| {
            for _ in 0..lanes {
                scope.spawn(|| {
                    loop {
                        let i = {
                            let Ok(mut n) = next.lock() else { return };
                            *n += 1;
                            *n - 1
                        };
                        let Some(name) = measured.get(i) else { return };
                        let result = measure(name);
                        if let Ok(mut d) = done.lock() {
                            d.push((i, result));
                        }
                    }
                });
            }
        });
        let mut done = done
            .into_inner()
            .map_err(|_| "a bench lane panicked".to_string())?;
        done.sort_by_key(|(i, _)| *i);
        for (_, result) in done {
            logs.push(result?);
        }
        let mut floor = None;
        for (name, log, secs) in logs {
            if let Some(a) = runs
                .iter()
                .find(|a| a.target == name && !a.files().is_empty())
            {
                r.notes
                    .push(stopped_early(&name, &a.build, None, secs, cfg.exec_seconds));
            }
            match parse_exec_per_sec(&log) {
                Some(rate) => {
                    if name == "empty" {
                        floor = Some(rate);
                    }
                    let device_lines = if cfg.device_lines && name != "empty" {
                        exec_run_device_lines(cfg, &mut r, &name, &corpora.dir_of(&name))
                    } else {
                        None
                    };
                    r.exec.push(ExecRate {
                        target: name.to_string(),
                        exec_per_sec: rate,
                        empty_exec_per_sec: floor,
                        peak_rss_mb: parse_peak_rss_mb(&log),
                        seconds: Some(cfg.exec_seconds),
                        measured: String::new(),
                        device_lines,
                    });
                }
                None => r.notes.push(format!("no exec/s from libFuzzer for {name}")),
            }
        }
        report_findings(cfg, &mut r, "exec/s runs", "", &runs);
    }
    let bugs: Vec<&models::planted::PlantedBug> = models::planted::BUGS
        .iter()
        .filter(|b| cfg.wants_bug(b))
        .collect();
    if bugs.is_empty() {
        return Ok(r);
    }
    if !models::planted::ENABLED_IN_BUILD {
        r.notes
            .push("time-to-bug skipped: build devfuzz with --features planted-bugs".into());
        return Ok(r);
    }
    let planted = FuzzBuild::new(&cfg.root, cfg.instrument(), &cfg.sanitizer, true);
    let mut bins: Vec<&str> = bugs.iter().map(|b| b.target).collect();
    bins.dedup();
    planted.build(&bins)?;
    let mut leftovers = Leftovers::default();
    for bug in bugs {
        let build = TrialBuild {
            label: cfg.instrument().to_string(),
            binary: planted.binary(bug.target),
            baseline: false,
        };
        r.time_to_bug.extend(time_to_bug(
            cfg,
            &corpora,
            bug,
            &[build],
            &limits,
            &mut leftovers,
        )?);
    }
    report_trials(cfg, &mut r, "", leftovers);
    Ok(r)
}

/// The notes of time-to-bug trials, and the crashes that were not the planted bug, triaged
/// and reported as findings (notes starting with `prefix`).
fn report_trials(cfg: &BenchConfig, r: &mut Results, prefix: &str, leftovers: Leftovers) {
    r.notes.push(format!(
        "{prefix}time-to-bug: a trial counts the planted bug found at its own finding (replayed on this tree with the bug selected: a finding in its device with its triggered canary; a baseline build's by its finding line), every libFuzzer run with -timeout={}; another crash is a finding of its own and the trial goes on from its corpus (`other crashes`)",
        crate::campaign::DEFAULT_TIMEOUT_SECS
    ));
    r.notes
        .extend(leftovers.notes.into_iter().map(|n| format!("{prefix}{n}")));
    report_findings(
        cfg,
        r,
        "time-to-bug trials (crashes other than the planted bug)",
        prefix,
        &leftovers.other_crashes,
    );
}

/// Measure several builds in turn (`--baseline`, several `--instrument`s): per round, per
/// target, each build runs once from the same seeds with the same dictionary and libFuzzer
/// seed, the order of the builds rotating from round to round; then time-to-bug, trial by trial
/// in turn. Ratios are against the first build (the baseline when there is one).
fn side_by_side(
    cfg: &BenchConfig,
    stamp: &str,
    corpora: &Corpora,
    r: &mut Results,
    targets: &[&str],
    bugs: &[&models::planted::PlantedBug],
    limits: &(dyn Fn(u64) -> Vec<String> + Sync),
) -> Result<(), String> {
    let variants = variants(cfg)?;
    let rounds = cfg.rounds.max(1) as usize;
    let load_before = load_average();
    let note = side_by_side_note(stamp);
    r.notes.push(format!("{note}{}", corpora.note()));
    if !targets.is_empty() {
        for v in &variants {
            v.build(&cfg.sanitizer, false).build(targets)?;
        }
        r.notes.push(format!(
            "{note}{} build(s) x {} target(s) x {rounds} round(s) of {} s each, one libFuzzer process at a time, builds in turn (order rotating per round); same seeds, dictionary and -seed per round",
            variants.len(),
            targets.len(),
            cfg.exec_seconds
        ));
        // rates[target][variant][round]
        let mut rates = vec![vec![Vec::new(); variants.len()]; targets.len()];
        let mut corpus_of = vec![vec![PathBuf::new(); variants.len()]; targets.len()];
        let mut runs = Vec::new();
        for round in 0..rounds {
            for (ti, name) in targets.iter().enumerate() {
                for k in 0..variants.len() {
                    let vi = (round + k) % variants.len();
                    let v = &variants[vi];
                    eprintln!(
                        "bench: round {}/{rounds}: {name} with {} ({} s)",
                        round + 1,
                        v.label,
                        cfg.exec_seconds
                    );
                    let corpus = corpora.seeds_only(
                        &cfg.root,
                        &format!("{}-{name}", v.slug()),
                        models::target(name),
                    )?;
                    let artifacts = RunArtifacts::new(
                        &cfg.root,
                        &format!("{}-{name}-r{}", v.slug(), round + 1),
                        name,
                        &v.label,
                        v.baseline,
                    )?;
                    let mut args = limits(cfg.exec_seconds);
                    args.push(format!("-seed={}", round + 1));
                    args.push(artifacts.prefix_arg());
                    if let Some(dict) = dict_of(&cfg.root, name) {
                        args.push(format!("-dict={}", dict.display()));
                    }
                    let binary = v.build(&cfg.sanitizer, false).binary(name);
                    let (secs, log, _) = libfuzzer(&binary, None, &corpus, &args)?;
                    if !artifacts.files().is_empty() {
                        let early =
                            stopped_early(name, &v.label, Some(round + 1), secs, cfg.exec_seconds);
                        r.notes.push(format!("{note}{early}"));
                    }
                    runs.push(artifacts);
                    match parse_exec_per_sec(&log) {
                        Some(rate) => rates[ti][vi].push(Some(rate)),
                        None => {
                            rates[ti][vi].push(None);
                            r.notes.push(format!(
                                "no exec/s from libFuzzer for {name} with {} in round {}",
                                v.label,
                                round + 1
                            ));
                        }
                    }
                    corpus_of[ti][vi] = corpus;
                }
            }
        }
        let same = same_inputs(cfg, corpora, r, &note, &variants, targets, &corpus_of)?;
        for (ti, name) in targets.iter().enumerate() {
            for (vi, v) in variants.iter().enumerate() {
                let device_lines =
                    match crate::coverage::device_lines(&cfg.root, name, &corpus_of[ti][vi]) {
                        Ok(c) => Some(c),
                        Err(e) => {
                            r.notes.push(format!(
                                "no device-file coverage for {name} with {}: {e}",
                                v.label
                            ));
                            None
                        }
                    };
                let pairs: Vec<(f64, f64)> = rates[ti][vi]
                    .iter()
                    .zip(&rates[ti][0])
                    .filter_map(|(a, b)| Some(((*a)?, (*b)?)))
                    .collect();
                r.side_by_side.push(SideBySide {
                    target: name.to_string(),
                    build: v.label.clone(),
                    reference: variants[0].label.clone(),
                    rates: rates[ti][vi].iter().flatten().copied().collect(),
                    ratios: pairs.iter().map(|(a, b)| a / b).collect(),
                    seconds: cfg.exec_seconds,
                    device_lines,
                    same_input_secs: same.secs[ti][vi].iter().flatten().copied().collect(),
                    same_input_ratios: crate::bench_same_inputs::ratios(
                        &same.secs[ti][vi],
                        &same.secs[ti][0],
                    ),
                    same_inputs: same.inputs[ti],
                    measured: stamp.to_string(),
                });
            }
        }
        stop_if_interrupted()?;
        report_findings(cfg, r, "side-by-side runs", &note, &runs);
    }
    if !targets.is_empty() {
        r.notes.push(format!(
            "{note}load average (1 min) {load_before} before the exec/s runs, {} after: other processes shared the host",
            load_average()
        ));
    }
    if bugs.is_empty() {
        return Ok(());
    }
    if !models::planted::ENABLED_IN_BUILD {
        r.notes
            .push("time-to-bug skipped: build devfuzz with --features planted-bugs".into());
        return Ok(());
    }
    let load_before = load_average();
    let mut bins: Vec<&str> = bugs.iter().map(|b| b.target).collect();
    bins.sort();
    bins.dedup();
    for v in &variants {
        v.build(&cfg.sanitizer, true).build(&bins)?;
    }
    let mut leftovers = Leftovers::default();
    for bug in bugs {
        let builds: Vec<TrialBuild> = variants
            .iter()
            .map(|v| TrialBuild {
                label: v.label.clone(),
                binary: v.build(&cfg.sanitizer, true).binary(bug.target),
                baseline: v.baseline,
            })
            .collect();
        r.time_to_bug.extend(time_to_bug(
            cfg,
            corpora,
            bug,
            &builds,
            limits,
            &mut leftovers,
        )?);
    }
    report_trials(cfg, r, &note, leftovers);
    r.notes.push(format!(
        "time-to-bug side by side: trials of the {} build(s) in turn, {} at a time; load average (1 min) {load_before} before, {} after",
        variants.len(),
        cfg.jobs.max(1),
        load_average()
    ));
    Ok(())
}

/// What every build took to replay the same inputs: `secs[target][build][round]`, and the
/// number of inputs per target.
struct SameInputs {
    secs: Vec<Vec<Vec<Option<f64>>>>,
    inputs: Vec<usize>,
}

/// After the exec/s rounds: each build replays the union of the builds' last corpora of each
/// target, the builds in turn (order rotating per round), for as many rounds
/// (see [`crate::bench_same_inputs`]).
fn same_inputs(
    cfg: &BenchConfig,
    corpora: &Corpora,
    r: &mut Results,
    note: &str,
    variants: &[Variant],
    targets: &[&str],
    corpus_of: &[Vec<PathBuf>],
) -> Result<SameInputs, String> {
    let rounds = cfg.rounds.max(1) as usize;
    // The baseline's devfuzz re-encodes the inputs for its build (a no-op build when the
    // in-process measurement already made it).
    let baseline_cli = variants
        .iter()
        .find(|v| v.baseline)
        .map(|v| crate::bench_in_process::build_devfuzz(&v.root));
    if let Some(Err(e)) = &baseline_cli {
        r.notes.push(format!(
            "{note}same inputs: the baseline's devfuzz did not build ({e}), so it replayed the inputs' bytes as they are, which its binary format may read as other programs"
        ));
    }
    let mut same = SameInputs {
        secs: vec![vec![Vec::new(); variants.len()]; targets.len()],
        inputs: vec![0; targets.len()],
    };
    for (ti, name) in targets.iter().enumerate() {
        let union = crate::bench_same_inputs::union_corpus(
            corpora,
            &format!("same-inputs-{name}"),
            &corpus_of[ti],
        );
        let (union, count) = match union {
            Ok(u) => u,
            Err(e) => {
                r.notes
                    .push(format!("{note}no same-input replay of {name}: {e}"));
                continue;
            }
        };
        // A baseline build replays the same programs in its own binary form.
        let (this_corpus, base_corpus, count) = match baseline_cli.as_ref() {
            Some(Ok(base_cli)) => {
                let this_cli = std::env::current_exe()
                    .map_err(|e| format!("cannot find this devfuzz: {e}"))?;
                let (this, base, converted) = crate::bench_same_inputs::same_programs(
                    corpora,
                    &format!("same-programs-{name}"),
                    name,
                    &union,
                    &this_cli,
                    base_cli,
                )?;
                r.notes.push(format!(
                    "{note}same inputs of {name}: {converted} of the {count} inputs re-encoded for the baseline (this tree's .qtest text, the baseline's convert); the others left out of every build's replay"
                ));
                (this, base, converted)
            }
            _ => (union.clone(), union, count),
        };
        same.inputs[ti] = count;
        let scratch = corpora.fresh(&format!("same-inputs-{name}-scratch"))?;
        for round in 0..rounds {
            for k in 0..variants.len() {
                stop_if_interrupted()?;
                let vi = (round + k) % variants.len();
                let v = &variants[vi];
                eprintln!(
                    "bench: same inputs, round {}/{rounds}: {name} with {} ({count} inputs)",
                    round + 1,
                    v.label
                );
                let binary = v.build(&cfg.sanitizer, false).binary(name);
                let corpus = if v.baseline {
                    &base_corpus
                } else {
                    &this_corpus
                };
                let secs = crate::bench_same_inputs::replay_seconds(&binary, corpus, &scratch);
                if let Err(e) = &secs {
                    r.notes.push(format!("{note}{e}"));
                }
                same.secs[ti][vi].push(secs.ok());
            }
        }
    }
    if !targets.is_empty() {
        r.notes.push(format!(
            "{note}same inputs: each build replayed (libFuzzer -runs=0) the union of the builds' last-round corpora of each target, {rounds} round(s), builds in turn"
        ));
    }
    Ok(same)
}

/// The 1-minute load average (`/proc/loadavg`), or `?`.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(String::from))
        .unwrap_or_else(|| "?".into())
}

/// The note on a run that stopped at a crash before its time was up.
fn stopped_early(target: &str, build: &str, round: Option<usize>, secs: f64, limit: u64) -> String {
    format!(
        "{target} with {build}{} stopped at a crash after {secs:.1} s of {limit}: its exec/s is of the shorter run (findings below)",
        round.map_or(String::new(), |n| format!(" in round {n}"))
    )
}

/// Triage the crash files of `runs` ([`crate::bench_findings`]) and report what they hold:
/// as notes (each starting with `prefix`, the summary's first line in bold) and as lines the
/// bench prints last.
fn report_findings(
    cfg: &BenchConfig,
    r: &mut Results,
    what: &str,
    prefix: &str,
    runs: &[RunArtifacts],
) {
    let replay = crate::bench_findings::Replay::from_env();
    let findings = crate::bench_findings::triage(&cfg.root, runs, &replay);
    let lines = crate::bench_findings::summary(what, &findings, &cfg.root);
    for (i, line) in lines.iter().enumerate() {
        r.notes.push(if i == 0 {
            format!("{prefix}**{line}**")
        } else {
            format!("{prefix}{line}")
        });
    }
    r.findings.extend(lines);
}

fn minimize_bench(notes: &mut Vec<String>) -> Option<MinimizeFigure> {
    if !models::planted::ENABLED_IN_BUILD {
        notes.push(
            "minimisation benchmark skipped: build devfuzz with --features planted-bugs".into(),
        );
        return None;
    }
    let bug = models::planted::BUGS
        .iter()
        .find(|b| b.id == "ps2-queue-overflow")?;
    let target = models::target("ps2")?;
    let build = target
        .machine
        .builder(&harness::target::with_bugs("", bug.id))
        .ok()?;
    let mut runner = Runner::with_builder(target, build, Default::default());
    // 1000 driver-like commands that do not trigger it, then the sequence that does (a held
    // Right Alt and three Print Screen taps: 39 unread bytes into a 16-byte queue).
    let noise = [
        "inb 0x64",
        "inb 0x60",
        "outb 0x64 0xa8",
        "outb 0x64 0xa7",
        "outb 0x64 0xae",
        "outb 0x64 0x20",
        "clock_step 1000",
    ];
    let mut trace = Vec::new();
    let mut x = 0x1234_5678u64;
    while trace.len() < 1000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        trace.push(harness::qtest::parse_line(noise[(x % noise.len() as u64) as usize]).ok()??);
    }
    for line in [
        "event i8042 0x0060",
        "event i8042 0x020d",
        "event i8042 0x020d",
        "event i8042 0x020d",
    ] {
        trace.push(harness::qtest::parse_line(line).ok()??);
    }
    match runner.run_trace(&trace) {
        Ok(harness::outcome::Outcome::Finding(f)) if f.op_index + 4 >= trace.len() => {}
        other => {
            notes.push(format!(
                "minimisation benchmark: the input does not crash at its end ({other:?})"
            ));
            return None;
        }
    }
    let start = Instant::now();
    let result = harness::minimize::minimize(&mut runner, &trace, |_| {});
    let secs = start.elapsed().as_secs_f64();
    match result {
        Ok(m) => Some(MinimizeFigure {
            ops_before: trace.len(),
            commands_after: m.trace.len(),
            seconds: secs,
        }),
        Err(e) => {
            notes.push(format!("minimisation benchmark: {e}"));
            None
        }
    }
}

fn host_description() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    format!("{cpus} CPUs, {model}")
}

/// The results recorded in `bench/results.json`, if there are any.
pub fn load(root: &Path) -> Result<Option<Results>, String> {
    let path = root.join("bench/results.json");
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let mut r: Results =
                serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
            // Files from before figures carried their floor: the file's own empty target.
            let floor = r
                .exec
                .iter()
                .find(|e| e.target == "empty")
                .map(|e| e.exec_per_sec);
            for e in &mut r.exec {
                e.empty_exec_per_sec = e.empty_exec_per_sec.or(floor);
            }
            Ok(Some(r))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// The line in `bench/results.md` after which sections are written by hand (figures no bench
/// run measures, such as differential-fuzzing counts): every run keeps them as they are.
pub const HAND_WRITTEN_MARK: &str =
    "<!-- Written by hand below this line: devfuzz bench keeps it as it is. -->";

/// Write `bench/results.md` (keeping what follows [`HAND_WRITTEN_MARK`]), `bench/results.json`
/// and `bench/time-to-bug.svg`.
pub fn write(root: &Path, r: &Results) -> Result<(), String> {
    let dir = root.join("bench");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let md_path = dir.join("results.md");
    let kept = std::fs::read_to_string(&md_path)
        .ok()
        .and_then(|old| old.find(HAND_WRITTEN_MARK).map(|i| old[i..].to_string()));
    let mut md = markdown(r);
    if let Some(tail) = kept {
        md.push('\n');
        md.push_str(&tail);
    }
    std::fs::write(&md_path, md).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("results.json"), json(r)).map_err(|e| e.to_string())?;
    if !r.time_to_bug.is_empty() {
        std::fs::write(dir.join("time-to-bug.svg"), svg(r)).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Device-file line coverage of `name`'s exec/s run's corpus (`--device-lines`), or a note
/// saying why there is none.
fn exec_run_device_lines(
    cfg: &BenchConfig,
    r: &mut Results,
    name: &str,
    corpus: &Path,
) -> Option<crate::coverage::LineCoverage> {
    eprintln!("bench: device-file coverage of {name}'s corpus");
    match crate::coverage::device_lines(&cfg.root, name, corpus) {
        Ok(c) => Some(c),
        Err(e) => {
            r.notes
                .push(format!("no device-file coverage for {name}: {e}"));
            None
        }
    }
}

/// `covered/total` lines as the tables show them: `90.9% (399/439)`.
fn lines_cell(c: &crate::coverage::LineCoverage) -> String {
    format!("{:.1}% ({}/{})", c.percent(), c.covered, c.total)
}

fn markdown(r: &Results) -> String {
    let mut s = String::from("# devfuzz bench results\n\n");
    let _ = writeln!(s, "Host: {}\n", r.host);
    if !r.exec.is_empty() {
        let runs = Runs::of(r.exec.iter().map(|e| e.measured.as_str()));
        // The device-lines column only when a row has the figure (`--device-lines`).
        let with_lines = r.exec.iter().any(|e| e.device_lines.is_some());
        let (lines_head, lines_rule, lines_intro) = if with_lines {
            (
                " device lines |",
                "---:|",
                " Device lines: line coverage of the target's own device files (`fuzz/device-files.txt`) by the run's corpus, which started from the seeds (`--device-lines`: the runs take the dictionary and `-seed=1`).",
            )
        } else {
            ("", "", "")
        };
        let _ = write!(
            s,
            "## libFuzzer exec/s (release)\n\nEach ratio is against the empty target measured in the same run; peak RSS is libFuzzer's figure for the whole run.{lines_intro}\n\n{}| target | exec/s | empty target | of empty target | seconds | peak RSS |{lines_head}{}\n|---|---:|---:|---:|---:|---:|{lines_rule}{}\n",
            runs.intro(),
            runs.head().0,
            runs.head().1
        );
        for e in &r.exec {
            let (floor, ratio) = e.empty_exec_per_sec.map_or(("-".into(), "-".into()), |f| {
                (
                    format!("{f:.0}"),
                    format!("{:.1}%", 100.0 * e.exec_per_sec / f),
                )
            });
            let lines = if with_lines {
                format!(
                    " {} |",
                    e.device_lines.as_ref().map_or("-".into(), lines_cell)
                )
            } else {
                String::new()
            };
            let _ = writeln!(
                s,
                "| {} | {:.0} | {floor} | {ratio} | {} | {} |{lines}{}",
                e.target,
                e.exec_per_sec,
                e.seconds.map_or("-".into(), |t| t.to_string()),
                e.peak_rss_mb.map_or("-".into(), |m| format!("{m:.0} MiB")),
                runs.cell(&e.measured)
            );
        }
        s.push('\n');
        s.push_str(&runs.list(|_| String::new()));
    }
    if !r.side_by_side.is_empty() {
        s.push_str(&side_by_side_markdown(&r.side_by_side));
    }
    let runs = Runs::of(r.in_process.iter().map(|e| e.measured.as_str()));
    let _ = write!(
        s,
        "## In-process programs/s (no engine)\n\n{}| target | programs/s |{}\n|---|---:|{}\n",
        runs.intro(),
        runs.head().0,
        runs.head().1
    );
    for e in &r.in_process {
        let _ = writeln!(
            s,
            "| {} | {:.0} |{}",
            e.target,
            e.programs_per_sec,
            runs.cell(&e.measured)
        );
    }
    s.push('\n');
    s.push_str(&runs.list(|_| String::new()));
    if !r.in_process_side_by_side.is_empty() {
        s.push_str(&in_process_side_by_side_markdown(
            &r.in_process_side_by_side,
        ));
    }
    if !r.time_to_bug.is_empty() {
        let runs = Runs::of(r.time_to_bug.iter().map(|e| e.measured.as_str()));
        let _ = write!(
            s,
            "## Time to bug (planted bugs)\n\nA trial finds the bug at the bug's own finding; *other crashes* are the trials' crashes that were something else (each reported as a finding; the trial went on); `-`: a run from before the bench told them apart, which counted any crash as the bug.\n\n{}| bug | target | build | found | trial limit s | median s | min s | max s | other crashes |{}\n|---|---|---|---:|---:|---:|---:|---:|---:|{}\n",
            runs.intro(),
            runs.head().0,
            runs.head().1
        );
        for t in &r.time_to_bug {
            let f = t.found();
            let fmt = |v: Option<f64>| v.map_or("-".to_string(), |x| format!("{x:.1}"));
            let _ = writeln!(
                s,
                "| {} | {} | {} | {}/{} | {} | {} | {} | {} | {} |{}",
                t.bug,
                t.target,
                if t.build.is_empty() { "-" } else { &t.build },
                f.len(),
                t.trials.len(),
                match t.trial_limit_seconds {
                    0 => "-".to_string(),
                    n => n.to_string(),
                },
                fmt(t.median()),
                fmt(f.first().copied()),
                fmt(f.last().copied()),
                t.other_crashes.map_or("-".to_string(), |n| n.to_string()),
                runs.cell(&t.measured)
            );
        }
        s.push('\n');
        s.push_str(&runs.list(|_| String::new()));
        s.push_str("Survival plot: `time-to-bug.svg`.\n\n");
    }
    if let Some(m) = r.minimize {
        let _ = writeln!(
            s,
            "## Minimisation\n\n{}-op crashing input -> {} commands (1-minimal) in {:.1} ms.\n",
            m.ops_before,
            m.commands_after,
            m.seconds * 1000.0
        );
    }
    if !r.notes.is_empty() {
        s.push_str("## Notes\n\n");
        for n in &r.notes {
            let _ = writeln!(s, "- {n}");
        }
    }
    s
}

/// The runs the rows of one table are from (their stamps, in order of appearance). A table
/// mixing runs, because a narrow run (`--targets`, `--time-to-bug`) replaced only its own rows,
/// numbers them in a *run* column and lists them under it; figures compare only within a run.
struct Runs<'a>(Vec<&'a str>);

impl<'a> Runs<'a> {
    fn of(stamps: impl IntoIterator<Item = &'a str>) -> Runs<'a> {
        let mut v: Vec<&str> = Vec::new();
        for s in stamps {
            if !v.contains(&s) {
                v.push(s);
            }
        }
        Runs(v)
    }

    fn mixed(&self) -> bool {
        self.0.len() > 1
    }

    /// When run `stamp` was measured, for a reader.
    fn when(stamp: &str) -> &str {
        if stamp.is_empty() {
            "an earlier run (date and commit not recorded)"
        } else {
            stamp
        }
    }

    /// What to say above the table: when its one run was measured, or that it mixes runs.
    fn intro(&self) -> String {
        match self.0.as_slice() {
            [] | [""] => String::new(),
            [one] => format!("Measured {one}.\n\n"),
            many => format!(
                "**The rows are from {} runs** (column *run*, listed under the table): a later narrow run (`--targets`, `--time-to-bug`) replaced only its own rows. Compare figures only within one run.\n\n",
                many.len()
            ),
        }
    }

    /// The run column's header and separator cells (nothing for a single run).
    fn head(&self) -> (&'static str, &'static str) {
        if self.mixed() {
            (" run |", "---:|")
        } else {
            ("", "")
        }
    }

    /// The run column's cell of a row from run `stamp`.
    fn cell(&self, stamp: &str) -> String {
        match self.0.iter().position(|s| *s == stamp) {
            Some(i) if self.mixed() => format!(" [{}] |", i + 1),
            _ => String::new(),
        }
    }

    /// The list of the runs under a table mixing them, each with `detail` of its stamp.
    fn list(&self, detail: impl Fn(&str) -> String) -> String {
        if !self.mixed() {
            return String::new();
        }
        let mut s = String::new();
        for (i, stamp) in self.0.iter().enumerate() {
            let _ = writeln!(s, "- [{}] {}{}", i + 1, Runs::when(stamp), detail(stamp));
        }
        s.push('\n');
        s
    }
}

/// The side-by-side table: per target and build, exec/s per round, the ratio to the reference
/// (median of the per-round ratios, with their range) and the device files' line coverage.
/// Rows kept from earlier runs (a `--targets` run replaces only its targets' rows) carry the
/// number of their run, listed under the table with its run length and reference build.
fn side_by_side_markdown(rows: &[SideBySide]) -> String {
    let mut s = String::from("## Side by side (exec/s ratio to the first build, same run)\n\n");
    let runs = Runs::of(rows.iter().map(|e| e.measured.as_str()));
    let first_of = |stamp: &str| rows.iter().find(|e| e.measured == stamp);
    let _ = writeln!(
        s,
        "Builds measured in turn on the same seeds and dictionary; the ratio is this build's exec/s over the first build's in the same round (median over rounds, range in brackets). Each run goes its own way from the seeds, so exec/s also measures which inputs a build met (a build that reaches slow inputs sooner runs fewer per second). *Same inputs* times the same work instead: after the rounds every build replays the union of the builds' last-round corpora, in turn, as many rounds (a baseline build each input re-encoded in its own binary form from this tree's `.qtest` text of it, so both run the same programs); the figure is the first build's time over this build's (median [range]; above 1: faster per input), with the number of inputs and this build's median time. A replay also pays libFuzzer's start-up and the reading of every input file: where it takes well under a second these weigh most and pull the ratio towards 1. Device lines: line coverage of the target's own device files (`fuzz/device-files.txt`) by the corpus of the last round's run. Only ratios and figures from one run compare: this host's absolute exec/s drifts 2-3x over hours.\n"
    );
    if let ([stamp], Some(first)) = (runs.0.as_slice(), rows.first()) {
        let when = if stamp.is_empty() {
            String::new()
        } else {
            format!("Measured {stamp}: ")
        };
        let _ = writeln!(
            s,
            "{when}{} s per run, ratios over `{}`.\n",
            first.seconds, first.reference
        );
    } else {
        s.push_str(&runs.intro());
    }
    let _ = writeln!(
        s,
        "| target | build | exec/s per round | ratio | same inputs | device lines |{}\n|---|---|---|---:|---:|---:|{}",
        runs.head().0,
        runs.head().1
    );
    for e in rows {
        let ratio = ratio_cell(&e.ratios);
        let lines = e.device_lines.as_ref().map_or("-".into(), lines_cell);
        let same = match e.same_input_ratios.as_slice() {
            [] => "-".to_string(),
            ratios => format!(
                "{} ({} inputs, {:.2} s)",
                ratio_cell(ratios),
                e.same_inputs,
                median(&e.same_input_secs).unwrap_or(0.0)
            ),
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {ratio} | {same} | {lines} |{}",
            e.target,
            e.build,
            rates_cell(&e.rates),
            runs.cell(&e.measured)
        );
    }
    s.push('\n');
    s.push_str(&runs.list(|stamp| {
        first_of(stamp).map_or(String::new(), |r| {
            format!(": {} s per run, ratios over `{}`", r.seconds, r.reference)
        })
    }));
    s
}

/// Figures per round, as a table cell: `100 / 120 / 90`.
fn rates_cell(rates: &[f64]) -> String {
    let rates: Vec<String> = rates.iter().map(|r| format!("{r:.0}")).collect();
    rates.join(" / ")
}

/// Per-round ratios as a table cell: their median, with their range when there are several.
fn ratio_cell(ratios: &[f64]) -> String {
    match median(ratios) {
        Some(m) if ratios.len() > 1 => {
            let lo = ratios.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            format!("{m:.2} [{lo:.2}-{hi:.2}]")
        }
        Some(m) => format!("{m:.2}"),
        None => "-".into(),
    }
}

/// The in-process side-by-side table (`--baseline`): per target, the baseline's and this tree's
/// programs/s per round and the ratio this tree / baseline (median over rounds, with its range).
fn in_process_side_by_side_markdown(rows: &[InProcessSideBySide]) -> String {
    let mut s = String::from("## In-process programs/s side by side (no engine, same run)\n\n");
    let runs = Runs::of(rows.iter().map(|e| e.measured.as_str()));
    let baseline_of = |stamp: &str| rows.iter().find(|e| e.measured == stamp);
    let _ = writeln!(
        s,
        "Each build's own `devfuzz bench --in-process-only --targets T` (2 s of the same 512 sample programs), one process per target and build, the builds in turn (order rotating per round). The ratio is this tree's programs/s over the baseline's in the same round (median over rounds, range in brackets).\n"
    );
    if let ([stamp], Some(first)) = (runs.0.as_slice(), rows.first()) {
        let when = if stamp.is_empty() {
            String::new()
        } else {
            format!("Measured {stamp}: ")
        };
        let _ = writeln!(s, "{when}this tree against `{}`.\n", first.baseline);
    } else {
        s.push_str(&runs.intro());
    }
    let _ = writeln!(
        s,
        "| target | baseline programs/s per round | this tree per round | ratio |{}\n|---|---|---|---:|{}",
        runs.head().0,
        runs.head().1
    );
    for e in rows {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} |{}",
            e.target,
            rates_cell(&e.baseline_rates),
            rates_cell(&e.rates),
            ratio_cell(&e.ratios),
            runs.cell(&e.measured)
        );
    }
    s.push('\n');
    s.push_str(&runs.list(|stamp| {
        baseline_of(stamp).map_or(String::new(), |e| format!(": against `{}`", e.baseline))
    }));
    s
}

fn json(r: &Results) -> String {
    let mut text =
        serde_json::to_string_pretty(r).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}

fn svg(r: &Results) -> String {
    let (w, h, left, bottom, top, right) = (640.0, 360.0, 50.0, 40.0, 20.0, 160.0);
    let tmax = r
        .time_to_bug
        .iter()
        .flat_map(|t| t.found())
        .fold(1.0f64, f64::max);
    let x = |t: f64| left + (w - left - right) * t / tmax;
    let y = |frac: f64| top + (h - top - bottom) * (1.0 - frac);
    let colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"];
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"11\">\n"
    );
    let _ = writeln!(
        s,
        "<line x1=\"{left}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"black\"/>",
        y(0.0),
        w - right,
        y(0.0)
    );
    let _ = writeln!(
        s,
        "<line x1=\"{left}\" y1=\"{}\" x2=\"{left}\" y2=\"{}\" stroke=\"black\"/>",
        y(0.0),
        y(1.0)
    );
    let _ = writeln!(
        s,
        "<text x=\"{}\" y=\"{}\">seconds (max {tmax:.1})</text>",
        left + 100.0,
        h - 10.0
    );
    let _ = writeln!(
        s,
        "<text x=\"5\" y=\"{}\">1.0</text><text x=\"5\" y=\"{}\">0.0</text>",
        y(1.0) + 4.0,
        y(0.0)
    );
    let _ = writeln!(
        s,
        "<text x=\"{left}\" y=\"12\">fraction of trials in which the bug is not yet found</text>"
    );
    for (i, t) in r.time_to_bug.iter().enumerate() {
        let n = t.trials.len().max(1) as f64;
        let mut pts = format!("{},{}", x(0.0), y(1.0));
        let mut alive = 1.0;
        for found in t.found() {
            pts.push_str(&format!(
                " {},{} {},{}",
                x(found),
                y(alive),
                x(found),
                y(alive - 1.0 / n)
            ));
            alive -= 1.0 / n;
        }
        pts.push_str(&format!(" {},{}", x(tmax), y(alive)));
        let c = colors[i % colors.len()];
        let _ = writeln!(
            s,
            "<polyline fill=\"none\" stroke=\"{c}\" stroke-width=\"2\" points=\"{pts}\"/>"
        );
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{}\" fill=\"{c}\">{}</text>",
            w - right + 8.0,
            top + 14.0 * (i as f64 + 1.0),
            t.bug
        );
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_bench_run_keeps_the_hand_written_sections() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("bench")).unwrap();
        let hand = format!("{HAND_WRITTEN_MARK}\n\n## Differential fuzzing\n\ncounts\n");
        std::fs::write(
            root.path().join("bench/results.md"),
            format!("# old figures\n\n{hand}"),
        )
        .unwrap();
        write(root.path(), &Results::default()).unwrap();
        let md = std::fs::read_to_string(root.path().join("bench/results.md")).unwrap();
        assert!(md.starts_with("# devfuzz bench results"), "{md}");
        assert!(!md.contains("# old figures") && md.ends_with(&hand), "{md}");
    }
    use super::*;

    #[test]
    fn libfuzzer_exec_rate_is_read_from_the_final_status_line() {
        let log = "#2\tINITED cov: 10 ft: 10 corp: 1/1b exec/s: 0 rss: 30Mb\n#65536\tpulse cov: 12 exec/s: 21845 rss: 31Mb\n#100000\tDONE cov: 12 ft: 12 corp: 3/9b lim: 4 exec/s: 33333 rss: 31Mb\n";
        assert_eq!(parse_exec_per_sec(log), Some(33333.0));
        assert_eq!(parse_exec_per_sec("nothing"), None);
        assert_eq!(parse_peak_rss_mb(log), Some(31.0));
        assert_eq!(parse_peak_rss_mb("nothing"), None);
    }

    #[test]
    fn medians_treat_misses_as_infinite() {
        let t = |v: Vec<Option<f64>>| TimeToBug {
            bug: "b".into(),
            target: "t".into(),
            trials: v,
            trial_limit_seconds: 60,
            other_crashes: None,
            build: String::new(),
            measured: String::new(),
        };
        assert_eq!(t(vec![Some(3.0), Some(1.0), Some(2.0)]).median(), Some(2.0));
        assert_eq!(t(vec![Some(3.0), None, Some(1.0)]).median(), Some(3.0));
        assert_eq!(t(vec![None, None, Some(1.0)]).median(), None);
    }

    #[test]
    fn exec_rows_show_device_lines_only_when_measured() {
        let row = |target: &str, lines: Option<(u64, u64)>| ExecRate {
            target: target.into(),
            exec_per_sec: 1000.0,
            empty_exec_per_sec: Some(100_000.0),
            peak_rss_mb: None,
            seconds: Some(600),
            measured: String::new(),
            device_lines: lines
                .map(|(covered, total)| crate::coverage::LineCoverage { covered, total }),
        };
        let with = Results {
            exec: vec![row("empty", None), row("pci", Some((399, 439)))],
            ..Results::default()
        };
        let md = markdown(&with);
        assert!(md.contains("| seconds | peak RSS | device lines |"), "{md}");
        assert!(md.contains("| pci | 1000 | 100000 | 1.0% | 600 | - | 90.9% (399/439) |"));
        assert!(md.contains("| empty | 1000 | 100000 | 1.0% | 600 | - | - |"));
        let without = Results {
            exec: vec![row("pci", None)],
            ..Results::default()
        };
        assert!(!markdown(&without).contains("device lines"));
        // Recorded and read back; a row from before the field reads as not measured.
        let back: Results = serde_json::from_str(&json(&with)).unwrap();
        assert_eq!(back.exec[1].device_lines, with.exec[1].device_lines);
        let old = json(&without);
        assert!(!old.contains("device_lines"), "not measured: not written");
        let old: Results = serde_json::from_str(&old).unwrap();
        assert_eq!(old.exec[0].device_lines, None);
    }

    #[test]
    fn a_narrow_run_replaces_what_it_measured_and_keeps_the_rest() {
        let (then, now) = ("2026-12-01 at aaaaaaaaaa", "2026-12-06 at bbbbbbbbbb");
        let rate = |t: &str, v: f64| ExecRate {
            target: t.into(),
            exec_per_sec: v,
            empty_exec_per_sec: Some(1000.0),
            peak_rss_mb: None,
            seconds: None,
            measured: if v < 10.0 { then } else { now }.into(),
            device_lines: None,
        };
        let ttb = |b: &str, v: f64| TimeToBug {
            bug: b.into(),
            target: "ps2".into(),
            trials: vec![Some(v)],
            trial_limit_seconds: 60,
            other_crashes: Some(0),
            build: String::new(),
            measured: if v < 10.0 { then } else { now }.into(),
        };
        let old = Results {
            exec: vec![rate("empty", 1.0), rate("ps2", 2.0), rate("pci", 3.0)],
            time_to_bug: vec![ttb("ps2-queue-overflow", 1.0), ttb("pci-bar-overlap", 2.0)],
            minimize: Some(MinimizeFigure {
                ops_before: 10,
                commands_after: 2,
                seconds: 0.1,
            }),
            ..Results::default()
        };
        let new = Results {
            exec: vec![rate("empty", 10.0), rate("pci", 30.0)],
            time_to_bug: vec![ttb("pci-bar-overlap", 20.0)],
            ..Results::default()
        };
        let m = new.merged_over(old);
        let exec: Vec<(&str, f64)> = m
            .exec
            .iter()
            .map(|e| (e.target.as_str(), e.exec_per_sec))
            .collect();
        assert_eq!(exec, [("empty", 10.0), ("ps2", 2.0), ("pci", 30.0)]);
        let bugs: Vec<(&str, Option<f64>)> = m
            .time_to_bug
            .iter()
            .map(|t| (t.bug.as_str(), t.trials[0]))
            .collect();
        assert_eq!(
            bugs,
            [
                ("ps2-queue-overflow", Some(1.0)),
                ("pci-bar-overlap", Some(20.0))
            ]
        );
        assert_eq!(m.minimize.map(|f| f.commands_after), Some(2));
        // Each table says which run each row is from.
        let md = markdown(&m);
        assert!(
            md.contains("| ps2 | 2 | 1000 | 0.2% | - | - | [2] |")
                && md.contains("| pci | 30 | 1000 | 3.0% | - | - | [1] |"),
            "{md}"
        );
        assert!(
            md.contains("| pci-bar-overlap | ps2 | - | 1/1 | 60 | 20.0 | 20.0 | 20.0 | 0 | [2] |"),
            "{md}"
        );
        assert_eq!(
            md.matches("**The rows are from 2 runs**").count(),
            2,
            "{md}"
        );
        assert!(md.contains("- [2] 2026-12-01 at aaaaaaaaaa\n"), "{md}");
        let back: Results = serde_json::from_str(&json(&m)).unwrap();
        assert_eq!(back.exec.len(), 3);
        assert_eq!(back.time_to_bug[1].trials, [Some(20.0)]);
        assert_eq!(back.exec[0].measured, now);
        // One run: no run column, its stamp above the table.
        let one = markdown(&Results {
            in_process: vec![InProcess {
                target: "ps2".into(),
                programs_per_sec: 5.0,
                measured: now.into(),
            }],
            ..Results::default()
        });
        assert!(
            one.contains("Measured 2026-12-06 at bbbbbbbbbb.\n\n| target | programs/s |\n|---|---:|\n| ps2 | 5 |\n"),
            "{one}"
        );
    }

    #[test]
    fn side_by_side_ratios_are_medians_over_rounds() {
        let row = |build: &str, rates: Vec<f64>, ratios: Vec<f64>| SideBySide {
            target: "ps2".into(),
            build: build.into(),
            reference: "base@0123456789 full".into(),
            same_input_secs: ratios.iter().map(|r| 2.0 / r).collect(),
            same_input_ratios: ratios.iter().map(|r| r * 1.5).collect(),
            same_inputs: 812,
            rates,
            ratios,
            seconds: 60,
            device_lines: Some(crate::coverage::LineCoverage {
                covered: 90,
                total: 100,
            }),
            measured: "2026-12-06 at 0123456789".into(),
        };
        let md = side_by_side_markdown(&[
            row(
                "base@0123456789 full",
                vec![100.0, 120.0, 90.0],
                vec![1.0, 1.0, 1.0],
            ),
            row("scoped", vec![200.0, 300.0, 150.0], vec![2.0, 2.5, 1.67]),
        ]);
        assert!(
            md.contains("| ps2 | scoped | 200 / 300 / 150 | 2.00 [1.67-2.50] | 3.00 [2.50-3.75] (812 inputs, 1.00 s) | 90.0% (90/100) |"),
            "{md}"
        );
        assert!(
            md.contains("Measured 2026-12-06 at 0123456789: 60 s per run, ratios over `base@0123456789 full`."),
            "{md}"
        );
        assert!(!md.contains("| run |"), "one run needs no run column: {md}");
        assert_eq!(median(&[3.0, 1.0, 2.0, 10.0]), Some(2.5));
        assert_eq!(median(&[]), None);
        // Side-by-side rows survive a later narrow run that measured none.
        let old = Results {
            side_by_side: vec![row("scoped", vec![1.0], vec![1.0])],
            ..Results::default()
        };
        let m = Results::default().merged_over(old);
        assert_eq!(m.side_by_side.len(), 1);
        let back: Results = serde_json::from_str(&json(&m)).unwrap();
        assert_eq!(
            back.side_by_side[0].device_lines.map(|c| c.total),
            Some(100)
        );
        assert_eq!(back.side_by_side[0].same_input_ratios, vec![1.5]);
        // A row from before the same-input replay has none.
        let mut before = row("scoped", vec![1.0], vec![1.0]);
        before.same_input_ratios.clear();
        assert!(side_by_side_markdown(&[before]).contains("| 1.00 | - | 90.0%"));
    }

    fn in_process_row(target: &str, ratio: f64, measured: &str) -> InProcessSideBySide {
        InProcessSideBySide {
            target: target.into(),
            baseline: "base@0123456789".into(),
            baseline_rates: vec![100.0, 110.0, 90.0],
            rates: vec![100.0 * ratio, 110.0 * ratio * 1.1, 90.0 * ratio],
            ratios: vec![ratio, ratio * 1.1, ratio],
            measured: measured.into(),
        }
    }

    #[test]
    fn in_process_side_by_side_sits_under_the_in_process_table() {
        let (then, now) = ("2026-12-01 at aaaaaaaaaa", "2026-12-06 at bbbbbbbbbb");
        let r = Results {
            in_process: vec![InProcess {
                target: "ps2".into(),
                programs_per_sec: 5.0,
                measured: then.into(),
            }],
            in_process_side_by_side: vec![
                in_process_row("ps2", 2.0, now),
                in_process_row("ide", 3.0, now),
            ],
            ..Results::default()
        };
        let md = markdown(&r);
        let table = md
            .find("## In-process programs/s side by side")
            .expect("the side-by-side table");
        assert!(md.find("## In-process programs/s (no engine)").unwrap() < table);
        assert!(
            md.contains("Measured 2026-12-06 at bbbbbbbbbb: this tree against `base@0123456789`.\n\n| target | baseline programs/s per round | this tree per round | ratio |\n|---|---|---|---:|\n| ps2 | 100 / 110 / 90 | 200 / 242 / 180 | 2.00 [2.00-2.20] |\n| ide | 100 / 110 / 90 | 300 / 363 / 270 | 3.00 [3.00-3.30] |\n"),
            "{md}"
        );
        // A later `--targets ps2 --baseline` run replaces ps2's row and keeps ide's with its
        // run's notes; the table then numbers the runs.
        let r = Results {
            notes: vec![format!("{}in-process: 3 round(s)", side_by_side_note(now))],
            ..r
        };
        let later = "2026-12-07 at cccccccccc";
        let m = Results {
            in_process_side_by_side: vec![in_process_row("ps2", 4.0, later)],
            ..Results::default()
        }
        .merged_over(r);
        let rows: Vec<(&str, f64)> = m
            .in_process_side_by_side
            .iter()
            .map(|e| (e.target.as_str(), e.ratios[0]))
            .collect();
        assert_eq!(rows, [("ps2", 4.0), ("ide", 3.0)]);
        assert_eq!(m.notes.len(), 1, "{:?}", m.notes);
        let md = in_process_side_by_side_markdown(&m.in_process_side_by_side);
        assert!(md.contains("**The rows are from 2 runs**"), "{md}");
        assert!(
            md.contains("| ide | 100 / 110 / 90 | 300 / 363 / 270 | 3.00 [3.00-3.30] | [2] |"),
            "{md}"
        );
        assert!(
            md.contains("- [1] 2026-12-07 at cccccccccc: against `base@0123456789`\n"),
            "{md}"
        );
        let back: Results = serde_json::from_str(&json(&m)).unwrap();
        assert_eq!(back.in_process_side_by_side[1].rates.len(), 3);
        // Results without the table read as before, and write none.
        let plain: Results = serde_json::from_str(&json(&Results::default())).unwrap();
        assert!(plain.in_process_side_by_side.is_empty());
        assert!(!json(&Results::default()).contains("in_process_side_by_side"));
        assert_eq!(ratio_cell(&[]), "-");
        assert_eq!(ratio_cell(&[1.5]), "1.50");
    }

    fn side_row(target: &str, build: &str, ratio: f64, measured: &str) -> SideBySide {
        SideBySide {
            target: target.into(),
            build: build.into(),
            reference: "base@0123456789 full".into(),
            rates: vec![100.0 * ratio],
            ratios: vec![ratio],
            seconds: 15,
            device_lines: None,
            same_input_secs: Vec::new(),
            same_input_ratios: Vec::new(),
            same_inputs: 0,
            measured: measured.into(),
        }
    }

    #[test]
    fn a_targets_run_replaces_only_its_targets_side_by_side_rows() {
        let (then, now) = ("2026-12-01 at aaaaaaaaaa", "2026-12-06 at bbbbbbbbbb");
        let old = Results {
            side_by_side: vec![
                side_row("ps2", "base@0123456789 full", 1.0, then),
                side_row("ps2", "edges", 2.0, then),
                side_row("e1000e", "base@0123456789 full", 1.0, then),
                side_row("e1000e", "edges", 1.5, then),
            ],
            notes: vec![
                format!("{}1 build(s) x 2 target(s)", side_by_side_note(then)),
                "engine measurements skipped".into(),
            ],
            ..Results::default()
        };
        let new = Results {
            side_by_side: vec![
                side_row("ps2", "base@0123456789 full", 1.0, now),
                side_row("ps2", "edges", 3.0, now),
            ],
            notes: vec![format!(
                "{}1 build(s) x 1 target(s)",
                side_by_side_note(now)
            )],
            ..Results::default()
        };
        let m = new.merged_over(old);
        let rows: Vec<(&str, &str, f64, &str)> = m
            .side_by_side
            .iter()
            .map(|e| {
                (
                    e.target.as_str(),
                    e.build.as_str(),
                    e.ratios[0],
                    e.measured.as_str(),
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                ("ps2", "base@0123456789 full", 1.0, now),
                ("ps2", "edges", 3.0, now),
                ("e1000e", "base@0123456789 full", 1.0, then),
                ("e1000e", "edges", 1.5, then),
            ]
        );
        // The kept rows' run keeps its notes; other old notes go.
        assert_eq!(m.notes.len(), 2, "{:?}", m.notes);
        assert!(m.notes[1].starts_with("side by side [2026-12-01 at aaaaaaaaaa]: "));
        // The table says which run each row is from.
        let md = side_by_side_markdown(&m.side_by_side);
        assert!(md.contains("**The rows are from 2 runs**"), "{md}");
        assert!(
            md.contains("| ps2 | edges | 300 | 3.00 | - | - | [1] |"),
            "{md}"
        );
        assert!(
            md.contains("| e1000e | edges | 150 | 1.50 | - | - | [2] |"),
            "{md}"
        );
        assert!(
            md.contains(
                "- [2] 2026-12-01 at aaaaaaaaaa: 15 s per run, ratios over `base@0123456789 full`"
            ),
            "{md}"
        );
        // A run measuring every target again replaces every row.
        let all = Results {
            side_by_side: vec![
                side_row("ps2", "edges", 4.0, now),
                side_row("e1000e", "edges", 4.0, now),
            ],
            ..Results::default()
        };
        let m = all.merged_over(m);
        assert_eq!(m.side_by_side.len(), 2);
        assert!(m.notes.is_empty(), "{:?}", m.notes);
    }

    #[test]
    fn rows_from_before_stamps_are_marked_as_an_earlier_run() {
        let old = Results {
            side_by_side: vec![side_row("igb", "edges", 1.2, "")],
            notes: vec![format!("{SIDE_BY_SIDE_NOTE}2 build(s) x 9 target(s)")],
            ..Results::default()
        };
        // A legacy results.json reads without the field.
        let legacy: SideBySide = serde_json::from_str(
            r#"{"target":"igb","build":"edges","reference":"b","rates":[1.0],"ratios":[1.0],"seconds":15}"#,
        )
        .unwrap();
        assert_eq!(legacy.measured, "");
        let new = Results {
            side_by_side: vec![side_row("ps2", "edges", 2.0, "2026-12-06 at bbbbbbbbbb")],
            ..Results::default()
        };
        let m = new.merged_over(old);
        assert_eq!(
            m.notes,
            [format!("{SIDE_BY_SIDE_NOTE}2 build(s) x 9 target(s)")]
        );
        let md = side_by_side_markdown(&m.side_by_side);
        assert!(
            md.contains("- [2] an earlier run (date and commit not recorded): 15 s per run"),
            "{md}"
        );
    }

    #[test]
    fn stamps_name_the_utc_date() {
        assert_eq!(civil_date(0), "1970-01-01");
        assert_eq!(civil_date(20_428), "2025-12-06");
        assert_eq!(civil_date(11_016), "2000-02-29");
        assert_eq!(
            side_by_side_note_stamp("side by side [x at y]: z"),
            Some("x at y")
        );
        assert_eq!(side_by_side_note_stamp("side by side: z"), Some(""));
        assert_eq!(side_by_side_note_stamp("time-to-bug side by side: z"), None);
    }

    #[test]
    fn variants_put_the_baseline_first() {
        let cfg = BenchConfig {
            root: PathBuf::from("/nonexistent"),
            exec_seconds: 1,
            trials: 1,
            trial_seconds: 1,
            in_process_only: false,
            sanitizer: "none".into(),
            targets: None,
            bugs: None,
            jobs: 1,
            instruments: vec![Instrument::Full, Instrument::Scoped],
            baseline: None,
            baseline_instrument: Instrument::Full,
            rounds: 1,
            device_lines: false,
        };
        assert!(cfg.side_by_side());
        let v = variants(&cfg).unwrap();
        let labels: Vec<&str> = v.iter().map(|v| v.label.as_str()).collect();
        assert_eq!(labels, ["full", "scoped"]);
        assert_eq!(v[1].slug(), "scoped");
        let with_base = BenchConfig {
            baseline: Some("no-such-revision-anywhere".into()),
            ..cfg
        };
        assert!(variants(&with_base).is_err());
    }

    #[test]
    fn sample_inputs_are_deterministic() {
        assert_eq!(sample_inputs(10, 5), sample_inputs(10, 5));
    }
}
