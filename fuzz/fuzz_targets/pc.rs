//! Fuzz target `pc`: the whole pc machine (see `devfuzz list`).
#![cfg_attr(fuzzing, no_main)]

#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| models::fuzzing::fuzz_one("pc", data));

/// Without cargo-fuzz (a plain stable build): run the files named on the command line, or else
/// every file of `fuzz/corpus/pc` and an empty input.
#[cfg(not(fuzzing))]
fn main() {
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/pc");
    models::fuzzing::replay_without_engine("pc", &corpus);
}
