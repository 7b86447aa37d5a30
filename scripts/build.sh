#!/usr/bin/env bash
# Builds the mini-program-ready SDK into js-glue/dist/ and copies it into the demo.
#   cargo (no_std, MVP wasm) → binaryen lowering + size optimization → MVP validation + audit
#   → one minified CommonJS file + .wasm.br + typings → demo-miniprogram/miniprogram/libs/wx-session/
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ensure_rust_target
ensure_npm_packages js-glue

say "cargo build (release, wasm32, no_std, MVP)"
# iOS WeChat takes MVP wasm only: -Ctarget-cpu=mvp for every crate (binaryen then lowers what the
# precompiled std still carries). 64 KB of stack instead of rustc's 1 MB: the core's recursion is
# bounded (plain data nests at most 32 deep), so the app starts with 2 pages of memory, not 17.
# A target dir of its own: these flags would otherwise rebuild what the tests compiled.
# `--crate-type cdylib` alone: built together with the rlib, the .wasm comes out 15% larger.
export RUSTFLAGS="-Ctarget-cpu=mvp -Clink-arg=-zstack-size=65536"
cargo rustc --release --target wasm32-unknown-unknown --lib --crate-type cdylib --features standalone --target-dir target/sdk

node js-glue/build.js --from target/sdk/wasm32-unknown-unknown/release/wx_session.wasm "$@"
