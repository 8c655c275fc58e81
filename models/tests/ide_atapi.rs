//! The ATAPI CD-ROM on the secondary channel of `pc`, driven through qtest as Linux's libata and sr
//! drive it: the PACKET protocol by PIO and DMA, the commands that find and read a medium, sense
//! data, medium changes, resets.

mod common;
use common::{enable_ide, expect, hex, memory, pc, send};
use harness::machine::{Machine, MachineOptions, MachineSpec};
use models::ide::{DriveConfig, Ide, IdeConfig, MediumConfig};
use models::pc::IRQ_IDE_SECONDARY;

/// PACKET with `features` and byte count limit `bcl`, then the 12-byte command packet.
fn packet(m: &mut Machine, cdb: &[u8], features: u8, bcl: u16) {
    let mut p = [0u8; 12];
    p[..cdb.len()].copy_from_slice(cdb);
    send(m, &format!("outb 0x171 {features:#x}"));
    send(m, &format!("outb 0x174 {:#x}", bcl & 0xff));
    send(m, &format!("outb 0x175 {:#x}", bcl >> 8));
    send(m, "outb 0x176 0xa0");
    send(m, "outb 0x177 0xa0");
    assert_eq!(send(m, "inb 0x376"), "OK 0x0058", "DRQ for the packet");
    assert_eq!(
        send(m, "inb 0x172"),
        "OK 0x0001",
        "interrupt reason: command out"
    );
    for w in p.chunks(2) {
        send(
            m,
            &format!("outw 0x170 {:#x}", u16::from(w[0]) | u16::from(w[1]) << 8),
        );
    }
}

/// Read one PIO data block: its byte count from LBA Mid/High, then the bytes.
fn data_block(m: &mut Machine) -> Vec<u8> {
    assert_eq!(send(m, "inb 0x177"), "OK 0x0058");
    assert_eq!(
        send(m, "inb 0x172"),
        "OK 0x0002",
        "interrupt reason: data in"
    );
    let n = (hex(&send(m, "inb 0x174")) | hex(&send(m, "inb 0x175")) << 8) as usize;
    let mut out = Vec::new();
    for _ in 0..n.div_ceil(2) {
        out.extend_from_slice(&(hex(&send(m, "inw 0x170")) as u16).to_le_bytes());
    }
    out.truncate(n);
    out
}

/// The command completed: status 0x50, interrupt reason "command in".
fn completed(m: &mut Machine) {
    assert_eq!(send(m, "inb 0x177"), "OK 0x0050");
    assert_eq!(send(m, "inb 0x172"), "OK 0x0003");
}

/// Run packet command `cdb` by DMA through the one PRD entry `prd` (its 8 bytes as a qtest
/// number) at 0x1000: table address, PACKET, bus master started, then the transfer.
fn dma_command(m: &mut Machine, prd: &str, cdb: &[u8]) {
    send(m, &format!("write 0x1000 0x8 {prd}"));
    send(m, "outl 0xc00c 0x1000");
    packet(m, cdb, 1, 0);
    send(m, "outb 0xc008 0x9");
    send(m, "clock_step");
}

/// A packet command with a PIO reply of one block.
fn pio_command(m: &mut Machine, cdb: &[u8]) -> Vec<u8> {
    packet(m, cdb, 0, 0x800);
    let data = data_block(m);
    completed(m);
    data
}

/// The command failed: CHECK CONDITION; returns the (sense key, ASC) from REQUEST SENSE (QEMU
/// reports no qualifier: byte 13 is 0, byte 0 has the valid bit).
fn check_condition(m: &mut Machine) -> (u8, u8) {
    assert_eq!(send(m, "inb 0x177"), "OK 0x0041");
    let key = hex(&send(m, "inb 0x171")) as u8 >> 4;
    let sense = pio_command(m, &[0x03, 0, 0, 0, 18]);
    assert_eq!(sense[0], 0xf0);
    assert_eq!(sense[2], key, "ERROR bits 7:4 = sense key");
    assert_eq!(sense[13], 0);
    (sense[2], sense[12])
}

#[test]
fn linux_bring_up_of_the_cdrom() {
    let mut m = pc();
    enable_ide(&mut m);
    // Softreset and classification: the ATAPI signature, status 0 (facts §3.2 [V]).
    expect(
        &mut m,
        &[
            ("outb 0x376 0xa", "OK"),
            ("outb 0x376 0xe", "OK"),
            ("outb 0x376 0xa", "OK"),
            ("inb 0x177", "OK 0x0000"),
            ("inb 0x172", "OK 0x0001"),
            ("inb 0x173", "OK 0x0001"),
            ("inb 0x174", "OK 0x0014"),
            ("inb 0x175", "OK 0x00eb"),
            ("inb 0x171", "OK 0x0001"),
            // IDENTIFY DEVICE is aborted by a packet device; IDENTIFY PACKET DEVICE answers.
            ("outb 0x376 0x8", "OK"),
            ("outb 0x177 0xec", "OK"),
            ("inb 0x177", "OK 0x0041"),
            ("outb 0x177 0xa1", "OK"),
            ("inb 0xc00a", "OK 0x0004"),
            ("inb 0x177", "OK 0x0058"),
        ],
    );
    let id: Vec<u16> = (0..256)
        .map(|_| hex(&send(&mut m, "inw 0x170")) as u16)
        .collect();
    assert_eq!(id[0], 0x85c0, "ATAPI CD-ROM, removable, 12-byte packets");
    assert_eq!(id[49], 0x0300, "LBA and DMA");
    assert_eq!(&id[27..29], &[0x5145, 0x4d55], "QEMU DVD-ROM");
    // TEST UNIT READY: no data.
    packet(&mut m, &[0x00], 0, 0);
    assert!(m.irq_level(IRQ_IDE_SECONDARY));
    completed(&mut m);
    // INQUIRY.
    let inquiry = pio_command(&mut m, &[0x12, 0, 0, 0, 36]);
    assert_eq!(inquiry.len(), 36);
    assert_eq!(&inquiry[..2], &[0x05, 0x80], "CD/DVD, removable");
    assert_eq!(&inquiry[8..16], b"QEMU    ");
    assert_eq!(&inquiry[16..32], b"QEMU DVD-ROM    ");
    // READ CAPACITY: 1024 sectors of 2048 bytes.
    let capacity = pio_command(&mut m, &[0x25]);
    assert_eq!(capacity, [0, 0, 0x03, 0xff, 0, 0, 0x08, 0]);
    // READ(10) of sector 16 by DMA: the ISO 9660 primary volume descriptor.
    send(&mut m, "write 0x1000 0x8 0x0000030000080080");
    send(&mut m, "outl 0xc00c 0x1000");
    send(&mut m, "outb 0xc008 0x8");
    packet(&mut m, &[0x28, 0, 0, 0, 0, 16, 0, 0, 1], 1, 0);
    assert_eq!(
        send(&mut m, "inb 0x376"),
        "OK 0x00d8",
        "BSY and DRQ until the transfer ends (QEMU)"
    );
    send(&mut m, "outb 0xc008 0x9");
    send(&mut m, "clock_step");
    assert!(m.irq_level(IRQ_IDE_SECONDARY));
    assert_eq!(send(&mut m, "inb 0xc00a"), "OK 0x0004");
    send(&mut m, "outb 0xc008 0x8");
    completed(&mut m);
    assert_eq!(memory(&mut m, 0x30000, 6), b"\x01CD001");
}

#[test]
fn pio_read_blocks_follow_the_byte_count_limit_across_sectors() {
    let mut m = pc();
    packet(&mut m, &[0x28, 0, 0, 0, 0, 16, 0, 0, 2], 0, 0x300);
    assert_eq!(
        send(&mut m, "inb 0x376"),
        "OK 0x00d0",
        "BSY while the sector is read"
    );
    let mut sizes = Vec::new();
    let mut data = Vec::new();
    loop {
        if send(&mut m, "inb 0x376") == "OK 0x00d0" {
            send(&mut m, "clock_step");
        }
        if send(&mut m, "inb 0x376") != "OK 0x0058" {
            break;
        }
        let block = data_block(&mut m);
        sizes.push(block.len());
        data.extend(block);
    }
    completed(&mut m);
    // A DRQ block spans sectors; the next sector is read within it (QEMU [V]).
    assert_eq!(sizes, [0x300, 0x300, 0x300, 0x300, 0x300, 0x100]);
    assert_eq!(&data[..6], b"\x01CD001");
    assert_eq!(&data[2048..2054], b"\xffCD001");
}

#[test]
fn odd_allocation_lengths_are_padded_to_a_word() {
    let mut m = pc();
    let inquiry = pio_command(&mut m, &[0x12, 0, 0, 0, 5]);
    assert_eq!(inquiry, [0x05, 0x80, 0x00, 0x21, 31]);
}

#[test]
fn a_read_past_the_end_of_the_medium_is_an_illegal_request() {
    let mut m = pc();
    packet(&mut m, &[0x28, 0, 0, 0, 0x03, 0xff, 0, 0, 2], 0, 0x800);
    assert_eq!(check_condition(&mut m), (0x05, 0x21));
    packet(
        &mut m,
        &[0xa8, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1],
        0,
        0x800,
    );
    assert_eq!(check_condition(&mut m), (0x05, 0x21));
    // A transfer length of 0 reads nothing, wherever it points.
    packet(&mut m, &[0x28, 0, 0xff, 0xff, 0xff, 0xff], 0, 0x800);
    completed(&mut m);
}

#[test]
fn unknown_packet_commands_report_invalid_opcode() {
    let mut m = pc();
    packet(&mut m, &[0xff], 0, 0x800);
    assert_eq!(check_condition(&mut m), (0x05, 0x20));
    // The sense stays until the next error, successful commands between (QEMU).
    packet(&mut m, &[0x00], 0, 0);
    completed(&mut m);
    assert_eq!(pio_command(&mut m, &[0x03, 0, 0, 0, 18])[12], 0x20);
    // A data command with a byte count limit of 0 is aborted at the ATA level, silently.
    packet(&mut m, &[0x12, 0, 0, 0, 36], 0, 0);
    assert_eq!(send(&mut m, "inb 0x177"), "OK 0x0041");
    assert_eq!(send(&mut m, "inb 0x171"), "OK 0x0004");
    assert!(!m.irq_level(IRQ_IDE_SECONDARY));
}

fn empty_drive() -> MachineSpec {
    let mut config = IdeConfig::default();
    config.drives[1][0] = Some(DriveConfig::Cdrom {
        medium: MediumConfig::None,
        fault: None,
    });
    models::pc::build_with(Ide::with_config(&config).expect("no files"))
}

#[test]
fn without_a_medium_commands_that_need_one_are_not_ready() {
    let mut m = Machine::new(empty_drive, MachineOptions::default());
    packet(&mut m, &[0x00], 0, 0);
    assert_eq!(check_condition(&mut m), (0x02, 0x3a));
    packet(&mut m, &[0x25], 0, 0x800);
    assert_eq!(check_condition(&mut m), (0x02, 0x3a));
    // INQUIRY and GET CONFIGURATION still answer; the current profile is none.
    assert_eq!(pio_command(&mut m, &[0x12, 0, 0, 0, 36])[0], 0x05);
    let config = pio_command(&mut m, &[0x46, 0, 0, 0, 0, 0, 0, 0, 8]);
    assert_eq!(&config[6..8], &[0, 0]);
}

#[test]
fn eject_close_and_unit_attention() {
    let mut m = pc();
    // Locked: eject is refused (NOT READY while a medium is in, as QEMU says).
    packet(&mut m, &[0x1e, 0, 0, 0, 1], 0, 0);
    completed(&mut m);
    packet(&mut m, &[0x1b, 0, 0, 0, 0x02], 0, 0);
    assert_eq!(check_condition(&mut m), (0x02, 0x53));
    packet(&mut m, &[0x1e], 0, 0);
    completed(&mut m);
    // Eject: the tray opens, the medium is gone for the guest.
    packet(&mut m, &[0x1b, 0, 0, 0, 0x02], 0, 0);
    completed(&mut m);
    packet(&mut m, &[0x00], 0, 0);
    assert_eq!(check_condition(&mut m), (0x02, 0x3a));
    // Load: the tray closes and the medium is back.
    packet(&mut m, &[0x1b, 0, 0, 0, 0x03], 0, 0);
    completed(&mut m);
    packet(&mut m, &[0x00], 0, 0);
    completed(&mut m);
    // The user ejects (the medium is taken out, an interrupt), then closes the tray with it
    // put back: the next command sees NOT READY, the one after UNIT ATTENTION, then ready;
    // GESN reports new media once.
    send(&mut m, "event piix3-ide 0x0202");
    assert!(m.irq_level(IRQ_IDE_SECONDARY));
    let gesn = pio_command(&mut m, &[0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8]);
    assert_eq!(gesn, [0, 4, 4, 0x10, 0, 1, 0, 0], "tray open");
    send(&mut m, "event piix3-ide 0x0202");
    packet(&mut m, &[0x00], 0, 0);
    assert_eq!(check_condition(&mut m), (0x02, 0x3a));
    packet(&mut m, &[0x00], 0, 0);
    assert_eq!(check_condition(&mut m), (0x06, 0x28));
    packet(&mut m, &[0x00], 0, 0);
    completed(&mut m);
    let gesn = pio_command(&mut m, &[0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8]);
    assert_eq!(gesn, [0, 4, 4, 0x10, 2, 2, 0, 0]);
    let gesn = pio_command(&mut m, &[0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8]);
    assert_eq!(gesn[4], 0, "reported once");
    // GESN without the polled bit is refused.
    packet(&mut m, &[0x4a, 0, 0, 0, 0x10, 0, 0, 0, 8], 0, 0x800);
    assert_eq!(check_condition(&mut m), (0x05, 0x24));
}

#[test]
fn a_pending_unit_attention_fails_other_commands_until_request_sense() {
    let mut m = pc();
    send(&mut m, "event piix3-ide 0x0202");
    send(&mut m, "event piix3-ide 0x0202");
    packet(&mut m, &[0x00], 0, 0);
    assert_eq!(check_condition(&mut m), (0x02, 0x3a));
    packet(&mut m, &[0x25], 0, 0x800);
    assert_eq!(send(&mut m, "inb 0x177"), "OK 0x0041");
    assert_eq!(send(&mut m, "inb 0x171"), "OK 0x0060");
    // QEMU's CHECK CONDITION for the pending unit attention: status ERR only, MC in ERROR.
    packet(&mut m, &[0x00], 0, 0);
    assert_eq!(send(&mut m, "inb 0x177"), "OK 0x0001");
    assert_eq!(send(&mut m, "inb 0x171"), "OK 0x0068");
    assert_eq!(send(&mut m, "inb 0x172"), "OK 0x0000");
    // REQUEST SENSE reports it and clears the key (the ASC stays).
    let sense = pio_command(&mut m, &[0x03, 0, 0, 0, 18]);
    assert_eq!((sense[2], sense[12]), (0x06, 0x28));
    let sense = pio_command(&mut m, &[0x03, 0, 0, 0, 18]);
    assert_eq!((sense[2], sense[12]), (0x00, 0x28));
    packet(&mut m, &[0x00], 0, 0);
    completed(&mut m);
}

#[test]
fn read_toc_mode_sense_and_get_configuration() {
    let mut m = pc();
    let toc = pio_command(&mut m, &[0x43, 0, 0, 0, 0, 0, 0, 0, 20]);
    assert_eq!(
        toc,
        [
            0, 18, 1, 1, 0, 0x14, 1, 0, 0, 0, 0, 0, 0, 0x16, 0xaa, 0, 0, 0, 4, 0
        ]
    );
    let toc_msf = pio_command(&mut m, &[0x43, 2, 0, 0, 0, 0, 0, 0, 20]);
    assert_eq!(&toc_msf[8..12], &[0, 0, 2, 0], "track 1 at 00:02:00");
    // The format is in bits 7:6 of the last byte (byte 2 is ignored, as QEMU does).
    let session = pio_command(&mut m, &[0x43, 0, 0, 0, 0, 0, 0, 0, 12, 0x40]);
    assert_eq!(session, [0, 0x0a, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    let mode = pio_command(&mut m, &[0x5a, 0, 0x2a, 0, 0, 0, 0, 0, 64]);
    assert_eq!(&mode[..2], &[0, 28]);
    assert_eq!(&mode[8..10], &[0x2a, 0x14]);
    packet(&mut m, &[0x5a, 0, 0xea, 0, 0, 0, 0, 0, 64], 0, 0x800);
    assert_eq!(check_condition(&mut m), (0x05, 0x39), "saved values");
    packet(&mut m, &[0x5a, 0, 0x3f, 0, 0, 0, 0, 0, 64], 0, 0x800);
    assert_eq!(check_condition(&mut m), (0x05, 0x24), "no all-pages page");
    let config = pio_command(&mut m, &[0x46, 2, 0, 0, 0, 0, 0, 0, 64]);
    assert_eq!(config.len(), 20, "header and the profile list");
    assert_eq!(&config[6..8], &[0, 0x08], "current profile: CD-ROM");
    assert_eq!(&config[12..20], &[0, 0x10, 0, 0, 0, 0x08, 1, 0]);
    packet(&mut m, &[0x46, 2, 0, 1, 0, 0, 0, 0, 64], 0, 0x800);
    assert_eq!(check_condition(&mut m), (0x05, 0x24), "only from feature 0");
}

#[test]
fn atapi_dma_with_a_short_prd_table_ends_without_an_interrupt() {
    let mut m = pc();
    enable_ide(&mut m);
    dma_command(
        &mut m,
        "0x0000030000040080",
        &[0x28, 0, 0, 0, 0, 16, 0, 0, 1],
    );
    assert!(!m.irq_level(IRQ_IDE_SECONDARY));
    // The table's bytes are filled, ACTIVE clears, the drive keeps BSY|DRQ (QEMU [V]).
    expect(
        &mut m,
        &[("inb 0xc00a", "OK 0x0000"), ("inb 0x177", "OK 0x00d8")],
    );
    assert_eq!(memory(&mut m, 0x30000, 6), b"\x01CD001");
}

#[test]
fn an_injected_medium_error_is_a_medium_error_sense() {
    let mut m = pc();
    enable_ide(&mut m);
    send(&mut m, "event piix3-ide 0x0002110000000000000001");
    // By DMA: CHECK CONDITION, an interrupt, ACTIVE clear (no BMISTA.ERROR, as in QEMU).
    dma_command(
        &mut m,
        "0x0000030000000080",
        &[0x28, 0, 0, 0, 0, 16, 0, 0, 2],
    );
    assert_eq!(send(&mut m, "inb 0xc00a"), "OK 0x0004");
    send(&mut m, "outb 0xc008 0x0");
    assert_eq!(check_condition(&mut m), (0x03, 0x11));
    // By PIO: sector 16 arrives, sector 17 fails.
    packet(&mut m, &[0x28, 0, 0, 0, 0, 16, 0, 0, 2], 0, 0x800);
    send(&mut m, "clock_step");
    assert_eq!(data_block(&mut m).len(), 2048);
    send(&mut m, "clock_step");
    assert_eq!(check_condition(&mut m), (0x03, 0x11));
}

#[test]
fn device_reset_while_a_command_waits_and_srst_signature() {
    let mut m = pc();
    // A PACKET waits for its command packet (DRQ): DEVICE RESET is still accepted.
    send(&mut m, "outb 0x177 0xa0");
    expect(
        &mut m,
        &[
            ("inb 0x177", "OK 0x0058"),
            ("outb 0x177 0x8", "OK"),
            ("inb 0x177", "OK 0x0000"),
            ("inb 0x171", "OK 0x0000"),
            ("inb 0x174", "OK 0x0014"),
            ("inb 0x175", "OK 0x00eb"),
        ],
    );
    assert!(
        !m.irq_level(IRQ_IDE_SECONDARY),
        "DEVICE RESET does not interrupt"
    );
    // SRST in the middle of a PIO reply.
    packet(&mut m, &[0x12, 0, 0, 0, 36], 0, 0x800);
    expect(
        &mut m,
        &[
            ("inb 0x177", "OK 0x0058"),
            ("outb 0x376 0x4", "OK"),
            ("outb 0x376 0x0", "OK"),
            ("inb 0x177", "OK 0x0000"),
            ("inb 0x172", "OK 0x0001"),
            ("inb 0x174", "OK 0x0014"),
            ("inw 0x170", "OK 0x0000"),
        ],
    );
}

#[test]
fn reset_after_cdrom_traffic_equals_a_fresh_machine() {
    let fresh = pc().state_text();
    let mut m = pc();
    enable_ide(&mut m);
    packet(&mut m, &[0x1e, 0, 0, 0, 1], 0, 0);
    completed(&mut m);
    pio_command(&mut m, &[0x03, 0, 0, 0, 18]);
    // A completed read leaves where the next one would start.
    packet(&mut m, &[0x28, 0, 0, 0, 0, 16, 0, 0, 1], 0, 0x800);
    send(&mut m, "clock_step");
    assert_eq!(&data_block(&mut m)[..6], b"\x01CD001");
    completed(&mut m);
    send(&mut m, "event piix3-ide 0x0002050000000000000001");
    send(&mut m, "outb 0x176 0xa0");
    send(&mut m, "outb 0x171 0x3");
    send(&mut m, "outb 0x172 0x45");
    send(&mut m, "outb 0x177 0xef");
    packet(&mut m, &[0x28, 0, 0, 0, 0, 1, 0, 0, 4], 1, 0);
    send(&mut m, "outb 0xc008 0x9");
    assert_ne!(m.state_text(), fresh);
    m.reset();
    assert_eq!(m.state_text(), fresh);
}
