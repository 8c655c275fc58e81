//! PCI enumeration of the `pc` machine through configuration mechanism #1, as firmware does it.

mod common;
use common::{expect, pc, send};

#[test]
fn functions_answer_with_qemu_ids_and_absent_slots_read_all_ones() {
    let mut m = pc();
    expect(
        &mut m,
        &[
            ("outl 0xcf8 0x80000000", "OK"),
            ("inl 0xcfc", "OK 0x12378086"),
            ("inw 0xcfe", "OK 0x1237"),
            ("outl 0xcf8 0x80000008", "OK"),
            ("inl 0xcfc", "OK 0x6000002"),
            ("outl 0xcf8 0x8000080c", "OK"),
            ("inb 0xcfe", "OK 0x0080"),
            ("outl 0xcf8 0x80000b00", "OK"),
            ("inl 0xcfc", "OK 0x71138086"),
            ("outl 0xcf8 0x80000b3c", "OK"),
            ("inb 0xcfd", "OK 0x0001"),
            ("outl 0xcf8 0x80002000", "OK"),
            ("inl 0xcfc", "OK 0xffffffff"),
            ("outl 0xcf8 0x80000900", "OK"),
            ("inl 0xcfc", "OK 0x70108086"),
            ("outl 0xcf8 0x80000a00", "OK"),
            ("inl 0xcfc", "OK 0xffffffff"),
        ],
    );
}

#[test]
fn the_enable_bit_gates_config_data_and_only_dword_writes_latch_the_address() {
    let mut m = pc();
    expect(
        &mut m,
        &[
            ("outl 0xcf8 0x00000000", "OK"),
            ("inl 0xcfc", "OK 0xffffffff"),
            ("outl 0xcf8 0x80000000", "OK"),
            ("outw 0xcf8 0x0008", "OK"),
            ("inl 0xcf8", "OK 0x80000000"),
            ("inl 0xcfc", "OK 0x12378086"),
        ],
    );
}

#[test]
fn bar_sizing_of_chipset_functions_reads_zero_and_restores() {
    // Every BAR of the chipset functions is unimplemented: the sizing write reads back 0
    // (facts §5.3 "all others -> 0x0").
    let mut m = pc();
    for dev in [0x80000000u32, 0x80000800, 0x80000b00] {
        for bar in (0x10..=0x24).step_by(4) {
            send(&mut m, &format!("outl 0xcf8 {:#x}", dev | bar));
            assert_eq!(send(&mut m, "inl 0xcfc"), "OK 0x0000");
            send(&mut m, "outl 0xcfc 0xffffffff");
            assert_eq!(send(&mut m, "inl 0xcfc"), "OK 0x0000");
        }
    }
}

#[test]
fn seabios_chipset_programming_sticks() {
    // facts §5.3 assignments: PAM, SMRAM, PIRQ routes, PM base, command register.
    let mut m = pc();
    expect(
        &mut m,
        &[
            ("outl 0xcf8 0x80000058", "OK"),
            ("outl 0xcfc 0x11111000", "OK"),
            ("inl 0xcfc", "OK 0x11111000"),
            ("outl 0xcf8 0x80000870", "OK"),
            ("outl 0xcf8 0x80000860", "OK"),
            ("outl 0xcfc 0x0b0b0a0a", "OK"),
            ("inl 0xcfc", "OK 0xb0b0a0a"),
            ("outl 0xcf8 0x80000b40", "OK"),
            ("outl 0xcfc 0x601", "OK"),
            ("inl 0xcfc", "OK 0x0601"),
            ("outl 0xcf8 0x80000b04", "OK"),
            ("outw 0xcfc 0x103", "OK"),
            ("inw 0xcfc", "OK 0x0103"),
        ],
    );
}

#[test]
fn qemu_low_address_bits_select_unaligned_config_bytes() {
    // facts §5.1: CF8=0x80000003 then a dword read returns config bytes 3..6.
    let mut m = pc();
    expect(
        &mut m,
        &[("outl 0xcf8 0x80000002", "OK"), ("inw 0xcfc", "OK 0x1237")],
    );
}
