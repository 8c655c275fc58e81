//! libFuzzer (`fuzz/`, nightly): the target built as [`crate::fuzz_build::FuzzBuild`] says and
//! run as a `-fork` campaign with the dictionary, timeouts, memory and length limits wired in
//! ([`LEN_CONTROL`]), its output in `fuzz/logs/<target>.log` and its crashes in
//! `fuzz/artifacts/<target>/`; and the cargo-fuzz flags of the coverage build
//! ([`fuzz_build_args`]).

use super::{Engine, Layout, Run, render};
use crate::fuzz_build::FuzzBuild;
use std::path::{Path, PathBuf};
use std::process::Command;

/// libFuzzer, its targets built with `cargo +nightly build` ([`FuzzBuild`]).
pub struct LibFuzzer;

/// A cargo-fuzz sanitizer (`cargo fuzz run --sanitizer`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Sanitizer {
    /// AddressSanitizer.
    Address,
    /// LeakSanitizer.
    Leak,
    /// MemorySanitizer.
    Memory,
    /// ThreadSanitizer.
    Thread,
    /// No sanitizer: harness and models have no `unsafe`, and it runs about six times faster.
    None,
}

impl Sanitizer {
    /// The name cargo-fuzz takes.
    pub fn as_str(self) -> &'static str {
        match self {
            Sanitizer::Address => "address",
            Sanitizer::Leak => "leak",
            Sanitizer::Memory => "memory",
            Sanitizer::Thread => "thread",
            Sanitizer::None => "none",
        }
    }
}

/// The `cargo fuzz` flags of the coverage build (`devfuzz coverage`): release with debug
/// assertions and overflow checks (cargo-fuzz's default), the given sanitizer, and the planted
/// bugs when asked. Campaigns and benchmarks build with [`crate::fuzz_build::FuzzBuild`].
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

fn have_cargo_fuzz() -> bool {
    Command::new("cargo")
        .args(["+nightly", "fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Make sure `cargo fuzz` runs, installing cargo-fuzz if it is missing (`devfuzz coverage` and
/// `devfuzz bench` use `cargo fuzz coverage`).
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

/// The crash files libFuzzer wrote into `dir` (not the `.qtest` reproducers triage writes
/// beside them).
pub(crate) fn artifacts(dir: &Path) -> Vec<PathBuf> {
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

impl Engine for LibFuzzer {
    fn layout(&self) -> &'static Layout {
        &Layout {
            name: "libfuzzer",
            crate_dir: "fuzz",
            entries_dir: "fuzz_targets",
            output_dir: "fuzz/artifacts",
        }
    }

    /// Campaigns build with `cargo +nightly build` ([`FuzzBuild`]): no cargo-fuzz needed.
    fn ensure_tool(&self) -> Result<(), String> {
        Ok(())
    }

    fn run(&self, run: &Run) -> Result<Vec<PathBuf>, String> {
        let root = run.root;
        let (_, artifact_dir) = self.campaign_dirs(run)?;
        let before = artifacts(&artifact_dir);

        let build = FuzzBuild::new(
            root,
            run.instrument,
            run.sanitizer.as_str(),
            !run.bugs.is_empty(),
        );
        build.build(&[run.target])?;
        let mut cmd = Command::new(build.binary(run.target));
        cmd.current_dir(root)
            .env("DEVFUZZ_BUGS", run.bugs)
            .env(harness::entry::MACHINE_OPTS_VAR, run.machine_opts)
            .env(harness::entry::REENTRANCY_VAR, run.reentrancy);
        if run.sanitizer == Sanitizer::Address {
            cmd.env("ASAN_OPTIONS", "detect_odr_violation=0");
        }
        cmd.arg(format!(
            "-artifact_prefix={}/",
            artifact_dir
                .strip_prefix(root)
                .unwrap_or(&artifact_dir)
                .display()
        ));
        cmd.arg(run.corpus.strip_prefix(root).unwrap_or(&run.corpus));
        if let Some(dict) = &run.dict {
            cmd.arg(format!("-dict={}", dict.display()));
        }
        cmd.args([
            format!("-max_total_time={}", run.seconds),
            format!("-max_len={}", run.max_len),
            format!("-timeout={}", run.timeout_secs),
            format!("-rss_limit_mb={}", run.rss_limit_mb),
            format!("-fork={}", run.jobs),
            LEN_CONTROL.to_string(),
            "-ignore_crashes=1".to_string(),
            "-ignore_timeouts=1".to_string(),
            "-ignore_ooms=1".to_string(),
            "-print_final_stats=1".to_string(),
        ]);
        let log = root.join("fuzz/logs").join(format!("{}.log", run.target));
        eprintln!("devfuzz: running {}", render(&cmd));
        eprintln!(
            "devfuzz: libFuzzer's output goes to {} (Ctrl-C stops the campaign and triages what it found)",
            log.strip_prefix(root).unwrap_or(&log).display()
        );
        let (status, _) = crate::engine_log::run_logged(
            &mut cmd,
            &log,
            run.target,
            crate::engine_log::Progress::libfuzzer_line,
        )?;
        if crate::interrupt::interrupted() {
            eprintln!("devfuzz: interrupted; triaging what the campaign found");
        } else if !status.success() {
            eprintln!(
                "devfuzz: libFuzzer exited with {status} (see the log); triaging what it found"
            );
        }
        Ok(artifacts(&artifact_dir)
            .into_iter()
            .filter(|a| !before.contains(a))
            .collect())
    }
}
