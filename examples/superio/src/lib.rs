//! rust-vmm's `vm-superio` devices fuzzed with devfuzz from a crate outside the devfuzz
//! workspace: the proof that the harness takes a device model nobody here wrote.
//!
//! - [`vm_device`]: [`PioAdapter`](vm_device::PioAdapter) / [`MmioAdapter`](vm_device::MmioAdapter),
//!   any `vm-device` `MutDevicePio` / `MutDeviceMmio` device as a harness `Device`.
//! - [`serial`], [`i8042`], [`rtc`]: the three `vm-superio` devices wired as a VMM wires them.
//! - [`MACHINES`] and [`TARGETS`]: the machine profiles and fuzz targets, which the cargo-fuzz
//!   crate in `fuzz/` and the `superio-devfuzz` command use.
//!
//! ```
//! use harness::outcome::Outcome;
//! // `outb 0x3f8 0x41` as a binary input (docs/ops.md): WRITE (1), live region 0, offset 0
//! // (u32), size byte 0 (one byte), value 0x41.
//! let out = harness::entry::run_one(devfuzz_superio::TARGETS, "superio_serial", &[1, 0, 0, 0, 0, 0, 0, 0x41]);
//! assert!(matches!(out, Some(Outcome::Ok { .. })));
//! ```

#![forbid(unsafe_code)]

pub mod i8042;
pub mod rtc;
pub mod serial;
pub mod vm_device;

use harness::device::RegionId;
use harness::machine::MachineSpec;
use harness::target::{Builder, MachineProfile, ProfileOption, Target};
use std::sync::Arc;
use vm_device::{MmioAdapter, PioAdapter};

/// The x86 legacy devices of a microVM (Firecracker's layout): COM1 at 0x3F8 on IRQ 4, the
/// i8042 at 0x60..0x64; 1 MiB of RAM at 0.
pub fn x86_machine() -> MachineSpec {
    x86_machine_with(serial::SerialPort::new)
}

/// [`x86_machine`] with the UART `uart` builds (`SerialPort::strict` for `strict=on`).
pub fn x86_machine_with(uart: fn() -> serial::SerialPort) -> MachineSpec {
    let mut spec = MachineSpec {
        ram_size: 1 << 20,
        irq_lines: vec!["irq0", "irq1", "irq2", "irq3", "irq4"],
        ..MachineSpec::default()
    };
    let uart = spec.add(Box::new(PioAdapter::new(
        "serial",
        "serial",
        serial::COM1,
        serial::PORTS,
        uart,
    )));
    spec.map_fixed(uart, RegionId(0), serial::COM1, 0);
    spec.wire_irq(uart, 0, serial::COM1_IRQ);
    let kbc = spec.add(Box::new(PioAdapter::new(
        "i8042",
        "i8042",
        i8042::BASE,
        i8042::PORTS,
        i8042::I8042Port::new,
    )));
    spec.map_fixed(kbc, RegionId(0), i8042::BASE, 0);
    spec
}

/// An aarch64 board with the PL031 where QEMU's `virt` has it (0x0901_0000) and 1 MiB of
/// RAM at 0x4000_0000.
pub fn arm_machine() -> MachineSpec {
    let mut spec = MachineSpec {
        ram_size: 1 << 20,
        ram_base: 0x4000_0000,
        ..MachineSpec::default()
    };
    let rtc = spec.add(Box::new(MmioAdapter::new(
        "pl031",
        "pl031",
        rtc::BASE,
        rtc::SIZE,
        rtc::RtcDevice::new,
    )));
    spec.map_fixed(rtc, RegionId(0), rtc::BASE, 0);
    spec
}

/// Machine `superio-x86`: see [`x86_machine`]. Option `strict=on|off` (default off): the
/// serial adapter checks 16550A IIR semantics ([`serial::iir_violation`]) and a violation is
/// a finding.
pub static X86: MachineProfile = MachineProfile {
    name: "superio-x86",
    description: "vm-superio Serial at 0x3f8 (IRQ 4) and I8042Device at 0x60, as in Firecracker",
    build: x86_machine,
    options: &[ProfileOption {
        key: "strict",
        help: "on|off: the serial adapter checks 16550A IIR semantics; a violation is a finding",
    }],
    configure: Some(configure_x86),
};

/// Options of [`X86`]: `strict=on|off`.
fn configure_x86(items: &[(String, String)]) -> Result<Builder, String> {
    let mut uart: fn() -> serial::SerialPort = serial::SerialPort::new;
    for (key, value) in items {
        match (key.as_str(), value.as_str()) {
            ("strict", "on") => uart = serial::SerialPort::strict,
            ("strict", "off") => uart = serial::SerialPort::new,
            (key, value) => return Err(format!("{key}={value}: not on or off")),
        }
    }
    Ok(Arc::new(move || x86_machine_with(uart)))
}

/// Machine `superio-arm`: see [`arm_machine`].
pub static ARM: MachineProfile = MachineProfile::new(
    "superio-arm",
    "vm-superio Rtc (PL031) at 0x9010000, as in QEMU virt",
    arm_machine,
);

/// Every machine profile of the example.
pub static MACHINES: &[&MachineProfile] = &[&X86, &ARM];

/// Every fuzz target of the example.
pub static TARGETS: &[Target] = &[
    Target::new(
        "superio_serial",
        "vm-superio Serial (16550A) at 0x3f8, IRQ 4, host input as events",
        &X86,
        &["serial"],
    )
    .with_events(&["serial"]),
    Target::new(
        "superio_rtc",
        "vm-superio Rtc (PL031) on MMIO; reads the host clock (not deterministic)",
        &ARM,
        &["pl031"],
    ),
    Target::new(
        "superio_i8042",
        "vm-superio I8042Device at 0x60/0x64 (reset line only)",
        &X86,
        &["i8042"],
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use harness::qtest::parse_trace;
    use harness::runner::Runner;

    fn target(name: &str) -> &'static Target {
        harness::entry::find(TARGETS, name).unwrap()
    }

    fn replay(name: &str, text: &str) -> (Runner, harness::outcome::Outcome) {
        let mut runner = Runner::new(target(name));
        let outcome = runner.run_trace(&parse_trace(text).unwrap()).unwrap();
        (runner, outcome)
    }

    #[test]
    fn the_uart_echoes_in_loopback_and_raises_irq4() {
        let (mut r, out) = replay(
            "superio_serial",
            "outb 0x3f9 0x01\noutb 0x3fc 0x10\noutb 0x3f8 0x5a\ninb 0x3f8\n",
        );
        assert_eq!(out.summary(), "ok");
        assert!(r.machine().irq_raises(4) >= 1);
        let lsr = harness::qtest::parse_line("inb 0x3fd").unwrap().unwrap();
        // The echoed byte was read: THR empty and transmitter idle, no data ready.
        assert_eq!(
            r.step(&lsr),
            harness::runner::Step::Reply("OK 0x0060".into())
        );
    }

    #[test]
    fn guest_output_stops_at_the_sink_capacity() {
        let mut text = String::new();
        for _ in 0..serial::SINK_CAPACITY + 3 {
            text.push_str("outb 0x3f8 0x41\n");
        }
        let (mut r, _) = replay("superio_serial", &text);
        let id = r.machine().device_by_name("serial").unwrap();
        let dbg = format!("{:?}", r.machine().device(id).unwrap());
        assert!(dbg.contains("tx_errors: 3"), "{dbg}");
    }

    #[test]
    fn the_i8042_reset_command_resets_the_machine() {
        let (mut r, out) = replay("superio_i8042", "outb 0x64 0xfe\n");
        assert_eq!(out.summary(), "ok");
        assert_eq!(r.machine().device_count(), 2);
    }

    #[test]
    fn host_input_reaches_the_receive_fifo() {
        let (mut r, _) = replay("superio_serial", "outb 0x3f9 0x01\n");
        let reply = |r: &mut Runner, line: &str| match r
            .step(&harness::qtest::parse_line(line).unwrap().unwrap())
        {
            harness::runner::Step::Reply(s) => s,
            other => panic!("{other:?}"),
        };
        reply(&mut r, "event serial 0x6869");
        assert_eq!(reply(&mut r, "inb 0x3f8"), "OK 0x0068");
        assert_eq!(reply(&mut r, "inb 0x3f8"), "OK 0x0069");
    }

    #[test]
    fn reset_equals_a_fresh_machine() {
        for t in TARGETS {
            let mut r = Runner::new(t);
            r.run_input(&[1, 0, 0, 0, 0, 0x41, 1, 0, 3, 0, 0, 0x80]);
            r.machine().reset();
            let fresh = harness::machine::Machine::new(t.machine.build, Default::default());
            assert_eq!(r.machine().state_text(), fresh.state_text(), "{}", t.name);
        }
    }
}
