// Hostile cases that depend on the engine (deep recursion, getters, Proxy, promise adoption), in
// plain ES5 for jsc. run(sdk, wasmPath) resolves to [{ name, ok, detail, contract }]: each case
// settles within its bound with the expected outcome, then a new call on the same session and
// on a new session still works. `contract` marks the cases of the contract's letter (a thenable
// answer, a double unsubscribe), which hostile.test.js reports on their own.
'use strict';

var createWx = require('../fakes/wx').createWx;

function run(sdk, wasmPath) {
  var results = [];

  function deep(levels) {
    var value = 'leaf';
    for (var i = 0; i < levels; i++) value = { a: value };
    return value;
  }
  function cyclic() {
    var o = { a: 1 };
    o.self = o;
    return o;
  }
  function sparse() {
    var a = [];
    a.length = 4294967295;
    return a;
  }
  function evilError() {
    return Object.defineProperty(new Error(), 'message', { get: function () { throw new Error('message getter'); } });
  }

  // How `promise` settled within `ms`: { ok, value } | { ok: false, code, error } | { hang: true }.
  function outcome(promise, ms) {
    return new Promise(function (resolve) {
      var done = false;
      var finish = function (r) { if (!done) { done = true; resolve(r); } };
      setTimeout(function () { finish({ hang: true }); }, ms || 3000);
      promise.then(function (value) { finish({ ok: true, value: value }); }, function (error) { finish({ ok: false, code: error && error.code, error: error }); });
    });
  }
  function show(r) {
    if (r.hang) return 'hung';
    if (r.ok) return 'resolved ' + (r.value && r.value.statusCode !== undefined ? r.value.statusCode : JSON.stringify(r.value));
    return 'rejected ' + (r.error && r.error.name) + '/' + r.code + ': ' + String(r.error && r.error.message).slice(0, 120);
  }
  // Allowed: 'ok' or error codes; never INTERNAL, never a raw error.
  function settledAs(r, allowed) {
    if (r.hang) return false;
    if (r.ok) return allowed.indexOf('ok') >= 0;
    return sdk.isWxSessionError(r.error) && r.code !== 'INTERNAL' && allowed.indexOf(r.code) >= 0;
  }

  // A world: the fake wx (its storage handed back as planted; `answerOnce(call)` → an answer for
  // the next request it gives one for) and a session factory.
  function world() {
    var w = { answerOnce: null };
    var fake = createWx({
      rawStorage: true,
      respond: function (call) {
        var special = w.answerOnce && w.answerOnce(call);
        if (!special) return undefined;
        w.answerOnce = null;
        return special;
      },
    });
    w.fake = fake;
    w.wx = fake.wx;
    w.create = function (extra) {
      var config = { baseUrl: 'https://api.test', wasmPath: wasmPath, wx: fake.wx, useCheckSession: false, timeoutMs: 300, retries: 0 };
      for (var k in extra) if (Object.prototype.hasOwnProperty.call(extra, k)) config[k] = extra[k];
      return sdk.createSession(config);
    };
    return w;
  }

  // The case's session and a new one can still make an authenticated request.
  function stillWorks(w, session, sameCode) {
    return outcome(session.request({ url: '/api/profile' })).then(function (same) {
      var sameOk = sameCode ? settledAs(same, [sameCode]) : same.ok && same.value.statusCode === 200;
      return outcome(w.create({}).request({ url: '/api/profile' })).then(function (fresh) {
        var freshOk = fresh.ok && fresh.value.statusCode === 200;
        return { ok: sameOk && freshOk, detail: 'same session ' + show(same) + '; new session ' + show(fresh) };
      });
    });
  }

  // One case: `body(w)` resolves to { ok, detail, session, sameCode }.
  function add(name, body, contract) {
    return function () {
      var w = world();
      return Promise.resolve().then(function () { return body(w); }).then(function (r) {
        if (!r.ok || !r.session) return r;
        return stillWorks(w, r.session, r.sameCode).then(function (alive) {
          return { ok: alive.ok, detail: r.detail + ' → ' + alive.detail };
        });
      }).then(function (r) {
        results.push({ name: name, ok: r.ok, detail: r.detail, contract: Boolean(contract) });
      }, function (e) {
        results.push({ name: name, ok: false, detail: 'threw ' + e, contract: Boolean(contract) });
      });
    };
  }

  var hostile = { 'deep (3,500 levels)': function () { return deep(3500); }, cyclic: cyclic, 'sparse (length 2^32-1)': sparse };
  var cases = [];
  Object.keys(hostile).forEach(function (label) {
    var make = hostile[label];
    cases.push(add('a ' + label + ' stored record → login', function (w) {
      w.fake.storage.token = make();
      var s = w.create({});
      return outcome(s.ensure()).then(function (r) {
        return { ok: r.ok && r.value.source === 'login', detail: show(r), session: s };
      });
    }));
    cases.push(add('a ' + label + ' login answer token → BAD_RESPONSE', function (w) {
      w.answerOnce = function (call) { return /\/login$/.test(call.url) ? { statusCode: 200, data: { token: make() }, header: {} } : null; };
      var s = w.create({});
      return outcome(s.ensure()).then(function (r) { return { ok: settledAs(r, ['BAD_RESPONSE']), detail: show(r), session: s }; });
    }));
    cases.push(add('a ' + label + ' API field read by invalidWhen → ignored', function (w) {
      w.answerOnce = function (call) { return /\/api\/hostile$/.test(call.url) ? { statusCode: 200, data: { code: make() }, header: {} } : null; };
      var s = w.create({ invalidWhen: [{ status: 401 }, { path: 'code', equals: -1 }] });
      return outcome(s.request({ url: '/api/hostile' })).then(function (r) {
        return { ok: r.ok && r.value.statusCode === 200 && w.fake.counts.login === 1, detail: show(r) + ', wx.login x' + w.fake.counts.login, session: s };
      });
    }));
    cases.push(add('a ' + label + ' rule equals value → CONFIG', function (w) {
      var s = w.create({ invalidWhen: [{ path: 'code', equals: make() }] });
      return outcome(s.ensure()).then(function (r) { return { ok: settledAs(r, ['CONFIG']), detail: show(r), session: s, sameCode: 'CONFIG' }; });
    }));
  });

  cases.push(add('300 requests with a throwing getter on their options → CONFIG each', function (w) {
    var s = w.create({});
    var options = { url: '/api/profile' };
    Object.defineProperty(options, 'header', { enumerable: true, get: function () { throw new Error('getter'); } });
    var i = 0;
    var bad = null;
    function next() {
      if (i++ >= 300 || bad) return { ok: !bad, detail: bad || '300 × CONFIG', session: s };
      return outcome(s.request(options)).then(function (r) { if (r.code !== 'CONFIG') bad = 'call ' + i + ': ' + show(r); return next(); });
    }
    return next();
  }));
  cases.push(add('a config with a throwing getter → CONFIG', function (w) {
    var config = { baseUrl: 'https://api.test', wasmPath: wasmPath, wx: w.wx };
    Object.defineProperty(config, 'retries', { enumerable: true, get: function () { throw new Error('getter'); } });
    return outcome(sdk.createSession(config).ensure()).then(function (r) {
      return { ok: settledAs(r, ['CONFIG']), detail: show(r), session: w.create({}) };
    });
  }));
  cases.push(add('a server token with CR/LF → BAD_RESPONSE, never sent', function (w) {
    w.answerOnce = function (call) { return /\/login$/.test(call.url) ? { statusCode: 200, data: { token: 'bad\r\nX-Evil: 1' }, header: {} } : null; };
    var s = w.create({});
    return outcome(s.ensure()).then(function (r) {
      var crlf = w.fake.requests().some(function (call) { return /[\r\n]/.test(JSON.stringify(call.header || {}).replace(/\\[rn]/g, '\n')); });
      return { ok: settledAs(r, ['BAD_RESPONSE']) && !crlf, detail: show(r) + (crlf ? ', a CR/LF header was sent' : ''), session: s };
    });
  }));
  cases.push(add('wx.login never calling back (timeoutMs 300) → WX_LOGIN_FAILED within 2 s', function (w) {
    var login = w.wx.login;
    w.wx.login = function () {};
    var s = w.create({});
    return outcome(s.ensure(), 2000).then(function (r) {
      w.wx.login = login;
      return { ok: settledAs(r, ['WX_LOGIN_FAILED']), detail: show(r), session: s };
    });
  }));
  cases.push(add('login.extra() never settling (timeoutMs 300) → LOGIN_EXTRA_FAILED within 2 s', function (w) {
    var first = true;
    var s = w.create({ login: { extra: function () { if (first) { first = false; return new Promise(function () {}); } return Promise.resolve({}); } } });
    return outcome(s.ensure(), 2000).then(function (r) { return { ok: settledAs(r, ['LOGIN_EXTRA_FAILED']), detail: show(r), session: s }; });
  }));
  cases.push(add('wx.request failing with an Error whose message getter throws → NETWORK', function (w) {
    var request = w.wx.request;
    w.wx.request = function (call) { setTimeout(function () { call.fail(evilError()); }, 1); return {}; };
    var s = w.create({});
    return outcome(s.request({ url: '/api/profile', auth: false }), 2000).then(function (r) {
      w.wx.request = request;
      return { ok: settledAs(r, ['NETWORK']), detail: show(r), session: s };
    });
  }));
  cases.push(add('a success answer with a then() method settles', function (w) {
    w.answerOnce = function (call) { return /\/api\/thenable$/.test(call.url) ? { statusCode: 200, data: {}, header: {}, then: function () {} } : null; };
    var s = w.create({});
    return outcome(s.request({ url: '/api/thenable' }), 2000).then(function (r) {
      return { ok: settledAs(r, ['ok', 'BAD_RESPONSE', 'NETWORK']), detail: show(r), session: s };
    });
  }, true));
  cases.push(add('onChange unsubscribe called twice removes only its own registration', function (w) {
    var s = w.create({});
    var heard = [];
    var listener = function (state) { heard.push(state); };
    var off = s.onChange(listener);
    s.onChange(listener);
    off();
    off();
    return outcome(s.ensure()).then(function (r) {
      return { ok: r.ok && heard.join(',') === 'checking,logging-in,ready', detail: show(r) + ', heard ' + heard.join(','), session: s };
    });
  }, true));

  return cases.reduce(function (chain, next) { return chain.then(next); }, Promise.resolve()).then(function () { return results; });
}

module.exports = { run: run };
