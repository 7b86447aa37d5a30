#!/usr/bin/env bash
# Runs every test layer and prints their counts (skipped tests are counted and named):
#   1. native Rust (cargo test --features testing): the flow with a scripted host and a virtual clock
#   2. Rust lints and the fuzz seeds: cargo fmt --check and cargo clippy -D warnings on the crate
#      and on fuzz/, and fuzz/'s tests (its seed corpus, each machine seed played once); each
#      lint run counts as one test, passed or failed
#   3. wasm on Node (wasm-pack test --node): the exported ABI as the glue drives it
#   4. JS (node --test): the built SDK in the strict sandbox, on JavaScriptCore (jsc) and with
#      an old-iOS Promise, the wasm audit, the demo end to end against the dev server, and stock
#      Taro and uni-app projects built with their CLIs and run the same way
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

./scripts/build.sh   # layer 4 tests the built SDK, so build it from this checkout first
ensure_wasm_pack     # the wasm tests run under `wasm-pack test --node` (with wasm-bindgen-cli)
ensure_jsc
ensure_npm_packages tests   # Tencent's compilers, miniprogram-simulate, typings, tsc
# The stock Taro and uni-app projects the framework tests build with their own CLIs (once; about
# a minute each on a fresh machine, 550 and 290 MB)
ensure_npm_packages tests/frameworks/taro
ensure_npm_packages tests/frameworks/uni-app
mkdir -p .run

# "test result: ok. 45 passed; 0 failed; 1 ignored; …" lines → "passed failed ignored"
cargo_counts() {
  awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i; if ($(i+1) ~ /^ignored/) s += $i } }
       END { printf "%d %d %d\n", p, f, s }' "$1"
}

say "1/4 native Rust tests (cargo test --features testing)"
# Each layer runs to its end even when another failed; a layer that failed without a failing
# test (it did not compile, a runner crashed) counts as one failure.
# `--features testing`: the same unit tests, plus the doc examples of the shared fake platform
# (src/testing/), which exists without the feature only inside the crate's own test build.
set +e
cargo test --features testing 2>&1 | tee .run/native.log
native_rc=${PIPESTATUS[0]}
read -r native_pass native_fail native_skip < <(cargo_counts .run/native.log)
[ "$native_rc" -eq 0 ] || [ "$native_fail" -gt 0 ] || native_fail=1

say "2/4 Rust lints and the fuzz seeds (cargo fmt, cargo clippy, fuzz/ cargo test)"
# The fuzz crate is its own workspace (fuzz/), on the stable toolchain here: its tests check the
# committed seed corpus and play each machine seed; cargo-fuzz itself (nightly) is scripts/fuzz.sh.
: >.run/lint.log
lint_pass=0 lint_fail=0
lint() { # lint NAME COMMAND…: one counted check
  say "   $1"
  if "${@:2}" 2>&1 | tee -a .run/lint.log; then lint_pass=$((lint_pass + 1)); else lint_fail=$((lint_fail + 1)); say "FAILED: $1"; fi
}
lint "cargo fmt --check" cargo fmt --check
lint "cargo fmt --check (fuzz/)" cargo fmt --check --manifest-path fuzz/Cargo.toml
lint "cargo clippy --all-targets -- -D warnings" cargo clippy --all-targets -- -D warnings
lint "cargo clippy --all-targets --features testing -- -D warnings" cargo clippy --all-targets --features testing -- -D warnings
lint "cargo clippy --all-targets -- -D warnings (fuzz/)" cargo clippy --all-targets --manifest-path fuzz/Cargo.toml -- -D warnings
(cd fuzz && cargo test) 2>&1 | tee .run/fuzz-seeds.log
seeds_rc=${PIPESTATUS[0]}
read -r seeds_pass seeds_fail seeds_skip < <(cargo_counts .run/fuzz-seeds.log)
[ "$seeds_rc" -eq 0 ] || [ "$seeds_fail" -gt 0 ] || seeds_fail=1
lint_pass=$((lint_pass + seeds_pass)) lint_fail=$((lint_fail + seeds_fail)) lint_skip=$seeds_skip

say "3/4 wasm tests on Node (wasm-pack test --node)"
wasm-pack test --node 2>&1 | tee .run/wasm.log
wasm_rc=${PIPESTATUS[0]}
read -r wasm_pass wasm_fail wasm_skip < <(cargo_counts .run/wasm.log)
[ "$wasm_rc" -eq 0 ] || [ "$wasm_fail" -gt 0 ] || wasm_fail=1

say "4/4 JS tests: glue in the strict sandbox, wasm audit, demo end to end (node --test)"
node --test --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination=.run/js.tap tests/js/
js_rc=$?
set -e
js_pass=$(awk '/^# pass/ {print $3}' .run/js.tap)
js_fail=$(awk '/^# fail/ {print $3}' .run/js.tap)
js_skip=$(awk '/^# skipped/ {print $3}' .run/js.tap)
js_pass=${js_pass:-0} js_fail=${js_fail:-0} js_skip=${js_skip:-0}
[ "$js_rc" -eq 0 ] || [ "$js_fail" -gt 0 ] || js_fail=1
if [ "$js_skip" -gt 0 ]; then
  say "SKIPPED tests:"
  grep -E '^ *ok .* # SKIP' .run/js.tap >&2 || true
fi

total_pass=$((native_pass + lint_pass + wasm_pass + js_pass))
total_fail=$((native_fail + lint_fail + wasm_fail + js_fail))
total_skip=$((native_skip + lint_skip + wasm_skip + js_skip))
echo
echo "native Rust:  $native_pass passed, $native_fail failed, $native_skip skipped"
echo "lints, seeds: $lint_pass passed, $lint_fail failed, $lint_skip skipped"
echo "wasm (Node):  $wasm_pass passed, $wasm_fail failed, $wasm_skip skipped"
echo "JS (sandbox): $js_pass passed, $js_fail failed, $js_skip skipped"
echo "$total_pass passed, $total_fail failed, $total_skip skipped"
[ "$total_fail" -eq 0 ]
