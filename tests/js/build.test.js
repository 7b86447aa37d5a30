// The build's own checks: the bundle is made of js-glue/src's modules and nothing else, and
// exports exactly the API.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const vm = require('vm');
const { sourceModules } = require('../../js-glue/build');

const DIST = path.join(__dirname, '..', '..', 'js-glue', 'dist');

function sourceTree(files) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wx-session-src-'));
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

test('the bundle takes every module of src/, and a require that names none fails the build', () => {
  const good = sourceModules(sourceTree({ 'index.js': "module.exports = require('./a');", 'a.js': 'module.exports = 1;' }));
  assert.deepEqual(Object.keys(good).sort(), ['./a', './index']);
  assert.throws(() => sourceModules(sourceTree({ 'index.js': "require('./missing');" })), /require\('\.\/missing'\) is not a module in src/);
  assert.throws(() => sourceModules(sourceTree({ 'index.js': "require('fs');" })), /not a module in src/);
  assert.throws(() => sourceModules(sourceTree({ 'a.js': '1;' })), /index\.js is missing/);
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
