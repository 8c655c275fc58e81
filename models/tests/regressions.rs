//! Replays every `regressions/<target>/*.qtest` in every mode its header names. Adding a
//! regression needs no code: drop the file in the folder.

use harness::machine::{MachineOptions, ReentrancyMode};
use harness::regression::{Regression, matches};
use harness::runner::Runner;
use std::path::Path;

fn replay(
    target: &harness::target::Target,
    r: &Regression,
    mode: ReentrancyMode,
    bugs: &str,
) -> harness::outcome::Outcome {
    let defaults = MachineOptions::default();
    let build = target
        .machine
        .builder(&harness::target::with_bugs(&r.header.machine_opts, bugs))
        .unwrap_or_else(|e| panic!("machine-opts: {e}"));
    let mut runner = Runner::with_builder(
        target,
        build,
        MachineOptions {
            reentrancy: mode,
            work_per_input: r.header.work_per_input.unwrap_or(defaults.work_per_input),
            ..defaults
        },
    );
    runner
        .run_trace(&r.trace)
        .expect("regression traces name only existing devices")
}

/// Why `outcome` of `r` fails although it matches its expectation: the trace stopped before
/// its end (the input work budget ran out) and its header does not say it may.
fn stopped_early(r: &Regression, outcome: &harness::outcome::Outcome) -> Option<String> {
    match outcome {
        harness::outcome::Outcome::Ok { ops, .. } if *ops < r.trace.len() && !r.header.may_stop => {
            Some(format!(
                "stopped after {ops} of {} commands (input work budget spent; '# may-stop: yes' allows it, '# work-per-input: none' lifts the budget)",
                r.trace.len()
            ))
        }
        _ => None,
    }
}

#[test]
fn every_regression_replays_with_its_expected_outcome() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../regressions");
    let mut failures = Vec::new();
    let mut checked = 0;
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .expect("regressions/")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    for dir in dirs {
        let name = dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let target = models::target(&name)
            .unwrap_or_else(|| panic!("regressions/{name}: no fuzz target of that name"));
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .expect("target folder")
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "qtest"))
            .collect();
        files.sort();
        for file in files {
            let shown = format!(
                "regressions/{name}/{}",
                file.file_name().and_then(|n| n.to_str()).unwrap_or("?")
            );
            let text = std::fs::read_to_string(&file).expect("readable");
            let r = Regression::parse(&text).unwrap_or_else(|e| panic!("{shown}: {e}"));
            let mut check = |mode: &str, expected: &str, outcome: harness::outcome::Outcome| {
                if !matches(expected, &outcome) {
                    failures.push(format!(
                        "{shown} ({mode}): expected {expected}, got {}",
                        outcome.summary()
                    ));
                } else if let Some(why) = stopped_early(&r, &outcome) {
                    failures.push(format!("{shown} ({mode}): {why}"));
                }
            };
            check(
                "guard",
                &r.expect,
                replay(target, &r, ReentrancyMode::Guard, ""),
            );
            if let Some(e) = &r.expect_without_guard {
                check(
                    "without guard",
                    e,
                    replay(target, &r, ReentrancyMode::Detect, ""),
                );
            }
            #[cfg(feature = "planted-bugs")]
            if let Some(e) = &r.expect_planted {
                let outcome = replay(target, &r, ReentrancyMode::Guard, &r.planted.join(","));
                check("planted", e, outcome);
            }
            checked += 1;
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} regressions failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked > 0, "no regressions found under {}", root.display());
}
