//! Time-to-bug trials of `devfuzz bench`: fresh libFuzzer campaigns against one planted bug,
//! each timed to the planted bug's own finding.
//!
//! A libFuzzer run (no `-fork`) stops at its first crash, and a crash is not always the planted
//! bug: another bug of the model, an input slower than `-timeout`, an out-of-memory. A crash
//! counts as the planted bug only when it is the bug's own finding:
//! - with a build of this tree, its crash file replayed in-process on this tree with the bug
//!   selected is a finding in the bug's device, and the bug's *triggered* canary fired on the
//!   way (Magma's rule: the condition the fix guards against happened, and the run failed)
//!   ([`is_planted_finding`]);
//! - with a baseline build (another revision, whose canaries this tree cannot see), its log's
//!   `devfuzz finding` line is a panic or hang in the bug's device ([`log_names_bug_device`]).
//!
//! Any other crash does not end the trial: its crash file is kept for triage as a finding of
//! its own ([`crate::bench_findings`], reported with the bench's other findings), and libFuzzer
//! starts again on the trial's corpus (which kept what the run had found) for the trial's time
//! left, with another `-seed`. A trial's time is the wall time of all its runs up to the
//! planted bug's crash, start-ups included. It misses when its time is spent, after
//! [`MAX_RUNS`] runs, or when a run fails without a crash file.

use crate::bench_config::{BenchConfig, TimeToBug};
use crate::bench_corpora::Corpora;
use crate::bench_findings::{Replay, RunArtifacts};
use harness::outcome::Outcome;
use models::planted::PlantedBug;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// libFuzzer runs one trial may start: a crash that every run finds again within a second
/// must not turn a trial into thousands of restarts.
pub const MAX_RUNS: usize = 16;

/// One build the trials run: its label, its planted-bugs fuzz binary of the bug's target, and
/// whether it is the baseline's (another revision).
pub struct TrialBuild {
    /// The build's label (`model-edges`, `base main@0123456789 full`, ...).
    pub label: String,
    /// The fuzz binary.
    pub binary: PathBuf,
    /// Whether the build is another revision's: judged by its log, not by a replay here.
    pub baseline: bool,
}

/// What the trials of one bug leave besides their times: the runs that crashed on something
/// else (for triage) and notes.
#[derive(Default)]
pub struct Leftovers {
    /// Runs whose crash was not the planted bug, each with its crash file.
    pub other_crashes: Vec<RunArtifacts>,
    /// Trials that ended without an answer, and why.
    pub notes: Vec<String>,
}

/// Whether `outcome` is `bug`'s own finding: a finding in the bug's device (either end of a
/// re-entrancy) with the bug's triggered canary counted.
pub fn is_planted_finding(outcome: &Outcome, bug: &PlantedBug) -> bool {
    outcome
        .finding()
        .is_some_and(|f| f.device.split("->").any(|d| d == bug.device))
        && outcome.canaries().get(bug.id).triggered > 0
}

/// Whether the crash file `artifact` of a run against `bug` is the bug's own finding, replayed
/// on this tree with the bug selected, on the machine the bench's runs had (`replay`).
pub fn is_planted_crash(bug: &PlantedBug, artifact: &Path, replay: &Replay) -> bool {
    let Some(target) = models::target(bug.target) else {
        return false;
    };
    let Ok(bytes) = std::fs::read(artifact) else {
        return false;
    };
    let mut runner = crate::campaign::Triage {
        target,
        bugs: bug.id.to_string(),
        machine_opts: replay.machine_opts.clone(),
        reentrancy: replay.reentrancy,
        record: false,
    }
    .runner();
    is_planted_finding(&runner.run_input(&bytes), bug)
}

/// Whether a libFuzzer log's `devfuzz finding <kind>:<device>:...` line is a panic or hang in
/// `bug`'s device: how a baseline build's crash is judged.
pub fn log_names_bug_device(log: &str, bug: &PlantedBug) -> bool {
    log.lines()
        .filter_map(|l| l.split("devfuzz finding ").nth(1))
        .any(|signature| {
            let mut parts = signature.split(':');
            matches!(parts.next(), Some("panic" | "hang")) && parts.next() == Some(bug.device)
        })
}

/// The `-seed` of run `k` of trial `n`: trial `n`'s first run has seed `n + 1`, as every
/// build's does, so builds compare on the same seeds.
fn seed(n: usize, k: usize) -> usize {
    n + 1 + 1000 * k
}

/// `cfg.trials` fresh campaigns against one planted bug with each of `builds`, `cfg.jobs` at a
/// time; trial `n` of every build before trial `n + 1` of any. `limits` gives the libFuzzer
/// arguments of a run of so many seconds.
pub fn time_to_bug(
    cfg: &BenchConfig,
    corpora: &Corpora,
    bug: &PlantedBug,
    builds: &[TrialBuild],
    limits: &(dyn Fn(u64) -> Vec<String> + Sync),
    leftovers: &mut Leftovers,
) -> Result<Vec<TimeToBug>, String> {
    let target = models::target(bug.target)
        .ok_or_else(|| format!("planted bug {} names unknown target {}", bug.id, bug.target))?;
    let dict = crate::bench_libfuzzer::dict_of(&cfg.root, bug.target);
    let replay = Replay::from_env();
    let work = cfg.trials as usize * builds.len();
    let next = Mutex::new(0usize);
    let results = Mutex::new(Vec::new());
    let others = Mutex::new(Vec::new());
    let notes = Mutex::new(Vec::new());
    // One trial: its time to the planted bug, or `None`.
    let trial = |i: usize| -> Result<Option<f64>, String> {
        let (n, b) = (i / builds.len(), i % builds.len());
        let build = &builds[b];
        eprintln!(
            "bench: time-to-bug {}{}{} trial {}/{}",
            bug.id,
            if build.label.is_empty() { "" } else { " with " },
            build.label,
            n + 1,
            cfg.trials
        );
        let name = format!("ttb-{}-{n}-{b}", bug.id);
        let corpus = corpora.seeds_only(&cfg.root, &name, Some(target))?;
        let mut spent = 0.0f64;
        for k in 0..MAX_RUNS {
            let left = cfg.trial_seconds.saturating_sub(spent.ceil() as u64);
            if left == 0 {
                return Ok(None);
            }
            let run = RunArtifacts::new(
                &cfg.root,
                &format!("{name}-{k}"),
                bug.target,
                &build.label,
                build.baseline,
            )?
            .with_planted(bug.id);
            let mut args = limits(left);
            args.push(format!("-seed={}", seed(n, k)));
            args.push(run.prefix_arg());
            if let Some(dict) = &dict {
                args.push(format!("-dict={}", dict.display()));
            }
            let (secs, log, ok) =
                crate::bench_libfuzzer::libfuzzer(&build.binary, Some(bug.id), &corpus, &args)?;
            spent += secs;
            if ok {
                return Ok(None); // the time is up
            }
            let files = run.files();
            if files.is_empty() {
                let last = log.lines().next_back().unwrap_or("").trim();
                lock(&notes).push(format!(
                    "time-to-bug {} with {} trial {}: libFuzzer failed after {secs:.1} s without a crash file (counted a miss): {last}",
                    bug.id,
                    build.label,
                    n + 1
                ));
                return Ok(None);
            }
            let planted = if build.baseline {
                log_names_bug_device(&log, bug)
            } else {
                files.iter().any(|f| {
                    f.file_name()
                        .is_some_and(|name| name.to_string_lossy().starts_with("crash-"))
                        && is_planted_crash(bug, f, &replay)
                })
            };
            if planted {
                return Ok(Some(spent));
            }
            lock(&others).push((i, run));
        }
        lock(&notes).push(format!(
            "time-to-bug {} with {} trial {}: {MAX_RUNS} runs each stopped at another crash (counted a miss)",
            bug.id,
            build.label,
            n + 1
        ));
        Ok(None)
    };
    std::thread::scope(|scope| {
        for _ in 0..cfg.jobs.clamp(1, work.max(1)) {
            scope.spawn(|| {
                loop {
                    let i = {
                        let Ok(mut g) = next.lock() else { return };
                        if *g >= work {
                            return;
                        }
                        *g += 1;
                        *g - 1
                    };
                    let outcome = trial(i);
                    lock(&results).push((i, outcome));
                }
            });
        }
    });
    let mut done = results
        .into_inner()
        .map_err(|_| "a trial thread panicked")?;
    done.sort_by_key(|(i, _)| *i);
    let mut per_build: Vec<Vec<Option<f64>>> = vec![Vec::new(); builds.len()];
    for (i, outcome) in done {
        per_build[i % builds.len()].push(outcome?);
    }
    let mut others = others.into_inner().map_err(|_| "a trial thread panicked")?;
    others.sort_by_key(|(i, _)| *i);
    let mut other_crashes = vec![0u32; builds.len()];
    for (i, _) in &others {
        other_crashes[i % builds.len()] += 1;
    }
    leftovers
        .other_crashes
        .extend(others.into_iter().map(|(_, run)| run));
    leftovers
        .notes
        .extend(notes.into_inner().map_err(|_| "a trial thread panicked")?);
    Ok(builds
        .iter()
        .zip(per_build)
        .zip(other_crashes)
        .map(|((build, trials), other)| TimeToBug {
            bug: bug.id.to_string(),
            target: bug.target.to_string(),
            trials,
            trial_limit_seconds: cfg.trial_seconds,
            other_crashes: Some(other),
            build: build.label.clone(),
            measured: String::new(),
        })
        .collect())
}

/// The value behind `m`, also when a trial thread panicked holding it.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use harness::outcome::{Canaries, Finding, FindingKind};

    fn bug(id: &str) -> &'static PlantedBug {
        models::planted::BUGS.iter().find(|b| b.id == id).unwrap()
    }

    fn finding(device: &str, canaries: Canaries) -> Outcome {
        Outcome::Finding(Box::new(Finding {
            kind: FindingKind::Panic,
            device: device.into(),
            location: "models/src/i8042/queue.rs:67".into(),
            message: String::new(),
            backtrace: Vec::new(),
            op_index: 0,
            register: None,
            canaries,
        }))
    }

    #[test]
    fn only_a_finding_in_the_bugs_device_with_its_canary_triggered_is_the_bug() {
        use harness::device::Canary::{Reached, Triggered};
        let queue = bug("ps2-queue-overflow");
        let mut triggered = Canaries::default();
        triggered.count("ps2-queue-overflow", Reached);
        triggered.count("ps2-queue-overflow", Triggered);
        let mut reached = Canaries::default();
        reached.count("ps2-queue-overflow", Reached);
        let mut other_bug = Canaries::default();
        other_bug.count("ps2-mouse-param-index", Triggered);
        assert!(is_planted_finding(
            &finding("i8042", triggered.clone()),
            queue
        ));
        assert!(is_planted_finding(
            &finding("i8042->i8042", triggered.clone()),
            queue
        ));
        // Another crash of the same device, the bug's path only reached, or another bug's.
        assert!(!is_planted_finding(&finding("i8042", reached), queue));
        assert!(!is_planted_finding(&finding("i8042", other_bug), queue));
        assert!(!is_planted_finding(
            &finding("i8042", Canaries::default()),
            queue
        ));
        // Triggered, but the run failed elsewhere, or did not fail.
        assert!(!is_planted_finding(
            &finding("PIIX4_PM", triggered.clone()),
            queue
        ));
        assert!(!is_planted_finding(
            &Outcome::Ok {
                ops: 3,
                canaries: triggered
            },
            queue
        ));
    }

    #[test]
    fn a_baseline_crash_is_the_bug_when_its_finding_line_names_the_bugs_device() {
        let queue = bug("ps2-queue-overflow");
        let line = |sig: &str| {
            format!(
                "INFO: seed 1\nthread '<unnamed>' panicked at harness/src/entry.rs:336:\ndevfuzz finding {sig}: panic in i8042\n==1== ERROR: libFuzzer: deadly signal\n"
            )
        };
        assert!(log_names_bug_device(
            &line("panic:i8042:models/src/i8042/queue.rs:67"),
            queue
        ));
        assert!(log_names_bug_device(
            &line("hang:i8042:models/src/i8042/mod.rs:9"),
            queue
        ));
        assert!(!log_names_bug_device(
            &line("reentrancy:e1000e->e1000e:models/src/e1000e/rx.rs:1"),
            queue
        ));
        assert!(!log_names_bug_device(
            &line("nondeterminism:ps2: state differs"),
            queue
        ));
        assert!(!log_names_bug_device(
            "==1== ERROR: libFuzzer: timeout after 10 seconds\n",
            queue
        ));
    }

    /// The regression `file` as a binary input in `dir`.
    #[cfg(feature = "planted-bugs")]
    fn input_of(dir: &Path, target: &str, file: &str) -> PathBuf {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(root.join("regressions").join(file)).unwrap();
        let cmds = harness::qtest::parse_trace(&text).unwrap();
        let target = models::target(target).unwrap();
        let bytes = harness::runner::Runner::new(target)
            .trace_to_input(&cmds)
            .unwrap()
            .bytes;
        let path = dir.join(file.replace('/', "-"));
        std::fs::write(&path, bytes).unwrap();
        path
    }

    #[cfg(feature = "planted-bugs")]
    #[test]
    fn a_crash_file_is_the_planted_bug_only_when_it_replays_as_its_finding() {
        use harness::machine::ReentrancyMode;
        let dir = tempfile::tempdir().unwrap();
        let replay = |reentrancy| Replay {
            machine_opts: String::new(),
            reentrancy,
        };
        let queue = input_of(dir.path(), "ps2", "ps2/keyboard-queue-overflow.qtest");
        let guard = replay(ReentrancyMode::Guard);
        assert!(is_planted_crash(bug("ps2-queue-overflow"), &queue, &guard));
        // With another bug selected the same input finds nothing.
        assert!(!is_planted_crash(
            bug("ps2-mouse-param-index"),
            &queue,
            &guard
        ));
        // A re-entrancy (detect mode) in the device of the selected bug is another finding.
        let loopback = input_of(
            dir.path(),
            "e1000e",
            "e1000e/loopback-rx-into-own-bar.qtest",
        );
        let tso = bug("e1000e-tso-zero-mss");
        let outcome = crate::campaign::Triage {
            target: models::target("e1000e").unwrap(),
            bugs: tso.id.into(),
            machine_opts: String::new(),
            reentrancy: ReentrancyMode::Detect,
            record: false,
        }
        .runner()
        .run_input(&std::fs::read(&loopback).unwrap());
        assert!(
            outcome.summary().starts_with("reentrancy:e1000e"),
            "{outcome:?}"
        );
        assert!(!is_planted_crash(
            tso,
            &loopback,
            &replay(ReentrancyMode::Detect)
        ));
        assert!(!is_planted_crash(tso, &dir.path().join("missing"), &guard));
    }

    /// A trial starts from the target's seeds: none of them may find the bug by itself, or
    /// the trial would time the start-up, not the fuzzer. (Some drive the buggy path and
    /// trigger its canary without failing: `ps2`'s typing seed overfills the keyboard queue
    /// by a few bytes.)
    #[cfg(feature = "planted-bugs")]
    #[test]
    fn no_seed_triggers_a_planted_bug_of_its_target() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut found = Vec::new();
        for bug in models::planted::BUGS {
            let target = models::target(bug.target).unwrap();
            let dir = tempfile::tempdir().unwrap();
            crate::campaign::seed_corpus_into(root, target, dir.path()).unwrap();
            let mut runner = crate::campaign::Triage {
                target,
                bugs: bug.id.into(),
                machine_opts: String::new(),
                reentrancy: harness::machine::ReentrancyMode::Guard,
                record: false,
            }
            .runner();
            let seeds: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
            assert!(!seeds.is_empty(), "{}: no seeds", bug.target);
            for seed in seeds {
                let outcome = runner.run_input(&std::fs::read(seed.path()).unwrap());
                if let Some(f) = outcome.finding() {
                    found.push(format!(
                        "{}/{} finds {}: {f}",
                        bug.target,
                        seed.file_name().to_string_lossy(),
                        bug.id
                    ));
                }
            }
        }
        assert!(found.is_empty(), "{found:#?}");
    }

    #[test]
    fn a_trials_first_run_has_the_seed_every_build_gets() {
        assert_eq!(seed(0, 0), 1);
        assert_eq!(seed(4, 0), 5);
        assert_ne!(seed(0, 1), seed(1, 0));
    }
}
