#!/usr/bin/env bash
# The main job: build the SDK, start the dev server, and run the demo mini-program headless
# three times: a first launch (logs in), a relaunch (reuses the stored token), and a relaunch
# that taps again once the access token has expired (无感刷新: one /refresh, no wx.login).
# The dev server runs its refresh profile: access tokens live ACCESS_TTL seconds (6 by default),
# refresh tokens rotate.
#   PORT=3000 by default; storage of the headless runs lives in .run/storage.json
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

./scripts/build.sh

PORT="${PORT:-3000}"
ACCESS_TTL="${ACCESS_TTL:-6}"
mkdir -p .run
say "starting the dev server on 127.0.0.1:$PORT (refresh profile: access tokens live $ACCESS_TTL s)"
node demo-miniprogram/dev-server/server.js --port "$PORT" --profile refresh --access-ttl "$ACCESS_TTL" > .run/dev-server.log 2>&1 &
server_pid=$!
trap 'kill $server_pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  grep -q listening .run/dev-server.log 2>/dev/null && break
  kill -0 "$server_pid" 2>/dev/null || { cat .run/dev-server.log; exit 1; }
  sleep 0.1
done

node tests/sandbox/run-demo.js --server "http://127.0.0.1:$PORT" --storage .run/storage.json --fresh --title "launch 1: fresh install"
node tests/sandbox/run-demo.js --server "http://127.0.0.1:$PORT" --storage .run/storage.json --title "launch 2: relaunch"
node tests/sandbox/run-demo.js --server "http://127.0.0.1:$PORT" --storage .run/storage.json --title "launch 3: relaunch, then 无感刷新" \
  --wait-then-call "$((ACCESS_TTL + 1))"
