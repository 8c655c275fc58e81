//! PS/2 bring-up sequences as firmware and drivers perform them, through qtest on `pc`.
//! Expected bytes are the ones QEMU gives (facts §4, values marked [V]).

mod common;
use common::{expect, pc, send};

#[test]
fn the_issue_example_self_test_replies_0x55() {
    let mut m = pc();
    expect(
        &mut m,
        &[("outb 0x64 0xaa", "OK"), ("inb 0x60", "OK 0x0055")],
    );
}

#[test]
fn seabios_style_init() {
    // facts §4.3 "SeaBIOS init sequence seen in the trace".
    let mut m = pc();
    expect(
        &mut m,
        &[
            ("inb 0x64", "OK 0x0018"),
            ("outb 0x64 0xad", "OK"),
            ("outb 0x64 0xa7", "OK"),
            ("outb 0x64 0xaa", "OK"),
            ("inb 0x64", "OK 0x001d"),
            ("inb 0x60", "OK 0x0055"),
            ("outb 0x64 0xab", "OK"),
            ("inb 0x60", "OK 0x0000"),
            ("outb 0x64 0x60", "OK"),
            ("outb 0x60 0x30", "OK"),
            ("outb 0x60 0xff", "OK"),
            ("inb 0x60", "OK 0x00fa"),
            ("inb 0x60", "OK 0x00aa"),
            ("outb 0x60 0xf5", "OK"),
            ("inb 0x60", "OK 0x00fa"),
            ("outb 0x60 0xf0", "OK"),
            ("inb 0x60", "OK 0x00fa"),
            ("outb 0x60 0x02", "OK"),
            ("inb 0x60", "OK 0x00fa"),
            ("outb 0x60 0xf4", "OK"),
            ("inb 0x60", "OK 0x00fa"),
            ("outb 0x64 0x60", "OK"),
            ("outb 0x60 0x61", "OK"),
            ("outb 0x64 0x20", "OK"),
            ("inb 0x60", "OK 0x0061"),
        ],
    );
    // With XLATE|KBDINT set, a key tap raises IRQ1 and arrives translated to set 1.
    send(&mut m, "event i8042 0x02ff"); // any key index: check the make/break pair below
    assert!(
        m.irq_level(models::pc::IRQ_KEYBOARD),
        "IRQ1 while a scancode waits"
    );
    let make = send(&mut m, "inb 0x60");
    let brk = send(&mut m, "inb 0x60");
    let (mk, bk) = (parse(&make), parse(&brk));
    assert_eq!(bk, mk | 0x80, "set-1 break = make | 0x80 ({make} / {brk})");
    assert!(!m.irq_level(models::pc::IRQ_KEYBOARD));
}

fn parse(reply: &str) -> u64 {
    u64::from_str_radix(reply.trim_start_matches("OK 0x"), 16).expect("hex reply")
}

#[test]
fn linux_style_probe_with_intellimouse_detection() {
    let mut m = pc();
    expect(
        &mut m,
        &[
            // i8042_controller_check / flush: nothing pending.
            ("inb 0x64", "OK 0x0018"),
            // Read CTR, self-test, keyboard port test.
            ("outb 0x64 0x20", "OK"),
            ("inb 0x60", "OK 0x0003"),
            ("outb 0x64 0xaa", "OK"),
            ("inb 0x60", "OK 0x0055"),
            ("outb 0x64 0xab", "OK"),
            ("inb 0x60", "OK 0x0000"),
            // AUX loopback test: 0xD3 echoes a byte as aux data.
            ("outb 0x64 0xd3", "OK"),
            ("outb 0x60 0x5a", "OK"),
            ("inb 0x64", "OK 0x003d"),
            ("inb 0x60", "OK 0x005a"),
            ("outb 0x64 0xa9", "OK"),
            ("inb 0x60", "OK 0x0000"),
            // atkbd: reset and identify (translation on by default in the CTR? no: 0x03).
            ("outb 0x60 0xff", "OK"),
            ("inb 0x60", "OK 0x00fa"),
            ("inb 0x60", "OK 0x00aa"),
            ("outb 0x60 0xf2", "OK"),
            ("inb 0x60", "OK 0x00fa"),
            ("inb 0x60", "OK 0x00ab"),
            ("inb 0x60", "OK 0x0083"),
            // psmouse: reset, then the IntelliMouse knock 200, 100, 80 and get-id.
            ("outb 0x64 0xd4", "OK"),
            ("outb 0x60 0xff", "OK"),
            ("inb 0x60", "OK 0x00fa"),
            ("inb 0x60", "OK 0x00aa"),
            ("inb 0x60", "OK 0x0000"),
        ],
    );
    for rate in [200, 100, 80] {
        expect(
            &mut m,
            &[
                ("outb 0x64 0xd4", "OK"),
                ("outb 0x60 0xf3", "OK"),
                ("inb 0x60", "OK 0x00fa"),
                ("outb 0x64 0xd4", "OK"),
                (&format!("outb 0x60 {rate}"), "OK"),
                ("inb 0x60", "OK 0x00fa"),
            ],
        );
    }
    expect(
        &mut m,
        &[
            ("outb 0x64 0xd4", "OK"),
            ("outb 0x60 0xf2", "OK"),
            ("inb 0x60", "OK 0x00fa"),
            ("inb 0x60", "OK 0x0003"),
        ],
    );
}

#[test]
fn reset_pulse_resets_the_machine_after_the_operation() {
    let mut m = pc();
    expect(
        &mut m,
        &[
            ("outb 0x64 0xaa", "OK"),
            ("inb 0x60", "OK 0x0055"),
            ("inb 0x64", "OK 0x001c"),
        ],
    );
    send(&mut m, "outb 0x64 0xfe");
    assert_eq!(
        send(&mut m, "inb 0x64"),
        "OK 0x0018",
        "controller back to power-on state"
    );
}
