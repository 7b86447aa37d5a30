// The fake platform every JS suite runs on (tests/fakes/wx.js), held to what its header promises:
// the suites' assertions are only as good as the fake under them.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const { createWx, createTt, createMy, createQq, createSwan, createKs, createPlatform, PLATFORM_NAMES, GLOBALS } = require('../fakes/wx');

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
  for (const file of ['fakes/wx.js', 'engines/scenarios.js', 'engines/api-scenarios.js', 'engines/hostile-scenarios.js', 'engines/platform-scenarios.js', 'engines/refresh-and-hooks-scenarios.js']) {
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

// ---- the other platforms, held to tests/fakes/PLATFORMS.md ------------------------------------------

// Calls a callback-style API and resolves with { success } or { fail }.
const settled = (fn, options = {}) => new Promise((resolve) => {
  fn({ ...options, success: (res) => resolve({ success: res }), fail: (err) => resolve({ fail: err }) });
});

test('createPlatform: every platform by its name or its global, each exposing its object under its global', () => {
  assert.deepEqual(PLATFORM_NAMES, ['wechat', 'douyin', 'alipay', 'qq', 'baidu', 'kuaishou']);
  for (const name of PLATFORM_NAMES) {
    for (const key of [name, GLOBALS[name]]) {
      const fake = createPlatform(key, { schedule: 'sync' });
      assert.equal(fake.platform, name);
      assert.equal(fake.global, GLOBALS[name]);
      assert.equal(fake[fake.global], fake.api);
      assert.equal(typeof fake.api.request, 'function');
    }
  }
  assert.throws(() => createPlatform('weibo'), /unknown platform weibo/);
  assert.equal(createTt().platform, 'douyin');
  assert.equal(createMy().platform, 'alipay');
  assert.equal(createQq().platform, 'qq');
  assert.equal(createSwan().platform, 'baidu');
  assert.equal(createKs().platform, 'kuaishou');
});

test('tt.login: force defaults to true (Douyin login UI for a user not logged in); force: false answers only an anonymousCode; a logged-in user gets code and anonymousCode', async () => {
  const out = createTt({ schedule: 'sync', loggedIn: false });
  const anonymous = await settled(out.tt.login, { force: false });
  assert.deepEqual(anonymous.success, { anonymousCode: 'anon-1', isLogin: false, errMsg: 'login:ok' });
  assert.equal(out.counts.loginUi, 0);
  const checked = await settled(out.tt.checkSession);
  assert.ok(checked.fail, 'checkSession fails after an anonymous login only');
  const forced = await settled(out.tt.login); // no force: the documented default, true
  assert.equal(out.counts.loginUi, 1, 'the login UI opened');
  assert.deepEqual(forced.success, { anonymousCode: 'anon-2', isLogin: true, errMsg: 'login:ok', code: 'code-1' });
  assert.ok((await settled(out.tt.checkSession)).success);
  assert.deepEqual(out.logins, [{ force: false }, {}]);

  const cancel = createTt({ schedule: 'sync', loggedIn: false, loginUi: 'cancel' });
  assert.deepEqual((await settled(cancel.tt.login, { force: true })).fail, { errMsg: 'login:fail host login fail' });

  // Both codes work once each at the backend; which one came is recorded.
  const both = createTt({ schedule: 'sync' });
  const { success } = await settled(both.tt.login, { force: false });
  assert.deepEqual([success.code, success.anonymousCode, success.isLogin], ['code-1', 'anon-1', true]);
  const post = (data) => settled(both.tt.request, { url: 'https://api.test/login', method: 'POST', data }).then((r) => r.success);
  assert.equal((await post({ anonymous_code: 'anon-1' })).statusCode, 200);
  assert.equal((await post({ anonymous_code: 'anon-1' })).data.errcode, 40163);
  assert.equal((await post({ code: 'code-1' })).statusCode, 200);
  assert.deepEqual(both.backend.loginCodes, [
    { field: 'anonymous_code', kind: 'anonymousCode' },
    { field: 'anonymous_code', kind: 'anonymousCode' },
    { field: 'code', kind: 'code' },
  ]);
});

test("tt storage is WeChat's (key, data); missingKey: 'throw' throws Douyin's 'data not found' for a missing key", () => {
  const plain = createTt({ schedule: 'sync' });
  assert.equal(plain.tt.getStorageSync('token'), '');
  plain.tt.setStorageSync('token', { a: 1 });
  assert.deepEqual(plain.tt.getStorageSync('token'), { a: 1 });
  const strict = createTt({ schedule: 'sync', missingKey: 'throw' });
  assert.throws(() => strict.tt.getStorageSync('token'), (e) => e.errorCode === 100599 && /data not found, key == token/.test(e.message));
  strict.tt.setStorageSync('token', 'x');
  assert.equal(strict.tt.getStorageSync('token'), 'x');
});

test('my: getAuthCode (auth_base by default) → authCode, one use at the backend; no my.login, no my.checkSession', async () => {
  const fake = createMy({ schedule: 'sync' });
  assert.equal(fake.my.login, undefined);
  assert.equal(fake.my.checkSession, undefined);
  const { success } = await settled(fake.my.getAuthCode, { scopes: 'auth_base' });
  assert.deepEqual(success, { authCode: 'auth-1', authSuccessScopes: ['auth_base'], authErrorScopes: {} });
  assert.deepEqual((await settled(fake.my.getAuthCode)).success.authSuccessScopes, ['auth_base']);
  const post = (data) => settled(fake.my.request, { url: 'https://api.test/login', method: 'POST', data });
  const ok = await post({ code: 'auth-1' });
  assert.deepEqual(Object.keys(ok.success).sort(), ['data', 'headers', 'status']);
  assert.equal(ok.success.status, 200);
  assert.deepEqual(fake.backend.loginCodes[0], { field: 'code', kind: 'authCode' });
  const again = await post({ authCode: 'auth-1' });
  assert.deepEqual([again.fail.error, again.fail.errorMessage, again.fail.status, again.fail.data.errcode], [19, 'http status error', 400, 40163]);
  const failing = createMy({ schedule: 'sync', loginFails: { error: 11, errorMessage: '用户取消授权' } });
  assert.deepEqual((await settled(failing.my.getAuthCode)).fail, { error: 11, errorMessage: '用户取消授权' });
});

test("my.request: reads `headers` only (newer clients: `header` too), answers { data, status, headers }, fails a non-2xx status with error 19 and the status, aborts with error 9", async () => {
  const fake = createMy({
    schedule: 'macrotask',
    respond: (o) => (o.url.endsWith('/slow') ? { error: 13, errorMessage: '超时' } : o.url.endsWith('/hang') ? null : undefined),
  });
  fake.accept('tok-9');
  const get = (options) => settled(fake.my.request, { url: 'https://api.test/api/profile', ...options });
  const good = await get({ headers: { token: 'tok-9' } });
  assert.deepEqual(good.success, { data: { ok: true, path: '/api/profile' }, status: 200, headers: {} });
  const wxStyle = await get({ header: { token: 'tok-9' } });
  assert.deepEqual(wxStyle.fail, { error: 19, errorMessage: 'http status error', status: 401, data: {}, headers: {} }, '`header` is not read');
  assert.deepEqual((await get({ url: 'https://api.test/slow' })).fail, { error: 13, errorMessage: '超时' });
  let task;
  const aborted = new Promise((resolve) => { task = fake.my.request({ url: 'https://api.test/hang', fail: resolve, success: resolve }); });
  task.abort();
  assert.deepEqual(await aborted, { error: 9, errorMessage: 'request:fail abort' });

  const newer = createMy({ schedule: 'sync', headerAlias: true });
  newer.accept('tok-9');
  const both = await settled(newer.my.request, { url: 'https://api.test/api/x', header: { token: 'tok-9' } });
  assert.deepEqual([both.success.status, both.success.statusCode, both.success.header], [200, 200, {}]);
  const lenient = createMy({ schedule: 'sync', httpErrors: 'success' });
  assert.equal((await settled(lenient.my.request, { url: 'https://api.test/api/x' })).success.status, 401);
});

test('my storage: ({ key }) → { data } ({ data: null } when missing), ({ key, data }) → a result object, never a throw: 200 KB a key (error 14), 10 MB in all (error 12)', () => {
  const fake = createMy({ schedule: 'sync' });
  const my = fake.my;
  assert.deepEqual(my.getStorageSync({ key: 'token' }), { data: null });
  assert.deepEqual(my.setStorageSync({ key: 'token', data: { v: 1 } }), { success: true });
  assert.deepEqual(my.getStorageSync({ key: 'token' }), { data: { v: 1 } });
  assert.notEqual(my.getStorageSync({ key: 'token' }).data, fake.storage.token, 'a copy');
  assert.deepEqual(my.getStorageSync('token'), { error: 2, errorMessage: '必填参数为空' }, 'a WeChat-style call reads nothing');
  assert.deepEqual(my.setStorageSync('token', 'x'), { error: 2, errorMessage: '必填参数为空' });
  assert.deepEqual(my.setStorageSync({ key: 'big', data: 'x'.repeat(210 * 1024) }), { error: 14, errorMessage: 'data长度超限' });
  assert.deepEqual(my.removeStorageSync({ key: 'token' }), { success: true });
  assert.deepEqual(my.getStorageSync({ key: 'token' }), { data: null });
  const full = createMy({ schedule: 'sync', storageFull: true });
  assert.deepEqual(full.my.setStorageSync({ key: 'token', data: 1 }), { error: 12, errorMessage: '存储总大小达到上限' });
  assert.deepEqual(full.storage, {});
});

test('my.uploadFile: `name` or `fileName` (older clients: fileName and fileType required) → { data, statusCode, header }; my.downloadFile → { apFilePath, tempFilePath }, no status', async () => {
  const fake = createMy({ schedule: 'sync' });
  fake.accept('tok-9');
  const upload = (options) => settled(fake.my.uploadFile, { url: 'https://api.test/api/avatar', filePath: 'tmp/a.png', header: { token: 'tok-9' }, ...options });
  const byName = await upload({ name: 'avatar' });
  assert.deepEqual(Object.keys(byName.success).sort(), ['data', 'header', 'statusCode']);
  assert.equal(byName.success.statusCode, 200);
  assert.match(byName.success.data, /avatar\.png/);
  assert.equal((await upload({ fileName: 'avatar', fileType: 'image' })).success.statusCode, 200);
  assert.deepEqual((await upload({})).fail, { error: 11, errorMessage: '无效参数' });
  assert.deepEqual((await upload({ name: 'a', fileType: 'pdf' })).fail, { error: 11, errorMessage: '无效参数' });
  const legacy = createMy({ schedule: 'sync', upload: 'legacy' });
  legacy.accept('tok-9');
  const old = (options) => settled(legacy.my.uploadFile, { url: 'https://api.test/api/avatar', filePath: 'tmp/a.png', header: { token: 'tok-9' }, ...options });
  assert.ok((await old({ name: 'avatar', fileType: 'image' })).fail, 'name alone is not enough');
  assert.equal((await old({ fileName: 'avatar', fileType: 'image' })).success.statusCode, 200);

  const download = await settled(fake.my.downloadFile, { url: 'https://api.test/files/a.pdf', header: { token: 'tok-9' } });
  assert.deepEqual(Object.keys(download.success).sort(), ['apFilePath', 'tempFilePath']);
  assert.equal(download.success.apFilePath, download.success.tempFilePath);
  assert.deepEqual((await settled(fake.my.downloadFile, { url: 'https://api.test/files/a.pdf' })).fail, { error: 12, errorMessage: '下载失败' });
});

test('swan: login → { code }; checkSession fails for an invalid session, or (older base libraries) succeeds with { result }', async () => {
  const fake = createSwan({ schedule: 'sync' });
  assert.ok((await settled(fake.swan.checkSession)).fail);
  assert.deepEqual((await settled(fake.swan.login)).success, { code: 'code-1' });
  assert.deepEqual((await settled(fake.swan.checkSession)).success, {});
  const older = createSwan({ schedule: 'sync', checkSessionStyle: 'result' });
  assert.deepEqual((await settled(older.swan.checkSession)).success, { result: false });
  await settled(older.swan.login);
  assert.deepEqual((await settled(older.swan.checkSession)).success, { result: true });
  const got = await settled(fake.swan.request, { url: 'https://api.test/api/x' });
  assert.deepEqual([got.success.statusCode, got.success.errMsg], [401, undefined], 'any status succeeds; no errMsg is documented');
});

test('qq and ks: WeChat-shaped login, checkSession, request and storage', async () => {
  for (const fake of [createQq({ schedule: 'sync' }), createKs({ schedule: 'sync' })]) {
    const api = fake.api;
    assert.ok((await settled(api.checkSession)).fail, `${fake.global}: no session before a login`);
    assert.deepEqual((await settled(api.login)).success, { code: 'code-1', errMsg: 'login:ok' });
    assert.ok((await settled(api.checkSession)).success);
    const got = await settled(api.request, { url: 'https://api.test/api/x' });
    assert.deepEqual([got.success.statusCode, got.success.errMsg], [401, 'request:ok']);
    api.setStorageSync('token', { v: 1 });
    assert.deepEqual(api.getStorageSync('token'), { v: 1 });
    assert.equal(api.getStorageSync('missing'), '');
  }
});

test('pairs: logins hand out a refresh token; /refresh swaps it (body or header) for a new pair, rotating; a refused one is 401', async () => {
  const fake = createWx({ schedule: 'sync', pairs: true, accessTtl: 600 });
  const first = await login(fake);
  assert.deepEqual(first.data, { token: 'tok-1', expiresIn: 600, refreshToken: 'ref-1', session_key: 'NEVER-STORED' });
  const refresh = (options) => request(fake, { url: 'https://api.test/refresh', method: 'POST', ...options });
  const profile = (token) => request(fake, { url: 'https://api.test/api/profile', header: { token } }).then((r) => r.statusCode);

  fake.revokeAccess();
  assert.equal(await profile('tok-1'), 401, 'the access token "expired"');
  const swapped = await refresh({ data: { refreshToken: 'ref-1' } });
  assert.deepEqual([swapped.statusCode, swapped.data], [200, { token: 'tok-2', expiresIn: 600, refreshToken: 'ref-2' }]);
  assert.equal(await profile('tok-2'), 200);
  const reused = await refresh({ data: { refreshToken: 'ref-1' } });
  assert.deepEqual([reused.statusCode, reused.data], [401, { error: 'invalid refresh token' }], 'rotated away');
  const inHeader = await refresh({ header: { 'X-Refresh-Token': 'ref-2' } });
  assert.deepEqual([inHeader.statusCode, inHeader.data.refreshToken], [200, 'ref-3']);
  const bearer = await refresh({ header: { Authorization: 'Bearer ref-3' } });
  assert.equal(bearer.statusCode, 200);
  assert.equal((await refresh({ data: { refreshToken: 'nope' } })).statusCode, 401, 'unknown');
  assert.equal((await refresh({})).statusCode, 401, 'none sent');
  assert.deepEqual(fake.refreshes().map((r) => [r.refreshToken, r.where, r.key, r.status]), [
    ['ref-1', 'body', 'refreshToken', 200], ['ref-1', 'body', 'refreshToken', 401], ['ref-2', 'header', 'X-Refresh-Token', 200],
    ['ref-3', 'header', 'Authorization', 200], ['nope', 'body', 'refreshToken', 401], [undefined, null, null, 401],
  ]);

  fake.backend.rotate = false;
  const kept = await refresh({ data: { refreshToken: 'ref-4' } });
  assert.deepEqual(kept.data, { token: 'tok-5', expiresIn: 600 }, 'no rotation: no new refresh token');
  assert.equal((await refresh({ data: { refreshToken: 'ref-4' } })).statusCode, 200, 'and the old one still works');
  fake.backend.refuseRefresh = true;
  assert.equal((await refresh({ data: { refreshToken: 'ref-4' } })).statusCode, 401);
  fake.backend.refuseRefresh = false;
  fake.revokeRefresh();
  assert.equal((await refresh({ data: { refreshToken: 'ref-4' } })).statusCode, 401);
  assert.equal(await profile('tok-6'), 200, 'revokeRefresh leaves access tokens');
  fake.acceptRefresh('planted');
  assert.equal((await refresh({ data: { refreshToken: 'planted' } })).statusCode, 200);
  for (const secret of ['tok-1', 'ref-1', 'ref-4', 'code-1']) assert.ok(fake.secrets().includes(secret), secret);
  fake.revokeAll();
  assert.equal(await profile('tok-7'), 401);
  assert.equal((await refresh({ data: { refreshToken: 'planted' } })).statusCode, 401, 'revokeAll forgets refresh tokens too');
});

test('accessTtl: an access token dies that many seconds after it was issued (by Date.now); without it, never', async () => {
  const realNow = Date.now;
  try {
    const timed = createWx({ schedule: 'sync', accessTtl: 60 });
    const untimed = createWx({ schedule: 'sync' });
    await login(timed);
    await login(untimed);
    const profile = (fake) => request(fake, { url: 'https://api.test/api/profile', header: { token: 'tok-1' } }).then((r) => r.statusCode);
    assert.deepEqual([await profile(timed), await profile(untimed)], [200, 200]);
    const later = realNow() + 61000;
    Date.now = () => later;
    assert.deepEqual([await profile(timed), await profile(untimed)], [401, 200]);
  } finally {
    Date.now = realNow;
  }
});

test('business: { code, msg, data } answers with HTTP 200; failures[path]; needPhone until a phone login; verify refuses bad signatures', async () => {
  const fake = createWx({ schedule: 'sync', business: true, pairs: true });
  const first = await login(fake);
  assert.deepEqual([first.statusCode, first.data], [200, { code: 0, msg: 'ok', data: { token: 'tok-1', expiresIn: 7200, refreshToken: 'ref-1' } }]);
  const used = await request(fake, { url: 'https://api.test/login', method: 'POST', data: { code: 'code-1' } });
  assert.deepEqual([used.statusCode, used.data.code], [200, 40163]);
  const get = (path, token = 'tok-1', header = {}) => request(fake, { url: `https://api.test${path}`, header: { token, ...header } });
  assert.deepEqual((await get('/api/a')).data, { code: 0, msg: 'ok', data: { ok: true, path: '/api/a' } });
  assert.deepEqual([(await get('/api/a', 'nope')).statusCode, (await get('/api/a', 'nope')).data], [200, { code: -1, msg: 'session invalid' }]);
  fake.backend.failures['/api/pay'] = { code: 40001, msg: '余额不足' };
  const failed = await get('/api/pay');
  assert.deepEqual([failed.statusCode, failed.data], [200, { code: 40001, msg: '余额不足', data: null }]);
  const refreshed = await request(fake, { url: 'https://api.test/refresh', method: 'POST', data: { refreshToken: 'ref-1' } });
  assert.deepEqual(refreshed.data, { code: 0, msg: 'ok', data: { token: 'tok-2', expiresIn: 7200, refreshToken: 'ref-2' } });
  const refused = await request(fake, { url: 'https://api.test/refresh', method: 'POST', data: { refreshToken: 'ref-1' } });
  assert.deepEqual([refused.statusCode, refused.data.code], [200, 40102]);

  fake.backend.needPhone = ['/api/orders'];
  const act = await get('/api/orders', 'tok-2');
  assert.deepEqual([act.statusCode, act.data], [200, { code: 1001, msg: 'bind a phone number first' }]);
  await login(fake, { phoneCode: 'phone-1' });
  assert.equal((await get('/api/orders', 'tok-3')).data.code, 0, 'a phone login');
  const pair = await request(fake, { url: 'https://api.test/refresh', method: 'POST', data: { refreshToken: 'ref-3' } });
  assert.equal((await get('/api/orders', pair.data.data.token)).data.code, 0, 'the phone goes with the refresh');

  const plain = createWx({ schedule: 'sync' });
  await login(plain);
  plain.backend.needPhone = ['/api/orders'];
  const forbidden = await request(plain, { url: 'https://api.test/api/orders', header: { token: 'tok-1' } });
  assert.deepEqual([forbidden.statusCode, forbidden.data.code], [403, 1001], 'without business: 403');
  plain.backend.verify = (o) => o.header['X-Sign'] === require('../fakes/wx').sign(o.header.token + o.url);
  const signed = (sig) => request(plain, { url: 'https://api.test/api/a', header: { token: 'tok-1', 'X-Sign': sig } });
  assert.equal((await signed(require('../fakes/wx').sign('tok-1https://api.test/api/a'))).statusCode, 200);
  assert.deepEqual([(await signed('bad')).statusCode, plain.backend.badSignatures], [400, 1]);
});

test('release(filter) answers only the held exchanges it picks, the holds staying; bindPhone marks a token made elsewhere', async () => {
  const fake = createWx({ schedule: 1 });
  fake.accept('planted');
  fake.backend.needPhone = ['/api/orders'];
  fake.hold((kind, o) => /\/api\//.test(o.url));
  const got = [];
  const send = (path) => request(fake, { url: `https://api.test${path}`, header: { token: 'planted' } }).then((r) => got.push([path, r.statusCode]));
  const a = send('/api/a');
  const orders = send('/api/orders');
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(got, []);
  fake.release((kind, o) => o.url.endsWith('/api/a'));
  await a;
  assert.deepEqual(got, [['/api/a', 200]]);
  const b = send('/api/b');
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(got.length, 1, 'the hold stays');
  fake.backend.bindPhone('planted');
  fake.release();
  await Promise.all([orders, b]);
  assert.deepEqual(got.slice(1).sort(), [['/api/b', 200], ['/api/orders', 200]]);
});
