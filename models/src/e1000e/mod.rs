//! Intel 82574L gigabit Ethernet controller (QEMU `e1000e`, PCI 8086:10D3), written from the
//! datasheet facts in `shared/facts/devices.md` §1 (QEMU-observed values where marked \[V\]).
//!
//! Emulated: the PCI function (BAR0 128 KiB registers, BAR1 flash window, BAR2 IOADDR/IODATA,
//! BAR3 MSI-X table and PBA; PM → MSI → PCIe → MSI-X), the register file a Linux
//! driver touches, EEPROM through EERD, the PHY through MDIC, INTx/MSI/MSI-X interrupts, transmit
//! queue 0 (legacy, context and extended data descriptors, checksum offload, TSO), receive queue 0
//! (legacy and extended descriptors), MAC and PHY loopback. Not emulated: queue 1, packet split
//! (a frame for a packet-split ring is dropped and counted in MPC), RSS, interrupt moderation
//! delays (causes are delivered at once; ITR/EITR/RDTR/RADV/TIDV/TADV are stored), flow control,
//! wake-up, the flash itself (BAR1 reads 0) and the option ROM (QEMU's `romfile=`: no ROM BAR).
//!
//! # Network backend
//! Frames sent to the wire (not looped back) are recorded, the last [`SENT_FRAMES_KEPT`] of them,
//! without FCS: [`E1000e::sent_frames`]. Frames come in through [`Device::event`]. With the
//! machine option `pcap=<file>` both directions are also written to a capture file
//! ([`crate::e1000_core::pcap`], QEMU's filter-dump).
//!
//! # Event payload
//! The payload is one Ethernet frame, destination MAC first, without FCS, at most
//! [`MAX_FRAME`] bytes (longer payloads are cut there); an empty payload does nothing. It goes
//! through the receive filters and ring exactly as a looped-back frame does. A frame that finds
//! no room is dropped (there is no backend queue to retry from, unlike QEMU).
//!
//! # Choices
//! - Register by register the model answers as QEMU 10's e1000e does: reset values, which
//!   registers read and write and with which masks, aliases, clear-on-read statistics, the NVM
//!   image through EERD (EEWR writes it, and its result lands in EERD, as QEMU's) and the
//!   PHY through MDIC ([`PHY_PROFILE`]: registers 16-31 paged by register 22, pages 0, 2, 3
//!   and 5; others set MDIC.ERROR). `qemu-differences.txt` beside this file lists what is
//!   kept apart.
//! - The link is up after reset (QEMU); restarting autonegotiation through MDIC takes it down
//!   for 500 ms of virtual time, then LSC, and flow control is on (CTRL.RFCE/TFCE).
//! - Interrupts as QEMU delivers them, on the edge: INTx rises (counted in IAC) or a message
//!   goes out when an ICR & IMS cause becomes pending; INTx falls when none is. With MSI-X on,
//!   receive and transmit raise their queue's cause (RXQ0, TXQ0) instead of RXT0/TXDW, other
//!   causes also set OTHER, each queue or OTHER cause sends the vector IVAR names, then EIAC
//!   clears it from ICR (and from IMS unless CTRL_EXT.IAME) and CTRL_EXT.EIAME from IAM.
//!   INT_ASSERTED is set by a raise and cleared only by a write or read; ICS reads a copy of
//!   ICR; writing OTHER to ICR clears the other causes too. Interrupt moderation (ITR, EITR)
//!   is not modelled: causes are delivered at once (QEMU holds them back for the interval).
//! - MSI-X masking as the PCI spec and QEMU's `msix.c` have it ([`crate::e1000_core::irq`]): a
//!   message for a masked vector, or while the function is masked (MSI-X off or mask-all),
//!   sets its PBA bit; it goes out when the vector is unmasked in the table or when a
//!   configuration write clears mask-all or enables MSI-X. The MSI capability has no
//!   per-vector mask (QEMU's neither).
//! - TSCTFC counts malformed TSO contexts and clears on read (datasheet).
//! - ICR read clears as upstream QEMU and the datasheet: when IMS is 0, outside MSI-X mode, or
//!   (in MSI-X mode) when INT_ASSERTED is set and either CTRL_EXT.IAME is set (IMS then loses
//!   the IAM bits) or an enabled cause is pending.
//! - Without SECRC the FCS is appended after the data in the same descriptor when it fits
//!   (upstream QEMU; 7.2 used a separate descriptor) and it is the real CRC-32 (datasheet; QEMU
//!   writes zeros).
//! - A TX head outside the ring processes the descriptor there, then wraps to 0 (QEMU); a ring
//!   walk never goes past one lap. Receive takes the descriptors from the head up to the tail
//!   even when the ring has length 0 or the tail lies outside it (QEMU; the datasheet leaves it
//!   to programming error), the head wrapping to 0 at the ring's end.
//! - No free RX descriptors: the frame is dropped, RXO raised and RNBC counted.
//! - The capability chain is built at QEMU's offsets by hand (the harness helper allocates from
//!   0x40 upwards).
//!
//! # Planted bugs
//! With `planted-bugs`: `e1000e-head-outside-ring`, `e1000e-tso-zero-mss`, `e1000e-rx-oversize`,
//! `e1000e-loopback-bypass` (see [`crate::planted`]), handed to the device when it is built.

mod regs;
mod rx;
#[cfg(test)]
mod tests;
mod tx;

pub use crate::e1000_core::eeprom::{
    EEPROM_CHECKSUM_WORD, EEPROM_DEVICE_ID_WORD, EEPROM_DEVICE_ID_WORD2, EEPROM_SUM, EEPROM_WORDS,
};
pub use crate::e1000_core::filter::{RxKind, mta_hash};
use crate::e1000_core::irq::{Irq, IrqChip, IrqLayout};
use crate::e1000_core::kick::TxKick;
use crate::e1000_core::nic::Nic;
pub use crate::e1000_core::offload::ethernet_crc;
use crate::e1000_core::pcap::Pcap;
use crate::e1000_core::phy::Phy;
use crate::e1000_core::regfile::RegFile;
use crate::e1000_core::timesync::{self, TimeSync};
use crate::e1000_core::{eeprom, function};
use crate::planted_bug::{Bug, Planted, PlantedBug};
use harness::access::AccessSize;
use harness::device::{Context, Device, RegionId, RegionSpec, TimerId};
use harness::pci::{self, PciConfig};
pub use regs::*;
use std::collections::VecDeque;

pub use crate::e1000_core::function::{
    FLASH_REGION, IO_REGION, IRQ_PIN, MMIO_REGION, MMIO_SIZE, MSIX_PBA_OFFSET, MSIX_REGION,
    MSIX_SIZE,
};

use crate::e1000_core::Chip;
pub use crate::e1000_core::{DEFAULT_MAC, MAX_FRAME, SENT_FRAMES_KEPT};
use crate::e1000_core::{TIMER_AUTONEG, TIMER_TX_RESUME};

// PCI capability offsets (QEMU's e1000e layout, facts §1.1).
const CAP_PM: u8 = 0xC8;
const CAP_MSI: u8 = 0xD0;
const CAP_PCIE: u8 = 0xE0;
const CAP_MSIX: u8 = 0xA0;
/// MSI-X vectors (82574: 5).
pub const MSIX_VECTORS: usize = 5;

/// The interrupt layout: MSI with a 64-bit address and no per-vector masking (QEMU's
/// `msi_init(.., 64-bit, no mask)` for the 82574L).
#[derive(Clone, Debug, PartialEq, Eq)]
struct E1000eIrq;

impl IrqChip for E1000eIrq {
    const LAYOUT: IrqLayout = IrqLayout {
        chip: Chip::E1000e,
        pin: IRQ_PIN,
        cap_msi: CAP_MSI,
        cap_msix: CAP_MSIX,
        msi_vector_mask: false,
        pba_offset: MSIX_PBA_OFFSET,
    };
}

/// The e1000e device model.
#[derive(Debug, PartialEq, Eq)]
pub struct E1000e {
    pci: PciConfig,
    /// Register file, one dword per 4 bytes of [0, REG_FILE_END).
    regs: RegFile,
    eeprom: [u16; EEPROM_WORDS],
    /// PHY registers and link state.
    phy: Phy,
    /// STATUS.PHYRA.
    phy_reset_asserted: bool,
    /// STATUS.LU.
    link_up: bool,
    /// The time sync clock.
    timesync: TimeSync,
    ioaddr: u32,
    /// INTx, MSI and the MSI-X table.
    irq: Irq<E1000eIrq, MSIX_VECTORS>,
    tx: tx::TxState,
    tx_kick: TxKick,
    sent: VecDeque<Vec<u8>>,
    /// Frames the transmit path dropped as malformed (bad context, fragment overflow).
    tx_malformed: u64,
    /// Loopback deliveries in progress (planted `e1000e-loopback-bypass` recursion depth).
    loopback_depth: u32,
    /// The backend's capture file (kept across resets).
    pcap: Option<Pcap>,
    /// Planted bugs this device was built with (kept across resets).
    planted: Planted,
    /// Where receive builds the frame it stores; empty between calls.
    rx_scratch: Vec<u8>,
}

harness::clone_by_field!(E1000e {
    pci,
    regs,
    eeprom,
    phy,
    phy_reset_asserted,
    link_up,
    timesync,
    ioaddr,
    irq,
    tx,
    tx_kick,
    sent,
    tx_malformed,
    loopback_depth,
    pcap,
    planted,
    rx_scratch,
});

impl Default for E1000e {
    fn default() -> Self {
        Self::new()
    }
}

impl E1000e {
    /// A powered-on 82574L with QEMU's default MAC.
    pub fn new() -> Self {
        let mut dev = Self::fresh();
        dev.reset_mac(false);
        dev
    }

    /// Re-introduce `planted`, the device's part of the selection (entries of [`PLANTED`]);
    /// they are kept across resets.
    pub fn set_planted(&mut self, planted: Planted) {
        self.planted = planted;
    }

    fn fresh() -> Self {
        Self::fresh_with(reset_regs())
    }

    /// Power-on state around `regs` (returned to its reset contents by
    /// [`reset_mac`](Self::reset_mac)).
    fn fresh_with(regs: RegFile) -> Self {
        Self {
            pci: pci_config(),
            regs,
            eeprom: eeprom::image(&EEPROM_TEMPLATE, DEFAULT_MAC, DEVICE_ID),
            phy: Phy::new(&PHY_PROFILE),
            phy_reset_asserted: false,
            link_up: true,
            timesync: TimeSync::default(),
            ioaddr: 0,
            irq: Irq::new(),
            tx: tx::TxState::default(),
            tx_kick: TxKick::default(),
            sent: VecDeque::new(),
            tx_malformed: 0,
            loopback_depth: 0,
            pcap: None,
            planted: Planted::NONE,
            rx_scratch: Vec::new(),
        }
    }

    /// Write every frame sent to the wire or received from the backend to `pcap`.
    pub fn set_pcap(&mut self, pcap: Option<Pcap>) {
        self.pcap = pcap;
    }

    /// The last frames sent to the wire, oldest first, without FCS.
    pub fn sent_frames(&self) -> impl Iterator<Item = &[u8]> {
        self.sent.iter().map(Vec::as_slice)
    }

    /// Frames the transmit path dropped as malformed.
    pub fn tx_malformed(&self) -> u64 {
        self.tx_malformed
    }

    /// The EEPROM image.
    pub fn eeprom(&self) -> &[u16; EEPROM_WORDS] {
        &self.eeprom
    }

    /// MAC (register file) reset: what CTRL.RST does. PCI configuration, EEPROM, MSI-X table
    /// and the backend are kept.
    fn reset_mac(&mut self, software: bool) {
        // A software reset keeps the packet buffer sizes and the interrupt throttling (QEMU).
        let kept = software.then(|| {
            let eitr: [u32; MSIX_VECTORS] = std::array::from_fn(|i| self.reg(EITR + 4 * i as u64));
            (self.reg(PBA), self.reg(PBS), self.reg(ITR), eitr)
        });
        self.regs.reset();
        if let Some((pba, pbs, itr, eitr)) = kept {
            self.set_reg(PBA, pba);
            self.set_reg(PBS, pbs);
            self.set_reg(ITR, itr);
            for (i, value) in eitr.into_iter().enumerate() {
                self.set_reg(EITR + 4 * i as u64, value);
            }
        }
        let mac = self.permanent_mac();
        self.set_reg(RA, u32::from_le_bytes([mac[0], mac[1], mac[2], mac[3]]));
        self.set_reg(
            RA + 4,
            u32::from(u16::from_le_bytes([mac[4], mac[5]])) | RAH_AV,
        );
        self.phy = Phy::new(&PHY_PROFILE);
        self.phy_reset_asserted = false;
        self.link_up = true;
        self.tx = tx::TxState::default();
    }

    fn permanent_mac(&self) -> [u8; 6] {
        eeprom::mac(&self.eeprom)
    }

    fn bus_master(&self) -> bool {
        self.pci.bus_master()
    }

    // ---- register file -------------------------------------------------------------------

    fn mmio_read(&mut self, ctx: &mut dyn Context, offset: u64) -> u32 {
        let offset = unalias(offset & !3);
        let value = match offset {
            CTRL => self.reg(CTRL),
            STATUS => self.read_status(),
            ICR => self.read_icr(ctx),
            ICS => self.reg(ICS),
            IMC => 0,
            SWSM => self.read_swsm(),
            SYSTIML => self.timesync.read_systiml(&mut self.regs, ctx.now()),
            TXSTMPH => timesync::read_releasing(&mut self.regs, TXSTMPH, TSYNCTXCTL),
            RXSATRH => timesync::read_releasing(&mut self.regs, RXSATRH, TSYNCRXCTL),
            EEWR | GCR | FWSM => self.reg(offset),
            // Counted by the TSO path (datasheet: clear on read).
            TSCTFC => self.read_stat(offset),
            STATS_START..=STATS_END => match stat_read(offset) {
                StatRead::Plain => self.reg(offset),
                StatRead::Clear | StatRead::ClearPair => self.read_stat(offset),
                StatRead::Absent => 0,
            },
            _ if storage_mask(offset).is_some() => self.reg(offset),
            _ => 0,
        };
        tracing::trace!(target: "e1000e_core_read", "offset {offset:#x} value {value:#x}");
        value
    }

    fn mmio_write(&mut self, ctx: &mut dyn Context, offset: u64, value: u32) {
        let offset = unalias(offset & !3);
        tracing::trace!(target: "e1000e_core_write", "offset {offset:#x} value {value:#x}");
        match offset {
            CTRL | CTRL_DUP => self.write_ctrl(ctx, value),
            STATUS => self.write_status(value),
            EECD => self.write_eecd(value),
            EERD => self.write_eerd(value),
            CTRL_EXT => self.set_reg(CTRL_EXT, value & !(CTRL_EXT_ASDCHK | CTRL_EXT_EE_RST)),
            MDIC => self.write_mdic(ctx, value),
            ICR => self.write_icr(ctx, value),
            ICS => self.raise(ctx, value),
            IMS => self.write_ims(ctx, value),
            IMC => self.lower(ctx, IMS, value),
            RCTL => self.set_reg(RCTL, value),
            TCTL => self.write_tctl(ctx, value),
            TDBAL | RDBAL => self.set_reg(offset, value & !0xF),
            TDLEN | RDLEN => self.set_reg(offset, value & RING_LEN_MASK),
            TDH | RDH | RDT => self.set_reg(offset, value & 0xFFFF),
            TDT => self.write_tdt(ctx, value),
            // Stored for the interrupt delay timers (not modelled); QEMU does not read it back.
            TIDV => self.set_reg(TIDV, value & 0xFFFF),
            EEWR => self.write_eewr(value),
            GCR => self.regs.set_masked(GCR, value, !GCR_RO),
            TIMINCA => self
                .timesync
                .write_timinca(&mut self.regs, ctx.now(), value),
            TIMADJH => self.timesync.write_timadjh(&mut self.regs, value),
            STATS_START..=STATS_END if offset != FCRUC => {}
            _ => {
                if let Some(mask) = storage_mask(offset) {
                    let old = self.reg(offset);
                    self.set_reg(offset, (old & !mask) | (value & mask));
                }
            }
        }
    }

    fn write_ctrl(&mut self, ctx: &mut dyn Context, value: u32) {
        self.set_reg(CTRL, value & !CTRL_RST);
        if value & CTRL_RST != 0 {
            tracing::trace!(target: "e1000e_core_ctrl_sw_reset", "");
            ctx.timer_cancel(TIMER_AUTONEG);
            self.reset_mac(true);
        }
        if value & CTRL_PHY_RST != 0 {
            tracing::trace!(target: "e1000e_core_ctrl_phy_reset", "");
            self.phy_reset_asserted = true;
        }
    }

    fn read_status(&self) -> u32 {
        status(
            self.reg(CTRL),
            self.reg(CTRL_EXT),
            self.link_up,
            self.phy_reset_asserted,
        )
    }

    /// EEWR writes the addressed EEPROM word (START, an address below 64); the result lands
    /// in EERD (QEMU), EEWR itself always reads DONE.
    fn write_eewr(&mut self, value: u32) {
        let addr = (value >> EERD_ADDR_SHIFT) & EERD_ADDR_MASK;
        let data = value >> EERD_DATA_SHIFT;
        let mut flags = 0;
        if value & EERD_START != 0
            && let Some(word) = self.eeprom.get_mut(addr as usize)
        {
            *word = data as u16;
            flags = EERD_DONE;
        }
        self.set_reg(
            EERD,
            flags | addr << EERD_ADDR_SHIFT | data << EERD_DATA_SHIFT,
        );
    }

    fn write_status(&mut self, value: u32) {
        if value & STATUS_PHYRA == 0 {
            self.phy_reset_asserted = false;
        }
    }

    fn write_eecd(&mut self, value: u32) {
        let old = self.reg(EECD);
        self.set_reg(EECD, (old & EECD_RO) | (value & !EECD_RO));
    }

    fn write_eerd(&mut self, value: u32) {
        let result = eeprom::eerd(&self.eeprom, EEPROM_WORDS, value);
        self.set_reg(EERD, result);
    }

    fn read_swsm(&mut self) -> u32 {
        let value = self.reg(SWSM);
        self.set_reg(SWSM, value | SWSM_SMBI);
        value
    }

    fn read_stat(&mut self, offset: u64) -> u32 {
        self.regs.read_stat(offset)
    }

    /// Add to a 32-bit statistics counter, saturating as the hardware does.
    fn count(&mut self, offset: u64, n: u32) {
        self.regs.count(offset, n);
    }

    // ---- PHY -----------------------------------------------------------------------------

    fn phy_loopback(&self) -> bool {
        self.phy.loopback()
    }

    // ---- interrupts ----------------------------------------------------------------------
    //
    // Causes are delivered on the edge, as QEMU does: a message (or an INTx assertion) goes
    // out when an ICR & IMS cause becomes pending. ICS reads a copy of ICR taken whenever ICR
    // or IMS change, before MSI-X auto-clear.

    /// ICR read: clears when IMS is 0 or MSI-X is off; with MSI-X on and INT_ASSERTED set,
    /// CTRL_EXT.IAME clears it and takes IAM from IMS, and a pending enabled cause clears it.
    fn read_icr(&mut self, ctx: &mut dyn Context) -> u32 {
        let icr = self.reg(ICR);
        if self.reg(IMS) == 0 || !self.msix_enabled() {
            tracing::trace!(target: "e1000e_irq_icr_clear_on_read", "{icr:#x}");
            self.lower(ctx, ICR, u32::MAX);
        }
        if self.reg(ICR) & ICR_INT_ASSERTED != 0 {
            if self.reg(CTRL_EXT) & CTRL_EXT_IAME != 0 {
                self.lower(ctx, ICR, u32::MAX);
                let iam = self.reg(IAM);
                self.lower(ctx, IMS, iam);
            }
            if self.reg(ICR) & self.reg(IMS) != 0 {
                self.lower(ctx, ICR, u32::MAX);
            }
        }
        icr
    }

    /// ICR write: an asserted interrupt acknowledged with CTRL_EXT.IAME takes IAM from IMS;
    /// then write 1 to clear.
    fn write_icr(&mut self, ctx: &mut dyn Context, value: u32) {
        if self.reg(ICR) & ICR_INT_ASSERTED != 0 && self.reg(CTRL_EXT) & CTRL_EXT_IAME != 0 {
            let iam = self.reg(IAM);
            self.lower(ctx, IMS, iam);
        }
        // Clearing OTHER clears the causes behind it (QEMU, for the Windows driver).
        let value = if value & ICR_OTHER != 0 {
            value | ICR_OTHER_CAUSES
        } else {
            value
        };
        self.lower(ctx, ICR, value);
    }

    /// IMS write: with MSI-X on and CTRL_EXT.PBA_CLR, enabling a queue or OTHER cause clears
    /// its vector's pending bit.
    fn write_ims(&mut self, ctx: &mut dyn Context, value: u32) {
        let value = value & IMS_VALID;
        if value & MSIX_CAUSES != 0
            && self.reg(CTRL_EXT) & CTRL_EXT_PBA_CLR != 0
            && self.msix_enabled()
        {
            let ivar = self.reg(IVAR);
            for (cause, shift) in MSIX_ROUTES {
                let field = ivar >> shift & 0xF;
                if value & cause != 0 && field & IVAR_VALID != 0 {
                    self.irq.clear_pending(1 << (field & 0x7));
                }
            }
        }
        self.raise_in(ctx, IMS, value);
    }

    /// Set interrupt causes and deliver what becomes pending.
    fn raise(&mut self, ctx: &mut dyn Context, causes: u32) {
        self.raise_in(ctx, ICR, causes);
    }

    /// Set `bits` in ICR or IMS and deliver what became pending.
    fn raise_in(&mut self, ctx: &mut dyn Context, reg: u64, bits: u32) {
        let old_pending = self.reg(ICR) & self.reg(IMS);
        tracing::trace!(target: "e1000e_irq_set_cause", "reg {reg:#x} bits {bits:#x}");
        let v = self.reg(reg) | bits;
        self.set_reg(reg, v);
        self.settle_icr(true);
        let raised = self.reg(ICR) & self.reg(IMS) & !old_pending;
        if raised == 0 {
            return;
        }
        if self.msix_enabled() {
            self.msix_notify(ctx, raised & !ICR_INT_ASSERTED);
        } else {
            self.irq.notify_legacy(&mut self.pci, &mut self.regs, ctx);
        }
    }

    /// Clear `bits` in ICR or IMS; with nothing pending (and MSI and MSI-X off) INTx falls.
    /// INT_ASSERTED only clears when written (QEMU).
    fn lower(&mut self, ctx: &mut dyn Context, reg: u64, bits: u32) {
        let v = self.reg(reg) & !bits;
        self.set_reg(reg, v);
        self.settle_icr(false);
        if self.reg(ICR) & self.reg(IMS) == 0 {
            self.irq.settle_legacy(&mut self.pci, ctx);
        }
    }

    /// After a raise with MSI-X on, pending other causes set OTHER, and INT_ASSERTED follows
    /// whether any cause is set (only a write or read clears them); ICS takes a copy.
    fn settle_icr(&mut self, raised: bool) {
        let mut icr = self.reg(ICR);
        if raised && self.msix_enabled() && icr & ICR_OTHER_CAUSES != 0 {
            icr |= ICR_OTHER;
        }
        if raised {
            icr &= !ICR_INT_ASSERTED;
            if icr != 0 {
                icr |= ICR_INT_ASSERTED;
            }
        }
        self.set_reg(ICR, icr);
        self.set_reg(ICS, icr);
    }

    fn msix_enabled(&self) -> bool {
        self.irq.msix_enabled(&self.pci)
    }

    /// MSI-X: each queue or OTHER cause sends the vector its IVAR field names; then, as it is
    /// sent, CTRL_EXT.EIAME takes it from IAM and EIAC clears it from ICR (and from IMS unless
    /// CTRL_EXT.IAME is set), QEMU's rule.
    fn msix_notify(&mut self, ctx: &mut dyn Context, causes: u32) {
        for (cause, shift) in MSIX_ROUTES {
            if causes & cause == 0 {
                continue;
            }
            let field = self.reg(IVAR) >> shift & 0xF;
            let vector = (field & 0x7) as usize;
            if field & IVAR_VALID != 0 && vector < MSIX_VECTORS {
                self.irq.msix_send(&self.pci, ctx, vector);
            }
            if self.reg(CTRL_EXT) & CTRL_EXT_EIAME != 0 {
                let iam = self.reg(IAM) & !cause;
                self.set_reg(IAM, iam);
            }
            let auto_clear = self.reg(EIAC) & cause;
            let icr = self.reg(ICR) & !auto_clear;
            self.set_reg(ICR, icr);
            if self.reg(CTRL_EXT) & CTRL_EXT_IAME == 0 {
                let ims = self.reg(IMS) & !auto_clear;
                self.set_reg(IMS, ims);
            }
        }
    }
}

impl Nic for E1000e {
    const CHIP: Chip = Chip::E1000e;

    fn reg(&self, offset: u64) -> u32 {
        self.regs.get(offset)
    }

    fn set_reg(&mut self, offset: u64, value: u32) {
        self.regs.set(offset, value);
    }

    fn phy_mut(&mut self) -> &mut Phy {
        &mut self.phy
    }

    fn set_link_up(&mut self, up: bool) {
        self.link_up = up;
    }

    fn raise_icr(&mut self, ctx: &mut dyn Context, causes: u32) {
        self.raise(ctx, causes);
    }

    fn ioaddr_mut(&mut self) -> &mut u32 {
        &mut self.ioaddr
    }

    fn register_read(&mut self, ctx: &mut dyn Context, offset: u64) -> u32 {
        self.mmio_read(ctx, offset)
    }

    fn register_write(&mut self, ctx: &mut dyn Context, offset: u64, value: u32) {
        self.mmio_write(ctx, offset, value);
    }

    fn receive_frame(&mut self, ctx: &mut dyn Context, frame: &[u8]) {
        self.receive(ctx, frame);
    }

    fn resume_transmit(&mut self, ctx: &mut dyn Context) {
        self.resume_xmit(ctx);
    }

    fn pcap(&self) -> Option<&Pcap> {
        self.pcap.as_ref()
    }

    fn msix_bar_read(&self, offset: u64) -> u32 {
        self.irq.msix_read(offset)
    }

    fn msix_bar_write(&mut self, ctx: &mut dyn Context, offset: u64, value: u32) {
        self.irq.msix_write(&self.pci, ctx, offset, value);
    }
}

/// The word that makes the EEPROM sum [`EEPROM_SUM`].
pub fn eeprom_checksum(eeprom: &[u16; EEPROM_WORDS]) -> u16 {
    eeprom::checksum(eeprom)
}

/// The STATUS register as the MAC computes it from CTRL and the link (facts §1.3): full duplex
/// (forced by CTRL.FRCDPX, else on), link up, speed (CTRL.SPD_SEL when CTRL.FRCSPD or
/// CTRL_EXT.SPD_BYPS, else 1000), GIO master enabled unless CTRL disables it, PHY reset
/// asserted.
fn status(ctrl: u32, ctrl_ext: u32, link_up: bool, phy_reset_asserted: bool) -> u32 {
    let mut status = STATUS_ASDV_1000;
    let full_duplex = if ctrl & CTRL_FRCDPX != 0 {
        ctrl & CTRL_FD != 0
    } else {
        true
    };
    if full_duplex {
        status |= STATUS_FD;
    }
    if link_up {
        status |= STATUS_LU;
    }
    status |= if ctrl & CTRL_FRCSPD != 0 || ctrl_ext & CTRL_EXT_SPD_BYPS != 0 {
        match (ctrl & CTRL_SPD_SEL) >> CTRL_SPD_SHIFT {
            0 => 0,
            1 => 1 << STATUS_SPEED_SHIFT,
            _ => STATUS_SPEED_1000,
        }
    } else {
        STATUS_SPEED_1000
    };
    if ctrl & CTRL_GIO_MASTER_DISABLE == 0 {
        status |= STATUS_GIO_MASTER_EN;
    }
    if phy_reset_asserted {
        status |= STATUS_PHYRA;
    }
    status
}

/// The register file at reset (the MAC address aside), kept as what
/// [`RegFile::reset`] returns to: built once per device, not on every reset.
fn reset_regs() -> RegFile {
    let mut regs = RegFile::new(REG_FILE_END);
    for &(offset, value) in RESET_VALUES {
        regs.set(offset, value);
    }
    regs.keep_as_reset();
    regs
}

fn pci_config() -> PciConfig {
    let base = PciConfig::new(VENDOR_ID, DEVICE_ID, CLASS_ETHERNET, 0, 0)
        .with_subsystem(VENDOR_ID, 0)
        .with_interrupt_pin(1);
    let mut cfg = function::with_bars(base, false);
    // Capability chain PM (0xC8) → MSI (0xD0) → PCIe (0xE0) → MSI-X (0xA0), facts §1.1 [V].
    function::power_management(&mut cfg, CAP_PM);
    function::msi(&mut cfg, CAP_MSI, E1000eIrq::LAYOUT.msi_vector_mask);
    cfg.add_capability_at(CAP_PCIE, pci::CAP_ID_EXP, 0x14);
    // Version 1, endpoint (QEMU: device control reads 0 and keeps nothing); extended tags,
    // role-based errors; 2.5 GT/s x1 with L0s, trained at 2.5 GT/s x1.
    cfg.set_u16(CAP_PCIE + 2, 0x0001);
    cfg.set_u32(CAP_PCIE + 4, 0x0000_8020);
    cfg.set_u32(CAP_PCIE + 0xC, 0x0000_0411);
    cfg.set_u16(CAP_PCIE + 0x12, 0x0011);
    function::msix(&mut cfg, CAP_MSIX, MSIX_VECTORS);
    cfg
}

impl Device for E1000e {
    fn name(&self) -> &'static str {
        "e1000e"
    }

    fn regions(&self) -> Vec<RegionSpec> {
        function::regions(["e1000e-mmio", "e1000e-flash", "e1000e-io", "e1000e-msix"])
    }

    fn read(
        &mut self,
        ctx: &mut dyn Context,
        region: RegionId,
        offset: u64,
        size: AccessSize,
    ) -> u64 {
        self.bar_read(ctx, region, offset, size)
    }

    fn write(
        &mut self,
        ctx: &mut dyn Context,
        region: RegionId,
        offset: u64,
        size: AccessSize,
        value: u64,
    ) {
        self.bar_write(ctx, region, offset, size, value);
    }

    fn pci(&self) -> Option<&PciConfig> {
        Some(&self.pci)
    }

    fn pci_mut(&mut self) -> Option<&mut PciConfig> {
        Some(&mut self.pci)
    }

    fn config_write(&mut self, ctx: &mut dyn Context, offset: u8, size: AccessSize, value: u32) {
        self.pci.write(offset, size, value);
        // INTx disable gates the line; enabling or unmasking MSI-X sends what is pending.
        self.irq.config_written(&mut self.pci, ctx);
    }

    fn timer(&mut self, ctx: &mut dyn Context, timer: TimerId) {
        self.nic_timer(ctx, timer);
    }

    fn event(&mut self, ctx: &mut dyn Context, payload: &[u8]) {
        self.frame_event(ctx, payload);
    }

    fn reset(&mut self) {
        let planted = self.planted;
        let pcap = self.pcap.take();
        // Keep the register file's allocation: reset_mac clears what was written.
        let regs = std::mem::replace(&mut self.regs, RegFile::new(0));
        *self = Self::fresh_with(regs);
        self.pcap = pcap;
        self.reset_mac(false);
        self.planted = planted;
    }
}

/// The e1000e's planted bugs (see [`crate::planted`]).
pub const PLANTED: &[PlantedBug] = &[
    PlantedBug {
        id: "e1000e-head-outside-ring",
        device: "e1000e",
        target: "e1000e",
        cites: "CVE-2016-1981 / CVE-2017-9310: e1000/e1000e infinite loop when the ring head \
                starts outside the ring (\"eliminate infinite loops on out-of-bounds transfer \
                start\")",
        description: "The transmit walk wraps the head to 0 only when it equals the ring size \
                      and has no one-lap bound, so a TDH at or past TDLEN/16 (and different \
                      from TDT) walks on forever (triggered): a hang. Sequence: bus mastering \
                      on, TDLEN=0x80, TDH=9, TDT=1, TCTL.EN (or TDT written after TCTL.EN).",
    },
    PlantedBug {
        id: "e1000e-tso-zero-mss",
        device: "e1000e",
        target: "e1000e",
        cites: "CVE-2015-6815 / CVE-2021-20257: e1000 process_tx_desc TSO segment size 0 \
                (commit b947ac2, \"e1000: fail early for evil descriptor\")",
        description: "TCP segmentation takes the MSS from the context descriptor unchecked \
                      (reached on every TSO packet, triggered when it is 0): a zero segment \
                      size never advances through the payload, a hang. Sequence: TX ring with \
                      a context descriptor (DEXT, DTYP 0, TSE, HDRLEN < frame, MSS 0) then an \
                      extended data descriptor (DEXT|DTYP_D, TSE|EOP, length > HDRLEN), \
                      TCTL.EN, TDT=2.",
    },
    PlantedBug {
        id: "e1000e-rx-oversize",
        device: "e1000e",
        target: "e1000e",
        cites: "CVE-2012-6075: e1000_receive buffer overflow with RCTL.SBP and RCTL.LPE clear \
                and a frame larger than the receive buffer",
        description: "Without LPE and SBP an oversized frame (> 1522 bytes) is not dropped: the \
                      receive path copies the whole frame into one receive buffer (reached), \
                      past its end when the frame is larger than the buffer (triggered): index \
                      out of bounds. Sequence: RX ring with free descriptors, RCTL.EN (no \
                      LPE/SBP, BSIZE 2048 or less), then an `event e1000e` frame of more than \
                      2048 bytes accepted by the filters, or the same frame looped back.",
    },
    PlantedBug {
        id: "e1000e-loopback-bypass",
        device: "e1000e",
        target: "e1000e",
        cites: "CVE-2021-3416: loopback delivery bypassing the net-queue re-entrancy check \
                (commits 705df546, 1caff034 \"switch to use qemu_receive_packet() for loopback\")",
        description: "In loopback the receive DMA is handed straight to the device's own \
                      register handlers when the buffer lies in BAR0 (reached and triggered), \
                      so the guard never sees it: a buffer on TCTL with a frame whose first \
                      dword keeps TCTL.EN re-kicks transmit from the same descriptor, TX -> RX \
                      -> TCTL -> TX, until the stack is gone (a panic here). Sequence: rings \
                      set up, RCTL.EN|LBM=01, RX descriptor buffer = BAR0 + 0x400, TX a frame \
                      starting 0x02 0x00 0x00 0x00 ... with RS|EOP, TDT=1.",
    },
];

/// `e1000e-head-outside-ring`, in the transmit walk.
#[cfg(feature = "planted-bugs")]
const HEAD_OUTSIDE_RING: Bug = Bug::of(PLANTED, 0);
/// `e1000e-tso-zero-mss`, in TCP segmentation.
#[cfg(feature = "planted-bugs")]
const TSO_ZERO_MSS: Bug = Bug::of(PLANTED, 1);
/// `e1000e-rx-oversize`, in the receive copy.
const RX_OVERSIZE: Bug = Bug::of(PLANTED, 2);
/// `e1000e-loopback-bypass`, in loopback delivery.
#[cfg(feature = "planted-bugs")]
const LOOPBACK_BYPASS: Bug = Bug::of(PLANTED, 3);
