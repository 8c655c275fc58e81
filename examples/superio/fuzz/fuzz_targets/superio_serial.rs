//! Fuzz target `superio_serial` (see `superio-devfuzz list`).
#![cfg_attr(fuzzing, no_main)]

harness::fuzz_target!(devfuzz_superio::TARGETS, "superio_serial");
