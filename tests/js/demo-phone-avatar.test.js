// The demo's 手机号登录 and 上传头像, rendered by miniprogram-simulate:
//   - with a session the test drives by hand (the page's own logic), and
//   - end to end: the page rendered by miniprogram-simulate, its getApp() the demo's app.js
//     running the built SDK in the strict sandbox, wx the sandbox's (wx.login via the dev
//     server's WeChat side; wx.request, wx.uploadFile over real HTTP to the dev server).
// The end-to-end ones need session.login() and session.uploadFile() in the built SDK.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');

// miniprogram-simulate expects a browser's globals (a webview in DevTools): jsdom's.
const { JSDOM } = require('jsdom');
const dom = new JSDOM('<!doctype html><html><head></head><body></body></html>');
for (const key of ['window', 'document', 'navigator', 'Node', 'Element', 'HTMLElement', 'Event', 'CustomEvent', 'MutationObserver']) {
  Object.defineProperty(global, key, { value: key === 'window' ? dom.window : dom.window[key], configurable: true, writable: true });
}
const simulate = require('miniprogram-simulate');
const { createRuntime, MEDIA_FIXTURE } = require('../sandbox/runtime');
const { createWx } = require('../fakes/wx');
const { startServer } = require('../../demo-miniprogram/dev-server/server');

const PACKAGE = path.join(__dirname, '..', '..', 'demo-miniprogram', 'miniprogram');
const PAGE = path.join(PACKAGE, 'pages', 'index', 'index');

// The dev server the end-to-end tests below talk to.
let server;
let origin;
const storageFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'wx-session-phone-avatar-')), 'storage.json');

test.before(async () => {
  server = await startServer({ port: 0 });
  origin = `http://127.0.0.1:${server.port}`;
});
test.after(() => server.server.close());

function render() {
  const page = simulate.render(simulate.load(PAGE));
  page.attach(document.createElement('parent-wrapper'));
  return page;
}

const textOf = (page) => page.dom.textContent.replace(/\s+/g, ' ');

// ── the page's logic, with a session driven by hand ────────────────────────────────────────

function handSession() {
  const calls = { login: [], request: [], uploadFile: [] };
  const pending = (list) => (options) => new Promise((resolve, reject) => list.push({ options, resolve, reject }));
  const session = {
    onChange() { return () => {}; },
    ensure: () => new Promise(() => {}),
    request: pending(calls.request),
    login: pending(calls.login),
    uploadFile: pending(calls.uploadFile),
    logout: () => Promise.resolve(),
  };
  return { session, calls };
}

// The page's wx: the shared fake (tests/fakes/wx.js) answering inside the call; it records
// showToast in `toasts` and chooseMedia in `picks`, and picks a 199-byte PNG unless `media: false`
// (the user cancels).
function pageWx(options = {}) {
  return createWx({ schedule: 'sync', ...options });
}

test('手机号登录 with a code: session.login({ phoneCode }), then the token and the bound phone', async () => {
  const { session, calls } = handSession();
  const { wx, toasts } = pageWx();
  global.getApp = () => ({ session });
  global.wx = wx;
  const page = render();
  page.instance.onLoad();
  calls.request.shift(); // the onLoad request: never answered here

  page.querySelector('.phone-login').dispatchEvent('getphonenumber', { detail: { errMsg: 'getPhoneNumber:ok', code: 'phone-code-1' } });
  await simulate.sleep(0);
  assert.equal(calls.login.length, 1);
  assert.deepEqual(calls.login[0].options, { phoneCode: 'phone-code-1' });
  assert.match(textOf(page), /登录中…/);

  calls.login.shift().resolve({ token: 'fedcba9876543210', source: 'login' });
  await simulate.sleep(10);
  assert.match(textOf(page), /fedc\*\*\*\*10/, 'the new token, masked');
  assert.doesNotMatch(textOf(page), /fedcba9876543210/);
  assert.equal(toasts.at(-1).title, '登录成功');
  assert.equal(calls.request.length, 1, 'the profile is fetched with the new token');
  assert.equal(calls.request[0].options.url, '/api/profile');
  calls.request.shift().resolve({ statusCode: 200, data: { nickname: '微信用户', openid: 'o-1', phone: '138****0000' } });
  await simulate.sleep(10);
  assert.match(page.querySelector('.phone').dom.textContent, /138\*\*\*\*0000/);
});

test('手机号登录 refused: a toast, no login', async () => {
  const { session, calls } = handSession();
  const { wx, toasts } = pageWx();
  global.getApp = () => ({ session });
  global.wx = wx;
  const page = render();
  page.instance.onLoad();

  page.querySelector('.phone-login').dispatchEvent('getphonenumber', { detail: { errMsg: 'getPhoneNumber:fail user deny' } });
  await simulate.sleep(10);
  assert.equal(calls.login.length, 0);
  assert.deepEqual(toasts, [{ title: '已取消手机号授权', icon: 'none' }]);

  // No permission (a personal or tourist appid): also no login, another toast.
  page.querySelector('.phone-login').dispatchEvent('getphonenumber', { detail: { errMsg: 'getPhoneNumber:fail no permission' } });
  await simulate.sleep(10);
  assert.equal(calls.login.length, 0);
  assert.equal(toasts.at(-1).title, '无法获取手机号');
});

test('手机号登录 failing: the error shows, the page stays as it was', async () => {
  const { session, calls } = handSession();
  const { wx } = pageWx();
  global.getApp = () => ({ session });
  global.wx = wx;
  const page = render();
  page.instance.onLoad();
  page.querySelector('.phone-login').dispatchEvent('getphonenumber', { detail: { code: 'phone-code-x' } });
  await simulate.sleep(0);
  calls.login.shift().reject(Object.assign(new Error('login endpoint answered 400'), { code: 'SERVER_REJECTED' }));
  await simulate.sleep(10);
  assert.match(textOf(page), /手机号登录失败：SERVER_REJECTED: login endpoint answered 400/);
  assert.doesNotMatch(textOf(page), /登录中…/);
});

test('上传头像: chooseMedia (one image), uploadFile to /api/avatar under "avatar", the answer shown', async () => {
  const { session, calls } = handSession();
  const { wx, picks } = pageWx();
  global.getApp = () => ({ session });
  global.wx = wx;
  const page = render();
  page.instance.onLoad();

  page.querySelector('.upload-avatar').dispatchEvent('tap');
  await simulate.sleep(10);
  assert.equal(picks.length, 1);
  assert.equal(picks[0].count, 1);
  assert.deepEqual(picks[0].mediaType, ['image']);
  assert.equal(calls.uploadFile.length, 1);
  assert.deepEqual(calls.uploadFile[0].options, { url: '/api/avatar', filePath: 'wxfile://tmp_a1.png', name: 'avatar' });
  assert.match(textOf(page), /上传中…/);

  // wx.uploadFile's data is the body as a string.
  calls.uploadFile.shift().resolve({ statusCode: 200, data: '{"url":"/avatars/0123456789abcdef.png","size":199}', errMsg: 'uploadFile:ok' });
  await simulate.sleep(10);
  assert.match(textOf(page), /\/avatars\/0123456789abcdef\.png/);
  assert.match(textOf(page), /199 字节/);
  assert.equal(page.data.avatarPath, 'wxfile://tmp_a1.png', 'the chosen image shows as the avatar');
  assert.ok(page.querySelector('.avatar') && !page.querySelector('.avatar-empty'), 'an <image> instead of the placeholder');

  // A failing upload and a non-200 answer show as errors.
  page.querySelector('.upload-avatar').dispatchEvent('tap');
  await simulate.sleep(10);
  calls.uploadFile.shift().reject(Object.assign(new Error('uploadFile:fail timeout'), { code: 'TIMEOUT' }));
  await simulate.sleep(10);
  assert.match(textOf(page), /上传失败：TIMEOUT: uploadFile:fail timeout/);
  page.querySelector('.upload-avatar').dispatchEvent('tap');
  await simulate.sleep(10);
  calls.uploadFile.shift().resolve({ statusCode: 413, data: '{"error":"too large"}', errMsg: 'uploadFile:ok' });
  await simulate.sleep(10);
  assert.match(textOf(page), /上传失败：HTTP 413/);
});

test('上传头像 cancelled in the picker: no upload, no toast', async () => {
  const { session, calls } = handSession();
  const { wx, toasts } = pageWx({ media: false });
  global.getApp = () => ({ session });
  global.wx = wx;
  const page = render();
  page.instance.onLoad();
  page.querySelector('.upload-avatar').dispatchEvent('tap');
  await simulate.sleep(10);
  assert.equal(calls.uploadFile.length, 0);
  assert.equal(toasts.length, 0);
});

// ── end to end: the built SDK in the sandbox, the dev server over real HTTP ───────────────

const pathOf = (url) => String(url).replace(/^https?:\/\/[^/]+/, '').replace(/[?#].*$/, '');
const bodyOf = (data) => (typeof data === 'string' ? JSON.parse(data) : data);
const storedToken = () => JSON.parse(fs.readFileSync(storageFile, 'utf8')).token.token;

// The sandbox's wx, with every exchange the SDK starts recorded in order (`log`): wx.login's
// code, each request / upload as sent, and its answer.
function recording(httpWx, log) {
  const answered = (entry, call) => Object.assign({}, call, {
    success(res) {
      entry.answer = res;
      if (call.success) call.success(res);
    },
  });
  const exchange = (api) => (call) => {
    const entry = { api, path: pathOf(call.url), method: call.method, header: { ...(call.header || {}) }, data: call.data, name: call.name, filePath: call.filePath, answer: null };
    log.push(entry);
    return httpWx[api](answered(entry, call));
  };
  return Object.assign({}, httpWx, {
    login(call) {
      const entry = { api: 'login', code: null };
      log.push(entry);
      return httpWx.login(Object.assign({}, call, {
        success(res) {
          entry.code = res.code;
          if (call.success) call.success(res);
        },
      }));
    },
    request: exchange('request'),
    uploadFile: exchange('uploadFile'),
    downloadFile: exchange('downloadFile'),
  });
}

// The demo's app.js launched in the sandbox; its index page rendered by miniprogram-simulate.
async function mountDemo(options = {}) {
  const log = [];
  const runtime = createRuntime({
    packageRoot: PACKAGE, devServer: origin, extConfig: { baseUrl: origin }, storageFile,
    wx: (httpWx) => recording(httpWx, log),
    // TIMELINE=1 prints what the sandbox saw (tokens masked).
    log: process.env.TIMELINE ? (line) => console.log(line) : undefined,
    ...options,
  });
  runtime.launchApp();
  global.getApp = () => runtime.getApp();
  global.wx = runtime.wx;
  const page = render();
  page.instance.onLoad();
  await runtime.idle();
  return { runtime, page, log };
}

test('e2e 手机号登录: one wx.login, one login request with code + phoneCode, the next API request carries the new token', async () => {
  fs.rmSync(storageFile, { force: true });
  const { runtime, page, log } = await mountDemo();
  assert.match(textOf(page), /已登录/, 'the launch login finished');
  const oldToken = storedToken();
  const loginsBefore = runtime.counts.login;
  const serverBefore = { ...server.backend.stats };
  const from = log.length;

  page.querySelector('.phone-login').dispatchEvent('getphonenumber', { detail: { errMsg: 'getPhoneNumber:ok', code: 'phone-code-1' } });
  await simulate.sleep(0);
  await runtime.idle();

  const after = log.slice(from);
  assert.equal(runtime.counts.login - loginsBefore, 1, 'exactly one wx.login');
  assert.equal(after.filter((e) => e.api === 'login').length, 1);
  const logins = after.filter((e) => e.path === '/login');
  assert.equal(logins.length, 1, 'exactly one login request');
  const wxLogin = after.findIndex((e) => e.api === 'login');
  const loginAt = after.indexOf(logins[0]);
  assert.ok(wxLogin >= 0 && wxLogin < loginAt, 'wx.login first, then the login request');
  const body = bodyOf(logins[0].data);
  assert.equal(body.code, after[wxLogin].code, "the body carries wx.login's code");
  assert.equal(body.phoneCode, 'phone-code-1', 'and the phone code');
  assert.equal(logins[0].answer.statusCode, 200);
  const newToken = logins[0].answer.data.token;
  assert.equal(typeof newToken, 'string');
  assert.notEqual(newToken, oldToken);

  const nextApi = after.slice(loginAt + 1).find((e) => e.path.startsWith('/api/'));
  assert.ok(nextApi, 'an API request after the login');
  assert.equal(nextApi.header.token, newToken, 'the next API request carries the new token');
  assert.equal(nextApi.answer.statusCode, 200);

  assert.equal(server.backend.stats.logins - serverBefore.logins, 1);
  assert.equal(server.backend.stats.phoneLogins - serverBefore.phoneLogins, 1);
  assert.deepEqual(server.backend.loginLog.at(-1), { openid: 'o-demo-user', phoneCode: 'phone-code-1' });
  assert.equal(storedToken(), newToken, 'the new token replaced the old one in storage');
  const phone = server.backend.phones.get('o-demo-user');
  assert.match(phone, /^138\*{4}\d{4}$/);
  assert.equal(page.querySelector('.phone').dom.textContent.trim(), phone, 'the page shows the bound phone');
  assert.match(textOf(page), new RegExp(`${newToken.slice(0, 4)}\\*{4}${newToken.slice(-2)}`), 'and the new token, masked');
  assert.ok(runtime.lines.every((line) => !line.includes(newToken)), 'the timeline never shows the token');
});

test('e2e 手机号登录 refused: no wx.login, no request', async () => {
  const { runtime, page, log } = await mountDemo();
  const from = log.length;
  const logins = runtime.counts.login;
  page.querySelector('.phone-login').dispatchEvent('getphonenumber', { detail: { errMsg: 'getPhoneNumber:fail user deny' } });
  await simulate.sleep(0);
  await runtime.idle();
  assert.equal(runtime.counts.login, logins);
  assert.deepEqual(log.slice(from), []);
  assert.ok(runtime.lines.some((l) => l.includes('wx.showToast "已取消手机号授权"')));
});

test('e2e 上传头像: the chosen image reaches /api/avatar as multipart with the token header', async () => {
  const { runtime, page, log } = await mountDemo();
  const token = storedToken();
  const uploadsBefore = server.backend.stats.uploads;
  const from = log.length;

  page.querySelector('.upload-avatar').dispatchEvent('tap');
  await simulate.sleep(0);
  await runtime.idle();

  assert.equal(runtime.fileCounts.chooseMedia, 1);
  const uploads = log.slice(from).filter((e) => e.api === 'uploadFile');
  assert.equal(uploads.length, 1);
  assert.equal(uploads[0].path, '/api/avatar');
  assert.equal(uploads[0].name, 'avatar');
  assert.match(uploads[0].filePath, /^wxfile:\/\/tmp_[0-9a-f]+\.png$/);
  assert.equal(uploads[0].header.token, token, 'the token header');
  assert.equal(uploads[0].answer.statusCode, 200);
  const size = fs.statSync(MEDIA_FIXTURE).size;
  const answer = JSON.parse(uploads[0].answer.data);
  assert.match(answer.url, /^\/avatars\/[0-9a-f]{16}\.png$/);
  assert.equal(answer.size, size);
  assert.equal(server.backend.stats.uploads - uploadsBefore, 1);
  assert.match(textOf(page), new RegExp(`${answer.url.replace(/[./]/g, '\\$&')}`));
  assert.match(textOf(page), new RegExp(`${size} 字节`));
  assert.ok(runtime.lines.every((line) => !line.includes(token)), 'the timeline never shows the token');
});

test('e2e 上传头像 with a revoked token: one re-login, the upload retried once and accepted', async () => {
  const { runtime, page, log } = await mountDemo();
  const oldToken = storedToken();
  await fetch(`${origin}/__admin/revoke`, { method: 'POST' });
  const logins = runtime.counts.login;
  const before = { ...server.backend.stats };
  const from = log.length;

  page.querySelector('.upload-avatar').dispatchEvent('tap');
  await simulate.sleep(0);
  await runtime.idle();

  const after = log.slice(from);
  assert.equal(runtime.counts.login - logins, 1, 'exactly one re-login (wx.login)');
  assert.equal(after.filter((e) => e.path === '/login').length, 1, 'exactly one login request');
  const uploads = after.filter((e) => e.api === 'uploadFile');
  assert.equal(uploads.length, 2, 'the upload, then one retry');
  assert.equal(uploads[0].header.token, oldToken);
  assert.equal(uploads[0].answer.statusCode, 401);
  const newToken = storedToken();
  assert.notEqual(newToken, oldToken);
  assert.equal(uploads[1].header.token, newToken, 'the retry carries the new token');
  assert.equal(uploads[1].filePath, uploads[0].filePath, 'the same file');
  assert.equal(uploads[1].answer.statusCode, 200);
  assert.ok(after.indexOf(uploads[0]) < after.findIndex((e) => e.path === '/login'), 'refused, then the login');
  assert.equal(server.backend.stats.uploads - before.uploads, 2);
  assert.equal(server.backend.stats.unauthorized - before.unauthorized, 1);
  assert.equal(server.backend.stats.logins - before.logins, 1);
  assert.match(textOf(page), /\/avatars\/[0-9a-f]{16}\.png/);
  assert.doesNotMatch(textOf(page), /上传失败/);
});

test('e2e session.downloadFile: the uploaded avatar comes back into a temp file, with the token', async () => {
  const { runtime, log } = await mountDemo();
  const session = runtime.getApp().session;
  const uploaded = await session.uploadFile({ url: '/api/avatar', filePath: await new Promise((resolve) => runtime.wx.chooseMedia({ count: 1, mediaType: ['image'], success: (r) => resolve(r.tempFiles[0].tempFilePath) })), name: 'avatar' });
  const { url } = JSON.parse(uploaded.data);
  const from = log.length;
  const res = await session.downloadFile({ url });
  assert.equal(res.statusCode, 200);
  assert.deepEqual(fs.readFileSync(runtime.localFile(res.tempFilePath)), fs.readFileSync(MEDIA_FIXTURE));
  const downloads = log.slice(from).filter((e) => e.api === 'downloadFile');
  assert.equal(downloads.length, 1);
  assert.equal(downloads[0].header.token, storedToken());
});
