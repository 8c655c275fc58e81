//! Unit tests of the IDE function with no machine around it (facts §3; [V] = observed on QEMU).

use super::*;
use harness::testing::TestContext;

const B1: AccessSize = AccessSize::B1;
const B2: AccessSize = AccessSize::B2;
const B4: AccessSize = AccessSize::B4;

struct Bench {
    dev: Ide,
    ctx: TestContext,
}

impl Bench {
    fn new() -> Self {
        Self {
            dev: Ide::new(),
            ctx: TestContext::new(1 << 20),
        }
    }

    fn outb(&mut self, region: RegionId, offset: u64, value: u8) {
        self.dev
            .write(&mut self.ctx, region, offset, B1, u64::from(value));
    }

    fn inb(&mut self, region: RegionId, offset: u64) -> u8 {
        self.dev.read(&mut self.ctx, region, offset, B1) as u8
    }

    fn inw(&mut self, region: RegionId) -> u16 {
        self.dev.read(&mut self.ctx, region, 0, B2) as u16
    }

    /// Fire the channel's timer, as a clock step past the request latency does.
    fn complete_io(&mut self, channel: u16) {
        self.ctx.now += IO_LATENCY_NS;
        self.ctx.timers.remove(&TimerId(channel));
        self.dev.timer(&mut self.ctx, TimerId(channel));
    }

    fn identify(&mut self) -> [u16; 256] {
        self.outb(PRIMARY_CMD_REGION, 6, 0xa0);
        self.outb(PRIMARY_CMD_REGION, 7, 0xec);
        let mut w = [0u16; 256];
        for word in &mut w {
            *word = self.inw(PRIMARY_CMD_REGION);
        }
        w
    }

    fn prd(&mut self, at: usize, addr: u32, count: u32) {
        self.ctx.ram[at..at + 4].copy_from_slice(&addr.to_le_bytes());
        self.ctx.ram[at + 4..at + 8].copy_from_slice(&count.to_le_bytes());
    }

    /// READ DMA (or WRITE DMA) of `count` sectors at LBA `lba` on the primary master, with the
    /// PRD table at `table`, the bus master started, and the transfer run.
    fn dma(&mut self, cmd: u8, lba: u32, count: u8, table: u32) {
        self.dev
            .write(&mut self.ctx, BMDMA_REGION, 4, B4, u64::from(table));
        self.outb(PRIMARY_CMD_REGION, 2, count);
        self.outb(PRIMARY_CMD_REGION, 3, lba as u8);
        self.outb(PRIMARY_CMD_REGION, 4, (lba >> 8) as u8);
        self.outb(PRIMARY_CMD_REGION, 5, (lba >> 16) as u8);
        self.outb(PRIMARY_CMD_REGION, 6, 0xe0 | (lba >> 24) as u8 & 0xf);
        self.outb(PRIMARY_CMD_REGION, 7, cmd);
        let dir = if cmd == 0xc8 { 0x08 } else { 0x00 };
        self.outb(BMDMA_REGION, 0, dir | 1);
        self.complete_io(0);
    }
}

#[test]
fn pci_header_matches_qemu() {
    // facts §3.1: 8086:7010, class 0x01018000 rev 0, status 0x0280, BAR4 reset 1.
    let dev = Ide::new();
    let cfg = dev.pci().unwrap();
    assert_eq!(cfg.read(0x00, B4), 0x7010_8086);
    assert_eq!(cfg.read(0x04, B4), 0x0280_0000);
    assert_eq!(cfg.read(0x08, B4), 0x0101_8000);
    assert_eq!(cfg.read(0x20, B4), 0x0000_0001);
    assert_eq!(cfg.read(0x3d, B1), 0, "no PCI interrupt pin: IRQ 14/15");
    let mut cfg = cfg.clone();
    for bar in 0..6u8 {
        cfg.write(0x10 + 4 * bar, B4, 0xffff_ffff);
    }
    assert_eq!(cfg.read(0x20, B4), 0xffff_fff1, "BAR4 sizing");
    assert_eq!(cfg.read(0x10, B4), 0, "BAR0-3 unused");
    cfg.write(IDETIM_PRIMARY, B2, 0x8000);
    assert_eq!(cfg.read(IDETIM_PRIMARY, B2), 0x8000);
}

#[test]
fn power_on_reads_0x50_and_the_signatures_srst_runs_the_diagnostic() {
    // QEMU's ide_reset: error 0, status 0x50 for every drive (a packet device too), then the
    // signature; SRST adds the diagnostic: error 0x01, a packet device's status 0.
    let mut b = Bench::new();
    let regs: Vec<u8> = (1..8).map(|r| b.inb(PRIMARY_CMD_REGION, r)).collect();
    assert_eq!(regs, [0x00, 0x01, 0x01, 0x00, 0x00, 0xa0, 0x50]);
    let regs: Vec<u8> = (1..8).map(|r| b.inb(SECONDARY_CMD_REGION, r)).collect();
    assert_eq!(regs, [0x00, 0x01, 0x01, 0x14, 0xeb, 0xa0, 0x50]);
    for ctl in [PRIMARY_CTL_REGION, SECONDARY_CTL_REGION] {
        b.outb(ctl, 0, 0x0e);
        b.outb(ctl, 0, 0x0a);
    }
    let regs: Vec<u8> = (1..8).map(|r| b.inb(PRIMARY_CMD_REGION, r)).collect();
    assert_eq!(regs, [0x01, 0x01, 0x01, 0x00, 0x00, 0xa0, 0x50]);
    let regs: Vec<u8> = (1..8).map(|r| b.inb(SECONDARY_CMD_REGION, r)).collect();
    assert_eq!(regs, [0x01, 0x01, 0x01, 0x14, 0xeb, 0xa0, 0x00]);
    // The absent slave: Error and Status read 0, the rest of its taskfile reads back what the
    // channel was written, and its signature after a reset (QEMU).
    b.outb(PRIMARY_CMD_REGION, 6, 0xb0);
    assert_eq!(b.inb(PRIMARY_CMD_REGION, 7), 0);
    assert_eq!(b.inb(PRIMARY_CTL_REGION, 0), 0);
    assert_eq!(b.inb(PRIMARY_CMD_REGION, 1), 0);
    assert_eq!(b.inb(PRIMARY_CMD_REGION, 4), 0xff, "no-device signature");
    b.outb(PRIMARY_CMD_REGION, 2, 0x55);
    assert_eq!(b.inb(PRIMARY_CMD_REGION, 2), 0x55);
    assert_eq!(b.inb(PRIMARY_CMD_REGION, 6), 0xb0);
}

#[test]
fn identify_block_has_capacity_strings_and_modes() {
    let mut b = Bench::new();
    let w = b.identify();
    assert_eq!(w[0], 0x0040);
    assert_eq!((w[1], w[3], w[6]), (2080, 16, 63));
    // "QM00001" byte-swapped per word.
    assert_eq!(&w[10..14], &[0x514d, 0x3030, 0x3030, 0x3120]);
    assert_eq!(&w[27..29], &[0x5145, 0x4d55], "QEMU HARDDISK");
    assert_eq!((w[47], w[49], w[53]), (0x8010, 0x0b00, 0x0007));
    assert_eq!(u32::from(w[61]) << 16 | u32::from(w[60]), 1 << 21);
    assert_eq!((w[62], w[63], w[88]), (0x0007, 0x0007, 0x203f));
    assert_eq!(
        (w[80], w[83], w[86], w[93]),
        (0x00f0, 0x7400, 0x3400, 0x6001)
    );
    assert_eq!(w[100], 0);
    assert_eq!(w[101], 0x20);
    assert_eq!(b.inb(PRIMARY_CMD_REGION, 7), 0x50, "after the last word");
}

#[test]
fn identify_raises_irq14_and_sets_bmista_interrupt() {
    // facts §3.4 [V]: BMISTA = 0x04 after IDENTIFY.
    let mut b = Bench::new();
    b.outb(PRIMARY_CMD_REGION, 7, 0xec);
    assert!(b.ctx.irq_level(IRQ_PRIMARY_PIN));
    assert_eq!(b.inb(BMDMA_REGION, 2), 0x04);
    assert_eq!(b.inb(PRIMARY_CTL_REGION, 0), 0x58);
    assert!(
        b.ctx.irq_level(IRQ_PRIMARY_PIN),
        "alternate status does not acknowledge"
    );
    assert_eq!(b.inb(PRIMARY_CMD_REGION, 7), 0x58);
    assert!(!b.ctx.irq_level(IRQ_PRIMARY_PIN), "status acknowledges");
}

#[test]
fn nien_masks_the_line_and_the_bmista_interrupt() {
    let mut b = Bench::new();
    b.outb(PRIMARY_CTL_REGION, 0, 0x02);
    b.outb(PRIMARY_CMD_REGION, 7, 0xec);
    assert!(!b.ctx.irq_level(IRQ_PRIMARY_PIN));
    assert_eq!(b.inb(BMDMA_REGION, 2), 0);
    b.outb(PRIMARY_CTL_REGION, 0, 0x00);
    assert!(b.ctx.irq_level(IRQ_PRIMARY_PIN), "the pending INTRQ shows");
}

#[test]
fn set_features_transfer_mode_updates_identify_words() {
    // facts §3.3 [V]: 0x45 -> w88 0x203F; 0x22 -> w63 0x0407, w88 0x003F. As in QEMU, SET
    // FEATURES patches the block the first IDENTIFY built: one before it is lost.
    let mut b = Bench::new();
    b.outb(PRIMARY_CMD_REGION, 1, 0x03);
    b.outb(PRIMARY_CMD_REGION, 2, 0x22);
    b.outb(PRIMARY_CMD_REGION, 7, 0xef);
    let w = b.identify();
    assert_eq!((w[62], w[63], w[88]), (0x0007, 0x0007, 0x203f));
    for (mode, words) in [
        (0x22u8, (0x0007u16, 0x0407u16, 0x003fu16)),
        (0x45, (0x0007, 0x0007, 0x203f)),
        (0x12, (0x0407, 0x0007, 0x003f)),
        (0x0c, (0x0007, 0x0007, 0x003f)),
    ] {
        b.outb(PRIMARY_CMD_REGION, 1, 0x03);
        b.outb(PRIMARY_CMD_REGION, 2, mode);
        b.outb(PRIMARY_CMD_REGION, 7, 0xef);
        assert_eq!(b.inb(PRIMARY_CMD_REGION, 7), 0x50);
        let w = b.identify();
        assert_eq!((w[62], w[63], w[88]), words, "mode {mode:#x}");
    }
    b.outb(PRIMARY_CMD_REGION, 1, 0x03);
    b.outb(PRIMARY_CMD_REGION, 2, 0x30);
    b.outb(PRIMARY_CMD_REGION, 7, 0xef);
    assert_eq!(b.inb(PRIMARY_CMD_REGION, 7), 0x41, "bad mode class aborts");
    assert_eq!(b.inb(PRIMARY_CMD_REGION, 1), 0x04);
    b.outb(PRIMARY_CMD_REGION, 1, 0x77);
    b.outb(PRIMARY_CMD_REGION, 7, 0xef);
    assert_eq!(
        b.inb(PRIMARY_CMD_REGION, 7),
        0x41,
        "unknown subcommand aborts"
    );
}

#[test]
fn unknown_commands_and_packet_on_a_disk_abort() {
    let mut b = Bench::new();
    for cmd in [0x00, 0xa0, 0xa1, 0x08, 0xff, 0x5c] {
        b.outb(PRIMARY_CMD_REGION, 7, cmd);
        assert_eq!(b.inb(PRIMARY_CMD_REGION, 7), 0x41, "{cmd:#x}");
        assert_eq!(b.inb(PRIMARY_CMD_REGION, 1), 0x04, "{cmd:#x}");
    }
}

#[test]
fn taskfile_writes_are_ignored_while_drq_and_commands_too() {
    let mut b = Bench::new();
    b.outb(PRIMARY_CMD_REGION, 7, 0xec);
    b.outb(PRIMARY_CMD_REGION, 3, 0x77);
    b.outb(PRIMARY_CMD_REGION, 6, 0xb0);
    b.outb(PRIMARY_CMD_REGION, 7, 0xe7);
    assert_eq!(b.inb(PRIMARY_CMD_REGION, 3), 0x01);
    assert_eq!(b.inb(PRIMARY_CMD_REGION, 6), 0xa0);
    assert_eq!(b.inb(PRIMARY_CMD_REGION, 7), 0x58);
    assert!(b.ctx.timers.is_empty(), "FLUSH was not started");
}

#[test]
fn command_block_widths_are_decoded_as_qemus_port_io() {
    let mut b = Bench::new();
    b.outb(PRIMARY_CMD_REGION, 6, 0xa0);
    b.outb(PRIMARY_CMD_REGION, 7, 0xec);
    let id = {
        let mut c = Bench::new();
        c.identify()
    };
    // A byte read of the data register moves a whole word and answers its low byte [V].
    assert_eq!(b.inb(PRIMARY_CMD_REGION, 0), id[0] as u8);
    assert_eq!(b.inb(PRIMARY_CMD_REGION, 0), id[1] as u8);
    assert_eq!(b.inw(PRIMARY_CMD_REGION), id[2]);
    // A byte write of it is no transfer.
    let status = b.inb(PRIMARY_CMD_REGION, 7);
    for _ in 0..252 {
        b.inw(PRIMARY_CMD_REGION);
    }
    b.dev.write(&mut b.ctx, PRIMARY_CMD_REGION, 0, B1, 0x11);
    assert_eq!(b.inb(PRIMARY_CMD_REGION, 7), status, "DRQ still set");
    b.inw(PRIMARY_CMD_REGION);
    assert_eq!(
        b.inb(PRIMARY_CMD_REGION, 7) & 0x08,
        0,
        "the last word ends it"
    );
    // The 8-bit registers: a word is two of them, a dword (aligned or not) is not decoded:
    // reads all-ones, writes are lost [V].
    b.outb(PRIMARY_CMD_REGION, 2, 0x12);
    b.outb(PRIMARY_CMD_REGION, 3, 0x34);
    assert_eq!(b.dev.read(&mut b.ctx, PRIMARY_CMD_REGION, 2, B2), 0x3412);
    assert_eq!(
        b.dev.read(&mut b.ctx, PRIMARY_CMD_REGION, 3, B4),
        0xffff_ffff
    );
    assert_eq!(
        b.dev.read(&mut b.ctx, PRIMARY_CMD_REGION, 4, B4),
        0xffff_ffff
    );
    b.dev
        .write(&mut b.ctx, PRIMARY_CMD_REGION, 4, B4, 0x0000_0000);
    assert_eq!(
        b.inb(PRIMARY_CMD_REGION, 7) & 0x01,
        0,
        "no NOP reached Command"
    );
    b.dev.write(&mut b.ctx, PRIMARY_CMD_REGION, 2, B2, 0x5678);
    assert_eq!(b.inb(PRIMARY_CMD_REGION, 2), 0x78);
    assert_eq!(b.inb(PRIMARY_CMD_REGION, 3), 0x56);
}

#[test]
fn hob_bytes_read_back_the_previous_writes() {
    let mut b = Bench::new();
    b.outb(PRIMARY_CMD_REGION, 3, 0x12);
    b.outb(PRIMARY_CMD_REGION, 3, 0x34);
    assert_eq!(b.inb(PRIMARY_CMD_REGION, 3), 0x34);
    b.outb(PRIMARY_CTL_REGION, 0, 0x80);
    assert_eq!(b.inb(PRIMARY_CMD_REGION, 3), 0x12);
    b.outb(PRIMARY_CMD_REGION, 4, 0);
    assert_eq!(
        b.inb(PRIMARY_CMD_REGION, 3),
        0x34,
        "a taskfile write clears HOB"
    );
}

#[test]
fn bmdma_command_and_status_are_byte_registers() {
    let mut b = Bench::new();
    assert_eq!(b.dev.read(&mut b.ctx, BMDMA_REGION, 0, B4), 0xffff_ffff);
    assert_eq!(b.dev.read(&mut b.ctx, BMDMA_REGION, 2, B2), 0xffff);
    assert_eq!(b.inb(BMDMA_REGION, 1), 0xff);
    assert_eq!(b.inb(BMDMA_REGION, 3), 0xff);
    b.dev.write(&mut b.ctx, BMDMA_REGION, 2, B2, 0x60);
    assert_eq!(b.inb(BMDMA_REGION, 2), 0, "wide writes are ignored");
    b.outb(BMDMA_REGION, 2 + 8, 0x60);
    assert_eq!(
        b.inb(BMDMA_REGION, 2 + 8),
        0x60,
        "secondary drive-capable bits"
    );
    b.dev.write(&mut b.ctx, BMDMA_REGION, 4, B4, 0x1234_5677);
    assert_eq!(b.dev.read(&mut b.ctx, BMDMA_REGION, 4, B4), 0x1234_5674);
    assert_eq!(b.dev.read(&mut b.ctx, BMDMA_REGION, 6, B2), 0x1234);
}

#[test]
fn read_dma_moves_the_sectors_and_advances_the_taskfile() {
    let mut b = Bench::new();
    // Put data on the disk by WRITE DMA from RAM, then read it back elsewhere.
    b.ctx.ram[0x10000..0x10600].fill(0xab);
    b.prd(0x1000, 0x10000, 0x8000_0600);
    b.dma(0xca, 5, 3, 0x1000);
    assert_eq!(b.inb(PRIMARY_CMD_REGION, 7), 0x50);
    b.outb(BMDMA_REGION, 0, 0);
    b.outb(BMDMA_REGION, 2, 0x06);
    b.prd(0x2000, 0x20000, 0x8000_0600);
    b.dma(0xc8, 5, 3, 0x2000);
    assert!(b.ctx.ram[0x20000..0x20600].iter().all(|&x| x == 0xab));
    // facts §3.3 [V]: after READ DMA lba 5 count 3 -> nsect 0, sect 8.
    assert_eq!(b.inb(PRIMARY_CMD_REGION, 2), 0);
    assert_eq!(b.inb(PRIMARY_CMD_REGION, 3), 8);
    assert_eq!(
        b.inb(BMDMA_REGION, 2),
        0x04,
        "exact table: ACTIVE clear, INT set"
    );
}

#[test]
fn reset_equals_a_fresh_device_after_any_state() {
    let mut b = Bench::new();
    b.identify();
    b.ctx.ram[0x10000..0x10200].fill(0x5a);
    b.prd(0x1000, 0x10000, 0x8000_0200);
    b.dma(0xca, 9, 1, 0x1000);
    b.outb(PRIMARY_CMD_REGION, 1, 0x03);
    b.outb(PRIMARY_CMD_REGION, 2, 0x22);
    b.outb(PRIMARY_CMD_REGION, 7, 0xef);
    b.outb(PRIMARY_CMD_REGION, 2, 8);
    b.outb(PRIMARY_CMD_REGION, 6, 0xa3);
    b.outb(PRIMARY_CMD_REGION, 7, 0x91);
    b.outb(PRIMARY_CMD_REGION, 7, 0x20);
    b.outb(PRIMARY_CTL_REGION, 0, 0x82);
    b.dev.event(&mut b.ctx, &[EVENT_FAULT, 0, 7]);
    b.dev.event(&mut b.ctx, &[EVENT_MEDIUM, 2]);
    b.outb(SECONDARY_CMD_REGION, 7, 0xa0);
    b.dev.config_write(&mut b.ctx, IDETIM_SECONDARY, B2, 0x8000);
    assert_ne!(b.dev, Ide::new());
    b.dev.reset();
    assert_eq!(b.dev, Ide::new());
}

#[test]
fn events_ignore_absent_drives_and_accept_any_bytes() {
    let mut b = Bench::new();
    let fresh = Ide::new();
    for payload in [
        &[][..],
        &[0, 1],
        &[1, 3],
        &[2, 0],
        &[5, 1, 2, 3],
        &[0xff; 40],
    ] {
        b.dev.event(&mut b.ctx, payload);
    }
    b.dev.event(&mut b.ctx, &[EVENT_CLEAR_FAULT, 0]);
    b.dev.reset();
    assert_eq!(b.dev, fresh);
}

#[test]
fn flush_cache_on_a_cd_drive_without_a_medium_aborts() {
    use super::{atapi::AtapiCd, backend::Medium, unit::Drive};
    // With a disc the flush completes; an empty drive aborts it [V] (QEMU: ENOMEDIUM).
    for (medium, status, error) in [(Some(Medium::blank()), 0x50, 0), (None, 0x41, 0x04)] {
        let cd = Drive::Cd(AtapiCd::new(medium, None, 3));
        let mut b = Bench {
            dev: Ide::from_drives([[None, None], [Some(cd), None]]),
            ctx: TestContext::new(1 << 20),
        };
        b.outb(SECONDARY_CMD_REGION, 6, 0xa0);
        b.outb(SECONDARY_CMD_REGION, 7, 0xe7);
        assert_eq!(b.inb(SECONDARY_CMD_REGION, 7), status);
        assert_eq!(b.inb(SECONDARY_CMD_REGION, 1), error);
    }
}

#[test]
fn check_power_mode_answers_on_the_disk_and_aborts_on_the_cd() {
    // The disk reports active or idle (SECTOR COUNT 0xFF); the CD-ROM aborts the command, as
    // QEMU 10 does (status 0x41, error 0x04) [V].
    let mut b = Bench::new();
    for cmd in [0xe5, 0x98] {
        b.outb(PRIMARY_CMD_REGION, 2, 0x12);
        b.outb(PRIMARY_CMD_REGION, 7, cmd);
        assert_eq!(b.inb(PRIMARY_CMD_REGION, 7), 0x50, "{cmd:#x}");
        assert_eq!(b.inb(PRIMARY_CMD_REGION, 2), 0xff, "{cmd:#x}");
        b.outb(SECONDARY_CMD_REGION, 6, 0xa0);
        b.outb(SECONDARY_CMD_REGION, 7, cmd);
        assert_eq!(b.inb(SECONDARY_CMD_REGION, 7), 0x41, "{cmd:#x}");
        assert_eq!(b.inb(SECONDARY_CMD_REGION, 1), 0x04, "{cmd:#x}");
    }
}
