//! `devfuzz bench --baseline REV`: in-process programs/s (no engine) of the baseline's build and
//! of this tree's, in turn, in one run.
//!
//! The baseline's code takes no new flags, so both builds are measured as every revision since
//! the bench began can be: its own `devfuzz bench --in-process-only --targets T`, one process per
//! target and build, in a scratch folder that it takes for the workspace (so neither tree's
//! `bench/` is touched), read back from the `bench/results.json` it writes there. The baseline's
//! `devfuzz` is built in its worktree, with its own `target/`, in this binary's profile and with
//! its planted-bugs feature.

use crate::baseline::Baseline;
use crate::bench_config::BenchConfig;
use crate::bench_libfuzzer::stop_if_interrupted;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// In-process programs/s of one target: the baseline's build and this tree's, measured in turn.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct InProcessSideBySide {
    /// Target.
    pub target: String,
    /// The baseline build (`base@0123456789`).
    pub baseline: String,
    /// The baseline's programs/s in each round it was measured.
    pub baseline_rates: Vec<f64>,
    /// This tree's programs/s in each round it was measured.
    pub rates: Vec<f64>,
    /// This tree's programs/s over the baseline's, per round measured by both.
    pub ratios: Vec<f64>,
    /// The run it was measured in: `2026-12-06 at 0123456789`. A `--targets` run replaces only
    /// its own rows.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub measured: String,
}

/// The functions that make and time the sample programs: a baseline whose text of them differs
/// runs other programs, or times them otherwise.
const MEASURING_FUNCTIONS: [&str; 2] = ["sample_inputs", "in_process_rate"];

/// A `devfuzz` binary to measure, with the label of its build.
struct Build {
    label: String,
    binary: PathBuf,
}

/// A folder the measured `devfuzz` takes for its workspace (it has `regressions/` and
/// `harness/`); removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(root: &Path) -> Result<Scratch, String> {
        let dir = root
            .join("target")
            .join(format!("bench-in-process-{}", std::process::id()));
        for sub in ["regressions", "harness"] {
            std::fs::create_dir_all(dir.join(sub))
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Measure `targets` with the baseline's build and this one, per round and target each once, in
/// turn (the order rotating per round). The rows, and notes each starting with `note`; a
/// baseline that cannot measure in process is a note, not an error.
pub fn side_by_side(
    cfg: &BenchConfig,
    baseline: &Baseline,
    note: &str,
    targets: &[&str],
) -> Result<(Vec<InProcessSideBySide>, Vec<String>), String> {
    let mut notes = Vec::new();
    if targets.is_empty() {
        return Ok((Vec::new(), notes));
    }
    let skipped = |why: String| {
        Ok((
            Vec::new(),
            vec![format!(
                "{note}in-process side by side skipped: {} {why}",
                baseline.label()
            )],
        ))
    };
    let base_binary = match build_devfuzz(&baseline.dir) {
        Ok(b) => b,
        Err(e) => return skipped(format!("could not be built: {e}")),
    };
    let this_binary =
        std::env::current_exe().map_err(|e| format!("cannot find this devfuzz binary: {e}"))?;
    let scratch = Scratch::new(&cfg.root)?;
    if !can_measure_in_process(&bench_help(&base_binary, &scratch.0)) {
        return skipped("has no `devfuzz bench --in-process-only --targets`".into());
    }
    let builds = [
        Build {
            label: baseline.label(),
            binary: base_binary,
        },
        Build {
            label: "this tree".into(),
            binary: this_binary,
        },
    ];
    let rounds = cfg.rounds.max(1) as usize;
    notes.push(format!(
        "{note}in-process: {} and this tree, each build's own `devfuzz bench --in-process-only --targets T` ({} builds{}), one process per target and build, in turn (order rotating per round), {rounds} round(s)",
        builds[0].label,
        if cfg!(debug_assertions) { "debug" } else { "release" },
        if models::planted::ENABLED_IN_BUILD {
            ", with planted bugs"
        } else {
            ""
        },
    ));
    notes.push(format!(
        "{note}in-process: {}",
        same_programs_note(&baseline.dir, &cfg.root)
    ));
    // rates[target][build][round]
    let mut rates = vec![[Vec::new(), Vec::new()]; targets.len()];
    for round in 0..rounds {
        for (ti, target) in targets.iter().enumerate() {
            for k in 0..builds.len() {
                let bi = (round + k) % builds.len();
                let build = &builds[bi];
                stop_if_interrupted()?;
                eprintln!(
                    "bench: round {}/{rounds}: in-process {target} with {}",
                    round + 1,
                    build.label
                );
                match programs_per_sec(build, &scratch.0, target) {
                    Ok(rate) => rates[ti][bi].push(Some(rate)),
                    Err(e) => {
                        rates[ti][bi].push(None);
                        notes.push(format!(
                            "{note}no in-process programs/s for {target} with {} in round {}: {e}",
                            build.label,
                            round + 1
                        ));
                    }
                }
            }
        }
    }
    let rows = targets
        .iter()
        .zip(rates)
        .map(|(target, [base, this])| InProcessSideBySide {
            target: target.to_string(),
            baseline: builds[0].label.clone(),
            ratios: this
                .iter()
                .zip(&base)
                .filter_map(|(t, b)| Some((*t)? / (*b)?))
                .collect(),
            baseline_rates: base.into_iter().flatten().collect(),
            rates: this.into_iter().flatten().collect(),
            measured: String::new(),
        })
        .collect();
    Ok((rows, notes))
}

/// Build the `devfuzz` binary of the tree at `dir` into its own `target/`, in this binary's
/// profile and with its planted-bugs feature; its path.
pub(crate) fn build_devfuzz(dir: &Path) -> Result<PathBuf, String> {
    let target_dir = dir.join("target");
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    let mut cmd = Command::new("cargo");
    cmd.current_dir(dir)
        .args(["build", "--bin", "devfuzz"])
        .env("CARGO_TARGET_DIR", &target_dir);
    if profile == "release" {
        cmd.arg("--release");
    }
    if models::planted::ENABLED_IN_BUILD {
        cmd.args(["--features", "planted-bugs"]);
    }
    eprintln!("bench: building devfuzz in {} ({profile})", dir.display());
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run cargo build: {e}"))?;
    if !status.success() {
        return Err(format!("cargo build failed ({status})"));
    }
    Ok(target_dir.join(profile).join("devfuzz"))
}

/// What `devfuzz bench --help` of `binary` prints (empty if it does not run).
fn bench_help(binary: &Path, scratch: &Path) -> String {
    Command::new(binary)
        .args(["bench", "--help"])
        .current_dir(scratch)
        .stdin(Stdio::null())
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

/// Whether a `devfuzz bench --help` text offers what this measurement runs.
fn can_measure_in_process(help: &str) -> bool {
    help.contains("--in-process-only") && help.contains("--targets")
}

/// One in-process figure: `build`'s `devfuzz bench --in-process-only --targets TARGET` in
/// `scratch`, read from the `bench/results.json` it writes there.
fn programs_per_sec(build: &Build, scratch: &Path, target: &str) -> Result<f64, String> {
    let results = scratch.join("bench");
    let _ = std::fs::remove_dir_all(&results);
    let out = Command::new(&build.binary)
        .args(["bench", "--in-process-only", "--targets", target])
        .current_dir(scratch)
        .env_remove(models::planted::ENV_VAR)
        .env_remove(harness::entry::MACHINE_OPTS_VAR)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", build.binary.display()))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(format!(
            "devfuzz bench failed ({}): {}",
            out.status,
            stderr.lines().last().unwrap_or("").trim()
        ));
    }
    let path = results.join("results.json");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    parse_programs_per_sec(&text, target)
}

/// `target`'s programs/s in a `bench/results.json` of any revision (its `in_process` rows).
fn parse_programs_per_sec(json: &str, target: &str) -> Result<f64, String> {
    let v: serde_json::Value =
        serde_json::from_str(json).map_err(|e| format!("bench/results.json: {e}"))?;
    v.get("in_process")
        .and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
        .find(|row| row.get("target").and_then(serde_json::Value::as_str) == Some(target))
        .and_then(|row| row.get("programs_per_sec")?.as_f64())
        .ok_or_else(|| format!("bench/results.json has no in-process programs/s of {target}"))
}

/// Whether the baseline at `base` makes and times the same sample programs as the tree at
/// `this`, as a note.
fn same_programs_note(base: &Path, this: &Path) -> String {
    match (measuring_code(base), measuring_code(this)) {
        (Some(b), Some(t)) if b == t => format!(
            "the baseline makes and times the sample programs with the same code as this tree (`{}`)",
            MEASURING_FUNCTIONS.join("`, `")
        ),
        (Some(_), Some(_)) => format!(
            "**the baseline's `{}` differ from this tree's: its programs or its timing are not the same, so the ratios compare unlike figures**",
            MEASURING_FUNCTIONS.join("`, `")
        ),
        _ => format!(
            "could not compare the baseline's `{}` with this tree's (not found in src/)",
            MEASURING_FUNCTIONS.join("`, `")
        ),
    }
}

/// The text of [`MEASURING_FUNCTIONS`] in the `src/*.rs` of the tree at `root`, or `None` if
/// one is missing.
fn measuring_code(root: &Path) -> Option<String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("src"))
        .ok()?
        .filter_map(|e| Some(e.ok()?.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .collect();
    files.sort();
    let sources: Vec<String> = files
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .collect();
    MEASURING_FUNCTIONS
        .iter()
        .map(|name| sources.iter().find_map(|s| function_text(s, name)))
        .collect::<Option<Vec<&str>>>()
        .map(|v| v.concat())
}

/// The text of top-level function `name` in `source`: from its line to the closing brace at
/// the start of a line.
fn function_text<'a>(source: &'a str, name: &str) -> Option<&'a str> {
    let at = source.find(&format!("fn {name}("))?;
    let start = source[..at].rfind('\n').map_or(0, |i| i + 1);
    let end = start + source[start..].find("\n}\n")? + 3;
    Some(&source[start..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn programs_per_sec_is_read_from_any_revisions_results() {
        // As eef3d00 writes it (no stamps), and as this tree does.
        let old = r#"{"host":"h","libfuzzer_exec_per_sec":[],"in_process":[{"target":"ps2","programs_per_sec":370186.4}],"time_to_bug":[],"minimize":null,"notes":["engine measurements skipped (--in-process-only)"]}"#;
        assert_eq!(parse_programs_per_sec(old, "ps2"), Ok(370186.4));
        let new = r#"{"host":"h","in_process":[{"target":"pci","programs_per_sec":1.5,"measured":"x"},{"target":"ide","programs_per_sec":2e5,"measured":"x"}],"notes":[]}"#;
        assert_eq!(parse_programs_per_sec(new, "ide"), Ok(200000.0));
        assert!(parse_programs_per_sec(new, "ps2").is_err());
        assert!(parse_programs_per_sec("{}", "ps2").is_err());
        assert!(parse_programs_per_sec("not json", "ps2").is_err());
    }

    #[test]
    fn a_build_without_in_process_only_is_told_apart() {
        assert!(can_measure_in_process(
            "Options:\n      --in-process-only  Only the in-process figures\n      --targets <TARGETS>\n"
        ));
        assert!(!can_measure_in_process("Options:\n      --exec-seconds\n"));
        assert!(!can_measure_in_process(""));
    }

    #[test]
    fn the_measuring_code_is_compared_between_trees() {
        let tree = |sample: &str| {
            let dir = tempfile::tempdir().unwrap();
            std::fs::create_dir_all(dir.path().join("src")).unwrap();
            std::fs::write(
                dir.path().join("src/bench.rs"),
                format!("use x;\n\npub fn sample_inputs(n: usize) {{\n    {sample}\n}}\n\nfn in_process_rate() {{\n    loop {{}}\n}}\n\nfn other() {{}}\n"),
            )
            .unwrap();
            dir
        };
        let (a, b, c) = (tree("one"), tree("one"), tree("two"));
        let code = measuring_code(a.path()).unwrap();
        assert!(code.starts_with("pub fn sample_inputs(") && code.ends_with("loop {}\n}\n"));
        assert!(!code.contains("other"));
        assert!(same_programs_note(a.path(), b.path()).contains("with the same code"));
        assert!(same_programs_note(a.path(), c.path()).contains("differ from this tree's"));
        assert!(same_programs_note(a.path(), Path::new("/nonexistent")).contains("could not"));
        // This tree has both functions.
        assert!(measuring_code(Path::new(env!("CARGO_MANIFEST_DIR"))).is_some());
    }
}
