//! Intel 8042 keyboard controller with a PS/2 keyboard and a PS/2 mouse, behaving as QEMU's
//! `i8042` and `ps2` devices do (QEMU >= 6.2 with its default `extended-state=on`, no
//! `kbd-throttle`).
//!
//! Not emulated: timing (a byte is available at once, IBF/TIMEOUT/PARITY never set), the A20
//! gate itself (only output-port bit 1 is kept), typematic repeat, set-3 per-key modes, the
//! horizontal wheel, and the 8042's internal RAM (see "Choices" below).
//!
//! # Ports
//! Region [`DATA_REGION`] (port 0x60): read the output buffer, write data for the keyboard or
//! the parameter of a controller command. Region [`CMD_REGION`] (port 0x64): read the status
//! register, write a controller command. IRQ pin [`IRQ_KBD_PIN`] is IRQ1 and [`IRQ_AUX_PIN`] is
//! IRQ12; each is high while the output buffer holds a byte of its source and the CCB enables
//! that interrupt (IRQ1 also needs the keyboard interface enabled, as in QEMU).
//!
//! # Event payload
//! `payload[0] % 4` selects the event; missing bytes read as 0 and an empty payload does nothing.
//! - [`EVENT_KEY_PRESS`] (0): press key `KEYS[payload[1] % KEYS.len()]` (see [`KEYS`]).
//! - [`EVENT_KEY_RELEASE`] (1): release that key.
//! - [`EVENT_KEY_TAP`] (2): press then release it.
//! - [`EVENT_MOUSE`] (3): mouse report: `payload[1]` dx and `payload[2]` dy as `i8` (positive =
//!   right and up), `payload[3]` dz as `i8` (wheel, as the packet carries it: negative = up),
//!   `payload[4]` buttons (bit 0 left, 1 right, 2 middle, 3 button 4, 4 button 5; the state
//!   after the event, not a change).
//!
//! Keys produce codes of the keyboard's current scancode set (1, 2 or 3, with QEMU's
//! Print Screen and Pause sequences in sets 1 and 2), translated to set 1 when CCB.XLATE is on.
//! Nothing is queued while scanning is disabled (0xF5). Mouse reports count only while data
//! reporting is enabled (0xF4); in stream mode they become packets at once (3 bytes, or 4 for
//! device ID 3 or 4), in remote mode they accumulate (bounded to +-32767) until 0xEB.
//!
//! # Choices (QEMU behaviour kept, and where this model differs)
//! - Status bit 3 (command/data) stays 1 as in QEMU; real hardware tracks the last port
//!   written. Status SYS is set by the 0xAA self-test only, not by writes of CCB.SYS (QEMU).
//! - CCB RAM commands 0x21-0x3F and 0x61-0x7F, and 0xA1 (version), do nothing, as in QEMU: no
//!   reply, and a 0x61-0x7F command does not capture the next data byte. A command waiting for
//!   its data byte (0x60, 0xD1-0xD4) stays pending across other commands, as in QEMU.
//! - A byte is latched into the output buffer only when it is empty; at that moment a
//!   controller reply wins over the keyboard, the keyboard over the mouse, except that right
//!   after a byte of one device is read the other device goes first (QEMU's order of IRQ
//!   updates, which makes a keyboard and a mouse with data interleave). The latched byte is
//!   taken from its queue when the guest reads it, so a keyboard command that discards unread
//!   replies also changes what the latched buffer will deliver, as in QEMU.
//! - The mouse's power-on rate and resolution are 0 (QEMU's device reset), so 0xE9 answers
//!   FA 00 00 00 before the first 0xFF/0xF6; after them it answers FA 00 02 64 (resolution 2,
//!   100 samples/s). Unknown mouse commands get no reply, and 0xFF does not leave wrap mode
//!   (both QEMU). Keyboard 0xFC takes one parameter byte.
//! - Differences: IRQ levels are recomputed after every access and event (QEMU leaves a line
//!   stale after 0xAD/0xA7/0xAE/0xA8 while a byte is latched); accumulated mouse movement is
//!   bounded; there is no separate trace for device reset besides `ps2_kbd_reset` /
//!   `ps2_mouse_reset` in [`Device::reset`].
//!
//! # Planted bugs
//! Builds with the cargo feature `planted-bugs` can select `ps2-queue-overflow` (scancodes queued
//! without the 16-byte bound) and `ps2-mouse-param-index` (0xE8's parameter used unchecked as an
//! index into the mouse's counts/mm table); see [`crate::planted`]. The controller is handed
//! its part of the selection when it is built and keeps it across resets.

mod keyboard;
mod mouse;
mod queue;
#[cfg(test)]
mod tests;

#[cfg(feature = "planted-bugs")]
use crate::planted_bug::Bug;
use crate::planted_bug::{Planted, PlantedBug};
use harness::access::{AccessRules, AccessSize, Space};
use harness::device::{Context, Device, RegionId, RegionSpec};
use keyboard::Keyboard;
pub use keyboard::{KEYS, Key, KeyKind, key_index};
use mouse::{BUTTONS_ALL, Mouse};

/// Region of the data port (the machine maps it at I/O port 0x60).
pub const DATA_REGION: RegionId = RegionId(0);
/// Region of the command/status port (the machine maps it at I/O port 0x64).
pub const CMD_REGION: RegionId = RegionId(1);
/// IRQ output for keyboard data: IRQ1.
pub const IRQ_KBD_PIN: u8 = 0;
/// IRQ output for auxiliary (mouse) data: IRQ12.
pub const IRQ_AUX_PIN: u8 = 1;

/// Event selector: press a key.
pub const EVENT_KEY_PRESS: u8 = 0x00;
/// Event selector: release a key.
pub const EVENT_KEY_RELEASE: u8 = 0x01;
/// Event selector: press and release a key.
pub const EVENT_KEY_TAP: u8 = 0x02;
/// Event selector: mouse movement, wheel and buttons.
pub const EVENT_MOUSE: u8 = 0x03;

// Status register (read from port 0x64).
const STATUS_OBF: u8 = 0x01; // Output Buffer Full
const STATUS_SYS: u8 = 0x04; // System Flag, set by the self-test (0xAA)
const STATUS_CMD_DATA: u8 = 0x08; // Command/Data (QEMU: constant 1)
const STATUS_UNLOCKED: u8 = 0x10; // Keyboard Unlocked, inhibit switch off (QEMU: constant 1)
const STATUS_AUX_OBF: u8 = 0x20; // Auxiliary Output Buffer Full
// IBF 0x02, TIMEOUT 0x40 and PARITY 0x80 are never set.

// Controller Command Byte ("mode", CTR).
const CCB_KBDINT: u8 = 0x01; // keyboard data raises IRQ1
const CCB_AUXINT: u8 = 0x02; // aux data raises IRQ12
const CCB_KBD_DISABLE: u8 = 0x10; // keyboard interface disabled (clock held low)
const CCB_AUX_DISABLE: u8 = 0x20; // aux interface disabled
const CCB_XLATE: u8 = 0x40; // translate set 2 to set 1
// SYS 0x04 and IGNKEYLOCK 0x08 are stored but have no effect.

// Controller commands (written to port 0x64).
const CMD_READ_CCB: u8 = 0x20; // Read Controller Command Byte
const CMD_WRITE_CCB: u8 = 0x60; // Write Controller Command Byte, then the byte
const CMD_AUX_DISABLE: u8 = 0xA7; // Disable Auxiliary Device Interface
const CMD_AUX_ENABLE: u8 = 0xA8; // Enable Auxiliary Device Interface
const CMD_AUX_TEST: u8 = 0xA9; // Auxiliary Device Interface Test
const CMD_SELF_TEST: u8 = 0xAA; // Self-Test
const CMD_KBD_TEST: u8 = 0xAB; // Keyboard Interface Test
const CMD_KBD_DISABLE: u8 = 0xAD; // Disable Keyboard Interface
const CMD_KBD_ENABLE: u8 = 0xAE; // Enable Keyboard Interface
const CMD_READ_INPUT_PORT: u8 = 0xC0; // Read Input Port
const CMD_READ_OUTPUT_PORT: u8 = 0xD0; // Read Output Port
const CMD_WRITE_OUTPUT_PORT: u8 = 0xD1; // Write Output Port, then the byte
const CMD_WRITE_KBD_OBUF: u8 = 0xD2; // Write Keyboard Output Buffer, then the byte
const CMD_WRITE_AUX_OBUF: u8 = 0xD3; // Write Auxiliary Output Buffer, then the byte
const CMD_WRITE_AUX: u8 = 0xD4; // Write to Auxiliary Device, then the byte
const CMD_A20_OFF: u8 = 0xDD; // Disable A20 (HP Vectra)
const CMD_A20_ON: u8 = 0xDF; // Enable A20 (HP Vectra)
const CMD_PULSE: u8 = 0xF0; // 0xF0-0xFF: Pulse Output Port bits 3:0 that are 0 in the command
const CMD_RESET: u8 = 0xFE; // Pulse bit 0 (SYSRESET#): system reset
const CMD_NO_OP: u8 = 0xFF; // Pulse no bit
// Unimplemented (as in QEMU): 0xA1 Get Version, 0x21-0x3F / 0x61-0x7F CCB RAM, all others.

// Controller replies.
const SELF_TEST_PASSED: u8 = 0x55;
const INTERFACE_TEST_PASSED: u8 = 0x00;
const INPUT_PORT_VALUE: u8 = 0x80; // keyboard not inhibited

// Output port (0xD0/0xD1).
const OUT_SYSRESET: u8 = 0x01; // 0 resets the system
const OUT_A20: u8 = 0x02; // A20 gate
const OUT_KBD_OBF: u8 = 0x10; // mirrors STATUS_OBF for keyboard data
const OUT_AUX_OBF: u8 = 0x20; // mirrors STATUS_AUX_OBF
const OUT_ONES: u8 = 0xCC; // bits QEMU keeps set

const POWER_ON_STATUS: u8 = STATUS_CMD_DATA | STATUS_UNLOCKED;
const POWER_ON_CCB: u8 = CCB_KBDINT | CCB_AUXINT;
const POWER_ON_OUTPUT_PORT: u8 = OUT_SYSRESET | OUT_A20 | OUT_ONES;
/// Read back from an unknown region (the harness never asks).
const OPEN_BUS: u8 = 0xFF;

/// Which source the latched output-buffer byte comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
    /// A controller reply (0x20, 0xAA, 0xD2, 0xD3, ...).
    Controller,
    Keyboard,
    Mouse,
}

/// A controller reply waiting for the output buffer; a newer one replaces it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct ControllerReply {
    data: u8,
    /// Delivered as auxiliary data (0xD3).
    aux: bool,
}

/// The i8042 controller with its keyboard and mouse. See the [module documentation](self).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct I8042 {
    status: u8,
    /// Controller Command Byte.
    ccb: u8,
    output_port: u8,
    /// A controller command waiting for its data byte on port 0x60.
    pending_cmd: Option<u8>,
    controller_reply: Option<ControllerReply>,
    /// Source of the byte the output buffer holds; meaningful while STATUS_OBF is set.
    ob_source: Source,
    /// Last byte delivered on port 0x60, delivered again while nothing is pending.
    ob_data: u8,
    kbd: Keyboard,
    mouse: Mouse,
}

impl I8042 {
    /// The controller in its power-on state: status 0x18, CCB 0x03, output port 0xCF.
    pub fn new() -> Self {
        Self::power_on()
    }

    /// The controller with `planted`, its part of the selection (entries of [`PLANTED`]), kept
    /// across resets.
    pub fn with_planted(planted: Planted) -> Self {
        let mut dev = Self::power_on();
        dev.set_planted(planted);
        dev
    }

    /// The power-on state, with no planted bug.
    const fn power_on() -> Self {
        Self {
            status: POWER_ON_STATUS,
            ccb: POWER_ON_CCB,
            output_port: POWER_ON_OUTPUT_PORT,
            pending_cmd: None,
            controller_reply: None,
            ob_source: Source::Controller,
            ob_data: 0,
            kbd: Keyboard::new(),
            mouse: Mouse::new(),
        }
    }

    /// Give the keyboard and the mouse the planted bugs `planted`.
    fn set_planted(&mut self, planted: Planted) {
        self.kbd.planted = planted;
        self.mouse.planted = planted;
    }

    /// Port 0x60 read: deliver the latched byte and latch the next one.
    fn read_data(&mut self) -> u8 {
        if self.status & STATUS_OBF != 0 {
            self.set_output_buffer_flags(None);
            match self.ob_source {
                Source::Controller => {
                    if let Some(reply) = self.controller_reply.take() {
                        self.ob_data = reply.data;
                    }
                }
                Source::Keyboard => {
                    if let Some(byte) = self.kbd.read() {
                        self.ob_data = byte;
                    }
                    self.fill_output_buffer(Some(Source::Keyboard));
                }
                Source::Mouse => {
                    if let Some(byte) = self.mouse.read() {
                        self.ob_data = byte;
                    }
                    self.fill_output_buffer(Some(Source::Mouse));
                }
            }
            self.fill_output_buffer(None);
        }
        tracing::trace!(target: "pckbd_kbd_read_data", "{:#04x}", self.ob_data);
        self.ob_data
    }

    /// Port 0x64 read.
    fn read_status(&self) -> u8 {
        tracing::trace!(target: "pckbd_kbd_read_status", "{:#04x}", self.status);
        self.status
    }

    /// Port 0x64 write: one controller command.
    fn write_command(&mut self, ctx: &mut dyn Context, cmd: u8) {
        tracing::trace!(target: "pckbd_kbd_write_command", "{cmd:#04x}");
        let cmd = match cmd & CMD_PULSE {
            CMD_PULSE if cmd & OUT_SYSRESET == 0 => CMD_RESET,
            CMD_PULSE => CMD_NO_OP,
            _ => cmd,
        };
        match cmd {
            CMD_READ_CCB => self.reply(self.ccb, false),
            CMD_WRITE_CCB
            | CMD_WRITE_OUTPUT_PORT
            | CMD_WRITE_KBD_OBUF
            | CMD_WRITE_AUX_OBUF
            | CMD_WRITE_AUX => self.pending_cmd = Some(cmd),
            CMD_AUX_DISABLE => self.ccb |= CCB_AUX_DISABLE,
            CMD_AUX_ENABLE => self.ccb &= !CCB_AUX_DISABLE,
            CMD_AUX_TEST | CMD_KBD_TEST => self.reply(INTERFACE_TEST_PASSED, false),
            CMD_SELF_TEST => {
                self.status |= STATUS_SYS;
                self.reply(SELF_TEST_PASSED, false);
            }
            CMD_KBD_DISABLE => self.ccb |= CCB_KBD_DISABLE,
            CMD_KBD_ENABLE => self.ccb &= !CCB_KBD_DISABLE,
            CMD_READ_INPUT_PORT => self.reply(INPUT_PORT_VALUE, false),
            CMD_READ_OUTPUT_PORT => self.reply(self.output_port, false),
            CMD_A20_OFF => self.output_port &= !OUT_A20,
            CMD_A20_ON => self.output_port |= OUT_A20,
            CMD_RESET => ctx.request_reset(),
            CMD_NO_OP => {}
            _ => tracing::debug!(target: "i8042", "unsupported controller command {cmd:#04x}"),
        }
    }

    /// Port 0x60 write: the parameter of a pending controller command, else a keyboard byte.
    fn write_data(&mut self, ctx: &mut dyn Context, val: u8) {
        tracing::trace!(target: "pckbd_kbd_write_data", "{val:#04x}");
        match self.pending_cmd.take() {
            None => {
                self.kbd.write(val);
                // Sending to the keyboard re-enables its interface.
                self.ccb &= !CCB_KBD_DISABLE;
            }
            Some(CMD_WRITE_CCB) => self.write_ccb(val),
            Some(CMD_WRITE_OUTPUT_PORT) => self.write_output_port(ctx, val),
            Some(CMD_WRITE_KBD_OBUF) => self.reply(val, false),
            Some(CMD_WRITE_AUX_OBUF) => self.reply(val, true),
            Some(CMD_WRITE_AUX) => {
                self.mouse.write(ctx, val);
                // Sending to the mouse re-enables its interface.
                self.ccb &= !CCB_AUX_DISABLE;
            }
            Some(_) => {}
        }
    }

    fn write_ccb(&mut self, val: u8) {
        self.ccb = val;
        self.kbd.set_translation(val & CCB_XLATE != 0);
    }

    fn write_output_port(&mut self, ctx: &mut dyn Context, val: u8) {
        tracing::trace!(target: "pckbd_outport_write", "{val:#04x}");
        self.output_port = val;
        if val & OUT_SYSRESET == 0 {
            ctx.request_reset();
        }
    }

    /// Queue a controller reply (it replaces an unread earlier one).
    fn reply(&mut self, data: u8, aux: bool) {
        self.controller_reply = Some(ControllerReply { data, aux });
        self.fill_output_buffer(None);
    }

    /// If the output buffer is empty, latch the highest-priority source with data: a controller
    /// reply, then the keyboard, then the mouse; a device whose interface the CCB disables is
    /// skipped, and so is `skip` (the device just read, which QEMU re-offers last).
    fn fill_output_buffer(&mut self, skip: Option<Source>) {
        if self.status & STATUS_OBF != 0 {
            return;
        }
        let kbd_ready = self.kbd.has_data()
            && self.ccb & CCB_KBD_DISABLE == 0
            && skip != Some(Source::Keyboard);
        let mouse_ready =
            self.mouse.has_data() && self.ccb & CCB_AUX_DISABLE == 0 && skip != Some(Source::Mouse);
        let (source, aux) = if let Some(reply) = self.controller_reply {
            (Source::Controller, reply.aux)
        } else if kbd_ready {
            (Source::Keyboard, false)
        } else if mouse_ready {
            (Source::Mouse, true)
        } else {
            return;
        };
        self.ob_source = source;
        self.set_output_buffer_flags(Some(aux));
    }

    /// Set OBF (and AUX_OBF when `aux`) in the status register and the output port, or clear
    /// both for `None`.
    fn set_output_buffer_flags(&mut self, full: Option<bool>) {
        self.status &= !(STATUS_OBF | STATUS_AUX_OBF);
        self.output_port &= !(OUT_KBD_OBF | OUT_AUX_OBF);
        if let Some(aux) = full {
            self.status |= STATUS_OBF;
            self.output_port |= OUT_KBD_OBF;
            if aux {
                self.status |= STATUS_AUX_OBF;
                self.output_port |= OUT_AUX_OBF;
            }
        }
    }

    /// Drive IRQ1 and IRQ12 from the output buffer and the CCB.
    fn update_irq(&self, ctx: &mut dyn Context) {
        let full = self.status & STATUS_OBF != 0;
        let aux = self.status & STATUS_AUX_OBF != 0;
        let kbd_level =
            full && !aux && self.ccb & CCB_KBDINT != 0 && self.ccb & CCB_KBD_DISABLE == 0;
        let aux_level = full && aux && self.ccb & CCB_AUXINT != 0;
        ctx.set_irq(IRQ_KBD_PIN, kbd_level);
        ctx.set_irq(IRQ_AUX_PIN, aux_level);
    }

    /// A key event for `KEYS[index % KEYS.len()]`.
    fn key_event(&mut self, ctx: &mut dyn Context, index: u8, down: bool) {
        if let Some(key) = KEYS.get(usize::from(index) % KEYS.len()) {
            self.kbd.key_event(ctx, key, down);
        }
    }
}

impl Default for I8042 {
    fn default() -> Self {
        Self::new()
    }
}

impl Device for I8042 {
    fn name(&self) -> &'static str {
        "i8042"
    }

    fn regions(&self) -> Vec<RegionSpec> {
        vec![
            RegionSpec::new("i8042-data", Space::Io, 1, AccessRules::BYTES),
            RegionSpec::new("i8042-cmd", Space::Io, 1, AccessRules::BYTES),
        ]
    }

    fn read(
        &mut self,
        ctx: &mut dyn Context,
        region: RegionId,
        _offset: u64,
        _size: AccessSize,
    ) -> u64 {
        let value = match region {
            DATA_REGION => self.read_data(),
            CMD_REGION => self.read_status(),
            _ => OPEN_BUS,
        };
        self.fill_output_buffer(None);
        self.update_irq(ctx);
        u64::from(value)
    }

    fn write(
        &mut self,
        ctx: &mut dyn Context,
        region: RegionId,
        _offset: u64,
        _size: AccessSize,
        value: u64,
    ) {
        let [byte, ..] = value.to_le_bytes();
        match region {
            DATA_REGION => self.write_data(ctx, byte),
            CMD_REGION => self.write_command(ctx, byte),
            _ => {}
        }
        self.fill_output_buffer(None);
        self.update_irq(ctx);
    }

    fn event(&mut self, ctx: &mut dyn Context, payload: &[u8]) {
        let Some(&selector) = payload.first() else {
            return;
        };
        let arg = |i: usize| payload.get(i).copied().unwrap_or(0);
        let signed = |i: usize| i8::from_le_bytes([arg(i)]);
        match selector % 4 {
            EVENT_KEY_PRESS => self.key_event(ctx, arg(1), true),
            EVENT_KEY_RELEASE => self.key_event(ctx, arg(1), false),
            EVENT_KEY_TAP => {
                self.key_event(ctx, arg(1), true);
                self.key_event(ctx, arg(1), false);
            }
            _ => self
                .mouse
                .event(ctx, signed(1), signed(2), signed(3), arg(4) & BUTTONS_ALL),
        }
        self.fill_output_buffer(None);
        self.update_irq(ctx);
    }

    fn reset(&mut self) {
        tracing::trace!(target: "ps2_kbd_reset", "");
        tracing::trace!(target: "ps2_mouse_reset", "");
        let planted = self.kbd.planted;
        *self = Self::power_on();
        self.set_planted(planted);
    }
}

/// The i8042's planted bugs (see [`crate::planted`]).
pub const PLANTED: &[PlantedBug] = &[
    PlantedBug {
        id: "ps2-queue-overflow",
        device: "i8042",
        target: "ps2",
        cites: "QEMU hw/input/ps2.c ps2_queue `count >= PS2_QUEUE_SIZE` bound \
                (ps2_common_post_load count/rptr/wptr validation; queue rework 47db2432)",
        description: "The keyboard queues scancodes without the `count >= PS2_QUEUE_SIZE` bound, \
                      so with 16 bytes unread further bytes are stored anyway: the count grows \
                      past the ring's size and unread bytes are overwritten (triggered). The \
                      write slot is head + count folded back into the ring once, which is exact \
                      only while count <= size, so once 32 bytes are unread (from a fresh queue) \
                      the next byte is written past the backing array (index out of bounds). \
                      Sequence: key events without reading port 0x60, e.g. five taps of Pause \
                      (8 bytes each in scancode set 2: `event i8042 0x020f` x5), or, fewest, \
                      Right Alt held then three taps of Print Screen (13 bytes each): \
                      `event i8042 0x0060`, `event i8042 0x020d` x3.",
    },
    PlantedBug {
        id: "ps2-mouse-param-index",
        device: "i8042",
        target: "ps2",
        cites: "bug-classes.md PS/2 (c): mouse command parameter (0xE8 set resolution) used \
                unvalidated as a table index (cf. HyperPill \"Abort in \
                I8042Device::HandleCommand\")",
        description: "0xE8 (set resolution) stores its parameter without checking it is a \
                      resolution code 0-3 (triggered when it is not); the mouse later converts \
                      the code to counts/mm through a 4-entry table on every status request \
                      (0xE9) and movement packet, which indexes out of bounds. Sequence: \
                      0xD4,0xE8 then 0xD4,<4..255> then 0xD4,0xE9 (controller command 0xD4 on \
                      port 0x64, the mouse byte on port 0x60).",
    },
];

/// `ps2-queue-overflow`, in the keyboard's queue.
#[cfg(feature = "planted-bugs")]
pub(crate) const QUEUE_OVERFLOW: Bug = Bug::of(PLANTED, 0);
/// `ps2-mouse-param-index`, in the mouse's resolution.
#[cfg(feature = "planted-bugs")]
pub(crate) const MOUSE_PARAM_INDEX: Bug = Bug::of(PLANTED, 1);
