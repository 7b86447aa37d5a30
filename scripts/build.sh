#!/usr/bin/env bash
# Builds the mini-program-ready SDK into js-glue/dist/ and copies it into the demo.
#   cargo (MVP wasm) → wasm-bindgen (pinned) → binaryen lowering → MVP validation + audit
#   → CommonJS bundle + .wasm.br + typings → demo-miniprogram/miniprogram/libs/wx-session/
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ensure_rust_target
ensure_wasm_bindgen
ensure_npm_packages js-glue

say "cargo build (release, wasm32, -Ctarget-cpu=mvp from .cargo/config.toml)"
cargo build --release --target wasm32-unknown-unknown --lib

say "wasm-bindgen $WASM_BINDGEN_VERSION (bundler target)"
rm -rf js-glue/build/bindgen
wasm-bindgen --target bundler --out-dir js-glue/build/bindgen --out-name wx_session \
  target/wasm32-unknown-unknown/release/wx_session.wasm

node js-glue/build.js "$@"
