// Hostile review, fifth round: what a hostile app, server or platform can still do to the BUILT
// SDK (js-glue/dist, the wasm build, and js-glue/dist-js, the JavaScript build) through the
// newest code: the URL cache, the beforeRequest origin rule, refresh tokens, the platform
// adapters. Each case is a minimal reproduction of one finding, asserting what README.md
// promises. Every wait is bounded: a hang is a failing assertion, never a stuck test.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { BUILDS, sdk, outcome } = require('../hostile/harness');
const fakes = require('../fakes/wx');

const show = (r) => (r.hang ? 'hung' : r.ok ? `resolved ${JSON.stringify(r.value && (r.value.token !== undefined ? r.value.token : r.value.statusCode))}`
  : `rejected ${r.error && r.error.name}/${r.code}: ${String(r.error && r.error.message).slice(0, 160)}`);

// Every wx.request as the platform read it when it was called: "url token".
function sends(t) {
  const seen = [];
  const request = t.wx.request;
  t.wx.request = function (o) {
    seen.push(`${o.url} ${o.header ? o.header.token : ''}`);
    return request.apply(this, arguments);
  };
  return seen;
}

for (const build of BUILDS) {
  // ---- beforeRequest -------------------------------------------------------------------------

  test(`${build.name}: a beforeRequest hook whose options show one URL to the origin check and another to the platform (a getter, a Proxy): the token goes nowhere else`, async () => {
    const t = sdk({ build });
    const seen = sends(t);
    // Each answers baseUrl's URL on its first read of `url`, evil.test's afterwards.
    const twoFaced = (o) => {
      let reads = 0;
      return () => (reads++ ? 'https://evil.test/steal' : o.url);
    };
    const hooks = {
      'returns options with a url getter': (o) => {
        const url = twoFaced(o);
        const out = Object.assign({}, o);
        Object.defineProperty(out, 'url', { enumerable: true, get: url });
        return out;
      },
      'puts a url getter on its own options': (o) => {
        const url = twoFaced(o);
        Object.defineProperty(o, 'url', { enumerable: true, get: url });
      },
      'resolves to a Proxy': (o) => {
        const url = twoFaced(o);
        return Promise.resolve(new Proxy(o, { get: (target, key) => (key === 'url' ? url() : target[key]) }));
      },
    };
    for (const [name, hook] of Object.entries(hooks)) {
      const s = t.create({ beforeRequest: hook });
      const r = await outcome(s.request({ url: '/api/x' }));
      assert.ok(r.ok || r.code === 'BEFORE_REQUEST_FAILED', `${name}: ${show(r)}`);
    }
    assert.deepEqual(seen.filter((line) => /evil/.test(line)), [], 'the token went to another origin');
  });
}

// A server of access + refresh token pairs that rotates: each refresh token works once. `answer`
// may replace what /refresh answers (it gets the pair it would hand out). Its log: "path refreshToken".
function rotatingServer(answer) {
  const server = { n: 0, current: null, refresh: null, log: [] };
  const pair = () => {
    server.n += 1;
    server.current = `acc-${server.n}`;
    server.refresh = `ref-${server.n}`;
    return { token: server.current, refreshToken: server.refresh, expiresIn: 3600 };
  };
  server.respond = (o) => {
    const path = o.url.replace(/^https?:\/\/[^/]+/, '').split('?')[0];
    if (path === '/login') return { statusCode: 200, data: pair(), header: {} };
    if (path === '/refresh') {
      const sent = o.data && o.data.refreshToken;
      server.log.push(`${path} ${sent}`);
      if (sent !== server.refresh) return { statusCode: 401, data: {}, header: {} };
      const data = pair();
      return { statusCode: 200, data: answer ? answer(data) : data, header: {} };
    }
    return { statusCode: o.header && o.header.token === server.current ? 200 : 401, data: {}, header: {} };
  };
  return server;
}
const PAIRS = {
  login: { url: '/login', tokenPath: 'token', expiresInPath: 'expiresIn', refreshTokenPath: 'refreshToken' },
  refresh: { url: '/refresh', tokenPath: 'token', refreshTokenPath: 'refreshToken', expiresInPath: 'expiresIn' },
};

for (const build of BUILDS) {
  test(`${build.name}: a beforeRequest hook that calls logout() before it returns: the logged-out token is not sent (as when it logs out while its Promise is pending)`, async () => {
    const t = sdk({ build });
    const seen = sends(t);
    const hooks = {
      'returns at once': (session) => () => { session.logout(); },
      'returns a Promise': (session) => () => { session.logout(); return Promise.resolve(); },
    };
    const codes = [];
    for (const [name, hook] of Object.entries(hooks)) {
      let s = null;
      s = t.create({ beforeRequest: (o) => hook(s)(o) });
      assert.equal((await outcome(s.ensure())).ok, true);
      const r = await outcome(s.request({ url: '/api/x' }));
      assert.equal(r.ok, false, `${name}: ${show(r)}`);
      assert.equal(r.error.name, 'WxSessionError', `${name}: ${show(r)}`);
      codes.push(r.code);
    }
    assert.deepEqual(seen.filter((line) => /\/api\/x/.test(line)), [], 'a logged-out token went out');
    assert.equal(codes[0], codes[1], 'the same error either way');
  });
}

for (const build of BUILDS) {
  // ---- refresh tokens ------------------------------------------------------------------------

  test(`${build.name}: a refresh answer whose new refresh token can't be used (CR/LF, 9 KB, a number): the old one, rotated away, is never sent again`, async () => {
    const unusable = { 'CR/LF': 'ref\r\nX', '9 KB': 'r'.repeat(9000), 'a number': 12345 };
    for (const [name, bad] of Object.entries(unusable)) {
      const server = rotatingServer((pair) => ({ ...pair, refreshToken: bad }));
      const t = sdk({ build, respond: server.respond });
      const s = t.create(PAIRS);
      assert.equal((await outcome(s.ensure())).ok, true);
      server.current = 'expired'; // the access token expires: one refresh
      const first = await outcome(s.request({ url: '/api/x' }));
      assert.equal(first.ok, true, `${name}: ${show(first)}`);
      server.current = 'expired again'; // and again
      const second = await outcome(s.request({ url: '/api/x' }));
      assert.equal(second.ok, true, `${name}: ${show(second)}`);
      assert.deepEqual(server.log.filter((line) => line === '/refresh ref-1'), ['/refresh ref-1'], `${name}: ${server.log.join(', ')}`);
    }
  });
}

// ---- platform adapters ---------------------------------------------------------------------

// Alipay's adapter is in the JavaScript build only (Alipay has WebAssembly only inside Workers).
test('JavaScript build on Alipay: a failure (my.request, my.getAuthCode) whose errorMessage cannot be made text: NETWORK / WX_LOGIN_FAILED at once (not a throw into the platform and a wait for the time limit)', async () => {
  const t = sdk({ build: BUILDS[1] });
  const unprintable = { toString() { throw new Error('no text'); } };
  const calls = {
    'my.request': (my, fail) => {
      const request = my.request;
      my.request = function (o) {
        if (!/\/api\//.test(o.url)) return request.apply(this, arguments);
        setTimeout(() => fail(o), 1);
        return { abort() {} };
      };
      return { code: 'NETWORK', call: (s) => s.request({ url: '/api/x' }) };
    },
    'my.getAuthCode': (my, fail) => {
      my.getAuthCode = (o) => { setTimeout(() => fail(o), 1); };
      return { code: 'WX_LOGIN_FAILED', call: (s) => s.ensure() };
    },
  };
  for (const [name, replace] of Object.entries(calls)) {
    const my = fakes.createMy({ schedule: 2 });
    const thrown = [];
    const { code, call } = replace(my.my, (o) => {
      try {
        o.fail({ error: 12, errorMessage: unprintable });
      } catch (e) {
        thrown.push(e.message); // the platform's callback threw
      }
    });
    const s = t.create({ platform: 'alipay', wx: my.my, timeoutMs: 3000, retries: 0 });
    const started = Date.now();
    const r = await outcome(call(s), 6000);
    assert.equal(r.code, code, `${name}: ${show(r)}`);
    assert.ok(Date.now() - started < 1000, `${name}: took ${Date.now() - started} ms`);
    assert.deepEqual(thrown, [], `${name}: a throw into the platform's callback`);
  }
});
