// The built SDK on JavaScriptCore (the `jsc` shell, iOS's engine family) and with an old-iOS
// Promise whose callbacks are timer tasks, in the same strict environment as the sandbox: the
// demo's flows (tests/engines/scenarios.js), for the wasm build and for the JavaScript build
// (which runs with no WXWebAssembly at all).
'use strict';

const { describe, test } = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');
const { BUILDS, wasmPathOf, scenariosInSandbox } = require('../hostile/harness');
const { ON_JSC, runSdkOnJsc } = require('../engines/jsc');

const ENGINES = path.join(__dirname, '..', 'engines');
const SCENARIOS = path.join(ENGINES, 'scenarios.js');

function assertFlows(results) {
  assert.equal(results.length, 6, JSON.stringify(results));
  for (const r of results) assert.ok(r.ok, `${r.name}: ${r.detail}`);
}

function suite(build) {
  function runInJsc({ timerPromise }) {
    return runSdkOnJsc(build, {
      files: { 'timer-promise': path.join(ENGINES, 'timer-promise.js'), scenarios: SCENARIOS },
      timerPromise,
      main: `
        var environment = {
          WebAssembly: typeof WebAssembly, TextEncoder: typeof TextEncoder, TextDecoder: typeof TextDecoder,
          queueMicrotask: typeof queueMicrotask, fetch: typeof fetch, globalThis: typeof globalThis,
          WXWebAssembly: typeof WXWebAssembly, timerPromise: Promise.name === 'TimerPromise',
        };
        var sdk = __require('sdk');
        __require('scenarios').run(sdk.createSession, WASM_PATH).then(function (results) {
          var created = environment.timerPromise ? Promise.created : 0;
          print('RESULT ' + JSON.stringify({ environment: environment, results: results, timerPromisesCreated: created }));
          quit(); // the SDK's watchdog timer would keep the shell up for nothing
        });
      `,
    }, { timeout: 60_000 });
  }

  test('JavaScriptCore: the strict environment, and every demo flow completes', ON_JSC, () => {
    const { environment, results } = runInJsc({ timerPromise: false });
    assert.deepEqual(environment, {
      WebAssembly: 'undefined', TextEncoder: 'undefined', TextDecoder: 'undefined', queueMicrotask: 'undefined',
      fetch: 'undefined', globalThis: 'undefined', WXWebAssembly: build.js ? 'undefined' : 'object', timerPromise: false,
    });
    assertFlows(results);
  });

  test('JavaScriptCore with an old-iOS timer-task Promise: every flow completes', ON_JSC, () => {
    const { environment, results, timerPromisesCreated } = runInJsc({ timerPromise: true });
    assert.equal(environment.timerPromise, true);
    assert.ok(timerPromisesCreated > 100, `the SDK ran on the polyfill (${timerPromisesCreated} promises)`);
    assertFlows(results);
  });

  test('V8 sandbox with an old-iOS timer-task Promise: every flow completes', async () => {
    const { TimerPromise } = require('../engines/timer-promise');
    const before = TimerPromise.created;
    const { runtime, sdk, scenarios } = scenariosInSandbox(build, SCENARIOS, { promise: TimerPromise });
    assert.equal(runtime.run('Promise.name'), 'TimerPromise');
    assert.equal(runtime.run('typeof WXWebAssembly'), build.js ? 'undefined' : 'object');
    const results = await scenarios.run(sdk.createSession, wasmPathOf(build).wasmPath);
    assertFlows(results);
    assert.ok(TimerPromise.created - before > 100, `the SDK ran on the polyfill (${TimerPromise.created - before} promises)`);
  });
}

for (const build of BUILDS) describe(build.name, () => suite(build));
