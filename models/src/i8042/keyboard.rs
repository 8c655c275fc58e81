//! The PS/2 keyboard on the controller's first port: an MF2 keyboard with scancode sets 1-3 and
//! QEMU's command-reply queue. The 8042's set-2 -> set-1 translation is applied here, as the
//! keyboard queues each byte, which is where QEMU applies it too.

#[cfg(feature = "planted-bugs")]
use super::QUEUE_OVERFLOW;
use super::queue::ByteQueue;
use harness::device::Context;

/// Bytes of scancode data a PS/2 device buffers (QEMU `PS2_QUEUE_SIZE`, from the PS/2 protocol).
pub(super) const PS2_QUEUE_SIZE: usize = 16;
/// Room for keyboard command replies, which are read before buffered scancodes
/// (QEMU `PS2_QUEUE_HEADROOM`).
pub(super) const PS2_QUEUE_HEADROOM: usize = 8;

// Keyboard commands: bytes written to port 0x60 with no controller command pending.
const KBD_CMD_QUIRK_ACK: u8 = 0x00; // no such command; QEMU acknowledges it
const KBD_CMD_QUIRK_RESEND: u8 = 0x05; // no such command; QEMU asks for a resend
const KBD_CMD_SET_LEDS: u8 = 0xED; // Set/Reset Mode Indicators, then the LED mask
const KBD_CMD_ECHO: u8 = 0xEE; // Echo
const KBD_CMD_SCANCODE: u8 = 0xF0; // Select Alternate Scan Codes, then 0 (query) or a set 1-3
const KBD_CMD_GET_ID: u8 = 0xF2; // Read ID
const KBD_CMD_SET_RATE: u8 = 0xF3; // Set Typematic Rate/Delay, then the rate byte
const KBD_CMD_ENABLE: u8 = 0xF4; // Enable (scanning)
const KBD_CMD_RESET_DISABLE: u8 = 0xF5; // Default Disable
const KBD_CMD_RESET_ENABLE: u8 = 0xF6; // Set Default
const KBD_CMD_SET_TYPEMATIC: u8 = 0xFA; // Set All Keys Typematic/Make/Break
const KBD_CMD_SET_MAKE_BREAK: u8 = 0xFC; // Set Key Type Make/Break, then one key
const KBD_CMD_RESET: u8 = 0xFF; // Reset
// 0xFE (Resend) is answered like any unknown command: with 0xFE.

// Keyboard replies.
const KBD_REPLY_ID: u8 = 0xAB; // first byte of an MF2 keyboard's ID
const KBD_ID_MF2: u8 = 0x83; // second ID byte
const KBD_ID_MF2_TRANSLATED: u8 = 0x41; // second ID byte as the 8042 translates it
const KBD_REPLY_POR: u8 = 0xAA; // Basic Assurance Test passed
const KBD_REPLY_ACK: u8 = 0xFA; // Acknowledge
const KBD_REPLY_RESEND: u8 = 0xFE; // Resend

// Scancode framing.
const SCANCODE_EXTENDED: u8 = 0xE0; // sets 1 and 2: prefix of the extended (grey) keys
const SCANCODE_BREAK: u8 = 0xF0; // sets 2 and 3: prefix of a key release
const SET1_BREAK: u8 = 0x80; // set 1: a release is the make code with bit 7 set
const DEFAULT_SCANCODE_SET: u8 = 2;

// Modifier keys held, for the keys whose codes depend on them (QEMU's MOD_* bits).
const MOD_CTRL_L: u8 = 1 << 0;
const MOD_SHIFT_L: u8 = 1 << 1;
const MOD_ALT_L: u8 = 1 << 2;
const MOD_CTRL_R: u8 = 1 << 3;
const MOD_SHIFT_R: u8 = 1 << 4;
const MOD_ALT_R: u8 = 1 << 5;

/// What distinguishes a key beyond its codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    /// An ordinary key: its make code, and a break code derived from it.
    Plain,
    /// Left Control (its state changes what Pause and Print Screen send).
    CtrlLeft,
    /// Right Control.
    CtrlRight,
    /// Left Shift (its state changes what Print Screen sends).
    ShiftLeft,
    /// Right Shift.
    ShiftRight,
    /// Left Alt (its state changes what Print Screen sends).
    AltLeft,
    /// Right Alt.
    AltRight,
    /// Print Screen / SysRq: a multi-byte sequence in sets 1 and 2 that depends on the modifiers.
    PrintScreen,
    /// Pause / Break: a make-only multi-byte sequence in sets 1 and 2.
    Pause,
}

impl KeyKind {
    /// The modifier bit this key holds while pressed (0 for non-modifiers).
    const fn modifier_bit(self) -> u8 {
        match self {
            KeyKind::CtrlLeft => MOD_CTRL_L,
            KeyKind::CtrlRight => MOD_CTRL_R,
            KeyKind::ShiftLeft => MOD_SHIFT_L,
            KeyKind::ShiftRight => MOD_SHIFT_R,
            KeyKind::AltLeft => MOD_ALT_L,
            KeyKind::AltRight => MOD_ALT_R,
            KeyKind::Plain | KeyKind::PrintScreen | KeyKind::Pause => 0,
        }
    }
}

/// One key of the emulated keyboard and its codes in the three scancode sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Key {
    /// QEMU's name for the key (its `QKeyCode`, as `sendkey` takes it).
    pub name: &'static str,
    /// Scancode set 1 make code (after 0xE0 when `extended`); the break code has bit 7 set.
    pub set1: u8,
    /// Scancode set 2 make code (after 0xE0 when `extended`); the break code is 0xF0 then this.
    pub set2: u8,
    /// Scancode set 3 code (never prefixed), as QEMU's key map gives it.
    pub set3: u8,
    /// Sets 1 and 2 send 0xE0 before the code (the extended keys).
    pub extended: bool,
    /// Modifier, Print Screen or Pause handling. For the last two, `set1`/`set2` are the core
    /// codes of the longer sequences the keyboard really sends.
    pub kind: KeyKind,
}

const fn key(name: &'static str, set1: u8, set2: u8, set3: u8) -> Key {
    Key {
        name,
        set1,
        set2,
        set3,
        extended: false,
        kind: KeyKind::Plain,
    }
}

const fn ext(name: &'static str, set1: u8, set2: u8, set3: u8) -> Key {
    Key {
        extended: true,
        ..key(name, set1, set2, set3)
    }
}

const fn with_kind(key: Key, kind: KeyKind) -> Key {
    Key { kind, ..key }
}

/// The keys an event can press: the US 104-key layout plus the ISO 102nd key ("less"), in
/// keyboard order. An event's key byte indexes this table modulo its length.
pub const KEYS: &[Key] = &[
    // Function row.
    key("esc", 0x01, 0x76, 0x08),
    key("f1", 0x3B, 0x05, 0x07),
    key("f2", 0x3C, 0x06, 0x0F),
    key("f3", 0x3D, 0x04, 0x17),
    key("f4", 0x3E, 0x0C, 0x1F),
    key("f5", 0x3F, 0x03, 0x27),
    key("f6", 0x40, 0x0B, 0x2F),
    key("f7", 0x41, 0x83, 0x37),
    key("f8", 0x42, 0x0A, 0x3F),
    key("f9", 0x43, 0x01, 0x47),
    key("f10", 0x44, 0x09, 0x4F),
    key("f11", 0x57, 0x78, 0x56),
    key("f12", 0x58, 0x07, 0x5E),
    with_kind(ext("print", 0x37, 0x7C, 0x57), KeyKind::PrintScreen),
    key("scroll_lock", 0x46, 0x7E, 0x5F),
    with_kind(key("pause", 0x45, 0x77, 0x62), KeyKind::Pause),
    // Number row, editing block, keypad top row.
    key("grave_accent", 0x29, 0x0E, 0x0E),
    key("1", 0x02, 0x16, 0x16),
    key("2", 0x03, 0x1E, 0x1E),
    key("3", 0x04, 0x26, 0x26),
    key("4", 0x05, 0x25, 0x25),
    key("5", 0x06, 0x2E, 0x2E),
    key("6", 0x07, 0x36, 0x36),
    key("7", 0x08, 0x3D, 0x3D),
    key("8", 0x09, 0x3E, 0x3E),
    key("9", 0x0A, 0x46, 0x46),
    key("0", 0x0B, 0x45, 0x45),
    key("minus", 0x0C, 0x4E, 0x4E),
    key("equal", 0x0D, 0x55, 0x55),
    key("backspace", 0x0E, 0x66, 0x66),
    ext("insert", 0x52, 0x70, 0x67),
    ext("home", 0x47, 0x6C, 0x6E),
    ext("pgup", 0x49, 0x7D, 0x6F),
    key("num_lock", 0x45, 0x77, 0x76),
    ext("kp_divide", 0x35, 0x4A, 0x4A),
    key("kp_multiply", 0x37, 0x7C, 0x7E),
    key("kp_subtract", 0x4A, 0x7B, 0x4E),
    // Top letter row.
    key("tab", 0x0F, 0x0D, 0x0D),
    key("q", 0x10, 0x15, 0x15),
    key("w", 0x11, 0x1D, 0x1D),
    key("e", 0x12, 0x24, 0x24),
    key("r", 0x13, 0x2D, 0x2D),
    key("t", 0x14, 0x2C, 0x2C),
    key("y", 0x15, 0x35, 0x35),
    key("u", 0x16, 0x3C, 0x3C),
    key("i", 0x17, 0x43, 0x43),
    key("o", 0x18, 0x44, 0x44),
    key("p", 0x19, 0x4D, 0x4D),
    key("bracket_left", 0x1A, 0x54, 0x54),
    key("bracket_right", 0x1B, 0x5B, 0x5B),
    key("backslash", 0x2B, 0x5D, 0x5C),
    ext("delete", 0x53, 0x71, 0x64),
    ext("end", 0x4F, 0x69, 0x65),
    ext("pgdn", 0x51, 0x7A, 0x6D),
    key("kp_7", 0x47, 0x6C, 0x6C),
    key("kp_8", 0x48, 0x75, 0x75),
    key("kp_9", 0x49, 0x7D, 0x7D),
    key("kp_add", 0x4E, 0x79, 0x7C),
    // Home row.
    key("caps_lock", 0x3A, 0x58, 0x14),
    key("a", 0x1E, 0x1C, 0x1C),
    key("s", 0x1F, 0x1B, 0x1B),
    key("d", 0x20, 0x23, 0x23),
    key("f", 0x21, 0x2B, 0x2B),
    key("g", 0x22, 0x34, 0x34),
    key("h", 0x23, 0x33, 0x33),
    key("j", 0x24, 0x3B, 0x3B),
    key("k", 0x25, 0x42, 0x42),
    key("l", 0x26, 0x4B, 0x4B),
    key("semicolon", 0x27, 0x4C, 0x4C),
    key("apostrophe", 0x28, 0x52, 0x52),
    key("ret", 0x1C, 0x5A, 0x5A),
    key("kp_4", 0x4B, 0x6B, 0x6B),
    key("kp_5", 0x4C, 0x73, 0x73),
    key("kp_6", 0x4D, 0x74, 0x74),
    // Bottom letter row.
    with_kind(key("shift", 0x2A, 0x12, 0x12), KeyKind::ShiftLeft),
    key("less", 0x56, 0x61, 0x13),
    key("z", 0x2C, 0x1A, 0x1A),
    key("x", 0x2D, 0x22, 0x22),
    key("c", 0x2E, 0x21, 0x21),
    key("v", 0x2F, 0x2A, 0x2A),
    key("b", 0x30, 0x32, 0x32),
    key("n", 0x31, 0x31, 0x31),
    key("m", 0x32, 0x3A, 0x3A),
    key("comma", 0x33, 0x41, 0x41),
    key("dot", 0x34, 0x49, 0x49),
    key("slash", 0x35, 0x4A, 0x4A),
    with_kind(key("shift_r", 0x36, 0x59, 0x59), KeyKind::ShiftRight),
    ext("up", 0x48, 0x75, 0x63),
    key("kp_1", 0x4F, 0x69, 0x69),
    key("kp_2", 0x50, 0x72, 0x72),
    key("kp_3", 0x51, 0x7A, 0x7A),
    ext("kp_enter", 0x1C, 0x5A, 0x79),
    // Space bar row.
    with_kind(key("ctrl", 0x1D, 0x14, 0x11), KeyKind::CtrlLeft),
    ext("meta_l", 0x5B, 0x1F, 0x8B),
    with_kind(key("alt", 0x38, 0x11, 0x19), KeyKind::AltLeft),
    key("spc", 0x39, 0x29, 0x29),
    with_kind(ext("alt_r", 0x38, 0x11, 0x39), KeyKind::AltRight),
    ext("meta_r", 0x5C, 0x27, 0x8C),
    ext("compose", 0x5D, 0x2F, 0x8D), // the Menu key
    with_kind(ext("ctrl_r", 0x1D, 0x14, 0x58), KeyKind::CtrlRight),
    ext("left", 0x4B, 0x6B, 0x61),
    ext("down", 0x50, 0x72, 0x60),
    ext("right", 0x4D, 0x74, 0x6A),
    key("kp_0", 0x52, 0x70, 0x70),
    key("kp_decimal", 0x53, 0x71, 0x71),
];

/// Index in [`KEYS`] of the key QEMU calls `name` (e.g. `"g"`, `"ctrl_r"`), for building events.
pub fn key_index(name: &str) -> Option<usize> {
    KEYS.iter().position(|k| k.name == name)
}

/// The 8042's set-2 -> set-1 translation for codes 0x00-0x84; every higher code passes through.
/// (The table is the controller's; QEMU uses the same one.)
const TRANSLATION: [u8; 0x85] = [
    0xFF, 0x43, 0x41, 0x3F, 0x3D, 0x3B, 0x3C, 0x58, // 0x00
    0x64, 0x44, 0x42, 0x40, 0x3E, 0x0F, 0x29, 0x59, // 0x08
    0x65, 0x38, 0x2A, 0x70, 0x1D, 0x10, 0x02, 0x5A, // 0x10
    0x66, 0x71, 0x2C, 0x1F, 0x1E, 0x11, 0x03, 0x5B, // 0x18
    0x67, 0x2E, 0x2D, 0x20, 0x12, 0x05, 0x04, 0x5C, // 0x20
    0x68, 0x39, 0x2F, 0x21, 0x14, 0x13, 0x06, 0x5D, // 0x28
    0x69, 0x31, 0x30, 0x23, 0x22, 0x15, 0x07, 0x5E, // 0x30
    0x6A, 0x72, 0x32, 0x24, 0x16, 0x08, 0x09, 0x5F, // 0x38
    0x6B, 0x33, 0x25, 0x17, 0x18, 0x0B, 0x0A, 0x60, // 0x40
    0x6C, 0x34, 0x35, 0x26, 0x27, 0x19, 0x0C, 0x61, // 0x48
    0x6D, 0x73, 0x28, 0x74, 0x1A, 0x0D, 0x62, 0x6E, // 0x50
    0x3A, 0x36, 0x1C, 0x1B, 0x75, 0x2B, 0x63, 0x76, // 0x58
    0x55, 0x56, 0x77, 0x78, 0x79, 0x7A, 0x0E, 0x7B, // 0x60
    0x7C, 0x4F, 0x7D, 0x4B, 0x47, 0x7E, 0x7F, 0x6F, // 0x68
    0x52, 0x53, 0x50, 0x4C, 0x4D, 0x48, 0x01, 0x45, // 0x70
    0x57, 0x4E, 0x51, 0x4A, 0x37, 0x49, 0x46, 0x54, // 0x78
    0x80, 0x81, 0x82, 0x41, 0x54, // 0x80
];

/// The set-1 code the 8042 delivers for set-2 code `code`.
pub(super) fn translate(code: u8) -> u8 {
    TRANSLATION.get(usize::from(code)).copied().unwrap_or(code)
}

// Pause sends its whole make/break sequence on press and nothing on release; with Ctrl held it
// is Break instead.
const SET1_PAUSE: &[u8] = &[0xE1, 0x1D, 0x45, 0xE1, 0x9D, 0xC5];
const SET1_CTRL_BREAK: &[u8] = &[0xE0, 0x46, 0xE0, 0xC6];
const SET2_PAUSE: &[u8] = &[0xE1, 0x14, 0x77, 0xE1, 0xF0, 0x14, 0xF0, 0x77];
const SET2_CTRL_BREAK: &[u8] = &[0xE0, 0x7E, 0xE0, 0xF0, 0x7E];

/// Print Screen's (press, release) sequences with left Alt, right Alt, Shift or Ctrl, or no
/// modifier held. The Alt variants send SysRq wrapped in an Alt release/press, as QEMU does.
type PrintScreenCodes = [(&'static [u8], &'static [u8]); 4];
const SET1_PRINT: PrintScreenCodes = [
    (&[0xB8, 0x38, 0x54], &[0xD4, 0xB8, 0x38]),
    (
        &[0xE0, 0xB8, 0xE0, 0x38, 0x54],
        &[0xD4, 0xE0, 0xB8, 0xE0, 0x38],
    ),
    (&[0xE0, 0x37], &[0xE0, 0xB7]),
    (&[0xE0, 0x2A, 0xE0, 0x37], &[0xE0, 0xB7, 0xE0, 0xAA]),
];
const SET2_PRINT: PrintScreenCodes = [
    (&[0xF0, 0x11, 0x11, 0x84], &[0xF0, 0x84, 0xF0, 0x11, 0x11]),
    (
        &[0xE0, 0xF0, 0x11, 0xE0, 0x11, 0x84],
        &[0xF0, 0x84, 0xE0, 0xF0, 0x11, 0xE0, 0x11],
    ),
    (&[0xE0, 0x7C], &[0xE0, 0xF0, 0x7C]),
    (
        &[0xE0, 0x12, 0xE0, 0x7C],
        &[0xE0, 0xF0, 0x7C, 0xE0, 0xF0, 0x12],
    ),
];

/// The PS/2 keyboard's state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Keyboard {
    /// Replies to the latest command, read ahead of `scancodes` (QEMU's command-reply queue).
    replies: ByteQueue<PS2_QUEUE_HEADROOM>,
    /// Key codes waiting for the host.
    scancodes: ByteQueue<PS2_QUEUE_SIZE>,
    /// A command waiting for its parameter byte.
    pending_cmd: Option<u8>,
    /// Keys generate codes (0xF4/0xF5).
    scan_enabled: bool,
    /// The controller translates to set 1 (it mirrors CCB.XLATE).
    translate: bool,
    /// Scancode set 1, 2 or 3.
    scancode_set: u8,
    /// LED mask last set with 0xED.
    leds: u8,
    /// MOD_* bits of the modifier keys held.
    modifiers: u8,
    /// Planted bugs this keyboard was built with.
    pub(super) planted: crate::planted_bug::Planted,
}

impl Keyboard {
    /// Power-on state: scanning on, set 2, no translation, empty queues.
    pub(super) const fn new() -> Self {
        Self {
            replies: ByteQueue::new(),
            scancodes: ByteQueue::new(),
            pending_cmd: None,
            scan_enabled: true,
            translate: false,
            scancode_set: DEFAULT_SCANCODE_SET,
            leds: 0,
            modifiers: 0,
            planted: crate::planted_bug::Planted::NONE,
        }
    }

    /// Bytes waiting for the host, replies and scancodes together.
    pub(super) fn len(&self) -> usize {
        self.replies.len() + self.scancodes.len()
    }

    /// Scancode bytes waiting (without command replies).
    #[cfg(test)]
    pub(super) fn scancodes_len(&self) -> usize {
        self.scancodes.len()
    }

    /// Whether a byte is waiting for the host.
    pub(super) fn has_data(&self) -> bool {
        !self.replies.is_empty() || !self.scancodes.is_empty()
    }

    /// The next byte for the host: a command reply if there is one, else a scancode.
    pub(super) fn read(&mut self) -> Option<u8> {
        let byte = self.replies.pop().or_else(|| self.scancodes.pop());
        tracing::trace!(target: "ps2_read_data", "kbd {byte:02x?}");
        byte
    }

    /// The controller's CCB.XLATE changed (QEMU re-sends it on every CCB write).
    pub(super) fn set_translation(&mut self, on: bool) {
        tracing::trace!(target: "ps2_keyboard_set_translation", "mode {}", u8::from(on));
        self.translate = on;
    }

    /// A byte from the host: a command, or the parameter of the previous one. Every byte
    /// answers, and the answer replaces any unread reply to an earlier byte.
    pub(super) fn write(&mut self, val: u8) {
        tracing::trace!(target: "ps2_write_keyboard", "val {val:#04x}");
        match self.pending_cmd.take() {
            None => self.command(val),
            Some(KBD_CMD_SCANCODE) => self.select_scancode_set(val),
            Some(KBD_CMD_SET_LEDS) => {
                self.set_leds(val);
                self.reply(&[KBD_REPLY_ACK]);
            }
            // The typematic rate byte or the key for 0xFC: accepted and ignored.
            Some(_) => self.reply(&[KBD_REPLY_ACK]),
        }
    }

    fn command(&mut self, cmd: u8) {
        match cmd {
            KBD_CMD_QUIRK_ACK => self.reply(&[KBD_REPLY_ACK]),
            KBD_CMD_QUIRK_RESEND => self.reply(&[KBD_REPLY_RESEND]),
            KBD_CMD_SET_LEDS | KBD_CMD_SCANCODE | KBD_CMD_SET_RATE | KBD_CMD_SET_MAKE_BREAK => {
                self.pending_cmd = Some(cmd);
                self.reply(&[KBD_REPLY_ACK]);
            }
            KBD_CMD_ECHO => self.reply(&[KBD_CMD_ECHO]),
            KBD_CMD_GET_ID => self.identify(),
            KBD_CMD_ENABLE => {
                self.scan_enabled = true;
                self.reply(&[KBD_REPLY_ACK]);
            }
            KBD_CMD_RESET_DISABLE => {
                self.reset();
                self.scan_enabled = false;
                self.reply(&[KBD_REPLY_ACK]);
            }
            KBD_CMD_RESET_ENABLE => {
                self.reset();
                self.reply(&[KBD_REPLY_ACK]);
            }
            KBD_CMD_SET_TYPEMATIC => self.reply(&[KBD_REPLY_ACK]),
            KBD_CMD_RESET => {
                self.reset();
                self.reply(&[KBD_REPLY_ACK, KBD_REPLY_POR]);
            }
            _ => self.reply(&[KBD_REPLY_RESEND]),
        }
    }

    /// 0xF2: an MF2 keyboard's ID; the second byte is what the 8042 would make of 0x83.
    fn identify(&mut self) {
        let id = if self.translate {
            KBD_ID_MF2_TRANSLATED
        } else {
            KBD_ID_MF2
        };
        self.reply(&[KBD_REPLY_ACK, KBD_REPLY_ID, id]);
    }

    /// 0xF0's parameter: 0 asks for the current set (reported translated if XLATE is on),
    /// 1-3 select a set, anything else is refused.
    fn select_scancode_set(&mut self, val: u8) {
        match val {
            0 => {
                let set = if self.translate {
                    translate(self.scancode_set)
                } else {
                    self.scancode_set
                };
                self.reply(&[KBD_REPLY_ACK, set]);
            }
            1..=3 => {
                self.scancode_set = val;
                self.reply(&[KBD_REPLY_ACK]);
            }
            _ => self.reply(&[KBD_REPLY_RESEND]),
        }
    }

    fn set_leds(&mut self, mask: u8) {
        tracing::trace!(target: "ps2_set_ledstate", "ledstate {mask:#04x}");
        self.leds = mask;
    }

    /// Reset and BAT: scanning on, set 2, LEDs off, both queues flushed.
    fn reset(&mut self) {
        tracing::trace!(target: "ps2_reset_keyboard", "");
        self.scan_enabled = true;
        self.scancode_set = DEFAULT_SCANCODE_SET;
        self.replies.clear();
        self.scancodes.clear();
        self.set_leds(0);
    }

    /// Replace the unread replies to the previous command with `bytes`.
    fn reply(&mut self, bytes: &[u8]) {
        self.replies.clear();
        for &b in bytes {
            self.replies.push(b);
        }
    }

    /// A key went down or up. Nothing happens while scanning is disabled.
    pub(super) fn key_event(&mut self, ctx: &mut dyn Context, key: &Key, down: bool) {
        if !self.scan_enabled {
            return;
        }
        tracing::trace!(
            target: "ps2_keyboard_event",
            "key {} down {} modifiers {:#04x} set {} xlate {}",
            key.name,
            u8::from(down),
            self.modifiers,
            self.scancode_set,
            u8::from(self.translate)
        );
        let bit = key.kind.modifier_bit();
        if down {
            self.modifiers |= bit;
        } else {
            self.modifiers &= !bit;
        }
        match self.scancode_set {
            1 => self.key_set1(ctx, key, down),
            3 => self.key_set3(ctx, key, down),
            _ => self.key_set2(ctx, key, down),
        }
    }

    fn ctrl_held(&self) -> bool {
        self.modifiers & (MOD_CTRL_L | MOD_CTRL_R) != 0
    }

    /// Which Print Screen variant the modifiers held select (an index into `SET*_PRINT`).
    fn print_screen_variant(&self) -> usize {
        if self.modifiers & MOD_ALT_L != 0 {
            0
        } else if self.modifiers & MOD_ALT_R != 0 {
            1
        } else if self.modifiers & (MOD_SHIFT_L | MOD_SHIFT_R | MOD_CTRL_L | MOD_CTRL_R) != 0 {
            2
        } else {
            3
        }
    }

    fn print_screen(&mut self, ctx: &mut dyn Context, table: &PrintScreenCodes, down: bool) {
        if let Some(&(make, brk)) = table.get(self.print_screen_variant()) {
            self.put_keycodes(ctx, if down { make } else { brk });
        }
    }

    fn key_set1(&mut self, ctx: &mut dyn Context, key: &Key, down: bool) {
        match key.kind {
            KeyKind::Pause if !down => {}
            KeyKind::Pause if self.ctrl_held() => self.put_keycodes(ctx, SET1_CTRL_BREAK),
            KeyKind::Pause => self.put_keycodes(ctx, SET1_PAUSE),
            KeyKind::PrintScreen => self.print_screen(ctx, &SET1_PRINT, down),
            _ => {
                let code = if down {
                    key.set1
                } else {
                    key.set1 | SET1_BREAK
                };
                if key.extended {
                    self.put_keycodes(ctx, &[SCANCODE_EXTENDED, code]);
                } else {
                    self.put_keycodes(ctx, &[code]);
                }
            }
        }
    }

    fn key_set2(&mut self, ctx: &mut dyn Context, key: &Key, down: bool) {
        match key.kind {
            KeyKind::Pause if !down => {}
            KeyKind::Pause if self.ctrl_held() => self.put_keycodes(ctx, SET2_CTRL_BREAK),
            KeyKind::Pause => self.put_keycodes(ctx, SET2_PAUSE),
            KeyKind::PrintScreen => self.print_screen(ctx, &SET2_PRINT, down),
            _ => match (key.extended, down) {
                (false, true) => self.put_keycodes(ctx, &[key.set2]),
                (false, false) => self.put_keycodes(ctx, &[SCANCODE_BREAK, key.set2]),
                (true, true) => self.put_keycodes(ctx, &[SCANCODE_EXTENDED, key.set2]),
                (true, false) => {
                    self.put_keycodes(ctx, &[SCANCODE_EXTENDED, SCANCODE_BREAK, key.set2]);
                }
            },
        }
    }

    /// Set 3 as QEMU does it: every key make/break, whatever 0xFA/0xFC asked for.
    fn key_set3(&mut self, ctx: &mut dyn Context, key: &Key, down: bool) {
        if down {
            self.put_keycodes(ctx, &[key.set3]);
        } else {
            self.put_keycodes(ctx, &[SCANCODE_BREAK, key.set3]);
        }
    }

    /// Queue key codes of the current set, translated to set 1 when XLATE is on: there a 0xF0
    /// is swallowed and sets bit 7 of the byte after it. Every sequence passed here keeps each
    /// 0xF0 together with its following byte.
    #[cfg_attr(not(feature = "planted-bugs"), allow(unused_variables))]
    fn put_keycodes(&mut self, ctx: &mut dyn Context, keycodes: &[u8]) {
        let mut need_high_bit = false;
        for &keycode in keycodes {
            tracing::trace!(target: "ps2_put_keycode", "keycode {keycode:#04x}");
            let byte = if !self.translate {
                keycode
            } else if keycode == SCANCODE_BREAK {
                need_high_bit = true;
                continue;
            } else if need_high_bit {
                need_high_bit = false;
                translate(keycode) | SET1_BREAK
            } else {
                translate(keycode)
            };
            #[cfg(feature = "planted-bugs")]
            if self.planted.on(QUEUE_OVERFLOW) {
                self.put_keycode_unbounded(ctx, byte);
                continue;
            }
            // Command replies count against the 16 bytes, as in QEMU's single ring.
            if self.len() < PS2_QUEUE_SIZE {
                self.scancodes.push(byte);
            }
        }
    }

    /// PLANTED BUG `ps2-queue-overflow`: QEMU's `ps2_queue` without its
    /// `count >= PS2_QUEUE_SIZE` bound. Every byte is stored, so the count grows past the ring
    /// and, once far enough, the write index runs off the backing array.
    #[cfg(feature = "planted-bugs")]
    fn put_keycode_unbounded(&mut self, ctx: &mut dyn Context, byte: u8) {
        QUEUE_OVERFLOW.reached(ctx);
        if self.len() >= PS2_QUEUE_SIZE {
            // The fixed model drops this byte; from here the count exceeds the queue size.
            QUEUE_OVERFLOW.triggered(ctx);
        }
        self.scancodes.push_unbounded(byte);
    }
}
