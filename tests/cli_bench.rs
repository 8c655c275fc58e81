//! `devfuzz bench` side by side end to end with a stand-in `cargo` and libFuzzer (no nightly,
//! no cargo-fuzz): every run's crash files go to a folder of its own, never the current
//! directory, are triaged after the runs and reported last; the working corpora are on tmpfs
//! and removed.

mod common;

use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A stand-in libFuzzer binary: notes its corpus folder, writes the crash file where
/// `-artifact_prefix=` says (the current directory without it, as libFuzzer does), prints the
/// final status line and exits as libFuzzer does on a crash.
const FAKE_FUZZER: &str = r##"#!/bin/sh
prefix=
corpus=
for a in "$@"; do
  case "$a" in
    -artifact_prefix=*) prefix=${a#-artifact_prefix=} ;;
    -*) ;;
    *) corpus=$a ;;
  esac
done
echo "$corpus" >> "$FAKE_DIR/corpora.txt"
echo new > "$corpus/new-input"
if [ -n "$FAKE_SLEEP" ]; then
  # Like libFuzzer: stop on SIGINT. The trap is set before the test is told to send it.
  trap 'exit 130' INT
  echo started > "$FAKE_DIR/started"
  i=0
  while [ $i -lt "$FAKE_SLEEP" ]; do sleep 0.2; i=$((i+1)); done
  exit 0
fi
cp "$FAKE_DIR/artifact" "${prefix}crash-fake1"
echo "#100	DONE   cov: 10 ft: 20 corp: 3/9b lim: 4 exec/s: 1000 rss: 30Mb" >&2
exit 1
"##;

/// `devfuzz bench` side by side on `e1000e` (builds `full` and `edges`, one round of 1 s), in
/// the scratch workspace `ws`, its stand-ins on PATH.
fn bench_cmd(ws: &Path) -> Command {
    let mut c = common::devfuzz(
        ws,
        &[
            "bench",
            "--targets",
            "e1000e",
            "--instrument",
            "full,edges",
            "--rounds",
            "1",
            "--exec-seconds",
            "1",
            "--time-to-bug",
            "none",
        ],
    );
    c.env("DEVFUZZ_REENTRANCY", "detect")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

#[test]
fn side_by_side_crashes_are_triaged_and_reported_and_corpora_removed() {
    let scratch = common::workspace(FAKE_FUZZER);
    let ws = scratch.path();
    let out = bench_cmd(ws).output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    // Measuring succeeded; the findings are the last thing printed.
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let tail: Vec<&str> = stdout.trim_end().lines().rev().take(3).collect();
    assert!(
        tail[2].starts_with("bench: 2 finding(s) in side-by-side runs"),
        "{stdout}"
    );
    for build in ["full", "edges"] {
        let (what, kept_at) = (
            format!("on e1000e with {build} (1 input(s), minimised to "),
            format!("-> fuzz/findings/bench/e1000e/{build}/crash-fake1.qtest"),
        );
        assert!(
            tail.iter()
                .any(|l| l.starts_with("  reentrancy:e1000e->e1000e:")
                    && l.contains(&what)
                    && l.ends_with(&kept_at)),
            "{what} {kept_at}\n{stdout}"
        );
        let kept = ws.join("fuzz/findings/bench/e1000e").join(build);
        assert!(kept.join("crash-fake1").is_file());
        assert!(kept.join("crash-fake1.qtest").is_file());
        // Each run wrote into its own folder.
        assert!(
            ws.join(format!(
                "fuzz/target/bench-artifacts/{build}-e1000e-r1/crash-fake1"
            ))
            .is_file()
        );
    }
    // Nothing in the current directory.
    assert!(!ws.join("crash-fake1").exists());
    // The notes say it too, and where the corpora were.
    let md = std::fs::read_to_string(ws.join("bench/results.md")).unwrap();
    assert!(md.contains("**2 finding(s) in side-by-side runs"), "{md}");
    assert!(
        md.contains("e1000e with full in round 1 stopped at a crash"),
        "{md}"
    );
    // Both builds replayed the union of their corpora (which the stand-in cannot: it "crashes"),
    // and no replay left a crash file in the current directory either.
    assert!(md.contains("same inputs: each build replayed"), "{md}");
    assert!(md.contains("could not replay"), "{md}");
    let corpora = std::fs::read_to_string(ws.join("corpora.txt")).unwrap();
    let on_tmpfs = corpora.lines().all(|c| c.starts_with("/dev/shm/"));
    if on_tmpfs {
        assert!(md.contains("on tmpfs (/dev/shm/devfuzz-bench-"), "{md}");
    } else {
        assert!(md.contains("on disk (fuzz/target/bench-corpus/"), "{md}");
    }
    // Removed afterwards.
    for c in corpora.lines() {
        assert!(!Path::new(c).exists(), "{c} left behind");
    }
}

#[test]
fn ctrl_c_stops_the_bench_and_removes_its_corpora() {
    let scratch = common::workspace(FAKE_FUZZER);
    let ws = scratch.path();
    let child = bench_cmd(ws)
        .env("FAKE_SLEEP", "300")
        .process_group(0)
        .spawn()
        .unwrap();
    let mut child = child;
    let start = Instant::now();
    while !ws.join("started").exists() {
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "the engine never started:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
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
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(start.elapsed() < Duration::from_secs(50), "stopped early");
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("bench interrupted: nothing written"),
        "{stderr}"
    );
    assert!(!ws.join("bench/results.md").exists());
    let corpora = std::fs::read_to_string(ws.join("corpora.txt")).unwrap();
    assert_eq!(corpora.lines().count(), 1, "one run, then it stopped");
    for c in corpora.lines() {
        assert!(!Path::new(c).exists(), "{c} left behind");
    }
}

/// A stand-in libFuzzer binary for time-to-bug trials: notes its arguments, and crashes on the
/// e1000e loopback re-entrancy (`artifact`) in its first run, on the planted bug (`planted`)
/// in every later one.
#[cfg(feature = "planted-bugs")]
const FAKE_TRIAL_FUZZER: &str = r##"#!/bin/sh
prefix=
corpus=
for a in "$@"; do
  case "$a" in
    -artifact_prefix=*) prefix=${a#-artifact_prefix=} ;;
    -*) ;;
    *) corpus=$a ;;
  esac
done
echo "$*" >> "$FAKE_DIR/args.txt"
echo "$corpus" >> "$FAKE_DIR/corpora.txt"
if [ "$(wc -l < "$FAKE_DIR/args.txt")" -eq 1 ]; then
  cp "$FAKE_DIR/artifact" "${prefix}crash-other"
else
  cp "$FAKE_DIR/planted" "${prefix}crash-planted"
fi
echo "==1== ERROR: libFuzzer: deadly signal" >&2
exit 1
"##;

/// e1000e-head-outside-ring: BAR0 at 0xfebc0000, transmit ring of 8 descriptors, head 9,
/// tail 1, then TCTL.EN.
#[cfg(feature = "planted-bugs")]
const HEAD_OUTSIDE_RING: &str = "\
outl 0xcf8 0x80001010
outl 0xcfc 0xfebc0000
outl 0xcf8 0x80001004
outw 0xcfc 0x0006
writel 0xfebc3800 0x10000
writel 0xfebc3808 0x80
writel 0xfebc3810 9
writel 0xfebc3818 1
writel 0xfebc0400 0x000400fa
";

#[cfg(feature = "planted-bugs")]
#[test]
fn a_trial_counts_only_the_planted_bugs_crash_and_goes_on_after_another() {
    let scratch = common::workspace(FAKE_TRIAL_FUZZER);
    let ws = scratch.path();
    std::fs::write(ws.join("planted.qtest"), HEAD_OUTSIDE_RING).unwrap();
    let out = common::devfuzz(ws, &["convert", "e1000e", "planted.qtest", "-o", "planted"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = common::devfuzz(
        ws,
        &[
            "bench",
            "--time-to-bug",
            "e1000e-head-outside-ring",
            "--trials",
            "2",
            "--trial-seconds",
            "60",
        ],
    )
    .env("DEVFUZZ_REENTRANCY", "detect")
    .output()
    .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}\n{stderr}");
    // Trial 1: the re-entrancy, then the planted bug from the same corpus with another seed;
    // trial 2: the planted bug. Every run with a per-input timeout.
    let args = std::fs::read_to_string(ws.join("args.txt")).unwrap();
    let runs: Vec<&str> = args.lines().collect();
    assert_eq!(runs.len(), 3, "{args}");
    assert!(runs.iter().all(|r| r.contains("-timeout=10")), "{args}");
    for (run, seed) in runs.iter().zip(["-seed=1 ", "-seed=1001 ", "-seed=2 "]) {
        assert!(run.contains(seed), "{seed}: {args}");
    }
    let corpora = std::fs::read_to_string(ws.join("corpora.txt")).unwrap();
    let corpora: Vec<&str> = corpora.lines().collect();
    assert_eq!(corpora[0], corpora[1], "trial 1 goes on from its corpus");
    assert_ne!(corpora[1], corpora[2]);
    let json = std::fs::read_to_string(ws.join("bench/results.json")).unwrap();
    let results: serde_json::Value = serde_json::from_str(&json).unwrap();
    let row = &results["time_to_bug"][0];
    assert_eq!(row["bug"], "e1000e-head-outside-ring");
    let trials = row["trials_seconds"].as_array().unwrap();
    assert!(trials.iter().all(|t| t.is_number()), "{row}");
    assert_eq!(row["other_crashes"], 1, "{row}");
    // The other crash is a finding of its own, triaged with the bug selected.
    let tail: Vec<&str> = stdout.trim_end().lines().rev().take(2).collect();
    assert!(
        tail[1].starts_with("bench: 1 finding(s) in time-to-bug trials"),
        "{stdout}"
    );
    assert!(
        tail[0].starts_with("  reentrancy:e1000e->e1000e:")
            && tail[0].contains("and planted e1000e-head-outside-ring")
            && tail[0].ends_with(
                "-> fuzz/findings/bench/e1000e/model-edges/planted-e1000e-head-outside-ring/crash-other.qtest"
            ),
        "{stdout}"
    );
}
