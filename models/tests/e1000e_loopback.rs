//! e1000e on `pc` through qtest: a Linux-like bring-up and loopback round trips (facts §1.10
//! "verified loopback recipe" [V]), and the receive-into-own-BAR re-entrancy in both modes.

mod common;
use common::{expect, pc, send};
use harness::machine::{Machine, MachineOptions, ReentrancyMode};

const BAR0: u64 = 0xfebc_0000;
const TX_RING: u64 = 0x10000;
const RX_RING: u64 = 0x20000;
const RX_BUF: u64 = 0x30000;
const TX_BUF: u64 = 0x40000;

fn w(m: &mut Machine, reg: u64, value: u32) {
    assert_eq!(
        send(m, &format!("writel {:#x} {value:#x}", BAR0 + reg)),
        "OK"
    );
}

fn r(m: &mut Machine, reg: u64) -> u32 {
    let reply = send(m, &format!("readl {:#x}", BAR0 + reg));
    u32::from_str_radix(reply.trim_start_matches("OK 0x"), 16).expect("hex") as u32
}

fn mem(m: &mut Machine, addr: u64, len: usize) -> Vec<u8> {
    let reply = send(m, &format!("read {addr:#x} {len}"));
    let hex = reply.trim_start_matches("OK 0x");
    (0..len)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex"))
        .collect()
}

fn put(m: &mut Machine, addr: u64, bytes: &[u8]) {
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(
        send(m, &format!("write {addr:#x} {} 0x{hex}", bytes.len())),
        "OK"
    );
}

fn desc(addr: u64, dword1: u32, dword2: u32) -> Vec<u8> {
    let mut d = addr.to_le_bytes().to_vec();
    d.extend_from_slice(&dword1.to_le_bytes());
    d.extend_from_slice(&dword2.to_le_bytes());
    d
}

fn frame() -> Vec<u8> {
    let mut f = vec![0xff; 6];
    f.extend_from_slice(&[0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x08, 0x00]);
    f.extend((0..46u8).map(|i| i.wrapping_mul(7)));
    f
}

/// PCI enable, reset, MAC from EEPROM, PHY id, rings: the Linux e1000e probe/open order.
fn bring_up(m: &mut Machine, rctl: u32) {
    expect(
        m,
        &[
            ("outl 0xcf8 0x80001000", "OK"),
            ("inl 0xcfc", "OK 0x10d38086"),
            ("outl 0xcf8 0x80001010", "OK"),
            ("outl 0xcfc 0xfebc0000", "OK"),
            ("outl 0xcf8 0x80001004", "OK"),
            ("outw 0xcfc 0x0006", "OK"),
        ],
    );
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
    let hex: String = f.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(send(&mut m, &format!("event e1000e 0x{hex}")), "OK");
    assert_eq!(r(&mut m, 0x2810), 1);
    assert_eq!(mem(&mut m, RX_BUF, 60), f);
}

fn machine(mode: ReentrancyMode) -> Machine {
    Machine::new(
        models::pc::build,
        MachineOptions {
            reentrancy: mode,
            ..MachineOptions::default()
        },
    )
}

#[test]
fn receive_into_own_bar_is_blocked_and_the_nic_stays_usable() {
    let mut m = machine(ReentrancyMode::Guard);
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
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../regressions/e1000e/loopback-rx-into-own-bar.qtest"),
    )
    .expect("regression");
    let cmds = harness::qtest::parse_trace(&text).expect("parses");
    let target = models::target("e1000e").expect("target");
    let mut runner = harness::runner::Runner::with_options(
        target,
        MachineOptions {
            reentrancy: ReentrancyMode::Detect,
            ..MachineOptions::default()
        },
    );
    let outcome = runner.run_trace(&cmds).expect("runs");
    let finding = outcome.finding().expect("a finding");
    assert!(
        finding.signature().starts_with("reentrancy:e1000e->e1000e"),
        "{}",
        finding.signature()
    );
}

#[test]
fn e1000e_seeds_replay_and_encode_with_no_finding() {
    use harness::qtest::parse_trace;
    use harness::runner::Runner;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds/e1000e");
    let mut runner = Runner::new(models::target("e1000e").expect("target"));
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).expect("seeds") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("text");
        let cmds = parse_trace(&text).expect("parses");
        let outcome = runner.run_trace(&cmds).expect("runs");
        assert!(
            outcome.finding().is_none(),
            "{}: {outcome:?}",
            path.display()
        );
        let encoded = runner.trace_to_input(&cmds).expect("encodes");
        assert!(
            encoded.dropped.is_empty(),
            "{}: {:?}",
            path.display(),
            encoded.dropped
        );
        assert!(encoded.bytes.len() <= 4096, "{}", path.display());
        let outcome = runner.run_input(&encoded.bytes);
        assert!(
            outcome.finding().is_none(),
            "{} as binary: {outcome:?}",
            path.display()
        );
        count += 1;
    }
    assert!(count >= 2);
}
