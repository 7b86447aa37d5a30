#!/usr/bin/env bash
# The main job: build the SDK, start the dev server, and run the demo mini-program headless
# twice: a first launch (logs in) and a relaunch (reuses the stored token).
#   PORT=3000 by default; storage of the headless runs lives in .run/storage.json
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

./scripts/build.sh

PORT="${PORT:-3000}"
mkdir -p .run
say "starting the dev server on 127.0.0.1:$PORT"
node demo-miniprogram/dev-server/server.js --port "$PORT" > .run/dev-server.log 2>&1 &
server_pid=$!
trap 'kill $server_pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  grep -q listening .run/dev-server.log 2>/dev/null && break
  kill -0 "$server_pid" 2>/dev/null || { cat .run/dev-server.log; exit 1; }
  sleep 0.1
done

node tests/sandbox/run-demo.js --server "http://127.0.0.1:$PORT" --storage .run/storage.json --fresh --title "launch 1: fresh install"
node tests/sandbox/run-demo.js --server "http://127.0.0.1:$PORT" --storage .run/storage.json --title "launch 2: relaunch"
