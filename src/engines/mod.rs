//! The fuzz engines `devfuzz fuzz` can drive: libFuzzer (cargo-fuzz, see [`crate::campaign`]),
//! AFL++ (cargo-afl, the entries in `fuzz/afl/`) and honggfuzz (cargo-hfuzz, `fuzz/hfuzz/`).
//!
//! Every engine's entry calls `models::fuzzing::fuzz_one(target, data)`, so a crash file of any
//! engine is a raw binary input that [`crate::campaign::Campaign::triage`] replays. This module
//! installs the AFL++ and honggfuzz tools when they are missing ([`ensure_tool`]) and runs a
//! campaign with either ([`run_campaign`]), returning the crash files it produced.
//!
//! Both engines build with the stable toolchain ([`TOOLCHAIN`]); their output stays under their
//! crate: `fuzz/afl/out/<target>/` (AFL's sync dir: `main/`, `s1/`, ... each with `queue/`,
//! `crashes/`, `fuzzer_stats`) and `fuzz/hfuzz/workspace/<target>/` (honggfuzz's crash files and
//! report). AFL reads the corpus; honggfuzz adds its new inputs to it, as libFuzzer does.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

/// The toolchain cargo-afl and cargo-hfuzz build with (the AFL++ runtime is built per rustc).
pub const TOOLCHAIN: &str = "stable";

/// The cargo-afl release installed when it is missing (the `afl` crate of `fuzz/afl/Cargo.lock`).
pub const CARGO_AFL_VERSION: &str = "0.18.2";

/// The honggfuzz release installed when it is missing or different: the version `fuzz/hfuzz`
/// pins, which its build script requires of `cargo hfuzz`.
pub const HONGGFUZZ_VERSION: &str = "0.5.62";

/// The Debian packages honggfuzz builds against.
pub const HONGGFUZZ_DEBIAN_PACKAGES: [&str; 3] =
    ["binutils-dev", "libunwind-dev", "libblocksruntime-dev"];

/// A fuzz engine.
#[allow(dead_code)] // until the CLI selects engines with `--engine`
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// libFuzzer through cargo-fuzz (`fuzz/`, nightly).
    LibFuzzer,
    /// AFL++ through cargo-afl (`fuzz/afl/`).
    Afl,
    /// honggfuzz through cargo-hfuzz (`fuzz/hfuzz/`).
    Honggfuzz,
}

#[allow(dead_code)] // until the CLI selects engines with `--engine`
impl Engine {
    /// Every engine, in the order `--help` lists them.
    pub const ALL: [Engine; 3] = [Engine::LibFuzzer, Engine::Afl, Engine::Honggfuzz];

    /// The engine named `s` (`libfuzzer`, `afl`, `honggfuzz`; also `afl++`, `aflplusplus`,
    /// `hfuzz`, any case).
    pub fn parse(s: &str) -> Option<Engine> {
        match s.to_ascii_lowercase().as_str() {
            "libfuzzer" | "cargo-fuzz" => Some(Engine::LibFuzzer),
            "afl" | "afl++" | "aflplusplus" => Some(Engine::Afl),
            "honggfuzz" | "hfuzz" => Some(Engine::Honggfuzz),
            _ => None,
        }
    }

    /// The name `--engine` takes.
    pub fn as_str(self) -> &'static str {
        match self {
            Engine::LibFuzzer => "libfuzzer",
            Engine::Afl => "afl",
            Engine::Honggfuzz => "honggfuzz",
        }
    }

    /// The engine's crate, relative to the workspace root.
    pub fn crate_dir(self) -> &'static str {
        match self {
            Engine::LibFuzzer => "fuzz",
            Engine::Afl => "fuzz/afl",
            Engine::Honggfuzz => "fuzz/hfuzz",
        }
    }

    /// The source of the engine's entry for `target`.
    pub fn entry_file(self, root: &Path, target: &str) -> PathBuf {
        let dir = match self {
            Engine::LibFuzzer => "fuzz_targets",
            Engine::Afl | Engine::Honggfuzz => "targets",
        };
        root.join(self.crate_dir())
            .join(dir)
            .join(format!("{target}.rs"))
    }

    /// Where the engine writes what it finds for `target`.
    pub fn output_dir(self, root: &Path, target: &str) -> PathBuf {
        match self {
            Engine::LibFuzzer => root.join("fuzz/artifacts").join(target),
            Engine::Afl => root.join("fuzz/afl/out").join(target),
            Engine::Honggfuzz => root.join("fuzz/hfuzz/workspace").join(target),
        }
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `cargo +stable <args>`: the engines' cargo subcommands, with the toolchain pinned (also for
/// the `rustc` they query) whatever toolchain runs devfuzz.
fn cargo() -> Command {
    let mut cmd = Command::new("cargo");
    cmd.arg(format!("+{TOOLCHAIN}"))
        .env("RUSTUP_TOOLCHAIN", TOOLCHAIN);
    cmd
}

/// Run `cmd` with inherited stdio after saying so on stderr; an error names what failed.
fn run_shown(cmd: &mut Command, why: &str) -> Result<(), String> {
    eprintln!("devfuzz: {why}; running: {}", render(cmd));
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run {}: {e}", render(cmd)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{} failed ({status})", render(cmd)))
    }
}

/// The output of `cmd` (stdout and stderr), if it could run; with its success.
fn output_of(cmd: &mut Command) -> Option<(bool, String)> {
    let out = cmd.stdin(Stdio::null()).output().ok()?;
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    Some((out.status.success(), text))
}

/// Make sure the engine's tool runs, installing it (and what it needs) when it is missing.
/// Says on stderr what it runs.
#[allow(dead_code)] // until the CLI selects engines with `--engine`
pub fn ensure_tool(engine: Engine) -> Result<(), String> {
    match engine {
        Engine::LibFuzzer => crate::campaign::ensure_cargo_fuzz(),
        Engine::Afl => ensure_cargo_afl(),
        Engine::Honggfuzz => ensure_honggfuzz(),
    }
}

fn ensure_cargo_afl() -> Result<(), String> {
    let installed = output_of(cargo().args(["afl", "--version"])).is_some_and(|(ok, _)| ok);
    if !installed {
        // Installing also builds AFL++ for the installing toolchain (cargo-afl's build script).
        run_shown(
            cargo().args([
                "install",
                "cargo-afl",
                "--version",
                CARGO_AFL_VERSION,
                "--locked",
            ]),
            "cargo-afl (AFL++) is not installed",
        )?;
    }
    // Every `cargo afl` subcommand but `config` refuses to run without the AFL++ runtime built
    // for this rustc; `afl fuzz -h` is the cheapest to ask.
    let runtime_missing = |text: &str| text.contains("runtime was not built");
    match output_of(cargo().args(["afl", "fuzz", "-h"])) {
        Some((_, text)) if !runtime_missing(&text) && text.contains("afl-fuzz") => return Ok(()),
        Some((_, text)) if !runtime_missing(&text) => {
            return Err(format!(
                "cargo afl does not work:\n{text}\n(reinstall: cargo install cargo-afl --locked --force)"
            ));
        }
        None => return Err("cannot run cargo afl".into()),
        Some(_) => {}
    }
    run_shown(
        cargo().args(["afl", "config", "--build", "--force"]),
        &format!("AFL++ is not built for the {TOOLCHAIN} toolchain"),
    )
}

/// Whether every package is installed, per dpkg (`None`: no dpkg here).
fn debian_packages_installed(packages: &[&str]) -> Option<bool> {
    let (_, text) = output_of(
        Command::new("dpkg-query")
            .args(["-W", "-f=${Status}\\n"])
            .args(packages),
    )?;
    let installed = text
        .lines()
        .filter(|l| l.ends_with("install ok installed"))
        .count();
    Some(installed == packages.len())
}

fn is_root() -> bool {
    output_of(Command::new("id").arg("-u")).is_some_and(|(ok, out)| ok && out.trim() == "0")
}

fn ensure_honggfuzz() -> Result<(), String> {
    let packages = HONGGFUZZ_DEBIAN_PACKAGES;
    match debian_packages_installed(&packages) {
        Some(true) => {}
        Some(false) => {
            let apt = |args: &[&str]| {
                let mut cmd = if is_root() {
                    Command::new("apt-get")
                } else {
                    let mut sudo = Command::new("sudo");
                    sudo.arg("apt-get");
                    sudo
                };
                cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive");
                cmd
            };
            let why = format!("honggfuzz needs the Debian packages {}", packages.join(" "));
            run_shown(&mut apt(&["update"]), &why)?;
            let mut install = apt(&["install", "-y"]);
            install.args(packages);
            run_shown(&mut install, &why)?;
        }
        None => eprintln!(
            "devfuzz: no dpkg here; honggfuzz needs the headers of libbfd (binutils), libunwind \
             and libBlocksRuntime: install them if its build fails"
        ),
    }
    // `cargo hfuzz` wants a Cargo.toml in the current directory or above, even for `version`.
    let probe_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/hfuzz");
    let probe_dir = if probe_dir.is_dir() {
        probe_dir
    } else {
        std::env::current_dir().map_err(|e| format!("no current directory: {e}"))?
    };
    let version = output_of(cargo().args(["hfuzz", "version"]).current_dir(&probe_dir))
        .filter(|(ok, _)| *ok)
        .map(|(_, text)| text.trim().to_string());
    let wanted = format!("cargo-hfuzz {HONGGFUZZ_VERSION}");
    match version {
        Some(v) if v == wanted => Ok(()),
        Some(v) => run_shown(
            cargo().args([
                "install",
                "honggfuzz",
                "--version",
                HONGGFUZZ_VERSION,
                "--locked",
                "--force",
            ]),
            &format!("fuzz/hfuzz needs {wanted}, not {v}"),
        ),
        None => run_shown(
            cargo().args([
                "install",
                "honggfuzz",
                "--version",
                HONGGFUZZ_VERSION,
                "--locked",
            ]),
            "honggfuzz (cargo hfuzz) is not installed",
        ),
    }
}

/// Build the engine's entry for `target` and fuzz it for `seconds` with `jobs` processes from
/// `corpus_dir` (and `dict`), with planted `bugs` selected when not empty (a
/// `--features planted-bugs` build, `DEVFUZZ_BUGS` in the fuzzer's environment); inputs up to
/// `max_len` bytes, `timeout_secs` per input. Shows progress on stderr. Returns the crash files
/// this run wrote, raw inputs that `Campaign::triage` replays.
///
/// For [`Engine::Afl`] and [`Engine::Honggfuzz`]; libFuzzer campaigns are
/// [`crate::campaign::Campaign::run`].
#[allow(dead_code, clippy::too_many_arguments)] // until the CLI selects engines with `--engine`
pub fn run_campaign(
    engine: Engine,
    root: &Path,
    target: &str,
    seconds: u64,
    jobs: u32,
    bugs: &str,
    machine_opts: &str,
    reentrancy: &str,
    corpus_dir: &Path,
    dict: Option<&Path>,
    max_len: usize,
    timeout_secs: u64,
) -> Result<Vec<PathBuf>, String> {
    let entry = engine.entry_file(root, target);
    if engine == Engine::LibFuzzer {
        return Err("libFuzzer campaigns run through campaign::Campaign::run".into());
    }
    if !entry.is_file() {
        return Err(format!(
            "no {engine} entry for target {target} (expected {})",
            entry.display()
        ));
    }
    ensure_tool(engine)?;
    // Absolute paths: the engines run from their crate directory.
    let abs = |p: &Path| {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            std::env::current_dir()
                .map(|d| d.join(p))
                .unwrap_or_else(|_| p.to_path_buf())
        }
    };
    let root = abs(root);
    let run = Run {
        crate_dir: root.join(engine.crate_dir()),
        out: engine.output_dir(&root, target),
        target,
        seconds,
        jobs: jobs.max(1),
        bugs,
        machine_opts,
        reentrancy,
        corpus: abs(corpus_dir),
        dict: dict.map(abs),
        max_len,
        timeout_secs: timeout_secs.max(1),
    };
    std::fs::create_dir_all(&run.out)
        .map_err(|e| format!("cannot create {}: {e}", run.out.display()))?;
    match engine {
        Engine::Afl => run.afl(),
        Engine::Honggfuzz => run.honggfuzz(),
        Engine::LibFuzzer => unreachable!("returned above"),
    }
}

/// One AFL++ or honggfuzz campaign.
struct Run<'a> {
    crate_dir: PathBuf,
    out: PathBuf,
    target: &'a str,
    seconds: u64,
    jobs: u32,
    bugs: &'a str,
    machine_opts: &'a str,
    reentrancy: &'a str,
    corpus: PathBuf,
    dict: Option<PathBuf>,
    max_len: usize,
    timeout_secs: u64,
}

impl Run<'_> {
    /// `--features planted-bugs` when bugs are selected.
    fn feature_args(&self) -> Vec<&'static str> {
        if self.bugs.is_empty() {
            Vec::new()
        } else {
            vec!["--features", "planted-bugs"]
        }
    }

    /// The log of AFL instance `name`, beside the sync dir: `fuzz/afl/out/<target>-<name>.log`.
    fn instance_log(&self, name: &str) -> PathBuf {
        self.out
            .with_file_name(format!("{}-{name}.log", self.target))
    }

    fn afl(&self) -> Result<Vec<PathBuf>, String> {
        let target_dir = self.crate_dir.join("target");
        let mut build = cargo();
        build
            .current_dir(&self.crate_dir)
            .env("CARGO_TARGET_DIR", &target_dir)
            .args(["afl", "build", "--release", "--bin", self.target])
            .args(self.feature_args());
        run_shown(
            &mut build,
            &format!("building the AFL++ entry {}", self.target),
        )?;
        let binary = target_dir.join("release").join(self.target);

        let started = SystemTime::now();
        // A resumed instance's counters go on from its last session: count from here.
        let execs_before = afl_execs(&self.out);
        let mut instances: Vec<(String, PathBuf, Child)> = Vec::new();
        for i in 0..self.jobs {
            let name = instance_name(i);
            let role = if i == 0 { "-M" } else { "-S" };
            let mut cmd = cargo();
            cmd.current_dir(&self.crate_dir)
                .args(["afl", "fuzz", role, &name, "-i"])
                .arg(&self.corpus)
                .arg("-o")
                .arg(&self.out);
            if let Some(dict) = &self.dict {
                cmd.arg("-x").arg(dict);
            }
            cmd.args([
                "-V".to_string(),
                self.seconds.to_string(),
                "-t".to_string(),
                (self.timeout_secs * 1000).to_string(),
                "-G".to_string(),
                self.max_len.to_string(),
                "--".to_string(),
            ])
            .arg(&binary)
            .env("DEVFUZZ_BUGS", self.bugs)
            .env(models::fuzzing::MACHINE_OPTS_VAR, self.machine_opts)
            .env(models::fuzzing::REENTRANCY_VAR, self.reentrancy)
            // No control over the CPU governor or core_pattern (not root on every machine),
            // no terminal UI (progress comes from the logs below), and pick up where an earlier
            // campaign on this target left off (its old crashes move to crashes.<date>/).
            .envs([
                ("AFL_SKIP_CPUFREQ", "1"),
                ("AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES", "1"),
                ("AFL_NO_UI", "1"),
                ("AFL_AUTORESUME", "1"),
                ("AFL_NO_AFFINITY", "1"),
                ("AFL_CRASHING_SEEDS_AS_NEW_CRASH", "1"),
            ]);
            let log = self.instance_log(&name);
            let file = std::fs::File::create(&log)
                .map_err(|e| format!("cannot create {}: {e}", log.display()))?;
            let err = file
                .try_clone()
                .map_err(|e| format!("{}: {e}", log.display()))?;
            cmd.stdin(Stdio::null()).stdout(file).stderr(err);
            eprintln!(
                "devfuzz: running {} (log: {})",
                render(&cmd),
                rel(&log, &self.crate_dir)
            );
            let child = cmd
                .spawn()
                .map_err(|e| format!("cannot run cargo afl fuzz: {e}"))?;
            instances.push((name, log, child));
        }

        let start = Instant::now();
        let mut last_line = Instant::now();
        let mut failed = Vec::new();
        while !instances.is_empty() {
            std::thread::sleep(Duration::from_millis(500));
            let mut i = 0;
            while i < instances.len() {
                match instances[i].2.try_wait() {
                    Ok(None) => i += 1,
                    Ok(Some(status)) => {
                        let (name, log, _) = instances.remove(i);
                        if !status.success() {
                            eprintln!("devfuzz: AFL++ instance {name} exited with {status}:");
                            eprintln!("{}", tail(&log, 30));
                            failed.push(name);
                        }
                    }
                    Err(e) => return Err(format!("waiting for afl-fuzz: {e}")),
                }
            }
            if last_line.elapsed() >= Duration::from_secs(10) && !instances.is_empty() {
                last_line = Instant::now();
                let logs: Vec<PathBuf> = (0..self.jobs)
                    .map(|i| self.instance_log(&instance_name(i)))
                    .collect();
                if let Some(line) = afl_progress(&logs, &self.out, started, &execs_before) {
                    eprintln!(
                        "devfuzz: afl {} {:>4}s: {line}",
                        self.target,
                        start.elapsed().as_secs()
                    );
                }
            }
        }
        let crashes = newer_than(afl_crash_files(&self.out), started);
        let execs = afl_execs_since(&self.out, started, &execs_before).unwrap_or(0);
        let secs = start.elapsed().as_secs_f64().max(1.0);
        eprintln!(
            "devfuzz: afl {} done: {execs} execs in {secs:.0}s ({:.0}/s over {} instance(s), \
             startup included), {} new crash file(s); output in {}",
            self.target,
            execs as f64 / secs,
            self.jobs,
            crashes.len(),
            rel(&self.out, &self.crate_dir)
        );
        if failed.len() == self.jobs as usize {
            return Err(format!(
                "every AFL++ instance failed ({}); see the logs above",
                failed.join(", ")
            ));
        }
        Ok(crashes)
    }

    fn honggfuzz(&self) -> Result<Vec<PathBuf>, String> {
        for (what, p) in [
            ("corpus", Some(&self.corpus)),
            ("dictionary", self.dict.as_ref()),
        ] {
            if let Some(p) = p.filter(|p| p.to_string_lossy().contains(char::is_whitespace)) {
                return Err(format!(
                    "honggfuzz's arguments are split at spaces: move the {what} {} to a path without any",
                    p.display()
                ));
            }
        }
        let before: BTreeSet<PathBuf> = hfuzz_crash_files(&self.out).into_iter().collect();
        let started = SystemTime::now();
        let mut run_args = format!(
            "--run_time {} -n {} --max_file_size {} --timeout {}",
            self.seconds, self.jobs, self.max_len, self.timeout_secs
        );
        if let Some(dict) = &self.dict {
            run_args.push_str(&format!(" --dict {}", dict.display()));
        }
        let workspace = self.out.parent().unwrap_or(&self.out);
        let mut cmd = cargo();
        cmd.current_dir(&self.crate_dir)
            .args(["hfuzz", "run", self.target])
            .env("CARGO_TARGET_DIR", self.crate_dir.join("hfuzz_target"))
            .env("HFUZZ_BUILD_ARGS", self.feature_args().join(" "))
            .env("HFUZZ_WORKSPACE", workspace)
            .env("HFUZZ_INPUT", &self.corpus)
            .env("HFUZZ_RUN_ARGS", run_args)
            .env("DEVFUZZ_BUGS", self.bugs)
            .env(models::fuzzing::MACHINE_OPTS_VAR, self.machine_opts)
            .env(models::fuzzing::REENTRANCY_VAR, self.reentrancy);
        // honggfuzz prints a line per new input (about 950 in 20 s): into the log, with
        // devfuzz's own status line instead.
        let log = self.out.with_file_name(format!("{}.log", self.target));
        eprintln!(
            "devfuzz: running {} (log: {})",
            render(&cmd),
            rel(&log, &self.crate_dir)
        );
        let (status, _) = crate::engine_log::run_logged(
            &mut cmd,
            &log,
            self.target,
            |p: &mut crate::engine_log::Progress, line: &str| {
                if line.contains("Crash") || line.contains("crash") {
                    p.crashes += u64::from(line.contains("Saved crash"));
                }
            },
        )?;
        if crate::interrupt::interrupted() {
            eprintln!("devfuzz: interrupted; triaging what honggfuzz found");
        } else if !status.success() {
            return Err(format!(
                "cargo hfuzz run {} exited with {status}",
                self.target
            ));
        }
        let new: Vec<PathBuf> = hfuzz_crash_files(&self.out)
            .into_iter()
            .filter(|p| !before.contains(p))
            .collect();
        // (honggfuzz ends with terminal control sequences and no newline.)
        eprintln!();
        eprintln!(
            "devfuzz: honggfuzz {} done: {} new crash file(s); output in {} (report: HONGGFUZZ.REPORT.TXT)",
            self.target,
            new.len(),
            rel(&self.out, &self.crate_dir)
        );
        Ok(newer_than(new, started))
    }
}

/// The instance directories of an AFL sync dir (those with a `queue/` or stats).
fn afl_instances(out: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(out)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("queue").is_dir() || p.join("fuzzer_stats").is_file())
        .collect();
    v.sort();
    v
}

/// AFL instance `i`: `main` (`-M`), then `s1`, `s2`, ... (`-S`).
fn instance_name(i: u32) -> String {
    if i == 0 {
        "main".to_string()
    } else {
        format!("s{i}")
    }
}

/// One progress line. With `AFL_NO_UI` each instance logs a line per queue entry it starts
/// on, `Fuzzing test case #N (T total, ... cvg=P%)`, which gives the corpus and map coverage;
/// `fuzzer_stats` is only rewritten every minute (and `plot_data` not at all in the first one),
/// so executions show from then on. Crash files are counted from `since`; executions from
/// `execs_before` ([`afl_execs`] as the run began).
fn afl_progress(
    logs: &[PathBuf],
    out: &Path,
    since: SystemTime,
    execs_before: &BTreeMap<String, u64>,
) -> Option<String> {
    let (mut corpus, mut coverage, mut any) = (0u64, 0f64, false);
    for log in logs {
        let Ok(bytes) = std::fs::read(log) else {
            continue;
        };
        let text = strip_ansi(&String::from_utf8_lossy(&bytes));
        let Some(line) = text
            .lines()
            .rev()
            .find(|l| l.contains("Fuzzing test case #"))
        else {
            continue;
        };
        any = true;
        if let Some(total) = line
            .find(" total")
            .and_then(|end| line[..end].rsplit([' ', '(']).next())
            .and_then(|n| n.parse::<u64>().ok())
        {
            corpus = corpus.max(total);
        }
        if let Some(cvg) = line
            .split("cvg=")
            .nth(1)
            .and_then(|r| r.split('%').next())
            .and_then(|v| v.parse::<f64>().ok())
        {
            coverage = coverage.max(cvg);
        }
    }
    if !any {
        return None;
    }
    let crashes = newer_than(afl_crash_files(out), since).len();
    let mut line = format!("corpus {corpus}, map coverage {coverage:.2}%, {crashes} crash file(s)");
    // The stats an instance writes as it starts say next to nothing; wait for the periodic ones.
    let periodic = since + Duration::from_secs(30);
    if let Some(execs) = afl_execs_since(out, periodic, execs_before) {
        line.push_str(&format!(", {execs} execs as of the last stats"));
    }
    Some(line)
}

/// `text` without terminal colour sequences (`ESC [ ... letter`).
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// `execs_done` of each instance's `fuzzer_stats` (written every minute and when it exits), by
/// instance name.
fn afl_execs(out: &Path) -> BTreeMap<String, u64> {
    afl_instances(out)
        .iter()
        .filter_map(|dir| {
            let execs = fuzzer_stat(&dir.join("fuzzer_stats"), "execs_done")?;
            let name = dir.file_name()?.to_string_lossy().into_owned();
            Some((name, execs.parse().ok()?))
        })
        .collect()
}

/// The executions since `before` was taken, over the instances whose `fuzzer_stats` was written
/// at or after `since`; `None` when none was yet.
fn afl_execs_since(out: &Path, since: SystemTime, before: &BTreeMap<String, u64>) -> Option<u64> {
    let fresh: Vec<PathBuf> = newer_than(
        afl_instances(out)
            .iter()
            .map(|d| d.join("fuzzer_stats"))
            .collect(),
        since,
    );
    if fresh.is_empty() {
        return None;
    }
    let now = afl_execs(out);
    let total = fresh
        .iter()
        .filter_map(|stats| stats.parent()?.file_name()?.to_str())
        .map(|name| {
            let then = before.get(name).copied().unwrap_or(0);
            now.get(name).copied().unwrap_or(0).saturating_sub(then)
        })
        .sum();
    Some(total)
}

/// The value of `key` in an AFL `fuzzer_stats` file (`key : value` lines).
fn fuzzer_stat(path: &Path, key: &str) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines().find_map(|line| {
        let (k, v) = line.split_once(':')?;
        (k.trim() == key).then(|| v.trim().to_string())
    })
}

/// The crash inputs of an AFL sync dir: `<out>/<instance>/crashes/id:*` (not the `crashes.<date>`
/// folders an in-place resume moves older ones to, the README, or the `.qtest` reproducers
/// triage writes beside them).
fn afl_crash_files(out: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = afl_instances(out)
        .iter()
        .flat_map(|dir| {
            std::fs::read_dir(dir.join("crashes"))
                .into_iter()
                .flatten()
                .flatten()
        })
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            (name.starts_with("id:") || name.starts_with("id_"))
                && p.extension().is_none_or(|e| e != "qtest")
        })
        .collect();
    v.sort();
    v
}

/// The crash inputs of a honggfuzz workspace: `<workspace>/<target>/*.fuzz`.
fn hfuzz_crash_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "fuzz"))
        .collect();
    v.sort();
    v
}

/// The files modified at or after `since` (a second of slack for coarse timestamps).
fn newer_than(files: Vec<PathBuf>, since: SystemTime) -> Vec<PathBuf> {
    let since = since - Duration::from_secs(1);
    files
        .into_iter()
        .filter(|p| {
            std::fs::metadata(p)
                .and_then(|m| m.modified())
                .is_ok_and(|t| t >= since)
        })
        .collect()
}

/// The last `n` lines of a log file.
fn tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// `path` relative to the workspace root above `crate_dir`, for messages.
fn rel(path: &Path, crate_dir: &Path) -> String {
    let root = crate_dir
        .ancestors()
        .find(|d| d.join("fuzz").is_dir() && d.join("Cargo.toml").is_file())
        .unwrap_or(crate_dir);
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// A command as a shell line, with the environment it sets.
fn render(cmd: &Command) -> String {
    let mut s = String::new();
    if let Some(dir) = cmd.get_current_dir() {
        s.push_str(&format!("(cd {}) ", dir.display()));
    }
    for (k, v) in cmd.get_envs() {
        if let (Some(k), Some(v)) = (k.to_str(), v.and_then(|v| v.to_str())) {
            if k == "RUSTUP_TOOLCHAIN" {
                continue;
            }
            if v.is_empty() || v.contains(char::is_whitespace) {
                s.push_str(&format!("{k}=\"{v}\" "));
            } else {
                s.push_str(&format!("{k}={v} "));
            }
        }
    }
    s.push_str(&cmd.get_program().to_string_lossy());
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("devfuzz-engines-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn engines_parse_their_names() {
        for engine in Engine::ALL {
            assert_eq!(Engine::parse(engine.as_str()), Some(engine));
            assert_eq!(engine.to_string(), engine.as_str());
        }
        assert_eq!(Engine::parse("AFL++"), Some(Engine::Afl));
        assert_eq!(Engine::parse("hfuzz"), Some(Engine::Honggfuzz));
        assert_eq!(Engine::parse("libafl"), None);
    }

    #[test]
    fn every_engine_has_an_entry_per_target() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        for engine in Engine::ALL {
            for target in models::TARGETS {
                let entry = engine.entry_file(root, target.name);
                assert!(entry.is_file(), "{engine}: no {}", entry.display());
                let text = std::fs::read_to_string(&entry).unwrap();
                let call = format!("models::fuzzing::fuzz_one(\"{}\", data)", target.name);
                // cargo-fuzz entries expand `models::devfuzz_fuzz_target!`, which makes that call.
                let libfuzzer = format!("models::devfuzz_fuzz_target!(\"{}\")", target.name);
                assert!(
                    text.contains(&call)
                        || (engine == Engine::LibFuzzer && text.contains(&libfuzzer)),
                    "{} does not call {call}",
                    entry.display()
                );
            }
        }
    }

    #[test]
    fn afl_crash_files_are_this_sync_dirs_inputs() {
        let out = scratch("afl");
        for dir in ["main/crashes", "main/queue", "s1/crashes", "s1/queue"] {
            std::fs::create_dir_all(out.join(dir)).unwrap();
        }
        std::fs::create_dir_all(out.join("main/crashes.2026-01-01-00:00:00")).unwrap();
        for file in [
            "main/crashes/id:000000,sig:06,src:000001,time:12,execs:34,op:havoc,rep:2",
            "main/crashes/README.txt",
            "main/crashes/id:000000,sig:06,src:000001,time:12,execs:34,op:havoc,rep:2.qtest",
            "main/crashes.2026-01-01-00:00:00/id:000000,sig:06",
            "s1/crashes/id:000003,sig:06",
        ] {
            std::fs::write(out.join(file), b"x").unwrap();
        }
        let names: Vec<String> = afl_crash_files(&out)
            .iter()
            .map(|p| p.strip_prefix(&out).unwrap().display().to_string())
            .collect();
        assert_eq!(
            names,
            [
                "main/crashes/id:000000,sig:06,src:000001,time:12,execs:34,op:havoc,rep:2",
                "s1/crashes/id:000003,sig:06"
            ]
        );
        let _ = std::fs::remove_dir_all(&out);
    }

    #[test]
    fn afl_progress_reads_the_logs_and_stats() {
        let out = scratch("stats");
        let since = SystemTime::now() - Duration::from_secs(60);
        let line = |n, total, cvg| {
            format!(
                "\u{1b}[1;94m[*] \u{1b}[0mFuzzing test case #{n} ({total} total, \u{1b}[0;31m18 \
                 crashes saved\u{1b}[0m, state: started :-), mode=explore, exec_us=216, \
                 run_time=0:00:00:29, cvg={cvg}%) FS (t=0:00:00:03 (10.21%))...\u{1b}[0m\n"
            )
        };
        let main_log = out.join("main.log");
        let s1_log = out.join("s1.log");
        std::fs::write(
            &main_log,
            format!("{}{}", line(1, 800, "7.00"), line(288, 838, "7.83")),
        )
        .unwrap();
        std::fs::write(&s1_log, line(3, 830, "6.50")).unwrap();
        let logs = [main_log, s1_log, out.join("s2.log")];
        let none = BTreeMap::new();
        assert_eq!(
            afl_progress(&logs, &out, since, &none).unwrap(),
            "corpus 838, map coverage 7.83%, 0 crash file(s)"
        );
        for dir in ["main/queue", "main/crashes", "s1/queue"] {
            std::fs::create_dir_all(out.join(dir)).unwrap();
        }
        std::fs::write(out.join("main/crashes/id:000000,sig:06"), b"x").unwrap();
        for (dir, execs) in [("main", 1500), ("s1", 200)] {
            std::fs::write(
                out.join(dir).join("fuzzer_stats"),
                format!(
                    "start_time        : 1\nexecs_done        : {execs}\nexecs_per_sec     : 50.5\n"
                ),
            )
            .unwrap();
        }
        assert_eq!(afl_execs(&out).get("main"), Some(&1500));
        // main resumed a session that had run 1000 executions; s1 is new.
        let before = BTreeMap::from([("main".to_string(), 1000)]);
        assert_eq!(afl_execs_since(&out, since, &before), Some(700));
        assert_eq!(
            afl_progress(&logs, &out, since, &before).unwrap(),
            "corpus 838, map coverage 7.83%, 1 crash file(s), 700 execs as of the last stats"
        );
        let later = SystemTime::now() + Duration::from_secs(60);
        assert_eq!(afl_execs_since(&out, later, &before), None);
        assert_eq!(afl_progress(&[], &out, since, &before), None);
        let _ = std::fs::remove_dir_all(&out);
    }

    #[test]
    fn hfuzz_crash_files_are_the_fuzz_files() {
        let dir = scratch("hfuzz");
        for file in [
            "SIGABRT.PC.7ffff7a42e97.STACK.1a2b3c.CODE.-6.ADDR.0.INSTR.mov.fuzz",
            "HONGGFUZZ.REPORT.TXT",
            "input",
        ] {
            std::fs::write(dir.join(file), b"x").unwrap();
        }
        let files = hfuzz_crash_files(&dir);
        assert_eq!(files.len(), 1);
        assert!(files[0].to_string_lossy().ends_with(".INSTR.mov.fuzz"));
        assert_eq!(newer_than(files.clone(), SystemTime::now()), files);
        let later = SystemTime::now() + Duration::from_secs(60);
        assert!(newer_than(files, later).is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
