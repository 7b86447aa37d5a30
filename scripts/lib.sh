# Shared by the scripts: install what is missing, skip what is already there.
# shellcheck shell=bash

# The wasm tests' runner must be exactly the wasm-bindgen version Cargo.toml pins (read from the
# lock file, so the version is written in one place).
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' "$(dirname "${BASH_SOURCE[0]}")/../Cargo.lock")

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

ensure_rust_target() {
  # rust-toolchain.toml names the target; rustup adds it on first use, this makes it explicit.
  if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    say "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
}

ensure_wasm_bindgen() {
  if command -v wasm-bindgen >/dev/null && [ "$(wasm-bindgen --version | awk '{print $2}')" = "$WASM_BINDGEN_VERSION" ]; then
    return
  fi
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 6 minutes on 2 cores, once)"
  # No --locked: the registry mirror here can lag behind the CLI's lock file.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
}

WASM_PACK_VERSION=0.15.1

ensure_wasm_pack() {
  # The wasm tests run the way the crate's users run them: `wasm-pack test --node`. It uses
  # the wasm-bindgen-cli installed above (it would download one otherwise: no network here).
  ensure_wasm_bindgen
  if command -v wasm-pack >/dev/null && [ "$(wasm-pack --version | awk '{print $2}')" = "$WASM_PACK_VERSION" ]; then
    return
  fi
  say "installing wasm-pack $WASM_PACK_VERSION (a few minutes on 2 cores, once)"
  cargo install wasm-pack --version "$WASM_PACK_VERSION"
}

ensure_npm_packages() {
  # $1: folder with package.json and package-lock.json
  if [ ! -d "$1/node_modules" ] || [ "$1/package-lock.json" -nt "$1/node_modules/.package-lock.json" ]; then
    say "installing npm packages in $1"
    # HUSKY=0: the stock Taro project's `prepare` script would set up git hooks.
    (cd "$1" && HUSKY=0 npm ci --no-audit --no-fund --loglevel=error)
  fi
}

ensure_jsc() {
  # JavaScriptCore's shell: the iOS engine family, for tests/js/engines.test.js.
  command -v jsc >/dev/null && return
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    say "installing the jsc shell (Debian package libjavascriptcoregtk-4.0-bin)"
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libjavascriptcoregtk-4.0-bin; }; then
      say "could not install jsc: the JavaScriptCore tests will be SKIPPED (and fail under CI=true)"
    fi
  else
    say "no jsc and no way to install it: the JavaScriptCore tests will be SKIPPED (and fail under CI=true)"
  fi
}

TWIGGY_VERSION=0.8.0

ensure_twiggy() {
  # twiggy: what each function and crate costs in the wasm (scripts/size.sh).
  if command -v twiggy >/dev/null && [ "$(twiggy --version | awk '{print $2}')" = "$TWIGGY_VERSION" ]; then
    return
  fi
  say "installing twiggy $TWIGGY_VERSION (about 3 minutes on 2 cores, once)"
  cargo install twiggy --version "$TWIGGY_VERSION"
}
