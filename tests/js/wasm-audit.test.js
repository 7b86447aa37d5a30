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

test('a build without the MVP settings is refused by the build', () => {
  // Same crate, same pipeline, but without -Ctarget-cpu=mvp: Rust's default wasm features.
  const root = path.join(GLUE, '..');
  const targetDir = path.join(root, 'target', 'no-mvp');
  // RUSTFLAGS takes precedence over .cargo/config.toml's rustflags (a --config array would be
  // appended to them, leaving -Ctarget-cpu=mvp in place).
  execFileSync('cargo', ['build', '--release', '--target', 'wasm32-unknown-unknown', '--lib', '--target-dir', targetDir],
    { cwd: root, stdio: 'pipe', env: { ...process.env, RUSTFLAGS: '-Ctarget-cpu=generic' } });
  const out = path.join(GLUE, 'build', 'no-mvp');
  fs.rmSync(out, { recursive: true, force: true });
  execFileSync('wasm-bindgen', ['--target', 'bundler', '--out-dir', path.join(out, 'bindgen'), '--out-name', 'wx_session',
    path.join(targetDir, 'wasm32-unknown-unknown', 'release', 'wx_session.wasm')], { stdio: 'pipe' });
  let failure = '';
  try {
    execFileSync(process.execPath, [path.join(GLUE, 'build.js'), '--from', path.join(out, 'bindgen'), '--to', path.join(out, 'dist'), '--no-demo'], { stdio: 'pipe', encoding: 'utf8' });
  } catch (error) {
    failure = `${error.stdout}${error.stderr}`;
  }
  assert.match(failure, /build failed/, 'the non-MVP build must not produce an SDK');
  const mvp = fs.statSync(path.join(root, 'target', 'wasm32-unknown-unknown', 'release', 'wx_session.wasm')).size;
  const generic = fs.statSync(path.join(targetDir, 'wasm32-unknown-unknown', 'release', 'wx_session.wasm')).size;
  assert.notEqual(generic, mvp, 'really a different build');
  assert.ok(!fs.existsSync(path.join(out, 'dist', 'index.js')), 'nothing shipped');
});
