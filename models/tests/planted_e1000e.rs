//! The e1000e planted bugs, driven by qtest on the `e1000e` target: selected, the sequence is a
//! finding in e1000e with the canary triggered; not selected, the same sequence is harmless.
//! Only built with `--features planted-bugs`.
#![cfg(feature = "planted-bugs")]

use harness::outcome::{FindingKind, Outcome};
use harness::qtest::parse_trace;
use harness::runner::Runner;

const ENABLE: &str = "\
outl 0xcf8 0x80001010
outl 0xcfc 0xfebc0000
outl 0xcf8 0x80001004
outw 0xcfc 0x0006
";

/// TDLEN = 8 descriptors, TDH = 9 (outside), TDT = 1.
const HEAD_OUTSIDE_RING: &str = "\
writel 0xfebc3800 0x10000
writel 0xfebc3808 0x80
writel 0xfebc3810 9
writel 0xfebc3818 1
writel 0xfebc0400 0x000400fa
";

/// Context descriptor (HDRLEN 14, MSS 0, TSE) then a 100-byte TSE|EOP|RS data descriptor.
fn tso_trace() -> String {
    format!(
        "{ENABLE}\
write 0x10000 0x10 0x000000000000000000000024000e0000
write 0x10010 0x10 0x00000400000000006400102d00000000
writel 0xfebc3800 0x10000
writel 0xfebc3808 0x80
writel 0xfebc0400 0x000400fa
writel 0xfebc3818 2
"
    )
}

/// RX ring with one 2048-byte buffer, RCTL.EN|UPE (no LPE/SBP), a 3000-byte frame.
fn rx_oversize_trace() -> String {
    let frame = format!("52540012345652540012345708{}", "00".repeat(2987));
    format!(
        "{ENABLE}\
write 0x20000 0x10 0x00000300000000000000000000000000
writel 0xfebc2800 0x20000
writel 0xfebc2808 0x80
writel 0xfebc2818 7
writel 0xfebc0100 0x0400001a
event e1000e 0x{frame}
"
    )
}

/// MAC loopback with the RX buffer on TCTL; the frame's first dword keeps TCTL.EN.
fn loopback_bypass_trace() -> String {
    format!(
        "{ENABLE}\
write 0x20000 0x10 0x0004bcfe000000000000000000000000
writel 0xfebc2800 0x20000
writel 0xfebc2808 0x80
writel 0xfebc2818 7
writel 0xfebc0100 0x0400805a
write 0x10000 0x10 0x00000400000000003c00000b00000000
write 0x40000 0x3c 0xfa000400ffffffffffff
writel 0xfebc3800 0x10000
writel 0xfebc3808 0x80
writel 0xfebc0400 0x000400fa
writel 0xfebc3818 1
"
    )
}

fn run(selected: &str, trace: &str) -> Outcome {
    let cmds = parse_trace(trace).expect("parses");
    let target = models::target("e1000e").expect("target");
    let build = target
        .machine
        .builder(&harness::target::with_bugs("", selected))
        .expect("known ids");
    let mut runner = Runner::with_builder(target, build, Default::default());
    runner.run_trace(&cmds).expect("runs")
}

fn check(id: &str, trace: &str, kind: FindingKind) {
    let outcome = run(id, trace);
    let finding = outcome
        .finding()
        .unwrap_or_else(|| panic!("{id}: {outcome:?}"));
    assert_eq!(finding.kind, kind, "{id}: {}", finding.signature());
    assert!(
        finding.signature().contains("e1000e"),
        "{}",
        finding.signature()
    );
    assert!(outcome.canaries().get(id).triggered > 0, "{id} canary");
    let outcome = run("", trace);
    assert!(
        outcome.finding().is_none(),
        "{id} not selected: {outcome:?}"
    );
    assert!(outcome.canaries().is_empty());
}

#[test]
fn head_outside_ring_is_a_hang() {
    check(
        "e1000e-head-outside-ring",
        &format!("{ENABLE}{HEAD_OUTSIDE_RING}"),
        FindingKind::Hang,
    );
}

#[test]
fn tso_zero_mss_is_a_hang() {
    check("e1000e-tso-zero-mss", &tso_trace(), FindingKind::Hang);
}

#[test]
fn rx_oversize_is_a_panic() {
    check(
        "e1000e-rx-oversize",
        &rx_oversize_trace(),
        FindingKind::Panic,
    );
}

#[test]
fn loopback_bypass_is_a_panic() {
    check(
        "e1000e-loopback-bypass",
        &loopback_bypass_trace(),
        FindingKind::Panic,
    );
}
