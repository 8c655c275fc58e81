//! The one entry point every fuzz engine (cargo-fuzz/libFuzzer, AFL, honggfuzz) and the tests
//! call: run fuzzer bytes on a named target and turn a finding into a crash.
//!
//! Each thread keeps one [`Runner`] per target, built on first use and reused for every later
//! input (the runner resets its machine between inputs, and rebuilds it after a finding), so an
//! input costs what [`Runner::run_input`] costs and nothing more.
//!
//! Engines configure a fuzz binary through its environment, so [`fuzz_one`] takes the
//! [planted bugs](crate::planted) to activate from `DEVFUZZ_BUGS` before it builds its first
//! machine (in a build with the `planted-bugs` feature; otherwise none is ever active), and the
//! target machine's profile options from [`MACHINE_OPTS_VAR`] (`hda=none,hdc=cdrom-empty`:
//! see `devfuzz list`).

use crate::TARGETS;
use harness::outcome::{Finding, Outcome};
use harness::runner::Runner;
use std::cell::RefCell;
use std::sync::Once;

thread_local! {
    /// One slot per entry of [`TARGETS`], in the same order.
    static RUNNERS: RefCell<Vec<Option<Runner>>> = const { RefCell::new(Vec::new()) };
}

/// `DEVFUZZ_BUGS` is read once per process, before the first machine is built.
static PLANTED_FROM_ENV: Once = Once::new();

/// Environment variable holding the options of the target's machine profile for fuzz binaries
/// (what `devfuzz -O/--machine-opts` passes to an engine).
pub const MACHINE_OPTS_VAR: &str = "DEVFUZZ_MACHINE_OPTS";

/// Run `data` as one binary input (see docs/ops.md) on the target named `target`, and panic
/// if it finds a bug.
///
/// This is what a fuzz target's body is: `models::fuzzing::fuzz_one("ps2", data)`. The panic
/// message is one line, `devfuzz finding <signature>: <details>`, where the signature is
/// [`Finding::signature`] (kind, device, model source location), so the engine records a
/// crash and its log names the bug; `devfuzz replay <target> <crash file>` shows the rest.
///
/// # Panics
/// On a finding; when no target is named `target` (a mistake in the calling fuzz target, not
/// something guest input can cause); when `DEVFUZZ_BUGS` names an unknown planted bug; and
/// when `DEVFUZZ_MACHINE_OPTS` is refused by the target's machine profile (process
/// configuration: the message names the problem, before any input runs).
pub fn fuzz_one(target: &str, data: &[u8]) {
    let Some(index) = target_index(target) else {
        let names: Vec<&str> = TARGETS.iter().map(|t| t.name).collect();
        panic!(
            "devfuzz: no fuzz target named '{target}' (targets: {})",
            names.join(", ")
        );
    };
    PLANTED_FROM_ENV.call_once(|| {
        if let Err(e) = crate::planted::select_from_env() {
            panic!("devfuzz: {}: {e}", crate::planted::ENV_VAR);
        }
    });
    if let Outcome::Finding(finding) = run_at(index, data) {
        panic!("{}", finding_line(&finding));
    }
}

/// Run `data` as one binary input on the target named `target` with this thread's cached
/// runner, and return the outcome (a finding is returned, not raised). `None` when no target
/// has that name. Unlike [`fuzz_one`] it leaves the planted-bug selection as the caller set it.
pub fn run_one(target: &str, data: &[u8]) -> Option<Outcome> {
    Some(run_at(target_index(target)?, data))
}

fn target_index(name: &str) -> Option<usize> {
    TARGETS.iter().position(|t| t.name == name)
}

/// Run on `TARGETS[index]` with this thread's runner for it, built on first use.
fn run_at(index: usize, data: &[u8]) -> Outcome {
    RUNNERS.with_borrow_mut(|runners| {
        if runners.len() < TARGETS.len() {
            runners.resize_with(TARGETS.len(), || None);
        }
        runners[index]
            .get_or_insert_with(|| runner_from_env(&TARGETS[index]))
            .run_input(data)
    })
}

/// A runner for `target` on its machine with the options of [`MACHINE_OPTS_VAR`].
fn runner_from_env(target: &harness::target::Target) -> Runner {
    let opts = std::env::var(MACHINE_OPTS_VAR).unwrap_or_default();
    match target.machine.builder(&opts) {
        Ok(build) => Runner::with_builder(target, build, Default::default()),
        Err(e) => panic!("devfuzz: {MACHINE_OPTS_VAR}: {e}"),
    }
}

/// The crash message: one line, so engines that keep only the last line of a crash log still
/// show which bug it was.
fn finding_line(finding: &Finding) -> String {
    let line = format!("devfuzz finding {}: {finding}", finding.signature());
    line.replace('\n', " ")
}

/// What a fuzz entry does when built without its engine (a plain stable build has no
/// `--cfg fuzzing`): run the files named on the command line, or else every file of `corpus`
/// and an empty input, through [`fuzz_one`]. A finding panics with its `devfuzz finding ...`
/// line, as under the engine. cargo-fuzz, AFL++ and honggfuzz entries all call this.
///
/// # Panics
/// On a finding, or when a named file cannot be read.
pub fn replay_without_engine(target: &str, corpus: &std::path::Path) {
    let mut files: Vec<std::path::PathBuf> = std::env::args_os().skip(1).map(Into::into).collect();
    if files.is_empty() {
        files.extend(
            std::fs::read_dir(corpus)
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path()),
        );
        files.sort();
        fuzz_one(target, &[]);
    }
    for file in files {
        let data = std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        fuzz_one(target, &data);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use harness::outcome::FindingKind;

    #[test]
    fn finding_line_is_one_line_with_the_signature() {
        let finding = Finding {
            kind: FindingKind::Panic,
            device: "i8042".to_string(),
            location: "models/src/i8042/mod.rs:12".to_string(),
            message: "index out of bounds:\nthe len is 16".to_string(),
            backtrace: vec!["i8042::read (models/src/i8042/mod.rs:12)".to_string()],
            op_index: 3,
        };
        let line = finding_line(&finding);
        assert!(
            line.starts_with("devfuzz finding panic:i8042:models/src/i8042/mod.rs:12: "),
            "{line}"
        );
        assert!(
            line.contains("index out of bounds: the len is 16"),
            "{line}"
        );
        assert!(line.contains("(op 3)"), "{line}");
        assert!(!line.contains('\n'));
    }

    #[test]
    #[should_panic(expected = "no fuzz target named 'nope'")]
    fn unknown_target_panics_with_the_names() {
        fuzz_one("nope", b"");
    }
}
