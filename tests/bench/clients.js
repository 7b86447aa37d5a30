// The clients scripts/bench.sh compares, behind one shape, each set up the way its docs (or, for
// the hand-written one, the seeds) say: the same backend at https://api.test, a 401 meaning
// "session invalid" wherever the client can be told so.
//   wx-session      the wasm build (js-glue/dist), createSession → ensure() / request()
//   wx-session/js   the JavaScript build (js-glue/dist-js), the same API
//   hand-written    hand-written/request.js: login() and request(), seed style
//   wafer2          wafer2-client-sdk 2.1.0: loginWithCode, request with the X-WX-Skey header
//                   (its server answers { code: 0, data: { skey, userinfo } }; 401 or
//                   { code: -1 } means invalid: it clears the session, logs in, retries once)
//   flyio           flyio 0.6.14's wx build with the interceptors its docs show: a request
//                   interceptor that locks, logs in and adds the token; a response interceptor
//                   that, on a 401, locks, logs in again and retries the request
//
// Plain ES5 over the global `wx`: it runs in the strict sandbox's realm (Node) and in the jsc
// shell. makeClient(name, lib, options) → { start() → Promise (the first login done),
// request(options) → Promise (the library's own answer), ok(answer) → true for an HTTP 200 }.
// `lib`: the library's module as the app requires it; options: { wasmPath, storageKey }.
'use strict';

var BASE_URL = 'https://api.test';
var PATH = '/api/profile';

var NAMES = ['hand-written', 'wx-session', 'wx-session/js', 'wafer2', 'flyio'];

function makeClient(name, lib, options) {
  options = options || {};
  if (name === 'wx-session' || name === 'wx-session/js') {
    var config = { baseUrl: BASE_URL, useCheckSession: false, storageKey: options.storageKey || 'token' };
    if (name === 'wx-session') config.wasmPath = options.wasmPath;
    var session = lib.createSession(config);
    var sdkOptions = { url: PATH };
    return {
      start: function () { return session.ensure(); },
      request: function () { return session.request(sdkOptions); },
      ok: function (res) { return res.statusCode === 200; },
    };
  }
  if (name === 'hand-written') {
    var handOptions = { url: PATH };
    return {
      start: function () { return lib.login(); },
      request: function () { return lib.request(handOptions); },
      ok: function (res) { return res.statusCode === 200; },
    };
  }
  if (name === 'wafer2') {
    lib.setLoginUrl(BASE_URL + '/login');
    return {
      start: function () {
        return new Promise(function (resolve, reject) { lib.loginWithCode({ success: resolve, fail: reject }); });
      },
      // A callback API: apps wrap it in a Promise (one object per call, as here).
      request: function () {
        return new Promise(function (resolve, reject) {
          lib.request({ url: BASE_URL + PATH, success: resolve, fail: reject });
        });
      },
      ok: function (res) { return res.statusCode === 200; },
    };
  }
  if (name === 'flyio') return flyClient(lib, options.storageKey || 'token');
  throw new Error('unknown client ' + name);
}

function flyClient(Fly, storageKey) {
  var fly = new Fly();
  var tokenFly = new Fly(); // the docs' second instance, for the token, outside the lock
  fly.config.baseURL = BASE_URL;
  var token = '';
  function login() {
    return new Promise(function (resolve, reject) {
      wx.login({ success: resolve, fail: reject });
    }).then(function (res) {
      return tokenFly.post(BASE_URL + '/login', { code: res.code });
    }).then(function (answer) {
      token = answer.data.token;
      wx.setStorageSync(storageKey, token);
    });
  }
  fly.interceptors.request.use(function (request) {
    if (!token) {
      fly.lock();
      return login().then(function () {
        request.headers.token = token;
        return request;
      }).finally(function () { fly.unlock(); });
    }
    request.headers.token = token;
    return request;
  });
  fly.interceptors.response.use(function (response) {
    return response;
  }, function (err) {
    if (err.status === 401) {
      var interceptor = this;
      interceptor.lock();
      return login().finally(function () { interceptor.unlock(); }).then(function () {
        return fly.request(err.request);
      });
    }
  });
  return {
    start: login,
    request: function () { return fly.get(PATH); },
    ok: function (res) { return res.status === 200; },
  };
}

// The answers of the server every client talks to, for the per-request and cold-start runs:
// a login (wafer2's shape when the code came in its X-WX-Code header), else a small 200.
function benchRespond(o) {
  if (/\/login(\?|$)/.test(o.url)) {
    if (o.header && o.header['X-WX-Code'] !== undefined) {
      return { statusCode: 200, data: { code: 0, data: { skey: 'bench-skey-0123456789', userinfo: { nickName: 'x' } } }, header: {} };
    }
    return { statusCode: 200, data: { token: 'bench-token-0123456789', expiresIn: 7200 }, header: {} };
  }
  return { statusCode: 200, data: { nickname: 'x' }, header: {} };
}

// The fake's own backend (tokens that can be revoked), speaking wafer2's dialect to wafer2:
// its skey in X-WX-Skey, its login answer { code: 0, data: { skey, userinfo } }.
function serverRespond(o, fake, kind) {
  var header = o.header || {};
  var data = o.data;
  // A JSON body arrives as text (flyio serializes it itself): the server parses it.
  if (typeof data === 'string') {
    try {
      data = JSON.parse(data);
    } catch (e) {
      // not JSON: as it is
    }
  }
  var token = header['X-WX-Skey'];
  var view = { url: o.url, method: o.method, data: data, header: token !== undefined ? { token: token } : header };
  var answer = fake.backend.serve(kind, view);
  if (header['X-WX-Code'] !== undefined && answer.statusCode === 200 && /\/login(\?|$)/.test(o.url)) {
    answer = { statusCode: 200, data: { code: 0, data: { skey: answer.data.token, userinfo: { nickName: 'x' } } }, header: {} };
  }
  return answer;
}

// wafer2's tunnel module binds wx's socket listeners when it loads (wxTunnel.js): the fake has no
// sockets, so they are no-ops here (the bench opens no tunnel).
function addSocketListeners(wx) {
  ['onSocketOpen', 'onSocketClose', 'onSocketMessage', 'onSocketError'].forEach(function (name) {
    wx[name] = function () {};
  });
  return wx;
}

// Runs every part of the fake platform once (a throwaway one, answering synchronously), so a
// cold start measures the client and not the first run of the fake's own code, which a real
// platform has in native code.
function warmPlatform(fakes, respond) {
  var fake = fakes.createWx({ schedule: 'sync', record: false, respond: respond });
  var noop = function () {};
  fake.wx.getStorageSync('warm');
  fake.wx.setStorageSync('warm', { v: 1 });
  fake.wx.removeStorageSync('warm');
  fake.wx.checkSession({ success: noop, fail: noop });
  fake.wx.login({ success: noop, fail: noop });
  fake.wx.request({ url: BASE_URL + '/login', method: 'POST', data: { code: 'x' }, header: {}, success: noop, fail: noop });
  fake.wx.request({ url: BASE_URL + '/login', header: { 'X-WX-Code': 'x' }, success: noop, fail: noop });
  fake.wx.request({ url: BASE_URL + PATH, header: { token: 'x' }, success: noop, fail: noop });
}

module.exports = { NAMES: NAMES, makeClient: makeClient, benchRespond: benchRespond, serverRespond: serverRespond, addSocketListeners: addSocketListeners, warmPlatform: warmPlatform };
