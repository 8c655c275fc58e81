//! `devfuzz bench`: the figures the README quotes, measured and written to `bench/`.
//!
//! - exec/s of each target under libFuzzer (release build) next to an empty libFuzzer target
//!   run on the same machine in the same run (the engine's floor);
//! - in-process programs/s without an engine;
//! - time-to-bug per planted bug over N fresh campaigns (found count, median, min, max) and a
//!   survival plot;
//! - minimisation time of a 1000-op crashing input.

use harness::runner::Runner;
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
}

/// One exec/s figure.
pub struct ExecRate {
    /// Target (or "empty").
    pub target: String,
    /// libFuzzer's final exec/s.
    pub exec_per_sec: f64,
}

/// Time-to-bug for one planted bug.
pub struct TimeToBug {
    /// Bug id.
    pub bug: String,
    /// Target fuzzed.
    pub target: String,
    /// Seconds to the crash for each trial that found it; `None` for a trial that did not.
    pub trials: Vec<Option<f64>>,
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
#[derive(Default)]
pub struct Results {
    /// Machine description.
    pub host: String,
    /// libFuzzer exec/s (empty target first).
    pub exec: Vec<ExecRate>,
    /// In-process programs/s per target.
    pub in_process: Vec<(String, f64)>,
    /// Time-to-bug per planted bug.
    pub time_to_bug: Vec<TimeToBug>,
    /// `(ops before, commands after, seconds)` of the minimisation benchmark.
    pub minimize: Option<(usize, usize, f64)>,
    /// Notes on what was skipped and why.
    pub notes: Vec<String>,
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

/// Run one libFuzzer process; returns (wall seconds, stderr, exit success).
fn libfuzzer(
    root: &Path,
    sanitizer: &str,
    target: &str,
    planted: Option<&str>,
    corpus: &Path,
    args: &[String],
) -> Result<(f64, String, bool), String> {
    let mut cmd = Command::new("cargo");
    cmd.current_dir(root)
        .args(["+nightly", "fuzz", "run", target])
        .args(crate::campaign::fuzz_build_args(
            sanitizer,
            planted.is_some(),
        ))
        .env("DEVFUZZ_BUGS", planted.unwrap_or(""));
    cmd.arg(corpus)
        .arg("--")
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let out = cmd.output().map_err(|e| format!("cargo fuzz run: {e}"))?;
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
    for t in models::TARGETS {
        eprintln!("bench: in-process {}", t.name);
        r.in_process.push((t.name.to_string(), in_process_rate(t)));
    }
    r.minimize = minimize_bench(&mut r.notes);
    if cfg.in_process_only {
        r.notes
            .push("engine measurements skipped (--in-process-only)".into());
        return Ok(r);
    }
    crate::campaign::ensure_cargo_fuzz()?;
    fuzz_build(&cfg.root, &cfg.sanitizer, false)?;
    let limits = |secs: u64| {
        vec![
            format!("-max_total_time={secs}"),
            "-max_len=4096".into(),
            "-print_final_stats=1".into(),
        ]
    };
    for name in std::iter::once("empty").chain(models::TARGETS.iter().map(|t| t.name)) {
        eprintln!("bench: libFuzzer exec/s of {name} ({} s)", cfg.exec_seconds);
        let corpus = seed_only_corpus(&cfg.root, name, models::target(name))?;
        let (_, log, _) = libfuzzer(
            &cfg.root,
            &cfg.sanitizer,
            name,
            None,
            &corpus,
            &limits(cfg.exec_seconds),
        )?;
        match parse_exec_per_sec(&log) {
            Some(rate) => r.exec.push(ExecRate {
                target: name.to_string(),
                exec_per_sec: rate,
            }),
            None => r.notes.push(format!("no exec/s from libFuzzer for {name}")),
        }
    }
    if !models::planted::ENABLED_IN_BUILD {
        r.notes
            .push("time-to-bug skipped: build devfuzz with --features planted-bugs".into());
        return Ok(r);
    }
    fuzz_build(&cfg.root, &cfg.sanitizer, true)?;
    for bug in models::planted::BUGS {
        let target = models::target(bug.target)
            .ok_or_else(|| format!("planted bug {} names unknown target {}", bug.id, bug.target))?;
        let mut ttb = TimeToBug {
            bug: bug.id.to_string(),
            target: bug.target.to_string(),
            trials: Vec::new(),
        };
        for trial in 0..cfg.trials {
            eprintln!(
                "bench: time-to-bug {} trial {}/{}",
                bug.id,
                trial + 1,
                cfg.trials
            );
            let corpus = seed_only_corpus(&cfg.root, &format!("ttb-{}", bug.id), Some(target))?;
            let artifacts = cfg.root.join("fuzz/target/bench-artifacts").join(bug.id);
            let _ = std::fs::remove_dir_all(&artifacts);
            std::fs::create_dir_all(&artifacts).map_err(|e| e.to_string())?;
            let mut args = limits(cfg.trial_seconds);
            args.push(format!("-seed={}", trial + 1));
            args.push(format!("-artifact_prefix={}/", artifacts.display()));
            let dict = cfg
                .root
                .join("fuzz/dicts")
                .join(format!("{}.dict", bug.target));
            if dict.is_file() {
                args.push(format!("-dict={}", dict.display()));
            }
            let (secs, log, ok) = libfuzzer(
                &cfg.root,
                &cfg.sanitizer,
                bug.target,
                Some(bug.id),
                &corpus,
                &args,
            )?;
            let crashed = !ok
                && (log.contains("==ERROR")
                    || std::fs::read_dir(&artifacts).is_ok_and(|mut d| d.next().is_some()));
            ttb.trials.push(crashed.then_some(secs));
        }
        r.time_to_bug.push(ttb);
    }
    Ok(r)
}

fn minimize_bench(notes: &mut Vec<String>) -> Option<(usize, usize, f64)> {
    if !models::planted::ENABLED_IN_BUILD {
        notes.push(
            "minimisation benchmark skipped: build devfuzz with --features planted-bugs".into(),
        );
        return None;
    }
    let bug = models::planted::BUGS
        .iter()
        .find(|b| b.id == "ps2-queue-overflow")?;
    models::planted::select(bug.id).ok()?;
    let target = models::target("ps2")?;
    let mut runner = Runner::new(target);
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
    let _ = models::planted::select("");
    match result {
        Ok(m) => Some((trace.len(), m.trace.len(), secs)),
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
        let floor = r
            .exec
            .iter()
            .find(|e| e.target == "empty")
            .map(|e| e.exec_per_sec);
        s.push_str("## libFuzzer exec/s (release)\n\n| target | exec/s | of empty target |\n|---|---:|---:|\n");
        for e in &r.exec {
            let ratio = floor.map_or("-".into(), |f| {
                format!("{:.1}%", 100.0 * e.exec_per_sec / f)
            });
            let _ = writeln!(s, "| {} | {:.0} | {ratio} |", e.target, e.exec_per_sec);
        }
        s.push('\n');
    }
    s.push_str("## In-process programs/s (no engine)\n\n| target | programs/s |\n|---|---:|\n");
    for (t, rate) in &r.in_process {
        let _ = writeln!(s, "| {t} | {rate:.0} |");
    }
    s.push('\n');
    if !r.time_to_bug.is_empty() {
        s.push_str("## Time to bug (planted bugs)\n\n| bug | target | found | median s | min s | max s |\n|---|---|---:|---:|---:|---:|\n");
        for t in &r.time_to_bug {
            let f = t.found();
            let fmt = |v: Option<f64>| v.map_or("-".to_string(), |x| format!("{x:.1}"));
            let _ = writeln!(
                s,
                "| {} | {} | {}/{} | {} | {} | {} |",
                t.bug,
                t.target,
                f.len(),
                t.trials.len(),
                fmt(t.median()),
                fmt(f.first().copied()),
                fmt(f.last().copied())
            );
        }
        s.push_str("\nSurvival plot: `time-to-bug.svg`.\n\n");
    }
    if let Some((before, after, secs)) = r.minimize {
        let _ = writeln!(
            s,
            "## Minimisation\n\n{before}-op crashing input -> {after} commands (1-minimal) in {:.1} ms.\n",
            secs * 1000.0
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

fn json_str(v: &str) -> String {
    let mut out = String::from("\"");
    for c in v.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn json(r: &Results) -> String {
    let num = |v: Option<f64>| v.map_or("null".to_string(), |x| format!("{x:.3}"));
    let exec: Vec<String> = r
        .exec
        .iter()
        .map(|e| {
            format!(
                "{{\"target\": {}, \"exec_per_sec\": {:.1}}}",
                json_str(&e.target),
                e.exec_per_sec
            )
        })
        .collect();
    let inproc: Vec<String> = r
        .in_process
        .iter()
        .map(|(t, v)| {
            format!(
                "{{\"target\": {}, \"programs_per_sec\": {v:.1}}}",
                json_str(t)
            )
        })
        .collect();
    let ttb: Vec<String> = r
        .time_to_bug
        .iter()
        .map(|t| {
            let trials: Vec<String> = t.trials.iter().map(|x| num(*x)).collect();
            format!(
                "{{\"bug\": {}, \"target\": {}, \"trials_seconds\": [{}], \"median\": {}}}",
                json_str(&t.bug),
                json_str(&t.target),
                trials.join(", "),
                num(t.median())
            )
        })
        .collect();
    let minimize = r.minimize.map_or("null".to_string(), |(b, a, s)| {
        format!("{{\"ops_before\": {b}, \"commands_after\": {a}, \"seconds\": {s:.3}}}")
    });
    let notes: Vec<String> = r.notes.iter().map(|n| json_str(n)).collect();
    format!(
        "{{\n  \"host\": {},\n  \"libfuzzer_exec_per_sec\": [{}],\n  \"in_process\": [{}],\n  \"time_to_bug\": [{}],\n  \"minimize\": {},\n  \"notes\": [{}]\n}}\n",
        json_str(&r.host),
        exec.join(", "),
        inproc.join(", "),
        ttb.join(", "),
        minimize,
        notes.join(", ")
    )
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
    }

    #[test]
    fn medians_treat_misses_as_infinite() {
        let t = |v: Vec<Option<f64>>| TimeToBug {
            bug: "b".into(),
            target: "t".into(),
            trials: v,
        };
        assert_eq!(t(vec![Some(3.0), Some(1.0), Some(2.0)]).median(), Some(2.0));
        assert_eq!(t(vec![Some(3.0), None, Some(1.0)]).median(), Some(3.0));
        assert_eq!(t(vec![None, None, Some(1.0)]).median(), None);
    }

    #[test]
    fn sample_inputs_are_deterministic() {
        assert_eq!(sample_inputs(10, 5), sample_inputs(10, 5));
    }
}
