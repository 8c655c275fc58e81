//! The invocation's global flags, as the commands that build machines take them.

/// What this invocation's global flags chose, read once in `main` and handed to the commands
/// that build machines: `-O` (or `DEVFUZZ_MACHINE_OPTS`) and `--bugs` (or `DEVFUZZ_BUGS`).
#[derive(Clone, Debug, Default)]
pub struct Session {
    /// The machine options (`key=value,...`), empty for the defaults.
    pub machine_opts: String,
    /// The planted bugs (comma-separated ids), empty for none.
    pub bugs: String,
}
