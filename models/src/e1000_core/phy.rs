//! The PHY behind MDIC (facts §1.9): 32 registers at PHY address 1, BMCR reset/loopback/
//! autonegotiation restart, read-only status and ID registers. Autonegotiation completes on
//! the model's timer; [`Phy::autoneg_done`] is what it does then.

use super::regs::*;

/// What an MDIC write did, for the model to trace and act on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MdicOutcome {
    /// The new MDIC register value (READY, and ERROR or read data).
    pub mdic: u32,
    /// A read: register and data.
    pub read: Option<(usize, u16)>,
    /// A write: register and data.
    pub write: Option<(usize, u16)>,
    /// The write restarted autonegotiation: arm the autonegotiation timer.
    pub restart_autoneg: bool,
    /// MDIC.INT_EN was set: raise the MDAC cause.
    pub interrupt: bool,
}

/// The PHY registers and link state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Phy {
    regs: [u16; PHY_REGS],
    id: (u16, u16),
    /// Link state (STATUS.LU, BMSR link status).
    pub link_up: bool,
}

impl Phy {
    /// A PHY with identifier registers `id1`/`id2`, after reset, link up.
    pub fn new(id1: u16, id2: u16) -> Self {
        let mut phy = Self {
            regs: [0; PHY_REGS],
            id: (id1, id2),
            link_up: true,
        };
        phy.reset_regs();
        phy
    }

    /// Reset the registers (not the link state).
    pub fn reset_regs(&mut self) {
        self.regs = [0; PHY_REGS];
        self.regs[PHY_BMCR] = BMCR_RESET_VALUE;
        self.regs[PHY_BMSR] = BMSR_RESET_VALUE | BMSR_ANEG_COMPLETE;
        self.regs[PHY_ID1] = self.id.0;
        self.regs[PHY_ID2] = self.id.1;
        self.regs[PHY_ANAR] = ANAR_RESET_VALUE;
        self.regs[PHY_1000T_CTRL] = GBCR_RESET_VALUE;
    }

    /// Register `reg` (0 past the end).
    pub fn reg(&self, reg: usize) -> u16 {
        self.regs.get(reg).copied().unwrap_or(0)
    }

    /// BMCR loopback (PHY loopback: transmitted frames go to the receive path).
    pub fn loopback(&self) -> bool {
        self.regs[PHY_BMCR] & BMCR_LOOPBACK != 0
    }

    /// Handle a guest write of `value` to MDIC.
    pub fn mdic(&mut self, value: u32) -> MdicOutcome {
        let phy_addr = (value >> MDIC_PHY_SHIFT) & 0x1F;
        let reg = ((value >> MDIC_REG_SHIFT) & 0x1F) as usize;
        let op = value & MDIC_OP_MASK;
        let mut out = MdicOutcome {
            mdic: value & !(MDIC_READY | MDIC_ERROR),
            read: None,
            write: None,
            restart_autoneg: false,
            interrupt: value & MDIC_INT_EN != 0,
        };
        if phy_addr != PHY_ADDRESS {
            out.mdic |= MDIC_ERROR;
        } else if op == MDIC_OP_READ {
            let data = self.reg(reg);
            out.read = Some((reg, data));
            out.mdic = (out.mdic & !MDIC_DATA_MASK) | u32::from(data);
        } else if op == MDIC_OP_WRITE {
            out.write = Some((reg, value as u16));
            out.restart_autoneg = self.write(reg, value as u16);
        } else {
            out.mdic |= MDIC_ERROR;
        }
        out.mdic |= MDIC_READY;
        out
    }

    /// Write a register; returns whether autonegotiation restarts.
    fn write(&mut self, reg: usize, data: u16) -> bool {
        match reg {
            PHY_BMCR => self.write_bmcr(data),
            PHY_BMSR | PHY_ID1 | PHY_ID2 | PHY_LPAR | PHY_1000T_STATUS => false,
            _ => {
                if let Some(r) = self.regs.get_mut(reg) {
                    *r = data;
                }
                false
            }
        }
    }

    fn write_bmcr(&mut self, data: u16) -> bool {
        if data & BMCR_RESET != 0 {
            self.reset_regs();
            self.regs[PHY_BMCR] = (data & !(BMCR_RESET | BMCR_ANEG_RESTART)) | BMCR_ANEG_ENABLE;
        } else {
            self.regs[PHY_BMCR] = data & !(BMCR_RESET | BMCR_ANEG_RESTART);
        }
        let restart = data & (BMCR_ANEG_RESTART | BMCR_RESET) != 0
            && self.regs[PHY_BMCR] & BMCR_ANEG_ENABLE != 0;
        if restart {
            self.link_up = false;
            self.regs[PHY_BMSR] &= !(BMSR_ANEG_COMPLETE | BMSR_LINK_STATUS);
            self.regs[PHY_LPAR] = 0;
        }
        restart
    }

    /// Autonegotiation completed: link up, partner abilities known. The model raises LSC.
    pub fn autoneg_done(&mut self) {
        self.link_up = true;
        self.regs[PHY_BMSR] |= BMSR_ANEG_COMPLETE | BMSR_LINK_STATUS;
        self.regs[PHY_LPAR] = LPAR_AFTER_ANEG;
        self.regs[PHY_1000T_STATUS] = GBSR_AFTER_ANEG;
    }
}

/// The STATUS register as the MAC computes it from CTRL and the link (facts §1.3): full duplex
/// (forced by CTRL.FRCDPX, else on), link up, speed (forced by FRCSPD/SPD_BYPS, else 1000),
/// GIO master enabled unless CTRL disables it, PHY reset asserted.
pub fn status(ctrl: u32, link_up: bool, phy_reset_asserted: bool) -> u32 {
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
    status |= if ctrl & (CTRL_FRCSPD | CTRL_SPD_BYPS) != 0 {
        (ctrl & CTRL_SPD_SEL) >> CTRL_SPD_SHIFT << STATUS_SPEED_SHIFT
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
