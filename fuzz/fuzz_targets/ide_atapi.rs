//! Fuzz target `ide_atapi`: the PIIX3 IDE secondary channel with an ATAPI CD-ROM and the bus master (see `devfuzz list`).
#![cfg_attr(fuzzing, no_main)]

#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| models::fuzzing::fuzz_one("ide_atapi", data));

/// Without cargo-fuzz (a plain stable build): run the files named on the command line, or else
/// every file of `fuzz/corpus/ide_atapi` and an empty input.
#[cfg(not(fuzzing))]
fn main() {
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/ide_atapi");
    models::fuzzing::replay_without_engine("ide_atapi", &corpus);
}
