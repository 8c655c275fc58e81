//! Running one libFuzzer process for `devfuzz bench` (the built binary itself, timed), with
//! the target's dictionary, and ending the bench when Ctrl-C interrupts a run.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// Run one libFuzzer process (the built binary itself, so cargo's start-up is not timed);
/// returns (wall seconds, stderr, exit success), or the bench's end when Ctrl-C stopped it
/// ([`stop_if_interrupted`]).
pub(crate) fn libfuzzer(
    binary: &Path,
    planted: Option<&str>,
    corpus: &Path,
    args: &[String],
) -> Result<(f64, String, bool), String> {
    let mut cmd = Command::new(binary);
    cmd.env("DEVFUZZ_BUGS", planted.unwrap_or(""))
        .arg(corpus)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let out = cmd
        .output()
        .map_err(|e| format!("{}: {e}", binary.display()))?;
    let log = String::from_utf8_lossy(&out.stderr).into_owned();
    // The run may end before the Ctrl-C handler's thread has noted the interrupt.
    if was_interrupted(out.status, &log) {
        return Err(interrupted_error());
    }
    stop_if_interrupted()?;
    Ok((start.elapsed().as_secs_f64(), log, out.status.success()))
}

/// Whether a libFuzzer run ended because of SIGINT: it says so and exits with its
/// `-interrupt_exit_code` (or, killed by the signal, has no code).
fn was_interrupted(status: std::process::ExitStatus, log: &str) -> bool {
    use std::os::unix::process::ExitStatusExt as _;
    const SIGINT: i32 = 2;
    status.signal() == Some(SIGINT)
        || status.code() == Some(128 + SIGINT)
        || log.contains("libFuzzer: run interrupted")
}

/// The dictionary of `target` in this tree, if it has one.
pub(crate) fn dict_of(root: &Path, target: &str) -> Option<PathBuf> {
    let dict = root.join("fuzz/dicts").join(format!("{target}.dict"));
    dict.is_file().then_some(dict)
}

/// An error that ends the bench when Ctrl-C was pressed (the libFuzzer run it interrupted has
/// stopped): its corpora are removed on the way out, nothing is written.
pub(crate) fn stop_if_interrupted() -> Result<(), String> {
    if crate::interrupt::interrupted() {
        return Err(interrupted_error());
    }
    Ok(())
}

pub(crate) fn interrupted_error() -> String {
    format!(
        "bench interrupted: nothing written; crash files of the runs so far are in {}/",
        crate::bench_findings::ARTIFACTS
    )
}

#[cfg(test)]
mod tests {
    use super::was_interrupted;

    #[test]
    fn a_run_stopped_by_ctrl_c_is_seen_as_such() {
        use std::os::unix::process::ExitStatusExt as _;
        let exited = |code: i32| std::process::ExitStatus::from_raw(code << 8);
        assert!(was_interrupted(
            exited(72),
            "==7== libFuzzer: run interrupted; exiting"
        ));
        assert!(was_interrupted(exited(130), ""));
        assert!(was_interrupted(std::process::ExitStatus::from_raw(2), ""));
        assert!(!was_interrupted(
            exited(1),
            "==7== ERROR: libFuzzer: deadly signal"
        ));
        assert!(!was_interrupted(exited(0), "Done 100 runs"));
    }
}
