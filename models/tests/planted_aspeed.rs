//! The ASPEED FMC's planted bugs, driven by qtest on `aspeed_fmc`: selected, each sequence is a
//! panic finding in the FMC with the canary reached and triggered; not selected, the same
//! sequence is harmless and the canary stays at zero; no strict prefix of it finds anything.
//! Only built with `--features planted-bugs`.
#![cfg(feature = "planted-bugs")]

mod planted_common;
use planted_common::Selected;

use harness::outcome::CanaryCount as Canary;
use harness::outcome::{FindingKind, Outcome};
use planted_common::canary;

const DEVICE: &str = "aspeed.fmc-ast2500";
const FMC_FILE: &str = "models/src/aspeed/fmc/mod.rs";
const FLASH_FILE: &str = "models/src/aspeed/spi_nor.rs";

/// A read-mode read of CS1's default segment (0x28000000 on the AST2500): no flash there.
const CS_INDEX: &str = "readl 0x28000000\n";

/// The same through a segment the guest moved: CS2 over the first MiB of the window.
const CS_INDEX_MOVED: &str = "\
writel 0x1e620038 0x42400000
readb 0x20000010
";

/// An offset past the register array (0x00-0x9F) inside the 0x100-byte window.
const REGISTER_WINDOW: &str = "readl 0x1e6200a0\n";
const REGISTER_WINDOW_WRITE: &str = "writel 0x1e6200f0 0x0\n";

/// WRSR with the Macronix configuration DC=3 (10 dummy clocks), then QIOR4 (0xEC): four address
/// bytes and five dummy bytes do not fit the 8-byte command buffer.
const COMMAND_BUFFER: &str = "\
writel 0x1e620000 0x1000a
writel 0x1e620010 0x3
writeb 0x20000000 0x6
writel 0x1e620010 0x7
writel 0x1e620010 0x3
writeb 0x20000000 0x1
writew 0x20000000 0xc000
writel 0x1e620010 0x7
writel 0x1e620010 0x3
writeb 0x20000000 0xec
writel 0x20000000 0x0
writel 0x20000000 0x0
writeb 0x20000000 0x0
";

/// READ4 (0x13) at 0x02000000 on the 32 MiB mx25l25635e, then one data byte.
const ADDRESS_WRAP: &str = "\
writel 0x1e620000 0x1000a
writel 0x1e620010 0x3
writel 0x20000000 0x213
writeb 0x20000000 0x0
readb 0x20000000
";

/// The page-program variant: WREN, PP4 at 0x02000000 with one data byte, CS deasserted.
const ADDRESS_WRAP_PROGRAM: &str = "\
writel 0x1e620000 0x1000a
writel 0x1e620010 0x3
writeb 0x20000000 0x6
writel 0x1e620010 0x7
writel 0x1e620010 0x3
writel 0x20000000 0x212
writew 0x20000000 0x5a00
writel 0x1e620010 0x7
";

/// Run `trace` cold on a fresh `aspeed_fmc` runner (built now, so it takes the selection).
fn run(trace: &str) -> Outcome {
    planted_common::run("aspeed_fmc", trace)
}

/// Run `trace` as the fuzzer would: encoded as ops.
fn run_as_input(trace: &str) -> Outcome {
    planted_common::run_as_input("aspeed_fmc", trace)
}

fn assert_panic_in(outcome: &Outcome, file: &str) {
    let f = outcome
        .finding()
        .unwrap_or_else(|| panic!("expected a finding, got {outcome:?}"));
    assert_eq!(f.kind, FindingKind::Panic, "{f}");
    assert_eq!(f.device, DEVICE, "{f}");
    assert!(f.location.starts_with(file), "{f}");
    assert!(f.message.contains("index out of bounds"), "{f}");
}

fn assert_triggered(id: &str) {
    let c = canary(id);
    assert!(c.reached > 0 && c.triggered > 0, "{id}: {c:?}");
}

/// Every strict prefix of `trace` runs without a finding.
fn assert_needs_the_whole_sequence(trace: &str) {
    let lines: Vec<&str> = trace.lines().filter(|l| !l.trim().is_empty()).collect();
    for n in 0..lines.len() {
        let outcome = run(&lines[..n].join("\n"));
        assert!(
            outcome.finding().is_none(),
            "prefix of {n} lines: {outcome:?}"
        );
    }
}

/// With the bug not selected (the others are), the trace is harmless and its canary stays 0.
fn assert_harmless_unselected(id: &str, trace: &str) {
    let others: Vec<&str> = [
        "fmc-cs-index",
        "fmc-register-window",
        "m25p80-command-buffer",
        "m25p80-address-wrap",
    ]
    .into_iter()
    .filter(|b| *b != id)
    .collect();
    let _s = Selected::new(&others.join(","));
    let outcome = run(trace);
    assert!(outcome.finding().is_none(), "{id}: {outcome:?}");
    assert_eq!(canary(id), Canary::default(), "{id}");
    drop(_s);
    let _s = Selected::new("");
    assert_eq!(run(trace), Outcome::ok(trace.lines().count()), "{id}");
}

#[test]
fn cs_index_selected_is_an_out_of_bounds_index_in_the_fmc() {
    let _s = Selected::new("fmc-cs-index");
    let outcome = run(CS_INDEX);
    assert_panic_in(&outcome, FMC_FILE);
    assert_triggered("fmc-cs-index");
    let outcome = run(CS_INDEX_MOVED);
    assert_panic_in(&outcome, FMC_FILE);
    assert_eq!(outcome.finding().map(|f| f.op_index), Some(1));
    assert_panic_in(&run_as_input(CS_INDEX), FMC_FILE);
}

#[test]
fn cs_index_reached_but_not_triggered_by_cs0_traffic() {
    let _s = Selected::new("fmc-cs-index");
    assert!(
        run("readl 0x20000000\nreadl 0x27fffffc\n")
            .finding()
            .is_none()
    );
    let c = canary("fmc-cs-index");
    assert_eq!((c.reached, c.triggered), (2, 0));
}

#[test]
fn register_window_selected_reads_and_writes_past_the_array() {
    let _s = Selected::new("fmc-register-window");
    assert_panic_in(&run(REGISTER_WINDOW), FMC_FILE);
    assert_panic_in(&run(REGISTER_WINDOW_WRITE), FMC_FILE);
    assert_triggered("fmc-register-window");
    assert_panic_in(&run_as_input(REGISTER_WINDOW), FMC_FILE);
}

#[test]
fn register_window_reached_inside_the_array_without_harm() {
    let _s = Selected::new("fmc-register-window");
    assert!(
        run("writel 0x1e620098 0x1\nreadl 0x1e620098\n")
            .finding()
            .is_none()
    );
    let c = canary("fmc-register-window");
    assert_eq!((c.reached, c.triggered), (2, 0));
}

#[test]
fn command_buffer_selected_overflows_on_the_fifth_dummy_byte() {
    let _s = Selected::new("m25p80-command-buffer");
    let outcome = run(COMMAND_BUFFER);
    assert_panic_in(&outcome, FLASH_FILE);
    assert_eq!(outcome.finding().map(|f| f.op_index), Some(12));
    assert_triggered("m25p80-command-buffer");
    assert_needs_the_whole_sequence(COMMAND_BUFFER);
    assert_panic_in(&run_as_input(COMMAND_BUFFER), FLASH_FILE);
}

#[test]
fn command_buffer_fits_with_a_3_byte_address() {
    let _s = Selected::new("m25p80-command-buffer");
    // The same dummy setting with QIOR (0xEB) in 3-byte mode: 3 + 5 bytes fit.
    let trace = COMMAND_BUFFER.replace("writeb 0x20000000 0xec", "writeb 0x20000000 0xeb");
    let trace = trace.replace(
        "writel 0x20000000 0x0\nwritel",
        "writew 0x20000000 0x0\nwriteb 0x20000000 0x0\nwritel",
    );
    assert!(run(&trace).finding().is_none());
    let c = canary("m25p80-command-buffer");
    assert_eq!((c.reached, c.triggered), (1, 0));
}

#[test]
fn address_wrap_selected_reads_past_the_part() {
    let _s = Selected::new("m25p80-address-wrap");
    let outcome = run(ADDRESS_WRAP);
    assert_panic_in(&outcome, FLASH_FILE);
    assert_eq!(outcome.finding().map(|f| f.op_index), Some(4));
    assert_triggered("m25p80-address-wrap");
    assert_needs_the_whole_sequence(ADDRESS_WRAP);
    assert_panic_in(&run_as_input(ADDRESS_WRAP), FLASH_FILE);
}

#[test]
fn address_wrap_selected_programs_past_the_part() {
    let _s = Selected::new("m25p80-address-wrap");
    let outcome = run(ADDRESS_WRAP_PROGRAM);
    assert_panic_in(&outcome, FLASH_FILE);
    assert_eq!(
        outcome.finding().map(|f| f.op_index),
        Some(7),
        "on CS# high"
    );
}

#[test]
fn not_selected_the_sequences_are_harmless() {
    for (id, trace) in [
        ("fmc-cs-index", CS_INDEX),
        ("fmc-register-window", REGISTER_WINDOW),
        ("m25p80-command-buffer", COMMAND_BUFFER),
        ("m25p80-address-wrap", ADDRESS_WRAP),
        ("m25p80-address-wrap", ADDRESS_WRAP_PROGRAM),
    ] {
        assert_harmless_unselected(id, trace);
    }
}
