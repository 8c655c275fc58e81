//! AFL++ entry for fuzz target `pc` (see `devfuzz list`): `cargo afl build` makes it, and
//! `cargo afl fuzz` runs it in persistent mode (fuzz/README.md). A plain build replays inputs.

fn main() {
    #[cfg(fuzzing)]
    afl::fuzz!(|data: &[u8]| harness::entry::fuzz_one(models::TARGETS, "pc", data));
    #[cfg(not(fuzzing))]
    devfuzz_afl::replay("pc");
}
