//! What both NIC models do the same way around their own register files, written once as the
//! provided methods of `Nic`: MDIC and the autonegotiation that a PHY write starts, the
//! BAR dispatch and the IOADDR/IODATA window of BAR2, a frame from the backend, and the two timers.
//!
//! A model implements the few required methods (its register file, PHY, link bit, how it
//! raises an ICR cause, its register access, receive and transmit resume) and calls the
//! provided ones from its `Device` implementation.

use super::function::{IO_REGION, MMIO_REGION, MMIO_SIZE, MSIX_REGION};
use super::pcap::Pcap;
use super::phy::Phy;
use super::regs::{CTRL, CTRL_RFCE, CTRL_TFCE, ICR_LSC, ICR_MDAC, IOADDR, IODATA, MDIC};
use super::{AUTONEG_NS, Chip, MAX_FRAME, TIMER_AUTONEG, TIMER_TX_RESUME};
use harness::access::AccessSize;
use harness::device::{Context, RegionId, TimerId};

/// One NIC model as the shared code sees it.
pub(crate) trait Nic {
    /// Which chip (trace names).
    const CHIP: Chip;

    /// A register's value.
    fn reg(&self, offset: u64) -> u32;
    /// Store a register's value.
    fn set_reg(&mut self, offset: u64, value: u32);
    /// The PHY.
    fn phy_mut(&mut self) -> &mut Phy;
    /// STATUS.LU.
    fn set_link_up(&mut self, up: bool);
    /// Set ICR `causes` and deliver what becomes pending.
    fn raise_icr(&mut self, ctx: &mut dyn Context, causes: u32);
    /// The BAR2 address register.
    fn ioaddr_mut(&mut self) -> &mut u32;
    /// A guest read of the BAR0 register at `offset`.
    fn register_read(&mut self, ctx: &mut dyn Context, offset: u64) -> u32;
    /// A guest write of the BAR0 register at `offset`.
    fn register_write(&mut self, ctx: &mut dyn Context, offset: u64, value: u32);
    /// A frame from the wire (or loopback) into the receive path.
    fn receive_frame(&mut self, ctx: &mut dyn Context, frame: &[u8]);
    /// Resume transmitting after a kick's quota.
    fn resume_transmit(&mut self, ctx: &mut dyn Context);
    /// The backend's capture file.
    fn pcap(&self) -> Option<&Pcap>;
    /// A guest read of the MSI-X BAR.
    fn msix_bar_read(&self, offset: u64) -> u32;
    /// A guest write to the MSI-X BAR.
    fn msix_bar_write(&mut self, ctx: &mut dyn Context, offset: u64, value: u32);

    /// A guest read of one piece of a BAR access ([`BAR_ACCESS`]: naturally aligned, at most a
    /// dword). The datasheets define only dword accesses to the registers; this answers the
    /// others as QEMU does (its register handlers take any piece as a dword access at the
    /// piece's own offset): a piece of the register file reads the register it lies in, from
    /// its low byte (a byte read of CTRL+1 reads CTRL's bits 7:0); a piece of the I/O window
    /// reads IOADDR or IODATA only at their own offsets; the MSI-X table and PBA answer dword
    /// pieces only (the PCI spec leaves smaller ones undefined; QEMU refuses them: 0); the
    /// flash window reads 0.
    ///
    /// [`BAR_ACCESS`]: super::function::BAR_ACCESS
    fn bar_read(
        &mut self,
        ctx: &mut dyn Context,
        region: RegionId,
        offset: u64,
        size: AccessSize,
    ) -> u64 {
        let v = match region {
            MMIO_REGION => self.register_read(ctx, offset),
            IO_REGION => self.io_read(ctx, offset),
            MSIX_REGION if size == AccessSize::B4 => self.msix_bar_read(offset),
            _ => 0,
        };
        u64::from(v) & size.mask()
    }

    /// A guest write of one piece of a BAR access, as [`bar_read`](Self::bar_read): a piece of
    /// the register file writes its value, zero-extended, to the whole register it lies in
    /// (QEMU); the I/O window takes IOADDR and IODATA at their own offsets; the MSI-X table
    /// takes dword pieces only; the flash window ignores it.
    fn bar_write(
        &mut self,
        ctx: &mut dyn Context,
        region: RegionId,
        offset: u64,
        size: AccessSize,
        value: u64,
    ) {
        let value = (value & size.mask()) as u32;
        match region {
            MMIO_REGION => self.register_write(ctx, offset, value),
            IO_REGION => self.io_write(ctx, offset, value),
            MSIX_REGION if size == AccessSize::B4 => self.msix_bar_write(ctx, offset, value),
            _ => {}
        }
    }

    /// MDIC write: the PHY answers; a restarted autonegotiation takes the link down until
    /// [`TIMER_AUTONEG`]; MDIC.INT_EN raises MDAC.
    fn write_mdic(&mut self, ctx: &mut dyn Context, value: u32) {
        let old = self.reg(MDIC);
        let out = self.phy_mut().mdic(value, old);
        if let Some((reg, data)) = out.read {
            trace_chip!(
                Self::CHIP,
                "e1000e_core_mdic_read",
                "igb_core_mdic_read",
                "reg {reg:#x} data {data:#x}"
            );
        }
        if let Some((reg, data)) = out.write {
            trace_chip!(
                Self::CHIP,
                "e1000e_core_mdic_write",
                "igb_core_mdic_write",
                "reg {reg:#x} data {data:#x}"
            );
        }
        if out.restart_autoneg {
            trace_chip!(
                Self::CHIP,
                "e1000e_core_start_link_negotiation",
                "igb_core_start_link_negotiation",
                ""
            );
            self.set_link_up(false);
            let deadline = ctx.now().saturating_add(AUTONEG_NS);
            ctx.timer_set(TIMER_AUTONEG, deadline);
        }
        self.set_reg(MDIC, out.mdic);
        if out.interrupt {
            self.raise_icr(ctx, ICR_MDAC);
        }
    }

    /// Autonegotiation completed: link up, flow control on in both directions (QEMU), LSC.
    fn autoneg_done(&mut self, ctx: &mut dyn Context) {
        trace_chip!(
            Self::CHIP,
            "e1000e_link_negotiation_done",
            "igb_link_negotiation_done",
            ""
        );
        self.set_link_up(true);
        let phy = self.phy_mut();
        phy.autoneg_done();
        if phy.autoneg_enabled() && phy.autoneg_complete() {
            let v = self.reg(CTRL) | CTRL_TFCE | CTRL_RFCE;
            self.set_reg(CTRL, v);
        }
        self.raise_icr(ctx, ICR_LSC);
    }

    /// A guest read of BAR2: IOADDR, or the register it names through IODATA.
    #[inline(never)]
    fn io_read(&mut self, ctx: &mut dyn Context, offset: u64) -> u32 {
        let addr = u64::from(*self.ioaddr_mut());
        match offset {
            IOADDR => addr as u32,
            IODATA if addr < MMIO_SIZE => self.register_read(ctx, addr),
            _ => 0,
        }
    }

    /// A guest write of BAR2: IOADDR, or the register it names through IODATA.
    #[inline(never)]
    fn io_write(&mut self, ctx: &mut dyn Context, offset: u64, value: u32) {
        let addr = u64::from(*self.ioaddr_mut());
        match offset {
            IOADDR => *self.ioaddr_mut() = value,
            IODATA if addr < MMIO_SIZE => self.register_write(ctx, addr, value),
            _ => {}
        }
    }

    /// A frame from the backend (the event payload): cut at [`MAX_FRAME`], captured, received;
    /// an empty payload does nothing.
    fn frame_event(&mut self, ctx: &mut dyn Context, payload: &[u8]) {
        if payload.is_empty() {
            return;
        }
        let frame = &payload[..payload.len().min(MAX_FRAME)];
        if let Some(pcap) = self.pcap() {
            pcap.record(frame, ctx.now());
        }
        self.receive_frame(ctx, frame);
    }

    /// A timer fired: autonegotiation ends, or transmission resumes.
    fn nic_timer(&mut self, ctx: &mut dyn Context, timer: TimerId) {
        match timer {
            TIMER_AUTONEG => self.autoneg_done(ctx),
            TIMER_TX_RESUME => self.resume_transmit(ctx),
            _ => {}
        }
    }
}
