// The built SDK (js-glue/dist) in the strict sandbox, over the shared fake wx (tests/fakes/wx.js).
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { createRuntime } = require('../sandbox/runtime');
const { createWx } = require('../fakes/wx');

const DIST = path.join(__dirname, '..', '..', 'js-glue', 'dist');

// The SDK in a fresh sandbox; the fake's backend answers 2 ms later unless `respond` does.
function sdk({ respond, ...options } = {}) {
  const fake = createWx({ respond, schedule: 2 });
  const runtime = createRuntime({ packageRoot: DIST, devServer: 'http://127.0.0.1:9', wx: () => fake.wx, ...options });
  const { createSession } = runtime.requireModule('index.js');
  const create = (config = {}) => createSession({ baseUrl: 'https://api.test', wasmPath: '/wx_session_bg.wasm.br', useCheckSession: false, ...config });
  return { runtime, create, fake, storage: fake.storage, counts: fake.counts, requests: fake.requests };
}

test('the sandbox is as strict as the mini-program runtime', () => {
  const { runtime } = sdk();
  for (const name of ['WebAssembly', 'TextEncoder', 'TextDecoder', 'fetch', 'queueMicrotask', 'globalThis', 'process', 'require']) {
    assert.equal(runtime.run(`typeof ${name}`), 'undefined', name);
  }
  assert.throws(() => runtime.run('eval("1 + 1")'), /EvalError|Code generation/);
  assert.throws(() => runtime.run('new Function("return 1")'), /EvalError|Code generation/);
  assert.equal(runtime.run('typeof WXWebAssembly.instantiate'), 'function');
});

test('calls made before the wasm is ready wait for it; many callers share one login', async () => {
  const { create, counts, requests } = sdk();
  const session = create();
  const answers = await Promise.all(Array.from({ length: 20 }, () => session.request({ url: '/api/profile' })));
  assert.ok(answers.every((a) => a.statusCode === 200));
  assert.equal(counts.login, 1);
  assert.equal(requests().filter((r) => r.url.endsWith('/login')).length, 1);
});

test('WXWebAssembly resolving to a bare Instance works too', async () => {
  const { create } = sdk({ bareInstance: true });
  const result = await create().ensure();
  assert.equal(result.source, 'login');
});

test('the uncompressed .wasm (for base library 2.13) loads too', async () => {
  const pkg = fs.mkdtempSync(path.join(os.tmpdir(), 'wx-session-plain-'));
  fs.copyFileSync(path.join(DIST, 'index.js'), path.join(pkg, 'index.js'));
  fs.copyFileSync(path.join(DIST, '..', 'wasm', 'wx_session_bg.wasm'), path.join(pkg, 'wx_session_bg.wasm'));
  const { create } = sdk({ packageRoot: pkg });
  const result = await create({ wasmPath: '/wx_session_bg.wasm' }).ensure();
  assert.equal(result.token, 'tok-1');
});

test('without WXWebAssembly every call rejects with WASM_LOAD and onChange hears it; a later call loads again', async () => {
  const { create, runtime } = sdk();
  runtime.run('this.savedWXWebAssembly = WXWebAssembly; delete this.WXWebAssembly');
  const session = create();
  const heard = [];
  session.onChange((state, error) => heard.push(`${state}:${error && error.code}`));
  await assert.rejects(session.ensure(), { code: 'WASM_LOAD' });
  await assert.rejects(session.request({ url: '/x' }), { code: 'WASM_LOAD' });
  assert.deepEqual(heard, ['failed:WASM_LOAD', 'failed:WASM_LOAD'], 'each failed load is reported');
  // The file shows up (a hot reload finished): the next call loads it and logs in.
  runtime.run('this.WXWebAssembly = this.savedWXWebAssembly');
  assert.equal((await session.ensure()).source, 'login');
});

test('a bad config key rejects every call with CONFIG naming the key', async () => {
  const { create } = sdk();
  await assert.rejects(create({ retrys: 3 }).ensure(), (e) => e.code === 'CONFIG' && e.key === 'retrys' && /retrys/.test(e.message));
  await assert.rejects(create({ login: { tokenPath: 7 } }).ensure(), (e) => e.code === 'CONFIG' && e.key === 'login.tokenPath');
  await assert.rejects(create({ wasmPath: 42 }).ensure(), (e) => e.code === 'CONFIG' && e.key === 'wasmPath');
});

test('onChange reports transitions and can be unsubscribed', async () => {
  const { create } = sdk();
  const session = create();
  const states = [];
  const stop = session.onChange((state) => states.push(state));
  await session.ensure();
  assert.deepEqual(states, ['checking', 'logging-in', 'ready']);
  stop();
  await session.logout();
  assert.deepEqual(states, ['checking', 'logging-in', 'ready'], 'nothing after unsubscribe');
});

test('request passes wx.request options through and keeps its own out', async () => {
  const { create, requests } = sdk();
  const session = create();
  const body = { item: 1 };
  const answer = await session.request({ url: '/api/echo', method: 'put', data: body, header: { 'X-A': '1' }, dataType: 'json', responseType: 'text', retry: true });
  assert.equal(answer.statusCode, 200);
  const sent = requests().at(-1);
  assert.equal(sent.url, 'https://api.test/api/echo');
  assert.equal(sent.method, 'PUT');
  assert.equal(sent.data, body, 'the same object, not a copy');
  assert.deepEqual({ ...sent.header }, { 'X-A': '1', token: 'tok-1' });
  assert.equal(sent.dataType, 'json');
  assert.equal(sent.responseType, 'text');
  assert.equal(sent.timeout, 10000);
  assert.ok(!('auth' in sent) && !('retry' in sent), 'SDK-only options stay out of wx.request');
});

test('the stored record holds the token and nothing else from the login answer', async () => {
  const { create, storage } = sdk();
  await create().ensure();
  assert.deepEqual(Object.keys(storage.token).sort(), ['expiresAt', 'obtainedAt', 'token', 'v']);
  assert.ok(!JSON.stringify(storage).includes('NEVER-STORE'));
});

test('errors never carry the token', async () => {
  // The server accepts the login but refuses every token: SESSION_EXPIRED after one re-login.
  const { create, counts } = sdk({
    respond: (o) => (o.url.endsWith('/login') ? { statusCode: 200, data: { token: 'SECRET-TOKEN-VALUE' } } : { statusCode: 401, data: {} }),
  });
  const error = await create().request({ url: '/api/profile' }).then(() => null, (e) => e);
  assert.equal(error.code, 'SESSION_EXPIRED');
  assert.equal(counts.login, 2);
  const everything = JSON.stringify({ ...error, message: error.message, stack: error.stack });
  assert.ok(!everything.includes('SECRET-TOKEN-VALUE'), everything);
});

test('login.extra() is merged into the login body; its failure is LOGIN_EXTRA_FAILED', async () => {
  const { create, requests } = sdk();
  await create({ login: { extra: () => Promise.resolve({ iv: 'iv-1', encryptedData: 'enc' }) } }).ensure();
  const login = requests().find((r) => r.url.endsWith('/login'));
  assert.deepEqual({ ...login.data }, { iv: 'iv-1', encryptedData: 'enc', code: 'code-1' });
  const refused = sdk().create({ login: { extra: () => Promise.reject({ errMsg: 'getUserProfile:fail auth deny' }) } });
  await assert.rejects(refused.ensure(), (e) => e.code === 'LOGIN_EXTRA_FAILED' && /auth deny/.test(e.message));
});

test('logout forgets the token in storage and memory', async () => {
  const { create, storage, counts } = sdk();
  const session = create();
  await session.ensure();
  await session.logout();
  assert.equal(storage.token, undefined);
  const again = await session.ensure();
  assert.equal(again.token, 'tok-2');
  assert.equal(counts.login, 2);
});

test('wasm memory stays flat over thousands of requests (nothing leaks per call)', async () => {
  // Every request races a timeout; a cancelled timer whose Promise never settled used to leak
  // ~140 B of wasm memory per call. Memory pages are counted, not timed.
  const instant = createWx({ schedule: 'macrotask', record: false }).wx;
  const runtime = createRuntime({ packageRoot: DIST, devServer: 'http://127.0.0.1:9', wx: () => instant });
  let memory;
  const instantiate = runtime.context.WXWebAssembly.instantiate;
  runtime.context.WXWebAssembly.instantiate = (p, imports) => instantiate(p, imports).then((r) => { memory = r.instance.exports.memory; return r; });
  const session = runtime.requireModule('index.js').createSession({ baseUrl: 'https://api.test', wasmPath: '/wx_session_bg.wasm.br', useCheckSession: false });
  for (let i = 0; i < 500; i++) await session.request({ url: '/api/profile' });
  const before = memory.buffer.byteLength;
  for (let i = 0; i < 5000; i++) await session.request({ url: '/api/profile' });
  assert.equal(memory.buffer.byteLength, before);
});

test('every rejection is a WxSessionError, exported with isWxSessionError', async () => {
  const { create, runtime } = sdk({ respond: () => ({ errMsg: 'request:fail -2:net::ERR_FAILED' }) });
  const { WxSessionError, isWxSessionError } = runtime.requireModule('index.js');
  const failures = await Promise.all([
    create({ retrys: 1 }).ensure(), // CONFIG from the core
    create({ wasmPath: 7 }).ensure(), // CONFIG from the glue
    create({ wasmPath: '/missing.wasm' }).ensure(), // WASM_LOAD
    create({ retries: 0 }).ensure(), // NETWORK (the login request fails)
    create().request({ url: 'https://elsewhere.test/x' }), // CONFIG request.url
    create().request(null), // CONFIG request
  ].map((p) => p.then(() => assert.fail('resolved'), (e) => e)));
  assert.deepEqual(failures.map((e) => e.code), ['CONFIG', 'CONFIG', 'WASM_LOAD', 'NETWORK', 'CONFIG', 'CONFIG']);
  for (const error of failures) {
    assert.ok(error instanceof WxSessionError, error.code);
    assert.ok(error instanceof runtime.run('Error'), 'an Error of the page\'s realm');
    assert.ok(isWxSessionError(error));
    assert.equal(error.name, 'WxSessionError');
    assert.match(String(error.stack), /^WxSessionError: /);
  }
  assert.equal(failures[4].key, 'request.url');
  assert.ok(!isWxSessionError(new Error('x')) && !isWxSessionError(null) && !isWxSessionError({ code: 1 }));
  assert.ok(isWxSessionError({ name: 'WxSessionError', code: 'NETWORK' }), 'from another copy of the SDK');
});
