//! Interrupt causes and their delivery (facts §1.5, §1.11): ICR/IMS as on the 82574L plus the
//! extended registers (EICR/EICS/EIMS/EIMC/EIAC/EIAM, GPIE) and IVAR routing to MSI-X vectors.
//!
//! Causes are delivered on the edge, as QEMU does: a message (or an INTx assertion) goes out
//! when a cause becomes pending and enabled, not while it stays so.
//! - Outside MSI-X mode (GPIE.MSIX_MODE clear) INT_ASSERTED follows whether ICR has any cause;
//!   a newly pending ICR & IMS cause sets EICR.OTHER (and DRSTA) and sends MSI-X vector 0, the
//!   MSI message or asserts INTx (counted in IAC). When ICR & IMS empties, OTHER clears and INTx
//!   is deasserted (with MSI and MSI-X off).
//! - In MSI-X mode a newly pending ICR & IMS cause sets the EICR bit IVAR_MISC names (byte 0
//!   for DRSTA, byte 1 for the others), and every newly pending EICR & EIMS bit sends its
//!   vector; EIAC bits clear from EICR as their vector is sent.

use super::*;

/// The IVAR0 byte of RX queue `n`'s entry.
pub(super) fn ivar_rx_byte(n: usize) -> u64 {
    if n < 8 {
        4 * n as u64
    } else {
        4 * (n as u64 - 8) + 2
    }
}

/// The IVAR0 byte of TX queue `n`'s entry.
pub(super) fn ivar_tx_byte(n: usize) -> u64 {
    ivar_rx_byte(n) + 1
}

/// The EICR bit a valid IVAR entry names (0 when not valid).
fn entry_bit(entry: u8) -> u32 {
    if entry & IVAR_VALID != 0 {
        1 << (entry & 0x1F)
    } else {
        0
    }
}

impl Igb {
    fn ivar_byte(&self, byte: u64) -> u8 {
        (self.reg(IVAR0 + byte / 4 * 4) >> (8 * (byte % 4))) as u8
    }

    /// The EICR bit RX queue `n` raises.
    pub(super) fn rx_eicr(&self, n: usize) -> u32 {
        entry_bit(self.ivar_byte(ivar_rx_byte(n)))
    }

    /// The EICR bit TX queue `n` raises.
    pub(super) fn tx_eicr(&self, n: usize) -> u32 {
        entry_bit(self.ivar_byte(ivar_tx_byte(n)))
    }

    fn msix_mode(&self) -> bool {
        self.reg(GPIE) & GPIE_MSIX_MODE != 0
    }

    /// The EICR bits that exist in the current GPIE mode.
    pub(super) fn eicr_mask(&self) -> u32 {
        if self.msix_mode() {
            EICR_MSIX_MASK
        } else {
            EICR_LEGACY_MASK
        }
    }

    pub(super) fn msix_enabled(&self) -> bool {
        self.irq.msix_enabled(&self.pci)
    }

    /// ICR read: clears (and lowers) every cause when GPIE.NSICR is set, IMS is 0,
    /// INT_ASSERTED is set or MSI-X is off; then the IAM auto-mask of GPIE.NSICR.
    pub(super) fn read_icr(&mut self, ctx: &mut dyn Context) -> u32 {
        let icr = self.reg(ICR);
        if self.reg(GPIE) & GPIE_NSICR != 0
            || self.reg(IMS) == 0
            || icr & ICR_INT_ASSERTED != 0
            || !self.msix_enabled()
        {
            tracing::trace!(target: "igb_irq_icr_clear_on_read", "{icr:#x}");
            self.lower(ctx, ICR, u32::MAX);
        }
        self.auto_mask(ctx);
        icr
    }

    /// ICR write: the IAM auto-mask, then write 1 to clear.
    pub(super) fn write_icr(&mut self, ctx: &mut dyn Context, value: u32) {
        self.auto_mask(ctx);
        self.lower(ctx, ICR, value);
    }

    /// IMS loses the IAM bits when GPIE.NSICR is set, or when an asserted interrupt is
    /// acknowledged with IMS non-zero.
    fn auto_mask(&mut self, ctx: &mut dyn Context) {
        if self.reg(GPIE) & GPIE_NSICR != 0
            || (self.reg(IMS) != 0 && self.reg(ICR) & ICR_INT_ASSERTED != 0)
        {
            let iam = self.reg(IAM);
            self.lower(ctx, IMS, iam);
        }
    }

    /// EIAC: only in MSI-X mode, and bits only accumulate.
    pub(super) fn write_eiac(&mut self, value: u32) {
        if self.msix_mode() {
            let v = self.reg(EIAC) | (value & EICR_MSIX_MASK);
            self.set_reg(EIAC, v);
        }
    }

    /// EIAM accumulates the complement of the written bits (QEMU; nothing else reads it).
    pub(super) fn write_eiam(&mut self, value: u32) {
        let v = self.reg(EIAM) | !(value & self.eicr_mask());
        self.set_reg(EIAM, v);
    }

    /// Set ICR causes and EICR bits (EICR first, as the queues do) and deliver what is new.
    pub(super) fn raise_causes(&mut self, ctx: &mut dyn Context, causes: u32, eicr: u32) {
        if eicr != 0 {
            self.raise(ctx, EICR, eicr);
        }
        if causes != 0 {
            self.raise(ctx, ICR, causes);
        }
    }

    /// Set `bits` in ICR, IMS, EICR or EIMS and deliver whatever became pending.
    pub(super) fn raise(&mut self, ctx: &mut dyn Context, reg: u64, bits: u32) {
        let old_pending = self.reg(ICR) & self.reg(IMS);
        let old_epending = self.reg(EICR) & self.reg(EIMS);
        tracing::trace!(target: "igb_irq_set_cause", "reg {reg:#x} bits {bits:#x}");
        let v = self.reg(reg) | bits;
        self.set_reg(reg, v);
        if self.msix_mode() {
            let raised = self.reg(ICR) & self.reg(IMS) & !old_pending;
            let misc = self.reg(IVAR_MISC);
            let mut eicr = self.reg(EICR);
            if raised & ICR_DRSTA != 0 {
                eicr |= entry_bit(misc as u8);
            }
            if raised & !ICR_DRSTA != 0 {
                eicr |= entry_bit((misc >> 8) as u8);
            }
            self.set_reg(EICR, eicr);
            let fresh = eicr & self.reg(EIMS) & !old_epending;
            if fresh != 0 {
                self.send_vectors(ctx, fresh);
            }
        } else {
            let icr = self.reg(ICR) & !ICR_INT_ASSERTED;
            let asserted = if icr != 0 { ICR_INT_ASSERTED } else { 0 };
            self.set_reg(ICR, icr | asserted);
            let raised = self.reg(ICR) & self.reg(IMS) & !old_pending;
            if raised == 0 {
                return;
            }
            let eicr = self.reg(EICR) | (raised & ICR_DRSTA) | EICR_OTHER;
            self.set_reg(EICR, eicr);
            if self.msix_enabled() {
                self.irq.msix_send(&self.pci, ctx, 0);
            } else {
                self.irq.notify_legacy(&mut self.pci, &mut self.regs, ctx);
            }
        }
    }

    /// Clear `bits` in ICR, IMS, EICR or EIMS; outside MSI-X mode, with nothing pending, clear
    /// EICR.OTHER and deassert INTx.
    pub(super) fn lower(&mut self, ctx: &mut dyn Context, reg: u64, bits: u32) {
        let v = self.reg(reg) & !bits;
        self.set_reg(reg, v);
        if self.reg(ICR) & self.reg(IMS) == 0 && !self.msix_mode() {
            let eicr = self.reg(EICR) & !EICR_OTHER;
            self.set_reg(EICR, eicr);
            self.irq.settle_legacy(&mut self.pci, ctx);
        }
    }

    /// MSI-X mode: send each vector of `bits`; EIAC bits clear from EICR as they go.
    fn send_vectors(&mut self, ctx: &mut dyn Context, bits: u32) {
        for vector in 0..EITR_COUNT as usize {
            let bit = 1u32 << vector;
            if bits & bit == 0 {
                continue;
            }
            if vector >= MSIX_VECTORS {
                // No such MSI-X vector for the PF: nothing is sent and EIAC does not apply.
                continue;
            }
            self.irq.msix_send(&self.pci, ctx, vector);
            let eicr = self.reg(EICR) & !(self.reg(EIAC) & bit);
            self.set_reg(EICR, eicr);
        }
    }
}
