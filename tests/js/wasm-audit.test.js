// The shipped .wasm must be what iOS WeChat accepts: MVP instructions only, one funcref table,
// no externref, no exported Global. And the checks must be able to fail.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');
const { inspectWasm } = require('../../js-glue/wasm-sections');

const GLUE = path.join(__dirname, '..', '..', 'js-glue');
const SHIPPED = path.join(GLUE, 'dist', 'wx_session_bg.wasm');
const WASM_OPT = path.join(GLUE, 'node_modules', 'binaryen', 'bin', 'wasm-opt');

function validatesAsMvp(file) {
  try {
    execFileSync(process.execPath, [WASM_OPT, file, '--mvp-features', '-o', '/dev/null'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

test('the shipped .wasm validates with MVP features only', () => {
  assert.equal(validatesAsMvp(SHIPPED), true);
});

test('the shipped .wasm has one funcref table, no externref, no Global export, no target_features', () => {
  const report = inspectWasm(fs.readFileSync(SHIPPED));
  assert.deepEqual(report.problems, []);
  assert.equal(report.tables, 1);
  assert.ok(!report.exports.some((e) => e.kind === 'global'));
  assert.ok(!report.customSections.includes('target_features'));
});

test('the demo carries the same .wasm as dist', () => {
  const demo = path.join(__dirname, '..', '..', 'demo-miniprogram', 'miniprogram', 'libs', 'wx-session', 'wx_session_bg.wasm');
  assert.ok(fs.readFileSync(demo).equals(fs.readFileSync(SHIPPED)), 'run scripts/build.sh');
});

test('the checks fail on wasm-bindgen output that skipped our post-processing', () => {
  const raw = fs.readFileSync(path.join(GLUE, 'build', 'bindgen', 'wx_session_bg.wasm'));
  const problems = inspectWasm(raw).problems;
  assert.ok(problems.some((p) => /exports Global `__abort_handler`/.test(p)), problems.join('; '));
  // Optimized but not lowered: sign-ext/bulk-memory instructions remain and MVP validation fails.
  const unlowered = path.join(GLUE, 'build', 'unlowered.wasm');
  execFileSync(process.execPath, [WASM_OPT, path.join(GLUE, 'build', 'no-global-exports.wasm'),
    '--enable-bulk-memory', '--enable-sign-ext', '--enable-mutable-globals', '-Oz', '--strip-target-features', '-o', unlowered]);
  assert.equal(validatesAsMvp(unlowered), false);
});
