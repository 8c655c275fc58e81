//! Register offsets and bits at the same address on the 82574L and the 82576 (facts §1.3-§1.9;
//! datasheet names). Each model adds its own in its `regs` module.

/// Intel.
pub const VENDOR_ID: u16 = 0x8086;
/// Ethernet controller.
pub const CLASS_ETHERNET: u32 = 0x02_00_00;

/// Device Control.
pub const CTRL: u64 = 0x00000;
/// Device Control (alias).
pub const CTRL_DUP: u64 = 0x00004;
/// Device Status.
pub const STATUS: u64 = 0x00008;
/// EEPROM/Flash Control.
pub const EECD: u64 = 0x00010;
/// EEPROM Read.
pub const EERD: u64 = 0x00014;
/// Extended Device Control.
pub const CTRL_EXT: u64 = 0x00018;
/// Flash Access.
pub const FLA: u64 = 0x0001C;
/// MDI Control.
pub const MDIC: u64 = 0x00020;
/// Flow Control Address Low.
pub const FCAL: u64 = 0x00028;
/// Flow Control Address High.
pub const FCAH: u64 = 0x0002C;
/// Flow Control Type.
pub const FCT: u64 = 0x00030;
/// VLAN Ether Type.
pub const VET: u64 = 0x00038;
/// Interrupt Cause Read.
pub const ICR: u64 = 0x000C0;
/// Interrupt Throttling Rate.
pub const ITR: u64 = 0x000C4;
/// Interrupt Cause Set.
pub const ICS: u64 = 0x000C8;
/// Interrupt Mask Set/Read.
pub const IMS: u64 = 0x000D0;
/// Interrupt Mask Clear.
pub const IMC: u64 = 0x000D8;
/// Interrupt Acknowledge Auto Mask.
pub const IAM: u64 = 0x000E0;
/// Receive Control.
pub const RCTL: u64 = 0x00100;
/// Flow Control Transmit Timer Value.
pub const FCTTV: u64 = 0x00170;
/// Transmit Control.
pub const TCTL: u64 = 0x00400;
/// Transmit Control Extended.
pub const TCTL_EXT: u64 = 0x00404;
/// Transmit IPG.
pub const TIPG: u64 = 0x00410;
/// Adaptive IFS Throttle.
pub const AIT: u64 = 0x00458;
/// LED Control.
pub const LEDCTL: u64 = 0x00E00;
/// Packet Buffer Allocation.
pub const PBA: u64 = 0x01000;
/// EEPROM Write.
pub const EEWR: u64 = 0x0102C;
/// Flow Control Receive Threshold Low.
pub const FCRTL: u64 = 0x02160;
/// Flow Control Receive Threshold High.
pub const FCRTH: u64 = 0x02168;
/// RX Descriptor Base Address Low.
pub const RDBAL: u64 = 0x02800;
/// RX Descriptor Base Address High.
pub const RDBAH: u64 = 0x02804;
/// RX Descriptor Length.
pub const RDLEN: u64 = 0x02808;
/// RX Descriptor Head.
pub const RDH: u64 = 0x02810;
/// RX Descriptor Tail.
pub const RDT: u64 = 0x02818;
/// RX Interrupt Delay Timer.
pub const RDTR: u64 = 0x02820;
/// RX Descriptor Control.
pub const RXDCTL: u64 = 0x02828;
/// RX Interrupt Absolute Delay Timer.
pub const RADV: u64 = 0x0282C;
/// RX Small Packet Detect.
pub const RSRPD: u64 = 0x02C00;
/// RX ACK Interrupt Delay.
pub const RAID: u64 = 0x02C08;
/// TX Descriptor Base Address Low.
pub const TDBAL: u64 = 0x03800;
/// TX Descriptor Base Address High.
pub const TDBAH: u64 = 0x03804;
/// TX Descriptor Length.
pub const TDLEN: u64 = 0x03808;
/// TX Descriptor Head.
pub const TDH: u64 = 0x03810;
/// TX Descriptor Tail.
pub const TDT: u64 = 0x03818;
/// TX Interrupt Delay Value.
pub const TIDV: u64 = 0x03820;
/// TX Descriptor Control.
pub const TXDCTL: u64 = 0x03828;
/// TX Absolute Interrupt Delay.
pub const TADV: u64 = 0x0382C;

/// First statistics register.
pub const STATS_START: u64 = 0x04000;
/// Last statistics register.
pub const STATS_END: u64 = 0x04124;
/// CRC Error Count.
pub const CRCERRS: u64 = 0x04000;
/// Missed Packets Count.
pub const MPC: u64 = 0x04010;
/// Packets Received 64 bytes (PRC127..PRC1522 follow at +4 each).
pub const PRC64: u64 = 0x0405C;
/// Good Packets Received.
pub const GPRC: u64 = 0x04074;
/// Broadcast Packets Received.
pub const BPRC: u64 = 0x04078;
/// Multicast Packets Received.
pub const MPRC: u64 = 0x0407C;
/// Good Packets Transmitted.
pub const GPTC: u64 = 0x04080;
/// Good Octets Received (low).
pub const GORCL: u64 = 0x04088;
/// Good Octets Received (high).
pub const GORCH: u64 = 0x0408C;
/// Good Octets Transmitted (low).
pub const GOTCL: u64 = 0x04090;
/// Good Octets Transmitted (high).
pub const GOTCH: u64 = 0x04094;
/// Receive No Buffers Count.
pub const RNBC: u64 = 0x040A0;
/// Receive Undersize Count.
pub const RUC: u64 = 0x040A4;
/// Receive Oversize Count.
pub const ROC: u64 = 0x040AC;
/// Total Octets Received (low).
pub const TORL: u64 = 0x040C0;
/// Total Octets Received (high).
pub const TORH: u64 = 0x040C4;
/// Total Octets Transmitted (low).
pub const TOTL: u64 = 0x040C8;
/// Total Octets Transmitted (high).
pub const TOTH: u64 = 0x040CC;
/// Total Packets Received.
pub const TPR: u64 = 0x040D0;
/// Total Packets Transmitted.
pub const TPT: u64 = 0x040D4;
/// Packets Transmitted 64 bytes (PTC127..PTC1522 follow at +4 each).
pub const PTC64: u64 = 0x040D8;
/// Multicast Packets Transmitted.
pub const MPTC: u64 = 0x040F0;
/// Broadcast Packets Transmitted.
pub const BPTC: u64 = 0x040F4;
/// TCP Segmentation Context Transmitted.
pub const TSCTC: u64 = 0x040F8;
/// TCP Segmentation Context Transmit Fail.
pub const TSCTFC: u64 = 0x040FC;
/// Flow Control Receive Unsupported Count (the one statistic the guest may write).
pub const FCRUC: u64 = 0x04058;
/// Interrupt Assertion Count (INTx assertions).
pub const IAC: u64 = 0x04100;

/// A statistics register's read rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatRead {
    /// Read without side effect.
    Plain,
    /// Clear on read.
    Clear,
    /// The high half of a 64-bit counter: clears both halves.
    ClearPair,
    /// Not implemented: reads 0.
    Absent,
}

/// How the statistics register at `offset` reads (QEMU): error, collision, flow control and
/// octet-low counters read plainly; packet counters clear on read; a 64-bit pair clears when
/// its high half is read; the rest read 0.
pub fn stat_read(offset: u64) -> StatRead {
    match offset {
        0x04000..=0x04020 | 0x04028 | 0x04030 | 0x04034 | 0x04040 => StatRead::Plain,
        0x04048..=FCRUC | GORCL | GOTCL => StatRead::Plain,
        RNBC | 0x040A8 | 0x040B0..=0x040BC | TORL | TOTL => StatRead::Plain,
        PRC64..=GPTC | RUC | ROC | TPR..=TSCTC | IAC => StatRead::Clear,
        GORCH | GOTCH | TORH | TOTH => StatRead::ClearPair,
        _ => StatRead::Absent,
    }
}

/// Receive Checksum Control.
pub const RXCSUM: u64 = 0x05000;
/// Receive Filter Control.
pub const RFCTL: u64 = 0x05008;
/// Multicast Table Array (128 dwords).
pub const MTA: u64 = 0x05200;
/// Receive Address (16 RAL/RAH pairs).
pub const RA: u64 = 0x05400;
/// VLAN Filter Table Array (128 dwords).
pub const VFTA: u64 = 0x05600;
/// Wake Up Control.
pub const WUC: u64 = 0x05800;
/// Wake Up Filter Control.
pub const WUFC: u64 = 0x05808;
/// Wake Up Status.
pub const WUS: u64 = 0x05810;
/// Multiple Receive Queues Command.
pub const MRQC: u64 = 0x05818;
/// Management Control.
pub const MANC: u64 = 0x05820;
/// PCIe Control.
pub const GCR: u64 = 0x05B00;
/// Function Active and Power State to MNG.
pub const FACTPS: u64 = 0x05B30;
/// Software Semaphore.
pub const SWSM: u64 = 0x05B50;
/// Firmware Semaphore.
pub const FWSM: u64 = 0x05B54;
/// Redirection Table (32 dwords).
pub const RETA: u64 = 0x05C00;
/// RSS Random Key (10 dwords).
pub const RSSRK: u64 = 0x05C80;

/// System time, low (the virtual clock scaled by TIMINCA plus the adjustments).
pub const SYSTIML: u64 = 0x0B600;
/// System time, high (latched by a SYSTIML read).
pub const SYSTIMH: u64 = 0x0B604;
/// Time increment attributes: period (31:24) and increment (23:0).
pub const TIMINCA: u64 = 0x0B608;
/// Time adjustment offset, low.
pub const TIMADJL: u64 = 0x0B60C;
/// Time adjustment offset, high (the write applies the adjustment).
pub const TIMADJH: u64 = 0x0B610;
/// TX time stamp control.
pub const TSYNCTXCTL: u64 = 0x0B614;
/// TX time stamp, high.
pub const TXSTMPH: u64 = 0x0B61C;
/// RX time stamp control.
pub const TSYNCRXCTL: u64 = 0x0B620;
/// RX time stamp attributes, high.
pub const RXSATRH: u64 = 0x0B630;
/// TSYNCTXCTL/TSYNCRXCTL: a time stamp is latched.
pub const TSYNC_VALID: u32 = 1 << 0;

/// BAR2: I/O Address.
pub const IOADDR: u64 = 0x00;
/// BAR2: I/O Data.
pub const IODATA: u64 = 0x04;

// CTRL bits.
/// Full duplex.
pub const CTRL_FD: u32 = 1 << 0;
/// GIO master disable.
pub const CTRL_GIO_MASTER_DISABLE: u32 = 1 << 2;
/// Set link up.
pub const CTRL_SLU: u32 = 1 << 6;
/// Speed selection.
pub const CTRL_SPD_SEL: u32 = 3 << 8;
/// Shift of the speed selection.
pub const CTRL_SPD_SHIFT: u32 = 8;
/// Force speed.
pub const CTRL_FRCSPD: u32 = 1 << 11;
/// Force duplex.
pub const CTRL_FRCDPX: u32 = 1 << 12;
/// Speed select bypass.
pub const CTRL_SPD_BYPS: u32 = 1 << 15;
/// Device reset (self-clearing).
pub const CTRL_RST: u32 = 1 << 26;
/// Receive flow control enable (set when autonegotiation completes).
pub const CTRL_RFCE: u32 = 1 << 27;
/// Transmit flow control enable (set when autonegotiation completes).
pub const CTRL_TFCE: u32 = 1 << 28;
/// VLAN mode enable.
pub const CTRL_VME: u32 = 1 << 30;
/// PHY reset.
pub const CTRL_PHY_RST: u32 = 1 << 31;

// STATUS bits.
/// Full duplex.
pub const STATUS_FD: u32 = 1 << 0;
/// Link up.
pub const STATUS_LU: u32 = 1 << 1;
/// Shift of the speed field.
pub const STATUS_SPEED_SHIFT: u32 = 6;
/// 1000 Mb/s.
pub const STATUS_SPEED_1000: u32 = 2 << 6;
/// Auto-speed detection value: 1000.
pub const STATUS_ASDV_1000: u32 = 2 << 8;
/// PHY reset asserted.
pub const STATUS_PHYRA: u32 = 1 << 10;
/// GIO master enable status.
pub const STATUS_GIO_MASTER_EN: u32 = 1 << 19;

/// EECD: EEPROM present.
pub const EECD_PRES: u32 = 1 << 8;
/// EECD: auto read done.
pub const EECD_AUTO_RD: u32 = 1 << 9;
/// EECD read-only bits: PRES, AUTO_RD, SIZE_EX.
pub const EECD_RO: u32 = EECD_PRES | EECD_AUTO_RD | 0xF << 11;

/// EERD: start read.
pub const EERD_START: u32 = 1 << 0;
/// EERD: read done.
pub const EERD_DONE: u32 = 1 << 1;
/// EERD: shift of the word address.
pub const EERD_ADDR_SHIFT: u32 = 2;
/// EERD: word address mask (after the shift).
pub const EERD_ADDR_MASK: u32 = 0x3FFF;
/// EERD: shift of the data.
pub const EERD_DATA_SHIFT: u32 = 16;

/// CTRL_EXT: ASD check (self-clearing).
pub const CTRL_EXT_ASDCHK: u32 = 1 << 12;
/// CTRL_EXT: speed select bypass (STATUS speed follows CTRL.SPD_SEL).
pub const CTRL_EXT_SPD_BYPS: u32 = 1 << 15;
/// CTRL_EXT: EEPROM reset (self-clearing).
pub const CTRL_EXT_EE_RST: u32 = 1 << 13;
/// CTRL_EXT: interrupt acknowledge auto-mask enable.
pub const CTRL_EXT_IAME: u32 = 1 << 27;

/// SWSM: semaphore bit, set by a read.
pub const SWSM_SMBI: u32 = 1 << 0;

// MDIC.
/// Data.
pub const MDIC_DATA_MASK: u32 = 0xFFFF;
/// Shift of the PHY register address.
pub const MDIC_REG_SHIFT: u32 = 16;
/// Shift of the PHY address.
pub const MDIC_PHY_SHIFT: u32 = 21;
/// Opcode field.
pub const MDIC_OP_MASK: u32 = 3 << 26;
/// Opcode: write.
pub const MDIC_OP_WRITE: u32 = 1 << 26;
/// Opcode: read.
pub const MDIC_OP_READ: u32 = 2 << 26;
/// Ready.
pub const MDIC_READY: u32 = 1 << 28;
/// Interrupt enable (raise MDAC).
pub const MDIC_INT_EN: u32 = 1 << 29;
/// Error.
pub const MDIC_ERROR: u32 = 1 << 30;
/// The only PHY address that answers.
pub const PHY_ADDRESS: u32 = 1;

// PHY.
/// PHY registers kept.
pub const PHY_REGS: usize = 32;
/// Basic Mode Control.
pub const PHY_BMCR: usize = 0;
/// Basic Mode Status.
pub const PHY_BMSR: usize = 1;
/// PHY Identifier 1.
pub const PHY_ID1: usize = 2;
/// PHY Identifier 2.
pub const PHY_ID2: usize = 3;
/// Autonegotiation Advertisement.
pub const PHY_ANAR: usize = 4;
/// Link Partner Ability.
pub const PHY_LPAR: usize = 5;
/// 1000BASE-T Control.
pub const PHY_1000T_CTRL: usize = 9;
/// 1000BASE-T Status.
pub const PHY_1000T_STATUS: usize = 10;
/// BMCR: reset (self-clearing).
pub const BMCR_RESET: u16 = 1 << 15;
/// BMCR: loopback.
pub const BMCR_LOOPBACK: u16 = 1 << 14;
/// BMCR: autonegotiation enable.
pub const BMCR_ANEG_ENABLE: u16 = 1 << 12;
/// BMCR: restart autonegotiation (self-clearing).
pub const BMCR_ANEG_RESTART: u16 = 1 << 9;
/// BMSR: link status.
pub const BMSR_LINK_STATUS: u16 = 1 << 2;
/// BMSR: autonegotiation complete.
pub const BMSR_ANEG_COMPLETE: u16 = 1 << 5;

// Interrupt causes (§1.5).
/// TX descriptor written back.
pub const ICR_TXDW: u32 = 0x0000_0001;
/// TX queue empty.
pub const ICR_TXQE: u32 = 0x0000_0002;
/// Link status change.
pub const ICR_LSC: u32 = 0x0000_0004;
/// RX descriptor minimum threshold.
pub const ICR_RXDMT0: u32 = 0x0000_0010;
/// RX overrun.
pub const ICR_RXO: u32 = 0x0000_0040;
/// RX timer / descriptor written back.
pub const ICR_RXT0: u32 = 0x0000_0080;
/// MDIO access complete.
pub const ICR_MDAC: u32 = 0x0000_0200;
/// Interrupt asserted.
pub const ICR_INT_ASSERTED: u32 = 0x8000_0000;

// RCTL.
/// Receiver enable.
pub const RCTL_EN: u32 = 1 << 1;
/// Store bad packets.
pub const RCTL_SBP: u32 = 1 << 2;
/// Unicast promiscuous.
pub const RCTL_UPE: u32 = 1 << 3;
/// Multicast promiscuous.
pub const RCTL_MPE: u32 = 1 << 4;
/// Long packet enable.
pub const RCTL_LPE: u32 = 1 << 5;
/// Loopback mode field.
pub const RCTL_LBM_MASK: u32 = 3 << 6;
/// Loopback mode: MAC loopback.
pub const RCTL_LBM_MAC: u32 = 1 << 6;
/// Free descriptor threshold field shift.
pub const RCTL_RDMTS_SHIFT: u32 = 8;
/// Multicast offset field shift.
pub const RCTL_MO_SHIFT: u32 = 12;
/// Broadcast accept mode.
pub const RCTL_BAM: u32 = 1 << 15;
/// Buffer size field shift.
pub const RCTL_BSIZE_SHIFT: u32 = 16;
/// VLAN filter enable.
pub const RCTL_VFE: u32 = 1 << 18;
/// Buffer size extension.
pub const RCTL_BSEX: u32 = 1 << 25;
/// Strip Ethernet CRC.
pub const RCTL_SECRC: u32 = 1 << 26;
/// Flexible buffer size field shift (1 KiB units).
pub const RCTL_FLXBUF_SHIFT: u32 = 27;

// TCTL.
/// Transmit enable.
pub const TCTL_EN: u32 = 1 << 1;
/// Pad short packets.
pub const TCTL_PSP: u32 = 1 << 3;

/// RAH: address valid.
pub const RAH_AV: u32 = 1 << 31;
/// Receive address pairs.
pub const RA_ENTRIES: u64 = 16;

/// TDLEN/RDLEN writable bits (multiples of 128 bytes).
pub const RING_LEN_MASK: u32 = 0x000F_FF80;

// ---- registers both chips have at the same address (stored, or read as QEMU answers) ----

/// Management EEPROM control (bit 31: configuration done).
pub const EEMNGCTL: u64 = 0x01010;
/// Flow control receive threshold low, 82542 alias.
pub const FCRTL_ALIAS: u64 = 0x00168;
/// Flexible filter mask table (128 dwords at 8-byte stride, 4 bits each).
pub const FFMT: u64 = 0x09000;
/// RDFH, RDFT, TDFH, TDFT aliases (8 bytes apart).
pub const FIFO_ALIAS: u64 = 0x08000;
/// Flexible TCO filter table.
pub const FTFT: u64 = 0x09400;
/// Function tag.
pub const FUNCTAG: u64 = 0x05B08;
/// GCR bits the guest cannot change.
pub const GCR_RO: u32 = 0x0680_0000;
/// GIO statistics control and counters (8 dwords).
pub const GSCL_1: u64 = 0x05B10;
/// IPv4 address table (7 dwords).
pub const IP4AT: u64 = 0x05840;
/// IPv6 address table (4 dwords) and the manageability decision filters (8 dwords).
pub const IP6AT: u64 = 0x05880;
/// IP address valid.
pub const IPAV: u64 = 0x05838;
/// Management control to host.
pub const MANC2H: u64 = 0x05860;
/// Management VLAN TAG values (4 dwords).
pub const MAVTV: u64 = 0x05010;
/// Manageability filters valid; flex UDP/TCP ports 0-1 and 2-3 at +4 and +0xC.
pub const MFVAL: u64 = 0x05824;
/// MSI-X PBA Clear.
pub const PBACLR: u64 = 0x05B68;
/// RX data FIFO registers: head, tail, saved head, saved tail, packet count (13 bits each).
pub const RDFH: u64 = 0x02410;
/// TX data FIFO registers: head, tail, saved head, saved tail, packet count (13 bits each).
pub const TDFH: u64 = 0x03410;
/// Wake-up packet memory (32 dwords).
pub const WUPM: u64 = 0x05A00;
