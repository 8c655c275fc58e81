//! A scratch workspace with stand-ins for `cargo` and a libFuzzer binary, for tests that run
//! `devfuzz fuzz` or `devfuzz bench` end to end without nightly or cargo-fuzz.

use std::path::Path;
use std::process::Command;

/// A stand-in for cargo: `cargo +nightly fuzz --version` works, `cargo +nightly build ...` of
/// the fuzz targets puts the stand-in libFuzzer binary (`$FAKE_DIR/bin/fuzzer`) where the build
/// would, the rest fails.
const FAKE_CARGO: &str = r##"#!/bin/sh
case "$*" in
  *"fuzz --version"*) echo "cargo-fuzz 0.0.0"; exit 0 ;;
  *" build "*)
    target_dir=; triple=; bin=
    while [ $# -gt 0 ]; do
      case "$1" in
        --target-dir) target_dir=$2; shift ;;
        --target) triple=$2; shift ;;
        --bin) bin=$2; shift ;;
      esac
      shift
    done
    mkdir -p "$target_dir/$triple/release"
    cp "$FAKE_DIR/bin/fuzzer" "$target_dir/$triple/release/$bin"
    exit 0 ;;
esac
exit 1
"##;

/// A scratch workspace with the fuzz target `e1000e`, the stand-in cargo and `fake_fuzzer` (a
/// shell script) as the libFuzzer binary in `bin/`, and as the engine's crash (`artifact`) the
/// e1000e loopback regression (a re-entrancy in detect mode).
pub fn workspace(fake_fuzzer: &str) -> tempfile::TempDir {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let scratch = tempfile::tempdir().unwrap();
    let ws = scratch.path();
    for d in ["regressions", "harness", "fuzz/fuzz_targets", "bin"] {
        std::fs::create_dir_all(ws.join(d)).unwrap();
    }
    std::fs::write(ws.join("fuzz/fuzz_targets/e1000e.rs"), "").unwrap();
    for (name, text) in [("cargo", FAKE_CARGO), ("fuzzer", fake_fuzzer)] {
        std::fs::write(ws.join("bin").join(name), text).unwrap();
    }
    Command::new("chmod")
        .arg("+x")
        .arg(ws.join("bin/cargo"))
        .arg(ws.join("bin/fuzzer"))
        .status()
        .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_devfuzz"))
        .args(["convert", "e1000e"])
        .arg(root.join("regressions/e1000e/loopback-rx-into-own-bar.qtest"))
        .arg("-o")
        .arg(ws.join("artifact"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    scratch
}

/// `devfuzz ARGS` in the scratch workspace `ws`, its stand-ins first on PATH, with none of the
/// `DEVFUZZ_*` variables of the caller's environment.
pub fn devfuzz(ws: &Path, args: &[&str]) -> Command {
    let path = format!(
        "{}:{}",
        ws.join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut c = Command::new(env!("CARGO_BIN_EXE_devfuzz"));
    c.args(args)
        .current_dir(ws)
        .env("PATH", path)
        .env("FAKE_DIR", ws)
        .env_remove("DEVFUZZ_BUGS")
        .env_remove("DEVFUZZ_MACHINE_OPTS")
        .env_remove("DEVFUZZ_REENTRANCY");
    c
}
