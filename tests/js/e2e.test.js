// The demo mini-program's own app.js and index page, in the strict sandbox, against the dev
// server over real HTTP: what scripts/demo.sh shows, asserted. For the wasm build, and for the
// JavaScript build: the same demo with dist-js/ as its libs/wx-session/, and no WXWebAssembly.
'use strict';

const test = require('node:test');
const { describe } = test;
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { createRuntime } = require('../sandbox/runtime');
const { startServer } = require('../../demo-miniprogram/dev-server/server');
const { BUILDS } = require('../hostile/harness');

const PACKAGE = path.join(__dirname, '..', '..', 'demo-miniprogram', 'miniprogram');

let server;
let origin;
// The refresh profile (access + refresh token pairs, what scripts/demo.sh runs), with access
// tokens that live 2 s: the demo app.js's refresh config against it.
const ACCESS_TTL_S = 2;
let refreshServer;
let refreshOrigin;

test.before(async () => {
  server = await startServer({ port: 0 });
  origin = `http://127.0.0.1:${server.port}`;
  refreshServer = await startServer({ port: 0, profile: 'refresh', accessTtl: ACCESS_TTL_S });
  refreshOrigin = `http://127.0.0.1:${refreshServer.port}`;
});
test.after(() => {
  server.server.close();
  refreshServer.server.close();
});

// The demo package for `build`: the demo itself (which holds the wasm build); for the JavaScript
// build a copy whose libs/wx-session/ is dist-js/, with no wasm file (app.js's wasmPath then names
// a file that is not there: the JavaScript build never looks for one).
function demoPackage(build) {
  if (!build.js) return PACKAGE;
  const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'wx-session-e2e-demo-'));
  fs.cpSync(PACKAGE, copy, { recursive: true });
  const lib = path.join(copy, 'libs', 'wx-session');
  fs.rmSync(lib, { recursive: true });
  fs.cpSync(build.dist, lib, { recursive: true });
  return copy;
}

function suite(build) {
  const packageRoot = demoPackage(build);
  const storageFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'wx-session-e2e-')), 'storage.json');

  function launch(options = {}) {
    const runtime = createRuntime({ packageRoot, devServer: origin, extConfig: { baseUrl: origin }, storageFile, wasmLoader: build.js ? false : undefined, ...options });
    const page = runtime.launch();
    return { runtime, page };
  }

  test('first launch logs in once, even with the page requesting during the login', async () => {
    fs.rmSync(storageFile, { force: true });
    const before = { ...server.backend.stats };
    const { runtime, page } = launch();
    assert.equal(runtime.run('typeof WXWebAssembly'), build.js ? 'undefined' : 'object');
    await runtime.idle();
    assert.equal(page.data.state, 'ready');
    assert.equal(page.data.source, 'login');
    assert.match(page.data.token, /^[0-9a-f]{4}\*{4}[0-9a-f]{2}$/, 'shown masked');
    assert.equal(page.data.profile, '微信用户 (o-demo-user)', 'the onLoad request waited for the login');
    assert.equal(runtime.counts.login, 1);
    assert.equal(server.backend.stats.logins - before.logins, 1);
    assert.equal(server.backend.stats.unauthorized - before.unauthorized, 0, 'no request went out without a token');
    const stored = JSON.parse(fs.readFileSync(storageFile, 'utf8')).token;
    assert.equal(stored.v, 1);
    assert.ok(runtime.lines.every((line) => !line.includes(stored.token)), 'the timeline never shows the token');
  });

  test('a relaunch reuses the stored token after checking it', async () => {
    const { runtime, page } = launch();
    await runtime.idle();
    assert.equal(page.data.state, 'ready');
    assert.equal(page.data.source, 'storage');
    assert.equal(runtime.counts.login, 0);
    assert.ok(runtime.lines.some((l) => l.includes('→ POST /auth')));
  });

  test('a relaunch after the server revoked the token logs in again', async () => {
    await fetch(`${origin}/__admin/revoke`, { method: 'POST' });
    const { runtime, page } = launch();
    await runtime.idle();
    assert.equal(page.data.source, 'login');
    assert.equal(runtime.counts.login, 1);
  });

  test('a token revoked mid-session: the tap gets one re-login and succeeds', async () => {
    const { runtime, page } = launch();
    await runtime.idle();
    await fetch(`${origin}/__admin/revoke`, { method: 'POST' });
    const logins = runtime.counts.login;
    runtime.tap(page, 'callProtected');
    await runtime.idle();
    assert.equal(page.data.profile, '微信用户 (o-demo-user)');
    assert.equal(page.data.apiError, '');
    assert.equal(runtime.counts.login - logins, 1);
  });

  test('wx.checkSession failing on relaunch leads to a fresh login', async () => {
    const { runtime, page } = launch({ checkSessionFails: true });
    await runtime.idle();
    assert.equal(page.data.source, 'login');
  });

  test('logout clears storage; the page shows the idle state', async () => {
    const { runtime, page } = launch();
    await runtime.idle();
    runtime.tap(page, 'logout');
    await runtime.idle();
    assert.equal(page.data.state, 'idle');
    assert.equal(page.data.token, '');
    assert.equal(JSON.parse(fs.readFileSync(storageFile, 'utf8')).token, undefined);
  });

  describe('无感刷新 against the refresh profile', () => {
    const pairStorage = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'wx-session-e2e-refresh-')), 'storage.json');
    const launchPairs = () => launch({ devServer: refreshOrigin, extConfig: { baseUrl: refreshOrigin }, storageFile: pairStorage });
    const stored = () => JSON.parse(fs.readFileSync(pairStorage, 'utf8')).token;
    const stats = () => ({ ...refreshServer.backend.stats });
    // The timeline lines since `from`, and how many of them `pattern` matches.
    const count = (lines, pattern) => lines.filter((l) => pattern.test(l)).length;

    test('the first launch stores the pair; the timeline never shows either token', async () => {
      fs.rmSync(pairStorage, { force: true });
      const { runtime, page } = launchPairs();
      await runtime.idle();
      assert.equal(page.data.state, 'ready');
      assert.equal(page.data.profile, '微信用户 (o-demo-user)');
      const record = stored();
      assert.deepEqual(Object.keys(record).sort(), ['expiresAt', 'obtainedAt', 'refreshToken', 'token', 'v']);
      assert.equal(record.expiresAt - record.obtainedAt, ACCESS_TTL_S * 1000);
      assert.ok(runtime.lines.every((l) => !l.includes(record.token) && !l.includes(record.refreshToken)), 'masked');
    });

    test('an access token expired at the server mid-session: the tap gets one /refresh, no wx.login, and the old refresh token is refused afterwards', async () => {
      const { runtime, page } = launchPairs();
      await runtime.idle();
      const before = stats();
      const oldRefresh = stored().refreshToken;
      await fetch(`${refreshOrigin}/__admin/expire`, { method: 'POST' });
      const from = runtime.lines.length;
      const logins = runtime.counts.login;
      runtime.tap(page, 'callProtected');
      await runtime.idle();
      const lines = runtime.lines.slice(from);
      assert.equal(page.data.profile, '微信用户 (o-demo-user)');
      assert.equal(page.data.apiError, '');
      assert.equal(runtime.counts.login - logins, 0, 'no wx.login');
      assert.equal(count(lines, /→ POST \/refresh /), 1, lines.join('\n'));
      assert.equal(count(lines, /console\.log 无感刷新 POST \/refresh → 200/), 1, 'the demo shows it');
      assert.equal(refreshServer.backend.stats.refreshes - before.refreshes, 1);
      assert.equal(refreshServer.backend.stats.logins - before.logins, 0);
      assert.notEqual(stored().refreshToken, oldRefresh, 'rotated');
      const reuse = await fetch(`${refreshOrigin}/refresh`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refreshToken: oldRefresh }) });
      assert.equal(reuse.status, 401, 'the dev server refuses a rotated-away refresh token');
    });

    test('a tap after the access token\'s lifetime: refreshed before the request goes out (no 401), no wx.login', async () => {
      const { runtime, page } = launchPairs();
      await runtime.idle();
      await new Promise((resolve) => setTimeout(resolve, ACCESS_TTL_S * 1000 + 100));
      const before = stats();
      const from = runtime.lines.length;
      const logins = runtime.counts.login;
      runtime.tap(page, 'callProtected');
      await runtime.idle();
      const lines = runtime.lines.slice(from);
      assert.equal(page.data.profile, '微信用户 (o-demo-user)');
      assert.equal(runtime.counts.login - logins, 0);
      assert.equal(count(lines, /→ POST \/refresh /), 1, lines.join('\n'));
      assert.equal(count(lines, /← 401 /), 0, 'the API never saw the expired token');
      assert.equal(refreshServer.backend.stats.unauthorized - before.unauthorized, 0);
    });

    test('a relaunch over an expired stored access token: one /refresh, no wx.login, no /auth', async () => {
      const all = JSON.parse(fs.readFileSync(pairStorage, 'utf8'));
      all.token.expiresAt = Date.now() - 1000;
      fs.writeFileSync(pairStorage, JSON.stringify(all));
      const { runtime, page } = launchPairs();
      await runtime.idle();
      assert.equal(page.data.state, 'ready');
      assert.equal(page.data.profile, '微信用户 (o-demo-user)');
      assert.equal(runtime.counts.login, 0);
      assert.equal(count(runtime.lines, /→ POST \/refresh /), 1, runtime.lines.join('\n'));
      assert.equal(count(runtime.lines, /→ POST \/auth /), 0);
    });

    test('logout forgets the pair: the next launch logs in with wx.login, never sending the old refresh token', async () => {
      const { runtime, page } = launchPairs();
      await runtime.idle();
      const oldRefresh = stored().refreshToken;
      runtime.tap(page, 'logout');
      await runtime.idle();
      assert.equal(JSON.parse(fs.readFileSync(pairStorage, 'utf8')).token, undefined);
      const before = stats();
      const next = launchPairs();
      await next.runtime.idle();
      assert.equal(next.runtime.counts.login, 1);
      assert.equal(refreshServer.backend.stats.refreshes + refreshServer.backend.stats.refreshErrors - before.refreshes - before.refreshErrors, 0);
      assert.notEqual(stored().refreshToken, oldRefresh);
    });
  });

  test('a dev server that is down: the page shows a typed error and a retry works later', async () => {
    fs.rmSync(storageFile, { force: true });
    const { runtime, page } = launch({ extConfig: { baseUrl: 'http://127.0.0.1:9' } });
    await runtime.idle();
    assert.equal(page.data.state, 'failed');
    assert.match(page.data.error, /^NETWORK: /);
  });
}

for (const build of BUILDS) describe(build.name, () => suite(build));

// The dev server alone (no SDK): once.

test('the refresh profile: short-lived access tokens, /refresh swaps a refresh token once (rotation), expire and revoke', async () => {
  const { createBackend } = require('../../demo-miniprogram/dev-server/server');
  let now = 0;
  const backend = createBackend({ profile: 'refresh', accessTtl: 60, now: () => now });
  const call = (method, p, body, headers = {}) => backend.handle({ method, path: p, query: new URLSearchParams(), headers, body });
  const [, first] = call('POST', '/login', { code: backend.issueCode('o-1') });
  assert.deepEqual(Object.keys(first).sort(), ['expiresIn', 'refreshToken', 'token']);
  assert.equal(first.expiresIn, 60);
  const profile = (token) => call('GET', '/api/profile', undefined, { token })[0];
  assert.equal(profile(first.token), 200);
  now += 60 * 1000;
  assert.equal(profile(first.token), 401, 'its lifetime is over');
  const [status, second] = call('POST', '/refresh', { refreshToken: first.refreshToken });
  assert.equal(status, 200);
  assert.equal(profile(second.token), 200);
  assert.notEqual(second.refreshToken, first.refreshToken);
  assert.deepEqual(call('POST', '/refresh', { refreshToken: first.refreshToken }), [401, { error: 'invalid refresh token' }], 'used once');
  assert.equal(call('POST', '/refresh', {})[0], 401);
  call('POST', '/__admin/expire');
  assert.equal(profile(second.token), 401, 'expire: the access tokens');
  const [, third] = call('POST', '/refresh', { refreshToken: second.refreshToken });
  assert.equal(profile(third.token), 200, 'not the refresh tokens');
  call('POST', '/__admin/revoke');
  assert.equal(call('POST', '/refresh', { refreshToken: third.refreshToken })[0], 401, 'revoke: both');
  assert.deepEqual([backend.stats.refreshes, backend.stats.refreshErrors], [2, 3]);
  const plain = createBackend({ now: () => now });
  const [, answer] = plain.handle({ method: 'POST', path: '/login', query: new URLSearchParams(), headers: {}, body: { code: plain.issueCode('o-1') } });
  assert.equal(answer.refreshToken, undefined, 'the default profile has no refresh tokens');
  assert.deepEqual(plain.handle({ method: 'POST', path: '/refresh', query: new URLSearchParams(), headers: {}, body: {} })[0], 404);
});

test('codes behave like WeChat: single use (40163), unknown (40029), 5-minute life', async () => {
  const { createBackend } = require('../../demo-miniprogram/dev-server/server');
  let now = 0;
  const backend = createBackend({ now: () => now });
  const code = backend.issueCode('o-1');
  assert.ok(backend.code2Session(code).openid);
  assert.equal(backend.code2Session(code).errcode, 40163);
  assert.equal(backend.code2Session('nope').errcode, 40029);
  const old = backend.issueCode('o-1');
  now += 5 * 60 * 1000 + 1;
  assert.equal(backend.code2Session(old).errcode, 40029);
  const [status, answer] = backend.handle({ method: 'POST', path: '/login', query: new URLSearchParams(), headers: {}, body: { code: 'nope' } });
  assert.deepEqual([status, answer.errcode], [400, 40029]);
});
