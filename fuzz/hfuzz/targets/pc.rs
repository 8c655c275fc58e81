//! honggfuzz entry for fuzz target `pc` (see `devfuzz list`): `cargo hfuzz run pc` builds and
//! runs it in persistent mode (fuzz/README.md). A plain build replays inputs.

fn main() {
    #[cfg(fuzzing)]
    loop {
        honggfuzz::fuzz!(|data: &[u8]| { harness::entry::fuzz_one(models::TARGETS, "pc", data) });
    }
    #[cfg(not(fuzzing))]
    devfuzz_hfuzz::replay("pc");
}
