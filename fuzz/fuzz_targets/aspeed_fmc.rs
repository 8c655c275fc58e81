//! Fuzz target `aspeed_fmc`: the ASPEED FMC with its SPI-NOR flash (see `devfuzz list`).
#![cfg_attr(fuzzing, no_main)]

models::devfuzz_fuzz_target!("aspeed_fmc");
