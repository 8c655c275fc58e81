//! Fuzz target `pci`: PCI configuration mechanism #1 and every function's configuration space (see `devfuzz list`).
#![cfg_attr(fuzzing, no_main)]

harness::fuzz_target!(models::TARGETS, "pci");
