//! `devfuzz bench`: the figures the README quotes, measured and written to `bench/`.
//!
//! - exec/s of each target under libFuzzer (release build) next to an empty libFuzzer target
//!   run on the same machine in the same run (the engine's floor);
//! - in-process programs/s without an engine;
//! - time-to-bug per planted bug over N fresh campaigns (found count, median, min, max) and a
//!   survival plot;
//! - minimisation time of a 1000-op crashing input.
//!
//! `--targets` and `--time-to-bug` narrow a run; its figures are merged into the existing
//! `bench/results.json` (replacing the entries measured again, keeping the rest), so a long
//! campaign can be measured piece by piece. Each exec/s figure keeps the empty target's rate
//! from its own run, so ratios stay honest across merged runs.

use harness::runner::Runner;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What to measure.
pub struct BenchConfig {
    /// Workspace root.
    pub root: PathBuf,
    /// Seconds per libFuzzer exec/s measurement.
    pub exec_seconds: u64,
    /// Trials per planted bug.
    pub trials: u32,
    /// Time limit per trial in seconds.
    pub trial_seconds: u64,
    /// Skip the engine measurements (in-process figures only).
    pub in_process_only: bool,
    /// cargo-fuzz sanitizer.
    pub sanitizer: String,
    /// Targets to measure (`None`: all).
    pub targets: Option<Vec<String>>,
    /// Planted bugs to time (`None`: every bug of the measured targets; empty: none).
    pub bugs: Option<Vec<String>>,
    /// Trials run at once (each is one libFuzzer process).
    pub jobs: usize,
}

impl BenchConfig {
    /// Whether this run measures the per-target figures (exec/s, programs/s, minimisation):
    /// not when it only names bugs to time (`--time-to-bug` without `--targets`).
    fn measures_targets(&self) -> bool {
        self.targets.is_some() || self.bugs.as_ref().is_none_or(Vec::is_empty)
    }

    fn wants_target(&self, name: &str) -> bool {
        self.targets
            .as_ref()
            .is_none_or(|t| t.iter().any(|x| x == name))
    }

    fn wants_bug(&self, bug: &models::planted::PlantedBug) -> bool {
        match &self.bugs {
            Some(ids) => ids.iter().any(|x| x == bug.id),
            None => self.wants_target(bug.target),
        }
    }
}

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
}

/// Time-to-bug for one planted bug.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TimeToBug {
    /// Bug id.
    pub bug: String,
    /// Target fuzzed.
    pub target: String,
    /// Seconds to the crash for each trial that found it; `None` for a trial that did not.
    #[serde(rename = "trials_seconds")]
    pub trials: Vec<Option<f64>>,
    /// Time limit of each trial.
    #[serde(default)]
    pub trial_limit_seconds: u64,
}

/// In-process programs/s of one target.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct InProcess {
    /// Target.
    pub target: String,
    /// Programs per second without an engine.
    pub programs_per_sec: f64,
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

impl TimeToBug {
    fn found(&self) -> Vec<f64> {
        let mut v: Vec<f64> = self.trials.iter().flatten().copied().collect();
        v.sort_by(f64::total_cmp);
        v
    }
    fn median(&self) -> Option<f64> {
        let v = self.found();
        if v.len() * 2 <= self.trials.len() {
            return None; // fewer than half found: the median is a miss
        }
        let n = self.trials.len();
        // Misses count as +inf, so with more than half found the median is a found value.
        Some(if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v.get(n / 2).copied().unwrap_or(f64::INFINITY)) / 2.0
        })
    }
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
    /// Notes on what was skipped and why.
    pub notes: Vec<String>,
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
        for e in old.time_to_bug {
            if !self.time_to_bug.iter().any(|n| n.bug == e.bug) {
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

fn fuzz_build(root: &Path, sanitizer: &str, planted: bool) -> Result<(), String> {
    let mut cmd = Command::new("cargo");
    cmd.current_dir(root)
        .args(["+nightly", "fuzz", "build"])
        .args(crate::campaign::fuzz_build_args(sanitizer, planted));
    let status = cmd.status().map_err(|e| format!("cargo fuzz build: {e}"))?;
    if !status.success() {
        return Err(format!("cargo fuzz build failed ({status})"));
    }
    Ok(())
}

/// The binary `cargo fuzz build` made for `target`.
fn fuzz_binary(root: &Path, target: &str) -> PathBuf {
    root.join("fuzz/target")
        .join(crate::coverage::host_triple())
        .join("release")
        .join(target)
}

/// Run one libFuzzer process (the built binary itself, so cargo's start-up is not timed);
/// returns (wall seconds, stderr, exit success).
fn libfuzzer(
    binary: &Path,
    planted: Option<&str>,
    corpus: &Path,
    args: &[String],
) -> Result<(f64, String, bool), String> {
    let mut cmd = Command::new(binary);
    cmd.env("DEVFUZZ_BUGS", planted.unwrap_or(""))
        .arg(corpus)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let out = cmd
        .output()
        .map_err(|e| format!("{}: {e}", binary.display()))?;
    Ok((
        start.elapsed().as_secs_f64(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.success(),
    ))
}

fn parse_exec_per_sec(log: &str) -> Option<f64> {
    log.lines()
        .filter_map(|l| l.split("exec/s: ").nth(1))
        .filter_map(|rest| rest.split_whitespace().next()?.parse::<f64>().ok())
        .next_back()
}

/// One exec/s run: the target's name and libFuzzer's log, or why it could not run.
type Measured = Result<(String, String), String>;

/// The largest `rss: NNMb` libFuzzer printed: the process's peak resident memory.
fn parse_peak_rss_mb(log: &str) -> Option<f64> {
    log.lines()
        .filter_map(|l| l.split("rss: ").nth(1))
        .filter_map(|rest| rest.split("Mb").next()?.trim().parse::<f64>().ok())
        .reduce(f64::max)
}

/// A fresh corpus holding only the target's seeds (converted from `fuzz/seeds/<target>`), so
/// every trial starts from the same place: never from what earlier campaigns accumulated in
/// `fuzz/corpus/`.
fn seed_only_corpus(
    root: &Path,
    name: &str,
    target: Option<&harness::target::Target>,
) -> Result<PathBuf, String> {
    let dir = root.join("fuzz/target/bench-corpus").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    if let Some(t) = target {
        crate::campaign::seed_corpus_into(root, t, &dir)?;
    }
    Ok(dir)
}

/// Measure everything the configuration asks for.
pub fn run(cfg: &BenchConfig) -> Result<Results, String> {
    let mut r = Results {
        host: host_description(),
        ..Results::default()
    };
    let figures = cfg.measures_targets();
    for t in models::TARGETS
        .iter()
        .filter(|t| figures && cfg.wants_target(t.name))
    {
        eprintln!("bench: in-process {}", t.name);
        r.in_process.push(InProcess {
            target: t.name.to_string(),
            programs_per_sec: in_process_rate(t),
        });
    }
    if figures && cfg.wants_target("ps2") {
        r.minimize = minimize_bench(&mut r.notes);
    }
    if cfg.in_process_only {
        r.notes
            .push("engine measurements skipped (--in-process-only)".into());
        return Ok(r);
    }
    crate::campaign::ensure_cargo_fuzz()?;
    let limits = |secs: u64| {
        vec![
            format!("-max_total_time={secs}"),
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
    if !measured.is_empty() {
        fuzz_build(&cfg.root, &cfg.sanitizer, false)?;
        // The empty target first, alone: the engine's floor.
        let measure = |name: &str| -> Measured {
            eprintln!("bench: libFuzzer exec/s of {name} ({} s)", cfg.exec_seconds);
            let corpus = seed_only_corpus(&cfg.root, name, models::target(name))?;
            let binary = fuzz_binary(&cfg.root, name);
            let (_, log, _) = libfuzzer(&binary, None, &corpus, &limits(cfg.exec_seconds))?;
            Ok((name.to_string(), log))
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
        for (name, log) in logs {
            match parse_exec_per_sec(&log) {
                Some(rate) => {
                    if name == "empty" {
                        floor = Some(rate);
                    }
                    r.exec.push(ExecRate {
                        target: name.to_string(),
                        exec_per_sec: rate,
                        empty_exec_per_sec: floor,
                        peak_rss_mb: parse_peak_rss_mb(&log),
                        seconds: Some(cfg.exec_seconds),
                    });
                }
                None => r.notes.push(format!("no exec/s from libFuzzer for {name}")),
            }
        }
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
    fuzz_build(&cfg.root, &cfg.sanitizer, true)?;
    for bug in bugs {
        r.time_to_bug.push(time_to_bug(cfg, bug, &limits)?);
    }
    Ok(r)
}

/// `cfg.trials` fresh campaigns against one planted bug, `cfg.jobs` at a time.
fn time_to_bug(
    cfg: &BenchConfig,
    bug: &models::planted::PlantedBug,
    limits: &(dyn Fn(u64) -> Vec<String> + Sync),
) -> Result<TimeToBug, String> {
    let target = models::target(bug.target)
        .ok_or_else(|| format!("planted bug {} names unknown target {}", bug.id, bug.target))?;
    let binary = fuzz_binary(&cfg.root, bug.target);
    let dict = cfg
        .root
        .join("fuzz/dicts")
        .join(format!("{}.dict", bug.target));
    let next = std::sync::Mutex::new(0u32);
    let results = std::sync::Mutex::new(Vec::new());
    let trial = |n: u32| -> Result<Option<f64>, String> {
        eprintln!(
            "bench: time-to-bug {} trial {}/{}",
            bug.id,
            n + 1,
            cfg.trials
        );
        let name = format!("ttb-{}-{n}", bug.id);
        let corpus = seed_only_corpus(&cfg.root, &name, Some(target))?;
        let artifacts = cfg.root.join("fuzz/target/bench-artifacts").join(&name);
        let _ = std::fs::remove_dir_all(&artifacts);
        std::fs::create_dir_all(&artifacts).map_err(|e| e.to_string())?;
        let mut args = limits(cfg.trial_seconds);
        args.push(format!("-seed={}", n + 1));
        args.push(format!("-artifact_prefix={}/", artifacts.display()));
        if dict.is_file() {
            args.push(format!("-dict={}", dict.display()));
        }
        let (secs, log, ok) = libfuzzer(&binary, Some(bug.id), &corpus, &args)?;
        let crashed = !ok
            && (log.contains("==ERROR")
                || std::fs::read_dir(&artifacts).is_ok_and(|mut d| d.next().is_some()));
        Ok(crashed.then_some(secs))
    };
    std::thread::scope(|scope| {
        for _ in 0..cfg.jobs.clamp(1, cfg.trials.max(1) as usize) {
            scope.spawn(|| {
                loop {
                    let n = {
                        let Ok(mut g) = next.lock() else { return };
                        if *g >= cfg.trials {
                            return;
                        }
                        *g += 1;
                        *g - 1
                    };
                    let outcome = trial(n);
                    if let Ok(mut g) = results.lock() {
                        g.push((n, outcome));
                    }
                }
            });
        }
    });
    let mut done = results
        .into_inner()
        .map_err(|_| "a trial thread panicked")?;
    done.sort_by_key(|(n, _)| *n);
    let trials = done
        .into_iter()
        .map(|(_, r)| r)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(TimeToBug {
        bug: bug.id.to_string(),
        target: bug.target.to_string(),
        trials,
        trial_limit_seconds: cfg.trial_seconds,
    })
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

/// Write `bench/results.md`, `bench/results.json` and `bench/time-to-bug.svg`.
pub fn write(root: &Path, r: &Results) -> Result<(), String> {
    let dir = root.join("bench");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("results.md"), markdown(r)).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("results.json"), json(r)).map_err(|e| e.to_string())?;
    if !r.time_to_bug.is_empty() {
        std::fs::write(dir.join("time-to-bug.svg"), svg(r)).map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn markdown(r: &Results) -> String {
    let mut s = String::from("# devfuzz bench results\n\n");
    let _ = writeln!(s, "Host: {}\n", r.host);
    if !r.exec.is_empty() {
        s.push_str("## libFuzzer exec/s (release)\n\nEach ratio is against the empty target measured in the same run; peak RSS is libFuzzer's figure for the whole run.\n\n| target | exec/s | empty target | of empty target | seconds | peak RSS |\n|---|---:|---:|---:|---:|---:|\n");
        for e in &r.exec {
            let (floor, ratio) = e.empty_exec_per_sec.map_or(("-".into(), "-".into()), |f| {
                (
                    format!("{f:.0}"),
                    format!("{:.1}%", 100.0 * e.exec_per_sec / f),
                )
            });
            let _ = writeln!(
                s,
                "| {} | {:.0} | {floor} | {ratio} | {} | {} |",
                e.target,
                e.exec_per_sec,
                e.seconds.map_or("-".into(), |t| t.to_string()),
                e.peak_rss_mb.map_or("-".into(), |m| format!("{m:.0} MiB"))
            );
        }
        s.push('\n');
    }
    s.push_str("## In-process programs/s (no engine)\n\n| target | programs/s |\n|---|---:|\n");
    for e in &r.in_process {
        let _ = writeln!(s, "| {} | {:.0} |", e.target, e.programs_per_sec);
    }
    s.push('\n');
    if !r.time_to_bug.is_empty() {
        s.push_str("## Time to bug (planted bugs)\n\n| bug | target | found | trial limit s | median s | min s | max s |\n|---|---|---:|---:|---:|---:|---:|\n");
        for t in &r.time_to_bug {
            let f = t.found();
            let fmt = |v: Option<f64>| v.map_or("-".to_string(), |x| format!("{x:.1}"));
            let _ = writeln!(
                s,
                "| {} | {} | {}/{} | {} | {} | {} | {} |",
                t.bug,
                t.target,
                f.len(),
                t.trials.len(),
                match t.trial_limit_seconds {
                    0 => "-".to_string(),
                    n => n.to_string(),
                },
                fmt(t.median()),
                fmt(f.first().copied()),
                fmt(f.last().copied())
            );
        }
        s.push_str("\nSurvival plot: `time-to-bug.svg`.\n\n");
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
        };
        assert_eq!(t(vec![Some(3.0), Some(1.0), Some(2.0)]).median(), Some(2.0));
        assert_eq!(t(vec![Some(3.0), None, Some(1.0)]).median(), Some(3.0));
        assert_eq!(t(vec![None, None, Some(1.0)]).median(), None);
    }

    #[test]
    fn a_narrow_run_replaces_what_it_measured_and_keeps_the_rest() {
        let rate = |t: &str, v: f64| ExecRate {
            target: t.into(),
            exec_per_sec: v,
            empty_exec_per_sec: Some(1000.0),
            peak_rss_mb: None,
            seconds: None,
        };
        let ttb = |b: &str, v: f64| TimeToBug {
            bug: b.into(),
            target: "ps2".into(),
            trials: vec![Some(v)],
            trial_limit_seconds: 60,
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
        let back: Results = serde_json::from_str(&json(&m)).unwrap();
        assert_eq!(back.exec.len(), 3);
        assert_eq!(back.time_to_bug[1].trials, [Some(20.0)]);
    }

    #[test]
    fn sample_inputs_are_deterministic() {
        assert_eq!(sample_inputs(10, 5), sample_inputs(10, 5));
    }
}
