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

test.before(async () => {
  server = await startServer({ port: 0 });
  origin = `http://127.0.0.1:${server.port}`;
});
test.after(() => server.server.close());

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
