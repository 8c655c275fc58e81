//! Any device that implements rust-vmm `vm-device`'s [`MutDevicePio`] or [`MutDeviceMmio`]
//! behind the devfuzz harness, unchanged: [`PioAdapter`] and [`MmioAdapter`] are
//! [`harness::device::Device`]s that pass every guest access through as the `vm-device` bus
//! would (`base` of the range, `offset` in it, a byte slice as long as the access; see
//! [`PASS_THROUGH`] for unaligned accesses).
//!
//! What the two traits cannot say — an interrupt, host input, a reset request — a device tells
//! through [`Signals`], whose methods all have defaults: a device with none of them writes
//! `impl Signals for MyDevice {}`. The harness needs one more thing of every device, that its
//! whole state is its value ([`Clone`]): it restores a checkpoint before each input by cloning.
//!
//! ```
//! use devfuzz_superio::vm_device::{PioAdapter, Signals};
//! use harness::device::Device;
//! use vm_device::MutDevicePio;
//! use vm_device::bus::{PioAddress, PioAddressOffset};
//!
//! /// A POST-code port (0x80) as a VMM writes it: remembers the last byte.
//! #[derive(Clone, Debug, Default)]
//! struct PostCode(u8);
//!
//! impl MutDevicePio for PostCode {
//!     fn pio_read(&mut self, _: PioAddress, _: PioAddressOffset, data: &mut [u8]) {
//!         data.fill(self.0);
//!     }
//!     fn pio_write(&mut self, _: PioAddress, _: PioAddressOffset, data: &[u8]) {
//!         self.0 = data[0];
//!     }
//! }
//! impl Signals for PostCode {}
//!
//! let dev = PioAdapter::new("post", "post-code", 0x80, 1, PostCode::default);
//! assert_eq!(dev.regions()[0].size, 1);
//! ```

use harness::access::{AccessRules, AccessSize, Space};
use harness::device::{Context, Device, RegionId, RegionSpec};
use std::fmt::Debug;
use vm_device::bus::{MmioAddress, PioAddress};
use vm_device::{MutDeviceMmio, MutDevicePio};

/// What a `vm-device` device can tell the machine besides its register answers. In a VMM
/// these travel out of band (an `EventFd` the device triggers, a channel from the host); here
/// the adapter asks after each call.
pub trait Signals {
    /// Interrupt edges the device raised since the last call (e.g. a `Trigger`'s count).
    /// Each becomes a pulse on the device's pin 0 (an edge on an irqfd, as a VMM delivers it).
    fn take_interrupts(&mut self) -> u32 {
        0
    }
    /// Whether the device asked for a system reset since the last call (the i8042's 0xFE).
    fn take_reset_request(&mut self) -> bool {
        false
    }
    /// Host-side input (EVENT ops): bytes typed on a console, a frame arriving. Any byte
    /// string must be accepted.
    fn host_input(&mut self, _payload: &[u8]) {}
}

/// Hand what a device signalled during a call to the machine.
fn deliver<D: Signals>(device: &mut D, ctx: &mut dyn Context) {
    for _ in 0..device.take_interrupts() {
        ctx.set_irq(0, true);
        ctx.set_irq(0, false);
    }
    if device.take_reset_request() {
        ctx.request_reset();
    }
}

/// Access rules of an adapted region: the guest may use any width (1, 2, 4, 8 bytes; port I/O
/// up to 4) and the device sees a slice that long, as on a `vm-device` bus. One difference
/// from KVM: the harness splits an access that is not aligned to its size into aligned pieces
/// (`outl 0x3f9` reaches the device as a byte, a word and a byte), where KVM exits once with
/// the whole access.
pub const PASS_THROUGH: AccessRules = AccessRules::ANY;

macro_rules! adapter {
    ($(#[$doc:meta])* $name:ident, $trait:ident, $space:expr, $addr:ident, $read:ident, $write:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug)]
        pub struct $name<D> {
            name: &'static str,
            region: &'static str,
            base: u64,
            size: u64,
            fresh: fn() -> D,
            device: D,
        }

        impl<D> $name<D> {
            /// The device `fresh()` builds, named `name` (its QEMU name where there is one),
            /// with one region `region` of `size` bytes that the machine maps at `base` (the
            /// `base` the device is told on each access). `fresh` is also its power-on state
            /// for resets.
            pub fn new(
                name: &'static str,
                region: &'static str,
                base: u64,
                size: u64,
                fresh: fn() -> D,
            ) -> Self {
                Self { name, region, base, size, fresh, device: fresh() }
            }

            /// The adapted device.
            pub fn inner(&self) -> &D {
                &self.device
            }

            /// The adapted device, mutably.
            pub fn inner_mut(&mut self) -> &mut D {
                &mut self.device
            }
        }

        impl<D: $trait + Signals + Clone + Debug + 'static> Device for $name<D> {
            fn name(&self) -> &'static str {
                self.name
            }

            fn regions(&self) -> Vec<RegionSpec> {
                vec![RegionSpec::new(self.region, $space, self.size, PASS_THROUGH)]
            }

            fn read(
                &mut self,
                ctx: &mut dyn Context,
                _region: RegionId,
                offset: u64,
                size: AccessSize,
            ) -> u64 {
                let mut data = [0u8; 8];
                let data = &mut data[..size.bytes() as usize];
                self.device.$read($addr(self.base as _), offset as _, data);
                deliver(&mut self.device, ctx);
                let mut le = [0u8; 8];
                le[..data.len()].copy_from_slice(data);
                u64::from_le_bytes(le)
            }

            fn write(
                &mut self,
                ctx: &mut dyn Context,
                _region: RegionId,
                offset: u64,
                size: AccessSize,
                value: u64,
            ) {
                let bytes = value.to_le_bytes();
                self.device
                    .$write($addr(self.base as _), offset as _, &bytes[..size.bytes() as usize]);
                deliver(&mut self.device, ctx);
            }

            fn event(&mut self, ctx: &mut dyn Context, payload: &[u8]) {
                self.device.host_input(payload);
                deliver(&mut self.device, ctx);
            }

            fn reset(&mut self) {
                self.device = (self.fresh)();
            }
        }
    };
}

adapter!(
    /// A [`MutDevicePio`] device on one I/O port range.
    PioAdapter,
    MutDevicePio,
    Space::Io,
    PioAddress,
    pio_read,
    pio_write
);

adapter!(
    /// A [`MutDeviceMmio`] device on one MMIO range.
    MmioAdapter,
    MutDeviceMmio,
    Space::Memory,
    MmioAddress,
    mmio_read,
    mmio_write
);
