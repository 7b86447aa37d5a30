// The built SDK against each dev-server profile (the seeds' protocols and wafer2's), changing
// nothing but config, in the strict sandbox over real HTTP. Also the concurrency promises seen
// from outside: 20 parallel requests cost one login, cold or with a revoked token.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { createRuntime } = require('../sandbox/runtime');
const { startServer } = require('../../demo-miniprogram/dev-server/server');

const DIST = path.join(__dirname, '..', '..', 'js-glue', 'dist');

// The configs the README shows for each profile.
const PROFILES = {
  default: {
    api: '/api/profile',
    config: {
      login: { url: '/login', tokenPath: 'token', expiresInPath: 'expiresIn' },
      check: { url: '/auth', okWhen: { path: 'errCode', equals: 0 } },
    },
  },
  'get-query-code': {
    api: '/api/profile',
    config: { login: { url: '/user/login', method: 'GET', codeIn: 'query', tokenPath: 'token', okWhen: { path: 'code', equals: 200 } } },
  },
  'session-id': {
    api: '/api/profile',
    config: { storageKey: 'session_id', tokenHeader: 'X-Session-Id', login: { url: '/api/fetch_code', tokenPath: 'session_id' } },
  },
  // Access + refresh token pairs (无感刷新): the demo app.js's config.
  refresh: {
    api: '/api/profile',
    config: {
      login: { url: '/login', tokenPath: 'token', expiresInPath: 'expiresIn', refreshTokenPath: 'refreshToken' },
      check: { url: '/auth', okWhen: { path: 'errCode', equals: 0 } },
      refresh: { url: '/refresh', tokenPath: 'token', refreshTokenPath: 'refreshToken', expiresInPath: 'expiresIn' },
    },
  },
  wafer2: {
    api: '/weapp/user',
    config: {
      tokenHeader: 'X-WX-Skey',
      login: { url: '/weapp/login', method: 'GET', codeIn: 'header', codeKey: 'X-WX-Code', tokenPath: 'data.skey', okWhen: { path: 'code', equals: 0 } },
      invalidWhen: [{ status: 401 }, { path: 'code', equals: -1 }],
    },
  },
};

function tempStorage() {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'wx-session-profile-')), 'storage.json');
}

// One app launch: a fresh sandbox and session over the same storage file.
function launch(origin, storageFile, config) {
  const runtime = createRuntime({ packageRoot: DIST, devServer: origin, storageFile });
  const { createSession } = runtime.requireModule('index.js');
  const session = createSession({ baseUrl: origin, wasmPath: '/wx_session_bg.wasm.br', ...config });
  return { runtime, session };
}

// Runs `fn(origin, backend)` against a dev server with `profile`, and always stops it.
async function withServer(profile, fn) {
  const { server, backend, port } = await startServer({ port: 0, profile });
  try {
    await fn(`http://127.0.0.1:${port}`, backend);
  } finally {
    server.close();
  }
}

const admin = (origin, what, body) =>
  fetch(`${origin}/__admin/${what}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body || {}) });

for (const [name, { api, config }] of Object.entries(PROFILES)) {
  test(`${name} profile: login, request, revoked token → one re-login, relaunch from storage`, async () => {
    const storageFile = tempStorage();
    await withServer(name, async (origin) => {
      const first = launch(origin, storageFile, config);
      const ready = await first.session.ensure();
      assert.equal(ready.source, 'login');
      const answer = await first.session.request({ url: api });
      assert.equal(answer.statusCode, 200);
      assert.notEqual(answer.data.code, -1);

      await admin(origin, 'revoke');
      const again = await first.session.request({ url: api });
      assert.equal(again.statusCode, 200);
      assert.equal(first.runtime.counts.login, 2, 'one re-login');

      const second = launch(origin, storageFile, config);
      const relaunched = await second.session.ensure();
      assert.equal(relaunched.source, 'storage');
      assert.equal(second.runtime.counts.login, 0);
      assert.equal((await second.session.request({ url: api })).statusCode, 200);
    });
  });
}

test('session-id profile: a session_id stored as a plain string by hand-written code keeps the user logged in', async () => {
  const storageFile = tempStorage();
  await withServer('session-id', async (origin) => {
    // What the seed's fetch_code() leaves behind: wx.setStorageSync('session_id', session_id).
    const { code } = await (await fetch(`${origin}/__wx/login`, { method: 'POST' })).json();
    const { session_id: sessionId } = await (await fetch(`${origin}/api/fetch_code`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code }),
    })).json();
    fs.writeFileSync(storageFile, JSON.stringify({ session_id: sessionId }));

    const { runtime, session } = launch(origin, storageFile, PROFILES['session-id'].config);
    const ready = await session.ensure();
    assert.equal(ready.source, 'storage');
    assert.equal(ready.token, sessionId);
    assert.equal((await session.request({ url: '/api/profile' })).statusCode, 200);
    assert.equal(runtime.counts.login, 0, 'still logged in, no wx.login');
    assert.equal(JSON.parse(fs.readFileSync(storageFile, 'utf8')).session_id.v, 1, 'migrated to the record');
  });
});

test('when-unknown: a relaunch with a token known to be fresh makes zero network calls', async () => {
  const storageFile = tempStorage();
  const config = { ...PROFILES.default.config, check: { ...PROFILES.default.config.check, policy: 'when-unknown' } };
  await withServer('default', async (origin) => {
    await launch(origin, storageFile, config).session.ensure();
    const { runtime, session } = launch(origin, storageFile, config);
    assert.equal((await session.ensure()).source, 'storage');
    assert.deepEqual(runtime.counts, { login: 0, request: 0, checkSession: 0 });
  });
});

test('20 parallel requests cost one login on a cold start and one with a revoked token', async () => {
  await withServer('default', async (origin, backend) => {
    const { runtime, session } = launch(origin, tempStorage(), PROFILES.default.config);
    const all = () => Promise.all(Array.from({ length: 20 }, () => session.request({ url: '/api/profile' })));
    assert.ok((await all()).every((a) => a.statusCode === 200));
    assert.equal(runtime.counts.login, 1);
    assert.equal(backend.stats.logins, 1);

    await admin(origin, 'revoke');
    assert.ok((await all()).every((a) => a.statusCode === 200));
    assert.equal(runtime.counts.login, 2);
    assert.equal(backend.stats.logins, 2);
  });
});

test('a server that always says "invalid session" gets bounded logins and SESSION_EXPIRED', async () => {
  await withServer('default', async (origin, backend) => {
    await admin(origin, 'mode', { alwaysInvalid: true });
    const { session } = launch(origin, tempStorage(), PROFILES.default.config);
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => session.request({ url: '/api/profile' })));
    assert.ok(results.every((r) => r.status === 'rejected' && r.reason.code === 'SESSION_EXPIRED'));
    assert.equal(backend.stats.logins, 2, 'the launch login and one shared re-login');
  });
});

test('refresh profile: 20 parallel requests after the access tokens expired cost one /refresh and no login; with the refresh tokens revoked too, one login', async () => {
  await withServer('refresh', async (origin, backend) => {
    const { runtime, session } = launch(origin, tempStorage(), PROFILES.refresh.config);
    const all = () => Promise.all(Array.from({ length: 20 }, () => session.request({ url: '/api/profile' })));
    assert.ok((await all()).every((a) => a.statusCode === 200));
    assert.deepEqual([runtime.counts.login, backend.stats.logins, backend.stats.refreshes], [1, 1, 0]);

    await admin(origin, 'expire');
    assert.ok((await all()).every((a) => a.statusCode === 200));
    assert.deepEqual([runtime.counts.login, backend.stats.logins, backend.stats.refreshes], [1, 1, 1], 'one refresh, no login');

    await admin(origin, 'revoke');
    assert.ok((await all()).every((a) => a.statusCode === 200));
    assert.deepEqual([runtime.counts.login, backend.stats.logins, backend.stats.refreshes, backend.stats.refreshErrors], [2, 2, 1, 1], 'the refused refresh: one login');
  });
});

test('refresh profile: a relaunch over an expired stored access token swaps the refresh token, no wx.login', async () => {
  const storageFile = tempStorage();
  await withServer('refresh', async (origin, backend) => {
    await launch(origin, storageFile, PROFILES.refresh.config).session.ensure();
    const all = JSON.parse(fs.readFileSync(storageFile, 'utf8'));
    all.token.expiresAt = Date.now() - 1000;
    fs.writeFileSync(storageFile, JSON.stringify(all));
    await admin(origin, 'expire');
    const { runtime, session } = launch(origin, storageFile, PROFILES.refresh.config);
    assert.equal((await session.request({ url: '/api/profile' })).statusCode, 200);
    assert.deepEqual([runtime.counts.login, backend.stats.refreshes, backend.stats.checks], [0, 1, 0]);
  });
});
