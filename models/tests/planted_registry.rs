//! The planted-bug registry and selection, in every build: with `planted-bugs` bugs can be
//! selected and become active; without it they are listed but never active.

use harness::machine::{Machine, MachineOptions};
use models::planted::{BUGS, ENABLED_IN_BUILD, Selection};
use std::collections::HashSet;

#[test]
fn ids_are_unique_cited_described_and_name_real_targets_and_devices() {
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
fn unknown_ids_are_refused_by_name() {
    let err = Selection::parse("ps2-mouse-param-index,nope").expect_err("unknown id");
    assert_eq!(err.id(), "nope");
    let shown = err.to_string();
    assert!(shown.contains("nope"), "{shown}");
    for bug in BUGS {
        assert!(shown.contains(bug.id), "{shown} should list {}", bug.id);
    }
    let _: &dyn std::error::Error = &err;
    // As a machine option, the profile refuses it with the same explanation.
    let refused = models::target("ps2")
        .unwrap()
        .machine
        .builder("bugs=nope")
        .err()
        .expect("refused")
        .to_string();
    assert!(refused.contains("unknown planted bug 'nope'"), "{refused}");
}

#[test]
fn selection_forms() {
    let sel = Selection::parse(" pci-bar-overlap , ,ps2-queue-overflow ")
        .expect("spaces and empty items");
    assert!(sel.contains("pci-bar-overlap") && sel.contains("ps2-queue-overflow"));
    assert!(!sel.contains("ps2-mouse-param-index"));
    assert_eq!(
        sel.ids(),
        ["ps2-queue-overflow", "pci-bar-overlap"],
        "registry order"
    );
    assert_eq!(
        Selection::parse("pci-bar-overlap+ps2-queue-overflow"),
        Ok(sel)
    );
    let all = Selection::parse("all").expect("all");
    assert_eq!(all.ids().len(), BUGS.len());
    assert!(!all.contains("nope"));
    assert!(Selection::parse("").expect("empty").is_empty());
}

#[test]
fn build_flag_matches_the_feature() {
    assert_eq!(ENABLED_IN_BUILD, cfg!(feature = "planted-bugs"));
}

#[cfg(not(feature = "planted-bugs"))]
#[test]
fn without_the_feature_a_selected_bug_does_nothing() {
    let cmds = harness::qtest::parse_trace(&"event i8042 0x020f\n".repeat(8)).expect("trace");
    let target = models::target("ps2").expect("ps2");
    let build = target.machine.builder("bugs=all").expect("all");
    let mut runner = harness::runner::Runner::with_builder(target, build, Default::default());
    let outcome = runner.run_trace(&cmds).expect("runs");
    assert!(outcome.finding().is_none(), "{outcome:?}");
    assert!(outcome.canaries().is_empty());
}
