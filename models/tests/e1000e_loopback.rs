//! e1000e on `pc` through qtest: a Linux-like bring-up and loopback round trips (facts §1.10
//! "verified loopback recipe" [V]), and the receive-into-own-BAR re-entrancy in both modes.

mod common;
mod e1000e_igb_common;
use common::pc;
use e1000e_igb_common::*;
use harness::machine::{Machine, ReentrancyMode};

fn desc(addr: u64, dword1: u32, dword2: u32) -> Vec<u8> {
    let mut d = addr.to_le_bytes().to_vec();
    d.extend_from_slice(&dword1.to_le_bytes());
    d.extend_from_slice(&dword2.to_le_bytes());
    d
}

/// PCI enable, reset, MAC from EEPROM, PHY id, rings: the Linux e1000e probe/open order.
fn bring_up(m: &mut Machine, rctl: u32) {
    pci_enable(m, "OK 0x10d38086");
    w(m, 0x0000, 0x0400_0000); // CTRL.RST
    assert_eq!(r(m, 0x0000) & 0x0400_0000, 0, "RST self-clears");
    assert_eq!(r(m, 0x0008), 0x0008_0283, "STATUS after reset");
    for (word, want) in [(0u32, 0x5452_0002u32), (1, 0x1200_0006), (2, 0x5634_000a)] {
        w(m, 0x0014, word << 2 | 1);
        assert_eq!(r(m, 0x0014) & !0x1, want & !0x1, "EERD word {word}");
    }
    w(m, 0x0020, 0x0822_0000); // MDIC read PHY 1 reg 2
    assert_eq!(r(m, 0x0020), 0x1822_0141);
    w(m, 0x0020, 0x0823_0000);
    assert_eq!(r(m, 0x0020), 0x1823_0cb1);
    for i in 0..8u64 {
        put(m, RX_RING + 16 * i, &desc(RX_BUF + 0x800 * i, 0, 0));
    }
    w(m, 0x2800, RX_RING as u32);
    w(m, 0x2804, 0);
    w(m, 0x2808, 0x80);
    w(m, 0x2810, 0);
    w(m, 0x2818, 7);
    w(m, 0x0100, rctl);
    w(m, 0x3800, TX_RING as u32);
    w(m, 0x3808, 0x80);
    w(m, 0x3810, 0);
    w(m, 0x3818, 0);
    w(m, 0x0400, 0x0004_00fa);
    assert_eq!(r(m, 0x00c0), 0x8000_0002, "TCTL.EN alone raises TXQE [V]");
    w(m, 0x00d0, 0x9d); // IMS: TXDW | LSC | RXDMT0 | RXO | RXT0
}

fn transmit(m: &mut Machine, slot: u64, f: &[u8]) {
    put(m, TX_BUF + 0x800 * slot, f);
    put(
        m,
        TX_RING + 16 * slot,
        &desc(TX_BUF + 0x800 * slot, 0x0b00_0000 | f.len() as u32, 0),
    );
    w(m, 0x3818, slot as u32 + 1);
}

#[test]
fn mac_loopback_round_trip_with_secrc() {
    let mut m = pc();
    bring_up(&mut m, 0x0400_805a);
    let f = frame();
    transmit(&mut m, 0, &f);
    assert_eq!(r(&mut m, 0x3810), 1, "TDH");
    assert_eq!(r(&mut m, 0x2810), 1, "RDH");
    assert!(m.irq_level(models::pc::IRQ_E1000E), "INTx on IRQ 11");
    assert_eq!(mem(&mut m, TX_RING + 12, 1), [0x01], "TX DD written back");
    let rx = mem(&mut m, RX_RING, 16);
    assert_eq!(&rx[8..10], &[60, 0], "RX length");
    assert_eq!(rx[12], 0x03, "DD|EOP");
    assert_eq!(mem(&mut m, RX_BUF, 60), f, "frame bytes intact");
    assert_eq!(r(&mut m, 0x00c0), 0x8000_0083, "ICR [V]");
    assert!(!m.irq_level(models::pc::IRQ_E1000E), "ICR read lowers INTx");
    assert_eq!(r(&mut m, 0x00c0), 0, "ICR cleared on read");
    for (reg, want, name) in [
        (0x4074, 1, "GPRC"),
        (0x4080, 1, "GPTC"),
        (0x40d0, 1, "TPR"),
        (0x40d4, 1, "TPT"),
        (0x4088, 64, "GORCL"),
        (0x4090, 60, "GOTCL"),
        (0x4078, 1, "BPRC"),
        (0x40f4, 1, "BPTC"),
    ] {
        assert_eq!(r(&mut m, reg), want, "{name} [V]");
    }
    assert_eq!(r(&mut m, 0x4074), 0, "GPRC clears on read");
}

#[test]
fn loopback_without_secrc_appends_the_fcs() {
    let mut m = pc();
    bring_up(&mut m, 0x805a);
    let f = frame();
    transmit(&mut m, 0, &f);
    let rx = mem(&mut m, RX_RING, 16);
    assert_eq!(&rx[8..10], &[64, 0], "length counts the FCS");
    let data = mem(&mut m, RX_BUF, 64);
    assert_eq!(&data[..60], &f[..]);
    let crc = models::e1000e::ethernet_crc(&f).to_le_bytes();
    assert_eq!(&data[60..], &crc);
}

#[test]
fn phy_loopback_delivers_to_the_receive_ring() {
    let mut m = pc();
    bring_up(&mut m, 0x0400_801a); // no LBM
    w(&mut m, 0x0020, 0x0420_0000 | 0x4140); // BMCR: loopback
    transmit(&mut m, 0, &frame());
    assert_eq!(r(&mut m, 0x2810), 1, "RDH");
}

#[test]
fn without_loopback_the_frame_goes_to_the_wire() {
    let mut m = pc();
    bring_up(&mut m, 0x0400_801a);
    transmit(&mut m, 0, &frame());
    assert_eq!(r(&mut m, 0x2810), 0, "nothing received");
    assert_eq!(r(&mut m, 0x00c0), 0x8000_0003, "TXDW|TXQE");
}

#[test]
fn incoming_event_frame_is_received() {
    let mut m = pc();
    bring_up(&mut m, 0x0400_801a);
    let f = frame();
    deliver(&mut m, "e1000e", &f);
    assert_eq!(r(&mut m, 0x2810), 1);
    assert_eq!(mem(&mut m, RX_BUF, 60), f);
}

#[test]
fn receive_into_own_bar_is_blocked_and_the_nic_stays_usable() {
    let mut m = machine(models::pc::build, ReentrancyMode::Guard);
    bring_up(&mut m, 0x0400_805a);
    put(&mut m, RX_RING, &desc(BAR0 + 0x400, 0, 0));
    let before = m.blocked_accesses();
    transmit(&mut m, 0, &frame());
    assert!(m.blocked_accesses() > before, "the guard dropped the DMA");
    assert_eq!(r(&mut m, 0x0400), 0x0004_00fa, "TCTL untouched");
    assert_eq!(r(&mut m, 0x2810), 1, "descriptor consumed");
    // A normal round trip afterwards.
    let f = frame();
    transmit(&mut m, 1, &f);
    assert_eq!(r(&mut m, 0x3810), 2);
    assert_eq!(r(&mut m, 0x2810), 2);
    assert_eq!(mem(&mut m, RX_BUF + 0x800, 60), f);
}

#[test]
fn receive_into_own_bar_is_a_reentrancy_finding_in_detect_mode() {
    rx_into_own_bar_is_a_finding("e1000e");
}

#[test]
fn e1000e_seeds_replay_and_encode_with_no_finding() {
    seeds_replay_and_encode("e1000e");
}

#[test]
fn bar_accesses_other_than_dwords_are_qemus() {
    bar_accesses_are_qemus(models::pc::build, "OK 0x10d38086");
}
