//! honggfuzz entry for fuzz target `pci` (see `devfuzz list`): `cargo hfuzz run pci` builds and
//! runs it in persistent mode (fuzz/README.md). A plain build replays inputs.

fn main() {
    #[cfg(fuzzing)]
    loop {
        honggfuzz::fuzz!(|data: &[u8]| { harness::entry::fuzz_one(models::TARGETS, "pci", data) });
    }
    #[cfg(not(fuzzing))]
    devfuzz_hfuzz::replay("pci");
}
