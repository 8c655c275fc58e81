//! Machine-level behaviour of the harness, driven through small test devices.

use harness::access::{AccessRules, AccessSize, Space};
use harness::device::{Context, Device, DmaError, RegionId, RegionSpec, TimerId};
use harness::machine::{
    Machine, MachineOptions, MachineSpec, ReentrancyMode, StopReason, WORK_PER_INPUT,
};
use harness::outcome::{FindingKind, Outcome};
use harness::pci::{BarDef, BarKind, Bdf, PciConfig};
use harness::qtest::parse_trace;
use harness::runner::Runner;
use harness::target::{MachineProfile, Target};

/// A DMA-capable PCI device: BAR0 is 256 bytes of dword registers.
/// 0x00 DMA address, 0x04 DMA length, 0x08 go (1 = copy RAM[addr..] into the
/// scratch buffer, 2 = write the scratch buffer to addr, 3 = as 1 through `dma_read_sparse`
/// into a buffer of 0xEE bytes: the result code plus 0x1000 per byte it passed as zeros), 0x0c
/// last DMA result code,
/// 0x10 timer deadline (arms timer 0), 0x14 timer fire count, 0x18 spin (loop forever),
/// 0x1c IRQ level, 0x20.. scratch (readable), 0x24 re-arm delay (the timer re-arms itself
/// that long after each expiry).
/// BAR1 (16 bytes, self-DMA allow-listed) reads back 0xAB bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Dma {
    cfg: PciConfig,
    addr: u32,
    len: u32,
    result: u32,
    fired: u32,
    /// Re-arm the timer this long after each expiry (0: at the same instant).
    rearm: Option<u64>,
    accesses: Vec<(u64, u64)>,
    scratch: [u8; 16],
}

const DMA_RULES: AccessRules = AccessRules {
    valid_min: AccessSize::B1,
    valid_max: AccessSize::B4,
    unaligned: false,
    impl_min: AccessSize::B4,
    impl_max: AccessSize::B4,
    impl_unaligned: false,
};

impl Dma {
    fn new() -> Self {
        Self {
            cfg: PciConfig::new(0x1234, 0x0001, 0x088000, 1, 0)
                .with_bar(
                    0,
                    BarDef {
                        region: RegionId(0),
                        kind: BarKind::Memory32 {
                            prefetchable: false,
                        },
                        size: 256,
                    },
                )
                .with_bar(
                    1,
                    BarDef {
                        region: RegionId(1),
                        kind: BarKind::Memory32 {
                            prefetchable: false,
                        },
                        size: 16,
                    },
                ),
            addr: 0,
            len: 0,
            result: 0,
            fired: 0,
            rearm: None,
            accesses: Vec::new(),
            scratch: [0; 16],
        }
    }
}

fn code(r: Result<(), DmaError>) -> u32 {
    match r {
        Ok(()) => 1,
        Err(DmaError::Blocked) => 2,
        Err(DmaError::BusMasterDisabled) => 3,
        Err(DmaError::OwnRegion { offset, .. }) => 0x100 | offset as u32,
        Err(DmaError::Budget) => 5,
    }
}

impl Device for Dma {
    fn name(&self) -> &'static str {
        "testdma"
    }
    fn regions(&self) -> Vec<RegionSpec> {
        let mut own = RegionSpec::new("testdma-own", Space::Memory, 16, AccessRules::ANY);
        own.self_dma = true;
        vec![
            RegionSpec::new("testdma-mmio", Space::Memory, 256, DMA_RULES),
            own,
        ]
    }
    fn read(
        &mut self,
        _ctx: &mut dyn Context,
        region: RegionId,
        offset: u64,
        size: AccessSize,
    ) -> u64 {
        if region.0 == 1 {
            return 0xabab_abab_abab_abab & size.mask();
        }
        self.accesses.push((offset, size.bytes()));
        match offset {
            0x0c => u64::from(self.result),
            0x14 => u64::from(self.fired),
            0x20..=0x2f => {
                let i = (offset - 0x20) as usize;
                let mut v = [0u8; 4];
                for (k, b) in v.iter_mut().enumerate() {
                    *b = self.scratch.get(i + k).copied().unwrap_or(0);
                }
                u64::from(u32::from_le_bytes(v))
            }
            _ => 0x1111_1111,
        }
    }
    fn write(
        &mut self,
        ctx: &mut dyn Context,
        region: RegionId,
        offset: u64,
        size: AccessSize,
        value: u64,
    ) {
        if region.0 == 1 {
            return;
        }
        self.accesses.push((offset, size.bytes()));
        match offset {
            0x00 => self.addr = value as u32,
            0x04 => self.len = (value as u32).min(16),
            0x08 if value == 1 => {
                let mut buf = vec![0u8; self.len as usize];
                self.result = code(ctx.dma_read(u64::from(self.addr), &mut buf));
                self.scratch[..buf.len()].copy_from_slice(&buf);
            }
            0x08 if value == 3 => {
                let mut buf = vec![0xeeu8; self.len as usize];
                let mut zeros = 0;
                let r = ctx.dma_read_sparse(u64::from(self.addr), &mut buf, &mut |r| {
                    zeros += r.len() as u32;
                });
                self.result = code(r) + 0x1000 * zeros;
                self.scratch[..buf.len()].copy_from_slice(&buf);
            }
            0x08 if value == 2 => {
                let data = self.scratch[..self.len as usize].to_vec();
                self.result = code(ctx.dma_write(u64::from(self.addr), &data));
            }
            0x10 => ctx.timer_set(TimerId(0), value),
            0x18 => loop {
                ctx.work(1);
            },
            0x1c => ctx.set_irq(0, value != 0),
            0x24 => self.rearm = Some(value),
            _ => {}
        }
    }
    fn pci(&self) -> Option<&PciConfig> {
        Some(&self.cfg)
    }
    fn pci_mut(&mut self) -> Option<&mut PciConfig> {
        Some(&mut self.cfg)
    }
    fn timer(&mut self, ctx: &mut dyn Context, timer: TimerId) {
        self.fired += 1;
        if let Some(delay) = self.rearm {
            ctx.timer_set(timer, ctx.now() + delay);
        }
    }
    fn event(&mut self, _ctx: &mut dyn Context, payload: &[u8]) {
        if payload.first() == Some(&0xee) {
            panic!("test device asked to panic");
        }
    }
    fn reset(&mut self) {
        *self = Self::new();
    }
}

/// A byte-wide ISA-style device at port 0x80: records values.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Port80 {
    last: u8,
}

impl Device for Port80 {
    fn name(&self) -> &'static str {
        "port80"
    }
    fn regions(&self) -> Vec<RegionSpec> {
        vec![RegionSpec::new("port80", Space::Io, 2, AccessRules::BYTES)]
    }
    fn read(&mut self, _ctx: &mut dyn Context, _r: RegionId, offset: u64, _s: AccessSize) -> u64 {
        u64::from(self.last) + offset
    }
    fn write(&mut self, ctx: &mut dyn Context, _r: RegionId, _o: u64, _s: AccessSize, value: u64) {
        self.last = value as u8;
        if value == 0xcc {
            // A documented choice where the reference differs (observation only).
            ctx.note_choice("port80-cc");
        }
    }
    fn reset(&mut self) {
        *self = Self::default();
    }
}

fn build() -> MachineSpec {
    let mut spec = MachineSpec {
        ram_size: 1 << 20,
        mem_bar_priority: -1,
        io_bar_priority: 1,
        pci_host: true,
        irq_lines: vec!["irq0", "irq1"],
        ..MachineSpec::default()
    };
    let d = spec.add(Box::new(Dma::new()));
    spec.add_pci(Bdf::new(0, 2, 0), d);
    spec.wire_irq(d, 0, 1);
    let p = spec.add(Box::new(Port80::default()));
    spec.map_fixed(p, RegionId(0), 0x80, 0);
    spec
}

static TEST_MACHINE: MachineProfile = MachineProfile {
    name: "test",
    description: "test machine",
    build,
    options: &[],
    configure: None,
};
static TEST_TARGET: Target = Target {
    name: "test",
    description: "test",
    machine: &TEST_MACHINE,
    devices: &["testdma"],
    regions: &[],
    pci: true,
    event_devices: &["testdma"],
    pci_enum: true,
};

const BAR: u64 = 0xe000_0000;
const OWN: u64 = 0xe000_0100;

/// Map BAR0 at 0xE0000000 and BAR1 right after, enable memory and bus mastering.
const SETUP: &str = "outl 0xcf8 0x80001010\noutl 0xcfc 0xe0000000\noutl 0xcf8 0x80001014\noutl 0xcfc 0xe0000100\noutl 0xcf8 0x80001004\noutw 0xcfc 0x6\n";

fn machine(mode: ReentrancyMode) -> Machine {
    Machine::new(
        build,
        MachineOptions {
            reentrancy: mode,
            ..MachineOptions::default()
        },
    )
}

fn run(m: &mut Machine, trace: &str) {
    for c in &parse_trace(trace).unwrap() {
        harness::runner::exec(m, c).unwrap();
    }
}

fn setup(mode: ReentrancyMode) -> Machine {
    let mut m = machine(mode);
    run(&mut m, SETUP);
    m
}

#[test]
fn unassigned_reads_all_ones_and_writes_vanish() {
    let mut m = machine(ReentrancyMode::Guard);
    assert_eq!(
        m.read(Space::Memory, 0xdead_0000, AccessSize::B4),
        0xffff_ffff
    );
    assert_eq!(m.read(Space::Io, 0x1234, AccessSize::B1), 0xff);
    m.write(Space::Memory, 0xdead_0000, AccessSize::B8, 1);
    assert_eq!(m.read(Space::Memory, 0xdead_0000, AccessSize::B8), u64::MAX);
}

#[test]
fn bars_map_on_enable_and_unmap_on_disable() {
    let mut m = setup(ReentrancyMode::Guard);
    assert_eq!(m.read(Space::Memory, BAR + 0x0c, AccessSize::B4), 0);
    run(&mut m, "outl 0xcf8 0x80001004\noutw 0xcfc 0x0\n");
    assert_eq!(
        m.read(Space::Memory, BAR + 0x0c, AccessSize::B4),
        0xffff_ffff,
        "memory decode off"
    );
}

#[test]
fn narrow_accesses_are_widened_and_wide_ones_split() {
    let mut m = setup(ReentrancyMode::Guard);
    m.write(Space::Memory, BAR, AccessSize::B4, 0x1234_5678);
    // 0x22 at offset 0x22 lives in the scratch window (reads through dword accesses).
    assert_eq!(
        m.read(Space::Memory, BAR + 0x02, AccessSize::B2),
        0x1111,
        "upper half of a dword"
    );
    assert_eq!(
        m.read(Space::Memory, BAR + 0x40, AccessSize::B8),
        u64::MAX,
        "wider than valid: unassigned"
    );
    // A wide access to byte-wide registers is split into byte accesses, in address order.
    m.write(Space::Io, 0x80, AccessSize::B2, 0x4342);
    assert_eq!(
        m.read(Space::Io, 0x80, AccessSize::B1),
        0x43,
        "the second byte was written last"
    );
    assert_eq!(
        m.read(Space::Memory, BAR + 0x41, AccessSize::B4),
        0xffff_ffff,
        "misaligned: invalid"
    );
}

#[test]
fn a_device_dma_into_its_own_registers_is_blocked_under_the_guard() {
    let mut m = setup(ReentrancyMode::Guard);
    m.write(Space::Memory, BAR, AccessSize::B4, BAR + 0x20);
    m.write(Space::Memory, BAR + 4, AccessSize::B4, 4);
    m.write(Space::Memory, BAR + 8, AccessSize::B4, 2);
    assert_eq!(
        m.read(Space::Memory, BAR + 0x0c, AccessSize::B4),
        2,
        "DmaError::Blocked"
    );
    assert_eq!(m.blocked_accesses(), 1);
}

#[test]
fn detect_mode_reports_the_reentrancy_with_the_dma_call_site() {
    let mut runner = Runner::for_machine(
        &TEST_MACHINE,
        MachineOptions {
            reentrancy: ReentrancyMode::Detect,
            ..MachineOptions::default()
        },
    );
    let trace = format!(
        "{SETUP}writel {BAR:#x} {:#x}\nwritel {:#x} 4\nwritel {:#x} 2\n",
        BAR + 0x20,
        BAR + 4,
        BAR + 8
    );
    let outcome = runner.run_trace(&parse_trace(&trace).unwrap()).unwrap();
    let f = outcome.finding().expect("a finding");
    assert_eq!(f.kind, FindingKind::Reentrancy);
    assert_eq!(f.device, "testdma->testdma");
    assert!(
        f.location.starts_with("harness/tests/machine.rs:"),
        "{}",
        f.location
    );
    // Triage groups re-entrancies by the path: devices, the register hit, the model frame.
    assert_eq!(f.register.as_deref(), Some("testdma-mmio+0x20"));
    assert_eq!(
        f.path(),
        format!("{} @testdma-mmio+0x20", f.signature()),
        "{f}"
    );
    // The machine is usable again after the finding.
    let again = runner.run_trace(&parse_trace(SETUP).unwrap()).unwrap();
    assert!(again.finding().is_none());
}

#[test]
fn a_multi_word_dma_into_dword_registers_is_still_a_reentrancy() {
    // BAR0 accepts at most 4-byte accesses; a 16-byte DMA must reach the guard in pieces
    // the region accepts, not be dropped as invalid before the guard sees it.
    let mut m = setup(ReentrancyMode::Guard);
    m.write(Space::Memory, BAR, AccessSize::B4, BAR + 0x40);
    m.write(Space::Memory, BAR + 4, AccessSize::B4, 16);
    m.write(Space::Memory, BAR + 8, AccessSize::B4, 2);
    assert_eq!(
        m.read(Space::Memory, BAR + 0x0c, AccessSize::B4),
        2,
        "blocked, not dropped"
    );
    assert_eq!(m.blocked_accesses(), 4, "four dword pieces, each blocked");
}

#[test]
fn dma_pieces_respect_the_regions_largest_valid_access() {
    use harness::access::{AccessRules, piece_size};
    let dwords = AccessRules::DWORDS;
    assert_eq!(piece_size(0x1000, 16, 100, Some(&dwords)), AccessSize::B4);
    assert_eq!(piece_size(0x1000, 16, 100, None), AccessSize::B8);
    assert_eq!(
        piece_size(0x1002, 16, 100, Some(&AccessRules::ANY)),
        AccessSize::B2
    );
    assert_eq!(
        piece_size(0x1000, 3, 100, Some(&AccessRules::ANY)),
        AccessSize::B2
    );
    assert_eq!(
        piece_size(0x1000, 16, 1, Some(&AccessRules::ANY)),
        AccessSize::B1
    );
}

#[test]
fn self_dma_into_an_allow_listed_region_is_handed_back_to_the_device() {
    let mut m = setup(ReentrancyMode::Detect);
    m.write(Space::Memory, BAR, AccessSize::B4, OWN + 3);
    m.write(Space::Memory, BAR + 4, AccessSize::B4, 4);
    m.write(Space::Memory, BAR + 8, AccessSize::B4, 1);
    assert_eq!(
        m.read(Space::Memory, BAR + 0x0c, AccessSize::B4),
        0x103,
        "OwnRegion at offset 3"
    );
}

#[test]
fn dma_fails_without_bus_mastering() {
    let mut m = setup(ReentrancyMode::Guard);
    run(&mut m, "outl 0xcf8 0x80001004\noutw 0xcfc 0x2\n");
    m.write(Space::Memory, BAR, AccessSize::B4, 0x100);
    m.write(Space::Memory, BAR + 4, AccessSize::B4, 4);
    m.write(Space::Memory, BAR + 8, AccessSize::B4, 1);
    assert_eq!(m.read(Space::Memory, BAR + 0x0c, AccessSize::B4), 3);
}

#[test]
fn dma_reads_of_unwritten_ram_are_filled_once_from_patterns() {
    let mut m = setup(ReentrancyMode::Guard);
    m.add_dma_pattern(&[0xde, 0xad]);
    m.write_bulk(0x102, &[0x55]);
    m.write(Space::Memory, BAR, AccessSize::B4, 0x100);
    m.write(Space::Memory, BAR + 4, AccessSize::B4, 4);
    m.write(Space::Memory, BAR + 8, AccessSize::B4, 1);
    assert_eq!(
        m.read(Space::Memory, BAR + 0x20, AccessSize::B4),
        0xde55_adde,
        "program-written byte kept"
    );
    m.add_dma_pattern(&[0x77]);
    m.write(Space::Memory, BAR + 8, AccessSize::B4, 1);
    assert_eq!(
        m.read(Space::Memory, BAR + 0x20, AccessSize::B4),
        0xde55_adde,
        "filled bytes are not refilled"
    );
}

#[test]
fn sparse_dma_reads_pass_ram_nothing_wrote_as_zeros_without_copying() {
    let mut m = setup(ReentrancyMode::Guard);
    let read_sparse = |m: &mut Machine, addr: u64| {
        m.write(Space::Memory, BAR, AccessSize::B4, addr);
        m.write(Space::Memory, BAR + 4, AccessSize::B4, 4);
        m.write(Space::Memory, BAR + 8, AccessSize::B4, 3);
        (
            m.read(Space::Memory, BAR + 0x0c, AccessSize::B4),
            m.read(Space::Memory, BAR + 0x20, AccessSize::B4),
        )
    };
    assert_eq!(
        read_sparse(&mut m, 0x3000),
        (0x4001, 0xeeee_eeee),
        "unwritten: the buffer is left as it was, all four bytes passed"
    );
    m.write_bulk(0x3ff0, &[0x11]);
    assert_eq!(
        read_sparse(&mut m, 0x3000),
        (1, 0),
        "a write anywhere on the page: read"
    );
    assert_eq!(
        read_sparse(&mut m, 0x3ffe),
        (0x2001, 0xeeee_0000),
        "across pages: the written one read, the other passed"
    );
    m.add_dma_pattern(&[0x5a]);
    assert_eq!(
        read_sparse(&mut m, 0x5000),
        (1, 0x5a5a_5a5a),
        "a lazy fill comes first"
    );
    run(&mut m, "outl 0xcf8 0x80001004\noutw 0xcfc 0x2\n");
    assert_eq!(
        read_sparse(&mut m, 0x6000),
        (0x4003, 0xeeee_eeee),
        "without bus mastering: every byte passed as zero, and the error"
    );
}

#[test]
fn timers_fire_only_when_the_clock_is_stepped() {
    let mut m = setup(ReentrancyMode::Guard);
    m.write(Space::Memory, BAR + 0x10, AccessSize::B4, 1000);
    assert_eq!(m.clock_step(Some(999)), 999);
    assert_eq!(m.read(Space::Memory, BAR + 0x14, AccessSize::B4), 0);
    assert_eq!(m.clock_step(None), 1000, "to the next deadline");
    assert_eq!(m.read(Space::Memory, BAR + 0x14, AccessSize::B4), 1);
    assert_eq!(m.clock_step(None), 1000, "nothing armed: time stands");
}

/// SETUP, then a timer at 100 ns that re-arms itself `delay` ns after each expiry, then a clock
/// step of 10 ms and a write raising the IRQ.
fn timer_chain(delay: u64) -> String {
    format!(
        "{SETUP}writel {:#x} {delay}\nwritel {:#x} 100\nclock_step 10000000\nwritel {:#x} 1\n",
        BAR + 0x24,
        BAR + 0x10,
        BAR + 0x1c
    )
}

#[test]
fn a_timer_chain_is_cut_quietly_by_the_input_work_budget() {
    let mut runner = Runner::new(&TEST_TARGET);
    let cmds = parse_trace(&timer_chain(100)).unwrap();
    let outcome = runner.run_trace(&cmds).unwrap();
    assert_eq!(
        outcome,
        Outcome::ok(cmds.len() - 1),
        "the input ends after the clock step, without a finding"
    );
    let m = runner.machine();
    assert_eq!(m.stop_reason(), Some(StopReason::WorkBudget));
    let fired = m.read(Space::Memory, BAR + 0x14, AccessSize::B4);
    assert!(
        (1..=WORK_PER_INPUT).contains(&fired),
        "{fired} expiries of 100000"
    );
    assert!(m.now() < 10_000_000, "time stopped where the work ran out");
    assert_eq!(runner.run_trace(&cmds).unwrap(), outcome, "deterministic");
}

#[test]
fn without_an_input_budget_the_whole_chain_runs() {
    let mut m = Machine::new(
        build,
        MachineOptions {
            work_per_input: u64::MAX,
            ..MachineOptions::default()
        },
    );
    run(&mut m, &timer_chain(100));
    assert_eq!(m.read(Space::Memory, BAR + 0x14, AccessSize::B4), 100_000);
    assert!(m.irq_level(1), "the command after the step ran");
    assert_eq!(m.stop_reason(), None);
}

#[test]
fn work_spread_over_virtual_time_is_not_a_hang() {
    // 100000 expiries 100 ns apart in one clock step: each instant has a budget of its own.
    let mut m = Machine::new(
        build,
        MachineOptions {
            work_per_op: 1000,
            work_per_input: u64::MAX,
            ..MachineOptions::default()
        },
    );
    run(&mut m, &timer_chain(100));
    assert_eq!(m.read(Space::Memory, BAR + 0x14, AccessSize::B4), 100_000);
    let mut runner = Runner::for_machine(
        &TEST_MACHINE,
        MachineOptions {
            work_per_op: 1000,
            work_per_input: u64::MAX,
            ..MachineOptions::default()
        },
    );
    let outcome = runner
        .run_trace(&parse_trace(&timer_chain(0)).unwrap())
        .unwrap();
    assert_eq!(
        outcome.finding().map(|f| f.kind),
        Some(FindingKind::Hang),
        "a livelock at one instant still is a hang"
    );
}

#[test]
fn a_bulk_access_of_a_device_window_is_many_accesses_not_a_hang() {
    // Reads of 64 dwords, writes of 4 (into the scratch registers): more device calls than
    // the per-operation budget of 3.
    let opts = MachineOptions {
        work_per_op: 3,
        ..MachineOptions::default()
    };
    let mut runner = Runner::for_machine(&TEST_MACHINE, opts);
    let scratch = BAR + 0x20;
    for bulk in [
        format!("read {BAR:#x} 0x100"),
        format!("b64read {BAR:#x} 0x100"),
        format!("memset {scratch:#x} 0x10 0x5"),
        format!("write {scratch:#x} 0x10 0x{}", "01".repeat(0x10)),
    ] {
        let trace = parse_trace(&format!("{SETUP}{bulk}\n")).unwrap();
        let outcome = runner.run_trace(&trace).unwrap();
        assert_eq!(outcome, Outcome::ok(trace.len()), "{bulk}");
    }
    // One access that loops is still a hang.
    let trace = parse_trace(&format!("{SETUP}writel {:#x} 1\n", BAR + 0x18)).unwrap();
    assert!(runner.run_trace(&trace).unwrap().finding().is_some());
}

#[test]
fn a_livelock_at_one_instant_is_still_a_hang_despite_the_input_budget() {
    let mut runner = Runner::new(&TEST_TARGET);
    let outcome = runner
        .run_trace(&parse_trace(&timer_chain(0)).unwrap())
        .unwrap();
    let f = outcome.finding().expect("hang");
    assert_eq!(f.kind, FindingKind::Hang);
}

#[test]
fn irq_lines_follow_the_device_and_count_raises() {
    let mut m = setup(ReentrancyMode::Guard);
    m.write(Space::Memory, BAR + 0x1c, AccessSize::B4, 1);
    assert!(m.irq_level(1));
    m.write(Space::Memory, BAR + 0x1c, AccessSize::B4, 0);
    assert!(!m.irq_level(1));
    assert_eq!(m.irq_raises(1), 1);
}

#[test]
fn an_endless_model_loop_is_a_deterministic_hang_finding() {
    let mut runner = Runner::new(&TEST_TARGET);
    let trace = format!("{SETUP}writel {:#x} 1\n", BAR + 0x18);
    let a = runner.run_trace(&parse_trace(&trace).unwrap()).unwrap();
    let b = runner.run_trace(&parse_trace(&trace).unwrap()).unwrap();
    assert_eq!(a, b);
    let f = a.finding().expect("hang");
    assert_eq!(f.kind, FindingKind::Hang);
    assert_eq!(f.device, "testdma");
}

#[test]
fn a_model_panic_is_a_finding_with_its_location() {
    let mut runner = Runner::new(&TEST_TARGET);
    let outcome = runner
        .run_trace(&parse_trace("event testdma 0xee\n").unwrap())
        .unwrap();
    let f = outcome.finding().expect("panic");
    assert_eq!(f.kind, FindingKind::Panic);
    assert_eq!(f.device, "testdma");
    assert!(
        f.location.starts_with("harness/tests/machine.rs:"),
        "{}",
        f.location
    );
    assert_eq!(f.message, "test device asked to panic");
}

#[test]
fn reset_after_any_program_equals_a_fresh_machine() {
    let fresh_machine = machine(ReentrancyMode::Guard);
    let fresh = fresh_machine.state_text();
    let mut m = setup(ReentrancyMode::Guard);
    m.add_dma_pattern(&[1, 2, 3]);
    m.write(Space::Memory, BAR, AccessSize::B4, 0x4000);
    m.write(Space::Memory, BAR + 4, AccessSize::B4, 8);
    m.write(Space::Memory, BAR + 8, AccessSize::B4, 1);
    m.write(Space::Memory, BAR + 0x10, AccessSize::B4, 50);
    m.write(Space::Memory, BAR + 0x1c, AccessSize::B4, 1);
    m.write(Space::Io, 0x80, AccessSize::B1, 7);
    m.write_bulk(0x9000, &[9; 5000]);
    m.clock_step(Some(10));
    assert_ne!(m.state_text(), fresh);
    assert_ne!(m.state(), fresh_machine.state());
    m.reset();
    assert_eq!(m.state(), fresh_machine.state());
    assert_eq!(m.state_text(), fresh);
}

#[test]
fn restore_returns_to_the_checkpoint_state() {
    let mut m = setup(ReentrancyMode::Guard);
    assert!(m.checkpoint());
    let saved = m.state().clone();
    let text = m.state_text();
    m.add_dma_pattern(&[1, 2, 3]);
    m.write(Space::Memory, BAR, AccessSize::B4, 0x4000);
    m.write(Space::Memory, BAR + 4, AccessSize::B4, 8);
    m.write(Space::Memory, BAR + 8, AccessSize::B4, 1);
    m.write(Space::Memory, BAR + 0x10, AccessSize::B4, 50);
    m.write(Space::Io, 0x80, AccessSize::B1, 7);
    run(&mut m, "outl 0xcf8 0x80001004\noutw 0xcfc 0x0\n");
    m.clock_step(Some(10));
    assert_ne!(*m.state(), saved);
    assert!(m.restore());
    assert_eq!(*m.state(), saved);
    assert_eq!(m.state_text(), text);
}

#[test]
fn a_bar_over_a_fixed_port_wins_by_priority_and_leaving_restores_it() {
    let mut m = machine(ReentrancyMode::Guard);
    m.write(Space::Io, 0x80, AccessSize::B1, 0x42);
    assert_eq!(m.read(Space::Io, 0x81, AccessSize::B1), 0x43);
    // Both regions are memory BARs here, so mapping BAR0 at RAM shows RAM wins (priority -1 < 0).
    run(
        &mut m,
        "outl 0xcf8 0x80001010\noutl 0xcfc 0x1000\noutl 0xcf8 0x80001004\noutw 0xcfc 0x2\nwritel 0x100c 0x5\n",
    );
    assert_eq!(
        m.read(Space::Memory, 0x100c, AccessSize::B4),
        5,
        "RAM above the PCI hole"
    );
}

#[test]
fn binary_inputs_convert_to_text_that_replays_identically() {
    use harness::ops::{Op, encode};
    let mut runner = Runner::new(&TEST_TARGET);
    let input = encode(&[
        Op::DmaPattern(&[0x5a, 0xa5]),
        // Live regions: 0xCF8, 0xCFC, then testdma's BAR0 and BAR1.
        Op::Write {
            region: 2,
            offset: 0,
            size: AccessSize::B4,
            value: 0x2000,
        },
        Op::Write {
            region: 2,
            offset: 4,
            size: AccessSize::B4,
            value: 8,
        },
        Op::Write {
            region: 2,
            offset: 8,
            size: AccessSize::B4,
            value: 1,
        },
        Op::Read {
            region: 6,
            offset: 0x20,
            size: AccessSize::B4,
        },
        Op::Event {
            device: 0,
            payload: &[0xee],
        },
    ])
    .unwrap();
    let (trace, outcome) = runner.input_to_trace(&input);
    let text: String = trace.iter().map(|c| format!("{c}\n")).collect();
    assert!(
        text.contains("write 0x2000 0x8 0x5aa55aa55aa55aa5"),
        "fill made explicit:\n{text}"
    );
    let replayed = runner.run_trace(&parse_trace(&text).unwrap()).unwrap();
    assert_eq!(
        outcome.finding().map(|f| f.signature()),
        replayed.finding().map(|f| f.signature())
    );
    assert!(outcome.finding().is_some());
    // And text converts back to a binary input with the same outcome.
    let back = runner.trace_to_input(&trace).unwrap();
    assert_eq!(runner.run_input(&back.bytes).summary(), outcome.summary());
}

#[test]
fn minimisation_keeps_the_signature_and_is_one_minimal_and_deterministic() {
    use harness::minimize::minimize;
    let mut text = String::new();
    for i in 0..400 {
        text.push_str(&format!("outb 0x80 {:#x}\n", i & 0xff));
        if i == 200 {
            text.push_str(SETUP);
        }
        text.push_str(&format!("writel {:#x} {i}\n", BAR + 0x04));
    }
    text.push_str(&format!("writel {:#x} 1\n", BAR + 0x18));
    text.push_str("outb 0x80 1\n");
    let trace = parse_trace(&text).unwrap();
    assert!(trace.len() > 800);
    let mut runner = Runner::new(&TEST_TARGET);
    let a = minimize(&mut runner, &trace, |_| {}).unwrap();
    let b = minimize(&mut runner, &trace, |_| {}).unwrap();
    assert_eq!(a, b, "deterministic");
    assert!(a.signature.starts_with("hang:testdma:"), "{}", a.signature);
    // BAR0 address, memory enable, and the spin write: nothing else is needed.
    let printed: Vec<String> = a.trace.iter().map(ToString::to_string).collect();
    assert!(a.trace.len() <= 5, "{printed:?}");
    for (i, shown) in printed.iter().enumerate() {
        let mut fewer = a.trace.clone();
        fewer.remove(i);
        let out = runner.run_trace(&fewer).unwrap();
        let kept = out.finding().map(|f| f.signature()) == Some(a.signature.clone());
        assert!(!kept, "removing {shown} keeps the bug");
    }
}

#[test]
fn a_run_budget_stops_minimisation_early_with_a_trace_that_still_crashes() {
    use harness::minimize::{minimize, minimize_bounded};
    let mut text = String::new();
    for i in 0..300 {
        text.push_str(&format!("outb 0x80 {:#x}\n", i & 0xff));
    }
    text.push_str(SETUP);
    text.push_str(&format!("writel {:#x} 1\n", BAR + 0x18));
    let trace = parse_trace(&text).unwrap();
    let mut runner = Runner::new(&TEST_TARGET);
    let full = minimize(&mut runner, &trace, |_| {}).unwrap();
    assert!(!full.budget_exhausted);
    let cut = minimize_bounded(&mut runner, &trace, 10, |_| {}).unwrap();
    assert!(cut.budget_exhausted);
    assert_eq!(cut.runs, 10);
    assert!(cut.trace.len() > full.trace.len(), "not finished");
    assert!(cut.trace.len() < trace.len(), "but smaller than the input");
    let out = runner.run_trace(&cut.trace).unwrap();
    assert_eq!(out.finding().map(|f| f.signature()), Some(full.signature));
}

#[test]
fn a_huge_clock_step_has_no_binary_form_instead_of_billions_of_ops() {
    let mut runner = Runner::new(&TEST_TARGET);
    for line in [
        "clock_step 0xffffffffffffffff",
        "clock_set 0xffffffffffffffff",
    ] {
        let e = runner
            .trace_to_input(&parse_trace(line).unwrap())
            .unwrap_err();
        assert!(e.to_string().contains("no binary form"), "{e}");
    }
    // 73 minutes still converts, to 1024 ops.
    let ok = runner
        .trace_to_input(
            &parse_trace(&format!("clock_step {}", 1024 * u64::from(u32::MAX))).unwrap(),
        )
        .unwrap();
    assert_eq!(harness::ops::decode(&ok.bytes).count(), 1024);
}

/// A one-byte register a board maps over byte 1 of CONFIG_ADDRESS: keeps what is written and
/// asks for a system reset when bit 2 is set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct ResetLatch {
    value: u8,
}

impl Device for ResetLatch {
    fn name(&self) -> &'static str {
        "latch"
    }
    fn regions(&self) -> Vec<RegionSpec> {
        vec![RegionSpec::new("latch", Space::Io, 1, AccessRules::BYTES)]
    }
    fn read(&mut self, _ctx: &mut dyn Context, _r: RegionId, _o: u64, _s: AccessSize) -> u64 {
        u64::from(self.value)
    }
    fn write(&mut self, ctx: &mut dyn Context, _r: RegionId, _o: u64, _s: AccessSize, value: u64) {
        self.value = value as u8;
        if value & 4 != 0 {
            ctx.request_reset();
        }
    }
    fn reset(&mut self) {
        *self = Self::default();
    }
}

fn build_with_latch() -> MachineSpec {
    let mut spec = build();
    let latch = spec.add(Box::new(ResetLatch::default()));
    spec.map_fixed(latch, RegionId(0), 0xcf9, 1);
    spec
}

#[test]
fn a_register_over_one_byte_of_config_address_takes_only_the_accesses_within_it() {
    let mut m = Machine::new(build_with_latch, MachineOptions::default());
    // Dword writes and reads of CONFIG_ADDRESS stay the host's, the byte at 0xCF9 too wide.
    // Narrower accesses are not CONFIG_ADDRESS (PCI 3.0 3.2.2.3.2): nothing claims them, so
    // they read all-ones (the latch, holding 0, does not answer either) and writes are lost.
    m.write(Space::Io, 0xcf8, AccessSize::B4, 0x8000_1004);
    assert_eq!(m.read(Space::Io, 0xcf8, AccessSize::B4), 0x8000_1004);
    assert_eq!(m.read(Space::Io, 0xcf9, AccessSize::B2), 0xffff);
    assert_eq!(m.read(Space::Io, 0xcf8, AccessSize::B2), 0xffff);
    m.write(Space::Io, 0xcf8, AccessSize::B2, 0);
    m.write(Space::Io, 0xcfa, AccessSize::B1, 0);
    assert_eq!(m.read(Space::Io, 0xcf8, AccessSize::B4), 0x8000_1004);
    // The byte at 0xCF9 is the latch's: a write with bit 2 resets the machine after the op.
    m.write(Space::Io, 0xcf9, AccessSize::B1, 0x02);
    assert_eq!(m.read(Space::Io, 0xcf9, AccessSize::B1), 0x02);
    assert_eq!(m.read(Space::Io, 0xcf8, AccessSize::B4), 0x8000_1004);
    run(&mut m, SETUP);
    assert!(
        m.space(Space::Memory)
            .mapping_of(harness::space::Backing::Device(
                harness::device::DeviceId(0),
                RegionId(0)
            ))
            .is_some()
    );
    run(&mut m, "outb 0xcf9 0x06\n");
    assert_eq!(
        m.read(Space::Io, 0xcf9, AccessSize::B1),
        0,
        "the latch was reset"
    );
    assert_eq!(m.read(Space::Io, 0xcf8, AccessSize::B4), 0, "and the host");
    assert!(
        m.space(Space::Memory)
            .mapping_of(harness::space::Backing::Device(
                harness::device::DeviceId(0),
                RegionId(0)
            ))
            .is_none(),
        "BARs unmapped"
    );
}

#[test]
fn a_noted_choice_reaches_only_an_installed_observer_and_the_record() {
    // Without an observer a note costs nothing and leaves nothing.
    let mut m = machine(ReentrancyMode::Guard);
    run(&mut m, "outb 0x80 0xcc\n");
    assert!(m.observer_mut().is_none());
    // With one, the choice is kept (device, name) until taken, and logged after its access.
    m.observe(Some(harness::observe::Observer::default()));
    run(&mut m, "outb 0x80 0x1\noutb 0x80 0xcc\n");
    let o = m.observer_mut().unwrap();
    assert_eq!(o.take_choices(), vec![("port80", "port80-cc")]);
    assert!(o.take_choices().is_empty());
    let text = harness::observe::render(&o.take());
    assert!(
        text.contains("outb 0x80 0xcc  # port80+0x0\n# choice port80 port80-cc\n"),
        "{text}"
    );
    // A watch-only observer keeps nothing past the access.
    let mut watch = harness::observe::Observer::default();
    watch.watch_only = true;
    m.observe(Some(watch));
    run(&mut m, "outb 0x80 0xcc\n");
    assert!(m.observer_mut().unwrap().take_choices().is_empty());
}

/// Two test devices: the second's BAR0 at 0xE0001000 (00:03.0).
fn build_two() -> MachineSpec {
    let mut spec = build();
    let d = spec.add(Box::new(Dma::new()));
    spec.add_pci(Bdf::new(0, 3, 0), d);
    spec
}

const OTHER: u64 = 0xe000_1000;

/// SETUP, the second device's BAR0 mapped, and a 16-byte DMA read by the first device from
/// the second's registers (four dword register calls, answering 0x11111111 each).
fn dma_from_other_registers() -> String {
    format!(
        "{SETUP}outl 0xcf8 0x80001810\noutl 0xcfc {OTHER:#x}\noutl 0xcf8 0x80001804\noutw 0xcfc 0x2\n\
         writel {BAR:#x} {:#x}\nwritel {:#x} 16\nwritel {:#x} 1\n",
        OTHER + 0x40,
        BAR + 4,
        BAR + 8
    )
}

#[test]
fn dma_into_device_registers_counts_as_input_work_and_stops_when_it_is_spent() {
    let scratch = |m: &mut Machine| {
        (0..4)
            .map(|i| m.read(Space::Memory, BAR + 0x20 + 4 * i, AccessSize::B4))
            .collect::<Vec<_>>()
    };
    let trace = dma_from_other_registers();
    let mut free = Machine::new(
        build_two,
        MachineOptions {
            work_per_input: u64::MAX,
            ..MachineOptions::default()
        },
    );
    let (setup, kick) = trace.rsplit_once("writel").unwrap();
    run(&mut free, setup);
    let before_kick = free.work_spent();
    run(&mut free, &format!("writel{kick}"));
    assert_eq!(
        free.work_spent(),
        before_kick + 1 + 4,
        "the kick, and one unit per register piece"
    );
    assert_eq!(free.read(Space::Memory, BAR + 0x0c, AccessSize::B4), 1);
    assert_eq!(scratch(&mut free), vec![0x1111_1111; 4]);
    assert_eq!(free.stop_reason(), None);

    // With room for the kick and two pieces, the transfer stops after two: the rest reads as
    // nothing answering, the device hears Budget, and the input ends quietly.
    let mut tight = Machine::new(
        build_two,
        MachineOptions {
            work_per_input: before_kick + 1 + 2,
            ..MachineOptions::default()
        },
    );
    run(&mut tight, &trace);
    assert_eq!(tight.stop_reason(), Some(StopReason::WorkBudget));
    assert_eq!(tight.read(Space::Memory, BAR + 0x0c, AccessSize::B4), 5);
    assert_eq!(
        scratch(&mut tight),
        vec![0x1111_1111, 0x1111_1111, 0xffff_ffff, 0xffff_ffff]
    );
}

#[test]
fn register_pieces_of_a_dma_are_not_a_hang_however_many() {
    // A per-operation budget of 3 units and a 16-byte transfer of four register calls: the
    // pieces are bounded by the transfer, so they do not spend the operation's budget.
    let mut m = Machine::new(
        build_two,
        MachineOptions {
            work_per_op: 3,
            work_per_input: u64::MAX,
            ..MachineOptions::default()
        },
    );
    run(&mut m, &dma_from_other_registers());
    assert_eq!(m.read(Space::Memory, BAR + 0x0c, AccessSize::B4), 1);
}

#[test]
fn no_dma_into_ram_starts_once_the_input_work_is_spent() {
    // SETUP, then the three register writes of a 16-byte RAM read (address, length, go): the
    // go write's own call is the unit that spends a budget of `after_setup + 3`.
    let mut free = Machine::new(
        build,
        MachineOptions {
            work_per_input: u64::MAX,
            ..MachineOptions::default()
        },
    );
    run(&mut free, SETUP);
    let after_setup = free.work_spent();
    let read_ram = |work_per_input: u64| {
        let mut m = Machine::new(
            build,
            MachineOptions {
                work_per_input,
                ..MachineOptions::default()
            },
        );
        run(&mut m, SETUP);
        m.write_bulk(0x100, &[0x11; 16]);
        m.write(Space::Memory, BAR, AccessSize::B4, 0x100);
        m.write(Space::Memory, BAR + 4, AccessSize::B4, 16);
        m.write(Space::Memory, BAR + 8, AccessSize::B4, 1);
        let stop = m.stop_reason();
        let result = m.read(Space::Memory, BAR + 0x0c, AccessSize::B4);
        let first = m.read(Space::Memory, BAR + 0x20, AccessSize::B4);
        (result, first, stop)
    };
    assert_eq!(
        read_ram(after_setup + 4),
        (1, 0x1111_1111, None),
        "a unit left: it moves"
    );
    assert_eq!(
        read_ram(after_setup + 3),
        (5, 0xffff_ffff, Some(StopReason::WorkBudget)),
        "spent: Budget, all-ones, and the input ends"
    );
}
