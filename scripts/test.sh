#!/usr/bin/env bash
# Runs every test layer and prints their counts (skipped tests are counted and named):
#   1. native Rust (cargo test): the flow with a scripted host and a virtual clock
#   2. wasm on Node (wasm-pack test --node): the exported ABI as the glue drives it
#   3. JS (node --test): the built SDK in the strict sandbox, on JavaScriptCore (jsc) and with
#      an old-iOS Promise, the wasm audit, the demo end to end against the dev server, and stock
#      Taro and uni-app projects built with their CLIs and run the same way
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

./scripts/build.sh   # layer 3 tests the built SDK, so build it from this checkout first
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

say "1/3 native Rust tests (cargo test)"
# Each layer runs to its end even when another failed; a layer that failed without a failing
# test (it did not compile, a runner crashed) counts as one failure.
set +e
cargo test 2>&1 | tee .run/native.log
native_rc=${PIPESTATUS[0]}
read -r native_pass native_fail native_skip < <(cargo_counts .run/native.log)
[ "$native_rc" -eq 0 ] || [ "$native_fail" -gt 0 ] || native_fail=1

say "2/3 wasm tests on Node (wasm-pack test --node)"
wasm-pack test --node 2>&1 | tee .run/wasm.log
wasm_rc=${PIPESTATUS[0]}
read -r wasm_pass wasm_fail wasm_skip < <(cargo_counts .run/wasm.log)
[ "$wasm_rc" -eq 0 ] || [ "$wasm_fail" -gt 0 ] || wasm_fail=1

say "3/3 JS tests: glue in the strict sandbox, wasm audit, demo end to end (node --test)"
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

total_pass=$((native_pass + wasm_pass + js_pass))
total_fail=$((native_fail + wasm_fail + js_fail))
total_skip=$((native_skip + wasm_skip + js_skip))
echo
echo "native Rust:  $native_pass passed, $native_fail failed, $native_skip skipped"
echo "wasm (Node):  $wasm_pass passed, $wasm_fail failed, $wasm_skip skipped"
echo "JS (sandbox): $js_pass passed, $js_fail failed, $js_skip skipped"
echo "$total_pass passed, $total_fail failed, $total_skip skipped"
[ "$total_fail" -eq 0 ]
