//! Fuzz target `igb`: the Intel 82576 NIC (igb at 00:02.0 of pc-igb) (see `devfuzz list`).
#![cfg_attr(fuzzing, no_main)]

harness::fuzz_target!(models::TARGETS, "igb");
