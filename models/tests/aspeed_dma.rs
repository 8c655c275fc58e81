//! The FMC's DMA engine (facts devices.md §2.4): checksum calibration, flash <-> DRAM copies,
//! lengths per SoC, completion status and IRQ, and the re-entrancy guard: the engine reads the
//! flash through the FMC's own window (allow-listed), while a DMA aimed at the FMC's registers
//! is still blocked.

use harness::access::{AccessSize, Space};
use harness::machine::{Machine, MachineOptions, MachineSpec, ReentrancyMode};
use harness::outcome::FindingKind;
use harness::qtest::parse_trace;
use harness::runner::Runner;
use harness::target::{MachineProfile, Target};
use models::aspeed::{
    self, BoardOptions, DMA_BURST, DMA_BURST_NS, FLASH_WINDOW_BASE, FMC_BASE, Fmc, FmcConfig,
    IRQ_LINE, Soc,
};

const INTR_CTRL: u64 = FMC_BASE + 0x08;
const CE0_CTRL: u64 = FMC_BASE + 0x10;
const DMA_CTRL: u64 = FMC_BASE + 0x80;
const DMA_FLASH_ADDR: u64 = FMC_BASE + 0x84;
const DMA_DRAM_ADDR: u64 = FMC_BASE + 0x88;
const DMA_LEN: u64 = FMC_BASE + 0x8C;
const DMA_CHECKSUM: u64 = FMC_BASE + 0x90;
const TIMINGS: u64 = FMC_BASE + 0x94;

const INTR_DMA_STATUS: u32 = 1 << 11;
const INTR_DMA_EN: u32 = 1 << 3;
const DMA_ENABLE: u32 = 1 << 0;
const DMA_WRITE: u32 = 1 << 1;
const DMA_CKSUM: u32 = 1 << 2;
const DMA_CALIB: u32 = 1 << 3;

fn machine(soc: Soc, mode: ReentrancyMode) -> Machine {
    let build = match soc {
        Soc::Ast2400 => aspeed::AST2400.build,
        Soc::Ast2500 => aspeed::AST2500.build,
        Soc::Ast2600 => aspeed::AST2600.build,
    };
    Machine::new(
        build,
        MachineOptions {
            reentrancy: mode,
            ..MachineOptions::default()
        },
    )
}

fn rd(m: &mut Machine, addr: u64) -> u32 {
    m.read(Space::Memory, addr, AccessSize::B4) as u32
}

fn wr(m: &mut Machine, addr: u64, v: u32) {
    m.write(Space::Memory, addr, AccessSize::B4, u64::from(v));
}

/// One user-mode transaction on CS0.
fn user(m: &mut Machine, tx: &[u8]) {
    let conf = rd(m, FMC_BASE);
    wr(m, FMC_BASE, conf | 1 << 16);
    wr(m, CE0_CTRL, 0x3);
    for &b in tx {
        m.write(
            Space::Memory,
            FLASH_WINDOW_BASE,
            AccessSize::B1,
            u64::from(b),
        );
    }
    wr(m, CE0_CTRL, 0x7);
    wr(m, CE0_CTRL, 0x4);
}

/// Program 00..3F at flash offset 0.
fn program_pattern(m: &mut Machine) {
    user(m, &[0x06]);
    let mut tx = vec![0x02, 0, 0, 0];
    tx.extend(0u8..64);
    user(m, &tx);
}

/// u-boot's checksum DMA: stop, addresses, length, start (polls DMA_STATUS, then reads the sum).
fn checksum(m: &mut Machine, flash: u32, len_reg: u32, extra: u32) -> u32 {
    wr(m, DMA_CTRL, 0);
    wr(m, DMA_FLASH_ADDR, flash);
    wr(m, DMA_LEN, len_reg);
    wr(m, DMA_CTRL, extra | DMA_CKSUM | DMA_ENABLE);
    assert_ne!(rd(m, INTR_CTRL) & INTR_DMA_STATUS, 0, "done at once");
    rd(m, DMA_CHECKSUM)
}

#[test]
fn checksum_of_00_to_3f_is_0x1201f1e0() {
    // AST2500: the length counts from 4 (register 60 = 64 bytes); AST2600 from 1 (63 = 64).
    for (soc, len) in [(Soc::Ast2500, 60), (Soc::Ast2600, 63), (Soc::Ast2400, 60)] {
        let mut m = machine(soc, ReentrancyMode::Guard);
        program_pattern(&mut m);
        assert_eq!(checksum(&mut m, 0, len, 0), 0x1201_F1E0, "{soc:?}");
        assert_eq!(
            checksum(&mut m, 0x40, len, 0),
            0xFFFF_FFF0,
            "{soc:?}: 64 bytes of FF"
        );
        assert_eq!(m.blocked_accesses(), 0, "{soc:?}");
    }
}

#[test]
fn checksum_works_in_detect_mode_too() {
    let mut m = machine(Soc::Ast2500, ReentrancyMode::Detect);
    program_pattern(&mut m);
    assert_eq!(checksum(&mut m, 0, 60, 0), 0x1201_F1E0);
}

#[test]
fn calibration_checksum_sets_the_read_timing() {
    let mut m = machine(Soc::Ast2500, ReentrancyMode::Guard);
    program_pattern(&mut m);
    // u-boot's timing calibration: HCLK/3 (code 0xE), delay 2.
    let calib = (2 << 8) | (0xE << 4) | DMA_CALIB;
    assert_eq!(checksum(&mut m, 0, 60, calib), 0x1201_F1E0);
    assert_eq!(rd(&mut m, TIMINGS), 2 << 8);
    assert_eq!(rd(&mut m, CE0_CTRL) & 0xF00, 0xE00);
}

#[test]
fn stopping_clears_status_and_checksum_and_lowers_the_irq() {
    let mut m = machine(Soc::Ast2500, ReentrancyMode::Guard);
    wr(&mut m, INTR_CTRL, INTR_DMA_EN);
    checksum(&mut m, 0, 60, 0);
    assert_eq!(
        rd(&mut m, INTR_CTRL),
        INTR_DMA_STATUS | INTR_DMA_EN,
        "0x808"
    );
    assert!(m.irq_level(IRQ_LINE));
    wr(&mut m, DMA_CTRL, 0);
    assert_eq!(rd(&mut m, INTR_CTRL), INTR_DMA_EN, "0x008");
    assert_eq!(rd(&mut m, DMA_CHECKSUM), 0);
    assert!(!m.irq_level(IRQ_LINE));
    assert_eq!(m.irq_raises(IRQ_LINE), 1);
}

#[test]
fn flash_to_dram_and_back() {
    let mut m = machine(Soc::Ast2500, ReentrancyMode::Guard);
    program_pattern(&mut m);
    wr(&mut m, DMA_FLASH_ADDR, 0);
    wr(&mut m, DMA_DRAM_ADDR, 0x1000);
    wr(&mut m, DMA_LEN, 60);
    wr(&mut m, DMA_CTRL, DMA_ENABLE);
    let mut buf = [0u8; 68];
    m.read_bulk(aspeed::DRAM_BASE + 0x1000, &mut buf);
    assert_eq!(&buf[..64], (0u8..64).collect::<Vec<_>>().as_slice());
    assert_eq!(&buf[64..], [0; 4], "exactly 64 bytes");
    assert_eq!(rd(&mut m, DMA_CHECKSUM), 0x1201_F1E0, "read DMAs sum too");
    assert_eq!(
        [
            rd(&mut m, DMA_FLASH_ADDR),
            rd(&mut m, DMA_DRAM_ADDR),
            rd(&mut m, DMA_LEN)
        ],
        [0x40, 0x1040, 0]
    );

    // DRAM -> flash in user mode: the CPU sends PP and the address, the DMA streams the data.
    m.write_bulk(aspeed::DRAM_BASE + 0x2000, &[0xA5; 16]);
    user(&mut m, &[0x06]);
    wr(&mut m, CE0_CTRL, 0x3);
    for b in [0x02, 0x00, 0x10, 0x00] {
        m.write(Space::Memory, FLASH_WINDOW_BASE, AccessSize::B1, b);
    }
    wr(&mut m, DMA_CTRL, 0);
    wr(&mut m, DMA_FLASH_ADDR, 0);
    wr(&mut m, DMA_DRAM_ADDR, 0x2000);
    wr(&mut m, DMA_LEN, 12);
    wr(&mut m, DMA_CTRL, DMA_WRITE | DMA_ENABLE);
    wr(&mut m, CE0_CTRL, 0x7);
    wr(&mut m, CE0_CTRL, 0x4);
    assert_eq!(rd(&mut m, FLASH_WINDOW_BASE + 0x1000), 0xA5A5_A5A5);
    assert_eq!(rd(&mut m, FLASH_WINDOW_BASE + 0x100C), 0xA5A5_A5A5);
    assert_eq!(rd(&mut m, FLASH_WINDOW_BASE + 0x1010), 0xFFFF_FFFF);
    assert_eq!(m.blocked_accesses(), 0);
}

#[test]
fn a_long_dma_runs_in_bursts_and_is_refused_while_busy() {
    let mut m = machine(Soc::Ast2600, ReentrancyMode::Guard);
    wr(&mut m, INTR_CTRL, INTR_DMA_EN);
    wr(&mut m, DMA_LEN, 4 * DMA_BURST - 1);
    wr(&mut m, DMA_CTRL, DMA_CKSUM | DMA_ENABLE);
    assert_eq!(rd(&mut m, INTR_CTRL) & INTR_DMA_STATUS, 0, "still running");
    assert_eq!(rd(&mut m, DMA_LEN), 3 * DMA_BURST);
    wr(&mut m, DMA_FLASH_ADDR, 0x100);
    wr(&mut m, DMA_CTRL, DMA_CKSUM | DMA_ENABLE);
    assert_eq!(
        rd(&mut m, DMA_LEN),
        3 * DMA_BURST,
        "refused: DMA in progress"
    );
    m.clock_step(Some(3 * DMA_BURST_NS));
    assert_ne!(rd(&mut m, INTR_CTRL) & INTR_DMA_STATUS, 0);
    assert!(m.irq_level(IRQ_LINE));
    assert_eq!(
        rd(&mut m, DMA_CHECKSUM),
        (DMA_BURST).wrapping_mul(0xFFFF_FFFF)
    );
}

// ---- the re-entrancy guard -----------------------------------------------------------------

/// An AST2500 whose FMC believes DRAM starts 0x20000 below its own registers, so that
/// DMA_DRAM_ADDR 0 aims the DMA at FMC_BASE - 0x20000 and 0x20000 at the FMC's registers.
fn build_dram_over_registers() -> MachineSpec {
    let mut spec = aspeed::build(Soc::Ast2500, &BoardOptions::default());
    let config = FmcConfig {
        dram_base: FMC_BASE - 0x2_0000,
        ..FmcConfig::new(Soc::Ast2500)
    };
    spec.devices[0] = Box::new(Fmc::new(config));
    spec
}

static DRAM_OVER_REGISTERS: MachineProfile = MachineProfile {
    name: "ast2500-dram-over-registers",
    description: "test: the FMC's DMA aimed at its own registers",
    build: build_dram_over_registers,
    options: &[],
    configure: None,
};

static DRAM_OVER_REGISTERS_TARGET: Target = Target {
    name: "aspeed_fmc_dram_over_registers",
    description: "test",
    machine: &DRAM_OVER_REGISTERS,
    devices: &["aspeed.fmc-ast2500"],
    regions: &[],
    pci: false,
    event_devices: &[],
    pci_enum: false,
};

/// Program a word, then DMA one flash word (AST2500: DMA_LEN 0 = 4 bytes) to "DRAM" 0x20000:
/// the FMC's CONF register. (One word: the harness cuts longer DMAs into 8-byte pieces, which
/// the register block, valid for 1-4 bytes, refuses before the guard looks at them.)
const DMA_INTO_REGISTERS: &str = "\
writel 0x1e620000 0x1000a
writel 0x1e620010 0x3
writeb 0x20000000 0x6
writel 0x1e620010 0x7
writel 0x1e620010 0x3
writel 0x20000000 0x2
writel 0x20000000 0x03020100
writel 0x1e620010 0x7
writel 0x1e620010 0x4
writel 0x1e620088 0x20000
writel 0x1e620080 0x1
";

#[test]
fn the_dma_reads_flash_under_the_guard_but_cannot_write_the_fmc_registers() {
    let cmds = parse_trace(DMA_INTO_REGISTERS).expect("trace");
    let mut runner = Runner::new(&DRAM_OVER_REGISTERS_TARGET);
    let outcome = runner.run_trace(&cmds).expect("runs");
    assert!(outcome.finding().is_none(), "guard: {outcome:?}");
    let m = runner.machine();
    assert!(m.blocked_accesses() > 0, "the DRAM side was blocked");
    // The flash side worked (own window, allow-listed): its words were summed.
    assert_eq!(rd(m, DMA_CHECKSUM), 0x0302_0100);
    // Nothing reached the registers: CONF still has its value, not flash data.
    assert_eq!(rd(m, FMC_BASE), 0x1_000A);
    assert_ne!(rd(m, INTR_CTRL) & INTR_DMA_STATUS, 0);

    let detect = MachineOptions {
        reentrancy: ReentrancyMode::Detect,
        ..MachineOptions::default()
    };
    let mut runner = Runner::with_options(&DRAM_OVER_REGISTERS_TARGET, detect);
    let outcome = runner.run_trace(&cmds).expect("runs");
    let f = outcome.finding().expect("detect mode reports it");
    assert_eq!(f.kind, FindingKind::Reentrancy, "{f}");
    assert!(f.signature().contains("aspeed.fmc-ast2500"), "{f}");
}
