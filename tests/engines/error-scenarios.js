// Every error code as an app and its error monitor see it, in plain ES5 for any engine (V8 in the
// strict sandbox, jsc): each code both made by the app (`new WxSessionError(code, message)`) and
// rejected by a real call that fails that way. run(sdk, paths) resolves to
// [{ code, how, error, tag, isError, isWxSessionError, name, message, stack }]; `paths`:
// { wasm: package path of the core (none for the JavaScript build), trap: one whose first HTTP
// answer traps (none: INTERNAL is only made, not rejected) }.
'use strict';

var createWx = require('../fakes/wx').createWx;

var CODES = ['CONFIG', 'WASM_LOAD', 'INTERNAL', 'WX_LOGIN_FAILED', 'LOGIN_EXTRA_FAILED', 'NETWORK', 'TIMEOUT', 'ABORTED',
  'SERVER_REJECTED', 'BAD_RESPONSE', 'STORAGE', 'SESSION_EXPIRED', 'LOGGED_OUT'];

function run(sdk, paths) {
  var results = [];

  function describe(code, how, error) {
    var stack = '';
    try {
      stack = String(error && error.stack);
    } catch (e) {
      stack = '';
    }
    results.push({
      code: code,
      how: how,
      error: error,
      got: error && error.code,
      tag: Object.prototype.toString.call(error),
      isError: error instanceof Error,
      isWxSessionError: error instanceof sdk.WxSessionError && sdk.isWxSessionError(error),
      name: error && error.name,
      message: error && error.message,
      stack: stack,
    });
  }

  // A session over a fake wx; `respond` answers requests (see tests/fakes/wx.js).
  function session(config, respond, fake) {
    fake = fake || createWx({ schedule: 1, respond: respond });
    var base = { baseUrl: 'https://api.test', useCheckSession: false, retries: 0, wx: fake.wx };
    if (paths.wasm) base.wasmPath = paths.wasm;
    for (var k in config) base[k] = config[k];
    return { session: sdk.createSession(base), fake: fake };
  }

  function isLogin(o) {
    return /\/login(\?|$)/.test(o.url);
  }

  // The call that fails with each code (null: not reachable in this build).
  var failing = {
    CONFIG: function () { return session({ baseUrl: 'ftp://nope' }).session.ensure(); },
    WASM_LOAD: paths.wasm ? function () { return session({ wasmPath: '/missing/core.wasm' }).session.ensure(); } : null,
    INTERNAL: paths.trap ? function () {
      var s = session({ wasmPath: paths.trap }).session;
      return s.ensure().then(function () { return s.request({ url: '/api/profile' }); });
    } : null,
    WX_LOGIN_FAILED: function () {
      var fake = createWx({ schedule: 1 });
      fake.wx.login = function (o) { setTimeout(function () { o.fail({ errMsg: 'login:fail' }); }, 1); };
      return session({}, null, fake).session.ensure();
    },
    LOGIN_EXTRA_FAILED: function () {
      return session({ login: { extra: function () { return Promise.reject(new Error('the user said no')); } } }).session.ensure();
    },
    NETWORK: function () {
      var s = session({}, function (o) { return isLogin(o) ? undefined : { errMsg: 'request:fail' }; }).session;
      return s.ensure().then(function () { return s.request({ url: '/api/profile' }); });
    },
    TIMEOUT: function () {
      var s = session({}, function (o) { return isLogin(o) ? undefined : null; }).session;
      return s.ensure().then(function () { return s.request({ url: '/api/profile', timeout: 30 }); });
    },
    ABORTED: function () {
      var s = session({}, function (o) { return isLogin(o) ? undefined : null; }).session;
      return s.ensure().then(function () {
        var call = s.request({ url: '/api/profile' });
        setTimeout(function () { call.abort(); }, 5);
        return call;
      });
    },
    SERVER_REJECTED: function () {
      return session({}, function (o) { return isLogin(o) ? { statusCode: 400, data: { errcode: 40029 } } : undefined; }).session.ensure();
    },
    BAD_RESPONSE: function () {
      return session({}, function (o) { return isLogin(o) ? { statusCode: 200, data: { nothing: true } } : undefined; }).session.ensure();
    },
    STORAGE: function () {
      var fake = createWx({ schedule: 1 });
      fake.wx.setStorageSync = function () { throw new Error('setStorage:fail exceed storage max size 10MB'); };
      var s = session({}, null, fake).session;
      return new Promise(function (resolve, reject) {
        s.onChange(function (state, error) { if (error && error.code === 'STORAGE') reject(error); });
        s.ensure().then(function () { setTimeout(function () { resolve('no STORAGE report'); }, 200); });
      });
    },
    SESSION_EXPIRED: function () {
      var made = session({});
      made.fake.backend.alwaysInvalid = true;
      return made.session.request({ url: '/api/profile' });
    },
    LOGGED_OUT: function () {
      var s = session({}).session;
      var call = s.ensure();
      s.logout();
      return call;
    },
  };

  var chain = Promise.resolve();
  CODES.forEach(function (code) {
    chain = chain.then(function () {
      describe(code, 'made', new sdk.WxSessionError(code, 'made by the app: ' + code));
      var fail = failing[code];
      if (!fail) return undefined;
      return new Promise(function (resolve) {
        var timer = setTimeout(function () { describe(code, 'rejected', { code: 'HUNG' }); resolve(); }, 5000);
        fail().then(function (value) {
          clearTimeout(timer);
          describe(code, 'rejected', { code: 'RESOLVED', value: value });
          resolve();
        }, function (error) {
          clearTimeout(timer);
          describe(code, 'rejected', error);
          resolve();
        });
      });
    });
  });
  return chain.then(function () { return results; });
}

module.exports = { run: run, CODES: CODES };
