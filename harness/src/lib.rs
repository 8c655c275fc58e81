//! The generic devfuzz harness. It knows no device: models plug in through [`device::Device`]
//! and machine profiles through [`machine::MachineSpec`].

#![forbid(unsafe_code)]

/// `Clone` for a state struct whose `clone_from` reuses each field's buffers (a derived one
/// allocates a whole new value), naming every field: a field added to the struct and not to the
/// list does not compile, so a copy can never leave one behind.
///
/// The machine restores its checkpoint before every fuzz input with `clone_from`
/// ([`device::Snapshot`]), so a device whose state holds buffers (a register file's pages,
/// packet queues) restores without allocating when its `Clone` comes from here:
/// `harness::clone_by_field!(MyDevice { regs, queue, irq });`.
#[macro_export]
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
pub mod transient;
