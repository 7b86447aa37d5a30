// Issue 18 from outside, in plain ES5 so it runs on V8 (the strict sandbox) and on jsc (with and
// without JIT), for both builds: access + refresh token pairs (无感刷新) against the fake backend's
// pairs with rotation (tests/fakes/wx.js), the beforeRequest hook, business-code failures
// (api.failWhen → API_ERROR) and a login the user must act on (authRequiredWhen +
// onAuthRequired). run(sdk, wasmPath) resolves to [{ name, ok, detail }]; each case is bounded
// (a hang is a result). wasmPath is undefined for the JavaScript build.
'use strict';

var fakes = require('../fakes/wx');
var createWx = fakes.createWx;
var sign = fakes.sign;

function run(sdk, wasmPath) {
  var results = [];

  function outcome(promise, ms) {
    return new Promise(function (resolve) {
      var done = false;
      var started = Date.now();
      var finish = function (r) {
        if (done) return;
        done = true;
        r.elapsed = Date.now() - started;
        resolve(r);
      };
      setTimeout(function () { finish({ hang: true }); }, ms || 5000);
      promise.then(function (value) { finish({ ok: true, value: value }); }, function (error) {
        finish({ ok: false, code: error && error.code, message: error && error.message, error: error });
      });
    });
  }

  function show(r) {
    if (r.hang) return 'hung';
    return r.ok ? 'resolved ' + (r.value && r.value.statusCode) : 'rejected ' + r.code + ': ' + r.message;
  }

  function later(ms) {
    return new Promise(function (resolve) { setTimeout(resolve, ms); });
  }

  // Resolves true once `predicate()` holds (polled), false after `ms`.
  function until(predicate, ms) {
    var end = Date.now() + (ms || 3000);
    return new Promise(function (resolve) {
      (function poll() {
        if (predicate()) return resolve(true);
        if (Date.now() > end) return resolve(false);
        setTimeout(poll, 2);
      })();
    });
  }

  function session(fake, config) {
    var base = { baseUrl: 'https://api.test', useCheckSession: false, wx: fake.wx };
    if (wasmPath) base.wasmPath = wasmPath;
    for (var k in config) base[k] = config[k];
    return sdk.createSession(base);
  }

  function merge(a, b) {
    var out = {};
    var k;
    for (k in a) out[k] = a[k];
    for (k in b) out[k] = b[k];
    return out;
  }

  // The config of a backend with access + refresh pairs (login.refreshTokenPath left to its
  // default: refresh.refreshTokenPath).
  var PAIRS = {
    login: { expiresInPath: 'expiresIn' },
    refresh: { url: '/refresh', expiresInPath: 'expiresIn' },
  };
  function pairs(extra) {
    return merge(PAIRS, extra || {});
  }
  // The same against a { code, msg, data } backend.
  var BUSINESS = {
    login: { tokenPath: 'data.token', expiresInPath: 'data.expiresIn', refreshTokenPath: 'data.refreshToken', okWhen: { path: 'code', equals: 0 } },
    refresh: { url: '/refresh', tokenPath: 'data.token', refreshTokenPath: 'data.refreshToken', expiresInPath: 'data.expiresIn', okWhen: { path: 'code', equals: 0 } },
    invalidWhen: [{ status: 401 }, { path: 'code', equals: -1 }],
    api: { failWhen: [{ path: 'code', notEquals: 0 }], messagePath: 'msg' },
  };

  function isLogin(o) {
    return /\/login(\?|$)/.test(o.url);
  }
  function isRefresh(o) {
    return /\/refresh(\?|$)/.test(o.url);
  }
  // The access token each exchange to `path` carried, in order.
  function tokensTo(fake, path) {
    return fake.sentTo(path).map(function (e) { return e.options.header && e.options.header.token; });
  }
  function sentRefreshTokens(fake) {
    return fake.refreshes().map(function (r) { return r.refreshToken + '→' + r.status; }).join(', ');
  }
  // n concurrent GETs of /api/n/0 … /api/n/(n-1), each bounded.
  function burst(s, n, prefix) {
    var all = [];
    for (var i = 0; i < n; i++) all.push(outcome(s.request({ url: (prefix || '/api/n/') + i }), 8000));
    return Promise.all(all);
  }
  function allOk(list) {
    return list.every(function (r) { return r.ok && r.value.statusCode === 200; });
  }
  function firstBad(list) {
    var bad = list.filter(function (r) { return !(r.ok && r.value.statusCode === 200); });
    return bad.length ? bad.length + ' failed (' + show(bad[0]) + ')' : 'all succeeded';
  }
  function keysOf(o) {
    return o && typeof o === 'object' ? Object.keys(o).sort().join(',') : String(o);
  }

  var cases = [
    // ---- access + refresh pairs ------------------------------------------------------------------
    ['20 concurrent requests after the access token expired at the server: one /refresh, no wx.login, 20 successes, each retried once with the new token', function () {
      var fake = createWx({ schedule: 2, pairs: true });
      var s = session(fake, pairs());
      return s.ensure().then(function () {
        fake.revokeAccess();
        return burst(s, 20);
      }).then(function (all) {
        var retried = 0;
        for (var i = 0; i < 20; i++) if (tokensTo(fake, '/api/n/' + i).join() === 'tok-1,tok-2') retried++;
        var record = fake.storage.token;
        return [allOk(all) && fake.refreshes().length === 1 && fake.counts.login === 1 && retried === 20 && s.token() === 'tok-2' &&
          record.token === 'tok-2' && record.refreshToken === 'ref-2',
          firstBad(all) + '; refreshes: ' + sentRefreshTokens(fake) + '; wx.login ×' + fake.counts.login + '; ' + retried + '/20 sent as tok-1 then tok-2; token() ' + s.token() +
          '; stored ' + record.token + '/' + record.refreshToken];
      });
    }],
    ['20 concurrent requests after the access token expired by its lifetime (known from expiresIn): one /refresh first, no wx.login, none sent with the old token', function () {
      var fake = createWx({ schedule: 2, pairs: true, accessTtl: 1 });
      var s = session(fake, pairs());
      return s.ensure().then(function () {
        return later(1100);
      }).then(function () {
        return burst(s, 20);
      }).then(function (all) {
        var old = fake.requests().filter(function (o) { return /\/api\/n\//.test(o.url) && o.header.token !== 'tok-2'; }).length;
        return [allOk(all) && fake.refreshes().length === 1 && fake.counts.login === 1 && old === 0 && fake.counts.request === 1 + 1 + 20,
          firstBad(all) + '; refreshes: ' + sentRefreshTokens(fake) + '; wx.login ×' + fake.counts.login + '; ' + old + ' API sends without tok-2; wx.request ×' + fake.counts.request];
      });
    }],
    ['proactive: a call within aheadMs of a known expiry (at most half the lifetime) refreshes before it goes out; the API never sees the old token afterwards', function () {
      // A 2 s token: aheadMs (60 s) is capped at half its life, so it is replaced from 1 s on,
      // while the server still takes it (it would take it until 2 s).
      var fake = createWx({ schedule: 2, pairs: true, accessTtl: 2 });
      var s = session(fake, pairs({ refresh: { url: '/refresh', expiresInPath: 'expiresIn', aheadMs: 60000 } }));
      var early;
      return s.ensure().then(function () {
        return outcome(s.request({ url: '/api/early' }));
      }).then(function (r) {
        early = r;
        return later(1150);
      }).then(function () {
        return Promise.all([outcome(s.request({ url: '/api/late/1' })), outcome(s.request({ url: '/api/late/2' }))]);
      }).then(function (late) {
        var lateTokens = tokensTo(fake, '/api/late/1').concat(tokensTo(fake, '/api/late/2'));
        return [early.ok && tokensTo(fake, '/api/early').join() === 'tok-1' && allOk(late) && lateTokens.join() === 'tok-2,tok-2' &&
          fake.refreshes().length === 1 && fake.counts.login === 1,
          'early ' + show(early) + ' with ' + tokensTo(fake, '/api/early').join() + '; late ' + firstBad(late) + ' with ' + lateTokens.join() +
          '; refreshes: ' + sentRefreshTokens(fake) + '; wx.login ×' + fake.counts.login];
      });
    }],
    ['a refused refresh (401): exactly one wx.login shared by 20 calls, all succeed; the refused refresh token is never sent again', function () {
      var fake = createWx({ schedule: 2, pairs: true });
      var s = session(fake, pairs());
      var first;
      return s.ensure().then(function () {
        fake.revokeAccess();
        fake.revokeRefresh();
        return burst(s, 20);
      }).then(function (all) {
        first = all;
        fake.revokeAccess();
        return outcome(s.request({ url: '/api/after' }));
      }).then(function (after) {
        var sent = fake.refreshes().map(function (r) { return r.refreshToken; });
        return [allOk(first) && after.ok && fake.counts.login === 2 && sent.join() === 'ref-1,ref-2' && fake.refreshes()[0].status === 401,
          firstBad(first) + '; wx.login ×' + fake.counts.login + '; then ' + show(after) + '; refreshes: ' + sentRefreshTokens(fake)];
      });
    }],
    ['a refresh refused by refresh.okWhen ({ code, msg, data } backend, code 40102): one wx.login, the calls succeed', function () {
      var fake = createWx({ schedule: 2, pairs: true, business: true });
      var s = session(fake, BUSINESS);
      return s.ensure().then(function () {
        fake.revokeAccess();
        fake.revokeRefresh();
        return burst(s, 5);
      }).then(function (all) {
        var codes = all.map(function (r) { return r.ok ? r.value.data.code : r.code; });
        return [allOk(all) && codes.join() === '0,0,0,0,0' && fake.counts.login === 2 && fake.refreshes().length === 1,
          firstBad(all) + ', codes ' + codes.join() + '; wx.login ×' + fake.counts.login + '; refreshes: ' + sentRefreshTokens(fake)];
      });
    }],
    ['a refresh answered 200 without a token counts as refused: one wx.login, then the retry succeeds', function () {
      var fake = createWx({ schedule: 2, pairs: true, respond: function (o) { return isRefresh(o) ? { statusCode: 200, data: { msg: 'no token today' } } : undefined; } });
      var s = session(fake, pairs());
      return s.ensure().then(function () {
        fake.revokeAccess();
        return burst(s, 3);
      }).then(function (all) {
        return [allOk(all) && fake.counts.login === 2 && fake.sentTo('/refresh').length === 1,
          firstBad(all) + '; wx.login ×' + fake.counts.login + '; /refresh ×' + fake.sentTo('/refresh').length];
      });
    }],
    ['a { code, msg, data } backend answering code -1 while a refresh token is held: one refresh (okWhen, data.* paths), no wx.login', function () {
      var fake = createWx({ schedule: 2, pairs: true, business: true });
      var s = session(fake, BUSINESS);
      return s.ensure().then(function () {
        fake.revokeAccess();
        return burst(s, 5);
      }).then(function (all) {
        var codes = all.map(function (r) { return r.ok ? r.value.data.code : r.code; });
        return [allOk(all) && codes.join() === '0,0,0,0,0' && fake.counts.login === 1 && sentRefreshTokens(fake) === 'ref-1→200' && s.token() === 'tok-2' &&
          fake.storage.token.refreshToken === 'ref-2',
          firstBad(all) + ', codes ' + codes.join() + '; wx.login ×' + fake.counts.login + '; refreshes: ' + sentRefreshTokens(fake) + '; token() ' + s.token()];
      });
    }],
    ['a refresh is invisible to onChange: no "checking" or "logging-in", the state stays "ready"', function () {
      var fake = createWx({ schedule: 2, pairs: true });
      var s = session(fake, pairs());
      var states = [];
      return s.ensure().then(function () {
        s.onChange(function (state, error) { states.push(state + (error ? ' ' + error.code : '')); });
        fake.revokeAccess();
        return burst(s, 3);
      }).then(function (all) {
        return [allOk(all) && fake.refreshes().length === 1 && states.filter(function (x) { return x !== 'ready'; }).length === 0,
          firstBad(all) + '; onChange: ' + (states.join(', ') || 'nothing')];
      });
    }],
    ['a refused refresh whose login then fails: the refused refresh token is dropped from storage too, so a relaunch never sends it again', function () {
      var fake = createWx({ schedule: 2, pairs: true });
      var s = session(fake, pairs({ retries: 0 }));
      return s.ensure().then(function () {
        fake.revokeAccess();
        fake.revokeRefresh();
        fake.backend.refuseLogins = true;
        return outcome(s.request({ url: '/api/1' }));
      }).then(function (failed) {
        fake.backend.refuseLogins = false;
        var stored = fake.storage.token ? fake.storage.token.refreshToken : 'no record';
        var relaunched = session(fake, pairs({ retries: 0 }));
        return outcome(relaunched.request({ url: '/api/2' })).then(function (r) { return [failed, r, stored]; });
      }).then(function (r) {
        var sent = fake.refreshes().map(function (x) { return x.refreshToken; });
        return [r[0].ok === false && r[1].ok && r[1].value.statusCode === 200 && sent.join() === 'ref-1',
          'first ' + show(r[0]) + '; refresh token still stored after it: ' + r[2] + '; relaunch ' + show(r[1]) + '; refresh tokens sent ' + sent.join() +
          '; wx.login ×' + fake.counts.login];
      });
    }],
    ['logout() while a refresh is in flight: the waiting call rejects LOGGED_OUT, the refreshed pair is neither stored nor used', function () {
      var fake = createWx({ schedule: 2, pairs: true });
      var s = session(fake, pairs());
      var call;
      return s.ensure().then(function () {
        fake.hold(function (kind, o) { return isRefresh(o); });
        fake.revokeAccess();
        call = outcome(s.request({ url: '/api/x' }));
        return until(function () { return fake.sentTo('/refresh').length === 1; });
      }).then(function () {
        return s.logout();
      }).then(function () {
        fake.release();
        return call;
      }).then(function (r) {
        return later(50).then(function () {
          var stored = Object.prototype.hasOwnProperty.call(fake.storage, 'token') ? JSON.stringify(fake.storage.token) : 'none';
          return [r.code === 'LOGGED_OUT' && stored === 'none' && s.token() === null && tokensTo(fake, '/api/x').join() === 'tok-1',
            show(r) + '; stored ' + stored + '; token() ' + s.token() + '; /api/x sent with ' + tokensTo(fake, '/api/x').join()];
        });
      });
    }],
    ['a 401 arriving after logout() starts no refresh and sends nothing again', function () {
      var fake = createWx({ schedule: 2, pairs: true });
      var s = session(fake, pairs());
      var call;
      return s.ensure().then(function () {
        fake.hold(function (kind, o) { return /\/api\/slow/.test(o.url); });
        call = outcome(s.request({ url: '/api/slow' }));
        return until(function () { return fake.sentTo('/api/slow').length === 1; });
      }).then(function () {
        return s.logout();
      }).then(function () {
        fake.revokeAccess();
        fake.release();
        return call;
      }).then(function (r) {
        return later(50).then(function () {
          return [r.code === 'LOGGED_OUT' && fake.refreshes().length === 0 && fake.sentTo('/api/slow').length === 1 && fake.counts.login === 1,
            show(r) + '; refreshes ' + fake.refreshes().length + '; /api/slow sent ' + fake.sentTo('/api/slow').length + '; wx.login ×' + fake.counts.login];
        });
      });
    }],
    ['rotation: each refresh sends the newest refresh token; one rotated away is never sent again', function () {
      var fake = createWx({ schedule: 2, pairs: true });
      var s = session(fake, pairs());
      var answers = [];
      function expireAndCall(i) {
        fake.revokeAccess();
        return outcome(s.request({ url: '/api/r/' + i })).then(function (r) { answers.push(r); });
      }
      return s.ensure().then(function () { return expireAndCall(1); }).then(function () { return expireAndCall(2); }).then(function () {
        return expireAndCall(3);
      }).then(function () {
        var sent = fake.refreshes().map(function (r) { return r.refreshToken; });
        var refused = fake.refreshes().filter(function (r) { return r.status !== 200; }).length;
        return [allOk(answers) && sent.join() === 'ref-1,ref-2,ref-3' && refused === 0 && fake.storage.token.refreshToken === 'ref-4' && fake.counts.login === 1,
          firstBad(answers) + '; refreshes: ' + sentRefreshTokens(fake) + '; stored refresh token ' + fake.storage.token.refreshToken + '; wx.login ×' + fake.counts.login];
      });
    }],
    ['no rotation (the refresh answer has no refreshToken): the refresh token is kept and sent again', function () {
      var fake = createWx({ schedule: 2, pairs: true, rotate: false });
      var s = session(fake, pairs());
      return s.ensure().then(function () {
        fake.revokeAccess();
        return outcome(s.request({ url: '/api/1' }));
      }).then(function (one) {
        fake.revokeAccess();
        return outcome(s.request({ url: '/api/2' })).then(function (two) { return [one, two]; });
      }).then(function (both) {
        var sent = fake.refreshes().map(function (r) { return r.refreshToken; });
        return [allOk(both) && sent.join() === 'ref-1,ref-1' && fake.storage.token.refreshToken === 'ref-1' && fake.storage.token.token === 'tok-3' && fake.counts.login === 1,
          firstBad(both) + '; refreshes: ' + sentRefreshTokens(fake) + '; stored ' + fake.storage.token.token + '/' + fake.storage.token.refreshToken];
      });
    }],
    ['a relaunch over an expired stored access token with a valid refresh token: one refresh, no wx.login, no wx.checkSession', function () {
      var fake = createWx({ schedule: 2, pairs: true });
      return session(fake, pairs()).ensure().then(function () {
        var record = fake.storage.token;
        var now = Date.now();
        record.obtainedAt = now - 7300 * 1000;
        record.expiresAt = now - 100 * 1000;
        fake.revokeAccess();
        var relaunched = session(fake, pairs({ useCheckSession: true }));
        return outcome(relaunched.request({ url: '/api/profile' })).then(function (r) { return [r, relaunched]; });
      }).then(function (both) {
        var r = both[0];
        return [r.ok && r.value.statusCode === 200 && fake.counts.login === 1 && fake.refreshes().length === 1 && fake.counts.checkSession === 0 &&
          tokensTo(fake, '/api/profile').join() === 'tok-2' && fake.storage.token.token === 'tok-2' && fake.storage.token.refreshToken === 'ref-2',
          show(r) + '; wx.login ×' + fake.counts.login + ' (1 is the first launch); refreshes: ' + sentRefreshTokens(fake) + '; checkSession ×' + fake.counts.checkSession +
          '; /api/profile sent with ' + tokensTo(fake, '/api/profile').join()];
      });
    }],
    ['a relaunch whose server check (check.policy "always") refuses the stored access token while a refresh token is held: one refresh, no wx.login', function () {
      var fake = createWx({ schedule: 2, pairs: true });
      var config = pairs({ check: { url: '/auth', okWhen: { path: 'errCode', equals: 0 }, policy: 'always' } });
      return session(fake, config).ensure().then(function () {
        fake.revokeAccess(); // expired at the server before the time it said: only the check can tell
        var relaunched = session(fake, config);
        return outcome(relaunched.request({ url: '/api/profile' }));
      }).then(function (r) {
        return [r.ok && r.value.statusCode === 200 && fake.counts.login === 1 && fake.refreshes().length === 1,
          show(r) + '; wx.login ×' + fake.counts.login + ' (1 is the first launch); refreshes: ' + (sentRefreshTokens(fake) || 'none') + '; /auth ×' + fake.sentTo('/auth').length];
      });
    }],
    ['a late 401 for the old access token after the refresh: retried with the new token, no second refresh, the new pair kept', function () {
      var fake = createWx({ schedule: 2, pairs: true });
      var s = session(fake, pairs());
      var slow;
      return s.ensure().then(function () {
        fake.hold(function (kind, o) { return /\/api\/slow/.test(o.url); });
        slow = outcome(s.request({ url: '/api/slow' }), 8000);
        return until(function () { return fake.sentTo('/api/slow').length === 1; });
      }).then(function () {
        fake.revokeAccess();
        return outcome(s.request({ url: '/api/fast' }));
      }).then(function (fast) {
        fake.release();
        return slow.then(function (r) { return [fast, r]; });
      }).then(function (both) {
        return later(30).then(function () {
          var record = fake.storage.token;
          return [allOk(both) && fake.refreshes().length === 1 && fake.counts.login === 1 && tokensTo(fake, '/api/slow').join() === 'tok-1,tok-2' &&
            s.token() === 'tok-2' && record.token === 'tok-2' && record.refreshToken === 'ref-2',
            firstBad(both) + '; refreshes: ' + sentRefreshTokens(fake) + '; wx.login ×' + fake.counts.login + '; slow sent with ' + tokensTo(fake, '/api/slow').join() +
            '; token() ' + s.token() + '; stored ' + record.token + '/' + record.refreshToken];
        });
      });
    }],
    ['a late 401 for the old access token while the refresh is in flight: it waits for that one refresh', function () {
      var fake = createWx({ schedule: 2, pairs: true });
      var s = session(fake, pairs());
      var slow;
      var fast;
      var isSlow = function (kind, o) { return /\/api\/slow/.test(o.url); };
      return s.ensure().then(function () {
        fake.hold(function (kind, o) { return isSlow(kind, o) || isRefresh(o); });
        slow = outcome(s.request({ url: '/api/slow' }), 8000);
        return until(function () { return fake.sentTo('/api/slow').length === 1; });
      }).then(function () {
        fake.revokeAccess();
        fast = outcome(s.request({ url: '/api/fast' }), 8000);
        return until(function () { return fake.sentTo('/refresh').length === 1; });
      }).then(function () {
        fake.release(isSlow);
        return until(function () { return fake.sentTo('/api/slow')[0].answered; }).then(function () { return later(20); });
      }).then(function () {
        fake.release();
        return Promise.all([slow, fast]);
      }).then(function (both) {
        return [allOk(both) && fake.refreshes().length === 1 && fake.counts.login === 1 && tokensTo(fake, '/api/slow').join() === 'tok-1,tok-2' &&
          tokensTo(fake, '/api/fast').join() === 'tok-1,tok-2' && s.token() === 'tok-2',
          firstBad(both) + '; refreshes: ' + sentRefreshTokens(fake) + '; wx.login ×' + fake.counts.login + '; slow ' + tokensTo(fake, '/api/slow').join() +
          ', fast ' + tokensTo(fake, '/api/fast').join()];
      });
    }],
    ['no refresh token in any onReport event, error message, onChange error, console line or URL; onReport has kind "refresh" events', function () {
      var failRefresh = 0;
      var fake = createWx({
        schedule: 2,
        pairs: true,
        respond: function (o) {
          if (!isRefresh(o) || failRefresh <= 0) return undefined;
          failRefresh -= 1;
          return { statusCode: 503, data: { error: 'busy', echo: o.data } };
        },
      });
      var events = [];
      var changes = [];
      var errors = [];
      var lines = [];
      var methods = ['log', 'info', 'warn', 'error', 'debug'];
      var saved = {};
      methods.forEach(function (m) {
        saved[m] = console[m];
        console[m] = function () { lines.push(Array.prototype.join.call(arguments, ' ')); };
      });
      function restore() {
        methods.forEach(function (m) { console[m] = saved[m]; });
      }
      var s = session(fake, pairs({ retries: 1, onReport: function (e) { events.push(e); } }));
      s.onChange(function (state, error) { changes.push(state + (error ? ' ' + error.code + ' ' + error.message + ' ' + error.stack : '')); });
      function keep(r) {
        if (!r.ok && r.error) errors.push(r.code + ' ' + r.message + ' ' + r.error.stack + ' ' + String(r.error));
        return r;
      }
      return s.ensure().then(function () {
        fake.revokeAccess();
        return outcome(s.request({ url: '/api/1' })).then(keep); // refreshed
      }).then(function () {
        fake.revokeAccess();
        failRefresh = 2;
        return outcome(s.request({ url: '/api/2' })).then(keep); // the refresh fails twice: the call fails
      }).then(function () {
        return outcome(s.request({ url: '/api/3' })).then(keep); // the kept refresh token works
      }).then(function () {
        fake.revokeAccess();
        fake.revokeRefresh();
        return outcome(s.request({ url: '/api/4' })).then(keep); // refused: a login
      }).then(function () {
        return outcome(s.logout()).then(keep);
      }).then(function () {
        restore();
        var refreshTokens = fake.backend.refreshTokens;
        var urls = fake.sent.map(function (e) { return e.options.url; });
        var texts = { onReport: JSON.stringify(events), errors: errors.join('\n'), onChange: changes.join('\n'), console: lines.join('\n'), urls: urls.join('\n') };
        var leaks = [];
        for (var where in texts) {
          for (var i = 0; i < refreshTokens.length; i++) if (texts[where].indexOf(refreshTokens[i]) >= 0) leaks.push(refreshTokens[i] + ' in ' + where);
        }
        var kinds = events.filter(function (e) { return e.kind === 'refresh'; });
        var good = kinds.filter(function (e) { return e.ok && e.status === 200 && e.url === '/refresh' && e.method === 'POST'; });
        var failed = kinds.filter(function (e) { return !e.ok && e.status === 503; });
        var refused = kinds.filter(function (e) { return !e.ok && e.status === 401; });
        return [leaks.length === 0 && refreshTokens.length >= 3 && errors.length >= 1 && good.length === 2 && failed.length === 2 && refused.length === 1,
          (leaks.length ? 'LEAKED: ' + leaks.join(', ') : 'no leak of ' + refreshTokens.join(',')) + '; errors seen: ' + errors.length +
          '; refresh events: ' + kinds.map(function (e) { return e.status + (e.ok ? ' ok' : ' ' + e.code); }).join(', ') + '; event keys: ' + keysOf(kinds[0])];
      }, function (e) {
        restore();
        throw e;
      });
    }],
    ['a refresh failing (network, then 503): retried, then the call fails; the refresh token is kept and swaps the token on the next call, no wx.login', function () {
      var failures = [];
      var fake = createWx({
        schedule: 2,
        pairs: true,
        respond: function (o) {
          if (!isRefresh(o) || !failures.length) return undefined;
          return failures.shift();
        },
      });
      var s = session(fake, pairs({ retries: 1 }));
      return s.ensure().then(function () {
        fake.revokeAccess();
        failures = [{ errMsg: 'request:fail -101 net::ERR_CONNECTION_RESET' }, { statusCode: 503, data: {} }];
        return outcome(s.request({ url: '/api/a' }), 8000);
      }).then(function (failed) {
        return outcome(s.request({ url: '/api/b' })).then(function (next) { return [failed, next]; });
      }).then(function (both) {
        var sent = fake.sentTo('/refresh').map(function (e) { return e.options.data && e.options.data.refreshToken; });
        return [both[0].ok === false && (both[0].code === 'SERVER_REJECTED' || both[0].code === 'NETWORK') && both[1].ok && both[1].value.statusCode === 200 &&
          sent.join() === 'ref-1,ref-1,ref-1' && fake.counts.login === 1 && s.token() === 'tok-2',
          'first ' + show(both[0]) + '; next ' + show(both[1]) + '; refresh tokens sent ' + sent.join() + '; wx.login ×' + fake.counts.login];
      });
    }],
    ['logout() forgets both tokens: storage key removed, token() null; the next call logs in and the old refresh token is never sent', function () {
      var fake = createWx({ schedule: 2, pairs: true });
      var s = session(fake, pairs());
      var afterLogout;
      return s.ensure().then(function () {
        return s.logout();
      }).then(function () {
        afterLogout = { stored: Object.prototype.hasOwnProperty.call(fake.storage, 'token') ? JSON.stringify(fake.storage.token) : 'none', token: s.token() };
        fake.revokeAccess();
        return outcome(s.request({ url: '/api/profile' }));
      }).then(function (r) {
        var relaunched = session(fake, pairs());
        return outcome(relaunched.request({ url: '/api/again' })).then(function (again) { return [r, again]; });
      }).then(function (both) {
        return [afterLogout.stored === 'none' && afterLogout.token === null && allOk(both) && fake.counts.login === 2 && fake.refreshes().length === 0,
          'after logout: stored ' + afterLogout.stored + ', token() ' + afterLogout.token + '; then ' + firstBad(both) + '; wx.login ×' + fake.counts.login +
          '; refreshes: ' + (sentRefreshTokens(fake) || 'none')];
      });
    }],
    ['setToken(token, { refreshToken, expiresIn }) installs a pair: stored as { v, token, expiresAt, obtainedAt, refreshToken }, and its refresh token swaps it once refused', function () {
      var fake = createWx({ schedule: 2, pairs: true });
      fake.accept('acc-planted');
      fake.acceptRefresh('ref-planted');
      var s = session(fake, pairs());
      var record;
      return s.setToken('acc-planted', { refreshToken: 'ref-planted', expiresIn: 3600 }).then(function () {
        record = JSON.parse(JSON.stringify(fake.storage.token));
        return outcome(s.request({ url: '/api/1' }));
      }).then(function (one) {
        fake.revokeAccess();
        return outcome(s.request({ url: '/api/2' })).then(function (two) { return [one, two]; });
      }).then(function (both) {
        var shape = keysOf(record) === 'expiresAt,obtainedAt,refreshToken,token,v' && record.v === 1 && record.token === 'acc-planted' &&
          record.refreshToken === 'ref-planted' && record.expiresAt - record.obtainedAt === 3600000;
        return [shape && allOk(both) && tokensTo(fake, '/api/1').join() === 'acc-planted' && tokensTo(fake, '/api/2').join() === 'acc-planted,tok-1' &&
          sentRefreshTokens(fake) === 'ref-planted→200' && fake.counts.login === 0,
          'record ' + JSON.stringify(record).replace(/ref-planted/g, 'REF') + '; ' + firstBad(both) + '; /api/2 sent with ' + tokensTo(fake, '/api/2').join() +
          '; refreshes: ' + sentRefreshTokens(fake) + '; wx.login ×' + fake.counts.login];
      });
    }],
    ['a login with a pair stores { v: 1, token, expiresAt, obtainedAt, refreshToken }; login.refreshTokenPath defaults to refresh.refreshTokenPath', function () {
      var fake = createWx({
        schedule: 2,
        respond: function (o) {
          if (isLogin(o)) return { statusCode: 200, data: { token: 'acc-1', expiresIn: 600, rt: 'r-1' } };
          if (isRefresh(o)) return { statusCode: 200, data: { token: 'acc-2', expiresIn: 600, rt: 'r-2', sent: o.data } };
          return { statusCode: o.header.token === 'acc-1' ? 401 : 200, data: {} };
        },
      });
      var s = session(fake, { login: { expiresInPath: 'expiresIn' }, refresh: { refreshTokenPath: 'rt', expiresInPath: 'expiresIn' } });
      var record;
      return s.ensure().then(function () {
        record = JSON.parse(JSON.stringify(fake.storage.token));
        return outcome(s.request({ url: '/api/x' }));
      }).then(function (r) {
        var sent = fake.sentTo('/refresh').map(function (e) { return JSON.stringify(e.options.data); });
        var ok = keysOf(record) === 'expiresAt,obtainedAt,refreshToken,token,v' && record.v === 1 && record.refreshToken === 'r-1' &&
          record.expiresAt - record.obtainedAt === 600000 && r.ok && r.value.statusCode === 200 && sent.join() === '{"refreshToken":"r-1"}' &&
          fake.storage.token.refreshToken === 'r-2' && fake.counts.login === 1;
        return [ok, 'record keys ' + keysOf(record) + ', refresh token ' + record.refreshToken + '; ' + show(r) + '; refresh bodies ' + sent.join() +
          '; stored after ' + fake.storage.token.refreshToken];
      });
    }],
    ['refresh.tokenIn "header" with a GET: the refresh token goes in that header only, never in a body or a URL', function () {
      var fake = createWx({ schedule: 2, pairs: true });
      var s = session(fake, pairs({ refresh: { url: '/refresh', method: 'GET', tokenIn: 'header', key: 'X-Refresh-Token', expiresInPath: 'expiresIn' } }));
      return s.ensure().then(function () {
        fake.revokeAccess();
        return outcome(s.request({ url: '/api/x' }));
      }).then(function (r) {
        var sent = fake.sentTo('/refresh')[0];
        var o = sent ? sent.options : {};
        var ok = r.ok && r.value.statusCode === 200 && o.method === 'GET' && o.header && o.header['X-Refresh-Token'] === 'ref-1' &&
          o.url.indexOf('ref-') < 0 && (o.data === undefined || JSON.stringify(o.data).indexOf('ref-') < 0) && fake.refreshes()[0].where === 'header';
        return [ok, show(r) + '; refresh sent: ' + o.method + ' ' + o.url + ' header keys ' + keysOf(o.header) + ' data ' + JSON.stringify(o.data)];
      });
    }],
    ['a refresh config that would send the token where it must not go is refused with CONFIG naming the key', function () {
      var fake = createWx({ schedule: 2 });
      var bad = [
        [{ refresh: { url: 'https://evil.test/refresh' } }, 'refresh.url'],
        [{ refresh: { method: 'GET' } }, 'refresh.tokenIn'],
        [{ refresh: { tokenIn: 'header', key: 'bad header' } }, 'refresh.key'],
        [{ refresh: { aheadMs: -1 } }, 'refresh.aheadMs'],
        [{ refresh: { nope: 1 } }, 'refresh.nope'],
      ];
      return Promise.all(bad.map(function (b) { return outcome(session(fake, b[0]).ensure()); })).then(function (all) {
        var wrong = [];
        all.forEach(function (r, i) {
          if (r.code !== 'CONFIG' || !r.error || r.error.key !== bad[i][1]) wrong.push(bad[i][1] + ': ' + show(r) + ' key ' + (r.error && r.error.key));
        });
        return [wrong.length === 0 && fake.counts.login === 0, wrong.join('; ') || 'each refused with its key'];
      });
    }],

    // ---- beforeRequest ----------------------------------------------------------------------------
    ['a signing hook: every request the API sees carries a signature over its own token, URL and attempt: first sends, the retry after a refresh, after a re-login, after a network failure', function () {
      var flaky = 1;
      var fake = createWx({
        schedule: 2,
        pairs: true,
        respond: function (o) {
          if (/\/api\/flaky/.test(o.url) && flaky > 0) {
            flaky -= 1;
            return { errMsg: 'request:fail -101 net::ERR_CONNECTION_RESET' };
          }
          return undefined;
        },
      });
      fake.backend.verify = function (o) {
        return o.header['X-Sign'] === sign(o.header.token + ' ' + o.url + ' ' + o.header['X-Attempt']);
      };
      var seen = [];
      var s = session(fake, pairs({
        beforeRequest: function (options, info) {
          seen.push({ url: options.url, token: options.header && options.header.token, attempt: info && info.attempt });
          options.header['X-Attempt'] = String(info.attempt);
          options.header['X-Sign'] = sign(options.header.token + ' ' + options.url + ' ' + info.attempt);
        },
      }));
      var answers = [];
      function keep(list) { answers = answers.concat(list); }
      return s.ensure().then(function () {
        return burst(s, 3, '/api/first/');
      }).then(function (a) {
        keep(a);
        fake.revokeAccess();
        return burst(s, 3, '/api/refreshed/');
      }).then(function (a) {
        keep(a);
        fake.revokeAll(); // the refresh token too: a re-login
        return burst(s, 3, '/api/relogged/');
      }).then(function (a) {
        keep(a);
        return Promise.all([outcome(s.request({ url: '/api/flaky' })), outcome(s.uploadFile({ url: '/api/up', filePath: 'wxfile://a.png', name: 'f' })),
          outcome(s.downloadFile({ url: '/api/down' }))]);
      }).then(function (a) {
        keep(a);
        var api = fake.sent.filter(function (e) { return /\/api\//.test(e.options.url) && e.answered; });
        var unsigned = api.filter(function (e) {
          var h = e.options.header || {};
          return h['X-Sign'] !== sign(h.token + ' ' + e.options.url + ' ' + h['X-Attempt']);
        });
        var retries = seen.filter(function (c) { return c.attempt === 2; }).length;
        var tokenless = seen.filter(function (c) { return !c.token; }).length;
        return [allOk(answers) && unsigned.length === 0 && fake.backend.badSignatures === 0 && retries === 7 && tokenless === 0 && seen.length === api.length,
          firstBad(answers) + '; ' + api.length + ' API sends, ' + unsigned.length + ' badly signed, server refused ' + fake.backend.badSignatures +
          '; hook calls ' + seen.length + ' (' + retries + ' with attempt 2, ' + tokenless + ' without the token in the header)'];
      });
    }],
    ['beforeRequest may return new options, or a Promise of them: those go out', function () {
      var fake = createWx({ schedule: 2 });
      var s = session(fake, {
        beforeRequest: function (options) {
          var fresh = { url: options.url, method: options.method, header: merge(options.header, { 'X-New': 'object' }), data: { replaced: true } };
          if (/promise/.test(options.url)) {
            return new Promise(function (resolve) {
              setTimeout(function () { resolve(merge(fresh, { header: merge(options.header, { 'X-New': 'promise' }) })); }, 5);
            });
          }
          return fresh;
        },
      });
      return Promise.all([outcome(s.request({ url: '/api/object', data: { a: 1 } })), outcome(s.request({ url: '/api/promise', data: { a: 1 } }))]).then(function (both) {
        var o1 = (fake.sentTo('/api/object')[0] || {}).options || {};
        var o2 = (fake.sentTo('/api/promise')[0] || {}).options || {};
        var ok = allOk(both) && o1.header['X-New'] === 'object' && o1.data.replaced === true && o2.header['X-New'] === 'promise' && o2.header.token === 'tok-1';
        return [ok, firstBad(both) + '; object sent ' + JSON.stringify(o1.header) + ' ' + JSON.stringify(o1.data) + '; promise sent ' + JSON.stringify(o2.header)];
      });
    }],
    ['beforeRequest is not called for the SDK\'s own login, check and refresh; it is for every send of request, uploadFile and downloadFile', function () {
      var fake = createWx({ schedule: 2, pairs: true });
      var calls = [];
      var config = pairs({
        check: { url: '/auth', okWhen: { path: 'errCode', equals: 0 }, policy: 'always' },
        beforeRequest: function (options, info) { calls.push(fake.pathOf(options.url) + '#' + info.attempt); },
      });
      var s;
      return session(fake, config).ensure().then(function () {
        s = session(fake, config); // a relaunch: /auth checks the stored token
        return outcome(s.request({ url: '/api/a' }));
      }).then(function () {
        fake.revokeAccess();
        return Promise.all([outcome(s.request({ url: '/api/b' })), outcome(s.uploadFile({ url: '/api/up', filePath: 'wxfile://a.png', name: 'f' })),
          outcome(s.downloadFile({ url: '/api/down' }))]);
      }).then(function (all) {
        var own = calls.filter(function (c) { return /^\/(login|auth|refresh)#/.test(c); });
        var apiSends = fake.sent.filter(function (e) { return /\/api\//.test(e.options.url); }).length;
        return [allOk(all) && own.length === 0 && calls.length === apiSends && fake.sentTo('/auth').length === 1 && fake.sentTo('/refresh').length === 1,
          firstBad(all) + '; hook calls: ' + calls.join(' ') + ' (API sends ' + apiSends + '); /login ×' + fake.sentTo('/login').length + ' /auth ×' +
          fake.sentTo('/auth').length + ' /refresh ×' + fake.sentTo('/refresh').length];
      });
    }],
    ['a throwing hook: BEFORE_REQUEST_FAILED with its message, nothing sent, the session keeps working', function () {
      var fake = createWx({ schedule: 2 });
      var s = session(fake, {
        beforeRequest: function (options) {
          if (/\/api\/bad/.test(options.url)) throw new Error('signing key missing');
        },
      });
      return s.ensure().then(function () {
        return outcome(s.request({ url: '/api/bad', method: 'POST', data: { n: 1 } }));
      }).then(function (bad) {
        return outcome(s.request({ url: '/api/good' })).then(function (good) { return [bad, good]; });
      }).then(function (r) {
        var bad = r[0];
        return [bad.code === 'BEFORE_REQUEST_FAILED' && sdk.isWxSessionError(bad.error) && /signing key missing/.test(bad.message) &&
          fake.sentTo('/api/bad').length === 0 && r[1].ok && r[1].value.statusCode === 200 && fake.counts.login === 1 && s.token() === 'tok-1',
          'bad ' + show(bad) + ', sent ' + fake.sentTo('/api/bad').length + '; good ' + show(r[1]) + '; wx.login ×' + fake.counts.login];
      });
    }],
    ['a rejecting hook: BEFORE_REQUEST_FAILED, nothing sent, the session keeps working', function () {
      var fake = createWx({ schedule: 2 });
      var s = session(fake, {
        beforeRequest: function (options) {
          if (/\/api\/bad/.test(options.url)) return Promise.reject(new Error('keystore locked'));
          return undefined;
        },
      });
      return outcome(s.request({ url: '/api/bad' })).then(function (bad) {
        return outcome(s.request({ url: '/api/good' })).then(function (good) { return [bad, good]; });
      }).then(function (r) {
        return [r[0].code === 'BEFORE_REQUEST_FAILED' && /keystore locked/.test(r[0].message) && fake.sentTo('/api/bad').length === 0 && r[1].ok && fake.counts.login === 1,
          'bad ' + show(r[0]) + ', sent ' + fake.sentTo('/api/bad').length + '; good ' + show(r[1])];
      });
    }],
    ['a hook that never settles: the call fails within its time limit (timeout 300 ms) with BEFORE_REQUEST_FAILED, the hook called once, nothing sent', function () {
      var fake = createWx({ schedule: 2 });
      var hookCalls = 0;
      var s = session(fake, {
        beforeRequest: function (options) {
          if (!/\/api\/stuck/.test(options.url)) return undefined;
          hookCalls++;
          return new Promise(function () {});
        },
      });
      return s.ensure().then(function () {
        return outcome(s.request({ url: '/api/stuck', timeout: 300 }), 8000);
      }).then(function (stuck) {
        return outcome(s.request({ url: '/api/good' })).then(function (good) { return [stuck, good]; });
      }).then(function (r) {
        var stuck = r[0];
        return [stuck.code === 'BEFORE_REQUEST_FAILED' && stuck.elapsed < 1000 && hookCalls === 1 && fake.sentTo('/api/stuck').length === 0 && r[1].ok,
          'stuck ' + show(stuck) + ' after ' + stuck.elapsed + ' ms, hook called ' + hookCalls + '×, sent ' + fake.sentTo('/api/stuck').length + '; then ' + show(r[1])];
      });
    }],
    ['a hook settling after its call gave up (timed out, or aborted) sends nothing', function () {
      var fake = createWx({ schedule: 2 });
      var s = session(fake, {
        retries: 0,
        beforeRequest: function (options) {
          return new Promise(function (resolve) { setTimeout(function () { resolve(options); }, 400); });
        },
      });
      var aborted;
      return s.ensure().then(function () {
        var timed = outcome(s.request({ url: '/api/late', timeout: 150 }), 5000);
        var call = s.request({ url: '/api/aborted' });
        aborted = outcome(call, 5000);
        setTimeout(function () { call.abort(); }, 50);
        return Promise.all([timed, aborted]);
      }).then(function (both) {
        return later(600).then(function () {
          var sent = fake.sentTo('/api/late').length + fake.sentTo('/api/aborted').length;
          return [both[0].ok === false && both[1].code === 'ABORTED' && sent === 0,
            'timed out: ' + show(both[0]) + '; aborted: ' + show(both[1]) + '; sent afterwards ' + sent];
        });
      });
    }],
    ['a hook throwing on the retry after a refresh: BEFORE_REQUEST_FAILED, and the new pair stays in use', function () {
      var fake = createWx({ schedule: 2, pairs: true });
      var s = session(fake, pairs({
        beforeRequest: function (options, info) {
          if (info.attempt === 2 && /\/api\/x/.test(options.url)) throw new Error('no second try');
        },
      }));
      return s.ensure().then(function () {
        fake.revokeAccess();
        return outcome(s.request({ url: '/api/x' }));
      }).then(function (x) {
        return outcome(s.request({ url: '/api/y' })).then(function (y) { return [x, y]; });
      }).then(function (r) {
        return [r[0].code === 'BEFORE_REQUEST_FAILED' && r[1].ok && tokensTo(fake, '/api/y').join() === 'tok-2' && s.token() === 'tok-2' && fake.refreshes().length === 1 &&
          fake.storage.token.refreshToken === 'ref-2',
          'x ' + show(r[0]) + '; y ' + show(r[1]) + ' with ' + tokensTo(fake, '/api/y').join() + '; refreshes: ' + sentRefreshTokens(fake)];
      });
    }],

    ['an encrypting hook (it replaces options.data) on the retry after a refresh: the API gets the body encrypted once, as on the first send', function () {
      var fake = createWx({ schedule: 2, pairs: true });
      var s = session(fake, pairs({
        beforeRequest: function (options, info) {
          options.data = { sealed: JSON.stringify(options.data), by: options.header.token, attempt: info.attempt };
        },
      }));
      return s.ensure().then(function () {
        fake.revokeAccess();
        return outcome(s.request({ url: '/api/pay', method: 'POST', data: { amount: 1 } }));
      }).then(function (r) {
        var bodies = fake.sentTo('/api/pay').map(function (e) { return e.options.data; });
        var second = bodies[1] || {};
        return [r.ok && bodies.length === 2 && second.sealed === '{"amount":1}' && second.by === 'tok-2' && second.attempt === 2,
          show(r) + '; bodies sent: ' + JSON.stringify(bodies)];
      });
    }],
    ['logout() while an async hook is still working on a call: it rejects LOGGED_OUT and never goes out with the logged-out token', function () {
      var fake = createWx({ schedule: 2 });
      var s = session(fake, {
        beforeRequest: function (options) {
          return new Promise(function (resolve) { setTimeout(function () { resolve(options); }, 100); });
        },
      });
      var call;
      return s.ensure().then(function () {
        call = outcome(s.request({ url: '/api/x' }));
        return later(20);
      }).then(function () {
        return s.logout();
      }).then(function () {
        return call;
      }).then(function (r) {
        return later(50).then(function () {
          var tokens = tokensTo(fake, '/api/x');
          return [r.code === 'LOGGED_OUT' && tokens.indexOf('tok-1') < 0,
            show(r) + '; /api/x sent with ' + (tokens.join() || 'nothing') + ' after the logout'];
        });
      });
    }],
    // ---- business-code failures (api.failWhen) ----------------------------------------------------
    ['api.failWhen { path: "code", notEquals: 0 } → API_ERROR with the message at messagePath and response { statusCode, data, header }; sent once, no re-login', function () {
      var fake = createWx({ schedule: 2, pairs: true, business: true });
      fake.backend.failures['/api/pay'] = { code: 40001, msg: '余额不足' };
      var events = [];
      var failArg = null;
      var s = session(fake, merge(BUSINESS, { onReport: function (e) { events.push(e); } }));
      return s.ensure().then(function () {
        return outcome(s.request({ url: '/api/pay', method: 'POST', data: { amount: 1 }, fail: function (e) { failArg = e; } }));
      }).then(function (pay) {
        return outcome(s.request({ url: '/api/ok' })).then(function (good) { return [pay, good]; });
      }).then(function (r) {
        var e = r[0].error || {};
        var res = e.response || {};
        var event = events.filter(function (ev) { return ev.url === '/api/pay'; })[0] || {};
        var ok = r[0].code === 'API_ERROR' && sdk.isWxSessionError(e) && /余额不足/.test(e.message) && res.statusCode === 200 && res.data && res.data.code === 40001 &&
          res.data.msg === '余额不足' && res.header && res.header['X-Request-Id'] !== undefined && failArg === e &&
          fake.sentTo('/api/pay').length === 1 && fake.counts.login === 1 && s.token() === 'tok-1' && r[1].ok && r[1].value.data.code === 0 &&
          event.ok === false && event.code === 'API_ERROR' && event.status === 200;
        return [ok, 'pay ' + show(r[0]) + '; response ' + JSON.stringify(res) + '; fail callback ' + (failArg === e ? 'got it' : String(failArg)) +
          '; sent ' + fake.sentTo('/api/pay').length + '; wx.login ×' + fake.counts.login + '; ok ' + show(r[1]) + '; report ' + JSON.stringify(event)];
      });
    }],
    ['api.failWhen { path, notIn }: codes in the list resolve; a non-2xx answer and an answer without the field are not API errors; no message → a default one', function () {
      var fake = createWx({
        schedule: 2,
        respond: function (o) {
          if (isLogin(o)) return undefined;
          var path = fake.pathOf(o.url);
          if (path === '/api/200') return { statusCode: 200, data: { code: 200, data: 1 } };
          if (path === '/api/zero') return { statusCode: 201, data: { code: 0 } };
          if (path === '/api/bad') return { statusCode: 200, data: { code: 7 } };
          if (path === '/api/http500') return { statusCode: 500, data: { code: 500, msg: 'boom' } };
          if (path === '/api/plain') return { statusCode: 200, data: 'just text' };
          return undefined;
        },
      });
      var s = session(fake, { api: { failWhen: [{ path: 'code', notIn: [0, 200] }], messagePath: 'msg' } });
      var paths = ['/api/200', '/api/zero', '/api/bad', '/api/http500', '/api/plain'];
      return Promise.all(paths.map(function (p) { return outcome(s.request({ url: p })); })).then(function (r) {
        var ok = r[0].ok && r[1].ok && r[2].code === 'API_ERROR' && typeof r[2].message === 'string' && r[2].message.length > 0 &&
          r[3].ok && r[3].value.statusCode === 500 && r[4].ok && fake.counts.login === 1;
        return [ok, paths.map(function (p, i) { return p + ' ' + show(r[i]); }).join('; ')];
      });
    }],
    ['the session-invalid code (-1) still logs in again though failWhen (notEquals 0) matches it too: one re-login, then success', function () {
      var fake = createWx({ schedule: 2, business: true });
      var s = session(fake, BUSINESS);
      return s.ensure().then(function () {
        fake.revokeAll();
        return burst(s, 5);
      }).then(function (all) {
        return [allOk(all) && all.every(function (r) { return r.ok && r.value.data.code === 0; }) && fake.counts.login === 2,
          firstBad(all) + '; wx.login ×' + fake.counts.login];
      });
    }],

    // ---- a login the user must act on (authRequiredWhen + onAuthRequired) -------------------------
    ['onAuthRequired once for a burst of 5; after the app\'s login({ phoneCode }) all 5 are retried with the new token and succeed', function () {
      var fake = createWx({ schedule: 2 });
      fake.backend.needPhone = ['/api/orders'];
      var infos = [];
      var attempts = [];
      var s;
      s = session(fake, {
        authRequiredWhen: [{ path: 'code', equals: 1001 }],
        onAuthRequired: function (info) {
          infos.push(info);
          // The app opens its login page; the user taps the phone-number button a little later.
          setTimeout(function () { s.login({ phoneCode: 'phone-1' }); }, 60);
        },
        beforeRequest: function (options, info) { if (/orders/.test(options.url)) attempts.push(info.attempt); },
      });
      return s.ensure().then(function () {
        return burst(s, 5, '/api/orders?n=');
      }).then(function (all) {
        var tokens = fake.sent.filter(function (e) { return /\/api\/orders/.test(e.options.url); }).map(function (e) { return e.options.header.token; });
        var info = infos[0] || {};
        var lastLogin = fake.backend.loginBodies[fake.backend.loginBodies.length - 1] || {};
        var ok = allOk(all) && infos.length === 1 && info.url === '/api/orders' && info.method === 'GET' && info.statusCode === 403 && info.data && info.data.code === 1001 &&
          tokens.filter(function (t) { return t === 'tok-1'; }).length === 5 && tokens.filter(function (t) { return t === 'tok-2'; }).length === 5 &&
          lastLogin.phoneCode === 'phone-1' && fake.counts.login === 2 && attempts.filter(function (a) { return a === 2; }).length === 5;
        return [ok, firstBad(all) + '; onAuthRequired ×' + infos.length + ' ' + JSON.stringify(info) + '; tokens ' + tokens.join() + '; attempts ' + attempts.join() +
          '; wx.login ×' + fake.counts.login];
      });
    }],
    ['the app logs in at once from onAuthRequired: answers for the old token arriving after that login are retried with the new token, no second onAuthRequired', function () {
      var fake = createWx({ schedule: 2 });
      fake.backend.needPhone = ['/api/orders'];
      var infos = [];
      var login = null;
      var s;
      var heldOnes = function (kind, o) { return /\/api\/orders\?n=[1-4]/.test(o.url) && o.header.token === 'tok-1'; };
      s = session(fake, {
        authWaitMs: 1500,
        authRequiredWhen: [{ path: 'code', equals: 1001 }],
        onAuthRequired: function (info) {
          infos.push(info);
          if (!login) login = s.login({ phoneCode: 'phone-1' });
        },
      });
      var all;
      return s.ensure().then(function () {
        fake.hold(heldOnes);
        all = burst(s, 5, '/api/orders?n=');
        return until(function () { return login !== null; });
      }).then(function () {
        return outcome(login);
      }).then(function () {
        fake.release();
        return all;
      }).then(function (list) {
        var tokens = fake.sent.filter(function (e) { return /\/api\/orders/.test(e.options.url); }).map(function (e) { return e.options.header.token; });
        return [allOk(list) && infos.length === 1 && fake.counts.login === 2,
          firstBad(list) + '; onAuthRequired ×' + infos.length + '; tokens ' + tokens.join() + '; wx.login ×' + fake.counts.login];
      });
    }],
    ['setToken from onAuthRequired also resumes the waiting calls with the new token', function () {
      var fake = createWx({ schedule: 2 });
      fake.backend.needPhone = ['/api/orders'];
      fake.accept('acc-phone');
      fake.backend.bindPhone('acc-phone');
      var s;
      var infos = 0;
      s = session(fake, {
        authRequiredWhen: [{ path: 'code', equals: 1001 }],
        onAuthRequired: function () {
          infos++;
          setTimeout(function () { s.setToken('acc-phone'); }, 40);
        },
      });
      return s.ensure().then(function () {
        return burst(s, 3, '/api/orders?n=');
      }).then(function (all) {
        var tokens = fake.sent.filter(function (e) { return /\/api\/orders/.test(e.options.url); }).map(function (e) { return e.options.header.token; });
        return [allOk(all) && infos === 1 && tokens.filter(function (t) { return t === 'acc-phone'; }).length === 3 && fake.counts.login === 1,
          firstBad(all) + '; onAuthRequired ×' + infos + '; tokens ' + tokens.join()];
      });
    }],
    ['logout() while calls wait for the app\'s login: each rejects AUTH_REQUIRED; the session works after', function () {
      var fake = createWx({ schedule: 2 });
      fake.backend.needPhone = ['/api/orders'];
      var s;
      s = session(fake, {
        authRequiredWhen: [{ path: 'code', equals: 1001 }],
        onAuthRequired: function () { setTimeout(function () { s.logout(); }, 40); },
      });
      return s.ensure().then(function () {
        return burst(s, 3, '/api/orders?n=');
      }).then(function (all) {
        return outcome(s.request({ url: '/api/other' })).then(function (other) { return [all, other]; });
      }).then(function (r) {
        var codes = r[0].map(function (x) { return x.ok ? 'ok' : x.code; });
        return [codes.join() === 'AUTH_REQUIRED,AUTH_REQUIRED,AUTH_REQUIRED' && r[1].ok && r[1].value.statusCode === 200,
          'waiting calls: ' + codes.join() + '; after: ' + show(r[1]) + '; wx.login ×' + fake.counts.login];
      });
    }],
    ['no login within authWaitMs (300 ms): AUTH_REQUIRED after about that long; the next burst calls onAuthRequired again', function () {
      var fake = createWx({ schedule: 2 });
      fake.backend.needPhone = ['/api/orders'];
      var infos = 0;
      var s = session(fake, { authWaitMs: 300, authRequiredWhen: [{ path: 'code', equals: 1001 }], onAuthRequired: function () { infos++; } });
      var first;
      return s.ensure().then(function () {
        return Promise.all([outcome(s.request({ url: '/api/orders?n=1' })), outcome(s.request({ url: '/api/orders?n=2' }))]);
      }).then(function (r) {
        first = r;
        return outcome(s.request({ url: '/api/orders?n=3' }));
      }).then(function (third) {
        var codes = first.map(function (x) { return x.ok ? 'ok' : x.code; });
        return [codes.join() === 'AUTH_REQUIRED,AUTH_REQUIRED' && first[0].elapsed >= 250 && first[0].elapsed < 2000 && third.code === 'AUTH_REQUIRED' && infos === 2,
          codes.join() + ' after ' + first[0].elapsed + ' ms; third ' + show(third) + '; onAuthRequired ×' + infos];
      });
    }],
    ['an auth-required answer arriving after logout(): the call rejects LOGGED_OUT at once, onAuthRequired is not called', function () {
      var fake = createWx({ schedule: 2 });
      fake.backend.needPhone = ['/api/orders'];
      var infos = 0;
      var s = session(fake, { authWaitMs: 1500, authRequiredWhen: [{ path: 'code', equals: 1001 }], onAuthRequired: function () { infos++; } });
      var call;
      return s.ensure().then(function () {
        fake.hold(function (kind, o) { return /\/api\/orders/.test(o.url); });
        call = outcome(s.request({ url: '/api/orders' }), 5000);
        return until(function () { return fake.sentTo('/api/orders').length === 1; });
      }).then(function () {
        return s.logout();
      }).then(function () {
        fake.release();
        return call;
      }).then(function (r) {
        return [r.code === 'LOGGED_OUT' && r.elapsed < 1000 && infos === 0, show(r) + ' after ' + r.elapsed + ' ms; onAuthRequired ×' + infos];
      });
    }],
    ['authRequiredWhen without onAuthRequired: refused with CONFIG, or the call fails AUTH_REQUIRED at once (never a silent wait of authWaitMs)', function () {
      var fake = createWx({ schedule: 2 });
      fake.backend.needPhone = ['/api/orders'];
      var s = session(fake, { authWaitMs: 3000, authRequiredWhen: [{ path: 'code', equals: 1001 }] });
      return outcome(s.request({ url: '/api/orders' }), 8000).then(function (r) {
        var config = r.code === 'CONFIG' && /authRequiredWhen|onAuthRequired/.test(r.error && r.error.key);
        return [config || (r.code === 'AUTH_REQUIRED' && r.elapsed < 1000), show(r) + ' after ' + r.elapsed + ' ms'];
      });
    }],
    ['the server still asking after the app\'s login: AUTH_REQUIRED, no loop', function () {
      var fake = createWx({ schedule: 2 });
      fake.backend.needPhone = ['/api/orders'];
      var s;
      var infos = 0;
      s = session(fake, {
        authRequiredWhen: [{ path: 'code', equals: 1001 }],
        onAuthRequired: function () { infos++; setTimeout(function () { s.login({}); }, 30); }, // no phone: the server still asks
      });
      return outcome(s.request({ url: '/api/orders' }), 8000).then(function (r) {
        return [r.code === 'AUTH_REQUIRED' && fake.sentTo('/api/orders').length === 2 && infos === 1,
          show(r) + '; sent ' + fake.sentTo('/api/orders').length + '; onAuthRequired ×' + infos];
      });
    }],
  ];

  var chain = Promise.resolve();
  cases.forEach(function (c) {
    chain = chain.then(function () {
      return outcome(Promise.resolve().then(c[1]), 20000).then(function (r) {
        if (r.hang) results.push({ name: c[0], ok: false, detail: 'the scenario itself hung' });
        else if (!r.ok) results.push({ name: c[0], ok: false, detail: 'threw ' + (r.error && r.error.stack || r.message || r.error) });
        else results.push({ name: c[0], ok: r.value[0], detail: r.value[1] });
      });
    });
  });
  return chain.then(function () { return results; });
}

module.exports = { run: run };
