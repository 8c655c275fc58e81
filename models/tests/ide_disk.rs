//! The PIIX3 IDE function and its ATA disk on `pc`, driven through qtest as Linux's ata_piix and
//! libata drive them. Expected values are QEMU's (facts §3; [V] = observed on QEMU).

mod common;
use common::{enable_ide, expect, hex, memory, pc, send};
use harness::machine::{Machine, MachineOptions, MachineSpec};
use models::ide::{DiskBacking, DriveConfig, Ide, IdeConfig};
use models::pc::{IRQ_IDE_PRIMARY, IRQ_IDE_SECONDARY};

/// Program LBA28 `lba` and `count` on the primary channel, device 0.
fn taskfile(m: &mut Machine, lba: u32, count: u8) {
    send(m, &format!("outb 0x1f2 {count:#x}"));
    send(m, &format!("outb 0x1f3 {:#x}", lba & 0xff));
    send(m, &format!("outb 0x1f4 {:#x}", (lba >> 8) & 0xff));
    send(m, &format!("outb 0x1f5 {:#x}", (lba >> 16) & 0xff));
    send(m, &format!("outb 0x1f6 {:#x}", 0xe0 | ((lba >> 24) & 0xf)));
}

/// A PRD table of `(address, count, eot)` entries at `table`.
fn prd_table(m: &mut Machine, table: u64, entries: &[(u32, u32, bool)]) {
    let mut bytes = String::new();
    for &(addr, count, eot) in entries {
        let size = count | if eot { 0x8000_0000 } else { 0 };
        for b in addr.to_le_bytes().iter().chain(size.to_le_bytes().iter()) {
            bytes.push_str(&format!("{b:02x}"));
        }
    }
    send(
        m,
        &format!("write {table:#x} {:#x} 0x{bytes}", entries.len() * 8),
    );
}

/// Issue DMA command `cmd` with the PRD table at 0x1000, start the bus master and let the
/// transfer run.
fn run_dma(m: &mut Machine, cmd: u8) {
    let dir = if matches!(cmd, 0xc8 | 0x25) {
        0x08
    } else {
        0x00
    };
    send(m, "outl 0xc004 0x1000");
    send(m, &format!("outb 0x1f7 {cmd:#x}"));
    assert_eq!(
        send(m, "inb 0x3f6"),
        "OK 0x0058",
        "DRQ until the bus master runs"
    );
    send(m, &format!("outb 0xc000 {:#x}", dir | 1));
    send(m, "clock_step");
}

/// DMA command `cmd` on LBA28 `lba` and `count` sectors through a PRD table of `entries` at
/// 0x1000 (see [`prd_table`], [`taskfile`], [`run_dma`]).
fn dma(m: &mut Machine, entries: &[(u32, u32, bool)], lba: u32, count: u8, cmd: u8) {
    prd_table(m, 0x1000, entries);
    taskfile(m, lba, count);
    run_dma(m, cmd);
}

/// Read `words` 16-bit words of PIO data from the primary channel.
fn pio_words(m: &mut Machine, words: usize) -> Vec<u16> {
    (0..words)
        .map(|_| hex(&send(m, "inw 0x1f0")) as u16)
        .collect()
}

#[test]
fn linux_bring_up_of_the_disk() {
    let mut m = pc();
    expect(
        &mut m,
        &[
            // pci_enable_device(): IDs, class, BAR4 sizing.
            ("outl 0xcf8 0x80000900", "OK"),
            ("inl 0xcfc", "OK 0x70108086"),
            ("outl 0xcf8 0x80000908", "OK"),
            ("inl 0xcfc", "OK 0x1018000"),
            ("outl 0xcf8 0x80000920", "OK"),
            ("inl 0xcfc", "OK 0x0001"),
            ("outl 0xcfc 0xffffffff", "OK"),
            ("inl 0xcfc", "OK 0xfffffff1"),
            ("outl 0xcfc 0xc001", "OK"),
            ("outl 0xcf8 0x80000904", "OK"),
            ("outw 0xcfc 0x5", "OK"),
            // ata_bus_softreset() and classification: the ATA signature.
            ("outb 0x3f6 0xa", "OK"),
            ("outb 0x3f6 0xe", "OK"),
            ("outb 0x3f6 0xa", "OK"),
            ("inb 0x3f6", "OK 0x0050"),
            ("outb 0x1f6 0xa0", "OK"),
            ("inb 0x1f2", "OK 0x0001"),
            ("inb 0x1f3", "OK 0x0001"),
            ("inb 0x1f4", "OK 0x0000"),
            ("inb 0x1f5", "OK 0x0000"),
            ("inb 0x1f1", "OK 0x0001"),
            // IDENTIFY DEVICE with interrupts on.
            ("outb 0x3f6 0x8", "OK"),
            ("outb 0x1f7 0xec", "OK"),
            ("inb 0xc002", "OK 0x0004"),
            ("inb 0x1f7", "OK 0x0058"),
            ("outb 0xc002 0x4", "OK"),
        ],
    );
    let id = pio_words(&mut m, 256);
    assert_eq!(id[0], 0x0040);
    assert_eq!((id[49], id[83]), (0x0b00, 0x7400));
    assert_eq!(
        u32::from(id[61]) << 16 | u32::from(id[60]),
        1 << 21,
        "1 GiB"
    );
    assert_eq!(send(&mut m, "inb 0x1f7"), "OK 0x0050");
    // SET FEATURES: MWDMA2, as ata_piix picks for a PIIX3.
    expect(
        &mut m,
        &[
            ("outb 0x1f1 0x3", "OK"),
            ("outb 0x1f2 0x22", "OK"),
            ("outb 0x1f7 0xef", "OK"),
            ("inb 0x1f7", "OK 0x0050"),
        ],
    );
    // READ DMA of the first 8 sectors (the partition table) after writing a signature there.
    send(&mut m, "outb 0x1f7 0xec");
    pio_words(&mut m, 256);
    send(&mut m, "write 0x30000 0x200 0x55aa");
    dma(&mut m, &[(0x30000, 0x200, true)], 0, 1, 0xca);
    send(&mut m, "outb 0xc000 0x0");
    send(&mut m, "outb 0xc002 0x6");
    dma(&mut m, &[(0x20000, 0x1000, true)], 0, 8, 0xc8);
    assert!(m.irq_level(IRQ_IDE_PRIMARY), "IRQ 14 at completion");
    assert!(!m.irq_level(IRQ_IDE_SECONDARY));
    expect(
        &mut m,
        &[
            ("inb 0xc002", "OK 0x0004"),
            ("outb 0xc000 0x8", "OK"),
            ("inb 0x3f6", "OK 0x0050"),
            ("inb 0x1f7", "OK 0x0050"),
            ("outb 0xc002 0x6", "OK"),
            ("inb 0xc002", "OK 0x0000"),
        ],
    );
    assert!(
        !m.irq_level(IRQ_IDE_PRIMARY),
        "acknowledged by the status read"
    );
    assert_eq!(memory(&mut m, 0x20000, 2), [0x55, 0xaa]);
}

#[test]
fn read_dma_of_3_sectors_at_lba_5_leaves_the_taskfile_at_the_next_sector() {
    // facts §3.3 [V]: after READ DMA lba 5 count 3 -> nsect 0, sect 8.
    let mut m = pc();
    enable_ide(&mut m);
    dma(&mut m, &[(0x20000, 0x600, true)], 5, 3, 0xc8);
    expect(
        &mut m,
        &[
            ("inb 0xc002", "OK 0x0004"),
            ("inb 0x1f7", "OK 0x0050"),
            ("inb 0x1f2", "OK 0x0000"),
            ("inb 0x1f3", "OK 0x0008"),
            ("inb 0x1f4", "OK 0x0000"),
            ("inb 0x1f6", "OK 0x00e0"),
        ],
    );
}

#[test]
fn prd_table_shorter_than_the_transfer_moves_nothing_and_does_not_interrupt() {
    // facts §3.4 case 5 [V]: BMISTA 0x00, status 0x50, count registers unchanged.
    let mut m = pc();
    enable_ide(&mut m);
    send(&mut m, "write 0x20000 0x4 0x11223344");
    dma(
        &mut m,
        &[(0x20000, 0x200, false), (0x20200, 0x200, true)],
        5,
        3,
        0xc8,
    );
    assert!(!m.irq_level(IRQ_IDE_PRIMARY));
    expect(
        &mut m,
        &[
            ("inb 0xc002", "OK 0x0000"),
            ("inb 0x1f7", "OK 0x0050"),
            ("inb 0x1f2", "OK 0x0003"),
            ("inb 0x1f3", "OK 0x0005"),
        ],
    );
    assert_eq!(memory(&mut m, 0x20000, 4), [0x11, 0x22, 0x33, 0x44]);
}

#[test]
fn prd_table_longer_than_the_transfer_keeps_active_set() {
    // facts §3.4 case 4 [V]: BMISTA 0x05, an interrupt.
    let mut m = pc();
    enable_ide(&mut m);
    dma(
        &mut m,
        &[(0x20000, 0x400, false), (0x30000, 0x400, true)],
        5,
        3,
        0xc8,
    );
    assert!(m.irq_level(IRQ_IDE_PRIMARY));
    expect(
        &mut m,
        &[
            ("inb 0xc002", "OK 0x0005"),
            ("inb 0x1f7", "OK 0x0050"),
            ("inb 0x1f2", "OK 0x0000"),
            ("outb 0xc000 0x8", "OK"),
            ("inb 0xc002", "OK 0x0004"),
        ],
    );
}

#[test]
fn a_zero_prd_count_is_64k_and_a_page_of_entries_is_the_limit() {
    let mut m = pc();
    enable_ide(&mut m);
    // 128 sectors in one 64 KiB region.
    prd_table(&mut m, 0x1000, &[(0x20000, 0, true)]);
    send(&mut m, "outb 0x1f2 0x80");
    send(&mut m, "outb 0x1f6 0xe0");
    run_dma(&mut m, 0xc8);
    assert_eq!(send(&mut m, "inb 0xc002"), "OK 0x0004");
    assert_eq!(send(&mut m, "inb 0x1f2"), "OK 0x0000");
    // 513 entries of 2 bytes without EOT: only 512 are read, 1 KiB < 3 sectors.
    send(&mut m, "outb 0xc000 0x0");
    send(&mut m, "outb 0xc002 0x6");
    let entries: Vec<(u32, u32, bool)> = (0..513).map(|_| (0x40000, 2, false)).collect();
    dma(&mut m, &entries, 0, 3, 0xc8);
    assert_eq!(
        send(&mut m, "inb 0xc002"),
        "OK 0x0000",
        "short: the table stops at 4 KiB"
    );
    assert_eq!(send(&mut m, "inb 0x1f2"), "OK 0x0003");
}

#[test]
fn write_dma_data_reads_back_by_pio() {
    let mut m = pc();
    enable_ide(&mut m);
    let pattern: String = (0..1024)
        .map(|i| format!("{:02x}", (i * 7 + 3) as u8))
        .collect();
    send(&mut m, &format!("write 0x20000 0x400 0x{pattern}"));
    dma(&mut m, &[(0x20000, 0x400, true)], 100, 2, 0xca);
    assert_eq!(send(&mut m, "inb 0x1f7"), "OK 0x0050");
    // READ SECTORS: BSY while the block is read, then DRQ and an interrupt per sector.
    taskfile(&mut m, 100, 2);
    send(&mut m, "outb 0x3f6 0x8");
    send(&mut m, "outb 0x1f7 0x20");
    assert_eq!(send(&mut m, "inb 0x3f6"), "OK 0x00d0");
    send(&mut m, "clock_step");
    assert!(m.irq_level(IRQ_IDE_PRIMARY));
    assert_eq!(send(&mut m, "inb 0x1f7"), "OK 0x0058");
    let mut back = Vec::new();
    for w in pio_words(&mut m, 256) {
        back.extend_from_slice(&w.to_le_bytes());
    }
    assert_eq!(
        send(&mut m, "inb 0x3f6"),
        "OK 0x00d0",
        "the next sector is being read"
    );
    send(&mut m, "clock_step");
    for _ in 0..128 {
        let v = hex(&send(&mut m, "inl 0x1f0")) as u32;
        back.extend_from_slice(&v.to_le_bytes());
    }
    assert_eq!(send(&mut m, "inb 0x1f7"), "OK 0x0050");
    let expected: Vec<u8> = (0..1024).map(|i| (i * 7 + 3) as u8).collect();
    assert_eq!(back, expected);
    assert_eq!(send(&mut m, "inb 0x1f3"), "OK 0x0066", "LBA 102 next");
}

#[test]
fn pio_write_multiple_then_read_multiple() {
    let mut m = pc();
    // SET MULTIPLE 2; WRITE MULTIPLE of 2 sectors: one DRQ block, one interrupt.
    expect(
        &mut m,
        &[
            ("outb 0x1f2 0x2", "OK"),
            ("outb 0x1f7 0xc6", "OK"),
            ("inb 0x1f7", "OK 0x0050"),
        ],
    );
    taskfile(&mut m, 7, 2);
    send(&mut m, "outb 0x1f7 0xc5");
    assert_eq!(send(&mut m, "inb 0x3f6"), "OK 0x0058", "DRQ at once");
    for i in 0..256u32 {
        send(&mut m, &format!("outl 0x1f0 {i:#x}"));
    }
    assert_eq!(send(&mut m, "inb 0x3f6"), "OK 0x00d0");
    send(&mut m, "clock_step");
    assert_eq!(send(&mut m, "inb 0x1f7"), "OK 0x0050");
    taskfile(&mut m, 7, 2);
    send(&mut m, "outb 0x1f7 0xc4");
    send(&mut m, "clock_step");
    for i in 0..256u64 {
        assert_eq!(hex(&send(&mut m, "inl 0x1f0")), i);
    }
    assert_eq!(send(&mut m, "inb 0x1f7"), "OK 0x0050");
    // A multiple count that is not a power of two aborts.
    send(&mut m, "outb 0x1f2 0x3");
    send(&mut m, "outb 0x1f7 0xc6");
    assert_eq!(send(&mut m, "inb 0x1f7"), "OK 0x0041");
}

fn big_disk() -> MachineSpec {
    let config = IdeConfig {
        drives: [
            [
                Some(DriveConfig::Disk {
                    backing: DiskBacking::Memory { sectors: 1 << 40 },
                    fault: None,
                }),
                None,
            ],
            [None, None],
        ],
    };
    models::pc::build_with(Ide::with_config(&config).expect("in-memory drives"))
}

#[test]
fn lba48_addresses_with_the_hob_bytes() {
    let mut m = Machine::new(big_disk, MachineOptions::default());
    enable_ide(&mut m);
    send(&mut m, "write 0x20000 0x2 0xbeef");
    prd_table(&mut m, 0x1000, &[(0x20000, 0x200, true)]);
    // LBA 0x12_3456_789a, count 0x0001: HOB bytes first, then the low bytes.
    for line in [
        "outb 0x1f2 0x0",
        "outb 0x1f3 0x34",
        "outb 0x1f4 0x12",
        "outb 0x1f5 0x0",
        "outb 0x1f2 0x1",
        "outb 0x1f3 0x9a",
        "outb 0x1f4 0x78",
        "outb 0x1f5 0x56",
        "outb 0x1f6 0x40",
    ] {
        send(&mut m, line);
    }
    run_dma(&mut m, 0x35);
    assert_eq!(send(&mut m, "inb 0x1f7"), "OK 0x0050");
    // The next LBA, 0x12_3456_789b, low bytes and (HOB) high bytes.
    expect(
        &mut m,
        &[
            ("inb 0x1f3", "OK 0x009b"),
            ("inb 0x1f4", "OK 0x0078"),
            ("inb 0x1f5", "OK 0x0056"),
            ("outb 0x3f6 0x80", "OK"),
            ("inb 0x1f3", "OK 0x0034"),
            ("inb 0x1f4", "OK 0x0012"),
            ("inb 0x1f5", "OK 0x0000"),
            ("outb 0x3f6 0x0", "OK"),
        ],
    );
    // READ SECTORS EXT of it by PIO.
    for line in [
        "outb 0x1f2 0x0",
        "outb 0x1f3 0x34",
        "outb 0x1f4 0x12",
        "outb 0x1f5 0x0",
        "outb 0x1f2 0x1",
        "outb 0x1f3 0x9a",
        "outb 0x1f4 0x78",
        "outb 0x1f5 0x56",
        "outb 0x1f6 0x40",
        "outb 0x1f7 0x24",
        "clock_step",
    ] {
        send(&mut m, line);
    }
    assert_eq!(send(&mut m, "inw 0x1f0"), "OK 0xefbe");
    // While DRQ is set a new command is ignored.
    send(&mut m, "outb 0x1f7 0x27");
    assert_eq!(send(&mut m, "inb 0x1f7"), "OK 0x0058");
    pio_words(&mut m, 255);
    assert_eq!(send(&mut m, "inb 0x1f7"), "OK 0x0050");
    // READ NATIVE MAX ADDRESS EXT: 2^40 - 1.
    send(&mut m, "outb 0x1f6 0x40");
    send(&mut m, "outb 0x1f7 0x27");
    expect(
        &mut m,
        &[
            ("inb 0x1f7", "OK 0x0050"),
            ("inb 0x1f3", "OK 0x00ff"),
            ("inb 0x1f5", "OK 0x00ff"),
            ("outb 0x3f6 0x80", "OK"),
            ("inb 0x1f3", "OK 0x00ff"),
            ("inb 0x1f4", "OK 0x00ff"),
            ("inb 0x1f5", "OK 0x0000"),
        ],
    );
    let id = {
        send(&mut m, "outb 0x1f7 0xec");
        pio_words(&mut m, 256)
    };
    assert_eq!(
        &id[100..104],
        &[0, 0, 0x100, 0],
        "IDENTIFY words 100-103: 2^40"
    );
    assert_eq!(u32::from(id[61]) << 16 | u32::from(id[60]), (1 << 28) - 1);
}

#[test]
fn an_injected_medium_error_fails_a_dma_read_before_any_data_moves() {
    let mut m = pc();
    enable_ide(&mut m);
    send(&mut m, "write 0x20000 0x4 0xcafef00d");
    // Sector 6 fails with a medium error.
    send(&mut m, "event piix3-ide 0x0000060000000000000001");
    dma(&mut m, &[(0x20000, 0x600, true)], 5, 3, 0xc8);
    assert!(m.irq_level(IRQ_IDE_PRIMARY));
    expect(
        &mut m,
        &[
            ("inb 0xc002", "OK 0x0004"),
            ("inb 0x1f7", "OK 0x0041"),
            ("inb 0x1f1", "OK 0x0040"),
            ("inb 0x1f2", "OK 0x0003"),
        ],
    );
    assert_eq!(memory(&mut m, 0x20000, 4), [0xca, 0xfe, 0xf0, 0x0d]);
}

#[test]
fn an_injected_io_error_fails_a_dma_write_and_nothing_is_written() {
    let mut m = pc();
    enable_ide(&mut m);
    send(&mut m, "write 0x20000 0x600 0x77");
    send(&mut m, "event piix3-ide 0x000007");
    dma(&mut m, &[(0x20000, 0x600, true)], 5, 3, 0xca);
    expect(
        &mut m,
        &[
            ("inb 0xc002", "OK 0x0004"),
            ("inb 0x1f7", "OK 0x0041"),
            ("inb 0x1f1", "OK 0x0004"),
            ("outb 0xc000 0x0", "OK"),
            ("outb 0xc002 0x6", "OK"),
            ("event piix3-ide 0x0100", "OK"),
        ],
    );
    // Sector 5 (before the failing one) was not written either.
    taskfile(&mut m, 5, 1);
    send(&mut m, "outb 0x1f7 0x20");
    send(&mut m, "clock_step");
    assert_eq!(send(&mut m, "inw 0x1f0"), "OK 0x0000");
}

#[test]
fn a_new_command_while_a_dma_is_pending_is_ignored_and_srst_finishes_it() {
    let mut m = pc();
    enable_ide(&mut m);
    send(&mut m, "write 0x20000 0x2 0x1234");
    prd_table(&mut m, 0x1000, &[(0x20000, 0x200, true)]);
    taskfile(&mut m, 9, 1);
    send(&mut m, "outl 0xc004 0x1000");
    send(&mut m, "outb 0x1f7 0xca");
    send(&mut m, "outb 0xc000 0x1");
    // Pending: the command register and the taskfile ignore writes (LP#1887303's shape).
    expect(
        &mut m,
        &[
            ("outb 0x1f7 0x25", "OK"),
            ("outb 0x1f3 0x77", "OK"),
            ("inb 0x1f3", "OK 0x0009"),
            ("inb 0x3f6", "OK 0x0058"),
        ],
    );
    // SRST: the write completes first, then both units reset.
    expect(
        &mut m,
        &[
            ("outb 0x3f6 0x4", "OK"),
            ("outb 0x3f6 0x0", "OK"),
            ("inb 0x1f7", "OK 0x0050"),
            ("inb 0x1f3", "OK 0x0001"),
            ("inb 0xc002", "OK 0x0004"),
        ],
    );
    assert!(m.clock().armed().is_empty(), "no request left in flight");
    taskfile(&mut m, 9, 1);
    send(&mut m, "outb 0x1f7 0x20");
    send(&mut m, "clock_step");
    assert_eq!(send(&mut m, "inw 0x1f0"), "OK 0x3412");
}

#[test]
fn srst_signatures_of_the_disk_and_of_the_absent_slave() {
    let mut m = pc();
    // Change the registers, then reset the channel.
    send(&mut m, "outb 0x1f3 0x42");
    send(&mut m, "outb 0x1f6 0xe5");
    expect(
        &mut m,
        &[
            ("outb 0x3f6 0x4", "OK"),
            ("outb 0x3f6 0x0", "OK"),
            ("inb 0x1f1", "OK 0x0001"),
            ("inb 0x1f2", "OK 0x0001"),
            ("inb 0x1f3", "OK 0x0001"),
            ("inb 0x1f4", "OK 0x0000"),
            ("inb 0x1f5", "OK 0x0000"),
            ("inb 0x1f6", "OK 0x00a0"),
            ("inb 0x1f7", "OK 0x0050"),
            // The absent slave: Status and Error read 0, the rest its no-device signature
            // (QEMU).
            ("outb 0x1f6 0xb0", "OK"),
            ("inb 0x1f7", "OK 0x0000"),
            ("inb 0x1f1", "OK 0x0000"),
            ("inb 0x1f4", "OK 0x00ff"),
            ("inb 0x1f5", "OK 0x00ff"),
            ("inb 0x1f6", "OK 0x00b0"),
        ],
    );
}

#[test]
fn an_empty_channel_reads_zero_before_and_after_srst() {
    let mut m = Machine::new(models::pc::build_nodisk, MachineOptions::default());
    for port in [0x1f0u16, 0x170] {
        for phase in ["before", "after"] {
            let regs: Vec<String> = (1..8)
                .map(|r| send(&mut m, &format!("inb {:#x}", port + r)))
                .collect();
            assert!(
                regs.iter().all(|r| r == "OK 0x0000"),
                "{port:#x} {phase}: {regs:?}"
            );
            let ctl = if port == 0x1f0 { 0x3f6 } else { 0x376 };
            send(&mut m, &format!("outb {ctl:#x} 0x4"));
            send(&mut m, &format!("outb {ctl:#x} 0x0"));
        }
        send(&mut m, &format!("outb {:#x} 0xec", port + 7));
        assert_eq!(send(&mut m, &format!("inb {:#x}", port + 7)), "OK 0x0000");
    }
    assert!(!m.irq_level(IRQ_IDE_PRIMARY) && !m.irq_level(IRQ_IDE_SECONDARY));
}

#[test]
fn smart_status_and_data_with_its_checksum() {
    let mut m = pc();
    expect(
        &mut m,
        &[
            // Without the signature in LBA Mid/High SMART aborts.
            ("outb 0x1f1 0xda", "OK"),
            ("outb 0x1f7 0xb0", "OK"),
            ("inb 0x1f7", "OK 0x0041"),
            ("outb 0x1f4 0x4f", "OK"),
            ("outb 0x1f5 0xc2", "OK"),
            ("outb 0x1f7 0xb0", "OK"),
            ("inb 0x1f7", "OK 0x0050"),
            ("inb 0x1f4", "OK 0x004f"),
            ("inb 0x1f5", "OK 0x00c2"),
            ("outb 0x1f1 0xd0", "OK"),
            ("outb 0x1f7 0xb0", "OK"),
            ("inb 0x1f7", "OK 0x0058"),
        ],
    );
    let data: Vec<u8> = pio_words(&mut m, 256)
        .iter()
        .flat_map(|w| w.to_le_bytes())
        .collect();
    assert_eq!(data[0], 1, "revision");
    assert_eq!(
        data.iter().fold(0u8, |s, b| s.wrapping_add(*b)),
        0,
        "checksum"
    );
}

#[test]
fn reset_after_disk_traffic_equals_a_fresh_machine() {
    let fresh = pc().state_text();
    let mut m = pc();
    enable_ide(&mut m);
    send(&mut m, "write 0x20000 0x200 0x99");
    dma(&mut m, &[(0x20000, 0x200, true)], 3, 1, 0xca);
    taskfile(&mut m, 3, 4);
    send(&mut m, "outb 0x1f7 0x20");
    send(&mut m, "event piix3-ide 0x000009");
    send(&mut m, "outb 0x1f1 0x3");
    send(&mut m, "outb 0x376 0x2");
    assert_ne!(m.state_text(), fresh);
    m.reset();
    assert_eq!(m.state_text(), fresh);
    // And the written sector is gone: the disk reads zeros again.
    taskfile(&mut m, 3, 1);
    send(&mut m, "outb 0x1f7 0x20");
    send(&mut m, "clock_step");
    assert_eq!(send(&mut m, "inw 0x1f0"), "OK 0x0000");
}

#[test]
fn a_dma_write_cut_by_the_input_work_budget_fails_its_request() {
    // WRITE DMA of 256 sectors through two 64 KiB PRD entries; each 64 KiB moved costs 64 work
    // units. With room for the first half only, the machine cuts the second and the drive
    // aborts the request instead of walking on (the input would end after this operation).
    let write_256 = |work_per_input: Option<u64>| {
        let opts = MachineOptions {
            work_per_input: work_per_input.unwrap_or(u64::MAX),
            ..MachineOptions::default()
        };
        let mut m = Machine::new(models::pc::build, opts);
        enable_ide(&mut m);
        prd_table(&mut m, 0x1000, &[(0x20000, 0, false), (0x30000, 0, true)]);
        send(&mut m, "write 0x20000 0x4 0x11223344");
        taskfile(&mut m, 0, 0);
        let before = m.work_spent();
        run_dma(&mut m, 0xca);
        let status = send(&mut m, "inb 0x1f7");
        let error = send(&mut m, "inb 0x1f1");
        (before, status, error, m.stop_reason())
    };
    let (before, status, error, stop) = write_256(None);
    assert_eq!((status.as_str(), stop), ("OK 0x0050", None), "{error}");
    let (_, status, error, stop) = write_256(Some(before + 40));
    assert_eq!(
        (status.as_str(), error.as_str()),
        ("OK 0x0041", "OK 0x0004"),
        "ERR and ABRT, as for any failed DMA request"
    );
    assert_eq!(stop, Some(harness::machine::StopReason::WorkBudget));
}
