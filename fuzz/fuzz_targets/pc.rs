//! Fuzz target `pc`: the whole pc machine (see `devfuzz list`).
#![cfg_attr(fuzzing, no_main)]

models::devfuzz_fuzz_target!("pc");
