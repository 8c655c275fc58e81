#!/usr/bin/env bash
# Type-check the cargo-fuzz targets on stable, without libFuzzer: with no `--cfg fuzzing` each
# target builds as a plain program (see fuzz/Cargo.toml), so this catches a target that no longer
# compiles against the models crate without needing nightly or cargo-fuzz. That the targets match
# models::TARGETS (and the AFL++/honggfuzz entries, seeds, dictionaries and options) is checked
# by `cargo test -p devfuzz-models --test fuzz_targets`, part of the workspace tests.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo +stable check --manifest-path fuzz/Cargo.toml --bins
