// Issue 18 from outside, against the built SDK: access + refresh token pairs (无感刷新: one shared
// refresh, rotation, proactive refresh, relaunch, the stale-answer guard, no leak of the refresh
// token), the beforeRequest hook (a signing hook on every send, retries included; one that
// throws, rejects or never settles), business-code failures (api.failWhen → API_ERROR) and a
// login the user must act on (authRequiredWhen + onAuthRequired). The scenarios
// (tests/engines/refresh-and-hooks-scenarios.js, plain ES5) run for both builds on V8 in the
// strict sandbox and on JavaScriptCore with and without JIT, against the fake backend's pairs
// (tests/fakes/wx.js).
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');
const { BUILDS, wasmPathOf, scenariosInSandbox } = require('../hostile/harness');
const { ON_JSC, NO_JIT, runSdkOnJsc } = require('../engines/jsc');

const SCENARIOS = path.join(__dirname, '..', 'engines', 'refresh-and-hooks-scenarios.js');
const COUNT = 45; // every scenario reported: a missing one is a failure too

// One subtest per scenario result.
async function report(t, results) {
  assert.equal(results.length, COUNT, JSON.stringify(results.map((r) => r.name)));
  for (const r of results) {
    await t.test(r.name, () => assert.ok(r.ok, r.detail));
  }
}

for (const build of BUILDS) {
  test(`${build.name} on V8 (strict sandbox)`, async (t) => {
    const { sdk, scenarios } = scenariosInSandbox(build, SCENARIOS);
    await report(t, await scenarios.run(sdk, wasmPathOf(build).wasmPath));
  });

  for (const [engine, env] of [['JavaScriptCore', {}], ['JavaScriptCore without JIT (as on iPhone)', NO_JIT]]) {
    test(`${build.name} on ${engine}`, ON_JSC, async (t) => {
      const results = runSdkOnJsc(build, {
        files: { scenarios: SCENARIOS },
        main: `
          __require('scenarios').run(__require('sdk'), WASM_PATH).then(function (results) {
            print('RESULT ' + JSON.stringify(results));
            quit();
          }, function (e) { print('RESULT ' + JSON.stringify([{ name: 'the scenarios ran', ok: false, detail: String(e) }])); quit(); });
        `,
      }, { env, timeout: 600000 });
      await report(t, results);
    });
  }
}
