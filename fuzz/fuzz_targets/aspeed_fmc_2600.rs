//! Fuzz target `aspeed_fmc_2600`: the ASPEED FMC with its SPI-NOR flash (see `devfuzz list`).
#![cfg_attr(fuzzing, no_main)]

#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| models::fuzzing::fuzz_one("aspeed_fmc_2600", data));

/// Without cargo-fuzz (a plain stable build): run the files named on the command line, or else
/// every file of `fuzz/corpus/aspeed_fmc_2600` and an empty input.
#[cfg(not(fuzzing))]
fn main() {
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/aspeed_fmc_2600");
    models::fuzzing::replay_without_engine("aspeed_fmc_2600", &corpus);
}
