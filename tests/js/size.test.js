// The size budget: what a mini-program pays in package bytes for the SDK. Sizes are
// deterministic, so this is a test; timings live in scripts/bench.sh.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');

const DIST = path.join(__dirname, '..', '..', 'js-glue', 'dist');
// .wasm.br + every JS file in dist/. This is a guard against growth, not the target: issue 19's
// target is 40 KB, missed since 0.3.0's platforms, refresh tokens, hooks and hardening (59,092 B
// as 0.3.0 was released; README, "Why missed, what would reach it"). The budget leaves that build
// 2.3 KB, so a change that adds more than that has to raise it here and say why.
const SHIPPED_BUDGET = 60 * 1024;
const RAW_WASM_BUDGET = 100 * 1024;

test(`shipped bytes (.wasm.br + JS) stay within ${SHIPPED_BUDGET} B`, () => {
  const js = fs.readdirSync(DIST).filter((f) => f.endsWith('.js')).reduce((sum, f) => sum + fs.statSync(path.join(DIST, f)).size, 0);
  const br = fs.statSync(path.join(DIST, 'wx_session_bg.wasm.br')).size;
  assert.ok(js > 0 && br > 0);
  assert.ok(br + js <= SHIPPED_BUDGET, `shipped ${br + js} B (wasm.br ${br} + js ${js}) > ${SHIPPED_BUDGET} B: see scripts/size.sh`);
});

test(`the raw .wasm stays within ${RAW_WASM_BUDGET} B`, () => {
  const raw = fs.statSync(path.join(DIST, '..', 'wasm', 'wx_session_bg.wasm')).size;
  assert.ok(raw <= RAW_WASM_BUDGET, `wx_session_bg.wasm is ${raw} B`);
});
