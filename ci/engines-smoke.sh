#!/usr/bin/env bash
# Engine smoke test for the AFL++ (fuzz/afl, cargo afl) and honggfuzz (fuzz/hfuzz, cargo hfuzz)
# entries: type-check both crates on stable without the engines, install what the engines need
# when it is missing (cargo-afl and its AFL++ build, honggfuzz and its Debian packages), build
# every entry with each engine, then fuzz the `ps2` one for ENGINE_SMOKE_SECONDS (default 20) from
# the ps2 seed corpus with its dictionary. Any crash fails the run, and so does an engine that
# executed no input. Prints each engine's executions per second.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
seconds="${ENGINE_SMOKE_SECONDS:-20}"
target=ps2
toolchain=stable
# Keep in step with src/engines/afl.rs (CARGO_AFL_VERSION), src/engines/honggfuzz.rs
# (HONGGFUZZ_VERSION) and fuzz/hfuzz/Cargo.toml.
cargo_afl_version=0.18.2
honggfuzz_version=0.5.62
debian_packages=(binutils-dev libunwind-dev libblocksruntime-dev)

say() { echo "engines-smoke: $*"; }

echo "== type-check fuzz/afl and fuzz/hfuzz on stable (no engine: each entry replays inputs)"
cargo "+$toolchain" check --quiet --manifest-path fuzz/afl/Cargo.toml --bins
cargo "+$toolchain" check --quiet --manifest-path fuzz/hfuzz/Cargo.toml --bins

echo "== install what is missing"
as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}
missing=()
for package in "${debian_packages[@]}"; do
  status="$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)"
  [ "$status" = "install ok installed" ] || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  say "honggfuzz needs ${missing[*]}: apt-get update && apt-get install -y ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${missing[@]}"
fi
if ! cargo "+$toolchain" afl --version >/dev/null 2>&1; then
  say "installing cargo-afl $cargo_afl_version (builds AFL++ too; a few minutes)"
  cargo "+$toolchain" install --quiet cargo-afl --version "$cargo_afl_version" --locked
fi
# Every `cargo afl` command but `config` stops when AFL++ is not built for this rustc.
if cargo "+$toolchain" afl fuzz -h 2>&1 | grep -q 'runtime was not built'; then
  say "building AFL++ for $(rustc "+$toolchain" --version): cargo afl config --build"
  cargo "+$toolchain" afl config --build --force
fi
hfuzz_version="$(cd fuzz/hfuzz && cargo "+$toolchain" hfuzz version 2>/dev/null || true)"
if [ "$hfuzz_version" != "cargo-hfuzz $honggfuzz_version" ]; then
  say "installing honggfuzz $honggfuzz_version (have: ${hfuzz_version:-none})"
  cargo "+$toolchain" install --quiet honggfuzz --version "$honggfuzz_version" --locked --force
fi
say "$(cargo "+$toolchain" afl --version), $(cd fuzz/hfuzz && cargo "+$toolchain" hfuzz version), $(cargo "+$toolchain" --version)"

bash ci/seed-corpus.sh "$target"
corpus="$root/fuzz/corpus/$target"
dict="$root/fuzz/dicts/$target.dict"
case "$root" in
  *[[:space:]]*) say "honggfuzz splits its arguments at spaces: run from a path without any ($root)" >&2; exit 1 ;;
esac

scratch="$(mktemp -d)"
keep_scratch=0
trap '[ "$keep_scratch" = 1 ] || rm -rf "$scratch"' EXIT
failed=()
# The engines stop by themselves after $seconds; this is only a guard (it ends the whole
# process group: cargo, the engine and its target).
guard=$((seconds + 300))

echo "== build every entry with cargo afl and cargo hfuzz"
if ! (cd fuzz/afl && cargo "+$toolchain" afl build --quiet --release) >"$scratch/afl-build.log" 2>&1; then
  tail -n 40 "$scratch/afl-build.log"
  exit 1
fi
if ! (cd fuzz/hfuzz && CARGO_TARGET_DIR="$root/fuzz/hfuzz/hfuzz_target" cargo "+$toolchain" hfuzz build --quiet) >"$scratch/hfuzz-build.log" 2>&1; then
  tail -n 40 "$scratch/hfuzz-build.log"
  exit 1
fi

# existing NAME GLOB...: the files the glob matched, into the array NAME (an unmatched glob
# stays a pattern: left out).
existing() {
  local -n into="$1"
  shift
  into=()
  local file
  for file in "$@"; do
    if [ -e "$file" ]; then into+=("$file"); fi
  done
}

# show_failure LOG PROGRESS CRASH...: replay each crash input, then the end of the engine's
# log without its progress lines (those matching PROGRESS) and colours.
show_failure() {
  local log="$1" progress="$2"
  shift 2
  local file
  for file in "$@"; do
    target/release/devfuzz replay "$target" "$file" || true
  done
  say "the end of its log:"
  grep -av "$progress" "$log" | tail -n 30 | sed 's/\x1b\[[0-9;]*[A-Za-z]//g'
}

echo "== AFL++: $target for ${seconds}s"
afl_out="$scratch/afl"
afl_status=0
AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 AFL_NO_AFFINITY=1 \
  AFL_CRASHING_SEEDS_AS_NEW_CRASH=1 \
  timeout "$guard" cargo "+$toolchain" afl fuzz -i "$corpus" -o "$afl_out" -x "$dict" \
  -V "$seconds" -t 10000 -G 4096 -- "$root/fuzz/afl/target/release/$target" \
  </dev/null >"$scratch/afl.log" 2>&1 || afl_status=$?
stats="$afl_out/default/fuzzer_stats"
afl_stat() { sed -n "s/^$1[[:space:]]*: *//p" "$stats" 2>/dev/null; }
execs="$(afl_stat execs_done)"
existing crashes "$afl_out"/default/crashes/id*
if [ "$afl_status" != 0 ] || [ "${execs:-0}" -eq 0 ] || [ "${#crashes[@]}" -gt 0 ]; then
  say "AFL++ FAILED: exit status $afl_status, ${execs:-no} executions, ${#crashes[@]} crash(es)"
  show_failure "$scratch/afl.log" 'Fuzzing test case #' "${crashes[@]}"
  failed+=(afl)
else
  say "afl $target: $execs execs in $(afl_stat run_time)s, $(afl_stat execs_per_sec) exec/s, corpus $(afl_stat corpus_count), edges $(afl_stat edges_found)"
fi

echo "== honggfuzz: $target for ${seconds}s"
hfuzz_status=0
(
  cd fuzz/hfuzz
  CARGO_TARGET_DIR="$root/fuzz/hfuzz/hfuzz_target" HFUZZ_WORKSPACE="$scratch/hfuzz" HFUZZ_INPUT="$corpus" \
    HFUZZ_RUN_ARGS="--run_time $seconds -n 1 --dict $dict --max_file_size 4096 --timeout 10 --output $scratch/hfuzz-new" \
    timeout "$guard" cargo "+$toolchain" hfuzz run "$target"
) </dev/null >"$scratch/hfuzz.log" 2>&1 || hfuzz_status=$?
summary="$(grep -a '^Summary iterations:' "$scratch/hfuzz.log" | tail -n 1 || true)"
field() { sed -n "s/.* $1:\([^ ]*\).*/\1/p" <<<" $summary"; }
iterations="$(field iterations)"
crash_count="$(field crashes_count)"
existing crashes "$scratch/hfuzz/$target"/*.fuzz
if [ "$hfuzz_status" != 0 ] || [ "${iterations:-0}" -eq 0 ] || [ "${crash_count:-0}" != 0 ] || [ "${#crashes[@]}" -gt 0 ]; then
  say "honggfuzz FAILED: exit status $hfuzz_status, ${iterations:-no} executions, ${crash_count:-?} crash(es)"
  show_failure "$scratch/hfuzz.log" '^Sz:' "${crashes[@]}"
  failed+=(honggfuzz)
else
  say "honggfuzz $target: $iterations execs in $(field time)s, $(field speed) exec/s, $(field new_units_added) new inputs, branch coverage $(field branch_coverage_percent)%"
fi

if [ "${#failed[@]}" -gt 0 ]; then
  keep_scratch=1
  say "failed: ${failed[*]} (inputs and logs kept in $scratch; replay with 'cargo run --release -- replay $target <file>')" >&2
  exit 1
fi
say "AFL++ and honggfuzz ran $target ${seconds}s each with no crash"
