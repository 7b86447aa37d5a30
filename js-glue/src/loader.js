// Loading the core: one wasm instance per file, from the platform's loader (WXWebAssembly,
// Douyin's TTWebAssembly: each takes only a path to a file in the package), within a time limit.
import * as errors from './errors.js';
import { createInstance } from './instance.js';

// Instances by file. `path` names a file in the package; spellings of the same file share one,
// and different files (.wasm and .wasm.br) never share anything.
var loaded = {};

function normalize(path) {
  var parts = [];
  var segments = path.split('/');
  for (var i = 0; i < segments.length; i++) {
    if (segments[i] === '..') parts.pop();
    else if (segments[i] && segments[i] !== '.') parts.push(segments[i]);
  }
  return '/' + parts.join('/');
}

// Resolves to a live instance for the file at `path`, or rejects with WASM_LOAD (also when the
// platform has not finished loading it within `limitMs`: some broken base libraries never do).
// `platform`: platform.js's adapter (WeChat loads with WXWebAssembly, Douyin with TTWebAssembly).
function load(path, limitMs, platform) {
  var key = normalize(path);
  var entry = loaded[key];
  if (entry && !(entry.instance && entry.instance.dead)) return entry.promise;
  entry = { instance: null, promise: null };
  var forget = function () {
    if (loaded[key] === entry) delete loaded[key];
  };
  loaded[key] = entry;
  entry.promise = within(instantiate(path, platform), limitMs, path).then(function (instance) {
    entry.instance = instance;
    return instance;
  }, function (error) {
    forget(); // a failed load may succeed later (the file was missing during a hot reload)
    throw error;
  });
  return entry.promise;
}

// `promise`, or WASM_LOAD once `limitMs` passed without it settling.
function within(promise, limitMs, path) {
  return new Promise(function (resolve, reject) {
    var timer = setTimeout(function () {
      reject(loadError('loading ' + path + ' did not finish within ' + limitMs + ' ms'));
    }, limitMs);
    promise.then(function (value) {
      clearTimeout(timer);
      resolve(value);
    }, function (error) {
      clearTimeout(timer);
      reject(error);
    });
  });
}

function instantiate(path, platform) {
  return new Promise(function (resolve) {
    var wasm = platform.name === 'wechat' ? (typeof WXWebAssembly !== 'undefined' ? WXWebAssembly : undefined)
      : platform.name === 'douyin' ? (typeof TTWebAssembly !== 'undefined' ? TTWebAssembly : undefined) : undefined;
    if (!wasm || typeof wasm.instantiate !== 'function') throw loadError(NO_LOADER[platform.name] + ': use the JavaScript build, require(\'wx-session/js\')');
    resolve(wasm.instantiate(path, {})); // the core imports nothing: it never calls JS
  }).then(function (result) {
    // Accept both `{ instance, module }` and a bare `Instance`.
    var instance = result && result.instance ? result.instance : result;
    var x = instance && instance.exports;
    if (!x || !x.memory || typeof x.slot !== 'function') throw loadError(path + ' is not the wx-session core');
    return createInstance(x, true);
  }, function (error) {
    if (errors.isWxSessionError(error)) throw error;
    throw loadError('could not load ' + path + ' (' + errors.describe(error) + '). The file must be in the package at that path: ' +
      'after npm install, run 构建 npm in WeChat DevTools; with Taro or uni-app, add the wx-session/taro or wx-session/vite plugin; ' +
      'elsewhere copy wx_session_bg.wasm.br into the package and pass its path as wasmPath');
  });
}

// Why there is no wasm loader, by platform.
var NO_LOADER = {
  wechat: 'WXWebAssembly is not available here (WeChat base library below 2.13.0, or a plugin below 2.18.1)',
  douyin: 'TTWebAssembly is not available here (Douyin base library below 2.34.0.0)',
  alipay: 'Alipay mini-programs have WebAssembly only inside Workers',
  qq: 'QQ mini-programs have no WebAssembly',
  baidu: 'Baidu smart programs have no WebAssembly',
  kuaishou: 'Kuaishou mini-programs have no WebAssembly',
};

function loadError(message) {
  return new errors.WxSessionError('WASM_LOAD', message);
}

export { load };
