//! The planted-bug registry and selection, in every build: with `planted-bugs` bugs can be
//! selected and become active; without it they are listed but never active.

use harness::machine::{Machine, MachineOptions};
use models::planted::{self, BUGS, Canary, ENABLED_IN_BUILD};
use std::collections::HashSet;
use std::sync::Mutex;

/// The selection is process-wide: one test at a time.
static LOCK: Mutex<()> = Mutex::new(());

#[test]
fn ids_are_unique_cited_described_and_name_real_targets_and_devices() {
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    assert!(BUGS.len() >= 3);
    let mut seen = HashSet::new();
    for bug in BUGS {
        assert!(seen.insert(bug.id), "duplicate id {}", bug.id);
        assert!(
            !bug.id.is_empty()
                && bug.id != "all"
                && bug
                    .id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
            "id {:?}",
            bug.id
        );
        assert!(!bug.cites.trim().is_empty(), "{} has no citation", bug.id);
        assert!(!bug.cites.contains('\n'), "{}: one-line citation", bug.id);
        assert!(bug.description.len() > 40, "{} needs a description", bug.id);
        let target = models::target(bug.target)
            .unwrap_or_else(|| panic!("{}: no target {}", bug.id, bug.target));
        let machine = Machine::new(target.machine.build, MachineOptions::default());
        assert!(
            machine.device_by_name(bug.device).is_some(),
            "{}: no device {} on {}",
            bug.id,
            bug.device,
            target.machine.name
        );
        assert!(
            target.addresses_device(bug.device) || target.pci,
            "{}: target {} cannot reach {}",
            bug.id,
            bug.target,
            bug.device
        );
    }
    for id in [
        "ps2-queue-overflow",
        "ps2-mouse-param-index",
        "pci-bar-overlap",
    ] {
        assert!(seen.contains(id), "{id} missing");
    }
}

#[test]
fn unknown_ids_are_refused_by_name_and_leave_the_selection_alone() {
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    planted::select("ps2-queue-overflow").expect("known id");
    let err = planted::select("ps2-mouse-param-index,nope").expect_err("unknown id");
    assert_eq!(err.id(), "nope");
    let shown = err.to_string();
    assert!(shown.contains("nope"), "{shown}");
    for bug in BUGS {
        assert!(shown.contains(bug.id), "{shown} should list {}", bug.id);
    }
    let _: &dyn std::error::Error = &err;
    assert_eq!(planted::is_active("ps2-queue-overflow"), ENABLED_IN_BUILD);
    assert!(!planted::is_active("ps2-mouse-param-index"));
    planted::select("").expect("empty selection");
}

#[test]
fn selection_forms_and_activity_depend_on_the_build() {
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    planted::select(" pci-bar-overlap , ,ps2-queue-overflow ").expect("spaces and empty items");
    assert_eq!(planted::is_active("pci-bar-overlap"), ENABLED_IN_BUILD);
    assert_eq!(planted::is_active("ps2-queue-overflow"), ENABLED_IN_BUILD);
    assert!(!planted::is_active("ps2-mouse-param-index"));
    planted::select("all").expect("all");
    for bug in BUGS {
        assert_eq!(planted::is_active(bug.id), ENABLED_IN_BUILD, "{}", bug.id);
    }
    assert_eq!(
        planted::active().len(),
        if ENABLED_IN_BUILD { BUGS.len() } else { 0 }
    );
    assert!(!planted::is_active("nope"));
    planted::select("").expect("empty selection");
    assert!(BUGS.iter().all(|b| !planted::is_active(b.id)));
    assert!(planted::active().is_empty());
}

#[test]
fn build_flag_matches_the_feature() {
    assert_eq!(ENABLED_IN_BUILD, cfg!(feature = "planted-bugs"));
}

#[test]
fn canaries_start_at_zero_and_unknown_ids_read_zero() {
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    planted::reset_canaries();
    assert_eq!(planted::canary("nope"), Canary::default());
    assert_eq!(planted::canaries().len(), BUGS.len());
    assert!(
        planted::canaries()
            .iter()
            .all(|(_, c)| *c == Canary::default())
    );
}

#[cfg(not(feature = "planted-bugs"))]
#[test]
fn without_the_feature_a_selected_bug_does_nothing() {
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    planted::select("all").expect("all");
    let cmds = harness::qtest::parse_trace(&"event i8042 0x020f\n".repeat(8)).expect("trace");
    let mut runner = harness::runner::Runner::new(models::target("ps2").expect("ps2"));
    let outcome = runner.run_trace(&cmds).expect("runs");
    planted::select("").expect("clear");
    assert!(outcome.finding().is_none(), "{outcome:?}");
    assert_eq!(planted::canary("ps2-queue-overflow"), Canary::default());
}
