//! The generic devfuzz harness. It knows no device: models plug in through [`device::Device`]
//! and machine profiles through [`machine::MachineSpec`].

#![forbid(unsafe_code)]

pub mod access;
pub mod check;
pub mod cli;
pub mod clock;
pub mod device;
pub mod entry;
pub mod file;
pub mod machine;
pub mod minimize;
pub mod mutate;
pub mod observe;
pub mod ops;
pub mod outcome;
pub mod pci;
pub mod qemu_log;
pub mod qtest;
pub mod ram;
pub mod regression;
pub mod runner;
pub mod space;
pub mod target;
pub mod testing;
