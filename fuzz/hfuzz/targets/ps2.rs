//! honggfuzz entry for fuzz target `ps2` (see `devfuzz list`): `cargo hfuzz run ps2` builds and
//! runs it in persistent mode (fuzz/README.md). A plain build replays inputs.

fn main() {
    #[cfg(fuzzing)]
    loop {
        honggfuzz::fuzz!(|data: &[u8]| { harness::entry::fuzz_one(models::TARGETS, "ps2", data) });
    }
    #[cfg(not(fuzzing))]
    devfuzz_hfuzz::replay("ps2");
}
