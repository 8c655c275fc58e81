#!/usr/bin/env bash
# Run the ClusterFuzzLite / OSS-Fuzz build script (.clusterfuzzlite/build.sh) locally, without
# docker: SRC is a temporary folder whose `devfuzz` links to this tree, OUT a temporary folder.
# Then check what landed in $OUT for every fuzz/fuzz_targets/<t>.rs: an executable <t> that runs
# one seed input and exits 0, <t>.dict, <t>.options, and a valid, non-empty <t>_seed_corpus.zip.
# Needs the stable and nightly toolchains, gcc and python3; installs cargo-fuzz if it is missing.
# SANITIZER is passed through (default: address, as on ClusterFuzzLite).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "clusterfuzzlite-build: installing cargo-fuzz"
  cargo install --quiet cargo-fuzz --locked
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src" "$work/out"
ln -s "$root" "$work/src/devfuzz"

echo "clusterfuzzlite-build: SRC=$work/src OUT=$work/out bash .clusterfuzzlite/build.sh"
if ! SRC="$work/src" OUT="$work/out" bash .clusterfuzzlite/build.sh >"$work/build.log" 2>&1; then
  tail -n 40 "$work/build.log"
  echo "clusterfuzzlite-build: build.sh FAILED" >&2
  exit 1
fi
grep '^build.sh:' "$work/build.log" || true

out="$work/out"
failed=0
checked=0
fail() {
  echo "clusterfuzzlite-build: $*" >&2
  failed=$((failed + 1))
}
for file in fuzz/fuzz_targets/*.rs; do
  target="$(basename "$file" .rs)"
  checked=$((checked + 1))
  for f in "$target.dict" "$target.options" "${target}_seed_corpus.zip"; do
    [ -s "$out/$f" ] || fail "$target: \$OUT/$f is missing or empty"
  done
  zip="$out/${target}_seed_corpus.zip"
  if [ -s "$zip" ]; then
    if ! entries="$(python3 -m zipfile -l "$zip")"; then
      fail "$target: $zip is not a valid zip"
    elif ! python3 -m zipfile -t "$zip" >/dev/null; then
      fail "$target: $zip fails its CRC test"
    else
      n="$(python3 -c 'import sys, zipfile; print(sum(1 for i in zipfile.ZipFile(sys.argv[1]).infolist() if not i.is_dir()))' "$zip")"
      seeds=(fuzz/seeds/"$target"/*.qtest)
      [ "$n" -eq "${#seeds[@]}" ] || fail "$target: $zip holds $n inputs, fuzz/seeds/$target has ${#seeds[@]}"
    fi
  fi
  if [ ! -x "$out/$target" ]; then
    fail "$target: \$OUT/$target is missing or not executable"
    continue
  fi
  # Run one seed from the zip through the libFuzzer binary, from outside the tree (as on
  # ClusterFuzzLite, where only $OUT is there).
  one="$work/one-$target"
  mkdir -p "$one"
  python3 -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); z.extractall(sys.argv[2])' "$zip" "$one" 2>/dev/null || true
  input="$(find "$one" -type f | sort | head -n 1)"
  [ -n "$input" ] || { fail "$target: no seed input to run"; continue; }
  # libFuzzer says "Executed <file>": a plain (non-fuzzing) build of the target would not.
  if (cd "$work" && "$out/$target" -runs=1 "$input") >"$work/run-$target.log" 2>&1 &&
    grep -q "^Executed .*$(basename "$input")" "$work/run-$target.log"; then
    echo "clusterfuzzlite-build: $target ok: \$OUT/$target -runs=1 $(basename "$input"); $(python3 -m zipfile -l "$zip" | tail -n +2 | wc -l) seeds, $(grep -c '^[^#]*="' "$out/$target.dict" || true) dict entries"
  else
    tail -n 20 "$work/run-$target.log"
    fail "$target: \$OUT/$target -runs=1 $(basename "$input") failed"
  fi
done

[ "$checked" -gt 0 ] || { echo "clusterfuzzlite-build: no fuzz targets found" >&2; exit 1; }
if [ "$failed" -gt 0 ]; then
  echo "clusterfuzzlite-build: $failed check(s) failed" >&2
  exit 1
fi
echo "clusterfuzzlite-build: $checked targets: binaries, dictionaries, options and seed corpora in \$OUT"
