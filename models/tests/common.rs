//! Shared helpers for the models' integration tests.
#![allow(dead_code)]

use harness::machine::{Machine, MachineOptions};
use harness::qtest::parse_line;

/// A cold `pc` machine, as `devfuzz qtest --machine pc` starts.
pub fn pc() -> Machine {
    Machine::new(models::pc::build, MachineOptions::default())
}

/// Send one qtest line and return the reply.
pub fn send(m: &mut Machine, line: &str) -> String {
    let cmd = parse_line(line).expect("valid line").expect("a command");
    harness::runner::exec(m, &cmd).expect("runs").to_string()
}

/// Send `(command, expected reply)` pairs, asserting each reply.
pub fn expect(m: &mut Machine, script: &[(&str, &str)]) {
    for (i, (line, want)) in script.iter().enumerate() {
        assert_eq!(send(m, line), *want, "step {i}: {line}");
    }
}

/// `n` pseudo-random bytes from `rng` (seeded: `fastrand::Rng::with_seed`).
pub fn random_bytes(rng: &mut fastrand::Rng, n: usize) -> Vec<u8> {
    let mut bytes = vec![0; n];
    rng.fill(&mut bytes);
    bytes
}

/// The hex number of a qtest `OK 0x…` reply.
pub fn hex(reply: &str) -> u64 {
    u64::from_str_radix(reply.trim_start_matches("OK 0x"), 16).expect("hex reply")
}

/// `len` bytes of guest memory at `addr`, read through qtest.
pub fn memory(m: &mut Machine, addr: u64, len: usize) -> Vec<u8> {
    let reply = send(m, &format!("read {addr:#x} {len:#x}"));
    let hex = reply.trim_start_matches("OK 0x");
    (0..len)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex"))
        .collect()
}

/// The PIIX3 IDE function on `pc`: BAR4 (bus master) at 0xc000, I/O and bus mastering on.
pub fn enable_ide(m: &mut Machine) {
    for line in [
        "outl 0xcf8 0x80000920",
        "outl 0xcfc 0xc001",
        "outl 0xcf8 0x80000904",
        "outw 0xcfc 0x5",
    ] {
        send(m, line);
    }
}
