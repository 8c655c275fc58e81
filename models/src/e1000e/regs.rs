//! 82574L register offsets, bits and reset values (facts §1.3-§1.9; datasheet names).
//! The registers both chips share live in [`crate::e1000_core::regs`] and are re-exported here.

pub use crate::e1000_core::phy::PhyProfile;
pub use crate::e1000_core::regs::*;
/// 82574L.
pub const DEVICE_ID: u16 = 0x10D3;

/// End of the stored register file (everything above reads 0).
pub const REG_FILE_END: u64 = 0x6000;
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
/// MSI-X PBA Clear.
pub const PBACLR: u64 = 0x05B68;
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
    readable: 0x667F_87FF, // 0-10, 15, 0x10-0x16, 0x19, 0x1A, 0x1D, 0x1E
    writable: 0x6655_0291, // 0, 4, 7, 9, 0x10, 0x12, 0x14, 0x16, 0x19, 0x1A, 0x1D, 0x1E
};

/// PHY ID 1 [V].
pub const PHY_ID1_VALUE: u16 = 0x0141;
/// PHY ID 2 [V].
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
/// IMS writable bits [V].
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
/// TARC: queue enable.
pub const TARC_ENABLE: u32 = 1 << 10;

/// Reset values other than 0 (facts §1.3 [V]).
pub const RESET_VALUES: &[(u64, u32)] = &[
    (CTRL, 0x0014_0241),
    (EECD, EECD_PRES | EECD_AUTO_RD),
    (EERD, EERD_DONE),
    (VET, 0x8100),
    (TIPG, 0x0060_2008),
    (PBA, 0x0014_0014),
    (RXDCTL, 0x0001_0000),
    (RXDCTL1, 0x0001_0000),
    (TARC0, 0x0000_0403),
    (TARC1, 0x0000_0403),
    (RXCSUM, 0x0000_0300),
    (PSRCTL, 0x0004_0402),
    (GCR, 0x0680_0200),
    (FACTPS, 0x2000_0004),
    (MANC, 0x1000_0000),
    (LEDCTL, 0x0006_8302),
    (SWSM, SWSM_SMBI),
];

/// The 82574 legacy register aliases (facts §1.3), mapped to their canonical offsets.
pub fn unalias(offset: u64) -> u64 {
    match offset {
        0x00040..=0x000BC => RA + (offset - 0x40),
        0x00108 => RDTR,
        0x00110..=0x00118 => RDBAL + (offset - 0x110),
        0x00120 => RDH,
        0x00128 => RDT,
        0x00160 => FCRTH,
        0x00168 => FCRTL,
        0x00420..=0x00428 => TDBAL + (offset - 0x420),
        0x00430 => TDH,
        0x00438 => TDT,
        0x00440 => TIDV,
        0x00600..=0x007FC => VFTA + (offset - 0x600),
        _ => offset,
    }
}

/// Writable bits of a register that is plain storage, `None` for offsets with no register.
pub fn storage_mask(offset: u64) -> Option<u32> {
    let mask = match offset {
        EECD | EERD | CTRL_EXT | FLA | MDIC | FCAL | ICR | IMS | RCTL | TCTL | TDBAL | TDH
        | TDT | RDBAL | RDH | RDT | TDLEN | RDLEN => u32::MAX,
        FCAH | FCT | FCTTV | RDTR | TIDV | RADV | TADV | RAID => 0xFFFF,
        VET => 0xFFFF,
        ITR => 0xFFFF,
        EITR..=0x000F8 if offset % 4 == 0 => 0xFFFF,
        EIAC | IAM | IVAR => u32::MAX,
        RSRPD => 0xFFF,
        TCTL_EXT | TIPG | AIT | LEDCTL | EXTCNF_CTRL | PHY_CTRL | PBA | PBS | EEWR => u32::MAX,
        FCRTL | FCRTH | PSRCTL | RDBAH | TDBAH | RXDCTL | RXDCTL1 | TXDCTL | TXDCTL1 => u32::MAX,
        TARC0 | TARC1 => u32::MAX,
        RXCSUM | RFCTL | WUC | WUFC | WUS | MRQC | MANC | GCR | FACTPS | FWSM | PBACLR => u32::MAX,
        SWSM => 0x7,
        _ if (MTA..MTA + 0x200).contains(&offset) => u32::MAX,
        _ if (RA..RA + 8 * RA_ENTRIES).contains(&offset) => {
            if offset % 8 == 0 {
                u32::MAX
            } else {
                RAH_AV | 0x3_FFFF
            }
        }
        _ if (VFTA..VFTA + 0x200).contains(&offset) => u32::MAX,
        _ if (RETA..RETA + 0x80).contains(&offset) => u32::MAX,
        _ if (RSSRK..RSSRK + 0x28).contains(&offset) => u32::MAX,
        _ => return None,
    };
    Some(mask)
}
