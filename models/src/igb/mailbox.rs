//! The PF↔VF mailbox (facts §1.11). Each of the 8 VFs has 16 dwords of shared memory (VMBMEM,
//! plain storage), the PF's control register P2VMAILBOX and the VF's V2PMAILBOX, which QEMU
//! also leaves writable from the PF's BAR (at 0xC40 + 4·n) with the VF's meaning. No VF device
//! exists (module doc); both sides behave as QEMU's:
//! - the PF takes the buffer (PFU) only while the VF does not own it (VFU), and the VF only
//!   while the PF does not;
//! - STS and ACK are commands: they set the VF's PFSTS/PFACK (read to clear) and interrupt the
//!   VF on the vector its VTIVAR_MISC names; REQ and ACK from the VF set its MBVFICR bits
//!   (VFREQ, VFACK) and the PF's VMMB cause;
//! - RVFU takes the buffer from the VF and clears its MBVFICR bits;
//! - a PF reset sets RSTI for every VF; a CTRL_EXT write with PFRSTD turns it into RSTD.

use super::vf::VTIVAR_MISC;
use super::*;

/// V2PMAILBOX: the VF sends a message.
const V2P_REQ: u32 = 0x01;
/// V2PMAILBOX: the VF acknowledges the PF's message.
const V2P_ACK: u32 = 0x02;
/// MBVFICR: VF 0's request bit (VF n: << n).
const MBVFICR_VFREQ: u32 = 1 << 0;
/// MBVFICR: VF 0's acknowledge bit (VF n: << n).
const MBVFICR_VFACK: u32 = 1 << 16;

/// Whether `offset` is a P2VMAILBOX register.
pub(super) fn is_p2v(offset: u64) -> bool {
    (P2VMAILBOX..P2VMAILBOX + 4 * POOLS as u64).contains(&offset)
}

/// Whether `offset` is a V2PMAILBOX register.
pub(super) fn is_v2p(offset: u64) -> bool {
    (V2PMAILBOX..V2PMAILBOX + 4 * POOLS as u64).contains(&offset)
}

impl Igb {
    /// The PF writes its mailbox control for VF `n`.
    pub(super) fn write_p2v(&mut self, ctx: &mut dyn Context, offset: u64, value: u32) {
        let vf = ((offset - P2VMAILBOX) / 4) as usize;
        let v2p_at = V2PMAILBOX + 4 * vf as u64;
        if value & P2V_STS != 0 {
            tracing::trace!(target: "igb_mailbox_pf_sts", "vf {vf}");
            self.set_bits(v2p_at, V2P_PFSTS);
            self.interrupt_vf(ctx, vf);
        }
        if value & P2V_ACK != 0 {
            self.set_bits(v2p_at, V2P_PFACK);
            self.interrupt_vf(ctx, vf);
        }
        if value & P2V_PFU != 0 {
            if self.reg(offset) & P2V_VFU == 0 {
                self.set_bits(offset, P2V_PFU);
                self.set_bits(v2p_at, V2P_PFU);
            }
        } else {
            self.clear_bits(offset, P2V_PFU);
            self.clear_bits(v2p_at, V2P_PFU);
        }
        if value & P2V_RVFU != 0 {
            self.clear_bits(v2p_at, V2P_VFU);
            self.clear_bits(MBVFICR, (MBVFICR_VFREQ | MBVFICR_VFACK) << vf);
        }
    }

    /// A write of VF `n`'s mailbox control (the VF's side).
    pub(super) fn write_v2p(&mut self, ctx: &mut dyn Context, offset: u64, value: u32) {
        let vf = ((offset - V2PMAILBOX) / 4) as usize;
        let p2v_at = P2VMAILBOX + 4 * vf as u64;
        if value & V2P_REQ != 0 {
            self.set_bits(MBVFICR, MBVFICR_VFREQ << vf);
            self.raise(ctx, ICR, ICR_VMMB);
        }
        if value & V2P_ACK != 0 {
            self.set_bits(MBVFICR, MBVFICR_VFACK << vf);
            self.raise(ctx, ICR, ICR_VMMB);
        }
        if value & V2P_VFU != 0 {
            if self.reg(offset) & V2P_PFU == 0 {
                self.set_bits(offset, V2P_VFU);
                self.set_bits(p2v_at, P2V_VFU);
            }
        } else {
            self.clear_bits(offset, V2P_VFU);
            self.clear_bits(p2v_at, P2V_VFU);
        }
    }

    /// The VF's copy of its mailbox control: PFSTS, PFACK and RSTD clear once read.
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

    /// The mailbox interrupt of VF `n`: the vector its VTIVAR_MISC entry names, if valid.
    fn interrupt_vf(&mut self, ctx: &mut dyn Context, vf: usize) {
        let entry = self.reg(VTIVAR_MISC + 4 * vf as u64);
        if entry & u32::from(IVAR_VALID) != 0 {
            let bits = (entry & 0x3) << (22 - 3 * vf as u32);
            self.raise(ctx, EICR, bits);
        }
    }

    fn set_bits(&mut self, offset: u64, bits: u32) {
        let v = self.reg(offset) | bits;
        self.set_reg(offset, v);
    }

    fn clear_bits(&mut self, offset: u64, bits: u32) {
        let v = self.reg(offset) & !bits;
        self.set_reg(offset, v);
    }
}
