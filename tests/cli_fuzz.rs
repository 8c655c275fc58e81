//! `devfuzz fuzz` end to end with a stand-in `cargo` (no nightly, no cargo-fuzz): what it
//! passes the engine, where the engine's output goes, triage in detect mode, the reproducer's
//! header, and Ctrl-C.

mod common;

use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A stand-in for a libFuzzer binary: records its environment and arguments, prints what
/// libFuzzer prints, writes the artifact, and stops on SIGINT.
const FAKE_FUZZER: &str = r##"#!/bin/sh
env | grep '^DEVFUZZ_' > "$FAKE_DIR/env.txt"
echo "$*" > "$FAKE_DIR/args.txt"
for i in 1 2 3; do echo "WARNING: Failed to find function __sanitizer_acquire_crash_state." >&2; done
i=0
while [ $i -lt 300 ]; do
  echo "#$i: cov: 10 ft: 20 corp: 3 exec/s 100 oom/timeout/crash: 0/0/1 time: 1s job: 1 dft_time: 0" >&2
  i=$((i+1))
done
mkdir -p fuzz/artifacts/e1000e
cp "$FAKE_DIR/artifact" fuzz/artifacts/e1000e/crash-fake1
if [ -n "$FAKE_SLEEP" ]; then
  # Like libFuzzer: stop on SIGINT. The trap is set before the test is told to send it.
  trap 'exit 130' INT
  echo started > "$FAKE_DIR/started"
  i=0
  while [ $i -lt "$FAKE_SLEEP" ]; do sleep 0.2; i=$((i+1)); done
  exit 0
fi
echo started > "$FAKE_DIR/started"
exit 0
"##;

fn workspace() -> tempfile::TempDir {
    common::workspace(FAKE_FUZZER)
}

fn fuzz_cmd(ws: &Path, args: &[&str]) -> Command {
    common::devfuzz(ws, args)
}

#[test]
fn a_detect_mode_campaign_logs_the_engine_and_triages_by_path() {
    let scratch = workspace();
    let ws = scratch.path();
    let out = fuzz_cmd(
        ws,
        &[
            "-O",
            "hda=none",
            "fuzz",
            "e1000e",
            "--time",
            "5",
            "--reentrancy",
            "detect",
        ],
    )
    .output()
    .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    // The fuzz binaries get the mode and the machine options.
    let env = std::fs::read_to_string(ws.join("env.txt")).unwrap();
    let args = std::fs::read_to_string(ws.join("args.txt")).unwrap();
    assert!(
        args.starts_with("-artifact_prefix=fuzz/artifacts/e1000e/ fuzz/corpus/e1000e"),
        "{args}"
    );
    assert!(env.contains("DEVFUZZ_REENTRANCY=detect"), "{env}");
    assert!(env.contains("DEVFUZZ_MACHINE_OPTS=hda=none"), "{env}");
    // The engine's 300 status lines and its sanitizer warnings are in the log, not on stderr.
    let log = std::fs::read_to_string(ws.join("fuzz/logs/e1000e.log")).unwrap();
    assert!(log.contains("__sanitizer_acquire_crash_state") && log.lines().count() >= 303);
    assert!(!stderr.contains("__sanitizer"), "{stderr}");
    assert!(stderr.lines().count() < 20, "{stderr}");
    // Triage: the re-entrancy's path (devices, model frame, register).
    assert!(
        stdout.contains("reentrancy:e1000e->e1000e:models/src/e1000e/rx.rs:"),
        "{stdout}"
    );
    assert!(
        stdout.contains("into register e1000e-mmio+0x400"),
        "{stdout}"
    );
    // The reproducer carries what reproduces it, and replays so.
    let repro = ws.join("fuzz/artifacts/e1000e/crash-fake1.qtest");
    let text = std::fs::read_to_string(&repro).unwrap();
    assert!(text.contains("# machine-opts: hda=none\n"), "{text}");
    assert!(text.contains("# reentrancy: detect\n"), "{text}");
    let out = Command::new(env!("CARGO_BIN_EXE_devfuzz"))
        .args(["replay", "e1000e"])
        .arg(&repro)
        .env_remove("DEVFUZZ_MACHINE_OPTS")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn ctrl_c_stops_the_engine_and_still_triages() {
    let scratch = workspace();
    let ws = scratch.path();
    let child = fuzz_cmd(
        ws,
        &["fuzz", "e1000e", "--time", "60", "--reentrancy", "detect"],
    )
    .env("FAKE_SLEEP", "300")
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .process_group(0)
    .spawn()
    .unwrap();
    let start = Instant::now();
    while !ws.join("started").exists() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the engine never started"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // What a terminal does on Ctrl-C: SIGINT to the whole foreground process group.
    let pgid = format!("-{}", child.id());
    assert!(
        Command::new("kill")
            .args(["-INT", "--", &pgid])
            .status()
            .unwrap()
            .success()
    );
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(start.elapsed() < Duration::from_secs(50), "stopped early");
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert!(
        stdout.contains("reentrancy:e1000e->e1000e"),
        "{stdout}\n{stderr}"
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn campaign_options_that_would_mislead_are_refused() {
    let scratch = workspace();
    let ws = scratch.path();
    for (args, says) in [
        (&["fuzz", "e1000e", "--time", "0"][..], "--time 0"),
        (&["fuzz", "e1000e", "-j", "0"], "-j 0"),
        (
            &["-O", "nic=igb", "fuzz", "e1000e"],
            "target e1000e fuzzes device 'e1000e'",
        ),
        (
            &["-O", "hda=none,hda=disk", "fuzz", "e1000e"],
            "given twice",
        ),
        (
            &["-O", "hda=none,", "fuzz", "e1000e"],
            "empty machine option",
        ),
        (&["-O", "", "fuzz", "e1000e"], "-O needs key=value"),
    ] {
        let out = fuzz_cmd(ws, args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
    assert!(!ws.join("env.txt").exists(), "no engine ran");
}

#[test]
fn engine_and_sanitizer_names_are_checked_before_anything_runs() {
    let scratch = workspace();
    let ws = scratch.path();
    for (args, says) in [
        (
            &["fuzz", "e1000e", "--engine", "libafl"][..],
            "[possible values: libfuzzer, afl, honggfuzz]",
        ),
        (
            &["fuzz", "e1000e", "--sanitizer", "adress"],
            "[possible values: address, leak, memory, thread, none]",
        ),
        // An engine without an entry for the target says so before installing anything.
        (
            &["fuzz", "e1000e", "--engine", "afl"],
            "no afl entry for target e1000e",
        ),
    ] {
        let out = fuzz_cmd(ws, args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
    // Every spelling `--engine` took before it was a ValueEnum still works.
    for engine in [
        "libfuzzer",
        "LibFuzzer",
        "cargo-fuzz",
        "afl",
        "AFL++",
        "aflplusplus",
        "honggfuzz",
        "hfuzz",
    ] {
        let out = fuzz_cmd(
            ws,
            &[
                "fuzz",
                "e1000e",
                "--engine",
                engine,
                "--sanitizer",
                "address",
            ],
        )
        .env("DEVFUZZ_DRY_RUN", "1")
        .output()
        .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{engine}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(!ws.join("env.txt").exists(), "no engine ran");
}
