//! 82576 register offsets, bits and reset values (facts §1.11; datasheet names). The registers
//! at the same address as on the 82574L come from [`crate::e1000_core::regs`].

pub use crate::e1000_core::phy::PhyProfile;
pub use crate::e1000_core::regs::*;

/// 82576 (physical function).
pub const DEVICE_ID: u16 = 0x10C9;
/// Revision ID (QEMU's igb).
pub const REVISION_ID: u8 = 1;
/// Subsystem vendor (QEMU's default for its PCI devices: Red Hat, Inc.).
pub const SUBSYSTEM_VENDOR_ID: u16 = 0x1AF4;
/// Subsystem ID (QEMU's default).
pub const SUBSYSTEM_ID: u16 = 0x1100;
/// End of the stored register file: BAR0, the VF window at 0x10000 included.
pub const REG_FILE_END: u64 = 0x20000;

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
/// Receive addresses 16-31.
pub const RA2: u64 = 0x054E0;
/// Entries of RA2.
pub const RA2_ENTRIES: u64 = 16;
/// Entries of RA2 the receive filter looks at (QEMU: the first 8).
pub const RA2_FILTER_ENTRIES: u64 = 8;
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
/// EITR: do not reset the interval counter on this write (not stored).
pub const EITR_CNT_IGNR: u32 = 1 << 31;
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
/// IMS writable bits (QEMU: every cause the 82576 defines).
pub const IMS_VALID: u32 = 0x77D4_FBFD;

/// CTRL: link reset.
pub const CTRL_LRST: u32 = 1 << 3;
/// STATUS: 100 Mb/s.
pub const STATUS_SPEED_100: u32 = 1 << 6;

/// Flash opcode.
pub const FLOP: u64 = 0x0103C;
/// RX packet buffer size (kept across a software reset).
pub const RXPBS: u64 = 0x02404;
/// Queue drop enable.
pub const QDE: u64 = 0x02408;
/// Flow control refresh threshold.
pub const FCRTV: u64 = 0x02460;
/// TX packet buffer size (kept across a software reset).
pub const TXPBS: u64 = 0x03404;
/// DMA TX control.
pub const DTXCTL: u64 = 0x03590;
/// RA's 82542 alias (32 dwords).
pub const RA_ALIAS: u64 = 0x00040;
/// VFTA's 82542 alias (128 dwords).
pub const VFTA_ALIAS: u64 = 0x00600;
/// Replication offload control.
pub const RPLOLR: u64 = 0x05AF0;
/// Software/firmware synchronisation.
pub const SW_FW_SYNC: u64 = 0x05B5C;
/// PBACLR: valid bits.
pub const PBACLR_VALID: u32 = 0x1F;
/// EtherType queue filters (8 dwords).
pub const ETQF: u64 = 0x05CB0;
/// Time sync RX configuration.
pub const TSYNCRXCFG: u64 = 0x05F50;
/// Host TX circuit breaker dropped packets count.
pub const HTCBDPC: u64 = 0x04124;

/// TCTL reset value (PSP, CT 0xF, COLD 0x40, reserved bits as QEMU).
pub const TCTL_RESET: u32 = 0xA404_00F8;
/// TDLEN/RDLEN writable bits (QEMU igb).
pub const IGB_RING_LEN_MASK: u32 = 0x000F_FFF0;
/// TDBAL/RDBAL writable bits.
pub const IGB_RING_BASE_MASK: u32 = !0x1F;
/// TX queue register: DCA TX control.
pub const Q_TXCTL: u64 = 0x14;
/// TXCTL reset value: relaxed ordering of descriptor reads, write-back and data reads.
pub const TXCTL_RESET: u32 = 0x2A00;
/// RXDCTL reset value: WTHRESH 1 (queue 0 is also enabled).
pub const RXDCTL_RESET: u32 = 0x0001_0000;

/// The EEPROM words the EERD interface addresses (1024; words past the image read 0).
pub const EEPROM_SIZE: usize = 1024;
/// The 82576 NVM image QEMU presents, through the NC-SI configuration word 0x40 (datasheet
/// table 6-1; words 0-2, 11, 13 and the checksum 0x3F are filled in from the MAC, the device ID
/// and the sum).
pub const EEPROM_TEMPLATE: [u16; 0x41] = [
    0x0000, 0x0000, 0x0000, 0x0d34, 0xffff, 0x2010, 0xffff, 0xffff, // MAC, compat, ImRev
    0x1040, 0xffff, 0x002b, 0x0000, 0x8086, 0x10c9, 0x0000, 0x70c3, // PBA, SSID, SVID, DevID
    0x0004, 0x10c9, 0x5c00, 0x0000, 0x2880, 0x0014, 0x4a40, 0x0060, // SwPin0, EESZ, MSI-X
    0x6cfb, 0xc7b0, 0x0abe, 0x0403, 0x0783, 0x10a6, 0x0001, 0x0602, // PCIe init, LEDs
    0x0004, 0x0020, 0x0000, 0x004a, 0x2080, 0x00f5, 0x10ca, 0x0000, // FunC, IOV, VF DevID
    0x0000, 0x0000, 0x4784, 0x4602, 0x0000, 0x0000, 0x1000, 0xffff, // LEDs, watchdog, VPD
    0x0100, 0x4000, 0x131f, 0x4013, 0x0100, 0x4000, 0xffff, 0xffff, // PXE/iSCSI setup
    0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0x00e0, 0xffff, 0x0000, // alt MAC ptr, checksum
    0x0003, // NC-SI configuration
];

/// The 82576 PHY (IGP03E1000, ID 0x02A80391) as QEMU presents it: page 0 of the copper PHY
/// plus the IGP port configuration/status and power management registers.
pub static PHY_PROFILE: PhyProfile = PhyProfile {
    init: {
        let mut r = [0u16; PHY_REGS];
        r[PHY_BMCR] = 0x1140; // 1000 Mb/s, full duplex, autonegotiation enabled
        r[PHY_BMSR] = 0x794D; // link up, autonegotiation not complete yet
        r[PHY_ID1] = 0x02A8;
        r[PHY_ID2] = 0x0391;
        r[PHY_ANAR] = 0x0DE1;
        r[PHY_LPAR] = 0x07E0;
        r[6] = 0x0005; // ANER: next page able, partner autonegotiation able
        r[7] = 0x2001; // ANNP: message page
        r[PHY_1000T_CTRL] = 0x0F00;
        r[PHY_1000T_STATUS] = 0x3C00;
        r[15] = 0x3000; // extended status: 1000BASE-T half and full
        r[0x10] = 0x0120; // port configuration
        r[0x11] = 0xC000; // port status: 1000 Mb/s
        r[0x19] = 0x008D; // power management: smart speed, D3 LPLU
        r
    },
    readable: 0x020F_87FF, // 0-10, 15, 0x10-0x13, 0x19
    writable: 0x8205_0291, // 0, 4, 7, 9, 0x10, 0x12, 0x19, 0x1F (page select, not paging)
    page_select: None,
    pages: &[],
};

/// Reset values other than 0 outside the queue blocks (QEMU's, read back after reset).
pub const RESET_VALUES: &[(u64, u32)] = &[
    (CTRL, CTRL_FD | CTRL_LRST | 2 << CTRL_SPD_SHIFT | 1 << 20), // 1000 Mb/s, ADVD3WUC
    (STATUS, STATUS_PHYRA | 1 << 31),
    (EECD, 0x1110), // FWE disabled, EEPROM present, size 2
    (VET, 0x8100_8100),
    (TCTL, TCTL_RESET),
    (TCTL_EXT, 0x0001_0840),
    (TIPG, 0x0060_1008),
    (VFRE, 0xFF),
    (VFTE, 0xFF),
    (MBVFIMR, 0xFF),
    (LEDCTL, 0x0706_8302),
    (EEMNGCTL, 1 << 31),
    (RXPBS, 0x40),
    (TXPBS, 0x28),
    (DTXCTL, 0x44),
    (RXCSUM, 0x0000_0300),
    (RLPML, 0x0000_2600),
    (RPLOLR, 1 << 31),
    (GCR, 0x0685_0200),
];

/// The 82542-style addresses of queues 0-3 (0x2800 + 0x100n RX, 0x3800 + 0x100n TX) and of RA,
/// VFTA, FCRTL and the FIFO registers, mapped to the registers they name.
pub fn unalias(offset: u64) -> u64 {
    let alias = |base: u64, target: u64| {
        let rel = offset.checked_sub(base)?;
        (rel < 0x400 && rel % 0x100 < QUEUE_STRIDE)
            .then(|| target + QUEUE_STRIDE * (rel / 0x100) + rel % 0x100)
    };
    let within = |base: u64, dwords: u64, target: u64| {
        (base..base + 4 * dwords)
            .contains(&offset)
            .then(|| target + offset - base)
    };
    let fifo = match offset {
        FIFO_ALIAS => Some(RDFH),
        0x08008 => Some(RDFH + 8),
        0x08010 => Some(TDFH),
        0x08018 => Some(TDFH + 8),
        _ => None,
    };
    alias(RDBAL, RXQ_BASE)
        .or_else(|| alias(TDBAL, TXQ_BASE))
        .or_else(|| within(RA_ALIAS, 2 * RA_ENTRIES, RA))
        .or_else(|| within(VFTA_ALIAS, 128, VFTA))
        .or_else(|| within(FCRTL_ALIAS, 1, FCRTL))
        .or(fifo)
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

/// Whether a queue block register exists (reads and writes reach it): RX BAL, BAH, LEN,
/// SRRCTL, head, tail, RXDCTL, RQDPC; TX BAL, BAH, LEN, head, TXCTL, tail, TXDCTL, TDWBAL/H.
pub fn queue_reg_exists(is_tx: bool, reg: u64) -> bool {
    match reg {
        Q_BAL | Q_BAH | Q_LEN | Q_HEAD | Q_TAIL | Q_DCTL => true,
        Q_SRRCTL | Q_RQDPC => !is_tx,
        Q_TXCTL | Q_TDWBAL | Q_TDWBAH => is_tx,
        _ => false,
    }
}

/// How the statistics register at `offset` reads (QEMU's igb): the 82574L's rules plus HTCBDPC
/// (clear on read).
pub fn stat_read(offset: u64) -> StatRead {
    if offset == HTCBDPC {
        StatRead::Clear
    } else {
        crate::e1000_core::regs::stat_read(offset)
    }
}

/// Writable bits of a register that is plain storage, readable and writable (QEMU's igb),
/// `None` for any other offset. Registers with side effects are handled before this.
pub fn storage_mask(offset: u64) -> Option<u32> {
    let in_range = |base: u64, dwords: u64| (base..base + 4 * dwords).contains(&offset);
    let mask = match offset {
        FLA | FCAL | VET | IAM | RCTL | TCTL | TCTL_EXT | TIPG | LEDCTL => u32::MAX,
        FCAH | FCT | FCTTV | FCRTV => 0xFFFF,
        FCRTL => 0x8000_FFF8,
        FCRTH => 0xFFF8,
        EEMNGCTL | FLOP | GPIE | IVAR_MISC | RXPBS | QDE | TXPBS | DTXSWC | DTXCTL => u32::MAX,
        MBVFIMR | VFRE | VFTE | FCRUC => u32::MAX,
        RXCSUM | RLPML | RFCTL | WUC | WUFC | WUS | MRQC | VT_CTL | MANC | MFVAL => u32::MAX,
        IPAV | MANC2H | RPLOLR | FUNCTAG | FACTPS | SWSM | FWSM | SW_FW_SYNC => u32::MAX,
        TSYNCRXCFG => u32::MAX,
        _ if (in_range(RDFH, 9) || in_range(TDFH, 9)) && offset % 8 == 0 => 0x1FFF,
        _ if in_range(IVAR0, 8) => u32::MAX,
        _ if in_range(VMBMEM, 16 * POOLS as u64) => u32::MAX,
        _ if in_range(VMOLR, POOLS as u64) => u32::MAX,
        _ if in_range(VMVIR, POOLS as u64) => u32::MAX,
        _ if in_range(MAVTV, 4) => u32::MAX,
        _ if in_range(IP4AT, 7) || in_range(IP6AT, 12) || in_range(WUPM, 32) => u32::MAX,
        _ if in_range(GSCL_1, 8) => u32::MAX,
        _ if in_range(ETQF, 8) => u32::MAX,
        _ if in_range(VLVF, 32) => u32::MAX,
        _ if in_range(MTA, 128) => u32::MAX,
        _ if in_range(VFTA, 128) => u32::MAX,
        _ if in_range(RETA, 32) => u32::MAX,
        _ if in_range(RSSRK, 10) => u32::MAX,
        _ if in_range(RA, 2 * RA_ENTRIES) || in_range(RA2, 2 * RA2_ENTRIES) => u32::MAX,
        _ if in_range(FFMT, 255) => 0xF,
        _ if in_range(FTFT, 255) => u32::MAX,
        SYSTIMH..=RXSATRH => u32::MAX,
        _ => return None,
    };
    Some(mask)
}
