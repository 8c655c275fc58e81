#!/usr/bin/env bash
# Fuzz smoke test: build every cargo-fuzz target (fuzz/fuzz_targets/*.rs) with nightly, turn the
# seeds into corpus entries, and fuzz each target for FUZZ_SMOKE_SECONDS (default 20) from its
# corpus with its dictionary and options. Any crash, timeout or out-of-memory fails the run.
# Needs the stable and nightly toolchains; installs cargo-fuzz if it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=ci/lib/libfuzzer.bash
source ci/lib/libfuzzer.bash
root="$PWD"
seconds="${FUZZ_SMOKE_SECONDS:-20}"
toolchain="${FUZZ_TOOLCHAIN:-nightly}"
# `none` by default, like `devfuzz fuzz`: the models are safe Rust and it runs ~6x faster than ASan.
sanitizer="${FUZZ_SANITIZER:-none}"

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz-smoke: installing cargo-fuzz"
  cargo install --quiet cargo-fuzz --locked
fi
if ! cargo "+$toolchain" --version >/dev/null 2>&1; then
  echo "fuzz-smoke: the '$toolchain' toolchain is not installed (rustup toolchain install $toolchain)" >&2
  exit 1
fi

targets=()
for file in fuzz/fuzz_targets/*.rs; do
  targets+=("$(basename "$file" .rs)")
done

logs="$(mktemp -d)"
new_corpus="$(mktemp -d)"
trap 'rm -rf "$logs" "$new_corpus"' EXIT

echo "fuzz-smoke: building ${targets[*]} with sanitizer $sanitizer ($(cargo fuzz --version), $(cargo "+$toolchain" --version))"
if ! cargo "+$toolchain" fuzz build --sanitizer "$sanitizer" >"$logs/build.log" 2>&1; then
  tail -n 40 "$logs/build.log"
  exit 1
fi

bash ci/seed-corpus.sh "${targets[@]}"

# libFuzzer flags from an OSS-Fuzz style options file: `key = value` lines under [libfuzzer].
options_flags() {
  local file="fuzz/options/$1.options" section="" line key value
  [ -f "$file" ] || return 0
  while IFS= read -r line || [ -n "$line" ]; do
    line="${line%%#*}"
    case "$line" in
      \[*\]*) section="${line#[}"; section="${section%%]*}" ;;
      *=*)
        if [ "$section" = libfuzzer ]; then
          key="$(echo "${line%%=*}" | tr -d '[:space:]')"
          value="$(echo "${line#*=}" | sed 's/^[[:space:]]*//; s/[[:space:]]*$//')"
          printf -- '-%s=%s\n' "$key" "$value"
        fi
        ;;
    esac
  done <"$file"
}

failed=()
for target in "${targets[@]}"; do
  flags=(-max_total_time="$seconds" -print_final_stats=1)
  [ -f "fuzz/dicts/$target.dict" ] && flags+=(-dict="$root/fuzz/dicts/$target.dict")
  while IFS= read -r flag; do flags+=("$flag"); done < <(options_flags "$target")
  mkdir -p "$new_corpus/$target"
  echo "== fuzz $target for ${seconds}s: ${flags[*]}"
  # New inputs go to a scratch folder; the seeds (and any corpus kept in fuzz/corpus) are read.
  if ! libfuzzer_run fuzz-smoke "$target" "$logs/$target.log" \
    '^#[0-9]+[[:space:]]+(INITED|DONE)|^Done [0-9]+ runs|^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' \
    cargo "+$toolchain" fuzz run --sanitizer "$sanitizer" "$target" "$new_corpus/$target" "fuzz/corpus/$target" -- "${flags[@]}"; then
    failed+=("$target")
  fi
done

if [ "${#failed[@]}" -gt 0 ]; then
  echo "fuzz-smoke: crash in ${failed[*]} (inputs under fuzz/artifacts/; replay with 'cargo run --release -- replay <target> <file>')" >&2
  exit 1
fi
echo "fuzz-smoke: ${#targets[@]} targets ran ${seconds}s each with no crash"
