//! honggfuzz entry for fuzz target `ide_atapi` (see `devfuzz list`): `cargo hfuzz run ide_atapi` builds and
//! runs it in persistent mode (fuzz/README.md). A plain build replays inputs.

fn main() {
    #[cfg(fuzzing)]
    loop {
        honggfuzz::fuzz!(|data: &[u8]| { harness::entry::fuzz_one(models::TARGETS, "ide_atapi", data) });
    }
    #[cfg(not(fuzzing))]
    devfuzz_hfuzz::replay("ide_atapi");
}
