//! `devfuzz fuzz`: a campaign of one engine ([`crate::engines`]) on one target, in three
//! steps: the target's seeds into its corpus, the engine's run (with dictionary and limits),
//! then triage of every new crash file (replay, group by signature, minimise, reproducer).

use crate::engines::libfuzzer::Sanitizer;
use crate::engines::{EngineName, Run};
use harness::outcome::Outcome;
use harness::runner::Runner;
use harness::target::Target;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

// `bench` and `coverage` build and run libFuzzer as campaigns do.
pub use crate::engines::libfuzzer::{LEN_CONTROL, ensure_cargo_fuzz, fuzz_build_args};

/// Settings of one campaign.
pub struct Campaign<'a> {
    /// The workspace root (holds `fuzz/`), absolute.
    pub root: PathBuf,
    /// The target.
    pub target: &'a Target,
    /// Seconds to fuzz.
    pub seconds: u64,
    /// Parallel fuzzing processes.
    pub jobs: u32,
    /// Largest input in bytes.
    pub max_len: usize,
    /// Per-input timeout in seconds.
    pub timeout: u64,
    /// Memory limit per process in MiB.
    pub rss_limit_mb: u64,
    /// Planted bugs to select (`DEVFUZZ_BUGS`), empty for none.
    pub bugs: String,
    /// Options of the target's machine profile (`DEVFUZZ_MACHINE_OPTS`), empty for defaults;
    /// already validated.
    pub machine_opts: String,
    /// cargo-fuzz sanitizer (`none` by default: harness and models have no `unsafe`).
    pub sanitizer: Sanitizer,
    /// What the libFuzzer build instruments (`--instrument`).
    pub instrument: crate::fuzz_build::Instrument,
    /// Which fuzzer drives the campaign.
    pub engine: EngineName,
    /// Write each reproducer's access record next to it (`<artifact>.record.qtest`).
    pub record: bool,
    /// Re-entrancy mode of the fuzz binaries (`DEVFUZZ_REENTRANCY`) and of triage.
    pub reentrancy: harness::machine::ReentrancyMode,
}

/// `devfuzz fuzz`'s per-input timeout in seconds (`--timeout`), which `devfuzz bench` passes
/// to its runs too: an input slower than this is a `timeout-*` crash, not a run held up.
pub const DEFAULT_TIMEOUT_SECS: u64 = 10;

/// Replays triage may spend minimising one crash: a slow crash must not stall the report.
const TRIAGE_MAX_RUNS: usize = 3000;

/// One group of crashes with the same signature.
pub struct Group {
    /// The signature (or why the artifact did not reproduce).
    pub signature: String,
    /// How many artifacts hit it.
    pub inputs: usize,
    /// Commands in the minimised reproducer.
    pub minimized_len: Option<usize>,
    /// The reproducer written next to the artifact.
    pub reproducer: Option<PathBuf>,
    /// The artifact it came from.
    pub artifact: PathBuf,
    /// For re-entrancies: the register the access landed in (part of the group's key).
    pub register: Option<String>,
}

/// Turn `fuzz/seeds/<target>/*.qtest` into `fuzz/corpus/<target>/seed-<stem>` binary inputs.
pub fn seed_corpus(root: &Path, target: &Target) -> Result<usize, String> {
    seed_corpus_into(root, target, &root.join("fuzz/corpus").join(target.name))
}

/// Turn the target's seeds into binary inputs `seed-<stem>` in `corpus`.
pub fn seed_corpus_into(root: &Path, target: &Target, corpus: &Path) -> Result<usize, String> {
    let seeds = root.join("fuzz/seeds").join(target.name);
    std::fs::create_dir_all(corpus)
        .map_err(|e| format!("cannot create {}: {e}", corpus.display()))?;
    let Ok(entries) = std::fs::read_dir(&seeds) else {
        return Ok(0);
    };
    let mut paths: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "qtest"))
        .collect();
    paths.sort();
    let mut runner = Runner::new(target);
    for path in &paths {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let cmds = harness::qtest::parse_trace(&text)
            .map_err(|e| format!("{}:{}: {}", path.display(), e.line, e.error))?;
        let encoded = runner
            .trace_to_input(&cmds)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("seed");
        let out = corpus.join(format!("seed-{stem}"));
        std::fs::write(&out, encoded.bytes)
            .map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    }
    Ok(paths.len())
}

impl Campaign<'_> {
    /// Run the campaign: make sure the engine's tool runs, seed the corpus, fuzz, then triage
    /// the new crash files. Returns the crash groups.
    pub fn run(&self) -> Result<Vec<Group>, String> {
        let engine = self.engine.engine();
        let name = self.target.name;
        let entry = engine.entry_file(&self.root, name);
        if !entry.is_file() {
            return Err(format!(
                "no {} entry for target {name} (expected {})",
                self.engine,
                entry.display()
            ));
        }
        engine.ensure_tool()?;
        let seeded = seed_corpus(&self.root, self.target)?;
        eprintln!("devfuzz: {seeded} seed(s) converted into fuzz/corpus/{name}");
        let dict = self.root.join("fuzz/dicts").join(format!("{name}.dict"));
        let crashes = engine.run(&Run {
            root: &self.root,
            target: name,
            seconds: self.seconds,
            jobs: self.jobs.max(1),
            bugs: &self.bugs,
            machine_opts: &self.machine_opts,
            reentrancy: self.reentrancy.as_str(),
            corpus: self.root.join("fuzz/corpus").join(name),
            dict: dict.is_file().then_some(dict),
            max_len: self.max_len,
            timeout_secs: self.timeout,
            rss_limit_mb: self.rss_limit_mb,
            sanitizer: self.sanitizer,
            instrument: self.instrument,
        })?;
        Ok(self.triage().run(&crashes))
    }

    /// How this campaign's crash files are triaged: on its machine, with its planted bugs and
    /// re-entrancy mode.
    pub fn triage(&self) -> Triage<'_> {
        Triage {
            target: self.target,
            bugs: self.bugs.clone(),
            machine_opts: self.machine_opts.clone(),
            reentrancy: self.reentrancy,
            record: self.record,
        }
    }
}

/// How crash files are triaged: the machine they replay on and what a reproducer records.
/// `devfuzz fuzz` triages a campaign's new crash files; `devfuzz bench` those of its exec/s runs.
pub struct Triage<'a> {
    /// The target the crash files are inputs of.
    pub target: &'a Target,
    /// Planted bugs to select (`DEVFUZZ_BUGS`), empty for none.
    pub bugs: String,
    /// Options of the target's machine profile, empty for defaults; already validated.
    pub machine_opts: String,
    /// Re-entrancy mode to replay in.
    pub reentrancy: harness::machine::ReentrancyMode,
    /// Write each reproducer's access record next to it (`<artifact>.record.qtest`).
    pub record: bool,
}

impl Triage<'_> {
    /// Replay each artifact in-process, group by signature, minimise one per group and write
    /// its `.qtest` reproducer next to it.
    pub fn run(&self, new: &[PathBuf]) -> Vec<Group> {
        // Keyed by the finding's path: its signature, and for a re-entrancy the register.
        let mut groups: BTreeMap<(String, Option<String>), Vec<PathBuf>> = BTreeMap::new();
        let mut runner = self.runner();
        for a in new {
            let key = match std::fs::read(a) {
                Ok(bytes) => match runner.run_input(&bytes) {
                    Outcome::Finding(f) => (f.signature(), f.register.clone()),
                    Outcome::Ok { .. } => (
                        "no finding on replay (slow input or engine limit)".to_string(),
                        None,
                    ),
                },
                Err(e) => (format!("unreadable artifact: {e}"), None),
            };
            groups.entry(key).or_default().push(a.clone());
        }
        let mut out = Vec::new();
        for ((signature, register), mut files) in groups {
            files.sort_by_key(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(u64::MAX));
            let artifact = files[0].clone();
            let (minimized_len, reproducer) = match self.minimize(&artifact) {
                Some((len, path)) => (Some(len), Some(path)),
                None => (None, None),
            };
            out.push(Group {
                signature,
                inputs: files.len(),
                minimized_len,
                reproducer,
                artifact,
                register,
            });
        }
        out
    }

    /// A runner on the triage's machine (its profile with `machine_opts` and the planted
    /// `bugs`, as the fuzz binaries build it).
    pub fn runner(&self) -> Runner {
        let opts = harness::machine::MachineOptions {
            reentrancy: self.reentrancy,
            ..Default::default()
        };
        let options = harness::target::with_bugs(&self.machine_opts, &self.bugs);
        match self.target.machine.builder(&options) {
            Ok(build) => Runner::with_builder(self.target, build, opts),
            // Validated by the caller; should the options stop working (a file removed),
            // triage still runs on the default machine.
            Err(_) => Runner::new(self.target),
        }
    }

    /// Minimise one artifact, within [`TRIAGE_MAX_RUNS`] replays.
    fn minimize(&self, artifact: &Path) -> Option<(usize, PathBuf)> {
        let bytes = std::fs::read(artifact).ok()?;
        let mut runner = self.runner();
        let (trace, _) = runner.input_to_trace(&bytes);
        let m = harness::minimize::minimize_bounded(&mut runner, &trace, TRIAGE_MAX_RUNS, |p| {
            eprint!(
                "\rtriage: minimizing {} [{}] {} commands   ",
                artifact.file_name().unwrap_or_default().to_string_lossy(),
                p.pass,
                p.commands
            );
        })
        .ok()?;
        eprintln!();
        let mut name = artifact.as_os_str().to_owned();
        name.push(".qtest");
        let path = PathBuf::from(name);
        let mut text = format!(
            "# reproducer of {} on target {}\n# signature: {}\n",
            artifact.display(),
            self.target.name,
            m.signature
        );
        // What reproduces it: `devfuzz replay`, `minimize` and `regress` read these.
        let header = harness::regression::Header {
            planted: self
                .bugs
                .split(',')
                .filter(|b| !b.is_empty())
                .map(String::from)
                .collect(),
            machine_opts: self.machine_opts.clone(),
            reentrancy: (self.reentrancy == harness::machine::ReentrancyMode::Detect)
                .then_some(self.reentrancy),
            ..Default::default()
        };
        text.push_str(&header.render());
        if m.budget_exhausted {
            text.push_str(&format!(
                "# minimisation stopped after {TRIAGE_MAX_RUNS} replays: not 1-minimal (`devfuzz minimize` finishes it)\n"
            ));
        }
        for c in &m.trace {
            text.push_str(&format!("{c}\n"));
        }
        std::fs::write(&path, text).ok()?;
        if self.record {
            let mut rec = artifact.as_os_str().to_owned();
            rec.push(".record.qtest");
            let header = format!(
                "# devfuzz record v1\n# machine: {}{}\n# target: {}\n# signature: {}\n",
                self.target.machine.name,
                if self.machine_opts.is_empty() {
                    String::new()
                } else {
                    format!(",{}", self.machine_opts)
                },
                self.target.name,
                m.signature
            );
            let body = crate::record::record_trace(&mut self.runner(), &m.trace);
            let _ = std::fs::write(PathBuf::from(rec), header + &body);
        }
        Some((m.trace.len(), path))
    }
}

/// Print the summary table and the command that turns each group into a regression test.
pub fn print_summary(target: &Target, groups: &[Group], root: &Path) {
    if groups.is_empty() {
        say!("no new crashes on {}", target.name);
        return;
    }
    say!(
        "{:<60} {:>6} {:>10}  reproducer",
        "signature",
        "inputs",
        "minimized"
    );
    for g in groups {
        let rel = |p: &Path| p.strip_prefix(root).unwrap_or(p).display().to_string();
        say!(
            "{:<60} {:>6} {:>10}  {}",
            g.signature,
            g.inputs,
            g.minimized_len
                .map_or("-".to_string(), |n| format!("{n} cmds")),
            g.reproducer.as_deref().map_or("-".to_string(), rel)
        );
        if let Some(r) = &g.register {
            say!("    into register {r}");
        }
    }
    say!();
    for g in groups {
        if let Some(repro) = &g.reproducer {
            let rel = repro
                .strip_prefix(root)
                .unwrap_or(repro)
                .display()
                .to_string();
            say!(
                "  devfuzz replay {} {rel}    # its header carries the planted bugs, machine options and mode",
                target.name
            );
            break;
        }
    }
    for (i, g) in groups.iter().enumerate() {
        if g.reproducer.is_some() {
            let rel = g
                .artifact
                .strip_prefix(root)
                .unwrap_or(&g.artifact)
                .display()
                .to_string();
            say!(
                "  devfuzz regress {} {rel} --name {}-bug-{}",
                target.name,
                target.name,
                i + 1
            );
        }
    }
}
