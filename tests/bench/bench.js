#!/usr/bin/env node
// scripts/bench.sh: wx-session (its wasm build and its JavaScript build) against a hand-written
// seed-style wrapper and the real peers (wafer2-client-sdk 2.1.0, flyio 0.6.14: this folder's
// package.json), in one run, each figure beside its target from issue 19.
//
//   shipped bytes       the files a mini-program carries
//   per request         Node (wall and CPU), jsc with JIT, jsc without JIT (iPhone WeChat): pair by
//                       pair, ratios to the hand-written wrapper, medians; the platform (the fake
//                       of tests/fakes/wx.js, the same for all) answers on the next macrotask
//   cold start          load + compile + first login, one fresh process per sample (no engine
//                       cache helps), the clients alternating sample by sample
//   correctness         logins / successes for 20 requests after a revoke, and during the first login
//   memory              wasm pages (and the JavaScript build's memory) over 100,000 requests
//   --verbose           where the time of one request and of the cold start goes on jsc without
//                       JIT (phases.js)
//
// Everything runs in the strict sandbox (Node: tests/sandbox/runtime.js; jsc: the environment of
// tests/engines/jsc-bundle.js), the clients in the package's realm like an app's code.
//
//   --profile           jsc's sampling profiler over wx-session's requests without JIT: the
//                       functions that take the time (names: a build made with --readable --profiling)
//
//   --save FILE         also writes the figures of this run as JSON (the machine, the targets, each
//                       section's figures and the summary table): tests/bench/results.json is one,
//                       which scripts/figures.js turns into the manuals' Performance tables
//
//   node tests/bench/bench.js [--verbose] [--profile] [--save FILE] [--rounds N] [--batch N]
//     [--jsc-rounds N] [--node-processes N] [--cold N] [--memory-requests N]
//     [--only size,per-request,cold,correctness,memory]
//     [--clients wx-session,wafer2] (the hand-written wrapper always runs: the ratios need it)
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const zlib = require('zlib');
const { execFileSync } = require('child_process');
const { createRuntime } = require('../sandbox/runtime');
const { bundleForJsc } = require('../engines/jsc-bundle');
const { JSC, NO_JIT } = require('../engines/jsc');
const { median } = require('./measure');
const ALL_NAMES = require('./clients').NAMES;

const ROOT = path.join(__dirname, '..', '..');
// WX_SESSION_DIST / WX_SESSION_DIST_JS / WX_SESSION_WASM: measure other builds (an older release,
// a readable build with its names kept for --profile: js-glue/build.js --readable --profiling).
const DIST = process.env.WX_SESSION_DIST || path.join(ROOT, 'js-glue', 'dist');
const DIST_JS = process.env.WX_SESSION_DIST_JS || path.join(ROOT, 'js-glue', 'dist-js');
const PLAIN_WASM = process.env.WX_SESSION_WASM || path.join(ROOT, 'js-glue', 'wasm', 'wx_session_bg.wasm');
const PEERS = path.join(__dirname, 'node_modules');

const argv = process.argv.slice(2);
// The word after `--name`; null when the option is not given.
const option = (name) => {
  const at = argv.indexOf(`--${name}`);
  return at >= 0 ? argv[at + 1] : null;
};
const numberOption = (name, fallback) => (option(name) === null ? fallback : Number(option(name)));
const VERBOSE = argv.includes('--verbose');
const ROUNDS = numberOption('rounds', 21); // Node per-request rounds, per process
const NODE_PROCESSES = numberOption('node-processes', 5);
const BATCH = numberOption('batch', 100); // requests per client per round (Node)
const JSC_ROUNDS = numberOption('jsc-rounds', 41);
const JSC_BATCH = numberOption('jsc-batch', 50);
const COLD = numberOption('cold', 11); // fresh processes per client and engine
const MEMORY_REQUESTS = numberOption('memory-requests', 100000);
const ONLY = option('only') === null ? null : option('only').split(',');
const wanted = (part) => !ONLY || ONLY.includes(part);
const SAVE = option('save') === null ? null : path.resolve(option('save'));
// --clients hand-written,wx-session: fewer clients (the hand-written one always stays first).
const NAMES = (() => {
  if (option('clients') === null) return ALL_NAMES;
  const some = option('clients').split(',');
  return ALL_NAMES.filter((n) => n === 'hand-written' || some.includes(n));
})();

const TARGETS = {
  shipped: 40 * 1024,
  shippedStretch: 32 * 1024,
  nodeCpu: 1.3,
  jscJit: 1.2,
  jscNoJit: 2.0,
  coldNoJitVsWafer2: 2.0,
};

// ---- the package: every client's files as a mini-program carries them ------------------------

// name → { main (package path), files: { package path: disk path }, shipped: [package paths] }
const LIBS = {
  'hand-written': {
    main: 'hand-written/request.js',
    files: { 'hand-written/request.js': path.join(__dirname, 'hand-written', 'request.js') },
  },
  'wx-session': {
    main: 'wx-session/index.js',
    files: { 'wx-session/index.js': path.join(DIST, 'index.js'), 'wx-session/wx_session_bg.wasm.br': path.join(DIST, 'wx_session_bg.wasm.br') },
  },
  'wx-session/js': {
    main: 'wx-session-js/index.js',
    files: { 'wx-session-js/index.js': path.join(DIST_JS, 'index.js') },
  },
  wafer2: {
    main: 'wafer2/index.js',
    files: Object.fromEntries(['index.js', ...fs.readdirSync(path.join(PEERS, 'wafer2-client-sdk', 'lib')).map((f) => `lib/${f}`)]
      .map((f) => [`wafer2/${f}`, path.join(PEERS, 'wafer2-client-sdk', f)])),
  },
  flyio: {
    main: 'flyio/wx.umd.min.js',
    files: { 'flyio/wx.umd.min.js': path.join(PEERS, 'flyio', 'dist', 'umd', 'wx.umd.min.js') },
  },
};
// The bench's own code, loaded into the same realm as the clients (not timed).
const HARNESS = {
  'bench/clients.js': path.join(__dirname, 'clients.js'),
  'bench/measure.js': path.join(__dirname, 'measure.js'),
  'bench/wx.js': path.join(ROOT, 'tests', 'fakes', 'wx.js'),
};
const NODE_WASM_PATH = '/wx-session/wx_session_bg.wasm.br';
const JSC_WASM_PATH = '/wx_session_bg.wasm'; // jsc has no brotli: the same module, uncompressed
// Each client's own storage key, so clients sharing one fake never read each other's token.
const STORAGE_KEYS = { 'hand-written': 'token', 'wx-session': 'wxs-token', 'wx-session/js': 'wxs-js-token', wafer2: null, flyio: 'fly-token' };

for (const lib of Object.values(LIBS)) {
  for (const file of Object.values(lib.files)) {
    if (!fs.existsSync(file)) {
      console.error(`missing ${file}: run ./scripts/build.sh, and npm ci in tests/bench`);
      process.exit(1);
    }
  }
}

let packageDir = null;
// A folder holding every client and the harness, as the package root of the Node sandbox.
function benchPackage() {
  if (packageDir) return packageDir;
  packageDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wx-session-bench-'));
  const all = Object.assign({}, HARNESS, ...Object.values(LIBS).map((l) => l.files));
  for (const [to, from] of Object.entries(all)) {
    fs.mkdirSync(path.dirname(path.join(packageDir, to)), { recursive: true });
    fs.copyFileSync(from, path.join(packageDir, to));
  }
  return packageDir;
}

const micros = () => Number(process.hrtime.bigint()) / 1e3;
const cpuMicros = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

// A strict sandbox over the bench package with a fake wx made in its realm; `respond`: the
// name of clients.js's answer function ('benchRespond' or 'serverRespond').
function sandbox({ respond = 'benchRespond', memories = false } = {}) {
  const runtime = createRuntime({ packageRoot: benchPackage(), devServer: 'http://127.0.0.1:9', log: () => {} });
  const ctx = runtime.context;
  ctx.__now = micros;
  ctx.__cpu = cpuMicros;
  const clients = runtime.requireModule('bench/clients.js');
  const fakes = runtime.requireModule('bench/wx.js');
  // The realm has only timers: its next macrotask comes from Node's setImmediate.
  const fake = fakes.createWx({ schedule: (fn) => setImmediate(fn), record: false, respond: clients[respond] });
  ctx.wx = clients.addSocketListeners(fake.wx);
  const found = [];
  if (memories) {
    // The wasm instance's memory, and the JavaScript core's (wasm2js's `memory` export,
    // Object.create(…, { grow, buffer })), as each is made.
    const instantiate = ctx.WXWebAssembly.instantiate;
    ctx.WXWebAssembly.instantiate = (p, imports) => instantiate(p, imports).then((r) => {
      found.push({ name: 'wx-session', memory: (r.instance || r).exports.memory });
      return r;
    });
    const SandboxObject = runtime.run('Object');
    const create = SandboxObject.create;
    SandboxObject.create = function (prototype, properties) {
      const made = create.apply(this, arguments);
      if (properties && 'grow' in properties && 'buffer' in properties) found.push({ name: 'wx-session/js', memory: made });
      return made;
    };
  }
  const make = (name) => clients.makeClient(name, runtime.requireModule(LIBS[name].main), { wasmPath: NODE_WASM_PATH, storageKey: STORAGE_KEYS[name] });
  return { runtime, fake, clients, make, memories: found };
}

// ---- output ----------------------------------------------------------------------------------

const rows = {}; // the summary table: row → { client: text }
const put = (row, client, text) => {
  rows[row] = rows[row] || {};
  rows[row][client] = text;
};
const fmt = (n, digits = 2) => (n === null || n === undefined || Number.isNaN(n) ? '–' : n.toFixed(digits));
const bytes = (n) => n.toLocaleString('en-US');
const verdict = (ok) => (ok ? 'met' : 'MISSED');
const printed = []; // every line, for --save
const line = (text = '') => {
  printed.push(text);
  console.log(text);
};
// What --save writes: the figures as numbers, section by section, beside the summary's texts.
const saved = { size: { clients: {} }, perRequest: {}, cold: {}, correctness: {}, memory: {}, rows, printed };

// ---- shipped bytes ------------------------------------------------------------------------------

function sizes() {
  line('## Shipped bytes (the files a mini-program carries)');
  const out = {};
  for (const [name, lib] of Object.entries(LIBS)) {
    const files = Object.entries(lib.files);
    const total = files.reduce((sum, [, f]) => sum + fs.statSync(f).size, 0);
    const br = zlib.brotliCompressSync(Buffer.concat(files.map(([p, f]) => (p.endsWith('.br') ? zlib.brotliDecompressSync(fs.readFileSync(f)) : fs.readFileSync(f))))).length;
    out[name] = total;
    saved.size.clients[name] = { total, files: Object.fromEntries(files.map(([p, f]) => [p, fs.statSync(f).size])), brotli: br };
    const parts = files.map(([p, f]) => `${path.basename(p)} ${bytes(fs.statSync(f).size)}`).join(' + ');
    line(`${name.padEnd(14)} ${bytes(total).padStart(7)} B  (${parts}; all brotli'd ${bytes(br)} B)`);
    put('shipped bytes', name, bytes(total));
  }
  const wasm = out['wx-session'];
  const js = out['wx-session/js'];
  line(`wx-session (wasm build): ${bytes(wasm)} B  target ≤ ${bytes(TARGETS.shipped)}: ${verdict(wasm <= TARGETS.shipped)} (by ${bytes(wasm - TARGETS.shipped)} B); stretch ≤ ${bytes(TARGETS.shippedStretch)}: ${verdict(wasm <= TARGETS.shippedStretch)}`);
  line(`wx-session/js (JavaScript build): ${bytes(js)} B (${(js / wasm).toFixed(2)}× the wasm build; no target, for the README's choice of build)`);
  line(`raw wx_session_bg.wasm: ${bytes(fs.statSync(PLAIN_WASM).size)} B`);
  saved.size.rawWasm = fs.statSync(PLAIN_WASM).size;
  put('shipped bytes', 'target', `≤ ${bytes(TARGETS.shipped)} (stretch ${bytes(TARGETS.shippedStretch)}): wasm build ${verdict(wasm <= TARGETS.shipped)}`);
  return out;
}

// ---- per request --------------------------------------------------------------------------------

// One process's rounds (its raw per-round figures): run in a child, `--node-rounds-child`.
async function nodeRounds() {
  const box = sandbox();
  const measure = box.runtime.requireModule('bench/measure.js');
  const clients = [];
  for (const name of NAMES) {
    const client = box.make(name);
    await client.start();
    clients.push({ name, request: client.request });
  }
  return measure.perRequest(clients, { rounds: ROUNDS, batch: BATCH, warmup: 2000, now: box.runtime.context.__now, cpu: box.runtime.context.__cpu });
}

// V8's optimizing compiler decides differently from one process to the next, so one process's
// ratio can sit 0.3 away from another's: the rounds of NODE_PROCESSES fresh processes are pooled.
function perRequestNode() {
  line(`## Per request on Node (in the sandbox realm; wx answers on the next macrotask)`);
  const pooled = {};
  for (let p = 0; p < NODE_PROCESSES; p++) {
    const args = [__filename, '--node-rounds-child', '--rounds', String(ROUNDS), '--batch', String(BATCH), '--clients', NAMES.join(',')];
    const output = execFileSync(process.execPath, args, { encoding: 'utf8', timeout: 600000, maxBuffer: 64 << 20 });
    const result = JSON.parse(output.split('\n').find((l) => l.startsWith('RESULT ')).slice(7));
    for (const [name, r] of Object.entries(result)) {
      pooled[name] = pooled[name] || { wall: [], cpu: [], ratioWall: [], ratioCpu: [] };
      for (const key of Object.keys(pooled[name])) pooled[name][key].push(...r[key]);
    }
  }
  const { summarize } = require('./measure');
  const result = summarize(pooled);
  line(`${NODE_PROCESSES} fresh processes × ${ROUNDS} rounds of ${BATCH} requests per client, order rotated each round; ratios are medians of each round's ratio to the hand-written wrapper`);
  for (const name of NAMES) {
    const r = result[name];
    const target = name === 'wx-session' ? `  target CPU ≤ ${TARGETS.nodeCpu}×: ${verdict(r.ratioCpu <= TARGETS.nodeCpu)}` : '';
    line(`${name.padEnd(14)} wall ${fmt(r.wall).padStart(7)} µs (${fmt(r.ratioWall)}×)   CPU ${fmt(r.cpu).padStart(7)} µs (${fmt(r.ratioCpu)}×)${target}`);
    put('per request, Node, × hand-written (CPU)', name, `${fmt(r.ratioCpu)} (${fmt(r.cpu, 1)} µs)`);
    put('per request, Node, × hand-written (wall)', name, `${fmt(r.ratioWall)} (${fmt(r.wall, 1)} µs)`);
  }
  put('per request, Node, × hand-written (CPU)', 'target', `≤ ${TARGETS.nodeCpu}: ${verdict(result['wx-session'].ratioCpu <= TARGETS.nodeCpu)}`);
  saved.perRequest.node = result;
  return result;
}

// ---- jsc ----------------------------------------------------------------------------------------

// The native functions the strict environment of jsc-bundle.js takes away, kept for the bench:
// the shell's own timer (the platform's answers, and cheap timers for the code under test),
// `load` (to parse a client's file at a measured moment) and WebAssembly (for the phases).
const JSC_PREFIX = [
  'var __native = { setTimeout: this.setTimeout, load: this.load, WebAssembly: this.WebAssembly, read: this.read };',
  'var __now = function () { return preciseTime() * 1e6; };',
].join('\n');

// After the environment: timers on the shell's own (its setTimeout(0) is a few µs; jsc-bundle's
// queue is meant for tests, not timing), and a CommonJS loader over package paths.
const JSC_RUNTIME = `
var __cleared = {};
var __timerId = 1;
setTimeout = function (fn, ms) {
  var id = __timerId++;
  var args = Array.prototype.slice.call(arguments, 2);
  __native.setTimeout(function () {
    if (__cleared[id]) { delete __cleared[id]; return; }
    fn.apply(null, args);
  }, ms || 0);
  return id;
};
clearTimeout = function (id) { if (id) __cleared[id] = true; };
var __defined = {};
var __loaded = {};
function __define(name, fn) { __defined[name] = fn; }
function __resolve(from, request) {
  if (request.charAt(0) !== '.') return request;
  var parts = from.split('/');
  parts.pop();
  request.split('/').forEach(function (p) {
    if (p === '..') parts.pop();
    else if (p !== '.') parts.push(p);
  });
  var name = parts.join('/');
  return __defined[name] ? name : name + '.js';
}
function __load(name) {
  if (__loaded[name]) return __loaded[name].exports;
  if (!__defined[name]) throw new Error('no module ' + name);
  var module = { exports: {} };
  __loaded[name] = module;
  __defined[name].call(module.exports, module, module.exports, function (request) { return __load(__resolve(name, request)); });
  return module.exports;
}
function __fail(e) { print('ERROR ' + e + '\\n' + (e && e.stack)); quit(); }
`;

const defineModule = (name, file) => `__define(${JSON.stringify(name)}, function (module, exports, require) {\n${fs.readFileSync(file, 'utf8')}\n});\n`;

function jscScript(main, { lazy = {} } = {}) {
  const modules = Object.entries(HARNESS).map(([name, file]) => defineModule(name, file)).join('');
  const eager = Object.values(LIBS).flatMap((l) => Object.entries(l.files)).filter(([p]) => p.endsWith('.js') && !lazy[p]);
  return `${JSC_PREFIX}\n${bundleForJsc({ files: {}, packageFiles: { [JSC_WASM_PATH]: PLAIN_WASM }, main: `${JSC_RUNTIME}\n${modules}${eager.map(([p, f]) => defineModule(p, f)).join('')}\n${main}` })}`;
}

let jscDir = null;
function runJscScript(script, env, name = 'run.js') {
  if (!jscDir) jscDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wx-session-bench-jsc-'));
  const file = path.join(jscDir, name);
  fs.writeFileSync(file, script);
  const output = execFileSync(JSC, [file], { encoding: 'utf8', timeout: 600000, env: { ...process.env, ...env }, maxBuffer: 64 << 20 });
  const error = output.split('\n').find((l) => l.startsWith('ERROR '));
  if (error) throw new Error(`jsc: ${output.slice(output.indexOf('ERROR '))}`);
  const result = output.split('\n').find((l) => l.startsWith('RESULT '));
  if (!result) throw new Error(`jsc printed no result:\n${output.slice(0, 2000)}`);
  return JSON.parse(result.slice(7));
}

const MAINS = JSON.stringify(Object.fromEntries(Object.entries(LIBS).map(([n, l]) => [n, l.main])));
const KEYS = JSON.stringify(STORAGE_KEYS);

// The clients made in the jsc realm, each after its first login: `clients` (name → client).
const JSC_CLIENTS = `
var benchClients = __load('bench/clients.js');
var measure = __load('bench/measure.js');
var fake = __load('bench/wx.js').createWx({ schedule: function (fn) { __native.setTimeout(fn, 0); }, record: false, respond: benchClients.benchRespond });
wx = benchClients.addSocketListeners(fake.wx);
var MAINS = ${MAINS};
var KEYS = ${KEYS};
var NAMES = ${JSON.stringify(NAMES)};
var clients = {};
var started = Promise.resolve();
NAMES.forEach(function (name) {
  started = started.then(function () {
    clients[name] = benchClients.makeClient(name, __load(MAINS[name]), { wasmPath: ${JSON.stringify(JSC_WASM_PATH)}, storageKey: KEYS[name] });
    return clients[name].start();
  });
});
`;

function perRequestJsc(label, env) {
  line(`## Per request on jsc ${label} (JavaScriptCore; wx answers on the shell's next timer turn)`);
  if (!JSC) {
    line('SKIPPED: no jsc shell (libjavascriptcoregtk-4.0-bin)');
    return null;
  }
  const main = `${JSC_CLIENTS}
started.then(function () {
  return measure.perRequest(NAMES.map(function (n) { return { name: n, request: clients[n].request }; }),
    { rounds: ${JSC_ROUNDS}, batch: ${JSC_BATCH}, warmup: ${env ? 100 : 1000}, now: __now });
}).then(function (r) { print('RESULT ' + JSON.stringify(measure.summarize(r))); quit(); }, __fail);
`;
  const result = runJscScript(jscScript(main), env || {});
  line(`${JSC_ROUNDS} rounds of ${JSC_BATCH} requests per client, order rotated; wall time (the shell is one thread, idle only between turns)`);
  const target = env ? TARGETS.jscNoJit : TARGETS.jscJit;
  const row = `per request, jsc ${label}, × hand-written`;
  for (const name of NAMES) {
    const r = result[name];
    const mark = name === 'wx-session' ? `  target ≤ ${target}×: ${verdict(r.ratioWall <= target)}` : '';
    line(`${name.padEnd(14)} ${fmt(r.wall).padStart(8)} µs  ${fmt(r.ratioWall)}×${mark}`);
    put(row, name, `${fmt(r.ratioWall)} (${fmt(r.wall, 1)} µs)`);
  }
  put(row, 'target', `≤ ${target}: ${verdict(result['wx-session'].ratioWall <= target)}`);
  saved.perRequest[env ? 'jscNoJit' : 'jscJit'] = result;
  return result;
}

// ---- cold start ---------------------------------------------------------------------------------

// One sample on jsc, in a fresh shell: the client's files are parsed and run at a measured
// moment (`load`), then the client is made and logs in for the first time.
function coldJscScript(name) {
  const lib = LIBS[name];
  const lazy = Object.fromEntries(Object.keys(lib.files).map((p) => [p, true]));
  // One file, as WeChat packs every JS file of a mini-program into one script (each in a define()).
  const file = path.join(jscDir, `cold-${name.replace(/\W/g, '-')}.lib.js`);
  fs.writeFileSync(file, Object.entries(lib.files).filter(([p]) => p.endsWith('.js')).map(([p, f]) => defineModule(p, f)).join(''));
  const main = `
var benchClients = __load('bench/clients.js');
var fakes = __load('bench/wx.js');
benchClients.warmPlatform(fakes, benchClients.benchRespond);
var fake = fakes.createWx({ schedule: function (fn) { __native.setTimeout(fn, 0); }, record: false, respond: benchClients.benchRespond });
wx = benchClients.addSocketListeners(fake.wx);
var t0 = __now();
__native.load(${JSON.stringify(file)});
var lib = __load(${JSON.stringify(lib.main)});
var t1 = __now();
var client = benchClients.makeClient(${JSON.stringify(name)}, lib, { wasmPath: ${JSON.stringify(JSC_WASM_PATH)}, storageKey: 'token' });
client.start().then(function () {
  var t2 = __now();
  print('RESULT ' + JSON.stringify({ total: (t2 - t0) / 1000, load: (t1 - t0) / 1000 }));
  quit();
}, __fail);
`;
  return jscScript(main, { lazy });
}

// One sample on Node: a fresh process (tests/bench/cold.js), a fresh sandbox.
function coldNode(name) {
  const output = execFileSync(process.execPath, [path.join(__dirname, 'cold.js'), benchPackage(), name, LIBS[name].main, NODE_WASM_PATH], { encoding: 'utf8', timeout: 60000 });
  return JSON.parse(output.trim().split('\n').pop());
}

function coldStart() {
  line(`## Cold start: load + compile + first login (wx-session: createSession → first ensure() resolved; peers: their first login), ${COLD} fresh processes per client and engine, clients alternating`);
  if (!jscDir) jscDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wx-session-bench-jsc-'));
  const engines = [{ key: 'Node', run: coldNode }];
  if (JSC) {
    const scripts = Object.fromEntries(NAMES.map((n) => {
      const file = path.join(jscDir, `cold-${n.replace(/\W/g, '-')}.js`);
      fs.writeFileSync(file, coldJscScript(n));
      return [n, file];
    }));
    const runScript = (env) => (name) => {
      const output = execFileSync(JSC, [scripts[name]], { encoding: 'utf8', timeout: 60000, env: { ...process.env, ...env } });
      const result = output.split('\n').find((l) => l.startsWith('RESULT '));
      if (!result) throw new Error(`jsc cold start of ${name}:\n${output}`);
      return JSON.parse(result.slice(7));
    };
    engines.push({ key: 'jsc with JIT', run: runScript({}) });
    engines.push({ key: 'jsc without JIT', run: runScript(NO_JIT) });
  } else {
    line('jsc: SKIPPED (no jsc shell)');
  }
  const out = {};
  for (const engine of engines) {
    const samples = Object.fromEntries(NAMES.map((n) => [n, []]));
    const ratios = Object.fromEntries(NAMES.map((n) => [n, []]));
    for (let i = 0; i < COLD; i++) {
      const order = NAMES.slice(i % NAMES.length).concat(NAMES.slice(0, i % NAMES.length));
      const round = {};
      for (const name of order) round[name] = engine.run(name);
      for (const name of NAMES) {
        samples[name].push(round[name]);
        ratios[name].push(round.wafer2 ? round[name].total / round.wafer2.total : NaN);
      }
    }
    const result = Object.fromEntries(NAMES.map((n) => [n, {
      total: median(samples[n].map((s) => s.total)),
      load: median(samples[n].map((s) => s.load)),
      vsWafer2: median(ratios[n]),
    }]));
    out[engine.key] = result;
    saved.cold[engine.key] = result;
    line(`${engine.key}:`);
    for (const name of NAMES) {
      const r = result[name];
      const mark = name === 'wx-session' && engine.key === 'jsc without JIT' ? `  target ≤ ${TARGETS.coldNoJitVsWafer2}× wafer2's: ${verdict(r.vsWafer2 <= TARGETS.coldNoJitVsWafer2)}` : '';
      line(`  ${name.padEnd(14)} ${fmt(r.total).padStart(7)} ms (loading its files ${fmt(r.load)} ms)  ${fmt(r.vsWafer2)}× wafer2's${mark}`);
      put(`cold start, ${engine.key}, ms (× wafer2)`, name, `${fmt(r.total)} (${fmt(r.vsWafer2)}×)`);
    }
    if (engine.key === 'jsc without JIT') put(`cold start, ${engine.key}, ms (× wafer2)`, 'target', `≤ 2× wafer2: ${verdict(result['wx-session'].vsWafer2 <= TARGETS.coldNoJitVsWafer2)}`);
  }
  return out;
}

// ---- correctness --------------------------------------------------------------------------------

// Logins and successful answers for 20 requests at once: after the server revoked every token
// (each client logged in before), and during the first login (fired together with it).
async function correctness() {
  line('## Correctness: logins / successes for 20 requests at once (the fake backend; 401 = invalid session)');
  const scenarios = [
    {
      row: '20 requests after a revoke: logins / successes',
      run: async (box, client) => {
        await client.start();
        box.fake.revokeAll();
        return twenty(box, client);
      },
    },
    {
      row: '20 requests during the first login: logins / successes',
      run: async (box, client) => {
        const starting = client.start().catch(() => {});
        const result = await twenty(box, client, 0);
        await starting;
        return result;
      },
    },
  ];
  async function twenty(box, client, before = box.fake.counts.login) {
    const answers = await Promise.all(Array.from({ length: 20 }, () => client.request().then((res) => client.ok(res), () => false)));
    return { logins: box.fake.counts.login - before, ok: answers.filter(Boolean).length };
  }
  for (const scenario of scenarios) {
    const cells = [];
    for (const name of NAMES) {
      const box = sandbox({ respond: 'serverRespond' });
      const client = box.make(name);
      let r;
      try {
        r = await withLimit(scenario.run(box, client), 10000);
      } catch (e) {
        r = { error: String(e && e.message) };
      }
      const text = r.error ? `error: ${r.error}` : `${r.logins} / ${r.ok}`;
      saved.correctness[scenario.row] = saved.correctness[scenario.row] || {};
      saved.correctness[scenario.row][name] = r;
      cells.push(`${name} ${text}`);
      put(scenario.row, name, text);
    }
    line(`${scenario.row}: ${cells.join(' · ')}`);
  }
}

function withLimit(promise, ms) {
  let timer;
  return Promise.race([promise, new Promise((resolve, reject) => { timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms); })])
    .finally(() => clearTimeout(timer));
}

// ---- memory -------------------------------------------------------------------------------------

async function memory() {
  line(`## Core memory over ${bytes(MEMORY_REQUESTS)} requests (64 KiB pages)`);
  for (const name of ['wx-session', 'wx-session/js']) {
    const box = sandbox({ memories: true });
    const client = box.make(name);
    await client.start();
    const found = box.memories.find((m) => m.name === name);
    if (!found) {
      line(`${name}: its memory was not in sight`);
      continue;
    }
    const pages = () => found.memory.buffer.byteLength / 65536;
    const atStart = pages();
    for (let i = 0; i < 1000; i++) await client.request();
    const warm = pages();
    for (let i = 1000; i < MEMORY_REQUESTS; i++) await client.request();
    const after = pages();
    line(`${name}: ${atStart} after the first login, ${warm} after 1,000 requests, ${after} after ${bytes(MEMORY_REQUESTS)}  flat after warm-up: ${verdict(after === warm)}`);
    put(`core memory, pages: first login / 1,000 / ${bytes(MEMORY_REQUESTS)} requests`, name, `${atStart} / ${warm} / ${after}`);
    saved.memory[name] = { firstLogin: atStart, after1000: warm, after: after, requests: MEMORY_REQUESTS };
  }
}

// ---- the table ----------------------------------------------------------------------------------

function table() {
  line('## Summary (markdown)');
  const columns = [...NAMES, 'target'];
  line(`| | ${columns.join(' | ')} |`);
  line(`|---|${columns.map(() => '---').join('|')}|`);
  for (const [row, cells] of Object.entries(rows)) line(`| ${row} | ${columns.map((c) => cells[c] || '').join(' | ')} |`);
}

async function main() {
  const cpu = os.cpus();
  let jscVersion = '';
  try {
    jscVersion = ` ${execFileSync('dpkg-query', ['-W', '-f=${Version}', 'libjavascriptcoregtk-4.0-bin'], { encoding: 'utf8' })}`;
  } catch (e) {
    // not a Debian system: no version to show
  }
  const date = new Date().toISOString().slice(0, 10);
  line(`wx-session benchmark — ${date}, Node ${process.version}, ${JSC ? `jsc (JavaScriptCore, WebKitGTK${jscVersion})` : 'no jsc'}, ${cpu.length} × ${cpu[0] && cpu[0].model}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, strict sandbox`);
  saved.date = date;
  saved.command = `./scripts/bench.sh ${argv.join(' ')}`.trim();
  saved.machine = {
    cpus: cpu.length, cpuModel: cpu[0] ? cpu[0].model : null, memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version, jsc: JSC ? `JavaScriptCore, WebKitGTK${jscVersion}` : null,
  };
  saved.targets = TARGETS;
  saved.settings = { rounds: ROUNDS, nodeProcesses: NODE_PROCESSES, batch: BATCH, jscRounds: JSC_ROUNDS, jscBatch: JSC_BATCH, cold: COLD, memoryRequests: MEMORY_REQUESTS, clients: NAMES };
  line();
  if (wanted('size')) sizes();
  line();
  if (wanted('per-request')) {
    perRequestNode();
    line();
    perRequestJsc('with JIT', null);
    line();
    perRequestJsc('without JIT', NO_JIT);
    line();
  }
  if (wanted('cold')) {
    coldStart();
    line();
  }
  if (wanted('correctness')) {
    await correctness();
    line();
  }
  if (wanted('memory')) {
    await memory();
    line();
  }
  if ((VERBOSE || argv.includes('--profile')) && !JSC) line('--verbose / --profile: SKIPPED (no jsc shell)');
  else if (VERBOSE || argv.includes('--profile')) {
    const phases = require('./phases');
    const context = { line, jscScript, runJscScript, JSC_CLIENTS, LIBS, NAMES, jscDirOf: () => jscDir, wasm: PLAIN_WASM };
    if (!jscDir) jscDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wx-session-bench-jsc-'));
    if (VERBOSE) phases.report(context);
    if (argv.includes('--profile')) phases.profile(context);
    line();
  }
  table();
  if (SAVE) {
    fs.writeFileSync(SAVE, `${JSON.stringify(saved, (key, value) => (typeof value === 'number' && !Number.isFinite(value) ? null : value), 2)}\n`);
    line();
    line(`saved the figures to ${path.relative(process.cwd(), SAVE)}`);
  }
}

const run = argv.includes('--node-rounds-child')
  ? () => nodeRounds().then((r) => console.log(`RESULT ${JSON.stringify(r)}`))
  : main;

run().then(() => process.exit(0), (error) => {
  console.error(error);
  process.exit(1);
});
