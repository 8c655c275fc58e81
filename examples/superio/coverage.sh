#!/usr/bin/env bash
# Line coverage of the vm-superio sources reached by a corpus: `cargo fuzz coverage` builds the
# target with -Cinstrument-coverage and runs every input of fuzz/corpus/<target>, then
# llvm-cov reports the vm-superio files (and the example's adapters). The LLVM tools must match
# nightly rustc's LLVM (`rustc +nightly -vV`): Debian's llvm-<major> has llvm-cov-<major>.
# Usage: ./coverage.sh <target> [corpus dir]   (from examples/superio)
set -euo pipefail
cd "$(dirname "$0")/fuzz"
target="${1:?usage: coverage.sh <target> [corpus dir]}"
corpus="${2:-corpus/$target}"
major="$(rustc +nightly -vV | sed -n 's/^LLVM version: \([0-9]*\).*/\1/p')"
cov="llvm-cov-$major"
command -v "$cov" >/dev/null || { echo "coverage: $cov not found (apt-get install llvm-$major)" >&2; exit 2; }
export PATH="/usr/lib/llvm-$major/bin:$PATH"
cargo +nightly fuzz coverage --sanitizer none --llvm-path "/usr/lib/llvm-$major/bin" "$target" "$corpus" >"/tmp/superio-coverage-$target.log" 2>&1 \
  || { tail -n 20 "/tmp/superio-coverage-$target.log"; exit 1; }
triple="$(rustc +nightly -vV | sed -n 's/^host: //p')"
bin="target/$triple/coverage/$triple/release/$target"
superio="$(cargo metadata --format-version 1 --manifest-path ../Cargo.toml \
  | python3 -c 'import json,sys; print(next(p["manifest_path"] for p in json.load(sys.stdin)["packages"] if p["name"]=="vm-superio").rsplit("/",1)[0])')"
"$cov" report "$bin" -instr-profile="coverage/$target/coverage.profdata" "$superio/src" ../src
