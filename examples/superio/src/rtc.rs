//! vm-superio's [`Rtc`] (an ARM PL031) as an aarch64 VMM maps it: 4 KiB of MMIO at
//! [`BASE`] (QEMU `virt`'s address), 32-bit registers.
//!
//! **It is not deterministic, and the adapter cannot make it so.** The device reads the host
//! clock itself (`SystemTime::now()` in a private function) when the guest reads RTCDR and
//! when it writes RTCLR (which stores `offset = value - now`); there is no hook to give it a
//! virtual clock. The same input therefore reads different RTCDR values and leaves a different
//! `offset` from one second to the next. The harness shows it: `superio-devfuzz determinism
//! superio_rtc FILES` runs every input, pauses, runs them again and reports the first read or
//! state line that differs (exit 1), and `DEVFUZZ_DETERMINISM=1` makes the fuzz target run
//! each input twice and crash on a difference (certain only when the two runs straddle a
//! second). What stays deterministic is everything the guest does not read back: which
//! branches run depends on offsets and written values only, so coverage and crashes are
//! reproducible. The fix belongs upstream (a clock the embedder supplies): see
//! `docs/vm-superio-upstream.md`.

use crate::vm_device::Signals;
use vm_device::MutDeviceMmio;
use vm_device::bus::{MmioAddress, MmioAddressOffset};
use vm_superio::Rtc;
use vm_superio::rtc_pl031::NoEvents;

/// Where QEMU's `virt` machine puts its PL031.
pub const BASE: u64 = 0x0901_0000;
/// Bytes of registers.
pub const SIZE: u64 = 0x1000;

/// The RTC as the VMM's MMIO device.
#[derive(Debug)]
pub struct RtcDevice {
    rtc: Rtc<NoEvents>,
    bad_width: u64,
}

impl RtcDevice {
    /// An RTC in its power-on state.
    pub fn new() -> Self {
        Self {
            rtc: Rtc::new(),
            bad_width: 0,
        }
    }
}

impl Default for RtcDevice {
    fn default() -> Self {
        Self::new()
    }
}

impl Clone for RtcDevice {
    fn clone(&self) -> Self {
        Self {
            rtc: Rtc::from_state(&self.rtc.state(), NoEvents),
            bad_width: self.bad_width,
        }
    }
}

impl MutDeviceMmio for RtcDevice {
    fn mmio_read(&mut self, _base: MmioAddress, offset: MmioAddressOffset, data: &mut [u8]) {
        // As Firecracker does: 32-bit accesses at offsets the u16 interface can hold.
        match (<&mut [u8; 4]>::try_from(data), u16::try_from(offset)) {
            (Ok(data), Ok(offset)) => self.rtc.read(offset, data),
            _ => self.bad_width += 1,
        }
    }

    fn mmio_write(&mut self, _base: MmioAddress, offset: MmioAddressOffset, data: &[u8]) {
        match (<&[u8; 4]>::try_from(data), u16::try_from(offset)) {
            (Ok(data), Ok(offset)) => self.rtc.write(offset, data),
            _ => self.bad_width += 1,
        }
    }
}

impl Signals for RtcDevice {}
