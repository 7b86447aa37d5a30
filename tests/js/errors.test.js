// Every error code, made by the app and rejected by a failing call, is a native Error as a
// console, DevTools or an error monitor sees it: Object.prototype.toString gives [object Error],
// util.types.isNativeError holds (V8), `instanceof Error` and `instanceof WxSessionError` hold, and
// it has its name, code, message and a stack. On V8 (the strict sandbox) and on JavaScriptCore,
// for the wasm build and the JavaScript build.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const util = require('util');
const { BUILDS, trappingWasm, scenariosInSandbox } = require('../hostile/harness');
const { ON_JSC, runSdkOnJsc } = require('../engines/jsc');
const { CODES } = require('../engines/error-scenarios');

const SCENARIOS = path.join(__dirname, '..', 'engines', 'error-scenarios.js');
const WASM = '/wx_session_bg.wasm';
const TRAP = '/trap/wx_session_bg.wasm';

let trapFile = null;
async function trapWasmFile() {
  if (!trapFile) {
    trapFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'wx-session-trap-')), 'trap.wasm');
    fs.writeFileSync(trapFile, await trappingWasm());
  }
  return trapFile;
}

// The package paths the scenarios get: the wasm build loads a core, and one that traps.
const pathsFor = (build) => (build.js ? {} : { wasm: WASM, trap: TRAP });

// Checks one scenario result (`native`: whether the engine's own test of the internal class ran).
function checkResult(r, { stackHasHeader }) {
  const label = `${r.code} ${r.how}`;
  assert.equal(r.got, r.code, `${label}: got ${r.got} (${r.message})`);
  assert.equal(r.tag, '[object Error]', `${label}: Object.prototype.toString`);
  assert.equal(r.isError, true, `${label}: instanceof Error`);
  assert.equal(r.isWxSessionError, true, `${label}: instanceof WxSessionError`);
  assert.equal(r.name, 'WxSessionError', label);
  assert.ok(typeof r.message === 'string' && r.message.length > 0, `${label}: a message`);
  assert.ok(r.stack && r.stack !== 'undefined', `${label}: a stack`);
  if (stackHasHeader) assert.ok(r.stack.startsWith(`WxSessionError: ${r.message}`), `${label}: stack ${r.stack.slice(0, 120)}`);
}

// Every code was made, and rejected where the build can reach it.
function checkCoverage(results, build) {
  const rejected = new Set(results.filter((r) => r.how === 'rejected').map((r) => r.code));
  const made = new Set(results.filter((r) => r.how === 'made').map((r) => r.code));
  assert.deepEqual([...made].sort(), [...CODES].sort());
  const unreachable = build.js ? ['INTERNAL', 'WASM_LOAD'] : [];
  assert.deepEqual([...rejected].sort(), CODES.filter((c) => !unreachable.includes(c)).sort());
}

for (const build of BUILDS) {
  test(`${build.name} on V8: every code, made and rejected, is a native Error`, async () => {
    const extra = build.js ? {} : { 'trap/wx_session_bg.wasm': await trapWasmFile() };
    const { sdk, scenarios } = scenariosInSandbox(build, SCENARIOS, {}, extra);
    const results = await scenarios.run(sdk, pathsFor(build));
    checkCoverage(results, build);
    for (const r of results) {
      checkResult(r, { stackHasHeader: true });
      assert.ok(util.types.isNativeError(r.error), `${r.code} ${r.how}: util.types.isNativeError`);
      assert.ok(util.inspect(r.error).startsWith(`WxSessionError: ${r.message}`), `${r.code} ${r.how}: how console.log shows it`);
    }
  });

  test(`${build.name} on JavaScriptCore: every code, made and rejected, is a native Error`, ON_JSC, async () => {
    const results = runSdkOnJsc(build, {
      files: { errors: SCENARIOS },
      packageFiles: build.js ? {} : { [TRAP]: await trapWasmFile() },
      main: `
        __require('errors').run(__require('sdk'), ${JSON.stringify(pathsFor(build))}).then(function (results) {
          results.forEach(function (r) { delete r.error; });
          print('RESULT ' + JSON.stringify(results));
          quit();
        }, function (e) { print('RESULT ' + JSON.stringify(String(e))); quit(); });
      `,
    });
    assert.ok(Array.isArray(results), String(results));
    checkCoverage(results, build);
    for (const r of results) checkResult(r, { stackHasHeader: false });
  });
}
