// Running a script in the `jsc` shell (JavaScriptCore, the iOS engine family) for the JS suites:
// where the shell is, what to say when it is missing, and one run of a bundle (jsc-bundle.js)
// whose `main` prints `RESULT <json>`.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');
const { bundleForJsc } = require('./jsc-bundle');

const JSC = ['/usr/bin/jsc', '/usr/local/bin/jsc'].find((p) => fs.existsSync(p)) || null;
const JSC_MISSING = 'SKIPPED: no `jsc` shell (Debian package libjavascriptcoregtk-4.0-bin); scripts/test.sh installs it';
// iPhone WeChat's JavaScriptCore has no JIT: every tier off.
const NO_JIT = { JSC_useJIT: 'false', JSC_useBBQJIT: 'false', JSC_useOMGJIT: 'false' };

// Bundles `options` (see bundleForJsc), runs it in jsc (`env`: extra environment, e.g. NO_JIT)
// and returns the JSON its main printed after `RESULT `.
function runJsc(options, { env = {}, timeout = 120000 } = {}) {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'wx-session-jsc-')), 'run.js');
  fs.writeFileSync(file, bundleForJsc(options));
  const output = execFileSync(JSC, [file], { encoding: 'utf8', timeout, env: { ...process.env, ...env } });
  const line = output.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`jsc printed no result:\n${output}`);
  return JSON.parse(line.slice('RESULT '.length));
}

module.exports = { JSC, JSC_MISSING, NO_JIT, runJsc };
