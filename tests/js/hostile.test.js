// Hostile input: values, platforms and configs built to break the SDK. After every case, a new
// call on the same session and on a new session still works: nothing may leave a dead instance,
// a hung call, leaked memory or a header the caller did not mean to send.
// Runs the built SDK in the strict sandbox over the shared fake wx (tests/fakes/wx.js); the last
// tests run a subset on JavaScriptCore. Each test runs for the wasm build (js-glue/dist) and for
// the JavaScript build (js-glue/dist-js, with no WXWebAssembly at all); "memory" is the core's:
// a wasm instance's linear memory, or the JavaScript core's (wasm2js's) memory.
'use strict';

const { describe, test } = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');
const { execFileSync } = require('child_process');
const {
  BUILDS, DIST, isLogin, sdk: sandboxSdk, wasmPathOf, outcome, sleep, makePackage, HOSTILE_VALUES,
} = require('../hostile/harness');
const { ON_JSC, runSdkOnJsc } = require('../engines/jsc');

// ---- helpers -------------------------------------------------------------------------------

const show = (r) => (r.hang ? 'hung' : r.ok ? `resolved ${JSON.stringify(r.value && r.value.statusCode !== undefined ? { statusCode: r.value.statusCode } : r.value)}`
  : `rejected ${r.error && r.error.name}/${r.code}: ${String(r.error && r.error.message).slice(0, 160)}`);

// `r` (from outcome) settled, and either resolved (when 'ok' is allowed) or rejected with a
// WxSessionError whose code is allowed. INTERNAL (a dead instance) is never allowed.
function assertSettled(t, r, allowed) {
  assert.ok(!r.hang, `hung: ${show(r)}`);
  if (r.ok) return assert.ok(allowed.includes('ok'), `resolved but expected ${allowed}: ${show(r)}`);
  assert.ok(t.mod.isWxSessionError(r.error), `not a WxSessionError: ${show(r)}`);
  assert.notEqual(r.code, 'INTERNAL', show(r));
  assert.ok(allowed.includes(r.code), `expected ${allowed}, got ${show(r)}`);
}

// A new call on the same session and on a new session (default config, same runtime, wx and
// storage) still works: an API request answered 200. `same: 'CONFIG'` when the session's own
// config is the bad one: its next call must give CONFIG again, not INTERNAL.
async function assertStillWorks(t, session, { same = 'ok', config = {} } = {}) {
  const again = await outcome(session.request({ url: '/api/ok' }));
  if (same === 'ok') assert.ok(again.ok && again.value.statusCode === 200, `same session: ${show(again)}`);
  else assertSettled(t, again, [same]);
  const fresh = await outcome(t.create(config).request({ url: '/api/ok' }));
  assert.ok(fresh.ok && fresh.value.statusCode === 200, `new session: ${show(fresh)}`);
}

// The fake's backend, except that the first request matching `when` gets `hostile(o)`.
function onceServer(when, hostile) {
  let used = false;
  return (o) => {
    if (!used && when(o)) {
      used = true;
      return hostile(o);
    }
    return undefined;
  };
}

// Every header name and value the SDK handed to wx.request.
const sentHeaders = (t) => t.requests().flatMap((o) => Object.entries(o.header || {}).flat().map(String));
const hasCrLf = (s) => /[\r\n]/.test(s);

function suite(build) {
  // The harness's SDK (tests/hostile/harness.js) of this build.
  const sdk = (options = {}) => sandboxSdk({ build, ...options });

  // ---- class 1: hostile values never kill the instance -----------------------------------------

  for (const [name, make] of Object.entries(HOSTILE_VALUES)) {
    test(`class 1: a ${name} stored record is ignored (login), the instance lives`, async () => {
      const t = sdk();
      t.storage.token = make();
      const s = t.create();
      const r = await outcome(s.ensure());
      assertSettled(t, r, ['ok']);
      assert.equal(r.value.source, 'login');
      await assertStillWorks(t, s);
    });

    test(`class 1: a ${name} login answer token → BAD_RESPONSE, the instance lives`, async () => {
      const t = sdk({ respond: onceServer(isLogin, () => ({ statusCode: 200, data: { token: make() } })) });
      const s = t.create({ retries: 0 });
      assertSettled(t, await outcome(s.ensure()), ['BAD_RESPONSE']);
      await assertStillWorks(t, s);
    });

    test(`class 1: a ${name} API field read by an invalidWhen rule is ignored, the instance lives`, async () => {
      const t = sdk({ respond: onceServer((o) => o.url.endsWith('/api/hostile'), () => ({ statusCode: 200, data: { code: make() } })) });
      const s = t.create({ invalidWhen: [{ status: 401 }, { path: 'code', equals: -1 }] });
      const r = await outcome(s.request({ url: '/api/hostile' }));
      assertSettled(t, r, ['ok']);
      assert.equal(r.value.statusCode, 200);
      assert.equal(t.counts.login, 1, 'no re-login for a value that is not -1');
      await assertStillWorks(t, s);
    });

    test(`class 1: a ${name} check.okWhen field fails the check (login) or a typed error, the instance lives`, async () => {
      const t = sdk({ respond: onceServer((o) => o.url.endsWith('/auth'), () => ({ statusCode: 200, data: { errCode: make() } })) });
      t.storage.token = { v: 1, token: 'stored', expiresAt: null, obtainedAt: 1 };
      const s = t.create({ check: { url: '/auth', okWhen: { path: 'errCode', equals: 0 } } });
      const r = await outcome(s.ensure());
      assertSettled(t, r, ['ok', 'SERVER_REJECTED', 'BAD_RESPONSE']);
      if (r.ok) assert.equal(r.value.source, 'login', 'an unreadable errCode is not "ok"');
      await assertStillWorks(t, s);
    });

    test(`class 1: a ${name} login.extra result → LOGIN_EXTRA_FAILED or sent as is, the instance lives`, async () => {
      const t = sdk();
      let first = true;
      const s = t.create({ login: { extra: () => Promise.resolve(first ? ((first = false), make()) : {}) } });
      assertSettled(t, await outcome(s.ensure()), ['ok', 'LOGIN_EXTRA_FAILED']);
      await assertStillWorks(t, s);
    });

    test(`class 1: a ${name} rule equals value → CONFIG, the instance lives`, async () => {
      const t = sdk();
      const s = t.create({ invalidWhen: [{ path: 'code', equals: make() }] });
      const r = await outcome(s.ensure());
      assertSettled(t, r, ['CONFIG']);
      assert.match(r.error.key, /^invalidWhen\[0\]\.equals/);
      await assertStillWorks(t, s, { same: 'CONFIG' });
    });
  }

  // ---- class 2: no slow death ------------------------------------------------------------------

  test('class 2: 3,000 requests with a throwing getter on their options → CONFIG each, memory flat', async () => {
    const t = sdk();
    const s = t.create();
    await s.request({ url: '/api/ok' });
    const before = t.pages();
    const options = { url: '/api/ok', get header() { throw new Error('getter'); } };
    for (let i = 0; i < 3000; i++) {
      const r = await outcome(s.request(options));
      if (r.code !== 'CONFIG') assert.fail(`call ${i}: ${show(r)}`);
    }
    assert.equal(t.pages(), before, 'the core\'s memory pages');
    await assertStillWorks(t, s);
  });

  test('class 2: 3,000 sessions with a throwing getter in their config → CONFIG each, memory flat', async () => {
    const t = sdk();
    const good = t.create();
    await good.request({ url: '/api/ok' });
    const before = t.pages();
    const config = { baseUrl: 'https://api.test', ...wasmPathOf(build), get retries() { throw new Error('getter'); } };
    for (let i = 0; i < 3000; i++) {
      const r = await outcome(t.mod.createSession(config).ensure());
      if (r.code !== 'CONFIG') assert.fail(`session ${i}: ${show(r)}`);
    }
    assert.equal(t.pages(), before, 'the core\'s memory pages');
    await assertStillWorks(t, good);
  });

  // ---- class 3: no cross-talk between sessions on spellings of the same file --------------------

  // The JavaScript build takes the same wasmPaths and loads no file: all seven sessions share its
  // one core, which must keep them apart just the same.
  test('class 3: sessions on /x/…, /x/./…, x/…, /x/../x/… and the root files never see each other\'s tokens', async () => {
    const pkg = makePackage(build.js ? {} : { 'x/wx_session_bg.wasm.br': path.join(DIST, 'wx_session_bg.wasm.br') }, build);
    const tokens = {};
    let n = 0;
    const respond = (o) => {
      const host = new URL(o.url).host;
      if (isLogin(o)) {
        tokens[host] = `${host}-tok-${++n}`;
        return { statusCode: 200, data: { token: tokens[host] } };
      }
      const sent = String(o.header && o.header.token);
      return sent === `p-${host} ${tokens[host]}` ? { statusCode: 200, data: { who: host } } : { statusCode: 401, data: {} };
    };
    const t = sdk({ respond, packageRoot: pkg, schedule: (fn) => setTimeout(fn, Math.random() * 4) });
    const paths = ['/x/wx_session_bg.wasm.br', '/x/./wx_session_bg.wasm.br', 'x/wx_session_bg.wasm.br', '/x/../x/wx_session_bg.wasm.br', '//x//wx_session_bg.wasm.br', '/wx_session_bg.wasm.br', '/wx_session_bg.wasm'];
    const sessions = paths.map((wasmPath, i) => t.create({ wasmPath, baseUrl: `https://s${i}.test`, storageKey: `k${i}`, tokenPrefix: `p-s${i}.test ` }));
    for (let round = 0; round < 4; round++) {
      const results = await Promise.all(sessions.flatMap((s, i) => Array.from({ length: 15 }, () => outcome(s.request({ url: '/api/who' })).then((r) => [i, r]))));
      for (const [i, r] of results) assert.ok(r.ok && r.value.data.who === `s${i}.test`, `round ${round}, session ${i} (${paths[i]}): ${show(r)}`);
      await Promise.all(sessions.filter((_, i) => (i + round) % 2).map((s) => s.logout()));
    }
    for (const o of t.requests().filter((q) => !isLogin(q))) {
      const host = new URL(o.url).host;
      assert.ok(String(o.header.token).startsWith(`p-${host} ${host}-tok-`), `${o.url} carried ${o.header.token}`);
    }
    if (build.js) assert.equal(t.memories.length, 1, 'one core for every session');
    else assert.equal(t.memories.length, 3, 'one instance per file: x/….br, /….br, /….wasm');
    await assertStillWorks(t, sessions[0], { config: { wasmPath: '/x/./wx_session_bg.wasm.br', baseUrl: 'https://s0.test', storageKey: 'k0', tokenPrefix: 'p-s0.test ' } });
  });

  // ---- class 4: nothing hangs --------------------------------------------------------------------

  const evilError = () => Object.defineProperty(new Error(), 'message', { get() { throw new Error('message getter'); } });
  const throwingProxy = () => new Proxy({}, {
    get() { throw new Error('trap'); }, ownKeys() { throw new Error('trap'); }, getOwnPropertyDescriptor() { throw new Error('trap'); }, has() { throw new Error('trap'); },
  });

  // Each: what to break (returns a function restoring it), the config, the call, the codes allowed.
  const HANGS = {
    'a request header with a throwing getter': {
      call: (s) => s.request({ url: '/api/ok', header: { get 'X-A'() { throw new Error('getter'); } } }), expect: ['CONFIG'],
    },
    'a request header that is a throwing Proxy': {
      call: (s) => s.request({ url: '/api/ok', header: throwingProxy() }), expect: ['CONFIG'],
    },
    'a stored record with a throwing getter': {
      setup: (t) => { t.storage.token = { v: 1, get token() { throw new Error('getter'); }, expiresAt: null, obtainedAt: 1 }; },
      call: (s) => s.ensure(), expect: ['ok'],
    },
    'a stored record that is a throwing Proxy': {
      setup: (t) => { t.storage.token = throwingProxy(); }, call: (s) => s.ensure(), expect: ['ok'],
    },
    'login.extra() never settling (timeoutMs 300)': {
      // (only the first time: the session's next call must work)
      config: { login: { extra: ((first) => () => (first ? ((first = false), new Promise(() => {})) : Promise.resolve({})))(true) } },
      call: (s) => s.ensure(), expect: ['LOGIN_EXTRA_FAILED'],
    },
    'wx.login failing with an Error whose message getter throws': {
      setup: (t) => { const login = t.wx.login; t.wx.login = (o) => setTimeout(() => o.fail(evilError()), 1); return () => { t.wx.login = login; }; },
      call: (s) => s.ensure(), expect: ['WX_LOGIN_FAILED'],
    },
    'wx.request failing with an Error whose message getter throws': {
      setup: (t) => { const request = t.wx.request; t.wx.request = (o) => { setTimeout(() => o.fail(evilError()), 1); return {}; }; return () => { t.wx.request = request; }; },
      call: (s) => s.request({ url: '/api/ok', auth: false }), expect: ['NETWORK'],
    },
    'wx.login never calling back': {
      setup: (t) => { const login = t.wx.login; t.wx.login = () => {}; return () => { t.wx.login = login; }; },
      call: (s) => s.ensure(), expect: ['WX_LOGIN_FAILED'],
    },
    'wx.request never calling back': {
      setup: (t) => { const request = t.wx.request; t.wx.request = () => ({ abort() {} }); return () => { t.wx.request = request; }; },
      call: (s) => s.ensure(), expect: ['TIMEOUT'],
    },
    'wx.checkSession never calling back': {
      setup: (t) => {
        t.storage.token = { v: 1, token: 'stored', expiresAt: null, obtainedAt: 1 };
        const checkSession = t.wx.checkSession; t.wx.checkSession = () => {}; return () => { t.wx.checkSession = checkSession; };
      },
      config: { useCheckSession: true }, call: (s) => s.ensure(), expect: ['ok'],
    },
  };

  for (const [name, { setup, config = {}, call, expect }] of Object.entries(HANGS)) {
    test(`class 4: ${name} settles (${expect}) within 2 s with timeoutMs 300`, async () => {
      const t = sdk();
      const restore = setup ? setup(t) : null;
      const s = t.create({ timeoutMs: 300, retries: 0, ...config });
      assertSettled(t, await outcome(call(s), 2000), expect);
      if (restore) restore();
      await assertStillWorks(t, s);
    });
  }

  // ---- class 5: no panic from hostile numbers ----------------------------------------------------

  test('class 5: hostile per-request timeouts → CONFIG or ignored, never INTERNAL', async () => {
    const t = sdk();
    const s = t.create();
    for (const timeout of [NaN, Infinity, -Infinity, -1, -0, 0, 0.5, 1e308, 2 ** 53, 2 ** 32 + 1]) {
      assertSettled(t, await outcome(s.request({ url: '/api/ok', timeout })), ['ok', 'CONFIG']);
    }
    await assertStillWorks(t, s);
  });

  test('class 5: hostile status codes are answers, never INTERNAL', async () => {
    for (const statusCode of [NaN, Infinity, -Infinity, -1, -401, 1e20, 2 ** 32, 2 ** 53 + 1, '401', null]) {
      const t = sdk({ respond: onceServer((o) => o.url.endsWith('/api/hostile'), () => ({ statusCode, data: {} })) });
      const s = t.create();
      assertSettled(t, await outcome(s.request({ url: '/api/hostile' })), ['ok', 'BAD_RESPONSE', 'NETWORK']);
      await assertStillWorks(t, s);
    }
  });

  test('class 5: hostile expiresIn values → BAD_RESPONSE or a token, never INTERNAL', async () => {
    for (const expiresIn of [1e308, -1e308, Infinity, NaN, -1, 2 ** 64, 0, -0, '7200', {}]) {
      const t = sdk({ respond: onceServer(isLogin, () => ({ statusCode: 200, data: { token: 'T', expiresIn } })) });
      const s = t.create({ retries: 0, login: { expiresInPath: 'expiresIn' } });
      assertSettled(t, await outcome(s.ensure()), ['ok', 'BAD_RESPONSE']);
      await assertStillWorks(t, s);
    }
  });

  test('class 5: hostile numbers and sizes in the config → CONFIG, never INTERNAL', async () => {
    const t = sdk();
    const configs = [
      { retries: 1e308 }, { retries: NaN }, { retries: -1 }, { timeoutMs: Infinity }, { timeoutMs: 0 }, { timeoutMs: -0.5 },
      { invalidWhen: [{ status: 1e308 }] }, { invalidWhen: [{ status: NaN }] }, { invalidWhen: [{ path: 'a', in: Array.from({ length: 9999 }, (_, i) => i) }] },
      { login: { tokenPath: 'a.'.repeat(50000) + 'a' } }, { login: { tokenPath: '' } }, { storageKey: 's'.repeat(900000) }, { trustedOrigins: Array(9000).fill('https://x.test') },
    ];
    for (const config of configs) {
      const s = t.create(config);
      assertSettled(t, await outcome(s.request({ url: '/api/ok' })), ['ok', 'CONFIG']);
    }
    await assertStillWorks(t, t.create());
  });

  // ---- class 6: no header injection ---------------------------------------------------------------

  test('class 6: a server token with CR/LF → BAD_RESPONSE, never sent; the good stored token is kept', async () => {
    const t = sdk({ respond: onceServer(isLogin, () => ({ statusCode: 200, data: { token: 'bad\r\nX-Evil: 1' } })) });
    const stored = { v: 1, token: 'good', expiresAt: Date.now() - 1000, obtainedAt: 1 }; // expired: logs in
    t.storage.token = stored;
    const s = t.create({ retries: 0, check: { url: '/auth', policy: 'when-unknown' } });
    assertSettled(t, await outcome(s.ensure()), ['BAD_RESPONSE']);
    assert.deepEqual(t.storage.token, stored, 'the stored record is untouched');
    assert.ok(!sentHeaders(t).some(hasCrLf));
    await assertStillWorks(t, s);
  });

  test('class 6: a stored token with CR/LF (record or plain string) is never sent: a fresh login', async () => {
    for (const value of [{ v: 1, token: 'abc\r\nX-Evil: 1', expiresAt: null, obtainedAt: 1 }, 'abc\r\nX-Evil: 1', 'abc\nX', 'abc\rX']) {
      const t = sdk();
      t.storage.token = value;
      const s = t.create({ check: { policy: 'never' } });
      const r = await outcome(s.ensure());
      assertSettled(t, r, ['ok']);
      assert.equal(r.value.source, 'login');
      await assertStillWorks(t, s);
      assert.ok(!sentHeaders(t).some(hasCrLf), JSON.stringify(sentHeaders(t)));
    }
  });

  test('class 6: tokenHeader or tokenPrefix with CR/LF → CONFIG naming the key', async () => {
    const t = sdk();
    for (const [config, key] of [[{ tokenHeader: 'X\r\nEvil' }, 'tokenHeader'], [{ tokenHeader: 'X\nY' }, 'tokenHeader'], [{ tokenPrefix: 'Bearer\r\nX: ' }, 'tokenPrefix'], [{ tokenPrefix: 'B\n' }, 'tokenPrefix'], [{ login: { codeIn: 'header', codeKey: 'X\r\nY', method: 'GET' } }, 'login.codeKey']]) {
      const s = t.create(config);
      const r = await outcome(s.request({ url: '/api/ok' }));
      assertSettled(t, r, ['CONFIG']);
      assert.equal(r.error.key, key);
      await assertStillWorks(t, s, { same: 'CONFIG' });
    }
    assert.ok(!sentHeaders(t).some(hasCrLf));
  });

  test('class 6: a wx.login code with CR/LF sent in a header → WX_LOGIN_FAILED, never sent', async () => {
    const t = sdk();
    const login = t.wx.login;
    t.wx.login = (o) => setTimeout(() => o.success({ code: 'ab\r\nX-Evil: 1', errMsg: 'login:ok' }), 1);
    const config = { retries: 0, login: { method: 'GET', codeIn: 'header', codeKey: 'X-WX-Code' } };
    const s = t.create(config);
    assertSettled(t, await outcome(s.ensure()), ['WX_LOGIN_FAILED']);
    t.wx.login = login;
    assert.ok(!sentHeaders(t).some(hasCrLf));
    await assertStillWorks(t, s, { config });
  });

  test('class 6: a token whose characters truncate to CR/LF (U+010D U+010A) or U+2028 is never sent', async () => {
    // Header values are bytes: a stack that keeps the low byte of each UTF-16 unit turns
    // U+010D U+010A into CR LF. Only visible ASCII belongs in a token header.
    for (const token of ['ok\u010d\u010aX-Evil: 1', 'ok\u2028x', 'ok\u0085x']) {
      const t = sdk({ respond: onceServer(isLogin, () => ({ statusCode: 200, data: { token } })) });
      const s = t.create({ retries: 0 });
      assertSettled(t, await outcome(s.ensure()), ['BAD_RESPONSE']);
      await assertStillWorks(t, s);
      const u = sdk();
      u.storage.token = { v: 1, token, expiresAt: null, obtainedAt: 1 };
      const stored = await outcome(u.create({ check: { policy: 'never' } }).ensure());
      assert.ok(stored.ok && stored.value.source === 'login', `stored ${JSON.stringify(token)}: ${show(stored)}`);
      for (const header of [...sentHeaders(t), ...sentHeaders(u)]) assert.ok(/^[\x20-\x7e]*$/.test(header), JSON.stringify(header));
    }
  });

  // ---- class 7: validation is strict ---------------------------------------------------------------

  test('class 7: baseUrl with a query, fragment, spaces, CR/LF or credentials → CONFIG baseUrl', async () => {
    const t = sdk();
    for (const baseUrl of ['https://api.test?x=1', 'https://api.test/?x=1', 'https://api.test#f', 'https://api.test/#f', 'https://api .test', ' https://api.test', 'https://api.test ', 'https://api.test\r\n', 'https://api.test/\nx', 'https://user@api.test', 'https://', 'ftp://api.test']) {
      const r = await outcome(t.create({ baseUrl }).ensure());
      assertSettled(t, r, ['CONFIG']);
      assert.equal(r.error.key, 'baseUrl', JSON.stringify(baseUrl));
    }
    await assertStillWorks(t, t.create());
  });

  test('class 7: baseUrl in any case is accepted (HTTPS://API.TEST)', async () => {
    const t = sdk();
    for (const baseUrl of ['HTTPS://API.TEST', 'HtTpS://api.test/', 'https://api.test/v1']) {
      const s = t.create({ baseUrl });
      const r = await outcome(s.request({ url: '/api/ok' }));
      assert.ok(r.ok && r.value.statusCode === 200, `${baseUrl}: ${show(r)}`);
    }
  });

  test('class 7: optional keys left undefined are accepted', async () => {
    const t = sdk();
    const s = t.create({
      storageKey: undefined, tokenHeader: undefined, tokenPrefix: undefined, check: undefined, retries: undefined, timeoutMs: undefined,
      trustedOrigins: undefined, invalidWhen: undefined, wx: undefined, wasmPath: wasmPathOf(build).wasmPath,
      login: { url: undefined, method: undefined, codeIn: undefined, codeKey: undefined, tokenPath: undefined, expiresInPath: undefined, okWhen: undefined, extra: undefined },
    });
    const r = await outcome(s.request({ url: '/api/ok', method: undefined, header: undefined, timeout: undefined, auth: undefined, retry: undefined }));
    assert.ok(r.ok && r.value.statusCode === 200, show(r));
  });

  test('class 7: baseUrl https://:80, a port over 65535, a non-numeric port, a backslash host → CONFIG baseUrl', async () => {
    const t = sdk();
    const accepted = [];
    for (const baseUrl of ['https://:80', 'https://api.test:99999', 'https://api.test:abc', 'https://evil.test\\.api.test', 'https://api.test\\@evil.test']) {
      const r = await outcome(t.create({ baseUrl }).ensure());
      if (!(r.code === 'CONFIG' && r.error.key === 'baseUrl')) accepted.push(`${JSON.stringify(baseUrl)}: ${show(r)}`);
    }
    assert.deepEqual(accepted, []);
    await assertStillWorks(t, t.create());
  });

  // ---- class 8: the contract, to the letter ----------------------------------------------------

  test('class 8: "url not in domain list" → NETWORK at once, not retried', async () => {
    const t = sdk({ respond: () => ({ errMsg: 'request:fail url not in domain list' }) });
    const r = await outcome(t.create({ retries: 3 }).request({ url: '/api/ok', auth: false }));
    assertSettled(t, r, ['NETWORK']);
    assert.equal(t.requests().length, 1);
  });

  test('class 8: the Chinese "不在以下 request 合法域名列表中" (domain list) is not retried either', async () => {
    const t = sdk({ respond: () => ({ errMsg: 'request:fail 不在以下 request 合法域名列表中，请参考文档：https://developers.weixin.qq.com/miniprogram/dev/framework/ability/network.html' }) });
    const r = await outcome(t.create({ retries: 3 }).request({ url: '/api/ok', auth: false }), 10000);
    assertSettled(t, r, ['NETWORK']);
    assert.equal(t.requests().length, 1);
  });

  test('class 8: a platform timeout → TIMEOUT whose message says the platform reported it', async () => {
    const t = sdk({ respond: onceServer((o) => o.url.endsWith('/api/slow'), () => ({ errMsg: 'request:fail timeout' })) });
    const s = t.create({ retries: 0 });
    const r = await outcome(s.request({ url: '/api/slow', auth: false }));
    assertSettled(t, r, ['TIMEOUT']);
    assert.match(r.error.message, /platform/);
    await assertStillWorks(t, s);
  });

  test('class 8: wx.login succeeding with an empty code → WX_LOGIN_FAILED', async () => {
    const t = sdk();
    const login = t.wx.login;
    t.wx.login = (o) => setTimeout(() => o.success({ code: '', errMsg: 'login:ok' }), 1);
    const s = t.create({ retries: 0 });
    assertSettled(t, await outcome(s.ensure()), ['WX_LOGIN_FAILED']);
    assert.equal(t.requests().length, 0, 'no login request without a code');
    t.wx.login = login;
    await assertStillWorks(t, s);
  });

  test('class 8: the caller\'s "authorization" header is replaced by our "Authorization"', async () => {
    const t = sdk();
    const s = t.create({ tokenHeader: 'Authorization', tokenPrefix: 'Bearer ' });
    const r = await outcome(s.request({ url: '/api/ok', header: { authorization: 'Basic u', AUTHORIZATION: 'x', 'X-A': '1' } }));
    assert.ok(r.ok && r.value.statusCode === 200, show(r));
    const sent = t.requests()[t.requests().length - 1].header;
    assert.deepEqual({ ...sent }, { 'X-A': '1', Authorization: 'Bearer tok-1' });
  });

  test('class 8: tokenHeader "__proto__" → CONFIG tokenHeader', async () => {
    const t = sdk();
    const s = t.create({ tokenHeader: '__proto__' });
    const r = await outcome(s.ensure());
    assertSettled(t, r, ['CONFIG']);
    assert.equal(r.error.key, 'tokenHeader');
    await assertStillWorks(t, s, { same: 'CONFIG' });
  });

  test('class 8: success() with no answer (or null) → NETWORK', async () => {
    for (const args of [[], [null], ['text'], [0]]) {
      const t = sdk();
      const request = t.wx.request;
      t.wx.request = (o) => (isLogin(o) ? request(o) : (setTimeout(() => o.success(...args), 1), {}));
      const s = t.create({ retries: 0 });
      assertSettled(t, await outcome(s.request({ url: '/api/ok' })), ['NETWORK']);
      t.wx.request = request;
      await assertStillWorks(t, s);
    }
  });

  test('class 8: logout with a failing storage → STORAGE via onChange; the session doesn\'t read the token back', async () => {
    const t = sdk();
    const s = t.create();
    await s.ensure();
    const heard = [];
    s.onChange((state, error) => heard.push(error ? error.code : state));
    const { removeStorageSync, setStorageSync } = t.wx;
    t.wx.removeStorageSync = () => { throw new Error('removeStorageSync:fail'); };
    t.wx.setStorageSync = () => { throw new Error('setStorageSync:fail'); };
    assertSettled(t, await outcome(s.logout()), ['ok', 'STORAGE']);
    assert.ok(heard.includes('STORAGE'), JSON.stringify(heard));
    const r = await outcome(s.ensure());
    assert.ok(r.ok && r.value.source === 'login', `logged out stays logged out: ${show(r)}`);
    Object.assign(t.wx, { removeStorageSync, setStorageSync });
    await assertStillWorks(t, s);
  });

  test('class 8: a listener that unsubscribes itself doesn\'t make the others miss events', async () => {
    const t = sdk();
    const s = t.create();
    const heard = [];
    const off = s.onChange((state) => { heard.push(`A:${state}`); off(); });
    s.onChange((state) => heard.push(`B:${state}`));
    await s.ensure();
    assert.deepEqual(heard, ['A:checking', 'B:checking', 'B:logging-in', 'B:ready']);
  });

  test('class 8: exists / equals rules on a 200,000-item list answer work', async () => {
    for (const [rule, spoil] of [[{ path: 'list.199999.i', equals: -1 }, (list) => { list[199999] = { i: -1 }; }], [{ path: 'expired', exists: true }, (list, data) => { data.expired = 1; }]]) {
      const list = Array.from({ length: 200000 }, (_, i) => ({ i }));
      const data = { list };
      const t = sdk({ respond: (o) => (o.url.endsWith('/api/list') ? { statusCode: 200, data } : undefined) });
      const s = t.create({ invalidWhen: [{ status: 401 }, rule] });
      const r = await outcome(s.request({ url: '/api/list' }));
      assert.ok(r.ok && r.value.data.list === list, show(r));
      assert.equal(t.counts.login, 1, 'no rule matched');
      spoil(list, data);
      assertSettled(t, await outcome(s.request({ url: '/api/list' })), ['SESSION_EXPIRED']);
      assert.equal(t.counts.login, 2, `${JSON.stringify(rule)} matched: one re-login`);
      await assertStillWorks(t, s);
    }
  });

  test('class 8: the token goes only to baseUrl\'s origin and trustedOrigins', async () => {
    const t = sdk({ respond: (o) => (new URL(o.url).host === 'api.test' ? undefined : { statusCode: 200, data: {} }) });
    const s = t.create({ trustedOrigins: ['https://cdn.test'] });
    await s.ensure();
    for (const url of ['https://evil.test/x', 'HTTPS://EVIL.TEST/x', 'https://api.test.evil.test/x', 'https://api.test@evil.test/x', 'https://api.test\\@evil.test/x', 'http://api.test/x', 'https://api.test:8443/x', 'https://cdn.test:444/x', 'https:evil.test/x']) {
      const r = await outcome(s.request({ url }));
      assertSettled(t, r, ['CONFIG']);
      assert.equal(r.error.key, 'request.url', url);
    }
    const before = t.requests().length;
    await s.request({ url: 'https://cdn.test/file' });
    await s.request({ url: 'https://evil.test/public', auth: false });
    const [trusted, other] = t.requests().slice(before);
    assert.equal(trusted.header.token, 'tok-1', 'a trusted origin gets the token');
    assert.ok(!other.header || !Object.keys(other.header).length, `auth: false sends none: ${JSON.stringify(other.header)}`);
    const check = await outcome(t.create({ check: { url: 'https://evil.test/auth' } }).ensure());
    assertSettled(t, check, ['CONFIG']);
    assert.ok(!t.requests().some((o) => o.url.includes('evil.test') && o.header && o.header.token), 'evil.test never got the token');
  });

  // ---- memory --------------------------------------------------------------------------------------

  test('memory: 100,000 requests leave the core\'s memory flat after warm-up', async () => {
    const t = sdk({ schedule: 'macrotask', record: false });
    const s = t.create();
    for (let i = 0; i < 1000; i++) await s.request({ url: '/api/profile' });
    const before = t.pages();
    for (let i = 0; i < 100000; i++) {
      const answer = await s.request({ url: '/api/profile' });
      if (answer.statusCode !== 200) assert.fail(`request ${i}: ${answer.statusCode}`);
    }
    assert.equal(t.pages(), before, 'the core\'s memory pages');
  });

  // ---- logout and clocks mid-flight, dropped sessions, odd codes, answers and headers ---------------

  test('a request failing after logout() rejects LOGGED_OUT and is never retried with the old token', async () => {
    const t = sdk();
    const held = [];
    const request = t.wx.request;
    t.wx.request = (o) => (o.url.endsWith('/api/held') ? (held.push(o), { abort() {} }) : request(o));
    const s = t.create({ retries: 2 });
    await s.ensure();
    const p = outcome(s.request({ url: '/api/held' }), 3000);
    await sleep(10);
    await s.logout();
    held[0].fail({ errMsg: 'request:fail -101 net::ERR_CONNECTION_RESET' });
    const r = await p;
    for (const o of held.slice(1)) o.success({ statusCode: 200, data: {}, header: {} }); // free any retry
    assert.deepEqual(held.slice(1).map((o) => o.header), [], 'no attempt after logout');
    assertSettled(t, r, ['LOGGED_OUT']);
    t.wx.request = request;
    await assertStillWorks(t, s);
  });

  test('the clock going back 1 h during a pending login doesn\'t hang calls', async () => {
    const t = sdk();
    const login = t.wx.login;
    t.wx.login = () => {}; // never answers: the 300 ms limit must end it
    t.runtime.run('this.__now = Date.now; this.__skew = 0; Date.now = function () { return __now() + __skew; };');
    try {
      const s = t.create({ timeoutMs: 300, retries: 0 });
      const first = outcome(s.ensure(), 3000);
      await sleep(100);
      t.runtime.run('__skew = -3600e3');
      const [a, b, c] = await Promise.all([first, outcome(s.request({ url: '/api/ok' }), 3000), outcome(s.ensure(), 3000)]);
      for (const r of [a, b, c]) assertSettled(t, r, ['WX_LOGIN_FAILED', 'TIMEOUT']);
      t.wx.login = login;
      await assertStillWorks(t, s);
    } finally {
      t.runtime.run('Date.now = __now;');
    }
  });

  test('logout with a throwing removeStorageSync: the next ensure() logs in again', async () => {
    const t = sdk();
    const s = t.create();
    await s.ensure();
    const remove = t.wx.removeStorageSync;
    t.wx.removeStorageSync = () => { throw new Error('removeStorageSync:fail'); };
    assertSettled(t, await outcome(s.logout()), ['ok', 'STORAGE']);
    const r = await outcome(s.ensure());
    assertSettled(t, r, ['ok']);
    assert.deepEqual({ ...r.value }, { token: 'tok-2', source: 'login' }, 'the logged-out token is not read back');
    t.wx.removeStorageSync = remove;
    await assertStillWorks(t, s);
  });

  test('5,000 sessions created, used and dropped are freed (the core\'s memory stays within 2 pages)', (ctx) => {
    // In a child with --expose-gc: dispose() when the SDK has it, else GC and its FinalizationRegistry.
    const script = path.join(__dirname, '..', 'hostile', 'dropped-sessions.js');
    const output = execFileSync(process.execPath, ['--expose-gc', script, ...(build.js ? ['--js'] : [])], { encoding: 'utf8', timeout: 120000 });
    const result = JSON.parse(output.trim().split('\n').pop());
    if (!result.mode) {
      ctx.skip('neither session.dispose() nor FinalizationRegistry: dropped sessions cannot be freed');
      return;
    }
    assert.equal(result.alive, 200, 'a new session works afterwards');
    assert.ok(result.after <= result.before + 2, `${result.mode}: memory ${result.before} → ${result.after} pages`);
  });

  test('a 20M-char wx.login code → WX_LOGIN_FAILED or BAD_RESPONSE; memory doesn\'t grow', async () => {
    const t = sdk();
    const s = t.create({ retries: 0 });
    await s.request({ url: '/api/ok' });
    const before = t.pages();
    await s.logout();
    const login = t.wx.login;
    t.wx.login = (o) => setTimeout(() => o.success({ code: 'c'.repeat(20e6), errMsg: 'login:ok' }), 1);
    const r = await outcome(s.ensure(), 10000);
    t.wx.login = login;
    assertSettled(t, r, ['WX_LOGIN_FAILED', 'BAD_RESPONSE']);
    assert.ok(t.pages() <= before + 16, `memory ${before} → ${t.pages()} pages`);
    await assertStillWorks(t, s);
  });

  test('a revoked Proxy config, a throwing Proxy answer, a throwing `then` getter → WxSessionError', async () => {
    const t = sdk();
    const revoked = Proxy.revocable({}, {});
    revoked.revoke();
    const results = { 'revoked Proxy config': await outcome(t.mod.createSession(revoked.proxy).ensure()) };
    for (const [name, answer] of [
      ['a Proxy answer throwing on get', () => new Proxy({}, { get() { throw new Error('answer trap'); } })],
    ]) {
      const u = sdk();
      const request = u.wx.request;
      u.wx.request = (o) => (isLogin(o) ? request(o) : (setTimeout(() => o.success(answer()), 1), {}));
      results[name] = await outcome(u.create({ retries: 0 }).request({ url: '/api/ok' }), 2000);
    }
    const raw = Object.entries(results).filter(([, r]) => r.hang || r.ok || !t.mod.isWxSessionError(r.error)).map(([name, r]) => `${name}: ${show(r)}`);
    assert.deepEqual(raw, []);
    // An answer whose `then` getter throws is readable otherwise: it resolves as a plain copy,
    // without `then` (its getter never read).
    const u = sdk();
    const request = u.wx.request;
    u.wx.request = (o) => (isLogin(o) ? request(o) : (setTimeout(() => o.success({ statusCode: 200, data: {}, header: {}, get then() { throw new Error('then getter'); } }), 1), {}));
    const r = await outcome(u.create({ retries: 0 }).request({ url: '/api/ok' }), 2000);
    assert.ok(r.ok && r.value.statusCode === 200 && !('then' in r.value), show(r));
    await assertStillWorks(t, t.create());
  });

  test('a success answer with a then() method settles', async () => {
    const t = sdk();
    const request = t.wx.request;
    t.wx.request = (o) => (isLogin(o) ? request(o) : (setTimeout(() => o.success({ statusCode: 200, data: {}, header: {}, then() {} }), 1), {}));
    const s = t.create({ retries: 0 });
    const r = await outcome(s.request({ url: '/api/ok' }), 2000);
    assertSettled(t, r, ['ok', 'BAD_RESPONSE', 'NETWORK']);
    t.wx.request = request;
    await assertStillWorks(t, s);
  });

  test('onChange\'s unsubscribe is idempotent (a second call removes nothing else)', async () => {
    const t = sdk();
    const s = t.create();
    const heard = [];
    const listener = (state) => heard.push(state);
    const off = s.onChange(listener);
    s.onChange(listener);
    off();
    off();
    await s.ensure();
    assert.deepEqual(heard, ['checking', 'logging-in', 'ready'], 'the second registration still hears every event once');
  });

  test('invalidWhen reads a text body of up to 1 MB', async () => {
    const body = JSON.stringify({ pad: 'x'.repeat(1000000 - 40), code: -1 });
    assert.ok(body.length > 65536 && body.length <= 1000000);
    const t = sdk({ respond: (o) => (o.url.endsWith('/api/text') ? { statusCode: 200, data: body } : undefined) });
    const s = t.create({ invalidWhen: [{ status: 401 }, { path: 'code', equals: -1 }] });
    const r = await outcome(s.request({ url: '/api/text', dataType: 'text' }));
    assertSettled(t, r, ['SESSION_EXPIRED']);
    assert.equal(t.counts.login, 2, 'the rule matched: one re-login');
    await assertStillWorks(t, s);
  });

  test('statusCode 401.7 and 2**32+401 are not 401', async () => {
    for (const statusCode of [401.7, 2 ** 32 + 401]) {
      const t = sdk({ respond: onceServer((o) => o.url.endsWith('/api/odd'), () => ({ statusCode, data: {} })) });
      const s = t.create();
      assertSettled(t, await outcome(s.request({ url: '/api/odd' })), ['ok', 'BAD_RESPONSE']);
      assert.equal(t.counts.login, 1, `${statusCode}: no re-login`);
      await assertStillWorks(t, s);
    }
  });

  test('a caller header "authorization " (trailing space) is dropped or refused', async () => {
    const t = sdk();
    const s = t.create({ tokenHeader: 'Authorization', tokenPrefix: 'Bearer ' });
    const before = t.requests().length;
    const r = await outcome(s.request({ url: '/api/ok', header: { 'authorization ': 'Basic u', ' Authorization': 'x' } }));
    assertSettled(t, r, ['ok', 'CONFIG']);
    const sent = t.requests().slice(before).filter((o) => !isLogin(o)).map((o) => o.header);
    for (const header of sent) {
      assert.deepEqual(Object.keys(header).filter((k) => k.trim().toLowerCase() === 'authorization'), ['Authorization'], JSON.stringify(header));
    }
    await assertStillWorks(t, s);
  });

  // ---- JavaScriptCore ------------------------------------------------------------------------------

  let jscResults = null;
  function hostileOnJsc() {
    if (!jscResults) {
      jscResults = runSdkOnJsc(build, {
        files: { hostile: path.join(__dirname, '..', 'engines', 'hostile-scenarios.js') },
        main: `
          __require('hostile').run(__require('sdk'), WASM_PATH).then(function (results) {
            print('RESULT ' + JSON.stringify(results));
            quit();
          }, function (e) { print('RESULT ' + JSON.stringify([{ name: 'the scenarios ran', ok: false, detail: String(e) }])); quit(); });
        `,
      });
    }
    return jscResults;
  }

  test('JavaScriptCore: hostile values, getters, CR/LF and silent platforms (classes 1, 2, 4, 6)', ON_JSC, () => {
    const results = hostileOnJsc().filter((r) => !r.contract);
    assert.ok(results.length >= 10, JSON.stringify(results));
    const failed = results.filter((r) => !r.ok).map((r) => `${r.name}: ${r.detail}`);
    assert.deepEqual(failed, []);
  });

  test('JavaScriptCore: a success answer with a then() method settles; a double unsubscribe removes only its own listener', ON_JSC, () => {
    const results = hostileOnJsc().filter((r) => r.contract);
    assert.equal(results.length, 2, JSON.stringify(results));
    const failed = results.filter((r) => !r.ok).map((r) => `${r.name}: ${r.detail}`);
    assert.deepEqual(failed, []);
  });
}

for (const build of BUILDS) describe(build.name, () => suite(build));
