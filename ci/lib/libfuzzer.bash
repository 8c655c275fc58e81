# Shared by the CI scripts that run cargo-fuzz (libFuzzer) smoke runs: source it, do not run it
# (it lives outside ci/*.sh, so .ci/run does not run it as a script).

# libfuzzer_run PREFIX TARGET LOG STATS COMMAND...: run COMMAND with its output in LOG. When it
# succeeds, print the lines of LOG that match the extended regex STATS; when it fails (a crash,
# timeout or out-of-memory), say so with where it panicked and the end of LOG, and return 1.
libfuzzer_run() {
  local prefix="$1" target="$2" log="$3" stats="$4"
  shift 4
  if "$@" >"$log" 2>&1; then
    grep -E "$stats" "$log" || true
  else
    echo "$prefix: $target FAILED:"
    grep -m1 -A1 'panicked at' "$log" || true
    echo "$prefix: the end of its log:"
    tail -n 40 "$log"
    return 1
  fi
}
