//! Intel 82576 gigabit Ethernet controller, physical function (QEMU `igb`, PCI 8086:10C9),
//! written from the facts in `shared/facts/devices.md` §1 (§1.11 for where it differs from the
//! 82574L). What is the same hardware as the 82574L — register file machinery, EEPROM/EERD,
//! PHY/MDIC, receive filters and MTA hash, checksum helpers, statistics, the loopback rule,
//! the transmit quota per kick, MSI-X table state — comes from [`crate::e1000_core`], shared
//! with [`crate::e1000e`].
//!
//! # Modelled
//! - The PCI function: BAR0 128 KiB registers, BAR1 128 KiB flash window (no decode, reads 0),
//!   BAR2 32-byte I/O window (IOADDR/IODATA), BAR3 16 KiB MSI-X table and PBA as a **64-bit**
//!   BAR (facts §1.1); capabilities PM 0x40 → MSI 0x50 (64-bit, per-vector mask) → MSI-X 0x70
//!   (10 vectors, table at 0, PBA at 0x2000) → PCIe 0xA0. Bus mastering off: no DMA at all.
//! - 16 RX and 16 TX queues: per-queue registers at 0xC000/0xE000 + 0x40·n, queues 0-3 also at
//!   0x2800/0x3800 + 0x100·n; RXDCTL/TXDCTL queue enables (reset: only queue 0), SRRCTL
//!   (buffer size, descriptor type, RDMTS, DROP_EN), TDWBAL/TDWBAH head write-back.
//! - Transmit (`tx`): a TDT write kicks that queue synchronously while TCTL.EN and
//!   TXDCTLn.EN (and, in VMDq mode, the pool's VFTE bit); a TCTL write kicks every queue.
//!   Advanced context descriptors (2 slots per queue by IDX) and data descriptors, legacy
//!   descriptors, IP/TCP/UDP checksum insertion, TSO with per-segment IP length, IP ID, TCP
//!   sequence number, flags and checksum fix-ups. Every length and offset is bounded against
//!   the frame; a malformed context drops the frame and counts it ([`Igb::tx_malformed`];
//!   TSCTFC counts it but reads 0, as QEMU's). A kick yields after
//!   [`crate::e1000_core::kick`]'s quota and resumes on a timer.
//! - Receive (`rx`): legacy and advanced one-buffer descriptors (SRRCTL.DESCTYPE; the
//!   header-split types are written as one buffer), buffer size from SRRCTL or RCTL, RLPML/LPE,
//!   SECRC (or VMOLR.STRCRC), VLAN/RA (with RA2)/broadcast/MTA/promiscuous filters, VMDq pool
//!   selection and replication, RXDMT0, RXO, RNBC, RQDPC, statistics.
//! - Interrupts (`interrupts`): ICR/ICS/IMS/IMC/IAM, the extended EICR/EICS/EIMS/EIMC/
//!   EIAC/EIAM, GPIE, EITR (stored), IVAR0/IVAR_MISC routing; INTx (counted in IAC), MSI and
//!   MSI-X, delivered on the edge.
//! - The link: down after reset (STATUS.LU clear, PHYRA set) until the driver restarts
//!   autonegotiation through MDIC; 500 ms later on the virtual clock the link is up, flow
//!   control is on (CTRL.RFCE/TFCE) and LSC is raised. The PHY answers MDIC with the IGP03's
//!   registers ([`PHY_PROFILE`]); others set MDIC.ERROR.
//! - EEPROM: QEMU's 82576 image ([`EEPROM_TEMPLATE`]) through EERD, 1024 words addressable.
//! - Time sync: SYSTIM runs from the virtual clock by TIMINCA, TIMADJ moves it
//!   ([`crate::e1000_core::timesync`]); time stamp registers are stored.
//! - VMDq/virtualisation registers: VT_CTL, VMOLR, VFRE, VFTE, RA pool select; the VF
//!   mailbox (`mailbox`): VMBMEM, P2VMAILBOX (STS, ACK, PFU, RVFU), V2PMAILBOX (RSTI on PF
//!   reset, RSTD after CTRL_EXT.PFRSTD; writable from the PF with the VF's meaning, as QEMU
//!   leaves it), MBVFICR, MBVFIMR, VFLRE.
//! - MAC loopback (RCTL.LBM = 01) and PHY loopback (BMCR bit 14) deliver transmitted frames to
//!   the receive path inside the same device call.
//!
//! # Not modelled, and why
//! - **VF devices** (82576 VF, 8086:10CA) and therefore the SR-IOV capability: a VF is a
//!   second PCI function with its own BARs that a machine profile would have to create when
//!   the guest sets NumVFs; the harness has no hot-added functions, and the SR-IOV capability
//!   is an extended capability (0x160) that configuration mechanism #1 cannot reach anyway.
//!   The mailbox registers are real state, but no VF driver answers. The VF register window
//!   QEMU leaves in BAR0 (0x10000: each VF's interrupt registers and IVARs, PVTCTRL.RST) acts
//!   on the PF's state as QEMU's does (`vf`).
//! - RSS (frames go to queue 0 outside VMDq), DCA, interrupt moderation delays (EITR is
//!   stored; causes are delivered at once), time stamping of frames, flow control frames,
//!   VM-to-VM switching (DTXSWC stored), per-queue statistics except RQDPC, receive checksum
//!   verification (the advanced write-back reports the packet type only), SCTP CRC offload.
//!
//! # Datasheet vs QEMU
//! Register by register the model answers as QEMU 10's igb does: reset values, which registers
//! read and write and with which masks, aliases, clear-on-read rules (probed through qtest; see
//! `docs/differential.md`). Kept from the datasheet where no driver depends on QEMU's way
//! (`qemu-differences.txt` beside this file lists what a diff against QEMU shows):
//! - MSI-X: the facts give QEMU's 10 vectors in the capability and table; EICR/EITR keep the
//!   datasheet's 25 vector bits, and a cause routed to a vector past the table sets its EICR
//!   bit without a message.
//! - Ring lengths are masked with 0xFFFF0, bases with ~0x1F, heads and tails with 0xFFFF (QEMU).
//! - Legacy TX descriptors are handled (datasheet); QEMU ignores them.
//! - The TX checksum keeps the driver's pseudo-header seed in the L4 field (datasheet); for TSO
//!   the segment's L4 length is added to it.
//! - The advanced RX write-back writes the descriptor with DD clear, then the status dword
//!   with DD (QEMU's ordering guarantee, facts §1.11).
//! - Without SECRC the FCS is appended (real CRC-32) after the data when it fits, as e1000e.
//! - Receive does not wait for the link (MAC and PHY loopback work before autonegotiation);
//!   QEMU drops frames until STATUS.LU. A TCTL write kicks every queue; QEMU waits for TDT.
//!
//! QEMU's way, where the datasheet differs or is silent:
//! - ICR read clears when GPIE.NSICR is set, IMS is 0, INT_ASSERTED is set, or MSI-X is off;
//!   then GPIE.NSICR (or an asserted interrupt with IMS set) takes the IAM bits from IMS.
//!   EICR is read-to-clear and write-1-to-clear.
//! - Outside MSI-X mode INT_ASSERTED follows ICR, and INTx rises when an ICR & IMS cause
//!   becomes pending and falls when none is; in MSI-X mode INTx is never driven.
//! - EIAC only takes bits in MSI-X mode and only accumulates; EIAM accumulates the
//!   complement of what is written and auto-masks nothing.
//! - STATUS reports GIO master enable unless CTRL disables it (not LRST); a PHY reset through
//!   BMCR resets nothing; a software reset (CTRL.RST) keeps RXPBS, TXPBS and EITR.
//!
//! # Network backend and event payload
//! Frames sent to the wire (not looped back) are recorded, the last [`SENT_FRAMES_KEPT`]:
//! [`Igb::sent_frames`]. `Device::event` takes one Ethernet frame, destination MAC first,
//! without FCS, cut at [`MAX_FRAME`] bytes (empty does nothing), as e1000e.

mod interrupts;
mod mailbox;
pub mod regs;
mod rx;
#[cfg(test)]
mod tests;
mod tx;
mod vf;

use crate::e1000_core::irq::{Irq, IrqChip, IrqLayout};
use crate::e1000_core::kick::TxKick;
use crate::e1000_core::nic::Nic;
use crate::e1000_core::pcap::Pcap;
use crate::e1000_core::phy::Phy;
use crate::e1000_core::regfile::RegFile;
use crate::e1000_core::timesync::{self, TimeSync};
use crate::e1000_core::{eeprom, function};
use harness::access::AccessSize;
use harness::device::{Context, Device, RegionId, RegionSpec, TimerId};
use harness::pci::{self, PciConfig};
pub use regs::*;
use std::collections::VecDeque;

use crate::e1000_core::Chip;
pub use crate::e1000_core::function::{
    FLASH_REGION, IO_REGION, IRQ_PIN, MMIO_REGION, MMIO_SIZE, MSIX_PBA_OFFSET, MSIX_REGION,
    MSIX_SIZE,
};
pub use crate::e1000_core::{DEFAULT_MAC, MAX_FRAME, SENT_FRAMES_KEPT};
use crate::e1000_core::{TIMER_AUTONEG, TIMER_TX_RESUME};

// PCI capability offsets (facts §1.1, igb).
const CAP_PM: u8 = 0x40;
const CAP_MSI: u8 = 0x50;
const CAP_MSIX: u8 = 0x70;
const CAP_PCIE: u8 = 0xA0;
/// MSI-X vectors in the capability and table (QEMU's 10, facts §1.1).
pub const MSIX_VECTORS: usize = 10;

/// The interrupt layout: MSI with a 64-bit address and per-vector masking (QEMU's
/// `msi_init(.., 64-bit, per-vector mask)` for the 82576).
#[derive(Clone, Debug, PartialEq, Eq)]
struct IgbIrq;

impl IrqChip for IgbIrq {
    const LAYOUT: IrqLayout = IrqLayout {
        chip: Chip::Igb,
        pin: IRQ_PIN,
        cap_msi: CAP_MSI,
        cap_msix: CAP_MSIX,
        msi_vector_mask: true,
        pba_offset: MSIX_PBA_OFFSET,
    };
}

/// The igb (82576 PF) device model.
#[derive(Debug, PartialEq, Eq)]
pub struct Igb {
    pci: PciConfig,
    regs: RegFile,
    eeprom: [u16; EEPROM_TEMPLATE.len()],
    phy: Phy,
    ioaddr: u32,
    /// INTx, MSI and the MSI-X table.
    irq: Irq<IgbIrq, MSIX_VECTORS>,
    /// The time sync clock.
    timesync: TimeSync,
    /// Packet assembly per transmit queue.
    tx: Box<[tx::TxQueue; QUEUES]>,
    tx_kick: TxKick,
    /// Queues waiting for [`TIMER_TX_RESUME`].
    tx_resume: u16,
    sent: VecDeque<Vec<u8>>,
    tx_malformed: u64,
    /// The backend's capture file (kept across resets).
    pcap: Option<Pcap>,
    /// Where receive builds the frame it stores; empty between calls.
    rx_scratch: Vec<u8>,
}

harness::clone_by_field!(Igb {
    pci,
    regs,
    eeprom,
    phy,
    ioaddr,
    irq,
    timesync,
    tx,
    tx_kick,
    tx_resume,
    sent,
    tx_malformed,
    pcap,
    rx_scratch,
});

impl Default for Igb {
    fn default() -> Self {
        Self::new()
    }
}

impl Igb {
    /// A powered-on 82576 with QEMU's default MAC. The link is down until the driver restarts
    /// autonegotiation (QEMU's power-on state as the driver sees it).
    pub fn new() -> Self {
        Self::with_regs(reset_regs())
    }

    /// A powered-on device around a register file (returned to its reset contents here), so a
    /// reset keeps the allocation.
    fn with_regs(regs: RegFile) -> Self {
        let mut dev = Self {
            pci: pci_config(),
            regs,
            eeprom: eeprom::image(&EEPROM_TEMPLATE, DEFAULT_MAC, DEVICE_ID),
            phy: Phy::new(&PHY_PROFILE),
            ioaddr: 0,
            irq: Irq::new(),
            timesync: TimeSync::default(),
            tx: Box::default(),
            tx_kick: TxKick::default(),
            tx_resume: 0,
            sent: VecDeque::new(),
            tx_malformed: 0,
            pcap: None,
            rx_scratch: Vec::new(),
        };
        dev.reset_mac(false);
        dev
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

    /// The EEPROM image (the words past it, up to [`EEPROM_SIZE`], read 0).
    pub fn eeprom(&self) -> &[u16] {
        &self.eeprom
    }

    /// MAC reset: registers to their reset values (a software reset, CTRL.RST, keeps the
    /// packet buffer sizes and EITR), MAC address from the EEPROM, PHY reset, link down,
    /// transmit state dropped, every VF told the PF reset (RSTI). PCI configuration, EEPROM,
    /// MSI-X table, the INTx level and the backend are kept.
    fn reset_mac(&mut self, software: bool) {
        let kept = software.then(|| {
            let eitr: [u32; EITR_COUNT as usize] =
                std::array::from_fn(|i| self.reg(EITR + 4 * i as u64));
            (self.reg(RXPBS), self.reg(TXPBS), eitr)
        });
        self.regs.reset();
        if let Some((rxpbs, txpbs, eitr)) = kept {
            self.regs.set(RXPBS, rxpbs);
            self.regs.set(TXPBS, txpbs);
            for (i, value) in eitr.into_iter().enumerate() {
                self.regs.set(EITR + 4 * i as u64, value);
            }
        }
        let mac = eeprom::mac(&self.eeprom);
        self.regs
            .set(RA, u32::from_le_bytes([mac[0], mac[1], mac[2], mac[3]]));
        self.regs.set(
            RA + 4,
            u32::from(u16::from_le_bytes([mac[4], mac[5]])) | RAH_AV,
        );
        self.phy = Phy::new(&PHY_PROFILE);
        *self.tx = Default::default();
        self.tx_resume = 0;
    }

    fn bus_master(&self) -> bool {
        self.pci.bus_master()
    }

    /// VMDq mode (MRQC = 011): pools select queues and gate transmit and receive.
    fn vmdq(&self) -> bool {
        self.reg(MRQC) & MRQC_MODE_MASK == MRQC_MODE_VMDQ
    }

    // ---- register file -------------------------------------------------------------------

    fn mmio_read(&mut self, ctx: &mut dyn Context, offset: u64) -> u32 {
        let offset = unalias(offset & !3);
        let value = match offset {
            STATUS => self.read_status(),
            ICR => self.read_icr(ctx),
            IMC => self.reg(IMS),
            EICR => {
                let v = self.reg(EICR);
                self.set_reg(EICR, 0);
                v
            }
            SWSM => {
                let v = self.reg(SWSM);
                self.set_reg(SWSM, v | SWSM_SMBI);
                v
            }
            SYSTIML => self.timesync.read_systiml(&mut self.regs, ctx.now()),
            TXSTMPH => timesync::read_releasing(&mut self.regs, TXSTMPH, TSYNCTXCTL),
            RXSATRH => timesync::read_releasing(&mut self.regs, RXSATRH, TSYNCRXCTL),
            CTRL | EECD | EERD | CTRL_EXT | MDIC | IMS | EIMS | EIAC | EIAM | GCR | PBACLR => {
                self.reg(offset)
            }
            MBVFICR | VFLRE => self.reg(offset),
            _ if (EITR..EITR + 4 * EITR_COUNT).contains(&offset) => self.reg(offset),
            STATS_START..=HTCBDPC => match stat_read(offset) {
                StatRead::Plain => self.reg(offset),
                StatRead::Clear | StatRead::ClearPair => self.regs.read_stat(offset),
                StatRead::Absent => 0,
            },
            _ if mailbox::is_p2v(offset) => self.reg(offset),
            _ if mailbox::is_v2p(offset) => self.read_v2p(offset),
            vf::VF_REGS.. => self.read_vf(offset),
            _ => match queue_reg(offset) {
                Some((is_tx, _, reg)) if queue_reg_exists(is_tx, reg) => {
                    if reg == Q_RQDPC && !is_tx {
                        self.regs.read_stat(offset)
                    } else {
                        self.reg(offset)
                    }
                }
                Some(_) => 0,
                None if storage_mask(offset).is_some() => self.reg(offset),
                None => 0,
            },
        };
        tracing::trace!(target: "igb_mmio_read", "offset {offset:#x} value {value:#x}");
        value
    }

    fn mmio_write(&mut self, ctx: &mut dyn Context, offset: u64, value: u32) {
        let offset = unalias(offset & !3);
        tracing::trace!(target: "igb_mmio_write", "offset {offset:#x} value {value:#x}");
        if let Some((is_tx, n, reg)) = queue_reg(offset) {
            if queue_reg_exists(is_tx, reg) {
                self.write_queue_reg(ctx, is_tx, n, reg, value);
            }
            return;
        }
        match offset {
            CTRL | CTRL_DUP => self.write_ctrl(ctx, value),
            STATUS => {
                if value & STATUS_PHYRA == 0 {
                    let v = self.reg(STATUS) & !STATUS_PHYRA;
                    self.set_reg(STATUS, v);
                }
            }
            EECD => self.regs.set_masked(EECD, value, !EECD_RO),
            EERD => {
                let v = eeprom::eerd(&self.eeprom, EEPROM_SIZE, value);
                self.set_reg(EERD, v);
            }
            CTRL_EXT => self.write_ctrl_ext(value),
            MDIC => self.write_mdic(ctx, value),
            ICR => self.write_icr(ctx, value),
            ICS => self.raise(ctx, ICR, value),
            IMS => self.raise(ctx, IMS, value & IMS_VALID),
            IMC => self.lower(ctx, IMS, value),
            EICR => self.lower(ctx, EICR, value & self.eicr_mask()),
            EICS => self.raise(ctx, EICR, value & self.eicr_mask()),
            EIMS => self.raise(ctx, EIMS, value & self.eicr_mask()),
            EIMC => self.lower(ctx, EIMS, value & self.eicr_mask()),
            EIAC => self.write_eiac(value),
            EIAM => self.write_eiam(value),
            _ if (EITR..EITR + 4 * EITR_COUNT).contains(&offset) => {
                // The interval is kept as written (without the counter-ignore bit); causes
                // are delivered at once.
                self.set_reg(offset, value & !EITR_CNT_IGNR);
            }
            GCR => self.regs.set_masked(GCR, value, !GCR_RO),
            PBACLR => {
                self.set_reg(PBACLR, value & PBACLR_VALID);
                if self.msix_enabled() {
                    self.irq.clear_pending(value & PBACLR_VALID);
                }
            }
            TIMINCA => self
                .timesync
                .write_timinca(&mut self.regs, ctx.now(), value),
            TIMADJH => self.timesync.write_timadjh(&mut self.regs, value),
            TCTL => {
                self.set_reg(TCTL, value);
                self.kick_all(ctx);
            }
            MBVFICR | VFLRE => {
                let v = self.reg(offset) & !value;
                self.set_reg(offset, v);
            }
            _ if (UTA..UTA + 4 * 128).contains(&offset) => self.set_reg(offset, value),
            _ if mailbox::is_p2v(offset) => self.write_p2v(ctx, offset, value),
            _ if mailbox::is_v2p(offset) => self.write_v2p(ctx, offset, value),
            vf::VF_REGS.. => self.write_vf(ctx, offset, value),
            _ => {
                if let Some(mask) = storage_mask(offset) {
                    self.regs.set_masked(offset, value, mask);
                }
            }
        }
    }

    fn write_queue_reg(
        &mut self,
        ctx: &mut dyn Context,
        is_tx: bool,
        n: usize,
        reg: u64,
        value: u32,
    ) {
        let base = if is_tx { txq(n, 0) } else { rxq(n, 0) };
        let value = match reg {
            Q_BAL => value & IGB_RING_BASE_MASK,
            Q_LEN => value & IGB_RING_LEN_MASK,
            Q_HEAD | Q_TAIL => value & 0xFFFF,
            // Read-only drop counters, except queue 0's (QEMU).
            Q_RQDPC if n != 0 => return,
            _ => value,
        };
        self.set_reg(base + reg, value);
        if is_tx && reg == Q_TAIL {
            self.kick(ctx, n);
        }
    }

    /// STATUS (QEMU's rule): the stored bits (LU, PHYRA, bit 31) plus full duplex (unless
    /// CTRL forces half), the speed (CTRL.SPD_SEL when forced or bypassed, else 1000) and GIO
    /// master enable (unless CTRL disables the master).
    fn read_status(&self) -> u32 {
        let ctrl = self.reg(CTRL);
        let mut status = self.reg(STATUS);
        if ctrl & CTRL_FRCDPX == 0 || ctrl & CTRL_FD != 0 {
            status |= STATUS_FD;
        }
        status |= if ctrl & CTRL_FRCSPD != 0 || self.reg(CTRL_EXT) & CTRL_EXT_SPD_BYPS != 0 {
            match (ctrl & CTRL_SPD_SEL) >> CTRL_SPD_SHIFT {
                0 => 0,
                1 => STATUS_SPEED_100,
                _ => STATUS_SPEED_1000,
            }
        } else {
            STATUS_SPEED_1000
        };
        if ctrl & CTRL_GIO_MASTER_DISABLE == 0 {
            status |= STATUS_GIO_MASTER_EN;
        }
        status
    }

    fn write_ctrl(&mut self, ctx: &mut dyn Context, value: u32) {
        self.set_reg(CTRL, value & !CTRL_RST);
        if value & CTRL_RST != 0 {
            tracing::trace!(target: "igb_core_ctrl_sw_reset", "");
            ctx.timer_cancel(TIMER_TX_RESUME);
            ctx.timer_cancel(TIMER_AUTONEG);
            self.reset_mac(true);
        }
        if value & CTRL_PHY_RST != 0 {
            tracing::trace!(target: "igb_core_ctrl_phy_reset", "");
            let v = self.reg(STATUS) | STATUS_PHYRA;
            self.set_reg(STATUS, v);
        }
    }

    fn write_ctrl_ext(&mut self, value: u32) {
        let value = value & !(CTRL_EXT_ASDCHK | CTRL_EXT_EE_RST);
        self.set_reg(CTRL_EXT, value);
        if value & CTRL_EXT_PFRSTD != 0 {
            self.pf_reset_done();
        }
    }
}

impl Nic for Igb {
    const CHIP: Chip = Chip::Igb;

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
        let status = self.reg(STATUS);
        let v = if up {
            status | STATUS_LU
        } else {
            status & !STATUS_LU
        };
        self.set_reg(STATUS, v);
    }

    fn raise_icr(&mut self, ctx: &mut dyn Context, causes: u32) {
        self.raise(ctx, ICR, causes);
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

/// The register file at reset (the MAC address aside), kept as what
/// [`RegFile::reset`] returns to: built once per device, not on every reset.
fn reset_regs() -> RegFile {
    let mut regs = RegFile::new(REG_FILE_END);
    for &(offset, value) in RESET_VALUES {
        regs.set(offset, value);
    }
    for n in 0..QUEUES {
        let enable = if n == 0 { DCTL_QUEUE_ENABLE } else { 0 };
        regs.set(rxq(n, Q_DCTL), RXDCTL_RESET | enable);
        regs.set(txq(n, Q_DCTL), enable);
        regs.set(txq(n, Q_TXCTL), TXCTL_RESET);
    }
    for p in 0..POOLS as u64 {
        regs.set(VMOLR + 4 * p, VMOLR_STRCRC | 0x2600);
        regs.set(V2PMAILBOX + 4 * p, V2P_RSTI);
    }
    regs.keep_as_reset();
    regs
}

fn pci_config() -> PciConfig {
    let base = PciConfig::new(VENDOR_ID, DEVICE_ID, CLASS_ETHERNET, REVISION_ID, 0)
        .with_subsystem(SUBSYSTEM_VENDOR_ID, SUBSYSTEM_ID)
        .with_interrupt_pin(1);
    let mut cfg = function::with_bars(base, true);
    // Capability chain PM (0x40) → MSI (0x50) → MSI-X (0x70) → PCIe (0xA0), facts §1.1.
    function::power_management(&mut cfg, CAP_PM);
    function::msi(&mut cfg, CAP_MSI, IgbIrq::LAYOUT.msi_vector_mask);
    function::msix(&mut cfg, CAP_MSIX, MSIX_VECTORS);
    cfg.add_capability_at(CAP_PCIE, pci::CAP_ID_EXP, 0x3C);
    // Version 2, endpoint; 128-byte payload, extended tags, role-based errors, FLR (not
    // modelled: device control reads 0 and keeps nothing, as QEMU's).
    cfg.set_u16(CAP_PCIE + 2, 0x0002);
    cfg.set_u32(CAP_PCIE + 4, 0x1000_8020);
    // 2.5 GT/s, x1, L0s; the link trained at 2.5 GT/s x1.
    cfg.set_u32(CAP_PCIE + 0xC, 0x0000_0411);
    cfg.set_u16(CAP_PCIE + 0x12, 0x0011);
    // Extended format field and end-end TLP prefixes supported; prefix blocking writable.
    cfg.set_u32(CAP_PCIE + 0x24, 0x0030_0000);
    cfg.set_wmask_u16(CAP_PCIE + 0x28, 0x8000);
    cfg
}

impl Device for Igb {
    fn name(&self) -> &'static str {
        "igb"
    }

    fn regions(&self) -> Vec<RegionSpec> {
        function::regions(["igb-mmio", "igb-flash", "igb-io", "igb-msix"])
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
        let regs = std::mem::replace(&mut self.regs, RegFile::new(0));
        let pcap = self.pcap.take();
        *self = Self::with_regs(regs);
        self.pcap = pcap;
    }
}
