#!/usr/bin/env bash
# The vm-superio example (examples/superio): a crate outside the workspace that fuzzes rust-vmm's
# vm-superio devices through the harness's public API. On stable: rustfmt, clippy, its tests and
# a type-check of its cargo-fuzz targets; then, on nightly with cargo-fuzz, a short libFuzzer run
# of each target (SUPERIO_SMOKE_SECONDS, default 10) from its seeds with its dictionary. Any
# crash, timeout or out-of-memory fails the run.
set -euo pipefail
# shellcheck source=ci/lib/libfuzzer.bash
source "$(dirname "$0")/lib/libfuzzer.bash"
cd "$(dirname "$0")/../examples/superio"
seconds="${SUPERIO_SMOKE_SECONDS:-10}"
toolchain="${FUZZ_TOOLCHAIN:-nightly}"

echo "superio: rustfmt, clippy, tests (stable)"
cargo +stable fmt --all -- --check
(cd fuzz && cargo +stable fmt --all -- --check)
cargo +stable clippy --all-targets --quiet -- -D warnings
cargo +stable test --quiet
(cd fuzz && cargo +stable check --bins --quiet && cargo +stable clippy --bins --quiet -- -D warnings)

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "superio: installing cargo-fuzz"
  cargo install --quiet cargo-fuzz --locked
fi
if ! cargo "+$toolchain" --version >/dev/null 2>&1; then
  echo "superio: the '$toolchain' toolchain is not installed (rustup toolchain install $toolchain)" >&2
  exit 1
fi

cargo build --release --quiet --bin superio-devfuzz
bin="$PWD/target/release/superio-devfuzz"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

echo "superio: building the fuzz targets ($(cargo fuzz --version), $(cargo "+$toolchain" --version))"
if ! (cd fuzz && cargo "+$toolchain" fuzz build --sanitizer none) >"$scratch/build.log" 2>&1; then
  tail -n 40 "$scratch/build.log"
  exit 1
fi

failed=()
for file in fuzz/fuzz_targets/*.rs; do
  target="$(basename "$file" .rs)"
  "$bin" seeds "$target" "fuzz/seeds/$target" "$scratch/seeds-$target" >/dev/null
  mkdir -p "$scratch/new-$target"
  echo "== fuzz $target for ${seconds}s"
  if ! (cd fuzz && libfuzzer_run superio "$target" "$scratch/$target.log" \
    '^#[0-9]+[[:space:]]+DONE|^stat::(number_of_executed_units|average_exec_per_sec)' \
    cargo "+$toolchain" fuzz run --sanitizer none "$target" "$scratch/new-$target" "$scratch/seeds-$target" -- \
    -max_total_time="$seconds" -dict="dicts/$target.dict" -max_len=4096 -timeout=10 -print_final_stats=1); then
    failed+=("$target")
  fi
done
if [ "${#failed[@]}" -gt 0 ]; then
  echo "superio: crash in ${failed[*]}" >&2
  exit 1
fi
echo "superio: the example builds outside the workspace and its ${seconds}s smoke runs found nothing"
