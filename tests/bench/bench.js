#!/usr/bin/env node
// scripts/bench.sh: what the built SDK (js-glue/dist) costs, each figure beside its target.
// Everything runs in the strict sandbox (tests/sandbox/runtime.js), one run, medians.
//   sizes · per request against a hand-written seed-style wrapper (pair by pair, a wx that
//   answers on the next macrotask; also with a 100 KB body) · cold start and the wasm compile
//   alone, on Node and on JavaScriptCore · round trips per launch scenario, against seed 003's
//   hand-written flow · wasm linear memory over 100,000 requests.
//
//   node tests/bench/bench.js [--rounds 101] [--batch 50] [--memory-requests 100000]
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const zlib = require('zlib');
const { execFileSync } = require('child_process');
const { createRuntime } = require('../sandbox/runtime');
const { createWx } = require('../fakes/wx');
const { bundleForJsc } = require('../engines/jsc-bundle');

const ROOT = path.join(__dirname, '..', '..');
const DIST = path.join(ROOT, 'js-glue', 'dist');
const WASM = path.join(ROOT, 'js-glue', 'wasm', 'wx_session_bg.wasm');
const flag = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
};
const ROUNDS = flag('rounds', 101);
const BATCH = flag('batch', 50);
const MEMORY_REQUESTS = flag('memory-requests', 100000);

const TARGETS = {
  shipped: 40 * 1024,
  shippedStretch: 32 * 1024,
  rawWasm: 100 * 1024,
  perRequest: 1.5,
  perRequestBigBody: 1.2,
};

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const micros = () => Number(process.hrtime.bigint()) / 1e3;
const kb = (n) => `${n.toLocaleString('en-US')} B`;
const verdict = (ok) => (ok ? 'met' : 'MISSED');

function line(text) {
  console.log(text);
}

// A runtime over the built SDK with `wx`; returns createSession and the package's realm.
function sandbox(wx) {
  const runtime = createRuntime({ packageRoot: DIST, devServer: 'http://127.0.0.1:9', wx: () => wx, log: () => {} });
  let memory = null;
  const instantiate = runtime.context.WXWebAssembly.instantiate;
  runtime.context.WXWebAssembly.instantiate = (p, imports) => instantiate(p, imports).then((r) => {
    memory = (r.instance || r).exports.memory;
    return r;
  });
  const { createSession } = runtime.requireModule('index.js');
  return { runtime, createSession, memory: () => memory };
}

function sizes() {
  line('## Size');
  const js = fs.readdirSync(DIST).filter((f) => f.endsWith('.js'));
  const jsBytes = js.reduce((sum, f) => sum + fs.statSync(path.join(DIST, f)).size, 0);
  const br = fs.statSync(path.join(DIST, 'wx_session_bg.wasm.br')).size;
  const raw = fs.statSync(WASM).size;
  const shipped = br + jsBytes;
  const jsGzip = zlib.gzipSync(Buffer.concat(js.map((f) => fs.readFileSync(path.join(DIST, f))))).length;
  line(`shipped (.wasm.br + ${js.join(', ')}): ${kb(br)} + ${kb(jsBytes)} = ${kb(shipped)}  target ≤ ${kb(TARGETS.shipped)}: ${verdict(shipped <= TARGETS.shipped)} (stretch ${kb(TARGETS.shippedStretch)}: ${verdict(shipped <= TARGETS.shippedStretch)})`);
  line(`raw wx_session_bg.wasm: ${kb(raw)}  target ≤ ${kb(TARGETS.rawWasm)}: ${verdict(raw <= TARGETS.rawWasm)}`);
  line(`(for comparison: index.js gzipped ${kb(jsGzip)})`);
}

// The fake wx for the per-request runs (tests/fakes/wx.js): answers on the next macrotask,
// records nothing; the login gives a token; with `body`, every API answer carries that JSON text
// (parsed per answer, as wx does) and every request's data is serialized (as wx does before
// sending). Both sides of the comparison go through it.
function requestWx(body) {
  return createWx({
    schedule: 'macrotask',
    record: false,
    respond: (o) => {
      if (o.data !== undefined && typeof o.data !== 'string') JSON.stringify(o.data);
      const data = o.url.endsWith('/login') ? { token: 'bench-token-0123456789' } : body ? JSON.parse(body) : { nickname: 'x' };
      return { statusCode: 200, data, header: {}, errMsg: 'request:ok' };
    },
  }).wx;
}

// session.request against the wrapper seed 003's posts write by hand (token from memory, header
// merge, wx.request, 401 check), both in the same realm, alternating batches; the ratio is the
// median of the per-batch ratios.
async function perRequest(label, body, target) {
  const wx = requestWx(body);
  const { runtime, createSession } = sandbox(wx);
  const session = createSession({ baseUrl: 'https://api.test', wasmPath: '/wx_session_bg.wasm.br', useCheckSession: false });
  runtime.context.__token = (await session.ensure()).token;
  const handWritten = runtime.run(`(function (options) {
    return new Promise(function (resolve, reject) {
      var header = Object.assign({}, options.header, { token: __token });
      wx.request(Object.assign({}, options, {
        url: 'https://api.test' + options.url,
        header: header,
        success: function (res) {
          if (res.statusCode === 401) reject(new Error('session expired'));
          else resolve(res);
        },
        fail: reject,
      }));
    });
  })`);
  const data = body ? { text: 'x'.repeat(100 * 1024) } : undefined;
  const options = { url: '/api/profile', data };
  const runs = { sdk: () => session.request(options), hand: () => handWritten(options) };
  for (let i = 0; i < 2000; i++) {
    await runs.sdk();
    await runs.hand();
  }
  const sdk = [];
  const hand = [];
  const ratios = [];
  for (let round = 0; round < ROUNDS; round++) {
    const t = {};
    for (const which of round % 2 ? ['sdk', 'hand'] : ['hand', 'sdk']) {
      const start = micros();
      for (let i = 0; i < BATCH; i++) await runs[which]();
      t[which] = (micros() - start) / BATCH;
    }
    sdk.push(t.sdk);
    hand.push(t.hand);
    ratios.push(t.sdk / t.hand);
  }
  const ratio = median(ratios);
  line(`${label}: session.request ${median(sdk).toFixed(2)} µs, hand-written ${median(hand).toFixed(2)} µs, median ratio ${ratio.toFixed(2)}  target ≤ ${target}×: ${verdict(ratio <= target)}`);
  return ratio;
}

// A wx that answers at once (on the next macrotask), with a real login, recording nothing.
function instantWx() {
  return createWx({ schedule: 'macrotask', record: false });
}

async function coldStart() {
  line('## Cold start (instant wx)');
  const bytes = fs.readFileSync(WASM);
  const compiles = [];
  for (let i = 0; i < 21; i++) {
    const start = micros();
    await WebAssembly.compile(bytes);
    compiles.push((micros() - start) / 1000);
  }
  const starts = [];
  for (let i = 0; i < 21; i++) {
    const { wx } = instantWx();
    const { createSession } = sandbox(wx); // a fresh package: nothing of the SDK loaded yet
    const start = micros();
    await createSession({ baseUrl: 'https://api.test', wasmPath: '/wx_session_bg.wasm.br', useCheckSession: false }).ensure();
    starts.push((micros() - start) / 1000);
  }
  line(`Node ${process.version}: wasm compile alone ${median(compiles).toFixed(2)} ms; createSession → first ensure() (compile + instantiate, create the session, log in) ${median(starts).toFixed(2)} ms (medians of 21)`);
  coldStartOnJsc();
}

function findJsc() {
  return ['/usr/bin/jsc', '/usr/local/bin/jsc'].find((f) => fs.existsSync(f)) || null;
}

function coldStartOnJsc() {
  const jsc = findJsc();
  if (!jsc) {
    line('JavaScriptCore: SKIPPED (no jsc shell; scripts/test.sh installs libjavascriptcoregtk-4.0-bin)');
    return;
  }
  const script = bundleForJsc({
    files: { sdk: path.join(DIST, 'index.js'), '../fakes/wx': path.join(ROOT, 'tests', 'fakes', 'wx.js') },
    packageFiles: { '/wx_session_bg.wasm': WASM },
    main: `
      var now = function () { return preciseTime() * 1000; };
      var median = function (xs) { xs.sort(function (a, b) { return a - b; }); return xs[xs.length >> 1]; };
      var compiles = [];
      var starts = [];
      function compile(i) {
        if (i === 21) return start(0);
        var t = now();
        __bench.compile('/wx_session_bg.wasm').then(function () { compiles.push(now() - t); compile(i + 1); });
      }
      function start(i) {
        if (i === 21) {
          print('RESULT ' + JSON.stringify({ compile: median(compiles), start: median(starts) }));
          quit();
        }
        var sdk = __freshRequire('sdk');
        // Answers as soon as the engine can (the shell's timers are coarse).
        var fake = __require('../fakes/wx').createWx({ schedule: function (fn) { Promise.resolve().then(fn); }, record: false });
        var t = now();
        sdk.createSession({ baseUrl: 'https://api.test', wasmPath: '/wx_session_bg.wasm', useCheckSession: false, wx: fake.wx })
          .ensure().then(function () { starts.push(now() - t); start(i + 1); });
      }
      compile(0);
    `,
  });
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'wx-session-bench-')), 'cold.js');
  fs.writeFileSync(file, script);
  const output = execFileSync(jsc, [file], { encoding: 'utf8', timeout: 120000 });
  const result = JSON.parse(output.split('\n').find((l) => l.startsWith('RESULT ')).slice(7));
  line(`JavaScriptCore (jsc shell): wasm compile alone ${result.compile.toFixed(2)} ms; createSession → first ensure() ${result.start.toFixed(2)} ms (medians of 21)`);
}

// Seed 003's flow as its post writes it: onLaunch reads the token; with one, POST /auth and log
// in if errCode says so; without, wx.login → POST /login → store the token. Requests carry
// whatever token is in memory; nothing waits for the login, nothing reacts to a 401.
// `relogin401` adds what later posts add: a 401 logs in again and retries, per request.
function seedApp(wx, relogin401) {
  const app = { token: '' };
  const request = (options) => new Promise((resolve) => {
    wx.request({
      url: `https://api.test${options.url}`,
      method: 'GET',
      header: { token: app.token },
      success: (res) => resolve(res),
      fail: () => resolve({ statusCode: 0 }),
    });
  });
  const login = () => new Promise((resolve) => {
    wx.login({
      success: (res) => wx.request({
        url: 'https://api.test/login', method: 'POST', data: { code: res.code },
        success: (res2) => {
          app.token = res2.data.token;
          wx.setStorageSync('token', app.token);
          resolve();
        },
        fail: () => resolve(),
      }),
    });
  });
  app.launch = () => {
    const token = wx.getStorageSync('token');
    if (!token) return login();
    return new Promise((resolve) => wx.request({
      url: 'https://api.test/auth', method: 'POST', header: { token },
      success: (res) => {
        if (!res.data.errCode) {
          app.token = token;
          resolve();
        } else login().then(resolve);
      },
      fail: () => resolve(),
    }));
  };
  app.request = !relogin401 ? request : (options) => request(options).then((res) => (res.statusCode === 401 ? login().then(() => request(options)) : res));
  return app;
}

// Round trips so far: wx.login, wx.request and wx.checkSession calls.
const trips = (fake) => fake.counts.login + fake.counts.request + fake.counts.checkSession;

// The SDK at its minimum: a stored expiry trusted (policy 'when-unknown'), no wx.checkSession.
const SDK_CONFIG = {
  baseUrl: 'https://api.test',
  wasmPath: '/wx_session_bg.wasm.br',
  useCheckSession: false,
  login: { url: '/login', tokenPath: 'token', expiresInPath: 'expiresIn' },
  check: { url: '/auth', okWhen: { path: 'errCode', equals: 0 }, policy: 'when-unknown' },
};

async function roundTrips() {
  line('## Round trips per launch (wx.login + wx.request + wx.checkSession calls; ok = requests answered 200)');
  const twenty = (request) => Promise.all(Array.from({ length: 20 }, () => request({ url: '/api/profile' })));
  const oks = (answers) => answers.filter((a) => a && a.statusCode === 200).length;

  // Each scenario: prepare(fake) sets storage/backend; run(client) does the launch.
  const scenarios = [
    { name: 'first launch', run: async (c) => c.launch() },
    { name: 'relaunch, token known fresh', stored: 'fresh', run: async (c) => c.launch() },
    { name: 'relaunch, token known expired', stored: 'expired', run: async (c) => c.launch() },
    { name: '20 requests during the first login', run: async (c) => { const launching = c.launch(); const answers = await twenty(c.request); await launching; return oks(answers); } },
    { name: '20 requests after the server revoked the token', warm: true, run: async (c, fake) => { await c.launch(); fake.revokeAll(); c.reset(); return oks(await twenty(c.request)); } },
  ];

  const clients = {
    'wx-session': async (wx) => {
      const { createSession } = sandbox(wx);
      const session = createSession(Object.assign({}, SDK_CONFIG, { wx }));
      return { launch: () => session.ensure(), request: (o) => session.request(o), reset: () => {} };
    },
    'seed 003': async (wx) => wrapSeed(seedApp(wx, false)),
    'seed 003 + re-login on 401': async (wx) => wrapSeed(seedApp(wx, true)),
  };
  function wrapSeed(app) {
    return { launch: () => app.launch(), request: (o) => app.request(o), reset: () => {} };
  }

  for (const scenario of scenarios) {
    const cells = [];
    for (const [name, makeClient] of Object.entries(clients)) {
      const fake = createWx({ schedule: 'macrotask' });
      await prepareStorage(fake, scenario.stored, name === 'wx-session');
      const client = await makeClient(fake.wx);
      let before = 0;
      const ok = await scenario.run(Object.assign({}, client, { reset: () => { before = trips(fake); } }), fake);
      cells.push(`${name} ${trips(fake) - before}${typeof ok === 'number' ? ` (ok ${ok}/20)` : ''}`);
    }
    line(`${scenario.name}: ${cells.join(' · ')}`);
  }
}

// Stores a token the backend accepts. 'fresh': the SDK's record says it expires in two hours
// (seed 003 keeps a plain string and knows nothing of expiry); 'expired': the record's expiry
// passed and the backend no longer accepts the token.
async function prepareStorage(fake, stored, forSdk) {
  if (!stored) return;
  const token = `stored-${stored}`;
  if (stored === 'fresh') fake.accept(token);
  const now = Date.now();
  const expiresAt = stored === 'fresh' ? now + 7200 * 1000 : now - 1000;
  fake.storage.token = forSdk ? { v: 1, token, expiresAt, obtainedAt: expiresAt - 7200 * 1000 } : token;
}

async function memory() {
  line('## wasm linear memory');
  const { wx } = instantWx();
  const { createSession, memory: mem } = sandbox(wx);
  const session = createSession({ baseUrl: 'https://api.test', wasmPath: '/wx_session_bg.wasm.br', useCheckSession: false });
  await session.ensure();
  const pages = () => mem().buffer.byteLength / 65536;
  const atStart = pages();
  for (let i = 0; i < 1000; i++) await session.request({ url: '/api/profile' });
  const warm = pages();
  for (let i = 1000; i < MEMORY_REQUESTS; i++) await session.request({ url: '/api/profile' });
  const after = pages();
  line(`pages (64 KiB): ${atStart} after the first login, ${warm} after 1,000 requests, ${after} after ${MEMORY_REQUESTS.toLocaleString('en-US')}  flat after warm-up: ${verdict(after === warm)}`);
}

async function main() {
  line(`wx-session benchmark — ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${os.cpus().length} cores, strict sandbox`);
  sizes();
  line('## Per request (a wx that answers on the next macrotask; pair by pair, same realm)');
  await perRequest('empty body', null, TARGETS.perRequest);
  const body = JSON.stringify({ items: Array.from({ length: 2600 }, (_, i) => ({ id: i, name: `item ${i}`, tags: ['a', 'b'] })) });
  await perRequest(`${Math.round(body.length / 1024)} KB request and answer bodies`, body, TARGETS.perRequestBigBody);
  await coldStart();
  await roundTrips();
  await memory();
}

main().then(() => process.exit(0), (error) => {
  console.error(error);
  process.exit(1);
});
