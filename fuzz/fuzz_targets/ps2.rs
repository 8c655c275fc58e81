//! Fuzz target `ps2`: the i8042 controller with its PS/2 keyboard and mouse (see `devfuzz list`).
#![cfg_attr(fuzzing, no_main)]

#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| models::fuzzing::fuzz_one("ps2", data));

/// Without cargo-fuzz (a plain stable build): run the files named on the command line, or else
/// every file of `fuzz/corpus/ps2` and an empty input.
#[cfg(not(fuzzing))]
fn main() {
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/ps2");
    models::fuzzing::replay_without_engine("ps2", &corpus);
}
