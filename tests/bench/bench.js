#!/usr/bin/env node
// Prints size, start-up, per-request overhead and memory figures of the built SDK (js-glue/dist)
// in the strict sandbox, with an in-process wx that answers on the next turn. One run, medians.
//   node tests/bench/bench.js [--requests 2000] [--rounds 15]
'use strict';

const fs = require('fs');
const path = require('path');
const zlib = require('zlib');
const { createRuntime } = require('../sandbox/runtime');
const { createFakeWx } = require('../engines/wx-fake');

const DIST = path.join(__dirname, '..', '..', 'js-glue', 'dist');
const flag = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
};
const REQUESTS = flag('requests', 2000);
const ROUNDS = flag('rounds', 15);

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const now = () => Number(process.hrtime.bigint()) / 1e6; // ms

function sandbox() {
  // Answers on the next turn, so only SDK work is measured.
  const wx = createFakeWx({ schedule: setImmediate }).wx;
  let memory;
  const runtime = createRuntime({ packageRoot: DIST, devServer: 'http://127.0.0.1:9', wx: () => wx, log: () => {} });
  const original = runtime.context.WXWebAssembly.instantiate;
  runtime.context.WXWebAssembly.instantiate = (p, imports) => original(p, imports).then((r) => {
    memory = (r.instance || r).exports.memory;
    return r;
  });
  const { createSession } = runtime.requireModule('index.js');
  const session = createSession({ baseUrl: 'https://api.test', wasmPath: '/wx_session_bg.wasm', useCheckSession: false });
  return { session, wx, memory: () => memory };
}

async function main() {
  console.log('wx-session benchmark (node ' + process.version + ', strict sandbox, in-process wx)');
  const wasm = fs.readFileSync(path.join(DIST, 'wx_session_bg.wasm'));
  const js = fs.readFileSync(path.join(DIST, 'index.js'));
  console.log(`size: wx_session_bg.wasm ${wasm.length} B (brotli ${fs.statSync(path.join(DIST, 'wx_session_bg.wasm.br')).size} B), index.js ${js.length} B (gzip ${zlib.gzipSync(js).length} B)`);

  const starts = [];
  for (let i = 0; i < ROUNDS; i++) {
    const t0 = now();
    const { session } = sandbox();
    await session.ensure();
    starts.push(now() - t0);
  }
  console.log(`cold start (load + compile wasm + first login, ${ROUNDS} rounds): median ${median(starts).toFixed(2)} ms`);

  const { session, wx, memory } = sandbox();
  await session.ensure();
  const bare = (o) => new Promise((resolve, reject) => wx.request({ ...o, success: resolve, fail: reject }));
  const sdkTimes = [];
  const bareTimes = [];
  const memoryBefore = memory().buffer.byteLength;
  for (let round = 0; round < ROUNDS; round++) {
    let t0 = now();
    for (let i = 0; i < REQUESTS / ROUNDS; i++) await bare({ url: 'https://api.test/api/profile', header: { token: 'x' } });
    bareTimes.push((now() - t0) / (REQUESTS / ROUNDS));
    t0 = now();
    for (let i = 0; i < REQUESTS / ROUNDS; i++) await session.request({ url: '/api/profile' });
    sdkTimes.push((now() - t0) / (REQUESTS / ROUNDS));
  }
  const sdk = median(sdkTimes) * 1000;
  const raw = median(bareTimes) * 1000;
  console.log(`sequential request (${REQUESTS} each, medians of ${ROUNDS} rounds): session.request ${sdk.toFixed(1)} µs, bare wx.request ${raw.toFixed(1)} µs, ratio ${(sdk / raw).toFixed(2)}, overhead ${(sdk - raw).toFixed(1)} µs`);

  const afterSequential = memory().buffer.byteLength;
  const t0 = now();
  await Promise.all(Array.from({ length: 200 }, () => session.request({ url: '/api/profile' })));
  console.log(`200 concurrent requests: ${(now() - t0).toFixed(2)} ms`);
  console.log(`wasm linear memory: ${memoryBefore} B after the first login, ${afterSequential} B after ${REQUESTS} sequential requests, ${memory().buffer.byteLength} B after 200 concurrent ones (peak, not a leak: linear memory never shrinks)`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
