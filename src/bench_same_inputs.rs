//! `devfuzz bench` side by side on the same inputs: after the exec/s rounds, every build
//! replays (libFuzzer `-runs=0`) the union of the corpora the builds' last runs grew, in turn,
//! round after round, and the figure is the time each build took.
//!
//! Exec/s from the seeds times different work for each build: every run goes its own way, and
//! a build that reaches slow inputs (a long DMA) sooner runs fewer per second, so its exec/s
//! varies by 2-3x from round to round. Replaying one set of inputs times the same work for
//! every build: the ratio is the per-input speed.
//!
//! The same bytes are not the same program in another revision when the binary input format
//! changed between them (it did after eef3d00: the same input then runs other operations). So a
//! baseline build replays each input re-encoded in its own format ([`same_programs`]): this
//! tree's `devfuzz convert` turns it into `.qtest` text, which every revision reads alike, and
//! the baseline's `devfuzz convert` turns the text into the baseline's binary form.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::bench_corpora::Corpora;

/// The union of the corpora `dirs` (libFuzzer names an input by its hash, so copies of one
/// input collapse), in a fresh folder `name` of `corpora`; with the number of inputs.
pub fn union_corpus(
    corpora: &Corpora,
    name: &str,
    dirs: &[PathBuf],
) -> Result<(PathBuf, usize), String> {
    let dir = corpora.fresh(name)?;
    for from in dirs {
        let entries = std::fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))?;
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_file() {
                let to = dir.join(entry.file_name());
                std::fs::copy(&path, &to).map_err(|e| format!("{}: {e}", to.display()))?;
            }
        }
    }
    let count = std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .count();
    Ok((dir, count))
}

/// The inputs of `union` as two revisions' builds both run them: for each input, this tree's
/// `this_cli convert` writes its `.qtest` text and the baseline's `base_cli convert` turns that
/// into the baseline's binary form. Returns (the inputs for this tree's builds, the same
/// programs for the baseline's, how many): an input either tool cannot convert is in neither
/// folder, so both replay the same programs. Folders `<name>-this` and `<name>-base` of
/// `corpora`; the conversions run with no planted bugs or machine options.
pub fn same_programs(
    corpora: &Corpora,
    name: &str,
    target: &str,
    union: &Path,
    this_cli: &Path,
    base_cli: &Path,
) -> Result<(PathBuf, PathBuf, usize), String> {
    let this_dir = corpora.fresh(&format!("{name}-this"))?;
    let base_dir = corpora.fresh(&format!("{name}-base"))?;
    let text_dir = corpora.fresh(&format!("{name}-text"))?;
    let mut entries: Vec<PathBuf> = std::fs::read_dir(union)
        .map_err(|e| format!("{}: {e}", union.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    entries.sort();
    let mut count = 0;
    for input in entries {
        let Some(file) = input.file_name() else {
            continue;
        };
        let text = text_dir.join(file).with_extension("qtest");
        let base = base_dir.join(file);
        if convert(this_cli, target, &input, &text) && convert(base_cli, target, &text, &base) {
            let this = this_dir.join(file);
            std::fs::copy(&input, &this).map_err(|e| format!("{}: {e}", this.display()))?;
            count += 1;
        } else {
            let _ = std::fs::remove_file(&base);
        }
    }
    let _ = std::fs::remove_dir_all(&text_dir);
    Ok((this_dir, base_dir, count))
}

/// `cli convert TARGET INPUT -o OUTPUT`, quietly; whether it succeeded.
fn convert(cli: &Path, target: &str, input: &Path, output: &Path) -> bool {
    Command::new(cli)
        .arg("convert")
        .arg(target)
        .arg(input)
        .arg("-o")
        .arg(output)
        .env_remove("DEVFUZZ_BUGS")
        .env_remove("DEVFUZZ_MACHINE_OPTS")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The wall seconds `binary` (a libFuzzer build) takes to run every input of `corpus` once
/// (`-runs=0`), with `scratch` as the (emptied) folder it may write to, crash files included.
/// An error (an input that crashes: the exec/s runs' triage reports it) names the binary and
/// libFuzzer's last line.
pub fn replay_seconds(binary: &Path, corpus: &Path, scratch: &Path) -> Result<f64, String> {
    let _ = std::fs::remove_dir_all(scratch);
    std::fs::create_dir_all(scratch).map_err(|e| format!("{}: {e}", scratch.display()))?;
    let start = Instant::now();
    let out = Command::new(binary)
        .args(replay_args())
        // A crash file goes to the scratch folder, never the current directory.
        .arg(format!("-artifact_prefix={}/", scratch.display()))
        .arg(scratch)
        .arg(corpus)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", binary.display()))?;
    let secs = start.elapsed().as_secs_f64();
    if !out.status.success() {
        let log = String::from_utf8_lossy(&out.stderr);
        return Err(format!(
            "{} could not replay {}: {}",
            binary.display(),
            corpus.display(),
            last_line(&log)
        ));
    }
    Ok(secs)
}

/// libFuzzer's arguments for a replay: each input once, as long as the exec/s runs allow, with
/// their per-input timeout.
fn replay_args() -> Vec<String> {
    vec![
        "-runs=0".into(),
        "-max_len=4096".into(),
        format!("-timeout={}", crate::campaign::DEFAULT_TIMEOUT_SECS),
    ]
}

/// The last non-empty line of `log` (or a placeholder).
fn last_line(log: &str) -> &str {
    log.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("(no output)")
}

/// Per round, the reference's seconds over this build's: above 1, this build is faster on the
/// same inputs. Rounds where either is missing are left out.
pub fn ratios(this: &[Option<f64>], reference: &[Option<f64>]) -> Vec<f64> {
    this.iter()
        .zip(reference)
        .filter_map(|(a, b)| Some((*b)? / (*a)?))
        .filter(|r| r.is_finite())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_are_the_reference_time_over_this_builds() {
        let this = [Some(1.0), None, Some(2.0), Some(0.0)];
        let reference = [Some(3.0), Some(1.0), Some(2.0), Some(1.0)];
        // Round 2 lacks this build's time; round 4's zero time gives no finite ratio.
        assert_eq!(ratios(&this, &reference), vec![3.0, 1.0]);
    }

    #[test]
    fn the_union_holds_each_input_once() {
        let root = tempfile::tempdir().unwrap();
        let corpora = Corpora::under(root.path(), None).unwrap();
        let (a, b) = (root.path().join("a"), root.path().join("b"));
        for (dir, names) in [(&a, ["x", "y"]), (&b, ["y", "z"])] {
            std::fs::create_dir_all(dir).unwrap();
            for n in names {
                std::fs::write(dir.join(n), n).unwrap();
            }
        }
        let (dir, count) = union_corpus(&corpora, "u", &[a, b]).unwrap();
        assert_eq!(count, 3);
        assert_eq!(std::fs::read_to_string(dir.join("z")).unwrap(), "z");
    }

    #[test]
    fn a_baseline_replays_each_input_as_its_own_convert_re_encodes_this_trees_text() {
        use std::os::unix::fs::PermissionsExt as _;
        let root = tempfile::tempdir().unwrap();
        let corpora = Corpora::under(root.path(), None).unwrap();
        let union = root.path().join("union");
        std::fs::create_dir_all(&union).unwrap();
        for (name, bytes) in [("a", "1"), ("b", "2"), ("bad", "3")] {
            std::fs::write(union.join(name), bytes).unwrap();
        }
        // Fake CLIs: `convert T IN -o OUT`. This tree's writes text (and fails on "bad"); the
        // baseline's encodes the text as "base:" and the text.
        let script = |name: &str, body: &str| {
            let path = root.path().join(name);
            std::fs::write(
                &path,
                format!("#!/bin/sh\n[ \"$1\" = convert ] || exit 9\n{body}\n"),
            )
            .unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
            path
        };
        let this_cli = script(
            "this-cli",
            r#"case "$3" in *bad) exit 2;; esac; printf 'text of %s' "$(cat "$3")" > "$5""#,
        );
        let base_cli = script("base-cli", r#"printf 'base:%s' "$(cat "$3")" > "$5""#);
        let (this, base, count) =
            same_programs(&corpora, "same", "ps2", &union, &this_cli, &base_cli).unwrap();
        assert_eq!(count, 2);
        assert_eq!(std::fs::read_to_string(this.join("a")).unwrap(), "1");
        assert_eq!(
            std::fs::read_to_string(base.join("b")).unwrap(),
            "base:text of 2"
        );
        // An input one side cannot convert is in neither folder.
        assert!(!this.join("bad").exists() && !base.join("bad").exists());
        assert_eq!(std::fs::read_dir(&base).unwrap().count(), 2);
    }

    #[test]
    fn a_replay_that_fails_names_the_binary_and_the_last_line() {
        let root = tempfile::tempdir().unwrap();
        let fake = root.path().join("fake-fuzzer");
        std::fs::write(
            &fake,
            "#!/bin/sh\necho 'first' >&2\necho 'ERROR: it broke' >&2\nexit 3\n",
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        let err = replay_seconds(&fake, root.path(), &root.path().join("scratch")).unwrap_err();
        assert!(
            err.contains("fake-fuzzer") && err.ends_with("ERROR: it broke"),
            "{err}"
        );
        let ok = root.path().join("ok-fuzzer");
        std::fs::write(&ok, "#!/bin/sh\nexit 0\n").unwrap();
        std::fs::set_permissions(&ok, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(replay_seconds(&ok, root.path(), &root.path().join("scratch")).unwrap() >= 0.0);
    }
}
