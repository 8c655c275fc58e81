//! Fuzz target `pci`: PCI configuration mechanism #1 and every function's configuration space (see `devfuzz list`).
#![cfg_attr(fuzzing, no_main)]

models::devfuzz_fuzz_target!("pci");
