//! Findings carry a backtrace of model frames exactly when a report asks for one.
#![cfg(feature = "planted-bugs")]

use harness::qtest::parse_trace;
use harness::runner::Runner;

const MOUSE_TABLE_INDEX: &str = "outb 0x64 0xd4\noutb 0x60 0xe8\noutb 0x64 0xd4\noutb 0x60 0x04\noutb 0x64 0xd4\noutb 0x60 0xe9\n";

#[test]
fn backtraces_are_resolved_only_when_asked_for() {
    let target = models::target("ps2").expect("ps2");
    let build = target
        .machine
        .builder("bugs=ps2-mouse-param-index")
        .expect("known bug");
    let mut runner = Runner::with_builder(target, build, Default::default());
    let trace = parse_trace(MOUSE_TABLE_INDEX).expect("trace");

    harness::outcome::capture_backtraces(false);
    let quiet = runner.run_trace(&trace).expect("runs");
    let quiet = quiet.finding().expect("the planted bug");
    assert!(quiet.backtrace.is_empty());

    harness::outcome::capture_backtraces(true);
    let full = runner.run_trace(&trace).expect("runs");
    let full = full.finding().expect("the planted bug");
    assert_eq!(
        full.signature(),
        quiet.signature(),
        "the same bug either way"
    );
    assert!(
        full.backtrace
            .iter()
            .any(|f| f.contains("models/src/i8042/mouse.rs")),
        "{:?}",
        full.backtrace
    );
    assert!(
        full.backtrace.iter().all(|f| f.contains("models/src/")),
        "only model frames: {:?}",
        full.backtrace
    );
    harness::outcome::capture_backtraces(false);
}
