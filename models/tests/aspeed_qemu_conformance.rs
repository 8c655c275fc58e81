//! The ASPEED FMC against QEMU's answers: every check program in tests/conformance/aspeed/
//! (driver-style probe, JEDEC id, reads in every mode, program/erase, DMA; QEMU 10's answers
//! on ast2500-evb and ast2600-evb, see the README there) runs on our `ast2500` / `ast2600`
//! machine. Every read must match, except those whose register (or note) is written down in
//! models/src/aspeed/qemu-differences.txt with its reason.

use harness::check::{self, LocalServer};
use harness::machine::MachineOptions;
use harness::runner::Runner;
use std::path::{Path, PathBuf};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/conformance/aspeed")
}

/// The patterns of qemu-differences.txt (`REGISTER reason`, `PREFIX* reason`, `#` comments).
fn intended() -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/aspeed/qemu-differences.txt");
    std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (pattern, reason) = l.split_once(char::is_whitespace).unwrap();
            assert!(!reason.trim().is_empty(), "{l}: no reason given");
            pattern.to_string()
        })
        .collect()
}

fn is_intended(patterns: &[String], register: &str) -> bool {
    let reg = register.split('/').next().unwrap_or(register);
    patterns.iter().any(|p| match p.strip_suffix('*') {
        Some(prefix) => reg.starts_with(prefix),
        None => reg == p,
    })
}

/// Each check program and the least score (percent of all its reads) it makes today; the rest
/// are intended differences (the flash clearing WEL after a program or erase is most of them,
/// and the MX66U51235F's SFDP table, which QEMU lacks). A model change that loses a read fails
/// here, whether or not its register is written down.
const PROGRAMS: &[(&str, f64)] = &[
    ("probe-ast2500", 98.9),
    ("probe-ast2600", 98.9),
    ("jedec-ast2500", 100.0),
    ("jedec-ast2600", 37.9),
    ("read-modes-ast2500", 100.0),
    ("read-modes-ast2600", 100.0),
    ("program-erase-ast2500", 73.8),
    ("program-erase-ast2600", 73.8),
    ("dma-ast2500", 95.4),
    ("dma-ast2600", 95.4),
    ("access-ast2500", 100.0),
];

#[test]
fn fmc_answers_drivers_as_qemu_does_but_for_the_written_down_differences() {
    let patterns = intended();
    let mut used = vec![false; patterns.len()];
    let mut files: Vec<String> = std::fs::read_dir(dir())
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.ends_with(".check"))
        .collect();
    files.sort();
    let mut listed: Vec<String> = PROGRAMS.iter().map(|(n, _)| format!("{n}.check")).collect();
    listed.sort();
    assert_eq!(files, listed, "every check program has a floor here");
    for &(name, floor) in PROGRAMS {
        let text = std::fs::read_to_string(dir().join(format!("{name}.check"))).unwrap();
        let program = check::parse_program(&text).unwrap();
        let machine = program.machine.clone().expect("# machine: header");
        let profile = models::machine(&machine).unwrap();
        let mut runner = Runner::for_machine(
            profile,
            MachineOptions {
                work_per_input: u64::MAX,
                ..MachineOptions::default()
            },
        );
        runner.reset_cold();
        assert!(program.checked_reads() > 20, "{name}");
        let report = check::check(&program, &mut LocalServer::new(&mut runner));
        assert!(report.stopped.is_none(), "{name}: {:?}", report.stopped);
        assert!(report.refused.is_empty(), "{name}: {:?}", report.refused);
        let unexplained: Vec<String> = report
            .mismatches
            .iter()
            .filter(|m| !is_intended(&patterns, &m.register))
            .map(|m| {
                format!(
                    "line {}: {}: expected {}, got {} ({})",
                    m.line, m.cmd, m.expected, m.got, m.register
                )
            })
            .collect();
        assert!(
            unexplained.is_empty(),
            "{name}: reads that differ from QEMU and are not in qemu-differences.txt:\n{}\n{}",
            unexplained.join("\n"),
            report.render(20)
        );
        for m in &report.mismatches {
            for (i, p) in patterns.iter().enumerate() {
                if is_intended(std::slice::from_ref(p), &m.register) {
                    used[i] = true;
                }
            }
        }
        eprintln!(
            "{name}: {:.2}% ({} of {} reads; {} intended differences)",
            report.score(),
            report.matched(),
            report.reads(),
            report.mismatches.len()
        );
        assert!(
            report.score() >= floor,
            "{name}: score {:.2}% below {floor}%\n{}",
            report.score(),
            report.render(20)
        );
    }
    // A written-down difference that no longer shows is stale: take it out of the file. (Lines
    // naming an access width, `REGION+OFFSET/SIZE`, or a prefix such as `timer-pending:`, are
    // `devfuzz diff-corpus` groups, not differences of these programs.)
    let stale: Vec<&String> = patterns
        .iter()
        .zip(&used)
        .filter(|(p, u)| !**u && !p.contains('/') && !p.contains(':'))
        .map(|(p, _)| p)
        .collect();
    assert!(
        stale.is_empty(),
        "qemu-differences.txt lists differences the programs no longer show: {stale:?}"
    );
}
