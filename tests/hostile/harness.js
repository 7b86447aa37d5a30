// Harness for tests/js/hostile.test.js and the other suites run on both builds: the built SDK
// (js-glue/dist, or dist-js) in the strict sandbox over the shared fake wx (tests/fakes/wx.js),
// the core's memory in sight, and bounded waits (a hang is a result, not a stuck test).
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { createRuntime } = require('../sandbox/runtime');
const { createWx } = require('../fakes/wx');

const ROOT = path.join(__dirname, '..', '..');
// The builds the suites run: the wasm one (dist/) and the JavaScript one (dist-js/, run with no
// WXWebAssembly at all). WX_SESSION_DIST points the wasm suites at another build (to see a new
// test fail on an older release: WX_SESSION_DIST=/path/to/old/dist).
const DIST = process.env.WX_SESSION_DIST || path.join(ROOT, 'js-glue', 'dist');
const DIST_JS = path.join(ROOT, 'js-glue', 'dist-js');
const BUILDS = [{ name: 'wasm build', dist: DIST, js: false }, { name: 'JavaScript build', dist: DIST_JS, js: true }];
const PLAIN_WASM = path.join(ROOT, 'js-glue', 'wasm', 'wx_session_bg.wasm');
const WASM = '/wx_session_bg.wasm.br';
const PAGE = 65536;

const isLogin = (o) => /\/login(\?|$)/.test(o.url);

// The SDK in a fresh sandbox over a fake wx: the built-in backend unless `respond` answers (see
// tests/fakes/wx.js), answers 2 ms later unless `schedule` says otherwise, storage handed back as
// planted (a test may put a Proxy or a cycle there). `record: false` for long runs.
// The SDK's own timers are unref'd: a watchdog left behind by a hostile case never keeps the test
// process up (every wait in the tests is bounded by `outcome`'s own timer instead).
// `build`: one of BUILDS (default the wasm build); the JavaScript build's sandbox has no
// WXWebAssembly, and its sessions no wasmPath.
function sdk({ respond, schedule = 2, record, build = BUILDS[0], packageRoot = build.dist } = {}) {
  const fake = createWx({ respond, schedule, record, rawStorage: true });
  const runtime = createRuntime({ packageRoot, devServer: 'http://127.0.0.1:9', wx: () => fake.wx, log: () => {}, wasmLoader: build.js ? false : undefined });
  const sandboxSetTimeout = runtime.context.setTimeout;
  runtime.context.setTimeout = (fn, ms, ...args) => {
    const id = sandboxSetTimeout(fn, ms, ...args);
    if (id && typeof id.unref === 'function') id.unref();
    return id;
  };
  // The memory of each core instance, as it is made: a wasm instance's from WXWebAssembly; the
  // JavaScript core's is the `memory` export wasm2js builds, Object.create(…, { grow, buffer }).
  const memories = [];
  if (build.js) {
    const SandboxObject = runtime.run('Object');
    const create = SandboxObject.create;
    SandboxObject.create = function (prototype, properties) {
      const made = create.apply(this, arguments);
      if (properties && 'grow' in properties && 'buffer' in properties) memories.push({ memory: made });
      return made;
    };
  } else {
    const instantiate = runtime.context.WXWebAssembly.instantiate;
    runtime.context.WXWebAssembly.instantiate = (p, imports) => instantiate(p, imports).then((r) => {
      memories.push({ path: p, memory: (r.instance || r).exports.memory });
      return r;
    });
  }
  const mod = runtime.requireModule('index.js');
  const create = (config = {}) => mod.createSession({ baseUrl: 'https://api.test', ...wasmPathOf(build), useCheckSession: false, ...config });
  // Memory of the first core instance, in 64 KiB pages (wasm2js's memory grows by pages too).
  const pages = () => memories[0].memory.buffer.byteLength / PAGE;
  return { runtime, mod, create, memories, pages, fake, wx: fake.wx, storage: fake.storage, counts: fake.counts, requests: fake.requests };
}

// How `promise` settled within `ms`: { ok, value } | { ok: false, error, code } | { hang: true }.
function outcome(promise, ms = 5000) {
  let timer;
  const bound = new Promise((resolve) => { timer = setTimeout(() => resolve({ hang: true }), ms); });
  const settled = Promise.resolve(promise).then(
    (value) => ({ ok: true, value }),
    (error) => ({ ok: false, error, code: error && error.code }),
  );
  return Promise.race([settled, bound]).finally(() => clearTimeout(timer));
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// The config that finds `build`'s core: the wasm build's file in the package; nothing for the
// JavaScript build, as its apps give.
const wasmPathOf = (build) => (build.js ? {} : { wasmPath: WASM });

// A package folder holding the built SDK (`build`: one of BUILDS; the wasm build's comes with the
// plain .wasm too), and `extra` {packagePath: diskPath}.
function makePackage(extra = {}, build = BUILDS[0]) {
  const pkg = fs.mkdtempSync(path.join(os.tmpdir(), 'wx-session-hostile-'));
  for (const f of fs.readdirSync(build.dist)) fs.copyFileSync(path.join(build.dist, f), path.join(pkg, f));
  if (!build.js) fs.copyFileSync(PLAIN_WASM, path.join(pkg, 'wx_session_bg.wasm'));
  for (const [to, from] of Object.entries(extra)) {
    fs.mkdirSync(path.dirname(path.join(pkg, to)), { recursive: true });
    fs.copyFileSync(from, path.join(pkg, to));
  }
  return pkg;
}

// `build`'s SDK in the strict sandbox (`options` go to createRuntime) beside the engine-neutral
// scenarios in `file` (tests/engines/…; they require '../fakes/wx', so the fake is there too)
// and `extra` {packagePath: diskPath}: the runs of those scenarios on V8.
// → { runtime, sdk (the SDK's exports), scenarios (the file's exports) }
function scenariosInSandbox(build, file, options = {}, extra = {}) {
  const name = `engines/${path.basename(file)}`;
  const pkg = makePackage({ [name]: file, 'fakes/wx.js': path.join(ROOT, 'tests', 'fakes', 'wx.js'), ...extra }, build);
  const runtime = createRuntime({ packageRoot: pkg, devServer: 'http://127.0.0.1:9', log: () => {}, wasmLoader: build.js ? false : undefined, ...options });
  return { runtime, sdk: runtime.requireModule('index.js'), scenarios: runtime.requireModule(name) };
}

// The shipped module with `http_answered` trapping: the first HTTP answer kills the instance. The
// trap is real (the export swapped for `unreachable`), for the tests of what a trap leaves.
async function trappingWasm() {
  const { loadBinaryen } = require('../../js-glue/build');
  const binaryen = await loadBinaryen();
  const module = binaryen.readBinary(fs.readFileSync(PLAIN_WASM));
  module.removeExport('http_answered');
  const { i32, f64, none } = binaryen;
  module.addFunction('trap', binaryen.createType([i32, f64, i32, i32]), none, [], module.unreachable());
  module.addFunctionExport('trap', 'http_answered');
  const bytes = module.emitBinary();
  module.dispose();
  return bytes;
}

// Values built to break whatever reads them: too deep, cyclic, sparse, huge (made fresh each time).
function deep(levels) {
  let value = 'leaf';
  for (let i = 0; i < levels; i++) value = { a: value };
  return value;
}
const HOSTILE_VALUES = {
  'deep (3,500 levels)': () => deep(3500),
  cyclic: () => { const o = { a: 1 }; o.self = o; return o; },
  'sparse (length 2^32-1)': () => { const a = []; a.length = 2 ** 32 - 1; return a; },
  'huge (20M chars)': () => 'x'.repeat(20e6),
};

module.exports = {
  DIST, DIST_JS, BUILDS, WASM, PLAIN_WASM, trappingWasm, isLogin, sdk, wasmPathOf, outcome, sleep, makePackage, scenariosInSandbox, deep, HOSTILE_VALUES,
};
