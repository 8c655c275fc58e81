//! Fuzz target `ide_atapi`: the PIIX3 IDE secondary channel with an ATAPI CD-ROM and the bus master (see `devfuzz list`).
#![cfg_attr(fuzzing, no_main)]

harness::fuzz_target!(models::TARGETS, "ide_atapi");
