//! Test scaffolding both models' unit tests use, and the tests of the shared [`Nic`] code run
//! on both chips.

use super::function::{IO_REGION, IRQ_PIN, MMIO_REGION};
use super::nic::Nic;
use super::regs::*;
use super::{MSIX_CTRL_ENABLE, MSIX_CTRL_MASKALL, TIMER_AUTONEG};
use crate::e1000e::E1000e;
use crate::igb::Igb;
use harness::access::AccessSize;
use harness::device::Device;
use harness::testing::TestContext;

/// Guest RAM of the unit tests' context.
pub const RAM: usize = 1 << 20;

/// A context with [`RAM`] bytes of RAM.
pub fn ctx() -> TestContext {
    TestContext::new(RAM)
}

/// Write the BAR0 register at `offset`.
pub fn wr(dev: &mut impl Device, ctx: &mut TestContext, offset: u64, value: u32) {
    dev.write(ctx, MMIO_REGION, offset, AccessSize::B4, u64::from(value));
}

/// Read the BAR0 register at `offset`.
pub fn rd(dev: &mut impl Device, ctx: &mut TestContext, offset: u64) -> u32 {
    dev.read(ctx, MMIO_REGION, offset, AccessSize::B4) as u32
}

/// A test that runs `check` on both chips.
macro_rules! on_both_chips {
    ($test:ident, $check:ident) => {
        #[test]
        fn $test() {
            $check::<E1000e>();
            $check::<Igb>();
        }
    };
}

/// An MDIC command to PHY address 1.
fn mdic(op: u32, reg: u32, data: u32) -> u32 {
    op | PHY_ADDRESS << MDIC_PHY_SHIFT | reg << MDIC_REG_SHIFT | data
}

fn mdic_answers_only_phy_address_1<D: Device + Default>() {
    let (mut c, mut dev) = (ctx(), D::default());
    wr(&mut dev, &mut c, MDIC, MDIC_OP_READ | 2 << MDIC_PHY_SHIFT);
    assert_ne!(rd(&mut dev, &mut c, MDIC) & MDIC_ERROR, 0);
    wr(&mut dev, &mut c, MDIC, mdic(MDIC_OP_READ, 2, 0));
    let value = rd(&mut dev, &mut c, MDIC);
    assert_eq!(value & (MDIC_ERROR | MDIC_READY), MDIC_READY, "{value:#x}");
}

on_both_chips!(
    mdic_answers_only_phy_address_1_on_both_chips,
    mdic_answers_only_phy_address_1
);

fn autoneg_restart_completes_on_the_virtual_clock<D: Device + Default>() {
    let (mut c, mut dev) = (ctx(), D::default());
    wr(&mut dev, &mut c, IMS, ICR_LSC);
    // BMCR: 1000 Mb/s full duplex, autonegotiation enabled and restarted.
    wr(&mut dev, &mut c, MDIC, mdic(MDIC_OP_WRITE, 0, 0x1340));
    assert_eq!(rd(&mut dev, &mut c, STATUS) & STATUS_LU, 0, "negotiating");
    assert_eq!(c.timers.get(&TIMER_AUTONEG), Some(&500_000_000));
    c.now = 500_000_000;
    dev.timer(&mut c, TIMER_AUTONEG);
    assert_ne!(rd(&mut dev, &mut c, STATUS) & STATUS_LU, 0);
    let fc = CTRL_TFCE | CTRL_RFCE;
    assert_eq!(rd(&mut dev, &mut c, CTRL) & fc, fc, "flow control on");
    wr(&mut dev, &mut c, MDIC, mdic(MDIC_OP_READ, 1, 0));
    let bmsr = rd(&mut dev, &mut c, MDIC);
    assert_eq!(bmsr & 0x24, 0x24, "BMSR: link, negotiation complete");
    assert!(c.irq_level(IRQ_PIN));
    assert_eq!(rd(&mut dev, &mut c, ICR), ICR_INT_ASSERTED | ICR_LSC);
    assert!(!c.irq_level(IRQ_PIN), "the read acknowledged it");
}

on_both_chips!(
    autoneg_restart_completes_on_the_virtual_clock_on_both_chips,
    autoneg_restart_completes_on_the_virtual_clock
);

fn io_window_reaches_the_registers<D: Device + Default>() {
    let (mut c, mut dev) = (ctx(), D::default());
    let status = rd(&mut dev, &mut c, STATUS);
    dev.write(&mut c, IO_REGION, IOADDR, AccessSize::B4, STATUS);
    assert_eq!(dev.read(&mut c, IO_REGION, IOADDR, AccessSize::B4), STATUS);
    assert_eq!(
        dev.read(&mut c, IO_REGION, IODATA, AccessSize::B4),
        u64::from(status)
    );
    dev.write(&mut c, IO_REGION, IOADDR, AccessSize::B4, RA);
    dev.write(&mut c, IO_REGION, IODATA, AccessSize::B4, 0x1122_3344);
    assert_eq!(rd(&mut dev, &mut c, RA), 0x1122_3344, "IODATA writes");
    dev.write(&mut c, IO_REGION, IOADDR, AccessSize::B4, 0x20000);
    assert_eq!(dev.read(&mut c, IO_REGION, IODATA, AccessSize::B4), 0);
}

on_both_chips!(
    io_window_reaches_the_registers_on_both_chips,
    io_window_reaches_the_registers
);

/// MSI-X on with mask-all set, vector 0 unmasked and aimed at 0x1000: `raise` makes a cause
/// due on vector 0; it waits in the PBA until mask-all clears.
fn msix_mask_all_holds_the_vector<D: Device + Default + Nic>(
    cap_msix: u8,
    raise: fn(&mut D, &mut TestContext),
) {
    let (mut c, mut dev) = (ctx(), D::default());
    dev.config_write(&mut c, 0x04, AccessSize::B2, 0x6);
    let control = u32::from(MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL);
    dev.config_write(&mut c, cap_msix + 2, AccessSize::B2, control);
    dev.msix_bar_write(&mut c, 0, 0x1000);
    dev.msix_bar_write(&mut c, 8, 0xAB);
    dev.msix_bar_write(&mut c, 12, 0);
    raise(&mut dev, &mut c);
    assert_eq!(c.ram[0x1000], 0, "held by mask-all");
    assert_eq!(dev.msix_bar_read(0x2000), 1, "pending");
    let control = u32::from(MSIX_CTRL_ENABLE);
    dev.config_write(&mut c, cap_msix + 2, AccessSize::B2, control);
    assert_eq!(c.ram[0x1000], 0xAB, "sent when mask-all clears");
    assert_eq!(dev.msix_bar_read(0x2000), 0);
}

#[test]
fn msix_mask_all_holds_the_vector_until_cleared_on_both_chips() {
    // e1000e: LSC is an OTHER cause; IVAR routes OTHER to vector 0.
    msix_mask_all_holds_the_vector::<E1000e>(0xA0, |dev, c| {
        wr(dev, c, crate::e1000e::IVAR, 0x8 << 16);
        wr(dev, c, IMS, ICR_LSC | crate::e1000e::ICR_OTHER);
        wr(dev, c, ICS, ICR_LSC);
    });
    // igb: MSI-X mode, EICR bit 0 enabled and set.
    msix_mask_all_holds_the_vector::<Igb>(0x70, |dev, c| {
        wr(dev, c, crate::igb::GPIE, crate::igb::GPIE_MSIX_MODE);
        wr(dev, c, crate::igb::EIMS, 1);
        wr(dev, c, crate::igb::EICS, 1);
    });
}
