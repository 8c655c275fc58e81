//! The one fuzz entry every engine calls (cargo-fuzz/libFuzzer, AFL++, honggfuzz): run fuzzer
//! bytes on a target of a target table, turn a finding into a crash, aim the libFuzzer
//! mutator at device registers, replay files without an engine, and check that a run repeats
//! itself. It is generic over the table: devfuzz's own entries pass `models::TARGETS`, a crate
//! that depends only on `devfuzz-harness` (a Rust VMM's own device models, say) passes its
//! own. Each cargo-fuzz target is one
//! [`fuzz_target!`](crate::fuzz_target) line:
//!
//! ```ignore
//! #![cfg_attr(fuzzing, no_main)]
//! harness::fuzz_target!(my_devices::TARGETS, "my_widget");
//! ```
//!
//! and an AFL++ or honggfuzz entry calls [`fuzz_one`] in the engine's loop and
//! [`replay_without_engine`] without it.
//!
//! Each thread keeps one [`Runner`] per target, built on first use and reused for every later
//! input, so an input costs what [`Runner::run_input`] costs (and a look-up of the target
//! among the few this thread has used). Engines configure a fuzz binary through its
//! environment: [`MACHINE_OPTS_VAR`] (the machine profile's `key=value` options), [`BUGS_VAR`]
//! (planted bugs, added to those options), [`REENTRANCY_VAR`] (`guard` or `detect`) and
//! [`DETERMINISM_VAR`] (run every input twice and compare, see [`check_determinism`]).
//!
//! A whole target table in a few lines, and one input run through it:
//!
//! ```
//! use harness::access::{AccessRules, AccessSize, Space};
//! use harness::device::{Context, Device, RegionId, RegionSpec};
//! use harness::machine::MachineSpec;
//! use harness::outcome::Outcome;
//! use harness::target::{MachineProfile, Target};
//!
//! /// A scratch register at port 0x80.
//! #[derive(Clone, Debug, Default)]
//! struct Scratch(u8);
//!
//! impl Device for Scratch {
//!     fn name(&self) -> &'static str { "scratch" }
//!     fn regions(&self) -> Vec<RegionSpec> {
//!         vec![RegionSpec::new("scratch", Space::Io, 1, AccessRules::BYTES)]
//!     }
//!     fn read(&mut self, _: &mut dyn Context, _: RegionId, _: u64, _: AccessSize) -> u64 {
//!         u64::from(self.0)
//!     }
//!     fn write(&mut self, _: &mut dyn Context, _: RegionId, _: u64, _: AccessSize, v: u64) {
//!         self.0 = v as u8;
//!     }
//!     fn reset(&mut self) { *self = Self::default(); }
//! }
//!
//! fn machine() -> MachineSpec {
//!     let mut spec = MachineSpec::default();
//!     let dev = spec.add(Box::new(Scratch::default()));
//!     spec.map_fixed(dev, RegionId(0), 0x80, 0);
//!     spec
//! }
//!
//! static MACHINE: MachineProfile = MachineProfile::new("scratch-box", "one scratch port", machine);
//! static TARGETS: &[Target] = &[Target::new("scratch", "the scratch port", &MACHINE, &["scratch"])];
//!
//! // What the cargo-fuzz target runs for every input (it panics on a finding):
//! harness::entry::fuzz_one(TARGETS, "scratch", b"\x01\x00\x00\x00\x00\x2a");
//! assert!(matches!(harness::entry::run_one(TARGETS, "scratch", &[]), Some(Outcome::Ok { .. })));
//! ```

use crate::access::Space;
use crate::machine::{MachineOptions, ReentrancyMode};
use crate::observe::Observer;
use crate::outcome::{Finding, Outcome};
use crate::runner::Runner;
use crate::space::Backing;
use crate::target::Target;
use std::cell::RefCell;

/// Environment variable holding the options of the target's machine profile for fuzz binaries
/// (`key=value,key=value`, see [`crate::target::MachineProfile::builder`]).
pub const MACHINE_OPTS_VAR: &str = "DEVFUZZ_MACHINE_OPTS";

/// Environment variable naming the planted bugs fuzz binaries run with (`id,id` or `all`;
/// unset or empty: none). It is added to the machine options as their
/// [`BUGS_OPTION`](crate::target::BUGS_OPTION) item, so the devices take it when they are built.
pub const BUGS_VAR: &str = "DEVFUZZ_BUGS";

/// Environment variable choosing the re-entrancy mode of fuzz binaries: `guard` (or unset, the
/// default) or `detect` (every access into an engaged device is a finding).
pub const REENTRANCY_VAR: &str = "DEVFUZZ_REENTRANCY";

/// Environment variable that makes [`fuzz_one`] run every input twice from a cold machine and
/// compare what the runs did ([`check_determinism`]): `1` (or any value but empty and `0`)
/// turns it on. A difference is a crash, `devfuzz finding nondeterminism:<target>: ...`.
/// It costs more than twice the plain run (a cold start and a record per run).
pub const DETERMINISM_VAR: &str = "DEVFUZZ_DETERMINISM";

/// One target's cached state in this thread: its runner, and the device MMIO regions
/// [`mutate`] has seen mapped (inputs move BARs), newest last, at most [`REGIONS_REMEMBERED`].
struct Slot {
    name: &'static str,
    runner: Runner,
    seen: Vec<(u64, u64)>,
}

// The per-process runner cache an engine entry needs between its calls (engines call a plain
// function per input): thread-local, never shared, and it only caches what the environment
// configured, so runs stay deterministic.
thread_local! {
    /// This thread's runners, one per target name used.
    static RUNNERS: RefCell<Vec<Slot>> = const { RefCell::new(Vec::new()) };
    /// Whether [`DETERMINISM_VAR`] is on (read once per thread).
    static DETERMINISM: bool = std::env::var(DETERMINISM_VAR).is_ok_and(|v| !v.is_empty() && v != "0");
}

/// The target of `targets` named `name`.
///
/// ```
/// # use harness::target::{MachineProfile, Target};
/// # fn empty() -> harness::machine::MachineSpec { Default::default() }
/// static M: MachineProfile = MachineProfile::new("m", "", empty);
/// static TARGETS: &[Target] = &[Target::new("t", "", &M, &["*"])];
/// assert_eq!(harness::entry::find(TARGETS, "t").map(|t| t.name), Some("t"));
/// assert!(harness::entry::find(TARGETS, "u").is_none());
/// ```
pub fn find<'t>(targets: &'t [Target], name: &str) -> Option<&'t Target> {
    targets.iter().find(|t| t.name == name)
}

/// The re-entrancy mode a value of [`REENTRANCY_VAR`] names (empty: the default, guard).
///
/// ```
/// use harness::machine::ReentrancyMode;
/// assert_eq!(harness::entry::parse_reentrancy("detect"), Ok(ReentrancyMode::Detect));
/// assert!(harness::entry::parse_reentrancy("off").is_err());
/// ```
pub fn parse_reentrancy(value: &str) -> Result<ReentrancyMode, String> {
    match value.trim() {
        "" | "guard" => Ok(ReentrancyMode::Guard),
        "detect" => Ok(ReentrancyMode::Detect),
        other => Err(format!("{REENTRANCY_VAR}={other}: not guard or detect")),
    }
}

/// A runner for `target` with the machine options of [`MACHINE_OPTS_VAR`] and the mode of
/// [`REENTRANCY_VAR`]; a one-line reason when the environment is refused.
///
/// ```
/// # use harness::target::{MachineProfile, Target};
/// # fn empty() -> harness::machine::MachineSpec { Default::default() }
/// static M: MachineProfile = MachineProfile::new("m", "", empty);
/// let target = Target::new("t", "", &M, &["*"]);
/// let mut runner = harness::entry::runner_from_env(&target).unwrap();
/// assert_eq!(runner.run_input(&[]).summary(), "ok");
/// ```
pub fn runner_from_env(target: &Target) -> Result<Runner, String> {
    let opts = crate::target::with_bugs(
        &std::env::var(MACHINE_OPTS_VAR).unwrap_or_default(),
        &std::env::var(BUGS_VAR).unwrap_or_default(),
    );
    let build = target
        .machine
        .builder(&opts)
        .map_err(|e| format!("{MACHINE_OPTS_VAR}: {e}"))?;
    let missing = target.missing_devices(&build);
    if !missing.is_empty() {
        return Err(format!(
            "target {} fuzzes device '{}', which machine '{}' does not have",
            target.name,
            missing.join("', '"),
            target.machine.name
        ));
    }
    let reentrancy = parse_reentrancy(&std::env::var(REENTRANCY_VAR).unwrap_or_default())?;
    Ok(Runner::with_builder(
        target,
        build,
        MachineOptions {
            reentrancy,
            ..MachineOptions::default()
        },
    ))
}

/// Call `f` with this thread's runner for the target of `targets` named `name`, built on
/// first use; `None` when there is no such target. Runners are kept by target name, so the
/// names of all tables one process uses must differ.
///
/// # Panics
/// When the environment is refused ([`runner_from_env`]): process configuration, before any
/// input runs.
pub fn with_runner<R>(
    targets: &'static [Target],
    name: &str,
    f: impl FnOnce(&mut Runner) -> R,
) -> Option<R> {
    with_slot(targets, name, |slot| f(&mut slot.runner))
}

fn with_slot<R>(
    targets: &'static [Target],
    name: &str,
    f: impl FnOnce(&mut Slot) -> R,
) -> Option<R> {
    RUNNERS.with_borrow_mut(|runners| {
        let i = match runners.iter().position(|s| s.name == name) {
            Some(i) => i,
            None => {
                let target = find(targets, name)?;
                let runner = runner_from_env(target).unwrap_or_else(|e| panic!("devfuzz: {e}"));
                runners.push(Slot {
                    name: target.name,
                    runner,
                    seen: Vec::new(),
                });
                runners.len() - 1
            }
        };
        Some(f(&mut runners[i]))
    })
}

/// How many distinct MMIO regions [`mutate`] remembers per target.
pub const REGIONS_REMEMBERED: usize = 32;

/// One in this many custom-mutator calls of a libFuzzer target tries [`mutate`]; the others
/// (and those where it finds nothing to do) use libFuzzer's own mutations.
pub const AIM_DMA_ONE_IN: u32 = 8;

/// The custom mutation of the libFuzzer targets: with this thread's runner for the target
/// `name` of `targets` (built if needed, as [`fuzz_one`] would), plant the address of one of
/// the device MMIO regions mapped in its memory space into the data of a RAM_WRITE or
/// DMA_PATTERN op of `data[..size]`, so that device DMA reading it targets device registers
/// (the re-entrancy class), or the address of one of the device registers the program itself
/// accesses (half the time, when there are any); see [`crate::mutate::aim_dma_at_region`].
///
/// Runs no input: the regions are those of the runner's machine as the last input left it
/// (cached per layout) together with those earlier calls saw (up to [`REGIONS_REMEMBERED`]),
/// so a runner that has run nothing yet offers none on targets whose BARs the prologue maps.
/// Returns the new size (the length does not change, but is capped at `max_size`), or `None`
/// when nothing was changed: no such target, no region, no op to write into. Deterministic in
/// its arguments, the runner's layout and the regions seen before.
///
/// # Panics
/// As [`fuzz_one`] does for its process configuration, when it builds the first machine.
pub fn mutate(
    targets: &'static [Target],
    name: &str,
    data: &mut [u8],
    size: usize,
    max_size: usize,
    seed: u32,
) -> Option<usize> {
    with_slot(targets, name, |slot| {
        let all = slot.runner.live_regions();
        let mmio = |r: &&crate::runner::LiveRegion| {
            r.space == Space::Memory && matches!(r.backing, Backing::Device(..))
        };
        let live: Vec<(u64, u64)> = all.iter().filter(mmio).map(|r| (r.base, r.size)).collect();
        let registers = program_registers(&data[..size.min(data.len())], all);
        // The last input's layout is not necessarily the one of the input being mutated (a
        // seed may move BAR0 where the prologue did not put it): aim at every layout seen.
        let regions = &mut slot.seen;
        for r in live {
            if !regions.contains(&r) {
                if regions.len() == REGIONS_REMEMBERED {
                    regions.remove(0);
                }
                regions.push(r);
            }
        }
        crate::mutate::aim_dma_at_region(data, size.min(max_size), regions, &registers, seed)
    })
    .flatten()
}

/// The device MMIO register addresses (dword-aligned) the READ and WRITE ops of `input`
/// access, resolved against `live` ([`Runner::live_regions`]) as the runner would resolve them
/// now; at most 64, each once.
pub fn program_registers(input: &[u8], live: &[crate::runner::LiveRegion]) -> Vec<u64> {
    let mut out = Vec::new();
    if live.is_empty() {
        return out;
    }
    for op in crate::ops::decode(input) {
        let (crate::ops::Op::Read { region, offset, .. }
        | crate::ops::Op::Write { region, offset, .. }) = op
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

/// Run `data` as one binary input (see docs/ops.md) on the target of `targets` named `name`
/// with this thread's runner and return the outcome (a finding is returned, not raised);
/// `None` when there is no such target.
pub fn run_one(targets: &'static [Target], name: &str, data: &[u8]) -> Option<Outcome> {
    with_runner(targets, name, |runner| runner.run_input(data))
}

/// Run `data` as one binary input on the target named `name`, and panic if it finds a bug:
/// the body of a fuzz target. The panic message is one line,
/// `devfuzz finding <signature>: <details>`, so the engine records a crash and its log names the bug. With
/// [`DETERMINISM_VAR`] set, the input runs twice and a difference between the runs panics as
/// `devfuzz finding nondeterminism:<target>: <first difference>`.
///
/// # Panics
/// On a finding; when `targets` has no target `name` (a mistake in the fuzz target, not
/// something an input can cause); when the environment is refused ([`runner_from_env`]).
pub fn fuzz_one(targets: &'static [Target], name: &str, data: &[u8]) {
    let checked = DETERMINISM.with(|on| *on);
    let outcome = with_runner(targets, name, |runner| {
        if checked {
            check_determinism(runner, data)
                .unwrap_or_else(|d| panic!("devfuzz finding nondeterminism:{name}: {d}"))
        } else {
            runner.run_input(data)
        }
    });
    match outcome {
        None => {
            let names: Vec<&str> = targets.iter().map(|t| t.name).collect();
            panic!(
                "devfuzz: no fuzz target named '{name}' (targets: {})",
                names.join(", ")
            );
        }
        Some(Outcome::Finding(finding)) => panic!("{}", finding_line(&finding)),
        Some(Outcome::Ok { .. }) => {}
    }
}

/// A finding as the one-line crash message of a fuzz target.
///
/// ```
/// use harness::outcome::{Finding, FindingKind};
/// let f = Finding {
///     kind: FindingKind::Panic,
///     device: "widget".into(),
///     location: "widget/src/lib.rs:7".into(),
///     message: "index out of bounds:\nthe len is 16".into(),
///     backtrace: vec![],
///     op_index: 3,
///     register: None,
///     canaries: Default::default(),
/// };
/// let line = harness::entry::finding_line(&f);
/// assert!(line.starts_with("devfuzz finding panic:widget:widget/src/lib.rs:7: "));
/// assert!(!line.contains('\n'));
/// ```
pub fn finding_line(finding: &Finding) -> String {
    format!("devfuzz finding {}: {finding}", finding.signature()).replace('\n', " ")
}

/// Everything one run did that a second run of the same input must repeat: its outcome, the
/// record of every access with the value read ([`crate::observe`]), and the machine's state
/// after it ([`crate::machine::Machine::state_text`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observed {
    /// [`Outcome::summary`] of the run.
    pub outcome: String,
    /// The access record, rendered as a check program.
    pub record: String,
    /// The machine state after the run.
    pub state: String,
}

impl Observed {
    /// The first line in which `self` and `other` differ, as `what: 'this' then 'that'`;
    /// `None` when they are equal.
    ///
    /// ```
    /// use harness::entry::Observed;
    /// let a = Observed { outcome: "ok".into(), record: "inl 0x70 => 0x1\n".into(), state: String::new() };
    /// let mut b = a.clone();
    /// assert_eq!(a.difference(&b), None);
    /// b.record = "inl 0x70 => 0x2\n".into();
    /// assert_eq!(a.difference(&b).unwrap(), "record line 1: 'inl 0x70 => 0x1' then 'inl 0x70 => 0x2'");
    /// // A long line is shown from a little before where the two part.
    /// b.record = format!("{} offset: 7", "x".repeat(300));
    /// let mut c = b.clone();
    /// c.record = format!("{} offset: 8", "x".repeat(300));
    /// let d = b.difference(&c).unwrap();
    /// assert!(d.starts_with("record line 1: '...xxx"), "{d}");
    /// assert!(d.contains("offset: 7'") && d.contains("offset: 8'"), "{d}");
    /// ```
    pub fn difference(&self, other: &Observed) -> Option<String> {
        for (what, a, b) in [
            ("outcome", &self.outcome, &other.outcome),
            ("record", &self.record, &other.record),
            ("state", &self.state, &other.state),
        ] {
            if a == b {
                continue;
            }
            let mut la = a.lines();
            let mut lb = b.lines();
            for n in 1.. {
                match (la.next(), lb.next()) {
                    (Some(x), Some(y)) if x == y => continue,
                    (x, y) => {
                        let (x, y) = (x.unwrap_or("<end>"), y.unwrap_or("<end>"));
                        let from = x
                            .char_indices()
                            .zip(y.chars())
                            .find(|((_, a), b)| a != b)
                            .map_or(0, |((i, _), _)| i);
                        return Some(format!(
                            "{what} line {n}: '{}' then '{}'",
                            clip(x, from),
                            clip(y, from)
                        ));
                    }
                }
            }
        }
        None
    }
}

/// At most [`CLIP`] bytes of `line`, starting a little before byte `from` (where two lines
/// part), with `...` where something was left out.
fn clip(line: &str, from: usize) -> String {
    const BEFORE: usize = 40;
    let mut start = from.saturating_sub(BEFORE).min(line.len());
    while !line.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = (start + CLIP).min(line.len());
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    format!(
        "{}{}{}",
        if start > 0 { "..." } else { "" },
        &line[start..end],
        if end < line.len() { "..." } else { "" }
    )
}

/// The most bytes of a line [`Observed::difference`] shows.
pub const CLIP: usize = 160;

/// Run `input` on `runner` from a cold machine (reset and prologue, no checkpoint) with an
/// access record, and return what it did. The observer is removed afterwards.
pub fn observe(runner: &mut Runner, input: &[u8]) -> Observed {
    runner
        .machine()
        .observe(Some(Observer::new(Vec::new(), false)));
    let outcome = runner.run_input(input).summary();
    let entries = runner
        .machine()
        .observer_mut()
        .map(Observer::take)
        .unwrap_or_default();
    let state = runner.machine().state_text();
    runner.machine().observe(None);
    Observed {
        outcome,
        record: crate::observe::render(&entries),
        state,
    }
}

/// Run `input` twice from a cold machine and compare outcome, access record and final state
/// ([`observe`]). The same input must do the same thing: a model that reads the host clock,
/// keeps state outside its value or depends on the order of a hash map fails here. `Ok` with
/// the outcome when the runs agree, `Err` with the first difference
/// ([`Observed::difference`]) when they do not. The runner's checkpoint is kept.
///
/// A source that changes slowly (the wall clock's seconds) shows only when the two runs
/// straddle a change; [`observe`] runs apart in time (`devfuzz`-style `determinism` commands
/// pause between passes) make it certain.
///
/// ```
/// # use harness::target::{MachineProfile, Target};
/// # fn empty() -> harness::machine::MachineSpec { Default::default() }
/// static M: MachineProfile = MachineProfile::new("m", "", empty);
/// let mut runner = harness::runner::Runner::new(&Target::new("t", "", &M, &["*"]));
/// assert!(harness::entry::check_determinism(&mut runner, b"any bytes").is_ok());
/// ```
pub fn check_determinism(runner: &mut Runner, input: &[u8]) -> Result<Outcome, String> {
    let first = observe(runner, input);
    let second = observe(runner, input);
    if let Some(d) = first.difference(&second) {
        return Err(d);
    }
    Ok(runner.run_input(input))
}

/// What a fuzz target does when built without its engine (a plain stable build has no
/// `--cfg fuzzing`): run the files named on the command line, or else every file of `corpus`
/// and an empty input, through [`fuzz_one`].
///
/// # Panics
/// As [`fuzz_one`], and when a named file cannot be read.
pub fn replay_without_engine(targets: &'static [Target], name: &str, corpus: &std::path::Path) {
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
        fuzz_one(targets, name, &[]);
    }
    for file in files {
        let data = std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        fuzz_one(targets, name, &data);
    }
}

/// The whole of a cargo-fuzz target, after the file's `#![cfg_attr(fuzzing, no_main)]`:
/// `harness::fuzz_target!(TARGETS, "name")`, where `TARGETS` is a `&'static [Target]`.
///
/// Under cargo-fuzz (`cfg(fuzzing)`) it defines the libFuzzer entry, which calls
/// [`entry::fuzz_one`](crate::entry::fuzz_one), and a custom mutator: one call in
/// [`AIM_DMA_ONE_IN`](crate::entry::AIM_DMA_ONE_IN) (decided from libFuzzer's seed) tries
/// [`entry::mutate`](crate::entry::mutate), every other call (and one where it changes
/// nothing) is `libfuzzer_sys::fuzzer_mutate`. Without cargo-fuzz (a plain stable build) it
/// defines a `main` that runs [`entry::replay_without_engine`](crate::entry::replay_without_engine)
/// on the files named on the command line or on `corpus/<name>` beside the fuzz crate's
/// manifest. The calling crate needs `libfuzzer-sys` as a `cfg(fuzzing)` dependency:
///
/// ```toml
/// [target.'cfg(fuzzing)'.dependencies]
/// libfuzzer-sys = "0.4"
/// ```
#[macro_export]
macro_rules! fuzz_target {
    ($targets:expr, $name:literal) => {
        #[cfg(fuzzing)]
        libfuzzer_sys::fuzz_target!(|data: &[u8]| $crate::entry::fuzz_one($targets, $name, data));

        #[cfg(fuzzing)]
        libfuzzer_sys::fuzz_mutator!(|data: &mut [u8], size: usize, max_size: usize, seed: u32| {
            let aimed = if seed % $crate::entry::AIM_DMA_ONE_IN == 0 {
                $crate::entry::mutate(
                    $targets,
                    $name,
                    data,
                    size,
                    max_size,
                    seed / $crate::entry::AIM_DMA_ONE_IN,
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
        /// or else every file of `corpus/<target>` and an empty input.
        #[cfg(not(fuzzing))]
        fn main() {
            let corpus =
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(concat!("corpus/", $name));
            $crate::entry::replay_without_engine($targets, $name, &corpus);
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::MachineProfile;

    fn empty() -> crate::machine::MachineSpec {
        crate::machine::MachineSpec::default()
    }
    static M: MachineProfile = MachineProfile::new("m", "", empty);
    static TARGETS: &[Target] = &[Target::new("t", "", &M, &["*"])];

    #[test]
    #[should_panic(expected = "no fuzz target named 'nope' (targets: t)")]
    fn an_unknown_target_panics_with_the_names() {
        fuzz_one(TARGETS, "nope", b"");
    }

    #[test]
    fn runners_are_kept_per_target() {
        assert!(run_one(TARGETS, "t", b"").is_some());
        assert!(run_one(TARGETS, "u", b"").is_none());
        let n = RUNNERS.with_borrow(Vec::len);
        run_one(TARGETS, "t", b"x");
        assert_eq!(RUNNERS.with_borrow(Vec::len), n);
    }
}
