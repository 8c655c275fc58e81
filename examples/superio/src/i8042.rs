//! vm-superio's [`I8042Device`] as Firecracker's x86 machine has it: ports 0x60..0x64, a
//! [`Trigger`] that is the VMM's reset line (the guest's `outb 0x64 0xfe`), which here asks
//! the machine for a system reset.

use crate::vm_device::Signals;
use std::cell::Cell;
use std::convert::Infallible;
use vm_device::MutDevicePio;
use vm_device::bus::{PioAddress, PioAddressOffset};
use vm_superio::{I8042Device, Trigger};

/// The data port; the command port is at +4.
pub const BASE: u64 = 0x60;
/// Ports the controller decodes (0x60..=0x64).
pub const PORTS: u64 = 5;

/// A [`Trigger`] that remembers it was pulled.
#[derive(Clone, Debug, Default)]
pub struct ResetTrigger(Cell<bool>);

impl Trigger for ResetTrigger {
    type E = Infallible;

    fn trigger(&self) -> Result<(), Infallible> {
        self.0.set(true);
        Ok(())
    }
}

/// The controller as the VMM's port-I/O device.
#[derive(Debug)]
pub struct I8042Port {
    device: I8042Device<ResetTrigger>,
}

impl I8042Port {
    /// A controller whose reset line has not been pulled.
    pub fn new() -> Self {
        Self {
            device: I8042Device::new(ResetTrigger::default()),
        }
    }
}

impl Default for I8042Port {
    fn default() -> Self {
        Self::new()
    }
}

impl Clone for I8042Port {
    fn clone(&self) -> Self {
        Self {
            device: I8042Device::new(self.device.reset_evt().clone()),
        }
    }
}

impl MutDevicePio for I8042Port {
    fn pio_read(&mut self, _base: PioAddress, offset: PioAddressOffset, data: &mut [u8]) {
        if let [byte] = data {
            *byte = self.device.read(offset as u8);
        }
    }

    fn pio_write(&mut self, _base: PioAddress, offset: PioAddressOffset, data: &[u8]) {
        if let [byte] = data {
            // The trigger cannot fail (`Infallible`).
            let _ = self.device.write(offset as u8, *byte);
        }
    }
}

impl Signals for I8042Port {
    fn take_reset_request(&mut self) -> bool {
        self.device.reset_evt().0.take()
    }
}
