//! The fuzz engines `devfuzz fuzz` can drive, one file each behind the [`Engine`] trait:
//! libFuzzer (cargo-fuzz, [`libfuzzer`]), AFL++ (cargo-afl, the entries in `fuzz/afl/`,
//! [`afl`]) and honggfuzz (cargo-hfuzz, `fuzz/hfuzz/`, [`honggfuzz`]).
//!
//! Every engine's entry calls `harness::entry::fuzz_one(models::TARGETS, target, data)`, so a
//! crash file of any engine is a raw binary input that [`crate::campaign::Campaign::triage`]
//! replays. An engine installs its tool when it is missing ([`Engine::ensure_tool`]) and runs
//! one campaign ([`Engine::run`]), returning the crash files it produced; seeding and triage
//! are the campaign's.

pub mod afl;
pub mod honggfuzz;
pub mod libfuzzer;

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

/// An engine as `--engine` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum EngineName {
    /// libFuzzer through cargo-fuzz (`fuzz/`, nightly).
    #[value(name = "libfuzzer", alias = "cargo-fuzz")]
    LibFuzzer,
    /// AFL++ through cargo-afl (`fuzz/afl/`).
    #[value(name = "afl", aliases = ["afl++", "aflplusplus"])]
    Afl,
    /// honggfuzz through cargo-hfuzz (`fuzz/hfuzz/`).
    #[value(name = "honggfuzz", alias = "hfuzz")]
    Honggfuzz,
}

impl EngineName {
    /// Every engine, in the order `--help` lists them.
    #[cfg(test)]
    pub const ALL: [EngineName; 3] = [
        EngineName::LibFuzzer,
        EngineName::Afl,
        EngineName::Honggfuzz,
    ];

    /// The engine itself.
    pub fn engine(self) -> &'static dyn Engine {
        match self {
            EngineName::LibFuzzer => &libfuzzer::LibFuzzer,
            EngineName::Afl => &afl::Afl,
            EngineName::Honggfuzz => &honggfuzz::Honggfuzz,
        }
    }
}

impl fmt::Display for EngineName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.engine().name())
    }
}

/// What one campaign asks of an engine. Paths are absolute: engines run from their crate.
pub struct Run<'a> {
    /// The workspace root (holds `fuzz/`).
    pub root: &'a Path,
    /// The target's name.
    pub target: &'a str,
    /// Seconds to fuzz.
    pub seconds: u64,
    /// Parallel fuzzing processes, at least 1.
    pub jobs: u32,
    /// Planted bugs to select (`DEVFUZZ_BUGS`, and a `--features planted-bugs` build), empty
    /// for none.
    pub bugs: &'a str,
    /// Options of the target's machine profile (`DEVFUZZ_MACHINE_OPTS`), already validated.
    pub machine_opts: &'a str,
    /// Re-entrancy mode of the fuzz binaries (`DEVFUZZ_REENTRANCY`).
    pub reentrancy: &'a str,
    /// The corpus the engine starts from (`fuzz/corpus/<target>`).
    pub corpus: PathBuf,
    /// The target's dictionary, if it has one.
    pub dict: Option<PathBuf>,
    /// Largest input in bytes.
    pub max_len: usize,
    /// Per-input timeout in seconds (AFL++ and honggfuzz take 0 as 1).
    pub timeout_secs: u64,
    /// Memory limit per process in MiB (libFuzzer).
    pub rss_limit_mb: u64,
    /// cargo-fuzz sanitizer (libFuzzer).
    pub sanitizer: libfuzzer::Sanitizer,
    /// What the libFuzzer build instruments (`--instrument`).
    pub instrument: crate::fuzz_build::Instrument,
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
}

/// Where an engine's entries live, and the name `--engine` takes.
pub struct Layout {
    /// The name `--engine` takes.
    pub name: &'static str,
    /// The engine's crate, relative to the workspace root.
    pub crate_dir: &'static str,
    /// The folder of the entries in the engine's crate, one `<target>.rs` each.
    pub entries_dir: &'static str,
    /// Where a campaign on a target keeps its files, relative to the workspace root (the
    /// target's name is appended).
    pub output_dir: &'static str,
}

/// A fuzz engine: its tool, its crate of entries and how it runs a campaign.
pub trait Engine {
    /// Its name and where its files live.
    fn layout(&self) -> &'static Layout;

    /// The name `--engine` takes.
    fn name(&self) -> &'static str {
        self.layout().name
    }

    /// The source of the engine's entry for `target`.
    fn entry_file(&self, root: &Path, target: &str) -> PathBuf {
        let layout = self.layout();
        root.join(layout.crate_dir)
            .join(layout.entries_dir)
            .join(format!("{target}.rs"))
    }

    /// The engine's crate and the campaign's output folder for `run` (created if missing).
    fn campaign_dirs(&self, run: &Run) -> Result<(PathBuf, PathBuf), String> {
        let layout = self.layout();
        let out = run.root.join(layout.output_dir).join(run.target);
        std::fs::create_dir_all(&out)
            .map_err(|e| format!("cannot create {}: {e}", out.display()))?;
        Ok((run.root.join(layout.crate_dir), out))
    }

    /// Make sure the engine's tool runs, installing it (and what it needs) when it is
    /// missing. Says on stderr what it runs.
    fn ensure_tool(&self) -> Result<(), String>;

    /// Build the entry for `run.target` and fuzz it, showing progress on stderr; Ctrl-C
    /// ([`crate::interrupt`]) ends the run early without an error. Returns the crash files
    /// this run wrote, raw binary inputs.
    fn run(&self, run: &Run) -> Result<Vec<PathBuf>, String>;
}

/// The toolchain cargo-afl and cargo-hfuzz build with (the AFL++ runtime is built per rustc).
pub const TOOLCHAIN: &str = "stable";

/// `cargo +stable <args>`: the AFL++ and honggfuzz cargo subcommands, with the toolchain pinned
/// (also for the `rustc` they query) whatever toolchain runs devfuzz.
fn stable_cargo() -> Command {
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

/// A command as a shell line (`shlex` quoting), with the environment it sets (but the pinned
/// toolchain) and, when it runs elsewhere than here, its directory.
pub fn render(cmd: &Command) -> String {
    // shlex quotes every `=` (it could start an assignment); `-max_len=4096` needs none.
    let quote = |s: &std::ffi::OsStr| {
        let s = s.to_string_lossy();
        let plain = |c: char| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c);
        if !s.is_empty() && s.chars().all(plain) {
            return s.into_owned();
        }
        shlex::try_quote(&s).map_or_else(|_| s.to_string(), |q| q.into_owned())
    };
    let mut words = Vec::new();
    if let Some(dir) = cmd.get_current_dir()
        && std::env::current_dir().is_ok_and(|here| here != dir)
    {
        words.push(format!("(cd {})", quote(dir.as_os_str())));
    }
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v
            && k != "RUSTUP_TOOLCHAIN"
        {
            words.push(format!("{}={}", k.to_string_lossy(), quote(v)));
        }
    }
    words.push(quote(cmd.get_program()));
    words.extend(cmd.get_args().map(quote));
    words.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum as _;

    #[test]
    fn commands_render_as_shell_lines() {
        let mut cmd = Command::new("cargo");
        cmd.args(["fuzz", "run", "ps2", "-dict=a b"])
            .env("DEVFUZZ_BUGS", "")
            .env("DEVFUZZ_MACHINE_OPTS", "hda=none")
            .env("RUSTUP_TOOLCHAIN", "stable");
        assert_eq!(
            render(&cmd),
            "DEVFUZZ_BUGS='' DEVFUZZ_MACHINE_OPTS=hda=none cargo fuzz run ps2 '-dict=a b'"
        );
        cmd.current_dir("/no where");
        assert!(render(&cmd).starts_with("(cd '/no where') DEVFUZZ_BUGS="));
    }

    #[test]
    fn engines_parse_their_names() {
        let parse = |s: &str| EngineName::from_str(s, true).ok();
        for name in EngineName::ALL {
            assert_eq!(parse(name.engine().name()), Some(name));
            assert_eq!(name.to_string(), name.engine().name());
        }
        assert_eq!(parse("AFL++"), Some(EngineName::Afl));
        assert_eq!(parse("aflplusplus"), Some(EngineName::Afl));
        assert_eq!(parse("hfuzz"), Some(EngineName::Honggfuzz));
        assert_eq!(parse("cargo-fuzz"), Some(EngineName::LibFuzzer));
        assert_eq!(parse("LibFuzzer"), Some(EngineName::LibFuzzer));
        assert_eq!(parse("libafl"), None);
    }

    #[test]
    fn every_engine_has_an_entry_per_target() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        for name in EngineName::ALL {
            let engine = name.engine();
            for target in models::TARGETS {
                let entry = engine.entry_file(root, target.name);
                assert!(entry.is_file(), "{name}: no {}", entry.display());
                let text = std::fs::read_to_string(&entry).unwrap();
                let call = format!(
                    "harness::entry::fuzz_one(models::TARGETS, \"{}\", data)",
                    target.name
                );
                // cargo-fuzz entries expand `harness::fuzz_target!`, which makes that call.
                let libfuzzer = format!(
                    "harness::fuzz_target!(models::TARGETS, \"{}\")",
                    target.name
                );
                assert!(
                    text.contains(&call)
                        || (name == EngineName::LibFuzzer && text.contains(&libfuzzer)),
                    "{} does not call {call}",
                    entry.display()
                );
            }
        }
    }
}
