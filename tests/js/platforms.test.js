// The SDK on Douyin, Alipay, QQ, Baidu and Kuaishou (issue 17), end to end over fakes written
// from each platform's documentation (tests/fakes/wx.js; the facts and their sources in
// tests/fakes/PLATFORMS.md): the flows of tests/engines/platform-scenarios.js in the strict
// sandbox (V8) and on JavaScriptCore, each platform in the environment it really has —
//   Douyin: the wasm build, loaded by TTWebAssembly (a package path only), no wx, no WXWebAssembly;
//   Alipay, QQ, Baidu, Kuaishou: the JavaScript build, no wasm loader at all, no wx.
// Every platform global the SDK sees is the one the scenario defines (`tt`, `my`, …) or none.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');
const { BUILDS, PLAIN_WASM, makePackage } = require('../hostile/harness');
const { createRuntime } = require('../sandbox/runtime');
const { JSC, JSC_MISSING, NO_JIT, runJsc } = require('../engines/jsc');
const fakes = require('../fakes/wx');

const ROOT = path.join(__dirname, '..', '..');
const SCENARIOS = path.join(ROOT, 'tests', 'engines', 'platform-scenarios.js');
const FAKE_WX = path.join(ROOT, 'tests', 'fakes', 'wx.js');
const [WASM_BUILD, JS_BUILD] = BUILDS;

// Each platform: its build, its wasm loader, and the package path the wasm build loads.
const PLATFORMS = [
  { name: 'douyin', build: WASM_BUILD, loader: 'TTWebAssembly', wasm: '/wx_session_bg.wasm.br', jscWasm: '/wx_session_bg.wasm' },
  { name: 'alipay', build: JS_BUILD, loader: false },
  { name: 'qq', build: JS_BUILD, loader: false },
  { name: 'baidu', build: JS_BUILD, loader: false },
  { name: 'kuaishou', build: JS_BUILD, loader: false },
];
// The two platforms the issue is judged on run on JavaScriptCore without JIT too (as on iPhone).
const NO_JIT_TOO = ['douyin', 'alipay'];

// The strict sandbox as `platform` has it: its global only (none until a scenario defines one),
// its wasm loader or none; the SDK's timers unref'd so a watchdog never keeps the test up.
function sandbox(platform, extra = {}) {
  const pkg = makePackage(extra, platform.build);
  const runtime = createRuntime({ packageRoot: pkg, devServer: 'http://127.0.0.1:9', log: () => {}, globals: {}, wasmLoader: platform.loader });
  const sandboxSetTimeout = runtime.context.setTimeout;
  runtime.context.setTimeout = (fn, ms, ...args) => {
    const id = sandboxSetTimeout(fn, ms, ...args);
    if (id && typeof id.unref === 'function') id.unref();
    return id;
  };
  const setGlobal = (name, value) => {
    if (value === undefined) delete runtime.context[name];
    else runtime.context[name] = value;
  };
  return { pkg, runtime, setGlobal };
}

// One subtest per scenario result.
async function report(t, results) {
  assert.ok(Array.isArray(results) && results.length >= 15, JSON.stringify(results));
  for (const r of results) {
    await t.test(r.name, () => assert.ok(r.ok, r.detail));
  }
}

test('the strict sandbox as each platform has it: no wx; Douyin loads wasm only through TTWebAssembly (a package path), the others have no loader', async () => {
  for (const platform of PLATFORMS) {
    const { runtime, setGlobal } = sandbox(platform);
    const seen = runtime.run('({ wx: typeof wx, tt: typeof tt, my: typeof my, WXWebAssembly: typeof WXWebAssembly, TTWebAssembly: typeof TTWebAssembly, WebAssembly: typeof WebAssembly, globalThis: typeof globalThis })');
    assert.deepEqual({ ...seen }, {
      wx: 'undefined', tt: 'undefined', my: 'undefined', WXWebAssembly: 'undefined', WebAssembly: 'undefined', globalThis: 'undefined',
      TTWebAssembly: platform.loader === 'TTWebAssembly' ? 'object' : 'undefined',
    }, platform.name);
    const fake = fakes.createPlatform(platform.name);
    setGlobal(fake.global, fake.api);
    assert.equal(runtime.run(`typeof ${fake.global}.request`), 'function', `${platform.name}: ${fake.global} defined`);
    setGlobal(fake.global, undefined);
    assert.equal(runtime.run(`typeof ${fake.global}`), 'undefined', `${platform.name}: ${fake.global} removed`);
  }
  const { runtime } = sandbox(PLATFORMS[0]);
  const TT = runtime.context.TTWebAssembly;
  await assert.rejects(TT.instantiate(new Uint8Array(8), {}), /TTWebAssembly\.instantiate: only a package path/);
  await assert.rejects(TT.instantiate('/missing.wasm', {}), /TTWebAssembly\.instantiate: no such file in the package/);
  const loaded = await TT.instantiate('/wx_session_bg.wasm.br', {});
  assert.ok(loaded.module && loaded.instance && loaded.instance.exports.memory, 'resolves { module, instance }, as Douyin documents');
});

for (const platform of PLATFORMS) {
  const buildName = platform.build.js ? 'the JavaScript build, no wasm loader' : `the wasm build through ${platform.loader}`;

  test(`${platform.name}: ${buildName}, on V8 (strict sandbox)`, async (t) => {
    const { runtime, setGlobal } = sandbox(platform, { 'engines/platform-scenarios.js': SCENARIOS, 'fakes/wx.js': FAKE_WX });
    const sdkModule = runtime.requireModule('index.js');
    const scenarios = runtime.requireModule('engines/platform-scenarios.js');
    // The sandbox's timers are unref'd: this one keeps Node up while the scenarios run.
    const keepAlive = setInterval(() => {}, 1000);
    try {
      await report(t, await scenarios.run(sdkModule, { platform: platform.name, wasmPath: platform.wasm, setGlobal }));
    } finally {
      clearInterval(keepAlive);
    }
  });

  const engines = [['JavaScriptCore', {}]];
  if (NO_JIT_TOO.includes(platform.name)) engines.push(['JavaScriptCore without JIT (as on iPhone)', NO_JIT]);
  for (const [engine, env] of engines) {
    test(`${platform.name}: ${buildName}, on ${engine}`, { skip: JSC ? false : JSC_MISSING }, async (t) => {
      const options = { platform: platform.name, wasmPath: platform.jscWasm };
      const results = runJsc({
        files: { sdk: path.join(platform.build.dist, 'index.js'), '../fakes/wx': FAKE_WX, scenarios: SCENARIOS },
        packageFiles: platform.build.js ? {} : { [platform.jscWasm]: PLAIN_WASM },
        wasmLoader: platform.loader || 'WXWebAssembly',
        noWebAssemblyLoader: !platform.loader,
        main: `
          var options = ${JSON.stringify(options)};
          options.setGlobal = function (name, value) { if (value === undefined) delete __root[name]; else __root[name] = value; };
          __require('scenarios').run(__require('sdk'), options).then(function (results) {
            print('RESULT ' + JSON.stringify(results));
            quit();
          }, function (e) { print('RESULT ' + JSON.stringify([{ name: 'the scenarios ran', ok: false, detail: String(e) }])); quit(); });
        `,
      }, { env, timeout: 300000 });
      await report(t, results);
    });
  }
}
