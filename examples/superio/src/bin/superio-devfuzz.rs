//! `superio-devfuzz`: devfuzz's commands (replay, convert, minimize, qtest, determinism,
//! seeds, regressions) on the vm-superio targets, from `harness::cli`.
fn main() -> std::process::ExitCode {
    harness::cli::main("superio-devfuzz", devfuzz_superio::TARGETS)
}
