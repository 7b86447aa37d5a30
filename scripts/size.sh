#!/usr/bin/env bash
# What each part of the shipped wasm costs: the release build with its symbol names kept (the
# `size` profile, same flags as scripts/build.sh), measured with twiggy, summed by crate and
# module, then the largest functions; then the same for the glue's index.js (tests/bench/js-size.js).
# Run it before and after a change to see what it cost.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ensure_rust_target
ensure_twiggy
ensure_npm_packages js-glue

export RUSTFLAGS="-Ctarget-cpu=mvp -Clink-arg=-zstack-size=65536"
cargo rustc --profile size --target wasm32-unknown-unknown --lib --crate-type cdylib --features standalone \
  --target-dir target/sdk --quiet
wasm=target/sdk/wasm32-unknown-unknown/size/wx_session.wasm
twiggy top -n 100000 --format csv "$wasm" > target/sdk/twiggy.csv
node tests/bench/size.js target/sdk/twiggy.csv "${1:-25}"

# The glue: the shipped index.js charged to js-glue/src's modules and functions, from a readable
# build of the same source (in a temporary folder; the release wasm of scripts/build.sh).
glue=$(mktemp -d)
node js-glue/build.js --readable --no-demo --from target/sdk/wasm32-unknown-unknown/release/wx_session.wasm \
  --to "$glue/dist" --to-js "$glue/dist-js" 2>/dev/null >/dev/null
echo
node tests/bench/js-size.js "$glue/dist/index.js" "${1:-25}"
rm -rf "$glue"
