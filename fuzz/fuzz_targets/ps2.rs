//! Fuzz target `ps2`: the i8042 controller with its PS/2 keyboard and mouse (see `devfuzz list`).
#![cfg_attr(fuzzing, no_main)]

models::devfuzz_fuzz_target!("ps2");
