//! honggfuzz entry for fuzz target `aspeed_fmc` (see `devfuzz list`): `cargo hfuzz run aspeed_fmc` builds and
//! runs it in persistent mode (fuzz/README.md). A plain build replays inputs.

fn main() {
    #[cfg(fuzzing)]
    loop {
        honggfuzz::fuzz!(|data: &[u8]| { harness::entry::fuzz_one(models::TARGETS, "aspeed_fmc", data) });
    }
    #[cfg(not(fuzzing))]
    devfuzz_hfuzz::replay("aspeed_fmc");
}
