//! Interrupt causes and their delivery (facts §1.5, §1.11): ICR/IMS as on the 82574L plus the
//! extended registers (EICR/EICS/EIMS/EIMC/EIAC/EIAM, GPIE) and IVAR routing to MSI-X vectors.
//!
//! In non-MSI-X mode (GPIE.MSIX_MODE clear) EICR holds queue bits and OTHER (bit 31), which
//! mirrors whether ICR & IMS is non-zero; the line or the single MSI/MSI-X message follow
//! ICR & IMS. In MSI-X mode EICR bits are vectors: queue causes set the bit their IVAR entry
//! names, the other ICR causes set IVAR_MISC's, and every new EICR & EIMS bit sends its vector
//! (EIAC auto-clears it, EIAM with GPIE.EIAME auto-masks it).

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

    fn eicr_mask(&self) -> u32 {
        if self.msix_mode() {
            EICR_MSIX_MASK
        } else {
            EICR_LEGACY_MASK
        }
    }

    fn msi_enabled(&self) -> bool {
        self.pci.u16(CAP_MSI + 2) & MSI_CTRL_ENABLE != 0
    }

    fn msix_enabled(&self) -> bool {
        self.pci.u16(CAP_MSIX + 2) & MSIX_CTRL_ENABLE != 0
    }

    pub(super) fn read_icr(&mut self, ctx: &mut dyn Context) -> u32 {
        let icr = self.reg(ICR);
        let ims = self.reg(IMS);
        if icr & ICR_INT_ASSERTED != 0 && self.reg(CTRL_EXT) & CTRL_EXT_IAME != 0 {
            let iam = self.reg(IAM);
            self.set_reg(IMS, ims & !iam);
        }
        let clear = self.reg(GPIE) & GPIE_NSICR != 0
            || ims == 0
            || icr & ICR_INT_ASSERTED != 0
            || !self.msix_mode();
        if clear {
            tracing::trace!(target: "igb_irq_icr_clear_on_read", "{icr:#x}");
            self.set_reg(ICR, 0);
        }
        self.update_interrupts(ctx, 0, 0);
        icr
    }

    pub(super) fn write_icr(&mut self, ctx: &mut dyn Context, value: u32) {
        let mut icr = self.reg(ICR) & !value;
        if icr & !ICR_INT_ASSERTED == 0 {
            icr = 0;
        }
        self.set_reg(ICR, icr);
        self.update_interrupts(ctx, 0, 0);
    }

    pub(super) fn write_ims(&mut self, ctx: &mut dyn Context, value: u32) {
        let ims = self.reg(IMS) | (value & IMS_VALID);
        self.set_reg(IMS, ims);
        let pending = self.reg(ICR) & value & IMS_VALID;
        self.update_interrupts(ctx, pending, 0);
    }

    pub(super) fn write_imc(&mut self, ctx: &mut dyn Context, value: u32) {
        let ims = self.reg(IMS) & !value;
        self.set_reg(IMS, ims);
        self.update_interrupts(ctx, 0, 0);
    }

    pub(super) fn read_eicr(&mut self, ctx: &mut dyn Context) -> u32 {
        let eicr = self.reg(EICR);
        self.set_reg(EICR, 0);
        self.update_interrupts(ctx, 0, 0);
        eicr
    }

    pub(super) fn write_eicr(&mut self, ctx: &mut dyn Context, value: u32) {
        let eicr = self.reg(EICR) & !value;
        self.set_reg(EICR, eicr);
        self.update_interrupts(ctx, 0, 0);
    }

    pub(super) fn write_eics(&mut self, ctx: &mut dyn Context, value: u32) {
        self.raise(ctx, 0, value);
    }

    pub(super) fn write_eims(&mut self, ctx: &mut dyn Context, value: u32) {
        let value = value & self.eicr_mask();
        let eims = self.reg(EIMS) | value;
        self.set_reg(EIMS, eims);
        let pending = self.reg(EICR) & value;
        self.update_interrupts(ctx, 0, pending);
    }

    pub(super) fn write_eimc(&mut self, ctx: &mut dyn Context, value: u32) {
        let eims = self.reg(EIMS) & !value;
        self.set_reg(EIMS, eims);
        self.update_interrupts(ctx, 0, 0);
    }

    /// Set ICR causes and EICR bits and deliver what is new.
    pub(super) fn raise(&mut self, ctx: &mut dyn Context, causes: u32, eicr: u32) {
        let causes = causes & !ICR_INT_ASSERTED;
        let eicr = eicr & self.eicr_mask();
        if causes == 0 && eicr == 0 {
            return;
        }
        tracing::trace!(target: "igb_irq_set_cause", "icr {causes:#x} eicr {eicr:#x}");
        if causes != 0 {
            let icr = self.reg(ICR) | causes | ICR_INT_ASSERTED;
            self.set_reg(ICR, icr);
        }
        let e = self.reg(EICR) | eicr;
        self.set_reg(EICR, e);
        self.update_interrupts(ctx, causes, eicr);
    }

    /// Recompute EICR.OTHER / the other-cause vectors and the INTx level, and send messages for
    /// `new_icr` causes and `new_eicr` bits.
    pub(super) fn update_interrupts(&mut self, ctx: &mut dyn Context, new_icr: u32, new_eicr: u32) {
        let pending = self.reg(ICR) & self.reg(IMS);
        if self.msix_mode() {
            let mut other = 0;
            if pending & ICR_DRSTA != 0 {
                other |= entry_bit(self.reg(IVAR_MISC) as u8);
            }
            if pending & !(ICR_DRSTA | ICR_INT_ASSERTED) != 0 {
                other |= entry_bit((self.reg(IVAR_MISC) >> 8) as u8);
            }
            let other = other & EICR_MSIX_MASK;
            let eicr = self.reg(EICR);
            let newly = other & !eicr;
            self.set_reg(EICR, eicr | other);
            let active = self.reg(EICR) & self.reg(EIMS);
            let level = active != 0
                && !self.msi_enabled()
                && !self.msix_enabled()
                && !self.pci.intx_disabled();
            self.set_level(ctx, level);
            let fresh = (new_eicr
                | newly
                | if new_icr & self.reg(IMS) != 0 {
                    other
                } else {
                    0
                })
                & self.reg(EICR)
                & self.reg(EIMS);
            if fresh == 0 {
                return;
            }
            if self.msix_enabled() {
                self.send_vectors(ctx, fresh);
            } else if self.msi_enabled() {
                self.msi_notify(ctx);
            }
        } else {
            let eicr = self.reg(EICR);
            let eicr = if pending != 0 {
                eicr | EICR_OTHER
            } else {
                eicr & !EICR_OTHER
            };
            self.set_reg(EICR, eicr);
            let level = pending != 0
                && !self.msi_enabled()
                && !self.msix_enabled()
                && !self.pci.intx_disabled();
            self.set_level(ctx, level);
            if new_icr & self.reg(IMS) == 0 {
                return;
            }
            if self.msix_enabled() {
                self.msix_send(ctx, 0);
            } else if self.msi_enabled() {
                self.msi_notify(ctx);
            }
        }
    }

    fn set_level(&mut self, ctx: &mut dyn Context, level: bool) {
        if level != self.intx_level {
            tracing::trace!(target: "igb_irq_legacy_notify", "{level}");
            self.intx_level = level;
            self.pci.set_interrupt_status(level);
            ctx.set_irq(IRQ_PIN, level);
        }
    }

    /// MSI-X mode: send each vector of `bits`, auto-clearing (EIAC) and auto-masking (EIAM
    /// with GPIE.EIAME) as it goes.
    fn send_vectors(&mut self, ctx: &mut dyn Context, bits: u32) {
        for vector in 0..32usize {
            let bit = 1u32 << vector;
            if bits & bit == 0 {
                continue;
            }
            if self.reg(GPIE) & GPIE_EIAME != 0 && self.reg(EIAM) & bit != 0 {
                let eims = self.reg(EIMS) & !bit;
                self.set_reg(EIMS, eims);
            }
            if self.reg(EIAC) & bit != 0 {
                let eicr = self.reg(EICR) & !bit;
                self.set_reg(EICR, eicr);
            }
            self.msix_send(ctx, vector);
        }
    }

    pub(super) fn msix_send(&mut self, ctx: &mut dyn Context, vector: usize) {
        let function_masked = self.pci.u16(CAP_MSIX + 2) & MSIX_CTRL_MASKALL != 0;
        let Some((addr, data)) = self.msix.message(vector, function_masked) else {
            return;
        };
        tracing::trace!(target: "igb_msix_notify_vec", "vector {vector}");
        if self.bus_master() {
            let _ = ctx.dma_write(addr, &data.to_le_bytes());
        }
    }

    fn msi_notify(&mut self, ctx: &mut dyn Context) {
        if self.pci.u32(CAP_MSI + 0x10) & 1 != 0 {
            // Per-vector mask: remember it as pending.
            let pending = self.pci.u32(CAP_MSI + 0x14) | 1;
            self.pci.set_u32(CAP_MSI + 0x14, pending);
            return;
        }
        let addr =
            u64::from(self.pci.u32(CAP_MSI + 4)) | u64::from(self.pci.u32(CAP_MSI + 8)) << 32;
        let data = u32::from(self.pci.u16(CAP_MSI + 0xC));
        tracing::trace!(target: "igb_irq_msi_notify", "addr {addr:#x} data {data:#x}");
        if self.bus_master() {
            let _ = ctx.dma_write(addr, &data.to_le_bytes());
        }
    }
}
