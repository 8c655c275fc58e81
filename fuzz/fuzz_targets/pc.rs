//! Fuzz target `pc`: the whole pc machine (see `devfuzz list`).
#![cfg_attr(fuzzing, no_main)]

harness::fuzz_target!(models::TARGETS, "pc");
