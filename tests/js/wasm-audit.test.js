// The shipped .wasm must be what iOS WeChat accepts and what the glue can drive: MVP
// instructions only, no imports, no Global export, one funcref table, no source paths. And the
// checks must be able to fail.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const { inspectWasm, buildWasm, locationPaths, loadBinaryen } = require('../../js-glue/build');

const ROOT = path.join(__dirname, '..', '..');
const DIST = path.join(ROOT, 'js-glue', 'dist');
const DEMO = path.join(ROOT, 'demo-miniprogram', 'miniprogram', 'libs', 'wx-session');
const SHIPPED = path.join(ROOT, 'js-glue', 'wasm', 'wx_session_bg.wasm');
const CARGO_OUTPUT = path.join(ROOT, 'target', 'sdk', 'wasm32-unknown-unknown', 'release', 'wx_session.wasm');

test('the shipped .wasm passes the audit: MVP only, no imports, only functions and memory exported', async () => {
  const report = await inspectWasm(fs.readFileSync(SHIPPED));
  assert.deepEqual(report.problems, []);
  assert.equal(report.imports, 0);
  assert.ok(report.tables <= 1);
  assert.deepEqual([...new Set(report.exports.map((e) => e.kind))].sort(), ['function', 'memory']);
  assert.ok(report.exports.some((e) => e.name === 'next_action'), 'the ABI is there');
});

test('the shipped .wasm carries no build-machine or toolchain paths', () => {
  const bytes = fs.readFileSync(SHIPPED);
  assert.deepEqual(locationPaths(bytes), []);
  for (const text of ['/root/', '/rustc/', '.cargo', 'registry', '/home/', 'src/']) assert.ok(!bytes.includes(text), text);
});

test('dist holds one wasm form, the .wasm.br, and it is the .wasm', () => {
  assert.deepEqual(fs.readdirSync(DIST).sort(), ['index.d.ts', 'index.js', 'wx_session_bg.wasm.br']);
  const zlib = require('zlib');
  assert.ok(zlib.brotliDecompressSync(fs.readFileSync(path.join(DIST, 'wx_session_bg.wasm.br'))).equals(fs.readFileSync(SHIPPED)));
});

test('the demo carries exactly the files of dist, byte for byte', () => {
  const names = (dir) => fs.readdirSync(dir).sort();
  assert.deepEqual(names(DEMO), names(DIST), 'run scripts/build.sh');
  for (const name of names(DIST)) {
    assert.ok(fs.readFileSync(path.join(DEMO, name)).equals(fs.readFileSync(path.join(DIST, name))), `${name} differs: run scripts/build.sh`);
  }
});

test('the audit refuses cargo\'s raw output: Global exports, post-MVP instructions', async () => {
  const { problems } = await inspectWasm(fs.readFileSync(CARGO_OUTPUT));
  const all = problems.join('\n');
  assert.match(all, /exports Global `__heap_base`/);
  assert.match(all, /does not validate with MVP features only/);
});

test('source paths in data are refused by the audit and blanked by the build', async () => {
  const binaryen = await loadBinaryen();
  const module = new binaryen.Module();
  const text = 'index out of bounds/rustc/0123456789abcdef0123456789abcdef01234567/library/core/src/slice/index.rs/root/.cargo/registry/src/x-1/serde-1.0/src/de.rs';
  module.setMemory(1, 1, 'memory', [{ offset: module.i32.const(16), data: Buffer.from(text) }]);
  module.addFunction('f', binaryen.none, binaryen.i32, [], module.i32.load(0, 1, module.i32.const(16)));
  module.addFunctionExport('f', 'f');
  const withPaths = module.emitBinary();
  assert.match((await inspectWasm(withPaths)).problems.join('\n'), /carries source paths/);
  const built = await buildWasm(withPaths);
  assert.deepEqual(locationPaths(built), []);
  assert.ok(Buffer.from(built).includes('index out of bounds'), 'only the paths are blanked');
});

test('the build refuses a module it cannot lower to MVP, or one that imports from JS', async () => {
  const binaryen = await loadBinaryen();
  // A function using a SIMD instruction: nothing lowers that.
  const simd = new binaryen.Module();
  simd.setFeatures(binaryen.Features.MVP | binaryen.Features.SIMD128);
  simd.setMemory(1, 1, 'memory');
  simd.addFunction('f', binaryen.none, binaryen.v128, [], simd.v128.const([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
  simd.addFunctionExport('f', 'f');
  await assert.rejects(buildWasm(simd.emitBinary()), /would be rejected on iOS/);
  // A module importing a JS function (as wasm-bindgen output does).
  const imports = new binaryen.Module();
  imports.setMemory(1, 1, 'memory');
  imports.addFunctionImport('log', 'env', 'log', binaryen.none, binaryen.none);
  imports.addFunction('f', binaryen.none, binaryen.none, [], imports.call('log', [], binaryen.none));
  imports.addFunctionExport('f', 'f');
  await assert.rejects(buildWasm(imports.emitBinary()), /imports function env\.log/);
});
