use super::*;
use crate::e1000_core::testing::{ctx, rd, wr};
use harness::testing::TestContext;

const TX_RING: u64 = 0x1000;
const RX_RING: u64 = 0x2000;
const TX_BUF: u64 = 0x4000;
const RX_BUF: u64 = 0x8000;

fn bus_master(dev: &mut Igb, c: &mut TestContext) {
    dev.config_write(c, 0x04, AccessSize::B2, 0x6);
}

fn frame() -> Vec<u8> {
    let mut f = vec![0xff; 6];
    f.extend_from_slice(&DEFAULT_MAC);
    f.extend_from_slice(&[0x08, 0x06]);
    f.extend((0..46u8).map(|i| i.wrapping_mul(5)));
    f
}

/// Queue `q`'s rings: TX at TX_RING, RX at RX_RING (8 descriptors each, RX buffers at
/// RX_BUF + 0x800 * i), advanced RX descriptors, MAC loopback, TX enabled.
fn loopback_setup(dev: &mut Igb, c: &mut TestContext, q: usize) {
    bus_master(dev, c);
    for i in 0..8u64 {
        let at = (RX_RING + 16 * i) as usize;
        c.ram[at..at + 8].copy_from_slice(&(RX_BUF + 0x800 * i).to_le_bytes());
    }
    wr(dev, c, rxq(q, Q_BAL), RX_RING as u32);
    wr(dev, c, rxq(q, Q_LEN), 0x80);
    wr(
        dev,
        c,
        rxq(q, Q_SRRCTL),
        DESCTYPE_ADV_ONEBUF << SRRCTL_DESCTYPE_SHIFT | 2,
    );
    wr(dev, c, rxq(q, Q_HEAD), 0);
    wr(dev, c, rxq(q, Q_TAIL), 7);
    wr(
        dev,
        c,
        RCTL,
        RCTL_EN | RCTL_UPE | RCTL_MPE | RCTL_BAM | RCTL_LBM_MAC | RCTL_SECRC,
    );
    wr(dev, c, txq(q, Q_BAL), TX_RING as u32);
    wr(dev, c, txq(q, Q_LEN), 0x80);
    wr(dev, c, TCTL, TCTL_RESET | TCTL_EN);
}

/// An advanced data descriptor of `len` bytes at TX_BUF, EOP|IFCS|RS.
fn adv_data(c: &mut TestContext, slot: u64, len: u32, extra_cmd: u32, olinfo: u32) {
    let at = (TX_RING + 16 * slot) as usize;
    c.ram[at..at + 8].copy_from_slice(&TX_BUF.to_le_bytes());
    let cmd = len | 0x3 << 20 | 1 << 24 | 1 << 25 | 1 << 27 | 1 << 29 | extra_cmd;
    c.ram[at + 8..at + 12].copy_from_slice(&cmd.to_le_bytes());
    c.ram[at + 12..at + 16].copy_from_slice(&olinfo.to_le_bytes());
}

#[test]
fn reset_equals_fresh() {
    let mut c = ctx();
    let mut dev = Igb::new();
    loopback_setup(&mut dev, &mut c, 0);
    wr(&mut dev, &mut c, IMS, 0xff);
    wr(&mut dev, &mut c, GPIE, GPIE_MSIX_MODE);
    wr(&mut dev, &mut c, EIMS, 0x3);
    wr(&mut dev, &mut c, EICS, 0x1);
    wr(&mut dev, &mut c, P2VMAILBOX, P2V_PFU | P2V_STS);
    wr(
        &mut dev,
        &mut c,
        MDIC,
        MDIC_OP_WRITE | PHY_ADDRESS << MDIC_PHY_SHIFT | 0x4140,
    );
    let f = frame();
    c.ram[TX_BUF as usize..TX_BUF as usize + 60].copy_from_slice(&f);
    adv_data(&mut c, 0, 60, 0, 0);
    wr(&mut dev, &mut c, txq(0, Q_TAIL), 1);
    dev.write(&mut c, IO_REGION, IOADDR, AccessSize::B4, 0x100);
    dev.write(&mut c, MSIX_REGION, 0, AccessSize::B4, 0xfee0_0000);
    dev.reset();
    assert_eq!(dev, Igb::new());
}

/// CTRL.RST gives the register file a fresh device has, but for the packet buffer sizes and
/// EITR it keeps: the same file as writing every reset value again in order, the kept ones
/// after `RESET_VALUES`, then the queues, pools and MAC address.
#[test]
fn software_reset_equals_writing_the_reset_values_again() {
    let mut c = ctx();
    let mut dev = Igb::new();
    loopback_setup(&mut dev, &mut c, 1);
    wr(&mut dev, &mut c, RXPBS, 0x33);
    wr(&mut dev, &mut c, TXPBS, 0x21);
    wr(&mut dev, &mut c, EITR + 4 * 3, 0x1230);
    wr(&mut dev, &mut c, EITR + 4 * 24, 0x4560);
    wr(&mut dev, &mut c, VMOLR + 4, 0);
    wr(&mut dev, &mut c, txq(5, Q_DCTL), DCTL_QUEUE_ENABLE);
    wr(&mut dev, &mut c, RA, 0x1122_3344);
    let kept: Vec<(u64, u32)> = [RXPBS, TXPBS]
        .into_iter()
        .chain((0..EITR_COUNT).map(|i| EITR + 4 * i))
        .map(|r| (r, dev.regs.get(r)))
        .collect();
    wr(&mut dev, &mut c, CTRL, CTRL_RST);
    let mut want = RegFile::new(REG_FILE_END);
    for &(offset, value) in RESET_VALUES.iter().chain(&kept) {
        want.set(offset, value);
    }
    for n in 0..QUEUES {
        let enable = if n == 0 { DCTL_QUEUE_ENABLE } else { 0 };
        want.set(rxq(n, Q_DCTL), RXDCTL_RESET | enable);
        want.set(txq(n, Q_DCTL), enable);
        want.set(txq(n, Q_TXCTL), TXCTL_RESET);
    }
    for p in 0..POOLS as u64 {
        want.set(VMOLR + 4 * p, VMOLR_STRCRC | 0x2600);
        want.set(V2PMAILBOX + 4 * p, V2P_RSTI);
    }
    let mac = eeprom::mac(&dev.eeprom);
    want.set(RA, u32::from_le_bytes([mac[0], mac[1], mac[2], mac[3]]));
    want.set(
        RA + 4,
        u32::from(u16::from_le_bytes([mac[4], mac[5]])) | RAH_AV,
    );
    assert_eq!(dev.regs, want);
    assert_eq!(dev.regs.get(EITR + 4 * 3), 0x1230);
}

#[test]
fn pci_identity_bars_and_capability_chain() {
    let mut dev = Igb::new();
    let mut c = ctx();
    let cfg = dev.pci().expect("pci");
    assert_eq!(cfg.u32(0), 0x10c9_8086);
    assert_eq!(cfg.u32(0x08) >> 8, 0x02_0000);
    let mut chain = vec![];
    let mut p = cfg.u8(0x34);
    while p != 0 && chain.len() < 8 {
        chain.push((p, cfg.u8(p)));
        p = cfg.u8(p + 1);
    }
    assert_eq!(
        chain,
        [(0x40, 0x01), (0x50, 0x05), (0x70, 0x11), (0xa0, 0x10)]
    );
    assert_eq!(cfg.u16(0x72) & 0x7ff, 9, "10 MSI-X vectors");
    for (bar, want) in [
        (0x10u8, 0xfffe_0000u32),
        (0x14, 0xfffe_0000),
        (0x18, 0xffff_ffe1),
        (0x1c, 0xffff_c004),
        (0x20, 0xffff_ffff),
    ] {
        dev.config_write(&mut c, bar, AccessSize::B4, u32::MAX);
        assert_eq!(
            dev.config_read(&mut c, bar, AccessSize::B4),
            want,
            "BAR {bar:#x}"
        );
    }
}

#[test]
fn reset_enables_only_queue_0_and_aliases_reach_queues_0_to_3() {
    let mut c = ctx();
    let mut dev = Igb::new();
    assert_eq!(rd(&mut dev, &mut c, rxq(0, Q_DCTL)), 0x0201_0000);
    assert_eq!(rd(&mut dev, &mut c, rxq(1, Q_DCTL)), 0x0001_0000);
    assert_eq!(rd(&mut dev, &mut c, txq(0, Q_DCTL)), DCTL_QUEUE_ENABLE);
    assert_eq!(rd(&mut dev, &mut c, txq(15, Q_DCTL)), 0);
    assert_eq!(rd(&mut dev, &mut c, TCTL), TCTL_RESET);
    assert_eq!(rd(&mut dev, &mut c, VET), 0x8100_8100);
    wr(&mut dev, &mut c, 0x3800 + 0x300 + 0x08, 0x1234);
    assert_eq!(
        rd(&mut dev, &mut c, txq(3, Q_LEN)),
        0x1230,
        "length masked 0xFFFF0"
    );
    wr(&mut dev, &mut c, 0x2900, 0x1234_567f);
    assert_eq!(
        rd(&mut dev, &mut c, rxq(1, Q_BAL)),
        0x1234_5660,
        "base masked ~0x1F"
    );
    assert_eq!(unalias(0x2C00), 0x2C00, "queue 4 has no alias");
}

#[test]
fn a_disabled_tx_queue_is_not_kicked_until_enabled() {
    let mut c = ctx();
    let mut dev = Igb::new();
    loopback_setup(&mut dev, &mut c, 2);
    wr(&mut dev, &mut c, RCTL, 0); // no loopback: to the wire
    let f = frame();
    c.ram[TX_BUF as usize..TX_BUF as usize + 60].copy_from_slice(&f);
    adv_data(&mut c, 0, 60, 0, 0);
    wr(&mut dev, &mut c, txq(2, Q_TAIL), 1);
    assert_eq!(
        rd(&mut dev, &mut c, txq(2, Q_HEAD)),
        0,
        "queue 2 disabled at reset"
    );
    wr(&mut dev, &mut c, txq(2, Q_DCTL), DCTL_QUEUE_ENABLE);
    wr(&mut dev, &mut c, TCTL, TCTL_RESET | TCTL_EN); // TCTL kicks every queue
    assert_eq!(rd(&mut dev, &mut c, txq(2, Q_HEAD)), 1);
    assert_eq!(dev.sent_frames().next(), Some(&f[..]));
    assert_eq!(c.ram[TX_RING as usize + 12] & 1, 1, "DD written back");
    assert_eq!(rd(&mut dev, &mut c, ICR), ICR_INT_ASSERTED | ICR_TXDW);
}

#[test]
fn head_write_back_replaces_dd() {
    let mut c = ctx();
    let mut dev = Igb::new();
    loopback_setup(&mut dev, &mut c, 0);
    wr(&mut dev, &mut c, RCTL, 0);
    wr(&mut dev, &mut c, txq(0, Q_TDWBAL), 0x3000 | TDWBAL_ENABLE);
    adv_data(&mut c, 0, 60, 0, 0);
    adv_data(&mut c, 1, 60, 0, 0);
    wr(&mut dev, &mut c, txq(0, Q_TAIL), 2);
    assert_eq!(
        &c.ram[0x3000..0x3004],
        &2u32.to_le_bytes(),
        "TDH after the last RS"
    );
    assert_eq!(c.ram[TX_RING as usize + 12] & 1, 0, "no DD");
    assert_eq!(dev.sent_frames().count(), 2);
}

#[test]
fn loopback_round_trip_advanced_write_back_and_statistics() {
    let mut c = ctx();
    let mut dev = Igb::new();
    loopback_setup(&mut dev, &mut c, 0);
    let f = frame();
    c.ram[TX_BUF as usize..TX_BUF as usize + 60].copy_from_slice(&f);
    adv_data(&mut c, 0, 60, 0, 0);
    wr(&mut dev, &mut c, IMS, ICR_TXDW | ICR_RXDW);
    wr(&mut dev, &mut c, txq(0, Q_TAIL), 1);
    assert_eq!(rd(&mut dev, &mut c, txq(0, Q_HEAD)), 1);
    assert_eq!(rd(&mut dev, &mut c, rxq(0, Q_HEAD)), 1);
    assert_eq!(&c.ram[RX_BUF as usize..RX_BUF as usize + 60], &f[..]);
    let wb = &c.ram[RX_RING as usize..RX_RING as usize + 16];
    assert_eq!(
        u32::from_le_bytes(wb[8..12].try_into().unwrap()),
        0x3,
        "DD|EOP"
    );
    assert_eq!(
        u16::from_le_bytes(wb[12..14].try_into().unwrap()),
        60,
        "SECRC: 60 bytes"
    );
    assert!(c.irq_level(IRQ_PIN));
    assert_eq!(
        rd(&mut dev, &mut c, EICR),
        EICR_OTHER,
        "legacy mode: OTHER mirrors ICR"
    );
    assert_eq!(
        rd(&mut dev, &mut c, ICR),
        ICR_INT_ASSERTED | ICR_TXDW | ICR_RXDW
    );
    assert!(!c.irq_level(IRQ_PIN));
    assert_eq!(rd(&mut dev, &mut c, GPRC), 1);
    assert_eq!(rd(&mut dev, &mut c, GPTC), 1);
    assert_eq!(rd(&mut dev, &mut c, BPRC), 1);
    assert_eq!(rd(&mut dev, &mut c, GORCL), 64);
    assert_eq!(rd(&mut dev, &mut c, GOTCL), 60);
}

#[test]
fn without_secrc_the_fcs_follows_the_data() {
    let mut c = ctx();
    let mut dev = Igb::new();
    loopback_setup(&mut dev, &mut c, 0);
    wr(&mut dev, &mut c, RCTL, RCTL_EN | RCTL_BAM | RCTL_LBM_MAC);
    let f = frame();
    c.ram[TX_BUF as usize..TX_BUF as usize + 60].copy_from_slice(&f);
    adv_data(&mut c, 0, 60, 0, 0);
    wr(&mut dev, &mut c, txq(0, Q_TAIL), 1);
    let wb = &c.ram[RX_RING as usize..RX_RING as usize + 16];
    assert_eq!(u16::from_le_bytes(wb[12..14].try_into().unwrap()), 64);
    let crc = crate::e1000_core::offload::ethernet_crc(&f).to_le_bytes();
    assert_eq!(&c.ram[RX_BUF as usize + 60..RX_BUF as usize + 64], &crc);
}

#[test]
fn ivar_routes_queue_causes_to_msix_vectors() {
    assert_eq!(interrupts::ivar_rx_byte(0), 0);
    assert_eq!(interrupts::ivar_tx_byte(0), 1);
    assert_eq!(interrupts::ivar_rx_byte(9), 6);
    assert_eq!(interrupts::ivar_tx_byte(9), 7);
    let mut c = ctx();
    let mut dev = Igb::new();
    loopback_setup(&mut dev, &mut c, 0);
    // MSI-X on, vector 3 at 0x9000 data 0x33, vector 5 at 0x9010 data 0x55, unmasked.
    dev.config_write(&mut c, 0x72, AccessSize::B2, 0x8000);
    for (v, addr, data) in [(3u64, 0x9000u32, 0x33u32), (5, 0x9010, 0x55)] {
        dev.write(&mut c, MSIX_REGION, 16 * v, AccessSize::B4, u64::from(addr));
        dev.write(
            &mut c,
            MSIX_REGION,
            16 * v + 8,
            AccessSize::B4,
            u64::from(data),
        );
        dev.write(&mut c, MSIX_REGION, 16 * v + 12, AccessSize::B4, 0);
    }
    wr(&mut dev, &mut c, GPIE, GPIE_MSIX_MODE);
    // RX queue 0 → vector 3, TX queue 0 → vector 5.
    wr(&mut dev, &mut c, IVAR0, 0x85 << 8 | 0x83);
    wr(&mut dev, &mut c, EIMS, 1 << 3 | 1 << 5);
    wr(&mut dev, &mut c, EIAC, 1 << 3);
    let f = frame();
    c.ram[TX_BUF as usize..TX_BUF as usize + 60].copy_from_slice(&f);
    adv_data(&mut c, 0, 60, 0, 0);
    wr(&mut dev, &mut c, txq(0, Q_TAIL), 1);
    assert_eq!(c.ram[0x9000], 0x33, "RX vector message");
    assert_eq!(c.ram[0x9010], 0x55, "TX vector message");
    assert_eq!(
        rd(&mut dev, &mut c, EICR),
        1 << 5,
        "EIAC auto-cleared vector 3"
    );
    assert!(!c.irq_level(IRQ_PIN));
}

#[test]
fn eicr_other_follows_icr_in_legacy_mode_and_ivar_misc_in_msix_mode() {
    let mut c = ctx();
    let mut dev = Igb::new();
    wr(&mut dev, &mut c, IMS, ICR_LSC);
    wr(&mut dev, &mut c, ICS, ICR_LSC);
    assert!(c.irq_level(IRQ_PIN));
    assert_eq!(rd(&mut dev, &mut c, IAC), 1, "one INTx assertion");
    assert_eq!(dev.regs.get(EICR), EICR_OTHER);
    assert_eq!(rd(&mut dev, &mut c, ICR), ICR_INT_ASSERTED | ICR_LSC);
    assert!(!c.irq_level(IRQ_PIN));
    assert_eq!(rd(&mut dev, &mut c, EICR), 0, "OTHER drops with ICR");
    wr(&mut dev, &mut c, GPIE, GPIE_MSIX_MODE | GPIE_NSICR);
    wr(&mut dev, &mut c, IVAR_MISC, 0x84 << 8);
    wr(&mut dev, &mut c, EIMS, 1 << 4);
    wr(&mut dev, &mut c, ICS, ICR_LSC);
    assert_eq!(
        rd(&mut dev, &mut c, EICR),
        1 << 4,
        "other causes → IVAR_MISC vector"
    );
    assert!(!c.irq_level(IRQ_PIN), "MSI-X mode never drives INTx");
    assert_eq!(rd(&mut dev, &mut c, EICR), 0, "read to clear");
}

#[test]
fn mailbox_pf_side() {
    let mut c = ctx();
    let mut dev = Igb::new();
    assert_eq!(
        rd(&mut dev, &mut c, V2PMAILBOX + 4),
        V2P_RSTI,
        "PF reset seen by VF 1"
    );
    wr(&mut dev, &mut c, CTRL_EXT, CTRL_EXT_PFRSTD);
    assert_eq!(rd(&mut dev, &mut c, V2PMAILBOX + 4), V2P_RSTD);
    wr(&mut dev, &mut c, P2VMAILBOX + 4, P2V_PFU);
    assert_eq!(rd(&mut dev, &mut c, P2VMAILBOX + 4), P2V_PFU);
    wr(&mut dev, &mut c, P2VMAILBOX + 4, P2V_PFU | P2V_STS);
    assert_eq!(
        rd(&mut dev, &mut c, P2VMAILBOX + 4),
        P2V_PFU,
        "STS does not stay"
    );
    assert_ne!(rd(&mut dev, &mut c, V2PMAILBOX + 4) & V2P_PFSTS, 0);
    wr(&mut dev, &mut c, P2VMAILBOX + 4, 0);
    // The VF's side (QEMU leaves it writable at the PF's 0xC44): taking the buffer keeps the
    // PF out until the VF lets go; a message request sets VFREQ and the mailbox cause.
    wr(&mut dev, &mut c, V2PMAILBOX + 4, V2P_VFU);
    assert_eq!(rd(&mut dev, &mut c, P2VMAILBOX + 4), P2V_VFU);
    wr(&mut dev, &mut c, P2VMAILBOX + 4, P2V_PFU);
    assert_eq!(rd(&mut dev, &mut c, P2VMAILBOX + 4), P2V_VFU, "PFU refused");
    wr(&mut dev, &mut c, IMS, ICR_VMMB);
    wr(&mut dev, &mut c, V2PMAILBOX + 4, 0x1);
    assert_eq!(rd(&mut dev, &mut c, MBVFICR), 0x0000_0002, "VFREQ of VF 1");
    assert!(c.irq_level(IRQ_PIN));
    wr(&mut dev, &mut c, P2VMAILBOX + 4, P2V_PFU);
    assert_eq!(rd(&mut dev, &mut c, P2VMAILBOX + 4), P2V_PFU);
    dev.regs.set(MBVFICR, 0x0002_0002);
    wr(&mut dev, &mut c, MBVFICR, 0x2);
    assert_eq!(rd(&mut dev, &mut c, MBVFICR), 0x0002_0000, "W1C");
    assert_eq!(rd(&mut dev, &mut c, MBVFIMR), 0xff);
}

#[test]
fn vmdq_pool_select_by_ra_and_vfre() {
    let mut c = ctx();
    let mut dev = Igb::new();
    loopback_setup(&mut dev, &mut c, 2);
    wr(&mut dev, &mut c, rxq(2, Q_DCTL), DCTL_QUEUE_ENABLE);
    wr(&mut dev, &mut c, MRQC, MRQC_MODE_VMDQ);
    // RA1 = 02:00:00:00:00:01 in pool 2.
    wr(&mut dev, &mut c, RA + 8, 0x0000_0002);
    wr(
        &mut dev,
        &mut c,
        RA + 12,
        0x0100 | RAH_AV | 1 << (RAH_POOL_SHIFT + 2),
    );
    let mut f = frame();
    f[..6].copy_from_slice(&[2, 0, 0, 0, 0, 1]);
    wr(&mut dev, &mut c, VFRE, 0);
    assert!(!dev.receive(&mut c, &f), "VFRE clear");
    wr(&mut dev, &mut c, VFRE, 1 << 2);
    assert!(dev.receive(&mut c, &f));
    assert_eq!(rd(&mut dev, &mut c, rxq(2, Q_HEAD)), 1);
}

#[test]
fn malformed_tso_context_drops_the_frame_and_counts_it() {
    let mut c = ctx();
    let mut dev = Igb::new();
    loopback_setup(&mut dev, &mut c, 0);
    wr(&mut dev, &mut c, RCTL, 0);
    // Context: MACLEN 14, IPLEN 20, L4LEN 20, MSS 0, TCP IPv4.
    let ctx_desc = [
        (14u32 << 9 | 20).to_le_bytes(),
        0u32.to_le_bytes(),
        (1u32 << 10 | 1 << 11 | 0x2 << 20 | 1 << 29).to_le_bytes(),
        (20u32 << 8).to_le_bytes(),
    ]
    .concat();
    c.ram[TX_RING as usize..TX_RING as usize + 16].copy_from_slice(&ctx_desc);
    adv_data(&mut c, 1, 100, 1 << 31, 100 << 14);
    wr(&mut dev, &mut c, txq(0, Q_TAIL), 2);
    assert_eq!(rd(&mut dev, &mut c, txq(0, Q_HEAD)), 2);
    assert_eq!(dev.tx_malformed(), 1);
    assert_eq!(dev.regs.get(TSCTFC), 1, "counted (QEMU's register reads 0)");
    // MSS 40: 54-byte header + 46 bytes payload = 2 segments.
    let mss = (40u32 << 16 | 20 << 8).to_le_bytes();
    c.ram[TX_RING as usize + 12..TX_RING as usize + 16].copy_from_slice(&mss);
    c.ram[TX_RING as usize + 0x20..TX_RING as usize + 0x30].copy_from_slice(&ctx_desc);
    c.ram[TX_RING as usize + 0x2c..TX_RING as usize + 0x30].copy_from_slice(&mss);
    adv_data(&mut c, 3, 100, 1 << 31, 100 << 14);
    wr(&mut dev, &mut c, txq(0, Q_TAIL), 4);
    let lens: Vec<usize> = dev.sent_frames().map(<[u8]>::len).collect();
    assert_eq!(lens, [94, 60]);
}

#[test]
fn a_huge_tso_ring_yields_to_the_clock() {
    let mut c = ctx();
    let mut dev = Igb::new();
    loopback_setup(&mut dev, &mut c, 0);
    wr(&mut dev, &mut c, RCTL, 0);
    wr(&mut dev, &mut c, txq(0, Q_LEN), 0x800);
    let ctx_desc = [
        (14u32 << 9 | 20).to_le_bytes(),
        0u32.to_le_bytes(),
        (1u32 << 10 | 1 << 11 | 0x2 << 20 | 1 << 29).to_le_bytes(),
        (1u32 << 16 | 20 << 8).to_le_bytes(),
    ]
    .concat();
    c.ram[TX_RING as usize..TX_RING as usize + 16].copy_from_slice(&ctx_desc);
    for i in 1..64 {
        adv_data(&mut c, i, 2054, 1 << 31, 2054 << 14);
    }
    wr(&mut dev, &mut c, txq(0, Q_TAIL), 64);
    let first = rd(&mut dev, &mut c, txq(0, Q_HEAD));
    assert!((2..64).contains(&first), "yielded part-way: TDH {first}");
    let mut steps = 0;
    while let Some(&deadline) = c.timers.get(&TIMER_TX_RESUME) {
        c.timers.remove(&TIMER_TX_RESUME);
        c.now = deadline;
        dev.timer(&mut c, TIMER_TX_RESUME);
        steps += 1;
        assert!(steps < 64);
    }
    assert_eq!(rd(&mut dev, &mut c, txq(0, Q_HEAD)), 64);
    assert_eq!(rd(&mut dev, &mut c, TSCTC), 63);
}

#[test]
fn tx_head_outside_the_ring_ends_within_one_lap() {
    let mut c = ctx();
    let mut dev = Igb::new();
    loopback_setup(&mut dev, &mut c, 0);
    wr(&mut dev, &mut c, txq(0, Q_HEAD), 9);
    c.work = 0;
    wr(&mut dev, &mut c, txq(0, Q_TAIL), 1);
    assert_eq!(rd(&mut dev, &mut c, txq(0, Q_HEAD)), 1);
    assert!(c.work <= 40, "work {}", c.work);
}

#[test]
fn bus_mastering_off_means_no_dma() {
    let mut c = ctx();
    let mut dev = Igb::new();
    loopback_setup(&mut dev, &mut c, 0);
    dev.config_write(&mut c, 0x04, AccessSize::B2, 0x2);
    adv_data(&mut c, 0, 60, 0, 0);
    wr(&mut dev, &mut c, txq(0, Q_TAIL), 1);
    assert_eq!(rd(&mut dev, &mut c, txq(0, Q_HEAD)), 1);
    assert_eq!(c.ram[TX_RING as usize + 12] & 1, 0);
    assert_eq!(rd(&mut dev, &mut c, rxq(0, Q_HEAD)), 0);
}

#[test]
fn eeprom_and_phy_identity() {
    let mut c = ctx();
    let mut dev = Igb::new();
    wr(&mut dev, &mut c, EERD, 1 << 2 | EERD_START);
    assert_eq!(rd(&mut dev, &mut c, EERD), 0x1200_0006);
    wr(&mut dev, &mut c, EERD, 0x3F << 2 | EERD_START);
    let sum = dev.eeprom()[..0x40]
        .iter()
        .fold(0u16, |s, &w| s.wrapping_add(w));
    assert_eq!(sum, 0xBABA, "checksum word");
    wr(&mut dev, &mut c, EERD, 0x40 << 2 | EERD_START);
    assert_eq!(
        rd(&mut dev, &mut c, EERD),
        0x0003_0102,
        "NC-SI word past the checksum"
    );
    wr(&mut dev, &mut c, EERD, 0x3FF << 2 | EERD_START);
    assert_eq!(
        rd(&mut dev, &mut c, EERD),
        0xFFE,
        "1024 words answer, zero past the image"
    );
    wr(&mut dev, &mut c, EERD, 0x400 << 2 | EERD_START);
    assert_eq!(
        rd(&mut dev, &mut c, EERD),
        0x1000,
        "no DONE past the EEPROM"
    );
    wr(
        &mut dev,
        &mut c,
        MDIC,
        MDIC_OP_READ | 1 << MDIC_PHY_SHIFT | 2 << MDIC_REG_SHIFT,
    );
    assert_eq!(rd(&mut dev, &mut c, MDIC), 0x1822_02a8);
    wr(
        &mut dev,
        &mut c,
        MDIC,
        MDIC_OP_READ | 1 << MDIC_PHY_SHIFT | 3 << MDIC_REG_SHIFT,
    );
    assert_eq!(rd(&mut dev, &mut c, MDIC), 0x1823_0391);
    wr(
        &mut dev,
        &mut c,
        MDIC,
        MDIC_OP_READ | 1 << MDIC_PHY_SHIFT | 11 << MDIC_REG_SHIFT,
    );
    assert_eq!(
        rd(&mut dev, &mut c, MDIC),
        MDIC_READY | MDIC_ERROR | MDIC_OP_READ | 1 << MDIC_PHY_SHIFT | 11 << MDIC_REG_SHIFT,
        "a register the PHY does not have"
    );
}

#[test]
fn the_link_comes_up_500ms_after_the_driver_restarts_autonegotiation() {
    let mut c = ctx();
    let mut dev = Igb::new();
    assert_eq!(
        rd(&mut dev, &mut c, STATUS),
        0x8008_0481,
        "no link, PHY reset asserted, 1000 Mb/s full duplex, GIO master enabled"
    );
    assert!(c.timers.is_empty(), "nothing negotiates on its own");
    wr(&mut dev, &mut c, IMS, ICR_LSC);
    wr(
        &mut dev,
        &mut c,
        MDIC,
        MDIC_OP_WRITE | 1 << MDIC_PHY_SHIFT | 0x1340,
    );
    assert_eq!(c.timers.get(&TIMER_AUTONEG), Some(&500_000_000));
    c.now = 500_000_000;
    dev.timer(&mut c, TIMER_AUTONEG);
    assert_eq!(rd(&mut dev, &mut c, STATUS), 0x8008_0483);
    assert_eq!(
        rd(&mut dev, &mut c, CTRL),
        0x1810_0209,
        "flow control on as negotiated"
    );
    wr(
        &mut dev,
        &mut c,
        MDIC,
        MDIC_OP_READ | 1 << MDIC_PHY_SHIFT | 1 << MDIC_REG_SHIFT,
    );
    assert_eq!(
        rd(&mut dev, &mut c, MDIC) & 0xFFFF,
        0x796D,
        "link and negotiation complete"
    );
    assert!(c.irq_level(IRQ_PIN));
    assert_eq!(rd(&mut dev, &mut c, ICR), ICR_INT_ASSERTED | ICR_LSC);
    wr(&mut dev, &mut c, CTRL, CTRL_RST);
    assert_eq!(
        rd(&mut dev, &mut c, STATUS) & STATUS_LU,
        0,
        "a reset drops the link"
    );
}

#[test]
fn registers_qemu_does_not_have_read_zero_and_masks_apply() {
    let mut c = ctx();
    let mut dev = Igb::new();
    for (offset, written, read) in [
        (CTRL_DUP, 0x0010_0209, 0),
        (PBA, 0xFFFF_FFFF, 0),
        (ITR, 0xFFFF_FFFF, 0),
        (FCRTL, 0xFFFF_FFFF, 0x8000_FFF8),
        (RDFH, 0xFFFF_FFFF, 0x1FFF),
        (EITR + 4, 0xFFFF_FFFF, 0x7FFF_FFFF),
        (rxq(1, Q_DCA), 0xFFFF_FFFF, 0),
        (txq(1, Q_TXCTL), 0xFFFF_FFFF, 0xFFFF_FFFF),
        (UTA, 0xFFFF_FFFF, 0),
        (GCR, 0, GCR_RO),
        (SW_FW_SYNC, 0x2, 0x2),
    ] {
        wr(&mut dev, &mut c, offset, written);
        assert_eq!(rd(&mut dev, &mut c, offset), read, "{offset:#x}");
    }
    assert_eq!(
        rd(&mut dev, &mut c, EEMNGCTL),
        1 << 31,
        "configuration done"
    );
    assert_eq!(
        rd(&mut dev, &mut c, 0x40),
        0x1200_5452,
        "RA through its 82542 alias"
    );
    assert_eq!(
        rd(&mut dev, &mut c, SWSM),
        0,
        "SWSM.SMBI is taken by the first read"
    );
    assert_eq!(rd(&mut dev, &mut c, SWSM), SWSM_SMBI);
    // EIAM accumulates the complement of what is written (QEMU).
    wr(&mut dev, &mut c, GPIE, GPIE_MSIX_MODE);
    wr(&mut dev, &mut c, EIAM, 7);
    assert_eq!(rd(&mut dev, &mut c, EIAM), 0xFFFF_FFF8);
}

#[test]
fn vf_window_reset_stops_the_vf_queues_and_reports_it() {
    let mut c = ctx();
    let mut dev = Igb::new();
    wr(&mut dev, &mut c, IMS, ICR_VMMB);
    wr(&mut dev, &mut c, 0x10000 + 0x100 * 3, CTRL_RST);
    assert_eq!(rd(&mut dev, &mut c, VFLRE), 1 << 3);
    assert_eq!(rd(&mut dev, &mut c, VFRE), 0xF7);
    assert_eq!(rd(&mut dev, &mut c, ICR), ICR_INT_ASSERTED | ICR_VMMB);
    // VF 1's queue IVAR entries name its vectors 1 and 2: PF EICR bits 20 and 21.
    wr(&mut dev, &mut c, 0x11704, 0x8281);
    assert_eq!(rd(&mut dev, &mut c, IVAR0 + 4), 0x9594);
}

#[test]
fn vf_ivar_entries_past_the_vf_vectors_do_not_overflow() {
    let mut c = ctx();
    let mut dev = Igb::new();
    // VF 7, entry vector 7: PF vector 22 - 21 + 7 = 8 (QEMU's arithmetic).
    wr(&mut dev, &mut c, 0x1171C, 0x8787);
    assert_eq!(rd(&mut dev, &mut c, IVAR0 + 0x1C) & 0xFFFF, 0x8888);
}
