//! The PF side of the PF↔VF mailbox (facts §1.11). Each of the 8 VFs has 16 dwords of shared
//! memory (VMBMEM, plain storage), the PF's control register P2VMAILBOX and the PF's copy of
//! the VF's V2PMAILBOX. No VF device exists (module doc), so nothing sets VFU, VFREQ or VFACK
//! from the VF side; the PF side behaves as the datasheet says:
//! - PFU is granted only while the VF does not own the buffer (VFU clear);
//! - STS and ACK are commands: they set the VF's PFSTS/PFACK and do not stay set;
//! - RVFU clears the VF's ownership;
//! - a PF reset sets RSTI for every VF; CTRL_EXT.PFRSTD turns RSTI into RSTD.

use super::*;

/// Whether `offset` is a P2VMAILBOX register.
pub(super) fn is_p2v(offset: u64) -> bool {
    (P2VMAILBOX..P2VMAILBOX + 4 * POOLS as u64).contains(&offset)
}

/// Whether `offset` is the PF's copy of a V2PMAILBOX register.
pub(super) fn is_v2p(offset: u64) -> bool {
    (V2PMAILBOX..V2PMAILBOX + 4 * POOLS as u64).contains(&offset)
}

impl Igb {
    pub(super) fn write_p2v(&mut self, offset: u64, value: u32) {
        let vf = (offset - P2VMAILBOX) / 4;
        let v2p_at = V2PMAILBOX + 4 * vf;
        let mut v2p = self.reg(v2p_at);
        if value & P2V_RVFU != 0 {
            v2p &= !V2P_VFU;
        }
        let mut p2v = self.reg(offset) & P2V_PFU;
        if value & P2V_PFU != 0 {
            if v2p & V2P_VFU == 0 {
                p2v |= P2V_PFU;
            }
        } else {
            p2v &= !P2V_PFU;
        }
        if p2v & P2V_PFU != 0 {
            v2p |= V2P_PFU;
        } else {
            v2p &= !V2P_PFU;
        }
        if value & P2V_STS != 0 {
            tracing::trace!(target: "igb_mailbox_pf_sts", "vf {vf}");
            v2p |= V2P_PFSTS;
        }
        if value & P2V_ACK != 0 {
            v2p |= V2P_PFACK;
        }
        self.set_reg(offset, p2v);
        self.set_reg(v2p_at, v2p);
    }

    /// The PF's copy of a VF's V2PMAILBOX: PFSTS, PFACK and RSTD clear once read (QEMU).
    pub(super) fn read_v2p(&mut self, offset: u64) -> u32 {
        let v = self.reg(offset);
        self.set_reg(offset, v & !(V2P_PFSTS | V2P_PFACK | V2P_RSTD));
        v
    }

    /// CTRL_EXT written with PFRSTD: every VF sees the PF reset done (RSTD, not RSTI).
    pub(super) fn pf_reset_done(&mut self) {
        for vf in 0..POOLS as u64 {
            let at = V2PMAILBOX + 4 * vf;
            let v = self.reg(at);
            self.set_reg(at, (v & !V2P_RSTI) | V2P_RSTD);
        }
    }
}
