// wx-session: createSession(config) → { ensure, request, uploadFile, downloadFile, login,
// logout, token, setToken, onChange }.
// The flow (single-flight login, retries, re-login) runs in the Rust core; see driver.js.
'use strict';

var core = require('./core');
var plain = require('./plain');
var errors = require('./errors');
var createDriver = require('./driver').createDriver;

// Where WeChat DevTools' 构建npm puts this package's wasm (brotli: base library ≥ 2.14).
var DEFAULT_WASM_PATH = '/miniprogram_npm/wx-session/wx_session_bg.wasm.br';

// A session the app dropped (it may still hold the Promises of its calls) frees its slot in the
// core once no call waits for the wasm and none is in flight (where the engine has
// FinalizationRegistry: iOS 14.5+, Android's V8).
var registry = typeof FinalizationRegistry === 'function' ? new FinalizationRegistry(function (holder) {
  holder.dropped = true;
  if (holder.driver && !holder.queued) holder.driver.dispose();
}) : null;

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
    setup = { error: errors.isWxSessionError(e) ? e : errors.configError('config', 'cannot be read: ' + errors.describe(e)) };
  }
  var driver = null;
  var starting = null;
  // What the registry may see: the driver, never the session object (or it would stay alive);
  // `queued`: calls waiting for the wasm to load.
  var holder = { driver: null, dropped: false, queued: 0 };

  // Runs `use(driver)` once the wasm is loaded and the session created; a session whose
  // instance died is created again on a fresh one.
  function withDriver(use, reject) {
    if (driver && !driver.dead) return use(driver);
    if (setup.error) return reject(setup.error);
    if (!starting) {
      starting = core.load(setup.wasmPath).then(function (instance) {
        starting = null;
        driver = createDriver(instance, setup, emit);
        holder.driver = driver;
        return driver;
      });
      starting.then(null, function (error) {
        starting = null;
        // A bad config stays bad; a load failure may pass (the next call tries again).
        if (error.code === 'CONFIG') setup = { error: error };
        emit('failed', error);
      });
    }
    holder.queued++;
    starting.then(function (d) {
      holder.queued--;
      use(d);
      if (holder.dropped && !holder.queued) d.dispose();
    }, function (error) {
      holder.queued--;
      reject(error);
    });
  }

  // A call: the record the driver works with (all its fields from the start: one shape for
  // every call), and the Promise for the app. `kind`: 0 request, 1 upload, 2 download.
  function call(method, options, kind, extra) {
    var c = {
      id: 0, resolve: null, reject: null, options: options, kind: kind || 0, extra: extra,
      url: '', method: 0, auth: 0, retry: 0, timeout: 0, base: null, header: null, answer: null,
      api: false, sends: 0, status: 0, relogin: false, startMs: 0, aborted: false, onTask: null, task: null, expiresIn: NaN,
    };
    var promise = new Promise(function (resolve, reject) {
      c.resolve = resolve;
      c.reject = reject;
    });
    if (driver && !driver.dead) driver[method](c);
    else withDriver(function (d) { d[method](c); }, c.reject);
    return method === 'request' ? api(promise, c) : promise;
  }

  // request/uploadFile/downloadFile: wx-style callbacks, abort() and onTask() on the Promise.
  function api(promise, c) {
    var o = c.options;
    var success, fail, complete;
    try {
      success = o.success;
      fail = o.fail;
      complete = o.complete;
    } catch (e) {
      // unreadable options: the driver rejects the call with CONFIG
    }
    if (typeof success === 'function' || typeof fail === 'function' || typeof complete === 'function') {
      promise.then(function (res) {
        callBack(success, res);
        callBack(complete, res);
      }, function (error) {
        callBack(fail, error);
        callBack(complete, error);
      });
    }
    promise.abort = function () {
      if (c.id && driver) return driver.abort(c);
      // Not started yet (the wasm is loading): it never will be.
      c.aborted = true;
      c.reject(new errors.WxSessionError('ABORTED', 'request aborted'));
    };
    promise.onTask = function (listener) {
      if (typeof listener !== 'function') return promise;
      c.onTask = listener;
      if (c.task) callBack(listener, c.task); // the task already out (the call started at once)
      return promise;
    };
    return promise;
  }

  if (setup.error) emit('failed', setup.error);
  else withDriver(function () {}, function () {}); // start loading the wasm now

  var session = {
    ensure: function () { return call('ensure'); },
    request: function (options) { return call('request', options, 0); },
    uploadFile: function (options) { return call('request', options, 1); },
    downloadFile: function (options) { return call('request', options, 2); },
    login: function (extra) { return call('login', null, 0, extra); },
    logout: function () { return call('logout'); },
    token: function () {
      return driver && !driver.dead ? driver.token() : null;
    },
    setToken: function (token, more) { return call('setToken', { token: token, more: more }); },
    onChange: function (listener) {
      if (typeof listener !== 'function') throw new TypeError('onChange needs a function');
      var entry = function (state, error) { listener(state, error); };
      listeners.push(entry);
      // Removes this registration only, once (the same listener added twice stays once).
      return function unsubscribe() {
        var at = listeners.indexOf(entry);
        if (at >= 0) listeners.splice(at, 1);
      };
    },
  };
  if (registry) registry.register(session, holder);
  return session;
}

// Calls an app's callback; its exceptions stay there.
function callBack(fn, value) {
  if (typeof fn !== 'function') return;
  try {
    fn(value);
  } catch (e) {
    // the app's bug must not break the session
  }
}

// Reads the JS-only keys (`wx`, `wasmPath`, `onReport`, `login.extra`) and writes the rest as plain data for
// the core, which validates it. Throws a CONFIG error for what can't even be read.
function prepare(config) {
  var own;
  try {
    if (!config || typeof config !== 'object' || Array.isArray(config)) {
      throw errors.configError('config', 'pass an object like { baseUrl: \'https://api.example.com\' }');
    }
    own = { wx: config.wx, wasmPath: config.wasmPath, login: config.login, onReport: config.onReport };
    own.extra = own.login && typeof own.login === 'object' ? own.login.extra : undefined;
  } catch (e) {
    throw errors.isWxSessionError(e) ? e : errors.configError('config', 'cannot be read: ' + errors.describe(e));
  }
  var wxApi = own.wx || (typeof wx !== 'undefined' ? wx : undefined);
  if (!wxApi) throw errors.configError('wx', 'there is no global wx here: pass config.wx');
  if (own.extra !== undefined && typeof own.extra !== 'function') {
    throw errors.configError('login.extra', 'must be a function returning a Promise of an object');
  }
  if (own.onReport !== undefined && typeof own.onReport !== 'function') {
    throw errors.configError('onReport', 'must be a function taking one event');
  }
  var wasmPath = own.wasmPath === undefined ? DEFAULT_WASM_PATH : own.wasmPath;
  if (typeof wasmPath !== 'string' || !wasmPath) throw errors.configError('wasmPath', 'must be a package path string');
  var bytes;
  try {
    bytes = plain.encode(config, function (key, path) {
      if (path.length === 0) return key === 'wx' || key === 'wasmPath' || key === 'onReport';
      return path.length === 1 && path[0] === 'login' && key === 'extra';
    });
  } catch (e) {
    if (e instanceof plain.PlainError) throw errors.configError(e.key || 'config', e.reason);
    throw e;
  }
  return { bytes: bytes, wx: wxApi, wasmPath: wasmPath, loginExtra: own.extra, onReport: own.onReport };
}

module.exports = {
  createSession: createSession,
  WxSessionError: errors.WxSessionError,
  isWxSessionError: errors.isWxSessionError,
  DEFAULT_WASM_PATH: DEFAULT_WASM_PATH,
};
