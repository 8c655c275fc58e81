//! How both chips get an interrupt to the CPU once their cause registers say one is due: the
//! INTx line, the MSI message and the MSI-X table (facts §1.5). What makes an interrupt due —
//! ICR/IMS on the 82574L, ICR/IMS and EICR/EIMS on the 82576 — stays in each model; this is the
//! PCI side, which is the same hardware and the same QEMU code (`hw/pci/msi.c`, `msix.c`) for
//! both.
//!
//! The differences are data ([`IrqLayout`]): where the capabilities sit, and whether the MSI
//! capability has per-vector masking (the 82576's has, the 82574L's has not). A model names
//! its layout through [`IrqChip`], so the offsets are constants in the delivery path.
//!
//! Masking, as the PCI spec and QEMU have it:
//! - An MSI-X vector is masked by its own vector control bit, or by the whole function: MSI-X
//!   off or the capability's mask-all bit set. A message for a masked vector sets its pending
//!   bit instead; the message goes out when the vector is unmasked, by a table write or by a
//!   configuration write that clears mask-all or enables MSI-X.
//! - MSI with per-vector masking: a message while the mask bit is set sets the pending bit; a
//!   configuration write that leaves MSI on and the vector unmasked sends it.

use super::msix::Msix;
use super::regfile::RegFile;
use super::regs::IAC;
use super::{Chip, MSI_CTRL_ENABLE, MSIX_CTRL_ENABLE, MSIX_CTRL_MASKALL};
use harness::device::Context;
use harness::pci::PciConfig;
use std::marker::PhantomData;

/// Where a chip's message capabilities sit and what they can do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IrqLayout {
    /// Which chip (trace event names).
    pub chip: Chip,
    /// The INTx pin the device drives (its `Context::set_irq` line).
    pub pin: u8,
    /// Offset of the MSI capability (64-bit address).
    pub cap_msi: u8,
    /// Offset of the MSI-X capability.
    pub cap_msix: u8,
    /// The MSI capability has per-vector masking: mask bits at +0x10, pending bits at +0x14.
    pub msi_vector_mask: bool,
    /// Offset of the pending bit array in the MSI-X BAR.
    pub pba_offset: u64,
}

/// A chip's interrupt layout, as a type (the offsets fold into the delivery code).
pub trait IrqChip {
    /// The layout.
    const LAYOUT: IrqLayout;
}

/// The interrupt outputs of one NIC of chip `C`: the INTx level and line, and the MSI-X
/// table of `N` vectors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Irq<C, const N: usize> {
    chip: PhantomData<C>,
    msix: Msix<N>,
    /// The INTx level the device drives (QEMU's PCI IRQ level).
    intx_level: bool,
    /// The INTx line as the command register's INTx disable lets it through.
    intx_line: bool,
}

impl<C: IrqChip, const N: usize> Default for Irq<C, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<C: IrqChip, const N: usize> Irq<C, N> {
    const LAYOUT: IrqLayout = C::LAYOUT;

    /// INTx low, every MSI-X vector masked, nothing pending.
    pub fn new() -> Self {
        Self {
            chip: PhantomData,
            msix: Msix::new(Self::LAYOUT.pba_offset),
            intx_level: false,
            intx_line: false,
        }
    }

    /// MSI is enabled in the capability.
    #[inline]
    pub fn msi_enabled(&self, pci: &PciConfig) -> bool {
        pci.u16(Self::LAYOUT.cap_msi + 2) & MSI_CTRL_ENABLE != 0
    }

    /// MSI-X is enabled in the capability.
    #[inline]
    pub fn msix_enabled(&self, pci: &PciConfig) -> bool {
        pci.u16(Self::LAYOUT.cap_msix + 2) & MSIX_CTRL_ENABLE != 0
    }

    /// The whole MSI-X function is masked: MSI-X off or mask-all set.
    #[inline]
    fn msix_function_masked(&self, pci: &PciConfig) -> bool {
        let control = pci.u16(Self::LAYOUT.cap_msix + 2);
        control & MSIX_CTRL_ENABLE == 0 || control & MSIX_CTRL_MASKALL != 0
    }

    /// A cause became pending outside MSI-X: the MSI message, or INTx rises (counted in IAC).
    pub fn notify_legacy(
        &mut self,
        pci: &mut PciConfig,
        regs: &mut RegFile,
        ctx: &mut dyn Context,
    ) {
        if self.msi_enabled(pci) {
            self.msi_notify(pci, ctx);
        } else {
            regs.count(IAC, 1);
            self.set_intx(pci, ctx, true);
        }
    }

    /// No cause is pending any more: INTx falls, unless MSI or MSI-X is on (then the level
    /// stays as it was, as QEMU leaves it).
    #[inline]
    pub fn settle_legacy(&mut self, pci: &mut PciConfig, ctx: &mut dyn Context) {
        if !self.msix_enabled(pci) && !self.msi_enabled(pci) {
            self.set_intx(pci, ctx, false);
        }
    }

    /// Set the INTx level the device drives (the status register's interrupt bit follows).
    pub fn set_intx(&mut self, pci: &mut PciConfig, ctx: &mut dyn Context, level: bool) {
        if level != self.intx_level {
            trace_chip!(
                Self::LAYOUT.chip,
                "e1000e_irq_legacy_notify",
                "igb_irq_legacy_notify",
                "{level}"
            );
            self.intx_level = level;
            pci.set_interrupt_status(level);
        }
        self.drive_intx(pci, ctx);
    }

    /// Drive the INTx line: the level unless the command register disables INTx.
    fn drive_intx(&mut self, pci: &PciConfig, ctx: &mut dyn Context) {
        let line = self.intx_level && !pci.intx_disabled();
        if line != self.intx_line {
            self.intx_line = line;
            ctx.set_irq(Self::LAYOUT.pin, line);
        }
    }

    /// Send the MSI message (vector 0), or with per-vector masking and the vector masked,
    /// set its pending bit.
    fn msi_notify(&mut self, pci: &mut PciConfig, ctx: &mut dyn Context) {
        let cap = Self::LAYOUT.cap_msi;
        if Self::LAYOUT.msi_vector_mask && pci.u32(cap + 0x10) & 1 != 0 {
            let pending = pci.u32(cap + 0x14) | 1;
            pci.set_u32(cap + 0x14, pending);
            return;
        }
        let addr = u64::from(pci.u32(cap + 4)) | u64::from(pci.u32(cap + 8)) << 32;
        let data = u32::from(pci.u16(cap + 0xC));
        trace_chip!(
            Self::LAYOUT.chip,
            "e1000e_irq_msi_notify",
            "igb_irq_msi_notify",
            "addr {addr:#x} data {data:#x}"
        );
        send_message(pci, ctx, addr, data);
    }

    /// Send MSI-X `vector`, or set its pending bit when it or the function is masked.
    pub fn msix_send(&mut self, pci: &PciConfig, ctx: &mut dyn Context, vector: usize) {
        let function_masked = self.msix_function_masked(pci);
        let Some((addr, data)) = self.msix.message(vector, function_masked) else {
            return;
        };
        trace_chip!(
            Self::LAYOUT.chip,
            "e1000e_irq_msix_notify_vec",
            "igb_msix_notify_vec",
            "vector {vector}"
        );
        send_message(pci, ctx, addr, data);
    }

    /// Clear the MSI-X pending bits of `bits` (PBACLR, IMS with CTRL_EXT.PBA_CLR).
    pub fn clear_pending(&mut self, bits: u32) {
        self.msix.clear_pending(bits);
    }

    /// A guest read of the MSI-X BAR.
    pub fn msix_read(&self, offset: u64) -> u32 {
        self.msix.read(offset)
    }

    /// A guest write to the MSI-X BAR: unmasking a vector whose pending bit is set sends it
    /// (unless the function is masked: then it stays pending).
    pub fn msix_write(&mut self, pci: &PciConfig, ctx: &mut dyn Context, offset: u64, value: u32) {
        if let Some(vector) = self.msix.write(offset, value) {
            self.msix_send(pci, ctx, vector);
        }
    }

    /// After a configuration write: INTx disable gates the line; enabling or unmasking MSI-X
    /// sends the pending vectors that are now unmasked; MSI with per-vector masking sends
    /// its pending message once enabled and unmasked.
    pub fn config_written(&mut self, pci: &mut PciConfig, ctx: &mut dyn Context) {
        self.drive_intx(pci, ctx);
        if self.msix.pba() != 0 {
            let function_masked = self.msix_function_masked(pci);
            let pending = self.msix.take_unmasked_pending(function_masked);
            for vector in (0..N).filter(|v| pending & 1 << v != 0) {
                self.msix_send(pci, ctx, vector);
            }
        }
        let cap = Self::LAYOUT.cap_msi;
        if Self::LAYOUT.msi_vector_mask
            && self.msi_enabled(pci)
            && pci.u32(cap + 0x14) & 1 != 0
            && pci.u32(cap + 0x10) & 1 == 0
        {
            let pending = pci.u32(cap + 0x14) & !1;
            pci.set_u32(cap + 0x14, pending);
            self.msi_notify(pci, ctx);
        }
    }
}

/// A message is a dword the function writes to memory: nothing without bus mastering.
fn send_message(pci: &PciConfig, ctx: &mut dyn Context, addr: u64, data: u32) {
    if pci.bus_master() {
        let _ = ctx.dma_write(addr, &data.to_le_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use harness::pci;
    use harness::testing::TestContext;

    const MSI: u8 = 0x50;
    const MSIX: u8 = 0x70;
    const TARGET: u64 = 0x1000;

    const fn layout(msi_vector_mask: bool) -> IrqLayout {
        IrqLayout {
            chip: Chip::Igb,
            pin: 0,
            cap_msi: MSI,
            cap_msix: MSIX,
            msi_vector_mask,
            pba_offset: 0x800,
        }
    }

    /// MSI without per-vector masking.
    #[derive(Clone, Debug, PartialEq, Eq)]
    struct Plain;
    impl IrqChip for Plain {
        const LAYOUT: IrqLayout = layout(false);
    }

    /// MSI with per-vector masking.
    #[derive(Clone, Debug, PartialEq, Eq)]
    struct Masking;
    impl IrqChip for Masking {
        const LAYOUT: IrqLayout = layout(true);
    }

    /// A function with bus mastering on and MSI-X `control`; vector 0 unmasked, aimed at
    /// [`TARGET`] with data 0xAB.
    fn msix_setup(control: u16) -> (Irq<Plain, 2>, PciConfig, TestContext) {
        let mut pci = PciConfig::new(0x8086, 0x10C9, 0x02_0000, 0, 0);
        pci.set_u16(pci::COMMAND, pci::COMMAND_MASTER);
        pci.set_u16(MSIX + 2, control);
        let mut irq = Irq::new();
        let mut c = TestContext::new(0x2000);
        for (dword, value) in [(0, TARGET as u32), (2, 0xAB), (3, 0)] {
            irq.msix_write(&pci, &mut c, dword * 4, value);
        }
        (irq, pci, c)
    }

    #[test]
    fn a_vector_held_by_mask_all_goes_out_when_mask_all_clears() {
        let (mut irq, mut pci, mut c) = msix_setup(MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL);
        irq.msix_send(&pci, &mut c, 0);
        assert_eq!(c.ram[TARGET as usize], 0, "masked: no message");
        assert_eq!(irq.msix_read(0x800), 1, "pending");
        pci.set_u16(MSIX + 2, MSIX_CTRL_ENABLE);
        irq.config_written(&mut pci, &mut c);
        assert_eq!(c.ram[TARGET as usize], 0xAB);
        assert_eq!(irq.msix_read(0x800), 0);
    }

    #[test]
    fn unmasking_a_vector_while_msix_is_off_keeps_it_pending() {
        let (mut irq, mut pci, mut c) = msix_setup(MSIX_CTRL_ENABLE);
        irq.msix_write(&pci, &mut c, 12, 1);
        irq.msix_send(&pci, &mut c, 0);
        assert_eq!(irq.msix_read(0x800), 1);
        pci.set_u16(MSIX + 2, 0);
        irq.config_written(&mut pci, &mut c);
        irq.msix_write(&pci, &mut c, 12, 0);
        assert_eq!(c.ram[TARGET as usize], 0, "the function is masked");
        assert_eq!(irq.msix_read(0x800), 1);
        pci.set_u16(MSIX + 2, MSIX_CTRL_ENABLE);
        irq.config_written(&mut pci, &mut c);
        assert_eq!(c.ram[TARGET as usize], 0xAB);
        assert_eq!(irq.msix_read(0x800), 0);
    }

    fn msi_setup<C: IrqChip>() -> (Irq<C, 2>, PciConfig, TestContext, RegFile) {
        let mut pci = PciConfig::new(0x8086, 0x10C9, 0x02_0000, 0, 0);
        pci.set_u16(pci::COMMAND, pci::COMMAND_MASTER);
        pci.set_u16(MSI + 2, MSI_CTRL_ENABLE);
        pci.set_u32(MSI + 4, TARGET as u32);
        pci.set_u16(MSI + 0xC, 0xCD);
        // The mask bit of vector 0 (a capability without per-vector masking has no such
        // register: the bit means nothing there).
        pci.set_u32(MSI + 0x10, 1);
        let irq = Irq::new();
        (irq, pci, TestContext::new(0x2000), RegFile::new(0x5000))
    }

    #[test]
    fn a_masked_msi_vector_is_held_pending_until_unmasked() {
        let (mut irq, mut pci, mut c, mut regs) = msi_setup::<Masking>();
        irq.notify_legacy(&mut pci, &mut regs, &mut c);
        assert_eq!(c.ram[TARGET as usize], 0);
        assert_eq!(pci.u32(MSI + 0x14), 1, "pending");
        pci.set_u32(MSI + 0x10, 0);
        irq.config_written(&mut pci, &mut c);
        assert_eq!(c.ram[TARGET as usize], 0xCD);
        assert_eq!(pci.u32(MSI + 0x14), 0);
        assert!(c.irq_log.is_empty(), "MSI, not INTx");
    }

    #[test]
    fn without_per_vector_masking_msi_goes_out_at_once() {
        let (mut irq, mut pci, mut c, mut regs) = msi_setup::<Plain>();
        irq.notify_legacy(&mut pci, &mut regs, &mut c);
        assert_eq!(c.ram[TARGET as usize], 0xCD);
    }

    #[test]
    fn intx_rises_counted_in_iac_and_falls_when_settled() {
        let mut pci = PciConfig::new(0x8086, 0x10C9, 0x02_0000, 0, 0);
        let mut irq: Irq<Plain, 2> = Irq::new();
        let mut c = TestContext::new(0x100);
        let mut regs = RegFile::new(0x5000);
        irq.notify_legacy(&mut pci, &mut regs, &mut c);
        irq.settle_legacy(&mut pci, &mut c);
        assert_eq!(c.irq_log, [(0, true), (0, false)]);
        assert_eq!(regs.get(IAC), 1);
    }
}
