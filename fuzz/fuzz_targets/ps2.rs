//! Fuzz target `ps2`: the i8042 controller with its PS/2 keyboard and mouse (see `devfuzz list`).
#![cfg_attr(fuzzing, no_main)]

harness::fuzz_target!(models::TARGETS, "ps2");
