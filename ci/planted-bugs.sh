#!/usr/bin/env bash
# The planted-bugs build: its tests (each bug found, canaries, regressions with expect-planted)
# and clippy, so the benchmark build never rots.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo clippy --workspace --all-targets --features planted-bugs -- -D warnings
cargo test --workspace --features planted-bugs
