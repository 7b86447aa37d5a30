// options: { storage, schedule(fn) }.
// A wx whose server runs in-process, written in plain ES5 so it runs in any engine (jsc, V8).
// The backend behaves like code2Session: codes work once; tokens can be revoked; a mode makes
// every session "invalid".
'use strict';

function createFakeWx(options) {
  options = options || {};
  var storage = options.storage || {};
  var backend = { codes: {}, used: {}, tokens: {}, issued: 0, logins: 0, alwaysInvalid: false };
  var counts = { login: 0, request: 0 };
  var tick = 0;
  // Answers come back after 2–12 ms, out of order, like a real network, unless the caller
  // schedules them (a benchmark answers on the next turn to measure only the SDK).
  function later(fn) {
    tick += 1;
    if (options.schedule) options.schedule(fn);
    else setTimeout(fn, 2 + ((tick * 7) % 11));
  }
  function copy(value) {
    return JSON.parse(JSON.stringify(value));
  }
  function serve(call) {
    var path = String(call.url).replace(/^https?:\/\/[^/]+/, '');
    var header = call.header || {};
    if (path === '/login') {
      var code = call.data && call.data.code;
      if (backend.used[code]) return { statusCode: 400, data: { errcode: 40163 } };
      if (!backend.codes[code]) return { statusCode: 400, data: { errcode: 40029 } };
      delete backend.codes[code];
      backend.used[code] = true;
      backend.logins += 1;
      var token = 'tk' + backend.logins + 'x' + Math.floor(Math.random() * 1e9).toString(36);
      backend.tokens[token] = true;
      return { statusCode: 200, data: { token: token, expiresIn: 7200, session_key: 'NEVER-STORED' } };
    }
    var valid = !backend.alwaysInvalid && backend.tokens[header.token] === true;
    if (path === '/auth') return { statusCode: 200, data: { errCode: valid ? 0 : 40001 } };
    if (path === '/api/profile') return valid ? { statusCode: 200, data: { nickname: '微信用户' } } : { statusCode: 401, data: {} };
    return { statusCode: 404, data: {} };
  }
  var wx = {
    getStorageSync: function (key) {
      return Object.prototype.hasOwnProperty.call(storage, key) ? copy(storage[key]) : '';
    },
    setStorageSync: function (key, value) { storage[key] = copy(value); },
    removeStorageSync: function (key) { delete storage[key]; },
    checkSession: function (o) { later(function () { o.success({ errMsg: 'checkSession:ok' }); }); },
    login: function (o) {
      counts.login += 1;
      backend.issued += 1;
      var code = 'code' + backend.issued;
      backend.codes[code] = true;
      later(function () { o.success({ code: code, errMsg: 'login:ok' }); });
    },
    request: function (call) {
      counts.request += 1;
      var answer = serve(call);
      later(function () {
        answer.header = {};
        answer.errMsg = 'request:ok';
        call.success(answer);
      });
    },
  };
  return {
    wx: wx,
    storage: storage,
    backend: backend,
    counts: counts,
    revokeAll: function () { backend.tokens = {}; },
  };
}

module.exports = { createFakeWx: createFakeWx };
