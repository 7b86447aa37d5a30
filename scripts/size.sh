#!/usr/bin/env bash
# What each part of the shipped wasm costs: the release build with its symbol names kept (the
# `size` profile, same flags as scripts/build.sh), measured with twiggy, summed by crate and
# module, then the largest functions. Run it before and after a change to see what it cost.
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
