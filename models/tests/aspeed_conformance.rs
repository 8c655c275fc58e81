//! The ASPEED FMC and its flash as a driver sees them (Linux spi-aspeed-smc, u-boot), on the
//! `ast2400`, `ast2500` and `ast2600` machines: facts devices.md §2.

mod common;

use harness::access::{AccessSize, Space};
use harness::machine::{Machine, MachineOptions, MachineSpec};
use models::aspeed::{
    self, BoardOptions, DebugLog, DebugLogError, FLASH_WINDOW_BASE, FMC_BASE, FlashPart, Soc,
};

const CONF: u64 = FMC_BASE;
const CE_CTRL: u64 = FMC_BASE + 0x04;
const CE0_CTRL: u64 = FMC_BASE + 0x10;
const SEG0: u64 = FMC_BASE + 0x30;
const DEBUG_OUT: u64 = FMC_BASE + aspeed::DEBUG_OUT;
const WIN: u64 = FLASH_WINDOW_BASE;

const CONF_WE0: u32 = 1 << 16;
const USER: u32 = 0x3;
const STOP: u32 = 0x4;

struct Bmc {
    m: Machine,
}

impl Bmc {
    fn new(soc: Soc) -> Self {
        let build = match soc {
            Soc::Ast2400 => aspeed::AST2400.build,
            Soc::Ast2500 => aspeed::AST2500.build,
            Soc::Ast2600 => aspeed::AST2600.build,
        };
        Self::with(build)
    }
    fn with(build: fn() -> MachineSpec) -> Self {
        Self {
            m: Machine::new(build, MachineOptions::default()),
        }
    }
    fn rd(&mut self, addr: u64) -> u32 {
        self.m.read(Space::Memory, addr, AccessSize::B4) as u32
    }
    fn wr(&mut self, addr: u64, v: u32) {
        self.m
            .write(Space::Memory, addr, AccessSize::B4, u64::from(v));
    }
    fn rdb(&mut self, addr: u64) -> u8 {
        self.m.read(Space::Memory, addr, AccessSize::B1) as u8
    }
    fn wrb(&mut self, addr: u64, v: u8) {
        self.m
            .write(Space::Memory, addr, AccessSize::B1, u64::from(v));
    }
    /// One user-mode transaction on CS0, as spi-aspeed-smc's exec_op does it: CS0 writes
    /// enabled, user mode with CE_STOP_ACTIVE set then cleared, bytes out, bytes in, CE_STOP_ACTIVE
    /// set, back to read mode.
    fn user(&mut self, tx: &[u8], rx: usize) -> Vec<u8> {
        let conf = self.rd(CONF);
        self.wr(CONF, conf | CONF_WE0);
        self.wr(CE0_CTRL, USER | STOP);
        self.wr(CE0_CTRL, USER);
        for &b in tx {
            self.wrb(WIN, b);
        }
        let out = (0..rx).map(|_| self.rdb(WIN)).collect();
        self.wr(CE0_CTRL, USER | STOP);
        self.wr(CE0_CTRL, STOP);
        out
    }
    fn rdsr(&mut self) -> u8 {
        self.user(&[0x05], 1)[0]
    }
    fn program(&mut self, addr: u32, data: &[u8]) {
        self.user(&[0x06], 0);
        let a = addr.to_be_bytes();
        let mut tx = vec![0x12, a[0], a[1], a[2], a[3]];
        tx.extend_from_slice(data);
        self.user(&tx, 0);
    }
}

#[test]
fn jedec_id_through_user_mode_on_ast2500() {
    let mut b = Bmc::new(Soc::Ast2500);
    assert_eq!(b.user(&[0x9F], 3), [0xC2, 0x20, 0x19]);
    let mut b = Bmc::new(Soc::Ast2600);
    assert_eq!(b.user(&[0x9F], 3), [0xC2, 0x25, 0x3A]);
    let mut b = Bmc::new(Soc::Ast2400);
    assert_eq!(b.user(&[0x9F], 3), [0x20, 0xBA, 0x19]);
}

#[test]
fn jedec_id_as_qtest_text() {
    let mut m = Machine::new(aspeed::AST2500.build, MachineOptions::default());
    common::expect(
        &mut m,
        &[
            ("writel 0x1e620000 0x1000a", "OK"),
            ("writel 0x1e620010 0x7", "OK"),
            ("writel 0x1e620010 0x3", "OK"),
            ("writeb 0x20000000 0x9f", "OK"),
            ("readb 0x20000000", "OK 0x00000000000000c2"),
            ("readb 0x20000000", "OK 0x0000000000000020"),
            ("readb 0x20000000", "OK 0x0000000000000019"),
            ("writel 0x1e620010 0x7", "OK"),
        ],
    );
}

#[test]
fn erased_flash_reads_all_ones_in_read_mode() {
    for soc in [Soc::Ast2400, Soc::Ast2500, Soc::Ast2600] {
        let mut b = Bmc::new(soc);
        assert_eq!(b.rd(WIN), 0xFFFF_FFFF, "{soc:?}");
        assert_eq!(b.rd(WIN + 0x0100_0000), 0xFFFF_FFFF, "{soc:?}");
    }
}

#[test]
fn program_then_read_back_in_read_mode() {
    let mut b = Bmc::new(Soc::Ast2500);
    b.program(0x40, &[0x40, 0x41, 0x42, 0x43]);
    assert_eq!(b.rd(WIN + 0x40), 0x4342_4140, "facts §2.3 [V]");
    // Above 16 MiB the read mode needs 4-byte addresses: EN4B, then CE_CTRL bit 0.
    b.program(0x0123_4560, &[0xDE, 0xAD, 0xBE, 0xEF]);
    assert_eq!(b.rd(WIN + 0x0123_4560), 0xFFFF_FFFF, "3-byte: 0x234560");
    b.user(&[0xB7], 0);
    b.wr(CE_CTRL, 1);
    assert_eq!(b.rd(WIN + 0x0123_4560), 0xEFBE_ADDE);
    assert_eq!(b.user(&[0x13, 0x01, 0x23, 0x45, 0x60], 2), [0xDE, 0xAD]);
}

#[test]
fn erase_restores_ff() {
    let mut b = Bmc::new(Soc::Ast2500);
    b.program(0x1000, &[0; 8]);
    b.program(0x2000, &[0; 8]);
    b.user(&[0x06], 0);
    b.user(&[0x20, 0x00, 0x10, 0x00], 0); // 4 KiB erase
    assert_eq!([b.rd(WIN + 0x1000), b.rd(WIN + 0x2000)], [0xFFFF_FFFF, 0]);
    b.user(&[0x06], 0);
    b.user(&[0xD8, 0x00, 0x00, 0x00], 0); // 64 KiB erase
    assert_eq!(b.rd(WIN + 0x2000), 0xFFFF_FFFF);
    b.program(0x0100_0000, &[0; 4]);
    b.user(&[0x06], 0);
    b.user(&[0xC7], 0); // chip erase
    b.user(&[0xB7], 0);
    b.wr(CE_CTRL, 1);
    assert_eq!(b.rd(WIN + 0x0100_0000), 0xFFFF_FFFF);
}

#[test]
fn write_enable_latch_rules() {
    let mut b = Bmc::new(Soc::Ast2500);
    assert_eq!(b.rdsr(), 0x00);
    b.user(&[0x06], 0);
    assert_eq!(b.rdsr(), 0x02, "WREN sets WEL");
    b.user(&[0x04], 0);
    assert_eq!(b.rdsr(), 0x00, "WRDI clears it");
    b.user(&[0x02, 0, 0, 0, 0x00], 0);
    assert_eq!(
        b.rd(WIN),
        0xFFFF_FFFF,
        "page program without WEL is ignored"
    );
    b.user(&[0x20, 0, 0, 0], 0);
    b.program(0, &[0x12]);
    assert_eq!(b.rdsr(), 0x00, "WEL cleared when the program completes");
    b.user(&[0x20, 0, 0, 0], 0);
    assert_eq!(b.rd(WIN) & 0xFF, 0x12, "erase without WEL is ignored");
    b.user(&[0x01, 0x3C], 0);
    assert_eq!(b.rdsr(), 0x00, "WRSR without WEL is ignored");
    b.user(&[0x06], 0);
    b.user(&[0x01, 0x3C], 0);
    assert_eq!(b.rdsr(), 0x3C, "WRSR with WEL, which it clears");
    b.user(&[0xB7], 0);
    assert_eq!(
        b.user(&[0x15], 1),
        [0x27],
        "EN4B needs no WEL (Macronix CR bit 5; bits 2:0 the default drive strength)"
    );
}

#[test]
fn sfdp_in_user_mode() {
    let mut b = Bmc::new(Soc::Ast2500);
    let t = b.user(&[0x5A, 0, 0, 0, 0], 16);
    assert_eq!(&t[..4], b"SFDP");
    assert_eq!(t[0x0B], 9, "basic parameter table: 9 dwords");
}

#[test]
fn segment_register_reset_values_per_soc() {
    let seg = |soc, n: u64| Bmc::new(soc).rd(SEG0 + 4 * n);
    assert_eq!(
        [0, 1, 2, 3, 4].map(|n| seg(Soc::Ast2400, n)),
        [
            0x4840_0000,
            0x4C48_0000,
            0x504C_0000,
            0x5450_0000,
            0x5854_0000
        ]
    );
    assert_eq!(
        [0, 1, 2].map(|n| seg(Soc::Ast2500, n)),
        [0x5040_0000, 0x5450_0000, 0x5854_0000]
    );
    assert_eq!(
        [0, 1, 2].map(|n| seg(Soc::Ast2600, n)),
        [0x07F0_0000, 0x0FF0_0800, 0]
    );
    assert_eq!(Bmc::new(Soc::Ast2400).rd(CONF), 0x2);
    assert_eq!(Bmc::new(Soc::Ast2500).rd(CONF), 0xA);
    assert_eq!(Bmc::new(Soc::Ast2600).rd(CONF), 0x2A);
    assert_eq!(Bmc::new(Soc::Ast2500).rd(CE0_CTRL), 0x4);
}

#[test]
fn ast2600_segments_move_cs1() {
    let mut b = Bmc::new(Soc::Ast2600);
    // Linux's aspeed_spi_chip_adjust_window(): CS0 64 MiB, CS1 right after it.
    b.wr(SEG0, 0x03F0_0000);
    b.wr(SEG0 + 4, 0x0FF0_0400);
    assert_eq!([b.rd(SEG0), b.rd(SEG0 + 4)], [0x03F0_0000, 0x0FF0_0400]);
    b.program(0x0300_0000, &[0x5A]);
    b.user(&[0xB7], 0);
    b.wr(CE_CTRL, 1);
    assert_eq!(b.rd(WIN + 0x0300_0000) & 0xFF, 0x5A);
    assert_eq!(
        b.rd(WIN + 0x0400_0000),
        0,
        "CS1: no flash (nothing drives the bus: 0, as QEMU)"
    );
}

#[test]
fn selectable_parts_and_an_image() {
    fn w25q256() -> MachineSpec {
        let opts = BoardOptions {
            flash: Some(FlashPart::W25q256),
            flash_image: Some(vec![0x11, 0x22, 0x33, 0x44, 0x55].into()),
            ..BoardOptions::default()
        };
        aspeed::build(Soc::Ast2500, &opts)
    }
    let mut b = Bmc::with(w25q256);
    assert_eq!(b.user(&[0x9F], 3), [0xEF, 0x40, 0x19]);
    assert_eq!([b.rd(WIN), b.rd(WIN + 4)], [0x4433_2211, 0xFFFF_FF55]);
    b.user(&[0x06], 0);
    b.user(&[0x20, 0, 0, 0], 0);
    assert_eq!(b.rd(WIN), 0xFFFF_FFFF);
    b.m.reset();
    assert_eq!(b.rd(WIN), 0x4433_2211, "a reset brings the image back");
}

fn hatch_dir() -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("aspeed-debug-hatch");
    std::fs::create_dir_all(&dir).expect("tmp dir");
    dir
}

fn with_hatch() -> MachineSpec {
    let opts = BoardOptions {
        debug_log: Some(DebugLog::new(hatch_dir(), "guest.log").expect("inside")),
        ..BoardOptions::default()
    };
    aspeed::build(Soc::Ast2500, &opts)
}

#[test]
fn escape_hatch_appends_exactly_the_guests_bytes() {
    let path = hatch_dir().join("guest.log");
    let _ = std::fs::remove_file(&path);
    let mut b = Bmc::with(with_hatch);
    b.wrb(DEBUG_OUT, b'A');
    b.m.write(Space::Memory, DEBUG_OUT + 2, AccessSize::B2, 0x4342);
    b.wr(DEBUG_OUT, 0x4746_4544);
    b.m.write_bulk(DEBUG_OUT, b"\n");
    assert_eq!(b.rd(DEBUG_OUT), 0);
    assert_eq!(std::fs::read(&path).expect("written"), b"ABCDEFG\n");
    let _ = std::fs::remove_file(&path);
}

#[test]
fn escape_hatch_is_off_by_default_and_refuses_paths_outside_its_directory() {
    let mut b = Bmc::new(Soc::Ast2500);
    b.wr(DEBUG_OUT, 0x4141_4141);
    assert_eq!(b.rd(DEBUG_OUT), 0xFFFF_FFFF, "unimplemented without a log");
    let dir = hatch_dir();
    assert!(matches!(
        DebugLog::new(&dir, "../escape.log"),
        Err(DebugLogError::NotRelative(_))
    ));
    assert!(matches!(
        DebugLog::new(&dir, "/tmp/escape.log"),
        Err(DebugLogError::NotRelative(_))
    ));
    assert!(!dir.join("../escape.log").exists());
}

#[test]
fn a_reset_machine_equals_a_fresh_one() {
    for soc in [Soc::Ast2400, Soc::Ast2500, Soc::Ast2600] {
        let mut b = Bmc::new(soc);
        let fresh = b.m.state_text();
        b.program(0x100, &[1, 2, 3, 4]);
        b.user(&[0xB7], 0);
        b.user(&[0x06], 0);
        b.user(&[0xC5, 0x01], 0);
        b.wr(SEG0 + 4, 0);
        b.wr(FMC_BASE + 0x08, 0x8);
        b.wr(FMC_BASE + 0x8C, 0x1000);
        b.wr(FMC_BASE + 0x80, 0x1);
        b.wr(CE0_CTRL, USER);
        b.wrb(WIN, 0x03);
        b.m.reset();
        assert_eq!(b.m.state_text(), fresh, "{soc:?}");
    }
}
