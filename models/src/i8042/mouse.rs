//! The PS/2 mouse on the controller's auxiliary port: a standard mouse that becomes an
//! IntelliMouse (ID 3, wheel) or IntelliMouse Explorer (ID 4, wheel and buttons 4/5) after the
//! sample-rate knock, with stream, remote and wrap modes.

#[cfg(feature = "planted-bugs")]
use super::MOUSE_PARAM_INDEX;
use super::keyboard::PS2_QUEUE_SIZE;
use super::queue::ByteQueue;
use harness::device::Context;

// Mouse commands, sent with controller command 0xD4.
const AUX_SET_SCALE11: u8 = 0xE6; // Set Scaling 1:1
const AUX_SET_SCALE21: u8 = 0xE7; // Set Scaling 2:1
const AUX_SET_RES: u8 = 0xE8; // Set Resolution, then the resolution
const AUX_GET_STATUS: u8 = 0xE9; // Status Request
const AUX_SET_STREAM: u8 = 0xEA; // Set Stream Mode
const AUX_POLL: u8 = 0xEB; // Read Data
const AUX_RESET_WRAP: u8 = 0xEC; // Reset Wrap Mode
const AUX_SET_WRAP: u8 = 0xEE; // Set Wrap Mode
const AUX_SET_REMOTE: u8 = 0xF0; // Set Remote Mode
const AUX_GET_ID: u8 = 0xF2; // Get Device ID
const AUX_SET_SAMPLE: u8 = 0xF3; // Set Sample Rate, then the rate
const AUX_ENABLE_DEV: u8 = 0xF4; // Enable Data Reporting
const AUX_DISABLE_DEV: u8 = 0xF5; // Disable Data Reporting
const AUX_SET_DEFAULT: u8 = 0xF6; // Set Defaults
const AUX_RESET: u8 = 0xFF; // Reset
// Every other byte (including 0xFE Resend) is ignored without a reply, as in QEMU.

// Mouse replies.
const AUX_ACK: u8 = 0xFA; // Acknowledge
const AUX_BAT_OK: u8 = 0xAA; // self-test passed

// Status byte (first byte after the ACK of 0xE9).
const MOUSE_STATUS_REMOTE: u8 = 0x40; // remote mode
const MOUSE_STATUS_ENABLED: u8 = 0x20; // data reporting enabled
const MOUSE_STATUS_SCALE21: u8 = 0x10; // 2:1 scaling

// Defaults restored by 0xF6 and 0xFF. (QEMU's power-on values are 0, not these.)
const DEFAULT_SAMPLE_RATE: u8 = 100;
const DEFAULT_RESOLUTION: u8 = 2;

/// Counts per millimetre of the resolution codes 0-3 that 0xE8 takes. QEMU stores whatever byte
/// 0xE8 receives and reports it back in 0xE9, so a code may be out of range: look it up with
/// [`Mouse::counts_per_mm`], never by indexing.
const COUNTS_PER_MM: [u8; 4] = [1, 2, 4, 8];

// Device IDs (0xF2).
const ID_STANDARD: u8 = 0x00; // standard PS/2 mouse, 3-byte packets
const ID_INTELLIMOUSE: u8 = 0x03; // wheel, 4-byte packets
const ID_EXPLORER: u8 = 0x04; // wheel and buttons 4/5, 4-byte packets
const KNOCK_FIRST: u8 = 200; // first rate of both knocks
const KNOCK_INTELLIMOUSE: u8 = 100; // second rate of the IntelliMouse knock
const KNOCK_EXPLORER: u8 = 200; // second rate of the Explorer knock
const KNOCK_LAST: u8 = 80; // last rate of both knocks

// Movement packet, byte 0.
const PACKET_ALWAYS_1: u8 = 0x08; // bit 3 is always set
const PACKET_X_SIGN: u8 = 0x10;
const PACKET_Y_SIGN: u8 = 0x20;
const BUTTONS_LRM: u8 = 0x07; // left 0x01, right 0x02, middle 0x04
const BUTTONS_4_5: u8 = 0x18; // buttons 4 and 5 (Explorer byte 3 bits 4 and 5)
/// Every button an event can press.
pub(super) const BUTTONS_ALL: u8 = BUTTONS_LRM | BUTTONS_4_5;
const EXPLORER_WHEEL_MASK: u8 = 0x0F; // Explorer byte 3: 4-bit wheel
const PACKET_DELTA_MAX: i32 = 127; // movement and IntelliMouse wheel, per packet
const EXPLORER_WHEEL_MAX: i32 = 7;
/// Bound of the accumulated, not yet reported movement (QEMU's is an unbounded `int`).
const DELTA_ACCUMULATED_MAX: i32 = 32767;

/// Progress through the sample-rate knocks that switch the device ID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Knock {
    Idle,
    /// 200 seen.
    First,
    /// 200, 100 seen: 80 makes an IntelliMouse.
    IntelliMouse,
    /// 200, 200 seen: 80 makes an Explorer.
    Explorer,
}

/// The PS/2 mouse's state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Mouse {
    /// Replies and packets waiting for the host.
    queue: ByteQueue<PS2_QUEUE_SIZE>,
    /// 0xE8 or 0xF3 waiting for its parameter.
    pending_cmd: Option<u8>,
    /// MOUSE_STATUS_* bits.
    status: u8,
    resolution: u8,
    sample_rate: u8,
    /// Wrap (echo) mode.
    wrap: bool,
    device_id: u8,
    knock: Knock,
    /// Movement not yet reported, positive = right, up and wheel down.
    dx: i32,
    dy: i32,
    dz: i32,
    buttons: u8,
    /// Planted bugs this mouse was built with.
    pub(super) planted: crate::planted_bug::Planted,
}

impl Mouse {
    /// Power-on state, as QEMU's reset leaves it: everything zero.
    pub(super) const fn new() -> Self {
        Self {
            queue: ByteQueue::new(),
            pending_cmd: None,
            status: 0,
            resolution: 0,
            sample_rate: 0,
            wrap: false,
            device_id: ID_STANDARD,
            knock: Knock::Idle,
            dx: 0,
            dy: 0,
            dz: 0,
            buttons: 0,
            planted: crate::planted_bug::Planted::NONE,
        }
    }

    /// Counts per millimetre of the current resolution, `None` for a code outside 0-3.
    #[cfg_attr(not(feature = "planted-bugs"), allow(unused_variables))]
    fn counts_per_mm(&self, ctx: &mut dyn Context) -> Option<u8> {
        #[cfg(feature = "planted-bugs")]
        if self.planted.on(MOUSE_PARAM_INDEX) {
            return Some(self.counts_per_mm_unchecked(ctx));
        }
        COUNTS_PER_MM.get(usize::from(self.resolution)).copied()
    }

    /// PLANTED BUG `ps2-mouse-param-index`: the resolution byte 0xE8 stored unvalidated, used
    /// as an index into the 4-entry [`COUNTS_PER_MM`] table.
    #[cfg(feature = "planted-bugs")]
    fn counts_per_mm_unchecked(&self, ctx: &mut dyn Context) -> u8 {
        MOUSE_PARAM_INDEX.reached(ctx);
        let index = usize::from(self.resolution);
        if index >= COUNTS_PER_MM.len() {
            MOUSE_PARAM_INDEX.triggered(ctx);
        }
        COUNTS_PER_MM[index]
    }

    /// Bytes waiting for the host.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.queue.len()
    }

    /// Whether a byte is waiting for the host.
    pub(super) fn has_data(&self) -> bool {
        !self.queue.is_empty()
    }

    /// The next byte for the host.
    pub(super) fn read(&mut self) -> Option<u8> {
        let byte = self.queue.pop();
        tracing::trace!(target: "ps2_read_data", "mouse {byte:02x?}");
        byte
    }

    /// A byte from the host (through controller command 0xD4).
    pub(super) fn write(&mut self, ctx: &mut dyn Context, val: u8) {
        tracing::trace!(target: "ps2_write_mouse", "val {val:#04x}");
        match self.pending_cmd.take() {
            Some(AUX_SET_SAMPLE) => self.set_sample_rate(val),
            Some(AUX_SET_RES) => {
                self.resolution = val;
                self.queue_whole(&[AUX_ACK]);
            }
            _ if self.wrap => self.wrap_byte(ctx, val),
            _ => self.command(ctx, val),
        }
    }

    /// Wrap mode echoes every byte except 0xEC (leave wrap mode) and 0xFF (reset, which QEMU
    /// runs without leaving wrap mode).
    fn wrap_byte(&mut self, ctx: &mut dyn Context, val: u8) {
        match val {
            AUX_RESET_WRAP => {
                self.wrap = false;
                self.queue_whole(&[AUX_ACK]);
            }
            AUX_RESET => self.command(ctx, val),
            _ => self.queue_whole(&[val]),
        }
    }

    fn command(&mut self, ctx: &mut dyn Context, cmd: u8) {
        match cmd {
            AUX_SET_SCALE11 => self.set_status(MOUSE_STATUS_SCALE21, false),
            AUX_SET_SCALE21 => self.set_status(MOUSE_STATUS_SCALE21, true),
            AUX_SET_RES | AUX_SET_SAMPLE => {
                self.pending_cmd = Some(cmd);
                self.queue_whole(&[AUX_ACK]);
            }
            AUX_GET_STATUS => {
                let counts_per_mm = self.counts_per_mm(ctx);
                tracing::trace!(
                    target: "ps2_mouse_status",
                    "resolution {} counts/mm {counts_per_mm:?}",
                    self.resolution
                );
                self.queue_whole(&[AUX_ACK, self.status, self.resolution, self.sample_rate]);
            }
            AUX_SET_STREAM => self.set_status(MOUSE_STATUS_REMOTE, false),
            AUX_POLL => {
                self.queue_whole(&[AUX_ACK]);
                self.send_packet(ctx);
            }
            AUX_SET_WRAP => {
                self.wrap = true;
                self.queue_whole(&[AUX_ACK]);
            }
            AUX_SET_REMOTE => self.set_status(MOUSE_STATUS_REMOTE, true),
            AUX_GET_ID => self.queue_whole(&[AUX_ACK, self.device_id]),
            AUX_ENABLE_DEV => self.set_status(MOUSE_STATUS_ENABLED, true),
            AUX_DISABLE_DEV => self.set_status(MOUSE_STATUS_ENABLED, false),
            AUX_SET_DEFAULT => {
                self.set_defaults();
                self.queue_whole(&[AUX_ACK]);
            }
            AUX_RESET => self.reset(),
            _ => {}
        }
    }

    /// Set or clear a status bit and acknowledge.
    fn set_status(&mut self, bit: u8, on: bool) {
        if on {
            self.status |= bit;
        } else {
            self.status &= !bit;
        }
        self.queue_whole(&[AUX_ACK]);
    }

    /// 0xF6: rate 100, resolution 2, scaling 1:1, stream mode, reporting disabled.
    fn set_defaults(&mut self) {
        self.sample_rate = DEFAULT_SAMPLE_RATE;
        self.resolution = DEFAULT_RESOLUTION;
        self.status = 0;
    }

    /// 0xFF: defaults, standard ID, queue flushed, then ACK, BAT result and ID.
    fn reset(&mut self) {
        tracing::trace!(target: "ps2_reset_mouse", "");
        self.set_defaults();
        self.device_id = ID_STANDARD;
        self.queue.clear();
        self.queue_whole(&[AUX_ACK, AUX_BAT_OK, self.device_id]);
    }

    /// 0xF3's parameter. The rates 200,100,80 in a row make an IntelliMouse, 200,200,80 an
    /// Explorer.
    fn set_sample_rate(&mut self, rate: u8) {
        self.sample_rate = rate;
        self.knock = match (self.knock, rate) {
            (Knock::Idle, KNOCK_FIRST) => Knock::First,
            (Knock::First, KNOCK_INTELLIMOUSE) => Knock::IntelliMouse,
            (Knock::First, KNOCK_EXPLORER) => Knock::Explorer,
            (Knock::IntelliMouse, KNOCK_LAST) => {
                self.device_id = ID_INTELLIMOUSE;
                Knock::Idle
            }
            (Knock::Explorer, KNOCK_LAST) => {
                self.device_id = ID_EXPLORER;
                Knock::Idle
            }
            _ => Knock::Idle,
        };
        self.queue_whole(&[AUX_ACK]);
    }

    /// Queue `bytes` if they all fit, else none of them.
    fn queue_whole(&mut self, bytes: &[u8]) {
        if self.queue.free() >= bytes.len() {
            for &b in bytes {
                self.queue.push(b);
            }
        }
    }

    /// Queue one movement packet from the accumulated movement, clamped to what a packet
    /// carries; the rest stays accumulated. Returns false (nothing sent) if it does not fit.
    fn send_packet(&mut self, ctx: &mut dyn Context) -> bool {
        let needed = if self.device_id == ID_STANDARD { 3 } else { 4 };
        if self.queue.free() < needed {
            return false;
        }
        let dx = self.dx.clamp(-PACKET_DELTA_MAX, PACKET_DELTA_MAX);
        let dy = self.dy.clamp(-PACKET_DELTA_MAX, PACKET_DELTA_MAX);
        let mut flags = PACKET_ALWAYS_1 | (self.buttons & BUTTONS_LRM);
        if dx < 0 {
            flags |= PACKET_X_SIGN;
        }
        if dy < 0 {
            flags |= PACKET_Y_SIGN;
        }
        let mut packet = [flags, low_byte(dx), low_byte(dy), 0];
        let dz = match self.device_id {
            ID_INTELLIMOUSE => {
                let dz = self.dz.clamp(-PACKET_DELTA_MAX, PACKET_DELTA_MAX);
                packet[3] = low_byte(dz);
                dz
            }
            ID_EXPLORER => {
                let dz = self.dz.clamp(-EXPLORER_WHEEL_MAX, EXPLORER_WHEEL_MAX);
                packet[3] =
                    (low_byte(dz) & EXPLORER_WHEEL_MASK) | ((self.buttons & BUTTONS_4_5) << 1);
                dz
            }
            // A mouse without a wheel drops wheel movement.
            _ => self.dz,
        };
        let counts_per_mm = self.counts_per_mm(ctx);
        tracing::trace!(
            target: "ps2_mouse_send_packet",
            "dx1 {dx} dy1 {dy} dz1 {dz} b {packet:02x?} counts/mm {counts_per_mm:?}"
        );
        for &b in packet.get(..needed).unwrap_or(&[]) {
            self.queue.push(b);
        }
        self.dx -= dx;
        self.dy -= dy;
        self.dz -= dz;
        true
    }

    /// Movement and button state from the outside world. Ignored while data reporting is
    /// disabled; accumulated in remote mode (for 0xEB); in stream mode sent at once, split into
    /// as many packets as fit.
    pub(super) fn event(&mut self, ctx: &mut dyn Context, dx: i8, dy: i8, dz: i8, buttons: u8) {
        if self.status & MOUSE_STATUS_ENABLED == 0 {
            return;
        }
        let limit = DELTA_ACCUMULATED_MAX;
        self.dx = (self.dx + i32::from(dx)).clamp(-limit, limit);
        self.dy = (self.dy + i32::from(dy)).clamp(-limit, limit);
        self.dz = (self.dz + i32::from(dz)).clamp(-limit, limit);
        self.buttons = buttons & BUTTONS_ALL;
        if self.status & MOUSE_STATUS_REMOTE != 0 {
            return;
        }
        // Each packet takes at least 3 of the 16 bytes, so this stops after 5 at most.
        for _ in 0..PS2_QUEUE_SIZE {
            if !self.send_packet(ctx) || (self.dx == 0 && self.dy == 0 && self.dz == 0) {
                break;
            }
        }
    }
}

/// The low byte of a small signed value, two's complement (C's `v & 0xff`).
fn low_byte(v: i32) -> u8 {
    let [low, ..] = v.to_le_bytes();
    low
}
