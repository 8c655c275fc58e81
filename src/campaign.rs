//! `devfuzz fuzz`: a libFuzzer campaign through cargo-fuzz with seeds, dictionary and limits
//! wired in, followed by triage of every new crash.

use harness::outcome::Outcome;
use harness::runner::Runner;
use harness::target::Target;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Settings of one campaign.
pub struct Campaign<'a> {
    /// The workspace root (holds `fuzz/`).
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
    pub sanitizer: String,
    /// Which fuzzer drives the campaign.
    pub engine: crate::engines::Engine,
    /// Write each reproducer's access record next to it (`<artifact>.record.qtest`).
    pub record: bool,
    /// Re-entrancy mode of the fuzz binaries (`DEVFUZZ_REENTRANCY`) and of triage.
    pub reentrancy: harness::machine::ReentrancyMode,
}

/// Replays triage may spend minimising one crash: a slow crash must not stall the report.
const TRIAGE_MAX_RUNS: usize = 3000;

/// The cargo-fuzz build every devfuzz campaign, smoke run and benchmark uses: release with debug
/// assertions and overflow checks (cargo-fuzz's default), the given sanitizer, and the planted
/// bugs when asked. One set of flags, so switching between them does not rebuild.
pub fn fuzz_build_args(sanitizer: &str, planted: bool) -> Vec<String> {
    let mut v = vec!["--sanitizer".to_string(), sanitizer.to_string()];
    if planted {
        v.extend(["--features".to_string(), "planted-bugs".to_string()]);
    }
    v
}

/// libFuzzer turns its input-length control off when a target has a custom mutator (ours:
/// [`harness::entry::mutate`]); this turns it back on at libFuzzer's usual setting, so inputs
/// grow from the seeds' length as coverage asks for it.
pub const LEN_CONTROL: &str = "-len_control=100";

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

fn have_cargo_fuzz() -> bool {
    Command::new("cargo")
        .args(["+nightly", "fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Make sure `cargo fuzz` runs, installing cargo-fuzz if it is missing.
pub fn ensure_cargo_fuzz() -> Result<(), String> {
    if have_cargo_fuzz() {
        return Ok(());
    }
    eprintln!("devfuzz: cargo-fuzz is not installed; running: cargo install cargo-fuzz --locked");
    let status = Command::new("cargo")
        .args(["install", "cargo-fuzz", "--locked"])
        .status()
        .map_err(|e| format!("cannot run cargo install: {e}"))?;
    if !status.success() || !have_cargo_fuzz() {
        return Err("installing cargo-fuzz failed (see the output above); the nightly toolchain is also needed: rustup toolchain install nightly".into());
    }
    Ok(())
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

fn artifacts(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            ["crash-", "timeout-", "oom-", "leak-", "slow-unit-"]
                .iter()
                .any(|k| name.starts_with(k))
                && p.extension().is_none_or(|e| e != "qtest")
        })
        .collect();
    v.sort();
    v
}

impl Campaign<'_> {
    /// Run the campaign, then triage new artifacts. Returns the crash groups.
    pub fn run(&self) -> Result<Vec<Group>, String> {
        let fuzz_dir = self.root.join("fuzz");
        let target_file = fuzz_dir
            .join("fuzz_targets")
            .join(format!("{}.rs", self.target.name));
        if !target_file.is_file() {
            return Err(format!(
                "no cargo-fuzz target {} (expected {})",
                self.target.name,
                target_file.display()
            ));
        }
        if self.engine != crate::engines::Engine::LibFuzzer {
            let seeded = seed_corpus(&self.root, self.target)?;
            eprintln!(
                "devfuzz: {seeded} seed(s) converted into fuzz/corpus/{}",
                self.target.name
            );
            let dict = fuzz_dir
                .join("dicts")
                .join(format!("{}.dict", self.target.name));
            let crashes = crate::engines::run_campaign(
                self.engine,
                &self.root,
                self.target.name,
                self.seconds,
                self.jobs,
                &self.bugs,
                &self.machine_opts,
                self.reentrancy.as_str(),
                &fuzz_dir.join("corpus").join(self.target.name),
                dict.is_file().then_some(dict.as_path()),
                self.max_len,
                self.timeout,
            )?;
            return Ok(self.triage(&crashes));
        }
        ensure_cargo_fuzz()?;
        let seeded = seed_corpus(&self.root, self.target)?;
        eprintln!(
            "devfuzz: {seeded} seed(s) converted into fuzz/corpus/{}",
            self.target.name
        );
        let artifact_dir = fuzz_dir.join("artifacts").join(self.target.name);
        let before = artifacts(&artifact_dir);

        let mut cmd = Command::new("cargo");
        cmd.current_dir(&self.root)
            .args(["+nightly", "fuzz", "run", self.target.name]);
        cmd.args(fuzz_build_args(&self.sanitizer, !self.bugs.is_empty()))
            .env("DEVFUZZ_BUGS", &self.bugs)
            .env(harness::entry::MACHINE_OPTS_VAR, &self.machine_opts)
            .env(harness::entry::REENTRANCY_VAR, self.reentrancy.as_str());
        cmd.arg(format!("fuzz/corpus/{}", self.target.name))
            .arg("--");
        let dict = fuzz_dir
            .join("dicts")
            .join(format!("{}.dict", self.target.name));
        if dict.is_file() {
            cmd.arg(format!("-dict={}", dict.display()));
        }
        cmd.args([
            format!("-max_total_time={}", self.seconds),
            format!("-max_len={}", self.max_len),
            format!("-timeout={}", self.timeout),
            format!("-rss_limit_mb={}", self.rss_limit_mb),
            format!("-fork={}", self.jobs.max(1)),
            LEN_CONTROL.to_string(),
            "-ignore_crashes=1".to_string(),
            "-ignore_timeouts=1".to_string(),
            "-ignore_ooms=1".to_string(),
            "-print_final_stats=1".to_string(),
        ]);
        let log = fuzz_dir
            .join("logs")
            .join(format!("{}.log", self.target.name));
        eprintln!("devfuzz: running {}", render(&cmd));
        eprintln!(
            "devfuzz: libFuzzer's output goes to {} (Ctrl-C stops the campaign and triages what it found)",
            log.strip_prefix(&self.root).unwrap_or(&log).display()
        );
        let (status, _) = crate::engine_log::run_logged(
            &mut cmd,
            &log,
            self.target.name,
            crate::engine_log::Progress::libfuzzer_line,
        )?;
        if crate::interrupt::interrupted() {
            eprintln!("devfuzz: interrupted; triaging what the campaign found");
        } else if !status.success() {
            eprintln!(
                "devfuzz: cargo fuzz exited with {status} (see the log); triaging what it found"
            );
        }
        let new: Vec<PathBuf> = artifacts(&artifact_dir)
            .into_iter()
            .filter(|a| !before.contains(a))
            .collect();
        Ok(self.triage(&new))
    }

    /// Replay each artifact in-process, group by signature, minimise one per group and write
    /// its `.qtest` reproducer next to it.
    pub fn triage(&self, new: &[PathBuf]) -> Vec<Group> {
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

    /// A runner on the campaign's machine (its profile with `machine_opts` and the planted
    /// `bugs`, as the fuzz binaries build it).
    fn runner(&self) -> Runner {
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

fn render(cmd: &Command) -> String {
    let mut s = String::new();
    for (k, v) in cmd.get_envs() {
        if let (Some(k), Some(v)) = (k.to_str(), v.and_then(|v| v.to_str())) {
            s.push_str(&format!("{k}={v} "));
        }
    }
    s.push_str(&cmd.get_program().to_string_lossy());
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
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
