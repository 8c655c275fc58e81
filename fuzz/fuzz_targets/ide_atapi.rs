//! Fuzz target `ide_atapi`: the PIIX3 IDE secondary channel with an ATAPI CD-ROM and the bus master (see `devfuzz list`).
#![cfg_attr(fuzzing, no_main)]

models::devfuzz_fuzz_target!("ide_atapi");
