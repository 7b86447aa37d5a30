// Paths that hung, killed the instance, leaked or broke the contract in 0.2.0, each reproduced
// against the built SDK: re-entrancy (app code called from inside the SDK calling back into it,
// across sessions), platforms that answer synchronously, clocks that jump, numbers at the edges
// (tests/engines/failure-scenarios.js, on V8 in the strict sandbox and on JavaScriptCore with and
// without JIT, for both builds), and what only Node can watch: a wasm load that never ends,
// unhandled rejections, garbage collection. Each case is bounded: a hang is a result, not a stuck
// test. (WX_SESSION_DIST=<an older dist> shows them failing there.)
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');
const { execFileSync } = require('child_process');
const { BUILDS, sdk, wasmPathOf, outcome, sleep, scenariosInSandbox } = require('../hostile/harness');
const { ON_JSC, NO_JIT, runSdkOnJsc } = require('../engines/jsc');

const SCENARIOS = path.join(__dirname, '..', 'engines', 'failure-scenarios.js');

const show = (r) => (r.hang ? 'hung' : r.ok ? 'resolved' : `rejected ${r.code}: ${String(r.error && r.error.message).slice(0, 200)}`);

// Runs `time` ms-bounded `promise` and says how long it took to settle.
async function timed(promise, ms) {
  const started = Date.now();
  const r = await outcome(promise, ms);
  return { ...r, elapsed: Date.now() - started };
}

// One subtest per scenario result.
async function report(t, results) {
  assert.ok(results.length >= 10, JSON.stringify(results));
  for (const r of results) {
    await t.test(r.name, { skip: r.skipped || false }, () => assert.ok(r.ok, r.detail));
  }
}

for (const build of BUILDS) {
  test(`${build.name} on V8 (strict sandbox)`, async (t) => {
    const { sdk: sdkModule, scenarios } = scenariosInSandbox(build, SCENARIOS);
    await report(t, await scenarios.run(sdkModule, wasmPathOf(build).wasmPath));
  });

  for (const [engine, env] of [['JavaScriptCore', {}], ['JavaScriptCore without JIT (as on iPhone)', NO_JIT]]) {
    test(`${build.name} on ${engine}`, ON_JSC, async (t) => {
      const results = runSdkOnJsc(build, {
        files: { failures: SCENARIOS },
        main: `
          __require('failures').run(__require('sdk'), WASM_PATH).then(function (results) {
            print('RESULT ' + JSON.stringify(results));
            quit();
          }, function (e) { print('RESULT ' + JSON.stringify([{ name: 'the scenarios ran', ok: false, detail: String(e) }])); quit(); });
        `,
      }, { env, timeout: 300000 });
      await report(t, results);
    });
  }

  test(`${build.name}: login.extra() resolving to a revoked Proxy leaves no unhandled rejection`, async () => {
    const unhandled = [];
    const onUnhandled = (reason) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const t = sdk({ build });
      const s = t.create({
        timeoutMs: 5000,
        login: {
          extra: () => {
            // `then` is read once, as the SDK's Promise resolves with the Proxy: it revokes
            // itself then, so what the Promise resolves to is a revoked Proxy.
            const { proxy, revoke } = Proxy.revocable({}, { get: (target, key) => (key === 'then' ? (revoke(), undefined) : undefined) });
            return proxy;
          },
        },
      });
      const r = await timed(s.ensure(), 8000);
      assert.equal(r.code, 'LOGIN_EXTRA_FAILED', show(r));
      await sleep(20);
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
}

// Only the wasm build loads a file, so only it can wait for one forever.
test('wasm build: a WXWebAssembly.instantiate that never settles fails the calls with WASM_LOAD after timeoutMs, and the next load can succeed', async () => {
  const t = sdk();
  const instantiate = t.runtime.context.WXWebAssembly.instantiate;
  t.runtime.context.WXWebAssembly.instantiate = () => new Promise(() => {});
  const r = await timed(t.create({ timeoutMs: 300 }).ensure(), 5000);
  assert.equal(r.code, 'WASM_LOAD', show(r));
  assert.match(r.error.message, /did not finish within 300 ms/);
  assert.ok(r.elapsed < 2000, `failed after ${r.elapsed} ms`);
  t.runtime.context.WXWebAssembly.instantiate = instantiate;
  const later = await outcome(t.create().ensure());
  assert.ok(later.ok, show(later));
});

test('3,000 dropped sessions whose onChange listener holds a page holding the session are freed (wasm memory flat)', () => {
  const output = execFileSync(process.execPath, ['--expose-gc', path.join(__dirname, '..', 'hostile', 'dropped-sessions.js'), '--listeners', '3000'], { encoding: 'utf8', timeout: 180000 });
  const result = JSON.parse(output.trim().split('\n').pop());
  assert.equal(result.mode, 'finalization', 'this Node has FinalizationRegistry');
  assert.equal(result.alive, 200, 'a new session works afterwards');
  assert.ok(result.after <= result.before + 2, `wasm memory ${result.before} → ${result.after} pages`);
});
