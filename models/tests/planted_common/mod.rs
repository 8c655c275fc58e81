//! Helpers shared by the planted-bug tests: the selection is process-wide, so tests hold a lock
//! while a selection is active; runners are built after selecting so devices take it.
#![allow(dead_code)]

use harness::outcome::Outcome;
use harness::qtest::parse_trace;
use harness::runner::Runner;
use models::planted;
use std::sync::{Mutex, MutexGuard};

static LOCK: Mutex<()> = Mutex::new(());

/// Hold the lock with `ids` selected and the canaries zeroed; the selection is cleared on drop.
pub struct Selected(#[allow(dead_code)] MutexGuard<'static, ()>);

impl Selected {
    pub fn new(ids: &str) -> Self {
        let guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
        planted::select(ids).expect("known ids");
        planted::reset_canaries();
        Self(guard)
    }
}

impl Drop for Selected {
    fn drop(&mut self) {
        planted::select("").expect("clearing the selection");
    }
}

/// Run `trace` cold on a fresh runner for `target` (built now, so it takes the selection).
pub fn run(target: &str, trace: &str) -> Outcome {
    let cmds = parse_trace(trace).expect("valid trace");
    let mut runner = Runner::new(models::target(target).expect("target"));
    runner.run_trace(&cmds).expect("trace runs")
}

/// Run `trace` as the fuzzer would: encoded as ops, after the target's prologue.
pub fn run_as_input(target: &str, trace: &str) -> Outcome {
    let cmds = parse_trace(trace).expect("valid trace");
    let mut runner = Runner::new(models::target(target).expect("target"));
    let encoded = runner.trace_to_input(&cmds).expect("encodable");
    assert!(encoded.dropped.is_empty(), "dropped: {:?}", encoded.dropped);
    runner.run_input(&encoded.bytes)
}

/// The non-blank lines of a trace.
pub fn lines(trace: &str) -> Vec<&str> {
    trace.lines().filter(|l| !l.trim().is_empty()).collect()
}

/// Every strict prefix of `trace`, and every single line of it alone, runs without a finding.
pub fn assert_needs_the_whole_sequence(target: &str, trace: &str) {
    let lines = lines(trace);
    for n in 0..lines.len() {
        let outcome = run(target, &lines[..n].join("\n"));
        assert!(
            outcome.finding().is_none(),
            "prefix of {n} lines: {outcome:?}"
        );
    }
    for line in &lines {
        let outcome = run(target, line);
        assert!(outcome.finding().is_none(), "single op {line}: {outcome:?}");
    }
}
