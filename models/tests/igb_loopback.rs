//! igb on `pc-igb` through qtest: a Linux-like bring-up and a loopback round trip (descriptor
//! write-back bytes, head/tail values, ICR/EICR bits, statistics, frame bytes, SECRC), the
//! receive-into-own-BAR re-entrancy in both modes, and the seeds.

mod common;
mod e1000e_igb_common;
use e1000e_igb_common::*;
use harness::machine::{Machine, ReentrancyMode};

const RXQ0: u64 = 0xc000;
const TXQ0: u64 = 0xe000;

/// An advanced TX data descriptor: 60 bytes at `buf`, EOP|IFCS|RS|DEXT, PAYLEN 60.
fn tx_desc(buf: u64) -> Vec<u8> {
    let mut d = buf.to_le_bytes().to_vec();
    d.extend_from_slice(&0x2b30_003cu32.to_le_bytes());
    d.extend_from_slice(&(60u32 << 14).to_le_bytes());
    d
}

/// PCI enable, reset, MAC from EEPROM, PHY id, queue 0 rings (advanced descriptors).
fn bring_up(m: &mut Machine, rctl: u32) {
    pci_enable(m, "OK 0x10c98086");
    w(m, 0x0000, 0x0400_0000);
    assert_eq!(r(m, 0x0000) & 0x0400_0000, 0, "RST self-clears");
    assert_eq!(
        r(m, 0x0008),
        0x8008_0481,
        "STATUS after reset: PHY reset asserted, no link"
    );
    for (word, want) in [(0u32, 0x5452_0002u32), (1, 0x1200_0006), (2, 0x5634_000a)] {
        w(m, 0x0014, word << 2 | 1);
        assert_eq!(r(m, 0x0014), want, "EERD word {word}");
    }
    w(m, 0x0020, 0x0822_0000);
    assert_eq!(r(m, 0x0020), 0x1822_02a8, "PHY ID1");
    w(m, 0x0020, 0x0823_0000);
    assert_eq!(r(m, 0x0020), 0x1823_0391, "PHY ID2");
    for i in 0..8u64 {
        let mut d = (RX_BUF + 0x800 * i).to_le_bytes().to_vec();
        d.extend_from_slice(&[0; 8]);
        put(m, RX_RING + 16 * i, &d);
    }
    w(m, RXQ0, RX_RING as u32);
    w(m, RXQ0 + 0x08, 0x80);
    w(m, RXQ0 + 0x0c, 0x0200_0002);
    w(m, RXQ0 + 0x10, 0);
    w(m, RXQ0 + 0x18, 7);
    w(m, 0x0100, rctl);
    w(m, TXQ0, TX_RING as u32);
    w(m, TXQ0 + 0x08, 0x80);
    w(m, TXQ0 + 0x10, 0);
    w(m, TXQ0 + 0x18, 0);
    w(m, 0x0400, 0xa404_00fa);
    w(m, 0x00d0, 0x95);
}

fn transmit(m: &mut Machine, slot: u64, f: &[u8]) {
    put(m, TX_BUF + 0x100 * slot, f);
    put(m, TX_RING + 16 * slot, &tx_desc(TX_BUF + 0x100 * slot));
    w(m, TXQ0 + 0x18, slot as u32 + 1);
}

#[test]
fn mac_loopback_round_trip_with_secrc() {
    let mut m = machine(models::pc::build_igb, ReentrancyMode::Guard);
    bring_up(&mut m, 0x0400_805a);
    let f = frame();
    transmit(&mut m, 0, &f);
    assert_eq!(r(&mut m, TXQ0 + 0x10), 1, "TDH");
    assert_eq!(r(&mut m, TXQ0 + 0x18), 1, "TDT");
    assert_eq!(r(&mut m, RXQ0 + 0x10), 1, "RDH");
    assert_eq!(r(&mut m, RXQ0 + 0x18), 7, "RDT");
    assert_eq!(mem(&mut m, RX_BUF, 60), f, "frame bytes intact");
    let wb = mem(&mut m, RX_RING, 16);
    assert_eq!(&wb[0..8], &[0x10, 0, 0, 0, 0, 0, 0, 0], "pkt_info: IPv4");
    assert_eq!(&wb[8..12], &[0x03, 0, 0, 0], "DD|EOP");
    assert_eq!(&wb[12..16], &[60, 0, 0, 0], "length 60, no VLAN");
    assert_eq!(
        &mem(&mut m, TX_RING + 8, 8),
        &[0, 0, 0, 0, 1, 0, 0, 0],
        "TX DD"
    );
    assert_eq!(r(&mut m, 0x1580), 0x8000_0000, "EICR: OTHER in legacy mode");
    assert_eq!(r(&mut m, 0x00c0), 0x8000_0081, "ICR: ASSERTED|RXDW|TXDW");
    assert_eq!(r(&mut m, 0x4074), 1, "GPRC");
    assert_eq!(r(&mut m, 0x4080), 1, "GPTC");
    assert_eq!(r(&mut m, 0x4078), 1, "BPRC");
    assert_eq!(r(&mut m, 0x40f4), 1, "BPTC");
    assert_eq!(r(&mut m, 0x4088), 64, "GORCL counts the FCS");
    assert_eq!(r(&mut m, 0x4090), 60, "GOTCL");
}

#[test]
fn loopback_without_secrc_appends_the_fcs() {
    let mut m = machine(models::pc::build_igb, ReentrancyMode::Guard);
    bring_up(&mut m, 0x0000_805a);
    let f = frame();
    transmit(&mut m, 0, &f);
    assert_eq!(&mem(&mut m, RX_RING + 12, 2), &[64, 0]);
    let crc = models::e1000e::ethernet_crc(&f).to_le_bytes();
    assert_eq!(mem(&mut m, RX_BUF + 60, 4), crc);
}

#[test]
fn incoming_event_frame_is_received() {
    let mut m = machine(models::pc::build_igb, ReentrancyMode::Guard);
    bring_up(&mut m, 0x0400_801a); // no loopback
    let f = frame();
    deliver(&mut m, "igb", &f);
    assert_eq!(r(&mut m, RXQ0 + 0x10), 1);
    assert_eq!(mem(&mut m, RX_BUF, 60), f);
}

#[test]
fn receive_into_own_bar_is_blocked_and_the_nic_stays_usable() {
    let mut m = machine(models::pc::build_igb, ReentrancyMode::Guard);
    bring_up(&mut m, 0x0400_805a);
    let mut d = (BAR0 + 0x400).to_le_bytes().to_vec();
    d.extend_from_slice(&[0; 8]);
    put(&mut m, RX_RING, &d);
    let before = m.blocked_accesses();
    transmit(&mut m, 0, &frame());
    assert!(m.blocked_accesses() > before, "the guard dropped the DMA");
    assert_eq!(r(&mut m, 0x0400), 0xa404_00fa, "TCTL untouched");
    assert_eq!(r(&mut m, RXQ0 + 0x10), 1, "descriptor consumed");
    let f = frame();
    transmit(&mut m, 1, &f);
    assert_eq!(r(&mut m, TXQ0 + 0x10), 2);
    assert_eq!(r(&mut m, RXQ0 + 0x10), 2);
    assert_eq!(mem(&mut m, RX_BUF + 0x800, 60), f);
}

#[test]
fn receive_into_own_bar_is_a_reentrancy_finding_in_detect_mode() {
    rx_into_own_bar_is_a_finding("igb");
}

#[test]
fn the_regression_runs_clean_under_the_guard() {
    let outcome = run_file(
        "igb",
        "../regressions/igb/loopback-rx-into-own-bar.qtest",
        ReentrancyMode::Guard,
    );
    assert!(outcome.finding().is_none(), "{outcome:?}");
}

#[test]
fn igb_seeds_replay_and_encode_with_no_finding() {
    seeds_replay_and_encode("igb");
}

#[test]
fn bar_accesses_other_than_dwords_are_qemus() {
    bar_accesses_are_qemus(models::pc::build_igb, "OK 0x10c98086");
}
