//! Every public QEMU reproducer in ../shared/reproducers/qemu replays without a harness error.

use harness::machine::MachineOptions;
use harness::qtest::parse_trace;
use harness::runner::Runner;
use std::path::Path;

#[test]
fn qemu_reproducers_replay_on_pc() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reproducers");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).expect("reproducer folder") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "qtest") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("text");
        let cmds = parse_trace(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let profile = models::machine("pc").expect("pc");
        let mut runner = Runner::for_machine(profile, MachineOptions::default());
        let outcome = runner
            .run_trace(&cmds)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        // Exit 0 or 1 are both fine; a correct model gives no finding.
        assert!(
            outcome.finding().is_none(),
            "{}: {outcome:?}",
            path.display()
        );
        count += 1;
    }
    assert!(count >= 3, "found {count} reproducers");
}
