//! honggfuzz through cargo-hfuzz (`fuzz/hfuzz/`, stable): its crash files and report in the
//! workspace `fuzz/hfuzz/workspace/<target>/`; it adds its new inputs to the corpus, as
//! libFuzzer does.

use super::{Engine, Layout, Run, newer_than, output_of, rel, render, run_shown, stable_cargo};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

/// honggfuzz through cargo-hfuzz.
pub struct Honggfuzz;

/// The honggfuzz release installed when it is missing or different: the version `fuzz/hfuzz`
/// pins, which its build script requires of `cargo hfuzz`.
pub const HONGGFUZZ_VERSION: &str = "0.5.62";

/// The Debian packages honggfuzz builds against.
pub const HONGGFUZZ_DEBIAN_PACKAGES: [&str; 3] =
    ["binutils-dev", "libunwind-dev", "libblocksruntime-dev"];

impl Engine for Honggfuzz {
    fn layout(&self) -> &'static Layout {
        &Layout {
            name: "honggfuzz",
            crate_dir: "fuzz/hfuzz",
            entries_dir: "targets",
            output_dir: "fuzz/hfuzz/workspace",
        }
    }

    fn ensure_tool(&self) -> Result<(), String> {
        ensure_honggfuzz()
    }

    fn run(&self, run: &Run) -> Result<Vec<PathBuf>, String> {
        let (crate_dir, out) = self.campaign_dirs(run)?;
        fuzz(run, &crate_dir, &out)
    }
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
    let version = output_of(
        stable_cargo()
            .args(["hfuzz", "version"])
            .current_dir(&probe_dir),
    )
    .filter(|(ok, _)| *ok)
    .map(|(_, text)| text.trim().to_string());
    let wanted = format!("cargo-hfuzz {HONGGFUZZ_VERSION}");
    let install = |force: bool, why: &str| {
        let mut cmd = stable_cargo();
        cmd.args([
            "install",
            "honggfuzz",
            "--version",
            HONGGFUZZ_VERSION,
            "--locked",
        ]);
        if force {
            cmd.arg("--force");
        }
        run_shown(&mut cmd, why)
    };
    match version {
        Some(v) if v == wanted => Ok(()),
        Some(v) => install(true, &format!("fuzz/hfuzz needs {wanted}, not {v}")),
        None => install(false, "honggfuzz (cargo hfuzz) is not installed"),
    }
}

/// One honggfuzz campaign from `crate_dir`, its crash files in `out`.
fn fuzz(run: &Run, crate_dir: &Path, out: &Path) -> Result<Vec<PathBuf>, String> {
    for (what, p) in [
        ("corpus", Some(&run.corpus)),
        ("dictionary", run.dict.as_ref()),
    ] {
        if let Some(p) = p.filter(|p| p.to_string_lossy().contains(char::is_whitespace)) {
            return Err(format!(
                "honggfuzz's arguments are split at spaces: move the {what} {} to a path without any",
                p.display()
            ));
        }
    }
    let before: BTreeSet<PathBuf> = hfuzz_crash_files(out).into_iter().collect();
    let started = SystemTime::now();
    let mut run_args = format!(
        "--run_time {} -n {} --max_file_size {} --timeout {}",
        run.seconds,
        run.jobs,
        run.max_len,
        run.timeout_secs.max(1)
    );
    if let Some(dict) = &run.dict {
        run_args.push_str(&format!(" --dict {}", dict.display()));
    }
    let workspace = out.parent().unwrap_or(out);
    let mut cmd = stable_cargo();
    cmd.current_dir(crate_dir)
        .args(["hfuzz", "run", run.target])
        .env("CARGO_TARGET_DIR", crate_dir.join("hfuzz_target"))
        .env("HFUZZ_BUILD_ARGS", run.feature_args().join(" "))
        .env("HFUZZ_WORKSPACE", workspace)
        .env("HFUZZ_INPUT", &run.corpus)
        .env("HFUZZ_RUN_ARGS", run_args)
        .env("DEVFUZZ_BUGS", run.bugs)
        .env(harness::entry::MACHINE_OPTS_VAR, run.machine_opts)
        .env(harness::entry::REENTRANCY_VAR, run.reentrancy);
    // honggfuzz prints a line per new input (about 950 in 20 s): into the log, with
    // devfuzz's own status line instead.
    let log = out.with_file_name(format!("{}.log", run.target));
    eprintln!(
        "devfuzz: running {} (log: {})",
        render(&cmd),
        rel(&log, crate_dir)
    );
    let (status, _) = crate::engine_log::run_logged(
        &mut cmd,
        &log,
        run.target,
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
            run.target
        ));
    }
    let new: Vec<PathBuf> = hfuzz_crash_files(out)
        .into_iter()
        .filter(|p| !before.contains(p))
        .collect();
    // (honggfuzz ends with terminal control sequences and no newline.)
    eprintln!();
    eprintln!(
        "devfuzz: honggfuzz {} done: {} new crash file(s); output in {} (report: HONGGFUZZ.REPORT.TXT)",
        run.target,
        new.len(),
        rel(out, crate_dir)
    );
    Ok(newer_than(new, started))
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn hfuzz_crash_files_are_the_fuzz_files() {
        let scratch = tempfile::tempdir().unwrap();
        let dir = scratch.path();
        for file in [
            "SIGABRT.PC.7ffff7a42e97.STACK.1a2b3c.CODE.-6.ADDR.0.INSTR.mov.fuzz",
            "HONGGFUZZ.REPORT.TXT",
            "input",
        ] {
            std::fs::write(dir.join(file), b"x").unwrap();
        }
        let files = hfuzz_crash_files(dir);
        assert_eq!(files.len(), 1);
        assert!(files[0].to_string_lossy().ends_with(".INSTR.mov.fuzz"));
        assert_eq!(newer_than(files.clone(), SystemTime::now()), files);
        let later = SystemTime::now() + Duration::from_secs(60);
        assert!(newer_than(files, later).is_empty());
    }
}
