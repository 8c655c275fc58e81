//! Crash files of `devfuzz bench`'s exec/s runs, and those of its time-to-bug trials that were
//! not the planted bug ([`crate::bench_time_to_bug`]). Each libFuzzer run writes them into a
//! folder of its own under `fuzz/target/bench-artifacts/` (`-artifact_prefix=`, never the
//! current directory); after the runs they are triaged as `devfuzz fuzz` triages a campaign's
//! ([`crate::campaign::Triage`]): replayed in-process on this tree (with the run's planted bug
//! selected), grouped by signature, and one minimised reproducer per group kept under
//! `fuzz/findings/bench/<target>/<build>/` (`.../planted-<bug>/` for a trial's).
//! A crash file of a baseline build that does not reproduce here points at a bug fixed since.
//! The bench still succeeds (its job is measuring); [`summary`] is printed last and goes into
//! the notes of `bench/results.md`.

use std::path::{Path, PathBuf};

/// Where each run's crash files are written, one folder per run.
pub const ARTIFACTS: &str = "fuzz/target/bench-artifacts";

/// Where the triaged findings are kept: `<target>/<build>/<crash file>` and its `.qtest`.
pub const FINDINGS: &str = "fuzz/findings/bench";

/// The crash folder of one libFuzzer run.
#[derive(Clone, Debug)]
pub struct RunArtifacts {
    /// Target run.
    pub target: String,
    /// The build's label (`edges`, `base main@0123456789 full`, ...).
    pub build: String,
    /// Whether the build is the baseline's (another revision).
    pub baseline: bool,
    /// The planted bugs the run selected (`DEVFUZZ_BUGS`; empty: none): its crash files
    /// replay with them.
    pub bugs: String,
    /// The folder libFuzzer writes into.
    pub dir: PathBuf,
}

impl RunArtifacts {
    /// An empty crash folder `fuzz/target/bench-artifacts/<run>/` for a run of `target` with
    /// `build`.
    pub fn new(
        root: &Path,
        run: &str,
        target: &str,
        build: &str,
        baseline: bool,
    ) -> Result<RunArtifacts, String> {
        let dir = root.join(ARTIFACTS).join(run);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        Ok(RunArtifacts {
            target: target.to_string(),
            build: build.to_string(),
            baseline,
            bugs: String::new(),
            dir,
        })
    }

    /// The same run with the planted bugs `bugs` selected (a time-to-bug trial's).
    pub fn with_planted(mut self, bugs: &str) -> RunArtifacts {
        self.bugs = bugs.to_string();
        self
    }

    /// libFuzzer's argument that puts the run's crash files into its folder.
    pub fn prefix_arg(&self) -> String {
        format!("-artifact_prefix={}/", self.dir.display())
    }

    /// The crash files libFuzzer wrote (`crash-*`, `timeout-*`, `oom-*`, ...).
    pub fn files(&self) -> Vec<PathBuf> {
        crate::engines::libfuzzer::artifacts(&self.dir)
    }
}

/// One group of crash files with the same signature, from the runs of one target and build.
#[derive(Clone, Debug)]
pub struct Finding {
    /// Target.
    pub target: String,
    /// The build whose runs wrote the crash files.
    pub build: String,
    /// Whether that build is the baseline's.
    pub baseline: bool,
    /// The planted bugs its runs selected (empty: none).
    pub bugs: String,
    /// The signature on replay in this tree (or why it did not reproduce).
    pub signature: String,
    /// For re-entrancies: the register the access landed in.
    pub register: Option<String>,
    /// How many crash files hit it.
    pub inputs: usize,
    /// Commands of the minimised reproducer (`None`: no finding on replay).
    pub minimized_len: Option<usize>,
    /// The kept crash file.
    pub artifact: PathBuf,
    /// Its minimised `.qtest` reproducer.
    pub reproducer: Option<PathBuf>,
}

/// The machine the fuzz binaries of the bench ran: as [`harness::entry`] builds it from the
/// environment the bench passes on (machine options and re-entrancy mode).
pub struct Replay {
    /// Options of the target's machine profile (`DEVFUZZ_MACHINE_OPTS`).
    pub machine_opts: String,
    /// Re-entrancy mode (`DEVFUZZ_REENTRANCY`).
    pub reentrancy: harness::machine::ReentrancyMode,
}

impl Replay {
    /// The machine of this process's environment, which the bench's libFuzzer runs inherit.
    pub fn from_env() -> Replay {
        let var = |name: &str| std::env::var(name).unwrap_or_default();
        Replay {
            machine_opts: var(harness::entry::MACHINE_OPTS_VAR),
            reentrancy: harness::entry::parse_reentrancy(&var(harness::entry::REENTRANCY_VAR))
                .unwrap_or_default(),
        }
    }
}

/// Triage the crash files of `runs`: per target and build, copy them under [`FINDINGS`],
/// replay and group them there, and keep one (with its reproducer) per group.
pub fn triage(root: &Path, runs: &[RunArtifacts], replay: &Replay) -> Vec<Finding> {
    // Per target, build and planted bugs (those of the group's first run), in the order of
    // the runs.
    let mut by_build: Vec<(&RunArtifacts, Vec<PathBuf>)> = Vec::new();
    for r in runs {
        let files = r.files();
        if files.is_empty() {
            continue;
        }
        let same =
            |k: &RunArtifacts| k.target == r.target && k.build == r.build && k.bugs == r.bugs;
        match by_build.iter_mut().find(|(k, _)| same(k)) {
            Some((_, all)) => all.extend(files),
            None => by_build.push((r, files)),
        }
    }
    let mut out = Vec::new();
    for (run, files) in by_build {
        let (target_name, build, bugs, baseline) = (
            run.target.as_str(),
            run.build.as_str(),
            run.bugs.as_str(),
            run.baseline,
        );
        let mut dest = root.join(FINDINGS).join(target_name).join(slug(build));
        if !bugs.is_empty() {
            dest = dest.join(format!("planted-{}", slug(bugs)));
        }
        let copied = match copy_into(&files, &dest) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("bench: {e}");
                continue;
            }
        };
        let finding = |signature: String, inputs: usize, artifact: PathBuf| Finding {
            target: target_name.to_string(),
            build: build.to_string(),
            baseline,
            bugs: bugs.to_string(),
            signature,
            register: None,
            inputs,
            minimized_len: None,
            artifact,
            reproducer: None,
        };
        let Some(target) = models::target(target_name) else {
            // The empty target has no model to replay.
            out.push(finding(
                "not replayed (no model target)".into(),
                copied.len(),
                dest.clone(),
            ));
            continue;
        };
        eprintln!(
            "bench: triage of {} crash file(s) of {target_name} with {build}",
            copied.len()
        );
        let groups = crate::campaign::Triage {
            target,
            bugs: bugs.to_string(),
            machine_opts: replay.machine_opts.clone(),
            reentrancy: replay.reentrancy,
            record: false,
        }
        .run(&copied.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>());
        // One crash file per group is kept; the others were copied only to be replayed.
        for (path, was_there) in &copied {
            if !was_there && !groups.iter().any(|g| &g.artifact == path) {
                let _ = std::fs::remove_file(path);
            }
        }
        out.extend(groups.into_iter().map(|g| Finding {
            register: g.register,
            minimized_len: g.minimized_len,
            reproducer: g.reproducer,
            ..finding(g.signature, g.inputs, g.artifact)
        }));
    }
    out
}

/// Copy `files` into `dest`; each copy's path and whether a file of that name (libFuzzer names
/// crash files by their content's hash: the same input) was there already.
fn copy_into(files: &[PathBuf], dest: &Path) -> Result<Vec<(PathBuf, bool)>, String> {
    std::fs::create_dir_all(dest).map_err(|e| format!("cannot create {}: {e}", dest.display()))?;
    let mut out: Vec<(PathBuf, bool)> = Vec::new();
    for f in files {
        let Some(name) = f.file_name() else { continue };
        let to = dest.join(name);
        if out.iter().any(|(p, _)| p == &to) {
            continue; // the same input from another round
        }
        let was_there = to.exists();
        std::fs::copy(f, &to)
            .map_err(|e| format!("cannot copy {} to {}: {e}", f.display(), to.display()))?;
        out.push((to, was_there));
    }
    Ok(out)
}

/// A folder-name form of a build's label.
pub fn slug(label: &str) -> String {
    label
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

/// What the findings of the runs `what` (`side-by-side runs`, `exec/s runs`) were: a heading
/// line, then one line per finding; empty when there were none. Paths are relative to `root`.
pub fn summary(what: &str, findings: &[Finding], root: &Path) -> Vec<String> {
    if findings.is_empty() {
        return Vec::new();
    }
    let rel = |p: &Path| p.strip_prefix(root).unwrap_or(p).display().to_string();
    let mut lines = vec![format!(
        "{} finding(s) in {what}, replayed on this tree; crash files and reproducers under {FINDINGS}/",
        findings.len()
    )];
    for f in findings {
        let kept = f.reproducer.as_deref().unwrap_or(&f.artifact);
        let mut line = format!(
            "{}{} on {} with {}{} ({} input(s){}) -> {}",
            f.signature,
            f.register
                .as_deref()
                .map_or(String::new(), |r| format!(" @{r}")),
            f.target,
            f.build,
            if f.bugs.is_empty() {
                String::new()
            } else {
                format!(" and planted {}", f.bugs)
            },
            f.inputs,
            f.minimized_len
                .map_or(String::new(), |n| format!(", minimised to {n} commands")),
            rel(kept)
        );
        line.push_str(match (f.baseline, f.reproducer.is_some()) {
            (true, true) => " [baseline build; still reproduces on this tree]",
            (true, false) => {
                " [baseline build; does not reproduce on this tree: fixed since, or a slow input]"
            }
            (false, true) => "",
            (false, false) => " [does not reproduce in-process: a slow input or an engine limit]",
        });
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use harness::machine::ReentrancyMode;
    use harness::runner::Runner;

    /// The e1000e loopback regression as a binary input: a re-entrancy finding in detect mode.
    fn crashing_input() -> Vec<u8> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let text =
            std::fs::read_to_string(root.join("regressions/e1000e/loopback-rx-into-own-bar.qtest"))
                .unwrap();
        let cmds = harness::qtest::parse_trace(&text).unwrap();
        let target = models::target("e1000e").unwrap();
        Runner::new(target).trace_to_input(&cmds).unwrap().bytes
    }

    #[test]
    fn each_run_writes_into_its_own_emptied_folder() {
        let root = tempfile::tempdir().unwrap();
        let a = RunArtifacts::new(root.path(), "edges-ps2-r1", "ps2", "edges", false).unwrap();
        assert_eq!(a.dir, root.path().join(ARTIFACTS).join("edges-ps2-r1"));
        assert_eq!(
            a.prefix_arg(),
            format!("-artifact_prefix={}/", a.dir.display())
        );
        std::fs::write(a.dir.join("crash-1"), b"x").unwrap();
        std::fs::write(a.dir.join("crash-1.qtest"), b"x").unwrap();
        std::fs::write(a.dir.join("timeout-2"), b"x").unwrap();
        std::fs::write(a.dir.join("notes.txt"), b"x").unwrap();
        let names: Vec<String> = a
            .files()
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["crash-1", "timeout-2"]);
        // The same run again starts empty.
        let again = RunArtifacts::new(root.path(), "edges-ps2-r1", "ps2", "edges", false).unwrap();
        assert!(again.files().is_empty());
        let b = RunArtifacts::new(root.path(), "edges-ps2-r2", "ps2", "edges", false).unwrap();
        assert_ne!(a.dir, b.dir);
    }

    #[test]
    fn crash_files_are_grouped_minimised_and_kept_one_per_group() {
        let root = tempfile::tempdir().unwrap();
        let input = crashing_input();
        let run = |name: &str, build: &str, baseline: bool| {
            RunArtifacts::new(root.path(), name, "e1000e", build, baseline).unwrap()
        };
        let r1 = run("edges-e1000e-r1", "edges", false);
        let r2 = run("edges-e1000e-r2", "edges", false);
        let base = run("base-e1000e-r1", "base@0123456789 full", true);
        std::fs::write(r1.dir.join("crash-aaa"), &input).unwrap();
        let mut longer = input.clone();
        longer.extend_from_slice(harness::ops::SEPARATOR);
        longer.extend_from_slice(&input);
        std::fs::write(r2.dir.join("crash-bbb"), &longer).unwrap();
        // A baseline crash this tree does not reproduce (nothing but an empty input).
        std::fs::write(base.dir.join("crash-ccc"), b"").unwrap();
        let replay = Replay {
            machine_opts: String::new(),
            reentrancy: ReentrancyMode::Detect,
        };
        let findings = triage(root.path(), &[base, r1, r2], &replay);
        assert_eq!(findings.len(), 2, "{findings:?}");
        let base_finding = &findings[0];
        assert!(base_finding.baseline && base_finding.reproducer.is_none());
        assert_eq!(base_finding.build, "base@0123456789 full");
        let ours = &findings[1];
        assert!(!ours.baseline);
        assert!(ours.signature.starts_with("reentrancy:"), "{ours:?}");
        assert_eq!(ours.inputs, 2);
        let dest = root.path().join(FINDINGS).join("e1000e/edges");
        // The smaller crash file is the one kept, with its reproducer beside it.
        assert_eq!(ours.artifact, dest.join("crash-aaa"));
        assert_eq!(ours.reproducer, Some(dest.join("crash-aaa.qtest")));
        assert!(dest.join("crash-aaa.qtest").is_file());
        assert!(!dest.join("crash-bbb").exists());
        let lines = summary("side-by-side runs", &findings, root.path());
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert!(
            lines[0].starts_with("2 finding(s) in side-by-side runs"),
            "{lines:?}"
        );
        assert!(
            lines[1].contains("on e1000e with base@0123456789 full")
                && lines[1].contains("does not reproduce on this tree"),
            "{lines:?}"
        );
        assert!(
            lines[2].contains("(2 input(s), minimised to")
                && lines[2].ends_with("-> fuzz/findings/bench/e1000e/edges/crash-aaa.qtest"),
            "{lines:?}"
        );
        assert!(summary("x", &[], root.path()).is_empty());
    }
}
