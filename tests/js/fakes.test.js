// The fake platform every JS suite runs on (tests/fakes/wx.js), held to what its header promises:
// the suites' assertions are only as good as the fake under them.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const { createWx } = require('../fakes/wx');

const TESTS = path.join(__dirname, '..');

// Calls a wx-style function and resolves with what came back: { success } or { fail }.
const call = (fn, options = {}) => new Promise((resolve) => {
  fn({ ...options, success: (res) => resolve({ success: res }), fail: (err) => resolve({ fail: err }) });
});
const request = (fake, options) => call(fake.wx.request, options).then((r) => r.success || r.fail);
const login = async (fake, extra) => {
  const { success } = await call(fake.wx.login);
  return request(fake, { url: 'https://api.test/login', method: 'POST', data: { code: success.code, ...extra } });
};

test('the fake and the engine-neutral scenarios parse as ES5 (jsc and the sandbox load them as they are)', () => {
  // acorn (a dependency of jsdom, in tests/) refuses any ES2015+ syntax when told ES5.
  const acorn = require('acorn');
  for (const file of ['fakes/wx.js', 'engines/scenarios.js', 'engines/api-scenarios.js', 'engines/hostile-scenarios.js']) {
    assert.doesNotThrow(() => acorn.parse(fs.readFileSync(path.join(TESTS, file), 'utf8'), { ecmaVersion: 5, sourceType: 'script' }), file);
  }
});

test('the built-in backend: a code works once, tokens until revoked, a prefix before the token, always-invalid', async () => {
  const fake = createWx({ schedule: 'sync' });
  const first = await login(fake, { phoneCode: 'P' });
  assert.deepEqual(first.data, { token: 'tok-1', expiresIn: 7200, session_key: 'NEVER-STORED' });
  assert.deepEqual(fake.backend.loginBodies, [{ code: 'code-1', phoneCode: 'P' }]);
  const again = await request(fake, { url: 'https://api.test/login', method: 'POST', data: { code: 'code-1' } });
  assert.deepEqual([again.statusCode, again.data.errcode], [400, 40163], 'a used code');
  const unknown = await request(fake, { url: 'https://api.test/login?code=nope' });
  assert.deepEqual([unknown.statusCode, unknown.data.errcode], [400, 40029], 'an unknown code');

  const profile = (header) => request(fake, { url: 'https://api.test/api/profile', header });
  assert.equal((await profile({ token: 'tok-1' })).statusCode, 200);
  assert.equal((await profile({ Authorization: 'Bearer tok-1' })).statusCode, 200);
  assert.equal((await profile({ token: 'tok-2' })).statusCode, 401);
  assert.deepEqual((await request(fake, { url: 'https://api.test/auth', header: { token: 'tok-1' } })).data, { errCode: 0 });
  fake.revokeAll();
  assert.equal((await profile({ token: 'tok-1' })).statusCode, 401);
  fake.accept('planted');
  assert.equal((await profile({ token: 'planted' })).statusCode, 200);
  fake.backend.alwaysInvalid = true;
  assert.equal((await profile({ token: 'planted' })).statusCode, 401);
  assert.deepEqual(fake.secrets().sort(), ['code-1', 'tok-1']);
});

test('respond: an answer, an errMsg failure, undefined for the backend, null never (an abort ends it)', async () => {
  const fake = createWx({
    schedule: 2,
    respond: (o, f, kind) => {
      if (o.url.endsWith('/down')) return { errMsg: `${kind}:fail -2` };
      if (o.url.endsWith('/silent')) return null;
      if (o.url.endsWith('/mine')) return { statusCode: 201, data: 'x' };
      return undefined;
    },
  });
  assert.deepEqual(await request(fake, { url: '/down' }), { errMsg: 'request:fail -2' });
  const mine = await request(fake, { url: '/mine' });
  assert.deepEqual(mine, { statusCode: 201, data: 'x', errMsg: 'request:ok', header: {} });
  assert.equal(fake.sentTo('/mine')[0].result, mine, 'the very object handed to success');
  assert.equal((await request(fake, { url: '/api/x' })).statusCode, 401, 'the backend: no token');

  let task;
  const silent = new Promise((resolve) => { task = fake.wx.uploadFile({ url: '/silent', fail: resolve, success: resolve }); });
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(fake.sentTo('/silent')[0].answered, false, 'no answer after 20 ms');
  task.abort();
  assert.deepEqual(await silent, { errMsg: 'uploadFile:fail abort' });
  assert.deepEqual({ ...fake.counts }, { login: 0, checkSession: 0, request: 3, upload: 1, download: 0, abort: 1 });
  assert.deepEqual(fake.requests().map((o) => o.url), ['/down', '/mine', '/api/x']);
});

test('schedule: sync answers inside the call; a function decides; hold and holdLogin keep answers until released', async () => {
  const sync = createWx({ schedule: 'sync' });
  let answered = false;
  sync.wx.login({ success: () => { answered = true; } });
  assert.ok(answered, 'inside wx.login');

  const queue = [];
  const manual = createWx({ schedule: (fn) => queue.push(fn) });
  const got = request(manual, { url: '/api/x' });
  assert.equal(queue.length, 1);
  queue.shift()();
  assert.equal((await got).statusCode, 401);

  const held = createWx({ schedule: 'macrotask' });
  held.hold((kind, o) => o.url === '/slow');
  held.holdLogin();
  let slow = null;
  let code = null;
  request(held, { url: '/slow' }).then((a) => { slow = a; });
  held.wx.login({ success: (r) => { code = r.code; } });
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual([slow, code], [null, null]);
  held.release();
  held.releaseLogin();
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(slow.statusCode, 401);
  assert.equal(code, 'code-1');
});

test('storage: JSON copies in and out, or the planted value with rawStorage; record: false keeps no exchange', async () => {
  const fake = createWx({ schedule: 'sync' });
  const record = { v: 1, token: 't' };
  fake.wx.setStorageSync('token', record);
  assert.notEqual(fake.storage.token, record);
  assert.deepEqual(fake.wx.getStorageSync('token'), record);
  assert.notEqual(fake.wx.getStorageSync('token'), fake.storage.token, 'a copy each read');
  assert.equal(fake.wx.getStorageSync('constructor'), '', 'only own keys');
  fake.wx.removeStorageSync('token');
  assert.equal(fake.wx.getStorageSync('token'), '');

  const raw = createWx({ schedule: 'sync', rawStorage: true });
  const cyclic = { a: 1 };
  cyclic.self = cyclic;
  raw.storage.token = cyclic;
  assert.equal(raw.wx.getStorageSync('token'), cyclic);

  const quiet = createWx({ schedule: 'sync', record: false });
  await login(quiet);
  assert.deepEqual([quiet.sent.length, quiet.backend.loginBodies.length, quiet.counts.request], [0, 0, 1]);
});
