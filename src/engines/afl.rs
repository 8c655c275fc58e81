//! AFL++ through cargo-afl (`fuzz/afl/`, stable): one `-M` instance and `-S` instances for
//! more jobs, in the sync dir `fuzz/afl/out/<target>/` (`main/`, `s1/`, ... each with
//! `queue/`, `crashes/`, `fuzzer_stats`), each logging beside it. AFL reads the corpus and does
//! not add to it.

use super::{
    Engine, Layout, Run, TOOLCHAIN, newer_than, output_of, rel, render, run_shown, stable_cargo,
    tail,
};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant, SystemTime};

/// AFL++ through cargo-afl.
pub struct Afl;

/// The cargo-afl release installed when it is missing (the `afl` crate of `fuzz/afl/Cargo.lock`).
pub const CARGO_AFL_VERSION: &str = "0.18.2";

impl Engine for Afl {
    fn layout(&self) -> &'static Layout {
        &Layout {
            name: "afl",
            crate_dir: "fuzz/afl",
            entries_dir: "targets",
            output_dir: "fuzz/afl/out",
        }
    }

    fn ensure_tool(&self) -> Result<(), String> {
        ensure_cargo_afl()
    }

    fn run(&self, run: &Run) -> Result<Vec<PathBuf>, String> {
        let (crate_dir, out) = self.campaign_dirs(run)?;
        Campaign {
            run,
            crate_dir,
            out,
        }
        .fuzz()
    }
}

fn ensure_cargo_afl() -> Result<(), String> {
    let installed = output_of(stable_cargo().args(["afl", "--version"])).is_some_and(|(ok, _)| ok);
    if !installed {
        // Installing also builds AFL++ for the installing toolchain (cargo-afl's build script).
        run_shown(
            stable_cargo().args([
                "install",
                "cargo-afl",
                "--version",
                CARGO_AFL_VERSION,
                "--locked",
            ]),
            "cargo-afl (AFL++) is not installed",
        )?;
    }
    // Every `cargo afl` subcommand but `config` refuses to run without the AFL++ runtime built
    // for this rustc; `afl fuzz -h` is the cheapest to ask.
    let runtime_missing = |text: &str| text.contains("runtime was not built");
    match output_of(stable_cargo().args(["afl", "fuzz", "-h"])) {
        Some((_, text)) if !runtime_missing(&text) && text.contains("afl-fuzz") => return Ok(()),
        Some((_, text)) if !runtime_missing(&text) => {
            return Err(format!(
                "cargo afl does not work:\n{text}\n(reinstall: cargo install cargo-afl --locked --force)"
            ));
        }
        None => return Err("cannot run cargo afl".into()),
        Some(_) => {}
    }
    run_shown(
        stable_cargo().args(["afl", "config", "--build", "--force"]),
        &format!("AFL++ is not built for the {TOOLCHAIN} toolchain"),
    )
}

/// One AFL++ campaign: what it was asked, the crate it builds and its sync dir.
struct Campaign<'a> {
    run: &'a Run<'a>,
    crate_dir: PathBuf,
    out: PathBuf,
}

impl Campaign<'_> {
    /// The log of AFL instance `name`, beside the sync dir: `fuzz/afl/out/<target>-<name>.log`.
    fn instance_log(&self, name: &str) -> PathBuf {
        self.out
            .with_file_name(format!("{}-{name}.log", self.run.target))
    }

    fn fuzz(&self) -> Result<Vec<PathBuf>, String> {
        let target_dir = self.crate_dir.join("target");
        let mut build = stable_cargo();
        build
            .current_dir(&self.crate_dir)
            .env("CARGO_TARGET_DIR", &target_dir)
            .args(["afl", "build", "--release", "--bin", self.run.target])
            .args(self.run.feature_args());
        run_shown(
            &mut build,
            &format!("building the AFL++ entry {}", self.run.target),
        )?;
        let binary = target_dir.join("release").join(self.run.target);

        let started = SystemTime::now();
        // A resumed instance's counters go on from its last session: count from here.
        let execs_before = afl_execs(&self.out);
        let mut instances: Vec<(String, PathBuf, Child)> = Vec::new();
        for i in 0..self.run.jobs {
            let name = instance_name(i);
            let role = if i == 0 { "-M" } else { "-S" };
            let mut cmd = stable_cargo();
            cmd.current_dir(&self.crate_dir)
                .args(["afl", "fuzz", role, &name, "-i"])
                .arg(&self.run.corpus)
                .arg("-o")
                .arg(&self.out);
            if let Some(dict) = &self.run.dict {
                cmd.arg("-x").arg(dict);
            }
            cmd.args([
                "-V".to_string(),
                self.run.seconds.to_string(),
                "-t".to_string(),
                (self.run.timeout_secs.max(1) * 1000).to_string(),
                "-G".to_string(),
                self.run.max_len.to_string(),
                "--".to_string(),
            ])
            .arg(&binary)
            .env("DEVFUZZ_BUGS", self.run.bugs)
            .env(harness::entry::MACHINE_OPTS_VAR, self.run.machine_opts)
            .env(harness::entry::REENTRANCY_VAR, self.run.reentrancy)
            // No control over the CPU governor or core_pattern (not root on every machine),
            // no terminal UI (progress comes from the logs below), and pick up where an earlier
            // campaign on this target left off (its old crashes move to crashes.<date>/).
            .envs([
                ("AFL_SKIP_CPUFREQ", "1"),
                ("AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES", "1"),
                ("AFL_NO_UI", "1"),
                ("AFL_AUTORESUME", "1"),
                ("AFL_NO_AFFINITY", "1"),
                ("AFL_CRASHING_SEEDS_AS_NEW_CRASH", "1"),
            ]);
            let log = self.instance_log(&name);
            let file = std::fs::File::create(&log)
                .map_err(|e| format!("cannot create {}: {e}", log.display()))?;
            let err = file
                .try_clone()
                .map_err(|e| format!("{}: {e}", log.display()))?;
            cmd.stdin(Stdio::null()).stdout(file).stderr(err);
            eprintln!(
                "devfuzz: running {} (log: {})",
                render(&cmd),
                rel(&log, &self.crate_dir)
            );
            let child = cmd
                .spawn()
                .map_err(|e| format!("cannot run cargo afl fuzz: {e}"))?;
            instances.push((name, log, child));
        }

        let start = Instant::now();
        let mut last_line = Instant::now();
        let mut failed = Vec::new();
        while !instances.is_empty() {
            std::thread::sleep(Duration::from_millis(500));
            let mut i = 0;
            while i < instances.len() {
                match instances[i].2.try_wait() {
                    Ok(None) => i += 1,
                    Ok(Some(status)) => {
                        let (name, log, _) = instances.remove(i);
                        if !status.success() {
                            eprintln!("devfuzz: AFL++ instance {name} exited with {status}:");
                            eprintln!("{}", tail(&log, 30));
                            failed.push(name);
                        }
                    }
                    Err(e) => return Err(format!("waiting for afl-fuzz: {e}")),
                }
            }
            if last_line.elapsed() >= Duration::from_secs(10) && !instances.is_empty() {
                last_line = Instant::now();
                let logs: Vec<PathBuf> = (0..self.run.jobs)
                    .map(|i| self.instance_log(&instance_name(i)))
                    .collect();
                if let Some(line) = afl_progress(&logs, &self.out, started, &execs_before) {
                    eprintln!(
                        "devfuzz: afl {} {:>4}s: {line}",
                        self.run.target,
                        start.elapsed().as_secs()
                    );
                }
            }
        }
        let crashes = newer_than(afl_crash_files(&self.out), started);
        let execs = afl_execs_since(&self.out, started, &execs_before).unwrap_or(0);
        let secs = start.elapsed().as_secs_f64().max(1.0);
        eprintln!(
            "devfuzz: afl {} done: {execs} execs in {secs:.0}s ({:.0}/s over {} instance(s), \
             startup included), {} new crash file(s); output in {}",
            self.run.target,
            execs as f64 / secs,
            self.run.jobs,
            crashes.len(),
            rel(&self.out, &self.crate_dir)
        );
        if failed.len() == self.run.jobs as usize {
            return Err(format!(
                "every AFL++ instance failed ({}); see the logs above",
                failed.join(", ")
            ));
        }
        Ok(crashes)
    }
}

/// The instance directories of an AFL sync dir (those with a `queue/` or stats).
fn afl_instances(out: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(out)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("queue").is_dir() || p.join("fuzzer_stats").is_file())
        .collect();
    v.sort();
    v
}

/// AFL instance `i`: `main` (`-M`), then `s1`, `s2`, ... (`-S`).
fn instance_name(i: u32) -> String {
    if i == 0 {
        "main".to_string()
    } else {
        format!("s{i}")
    }
}

/// One progress line. With `AFL_NO_UI` each instance logs a line per queue entry it starts
/// on, `Fuzzing test case #N (T total, ... cvg=P%)`, which gives the corpus and map coverage;
/// `fuzzer_stats` is only rewritten every minute (and `plot_data` not at all in the first one),
/// so executions show from then on. Crash files are counted from `since`; executions from
/// `execs_before` ([`afl_execs`] as the run began).
fn afl_progress(
    logs: &[PathBuf],
    out: &Path,
    since: SystemTime,
    execs_before: &BTreeMap<String, u64>,
) -> Option<String> {
    let (mut corpus, mut coverage, mut any) = (0u64, 0f64, false);
    for log in logs {
        let Ok(bytes) = std::fs::read(log) else {
            continue;
        };
        let text = strip_ansi_escapes::strip_str(String::from_utf8_lossy(&bytes));
        let Some(line) = text
            .lines()
            .rev()
            .find(|l| l.contains("Fuzzing test case #"))
        else {
            continue;
        };
        any = true;
        if let Some(total) = line
            .find(" total")
            .and_then(|end| line[..end].rsplit([' ', '(']).next())
            .and_then(|n| n.parse::<u64>().ok())
        {
            corpus = corpus.max(total);
        }
        if let Some(cvg) = line
            .split("cvg=")
            .nth(1)
            .and_then(|r| r.split('%').next())
            .and_then(|v| v.parse::<f64>().ok())
        {
            coverage = coverage.max(cvg);
        }
    }
    if !any {
        return None;
    }
    let crashes = newer_than(afl_crash_files(out), since).len();
    let mut line = format!("corpus {corpus}, map coverage {coverage:.2}%, {crashes} crash file(s)");
    // The stats an instance writes as it starts say next to nothing; wait for the periodic ones.
    let periodic = since + Duration::from_secs(30);
    if let Some(execs) = afl_execs_since(out, periodic, execs_before) {
        line.push_str(&format!(", {execs} execs as of the last stats"));
    }
    Some(line)
}

/// `execs_done` of each instance's `fuzzer_stats` (written every minute and when it exits), by
/// instance name.
fn afl_execs(out: &Path) -> BTreeMap<String, u64> {
    afl_instances(out)
        .iter()
        .filter_map(|dir| {
            let execs = fuzzer_stat(&dir.join("fuzzer_stats"), "execs_done")?;
            let name = dir.file_name()?.to_string_lossy().into_owned();
            Some((name, execs.parse().ok()?))
        })
        .collect()
}

/// The executions since `before` was taken, over the instances whose `fuzzer_stats` was written
/// at or after `since`; `None` when none was yet.
fn afl_execs_since(out: &Path, since: SystemTime, before: &BTreeMap<String, u64>) -> Option<u64> {
    let fresh: Vec<PathBuf> = newer_than(
        afl_instances(out)
            .iter()
            .map(|d| d.join("fuzzer_stats"))
            .collect(),
        since,
    );
    if fresh.is_empty() {
        return None;
    }
    let now = afl_execs(out);
    let total = fresh
        .iter()
        .filter_map(|stats| stats.parent()?.file_name()?.to_str())
        .map(|name| {
            let then = before.get(name).copied().unwrap_or(0);
            now.get(name).copied().unwrap_or(0).saturating_sub(then)
        })
        .sum();
    Some(total)
}

/// The value of `key` in an AFL `fuzzer_stats` file (`key : value` lines).
fn fuzzer_stat(path: &Path, key: &str) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines().find_map(|line| {
        let (k, v) = line.split_once(':')?;
        (k.trim() == key).then(|| v.trim().to_string())
    })
}

/// The crash inputs of an AFL sync dir: `<out>/<instance>/crashes/id:*` (not the `crashes.<date>`
/// folders an in-place resume moves older ones to, the README, or the `.qtest` reproducers
/// triage writes beside them).
fn afl_crash_files(out: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = afl_instances(out)
        .iter()
        .flat_map(|dir| {
            std::fs::read_dir(dir.join("crashes"))
                .into_iter()
                .flatten()
                .flatten()
        })
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            (name.starts_with("id:") || name.starts_with("id_"))
                && p.extension().is_none_or(|e| e != "qtest")
        })
        .collect();
    v.sort();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn afl_crash_files_are_this_sync_dirs_inputs() {
        let scratch = tempfile::tempdir().unwrap();
        let out = scratch.path().to_path_buf();
        for dir in ["main/crashes", "main/queue", "s1/crashes", "s1/queue"] {
            std::fs::create_dir_all(out.join(dir)).unwrap();
        }
        std::fs::create_dir_all(out.join("main/crashes.2026-01-01-00:00:00")).unwrap();
        for file in [
            "main/crashes/id:000000,sig:06,src:000001,time:12,execs:34,op:havoc,rep:2",
            "main/crashes/README.txt",
            "main/crashes/id:000000,sig:06,src:000001,time:12,execs:34,op:havoc,rep:2.qtest",
            "main/crashes.2026-01-01-00:00:00/id:000000,sig:06",
            "s1/crashes/id:000003,sig:06",
        ] {
            std::fs::write(out.join(file), b"x").unwrap();
        }
        let names: Vec<String> = afl_crash_files(&out)
            .iter()
            .map(|p| p.strip_prefix(&out).unwrap().display().to_string())
            .collect();
        assert_eq!(
            names,
            [
                "main/crashes/id:000000,sig:06,src:000001,time:12,execs:34,op:havoc,rep:2",
                "s1/crashes/id:000003,sig:06"
            ]
        );
    }

    #[test]
    fn afl_progress_reads_the_logs_and_stats() {
        let scratch = tempfile::tempdir().unwrap();
        let out = scratch.path().to_path_buf();
        let since = SystemTime::now() - Duration::from_secs(60);
        let line = |n, total, cvg| {
            format!(
                "\u{1b}[1;94m[*] \u{1b}[0mFuzzing test case #{n} ({total} total, \u{1b}[0;31m18 \
                 crashes saved\u{1b}[0m, state: started :-), mode=explore, exec_us=216, \
                 run_time=0:00:00:29, cvg={cvg}%) FS (t=0:00:00:03 (10.21%))...\u{1b}[0m\n"
            )
        };
        let main_log = out.join("main.log");
        let s1_log = out.join("s1.log");
        std::fs::write(
            &main_log,
            format!("{}{}", line(1, 800, "7.00"), line(288, 838, "7.83")),
        )
        .unwrap();
        std::fs::write(&s1_log, line(3, 830, "6.50")).unwrap();
        let logs = [main_log, s1_log, out.join("s2.log")];
        let none = BTreeMap::new();
        assert_eq!(
            afl_progress(&logs, &out, since, &none).unwrap(),
            "corpus 838, map coverage 7.83%, 0 crash file(s)"
        );
        for dir in ["main/queue", "main/crashes", "s1/queue"] {
            std::fs::create_dir_all(out.join(dir)).unwrap();
        }
        std::fs::write(out.join("main/crashes/id:000000,sig:06"), b"x").unwrap();
        for (dir, execs) in [("main", 1500), ("s1", 200)] {
            std::fs::write(
                out.join(dir).join("fuzzer_stats"),
                format!(
                    "start_time        : 1\nexecs_done        : {execs}\nexecs_per_sec     : 50.5\n"
                ),
            )
            .unwrap();
        }
        assert_eq!(afl_execs(&out).get("main"), Some(&1500));
        // main resumed a session that had run 1000 executions; s1 is new.
        let before = BTreeMap::from([("main".to_string(), 1000)]);
        assert_eq!(afl_execs_since(&out, since, &before), Some(700));
        assert_eq!(
            afl_progress(&logs, &out, since, &before).unwrap(),
            "corpus 838, map coverage 7.83%, 1 crash file(s), 700 execs as of the last stats"
        );
        let later = SystemTime::now() + Duration::from_secs(60);
        assert_eq!(afl_execs_since(&out, later, &before), None);
        assert_eq!(afl_progress(&[], &out, since, &before), None);
    }
}
