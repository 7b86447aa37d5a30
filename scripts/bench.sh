#!/usr/bin/env bash
# Builds the SDK and prints its size, start-up, per-request overhead and memory figures.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh >/dev/null
node tests/bench/bench.js "$@"
