// The built SDK on JavaScriptCore (the `jsc` shell, iOS's engine family) and with an old-iOS
// Promise whose callbacks are timer tasks, in the same strict environment as the sandbox.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');
const { bundleForJsc } = require('../engines/jsc-bundle');
const { createRuntime } = require('../sandbox/runtime');

const ROOT = path.join(__dirname, '..', '..');
const DIST = path.join(ROOT, 'js-glue', 'dist');
const ENGINES = path.join(ROOT, 'tests', 'engines');
const FAKE_WX = path.join(ROOT, 'tests', 'fakes', 'wx.js');

function findJsc() {
  for (const candidate of ['/usr/bin/jsc', '/usr/local/bin/jsc']) if (fs.existsSync(candidate)) return candidate;
  return null;
}
const JSC = findJsc();
const JSC_MISSING = 'SKIPPED: no `jsc` shell (Debian package libjavascriptcoregtk-4.0-bin); scripts/test.sh installs it';
if (!JSC) {
  process.stderr.write(`\n!!!!!!!!!! ${JSC_MISSING} !!!!!!!!!!\n\n`);
  // In CI the engine is required: a skipped iOS-engine run must not pass silently.
  if (process.env.CI) test('JavaScriptCore is installed (required in CI)', () => assert.fail(JSC_MISSING));
}

function runInJsc({ timerPromise }) {
  const script = bundleForJsc({
    files: {
      sdk: path.join(DIST, 'index.js'),
      '../fakes/wx': FAKE_WX,
      'timer-promise': path.join(ENGINES, 'timer-promise.js'),
      scenarios: path.join(ENGINES, 'scenarios.js'),
    },
    packageFiles: { '/wx_session_bg.wasm': path.join(DIST, '..', 'wasm', 'wx_session_bg.wasm') },
    timerPromise,
    main: `
      var environment = {
        WebAssembly: typeof WebAssembly, TextEncoder: typeof TextEncoder, TextDecoder: typeof TextDecoder,
        queueMicrotask: typeof queueMicrotask, fetch: typeof fetch, globalThis: typeof globalThis,
        WXWebAssembly: typeof WXWebAssembly, timerPromise: Promise.name === 'TimerPromise',
      };
      var sdk = __require('sdk');
      __require('scenarios').run(sdk.createSession, '/wx_session_bg.wasm').then(function (results) {
        var created = environment.timerPromise ? Promise.created : 0;
        print('RESULT ' + JSON.stringify({ environment: environment, results: results, timerPromisesCreated: created }));
        quit(); // the SDK's watchdog timer would keep the shell up for nothing
      });
    `,
  });
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'wx-session-jsc-')), 'run.js');
  fs.writeFileSync(file, script);
  const output = execFileSync(JSC, [file], { encoding: 'utf8', timeout: 60_000 });
  const line = output.split('\n').find((l) => l.startsWith('RESULT '));
  assert.ok(line, `jsc printed no result:\n${output}`);
  return JSON.parse(line.slice('RESULT '.length));
}

function assertFlows(results) {
  assert.equal(results.length, 6, JSON.stringify(results));
  for (const r of results) assert.ok(r.ok, `${r.name}: ${r.detail}`);
}

test('JavaScriptCore: the strict environment, and every demo flow completes', { skip: JSC ? false : JSC_MISSING }, () => {
  const { environment, results } = runInJsc({ timerPromise: false });
  assert.deepEqual(environment, {
    WebAssembly: 'undefined', TextEncoder: 'undefined', TextDecoder: 'undefined', queueMicrotask: 'undefined',
    fetch: 'undefined', globalThis: 'undefined', WXWebAssembly: 'object', timerPromise: false,
  });
  assertFlows(results);
});

test('JavaScriptCore with an old-iOS timer-task Promise: every flow completes', { skip: JSC ? false : JSC_MISSING }, () => {
  const { environment, results, timerPromisesCreated } = runInJsc({ timerPromise: true });
  assert.equal(environment.timerPromise, true);
  assert.ok(timerPromisesCreated > 100, `the SDK ran on the polyfill (${timerPromisesCreated} promises)`);
  assertFlows(results);
});

test('V8 sandbox with an old-iOS timer-task Promise: every flow completes', async () => {
  // A package holding the SDK and the engine-neutral test files.
  const pkg = fs.mkdtempSync(path.join(os.tmpdir(), 'wx-session-promise-'));
  for (const f of fs.readdirSync(DIST)) fs.copyFileSync(path.join(DIST, f), path.join(pkg, f));
  fs.copyFileSync(path.join(DIST, '..', 'wasm', 'wx_session_bg.wasm'), path.join(pkg, 'wx_session_bg.wasm'));
  // The scenarios require '../fakes/wx': the same layout inside the package.
  fs.mkdirSync(path.join(pkg, 'engines'));
  fs.mkdirSync(path.join(pkg, 'fakes'));
  fs.copyFileSync(path.join(ENGINES, 'scenarios.js'), path.join(pkg, 'engines', 'scenarios.js'));
  fs.copyFileSync(FAKE_WX, path.join(pkg, 'fakes', 'wx.js'));
  const { TimerPromise } = require('../engines/timer-promise');
  const runtime = createRuntime({ packageRoot: pkg, devServer: 'http://127.0.0.1:9', promise: TimerPromise });
  assert.equal(runtime.run('Promise.name'), 'TimerPromise');
  const before = TimerPromise.created;
  const { createSession } = runtime.requireModule('index.js');
  const results = await runtime.requireModule('engines/scenarios.js').run(createSession, '/wx_session_bg.wasm');
  assertFlows(results);
  assert.ok(TimerPromise.created - before > 100, `the SDK ran on the polyfill (${TimerPromise.created - before} promises)`);
});
