//! The one entry point every fuzz engine (cargo-fuzz/libFuzzer, AFL, honggfuzz) and the tests
//! call: run fuzzer bytes on a named target and turn a finding into a crash.
//!
//! Each thread keeps one [`Runner`] per target, built on first use and reused for every later
//! input (the runner resets its machine between inputs, and rebuilds it after a finding), so an
//! input costs what [`Runner::run_input`] costs and nothing more.
//!
//! Engines configure a fuzz binary through its environment, so [`fuzz_one`] takes the
//! [planted bugs](crate::planted) to activate from `DEVFUZZ_BUGS` before it builds its first
//! machine (in a build with the `planted-bugs` feature; otherwise none is ever active), and the
//! target machine's profile options from [`MACHINE_OPTS_VAR`] (`hda=none,hdc=cdrom-empty`:
//! see `devfuzz list`).
//!
//! Under libFuzzer the targets also install a custom mutator ([`mutate`], wired up by
//! [`devfuzz_fuzz_target!`](crate::devfuzz_fuzz_target)) that now and then aims DMA data at
//! the target's MMIO regions.

use crate::TARGETS;
use harness::access::Space;
use harness::outcome::{Finding, Outcome};
use harness::runner::Runner;
use harness::space::Backing;
use std::cell::RefCell;
use std::sync::Once;

thread_local! {
    /// One slot per entry of [`TARGETS`], in the same order.
    static RUNNERS: RefCell<Vec<Option<Runner>>> = const { RefCell::new(Vec::new()) };
    /// Per target: the device MMIO regions [`mutate`] has seen mapped (inputs move BARs, e.g.
    /// a seed that programs BAR0 itself), newest last, at most [`REGIONS_REMEMBERED`].
    static SEEN_REGIONS: RefCell<Vec<Vec<(u64, u64)>>> = const { RefCell::new(Vec::new()) };
}

/// How many distinct MMIO regions [`mutate`] remembers per target.
pub const REGIONS_REMEMBERED: usize = 32;

/// `DEVFUZZ_BUGS` is read once per process, before the first machine is built.
static PLANTED_FROM_ENV: Once = Once::new();

/// Environment variable holding the options of the target's machine profile for fuzz binaries
/// (what `devfuzz -O/--machine-opts` passes to an engine).
pub const MACHINE_OPTS_VAR: &str = "DEVFUZZ_MACHINE_OPTS";

/// Environment variable choosing the re-entrancy mode of fuzz binaries: `guard` (or unset, the
/// default: blocked, as QEMU >= 8.1) or `detect` (every DMA into an engaged device is a crash:
/// fuzzing that the guard's fixes hold up). What `devfuzz fuzz --reentrancy detect` sets.
pub const REENTRANCY_VAR: &str = "DEVFUZZ_REENTRANCY";

/// The re-entrancy mode a value of [`REENTRANCY_VAR`] names (empty: the default, guard).
pub fn parse_reentrancy(value: &str) -> Result<harness::machine::ReentrancyMode, String> {
    match value.trim() {
        "" | "guard" => Ok(harness::machine::ReentrancyMode::Guard),
        "detect" => Ok(harness::machine::ReentrancyMode::Detect),
        other => Err(format!("{REENTRANCY_VAR}={other}: not guard or detect")),
    }
}

/// The whole of a cargo-fuzz target for the devfuzz target named by the literal, after the
/// file's `#![cfg_attr(fuzzing, no_main)]`:
///
/// ```ignore
/// #![cfg_attr(fuzzing, no_main)]
/// models::devfuzz_fuzz_target!("e1000e");
/// ```
///
/// Under cargo-fuzz (`cfg(fuzzing)`) it defines the libFuzzer entry, which calls
/// `models::fuzzing::fuzz_one("e1000e", data)`, and a custom mutator: one call in
/// [`AIM_DMA_ONE_IN`] (decided from libFuzzer's seed) tries [`mutate`], every other call (and
/// one where [`mutate`] changes nothing) is `libfuzzer_sys::fuzzer_mutate`. Without it (a plain
/// stable build) it defines a `main` that runs [`replay_without_engine`] on the files named on
/// the command line or `fuzz/corpus/<target>`. The calling crate needs `libfuzzer-sys` as a
/// `cfg(fuzzing)` dependency.
#[macro_export]
macro_rules! devfuzz_fuzz_target {
    ($target:literal) => {
        #[cfg(fuzzing)]
        libfuzzer_sys::fuzz_target!(|data: &[u8]| $crate::fuzzing::fuzz_one($target, data));

        #[cfg(fuzzing)]
        libfuzzer_sys::fuzz_mutator!(|data: &mut [u8], size: usize, max_size: usize, seed: u32| {
            let aimed = if seed % $crate::fuzzing::AIM_DMA_ONE_IN == 0 {
                $crate::fuzzing::mutate(
                    $target,
                    data,
                    size,
                    max_size,
                    seed / $crate::fuzzing::AIM_DMA_ONE_IN,
                )
            } else {
                None
            };
            match aimed {
                Some(new_size) => new_size,
                None => libfuzzer_sys::fuzzer_mutate(data, size, max_size),
            }
        });

        /// Without cargo-fuzz (a plain stable build): run the files named on the command line,
        /// or else every file of `fuzz/corpus/<target>` and an empty input.
        #[cfg(not(fuzzing))]
        fn main() {
            let corpus =
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(concat!("corpus/", $target));
            $crate::fuzzing::replay_without_engine($target, &corpus);
        }
    };
}

/// Run `data` as one binary input (see docs/ops.md) on the target named `target`, and panic
/// if it finds a bug.
///
/// This is what a fuzz target's body is: `models::fuzzing::fuzz_one("ps2", data)`. The panic
/// message is one line, `devfuzz finding <signature>: <details>`, where the signature is
/// [`Finding::signature`] (kind, device, model source location), so the engine records a
/// crash and its log names the bug; `devfuzz replay <target> <crash file>` shows the rest.
///
/// # Panics
/// On a finding; when no target is named `target` (a mistake in the calling fuzz target, not
/// something guest input can cause); when `DEVFUZZ_BUGS` names an unknown planted bug; and
/// when `DEVFUZZ_MACHINE_OPTS` is refused by the target's machine profile (process
/// configuration: the message names the problem, before any input runs).
pub fn fuzz_one(target: &str, data: &[u8]) {
    let Some(index) = target_index(target) else {
        let names: Vec<&str> = TARGETS.iter().map(|t| t.name).collect();
        panic!(
            "devfuzz: no fuzz target named '{target}' (targets: {})",
            names.join(", ")
        );
    };
    planted_from_env();
    if let Outcome::Finding(finding) = run_at(index, data) {
        panic!("{}", finding_line(&finding));
    }
}

/// Take the planted-bug selection from `DEVFUZZ_BUGS`, once per process, before any machine is
/// built.
fn planted_from_env() {
    PLANTED_FROM_ENV.call_once(|| {
        if let Err(e) = crate::planted::select_from_env() {
            panic!("devfuzz: {}: {e}", crate::planted::ENV_VAR);
        }
    });
}

/// One in this many custom-mutator calls of a libFuzzer target tries [`mutate`]; the others
/// (and those where it finds nothing to do) use libFuzzer's own mutations.
pub const AIM_DMA_ONE_IN: u32 = 8;

/// The custom mutation of the libFuzzer targets: with this thread's runner for `target` (built
/// if needed, as [`fuzz_one`] would), plant the address of one of the device MMIO regions
/// mapped in its memory space into the data of a RAM_WRITE or DMA_PATTERN op of
/// `data[..size]`, so that device DMA reading it targets device registers (the re-entrancy
/// class), or the address of one of the device registers the program itself accesses (half
/// the time, when there are any); see [`harness::mutate::aim_dma_at_region`].
///
/// Runs no input: the regions are those of the runner's machine as the last input left it
/// (cached per layout) together with those earlier calls saw (up to [`REGIONS_REMEMBERED`]),
/// so a runner that has run nothing yet offers none on targets whose BARs the prologue maps.
/// Returns the new size (the length does not change, but is capped at `max_size`), or `None`
/// when nothing was changed: no such target, no region, no op to write into. Deterministic in its arguments, the runner's layout and the regions seen before.
///
/// # Panics
/// As [`fuzz_one`] does for its process configuration (`DEVFUZZ_BUGS`,
/// `DEVFUZZ_MACHINE_OPTS`), when it builds the first machine.
pub fn mutate(
    target: &str,
    data: &mut [u8],
    size: usize,
    max_size: usize,
    seed: u32,
) -> Option<usize> {
    let index = target_index(target)?;
    planted_from_env();
    let (live, registers) = with_runner(index, |runner| {
        let all = runner.live_regions();
        let mmio = |r: &&harness::runner::LiveRegion| {
            r.space == Space::Memory && matches!(r.backing, Backing::Device(..))
        };
        let live: Vec<(u64, u64)> = all.iter().filter(mmio).map(|r| (r.base, r.size)).collect();
        (live, program_registers(&data[..size.min(data.len())], all))
    });
    // The last input's layout is not necessarily the one of the input being mutated (a seed
    // may move BAR0 where the prologue did not put it): aim at every layout seen lately.
    SEEN_REGIONS.with_borrow_mut(|seen| {
        if seen.len() < TARGETS.len() {
            seen.resize_with(TARGETS.len(), Vec::new);
        }
        let regions = &mut seen[index];
        for r in live {
            if !regions.contains(&r) {
                if regions.len() == REGIONS_REMEMBERED {
                    regions.remove(0);
                }
                regions.push(r);
            }
        }
        harness::mutate::aim_dma_at_region(data, size.min(max_size), regions, &registers, seed)
    })
}

/// The device MMIO register addresses (dword-aligned) the READ and WRITE ops of `input` access,
/// resolved against `live` as the runner would resolve them now; at most 64, each once.
fn program_registers(input: &[u8], live: &[harness::runner::LiveRegion]) -> Vec<u64> {
    let mut out = Vec::new();
    if live.is_empty() {
        return out;
    }
    for op in harness::ops::decode(input) {
        let (harness::ops::Op::Read { region, offset, .. }
        | harness::ops::Op::Write { region, offset, .. }) = op
        else {
            continue;
        };
        let r = &live[usize::from(region) % live.len()];
        if r.space != Space::Memory || !matches!(r.backing, Backing::Device(..)) {
            continue;
        }
        let addr = r.base + ((u64::from(offset) % r.size) & !3);
        if !out.contains(&addr) {
            out.push(addr);
            if out.len() == 64 {
                break;
            }
        }
    }
    out
}

/// Run `data` as one binary input on the target named `target` with this thread's cached
/// runner, and return the outcome (a finding is returned, not raised). `None` when no target
/// has that name. Unlike [`fuzz_one`] it leaves the planted-bug selection as the caller set it.
pub fn run_one(target: &str, data: &[u8]) -> Option<Outcome> {
    Some(run_at(target_index(target)?, data))
}

fn target_index(name: &str) -> Option<usize> {
    TARGETS.iter().position(|t| t.name == name)
}

/// Run on `TARGETS[index]` with this thread's runner for it, built on first use.
fn run_at(index: usize, data: &[u8]) -> Outcome {
    with_runner(index, |runner| runner.run_input(data))
}

/// Call `f` with this thread's runner for `TARGETS[index]`, built on first use.
fn with_runner<R>(index: usize, f: impl FnOnce(&mut Runner) -> R) -> R {
    RUNNERS.with_borrow_mut(|runners| {
        if runners.len() < TARGETS.len() {
            runners.resize_with(TARGETS.len(), || None);
        }
        f(runners[index].get_or_insert_with(|| runner_from_env(&TARGETS[index])))
    })
}

/// A runner for `target` on its machine with the options of [`MACHINE_OPTS_VAR`].
fn runner_from_env(target: &harness::target::Target) -> Runner {
    let opts = std::env::var(MACHINE_OPTS_VAR).unwrap_or_default();
    let build = match target.machine.builder(&opts) {
        Ok(build) => build,
        Err(e) => panic!("devfuzz: {MACHINE_OPTS_VAR}: {e}"),
    };
    let missing = target.missing_devices(&build);
    if !missing.is_empty() {
        panic!(
            "devfuzz: {MACHINE_OPTS_VAR}={opts}: target {} fuzzes device '{}', which these options take away",
            target.name,
            missing.join("', '")
        );
    }
    let mode = parse_reentrancy(&std::env::var(REENTRANCY_VAR).unwrap_or_default())
        .unwrap_or_else(|e| panic!("devfuzz: {e}"));
    Runner::with_builder(
        target,
        build,
        harness::machine::MachineOptions {
            reentrancy: mode,
            ..Default::default()
        },
    )
}

/// The crash message: one line, so engines that keep only the last line of a crash log still
/// show which bug it was.
fn finding_line(finding: &Finding) -> String {
    let line = format!("devfuzz finding {}: {finding}", finding.signature());
    line.replace('\n', " ")
}

/// What a fuzz entry does when built without its engine (a plain stable build has no
/// `--cfg fuzzing`): run the files named on the command line, or else every file of `corpus`
/// and an empty input, through [`fuzz_one`]. A finding panics with its `devfuzz finding ...`
/// line, as under the engine. cargo-fuzz, AFL++ and honggfuzz entries all call this.
///
/// # Panics
/// On a finding, or when a named file cannot be read.
pub fn replay_without_engine(target: &str, corpus: &std::path::Path) {
    let mut files: Vec<std::path::PathBuf> = std::env::args_os().skip(1).map(Into::into).collect();
    if files.is_empty() {
        files.extend(
            std::fs::read_dir(corpus)
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path()),
        );
        files.sort();
        fuzz_one(target, &[]);
    }
    for file in files {
        let data = std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        fuzz_one(target, &data);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use harness::outcome::FindingKind;

    #[test]
    fn finding_line_is_one_line_with_the_signature() {
        let finding = Finding {
            kind: FindingKind::Panic,
            device: "i8042".to_string(),
            location: "models/src/i8042/mod.rs:12".to_string(),
            message: "index out of bounds:\nthe len is 16".to_string(),
            backtrace: vec!["i8042::read (models/src/i8042/mod.rs:12)".to_string()],
            op_index: 3,
            register: None,
        };
        let line = finding_line(&finding);
        assert!(
            line.starts_with("devfuzz finding panic:i8042:models/src/i8042/mod.rs:12: "),
            "{line}"
        );
        assert!(
            line.contains("index out of bounds: the len is 16"),
            "{line}"
        );
        assert!(line.contains("(op 3)"), "{line}");
        assert!(!line.contains('\n'));
    }

    #[test]
    fn the_reentrancy_variable_names_a_mode() {
        use harness::machine::ReentrancyMode;
        assert_eq!(parse_reentrancy(""), Ok(ReentrancyMode::Guard));
        assert_eq!(parse_reentrancy("guard"), Ok(ReentrancyMode::Guard));
        assert_eq!(parse_reentrancy("detect"), Ok(ReentrancyMode::Detect));
        assert!(
            parse_reentrancy("off")
                .unwrap_err()
                .contains("DEVFUZZ_REENTRANCY=off")
        );
    }

    #[test]
    fn the_programs_own_registers_are_aim_candidates() {
        let target = &TARGETS[target_index("e1000e").unwrap()];
        let text = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../fuzz/seeds/e1000e/linux-bringup-loopback.qtest"),
        )
        .unwrap();
        let mut runner = Runner::new(target);
        let seed = runner
            .trace_to_input(&harness::qtest::parse_trace(&text).unwrap())
            .unwrap()
            .bytes;
        runner.run_input(&seed);
        let registers = program_registers(&seed, runner.live_regions());
        // The seed moves BAR0 to 0xfebc0000 and programs TCTL (0x400), TDT (0x3818), ...
        for reg in [0xfebc_0400, 0xfebc_3818, 0xfebc_2800] {
            assert!(registers.contains(&reg), "{reg:#x} not in {registers:x?}");
        }
        assert!(program_registers(&seed, &[]).is_empty());
    }

    #[test]
    fn mutate_aims_ram_write_data_at_the_targets_bars() {
        use harness::ops::{Op, decode, encode};
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
        assert_eq!(mutate("nope", &mut data, program.len(), 64, 1), None);
        // Run an input first, as the engine does: the prologue maps the BARs.
        assert!(matches!(run_one("e1000e", &[]), Some(Outcome::Ok { .. })));
        let bars: Vec<(u64, u64)> = with_runner(target_index("e1000e").unwrap(), |r| {
            r.live_regions()
                .iter()
                .filter(|r| r.space == Space::Memory && matches!(r.backing, Backing::Device(..)))
                .map(|r| (r.base, r.size))
                .collect()
        });
        assert!(
            bars.iter().any(|&(base, _)| base == 0xe000_0000),
            "{bars:x?}"
        );
        for seed in 0..64 {
            let mut data = data.clone();
            assert_eq!(
                mutate("e1000e", &mut data, program.len(), 64, seed),
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
        assert_eq!(mutate("e1000e", &mut short, program.len(), 10, 0), None);
    }

    #[test]
    #[should_panic(expected = "no fuzz target named 'nope'")]
    fn unknown_target_panics_with_the_names() {
        fuzz_one("nope", b"");
    }
}
