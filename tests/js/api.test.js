// The weRequest-style API of the built SDK: uploadFile/downloadFile behind the session, wx-style
// callbacks, abort()/onTask(), login(extra), token()/setToken(), onReport. In the strict sandbox,
// then the engine-neutral scenarios of tests/engines/api-scenarios.js on JavaScriptCore and on V8
// with an old-iOS Promise; each for the wasm build (js-glue/dist, WXWebAssembly only) and for the
// JavaScript build (js-glue/dist-js, no WXWebAssembly at all).
'use strict';

const { describe, test } = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');
const { createRuntime } = require('../sandbox/runtime');
const { createWx } = require('../fakes/wx');
const { BUILDS, wasmPathOf, scenariosInSandbox } = require('../hostile/harness');
const { ON_JSC, runSdkOnJsc } = require('../engines/jsc');

const ENGINES = path.join(__dirname, '..', 'engines');

// Resolves once `predicate()` holds; fails the test after `ms` (a generous bound, not a timing).
async function until(predicate, what, ms = 3000) {
  const end = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > end) assert.fail(`still waiting for ${what} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 2));
  }
}
// Every test settles well within this (a hang fails the test instead of the run).
const LIMIT = { timeout: 20000 };
const pause = (ms) => new Promise((r) => setTimeout(r, ms));
// How a promise settled: { ok, value } | { ok: false, error, code }.
const settle = (p) => p.then((value) => ({ ok: true, value }), (error) => ({ ok: false, error, code: error && error.code }));
// A plain Node-realm copy of a sandbox object (deepEqual compares prototypes).
const plain = (value) => JSON.parse(JSON.stringify(value));

const ON_TASK = /^onTask/;
function assertScenarios(results) {
  results = plain(results); // from the sandbox's realm, maybe
  assert.equal(results.length, 9, JSON.stringify(results));
  const failed = results.filter((r) => !r.ok && !ON_TASK.test(r.name)).map((r) => `${r.name}: ${r.detail}`);
  assert.deepEqual(failed, []);
}
function assertOnTask(results) {
  const r = results.find((x) => ON_TASK.test(x.name));
  assert.ok(r, JSON.stringify(results));
  assert.ok(r.ok, `${r.name}: ${r.detail}`);
}

function suite(build) {
  // The SDK in a fresh sandbox over the shared fake wx (tests/fakes/wx.js), answering 2 ms later;
  // fakeOptions go to createWx (a `respond` answers some requests itself).
  function sdk(fakeOptions, runtimeOptions) {
    const fake = createWx({ schedule: 2, ...fakeOptions });
    const runtime = createRuntime({ packageRoot: build.dist, devServer: 'http://127.0.0.1:9', wx: () => fake.wx, wasmLoader: build.js ? false : undefined, ...runtimeOptions });
    const api = runtime.requireModule('index.js');
    const create = (config = {}) => api.createSession({ baseUrl: 'https://api.test', ...wasmPathOf(build), wx: fake.wx, useCheckSession: false, ...config });
    return { fake, runtime, api, create };
  }

  // ---- uploadFile / downloadFile --------------------------------------------------------------

  test('uploadFile with a revoked token: exactly one re-login, the upload retried with the new token, the platform\'s success object', LIMIT, async () => {
    const { fake, create } = sdk();
    const session = create();
    const first = (await session.ensure()).token;
    fake.revokeAll();
    const formData = { album: 'a1' };
    const res = await session.uploadFile({ url: '/api/avatar', filePath: 'wxfile://tmp_a.png', name: 'avatar', formData, header: { 'X-Trace': 't1', TOKEN: 'caller-spelling' } });

    const uploads = fake.sentTo('/api/avatar', 'upload');
    assert.equal(uploads.length, 2, 'sent twice: the first try and the retry');
    assert.equal(fake.counts.login, 2, 'wx.login: the first login and one re-login');
    assert.equal(fake.sentTo('/login').length, 2);
    const second = fake.backend.latest;
    assert.notEqual(second, first);
    assert.equal(uploads[0].options.header.token, first);
    assert.equal(uploads[1].options.header.token, second);
    // The platform's success object, copied (never a `then` it could be adopted through).
    assert.deepEqual({ ...res }, { ...uploads[1].result }, 'resolves with the platform\'s success object\'s fields');
    assert.equal(res.statusCode, 200);
    assert.equal(res.data, '{"url":"https://cdn.test/avatar.png","code":0}', 'an upload\'s data stays the server\'s text');
    assert.equal(res.errMsg, 'uploadFile:ok');
    assert.equal(session.token(), second);
    for (const { options } of uploads) {
      assert.equal(options.url, 'https://api.test/api/avatar');
      assert.equal(options.method, undefined, 'wx.uploadFile gets no method');
      assert.equal(options.filePath, 'wxfile://tmp_a.png');
      assert.equal(options.name, 'avatar');
      assert.equal(options.formData, formData, 'formData passed as the same object');
      assert.deepEqual(Object.keys(options.header).sort(), ['X-Trace', 'token'], 'the caller\'s TOKEN spelling replaced, not doubled');
      assert.equal(options.header['X-Trace'], 't1');
      assert.ok(!('auth' in options) && !('retry' in options), 'SDK-only options stay out');
      assert.equal(typeof options.success, 'function');
    }
    assert.equal(fake.counts.request, 2, 'no wx.request besides the two logins');
  });

  test('an upload\'s string data is read as JSON by invalidWhen rules: HTTP 200 {"code":-1} → one re-login and retry', LIMIT, async () => {
    let stale = null;
    const { fake, create } = sdk({
      respond: (o, _fake, kind) => (kind === 'upload' && o.header.token === stale ? { statusCode: 200, data: '{"code":-1,"msg":"invalid"}' } : undefined),
    });
    const session = create({ invalidWhen: [{ path: 'code', equals: -1 }] });
    stale = (await session.ensure()).token;
    const res = await session.uploadFile({ url: '/api/avatar', filePath: 'wxfile://tmp_a.png', name: 'avatar' });
    assert.equal(res.statusCode, 200);
    assert.equal(JSON.parse(res.data).code, 0, 'the retried upload\'s answer');
    assert.equal(fake.counts.login, 2);
    assert.equal(fake.sentTo('/api/avatar', 'upload').length, 2);
  });

  test('an upload (a POST) is not retried on a network failure unless retry: true; a download (a GET) is', LIMIT, async () => {
    const failOnce = new Set();
    const { fake, create } = sdk({
      respond: (o, _fake, kind) => {
        const key = `${kind} ${o.url}`;
        if (kind !== 'request' && !failOnce.has(key)) {
          failOnce.add(key);
          return { errMsg: `${kind === 'upload' ? 'uploadFile' : 'downloadFile'}:fail -101 net::ERR_CONNECTION_RESET` };
        }
        return undefined;
      },
    });
    const session = create({ retries: 1 });
    await session.ensure();
    const upload = await settle(session.uploadFile({ url: '/api/u1', filePath: 'wxfile://tmp_a.png', name: 'f' }));
    assert.equal(upload.code, 'NETWORK');
    assert.match(upload.error.message, /ERR_CONNECTION_RESET/);
    assert.equal(fake.sentTo('/api/u1').length, 1, 'not sent twice');
    const retried = await session.uploadFile({ url: '/api/u2', filePath: 'wxfile://tmp_a.png', name: 'f', retry: true });
    assert.equal(retried.statusCode, 200);
    assert.equal(fake.sentTo('/api/u2').length, 2);
    const download = await session.downloadFile({ url: '/api/d1' });
    assert.equal(download.statusCode, 200);
    assert.equal(fake.sentTo('/api/d1', 'download').length, 2);
    assert.equal(fake.counts.login, 1, 'network failures never log in again');
  });

  test('downloadFile carries the token and resolves with the platform\'s success object', LIMIT, async () => {
    const { fake, create } = sdk();
    const session = create();
    const res = await session.downloadFile({ url: '/api/file.png', header: { 'X-A': '1' }, filePath: 'wxfile://usr/keep.png' });
    const [sent] = fake.sentTo('/api/file.png', 'download');
    assert.equal(sent.options.url, 'https://api.test/api/file.png');
    assert.equal(sent.options.method, undefined);
    assert.equal(sent.options.header.token, fake.backend.latest);
    assert.equal(sent.options.header['X-A'], '1');
    assert.equal(sent.options.filePath, 'wxfile://usr/keep.png');
    assert.deepEqual({ ...res }, { ...sent.result });
    assert.equal(res.tempFilePath, 'wxfile://tmp_download.png');
    assert.equal(res.errMsg, 'downloadFile:ok');
    assert.equal(fake.counts.download, 1);
    assert.equal(fake.counts.request, 1, 'the login only');
  });

  test('a download with a revoked token logs in again once and is retried', LIMIT, async () => {
    const { fake, create } = sdk();
    const session = create();
    await session.ensure();
    fake.revokeAll();
    const res = await session.downloadFile({ url: '/api/file.png' });
    assert.equal(res.statusCode, 200);
    assert.equal(fake.counts.login, 2);
    const downloads = fake.sentTo('/api/file.png', 'download');
    assert.equal(downloads.length, 2);
    assert.equal(downloads[1].options.header.token, fake.backend.latest);
  });

  // ---- the same URL again (the glue passes "the same" and the core reuses what it made of it) --

  test('a URL repeated, alternated, refused or sent to another origin goes where it says each time, for each session of the instance', LIMIT, async () => {
    const { fake, create } = sdk();
    const a = create();
    const b = create({ baseUrl: 'https://other.test/v2' });
    const urls = ['/api/x', '/api/x', 'api/y', '/api/x', 'https://cdn.test/z'];
    for (const url of urls) {
      const auth = !url.startsWith('https:');
      await a.request({ url, auth });
      await b.request({ url, auth });
    }
    const sent = fake.requests().filter((o) => !/\/login$/.test(o.url)).map((o) => o.url);
    assert.deepEqual(sent, [
      'https://api.test/api/x', 'https://other.test/v2/api/x', 'https://api.test/api/x', 'https://other.test/v2/api/x',
      'https://api.test/api/y', 'https://other.test/v2/api/y', 'https://api.test/api/x', 'https://other.test/v2/api/x',
      'https://cdn.test/z', 'https://cdn.test/z',
    ]);
    // A refused URL is refused every time, and the one before it still works after it.
    for (let i = 0; i < 2; i++) {
      const bad = await settle(a.request({ url: '/a b' }));
      assert.equal(bad.code, 'CONFIG');
      assert.equal(bad.error.key, 'request.url');
    }
    // The same foreign URL with the token is refused, without it sent: the origin check is per call.
    assert.equal((await settle(a.request({ url: 'https://cdn.test/z' }))).code, 'CONFIG');
    await a.request({ url: 'https://cdn.test/z', auth: false });
    assert.equal((await a.request({ url: '/api/x' })).statusCode, 200);
    const last = fake.requests().slice(-2);
    assert.equal(last[0].url, 'https://cdn.test/z');
    assert.equal(last[0].header && last[0].header.token, undefined, 'no token to another origin');
    assert.equal(last[1].url, 'https://api.test/api/x');
    assert.equal(last[1].header.token, fake.backend.latest);
  });

  // ---- callbacks ------------------------------------------------------------------------------

  test('success and complete are called once each with the answer, before the app\'s then', LIMIT, async () => {
    const { create } = sdk();
    const session = create();
    const order = [];
    const got = {};
    const p = session.request({
      url: '/api/profile',
      success: (res) => { order.push('success'); got.success = res; },
      fail: () => order.push('fail'),
      complete: (res) => { order.push('complete'); got.complete = res; },
    });
    const res = await p.then((r) => { order.push('then'); return r; });
    await pause(30);
    assert.deepEqual(order, ['success', 'complete', 'then']);
    assert.equal(got.success, res);
    assert.equal(got.complete, res);
    assert.equal(res.statusCode, 200);
    assert.equal(res.data.path, '/api/profile');
  });

  test('fail and complete are called once each with the WxSessionError, before the app\'s catch', LIMIT, async () => {
    const { create, api } = sdk({ respond: (o) => (o.url.endsWith('/api/down') ? { errMsg: 'request:fail -2:net::ERR_FAILED' } : undefined) });
    const session = create({ retries: 0 });
    await session.ensure();
    const order = [];
    const got = {};
    const error = await session.request({
      url: '/api/down',
      success: () => order.push('success'),
      fail: (e) => { order.push('fail'); got.fail = e; },
      complete: (e) => { order.push('complete'); got.complete = e; },
    }).then(() => assert.fail('resolved'), (e) => { order.push('catch'); return e; });
    await pause(30);
    assert.deepEqual(order, ['fail', 'complete', 'catch']);
    assert.equal(got.fail, error);
    assert.equal(got.complete, error);
    assert.equal(error.code, 'NETWORK');
    assert.ok(error instanceof api.WxSessionError);
  });

  test('uploadFile and downloadFile take the callbacks too', LIMIT, async () => {
    const { create } = sdk();
    const session = create();
    const heard = [];
    const up = await session.uploadFile({ url: '/api/avatar', filePath: 'wxfile://tmp_a.png', name: 'a', success: (r) => heard.push(['up', r]), complete: (r) => heard.push(['upc', r]) });
    const down = await session.downloadFile({ url: '/api/f', success: (r) => heard.push(['down', r]), complete: (r) => heard.push(['downc', r]) });
    assert.deepEqual(heard.map((h) => h[0]), ['up', 'upc', 'down', 'downc']);
    assert.equal(heard[0][1], up);
    assert.equal(heard[2][1], down);
  });

  test('a throwing success (or complete, fail) callback changes nothing, and the next call works', LIMIT, async () => {
    const { create, fake } = sdk();
    const session = create();
    const unhandled = [];
    const onUnhandled = (e) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      let completes = 0;
      const res = await session.request({ url: '/api/profile', success: () => { throw new Error('app bug'); }, complete: () => { completes += 1; throw new Error('again'); } });
      assert.equal(res.statusCode, 200);
      assert.equal(completes, 1, 'complete still called once after success threw');
      const failed = await settle(session.request({ url: 'https://elsewhere.test/x', fail: () => { throw new Error('app bug'); } }));
      assert.equal(failed.code, 'CONFIG', 'the rejection is the SDK\'s, not the callback\'s');
      const next = await session.request({ url: '/api/profile' });
      assert.equal(next.statusCode, 200);
      assert.equal(fake.counts.login, 1);
      await pause(30);
      assert.deepEqual(unhandled, [], 'no unhandled rejection from the callbacks');
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  // ---- abort() and onTask() ---------------------------------------------------------------------

  test('abort during a login wait: ABORTED, never sent, and the login goes on for the other callers', LIMIT, async () => {
    const { fake, create } = sdk();
    const session = create();
    fake.holdLogin();
    const failed = [];
    const call = session.request({ url: '/api/waits', fail: (e) => failed.push(e.code) });
    const other = session.request({ url: '/api/other' });
    const ensure = session.ensure();
    await until(() => fake.counts.login === 1, 'wx.login');
    call.abort();
    const aborted = await settle(call);
    assert.equal(aborted.code, 'ABORTED');
    fake.releaseLogin();
    const [ready, answer] = await Promise.all([ensure, other]);
    assert.equal(ready.source, 'login');
    assert.equal(answer.statusCode, 200);
    await pause(30);
    assert.equal(fake.sentTo('/api/waits').length, 0, 'the aborted call was never sent');
    assert.equal(fake.counts.login, 1);
    assert.deepEqual(failed, ['ABORTED']);
    assert.equal((await session.request({ url: '/api/waits' })).statusCode, 200, 'the same URL works afterwards');
  });

  test('abort during the request: the platform task aborted, ABORTED, no re-login', LIMIT, async () => {
    const { fake, create } = sdk();
    const session = create();
    await session.ensure();
    fake.revokeAll(); // the answer would be 401: it must not log in again
    fake.hold((kind, o) => o.url.endsWith('/api/slow'));
    const calls = { success: 0, fail: 0, complete: 0 };
    const call = session.uploadFile({ url: '/api/slow', filePath: 'wxfile://tmp_a.png', name: 'a', success: () => calls.success++, fail: () => calls.fail++, complete: () => calls.complete++ });
    await until(() => fake.sentTo('/api/slow').length === 1, 'the upload sent');
    const [sent] = fake.sentTo('/api/slow');
    assert.equal(sent.aborted, false);
    call.abort();
    assert.equal(sent.aborted, true, 'task.abort() called at once');
    const result = await settle(call);
    assert.equal(result.code, 'ABORTED');
    assert.equal(result.error.name, 'WxSessionError');
    fake.release(); // a late 401 for it changes nothing
    call.abort(); // again: nothing
    await pause(50);
    assert.equal(fake.counts.abort, 1);
    assert.equal(fake.counts.login, 1, 'no re-login');
    assert.equal(fake.sentTo('/login').length, 1);
    assert.equal(fake.sentTo('/api/slow').length, 1, 'not sent again');
    assert.deepEqual(calls, { success: 0, fail: 1, complete: 1 });
  });

  test('abort while the call waits for its own re-login: ABORTED, not resent; the login goes on for the others', LIMIT, async () => {
    const { fake, create } = sdk();
    const session = create();
    await session.ensure();
    fake.revokeAll();
    fake.holdLogin();
    const call = session.request({ url: '/api/mine' });
    const other = session.request({ url: '/api/other' });
    await until(() => fake.counts.login === 2, 'the re-login\'s wx.login');
    call.abort();
    assert.equal((await settle(call)).code, 'ABORTED');
    fake.releaseLogin();
    assert.equal((await other).statusCode, 200);
    await pause(30);
    assert.equal(fake.sentTo('/api/mine').length, 1, 'not sent again after the re-login');
    assert.equal(fake.sentTo('/api/other').length, 2);
    assert.equal(fake.sentTo('/login').length, 2, 'one re-login');
    assert.equal(fake.counts.abort, 0, 'nothing in flight to abort');
  });

  test('abort during a retry\'s backoff wait: ABORTED, not sent again', LIMIT, async () => {
    const { fake, create } = sdk({ respond: (o) => (o.url.endsWith('/api/flaky') ? { errMsg: 'downloadFile:fail -101 net::ERR_CONNECTION_RESET' } : undefined) });
    const session = create({ retries: 2 });
    await session.ensure();
    const call = session.downloadFile({ url: '/api/flaky' });
    await until(() => fake.sentTo('/api/flaky').length === 1 && fake.sentTo('/api/flaky')[0].answered, 'the first try failed');
    await pause(10);
    call.abort();
    assert.equal((await settle(call)).code, 'ABORTED');
    await pause(1500); // past the longest backoff before a second try (300 ms doubled, jittered)
    assert.equal(fake.sentTo('/api/flaky').length, 1);
  });

  test('abort after the call settled does nothing', LIMIT, async () => {
    const { fake, create } = sdk();
    const session = create();
    let successes = 0;
    let completes = 0;
    const call = session.downloadFile({ url: '/api/f', success: () => successes++, complete: () => completes++ });
    const res = await call;
    call.abort();
    const again = await settle(call);
    await pause(30);
    assert.equal(again.ok, true);
    assert.equal(again.value, res);
    assert.equal(fake.counts.abort, 0, 'no task aborted');
    assert.equal(successes, 1);
    assert.equal(completes, 1);
    assert.equal((await session.request({ url: '/api/profile' })).statusCode, 200);
  });

  test('abort before the core loaded rejects ABORTED and never sends', LIMIT, async () => {
    const { fake, create } = sdk();
    const session = create();
    assert.equal(session.token(), null, 'nothing yet, synchronously');
    const call = session.request({ url: '/api/early' });
    call.abort();
    const r = await settle(call);
    assert.equal(r.code, 'ABORTED');
    const later = await session.request({ url: '/api/later' });
    assert.equal(later.statusCode, 200);
    await pause(30);
    assert.equal(fake.sentTo('/api/early').length, 0);
    assert.equal(fake.counts.login, 1);
  });

  test('onTask gets each platform task the call starts and returns the same promise (call made before the core loaded)', LIMIT, async () => {
    const { fake, create } = sdk();
    const session = create();
    const tasks = [];
    const call = session.uploadFile({ url: '/api/avatar', filePath: 'wxfile://tmp_a.png', name: 'a' });
    assert.equal(call.onTask((t) => tasks.push(t)), call);
    assert.equal(call.onTask('not a function'), call);
    await call;
    const [sent] = fake.sentTo('/api/avatar');
    assert.equal(tasks.length, 1);
    assert.equal(tasks[0], sent.task, 'the object wx.uploadFile returned');
  });

  test('onTask attached right after the call on a ready session gets the first task too (README: upload.onTask(...))', LIMIT, async () => {
    const { fake, create } = sdk();
    const session = create();
    await session.ensure();
    fake.revokeAll();
    const tasks = [];
    const upload = session.uploadFile({ url: '/api/avatar', filePath: 'wxfile://tmp_a.png', name: 'a' });
    upload.onTask((task) => tasks.push(task));
    await upload;
    const sent = fake.sentTo('/api/avatar');
    assert.equal(sent.length, 2, 'first try and the retry after the re-login');
    assert.deepEqual(tasks.map((t) => sent.findIndex((s) => s.task === t)), [0, 1], 'each task, in order');
  });

  test('a throwing onTask listener does not fail its call', LIMIT, async () => {
    const { fake, create } = sdk();
    const session = create();
    const call = session.request({ url: '/api/profile' });
    let heard = 0;
    call.onTask(() => { heard += 1; throw new Error('app bug'); });
    const res = await call;
    assert.equal(res.statusCode, 200);
    assert.equal(heard, 1);
    assert.equal(fake.counts.abort, 0);
  });

  // ---- login(extra) -------------------------------------------------------------------------------

  test('login(extra): one wx.login and one login request carrying both codes; the next request uses the new token', LIMIT, async () => {
    const { fake, create } = sdk();
    const session = create();
    const first = (await session.ensure()).token;
    const result = await session.login({ phoneCode: 'PHONE-CODE-1' });
    assert.equal(fake.counts.login, 2);
    const logins = fake.sentTo('/login');
    assert.equal(logins.length, 2);
    assert.deepEqual(fake.backend.loginBodies[1], { phoneCode: 'PHONE-CODE-1', code: 'code-2' });
    assert.equal(result.source, 'login');
    assert.equal(result.token, fake.backend.latest);
    assert.notEqual(result.token, first);
    assert.equal(session.token(), result.token);
    await session.request({ url: '/api/profile' });
    assert.equal(fake.sentTo('/api/profile')[0].options.header.token, result.token);
    assert.equal(fake.storage.token.token, result.token);
  });

  test('login(extra) on a new session logs in once; the code wins a name clash; login.extra()\'s object joins', LIMIT, async () => {
    const { fake, create } = sdk();
    const session = create({ login: { extra: () => Promise.resolve({ iv: 'IV', phoneCode: 'from-extra' }) } });
    const result = await session.login({ code: 'FORGED', phoneCode: 'from-button' });
    assert.equal(fake.counts.login, 1);
    assert.equal(fake.sentTo('/login').length, 1);
    assert.deepEqual(fake.backend.loginBodies[0], { iv: 'IV', phoneCode: 'from-button', code: 'code-1' });
    assert.equal(result.token, fake.backend.latest);
  });

  test('login(extra) during a cold start\'s login waits for it, then logs in with its extra', LIMIT, async () => {
    const { fake, create } = sdk();
    const session = create();
    fake.holdLogin();
    const ensure = session.ensure();
    await until(() => fake.counts.login === 1, 'the first wx.login');
    const login = session.login({ phoneCode: 'PHONE-9' });
    fake.releaseLogin();
    const [a, b] = await Promise.all([ensure, login]);
    assert.notEqual(a.token, b.token, 'the login(extra) replaced the launch\'s token');
    assert.equal(session.token(), b.token);
    assert.equal(fake.counts.login, 2, 'a fresh wx.login for login(extra)');
    assert.deepEqual(fake.backend.loginBodies, [{ code: 'code-1' }, { phoneCode: 'PHONE-9', code: 'code-2' }]);
  });

  test('two login() calls at once (a double tap): each its own login, in order, each extra sent', LIMIT, async () => {
    const { fake, create } = sdk();
    const session = create();
    await session.ensure();
    const [a, b] = await Promise.all([session.login({ phoneCode: 'P1' }), session.login({ phoneCode: 'P2' })]);
    assert.notEqual(a.token, b.token);
    assert.equal(session.token(), b.token, 'the later login wins');
    assert.equal(fake.counts.login, 3, 'ensure + one login per call');
    assert.deepEqual(fake.backend.loginBodies.slice(1).map((body) => body.phoneCode), ['P1', 'P2']);
  });

  test('a failed login() keeps the current token; onChange hears ready with the error', LIMIT, async () => {
    const { fake, create } = sdk();
    const session = create();
    const first = (await session.ensure()).token;
    const heard = [];
    session.onChange((state, error) => heard.push([state, error && error.code]));
    fake.backend.refuseLogins = true;
    const r = await settle(session.login({ phoneCode: 'P1' }));
    assert.equal(r.code, 'SERVER_REJECTED');
    assert.equal(r.error.status, 400);
    assert.equal(session.token(), first);
    assert.deepEqual(heard[heard.length - 1], ['ready', 'SERVER_REJECTED']);
    const res = await session.request({ url: '/api/profile' });
    assert.equal(res.statusCode, 200);
    assert.equal(fake.sentTo('/api/profile')[0].options.header.token, first);
    assert.equal(fake.storage.token.token, first);
  });

  test('login(extra) with an extra that is not an object: CONFIG key extra, no wx.login', LIMIT, async () => {
    const { fake, create } = sdk();
    const session = create();
    for (const bad of [5, 'phone', null, ['a'], true]) {
      const r = await settle(session.login(bad));
      assert.equal(r.code, 'CONFIG', String(bad));
      assert.equal(r.error.key, 'extra', String(bad));
    }
    await pause(20);
    assert.equal(fake.counts.login, 0);
    assert.equal((await session.login()).source, 'login', 'no extra at all is fine');
  });

  // ---- token() / setToken() ---------------------------------------------------------------------

  test('setToken then request: the request carries it, token() returns it, storage holds it; no login', LIMIT, async () => {
    const { fake, create } = sdk();
    const session = create();
    const heard = [];
    session.onChange((state) => heard.push(state));
    fake.accept('ext-TOKEN "quoted" \\ 42');
    const before = Date.now();
    assert.equal(await session.setToken('ext-TOKEN "quoted" \\ 42', { expiresIn: 3600 }), undefined);
    assert.equal(session.token(), 'ext-TOKEN "quoted" \\ 42');
    const record = fake.storage.token;
    assert.deepEqual(Object.keys(record).sort(), ['expiresAt', 'obtainedAt', 'token', 'v']);
    assert.equal(record.v, 1);
    assert.equal(record.token, 'ext-TOKEN "quoted" \\ 42');
    assert.equal(record.expiresAt - record.obtainedAt, 3600 * 1000);
    assert.ok(record.obtainedAt >= before - 1000 && record.obtainedAt <= Date.now() + 1000, String(record.obtainedAt));
    assert.ok(heard.includes('ready'), heard.join());
    const res = await session.request({ url: '/api/profile' });
    assert.equal(res.statusCode, 200);
    assert.equal(fake.sentTo('/api/profile')[0].options.header.token, 'ext-TOKEN "quoted" \\ 42');
    assert.equal(fake.counts.login, 0);
    // A new session on the same storage finds it there.
    const again = await create().ensure();
    assert.deepEqual({ ...again }, { token: 'ext-TOKEN "quoted" \\ 42', source: 'storage' });
  });

  test('setToken without expiresIn stores a null expiry', LIMIT, async () => {
    const { fake, create } = sdk();
    const session = create();
    await session.setToken('plain-token');
    assert.equal(fake.storage.token.expiresAt, null);
    assert.equal(typeof fake.storage.token.obtainedAt, 'number');
    assert.equal(session.token(), 'plain-token');
  });

  test('token() is null once the token\'s lifetime is over (the clock moved on), and the next call logs in', LIMIT, async () => {
    const { fake, create, runtime } = sdk();
    const session = create();
    await session.setToken('short-lived', { expiresIn: 60 });
    assert.equal(session.token(), 'short-lived');
    runtime.run('(function (now) { Date.now = function () { return now() + 120 * 1000; }; })')(runtime.run('Date.now'));
    assert.equal(session.token(), null);
    const ready = await session.ensure();
    assert.equal(ready.source, 'login');
    assert.equal(ready.token, fake.backend.latest);
    assert.equal(session.token(), fake.backend.latest);
  });

  test('setToken refuses bad tokens and lifetimes with CONFIG, changing nothing', LIMIT, async () => {
    const { fake, create } = sdk();
    const session = create();
    const original = (await session.ensure()).token;
    const stored = plain(fake.storage.token);
    const cases = [
      ['', undefined, 'token'],
      ['   ', undefined, 'token'],
      ['a\nb', undefined, 'token'],
      ['a\r\nX-Evil: 1', undefined, 'token'],
      ['tab\there', undefined, 'token'],
      ['tokén', undefined, 'token'],
      ['x'.repeat(8193), undefined, 'token'],
      [1, undefined, 'token'],
      [null, undefined, 'token'],
      [undefined, undefined, 'token'],
      [{ toString: () => 'tok' }, undefined, 'token'],
      ['ok-token', { expiresIn: 1.5 }, 'expiresIn'],
      ['ok-token', { expiresIn: 0 }, 'expiresIn'],
      ['ok-token', { expiresIn: -60 }, 'expiresIn'],
      ['ok-token', { expiresIn: '60' }, 'expiresIn'],
      ['ok-token', { expiresIn: NaN }, 'expiresIn'],
      ['ok-token', { expiresIn: Infinity }, 'expiresIn'],
    ];
    for (const [token, more, key] of cases) {
      const r = await settle(session.setToken(token, more));
      const label = `${JSON.stringify(typeof token === 'string' ? token.slice(0, 20) : String(token))} ${JSON.stringify(more)}`;
      assert.equal(r.code, 'CONFIG', label);
      assert.equal(r.error.key, key, label);
      assert.ok(!String(r.error.message).includes('X-Evil'), 'the token is not echoed');
    }
    assert.equal(session.token(), original);
    assert.deepEqual(plain(fake.storage.token), stored);
    // The limits themselves are fine.
    await session.setToken('y'.repeat(8192), { expiresIn: 1 });
    assert.equal(session.token(), 'y'.repeat(8192));
    await session.setToken('with spaces inside');
    assert.equal(session.token(), 'with spaces inside');
  });

  test('setToken during a login in flight ends it: the waiters get the new token, no login request', LIMIT, async () => {
    const { fake, create } = sdk();
    const session = create();
    fake.holdLogin();
    fake.accept('ext-token-7');
    const ensure = session.ensure();
    const request = session.request({ url: '/api/profile' });
    await until(() => fake.counts.login === 1, 'wx.login');
    await session.setToken('ext-token-7');
    const ready = await ensure;
    assert.equal(ready.token, 'ext-token-7');
    const res = await request;
    assert.equal(res.statusCode, 200);
    assert.equal(fake.sentTo('/api/profile')[0].options.header.token, 'ext-token-7');
    fake.releaseLogin();
    await pause(50);
    assert.equal(fake.sentTo('/login').length, 0, 'the cancelled flow sent no login request');
    assert.equal(session.token(), 'ext-token-7');
  });

  test('token() is null before the core loaded and after logout; a request failing after logout rejects LOGGED_OUT', LIMIT, async () => {
    const { fake, create } = sdk();
    const session = create();
    assert.equal(session.token(), null);
    const token = (await session.ensure()).token;
    assert.equal(session.token(), token);
    fake.revokeAll();
    fake.hold((kind, o) => o.url.endsWith('/api/slow'));
    const inFlight = session.request({ url: '/api/slow' });
    await until(() => fake.sentTo('/api/slow').length === 1, 'the request sent');
    await session.logout();
    assert.equal(session.token(), null);
    assert.equal(fake.storage.token, undefined);
    fake.release(); // 401 for the logged-out token
    const r = await settle(inFlight);
    assert.equal(r.code, 'LOGGED_OUT');
    await pause(30);
    assert.equal(fake.sentTo('/api/slow').length, 1, 'never resent with the old token');
    assert.equal(fake.counts.login, 1, 'no login behind the app\'s back');
  });

  test('logout with a throwing removeStorageSync empties the key instead', LIMIT, async () => {
    const { fake, create } = sdk();
    fake.wx.removeStorageSync = () => { throw new Error('removeStorageSync:fail'); };
    const session = create();
    await session.ensure();
    await session.logout();
    assert.equal(fake.storage.token, '');
    assert.equal(session.token(), null);
    const again = await create().ensure();
    assert.equal(again.source, 'login', 'an emptied key reads as no token');
  });

  // ---- onReport ---------------------------------------------------------------------------------

  test('onReport: one event per finished call and per login exchange, with the documented fields', LIMIT, async () => {
    const { fake, create } = sdk();
    const events = [];
    const session = create({ onReport: (e) => events.push(e), retries: 0 });
    const t0 = Date.now();
    await session.ensure();
    fake.revokeAll();
    await session.request({ url: '/api/profile?q=QUERYSECRET#FRAGSECRET', data: { note: 'BODYSECRET' } });
    await session.uploadFile({ url: '/api/avatar', filePath: 'wxfile://tmp_a.png', name: 'a', formData: { f: 'BODYSECRET' } });
    await session.downloadFile({ url: 'https://api.test/api/file.png?sig=QUERYSECRET' });
    await session.request({ url: '/api/write', method: 'put', data: 'BODYSECRET' });
    fake.hold((kind, o) => o.url.endsWith('/api/slow'));
    const slow = session.request({ url: '/api/slow' });
    await until(() => fake.sentTo('/api/slow').length === 1, 'sent');
    slow.abort();
    await settle(slow);
    fake.release();
    await pause(30);

    const rows = events.map((e) => [e.kind, e.url, e.method, e.status, e.ok, e.code, e.attempts, e.relogin]);
    assert.deepEqual(rows, [
      ['login', '/login', 'POST', 200, true, null, 1, false],
      ['login', '/login', 'POST', 200, true, null, 1, false],
      ['request', '/api/profile', 'GET', 200, true, null, 2, true],
      ['upload', '/api/avatar', 'POST', 200, true, null, 1, false],
      ['download', '/api/file.png', 'GET', 200, true, null, 1, false],
      ['request', '/api/write', 'PUT', 200, true, null, 1, false],
      ['request', '/api/slow', 'GET', 0, false, 'ABORTED', 1, false],
    ]);
    for (const e of events) {
      assert.deepEqual(Object.keys(e).sort(), ['attempts', 'code', 'endMs', 'kind', 'method', 'ok', 'relogin', 'startMs', 'status', 'url']);
      assert.equal(typeof e.startMs, 'number');
      assert.ok(e.startMs >= t0 - 1000 && e.endMs >= e.startMs && e.endMs <= Date.now() + 1000, `${e.startMs}..${e.endMs}`);
    }
    const text = JSON.stringify(events);
    const secrets = fake.secrets();
    assert.ok(secrets.length >= 4, 'two tokens and two codes handed out');
    for (const secret of [...secrets, 'QUERYSECRET', 'FRAGSECRET', 'BODYSECRET', 'NEVER-STORED']) {
      assert.ok(!text.includes(secret), `an event holds ${secret}: ${text}`);
    }
  });

  test('onReport: failures, a check exchange and a code in the login query — no secret anywhere', LIMIT, async () => {
    const { fake, create } = sdk({ respond: (o) => (o.url.endsWith('/api/down') ? { errMsg: 'request:fail -2:net::ERR_FAILED' } : undefined) });
    const events = [];
    const config = { onReport: (e) => events.push(e), retries: 0, login: { url: '/login', method: 'GET', codeIn: 'query' }, check: { url: '/auth?v=1', okWhen: { path: 'errCode', equals: 0 } } };
    const session = create(config);
    await session.ensure();
    assert.match(fake.sentTo('/login')[0].options.url, /\?code=code-1$/, 'the code went in the query');
    await settle(session.request({ url: '/api/down' }));
    await create(config).ensure(); // relaunch: the stored token is checked
    await pause(30);
    const rows = events.map((e) => [e.kind, e.url, e.method, e.status, e.ok, e.code, e.attempts, e.relogin]);
    assert.deepEqual(rows, [
      ['login', '/login', 'GET', 200, true, null, 1, false],
      ['request', '/api/down', 'GET', 0, false, 'NETWORK', 1, false],
      ['check', '/auth', 'POST', 200, true, null, 1, false],
    ]);
    const text = JSON.stringify(events);
    for (const secret of fake.secrets()) assert.ok(!text.includes(secret), `an event holds ${secret}: ${text}`);
  });

  test('a throwing reporter changes nothing', LIMIT, async () => {
    const run = async (onReport) => {
      const { fake, create } = sdk();
      const session = create({ onReport });
      await session.ensure();
      fake.revokeAll();
      const a = await session.request({ url: '/api/profile' });
      const b = await session.uploadFile({ url: '/api/avatar', filePath: 'wxfile://tmp_a.png', name: 'a' });
      return { statuses: [a.statusCode, b.statusCode], logins: fake.counts.login, sent: fake.sent.length, token: session.token() === fake.backend.latest };
    };
    let calls = 0;
    const throwing = await run(() => { calls += 1; throw new Error('reporter bug'); });
    const quiet = await run(undefined);
    assert.deepEqual(throwing, quiet);
    assert.deepEqual(throwing, { statuses: [200, 200], logins: 2, sent: 5, token: true });
    assert.equal(calls, 4, 'two login exchanges, one request, one upload');
  });

  test('onReport: a call never sent (its login failed) is reported too, with attempts 0 and the code', LIMIT, async () => {
    const { fake, create } = sdk();
    fake.backend.refuseLogins = true;
    const events = [];
    const session = create({ onReport: (e) => events.push(plain(e)), retries: 0 });
    const r = await settle(session.request({ url: '/api/x?secret=1' }));
    assert.equal(r.code, 'SERVER_REJECTED');
    const calls = events.filter((e) => e.kind === 'request');
    assert.equal(calls.length, 1);
    assert.deepEqual({ ...calls[0], startMs: 0, endMs: 0 }, {
      kind: 'request', url: '/api/x', method: 'GET', status: 0, ok: false, code: 'SERVER_REJECTED',
      attempts: 0, relogin: false, startMs: 0, endMs: 0,
    });
    assert.deepEqual(events.filter((e) => e.kind === 'login').map((e) => [e.status, e.ok]), [[400, false]]);
  });

  test('onReport that is not a function is a CONFIG error naming it', LIMIT, async () => {
    const { create } = sdk();
    const r = await settle(create({ onReport: 'yes' }).ensure());
    assert.equal(r.code, 'CONFIG');
    assert.equal(r.error.key, 'onReport');
  });

  // ---- the rest of the new behaviour --------------------------------------------------------------

  test('onChange\'s unsubscribe removes only its own registration', LIMIT, async () => {
    const { create } = sdk();
    const session = create();
    const a = [];
    const b = [];
    const listener = (state) => a.push(state);
    const stopA1 = session.onChange(listener);
    session.onChange(listener); // the same function twice: two registrations
    session.onChange((state) => b.push(state));
    stopA1();
    stopA1(); // twice: still only its own
    await session.ensure();
    assert.deepEqual(b, ['checking', 'logging-in', 'ready']);
    assert.deepEqual(a, ['checking', 'logging-in', 'ready'], 'the second registration still hears once per event');
  });

  test('a success answer with a then() resolves as a plain copy; a statusCode that is not a whole number 1..999 is a network failure', LIMIT, async () => {
    const { fake, create } = sdk({
      respond: (o) => {
        if (o.url.endsWith('/api/thenable')) return { statusCode: 200, data: { x: 1 }, header: {}, then: (resolve) => resolve('hijacked') };
        const bad = /\/api\/badstatus\/(\d)$/.exec(o.url);
        if (bad) return { statusCode: [200.5, 0, 1000, '200', -1, NaN][bad[1]], data: {}, header: {} };
        return undefined;
      },
    });
    const session = create({ retries: 0 });
    const res = await session.request({ url: '/api/thenable' });
    assert.notEqual(res, 'hijacked');
    assert.equal(res.statusCode, 200);
    assert.equal(res.data.x, 1);
    assert.equal(res.then, undefined);
    for (let i = 0; i < 6; i++) {
      const bad = await settle(session.request({ url: `/api/badstatus/${i}`, method: 'POST' }));
      assert.equal(bad.code, 'NETWORK', `statusCode #${i}`);
      assert.equal(fake.sentTo(`/api/badstatus/${i}`).length, 1, 'a POST: not retried');
    }
    assert.equal((await session.request({ url: '/api/profile' })).statusCode, 200);
    assert.equal(fake.counts.login, 1);
  });

  test('Date.now going backwards does not stretch a time limit', LIMIT, async () => {
    const { fake, create, runtime } = sdk();
    // (The SDK's timers don't keep the process up: were the wait stretched by an hour, this test
    // fails at its bound instead of holding the run.)
    const setTimeoutThere = runtime.context.setTimeout;
    runtime.context.setTimeout = (...args) => {
      const id = setTimeoutThere(...args);
      if (id && typeof id.unref === 'function') id.unref();
      return id;
    };
    const session = create({ timeoutMs: 300, retries: 0 });
    await session.ensure();
    fake.hold((kind, o) => o.url.endsWith('/api/slow'));
    const call = session.request({ url: '/api/slow', method: 'POST' });
    await until(() => fake.sentTo('/api/slow').length === 1, 'sent');
    const realNow = Date.now;
    runtime.run('(function (now) { Date.now = function () { return now() - 3600 * 1000; }; })')(runtime.run('Date.now')); // the clock set back an hour
    assert.ok(runtime.run('Date.now()') < realNow() - 3000 * 1000);
    const started = realNow();
    const r = await Promise.race([settle(call), pause(5000).then(() => ({ code: 'still pending after 5 s' }))]);
    assert.equal(r.code, 'TIMEOUT');
    assert.ok(realNow() - started < 5000, `ended after ${realNow() - started} ms`);
    assert.equal(fake.counts.abort, 1, 'the platform task aborted at the deadline');
    fake.release();
  });

  // ---- the same scenarios on other engines -------------------------------------------------------

  const jscRuns = {};
  function onJsc(timerPromise) {
    if (jscRuns[timerPromise]) return jscRuns[timerPromise];
    jscRuns[timerPromise] = runSdkOnJsc(build, {
      files: { 'timer-promise': path.join(ENGINES, 'timer-promise.js'), api: path.join(ENGINES, 'api-scenarios.js') },
      timerPromise,
      main: `
        __require('api').run(__require('sdk'), WASM_PATH).then(function (results) {
          print('RESULT ' + JSON.stringify({ results: results, timerPromise: Promise.name === 'TimerPromise', webAssembly: typeof WebAssembly, wxWebAssembly: typeof WXWebAssembly }));
          quit();
        }, function (e) { print('RESULT ' + JSON.stringify({ results: [{ name: 'the scenarios ran', ok: false, detail: String(e) }] })); quit(); });
      `,
    });
    return jscRuns[timerPromise];
  }

  test('JavaScriptCore: upload behind a revoked token, download, callbacks, abort, setToken, report events', ON_JSC, () => {
    const run = onJsc(false);
    assert.equal(run.webAssembly, 'undefined', 'no WebAssembly');
    assert.equal(run.wxWebAssembly, build.js ? 'undefined' : 'object', build.js ? 'no WXWebAssembly either' : 'only WXWebAssembly');
    assert.equal(run.timerPromise, false);
    assertScenarios(run.results);
  });

  test('JavaScriptCore with an old-iOS timer-task Promise: the same scenarios', ON_JSC, () => {
    const run = onJsc(true);
    assert.equal(run.timerPromise, true);
    assertScenarios(run.results);
  });

  test('JavaScriptCore: onTask attached right after the call gets the first task', ON_JSC, () => {
    assertOnTask(onJsc(false).results);
  });

  test('V8 sandbox with an old-iOS timer-task Promise: the same scenarios', LIMIT, async () => {
    const { TimerPromise } = require('../engines/timer-promise');
    const { runtime, sdk: api, scenarios } = scenariosInSandbox(build, path.join(ENGINES, 'api-scenarios.js'), { promise: TimerPromise });
    assert.equal(runtime.run('Promise.name'), 'TimerPromise');
    const results = await scenarios.run(api, wasmPathOf(build).wasmPath);
    assertScenarios(results);
  });


  // ---- edges: a code in the query, a function answer, no uploadFile, spaced tokens, a NaN clock -----

  test('a GET login with the code in the query: login(extra) cannot add a second `code` parameter', LIMIT, async () => {
    const { fake, create } = sdk();
    const session = create({ login: { url: '/login', method: 'GET', codeIn: 'query' } });
    await session.login({ code: 'EVIL', phoneCode: 'P' });
    const sent = fake.sentTo('/login')[0].options;
    assert.match(sent.url, /\?code=code-1$/);
    assert.deepEqual(plain(sent.data), { phoneCode: 'P' }, 'the platform would append data to the query');
  });

  test('a success answer that is a function with then() resolves as a plain copy, never adopted', LIMIT, async () => {
    const { create } = sdk({
      respond: (o) => {
        if (!/\/api\/f/.test(o.url)) return undefined;
        const f = function () {};
        f.statusCode = 200;
        f.data = { ok: 1 };
        f.then = (resolve) => resolve('HIJACK');
        return f;
      },
    });
    const res = await create().request({ url: '/api/f' });
    assert.notEqual(res, 'HIJACK');
    assert.equal(res.statusCode, 200);
    assert.equal(res.then, undefined);
  });

  test('uploadFile on a wx without uploadFile: CONFIG naming it, nothing retried', LIMIT, async () => {
    const { fake, create } = sdk();
    const wx = { ...fake.wx, uploadFile: undefined };
    const r = await settle(create({ wx }).uploadFile({ url: '/api/avatar', filePath: 'f', name: 'a' }));
    assert.equal(r.code, 'CONFIG');
    assert.equal(r.error.key, 'wx.uploadFile');
  });

  test('tokens with a space at either end are refused (a header value would lose it)', LIMIT, async () => {
    const { create } = sdk();
    const session = create();
    for (const token of [' ab', 'ab ']) {
      const r = await settle(session.setToken(token));
      assert.equal(r.code, 'CONFIG', JSON.stringify(token));
    }
    await session.setToken('a b');
    assert.equal(session.token(), 'a b', 'inside, a space is kept');
  });

  test('a clock reading NaN does not stop a wait from ending', LIMIT, async () => {
    const { fake, runtime, create } = sdk();
    fake.holdLogin();
    const session = create({ timeoutMs: 300, retries: 0 });
    const p = settle(session.ensure());
    await until(() => fake.counts.login === 1, 'wx.login');
    runtime.run('Date.now = function () { return NaN; };');
    const r = await p;
    assert.equal(r.code, 'WX_LOGIN_FAILED');
  });

  test('onReport: a failed login exchange carries the code the core gives that failure', LIMIT, async () => {
    const failures = { '/login?1': 'request:fail 请求超时', '/login?2': 'request:fail abort', '/login?3': 'request:fail -2:net::ERR_FAILED' };
    for (const [url, errMsg] of Object.entries(failures)) {
      const { create } = sdk({ respond: (o) => (/\/login/.test(o.url) ? { errMsg } : undefined) });
      const events = [];
      const r = await settle(create({ onReport: (e) => events.push(plain(e)), retries: 0, login: { url } }).ensure());
      const login = events.filter((e) => e.kind === 'login');
      assert.equal(login.length, 1, url);
      assert.equal(login[0].code, r.code, `${errMsg}: the event and the call agree`);
    }
  });
}

for (const build of BUILDS) describe(build.name, () => suite(build));
