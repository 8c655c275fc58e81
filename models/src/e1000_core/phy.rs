//! The PHY behind MDIC (facts §1.9): 32 registers at PHY address 1, registers 16-31 paged
//! where the chip has a page select. Each model brings a [`PhyProfile`]: the register values
//! after reset and which registers MDIC may read and write (QEMU's per-chip tables, probed
//! through MDIC). A read or write of any other register sets MDIC.ERROR. BMCR restart starts autonegotiation, which completes on the model's timer;
//! [`Phy::autoneg_done`] is what it does then.

use super::regs::*;

/// BMSR: the bits autonegotiation changes.
const BMSR_LINK_AND_ANEG: u16 = BMSR_LINK_STATUS | BMSR_ANEG_COMPLETE;
/// Link partner ability: the partner acknowledged our code word.
pub const LPAR_ACK: u16 = 1 << 14;
/// BMCR bits 5:0 are reserved and read 0.
const BMCR_RESERVED: u16 = 0x3F;

/// One chip's PHY: reset values and MDIC access rights.
#[derive(Debug, PartialEq, Eq)]
pub struct PhyProfile {
    /// Register values after reset (page 0).
    pub init: [u16; PHY_REGS],
    /// Registers MDIC reads (bit n for register n; page 0).
    pub readable: u32,
    /// Registers MDIC writes (bit n for register n; page 0).
    pub writable: u32,
    /// The page select register, if registers 16-31 are paged: it always reads and writes,
    /// keeps [`PAGE_MASK`] bits and picks which page's registers 16-31 MDIC reaches.
    pub page_select: Option<usize>,
    /// The pages other than 0 that have registers (16-31); on any other page only the page
    /// select answers.
    pub pages: &'static [PhyPage],
}

/// Registers 16-31 of one PHY page other than 0.
#[derive(Debug, PartialEq, Eq)]
pub struct PhyPage {
    /// Page number.
    pub number: u16,
    /// Values after reset (register 16 first).
    pub init: [u16; 16],
    /// Registers MDIC reads (bit n for register 16 + n).
    pub readable: u16,
    /// Registers MDIC writes (bit n for register 16 + n).
    pub writable: u16,
}

/// Bits the page select register keeps.
pub const PAGE_MASK: u16 = 0x7F;
/// Pages other than 0 a profile may have.
const MAX_PAGES: usize = 4;

/// What an MDIC write did, for the model to trace and act on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MdicOutcome {
    /// The new MDIC register value (READY, and ERROR or read data).
    pub mdic: u32,
    /// A read: register and data.
    pub read: Option<(usize, u16)>,
    /// A write: register and data.
    pub write: Option<(usize, u16)>,
    /// The write restarted autonegotiation: the link is down until the model's timer calls
    /// [`Phy::autoneg_done`].
    pub restart_autoneg: bool,
    /// MDIC.INT_EN is set in the new value: raise the MDAC cause.
    pub interrupt: bool,
}

/// The PHY registers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Phy {
    regs: [u16; PHY_REGS],
    /// Registers 16-31 of the profile's other pages, in its order.
    paged: [[u16; 16]; MAX_PAGES],
    profile: &'static PhyProfile,
}

/// Where an MDIC register number lands.
enum Slot {
    /// Page 0, or a register no page select applies to.
    Base,
    /// Register 16 + n of the profile's `page`th other page.
    Paged(usize, usize),
    /// A register the selected page does not have.
    Missing,
}

impl Phy {
    /// A PHY after reset.
    pub fn new(profile: &'static PhyProfile) -> Self {
        assert!(profile.pages.len() <= MAX_PAGES, "too many PHY pages");
        let mut paged = [[0; 16]; MAX_PAGES];
        for (slot, page) in paged.iter_mut().zip(profile.pages) {
            *slot = page.init;
        }
        Self {
            regs: profile.init,
            paged,
            profile,
        }
    }

    /// Where register `reg` lands under the current page select, and whether MDIC may read
    /// and write it.
    fn slot(&self, reg: usize) -> (Slot, bool, bool) {
        let bit = 1u32 << reg;
        let base = (
            Slot::Base,
            self.profile.readable & bit != 0,
            self.profile.writable & bit != 0,
        );
        let Some(select) = self.profile.page_select else {
            return base;
        };
        let page = self.regs[select];
        if reg == select {
            return (Slot::Base, true, true);
        }
        if reg < 16 || page == 0 {
            return base;
        }
        match self.profile.pages.iter().position(|p| p.number == page) {
            Some(i) => {
                let p = &self.profile.pages[i];
                let bit = 1u16 << (reg - 16);
                (
                    Slot::Paged(i, reg - 16),
                    p.readable & bit != 0,
                    p.writable & bit != 0,
                )
            }
            None => (Slot::Missing, false, false),
        }
    }

    /// Register `reg` (0 past the end).
    pub fn reg(&self, reg: usize) -> u16 {
        self.regs.get(reg).copied().unwrap_or(0)
    }

    /// BMCR loopback (PHY loopback: transmitted frames go to the receive path).
    pub fn loopback(&self) -> bool {
        self.regs[PHY_BMCR] & BMCR_LOOPBACK != 0
    }

    /// BMCR autonegotiation enable.
    pub fn autoneg_enabled(&self) -> bool {
        self.regs[PHY_BMCR] & BMCR_ANEG_ENABLE != 0
    }

    /// BMSR autonegotiation complete.
    pub fn autoneg_complete(&self) -> bool {
        self.regs[PHY_BMSR] & BMSR_ANEG_COMPLETE != 0
    }

    /// Handle a guest write of `value` to MDIC whose previous value was `old`. A wrong PHY
    /// address keeps the old value and sets ERROR; a read replaces the data field.
    pub fn mdic(&mut self, value: u32, old: u32) -> MdicOutcome {
        let phy_addr = (value >> MDIC_PHY_SHIFT) & 0x1F;
        let reg = ((value >> MDIC_REG_SHIFT) & 0x1F) as usize;
        let (slot, readable, writable) = self.slot(reg);
        let mut out = MdicOutcome {
            mdic: value,
            read: None,
            write: None,
            restart_autoneg: false,
            interrupt: false,
        };
        if phy_addr != PHY_ADDRESS {
            out.mdic = old | MDIC_ERROR;
        } else if value & MDIC_OP_READ != 0 {
            if !readable {
                out.mdic |= MDIC_ERROR;
            } else {
                let data = match slot {
                    Slot::Paged(page, n) => self.paged[page][n],
                    _ => self.regs[reg],
                };
                out.read = Some((reg, data));
                out.mdic = (value & !MDIC_DATA_MASK) | u32::from(data);
            }
        } else if value & MDIC_OP_WRITE != 0 {
            if !writable {
                out.mdic |= MDIC_ERROR;
            } else {
                let data = value as u16;
                out.write = Some((reg, data));
                match slot {
                    Slot::Paged(page, n) => self.paged[page][n] = data,
                    _ if Some(reg) == self.profile.page_select => {
                        self.regs[reg] = data & PAGE_MASK;
                    }
                    _ => out.restart_autoneg = self.write(reg, data),
                }
            }
        }
        out.mdic |= MDIC_READY;
        out.interrupt = out.mdic & MDIC_INT_EN != 0;
        out
    }

    /// Write a register; returns whether autonegotiation restarts.
    fn write(&mut self, reg: usize, data: u16) -> bool {
        if reg != PHY_BMCR {
            self.regs[reg] = data;
            return false;
        }
        // RESET and restart are self-clearing; the PHY registers are not reset (QEMU).
        self.regs[PHY_BMCR] = data & !(BMCR_RESERVED | BMCR_RESET | BMCR_ANEG_RESTART);
        let restart = data & BMCR_ANEG_RESTART != 0 && self.autoneg_enabled();
        if restart {
            self.link_down();
        }
        restart
    }

    /// The link went down (or autonegotiation restarted): no link, no partner.
    pub fn link_down(&mut self) {
        self.regs[PHY_BMSR] &= !BMSR_LINK_AND_ANEG;
        self.regs[PHY_LPAR] &= !LPAR_ACK;
    }

    /// Autonegotiation completed: link up, the partner acknowledged. The model sets STATUS.LU
    /// and raises LSC.
    pub fn autoneg_done(&mut self) {
        self.regs[PHY_BMSR] |= BMSR_LINK_AND_ANEG;
        self.regs[PHY_LPAR] |= LPAR_ACK;
    }
}
