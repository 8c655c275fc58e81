//! Ctrl-C during `devfuzz fuzz`. The engine runs in devfuzz's process group, so a terminal's
//! Ctrl-C reaches it too and it stops; devfuzz itself notes the interrupt, carries on with
//! triage and prints the summary. A second Ctrl-C ends devfuzz at once (exit 130).

use std::sync::atomic::{AtomicBool, Ordering};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Catch Ctrl-C (SIGINT) from now on, as described above.
pub fn catch() {
    let _ = ctrlc::set_handler(|| {
        if INTERRUPTED.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
        eprintln!(
            "\ndevfuzz: interrupted: the engine stops, then triage (Ctrl-C again to quit now)"
        );
    });
}

/// Whether Ctrl-C was pressed.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}
