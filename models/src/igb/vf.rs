//! The VF registers as the PF reaches them in BAR0 at 0x10000 (QEMU maps each VF's BAR onto
//! this window). No VF device exists (module doc), but the window answers as QEMU's does: VF
//! n's interrupt registers (0x10000 + 0x100·n) move the PF's EICR/EIMS/EIAC/EIAM bits of that
//! VF's three MSI-X vectors (EICR bits 22-24 for VF 0, three lower per VF), its IVAR entries
//! (0x11700 + 4·n) fill the PF's IVAR0 entries of queue n, and a VF reset (PVTCTRL.RST) stops
//! queues n and n + 8 and reports it in VFLRE with the mailbox cause.

use super::interrupts::{ivar_rx_byte, ivar_tx_byte};
use super::*;

/// VF 0's register block (+0x100 per VF).
pub const VF_REGS: u64 = 0x10000;
/// Stride of the VF register blocks.
pub const VF_STRIDE: u64 = 0x100;
/// VF control (RST resets the VF).
pub const PVTCTRL: u64 = 0x00;
/// VF extended interrupt cause set.
pub const PVTEICS: u64 = 0x20;
/// VF extended interrupt mask set/read.
pub const PVTEIMS: u64 = 0x24;
/// VF extended interrupt mask clear.
pub const PVTEIMC: u64 = 0x28;
/// VF extended interrupt auto clear.
pub const PVTEIAC: u64 = 0x2C;
/// VF extended interrupt auto mask.
pub const PVTEIAM: u64 = 0x30;
/// VF extended interrupt cause (clear on read).
pub const PVTEICR: u64 = 0x80;
/// VF n's queue interrupt vector allocation (+4 per VF).
pub const VTIVAR: u64 = 0x11700;
/// VF n's mailbox interrupt vector allocation (+4 per VF).
pub const VTIVAR_MISC: u64 = 0x11720;
/// MSI-X vectors of a VF.
const VF_VECTORS: u32 = 3;

/// VF `n`'s register `reg` of the interrupt block, if `offset` is one.
pub(super) fn vf_reg(offset: u64) -> Option<(usize, u64)> {
    let rel = offset.checked_sub(VF_REGS)?;
    let vf = (rel / VF_STRIDE) as usize;
    (vf < POOLS).then_some((vf, rel % VF_STRIDE))
}

/// The PF EICR bits of VF `vf`'s vectors that a VF register's low three bits name.
fn vf_bits(vf: usize, value: u32) -> u32 {
    (value & 0x7) << (22 - vf as u32 * VF_VECTORS)
}

impl Igb {
    pub(super) fn read_vf(&mut self, offset: u64) -> u32 {
        match vf_reg(offset) {
            Some((_, PVTEIMS | PVTEIAC | PVTEIAM)) => self.reg(offset),
            Some((_, PVTEICR)) => {
                let v = self.reg(offset);
                self.set_reg(offset, 0);
                v
            }
            Some(_) => 0,
            None if (VTIVAR..VTIVAR_MISC + 4 * POOLS as u64).contains(&offset) => self.reg(offset),
            None => 0,
        }
    }

    pub(super) fn write_vf(&mut self, ctx: &mut dyn Context, offset: u64, value: u32) {
        if let Some((vf, reg)) = vf_reg(offset) {
            let bits = vf_bits(vf, value);
            let mask = self.eicr_mask();
            match reg {
                PVTCTRL if value & CTRL_RST != 0 => self.vf_reset(ctx, vf),
                PVTEICS => self.raise(ctx, EICR, bits & mask),
                PVTEIMS => self.raise(ctx, EIMS, bits & mask),
                PVTEIMC => self.lower(ctx, EIMS, bits & mask),
                PVTEIAC => self.write_eiac(bits),
                PVTEIAM => self.write_eiam(bits),
                PVTEICR => self.lower(ctx, EICR, bits & mask),
                _ => return,
            }
            if reg != PVTCTRL {
                self.set_reg(offset, value);
            }
        } else if (VTIVAR..VTIVAR + 4 * POOLS as u64).contains(&offset) {
            let vf = ((offset - VTIVAR) / 4) as usize;
            self.set_reg(offset, value);
            // The VF's queue 0 entries name its vectors; they fill queue `vf`'s PF entries.
            for (byte, entry) in [
                (ivar_rx_byte(vf), value as u8),
                (ivar_tx_byte(vf), (value >> 8) as u8),
            ] {
                if entry & IVAR_VALID != 0 {
                    // The VF's vector v (0-2) is PF vector 22 - 3·vf + v; QEMU takes all
                    // three entry bits, so 3-7 reach past the VF's own (up to 29).
                    let vector = (22 - vf as u32 * VF_VECTORS + u32::from(entry & 0x7)) as u8;
                    let at = IVAR0 + byte / 4 * 4;
                    let v = self.reg(at) | u32::from(IVAR_VALID | vector) << (8 * (byte % 4));
                    self.set_reg(at, v);
                }
            }
        } else if (VTIVAR_MISC..VTIVAR_MISC + 4 * POOLS as u64).contains(&offset) {
            self.set_reg(offset, value);
        }
    }

    /// VF reset: its queues (n and n + 8) stop, it may not receive or send, and the PF sees
    /// the reset in VFLRE with the mailbox cause.
    fn vf_reset(&mut self, ctx: &mut dyn Context, vf: usize) {
        for q in [vf, vf + POOLS] {
            for at in [rxq(q, Q_DCTL), txq(q, Q_DCTL)] {
                let v = self.reg(at) & !DCTL_QUEUE_ENABLE;
                self.set_reg(at, v);
            }
        }
        let bit = 1u32 << vf;
        let vfre = self.reg(VFRE) & !bit;
        self.set_reg(VFRE, vfre);
        let vfte = self.reg(VFTE) & !bit;
        self.set_reg(VFTE, vfte);
        let vflre = self.reg(VFLRE) | bit;
        self.set_reg(VFLRE, vflre);
        self.raise(ctx, ICR, ICR_VMMB);
    }
}
