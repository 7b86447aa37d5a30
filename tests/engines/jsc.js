// Running a script in the `jsc` shell (JavaScriptCore, the iOS engine family) for the JS suites:
// where the shell is, what to say when it is missing, and one run of a bundle (jsc-bundle.js)
// whose `main` prints `RESULT <json>`.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');
const { bundleForJsc } = require('./jsc-bundle');
const { PLAIN_WASM } = require('../hostile/harness');

const JSC = ['/usr/bin/jsc', '/usr/local/bin/jsc'].find((p) => fs.existsSync(p)) || null;
const JSC_MISSING = 'SKIPPED: no `jsc` shell (Debian package libjavascriptcoregtk-4.0-bin); scripts/test.sh installs it';
// The options of a test that needs jsc: skipped where it is missing, said loudly; but in CI a
// skipped iOS-engine run must not pass silently, so there the test runs and fails.
const ON_JSC = { skip: JSC || process.env.CI ? false : JSC_MISSING };
if (!JSC) process.stderr.write(`\n!!!!!!!!!! ${JSC_MISSING} !!!!!!!!!!\n\n`);
// iPhone WeChat's JavaScriptCore has no JIT: every tier off.
const NO_JIT = { JSC_useJIT: 'false', JSC_useBBQJIT: 'false', JSC_useOMGJIT: 'false' };
const FAKE_WX = path.join(__dirname, '..', 'fakes', 'wx.js');
// Where the wasm build's core is in the bundle's package (the plain .wasm: jsc has no brotli).
const WASM_PATH = '/wx_session_bg.wasm';

// Bundles `options` (see bundleForJsc), runs it in jsc (`env`: extra environment, e.g. NO_JIT)
// and returns the JSON its main printed after `RESULT `.
function runJsc(options, { env = {}, timeout = 120000 } = {}) {
  if (!JSC) throw new Error(JSC_MISSING);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'wx-session-jsc-')), 'run.js');
  fs.writeFileSync(file, bundleForJsc(options));
  const output = execFileSync(JSC, [file], { encoding: 'utf8', timeout, env: { ...process.env, ...env } });
  const line = output.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`jsc printed no result:\n${output}`);
  return JSON.parse(line.slice('RESULT '.length));
}

// runJsc over `build`'s SDK (one of tests/hostile/harness.js's BUILDS), required as 'sdk', beside
// the fake wx ('../fakes/wx') and `files`. `main` finds the core's package path in `WASM_PATH`:
// the plain .wasm for the wasm build; undefined for the JavaScript build, whose run has no
// WXWebAssembly and no wasm file. `packageFiles`: more files for the wasm build's package.
function runSdkOnJsc(build, { files, packageFiles = {}, timerPromise, main }, options) {
  return runJsc({
    files: { sdk: path.join(build.dist, 'index.js'), '../fakes/wx': FAKE_WX, ...files },
    packageFiles: build.js ? {} : { [WASM_PATH]: PLAIN_WASM, ...packageFiles },
    noWebAssemblyLoader: build.js,
    timerPromise,
    main: `var WASM_PATH = ${build.js ? 'undefined' : JSON.stringify(WASM_PATH)};\n${main}`,
  }, options);
}

module.exports = { JSC, JSC_MISSING, ON_JSC, NO_JIT, runJsc, runSdkOnJsc };
