//! Behaviour of the i8042 model, driven through the `Device` trait. Values marked [V] in the
//! facts (devices.md section 4) were observed on QEMU and are asserted exactly.

use super::keyboard::{PS2_QUEUE_HEADROOM, PS2_QUEUE_SIZE, translate};
use super::*;
use harness::testing::TestContext;

const DATA: u16 = 0x60;
const CMD: u16 = 0x64;

fn region(port: u16) -> RegionId {
    match port {
        DATA => DATA_REGION,
        CMD => CMD_REGION,
        _ => panic!("not an i8042 port: {port:#x}"),
    }
}

fn outb(dev: &mut I8042, ctx: &mut TestContext, port: u16, val: u8) {
    dev.write(ctx, region(port), 0, AccessSize::B1, u64::from(val));
}

fn inb(dev: &mut I8042, ctx: &mut TestContext, port: u16) -> u8 {
    let v = dev.read(ctx, region(port), 0, AccessSize::B1);
    u8::try_from(v).expect("a byte register returned more than a byte")
}

fn status(dev: &mut I8042, ctx: &mut TestContext) -> u8 {
    inb(dev, ctx, CMD)
}

/// Read port 0x60 while the status says a byte is there, as a polling driver does.
fn drain(dev: &mut I8042, ctx: &mut TestContext) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..64 {
        if status(dev, ctx) & STATUS_OBF == 0 {
            return out;
        }
        out.push(inb(dev, ctx, DATA));
    }
    panic!("output buffer never emptied: {out:02x?}");
}

/// A controller command, then its replies.
fn ctl(dev: &mut I8042, ctx: &mut TestContext, cmd: u8) -> Vec<u8> {
    outb(dev, ctx, CMD, cmd);
    drain(dev, ctx)
}

/// A controller command with a data byte, then the replies.
fn ctl_data(dev: &mut I8042, ctx: &mut TestContext, cmd: u8, data: u8) -> Vec<u8> {
    outb(dev, ctx, CMD, cmd);
    outb(dev, ctx, DATA, data);
    drain(dev, ctx)
}

fn write_ccb(dev: &mut I8042, ctx: &mut TestContext, ccb: u8) {
    assert_eq!(ctl_data(dev, ctx, CMD_WRITE_CCB, ccb), []);
}

fn read_ccb(dev: &mut I8042, ctx: &mut TestContext) -> u8 {
    let r = ctl(dev, ctx, CMD_READ_CCB);
    assert_eq!(r.len(), 1, "CCB read replied {r:02x?}");
    r[0]
}

/// Bytes to the keyboard, reading the replies after each one as a driver waits for its ACK.
fn kbd(dev: &mut I8042, ctx: &mut TestContext, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for &b in bytes {
        outb(dev, ctx, DATA, b);
        out.extend(drain(dev, ctx));
    }
    out
}

/// Bytes to the mouse through 0xD4, reading the replies after each one.
fn aux(dev: &mut I8042, ctx: &mut TestContext, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for &b in bytes {
        out.extend(ctl_data(dev, ctx, CMD_WRITE_AUX, b));
    }
    out
}

fn key(name: &str) -> u8 {
    let i = key_index(name).unwrap_or_else(|| panic!("no key {name}"));
    u8::try_from(i).expect("key index fits in a byte")
}

fn press(dev: &mut I8042, ctx: &mut TestContext, name: &str) {
    dev.event(ctx, &[EVENT_KEY_PRESS, key(name)]);
}

fn release(dev: &mut I8042, ctx: &mut TestContext, name: &str) {
    dev.event(ctx, &[EVENT_KEY_RELEASE, key(name)]);
}

fn tap(dev: &mut I8042, ctx: &mut TestContext, name: &str) {
    dev.event(ctx, &[EVENT_KEY_TAP, key(name)]);
}

fn mouse(dev: &mut I8042, ctx: &mut TestContext, dx: i8, dy: i8, dz: i8, buttons: u8) {
    let [dx] = dx.to_le_bytes();
    let [dy] = dy.to_le_bytes();
    let [dz] = dz.to_le_bytes();
    dev.event(ctx, &[EVENT_MOUSE, dx, dy, dz, buttons]);
}

fn fresh() -> (I8042, TestContext) {
    (I8042::new(), TestContext::new(0))
}

/// A machine after firmware: self-test done, translation, both interrupts, both ports enabled.
fn booted() -> (I8042, TestContext) {
    let (mut dev, mut ctx) = fresh();
    assert_eq!(ctl(&mut dev, &mut ctx, CMD_SELF_TEST), [SELF_TEST_PASSED]);
    write_ccb(&mut dev, &mut ctx, 0x47);
    (dev, ctx)
}

// ---- Identity and power-on ----

#[test]
fn device_exposes_data_and_command_byte_regions() {
    let dev = I8042::new();
    assert_eq!(dev.name(), "i8042");
    assert_eq!(
        dev.regions(),
        vec![
            RegionSpec::new("i8042-data", Space::Io, 1, AccessRules::BYTES),
            RegionSpec::new("i8042-cmd", Space::Io, 1, AccessRules::BYTES),
        ]
    );
    assert_eq!(I8042::default(), I8042::new());
}

#[test]
fn power_on_status_is_0x18_and_ccb_0x03() {
    let (mut dev, mut ctx) = fresh();
    assert_eq!(status(&mut dev, &mut ctx), 0x18);
    assert_eq!(read_ccb(&mut dev, &mut ctx), 0x03);
    assert_eq!(status(&mut dev, &mut ctx), 0x18);
}

#[test]
fn reading_data_with_nothing_pending_returns_the_last_byte_again() {
    let (mut dev, mut ctx) = fresh();
    assert_eq!(inb(&mut dev, &mut ctx, DATA), 0x00);
    assert_eq!(
        ctl_data(&mut dev, &mut ctx, CMD_WRITE_KBD_OBUF, 0x5A),
        [0x5A]
    );
    assert_eq!(inb(&mut dev, &mut ctx, DATA), 0x5A);
    assert_eq!(inb(&mut dev, &mut ctx, DATA), 0x5A);
    assert_eq!(status(&mut dev, &mut ctx) & STATUS_OBF, 0);
}

// ---- Controller commands ----

#[test]
fn self_test_replies_0x55_and_sets_the_sys_status_bit() {
    let (mut dev, mut ctx) = fresh();
    outb(&mut dev, &mut ctx, CMD, CMD_SELF_TEST);
    assert_eq!(status(&mut dev, &mut ctx), 0x1D);
    assert_eq!(inb(&mut dev, &mut ctx, DATA), 0x55);
    assert_eq!(status(&mut dev, &mut ctx), 0x1C);
}

#[test]
fn interface_tests_reply_zero() {
    let (mut dev, mut ctx) = fresh();
    assert_eq!(ctl(&mut dev, &mut ctx, CMD_AUX_TEST), [0x00]);
    assert_eq!(ctl(&mut dev, &mut ctx, CMD_KBD_TEST), [0x00]);
}

#[test]
fn input_port_reads_0x80_and_output_port_0xcf() {
    let (mut dev, mut ctx) = fresh();
    assert_eq!(ctl(&mut dev, &mut ctx, CMD_READ_INPUT_PORT), [0x80]);
    assert_eq!(ctl(&mut dev, &mut ctx, CMD_READ_OUTPUT_PORT), [0xCF]);
}

#[test]
fn unimplemented_commands_reply_nothing_and_do_not_capture_data() {
    let (mut dev, mut ctx) = fresh();
    for cmd in [0xA1, 0x21, 0x3F, 0x00, 0xC1, 0xE0] {
        assert_eq!(ctl(&mut dev, &mut ctx, cmd), [], "command {cmd:#x}");
    }
    // 0x61 (write CCB RAM byte 1) is not implemented: the next data byte goes to the keyboard.
    outb(&mut dev, &mut ctx, CMD, 0x61);
    assert_eq!(kbd(&mut dev, &mut ctx, &[0xEE]), [0xEE]);
    assert_eq!(read_ccb(&mut dev, &mut ctx), 0x03);
}

#[test]
fn ccb_write_is_read_back() {
    let (mut dev, mut ctx) = fresh();
    write_ccb(&mut dev, &mut ctx, 0x65);
    assert_eq!(read_ccb(&mut dev, &mut ctx), 0x65);
    // Writing CCB.SYS does not set the status SYS bit (QEMU: only the self-test does).
    assert_eq!(status(&mut dev, &mut ctx) & STATUS_SYS, 0);
}

#[test]
fn disabling_and_enabling_interfaces_toggle_ccb_bits() {
    // Facts [V]: CCB 0x57 after 0xAD, 0x67 after 0xAE+0xA7, 0x47 after 0xA8.
    let (mut dev, mut ctx) = booted();
    assert_eq!(read_ccb(&mut dev, &mut ctx), 0x47);
    ctl(&mut dev, &mut ctx, CMD_KBD_DISABLE);
    assert_eq!(read_ccb(&mut dev, &mut ctx), 0x57);
    ctl(&mut dev, &mut ctx, CMD_KBD_ENABLE);
    ctl(&mut dev, &mut ctx, CMD_AUX_DISABLE);
    assert_eq!(read_ccb(&mut dev, &mut ctx), 0x67);
    ctl(&mut dev, &mut ctx, CMD_AUX_ENABLE);
    assert_eq!(read_ccb(&mut dev, &mut ctx), 0x47);
}

#[test]
fn writing_to_a_device_reenables_its_interface() {
    let (mut dev, mut ctx) = booted();
    ctl(&mut dev, &mut ctx, CMD_KBD_DISABLE);
    ctl(&mut dev, &mut ctx, CMD_AUX_DISABLE);
    assert_eq!(read_ccb(&mut dev, &mut ctx), 0x77);
    assert_eq!(kbd(&mut dev, &mut ctx, &[0xEE]), [0xEE]);
    assert_eq!(read_ccb(&mut dev, &mut ctx), 0x67);
    assert_eq!(aux(&mut dev, &mut ctx, &[0xF2]), [0xFA, 0x00]);
    assert_eq!(read_ccb(&mut dev, &mut ctx), 0x47);
}

#[test]
fn d2_delivers_the_byte_as_keyboard_data_with_irq1() {
    let (mut dev, mut ctx) = booted();
    outb(&mut dev, &mut ctx, CMD, CMD_WRITE_KBD_OBUF);
    outb(&mut dev, &mut ctx, DATA, 0xA5);
    assert_eq!(status(&mut dev, &mut ctx), 0x1D);
    assert!(ctx.irq_level(IRQ_KBD_PIN));
    assert!(!ctx.irq_level(IRQ_AUX_PIN));
    assert_eq!(inb(&mut dev, &mut ctx, DATA), 0xA5);
    assert!(!ctx.irq_level(IRQ_KBD_PIN));
}

#[test]
fn d3_delivers_the_byte_as_aux_data_with_irq12() {
    let (mut dev, mut ctx) = booted();
    outb(&mut dev, &mut ctx, CMD, CMD_WRITE_AUX_OBUF);
    outb(&mut dev, &mut ctx, DATA, 0x5A);
    assert_eq!(status(&mut dev, &mut ctx), 0x3D);
    assert!(ctx.irq_level(IRQ_AUX_PIN));
    assert!(!ctx.irq_level(IRQ_KBD_PIN));
    assert_eq!(inb(&mut dev, &mut ctx, DATA), 0x5A);
    assert!(!ctx.irq_level(IRQ_AUX_PIN));
    assert_eq!(status(&mut dev, &mut ctx), 0x1C);
}

#[test]
fn reset_pulse_requests_a_machine_reset() {
    for (cmd, resets) in [
        (0xFE, true),
        (0xF0, true),
        (0xFA, true),
        (0xFF, false),
        (0xF1, false),
    ] {
        let (mut dev, mut ctx) = fresh();
        outb(&mut dev, &mut ctx, CMD, cmd);
        assert_eq!(ctx.reset_requested, resets, "command {cmd:#x}");
    }
}

#[test]
fn output_port_bit0_clear_requests_a_machine_reset() {
    let (mut dev, mut ctx) = fresh();
    ctl_data(&mut dev, &mut ctx, CMD_WRITE_OUTPUT_PORT, 0xCF);
    assert!(!ctx.reset_requested);
    ctl_data(&mut dev, &mut ctx, CMD_WRITE_OUTPUT_PORT, 0xCE);
    assert!(ctx.reset_requested);
}

#[test]
fn a20_follows_dd_df_and_output_port_writes() {
    let (mut dev, mut ctx) = fresh();
    ctl(&mut dev, &mut ctx, CMD_A20_OFF);
    assert_eq!(ctl(&mut dev, &mut ctx, CMD_READ_OUTPUT_PORT), [0xCD]);
    ctl(&mut dev, &mut ctx, CMD_A20_ON);
    assert_eq!(ctl(&mut dev, &mut ctx, CMD_READ_OUTPUT_PORT), [0xCF]);
    ctl_data(&mut dev, &mut ctx, CMD_WRITE_OUTPUT_PORT, 0xCD);
    assert_eq!(ctl(&mut dev, &mut ctx, CMD_READ_OUTPUT_PORT), [0xCD]);
    assert!(!ctx.reset_requested);
}

#[test]
fn output_port_reports_the_output_buffer_flags() {
    let (mut dev, mut ctx) = booted();
    tap(&mut dev, &mut ctx, "g");
    // The scancode is latched, so the reply to 0xD0 sees OBF; it comes after the scancodes.
    outb(&mut dev, &mut ctx, CMD, CMD_READ_OUTPUT_PORT);
    assert_eq!(drain(&mut dev, &mut ctx), [0x22, 0xDF, 0xA2]);
}

// ---- Interrupt lines ----

#[test]
fn irq_lines_follow_the_output_buffer_and_ccb_bits() {
    let (mut dev, mut ctx) = booted();
    write_ccb(&mut dev, &mut ctx, 0x44);
    outb(&mut dev, &mut ctx, CMD, CMD_WRITE_KBD_OBUF);
    outb(&mut dev, &mut ctx, DATA, 0x12);
    assert!(!ctx.irq_level(IRQ_KBD_PIN), "KBDINT clear");
    write_ccb_keep_buffer(&mut dev, &mut ctx, 0x45);
    assert!(
        ctx.irq_level(IRQ_KBD_PIN),
        "setting KBDINT raises IRQ1 for the held byte"
    );
    outb(&mut dev, &mut ctx, CMD, CMD_KBD_DISABLE);
    assert!(
        !ctx.irq_level(IRQ_KBD_PIN),
        "keyboard interface disabled masks IRQ1"
    );
    assert_eq!(status(&mut dev, &mut ctx) & STATUS_OBF, STATUS_OBF);
    outb(&mut dev, &mut ctx, CMD, CMD_KBD_ENABLE);
    assert!(ctx.irq_level(IRQ_KBD_PIN));
    assert_eq!(inb(&mut dev, &mut ctx, DATA), 0x12);
    assert!(!ctx.irq_level(IRQ_KBD_PIN));

    outb(&mut dev, &mut ctx, CMD, CMD_WRITE_AUX_OBUF);
    outb(&mut dev, &mut ctx, DATA, 0x13);
    assert!(!ctx.irq_level(IRQ_AUX_PIN), "AUXINT clear");
    write_ccb_keep_buffer(&mut dev, &mut ctx, 0x47);
    assert!(ctx.irq_level(IRQ_AUX_PIN));
    assert!(!ctx.irq_level(IRQ_KBD_PIN));
    assert_eq!(inb(&mut dev, &mut ctx, DATA), 0x13);
    assert!(!ctx.irq_level(IRQ_AUX_PIN));
}

/// Write the CCB without draining the output buffer.
fn write_ccb_keep_buffer(dev: &mut I8042, ctx: &mut TestContext, ccb: u8) {
    outb(dev, ctx, CMD, CMD_WRITE_CCB);
    outb(dev, ctx, DATA, ccb);
}

#[test]
fn keyboard_irq_rises_for_a_key_and_falls_when_the_queue_is_read() {
    let (mut dev, mut ctx) = booted();
    ctx.irq_log.clear();
    tap(&mut dev, &mut ctx, "a");
    assert!(ctx.irq_level(IRQ_KBD_PIN));
    assert_eq!(inb(&mut dev, &mut ctx, DATA), 0x1E);
    assert!(ctx.irq_level(IRQ_KBD_PIN), "the break code is latched next");
    assert_eq!(inb(&mut dev, &mut ctx, DATA), 0x9E);
    assert!(!ctx.irq_level(IRQ_KBD_PIN));
    assert_eq!(ctx.irq_log, [(IRQ_KBD_PIN, true), (IRQ_KBD_PIN, false)]);
}

// ---- Output buffer priority ----

#[test]
fn controller_reply_is_latched_before_pending_keyboard_data() {
    let (mut dev, mut ctx) = booted();
    write_ccb(&mut dev, &mut ctx, 0x07);
    tap(&mut dev, &mut ctx, "g");
    // 0x34 is already latched; the CCB reply comes next, ahead of the rest of the scancodes.
    outb(&mut dev, &mut ctx, CMD, CMD_READ_CCB);
    assert_eq!(drain(&mut dev, &mut ctx), [0x34, 0x07, 0xF0, 0x34]);
}

#[test]
fn keyboard_data_is_withheld_while_its_interface_is_disabled() {
    let (mut dev, mut ctx) = booted();
    ctl(&mut dev, &mut ctx, CMD_KBD_DISABLE);
    tap(&mut dev, &mut ctx, "g");
    assert_eq!(status(&mut dev, &mut ctx) & STATUS_OBF, 0);
    outb(&mut dev, &mut ctx, CMD, CMD_KBD_ENABLE);
    assert_eq!(drain(&mut dev, &mut ctx), [0x22, 0xA2]);
}

#[test]
fn mouse_data_is_withheld_while_aux_is_disabled() {
    let (mut dev, mut ctx) = booted();
    assert_eq!(aux(&mut dev, &mut ctx, &[0xF4]), [0xFA]);
    ctl(&mut dev, &mut ctx, CMD_AUX_DISABLE);
    mouse(&mut dev, &mut ctx, 1, 1, 0, 0);
    assert_eq!(status(&mut dev, &mut ctx) & STATUS_OBF, 0);
    outb(&mut dev, &mut ctx, CMD, CMD_AUX_ENABLE);
    assert_eq!(drain(&mut dev, &mut ctx), [0x08, 0x01, 0x01]);
}

#[test]
fn keyboard_and_mouse_data_interleave_after_each_read() {
    // QEMU re-offers the device just read last, so two busy devices alternate.
    let (mut dev, mut ctx) = booted();
    assert_eq!(aux(&mut dev, &mut ctx, &[0xF4]), [0xFA]);
    tap(&mut dev, &mut ctx, "a");
    mouse(&mut dev, &mut ctx, 2, 0, 0, 0);
    assert_eq!(status(&mut dev, &mut ctx), 0x1D);
    assert_eq!(drain(&mut dev, &mut ctx), [0x1E, 0x08, 0x9E, 0x02, 0x00]);
}

// ---- Keyboard commands ----

#[test]
fn keyboard_reset_replies_fa_aa() {
    let (mut dev, mut ctx) = fresh();
    assert_eq!(kbd(&mut dev, &mut ctx, &[0xFF]), [0xFA, 0xAA]);
}

#[test]
fn identify_replies_fa_ab_83_without_translation() {
    let (mut dev, mut ctx) = fresh();
    assert_eq!(kbd(&mut dev, &mut ctx, &[0xF2]), [0xFA, 0xAB, 0x83]);
}

#[test]
fn identify_replies_fa_ab_41_with_translation() {
    let (mut dev, mut ctx) = booted();
    assert_eq!(kbd(&mut dev, &mut ctx, &[0xF2]), [0xFA, 0xAB, 0x41]);
}

#[test]
fn scancode_set_query_replies_the_current_set() {
    let (mut dev, mut ctx) = fresh();
    assert_eq!(kbd(&mut dev, &mut ctx, &[0xF0, 0x00]), [0xFA, 0xFA, 0x02]);
    assert_eq!(kbd(&mut dev, &mut ctx, &[0xF0, 0x03]), [0xFA, 0xFA]);
    assert_eq!(kbd(&mut dev, &mut ctx, &[0xF0, 0x00]), [0xFA, 0xFA, 0x03]);
    assert_eq!(kbd(&mut dev, &mut ctx, &[0xF0, 0x04]), [0xFA, 0xFE]);
    // With XLATE the set number is reported as the controller translates it.
    write_ccb(&mut dev, &mut ctx, 0x43);
    assert_eq!(kbd(&mut dev, &mut ctx, &[0xF0, 0x02]), [0xFA, 0xFA]);
    assert_eq!(kbd(&mut dev, &mut ctx, &[0xF0, 0x00]), [0xFA, 0xFA, 0x41]);
}

#[test]
fn echo_replies_ee() {
    let (mut dev, mut ctx) = fresh();
    assert_eq!(kbd(&mut dev, &mut ctx, &[0xEE]), [0xEE]);
}

#[test]
fn unknown_and_resend_commands_reply_fe() {
    let (mut dev, mut ctx) = fresh();
    assert_eq!(kbd(&mut dev, &mut ctx, &[0x42]), [0xFE]);
    assert_eq!(kbd(&mut dev, &mut ctx, &[0xFE]), [0xFE]);
    assert_eq!(kbd(&mut dev, &mut ctx, &[0xF7]), [0xFE]);
}

#[test]
fn qemu_quirk_commands_00_ack_and_05_resend() {
    let (mut dev, mut ctx) = fresh();
    assert_eq!(kbd(&mut dev, &mut ctx, &[0x00]), [0xFA]);
    assert_eq!(kbd(&mut dev, &mut ctx, &[0x05]), [0xFE]);
}

#[test]
fn parameter_commands_ack_twice() {
    let (mut dev, mut ctx) = fresh();
    assert_eq!(kbd(&mut dev, &mut ctx, &[0xED, 0x07]), [0xFA, 0xFA]);
    assert_eq!(kbd(&mut dev, &mut ctx, &[0xF3, 0x20]), [0xFA, 0xFA]);
    assert_eq!(kbd(&mut dev, &mut ctx, &[0xFC, 0x1C]), [0xFA, 0xFA]);
    assert_eq!(kbd(&mut dev, &mut ctx, &[0xFA]), [0xFA]);
    assert_eq!(kbd(&mut dev, &mut ctx, &[0xF6]), [0xFA]);
    // The parameter byte is taken as a parameter even when it looks like a command.
    assert_eq!(kbd(&mut dev, &mut ctx, &[0xF3, 0xFF]), [0xFA, 0xFA]);
}

#[test]
fn new_keyboard_command_discards_unread_replies_of_the_previous_one() {
    let (mut dev, mut ctx) = fresh();
    outb(&mut dev, &mut ctx, DATA, 0xF2);
    outb(&mut dev, &mut ctx, DATA, 0xEE);
    assert_eq!(drain(&mut dev, &mut ctx), [0xEE]);
    // Partly read replies are discarded too.
    outb(&mut dev, &mut ctx, DATA, 0xF2);
    assert_eq!(inb(&mut dev, &mut ctx, DATA), 0xFA);
    outb(&mut dev, &mut ctx, DATA, 0xFF);
    assert_eq!(drain(&mut dev, &mut ctx), [0xFA, 0xAA]);
}

#[test]
fn command_replies_are_read_before_pending_scancodes() {
    let (mut dev, mut ctx) = booted();
    tap(&mut dev, &mut ctx, "g");
    tap(&mut dev, &mut ctx, "a");
    outb(&mut dev, &mut ctx, DATA, 0xEE);
    // The output buffer was already marked full for the keyboard, but (as in QEMU) the byte is
    // taken from the queue when read, so the echo jumps every pending scancode.
    assert_eq!(drain(&mut dev, &mut ctx), [0xEE, 0x22, 0xA2, 0x1E, 0x9E]);
}

#[test]
fn reset_flushes_queued_scancodes() {
    let (mut dev, mut ctx) = booted();
    for _ in 0..4 {
        tap(&mut dev, &mut ctx, "g");
    }
    outb(&mut dev, &mut ctx, DATA, 0xFF);
    assert_eq!(drain(&mut dev, &mut ctx), [0xFA, 0xAA]);
}

// ---- Scancodes ----

#[test]
fn key_tap_with_xlate_delivers_0x22_then_0xa2_for_g() {
    let (mut dev, mut ctx) = booted();
    tap(&mut dev, &mut ctx, "g");
    assert_eq!(drain(&mut dev, &mut ctx), [0x22, 0xA2]);
}

#[test]
fn key_tap_without_xlate_delivers_set2_make_and_break() {
    let (mut dev, mut ctx) = fresh();
    tap(&mut dev, &mut ctx, "g");
    assert_eq!(drain(&mut dev, &mut ctx), [0x34, 0xF0, 0x34]);
}

#[test]
fn shifted_a_delivers_the_observed_set2_sequence() {
    let (mut dev, mut ctx) = fresh();
    press(&mut dev, &mut ctx, "shift");
    tap(&mut dev, &mut ctx, "a");
    release(&mut dev, &mut ctx, "shift");
    assert_eq!(
        drain(&mut dev, &mut ctx),
        [0x12, 0x1C, 0xF0, 0x1C, 0xF0, 0x12]
    );
}

#[test]
fn extended_keys_carry_the_e0_prefix() {
    let (mut dev, mut ctx) = fresh();
    tap(&mut dev, &mut ctx, "ctrl_r");
    assert_eq!(drain(&mut dev, &mut ctx), [0xE0, 0x14, 0xE0, 0xF0, 0x14]);
    write_ccb(&mut dev, &mut ctx, 0x43);
    tap(&mut dev, &mut ctx, "ctrl_r");
    assert_eq!(drain(&mut dev, &mut ctx), [0xE0, 0x1D, 0xE0, 0x9D]);
}

#[test]
fn scancode_sets_1_and_3_generate_their_own_codes() {
    let (mut dev, mut ctx) = fresh();
    assert_eq!(kbd(&mut dev, &mut ctx, &[0xF0, 0x01]), [0xFA, 0xFA]);
    tap(&mut dev, &mut ctx, "g");
    tap(&mut dev, &mut ctx, "up");
    assert_eq!(
        drain(&mut dev, &mut ctx),
        [0x22, 0xA2, 0xE0, 0x48, 0xE0, 0xC8]
    );
    assert_eq!(kbd(&mut dev, &mut ctx, &[0xF0, 0x03]), [0xFA, 0xFA]);
    tap(&mut dev, &mut ctx, "f1");
    tap(&mut dev, &mut ctx, "up");
    assert_eq!(
        drain(&mut dev, &mut ctx),
        [0x07, 0xF0, 0x07, 0x63, 0xF0, 0x63]
    );
}

#[test]
fn pause_sends_its_sequence_on_press_only() {
    let (mut dev, mut ctx) = fresh();
    tap(&mut dev, &mut ctx, "pause");
    assert_eq!(
        drain(&mut dev, &mut ctx),
        [0xE1, 0x14, 0x77, 0xE1, 0xF0, 0x14, 0xF0, 0x77]
    );
    press(&mut dev, &mut ctx, "ctrl");
    tap(&mut dev, &mut ctx, "pause");
    assert_eq!(
        drain(&mut dev, &mut ctx),
        [0x14, 0xE0, 0x7E, 0xE0, 0xF0, 0x7E]
    );
    // Translated, the set-2 sequence becomes the set-1 one.
    release(&mut dev, &mut ctx, "ctrl");
    assert_eq!(drain(&mut dev, &mut ctx), [0xF0, 0x14]);
    write_ccb(&mut dev, &mut ctx, 0x43);
    tap(&mut dev, &mut ctx, "pause");
    assert_eq!(
        drain(&mut dev, &mut ctx),
        [0xE1, 0x1D, 0x45, 0xE1, 0x9D, 0xC5]
    );
}

#[test]
fn print_screen_sequence_depends_on_modifiers() {
    let (mut dev, mut ctx) = fresh();
    tap(&mut dev, &mut ctx, "print");
    assert_eq!(
        drain(&mut dev, &mut ctx),
        [0xE0, 0x12, 0xE0, 0x7C, 0xE0, 0xF0, 0x7C, 0xE0, 0xF0, 0x12]
    );
    press(&mut dev, &mut ctx, "shift_r");
    drain(&mut dev, &mut ctx);
    tap(&mut dev, &mut ctx, "print");
    assert_eq!(drain(&mut dev, &mut ctx), [0xE0, 0x7C, 0xE0, 0xF0, 0x7C]);
    release(&mut dev, &mut ctx, "shift_r");
    press(&mut dev, &mut ctx, "alt");
    drain(&mut dev, &mut ctx);
    // Set 1 with left Alt: SysRq wrapped in an Alt release and press.
    assert_eq!(kbd(&mut dev, &mut ctx, &[0xF0, 0x01]), [0xFA, 0xFA]);
    tap(&mut dev, &mut ctx, "print");
    assert_eq!(
        drain(&mut dev, &mut ctx),
        [0xB8, 0x38, 0x54, 0xD4, 0xB8, 0x38]
    );
}

#[test]
fn disabled_scanning_queues_no_scancodes() {
    let (mut dev, mut ctx) = booted();
    assert_eq!(kbd(&mut dev, &mut ctx, &[0xF5]), [0xFA]);
    tap(&mut dev, &mut ctx, "g");
    assert_eq!(drain(&mut dev, &mut ctx), []);
    assert_eq!(kbd(&mut dev, &mut ctx, &[0xF4]), [0xFA]);
    tap(&mut dev, &mut ctx, "g");
    assert_eq!(drain(&mut dev, &mut ctx), [0x22, 0xA2]);
}

#[test]
fn key_index_wraps_modulo_the_table_and_missing_bytes_read_as_zero() {
    let (mut dev, mut ctx) = fresh();
    let wrapped = u8::try_from(KEYS.len()).expect("table fits in a byte");
    dev.event(&mut ctx, &[EVENT_KEY_TAP, wrapped]);
    dev.event(&mut ctx, &[EVENT_KEY_TAP]);
    dev.event(&mut ctx, &[EVENT_KEY_TAP + 4]);
    dev.event(&mut ctx, &[]);
    let esc = KEYS[0].set2;
    assert_eq!(
        drain(&mut dev, &mut ctx),
        [esc, 0xF0, esc, esc, 0xF0, esc, esc, 0xF0, esc]
    );
}

#[test]
fn keyboard_queue_drops_bytes_beyond_16_and_replies_use_the_headroom() {
    let (mut dev, mut ctx) = fresh();
    for i in 0..40u8 {
        dev.event(&mut ctx, &[EVENT_KEY_PRESS, 17 + i % 13]); // number row, one byte each
    }
    assert_eq!(dev.kbd.len(), PS2_QUEUE_SIZE);
    outb(&mut dev, &mut ctx, DATA, 0xF2);
    assert_eq!(dev.kbd.len(), PS2_QUEUE_SIZE + 3);
    assert!(dev.kbd.len() <= PS2_QUEUE_SIZE + PS2_QUEUE_HEADROOM);
    let bytes = drain(&mut dev, &mut ctx);
    assert_eq!(bytes.len(), PS2_QUEUE_SIZE + 3);
    assert_eq!(bytes[..4], [0xFA, 0xAB, 0x83, KEYS[17].set2]);
}

#[test]
fn pending_replies_count_against_the_scancode_queue() {
    let (mut dev, mut ctx) = fresh();
    outb(&mut dev, &mut ctx, DATA, 0xFF); // FA AA stay unread
    for _ in 0..20 {
        press(&mut dev, &mut ctx, "a");
    }
    assert_eq!(dev.kbd.len(), PS2_QUEUE_SIZE);
    assert_eq!(dev.kbd.scancodes_len(), PS2_QUEUE_SIZE - 2);
}

#[test]
fn keys_table_set1_codes_are_the_translated_set2_codes() {
    assert!(KEYS.len() >= 104);
    for key in KEYS {
        assert_eq!(translate(key.set2), key.set1, "key {}", key.name);
    }
    let mut names: Vec<_> = KEYS.iter().map(|k| k.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), KEYS.len(), "duplicate key names");
    assert_eq!(translate(0x34), 0x22);
    assert_eq!(translate(0xF0), 0xF0);
    assert_eq!(key_index("no-such-key"), None);
}

// ---- Mouse ----

#[test]
fn mouse_reset_replies_fa_aa_00() {
    let (mut dev, mut ctx) = fresh();
    assert_eq!(aux(&mut dev, &mut ctx, &[0xFF]), [0xFA, 0xAA, 0x00]);
    assert_eq!(aux(&mut dev, &mut ctx, &[0xF2]), [0xFA, 0x00]);
}

#[test]
fn mouse_replies_set_aux_obf_and_irq12() {
    let (mut dev, mut ctx) = booted();
    outb(&mut dev, &mut ctx, CMD, CMD_WRITE_AUX);
    outb(&mut dev, &mut ctx, DATA, 0xF2);
    assert_eq!(status(&mut dev, &mut ctx), 0x3D);
    assert!(ctx.irq_level(IRQ_AUX_PIN));
    assert_eq!(drain(&mut dev, &mut ctx), [0xFA, 0x00]);
    assert!(!ctx.irq_level(IRQ_AUX_PIN));
}

#[test]
fn intellimouse_knock_sets_id_3_and_4_byte_packets() {
    let (mut dev, mut ctx) = booted();
    aux(&mut dev, &mut ctx, &[0xFF]);
    let acks = aux(&mut dev, &mut ctx, &[0xF3, 200, 0xF3, 100, 0xF3, 80]);
    assert_eq!(acks, [0xFA; 6]);
    assert_eq!(aux(&mut dev, &mut ctx, &[0xF2]), [0xFA, 0x03]);
    assert_eq!(aux(&mut dev, &mut ctx, &[0xF4]), [0xFA]);
    mouse(&mut dev, &mut ctx, -3, 4, -2, 0x05);
    assert_eq!(
        drain(&mut dev, &mut ctx),
        [0x08 | 0x10 | 0x05, 0xFD, 0x04, 0xFE]
    );
}

#[test]
fn explorer_knock_sets_id_4_with_wheel_and_extra_buttons() {
    let (mut dev, mut ctx) = booted();
    aux(&mut dev, &mut ctx, &[0xFF]);
    aux(&mut dev, &mut ctx, &[0xF3, 200, 0xF3, 200, 0xF3, 80]);
    assert_eq!(aux(&mut dev, &mut ctx, &[0xF2]), [0xFA, 0x04]);
    assert_eq!(aux(&mut dev, &mut ctx, &[0xF4]), [0xFA]);
    // Wheel +2 with buttons 4 and 5; then a wheel of -9 is clamped to -7 and the rest follows.
    mouse(&mut dev, &mut ctx, 0, 0, 2, 0x18);
    assert_eq!(drain(&mut dev, &mut ctx), [0x08, 0x00, 0x00, 0x32]);
    mouse(&mut dev, &mut ctx, 0, -1, -9, 0);
    assert_eq!(
        drain(&mut dev, &mut ctx),
        [0x28, 0x00, 0xFF, 0x09, 0x08, 0x00, 0x00, 0x0E]
    );
}

#[test]
fn broken_knock_keeps_the_standard_id() {
    let (mut dev, mut ctx) = booted();
    aux(&mut dev, &mut ctx, &[0xFF]);
    aux(&mut dev, &mut ctx, &[0xF3, 200, 0xF3, 60, 0xF3, 80]);
    assert_eq!(aux(&mut dev, &mut ctx, &[0xF2]), [0xFA, 0x00]);
}

#[test]
fn mouse_status_request_reports_mode_resolution_and_rate() {
    let (mut dev, mut ctx) = booted();
    // Power-on: QEMU's device reset leaves resolution and rate at 0.
    assert_eq!(aux(&mut dev, &mut ctx, &[0xE9]), [0xFA, 0x00, 0x00, 0x00]);
    aux(&mut dev, &mut ctx, &[0xFF]);
    assert_eq!(aux(&mut dev, &mut ctx, &[0xE9]), [0xFA, 0x00, 0x02, 0x64]);
    aux(
        &mut dev,
        &mut ctx,
        &[0xF3, 200, 0xF3, 100, 0xF3, 80, 0xE8, 0x03],
    );
    assert_eq!(aux(&mut dev, &mut ctx, &[0xE9]), [0xFA, 0x00, 0x03, 0x50]);
    aux(&mut dev, &mut ctx, &[0xF4, 0xE7, 0xF0]);
    assert_eq!(aux(&mut dev, &mut ctx, &[0xE9]), [0xFA, 0x70, 0x03, 0x50]);
    aux(&mut dev, &mut ctx, &[0xE6, 0xEA, 0xF6]);
    assert_eq!(aux(&mut dev, &mut ctx, &[0xE9]), [0xFA, 0x00, 0x02, 0x64]);
}

#[test]
fn mouse_resolution_outside_0_to_3_is_stored_and_reported_as_qemu_does() {
    // QEMU takes any 0xE8 parameter; the counts/mm table must not be indexed with it.
    let (mut dev, mut ctx) = booted();
    assert_eq!(aux(&mut dev, &mut ctx, &[0xE8, 0xFF]), [0xFA, 0xFA]);
    assert_eq!(aux(&mut dev, &mut ctx, &[0xE9]), [0xFA, 0x00, 0xFF, 0x00]);
    assert_eq!(aux(&mut dev, &mut ctx, &[0xF4]), [0xFA]);
    mouse(&mut dev, &mut ctx, 1, 1, 0, 0);
    assert_eq!(drain(&mut dev, &mut ctx), [0x08, 0x01, 0x01]);
}

#[test]
fn mouse_wrap_mode_echoes_bytes_until_reset_wrap() {
    let (mut dev, mut ctx) = booted();
    aux(&mut dev, &mut ctx, &[0xFF]);
    assert_eq!(aux(&mut dev, &mut ctx, &[0xEE]), [0xFA]);
    assert_eq!(
        aux(&mut dev, &mut ctx, &[0x12, 0xE9, 0xF4]),
        [0x12, 0xE9, 0xF4]
    );
    assert_eq!(aux(&mut dev, &mut ctx, &[0xEC]), [0xFA]);
    assert_eq!(aux(&mut dev, &mut ctx, &[0xF2]), [0xFA, 0x00]);
    // 0xFF resets even in wrap mode, and (as in QEMU) stays in wrap mode.
    aux(&mut dev, &mut ctx, &[0xEE]);
    assert_eq!(aux(&mut dev, &mut ctx, &[0xFF]), [0xFA, 0xAA, 0x00]);
    assert_eq!(aux(&mut dev, &mut ctx, &[0x34]), [0x34]);
}

#[test]
fn unknown_mouse_commands_get_no_reply() {
    let (mut dev, mut ctx) = booted();
    assert_eq!(aux(&mut dev, &mut ctx, &[0x42, 0xFE, 0xED]), []);
}

#[test]
fn mouse_reports_only_while_enabled_and_in_stream_mode() {
    let (mut dev, mut ctx) = booted();
    aux(&mut dev, &mut ctx, &[0xFF]);
    mouse(&mut dev, &mut ctx, 5, 5, 0, 1);
    assert_eq!(drain(&mut dev, &mut ctx), [], "reporting disabled: ignored");
    aux(&mut dev, &mut ctx, &[0xF4]);
    mouse(&mut dev, &mut ctx, 5, -5, 0, 1);
    assert_eq!(drain(&mut dev, &mut ctx), [0x29, 0x05, 0xFB]);
    // Remote mode: movement accumulates until polled.
    assert_eq!(aux(&mut dev, &mut ctx, &[0xF0]), [0xFA]);
    mouse(&mut dev, &mut ctx, 100, 0, 0, 2);
    mouse(&mut dev, &mut ctx, 100, 0, 0, 2);
    assert_eq!(drain(&mut dev, &mut ctx), []);
    assert_eq!(aux(&mut dev, &mut ctx, &[0xEB]), [0xFA, 0x0A, 0x7F, 0x00]);
    assert_eq!(aux(&mut dev, &mut ctx, &[0xEB]), [0xFA, 0x0A, 0x49, 0x00]);
    assert_eq!(aux(&mut dev, &mut ctx, &[0xEB]), [0xFA, 0x0A, 0x00, 0x00]);
}

#[test]
fn poll_on_an_intellimouse_sends_a_4_byte_packet() {
    // Facts [V]: FA 08 00 00 00 for type 3.
    let (mut dev, mut ctx) = booted();
    aux(&mut dev, &mut ctx, &[0xFF, 0xF3, 200, 0xF3, 100, 0xF3, 80]);
    assert_eq!(
        aux(&mut dev, &mut ctx, &[0xEB]),
        [0xFA, 0x08, 0x00, 0x00, 0x00]
    );
}

#[test]
fn large_mouse_deltas_are_clamped_and_split_into_packets() {
    let (mut dev, mut ctx) = booted();
    aux(&mut dev, &mut ctx, &[0xF4]);
    mouse(&mut dev, &mut ctx, -128, 127, 0, 0);
    assert_eq!(
        drain(&mut dev, &mut ctx),
        [0x18, 0x81, 0x7F, 0x18, 0xFF, 0x00]
    );
}

#[test]
fn mouse_queue_keeps_whole_packets_only() {
    let (mut dev, mut ctx) = booted();
    aux(&mut dev, &mut ctx, &[0xF4]);
    for _ in 0..10 {
        mouse(&mut dev, &mut ctx, 1, 0, 0, 0);
    }
    assert_eq!(dev.mouse.len(), 15, "five 3-byte packets fit in 16 bytes");
    let bytes = drain(&mut dev, &mut ctx);
    assert_eq!(bytes, [0x08, 0x01, 0x00].repeat(5));
}

#[test]
fn remote_mode_accumulation_stays_bounded() {
    let (mut dev, mut ctx) = booted();
    aux(&mut dev, &mut ctx, &[0xF4, 0xF0]);
    for _ in 0..2000 {
        mouse(&mut dev, &mut ctx, 127, -128, 127, 0);
    }
    assert_eq!(dev.mouse.len(), 0);
    assert_eq!(aux(&mut dev, &mut ctx, &[0xEB]), [0xFA, 0x28, 0x7F, 0x81]);
}

// ---- Reset and whole sequences ----

#[test]
fn reset_returns_to_the_power_on_state_after_a_busy_sequence() {
    let (mut dev, mut ctx) = booted();
    aux(
        &mut dev,
        &mut ctx,
        &[0xFF, 0xF3, 200, 0xF3, 200, 0xF3, 80, 0xF4, 0xEE],
    );
    kbd(&mut dev, &mut ctx, &[0xF0, 0x03, 0xED]);
    outb(&mut dev, &mut ctx, CMD, CMD_WRITE_AUX);
    for _ in 0..5 {
        tap(&mut dev, &mut ctx, "g");
        mouse(&mut dev, &mut ctx, 9, 9, 9, 9);
    }
    ctl(&mut dev, &mut ctx, CMD_A20_OFF);
    assert_ne!(dev, I8042::new());
    dev.reset();
    assert_eq!(dev, I8042::new());
}

#[test]
fn seabios_init_sequence_gives_the_traced_bytes() {
    // The order SeaBIOS's ps2port.c follows (facts: "SeaBIOS init sequence seen in the trace").
    let (mut dev, mut ctx) = fresh();
    ctl(&mut dev, &mut ctx, CMD_KBD_DISABLE);
    ctl(&mut dev, &mut ctx, CMD_AUX_DISABLE);
    assert_eq!(drain(&mut dev, &mut ctx), []);
    assert_eq!(ctl(&mut dev, &mut ctx, CMD_SELF_TEST), [0x55]);
    assert_eq!(ctl(&mut dev, &mut ctx, CMD_KBD_TEST), [0x00]);
    // Each keyboard command: interrupts and both ports off, keyboard port on, command, restore.
    fn command(dev: &mut I8042, ctx: &mut TestContext, saved: u8, bytes: &[u8]) -> Vec<u8> {
        let off = (saved | CCB_KBD_DISABLE | CCB_AUX_DISABLE) & !(CCB_KBDINT | CCB_AUXINT);
        write_ccb(dev, ctx, off);
        write_ccb(dev, ctx, off & !CCB_KBD_DISABLE);
        let reply = kbd(dev, ctx, bytes);
        write_ccb(dev, ctx, saved);
        reply
    }
    assert_eq!(command(&mut dev, &mut ctx, 0x30, &[0xFF]), [0xFA, 0xAA]);
    assert_eq!(command(&mut dev, &mut ctx, 0x30, &[0xF5]), [0xFA]);
    assert_eq!(
        command(&mut dev, &mut ctx, 0x30, &[0xF0, 0x02]),
        [0xFA, 0xFA]
    );
    assert_eq!(command(&mut dev, &mut ctx, 0x61, &[0xF4]), [0xFA]);
    assert_eq!(read_ccb(&mut dev, &mut ctx), 0x61);
    assert_eq!(status(&mut dev, &mut ctx), 0x1C);
    // The booted keyboard delivers translated scancodes on IRQ1.
    tap(&mut dev, &mut ctx, "g");
    assert!(ctx.irq_level(IRQ_KBD_PIN));
    assert_eq!(drain(&mut dev, &mut ctx), [0x22, 0xA2]);
    assert!(!ctx.irq_level(IRQ_KBD_PIN));
    assert!(!ctx.reset_requested);
}

#[test]
fn linux_i8042_probe_sequence_gives_the_expected_bytes() {
    let (mut dev, mut ctx) = fresh();
    // i8042_controller_check / init: flush, read CTR, self-test, interrupts off.
    assert_eq!(drain(&mut dev, &mut ctx), []);
    assert_eq!(read_ccb(&mut dev, &mut ctx), 0x03);
    assert_eq!(ctl(&mut dev, &mut ctx, CMD_SELF_TEST), [0x55]);
    write_ccb(&mut dev, &mut ctx, 0x74);
    assert_eq!(read_ccb(&mut dev, &mut ctx), 0x74);
    // i8042_check_aux: AUX loopback, then the disable/enable check and the interface test.
    outb(&mut dev, &mut ctx, CMD, CMD_WRITE_AUX_OBUF);
    outb(&mut dev, &mut ctx, DATA, 0x5A);
    assert_eq!(status(&mut dev, &mut ctx), 0x3D);
    assert_eq!(inb(&mut dev, &mut ctx, DATA), 0x5A);
    ctl(&mut dev, &mut ctx, CMD_AUX_DISABLE);
    assert_eq!(
        read_ccb(&mut dev, &mut ctx) & CCB_AUX_DISABLE,
        CCB_AUX_DISABLE
    );
    ctl(&mut dev, &mut ctx, CMD_AUX_ENABLE);
    assert_eq!(read_ccb(&mut dev, &mut ctx) & CCB_AUX_DISABLE, 0);
    assert_eq!(ctl(&mut dev, &mut ctx, CMD_AUX_TEST), [0x00]);
    // Ports and interrupts on, translation kept.
    write_ccb(&mut dev, &mut ctx, 0x47);
    // atkbd: identify, reset, set and query the scancode set, LEDs, enable.
    assert_eq!(kbd(&mut dev, &mut ctx, &[0xF2]), [0xFA, 0xAB, 0x41]);
    assert_eq!(kbd(&mut dev, &mut ctx, &[0xFF]), [0xFA, 0xAA]);
    assert_eq!(kbd(&mut dev, &mut ctx, &[0xF0, 0x02]), [0xFA, 0xFA]);
    assert_eq!(kbd(&mut dev, &mut ctx, &[0xF0, 0x00]), [0xFA, 0xFA, 0x41]);
    assert_eq!(kbd(&mut dev, &mut ctx, &[0xED, 0x00]), [0xFA, 0xFA]);
    assert_eq!(kbd(&mut dev, &mut ctx, &[0xF4]), [0xFA]);
    // psmouse: reset, ID, IntelliMouse then Explorer knocks, resolution, status, rate, enable.
    assert_eq!(aux(&mut dev, &mut ctx, &[0xFF]), [0xFA, 0xAA, 0x00]);
    assert_eq!(aux(&mut dev, &mut ctx, &[0xF2]), [0xFA, 0x00]);
    aux(&mut dev, &mut ctx, &[0xF3, 200, 0xF3, 100, 0xF3, 80]);
    assert_eq!(aux(&mut dev, &mut ctx, &[0xF2]), [0xFA, 0x03]);
    aux(&mut dev, &mut ctx, &[0xF3, 200, 0xF3, 200, 0xF3, 80]);
    assert_eq!(aux(&mut dev, &mut ctx, &[0xF2]), [0xFA, 0x04]);
    assert_eq!(aux(&mut dev, &mut ctx, &[0xE8, 0x03]), [0xFA, 0xFA]);
    assert_eq!(aux(&mut dev, &mut ctx, &[0xE9]), [0xFA, 0x00, 0x03, 0x50]);
    assert_eq!(aux(&mut dev, &mut ctx, &[0xF3, 100]), [0xFA, 0xFA]);
    assert_eq!(aux(&mut dev, &mut ctx, &[0xF4]), [0xFA]);
    // Running: a mouse report on IRQ12, a key on IRQ1.
    mouse(&mut dev, &mut ctx, 5, -3, 1, 0x01);
    assert!(ctx.irq_level(IRQ_AUX_PIN));
    assert_eq!(drain(&mut dev, &mut ctx), [0x29, 0x05, 0xFD, 0x01]);
    assert!(!ctx.irq_level(IRQ_AUX_PIN));
    tap(&mut dev, &mut ctx, "g");
    assert!(ctx.irq_level(IRQ_KBD_PIN));
    assert_eq!(drain(&mut dev, &mut ctx), [0x22, 0xA2]);
    assert!(!ctx.reset_requested);
}

// ---- Robustness ----

/// Controller commands worth hitting often.
const INTERESTING_COMMANDS: &[u8] = &[
    0x20, 0x60, 0xA1, 0xA7, 0xA8, 0xA9, 0xAA, 0xAB, 0xAD, 0xAE, 0xC0, 0xD0, 0xD1, 0xD2, 0xD3, 0xD4,
    0xD4, 0xD4, 0xDD, 0xDF, 0xFF,
];

#[test]
fn random_operations_never_panic_and_keep_queues_bounded() {
    let (mut dev, mut ctx) = fresh();
    let mut rng = fastrand::Rng::with_seed(0x9E37_79B9_7F4A_7C15);
    for step in 0..300_000u32 {
        match rng.u8(..16) {
            0..=4 => outb(&mut dev, &mut ctx, DATA, rng.u8(..)),
            5..=6 => {
                let pick = rng.usize(..INTERESTING_COMMANDS.len());
                outb(&mut dev, &mut ctx, CMD, INTERESTING_COMMANDS[pick]);
            }
            7 => outb(&mut dev, &mut ctx, CMD, rng.u8(..)),
            8..=10 => {
                inb(&mut dev, &mut ctx, DATA);
            }
            11 => {
                inb(&mut dev, &mut ctx, CMD);
            }
            12..=14 => {
                let len = rng.usize(..7);
                let payload: Vec<u8> = (0..len).map(|_| rng.u8(..)).collect();
                dev.event(&mut ctx, &payload);
            }
            _ => {
                match rng.u8(..) {
                    0 => dev.reset(),
                    // Now and then a knock, so 4-byte packets meet a full queue too.
                    1..=8 => {
                        let second = if rng.bool() { 100 } else { 200 };
                        for b in [0xF3, 200, 0xF3, second, 0xF3, 80, 0xF4] {
                            outb(&mut dev, &mut ctx, CMD, CMD_WRITE_AUX);
                            outb(&mut dev, &mut ctx, DATA, b);
                        }
                    }
                    _ => {}
                }
                // Accesses to regions and sizes the harness never sends must not panic.
                let bogus = RegionId(2 + u16::from(rng.u8(..)));
                dev.write(&mut ctx, bogus, 7, AccessSize::B8, u64::MAX);
                dev.read(&mut ctx, bogus, 3, AccessSize::B4);
            }
        }
        assert!(dev.kbd.scancodes_len() <= PS2_QUEUE_SIZE, "step {step}");
        assert!(
            dev.kbd.len() <= PS2_QUEUE_SIZE + PS2_QUEUE_HEADROOM,
            "step {step}"
        );
        assert!(dev.mouse.len() <= PS2_QUEUE_SIZE, "step {step}");
        let full = dev.status & STATUS_OBF != 0;
        assert_eq!(
            ctx.irq_level(IRQ_KBD_PIN) || ctx.irq_level(IRQ_AUX_PIN),
            ctx.irq_level(IRQ_KBD_PIN) ^ ctx.irq_level(IRQ_AUX_PIN),
            "at most one line is high (step {step})"
        );
        if !full {
            assert!(
                !ctx.irq_level(IRQ_KBD_PIN) && !ctx.irq_level(IRQ_AUX_PIN),
                "step {step}"
            );
        }
    }
}
