#!/usr/bin/env bash
# Turn the seeds (fuzz/seeds/<target>/<name>.qtest, readable driver-like programs) into binary
# corpus entries fuzz/corpus/<target>/seed-<name> with `devfuzz convert`, for every target that
# has seeds, or for the targets named: ci/seed-corpus.sh [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$#" -eq 0 ]; then
  set --
  for dir in fuzz/seeds/*/; do
    [ -d "$dir" ] && set -- "$@" "$(basename "$dir")"
  done
fi

cargo build --release -q
devfuzz=target/release/devfuzz
# Seeds are converted on the fixed models, whatever planted bugs the caller selected for fuzzing.
unset DEVFUZZ_BUGS
for target in "$@"; do
  seeds=(fuzz/seeds/"$target"/*.qtest)
  if [ ! -e "${seeds[0]}" ]; then
    echo "seed-corpus: no seeds in fuzz/seeds/$target" >&2
    exit 1
  fi
  mkdir -p "fuzz/corpus/$target"
  for seed in "${seeds[@]}"; do
    out="fuzz/corpus/$target/seed-$(basename "$seed" .qtest)"
    "$devfuzz" convert "$target" "$seed" -o "$out"
  done
  echo "seed-corpus: $target: ${#seeds[@]} seeds -> fuzz/corpus/$target"
done
