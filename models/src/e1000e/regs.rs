//! 82574L register offsets, bits and reset values (facts §1.3-§1.9; datasheet names).
//! The registers both chips share live in [`crate::e1000_core::regs`] and are re-exported here.

pub use crate::e1000_core::phy::{PhyPage, PhyProfile};
pub use crate::e1000_core::regs::*;
/// 82574L.
pub const DEVICE_ID: u16 = 0x10D3;

/// End of the stored register file (everything above reads 0).
pub const REG_FILE_END: u64 = 0xC000;
/// Extended Interrupt Auto Clear.
pub const EIAC: u64 = 0x000DC;
/// Interrupt Vector Allocation.
pub const IVAR: u64 = 0x000E4;
/// Extended Interrupt Throttle, vector 0 (4 more follow).
pub const EITR: u64 = 0x000E8;
/// Extended Configuration Control.
pub const EXTCNF_CTRL: u64 = 0x00F00;
/// PHY Control.
pub const PHY_CTRL: u64 = 0x00F10;
/// Packet Buffer Size.
pub const PBS: u64 = 0x01008;
/// Packet Split Receive Control.
pub const PSRCTL: u64 = 0x02170;
/// TX Arbitration Count 0.
pub const TARC0: u64 = 0x03840;
/// TX Descriptor Control, queue 1.
pub const TXDCTL1: u64 = 0x03928;
/// TX Arbitration Count 1.
pub const TARC1: u64 = 0x03940;
/// RX Descriptor Control, queue 1.
pub const RXDCTL1: u64 = 0x02928;
/// The NVM image QEMU presents for the 82574L (words 0-2, 11, 13 and the checksum 0x3F are
/// filled in from the MAC, the device ID and the sum).
pub const EEPROM_TEMPLATE: [u16; crate::e1000_core::eeprom::EEPROM_WORDS] = [
    0x0000, 0x0000, 0x0000, 0x0420, 0xf746, 0x2010, 0xffff, 0xffff, 0x0000, 0x0000, 0x026b, 0x0000,
    0x8086, 0x0000, 0x0000, 0x8058, 0x0000, 0x2001, 0x7e7c, 0xffff, 0x1000, 0x00c8, 0x0000, 0x2704,
    0x6cc9, 0x3150, 0x070e, 0x460b, 0x2d84, 0x0100, 0xf000, 0x0706, 0x6000, 0x0080, 0x0f04, 0x7fff,
    0x4f01, 0xc600, 0x0000, 0x20ff, 0x0028, 0x0003, 0x0000, 0x0000, 0x0000, 0x0003, 0x0000, 0xffff,
    0x0100, 0xc000, 0x121c, 0xc007, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff,
    0x0000, 0x0120, 0xffff, 0x0000,
];

/// The 82574L PHY as QEMU presents it (page 0).
pub static PHY_PROFILE: PhyProfile = PhyProfile {
    init: {
        let mut r = [0u16; PHY_REGS];
        r[PHY_BMCR] = 0x1140; // 1000 Mb/s, full duplex, autonegotiation enabled
        r[PHY_BMSR] = 0x794D; // link up, autonegotiation not complete yet
        r[PHY_ID1] = PHY_ID1_VALUE;
        r[PHY_ID2] = PHY_ID2_VALUE;
        r[PHY_ANAR] = 0x0DE1;
        r[PHY_LPAR] = 0x07E0;
        r[6] = 0x0005; // ANER: next page able, partner autonegotiation able
        r[7] = 0x2001; // ANNP: message page
        r[PHY_1000T_CTRL] = 0x0F00;
        r[PHY_1000T_STATUS] = 0x3C00;
        r[15] = 0x3000; // extended status: 1000BASE-T half and full
        r[0x10] = 0x3360; // copper specific control
        r[0x11] = 0xAC08; // copper specific status: 1000 Mb/s, full duplex, resolved, link
        r
    },
    readable: 0x663F_87FF, // 0-10, 15, 0x10-0x15, 0x19, 0x1A, 0x1D, 0x1E (+ page select)
    writable: 0x6615_0291, // 0, 4, 7, 9, 0x10, 0x12, 0x14, 0x19, 0x1A, 0x1D, 0x1E
    page_select: Some(PHY_PAGE_SELECT),
    pages: &PHY_PAGES,
};

/// The PHY's page select register (registers 16-31 are paged).
pub const PHY_PAGE_SELECT: usize = 0x16;

/// The PHY pages other than 0 QEMU gives registers: 2 (MAC specific control, power
/// management), 3 (LED control) and 5.
pub static PHY_PAGES: [PhyPage; 3] = [
    PhyPage {
        number: 2,
        init: [0x0088, 0, 0, 0, 0, 0x1046, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        readable: 0x002D, // 0x10, 0x12, 0x13, 0x15
        writable: 0x0025, // 0x10, 0x12, 0x15
    },
    PhyPage {
        number: 3,
        init: [0, 0, 0x4005, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        readable: 0x000F, // 0x10-0x13
        writable: 0x000F,
    },
    PhyPage {
        number: 5,
        init: [0; 16],
        readable: 0x0030, // 0x14, 0x15
        writable: 0,
    },
];

/// PHY ID 1 \[V\].
pub const PHY_ID1_VALUE: u16 = 0x0141;
/// PHY ID 2 \[V\].
pub const PHY_ID2_VALUE: u16 = 0x0CB1;
/// Small receive packet detected.
pub const ICR_SRPD: u32 = 0x0001_0000;
/// Receive ACK frame.
pub const ICR_ACK: u32 = 0x0002_0000;
/// Manageability event.
pub const ICR_MNG: u32 = 0x0004_0000;
/// RX queue 0 (MSI-X).
pub const ICR_RXQ0: u32 = 0x0010_0000;
/// TX queue 0 (MSI-X).
pub const ICR_TXQ0: u32 = 0x0040_0000;
/// Other causes (MSI-X).
pub const ICR_OTHER: u32 = 0x0100_0000;
/// Causes that OTHER stands for.
pub const ICR_OTHER_CAUSES: u32 = ICR_LSC | ICR_RXO | ICR_MDAC | ICR_SRPD | ICR_ACK | ICR_MNG;
/// IMS writable bits \[V\].
pub const IMS_VALID: u32 = 0x01F7_82D7;

/// IVAR: valid bit of a 4-bit field.
pub const IVAR_VALID: u32 = 0x8;
/// IVAR: RX queue 0 field.
pub const IVAR_RXQ0_SHIFT: u32 = 0;
/// IVAR: TX queue 0 field.
pub const IVAR_TXQ0_SHIFT: u32 = 8;
/// IVAR: other causes field.
pub const IVAR_OTHER_SHIFT: u32 = 16;
/// IVAR: write back DD on every descriptor.
pub const IVAR_TX_INT_EVERY_WB: u32 = 1 << 31;
/// Descriptor type field.
pub const RCTL_DTYP_MASK: u32 = 3 << 10;
/// Descriptor type: packet split.
pub const RCTL_DTYP_PS: u32 = 1 << 10;

/// RFCTL: extended RX descriptors.
pub const RFCTL_EXTEN: u32 = 1 << 15;
/// CTRL_EXT: extended interrupt auto-mask enable (MSI-X: IAM applies as a vector is sent).
pub const CTRL_EXT_EIAME: u32 = 1 << 24;
/// CTRL_EXT: enabling a cause in IMS clears its MSI-X vector's pending bit.
pub const CTRL_EXT_PBA_CLR: u32 = 1 << 31;
/// ICR: receive queue 1, transmit queue 1 (MSI-X).
pub const ICR_RXQ1: u32 = 0x0020_0000;
/// ICR: transmit queue 1 (MSI-X).
pub const ICR_TXQ1: u32 = 0x0080_0000;
/// The ICR causes MSI-X routes, with the shift of each one's IVAR field.
pub const MSIX_ROUTES: [(u32, u32); 5] = [
    (ICR_RXQ0, 0),
    (ICR_RXQ1, 4),
    (ICR_TXQ0, 8),
    (ICR_TXQ1, 12),
    (ICR_OTHER, 16),
];
/// The ICR causes MSI-X routes.
pub const MSIX_CAUSES: u32 = ICR_RXQ0 | ICR_RXQ1 | ICR_TXQ0 | ICR_TXQ1 | ICR_OTHER;
/// TARC: queue enable.
pub const TARC_ENABLE: u32 = 1 << 10;

/// Extended Configuration Size.
pub const EXTCNF_SIZE: u64 = 0x00F08;
/// Flash timer.
pub const FLASHT: u64 = 0x01028;
/// Flash software control, data, count and opcode (4 dwords).
pub const FLSWCTL: u64 = 0x01030;
/// Flash opcode lock.
pub const FLOL: u64 = 0x01050;
/// EERD/EEWR: done.
pub const EEWR_DONE: u32 = 1 << 1;
/// FIFO reset value of the TX FIFO head and tail registers.
pub const TDF_RESET: u32 = 0x600;
/// Queue 1 RX descriptor registers (base low/high, length, head, tail).
pub const RDBAL1: u64 = 0x02900;
/// Queue 1 TX descriptor registers (base low/high, length, head, tail).
pub const TDBAL1: u64 = 0x03900;
/// Flow control receive threshold high, 82542 alias.
pub const FCRTH_ALIAS: u64 = 0x00160;
/// Flow control refresh threshold.
pub const FCRTV: u64 = 0x05F40;
/// PCIe control 2.
pub const GCR2: u64 = 0x05B64;
/// Flexible filter length table (11 dwords, 11 bits each).
pub const FFLT: u64 = 0x05F00;
/// Flexible filter value table (128 dwords at 8-byte stride).
pub const FFVT: u64 = 0x09800;
/// System time, low.
pub const SYSTIML: u64 = 0x0B600;
/// The time sync registers after SYSTIML (SYSTIMH .. RXUDP).
pub const TIMESYNC_END: u64 = 0x0B638;

/// Reset values other than 0 (QEMU's, read back after reset).
pub const RESET_VALUES: &[(u64, u32)] = &[
    (CTRL, 0x0014_0241),
    (EECD, EECD_PRES | EECD_AUTO_RD),
    (EERD, EERD_DONE),
    (VET, 0x8100),
    (TIPG, 0x0060_2008),
    (EXTCNF_CTRL, 0x8),
    (PHY_CTRL, 0x30D),
    (PBA, 0x0014_0014),
    (PBS, 0x28),
    (EEMNGCTL, 1 << 31),
    (FLASHT, 0x2),
    (EEWR, EEWR_DONE),
    (FLSWCTL, 0xC000_0000),
    (FLOL, 0x1),
    (RXDCTL, 0x0001_0000),
    (RXDCTL1, 0x0001_0000),
    (TDFH, TDF_RESET),
    (TDFH + 8, TDF_RESET),
    (TDFH + 0x10, TDF_RESET),
    (TDFH + 0x18, TDF_RESET),
    (TARC0, 0x0000_0403),
    (TARC1, 0x0000_0403),
    (RXCSUM, 0x0000_0300),
    (PSRCTL, 0x0004_0402),
    (GCR, 0x0680_0200),
    (FACTPS, 0x2000_0004),
    (MANC, 0x1000_0000),
    (LEDCTL, 0x0006_8302),
    (SWSM, SWSM_SMBI),
    (0x0B634, 0x88F7), // RXCFGL: the PTP EtherType
    (0x0B638, 0x0319), // RXUDP: the PTP event and general UDP ports
];

/// The 82542-style register addresses the 82574L still decodes, mapped to the registers
/// they name.
pub fn unalias(offset: u64) -> u64 {
    match offset {
        0x00040..=0x000BC => RA + (offset - 0x40),
        0x00108 => RDTR,
        0x00110..=0x00118 => RDBAL + (offset - 0x110),
        0x00120 => RDH,
        0x00128 => RDT,
        FCRTH_ALIAS => FCRTH,
        FCRTL_ALIAS => FCRTL,
        0x00420..=0x00428 => TDBAL + (offset - 0x420),
        0x00430 => TDH,
        0x00438 => TDT,
        0x00600..=0x007FC => VFTA + (offset - 0x600),
        FIFO_ALIAS => RDFH,
        0x08008 => RDFH + 8,
        0x08010 => TDFH,
        0x08018 => TDFH + 8,
        _ => offset,
    }
}

/// Writable bits of a register that is plain storage (readable and writable, QEMU's
/// e1000e), `None` for any other offset. Registers with side effects are handled before this.
pub fn storage_mask(offset: u64) -> Option<u32> {
    let in_range = |base: u64, dwords: u64| (base..base + 4 * dwords).contains(&offset);
    let mask = match offset {
        EECD | EERD | CTRL_EXT | FLA | MDIC | FCAL | ICR | IMS | RCTL | TCTL | TDBAL | TDH
        | TDT | RDBAL | RDH | RDT | TDLEN | RDLEN => u32::MAX,
        FCAH | FCT | FCTTV | RDTR | RADV | TADV | RAID | AIT | FCRTV => 0xFFFF,
        VET => 0xFFFF,
        ITR => 0xFFFF,
        EITR..=0x000F8 if offset % 4 == 0 => 0xFFFF,
        EIAC | IAM | IVAR => u32::MAX,
        RSRPD => 0xFFF,
        FCRTL => 0x8000_FFF8,
        FCRTH => 0xFFF8,
        PBS => 0x3F,
        FLASHT => 0xFFFF,
        TARC0 | TARC1 => 0x7800_07FF,
        PBACLR => 0x1F,
        TIPG | LEDCTL | EXTCNF_CTRL | EXTCNF_SIZE | PHY_CTRL | PBA | EEMNGCTL | FLOL => u32::MAX,
        PSRCTL | RDBAH | TDBAH | RXDCTL | RXDCTL1 | TXDCTL | TXDCTL1 | FCRUC => u32::MAX,
        RXCSUM | RFCTL | WUC | WUFC | WUS | MRQC | MANC | FACTPS | SWSM => u32::MAX,
        MFVAL | 0x05828 | 0x05830 | IPAV | MANC2H | FUNCTAG | GCR2 => u32::MAX,
        _ if in_range(FLSWCTL, 4) => u32::MAX,
        _ if (in_range(RDFH, 9) || in_range(TDFH, 9)) && offset % 8 == 0 => 0x1FFF,
        _ if in_range(RDBAL1, 7) || in_range(TDBAL1, 7) => match offset & 0xFF {
            0x00 => !0xF,
            0x04 => u32::MAX,
            0x08 => RING_LEN_MASK,
            0x10 | 0x18 => 0xFFFF,
            _ => return None,
        },
        _ if in_range(MAVTV, 4) => u32::MAX,
        _ if in_range(IP4AT, 7) || in_range(IP6AT, 12) || in_range(WUPM, 32) => u32::MAX,
        _ if in_range(GSCL_1, 8) => u32::MAX,
        _ if in_range(MTA, 128) || in_range(VFTA, 128) => u32::MAX,
        _ if in_range(RA, 2 * RA_ENTRIES) => u32::MAX,
        _ if in_range(RETA, 64) => u32::MAX, // RETA, RSSRK and the RSS registers after them
        _ if in_range(FFLT, 11) => 0x7FF,
        _ if in_range(FFMT, 255) => 0xF,
        _ if in_range(FTFT, 255) || in_range(FFVT, 255) => u32::MAX,
        0x0B604..=TIMESYNC_END => u32::MAX,
        _ => return None,
    };
    Some(mask)
}
