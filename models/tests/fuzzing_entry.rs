//! The fuzzing entry point (`harness::entry` over `models::TARGETS`) and what lies beside the fuzz targets: every seed
//! under ../fuzz/seeds replays as text with no finding, and so does its binary form (what
//! `ci/seed-corpus.sh` puts in the corpus); every dictionary entry is well formed, and each whole
//! op in it becomes the qtest commands its comment names.

mod common;

use common::random_bytes;
use harness::outcome::Outcome;
use harness::qtest::{Cmd, parse_line, parse_trace};
use harness::runner::Runner;
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

fn run_one(target: &str, data: &[u8]) -> Option<Outcome> {
    harness::entry::run_one(models::TARGETS, target, data)
}

fn fuzz_one(target: &str, data: &[u8]) {
    harness::entry::fuzz_one(models::TARGETS, target, data);
}

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
    assert_eq!(run_one("ps2", OPS_EXAMPLE), Some(Outcome::ok(3)));
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

#[test]
#[should_panic(expected = "no fuzz target named 'nope'")]
fn unknown_target_panics_with_the_names() {
    fuzz_one("nope", b"");
}

#[test]
fn the_programs_own_registers_are_aim_candidates() {
    let target = models::target("e1000e").unwrap();
    let text =
        std::fs::read_to_string(seeds_dir().join("e1000e/linux-bringup-loopback.qtest")).unwrap();
    let mut runner = Runner::new(target);
    let seed = runner
        .trace_to_input(&parse_trace(&text).unwrap())
        .unwrap()
        .bytes;
    runner.run_input(&seed);
    let registers = harness::entry::program_registers(&seed, runner.live_regions());
    // The seed moves BAR0 to 0xfebc0000 and programs TCTL (0x400), TDT (0x3818), ...
    for reg in [0xfebc_0400, 0xfebc_3818, 0xfebc_2800] {
        assert!(registers.contains(&reg), "{reg:#x} not in {registers:x?}");
    }
    assert!(harness::entry::program_registers(&seed, &[]).is_empty());
}

#[test]
fn mutate_aims_ram_write_data_at_the_targets_bars() {
    use harness::access::Space;
    use harness::ops::{Op, decode, encode};
    use harness::space::Backing;
    let mutate = |data: &mut [u8], size, max_size, seed| {
        harness::entry::mutate(models::TARGETS, "e1000e", data, size, max_size, seed)
    };
    let program = encode(&[
        Op::ClockStep(1),
        Op::RamWrite {
            addr: 0x2000,
            data: &[0; 16],
        },
    ])
    .unwrap();
    let mut data = program.clone();
    data.resize(64, 0xee);
    assert_eq!(
        harness::entry::mutate(models::TARGETS, "nope", &mut data, program.len(), 64, 1),
        None
    );
    // Run an input first, as the engine does: the prologue maps the BARs.
    assert!(matches!(run_one("e1000e", &[]), Some(Outcome::Ok { .. })));
    let bars: Vec<(u64, u64)> = harness::entry::with_runner(models::TARGETS, "e1000e", |r| {
        r.live_regions()
            .iter()
            .filter(|r| r.space == Space::Memory && matches!(r.backing, Backing::Device(..)))
            .map(|r| (r.base, r.size))
            .collect()
    })
    .unwrap();
    assert!(
        bars.iter().any(|&(base, _)| base == 0xe000_0000),
        "{bars:x?}"
    );
    for seed in 0..64 {
        let mut data = data.clone();
        assert_eq!(
            mutate(&mut data, program.len(), 64, seed),
            Some(program.len())
        );
        let ops: Vec<_> = decode(&data[..program.len()]).collect();
        let Op::RamWrite { addr: 0x2000, data } = ops[1] else {
            panic!("{ops:?}");
        };
        let values: Vec<u64> = data
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().unwrap()))
            .filter(|&v| v != 0)
            .collect();
        assert_eq!(values.len(), 1, "{data:x?}");
        assert!(
            bars.iter()
                .any(|&(base, size)| values[0] >= base && values[0] - base < size),
            "{:#x} not in {bars:x?}",
            values[0]
        );
    }
    // Capped at max_size.
    let mut short = data.clone();
    assert_eq!(mutate(&mut short, program.len(), 10, 0), None);
}
