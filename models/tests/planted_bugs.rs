//! Each planted bug, driven by qtest: selected, its shortest sequence is a panic finding in its
//! device with the canary reached and triggered; not selected, the same sequence is harmless and
//! the canary stays at zero; no shorter prefix and no single operation of it finds anything.
//! Only built with `--features planted-bugs`.
#![cfg(feature = "planted-bugs")]

mod planted_common;
use harness::qtest::parse_trace;
use harness::runner::Runner;
use planted_common::{Selected, assert_needs_the_whole_sequence, lines, run, run_as_input};

use harness::outcome::CanaryCount as Canary;
use harness::outcome::{FindingKind, Outcome};
use planted_common::canary;

/// Five taps of Pause (key index 15), 8 scancode bytes each, none read: 40 bytes into a
/// 16-byte queue. The fifth event writes the 33rd byte, past the backing array.
const QUEUE_OVERFLOW: &str = "\
event i8042 0x020f
event i8042 0x020f
event i8042 0x020f
event i8042 0x020f
event i8042 0x020f
";

/// The fewest events: hold Right Alt (2 bytes), then three taps of Print Screen, 13 bytes each
/// with Right Alt held (set 2): the third tap writes the 33rd byte.
const QUEUE_OVERFLOW_SHORTEST: &str = "\
event i8042 0x0060
event i8042 0x020d
event i8042 0x020d
event i8042 0x020d
";

/// Set resolution 4 (valid codes are 0-3), then a status request looks it up.
const MOUSE_PARAM_INDEX: &str = "\
outb 0x64 0xd4
outb 0x60 0xe8
outb 0x64 0xd4
outb 0x60 0x04
outb 0x64 0xd4
outb 0x60 0xe9
";

/// The same bad resolution, then a movement packet looks it up (reporting enabled first).
const MOUSE_PARAM_INDEX_PACKET: &str = "\
outb 0x64 0xd4
outb 0x60 0xe8
outb 0x64 0xd4
outb 0x60 0x04
outb 0x64 0xd4
outb 0x60 0xf4
event i8042 0x030101
";

/// PIIX4 PM (00:01.3): PM block at 0x600 (64 ports), the SMBus block (decoded from power-on)
/// moved to 0x610 (inside it), then enable the PM block: it registers an overlapping window.
const BAR_OVERLAP: &str = "\
outl 0xcf8 0x80000b40
outl 0xcfc 0x600
outl 0xcf8 0x80000b90
outl 0xcfc 0x610
outl 0xcf8 0x80000b80
outb 0xcfc 0x1
";

fn assert_panic_in(outcome: &Outcome, device: &str, file: &str) {
    let f = outcome
        .finding()
        .unwrap_or_else(|| panic!("expected a finding, got {outcome:?}"));
    assert_eq!(f.kind, FindingKind::Panic, "{f}");
    assert_eq!(f.device, device, "{f}");
    assert!(f.location.starts_with(file), "{f}");
}

fn assert_zero(id: &str) {
    assert_eq!(canary(id), Canary::default(), "{id}");
}

// ---- ps2-queue-overflow ----

#[test]
fn queue_overflow_selected_is_a_panic_in_the_i8042_queue() {
    let _s = Selected::new("ps2-queue-overflow");
    assert!(models::planted::Selection::parse("ps2-queue-overflow").is_ok());
    assert_eq!(models::i8042::key_index("pause"), Some(0x0f));
    let outcome = run("ps2", QUEUE_OVERFLOW);
    assert_panic_in(&outcome, "i8042", "models/src/i8042/queue.rs");
    assert_eq!(outcome.finding().map(|f| f.op_index), Some(4));
    let c = canary("ps2-queue-overflow");
    assert!(c.reached > 0 && c.triggered > 0, "{c:?}");
    assert_zero("ps2-mouse-param-index");
    assert_zero("pci-bar-overlap");
}

#[test]
fn queue_overflow_in_four_events() {
    let _s = Selected::new("ps2-queue-overflow");
    assert_eq!(models::i8042::key_index("alt_r"), Some(0x60));
    assert_eq!(models::i8042::key_index("print"), Some(0x0d));
    let outcome = run("ps2", QUEUE_OVERFLOW_SHORTEST);
    assert_panic_in(&outcome, "i8042", "models/src/i8042/queue.rs");
    assert_eq!(outcome.finding().map(|f| f.op_index), Some(3));
    assert_needs_the_whole_sequence("ps2", QUEUE_OVERFLOW_SHORTEST);
}

#[test]
fn queue_overflow_is_reachable_as_a_fuzz_input() {
    let _s = Selected::new("ps2-queue-overflow");
    let outcome = run_as_input("ps2", QUEUE_OVERFLOW);
    assert_panic_in(&outcome, "i8042", "models/src/i8042/queue.rs");
}

#[test]
fn queue_overflow_triggers_before_it_is_detected() {
    let _s = Selected::new("ps2-queue-overflow");
    // Three taps: 24 bytes stored in a 16-byte queue. State is corrupt, nothing failed yet.
    let three = lines(QUEUE_OVERFLOW)[..3].join("\n");
    assert!(run("ps2", &three).finding().is_none());
    let c = canary("ps2-queue-overflow");
    assert_eq!(c.reached, 24);
    assert_eq!(c.triggered, 8, "bytes 17..=24 exceed the bound");
}

#[test]
fn queue_overflow_not_triggered_by_a_driver_that_reads() {
    let _s = Selected::new("ps2-queue-overflow");
    let mut trace = String::new();
    for _ in 0..8 {
        trace.push_str("event i8042 0x020f\n");
        for _ in 0..8 {
            trace.push_str("inb 0x60\n");
        }
    }
    assert!(run("ps2", &trace).finding().is_none());
    let c = canary("ps2-queue-overflow");
    assert_eq!((c.reached, c.triggered), (64, 0));
}

#[test]
fn queue_overflow_not_selected_is_harmless() {
    let _s = Selected::new("ps2-mouse-param-index,pci-bar-overlap");

    assert!(run("ps2", QUEUE_OVERFLOW).finding().is_none());
    assert_zero("ps2-queue-overflow");
}

#[test]
fn queue_overflow_needs_the_whole_sequence() {
    let _s = Selected::new("ps2-queue-overflow");
    assert_needs_the_whole_sequence("ps2", QUEUE_OVERFLOW);
}

// ---- ps2-mouse-param-index ----

#[test]
fn mouse_param_index_selected_is_a_panic_in_the_mouse() {
    let _s = Selected::new("ps2-mouse-param-index");
    let outcome = run("ps2", MOUSE_PARAM_INDEX);
    assert_panic_in(&outcome, "i8042", "models/src/i8042/mouse.rs");
    assert_eq!(outcome.finding().map(|f| f.op_index), Some(5));
    let c = canary("ps2-mouse-param-index");
    assert_eq!((c.reached, c.triggered), (1, 1));
    assert_zero("ps2-queue-overflow");
}

#[test]
fn mouse_param_index_through_a_movement_packet() {
    let _s = Selected::new("ps2-mouse-param-index");
    let outcome = run("ps2", MOUSE_PARAM_INDEX_PACKET);
    assert_panic_in(&outcome, "i8042", "models/src/i8042/mouse.rs");
    assert_eq!(outcome.finding().map(|f| f.op_index), Some(6));
}

#[test]
fn mouse_param_index_is_reachable_as_a_fuzz_input() {
    let _s = Selected::new("ps2-mouse-param-index");
    let outcome = run_as_input("ps2", MOUSE_PARAM_INDEX);
    assert_panic_in(&outcome, "i8042", "models/src/i8042/mouse.rs");
}

#[test]
fn mouse_param_index_valid_resolutions_only_reach_it() {
    let _s = Selected::new("ps2-mouse-param-index");
    let outcome = run("ps2", &MOUSE_PARAM_INDEX.replace("0x04", "0x03"));
    assert!(outcome.finding().is_none(), "{outcome:?}");
    let c = canary("ps2-mouse-param-index");
    assert_eq!((c.reached, c.triggered), (1, 0));
}

#[test]
fn mouse_param_index_not_selected_is_harmless() {
    let _s = Selected::new("ps2-queue-overflow,pci-bar-overlap");
    assert!(run("ps2", MOUSE_PARAM_INDEX).finding().is_none());
    assert!(run("ps2", MOUSE_PARAM_INDEX_PACKET).finding().is_none());
    assert_zero("ps2-mouse-param-index");
}

#[test]
fn mouse_param_index_needs_the_whole_sequence() {
    let _s = Selected::new("ps2-mouse-param-index");
    assert_needs_the_whole_sequence("ps2", MOUSE_PARAM_INDEX);
}

// ---- pci-bar-overlap ----

#[test]
fn bar_overlap_selected_is_a_panic_in_piix4_pm() {
    let _s = Selected::new("pci-bar-overlap");
    let outcome = run("pci", BAR_OVERLAP);
    assert_panic_in(&outcome, "PIIX4_PM", "models/src/pc/chipset.rs");
    assert_eq!(outcome.finding().map(|f| f.op_index), Some(5));
    let c = canary("pci-bar-overlap");
    assert!(c.reached >= 2 && c.triggered == 1, "{c:?}");
    assert_zero("ps2-queue-overflow");
}

#[test]
fn bar_overlap_is_reachable_as_a_fuzz_input() {
    let _s = Selected::new("pci-bar-overlap");
    let outcome = run_as_input("pci", BAR_OVERLAP);
    assert_panic_in(&outcome, "PIIX4_PM", "models/src/pc/chipset.rs");
}

#[test]
fn bar_overlap_disjoint_windows_only_reach_it() {
    let _s = Selected::new("pci-bar-overlap");
    let outcome = run("pci", &BAR_OVERLAP.replace("0x610", "0x640"));
    assert!(outcome.finding().is_none(), "{outcome:?}");
    let c = canary("pci-bar-overlap");
    assert_eq!((c.reached, c.triggered), (2, 0));
}

#[test]
fn bar_overlap_not_selected_is_harmless() {
    let _s = Selected::new("ps2-queue-overflow,ps2-mouse-param-index");
    assert!(run("pci", BAR_OVERLAP).finding().is_none());
    assert_zero("pci-bar-overlap");
}

#[test]
fn bar_overlap_needs_the_whole_sequence() {
    let _s = Selected::new("pci-bar-overlap");
    assert_needs_the_whole_sequence("pci", BAR_OVERLAP);
}

// ---- all together ----

#[test]
fn all_selected_each_sequence_finds_its_own_bug() {
    let _s = Selected::new("all");
    let every: Vec<&str> = models::planted::BUGS.iter().map(|b| b.id).collect();
    assert_eq!(
        models::planted::Selection::parse("all").unwrap().ids(),
        every,
        "`all` selects every registered bug"
    );
    assert_panic_in(
        &run("ps2", QUEUE_OVERFLOW),
        "i8042",
        "models/src/i8042/queue.rs",
    );
    assert_panic_in(
        &run("ps2", MOUSE_PARAM_INDEX),
        "i8042",
        "models/src/i8042/mouse.rs",
    );
    assert_panic_in(
        &run("pci", BAR_OVERLAP),
        "PIIX4_PM",
        "models/src/pc/chipset.rs",
    );
}

#[test]
fn a_device_keeps_the_selection_it_was_built_with_across_resets() {
    let _s = Selected::new("ps2-queue-overflow");
    let cmds = parse_trace(QUEUE_OVERFLOW).expect("valid trace");
    let mut runner = planted_common::runner("ps2");
    // A harmless run resets the machine; the devices keep the bug they were built with.
    let harmless = parse_trace("outb 0x64 0xaa\ninb 0x60").expect("valid trace");
    assert!(
        runner
            .run_trace(&harmless)
            .expect("runs")
            .finding()
            .is_none()
    );
    assert!(runner.run_trace(&cmds).expect("runs").finding().is_some());
    // A runner built without the option has the fixed devices.
    let mut fixed = Runner::new(models::target("ps2").expect("target"));
    assert!(fixed.run_trace(&cmds).expect("runs").finding().is_none());
}
