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
