//! The fuzzing entry point (`models::fuzzing`) and what lies beside the fuzz targets: every seed
//! under ../fuzz/seeds replays as text with no finding, and so does its binary form (what
//! `ci/seed-corpus.sh` puts in the corpus); every dictionary entry is well formed, and each whole
//! op in it becomes the qtest commands its comment names.

mod common;

use common::random_bytes;
use harness::outcome::Outcome;
use harness::qtest::{Cmd, parse_line, parse_trace};
use harness::runner::Runner;
use models::fuzzing::{fuzz_one, run_one};
use std::path::{Path, PathBuf};

/// libFuzzer's `max_len` in fuzz/options/*.options: a seed longer than this would be cut.
const MAX_LEN: usize = 4096;

/// The worked example of docs/ops.md: `outb 0x64 0xaa`, `inb 0x60`, `event i8042 0x0222`.
const OPS_EXAMPLE: &[u8] = b"\x01\x01\x00\x00\x00\x00\x00\xaa\x00\x00\x00\x00\x00\x00\x00\
FUZZ\x00\x00\x00\x00\x00\x00\x00FUZZ\x08\x00\x02\x22";

const SEEDED_TARGETS: [&str; 9] = [
    "ps2",
    "pci",
    "pc",
    "e1000e",
    "igb",
    "aspeed_fmc",
    "aspeed_fmc_2600",
    "ide",
    "ide_atapi",
];

/// Targets whose dictionaries name the commands of their entries (the NIC dictionaries hold
/// register values a driver writes, which are not whole ops).
const COMMAND_DICT_TARGETS: [&str; 7] = [
    "ps2",
    "pci",
    "pc",
    "aspeed_fmc",
    "aspeed_fmc_2600",
    "ide",
    "ide_atapi",
];

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

fn seeds_dir() -> PathBuf {
    fuzz_dir().join("seeds")
}

fn seeds(target: &str) -> Vec<PathBuf> {
    let dir = seeds_dir().join(target);
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "qtest"))
        .collect();
    out.sort();
    out
}

fn is_ok(outcome: &Outcome) -> bool {
    matches!(outcome, Outcome::Ok { .. })
}

#[test]
fn run_one_runs_inputs_on_every_target() {
    let mut rng = fastrand::Rng::with_seed(0x5eed_f022);
    for target in models::TARGETS {
        let mut inputs: Vec<Vec<u8>> = vec![Vec::new(), OPS_EXAMPLE.to_vec(), b"FUZZFUZZ".to_vec()];
        for _ in 0..8 {
            let mut input = random_bytes(&mut rng, 64);
            input.extend_from_slice(b"FUZZ");
            input.extend(random_bytes(&mut rng, 32));
            inputs.push(input);
        }
        for input in &inputs {
            let outcome = run_one(target.name, input).expect("a known target");
            assert!(
                is_ok(&outcome),
                "{}: {input:02x?}: {outcome:?}",
                target.name
            );
            fuzz_one(target.name, input);
        }
    }
}

#[test]
fn run_one_counts_the_ops_of_the_worked_example() {
    assert_eq!(run_one("ps2", OPS_EXAMPLE), Some(Outcome::Ok { ops: 3 }));
}

#[test]
fn unknown_target_gives_none() {
    assert_eq!(run_one("no-such-target", b"FUZZ"), None);
    assert_eq!(run_one("", b""), None);
}

#[test]
fn seed_folders_name_targets_and_ps2_pci_pc_have_seeds() {
    for entry in std::fs::read_dir(seeds_dir()).expect("fuzz/seeds") {
        let name = entry.expect("directory entry").file_name();
        let name = name.to_string_lossy();
        assert!(
            models::target(&name).is_some(),
            "fuzz/seeds/{name} is not a target"
        );
    }
    for target in SEEDED_TARGETS {
        assert!(!seeds(target).is_empty(), "no seeds for {target}");
    }
}

#[test]
fn seeds_replay_and_convert_with_no_finding() {
    for target in SEEDED_TARGETS {
        let t = models::target(target).expect("target");
        let mut runner = Runner::new(t);
        for path in seeds(target) {
            let name = path.display();
            let text = std::fs::read_to_string(&path).expect("seed text");
            let cmds =
                parse_trace(&text).unwrap_or_else(|e| panic!("{name}:{}: {}", e.line, e.error));
            let outcome = runner
                .run_trace(&cmds)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(is_ok(&outcome), "{name}: {outcome:?}");

            let encoded = runner
                .trace_to_input(&cmds)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(
                encoded.dropped.is_empty(),
                "{name}: commands with no binary form on {target}: {:?}",
                encoded.dropped
            );
            assert!(
                encoded.bytes.len() <= MAX_LEN,
                "{name}: {} bytes, more than max_len {MAX_LEN}",
                encoded.bytes.len()
            );
            let outcome = runner.run_input(&encoded.bytes);
            assert!(is_ok(&outcome), "{name} as binary: {outcome:?}");
            // The cached runner of the fuzz entry point agrees with a fresh one.
            assert_eq!(run_one(target, &encoded.bytes), Some(outcome), "{name}");
        }
    }
}

/// libFuzzer's longest dictionary word (`FixedWord<64>`); AFL allows more.
const MAX_DICT_WORD: usize = 64;

/// One dictionary entry: its line number, name, bytes and the comment line just above it.
struct DictEntry {
    line: usize,
    name: String,
    bytes: Vec<u8>,
    comment: Option<String>,
}

/// Parse libFuzzer/AFL dictionary syntax: `name="value"` with `\\`, `\"` and `\xNN` escapes,
/// `#` comment lines, blank lines.
fn parse_dict(text: &str) -> Result<Vec<DictEntry>, String> {
    let mut entries = Vec::new();
    let mut comment = None;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() {
            comment = None;
            continue;
        }
        if let Some(c) = line.strip_prefix('#') {
            comment = Some(c.trim().to_string());
            continue;
        }
        let err = |what: &str| format!("line {}: {what}: {raw}", i + 1);
        let (name, quoted) = line.split_once('=').ok_or_else(|| err("no '='"))?;
        let value = quoted
            .strip_prefix('"')
            .and_then(|q| q.strip_suffix('"'))
            .ok_or_else(|| err("value not in double quotes at the end of the line"))?;
        let mut bytes = Vec::new();
        let mut chars = value.bytes();
        while let Some(b) = chars.next() {
            match b {
                b'\\' => match chars.next() {
                    Some(b'x') => {
                        let hex = [chars.next(), chars.next()];
                        let hex: Option<Vec<u8>> = hex.into_iter().collect();
                        let hex = hex.ok_or_else(|| err("short \\x escape"))?;
                        let hex = std::str::from_utf8(&hex).map_err(|_| err("bad \\x escape"))?;
                        bytes.push(u8::from_str_radix(hex, 16).map_err(|_| err("bad \\x escape"))?);
                    }
                    Some(c @ (b'\\' | b'"')) => bytes.push(c),
                    _ => return Err(err("unknown escape")),
                },
                b'"' => return Err(err("unescaped quote")),
                _ => bytes.push(b),
            }
        }
        entries.push(DictEntry {
            line: i + 1,
            name: name.trim().to_string(),
            bytes,
            comment: comment.take(),
        });
    }
    Ok(entries)
}

/// The qtest commands a comment claims (`outb 0x64 0xd4; outb 0x60 0xf4: what it is`), or
/// `None` when the comment is prose.
fn claimed_commands(comment: &str) -> Option<Vec<Cmd>> {
    let claim = comment.split_once(": ").map_or(comment, |(c, _)| c);
    claim
        .split("; ")
        .map(|part| parse_line(part).ok().flatten())
        .collect()
}

#[test]
fn dictionaries_are_well_formed_and_their_ops_do_what_they_say() {
    for target in COMMAND_DICT_TARGETS {
        let path = fuzz_dir().join(format!("dicts/{target}.dict"));
        let name = path.display();
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        let entries = parse_dict(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            entries.iter().any(|e| e.bytes == b"FUZZ"),
            "{name}: no separator entry"
        );
        let mut names = std::collections::HashSet::new();
        let mut runner = Runner::new(models::target(target).expect("target"));
        let prologue = runner.prologue().len();
        let mut checked = 0;
        for entry in &entries {
            let at = format!("{name}:{} {}", entry.line, entry.name);
            assert!(names.insert(entry.name.clone()), "{at}: duplicate name");
            assert!(
                (1..=MAX_DICT_WORD).contains(&entry.bytes.len()),
                "{at}: {} bytes",
                entry.bytes.len()
            );
            let Some(claimed) = entry.comment.as_deref().and_then(claimed_commands) else {
                continue;
            };
            let (trace, outcome) = runner.input_to_trace(&entry.bytes);
            assert!(is_ok(&outcome), "{at}: {outcome:?}");
            assert_eq!(trace[prologue..], claimed[..], "{at}");
            checked += 1;
        }
        assert!(
            checked >= 20,
            "{name}: only {checked} entries name their commands"
        );
    }
}

#[test]
fn options_files_set_the_max_len_the_seeds_are_held_to() {
    for target in SEEDED_TARGETS {
        let path = fuzz_dir().join(format!("options/{target}.options"));
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(
            text.lines().next(),
            Some("[libfuzzer]"),
            "{}",
            path.display()
        );
        let max_len = text
            .lines()
            .filter_map(|l| l.split_once('='))
            .find(|(k, _)| k.trim() == "max_len")
            .map(|(_, v)| v.trim().to_string());
        assert_eq!(max_len, Some(MAX_LEN.to_string()), "{}", path.display());
    }
}
