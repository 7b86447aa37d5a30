// The build's own checks: the bundle is made of js-glue/src's modules and nothing else, and
// exports exactly the API.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const vm = require('vm');
const { bundle, abiModule, ABI_RS, ABI_JS } = require('../../js-glue/build');

const DIST = path.join(__dirname, '..', '..', 'js-glue', 'dist');

function sourceTree(files) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wx-session-src-'));
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

test('the bundle is made of the modules of src/, and an import that names none fails the build', async () => {
  const good = await bundle('0', sourceTree({ 'index.js': "import { a } from './a.js';\nexport var x = a + 1;", 'a.js': 'export var a = 1;' }));
  const module = { exports: {} };
  new Function('module', 'exports', good)(module, module.exports);
  assert.equal(module.exports.x, 2);
  await assert.rejects(bundle('0', sourceTree({ 'index.js': "import { m } from './missing.js';\nexport var x = m;" })), /missing/);
  await assert.rejects(bundle('0', sourceTree({ 'index.js': "import * as fs from 'fs';\nexport var x = fs;" })), /fs/);
  await assert.rejects(bundle('0', sourceTree({ 'a.js': 'export var a = 1;' })), /index\.js/);
});

test('js-glue/src/abi.js is what the build generates from src/abi.rs (the ABI is written once)', () => {
  assert.equal(fs.readFileSync(ABI_JS, 'utf8'), abiModule(fs.readFileSync(ABI_RS, 'utf8')), 'run scripts/build.sh and commit js-glue/src/abi.js');
  // Any drift in a number the glue reads would show here: one constant changed in the Rust text.
  const drifted = fs.readFileSync(ABI_RS, 'utf8').replace('pub const SEND: u32 = 7;', 'pub const SEND: u32 = 70;');
  assert.notEqual(abiModule(drifted), fs.readFileSync(ABI_JS, 'utf8'), 'the check can fail');
  assert.throws(() => abiModule(fs.readFileSync(ABI_RS, 'utf8') + '\npub mod odd {\n    pub const X: u64 = 1;\n}\n'), /cannot read/);
});

test('the built index.js exports exactly the API, as CommonJS in a realm without WebAssembly', () => {
  const module = { exports: {} };
  const context = vm.createContext({ setTimeout, clearTimeout });
  vm.runInContext('delete this.WebAssembly', context);
  vm.runInContext(`(function (module, exports) {${fs.readFileSync(path.join(DIST, 'index.js'), 'utf8')}\n})`, context)(module, module.exports);
  assert.deepEqual(Object.keys(module.exports).sort(), ['DEFAULT_WASM_PATH', 'WxSessionError', 'createSession', 'isWxSessionError']);
  assert.equal(module.exports.DEFAULT_WASM_PATH, '/miniprogram_npm/wx-session/wx_session_bg.wasm.br');
});

test('the built index.js parses as ES5, for base libraries without ES6', () => {
  // acorn (a dependency of jsdom, in tests/) refuses any ES2015+ syntax when told ES5.
  const acorn = require('acorn');
  const code = fs.readFileSync(path.join(DIST, 'index.js'), 'utf8');
  assert.doesNotThrow(() => acorn.parse(code, { ecmaVersion: 5, sourceType: 'script' }));
  assert.throws(() => acorn.parse('var f = (x) => x;', { ecmaVersion: 5 }), 'the check can fail');
  assert.ok(!code.includes('globalThis'), 'older iOS base libraries have no globalThis');
});
