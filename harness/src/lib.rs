//! The generic devfuzz harness. It knows no device: models plug in through [`device::Device`]
//! and machine profiles through [`machine::MachineSpec`].

#![forbid(unsafe_code)]

/// `Clone` for a state struct whose `clone_from` reuses each field's buffers (a derived one
/// allocates a whole new value), naming every field: a field added to the struct and not to the
/// list does not compile, so a copy can never leave one behind.
macro_rules! clone_by_field {
    ($t:ident { $($f:ident),* $(,)? }) => {
        impl Clone for $t {
            fn clone(&self) -> Self {
                Self { $($f: self.$f.clone()),* }
            }

            fn clone_from(&mut self, source: &Self) {
                let Self { $($f),* } = self;
                $($f.clone_from(&source.$f);)*
            }
        }
    };
}

pub mod access;
pub mod check;
pub mod cli;
pub mod clock;
pub mod device;
pub mod entry;
pub mod file;
pub mod ids;
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
