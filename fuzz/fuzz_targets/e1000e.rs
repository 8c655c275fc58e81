//! Fuzz target `e1000e`: the Intel 82574L NIC (e1000e at 00:02.0) (see `devfuzz list`).
#![cfg_attr(fuzzing, no_main)]

#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| models::fuzzing::fuzz_one("e1000e", data));

/// Without cargo-fuzz (a plain stable build): run the files named on the command line, or else
/// every file of `fuzz/corpus/e1000e` and an empty input.
#[cfg(not(fuzzing))]
fn main() {
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/e1000e");
    models::fuzzing::replay_without_engine("e1000e", &corpus);
}
