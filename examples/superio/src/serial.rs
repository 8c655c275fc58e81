//! vm-superio's [`Serial`] (a 16550A UART) as a VMM wires it: a [`MutDevicePio`] at
//! 0x3F8..0x3FF, its [`Trigger`] an interrupt edge on IRQ 4, guest output into a bounded
//! sink, host input through `enqueue_raw_bytes`.
//!
//! - **Interrupts**: [`IrqTrigger`] counts `trigger()` calls; the adapter turns each into a
//!   pulse on the machine's IRQ 4 (an irqfd edge in a KVM VMM).
//! - **Output**: [`Sink`] keeps the first [`SINK_CAPACITY`] bytes the guest transmits; after
//!   that it fails writes with `WriteZero`, as a console that cannot keep up does, so the
//!   UART's lost-byte path runs too. [`SerialPort::tx_errors`] counts them.
//! - **Host input**: EVENT payloads go to `enqueue_raw_bytes` (what a VMM does with bytes
//!   from stdin); a full FIFO drops the rest, counted in [`SerialPort::rx_dropped`].
//! - **Strict mode** (machine option `strict=on`, see [`SerialPort::strict`]): the adapter
//!   also checks what a 16550A guarantees a driver about IIR, and a violation is a finding.
//! - **State**: `Serial` is not `Clone` (it owns its trigger and writer); [`SerialPort`]
//!   clones through `Serial::state` / `Serial::from_state`, which is how VMMs snapshot it.

use crate::vm_device::Signals;
use std::cell::Cell;
use std::convert::Infallible;
use std::io;
use vm_device::MutDevicePio;
use vm_device::bus::{PioAddress, PioAddressOffset};
use vm_superio::serial::NoEvents;
use vm_superio::{Serial, Trigger};

/// The COM1 base port.
pub const COM1: u64 = 0x3f8;
/// Ports the UART decodes.
pub const PORTS: u64 = 8;
/// COM1's ISA interrupt.
pub const COM1_IRQ: usize = 4;
/// Bytes of guest output the sink keeps before it refuses more.
pub const SINK_CAPACITY: usize = 256;

/// A [`Trigger`] that counts its calls for the adapter to deliver.
#[derive(Debug, Default)]
pub struct IrqTrigger(Cell<u32>);

impl IrqTrigger {
    /// Calls since the last `take`.
    pub fn take(&self) -> u32 {
        self.0.take()
    }
}

impl Trigger for IrqTrigger {
    type E = Infallible;

    fn trigger(&self) -> Result<(), Infallible> {
        self.0.set(self.0.get().saturating_add(1));
        Ok(())
    }
}

/// Guest output: the first [`SINK_CAPACITY`] bytes, then `WriteZero` errors.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sink {
    /// What the guest transmitted (at most [`SINK_CAPACITY`] bytes).
    pub bytes: Vec<u8>,
}

impl io::Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let room = SINK_CAPACITY - self.bytes.len();
        if room == 0 && !buf.is_empty() {
            return Err(io::Error::from(io::ErrorKind::WriteZero));
        }
        let n = room.min(buf.len());
        self.bytes.extend_from_slice(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Offset of the interrupt identification register (read side).
const IIR: u16 = 2;
/// IER bit: received data available interrupt enabled.
const IER_RDA: u8 = 0x01;

/// The UART as the VMM's port-I/O device.
#[derive(Debug)]
pub struct SerialPort {
    serial: Serial<IrqTrigger, NoEvents, Sink>,
    tx_errors: u64,
    rx_dropped: u64,
    strict: bool,
}

/// LSR error bits (overrun, parity, framing, break): the sources of a line status interrupt.
const LSR_ERRORS: u8 = 0x1e;
/// MSR delta bits: the sources of a modem status interrupt.
const MSR_DELTAS: u8 = 0x0f;

/// An IIR read that breaks what a 16550A guarantees ([`iir_violation`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IirViolation {
    /// The identification names a source that is not pending (several or-ed together).
    NotPending(String),
    /// The received-data interrupt is enabled, data waits, and IIR does not report it.
    LostRxData(String),
}

/// Check an IIR read against the PC16550D datasheet (table "Interrupt Control Functions"),
/// given the state just before the read. Bits 3:0 identify *one* source, the highest-priority
/// pending one: 0x6 receiver line status (an LSR error bit set), 0x4 received data, 0xc
/// character timeout (data in the FIFO), 0x2 THR empty, 0x0 modem status (an MSR delta bit
/// set), 0x1 none. The received-data interrupt is reset only by reading the data, so while it
/// is enabled and data waits, IIR reports it (or line status, which outranks it, or a
/// character timeout).
pub fn iir_violation(before: &vm_superio::SerialState, iir: u8) -> Option<IirViolation> {
    let id = iir & 0x0f;
    let source_present = match id {
        0x1 | 0x2 | 0x4 => true,
        0x6 => before.line_status & LSR_ERRORS != 0,
        0xc => !before.in_buffer.is_empty(),
        0x0 => before.modem_status & MSR_DELTAS != 0,
        _ => false,
    };
    if !source_present {
        return Some(IirViolation::NotPending(format!(
            "IIR {iir:#04x} identifies source {id:#x}, which is not pending (LSR {:#04x}, MSR {:#04x}): \
             several sources or-ed together?",
            before.line_status, before.modem_status
        )));
    }
    let rda_pending = before.interrupt_enable & IER_RDA != 0 && !before.in_buffer.is_empty();
    if rda_pending && ![0x4, 0x6, 0xc].contains(&id) {
        return Some(IirViolation::LostRxData(format!(
            "IIR {iir:#04x}: the received-data interrupt is enabled and {} bytes wait, but IIR does not report it",
            before.in_buffer.len()
        )));
    }
    None
}

impl SerialPort {
    /// A UART in its power-on state with an empty sink.
    pub fn new() -> Self {
        Self {
            serial: Serial::new(IrqTrigger::default(), Sink::default()),
            tx_errors: 0,
            rx_dropped: 0,
            strict: false,
        }
    }

    /// A UART whose adapter checks every IIR read with [`iir_violation`] and panics on a
    /// violation (a finding with the adapter's location): a conformance oracle on top of the
    /// crash oracle. Machine option `strict=on` of `superio-x86`.
    pub fn strict() -> Self {
        Self {
            strict: true,
            ..Self::new()
        }
    }

    /// What the guest has transmitted.
    pub fn output(&self) -> &[u8] {
        &self.serial.writer().bytes
    }

    /// Transmitted bytes the sink refused.
    pub fn tx_errors(&self) -> u64 {
        self.tx_errors
    }

    /// Host input bytes that found the receive FIFO full.
    pub fn rx_dropped(&self) -> u64 {
        self.rx_dropped
    }
}

impl Default for SerialPort {
    fn default() -> Self {
        Self::new()
    }
}

impl Clone for SerialPort {
    fn clone(&self) -> Self {
        let serial = Serial::from_state(
            &self.serial.state(),
            IrqTrigger::default(),
            NoEvents,
            self.serial.writer().clone(),
        )
        .unwrap_or_else(|_| unreachable!("a Serial's own state has at most a FIFO of input"));
        // `from_state` re-raises pending interrupts; the copy owes what the original owes.
        serial.interrupt_evt().take();
        serial
            .interrupt_evt()
            .0
            .set(self.serial.interrupt_evt().0.get());
        Self {
            serial,
            tx_errors: self.tx_errors,
            rx_dropped: self.rx_dropped,
            strict: self.strict,
        }
    }
}

impl MutDevicePio for SerialPort {
    fn pio_read(&mut self, _base: PioAddress, offset: PioAddressOffset, data: &mut [u8]) {
        // As Firecracker and Cloud Hypervisor do: one byte per access, else nothing.
        let [byte] = data else {
            return;
        };
        if !(self.strict && offset == IIR) {
            *byte = self.serial.read(offset as u8);
            return;
        }
        let before = self.serial.state();
        *byte = self.serial.read(offset as u8);
        // One panic site per invariant, so each is a signature of its own.
        match iir_violation(&before, *byte) {
            None => {}
            Some(IirViolation::NotPending(v)) => panic!("16550A conformance: {v}"),
            Some(IirViolation::LostRxData(v)) => panic!("16550A conformance: {v}"),
        }
    }

    fn pio_write(&mut self, _base: PioAddress, offset: PioAddressOffset, data: &[u8]) {
        if let [byte] = data
            && self.serial.write(offset as u8, *byte).is_err()
        {
            self.tx_errors += 1;
        }
    }
}

impl Signals for SerialPort {
    fn take_interrupts(&mut self) -> u32 {
        self.serial.interrupt_evt().take()
    }

    fn host_input(&mut self, payload: &[u8]) {
        match self.serial.enqueue_raw_bytes(payload) {
            Ok(n) => self.rx_dropped += (payload.len() - n) as u64,
            Err(_) => self.rx_dropped += payload.len() as u64,
        }
    }
}
