// wx-session: createSession(config) → { ensure, request, uploadFile, downloadFile, login,
// logout, token, setToken, onChange }.
// The flow (single-flight login, retries, re-login) runs in the Rust core; driver.js performs
// what it decides. Modules: calls (the app's calls and their Promises), driver (the loop),
// exchanges (wx.* for the machine), reports (onReport), loader and instance (the wasm), clock,
// values (reading the app's values), plain (config and records as plain data), abi (generated
// from src/abi.rs), errors.
import * as plain from './plain.js';
import * as errors from './errors.js';
import * as calls from './calls.js';
import * as loader from './loader.js';
import { Driver, releaseHandle } from './driver.js';
import { choosePlatform } from './platform.js';
import { reportCall } from './reports.js';

// Where WeChat DevTools' 构建npm puts this package's wasm (brotli: base library ≥ 2.14).
var DEFAULT_WASM_PATH = '/miniprogram_npm/wx-session/wx_session_bg.wasm.br';
// The config's keys the core never sees (login.extra too).
var JS_ONLY = { wx: 1, platform: 1, wasmPath: 1, onReport: 1, beforeRequest: 1, onAuthRequired: 1 };
// How long loading the wasm may take when the config gives no usable timeoutMs.
var DEFAULT_TIMEOUT_MS = 10000;

// A session the app dropped (it may still hold the Promises of its calls) frees its slot in the
// core once nothing of it is in flight (where the engine has FinalizationRegistry: iOS 14.5+,
// Android's V8). What the registry holds for it, `holder`, must never reach the session: not the
// driver, whose onChange listeners may hold a page that holds the session.
var registry = typeof FinalizationRegistry === 'function' ? new FinalizationRegistry(function (holder) {
  holder.dropped = true;
  var handle = holder.handle;
  if (handle && !holder.queued && !handle.instance.busy.has(handle.h)) releaseHandle(handle);
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
  // The session's live state, which every method reaches: the registry watches it, not the
  // object returned (an app may keep only its methods: `const { request } = createSession(…)`).
  var current = { driver: null, starting: null };
  // What the registry holds: the current driver's handle (driver.js), whether the app dropped
  // the session, and how many calls wait for the wasm to load.
  var holder = { handle: null, dropped: false, queued: 0 };
  setup.holder = holder;

  // Runs `use(driver)` once the wasm is loaded and the session created; a session whose
  // instance died is created again on a fresh one.
  function withDriver(use, reject) {
    var driver = current.driver;
    if (driver && driver.live()) return use(driver);
    if (setup.error) return reject(setup.error);
    if (!current.starting) {
      current.starting = loader.load(setup.wasmPath, setup.loadTimeoutMs, setup.platform).then(function (instance) {
        current.starting = null;
        current.driver = new Driver(instance, setup, emit);
        holder.handle = current.driver.handle;
        return current.driver;
      });
      current.starting.then(null, function (error) {
        current.starting = null;
        // A bad config stays bad; a load failure may pass (the next call tries again).
        if (error.code === 'CONFIG') setup = { error: error, holder: holder };
        emit('failed', error);
      });
    }
    holder.queued++;
    current.starting.then(function (d) {
      holder.queued--;
      use(d);
      if (holder.dropped && !holder.queued && !d.busy) releaseHandle(d.handle);
    }, function (error) {
      holder.queued--;
      reject(error);
    });
  }

  // A new call of `type` (calls.js): its Promise, started now or once the wasm is loaded.
  function start(call, promise) {
    var driver = current.driver;
    if (driver && driver.live()) driver.start(call);
    else withDriver(function (d) { d.start(call); }, call.reject);
    return promise;
  }

  function simple(type, options, extra) {
    var call = new calls.Call(type, options, 0, extra);
    return start(call, calls.promiseOf(call));
  }

  function request(kind, options) {
    var call = new calls.Call(calls.REQUEST, options, kind, undefined);
    return start(call, calls.requestPromise(call, abort));
  }

  function abort(call) {
    if (call.id) {
      if (current.driver) current.driver.abort(call);
      return;
    }
    // Not started yet (the core is loading): it never will be.
    if (call.aborted) return;
    call.aborted = true;
    var error = new errors.WxSessionError('ABORTED', 'request aborted');
    call.reject(error);
    if (setup.onReport) reportCall(setup.onReport, call, error);
  }

  if (setup.error) emit('failed', setup.error);
  else withDriver(function () {}, function () {}); // start loading the wasm now

  var session = {
    ensure: function () { return simple(calls.ENSURE); },
    request: function (options) { return request(calls.KINDS.request, options); },
    uploadFile: function (options) { return request(calls.KINDS.uploadFile, options); },
    downloadFile: function (options) { return request(calls.KINDS.downloadFile, options); },
    login: function (extra) { return simple(calls.LOGIN, null, extra); },
    logout: function () { return simple(calls.LOGOUT); },
    token: function () {
      var driver = current.driver;
      return driver && driver.live() ? driver.token() : null;
    },
    setToken: function (token, more) { return simple(calls.SET_TOKEN, { token: token, more: more, expiresIn: NaN }); },
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
  if (registry) registry.register(current, holder);
  return session;
}

// Reads the JS-only keys (JS_ONLY's, and `login.extra`) and writes the rest as plain data for the
// core, which validates it. Throws a CONFIG error for what can't even be read.
function prepare(config) {
  var own;
  try {
    if (!config || typeof config !== 'object' || Array.isArray(config)) {
      throw errors.configError('config', 'pass an object like { baseUrl: \'https://api.example.com\' }');
    }
    own = {
      wx: config.wx, platform: config.platform, wasmPath: config.wasmPath, login: config.login, onReport: config.onReport, timeoutMs: config.timeoutMs,
      beforeRequest: config.beforeRequest, onAuthRequired: config.onAuthRequired, authRequiredWhen: config.authRequiredWhen,
    };
    own.extra = own.login && typeof own.login === 'object' ? own.login.extra : undefined;
  } catch (e) {
    throw errors.isWxSessionError(e) ? e : errors.configError('config', 'cannot be read: ' + errors.describe(e));
  }
  var platform = choosePlatform(own.platform, own.wx || undefined);
  if (own.extra !== undefined && typeof own.extra !== 'function') {
    throw errors.configError('login.extra', 'must be a function returning a Promise of an object');
  }
  var hooks = { onReport: 'one event', beforeRequest: 'the options and { attempt }', onAuthRequired: 'one object' };
  for (var hook in hooks) {
    if (own[hook] !== undefined && typeof own[hook] !== 'function') throw errors.configError(hook, 'must be a function taking ' + hooks[hook]);
  }
  // Calls that wait for the app's login need someone to show the login page.
  if (own.authRequiredWhen && own.authRequiredWhen.length && !own.onAuthRequired) {
    throw errors.configError('onAuthRequired', 'authRequiredWhen needs it: the app shows its login page there, or the calls wait for nothing');
  }
  var wasmPath = own.wasmPath === undefined ? DEFAULT_WASM_PATH : own.wasmPath;
  if (typeof wasmPath !== 'string' || !wasmPath) throw errors.configError('wasmPath', 'must be a package path string');
  var bytes;
  try {
    bytes = plain.encode(config, function (key, path) {
      if (path.length === 0) return JS_ONLY.hasOwnProperty(key);
      return path.length === 1 && path[0] === 'login' && key === 'extra';
    });
  } catch (e) {
    if (e instanceof plain.PlainError) throw errors.configError(e.key || 'config', e.reason);
    throw e;
  }
  // (The core validates timeoutMs; loading the wasm, before the core exists, takes it if usable.)
  var t = own.timeoutMs;
  var loadTimeoutMs = typeof t === 'number' && t >= 1 && t <= 120000 ? t : DEFAULT_TIMEOUT_MS;
  return {
    bytes: bytes, platform: platform, wasmPath: wasmPath, loginExtra: own.extra, onReport: own.onReport, beforeRequest: own.beforeRequest,
    onAuthRequired: own.onAuthRequired, loadTimeoutMs: loadTimeoutMs, holder: null,
  };
}

export { WxSessionError, isWxSessionError } from './errors.js';
export { createSession, DEFAULT_WASM_PATH };
