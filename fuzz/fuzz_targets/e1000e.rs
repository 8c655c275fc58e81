//! Fuzz target `e1000e`: the Intel 82574L NIC (e1000e at 00:02.0) (see `devfuzz list`).
#![cfg_attr(fuzzing, no_main)]

harness::fuzz_target!(models::TARGETS, "e1000e");
