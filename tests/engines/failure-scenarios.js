// Paths that hung, killed the instance or broke the contract in 0.2.0, in plain ES5 so they run
// on V8 (the strict sandbox) and on jsc (with and without JIT): app code called from inside the
// SDK calling back into it, across sessions; a platform answering synchronously; clocks that
// jump; numbers at the edges. run(sdk, wasmPath) resolves to [{ name, ok, detail }]; each case
// is bounded (a hang is a result). wasmPath is undefined for the JavaScript build.
'use strict';

var createWx = require('../fakes/wx').createWx;

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
    return r.ok ? 'resolved after ' + r.elapsed + ' ms' : 'rejected ' + r.code + ' after ' + r.elapsed + ' ms: ' + r.message;
  }

  function session(fake, config) {
    var base = { baseUrl: 'https://api.test', useCheckSession: false, wx: fake.wx };
    if (wasmPath) base.wasmPath = wasmPath;
    for (var k in config) base[k] = config[k];
    return sdk.createSession(base);
  }

  function hangs(o) {
    return /\/api\/hang/.test(o.url);
  }
  function isLogin(o) {
    return /\/login(\?|$)/.test(o.url);
  }
  function hangingWx() {
    return createWx({ schedule: 2, respond: function (o) { return hangs(o) ? null : undefined; } });
  }

  // Date.now moved by `ms` until restore() (the platform's timers keep real time).
  var realNow = Date.now;
  function shiftClock(ms) {
    Date.now = function () { return realNow.call(Date) + ms; };
  }
  function restoreClock() {
    Date.now = realNow;
  }
  function later(ms) {
    return new Promise(function (resolve) { setTimeout(resolve, ms); });
  }

  var cases = [
    ['a session whose last action runs app code that uses another session keeps its own deadline', function () {
      var fake = hangingWx();
      var other = null;
      var called = false;
      var a = session(fake, {
        retries: 0,
        onReport: function (e) {
          if (e.code === 'TIMEOUT' && !called) {
            called = true;
            other.request({ url: '/api/hang/b', timeout: 60000 }).then(null, function () {});
          }
        },
      });
      other = session(fake, {});
      return a.ensure().then(function () { return other.ensure(); }).then(function () {
        var first = a.request({ url: '/api/hang/1', timeout: 100 }).then(null, function () {});
        var second = outcome(a.request({ url: '/api/hang/2', timeout: 1000 }), 5000);
        return first.then(function () { return second; });
      }).then(function (r) {
        return [r.code === 'TIMEOUT' && r.elapsed < 3000 && called, show(r)];
      });
    }],
    ['5,000 requests behind the first login on a platform that answers synchronously all succeed, each sent once', function () {
      var fake = createWx({ schedule: 'sync', record: false });
      var s = session(fake, {});
      fake.holdLogin();
      var pending = [];
      for (var i = 0; i < 5000; i++) pending.push(outcome(s.request({ url: '/api/n/' + i }), 30000));
      return later(50).then(function () {
        fake.releaseLogin();
        return Promise.all(pending);
      }).then(function (all) {
        var bad = all.filter(function (r) { return !(r.ok && r.value.statusCode === 200); });
        return [bad.length === 0 && fake.counts.request === 5001 && fake.counts.login === 1,
          bad.length + ' failed' + (bad.length ? ' (' + show(bad[0]) + ')' : '') + ', ' + fake.counts.request + ' requests sent'];
      });
    }],
    ['the clock jumping a minute forward: a request with timeout 300 still times out after about 300 ms', function () {
      var fake = hangingWx();
      var s = session(fake, { retries: 0 });
      return s.ensure().then(function () {
        shiftClock(60000);
        return outcome(s.request({ url: '/api/hang', timeout: 300 }), 5000);
      }).then(function (r) {
        restoreClock();
        return [r.code === 'TIMEOUT' && /300 ms/.test(r.message) && r.elapsed < 2000, show(r)];
      });
    }],
    ['the clock set back an hour during a 2 s wait: the wait still ends after about 2 s', function () {
      var fake = hangingWx();
      var s = session(fake, { retries: 0 });
      return s.ensure().then(function () {
        var r = outcome(s.request({ url: '/api/hang', timeout: 2000 }), 8000);
        return later(500).then(function () {
          shiftClock(-3600000);
          return r;
        });
      }).then(function (r) {
        restoreClock();
        return [r.code === 'TIMEOUT' && r.elapsed < 3000, show(r)];
      });
    }],
    ['a logout from the onChange listener of "logging-in" calls no wx.login', function () {
      var fake = createWx({ schedule: 2 });
      var s = session(fake, {});
      var loggedOut = null;
      s.onChange(function (state) {
        if (state === 'logging-in' && !loggedOut) loggedOut = s.logout();
      });
      return outcome(s.ensure()).then(function (r) {
        return [r.code === 'LOGGED_OUT' && fake.counts.login === 0, show(r) + ', wx.login ×' + fake.counts.login];
      });
    }],
    ['an abort() from the onChange listener of "ready" sends nothing for the aborted POST', function () {
      var fake = createWx({ schedule: 2 });
      var s = session(fake, {});
      var post = s.request({ url: '/api/order', method: 'POST', data: { n: 1 } });
      s.onChange(function (state) {
        if (state === 'ready') post.abort();
      });
      return outcome(post).then(function (r) {
        return later(50).then(function () {
          return [r.code === 'ABORTED' && fake.sentTo('/api/order').length === 0, show(r) + ', sent ' + fake.sentTo('/api/order').length];
        });
      });
    }],
    ['login.extra() resolving to a revoked Proxy: LOGIN_EXTRA_FAILED at once', typeof Proxy !== 'function' ? null : function () {
      var fake = createWx({ schedule: 2 });
      var s = session(fake, {
        timeoutMs: 5000,
        login: {
          extra: function () {
            var made = Proxy.revocable({}, {
              get: function (target, key) {
                if (key === 'then') made.revoke();
                return undefined;
              },
            });
            return made.proxy;
          },
        },
      });
      return outcome(s.ensure(), 8000).then(function (r) {
        return [r.code === 'LOGIN_EXTRA_FAILED' && r.elapsed < 2000, show(r)];
      });
    }],
    ['a 70,000-character URL: CONFIG saying it is too long', function () {
      var long = '/api/';
      while (long.length < 70000) long += 'xxxxxxxxxx';
      return outcome(session(createWx({ schedule: 2 }), {}).request({ url: long })).then(function (r) {
        return [r.code === 'CONFIG' && /longer than 65536/.test(r.message), show(r)];
      });
    }],
    ['a login(extra) refused while a 401\'d request waits for it: one more login, never the refused token again', function () {
      var fake = createWx({
        schedule: 2,
        respond: function (o) {
          return isLogin(o) && o.data && o.data.phoneCode ? { statusCode: 400, data: { errcode: 40029 } } : undefined;
        },
      });
      var s = session(fake, { retries: 0 });
      return s.ensure().then(function () {
        fake.revokeAll();
        fake.hold(function (kind, o) { return isLogin(o); });
        var request = outcome(s.request({ url: '/api/profile' }));
        var login = outcome(s.login({ phoneCode: 'phone-1' }));
        return later(30).then(function () {
          fake.release();
          return Promise.all([request, login]);
        });
      }).then(function (both) {
        var tokens = fake.sentTo('/api/profile').map(function (e) { return e.options.header.token; });
        return [both[0].ok && both[0].value.statusCode === 200 && both[1].code === 'SERVER_REJECTED' && tokens.join() === 'tok-1,tok-2',
          'request ' + show(both[0]) + '; login ' + show(both[1]) + '; tokens sent ' + tokens.join()];
      });
    }],
    ['ensure() and request() started while login(extra) runs wait for it and use its token', function () {
      var fake = createWx({ schedule: 2 });
      var s = session(fake, {});
      return s.ensure().then(function () {
        fake.holdLogin();
        var all = [outcome(s.login({ phoneCode: 'phone-1' })), outcome(s.ensure()), outcome(s.request({ url: '/api/profile' }))];
        return later(20).then(function () {
          fake.releaseLogin();
          return Promise.all(all);
        });
      }).then(function (r) {
        var tokens = fake.sentTo('/api/profile').map(function (e) { return e.options.header.token; });
        return [r[0].ok && r[0].value.token === 'tok-2' && r[1].ok && r[1].value.token === 'tok-2' && r[2].ok && tokens.join() === 'tok-2',
          'ensure ' + (r[1].value && r[1].value.token) + ', request sent with ' + tokens.join()];
      });
    }],
    ['expiresIn of Long.MAX_VALUE ("never") is read as fresh after a relaunch', function () {
      var fake = createWx({
        schedule: 2,
        respond: function (o) { return isLogin(o) ? { statusCode: 200, data: { token: 'forever', expiresIn: 9223372036854775807 } } : undefined; },
      });
      var config = { login: { expiresInPath: 'expiresIn' }, check: { url: '/auth', policy: 'when-unknown' } };
      return session(fake, config).ensure().then(function () {
        return outcome(session(fake, config).ensure());
      }).then(function (r) {
        return [r.ok && r.value.source === 'storage' && fake.counts.login === 1, show(r) + ', source ' + (r.value && r.value.source)];
      });
    }],
  ];

  var chain = Promise.resolve();
  cases.forEach(function (c) {
    chain = chain.then(function () {
      if (!c[1]) {
        results.push({ name: c[0], ok: true, skipped: 'this engine has no Proxy' });
        return undefined;
      }
      return c[1]().then(function (verdict) {
        results.push({ name: c[0], ok: verdict[0], detail: verdict[1] });
      }, function (e) {
        results.push({ name: c[0], ok: false, detail: 'threw ' + (e && e.stack || e) });
      });
    });
  });
  return chain.then(function () { return results; });
}

module.exports = { run: run };
