//! The PHY behind MDIC (facts §1.9): 32 registers at PHY address 1. Each model brings a
//! [`PhyProfile`]: the register values after reset and which registers MDIC may read and write
//! (QEMU's per-chip tables, probed through MDIC). A read or write of any other register sets
//! MDIC.ERROR. BMCR restart starts autonegotiation, which completes on the model's timer;
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
    /// Register values after reset.
    pub init: [u16; PHY_REGS],
    /// Registers MDIC reads (bit n for register n).
    pub readable: u32,
    /// Registers MDIC writes (bit n for register n).
    pub writable: u32,
}

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
    profile: &'static PhyProfile,
}

impl Phy {
    /// A PHY after reset.
    pub fn new(profile: &'static PhyProfile) -> Self {
        Self {
            regs: profile.init,
            profile,
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
        let bit = 1u32 << reg;
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
            if self.profile.readable & bit == 0 {
                out.mdic |= MDIC_ERROR;
            } else {
                let data = self.regs[reg];
                out.read = Some((reg, data));
                out.mdic = (value & !MDIC_DATA_MASK) | u32::from(data);
            }
        } else if value & MDIC_OP_WRITE != 0 {
            if self.profile.writable & bit == 0 {
                out.mdic |= MDIC_ERROR;
            } else {
                let data = value as u16;
                out.write = Some((reg, data));
                out.restart_autoneg = self.write(reg, data);
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
