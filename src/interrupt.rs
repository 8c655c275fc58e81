//! Ctrl-C during `devfuzz fuzz` and `devfuzz bench`. The engine runs in devfuzz's process
//! group, so a terminal's Ctrl-C reaches it too and it stops; devfuzz itself notes the
//! interrupt and carries on: `fuzz` with triage and the summary, `bench` by removing its
//! working corpora. A second Ctrl-C ends devfuzz at once (exit 130).

use std::sync::atomic::{AtomicBool, Ordering};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Catch Ctrl-C (SIGINT) from now on, as described above; `then` says what devfuzz does
/// after the engine stops (`triage`).
pub fn catch(then: &'static str) {
    let _ = ctrlc::set_handler(move || {
        if INTERRUPTED.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
        eprintln!(
            "\ndevfuzz: interrupted: the engine stops, then {then} (Ctrl-C again to quit now)"
        );
    });
}

/// Whether Ctrl-C was pressed.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}
