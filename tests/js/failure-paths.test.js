// Paths that hung, killed the instance, leaked or broke the contract in 0.2.0, each reproduced
// against the built SDK in the strict sandbox: re-entrancy (app code called from inside the SDK
// calling back into it, across sessions), platforms that answer synchronously, a wasm load that
// never ends, clocks that jump, and numbers at the edges. Each case is bounded: a hang is a
// result, not a stuck test. (WX_SESSION_DIST=<an older dist> shows them failing there.)
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');
const { execFileSync } = require('child_process');
const { BUILDS, sdk, outcome, sleep, isLogin } = require('../hostile/harness');

const show = (r) => (r.hang ? 'hung' : r.ok ? `resolved ${JSON.stringify(r.value && r.value.statusCode !== undefined ? { statusCode: r.value.statusCode } : r.value)}`
  : `rejected ${r.code}: ${String(r.error && r.error.message).slice(0, 200)}`);

// Runs `promise` (bounded by `ms`) and says how long it took to settle.
async function timed(promise, ms) {
  const started = Date.now();
  const r = await outcome(promise, ms);
  return { ...r, elapsed: Date.now() - started };
}

// Moves the sandbox's clock (Date.now) by `ms` from now on.
function shiftClock(t, ms) {
  t.runtime.run(`(function () { var now = Date.now; Date.now = function () { return now.call(Date) + (${ms}); }; })()`);
}

const hangs = (o) => /\/api\/hang/.test(o.url);

for (const build of BUILDS) {
  const on = (name) => `${build.name}: ${name}`;

  test(on('a session whose last action runs app code that uses another session keeps its own deadline'), async () => {
    const t = sdk({ build, respond: (o) => (hangs(o) ? null : undefined) });
    let other = null;
    let called = false;
    const a = t.create({
      retries: 0, // a timed-out GET is retried otherwise: one wait is what is measured here
      // The first call's TIMEOUT is settled by A's last action; its report uses session B.
      onReport: (e) => {
        if (e.code === 'TIMEOUT' && !called) {
          called = true;
          other.request({ url: '/api/hang/b', timeout: 60000 }).catch(() => {});
        }
      },
    });
    other = t.create();
    await a.ensure();
    await other.ensure();
    const first = a.request({ url: '/api/hang/1', timeout: 100 }).catch(() => {});
    const second = timed(a.request({ url: '/api/hang/2', timeout: 1000 }), 5000);
    await first;
    const r = await second;
    assert.equal(r.code, 'TIMEOUT', show(r));
    assert.ok(r.elapsed < 3000, `timed out after ${r.elapsed} ms, not about 1000`);
    assert.ok(called, 'the report did run app code using session B');
  });

  test(on('20,000 requests behind the first login on a platform that answers synchronously all succeed (no recursion per request)'), async () => {
    const t = sdk({ build, schedule: 'sync', record: false });
    const s = t.create();
    // wx.login answers once every request waits for it; then each goes out, and is answered,
    // within the one drain that sends them.
    t.fake.holdLogin();
    const pending = Array.from({ length: 20000 }, (_, i) => outcome(s.request({ url: `/api/n/${i}` }), 60000));
    await sleep(50);
    t.fake.releaseLogin();
    const results = await Promise.all(pending);
    const bad = results.filter((r) => !(r.ok && r.value.statusCode === 200));
    assert.equal(bad.length, 0, `${bad.length} failed, e.g. ${bad.slice(0, 3).map(show).join('; ')}`);
    assert.equal(t.counts.login, 1);
    // Each sent once: a stack overflow in the SDK shows as a wx.request that throws, then retries.
    assert.equal(t.counts.request, 20000 + 1, 'the login request and each API request once');
    const again = await outcome(s.request({ url: '/api/after' }));
    assert.ok(again.ok, show(again));
  });

  test(on('the clock jumping a minute forward: a request with timeout 300 still times out after about 300 ms'), async () => {
    const t = sdk({ build, respond: (o) => (hangs(o) ? null : undefined) });
    const s = t.create({ retries: 0 });
    await s.ensure();
    shiftClock(t, 60000);
    const r = await timed(s.request({ url: '/api/hang', timeout: 300 }), 5000);
    assert.equal(r.code, 'TIMEOUT', show(r));
    assert.match(r.error.message, /300 ms/);
    assert.ok(r.elapsed < 2000, `timed out after ${r.elapsed} ms`);
  });

  test(on('the clock set back an hour during a 2 s wait: the wait still ends after about 2 s'), async () => {
    const t = sdk({ build, respond: (o) => (hangs(o) ? null : undefined) });
    const s = t.create({ retries: 0 });
    await s.ensure();
    const r = timed(s.request({ url: '/api/hang', timeout: 2000 }), 8000);
    await sleep(500);
    shiftClock(t, -3600000);
    const done = await r;
    assert.equal(done.code, 'TIMEOUT', show(done));
    assert.ok(done.elapsed < 3000, `ended after ${done.elapsed} ms`);
  });

  test(on('a logout from the onChange listener of "logging-in" calls no wx.login'), async () => {
    const t = sdk({ build });
    const s = t.create();
    let loggedOut = null;
    s.onChange((state) => {
      if (state === 'logging-in' && !loggedOut) loggedOut = s.logout();
    });
    const r = await outcome(s.ensure());
    assert.equal(r.code, 'LOGGED_OUT', show(r));
    assert.ok((await outcome(loggedOut)).ok);
    assert.equal(t.counts.login, 0, 'wx.login was called for a login already cancelled');
  });

  test(on('an abort() from the onChange listener of "ready" sends nothing for the aborted POST'), async () => {
    const t = sdk({ build });
    const s = t.create();
    const post = s.request({ url: '/api/order', method: 'POST', data: { n: 1 } });
    s.onChange((state) => {
      if (state === 'ready') post.abort();
    });
    const r = await outcome(post);
    assert.equal(r.code, 'ABORTED', show(r));
    await sleep(50);
    assert.deepEqual(t.fake.sentTo('/api/order'), [], 'the aborted POST went out');
  });

  test(on('login.extra() resolving to a Proxy revoked on the way: LOGIN_EXTRA_FAILED at once, no unhandled rejection'), async () => {
    const unhandled = [];
    const onUnhandled = (reason) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const t = sdk({ build });
      const s = t.create({
        timeoutMs: 5000,
        login: {
          extra: () => {
            const { proxy, revoke } = Proxy.revocable({}, {
              // `then` is read once, as the SDK's Promise resolves with the Proxy: it revokes
              // itself then, so what the Promise resolves to is a revoked Proxy.
              get: (target, key) => (key === 'then' ? (revoke(), undefined) : undefined),
            });
            return proxy;
          },
        },
      });
      const r = await timed(s.ensure(), 8000);
      assert.equal(r.code, 'LOGIN_EXTRA_FAILED', show(r));
      assert.ok(r.elapsed < 2000, `failed after ${r.elapsed} ms (the timeout is 5000)`);
      await sleep(20);
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  test(on('a 70,000-character URL: CONFIG saying it is too long'), async () => {
    const t = sdk({ build });
    const r = await outcome(t.create().request({ url: `/api/${'x'.repeat(70000)}` }));
    assert.equal(r.code, 'CONFIG', show(r));
    assert.equal(r.error.key, 'request.url');
    assert.match(r.error.message, /longer than 65536/);
  });

  test(on('a login(extra) refused while a 401\'d request waits for it: the request logs in again, never resent with the refused token'), async () => {
    let holdLogin = null;
    const t = sdk({
      build,
      respond: (o) => {
        if (isLogin(o) && o.data && o.data.phoneCode) return { statusCode: 400, data: { errcode: 40029 } };
        return undefined;
      },
    });
    const s = t.create({ retries: 0 });
    await s.ensure();
    t.fake.revokeAll();
    // The request goes out with the revoked token; the login(extra) starts before its 401 is in.
    holdLogin = t.fake.hold((kind, o) => isLogin(o));
    const request = outcome(s.request({ url: '/api/profile' }));
    const login = outcome(s.login({ phoneCode: 'phone-1' }));
    await sleep(30);
    t.fake.release();
    void holdLogin;
    const [r, l] = await Promise.all([request, login]);
    assert.equal(l.code, 'SERVER_REJECTED', show(l));
    assert.ok(r.ok && r.value.statusCode === 200, show(r));
    const tokens = t.fake.sentTo('/api/profile').map((e) => e.options.header.token);
    assert.deepEqual(tokens, ['tok-1', 'tok-2'], 'the refused token tok-1 went out again');
  });

  test(on('ensure() and request() started while login(extra) runs wait for it and use its token'), async () => {
    const t = sdk({ build });
    const s = t.create();
    await s.ensure();
    t.fake.holdLogin();
    const login = s.login({ phoneCode: 'phone-1' });
    const ensure = s.ensure();
    const request = s.request({ url: '/api/profile' });
    await sleep(20);
    t.fake.releaseLogin();
    const [l, e, r] = await Promise.all([outcome(login), outcome(ensure), outcome(request)]);
    assert.equal(l.value.token, 'tok-2', show(l));
    assert.equal(e.value.token, 'tok-2', `ensure() got the old token: ${show(e)}`);
    assert.equal(r.value.statusCode, 200, show(r));
    assert.deepEqual(t.fake.sentTo('/api/profile').map((x) => x.options.header.token), ['tok-2']);
  });

  test(on('expiresIn of Long.MAX_VALUE ("never") is read as fresh after a relaunch: no second login'), async () => {
    const t = sdk({ build, respond: (o) => (isLogin(o) ? { statusCode: 200, data: { token: 'forever', expiresIn: 9223372036854775807 } } : undefined) });
    const config = { login: { expiresInPath: 'expiresIn' }, check: { url: '/auth', policy: 'when-unknown' } };
    assert.equal((await outcome(t.create(config).ensure())).value.token, 'forever');
    const relaunched = await outcome(t.create(config).ensure());
    assert.deepEqual({ ...relaunched.value }, { token: 'forever', source: 'storage' }, show(relaunched));
    assert.equal(t.counts.login, 1);
  });
}

// Only the wasm build loads a file, so only it can wait for one forever.
test('wasm build: a WXWebAssembly.instantiate that never settles fails the calls with WASM_LOAD after timeoutMs, and the next load can succeed', async () => {
  const t = sdk();
  const instantiate = t.runtime.context.WXWebAssembly.instantiate;
  t.runtime.context.WXWebAssembly.instantiate = () => new Promise(() => {});
  const r = await timed(t.create({ timeoutMs: 300 }).ensure(), 5000);
  assert.equal(r.code, 'WASM_LOAD', show(r));
  assert.match(r.error.message, /did not finish within 300 ms/);
  assert.ok(r.elapsed < 2000, `failed after ${r.elapsed} ms`);
  t.runtime.context.WXWebAssembly.instantiate = instantiate;
  const later = await outcome(t.create().ensure());
  assert.ok(later.ok, show(later));
});

test('3,000 dropped sessions whose onChange listener holds a page holding the session are freed (wasm memory flat)', () => {
  const output = execFileSync(process.execPath, ['--expose-gc', path.join(__dirname, '..', 'hostile', 'dropped-sessions.js'), '--listeners', '3000'], { encoding: 'utf8', timeout: 180000 });
  const result = JSON.parse(output.trim().split('\n').pop());
  assert.equal(result.mode, 'finalization', 'this Node has FinalizationRegistry');
  assert.equal(result.alive, 200, 'a new session works afterwards');
  assert.ok(result.after <= result.before + 2, `wasm memory ${result.before} → ${result.after} pages`);
});
