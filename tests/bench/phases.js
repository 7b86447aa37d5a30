// bench.js --verbose: where the time of one request and of the cold start goes on jsc without JIT
// (iPhone WeChat's engine), found by measuring an instrumented copy of each client in jsc.
//
// How: every boundary is wrapped with a timer that charges the time to whoever runs (self
// time, a stack of categories):
//   core     each export of the wasm instance (or of the JavaScript build's wasm2js core), by
//            name: a copy of the bundle is patched so createInstance sees wrapped exports
//   platform every wx.* function of the fake (tests/fakes/wx.js) and its answer deliveries
//   client   the library's own JS: its entry (request(), createSession()) and every callback
//            the platform calls (success/fail/complete)
//            and the Promise jobs it queued (its .then callbacks)
//   engine   the rest: the event loop between turns, the engine's Promise machinery, the bench's loop
// Each wrapped call costs a timer read on both sides; that cost is measured first (calibration)
// and taken off the callee's and the caller's time. Cold start: one fresh shell per sample; the
// wasm is read, compiled (new WebAssembly.Module) and instantiated (new WebAssembly.Instance)
// synchronously in a loader of our own, so each step has its own figure.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { NO_JIT } = require('../engines/jsc');

// The profiler, inside jsc. __P.on switches the wrappers off (an uninstrumented batch).
const PROFILER = `
var __P = { on: true, self: {}, calls: {}, children: {}, stack: [], last: 0, cIn: 0, cOut: 0 };
function __enter(cat) {
  var t = __now();
  var top = __P.stack.length ? __P.stack[__P.stack.length - 1] : 'engine';
  __P.self[top] = (__P.self[top] || 0) + t - __P.last;
  __P.children[top] = (__P.children[top] || 0) + 1;
  __P.calls[cat] = (__P.calls[cat] || 0) + 1;
  __P.stack.push(cat);
  __P.last = __now();
}
function __leave() {
  var t = __now();
  var cat = __P.stack.pop();
  __P.self[cat] = (__P.self[cat] || 0) + t - __P.last;
  __P.last = __now();
}
function __wrap(cat, fn) {
  return function () {
    if (!__P.on) return fn.apply(this, arguments);
    __enter(cat);
    try {
      return fn.apply(this, arguments);
    } finally {
      __leave();
    }
  };
}
function __reset() { __P.self = {}; __P.calls = {}; __P.children = {}; __P.stack = []; __P.last = __now(); }
// What one wrapped call adds: to the callee (cIn) and to the caller (cOut), in µs.
function __calibrate() {
  var was = __P.on;
  __P.on = true;
  var empty = __wrap('calibrate', function () {});
  var n = 20000;
  for (var w = 0; w < 2000; w++) empty();
  __reset();
  var t0 = __now();
  for (var i = 0; i < n; i++) empty();
  var elapsed = __now() - t0;
  __P.on = false;
  var t1 = __now();
  for (var j = 0; j < n; j++) empty();
  var bare = __now() - t1;
  __P.on = true;
  __P.cIn = (__P.self.calibrate || 0) / n;
  __P.cOut = Math.max(0, (elapsed - bare) / n - __P.cIn);
  __P.on = was;
  __reset();
}
// Promise jobs the client's code queued (its .then callbacks) are the client's time too.
var __then = Promise.prototype.then;
Promise.prototype.then = function (onFulfilled, onRejected) {
  if (__P.on && __P.stack[__P.stack.length - 1] === 'client') {
    if (typeof onFulfilled === 'function') onFulfilled = __wrap('client', onFulfilled);
    if (typeof onRejected === 'function') onRejected = __wrap('client', onRejected);
  }
  return __then.call(this, onFulfilled, onRejected);
};
// Self time by category, less what the wrappers added (µs, total over the run).
function __corrected() {
  var out = {};
  for (var cat in __P.self) out[cat] = __P.self[cat] - (__P.calls[cat] || 0) * __P.cIn - (__P.children[cat] || 0) * __P.cOut;
  return out;
}
// The exports the client's copy of the bundle hands createInstance (see patchBundle).
function __benchExports(x) {
  var out = {};
  for (var name in x) out[name] = typeof x[name] === 'function' ? __wrap('core:' + name, x[name]) : x[name];
  return out;
}
// The platform: every wx function, the callbacks it is given (client code), its deliveries.
function __instrumentWx(wx) {
  Object.keys(wx).forEach(function (name) {
    var fn = wx[name];
    if (typeof fn !== 'function') return;
    wx[name] = __wrap('platform:wx.' + name, function (o) {
      if (o && typeof o === 'object') {
        ['success', 'fail', 'complete'].forEach(function (k) {
          if (typeof o[k] === 'function') o[k] = __wrap('client', o[k]);
        });
      }
      return fn.apply(this, arguments);
    });
  });
  return wx;
}
var __schedule = function (fn) { __native.setTimeout(__wrap('platform:answer', fn), 0); };
`;

// A copy of a client's bundle whose createInstance(x) takes wrapped exports; null when the
// bundle has no such function (not wx-session).
function patchBundle(source) {
  // createInstance(x, …): the function whose body, before any brace, reads x.memory.
  const pattern = /function\s*\((\w+)(?:,\s*\w+)?\)\s*\{[^{}]*?var (\w+)\s*=\s*\1\.memory\b/g;
  const matches = source.match(pattern) || [];
  if (matches.length !== 1) return null;
  return source.replace(pattern, (whole, x) => whole.replace('{', `{${x}=__benchExports(${x});`));
}

// Sums categories: 'core:next_action' → core, and the core's exports by name.
function group(corrected, calls, perRequests) {
  const out = { core: 0, platform: 0, client: 0, engine: 0, exports: {}, platformParts: {} };
  for (const [cat, us] of Object.entries(corrected)) {
    const v = us / perRequests;
    if (cat.startsWith('core:')) {
      out.core += v;
      out.exports[cat.slice(5)] = { us: v, calls: (calls[cat] || 0) / perRequests };
    } else if (cat.startsWith('platform')) {
      out.platform += v;
      out.platformParts[cat.replace(/^platform:/, '')] = v;
    } else if (cat === 'client') out.client += v;
    else if (cat === 'engine') out.engine += v;
  }
  return out;
}

function report({ line, jscScript, runJscScript, JSC_CLIENTS, LIBS, NAMES, jscDirOf, wasm }) {
  line('## Where the time goes on jsc without JIT (--verbose; instrumented copies, see tests/bench/phases.js)');
  const patched = {};
  const lazy = {};
  for (const name of ['wx-session', 'wx-session/js']) {
    const lib = LIBS[name];
    const source = fs.readFileSync(lib.files[lib.main], 'utf8');
    const copy = patchBundle(source);
    if (!copy) {
      line(`${name}: createInstance not found in the bundle: its core is not instrumented`);
      continue;
    }
    patched[lib.main] = copy;
    lazy[lib.main] = true;
  }
  const defineCopies = Object.entries(patched).map(([p, src]) => `__define(${JSON.stringify(p)}, function (module, exports, require) {\n${src}\n});\n`).join('');

  perRequestPhases({ line, jscScript, runJscScript, JSC_CLIENTS, NAMES, defineCopies, lazy });
  line();
  coldPhases({ line, jscScript, LIBS, lazy, jscDirOf, patched, wasm });
}

function perRequestPhases({ line, jscScript, runJscScript, JSC_CLIENTS, NAMES, defineCopies, lazy }) {
  const REPS = 9;
  const N = 100;
  // The clients are made over an instrumented fake; then, rep by rep with the clients in turn:
  // an uninstrumented batch and an instrumented one of the same size (medians over the reps).
  const clientsCode = JSC_CLIENTS
    .replace('schedule: function (fn) { __native.setTimeout(fn, 0); }', 'schedule: function (fn) { __schedule(fn); }')
    .replace('wx = benchClients.addSocketListeners(fake.wx);', 'wx = __instrumentWx(benchClients.addSocketListeners(fake.wx));');
  const main = `${PROFILER}
${defineCopies}
__P.on = false;
${clientsCode}
var results = {};
NAMES.forEach(function (name) { results[name] = []; });
started.then(function () {
  __calibrate();
  var chain = Promise.resolve();
  NAMES.forEach(function (name) {
    chain = chain.then(function () { return measure.repeat(300, clients[name].request); });
  });
  for (var rep = 0; rep < ${REPS}; rep++) {
    NAMES.slice(rep % NAMES.length).concat(NAMES.slice(0, rep % NAMES.length)).forEach(function (name) {
      var request = __wrap('client', clients[name].request);
      var bare;
      chain = chain.then(function () {
        __P.on = false;
        var t0 = __now();
        return measure.repeat(${N}, request).then(function () { bare = __now() - t0; });
      }).then(function () {
        __P.on = true;
        __reset();
        var t0 = __now();
        return measure.repeat(${N}, request).then(function () {
          var total = __now() - t0;
          __P.self.engine = (__P.self.engine || 0) + (__now() - __P.last);
          __P.on = false;
          results[name].push({ bare: bare / ${N}, instrumented: total / ${N}, corrected: __corrected(), calls: __P.calls });
        });
      });
    });
  }
  return chain;
}).then(function () {
  print('RESULT ' + JSON.stringify({ results: results, cIn: __P.cIn, cOut: __P.cOut }));
  quit();
}, __fail);
`;
  const { results, cIn, cOut } = runJscScript(jscScript(main, { lazy }), NO_JIT, 'phases-request.js');
  const med = (xs) => {
    const s = xs.slice().sort((a, b) => a - b);
    return s[s.length >> 1];
  };
  line(`### One request (µs of self time, medians of ${REPS} batches of ${N} per client; each wrapped call costs ${(cIn + cOut).toFixed(2)} µs, taken off)`);
  line('| client | uninstrumented | sum of phases | core (wasm / wasm2js) | client JS (glue) | platform fake | engine (event loop, Promise machinery) |');
  line('|---|---|---|---|---|---|---|');
  const details = [];
  for (const name of NAMES) {
    const reps = results[name].map((r) => group(r.corrected, r.calls, N));
    const m = (f) => med(reps.map(f));
    const bare = med(results[name].map((r) => r.bare));
    const sum = m((g) => g.core + g.platform + g.client + g.engine);
    line(`| ${name} | ${bare.toFixed(1)} | ${sum.toFixed(1)} | ${m((g) => g.core).toFixed(1)} | ${m((g) => g.client).toFixed(1)} | ${m((g) => g.platform).toFixed(1)} | ${m((g) => g.engine).toFixed(1)} |`);
    const exportNames = Object.keys(reps[0].exports);
    if (exportNames.length) {
      const parts = exportNames.map((n) => [n, m((g) => (g.exports[n] ? g.exports[n].us : 0)), reps[0].exports[n].calls])
        .sort((a, b) => b[1] - a[1]).map(([n, us, calls]) => `${n} ×${calls.toFixed(1)} ${us.toFixed(2)} µs`);
      const crossings = exportNames.reduce((sum2, n) => sum2 + reps[0].exports[n].calls, 0);
      details.push(`${name}: ${crossings.toFixed(1)} calls into the core per request: ${parts.join(', ')}`);
    }
    const platform = Object.keys(reps[0].platformParts).map((n) => [n, m((g) => g.platformParts[n] || 0)])
      .sort((a, b) => b[1] - a[1]).map(([n, us]) => `${n} ${us.toFixed(2)}`).join(', ');
    details.push(`${name}: platform fake: ${platform} µs`);
  }
  details.forEach((d) => line(d));
}

function coldPhases({ line, jscScript, LIBS, lazy, jscDirOf, patched, wasm }) {
  const { execFileSync } = require('child_process');
  const { JSC } = require('../engines/jsc');
  const samples = 7;
  line(`### Cold start (fresh shell per sample, medians of ${samples}; ms)`);
  const names = ['wx-session', 'wx-session/js', 'wafer2', 'hand-written'];
  const rows = [];
  for (const name of names) {
    const lib = LIBS[name];
    const file = path.join(jscDirOf(), `phases-cold-${name.replace(/\W/g, '-')}.lib.js`);
    fs.writeFileSync(file, Object.entries(lib.files).filter(([p]) => p.endsWith('.js'))
      .map(([p, f]) => `__define(${JSON.stringify(p)}, function (module, exports, require) {\n${patched[p] || fs.readFileSync(f, 'utf8')}\n});\n`).join(''));
    const main = `${PROFILER}
__P.on = false;
var benchClients = __load('bench/clients.js');
var fakes = __load('bench/wx.js');
benchClients.warmPlatform(fakes, benchClients.benchRespond);
var fake = fakes.createWx({ schedule: function (fn) { __schedule(fn); }, record: false, respond: benchClients.benchRespond });
wx = __instrumentWx(benchClients.addSocketListeners(fake.wx));
__calibrate();
var marks = {};
// The loader, step by step (WXWebAssembly takes a package path; jsc has no brotli).
WXWebAssembly = { instantiate: __wrap('loader', function (p, imports) {
  var t0 = __now();
  var bytes = __native.read(${JSON.stringify(wasm)}, 'binary');
  var t1 = __now();
  var module = new __native.WebAssembly.Module(bytes);
  var t2 = __now();
  var instance = new __native.WebAssembly.Instance(module, imports);
  var t3 = __now();
  marks.read = t1 - t0; marks.compile = t2 - t1; marks.instantiate = t3 - t2;
  return Promise.resolve({ instance: instance, module: module });
}) };
// One cold start; run twice: the second in the same shell finds the bytecode of the same source
// in the engine's cache (the wasm is compiled again), so the difference is what compiling the
// JS costs the first time.
function coldRun() {
  for (var k in __loaded) if (k.indexOf('bench/') !== 0) delete __loaded[k];
  fake = fakes.createWx({ schedule: function (fn) { __schedule(fn); }, record: false, respond: benchClients.benchRespond });
  wx = __instrumentWx(benchClients.addSocketListeners(fake.wx));
  marks = {};
  __reset();
  __P.on = true;
  var t0 = __now();
  __native.load(${JSON.stringify(file)});
  var lib = __load(${JSON.stringify(lib.main)});
  var t1 = __now();
  __P.self.engine = 0;
  __P.last = t1;
  var client = __wrap('client', function () {
    return benchClients.makeClient(${JSON.stringify(name)}, lib, { wasmPath: '/wx_session_bg.wasm', storageKey: 'token' });
  })();
  return __wrap('client', client.start)().then(function () {
    var t3 = __now();
    __P.self.engine = (__P.self.engine || 0) + (t3 - __P.last);
    __P.on = false;
    return { total: (t3 - t0) / 1000, load: (t1 - t0) / 1000, marks: marks, corrected: __corrected(), calls: __P.calls };
  });
}
coldRun().then(function (first) {
  return coldRun().then(function (second) {
    first.again = second;
    print('RESULT ' + JSON.stringify(first));
    quit();
  });
}, __fail);
`;
    const script = path.join(jscDirOf(), `phases-cold-${name.replace(/\W/g, '-')}.js`);
    fs.writeFileSync(script, jscScript(main, { lazy: Object.assign({}, lazy, Object.fromEntries(Object.keys(lib.files).map((p) => [p, true]))) }));
    const runs = [];
    for (let i = 0; i < samples; i++) {
      const output = execFileSync(JSC, [script], { encoding: 'utf8', timeout: 60000, env: { ...process.env, ...NO_JIT } });
      const result = output.split('\n').find((l) => l.startsWith('RESULT '));
      if (!result) throw new Error(`phases, cold start of ${name}:\n${output}`);
      runs.push(JSON.parse(result.slice(7)));
    }
    rows.push({ name, runs });
  }
  const med = (xs) => {
    const s = xs.slice().sort((a, b) => a - b);
    return s[s.length >> 1];
  };
  for (const { name, runs } of rows) {
    const ms = (f) => med(runs.map(f)).toFixed(2);
    const cat = (r, pred) => Object.entries(r.corrected).filter(([c]) => pred(c)).reduce((s, [, v]) => s + v, 0) / 1000;
    const parts = [
      `total ${ms((r) => r.total)}`,
      `loading the JS (parse + run) ${ms((r) => r.load)}`,
    ];
    if (runs[0].marks.compile !== undefined) {
      parts.push(`wasm read ${ms((r) => r.marks.read / 1000)}, compile ${ms((r) => r.marks.compile / 1000)}, instantiate ${ms((r) => r.marks.instantiate / 1000)}`);
    }
    const exportsOf = (r) => Object.entries(r.corrected).filter(([c]) => c.startsWith('core:'));
    if (exportsOf(runs[0]).length) {
      const names = [...new Set(runs.flatMap((r) => exportsOf(r).map(([c]) => c)))];
      const byExport = names.map((c) => [c.slice(5), med(runs.map((r) => (r.corrected[c] || 0) / 1000)), runs[0].calls[c] || 0])
        .sort((a, b) => b[1] - a[1]).map(([n, v, k]) => `${n} ×${k} ${v.toFixed(2)}`);
      parts.push(`in the core ${ms((r) => cat(r, (c) => c.startsWith('core:')))} (${byExport.join(', ')})`);
    }
    parts.push(`client JS after loading ${ms((r) => cat(r, (c) => c === 'client'))}`);
    parts.push(`platform fake ${ms((r) => cat(r, (c) => c.startsWith('platform')))}`);
    parts.push(`engine (event loop turns, Promise jobs) ${ms((r) => cat(r, (c) => c === 'engine'))}`);
    line(`${name}: ${parts.join('; ')}`);
    const again = [`total ${ms((r) => r.again.total)}`, `loading the JS ${ms((r) => r.again.load)}`, `client JS after loading ${ms((r) => cat(r.again, (c) => c === 'client'))}`];
    if (runs[0].again.marks.compile !== undefined) again.push(`wasm compile ${ms((r) => r.again.marks.compile / 1000)}`);
    if (exportsOf(runs[0]).length) again.push(`in the core ${ms((r) => cat(r.again, (c) => c.startsWith('core:')))}`);
    line(`  the same again in that shell (the engine has the JS's bytecode; the wasm is compiled again): ${again.join('; ')}; so compiling the JS the first time costs ${ms((r) => r.total - r.again.total)} (the difference)`);
  }
}

// jsc's own sampling profiler (--useSamplingProfiler), no instrumentation: wx-session's requests
// without JIT, the innermost frame of each sample counted by function. Wasm functions show by
// name only when the .wasm keeps its names (WX_SESSION_WASM=… a --profiling build).
function profile({ line, jscScript, runJscScript, JSC_CLIENTS }) {
  const client = process.env.WX_SESSION_PROFILE_CLIENT || 'wx-session';
  const N = 20000;
  const main = `${JSC_CLIENTS}
var elapsed = 0;
started.then(function () {
  return measure.repeat(500, clients[${JSON.stringify(client)}].request);
}).then(function () {
  startSamplingProfiler();
  elapsed = __now();
  return measure.repeat(${N}, clients[${JSON.stringify(client)}].request);
}).then(function () {
  elapsed = __now() - elapsed;
  var traces = samplingProfilerStackTraces().traces;
  var top = {};
  traces.forEach(function (t) {
    var f = t.frames[0];
    var key = f ? [f.category, f.name, f.line].join('|') : '(no frame)||';
    top[key] = (top[key] || 0) + 1;
  });
  print('RESULT ' + JSON.stringify({ samples: traces.length, elapsed: elapsed, top: top }));
  quit();
}, __fail);
`;
  const script = jscScript(main);
  // Which module of the script a line is in: the __define blocks, in order.
  const blocks = [];
  script.split('\n').forEach((text, i) => {
    const m = /^__define\("([^"]+)"/.exec(text);
    if (m) blocks.push({ name: m[1], from: i + 1 });
  });
  const mainLine = script.split('\n').length - main.split('\n').length;
  const moduleAt = (lineNo) => {
    let found = null;
    for (const b of blocks) if (b.from <= lineNo && lineNo < mainLine) found = b.name;
    return found;
  };
  const r = runJscScript(script, Object.assign({}, NO_JIT, { JSC_useSamplingProfiler: 'true', JSC_sampleInterval: '50' }), 'profile.js');
  const perRequest = r.elapsed / N; // µs
  const usOf = (n) => (n / r.samples) * perRequest;
  const groups = {};
  const functions = {};
  for (const [key, n] of Object.entries(r.top)) {
    const [category, name, lineNo] = key.split('|');
    const module = moduleAt(Number(lineNo));
    let group;
    if (category === 'IPInt' || category === 'Wasm') group = 'core (wasm, interpreted)';
    else if (module === 'bench/wx.js') group = 'platform fake';
    else if (module && module.startsWith('wx-session')) group = 'client JS (glue)';
    else if (module && module.startsWith('bench/')) group = 'bench loop';
    else group = 'engine and natives (Promise jobs, timers, typed arrays, Map)';
    groups[group] = (groups[group] || 0) + n;
    const label = group.startsWith('core') || group.startsWith('client') ? `${group.split(' ')[0]} ${name.replace(/^wx_session\.wasm\.wasm-function\[(.*)\]$/, '$1').slice(0, 90)}` : `${group}: ${name || '(anonymous)'}`;
    functions[label] = (functions[label] || 0) + n;
  }
  line(`### jsc's sampling profiler, ${client}, ${N.toLocaleString('en-US')} requests without JIT: ${r.samples} samples, ${perRequest.toFixed(1)} µs per request (profiler on)`);
  line('self time by part (µs per request):');
  Object.entries(groups).sort((a, b) => b[1] - a[1]).forEach(([g, n]) => line(`  ${usOf(n).toFixed(2).padStart(6)}  ${(100 * n / r.samples).toFixed(1).padStart(5)}%  ${g}`));
  line('functions by self time (µs per request; wasm names only with a build that keeps them):');
  Object.entries(functions).sort((a, b) => b[1] - a[1]).slice(0, 45).forEach(([f, n]) => line(`  ${usOf(n).toFixed(2).padStart(6)}  ${f}`));
}

module.exports = { report, profile, patchBundle };
