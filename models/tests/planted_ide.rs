//! The IDE planted bugs, driven by qtest: selected, each sequence is a finding in `piix3-ide`
//! with the canary reached and triggered; not selected, the same sequence is harmless and the
//! canary stays at zero; no strict prefix and no single command of it finds anything; and each
//! is reachable as a fuzz input. Only built with `--features planted-bugs`.
#![cfg(feature = "planted-bugs")]

mod planted_common;
use planted_common::{Selected, assert_needs_the_whole_sequence, lines, run, run_as_input};

use harness::outcome::CanaryCount as Canary;
use harness::outcome::{FindingKind, Outcome};
use planted_common::canary;

const IDS: [&str; 5] = [
    "ide-prd-zero-sectors",
    "ide-atapi-data-overrun",
    "ide-atapi-lba-overread",
    "ide-dma-partial-sector",
    "ide-chs-zero-geometry",
];

/// BAR4 at 0xc000, I/O and bus mastering on (what the fuzz prologue does too).
const PCI_SETUP: &str = "\
outl 0xcf8 0x80000920
outl 0xcfc 0xc001
outl 0xcf8 0x80000904
outw 0xcfc 0x5
";

/// One PRD of 0x100 bytes with EOT: no complete sector. READ DMA, START, let it run.
const PRD_ZERO_SECTORS: &str = "\
write 0x1000 0x8 0x0000200000010080
outl 0xc004 0x1000
outb 0x1f7 0xc8
outb 0xc000 0x9
clock_step
";

/// START STOP UNIT with power condition 1, then one data write too many.
const ATAPI_DATA_OVERRUN: &str = "\
outb 0x177 0xa0
outw 0x170 0x001b
outw 0x170 0x0
outw 0x170 0x0010
outw 0x170 0x0
outw 0x170 0x0
outw 0x170 0x0
outw 0x170 0x0
";

/// READ(10) of one sector at LBA 1024 of the 1024-sector blank medium, by PIO.
const ATAPI_LBA_OVERREAD: &str = "\
outb 0x177 0xa0
outw 0x170 0x0028
outw 0x170 0x0
outw 0x170 0x0004
outw 0x170 0x0
outw 0x170 0x0001
outw 0x170 0x0
clock_step
";

/// READ DMA of 2 sectors with one 768-byte PRD.
const DMA_PARTIAL_SECTOR: &str = "\
write 0x1000 0x8 0x0000200000030080
outl 0xc004 0x1000
outb 0x1f2 0x2
outb 0x1f7 0xc8
outb 0xc000 0x9
clock_step
";

/// INITIALIZE DEVICE PARAMETERS with 0 sectors per track, then a CHS READ SECTORS.
const CHS_ZERO_GEOMETRY: &str = "\
outb 0x1f2 0x0
outb 0x1f7 0x91
outb 0x1f7 0x20
clock_step
";

fn with_pci(trace: &str) -> String {
    format!("{PCI_SETUP}{trace}")
}

fn assert_finding(outcome: &Outcome, kind: FindingKind, file: &str) {
    let f = outcome
        .finding()
        .unwrap_or_else(|| panic!("expected a finding, got {outcome:?}"));
    assert_eq!(f.kind, kind, "{f}");
    assert_eq!(f.device, "piix3-ide", "{f}");
    assert!(f.location.starts_with(file), "{f}");
}

fn assert_only_canary(id: &str) {
    for other in IDS.iter().filter(|o| **o != id) {
        assert_eq!(canary(other), Canary::default(), "{other}");
    }
}

fn assert_fired(id: &str) -> Canary {
    let c = canary(id);
    assert!(c.reached > 0 && c.triggered > 0, "{id}: {c:?}");
    c
}

/// Each bug: (id, target, trace, kind, file).
fn cases() -> [(
    &'static str,
    &'static str,
    String,
    FindingKind,
    &'static str,
); 5] {
    [
        (
            IDS[0],
            "ide",
            with_pci(PRD_ZERO_SECTORS),
            FindingKind::Hang,
            "models/src/ide/channel.rs",
        ),
        (
            IDS[1],
            "ide_atapi",
            ATAPI_DATA_OVERRUN.to_string(),
            FindingKind::Panic,
            "models/src/ide/channel.rs",
        ),
        (
            IDS[2],
            "ide_atapi",
            ATAPI_LBA_OVERREAD.to_string(),
            FindingKind::Panic,
            "models/src/ide/backend/medium.rs",
        ),
        (
            IDS[3],
            "ide",
            with_pci(DMA_PARTIAL_SECTOR),
            FindingKind::Panic,
            "models/src/ide/channel.rs",
        ),
        (
            IDS[4],
            "ide",
            CHS_ZERO_GEOMETRY.to_string(),
            FindingKind::Panic,
            "models/src/ide/sector_address.rs",
        ),
    ]
}

#[test]
fn each_bug_selected_is_a_finding_on_its_last_command() {
    for (id, target, trace, kind, file) in cases() {
        let _s = Selected::new(id);
        let outcome = run(target, &trace);
        assert_finding(&outcome, kind, file);
        assert_eq!(
            outcome.finding().map(|f| f.op_index),
            Some(lines(&trace).len() - 1),
            "{id}"
        );
        assert_fired(id);
        assert_only_canary(id);
    }
}

#[test]
fn each_bug_is_reachable_as_a_fuzz_input() {
    for (id, target, trace, kind, file) in cases() {
        let _s = Selected::new(id);
        assert_finding(&run_as_input(target, &trace), kind, file);
    }
}

#[test]
fn each_bug_not_selected_is_harmless() {
    for (id, target, trace, _, _) in cases() {
        let others: Vec<&str> = IDS.iter().copied().filter(|o| *o != id).collect();
        let _s = Selected::new(&others.join(","));
        let outcome = run(target, &trace);
        assert!(outcome.finding().is_none(), "{id}: {outcome:?}");
        assert_eq!(canary(id), Canary::default(), "{id}");
    }
}

#[test]
fn each_bug_needs_its_whole_sequence() {
    for (id, target, trace, _, _) in cases() {
        let _s = Selected::new(id);
        assert_needs_the_whole_sequence(target, &trace);
    }
}

#[test]
fn all_selected_each_sequence_finds_its_own_bug() {
    let _s = Selected::new("all");
    for (id, target, trace, kind, file) in cases() {
        let outcome = run(target, &trace);
        assert_finding(&outcome, kind, file);
        assert_fired(id);
    }
}

#[test]
fn prd_zero_sectors_a_full_sector_table_is_not_triggered() {
    let _s = Selected::new("ide-prd-zero-sectors");
    // 0x200 bytes: the sector moves; no re-arm.
    let trace = with_pci(&PRD_ZERO_SECTORS.replace("0x0000200000010080", "0x0000200000020080"));
    assert!(run("ide", &trace).finding().is_none());
    assert_eq!(canary("ide-prd-zero-sectors").triggered, 0);
}

#[test]
fn dma_partial_sector_whole_sectors_are_not_triggered() {
    let _s = Selected::new("ide-dma-partial-sector");
    // 512 bytes for 2 sectors: one whole sector moves, then the table ends.
    let trace = with_pci(&DMA_PARTIAL_SECTOR.replace("0x0000200000030080", "0x0000200000020080"));
    assert!(run("ide", &trace).finding().is_none());
    let c = canary("ide-dma-partial-sector");
    assert_eq!((c.reached > 0, c.triggered), (true, 0), "{c:?}");
}

#[test]
fn atapi_lba_overread_in_range_reads_are_not_triggered() {
    let _s = Selected::new("ide-atapi-lba-overread");
    // LBA 1023, the medium's last sector.
    let trace = ATAPI_LBA_OVERREAD.replace(
        "outw 0x170 0x0004\noutw 0x170 0x0\n",
        "outw 0x170 0xff03\noutw 0x170 0x0\n",
    );
    assert!(run("ide_atapi", &trace).finding().is_none());
    let c = canary("ide-atapi-lba-overread");
    assert_eq!((c.reached, c.triggered), (1, 0));
}

#[test]
fn atapi_data_overrun_start_stop_without_power_condition_completes() {
    let _s = Selected::new("ide-atapi-data-overrun");
    let trace = ATAPI_DATA_OVERRUN.replace("0x0010", "0x0002");
    assert!(run("ide_atapi", &trace).finding().is_none());
    assert_eq!(canary("ide-atapi-data-overrun"), Canary::default());
}

#[test]
fn chs_zero_geometry_lba_commands_do_not_divide() {
    let _s = Selected::new("ide-chs-zero-geometry");
    // The zero geometry is taken (triggered), but an LBA command never converts to CHS.
    let trace = CHS_ZERO_GEOMETRY.replace("outb 0x1f7 0x20", "outb 0x1f6 0xe0\noutb 0x1f7 0x20");
    assert!(run("ide", &trace).finding().is_none());
    assert_eq!(
        canary("ide-chs-zero-geometry"),
        Canary {
            reached: 1,
            triggered: 1
        }
    );
}
