// The pieces the demo's 手机号登录 and 上传头像 stand on, without the SDK: the dev server's phone
// login and multipart avatar endpoint, and the sandbox's wx.uploadFile / wx.downloadFile /
// wx.chooseMedia over real HTTP.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');
const { createRuntime, MEDIA_FIXTURE } = require('../sandbox/runtime');
const { startServer, createBackend, parseMultipart } = require('../../demo-miniprogram/dev-server/server');

const PACKAGE = path.join(__dirname, '..', '..', 'demo-miniprogram', 'miniprogram');

let server;
let origin;

test.before(async () => {
  server = await startServer({ port: 0 });
  origin = `http://127.0.0.1:${server.port}`;
});
test.after(() => server.server.close());

const post = (url, body, headers = {}) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
const wxCode = async (at = origin) => (await (await fetch(`${at}/__wx/login`, { method: 'POST' })).json()).code;
async function loginToken(extra = {}) {
  const res = await post(`${origin}/login`, { code: await wxCode(), ...extra });
  return { status: res.status, answer: await res.json() };
}

function runtime(options = {}) {
  return createRuntime({ packageRoot: PACKAGE, devServer: origin, extConfig: { baseUrl: origin }, ...options });
}

// wx-style call → {ok, res} once success or fail, checking complete follows it.
function call(api, options) {
  return new Promise((resolve, reject) => {
    let outcome;
    const task = api({
      ...options,
      success: (res) => { outcome = { ok: true, res }; },
      fail: (res) => { outcome = { ok: false, res }; },
      complete: (res) => (outcome && outcome.res === res ? resolve({ ...outcome, task }) : reject(new Error('complete without success/fail before it'))),
    });
    if (options.onTask) options.onTask(task);
  });
}

// A server that records what it got and answers as told.
async function captureServer(answer = (req, res) => res.end('{"ok":true}')) {
  const seen = [];
  const s = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks) });
      answer(req, res);
    });
  });
  await new Promise((resolve) => s.listen(0, '127.0.0.1', resolve));
  return { seen, origin: `http://127.0.0.1:${s.address().port}`, close: () => s.close() };
}

// ── dev server ──────────────────────────────────────────────────────────────────────────

test('dev server: a login with phoneCode binds a masked phone, shown in the answer and the user, not as the token', async () => {
  const { status, answer } = await loginToken({ phoneCode: 'pc-bind-1' });
  assert.equal(status, 200);
  assert.match(answer.phone, /^138\*{4}\d{4}$/);
  assert.match(answer.token, /^[0-9a-f]{48}$/);
  assert.equal(answer.expiresIn, 7200);
  const profile = await (await fetch(`${origin}/api/profile`, { headers: { token: answer.token } })).json();
  assert.equal(profile.phone, answer.phone);
  assert.deepEqual(server.backend.loginLog.at(-1), { openid: 'o-demo-user', phoneCode: 'pc-bind-1' });
  // Same code, same number; a code works once (like WeChat's); a bad one fails the login
  // without spending the wx.login code.
  const again = await loginToken({ phoneCode: 'pc-bind-1' });
  assert.deepEqual([again.status, again.answer.errcode], [400, 40163]);
  const code = await wxCode();
  const bad = await post(`${origin}/login`, { code, phoneCode: 42 });
  assert.deepEqual([bad.status, (await bad.json()).errcode], [400, 40029]);
  assert.equal((await post(`${origin}/login`, { code })).status, 200, 'the wx.login code still works');
});

test('dev server: a login without phoneCode answers as before', async () => {
  const backend = createBackend();
  const [status, answer] = backend.handle({ method: 'POST', path: '/login', query: new URLSearchParams(), headers: {}, body: { code: backend.issueCode('o-new') } });
  assert.equal(status, 200);
  assert.deepEqual(Object.keys(answer).sort(), ['expiresIn', 'token']);
  assert.equal(backend.stats.phoneLogins, 0);
});

test('dev server: a GET login with the code in the query takes phoneCode from the query too', () => {
  const backend = createBackend({ profile: 'get-query-code' });
  const query = new URLSearchParams({ code: backend.issueCode('o-q'), phoneCode: 'pc-query' });
  const [status, answer] = backend.handle({ method: 'GET', path: '/user/login', query, headers: {} });
  assert.deepEqual([status, answer.code], [200, 200]);
  assert.match(backend.phones.get('o-q'), /^138\*{4}\d{4}$/);
});

test('dev server: POST /api/avatar takes multipart, needs the token, answers {url, size}', async () => {
  const { answer: { token } } = await loginToken();
  const png = fs.readFileSync(MEDIA_FIXTURE);
  const form = () => {
    const f = new FormData();
    f.append('note', 'hi');
    f.append('avatar', new Blob([png], { type: 'image/png' }), 'me.png');
    return f;
  };
  let res = await fetch(`${origin}/api/avatar`, { method: 'POST', headers: { token }, body: form() });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^application\/json/);
  const body = await res.json();
  assert.match(body.url, /^\/avatars\/[0-9a-f]{16}\.png$/);
  assert.equal(body.size, png.length);
  // The file comes back, with the token only.
  res = await fetch(`${origin}${body.url}`, { headers: { token } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'image/png');
  assert.deepEqual(Buffer.from(await res.arrayBuffer()), png);
  assert.equal((await fetch(`${origin}${body.url}`)).status, 401);
  assert.equal((await fetch(`${origin}/avatars/0000000000000000.png`, { headers: { token } })).status, 404);

  res = await fetch(`${origin}/api/avatar`, { method: 'POST', body: form() });
  assert.deepEqual([res.status, await res.json()], [401, { error: 'invalid session' }]);
  res = await fetch(`${origin}/api/avatar`, { method: 'POST', headers: { token: 'nope' }, body: form() });
  assert.equal(res.status, 401);
  const other = new FormData();
  other.append('photo', new Blob([png]), 'me.png');
  res = await fetch(`${origin}/api/avatar`, { method: 'POST', headers: { token }, body: other });
  assert.equal(res.status, 400, 'no file under "avatar"');
  res = await fetch(`${origin}/api/avatar`, { method: 'POST', headers: { token, 'content-type': 'multipart/form-data; boundary=x' }, body: 'garbage' });
  assert.equal(res.status, 400, 'malformed multipart');
});

test('dev server: wafer2 says "invalid" to an avatar upload its own way (HTTP 200, code -1)', () => {
  const backend = createBackend({ profile: 'wafer2' });
  const [status, answer] = backend.handle({ method: 'POST', path: '/api/avatar', query: new URLSearchParams(), headers: {}, form: { fields: {}, files: {} } });
  assert.deepEqual([status, answer.code], [200, -1]);
});

test('dev server: bodies over 5 MB get 413', async () => {
  const res = await fetch(`${origin}/api/avatar`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: Buffer.alloc(5 * 1024 * 1024 + 1) });
  assert.equal(res.status, 413);
});

test('parseMultipart: fields and files, binary bytes kept; malformed → null', () => {
  const bytes = Buffer.from([0, 13, 10, 45, 45, 255, 13, 10]);
  const body = Buffer.concat([
    Buffer.from('preamble\r\n--b0undary\r\nContent-Disposition: form-data; name="a"\r\n\r\n一\r\n'),
    Buffer.from('--b0undary\r\nContent-Disposition: form-data; name="avatar"; filename="x.png"\r\nContent-Type: image/png\r\n\r\n'),
    bytes,
    Buffer.from('\r\n--b0undary--\r\n'),
  ]);
  const form = parseMultipart(body, 'multipart/form-data; boundary=b0undary');
  assert.deepEqual(form.fields, { a: '一' });
  assert.equal(form.files.avatar.filename, 'x.png');
  assert.equal(form.files.avatar.contentType, 'image/png');
  assert.deepEqual(form.files.avatar.bytes, bytes);
  assert.ok(parseMultipart(body, 'multipart/form-data; boundary="b0undary"'));
  assert.equal(parseMultipart(body, 'multipart/form-data'), null);
  assert.equal(parseMultipart(body.subarray(0, body.length - 20), 'multipart/form-data; boundary=b0undary'), null);
  assert.equal(parseMultipart(Buffer.from('--b0undary\r\nX: y\r\n\r\nz\r\n--b0undary--'), 'multipart/form-data; boundary=b0undary'), null);
});

// ── the sandbox's wx ────────────────────────────────────────────────────────────────────

test('wx.chooseMedia picks the fixture into a temp file; media: false cancels', async () => {
  const rt = runtime();
  const picked = await call(rt.wx.chooseMedia, { count: 1, mediaType: ['image'] });
  assert.equal(picked.ok, true);
  assert.equal(picked.res.errMsg, 'chooseMedia:ok');
  assert.equal(picked.res.type, 'image');
  const [file] = picked.res.tempFiles;
  assert.match(file.tempFilePath, /^wxfile:\/\/tmp_[0-9a-f]{16}\.png$/);
  assert.deepEqual([file.fileType, file.width, file.height], ['image', 48, 48]);
  assert.equal(file.size, fs.statSync(MEDIA_FIXTURE).size);
  assert.deepEqual(fs.readFileSync(rt.localFile(file.tempFilePath)), fs.readFileSync(MEDIA_FIXTURE));
  assert.equal(rt.fileCounts.chooseMedia, 1);

  const cancelled = await call(runtime({ media: false }).wx.chooseMedia, { count: 1 });
  assert.deepEqual([cancelled.ok, cancelled.res.errMsg], [false, 'chooseMedia:fail cancel']);
  assert.equal(rt.localFile('/etc/passwd'), null);
  assert.equal(rt.localFile('wxfile://../../etc/passwd'), null, 'wxfile:// paths stay in their folder');
});

test('wx.uploadFile sends multipart/form-data: header, formData, the file under `name`; data comes back a string', async () => {
  const capture = await captureServer((req, res) => {
    res.writeHead(201, { 'content-type': 'application/json' });
    res.end('{"url":"/x.png"}');
  });
  try {
    const rt = runtime();
    const { res: { tempFiles: [file] } } = await call(rt.wx.chooseMedia, { count: 1 });
    const up = await call(rt.wx.uploadFile, { url: `${capture.origin}/up?x=1`, filePath: file.tempFilePath, name: 'avatar', header: { token: 't-1', 'Content-Type': 'text/plain' }, formData: { note: '你好', n: 3 } });
    assert.equal(up.ok, true);
    assert.deepEqual(up.res, { data: '{"url":"/x.png"}', statusCode: 201, errMsg: 'uploadFile:ok' });
    assert.equal(typeof up.task.abort, 'function');
    assert.equal(typeof up.task.onProgressUpdate, 'function');
    const [seen] = capture.seen;
    assert.equal(seen.method, 'POST');
    assert.equal(seen.url, '/up?x=1');
    assert.equal(seen.headers.token, 't-1');
    assert.match(seen.headers['content-type'], /^multipart\/form-data; boundary=/, "the caller's content-type is replaced");
    const form = parseMultipart(seen.body, seen.headers['content-type']);
    assert.deepEqual(form.fields, { note: '你好', n: '3' });
    assert.equal(form.files.avatar.contentType, 'image/png');
    assert.equal(form.files.avatar.filename, path.basename(rt.localFile(file.tempFilePath)));
    assert.deepEqual(form.files.avatar.bytes, fs.readFileSync(MEDIA_FIXTURE));
    assert.equal(rt.fileCounts.uploadFile, 1);
    assert.deepEqual(Object.keys(rt.counts), ['login', 'request', 'checkSession'], 'counts keep their shape');
    assert.ok(rt.lines.some((l) => l.includes('→ UPLOAD /up?x=1 header {"token":"****"')), 'the token masked in the timeline');
  } finally {
    capture.close();
  }
});

test('wx.uploadFile to the dev server: 200 with a token, 401 without', async () => {
  const rt = runtime();
  const { answer: { token } } = await loginToken();
  const { res: { tempFiles: [file] } } = await call(rt.wx.chooseMedia, { count: 1 });
  const ok = await call(rt.wx.uploadFile, { url: `${origin}/api/avatar`, filePath: file.tempFilePath, name: 'avatar', header: { token } });
  assert.equal(ok.res.statusCode, 200);
  assert.equal(JSON.parse(ok.res.data).size, file.size);
  const refused = await call(rt.wx.uploadFile, { url: `${origin}/api/avatar`, filePath: file.tempFilePath, name: 'avatar' });
  assert.deepEqual([refused.ok, refused.res.statusCode, refused.res.data], [true, 401, '{"error":"invalid session"}']);
  assert.ok(rt.lines.every((l) => !l.includes(token)));
});

test('wx.uploadFile fails like WeChat: no such file, no name, bad url, refused connection, timeout, abort', async () => {
  const rt = runtime();
  const { res: { tempFiles: [file] } } = await call(rt.wx.chooseMedia, { count: 1 });
  const fail = async (options) => {
    const r = await call(rt.wx.uploadFile, { url: `${origin}/api/avatar`, filePath: file.tempFilePath, name: 'avatar', ...options });
    assert.equal(r.ok, false);
    return r.res.errMsg;
  };
  assert.match(await fail({ filePath: 'wxfile://tmp_nope.png' }), /^uploadFile:fail file not found/);
  assert.match(await fail({ filePath: '/etc/hostname' }), /^uploadFile:fail file not found/);
  assert.match(await fail({ name: undefined }), /^uploadFile:fail parameter error/);
  assert.equal(await fail({ url: 'not a url' }), 'uploadFile:fail invalid url');
  assert.match(await fail({ url: 'http://127.0.0.1:9/api/avatar' }), /^uploadFile:fail .*ERR_CONNECTION_REFUSED/);
  const silent = await captureServer(() => {}); // never answers
  try {
    assert.equal(await fail({ url: `${silent.origin}/slow`, timeout: 100 }), 'uploadFile:fail timeout');
    assert.equal(await fail({ url: `${silent.origin}/slow`, onTask: (task) => setTimeout(() => task.abort(), 20) }), 'uploadFile:fail abort');
  } finally {
    silent.close();
  }
  await rt.idle();
});

test('wx.downloadFile: the body into a temp file (any status), or into filePath; fails like WeChat', async () => {
  const rt = runtime();
  const { answer: { token } } = await loginToken();
  const { res: { tempFiles: [file] } } = await call(rt.wx.chooseMedia, { count: 1 });
  const { res: up } = await call(rt.wx.uploadFile, { url: `${origin}/api/avatar`, filePath: file.tempFilePath, name: 'avatar', header: { token } });
  const { url } = JSON.parse(up.data);

  const down = await call(rt.wx.downloadFile, { url: `${origin}${url}`, header: { token } });
  assert.equal(down.ok, true);
  assert.equal(down.res.statusCode, 200);
  assert.equal(down.res.errMsg, 'downloadFile:ok');
  assert.match(down.res.tempFilePath, /^wxfile:\/\/tmp_[0-9a-f]{16}\.png$/);
  assert.deepEqual(fs.readFileSync(rt.localFile(down.res.tempFilePath)), fs.readFileSync(MEDIA_FIXTURE));

  const saved = await call(rt.wx.downloadFile, { url: `${origin}${url}`, header: { token }, filePath: `${rt.wx.env.USER_DATA_PATH}/avatars/me.png` });
  assert.deepEqual(saved.res, { filePath: 'wxfile://usr/avatars/me.png', statusCode: 200, errMsg: 'downloadFile:ok' });
  assert.deepEqual(fs.readFileSync(rt.localFile('wxfile://usr/avatars/me.png')), fs.readFileSync(MEDIA_FIXTURE));

  const refused = await call(rt.wx.downloadFile, { url: `${origin}${url}` });
  assert.equal(refused.ok, true, 'an HTTP error is still a success, like WeChat');
  assert.equal(refused.res.statusCode, 401);
  assert.equal(fs.readFileSync(rt.localFile(refused.res.tempFilePath), 'utf8'), '{"error":"invalid session"}');

  const bad = await call(rt.wx.downloadFile, { url: `${origin}${url}`, filePath: '/tmp/elsewhere.png' });
  assert.deepEqual([bad.ok, bad.res.errMsg], [false, 'downloadFile:fail invalid filePath: /tmp/elsewhere.png']);
  const down2 = await call(rt.wx.downloadFile, { url: 'http://127.0.0.1:9/x' });
  assert.match(down2.res.errMsg, /^downloadFile:fail .*ERR_CONNECTION_REFUSED/);
  assert.equal(rt.fileCounts.downloadFile, 5);
  assert.ok(rt.lines.every((l) => !l.includes(token)));
});

test('runtime.launchApp runs app.js without opening a page; filesDir holds wxfile:// files', async () => {
  const filesDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wx-session-files-test-'));
  const rt = runtime({ filesDir });
  const appJson = rt.launchApp();
  assert.deepEqual(appJson.pages, ['pages/index/index']);
  assert.equal(typeof rt.getApp().session.ensure, 'function');
  assert.deepEqual(rt.run('getCurrentPages().length'), 0);
  const { res: { tempFiles: [file] } } = await call(rt.wx.chooseMedia, { count: 1 });
  assert.ok(rt.localFile(file.tempFilePath).startsWith(filesDir + path.sep));
  await rt.getApp().session.ensure();
  await rt.idle();
});
