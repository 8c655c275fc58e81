//! honggfuzz entry for fuzz target `e1000e` (see `devfuzz list`): `cargo hfuzz run e1000e` builds and
//! runs it in persistent mode (fuzz/README.md). A plain build replays inputs.

fn main() {
    #[cfg(fuzzing)]
    loop {
        honggfuzz::fuzz!(|data: &[u8]| { harness::entry::fuzz_one(models::TARGETS, "e1000e", data) });
    }
    #[cfg(not(fuzzing))]
    devfuzz_hfuzz::replay("e1000e");
}
