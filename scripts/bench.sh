#!/usr/bin/env bash
# Builds the SDK, then measures it against a hand-written seed-style wrapper and the peers
# (wafer2-client-sdk, flyio: tests/bench/package.json, the bench's own devDependencies) in one run:
# shipped bytes, per request and cold start on Node and on jsc with and without JIT, the revoke
# row, core memory; each figure beside its target (issue 19). --verbose adds where the time of
# one request and of the cold start goes on jsc without JIT. Options: tests/bench/bench.js.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ensure_jsc
ensure_npm_packages tests/bench
./scripts/build.sh >/dev/null
node tests/bench/bench.js "$@"
