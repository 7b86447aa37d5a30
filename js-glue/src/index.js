// wx-session: createSession(config) → { ensure, request, logout, onChange }.
// Thin by design: the flow (single-flight login, retries, re-login) runs in the Rust core.
'use strict';

var bindings = require('./bindings');
var loader = require('./loader');
var makeHost = require('./host').makeHost;

// Where WeChat DevTools' "构建 npm" puts this package's files.
var DEFAULT_WASM_PATH = '/miniprogram_npm/wx-session/wx_session_bg.wasm';

function createSession(config) {
  var listeners = [];
  var emit = function (state, error) {
    for (var i = 0; i < listeners.length; i++) {
      try { listeners[i](state, error); } catch (e) { /* a listener's bug must not break the session */ }
    }
  };

  var ready = start(config || {}, emit);
  // Every method reports the failure itself; don't let the shared promise count as unhandled.
  ready.then(null, function (error) { emit('failed', error); });

  return {
    ensure: function () {
      return ready.then(function (core) { return core.ensure(); });
    },
    request: function (options) {
      return ready.then(function (core) { return core.request(options); });
    },
    logout: function () {
      return ready.then(function (core) { return core.logout(); });
    },
    onChange: function (listener) {
      if (typeof listener !== 'function') throw new TypeError('onChange needs a function');
      listeners.push(listener);
      return function unsubscribe() {
        var at = listeners.indexOf(listener);
        if (at >= 0) listeners.splice(at, 1);
      };
    },
  };
}

// Loads the wasm (once per path) and builds the core session. Rejects with a CONFIG or
// WASM_LOAD error that every call then reports.
function start(config, emit) {
  return new Promise(function (resolve) {
    var wxApi = config.wx || (typeof wx !== 'undefined' ? wx : undefined);
    if (!wxApi) throw configError('wx', 'no global wx: pass config.wx');
    var login = config.login || {};
    if (login.extra !== undefined && typeof login.extra !== 'function') {
      throw configError('login.extra', 'must be a function returning a Promise of an object');
    }
    var wasmPath = config.wasmPath === undefined ? DEFAULT_WASM_PATH : config.wasmPath;
    if (typeof wasmPath !== 'string' || !wasmPath) throw configError('wasmPath', 'must be a package path string');
    var host = makeHost(wxApi, { loginExtra: login.extra, onState: emit });
    resolve(loader.load(wasmPath, bindings).then(function (b) {
      return new b.WxSession(coreConfig(config), host);
    }));
  });
}

// The config the Rust core validates: everything but the JS-only values.
function coreConfig(config) {
  var copy = {};
  for (var key in config) {
    if (key !== 'wx') copy[key] = config[key];
  }
  if (config.login && typeof config.login === 'object') {
    var login = {};
    for (var k in config.login) {
      if (k !== 'extra') login[k] = config.login[k];
    }
    login.hasExtra = typeof config.login.extra === 'function';
    copy.login = login;
  }
  return copy;
}

function configError(key, reason) {
  var error = new Error('invalid config `' + key + '`: ' + reason);
  error.name = 'WxSessionError';
  error.code = 'CONFIG';
  error.key = key;
  return error;
}

module.exports = { createSession: createSession, DEFAULT_WASM_PATH: DEFAULT_WASM_PATH };
