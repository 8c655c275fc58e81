//! Helpers shared by the planted-bug tests. A selection is part of the machine options, so
//! nothing is shared between tests: [`Selected`] names the bugs the runs of this test build
//! their machines with, and the canaries of those runs add up in [`canary`] (both kept per
//! test thread).
#![allow(dead_code)]

use harness::machine::MachineOptions;
use harness::outcome::{Canaries, CanaryCount, Outcome};
use harness::qtest::parse_trace;
use harness::runner::Runner;
use std::cell::RefCell;

thread_local! {
    static SELECTION: RefCell<String> = const { RefCell::new(String::new()) };
    static CANARIES: RefCell<Canaries> = RefCell::new(Canaries::default());
}

/// `ids` selected for the runs of this test and the canaries zeroed; cleared on drop.
pub struct Selected;

impl Selected {
    pub fn new(ids: &str) -> Self {
        models::planted::Selection::parse(ids).expect("known ids");
        SELECTION.with_borrow_mut(|s| *s = ids.to_string());
        CANARIES.with_borrow_mut(|c| *c = Canaries::default());
        Self
    }
}

impl Drop for Selected {
    fn drop(&mut self) {
        SELECTION.with_borrow_mut(String::clear);
    }
}

/// The canaries of `id` over this test's runs since [`Selected::new`].
pub fn canary(id: &str) -> CanaryCount {
    CANARIES.with_borrow(|c| c.get(id))
}

/// A fresh runner for `target` with the selected bugs.
pub fn runner(target: &str) -> Runner {
    let target = models::target(target).expect("target");
    let opts = SELECTION.with_borrow(|s| harness::target::with_bugs("", s));
    let build = target.machine.builder(&opts).expect("machine options");
    Runner::with_builder(target, build, MachineOptions::default())
}

fn counted(outcome: Outcome) -> Outcome {
    CANARIES.with_borrow_mut(|c| c.add(outcome.canaries()));
    outcome
}

/// Run `trace` cold on a fresh runner for `target` (built now, with the selection).
pub fn run(target: &str, trace: &str) -> Outcome {
    let cmds = parse_trace(trace).expect("valid trace");
    counted(runner(target).run_trace(&cmds).expect("trace runs"))
}

/// Run `trace` as the fuzzer would: encoded as ops, after the target's prologue.
pub fn run_as_input(target: &str, trace: &str) -> Outcome {
    let cmds = parse_trace(trace).expect("valid trace");
    let mut runner = runner(target);
    let encoded = runner.trace_to_input(&cmds).expect("encodable");
    assert!(encoded.dropped.is_empty(), "dropped: {:?}", encoded.dropped);
    counted(runner.run_input(&encoded.bytes))
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
