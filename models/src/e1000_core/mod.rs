//! What Intel's 82574L and 82576 gigabit NICs share: the parts of the 82574L (`e1000e`) and
//! the 82576 (`igb`) that are the same hardware, written once and used by both models.
//!
//! | module | holds |
//! |---|---|
//! | [`regs`] | register offsets and bits that both chips place at the same address |
//! | [`regfile`] | the register file: dword storage, saturating statistics, clear-on-read |
//! | [`eeprom`] | the EEPROM image and the EERD read interface |
//! | [`phy`] | the PHY behind MDIC: registers, reset, autonegotiation, loopback bit |
//! | [`filter`] | receive address filters: RA, MTA hash, VLAN filter, broadcast, promiscuous |
//! | [`offload`] | checksum helpers, the Ethernet CRC, frame size buckets, statistics |
//! | [`function`] | the PCI function: BARs and regions, PM/MSI/MSI-X capability layouts |
//! | [`msix`] | MSI-X table and PBA as memory-mapped state |
//! | [`irq`] | interrupt delivery: the INTx line, MSI (with per-vector masking where the chip has it) and MSI-X |
//! | [`nic`] | the `Nic` trait: MDIC and autonegotiation, the I/O window, incoming frames and timers, written once over what each model provides |
//! | [`ring`] | descriptor ring arithmetic: free receive descriptors |
//! | [`kick`] | the transmit engine's per-kick quota (yield and resume on the virtual clock) |
//! | [`pcap`] | the network backend's capture file (`pcap=<file>`, QEMU's filter-dump) |
//! | [`timesync`] | the IEEE 1588 clock: SYSTIM from the virtual clock, TIMINCA, TIMADJ |
//!
//! Everything here is a plain value type or a pure function: no module holds a [`Context`]
//! across calls, and the device models keep their own trace event names (a trace target must
//! be a literal, so the shared code reports what happened and the model traces it).
//!
//! [`Context`]: harness::device::Context

/// Largest frame the models carry (receive with LPE, transmit before segmentation, event
/// payloads).
pub const MAX_FRAME: usize = 16384;
/// Sent frames the backend keeps for [`crate::e1000e::E1000e::sent_frames`] and
/// [`crate::igb::Igb::sent_frames`].
pub const SENT_FRAMES_KEPT: usize = 16;
/// The MAC address QEMU gives the first NIC.
pub const DEFAULT_MAC: [u8; 6] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
/// Which of the two chips a piece of shared code works for: the differences that are not
/// data (trace event names: a trace target must be a literal).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Chip {
    /// The 82574L ([`crate::e1000e`]).
    E1000e,
    /// The 82576 ([`crate::igb`]).
    Igb,
}

/// Trace an event under the chip's own target: `trace_chip!(chip, "e1000e_x", "igb_x", fmt...)`.
macro_rules! trace_chip {
    ($chip:expr, $e1000e:literal, $igb:literal, $($arg:tt)+) => {
        match $chip {
            $crate::e1000_core::Chip::E1000e => tracing::trace!(target: $e1000e, $($arg)+),
            $crate::e1000_core::Chip::Igb => tracing::trace!(target: $igb, $($arg)+),
        }
    };
}

/// The timer that ends autonegotiation ([`AUTONEG_NS`] after it starts).
pub const TIMER_AUTONEG: harness::device::TimerId = harness::device::TimerId(0);
/// The timer the transmit engine resumes on after a kick's quota ([`kick`]).
pub const TIMER_TX_RESUME: harness::device::TimerId = harness::device::TimerId(1);

/// Autonegotiation time (QEMU: 500 ms).
pub const AUTONEG_NS: u64 = 500_000_000;
/// MSI capability control: enable.
pub const MSI_CTRL_ENABLE: u16 = 0x0001;
/// MSI-X capability control: enable.
pub const MSIX_CTRL_ENABLE: u16 = 0x8000;
/// MSI-X capability control: mask all.
pub const MSIX_CTRL_MASKALL: u16 = 0x4000;

pub mod eeprom;
pub mod filter;
pub mod function;
pub mod irq;
pub mod kick;
pub mod msix;
pub mod nic;
pub mod offload;
pub mod pcap;
pub mod phy;
pub mod regfile;
pub mod regs;
pub mod ring;
#[cfg(test)]
pub(crate) mod testing;
pub mod timesync;
