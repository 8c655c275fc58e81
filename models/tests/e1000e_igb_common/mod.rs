//! What the e1000e and igb integration tests share: the BAR and ring addresses of the
//! bring-up, register and memory access through qtest, the test frame, and the replays of a
//! regression or the seeds.
#![allow(dead_code)]

use crate::common::send;
use harness::machine::{Machine, MachineOptions, MachineSpec, ReentrancyMode};
use harness::outcome::Outcome;
use harness::qtest::parse_trace;
use harness::runner::Runner;
use std::path::Path;

/// Where the bring-up places BAR0.
pub const BAR0: u64 = 0xfebc_0000;
/// The transmit ring.
pub const TX_RING: u64 = 0x10000;
/// The receive ring.
pub const RX_RING: u64 = 0x20000;
/// The receive buffers (0x800 apart).
pub const RX_BUF: u64 = 0x30000;
/// The transmit buffers.
pub const TX_BUF: u64 = 0x40000;

/// A machine built by `build` with re-entrancy `mode`.
pub fn machine(build: fn() -> MachineSpec, mode: ReentrancyMode) -> Machine {
    Machine::new(
        build,
        MachineOptions {
            reentrancy: mode,
            ..MachineOptions::default()
        },
    )
}

/// Write NIC register `reg`.
pub fn w(m: &mut Machine, reg: u64, value: u32) {
    assert_eq!(
        send(m, &format!("writel {:#x} {value:#x}", BAR0 + reg)),
        "OK"
    );
}

/// Read NIC register `reg`.
pub fn r(m: &mut Machine, reg: u64) -> u32 {
    let reply = send(m, &format!("readl {:#x}", BAR0 + reg));
    u32::from_str_radix(reply.trim_start_matches("OK 0x"), 16).expect("hex")
}

/// `len` bytes of guest memory at `addr`.
pub fn mem(m: &mut Machine, addr: u64, len: usize) -> Vec<u8> {
    crate::common::memory(m, addr, len)
}

/// Write `bytes` to guest memory at `addr`.
pub fn put(m: &mut Machine, addr: u64, bytes: &[u8]) {
    assert_eq!(
        send(
            m,
            &format!("write {addr:#x} {} 0x{}", bytes.len(), hex(bytes))
        ),
        "OK"
    );
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A 60-byte broadcast IPv4 frame from the NIC's own MAC.
pub fn frame() -> Vec<u8> {
    let mut f = vec![0xff; 6];
    f.extend_from_slice(&[0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x08, 0x00]);
    f.extend((0..46u8).map(|i| i.wrapping_mul(7)));
    f
}

/// A frame from the backend: the `event` command for `device`.
pub fn deliver(m: &mut Machine, device: &str, frame: &[u8]) {
    assert_eq!(send(m, &format!("event {device} 0x{}", hex(frame))), "OK");
}

/// Put the NIC at 00:02.0 (PCI id `id`, as `inl` answers it) on BAR0 with memory and bus
/// mastering on.
pub fn pci_enable(m: &mut Machine, id: &str) {
    crate::common::expect(
        m,
        &[
            ("outl 0xcf8 0x80001000", "OK"),
            ("inl 0xcfc", id),
            ("outl 0xcf8 0x80001010", "OK"),
            ("outl 0xcfc 0xfebc0000", "OK"),
            ("outl 0xcf8 0x80001004", "OK"),
            ("outw 0xcfc 0x0006", "OK"),
        ],
    );
}

/// Run the qtest file at `path` (from the models crate) on `target` with re-entrancy `mode`.
pub fn run_file(target: &str, path: &str, mode: ReentrancyMode) -> Outcome {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).expect("file");
    let cmds = parse_trace(&text).expect("parses");
    let mut runner = Runner::with_options(
        models::target(target).expect("target"),
        MachineOptions {
            reentrancy: mode,
            ..MachineOptions::default()
        },
    );
    runner.run_trace(&cmds).expect("runs")
}

/// The regression `regressions/<target>/loopback-rx-into-own-bar.qtest` is a re-entrancy
/// finding of the NIC into itself in detect mode.
pub fn rx_into_own_bar_is_a_finding(target: &str) {
    let outcome = run_file(
        target,
        &format!("../regressions/{target}/loopback-rx-into-own-bar.qtest"),
        ReentrancyMode::Detect,
    );
    let finding = outcome.finding().expect("a finding");
    assert!(
        finding
            .signature()
            .starts_with(&format!("reentrancy:{target}->{target}")),
        "{}",
        finding.signature()
    );
}

/// Every seed of `target` replays without a finding, encodes to a binary input of at most
/// 4 KiB without dropping a command, and that input runs without a finding too.
pub fn seeds_replay_and_encode(target: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../fuzz/seeds/{target}"));
    let mut runner = Runner::new(models::target(target).expect("target"));
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
        let again = runner.run_input(&encoded.bytes);
        assert!(
            again.finding().is_none(),
            "{}: binary form: {again:?}",
            path.display()
        );
        count += 1;
    }
    assert!(count >= 2);
}

/// Accesses other than an aligned dword reach the BARs as QEMU 10 hands them on (its answers,
/// probed): cut into naturally aligned pieces of at most a dword; a piece of the register file
/// reads or writes the whole register it lies in from its low byte; an aligned 8-byte access
/// is two dwords; the MSI-X table answers dword pieces only. `id`: the PCI id `inl` answers.
pub fn bar_accesses_are_qemus(build: fn() -> MachineSpec, id: &str) {
    let mut m = machine(build, ReentrancyMode::Guard);
    pci_enable(&mut m, id);
    crate::common::expect(
        &mut m,
        &[
            // BAR3 (MSI-X) at 0xfeb60000.
            ("outl 0xcf8 0x8000101c", "OK"),
            ("outl 0xcfc 0xfeb60000", "OK"),
            // RAL0, then RAH0 holds the default MAC's last bytes and AV.
            ("writel 0xfebc5400 0x11223344", "OK"),
            ("readl 0xfebc5404", "OK 0x0000000080005634"),
            ("readb 0xfebc5401", "OK 0x0000000000000044"),
            ("readw 0xfebc5402", "OK 0x0000000000003344"),
            // Pieces: byte at +1, word at +2, byte of RAH at +4.
            ("readl 0xfebc5401", "OK 0x0000000034334444"),
            ("readq 0xfebc5400", "OK 0x8000563411223344"),
            ("writeq 0xfebc5400 0x80001234ccddeeff", "OK"),
            ("readl 0xfebc5400", "OK 0x00000000ccddeeff"),
            ("readl 0xfebc5404", "OK 0x0000000080001234"),
            ("writeb 0xfebc5401 0x12", "OK"),
            ("readl 0xfebc5400", "OK 0x0000000000000012"),
            // MSI-X: vector 0 starts masked; sub-dword pieces read 0 and write nothing.
            ("readl 0xfeb6000c", "OK 0x0000000000000001"),
            ("readb 0xfeb6000c", "OK 0x0000000000000000"),
            ("readq 0xfeb60008", "OK 0x0000000100000000"),
            ("writeq 0xfeb60000 0xfee00000", "OK"),
            ("readl 0xfeb60000", "OK 0x00000000fee00000"),
            ("writew 0xfeb60008 0x1234", "OK"),
            ("readl 0xfeb60008", "OK 0x0000000000000000"),
        ],
    );
}
