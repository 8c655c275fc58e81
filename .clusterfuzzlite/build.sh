#!/bin/bash -eu
# ClusterFuzzLite / OSS-Fuzz build script for devfuzz (see docs/coverage.md).
#
# Inside gcr.io/oss-fuzz-base/base-builder-rust (run by `compile`), and locally as
#   SRC=<dir holding devfuzz/> OUT=<dir> [SANITIZER=address|memory|undefined|coverage|none] \
#     bash .clusterfuzzlite/build.sh
# it writes, for every cargo-fuzz target fuzz/fuzz_targets/<t>.rs:
#   $OUT/<t>                  the libFuzzer binary (`cargo fuzz build -O --debug-assertions`)
#   $OUT/<t>.dict             fuzz/dicts/<t>.dict
#   $OUT/<t>.options          fuzz/options/<t>.options
#   $OUT/<t>_seed_corpus.zip  fuzz/seeds/<t>/*.qtest converted to binary inputs by `devfuzz convert`
set -euo pipefail

: "${SRC:?set SRC to the directory holding devfuzz/}"
: "${OUT:?set OUT to the output directory}"
project="$SRC/devfuzz"
cd "$project"
mkdir -p "$OUT"
triple=x86_64-unknown-linux-gnu

# In the OSS-Fuzz image `cargo` is a wrapper (it turns `cargo fuzz build` into a coverage build
# when SANITIZER=coverage) in front of the image's nightly toolchain: call it as plain `cargo`.
# Elsewhere the default toolchain is usually stable, and cargo-fuzz needs nightly.
if [[ "$(cargo --version 2>/dev/null)" == *nightly* ]]; then
  fuzz_cargo=(cargo)
elif cargo +nightly --version >/dev/null 2>&1; then
  fuzz_cargo=(cargo +nightly)
else
  echo "build.sh: cargo-fuzz needs a nightly toolchain (rustup toolchain install nightly)" >&2
  exit 1
fi
# (Not `cargo fuzz --version`: with SANITIZER=coverage the image's wrapper turns any
# `cargo fuzz ...` into a build.)
if ! command -v cargo-fuzz >/dev/null 2>&1; then
  echo "build.sh: installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

# OSS-Fuzz's sanitizer names -> cargo-fuzz's. Rust has no UBSan and the models are safe Rust, so
# `undefined` builds without a sanitizer (debug assertions and overflow checks still catch
# arithmetic bugs). `coverage` is handled by the image's cargo wrapper, which ignores the flag.
sanitizer="${SANITIZER:-address}"
case "$sanitizer" in
  address | memory | thread | leak | none) fuzz_sanitizer="$sanitizer" ;;
  undefined | coverage | introspector) fuzz_sanitizer=none ;;
  *)
    echo "build.sh: unsupported SANITIZER=$sanitizer (address, memory, undefined, coverage, none)" >&2
    exit 1
    ;;
esac

targets=()
for file in fuzz/fuzz_targets/*.rs; do
  targets+=("$(basename "$file" .rs)")
done
[ "${#targets[@]}" -gt 0 ] || { echo "build.sh: no fuzz/fuzz_targets/*.rs" >&2; exit 1; }

echo "build.sh: ${fuzz_cargo[*]} fuzz build -O --debug-assertions --sanitizer $fuzz_sanitizer (SANITIZER=$sanitizer): ${targets[*]}"
# Release with debug assertions and overflow checks, as `devfuzz fuzz` builds: they are part of
# what the fuzzer detects. The image's RUSTFLAGS (--cfg fuzzing, debuginfo, frame pointers) apply.
"${fuzz_cargo[@]}" fuzz build -O --debug-assertions --sanitizer "$fuzz_sanitizer"

for target in "${targets[@]}"; do
  bin="fuzz/target/$triple/release/$target"
  [ -x "$bin" ] || { echo "build.sh: $bin was not built" >&2; exit 1; }
  cp "$bin" "$OUT/$target"
  [ -f "fuzz/dicts/$target.dict" ] && cp "fuzz/dicts/$target.dict" "$OUT/$target.dict"
  [ -f "fuzz/options/$target.options" ] && cp "fuzz/options/$target.options" "$OUT/$target.options"
done

# Seed corpora: the same conversion as ci/seed-corpus.sh, with the devfuzz CLI built as a plain
# program (without the fuzzing RUSTFLAGS the image exports) on the default features, so seeds are
# encoded on the fixed models whatever DEVFUZZ_BUGS says.
# (RUSTFLAGS set empty, not unset: the image's cargo wrapper runs under `bash -u`.)
RUSTFLAGS= cargo build --release -q --bin devfuzz
devfuzz="${CARGO_TARGET_DIR:-$project/target}/release/devfuzz"
seeds_tmp="$(mktemp -d)"
trap 'rm -rf "$seeds_tmp"' EXIT
for target in "${targets[@]}"; do
  seeds=(fuzz/seeds/"$target"/*.qtest)
  [ -e "${seeds[0]}" ] || { echo "build.sh: $target has no seeds in fuzz/seeds/$target"; continue; }
  mkdir -p "$seeds_tmp/$target"
  for seed in "${seeds[@]}"; do
    env -u DEVFUZZ_BUGS "$devfuzz" convert "$target" "$seed" -o "$seeds_tmp/$target/seed-$(basename "$seed" .qtest)"
  done
  zip_out="$OUT/${target}_seed_corpus.zip"
  rm -f "$zip_out"
  # Flat archive (one entry per input); python3 is in the image, `zip` may not be elsewhere.
  if command -v python3 >/dev/null 2>&1; then
    python3 -m zipfile -c "$zip_out" "$seeds_tmp/$target"/*
  else
    zip -q -j "$zip_out" "$seeds_tmp/$target"/*
  fi
  echo "build.sh: $target: ${#seeds[@]} seeds -> $zip_out"
done

echo "build.sh: wrote ${targets[*]} (+ .dict, .options, _seed_corpus.zip) to $OUT"
