// Builds one script for the `jsc` shell (JavaScriptCore, the iOS engine family): the strict
// mini-program environment, the built SDK as a CommonJS module, the fake wx, the scenarios.
//
// Inside, only WXWebAssembly (package paths, read from disk) can load wasm — or, for Douyin,
// TTWebAssembly in its place (`wasmLoader`), or nothing; WebAssembly, globalThis, eval and
// Function are gone, and jsc has no TextEncoder/TextDecoder/queueMicrotask.
'use strict';

const fs = require('fs');
const path = require('path');

// files: {moduleName: path}; packageFiles: {packagePath: diskPath} for WXWebAssembly.
// `main` may use __require(name), __freshRequire(name) (a new copy of the module, with its own
// state), __root (the global object) and, for benchmarks, __bench.compile(packagePath) (the
// engine's own compile) and preciseTime().
// `noWebAssemblyLoader`: no WXWebAssembly either (the JavaScript build's platforms).
// `wasmLoader`: the name of the global that loads a package path ('WXWebAssembly' by default,
// 'TTWebAssembly' for Douyin: then there is no WXWebAssembly).
function bundleForJsc({ files, packageFiles, main, timerPromise, noWebAssemblyLoader, wasmLoader = 'WXWebAssembly' }) {
  const loader = JSON.stringify(wasmLoader);
  const parts = [
    '(function (root) {',
    '  var realWebAssembly = root.WebAssembly;',
    '  var files = ' + JSON.stringify(packageFiles) + ';',
    '  var readFile = root.read;',
    '  var loaderName = ' + loader + ';',
    '  root[loaderName] = {',
    '    instantiate: function (packagePath, imports) {',
    "      if (typeof packagePath !== 'string') return Promise.reject(new TypeError(loaderName + '.instantiate: only a package path'));",
    "      if (!files[packagePath]) return Promise.reject(new Error(loaderName + '.instantiate: no such file in the package: ' + packagePath));",
    "      return realWebAssembly.instantiate(readFile(files[packagePath], 'binary'), imports);",
    '    },',
    '  };',
    noWebAssemblyLoader ? '  delete root[loaderName];' : '',
    '  root.__bench = {',
    '    compile: function (packagePath) { return realWebAssembly.compile(readFile(files[packagePath], "binary")); },',
    '  };',
    '  var print = root.print;',
    '  root.console = { log: function () { print(Array.prototype.join.call(arguments, " ")); } };',
    '  root.console.warn = root.console.error = root.console.info = root.console.log;',
    "  ['WebAssembly', 'queueMicrotask', 'TextEncoder', 'TextDecoder', 'fetch', 'read', 'readFile', 'load', 'globalThis'].forEach(function (name) { delete root[name]; });",
    "  root.eval = function () { throw new EvalError('eval is not available'); };",
    '  // jsc\'s shell has setTimeout but no clearTimeout; the mini-program runtime has both.',
    '  // Timers live in a queue driven by jsc\'s timer in steps of at most 50 ms, so a cleared',
    '  // timer neither fires nor keeps the shell alive.',
    '  var nativeSetTimeout = root.setTimeout;',
    "  // The platform's timers run on real time, whatever the app does to Date.now.",
    '  var realNow = Date.now;',
    '  var clockNow = function () { return realNow.call(Date); };',
    '  var timers = [];',
    '  var nextId = 1;',
    '  var driving = false;',
    '  function drive() {',
    '    driving = false;',
    '    timers.sort(function (a, b) { return a.due - b.due || a.id - b.id; });',
    '    while (timers.length && timers[0].due <= clockNow()) {',
    '      var t = timers.shift();',
    '      try { t.fn.apply(null, t.args); } catch (e) { print("uncaught in timer: " + e); }',
    '      timers.sort(function (a, b) { return a.due - b.due || a.id - b.id; });',
    '    }',
    '    if (timers.length) { driving = true; nativeSetTimeout(drive, Math.min(50, Math.max(0, timers[0].due - clockNow()))); }',
    '  }',
    '  root.setTimeout = function (fn, ms) {',
    '    var id = nextId++;',
    '    timers.push({ id: id, due: clockNow() + (ms || 0), fn: fn, args: Array.prototype.slice.call(arguments, 2) });',
    '    if (!driving) { driving = true; nativeSetTimeout(drive, 0); }',
    '    return id;',
    '  };',
    '  root.clearTimeout = function (id) { timers = timers.filter(function (t) { return t.id !== id; }); };',
    "  root.Function = function () { throw new EvalError('Function is not available'); };",
    '})(this);',
    '// The global object, for `main` to define or remove a platform global (detection tests).',
    'var __root = this;',
    'var __modules = {',
  ];
  for (const [name, file] of Object.entries(files)) {
    parts.push(`${JSON.stringify(name)}: function (module, exports, require) {\n${fs.readFileSync(file, 'utf8')}\n},`);
  }
  parts.push(
    '};',
    'var __cache = {};',
    'function __require(name) {',
    '  if (!__cache[name]) { var m = { exports: {} }; __cache[name] = m; __modules[name](m, m.exports, __require); }',
    '  return __cache[name].exports;',
    '}',
    'function __freshRequire(name) {',
    '  var m = { exports: {} };',
    '  __modules[name](m, m.exports, __require);',
    '  return m.exports;',
    '}',
  );
  if (timerPromise) parts.push("Promise = __require('timer-promise').TimerPromise;");
  parts.push(main);
  return parts.join('\n');
}

module.exports = { bundleForJsc };
