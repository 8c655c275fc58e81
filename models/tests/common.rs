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

/// Deterministic pseudo-random bytes (xorshift64*).
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }
}
