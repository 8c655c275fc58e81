//! 82576 register offsets, bits and reset values (facts §1.11; datasheet names). The registers
//! at the same address as on the 82574L come from [`crate::e1000_core::regs`].

pub use crate::e1000_core::regs::*;

/// 82576 (physical function).
pub const DEVICE_ID: u16 = 0x10C9;
/// End of the stored register file (everything above reads 0).
pub const REG_FILE_END: u64 = 0x10000;

/// Receive and transmit queues.
pub const QUEUES: usize = 16;
/// VMDq pools (and VFs of the mailbox).
pub const POOLS: usize = 8;

/// RX queue `n`'s registers start here (+0x40 per queue).
pub const RXQ_BASE: u64 = 0x0C000;
/// TX queue `n`'s registers start here (+0x40 per queue).
pub const TXQ_BASE: u64 = 0x0E000;
/// Stride of the per-queue register blocks.
pub const QUEUE_STRIDE: u64 = 0x40;
/// Queue register: descriptor base low.
pub const Q_BAL: u64 = 0x00;
/// Queue register: descriptor base high.
pub const Q_BAH: u64 = 0x04;
/// Queue register: ring length in bytes.
pub const Q_LEN: u64 = 0x08;
/// RX queue register: split and replication receive control.
pub const Q_SRRCTL: u64 = 0x0C;
/// Queue register: head.
pub const Q_HEAD: u64 = 0x10;
/// Queue register: DCA control.
pub const Q_DCA: u64 = 0x14;
/// Queue register: tail.
pub const Q_TAIL: u64 = 0x18;
/// Queue register: RXDCTL/TXDCTL.
pub const Q_DCTL: u64 = 0x28;
/// RX queue register: drop packet count.
pub const Q_RQDPC: u64 = 0x30;
/// TX queue register: head write-back address low (bit 0 enables).
pub const Q_TDWBAL: u64 = 0x38;
/// TX queue register: head write-back address high.
pub const Q_TDWBAH: u64 = 0x3C;

/// RX queue `n`'s register `reg`.
pub const fn rxq(n: usize, reg: u64) -> u64 {
    RXQ_BASE + QUEUE_STRIDE * n as u64 + reg
}

/// TX queue `n`'s register `reg`.
pub const fn txq(n: usize, reg: u64) -> u64 {
    TXQ_BASE + QUEUE_STRIDE * n as u64 + reg
}

/// RXDCTL/TXDCTL: queue enable.
pub const DCTL_QUEUE_ENABLE: u32 = 1 << 25;
/// TDWBAL: head write-back enable.
pub const TDWBAL_ENABLE: u32 = 1 << 0;

/// SRRCTL: packet buffer size (1 KiB units; 0 = RCTL.BSIZE).
pub const SRRCTL_BSIZEPACKET_MASK: u32 = 0x7F;
/// SRRCTL: descriptor minimum threshold shift (units of 16 descriptors).
pub const SRRCTL_RDMTS_SHIFT: u32 = 20;
/// SRRCTL: descriptor type shift.
pub const SRRCTL_DESCTYPE_SHIFT: u32 = 25;
/// SRRCTL descriptor type: legacy.
pub const DESCTYPE_LEGACY: u32 = 0;
/// SRRCTL descriptor type: advanced, one buffer.
pub const DESCTYPE_ADV_ONEBUF: u32 = 1;
/// SRRCTL: drop when no descriptors.
pub const SRRCTL_DROP_EN: u32 = 1 << 31;

/// Long Packet Maximum Length.
pub const RLPML: u64 = 0x05004;
/// VMDq control.
pub const VT_CTL: u64 = 0x0581C;
/// VT_CTL: default pool shift.
pub const VT_CTL_DEF_POOL_SHIFT: u32 = 7;
/// VT_CTL: disable the default pool.
pub const VT_CTL_DIS_DEF_POOL: u32 = 1 << 29;
/// VM offload control, pool 0 (+4 per pool).
pub const VMOLR: u64 = 0x05AD0;
/// VMOLR: long packet limit.
pub const VMOLR_RLPML_MASK: u32 = 0x3FFF;
/// VMOLR: long packets enabled.
pub const VMOLR_LPE: u32 = 1 << 16;
/// VMOLR: accept multicast hash matches.
pub const VMOLR_ROMPE: u32 = 1 << 25;
/// VMOLR: accept broadcast.
pub const VMOLR_BAM: u32 = 1 << 27;
/// VMOLR: multicast promiscuous.
pub const VMOLR_MPME: u32 = 1 << 28;
/// VMOLR: strip VLAN tag.
pub const VMOLR_STRVLAN: u32 = 1 << 30;
/// VMOLR: strip CRC.
pub const VMOLR_STRCRC: u32 = 1 << 31;
/// MRQC: multiple receive queues mode field.
pub const MRQC_MODE_MASK: u32 = 7;
/// MRQC mode: VMDq.
pub const MRQC_MODE_VMDQ: u32 = 3;
/// Receive addresses 16-23.
pub const RA2: u64 = 0x054E0;
/// Entries of RA2.
pub const RA2_ENTRIES: u64 = 8;
/// RAH: pool select shift (bits 25:18).
pub const RAH_POOL_SHIFT: u32 = 18;
/// Unicast table array (128 dwords).
pub const UTA: u64 = 0x0A000;
/// VLAN VM filters (32 dwords).
pub const VLVF: u64 = 0x05D00;
/// VM VLAN insert (8 dwords).
pub const VMVIR: u64 = 0x03700;
/// DMA TX switch control.
pub const DTXSWC: u64 = 0x03500;
/// Timesync registers (stored only).
pub const TIMESYNC_START: u64 = 0x0B600;
/// Last timesync register.
pub const TIMESYNC_END: u64 = 0x0B638;

/// Mailbox memory, VF 0 (16 dwords, +0x40 per VF).
pub const VMBMEM: u64 = 0x00800;
/// PF-to-VF mailbox control, VF 0 (+4 per VF).
pub const P2VMAILBOX: u64 = 0x00C00;
/// The PF's copy of the VF-to-PF mailbox control, VF 0 (+4 per VF).
pub const V2PMAILBOX: u64 = 0x00C40;
/// Mailbox VF interrupt cause (VFREQ 7:0, VFACK 23:16; W1C).
pub const MBVFICR: u64 = 0x00C80;
/// Mailbox VF interrupt mask.
pub const MBVFIMR: u64 = 0x00C84;
/// VF level reset events (W1C).
pub const VFLRE: u64 = 0x00C88;
/// VF receive enables.
pub const VFRE: u64 = 0x00C8C;
/// VF transmit enables.
pub const VFTE: u64 = 0x00C90;
/// P2VMAILBOX: status/command to the VF.
pub const P2V_STS: u32 = 0x01;
/// P2VMAILBOX: acknowledge the VF's message.
pub const P2V_ACK: u32 = 0x02;
/// P2VMAILBOX: the VF owns the buffer (read-only here).
pub const P2V_VFU: u32 = 0x04;
/// P2VMAILBOX: the PF owns the buffer.
pub const P2V_PFU: u32 = 0x08;
/// P2VMAILBOX: reset the VF's ownership.
pub const P2V_RVFU: u32 = 0x10;
/// V2PMAILBOX: the VF owns the buffer.
pub const V2P_VFU: u32 = 0x04;
/// V2PMAILBOX: the PF owns the buffer.
pub const V2P_PFU: u32 = 0x08;
/// V2PMAILBOX: the PF sent a message.
pub const V2P_PFSTS: u32 = 0x10;
/// V2PMAILBOX: the PF acknowledged.
pub const V2P_PFACK: u32 = 0x20;
/// V2PMAILBOX: PF reset in progress.
pub const V2P_RSTI: u32 = 0x40;
/// V2PMAILBOX: PF reset done.
pub const V2P_RSTD: u32 = 0x80;
/// CTRL_EXT: PF reset done (moves every VF from RSTI to RSTD).
pub const CTRL_EXT_PFRSTD: u32 = 1 << 14;

/// General purpose interrupt enable.
pub const GPIE: u64 = 0x01514;
/// GPIE: ICR is not cleared on read.
pub const GPIE_NSICR: u32 = 1 << 0;
/// GPIE: MSI-X mode (EICR bits are vectors).
pub const GPIE_MSIX_MODE: u32 = 1 << 4;
/// GPIE: extended interrupt auto-mask enable.
pub const GPIE_EIAME: u32 = 1 << 30;
/// Extended interrupt cause set.
pub const EICS: u64 = 0x01520;
/// Extended interrupt mask set/read.
pub const EIMS: u64 = 0x01524;
/// Extended interrupt mask clear.
pub const EIMC: u64 = 0x01528;
/// Extended interrupt auto clear.
pub const EIAC: u64 = 0x0152C;
/// Extended interrupt auto mask.
pub const EIAM: u64 = 0x01530;
/// Extended interrupt cause read.
pub const EICR: u64 = 0x01580;
/// Extended interrupt throttle, vector 0 (+4 per vector).
pub const EITR: u64 = 0x01680;
/// EITR registers.
pub const EITR_COUNT: u64 = 25;
/// Interrupt vector allocation for the queues (8 dwords of byte entries).
pub const IVAR0: u64 = 0x01700;
/// Interrupt vector allocation for the other causes.
pub const IVAR_MISC: u64 = 0x01740;
/// IVAR entry: valid.
pub const IVAR_VALID: u8 = 0x80;
/// EICR: other causes (non-MSI-X mode).
pub const EICR_OTHER: u32 = 1 << 31;
/// EICR bits in MSI-X mode (25 vectors).
pub const EICR_MSIX_MASK: u32 = 0x01FF_FFFF;
/// EICR bits in non-MSI-X mode (RxTxQ 15:0, TCP timer, OTHER).
pub const EICR_LEGACY_MASK: u32 = 0x4000_FFFF;

/// ICR: receive descriptor written back (the 82574's RXT0).
pub const ICR_RXDW: u32 = 0x0000_0080;
/// ICR: VF mailbox.
pub const ICR_VMMB: u32 = 0x0000_0100;
/// ICR: time sync.
pub const ICR_TS: u32 = 0x0008_0000;
/// ICR: device reset asserted.
pub const ICR_DRSTA: u32 = 0x4000_0000;
/// IMS writable bits.
pub const IMS_VALID: u32 = ICR_TXDW
    | ICR_LSC
    | ICR_RXDMT0
    | ICR_RXO
    | ICR_RXDW
    | ICR_VMMB
    | ICR_MDAC
    | 0x0000_7800
    | ICR_TS
    | ICR_DRSTA;

/// TCTL reset value (PSP, CT 0xF, COLD 0x40, reserved bits as QEMU).
pub const TCTL_RESET: u32 = 0xA404_00F8;
/// PHY ID 1 (IGP03E1000 0x02A80391).
pub const PHY_ID1_VALUE: u16 = 0x02A8;
/// PHY ID 2.
pub const PHY_ID2_VALUE: u16 = 0x0391;
/// TDLEN/RDLEN writable bits (QEMU igb).
pub const IGB_RING_LEN_MASK: u32 = 0x000F_FFF0;
/// TDBAL/RDBAL writable bits.
pub const IGB_RING_BASE_MASK: u32 = !0x1F;

/// Reset values other than 0 outside the queue blocks (facts §1.3, §1.11; [?] where the igb
/// value is not known, the 82574 value).
pub const RESET_VALUES: &[(u64, u32)] = &[
    (CTRL, 0x0014_0241),
    (EECD, EECD_PRES | EECD_AUTO_RD),
    (EERD, EERD_DONE),
    (VET, 0x8100_8100),
    (TCTL, TCTL_RESET),
    (TIPG, 0x0060_2008),
    (RXCSUM, 0x0000_0300),
    (RLPML, 0x0000_2600),
    (GCR, 0x0680_0200),
    (MANC, 0x1000_0000),
    (LEDCTL, 0x0006_8302),
    (SWSM, SWSM_SMBI),
    (MBVFIMR, 0xFF),
    (VFTE, 0xFF),
];

/// The 82574-style addresses of queues 0-3 (0x2800 + 0x100n RX, 0x3800 + 0x100n TX), mapped to
/// the queue blocks.
pub fn unalias(offset: u64) -> u64 {
    let alias = |base: u64, target: u64| {
        let rel = offset.checked_sub(base)?;
        (rel < 0x400 && rel % 0x100 < QUEUE_STRIDE)
            .then(|| target + QUEUE_STRIDE * (rel / 0x100) + rel % 0x100)
    };
    alias(RDBAL, RXQ_BASE)
        .or_else(|| alias(TDBAL, TXQ_BASE))
        .unwrap_or(offset)
}

/// A queue register: (transmit?, queue, register within the block).
pub fn queue_reg(offset: u64) -> Option<(bool, usize, u64)> {
    let (tx, rel) = if (RXQ_BASE..RXQ_BASE + QUEUE_STRIDE * QUEUES as u64).contains(&offset) {
        (false, offset - RXQ_BASE)
    } else if (TXQ_BASE..TXQ_BASE + QUEUE_STRIDE * QUEUES as u64).contains(&offset) {
        (true, offset - TXQ_BASE)
    } else {
        return None;
    };
    Some((tx, (rel / QUEUE_STRIDE) as usize, rel % QUEUE_STRIDE))
}

/// Writable bits of a register that is plain storage, `None` for offsets with no register.
pub fn storage_mask(offset: u64) -> Option<u32> {
    let in_range = |base: u64, dwords: u64| (base..base + 4 * dwords).contains(&offset);
    let mask = match offset {
        EECD | EERD | CTRL_EXT | FLA | MDIC | FCAL | ICR | IMS | RCTL | TCTL => u32::MAX,
        FCAH | FCT | FCTTV => 0xFFFF,
        VET | ITR | IAM | TCTL_EXT | TIPG | LEDCTL | PBA | FCRTL | FCRTH => u32::MAX,
        RXCSUM | RFCTL | MRQC | VT_CTL | WUC | WUFC | WUS | MANC | GCR | FACTPS | FWSM => u32::MAX,
        RLPML => 0x3FFF,
        SWSM => 0x7,
        GPIE | EIAC | EIAM | EIMS | EICR | IVAR_MISC | DTXSWC | VFRE | VFTE => u32::MAX,
        MBVFICR | VFLRE => u32::MAX,
        MBVFIMR => 0xFF,
        _ if in_range(EITR, EITR_COUNT) => u32::MAX,
        _ if in_range(IVAR0, 8) => u32::MAX,
        _ if in_range(VMBMEM, 16 * POOLS as u64) => u32::MAX,
        _ if in_range(P2VMAILBOX, POOLS as u64) => u32::MAX,
        _ if in_range(V2PMAILBOX, POOLS as u64) => u32::MAX,
        _ if in_range(VMOLR, POOLS as u64) => u32::MAX,
        _ if in_range(VMVIR, POOLS as u64) => u32::MAX,
        _ if in_range(VLVF, 32) => u32::MAX,
        _ if in_range(UTA, 128) => u32::MAX,
        _ if in_range(MTA, 128) => u32::MAX,
        _ if in_range(VFTA, 128) => u32::MAX,
        _ if in_range(RETA, 32) => u32::MAX,
        _ if in_range(RSSRK, 10) => u32::MAX,
        _ if in_range(RA, 2 * RA_ENTRIES) || in_range(RA2, 2 * RA2_ENTRIES) => {
            if offset % 8 == 0 {
                u32::MAX
            } else {
                RAH_AV | 0x03FF_FFFF
            }
        }
        TIMESYNC_START..=TIMESYNC_END if offset % 4 == 0 => u32::MAX,
        _ => return None,
    };
    Some(mask)
}
