#!/usr/bin/env bash
# Fuzzes the core with cargo-fuzz (libFuzzer): each target of fuzz/ for SECONDS seconds (default
# 60), starting from the committed seeds in fuzz/corpus/<target>/, copied to
# target/fuzz/corpus/<target>/ so a run never touches the checkout. Prints per target the
# executions, exec/s, seconds, coverage and new crashes; any crash fails the script and names
# its reproducer (under target/fuzz/artifacts/<target>/).
#   ./scripts/fuzz.sh [SECONDS] [TARGET...]      e.g. ./scripts/fuzz.sh 600 machine
#   KEEP_CORPUS=1 ./scripts/fuzz.sh              grow the scratch corpus of the last run instead
# Installs what is missing: the nightly toolchain (cargo-fuzz needs it) and cargo-fuzz itself.
# The normal build and tests stay on stable.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

CARGO_FUZZ_VERSION=0.13.1
# No ASan: the core is safe Rust (#![deny(unsafe_code)]), so a sanitizer would only halve the
# speed. Debug assertions on, so an arithmetic overflow is a crash too (the shipped wasm would
# wrap silently).
FUZZ_FLAGS=(--sanitizer none --debug-assertions --target-dir target/fuzz)

secs=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(config stored_record login_answer machine)

ensure_nightly() {
  rustup toolchain list | grep -q '^nightly' && return
  say "installing the nightly toolchain (cargo-fuzz builds with -Z flags)"
  rustup toolchain install nightly --profile minimal
}

ensure_cargo_fuzz() {
  [ "$(cargo fuzz --version 2>/dev/null)" = "cargo-fuzz $CARGO_FUZZ_VERSION" ] && return
  say "installing cargo-fuzz $CARGO_FUZZ_VERSION (about a minute on 2 cores, once)"
  # No --locked, as for wasm-bindgen-cli: the registry mirror here can lag behind its lock file.
  cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION"
}

# The value after `name:` in libFuzzer's final stats (`stat::name: N`) or status line (`cov: N`).
final_stat() { awk -v key="$1" '$1 == key { v = $2 } END { print (v == "" ? "-" : v) }' "$2"; }
status_field() {
  { grep -E '^#[0-9]+[[:space:]]+(DONE|NEW|REDUCE|pulse|INITED)' "$2" || true; } | tail -1 |
    awk -v key="$1:" '{ for (i = 1; i < NF; i++) if ($i == key) { split($(i + 1), a, "/"); print a[1]; exit } }'
}

ensure_nightly
ensure_cargo_fuzz

say "building the fuzz targets (nightly, no sanitizer, debug assertions)"
cargo +nightly fuzz build "${FUZZ_FLAGS[@]}"

mkdir -p target/fuzz/logs
rows=()
failed=0
reproducers=()
for t in "${targets[@]}"; do
  corpus=target/fuzz/corpus/$t
  artifacts=target/fuzz/artifacts/$t
  log=target/fuzz/logs/$t.log
  [ "${KEEP_CORPUS:-}" = 1 ] || rm -rf "$corpus"
  mkdir -p "$corpus" "$artifacts"
  cp fuzz/corpus/"$t"/* "$corpus"/
  stamp=$(mktemp)
  say "fuzzing $t for $secs s (log: $log)"
  start=$EPOCHREALTIME
  rc=0
  cargo +nightly fuzz run "${FUZZ_FLAGS[@]}" "$t" "$corpus" -- \
    -max_total_time="$secs" -print_final_stats=1 -artifact_prefix="$artifacts/" \
    -max_len=4096 -timeout=10 -rss_limit_mb=2048 >"$log" 2>&1 || rc=$?
  took=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
  mapfile -t new < <(find "$artifacts" -type f -newer "$stamp" | sort)
  rm -f "$stamp"
  if [ "$rc" -ne 0 ] && [ ${#new[@]} -eq 0 ]; then
    # Failed without leaving an input: a build or harness problem, not a finding.
    tail -20 "$log" >&2
    new=("(none written, exit $rc: see $log)")
  fi
  crashes=${#new[@]}
  if [ "$crashes" -gt 0 ]; then
    failed=$((failed + 1))
    say "$t crashed:"
    grep -A2 -m1 "panicked at" "$log" >&2 || grep -m3 -E "ERROR|SUMMARY" "$log" >&2 || true
    for input in "${new[@]}"; do
      reproducers+=("$t: $input")
      echo "  reproduce: cargo +nightly fuzz run ${FUZZ_FLAGS[*]} $t $input" >&2
    done
    [ "$t" != machine ] || echo "  (FUZZ_TRACE=1 in front prints the machine's schedule, event by event)" >&2
  fi
  rows+=("$(printf '%-14s %12s %9s %8.1f %7s %7s %7s %8s' "$t" \
    "$(final_stat stat::number_of_executed_units: "$log")" "$(final_stat stat::average_exec_per_sec: "$log")" "$took" \
    "$(status_field cov "$log")" "$(status_field ft "$log")" "$(status_field corp "$log")" "$crashes")")
done

# cargo-fuzz makes fuzz/artifacts/<target>/ even when told to write elsewhere: leave no trace.
find fuzz/artifacts -depth -type d -empty -delete 2>/dev/null || true

echo
printf '%-14s %12s %9s %8s %7s %7s %7s %8s\n' target execs exec/s seconds cov ft corpus crashes
printf '%s\n' "${rows[@]}"
if [ ${#reproducers[@]} -gt 0 ]; then
  echo
  echo "reproducers:"
  printf '  %s\n' "${reproducers[@]}"
fi
echo "fuzz: $((${#targets[@]} - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
