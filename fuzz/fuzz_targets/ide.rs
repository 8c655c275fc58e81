//! Fuzz target `ide`: the PIIX3 IDE primary channel with an ATA disk and the bus master (see `devfuzz list`).
#![cfg_attr(fuzzing, no_main)]

harness::fuzz_target!(models::TARGETS, "ide");
