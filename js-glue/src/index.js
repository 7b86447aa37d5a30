// wx-session: createSession(config) → { ensure, request, logout, onChange }.
// The flow (single-flight login, retries, re-login) runs in the Rust core; see driver.js.
'use strict';

var core = require('./core');
var plain = require('./plain');
var errors = require('./errors');
var createDriver = require('./driver').createDriver;

// Where WeChat DevTools' 构建npm puts this package's wasm (brotli: base library ≥ 2.14).
var DEFAULT_WASM_PATH = '/miniprogram_npm/wx-session/wx_session_bg.wasm.br';

function createSession(config) {
  var listeners = [];
  var emit = function (state, error) {
    // A copy: a listener that unsubscribes itself must not make the next one miss the event.
    var now = listeners.slice();
    for (var i = 0; i < now.length; i++) {
      try {
        now[i](state, error);
      } catch (e) {
        // a listener's bug must not break the session
      }
    }
  };

  var setup;
  try {
    setup = prepare(config);
  } catch (e) {
    setup = { error: e };
  }
  var driver = null;
  var starting = null;

  // Runs `use(driver)` once the wasm is loaded and the session created; a session whose
  // instance died is created again on a fresh one.
  function withDriver(use, reject) {
    if (driver && !driver.dead) return use(driver);
    if (setup.error) return reject(setup.error);
    if (!starting) {
      starting = core.load(setup.wasmPath).then(function (instance) {
        starting = null;
        driver = createDriver(instance, setup, emit);
        return driver;
      });
      starting.then(null, function (error) {
        starting = null;
        // A bad config stays bad; a load failure may pass (the next call tries again).
        if (error.code === 'CONFIG') setup = { error: error };
        emit('failed', error);
      });
    }
    starting.then(use, reject);
  }

  // A call: the record the driver works with (all its fields from the start: one shape for
  // every call), and the Promise for the app.
  function call(method, options) {
    var c = {
      resolve: null, reject: null, options: options,
      url: '', method: 0, auth: 0, retry: 0, timeout: 0, base: null, header: null, sent: false, answer: null,
    };
    var promise = new Promise(function (resolve, reject) {
      c.resolve = resolve;
      c.reject = reject;
    });
    if (driver && !driver.dead) driver[method](c);
    else withDriver(function (d) { d[method](c); }, c.reject);
    return promise;
  }

  if (setup.error) emit('failed', setup.error);
  else withDriver(function () {}, function () {}); // start loading the wasm now

  return {
    ensure: function () { return call('ensure'); },
    request: function (options) { return call('request', options); },
    logout: function () { return call('logout'); },
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

// Reads the JS-only keys (`wx`, `wasmPath`, `login.extra`) and writes the rest as plain data for
// the core, which validates it. Throws a CONFIG error for what can't even be read.
function prepare(config) {
  if (!config || typeof config !== 'object' || Array.isArray(config)) {
    throw errors.configError('config', 'pass an object like { baseUrl: \'https://api.example.com\' }');
  }
  var own;
  try {
    own = { wx: config.wx, wasmPath: config.wasmPath, login: config.login };
    own.extra = own.login && typeof own.login === 'object' ? own.login.extra : undefined;
  } catch (e) {
    throw errors.configError('config', 'cannot be read: ' + errors.describe(e));
  }
  var wxApi = own.wx || (typeof wx !== 'undefined' ? wx : undefined);
  if (!wxApi) throw errors.configError('wx', 'there is no global wx here: pass config.wx');
  if (own.extra !== undefined && typeof own.extra !== 'function') {
    throw errors.configError('login.extra', 'must be a function returning a Promise of an object');
  }
  var wasmPath = own.wasmPath === undefined ? DEFAULT_WASM_PATH : own.wasmPath;
  if (typeof wasmPath !== 'string' || !wasmPath) throw errors.configError('wasmPath', 'must be a package path string');
  var bytes;
  try {
    bytes = plain.encode(config, function (key, path) {
      if (path.length === 0) return key === 'wx' || key === 'wasmPath';
      return path.length === 1 && path[0] === 'login' && key === 'extra';
    });
  } catch (e) {
    if (e instanceof plain.PlainError) throw errors.configError(e.key || 'config', e.reason);
    throw e;
  }
  return { bytes: bytes, wx: wxApi, wasmPath: wasmPath, loginExtra: own.extra };
}

module.exports = {
  createSession: createSession,
  WxSessionError: errors.WxSessionError,
  isWxSessionError: errors.isWxSessionError,
  DEFAULT_WASM_PATH: DEFAULT_WASM_PATH,
};
