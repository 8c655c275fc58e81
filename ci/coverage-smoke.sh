#!/usr/bin/env bash
# Coverage smoke test: `devfuzz coverage ps2` from the seeds, end to end (cargo fuzz coverage,
# then llvm-cov export and show): the device files' total comes first, the largest unreached
# blocks are listed, the HTML report is written, and the seeds reach most of the i8042's lines.
# Installs Debian's llvm-<major> (the LLVM nightly rustc was built with) if it is missing;
# devfuzz installs cargo-fuzz itself.
set -euo pipefail
cd "$(dirname "$0")/.."

major="$(rustc +nightly -vV | sed -n 's/^LLVM version: \([0-9]*\).*/\1/p')"
if [ -z "$major" ]; then
  echo "coverage-smoke: rustc +nightly -vV does not say its LLVM version" >&2
  exit 1
fi
if ! command -v "llvm-cov-$major" >/dev/null 2>&1; then
  echo "coverage-smoke: installing llvm-$major"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "llvm-$major" >/dev/null
fi

cargo build --release -q
out="$(target/release/devfuzz coverage ps2 --unreached 5 2>&1)" || {
  echo "$out"
  echo "coverage-smoke: devfuzz coverage ps2 failed" >&2
  exit 1
}
expect() {
  if ! grep -q "$1" <<<"$out"; then
    echo "$out"
    echo "coverage-smoke: no line matching '$1'" >&2
    exit 1
  fi
}
expect '^TOTAL device files'
expect '^the 5 largest unreached blocks of the device files'
expect '^ *[0-9]* lines  models/src/i8042/[a-z_]*\.rs:[0-9]*-[0-9]*  '
expect "^ps2's device files: "
if [ ! -f fuzz/coverage/ps2/html/index.html ]; then
  echo "coverage-smoke: no HTML report at fuzz/coverage/ps2/html/index.html" >&2
  exit 1
fi
percent="$(sed -n "s/^ps2's device files: \([0-9]*\)\..*/\1/p" <<<"$out")"
if [ "${percent:-0}" -lt 70 ]; then
  echo "$out"
  echo "coverage-smoke: the seeds reach only ${percent:-0}% of the i8042's lines (at least 70% expected)" >&2
  exit 1
fi
echo "coverage-smoke: ps2's seeds reach ${percent}% of its device lines; unreached blocks listed"
