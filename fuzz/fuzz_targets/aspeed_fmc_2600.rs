//! Fuzz target `aspeed_fmc_2600`: the ASPEED FMC with its SPI-NOR flash (see `devfuzz list`).
#![cfg_attr(fuzzing, no_main)]

harness::fuzz_target!(models::TARGETS, "aspeed_fmc_2600");
