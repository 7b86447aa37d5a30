// The demo's flows, engine-neutral (ES5 + whatever Promise the engine's global has):
// first launch, relaunch, 20 concurrent requests, re-login after revocation, always-invalid,
// over the shared fake wx (tests/fakes/wx.js) answering after 2–12 ms, out of order.
// run(createSession, wasmPath) → Promise of [{name, ok, detail}].
'use strict';

var createWx = require('../fakes/wx').createWx;

function run(createSession, wasmPath) {
  var results = [];
  function check(name, ok, detail) {
    results.push({ name: name, ok: Boolean(ok), detail: detail });
  }
  function config(wx, extra) {
    var c = {
      baseUrl: 'https://api.test',
      wasmPath: wasmPath,
      wx: wx,
      login: { url: '/login', tokenPath: 'token', expiresInPath: 'expiresIn' },
      check: { url: '/auth', okWhen: { path: 'errCode', equals: 0 } },
    };
    for (var k in extra || {}) c[k] = extra[k];
    return c;
  }
  function twenty(session) {
    var calls = [];
    for (var i = 0; i < 20; i++) calls.push(session.request({ url: '/api/profile' }));
    return Promise.all(calls);
  }
  function allOk(answers) {
    return answers.every(function (a) { return a.statusCode === 200; });
  }

  var shared = createWx({ schedule: 'jitter' });
  var cold = createWx({ schedule: 'jitter' });
  var invalid = createWx({ schedule: 'jitter' });

  return Promise.resolve()
    .then(function () {
      return createSession(config(shared.wx)).ensure();
    })
    .then(function (ready) {
      check('first launch logs in', ready.source === 'login' && shared.counts.login === 1, ready.source + ', wx.login x' + shared.counts.login);
      check('only the token is stored', JSON.stringify(shared.storage).indexOf('NEVER-STORED') < 0 && shared.storage.token.v === 1, Object.keys(shared.storage.token).join(','));
      return createSession(config(shared.wx)).ensure();
    })
    .then(function (ready) {
      check('relaunch reuses the stored token', ready.source === 'storage' && shared.counts.login === 1, ready.source + ', wx.login x' + shared.counts.login);
      return twenty(createSession(config(cold.wx)));
    })
    .then(function (answers) {
      check('20 concurrent requests on a cold start: one login', allOk(answers) && cold.counts.login === 1 && cold.backend.logins === 1, 'wx.login x' + cold.counts.login);
      cold.revokeAll();
      var session = createSession(config(cold.wx));
      return session.ensure().then(function () { return twenty(session); });
    })
    .then(function (answers) {
      check('20 concurrent requests with a revoked token: one re-login', allOk(answers) && cold.counts.login === 2, 'wx.login x' + cold.counts.login);
      invalid.backend.alwaysInvalid = true;
      var session = createSession(config(invalid.wx, { check: null }));
      var calls = [];
      for (var i = 0; i < 20; i++) {
        calls.push(session.request({ url: '/api/profile' }).then(function () { return 'resolved'; }, function (e) { return e.code; }));
      }
      return Promise.all(calls);
    })
    .then(function (codes) {
      var expired = codes.every(function (c) { return c === 'SESSION_EXPIRED'; });
      check('always-invalid server: bounded logins, SESSION_EXPIRED', expired && invalid.backend.logins === 2, codes[0] + ', logins ' + invalid.backend.logins);
      return results;
    }, function (error) {
      check('flows ran without an unexpected rejection', false, String(error && (error.code || '') + ' ' + (error.message || error)));
      return results;
    });
}

module.exports = { run: run };
