// Hostile review, third round: what a hostile app, server or platform can still do to the BUILT
// SDK (js-glue/dist, the wasm build, and js-glue/dist-js, the JavaScript build), each case a
// minimal reproduction of one finding, asserting what README.md promises. Every wait is bounded:
// a hang is a failing assertion, never a stuck test. On V8 (the strict sandbox of
// tests/hostile/harness.js) and, where the engine matters, on JavaScriptCore with and without JIT.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const vm = require('vm');
const v8 = require('v8');
const { execFileSync } = require('child_process');
const { BUILDS, PLAIN_WASM, isLogin, sdk, outcome, sleep } = require('../hostile/harness');
const { JSC, JSC_MISSING, NO_JIT, runJsc } = require('../engines/jsc');

const ROOT = path.join(__dirname, '..', '..');
const HARNESS = path.join(ROOT, 'tests', 'hostile', 'harness.js');
const FAKE_WX = path.join(ROOT, 'tests', 'fakes', 'wx.js');

const show = (r) => (r.hang ? 'hung' : r.ok ? `resolved ${JSON.stringify(r.value && (r.value.token !== undefined ? r.value.token : r.value.statusCode))}`
  : `rejected ${r.error && r.error.name}/${r.code}: ${String(r.error && r.error.message).slice(0, 160)}`);

// The sandbox's own Date (the SDK's clock reads it).
const sandboxDate = (t) => vm.runInContext('Date', t.runtime.context);

// Counts the SDK's setTimeout calls (the harness's wrapper stays underneath).
function countTimers(t) {
  const counter = { n: 0 };
  const inner = t.runtime.context.setTimeout;
  t.runtime.context.setTimeout = function (fn, ms, ...args) {
    counter.n++;
    return inner(fn, ms, ...args);
  };
  return counter;
}

// A fake whose /api/hang… requests are never answered.
const hangingServer = (o) => (/\/api\/hang/.test(o.url) ? null : undefined);

// A full garbage collection that also runs FinalizationRegistry callbacks (which need a turn).
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');
async function collect() {
  for (let i = 0; i < 6; i++) {
    gc();
    await sleep(15);
  }
}

for (const build of BUILDS) {
  // ---- 1. the clock: one reading at or past 2^53 ms turns every deadline off, for good ------

  test(`${build.name}: one Date.now() reading of 2^53 (or Infinity) must not turn off every later deadline`, async () => {
    for (const bogus of [2 ** 53, Infinity]) {
      const t = sdk({ build, respond: hangingServer });
      const s = t.create({ retries: 0 });
      assert.ok((await outcome(s.ensure())).ok);
      const D = sandboxDate(t);
      const realNow = D.now;
      let once = true;
      D.now = () => (once ? ((once = false), bogus) : realNow.call(D));
      s.token(); // the one bad reading (any call reads the clock)
      assert.equal(once, false, 'the SDK read the clock');
      const timers = countTimers(t);
      // README "Nothing hangs": every operation has a deadline; `timeout` per request.
      const r = await outcome(s.request({ url: '/api/hang', timeout: 300 }), 2500);
      const fresh = await outcome(t.create({ retries: 0, timeoutMs: 300, storageKey: 'other' }).request({ url: '/api/hang', auth: false }), 2500);
      assert.equal(r.code, 'TIMEOUT', `Date.now() read ${bogus} once, then the real time: a 300 ms request ${show(r)}; the SDK set ${timers.n} timers meanwhile`);
      assert.equal(fresh.code, 'TIMEOUT', `a new session after it: ${show(fresh)}`);
      assert.ok(timers.n < 50, `${timers.n} timers set in 5 s (a 0 ms timer spinning)`);
    }
  });

  // ---- 2. a call from a nearly full stack kills (or wedges) the shared instance ------------------

  test(`${build.name}: a call made near the stack limit on one session never wedges the instance: nothing hangs, every rejection is a WxSessionError, the next calls work`, () => {
    // In a fresh process each (the depth at which the stack runs out depends on what ran before).
    // Where the stack runs out decides what session A sees. In the glue, around the core, only
    // the session called that deep stops (A's call goes on). Inside the core, the core's state is
    // left half-changed: that is a trap as far as the instance is concerned (README: INTERNAL,
    // "the next call starts a new one"), so A's waiting call may fail INTERNAL — and then A's
    // next call, and a new session's, must work.
    const results = [deepStackRun(build, 'login-held'), deepStackRun(build, 'request-held')];
    const problems = [];
    for (const r of results) {
      if (r.held !== 'resolved' && !/^rejected WxSessionError\/INTERNAL: the wasm instance stopped/.test(r.held)) problems.push(`[${r.shape}] session A's call waiting meanwhile: ${r.held}`);
      if (r.after !== 'resolved') problems.push(`[${r.shape}] session A's next call: ${r.after}`);
      if (r.fresh !== 'resolved') problems.push(`[${r.shape}] a new session's call: ${r.fresh}`);
      if (r.deepSettled.hung) problems.push(`[${r.shape}] ${r.deepSettled.hung} of the deep calls' Promises never settled`);
      if (r.unhandled.length) problems.push(`[${r.shape}] unhandled rejections: ${r.unhandled.join('; ')}`);
      if (r.misrouted) problems.push(`[${r.shape}] ${r.misrouted} requests went to another URL than their own`);
    }
    // README: INTERNAL is "the wasm instance trapped (a bug)"; the hostile suite's promise is
    // "the instance never dies", and "Nothing hangs".
    assert.deepEqual(problems, [], JSON.stringify(results, null, 1));
  });

  // ---- 3. destructured methods: the session is freed while the app still uses it ----------------

  test(`${build.name}: a session used through its destructured methods is not freed while in use (token() stays, no new check per call)`, async () => {
    const t = sdk({ build });
    // The common `const { request, token } = createSession(…)` of a utils/api.js: the app keeps
    // the methods, not the object.
    const { ensure, request, token } = (() => t.create({ useCheckSession: true, check: { url: '/auth', okWhen: { path: 'errCode', equals: 0 } } }))();
    const first = await outcome(ensure());
    assert.ok(first.ok, show(first));
    await collect();
    const before = { checkSession: t.counts.checkSession, auth: t.fake.sentTo('/auth').length, login: t.counts.login };
    // README: token() is "the token in use, or null (none, expired, or the wasm still loading)".
    assert.equal(token(), 'tok-1', 'token() after a garbage collection');
    for (let i = 0; i < 3; i++) {
      const r = await outcome(request({ url: '/api/ok' }));
      assert.ok(r.ok && r.value.statusCode === 200, show(r));
      await collect();
    }
    const after = { checkSession: t.counts.checkSession, auth: t.fake.sentTo('/auth').length, login: t.counts.login };
    assert.deepEqual(after, before, 'three requests with a token in memory cost no wx.checkSession, no /auth check, no login');
    assert.equal(token(), 'tok-1', 'token() after three requests');
  });

  test(`${build.name}: after a logout whose storage calls fail, a collected session must not read the logged-out token back`, async () => {
    const t = sdk({ build });
    const { ensure, logout, request } = (() => t.create())();
    assert.ok((await outcome(ensure())).ok);
    t.wx.removeStorageSync = () => { throw new Error('removeStorageSync:fail'); };
    t.wx.setStorageSync = () => { throw new Error('setStorageSync:fail exceed storage max size 10M'); };
    const out = await outcome(logout());
    assert.equal(out.code, 'STORAGE', show(out));
    await collect();
    // README: "If logout() cannot remove the record it writes an empty one; if that fails too,
    // the session still never reads the old token back."
    const again = await outcome(ensure());
    await outcome(request({ url: '/api/ok' }));
    const sent = t.fake.sentTo('/api/ok').map((e) => e.options.header && e.options.header.token);
    assert.ok(!(again.ok && again.value.token === 'tok-1'), `ensure() after logout: ${show(again)} (source ${again.value && again.value.source})`);
    assert.ok(!sent.includes('tok-1'), `sent with the logged-out token: ${JSON.stringify(sent)}`);
  });

  // ---- 4. logout() from the "ready" listener: the logged-out token still goes out --------------

  for (const schedule of [2, 'sync']) {
    test(`${build.name} (platform answering ${schedule === 'sync' ? 'synchronously' : 'after 2 ms'}): logout() from the onChange "ready" listener: the waiting request is never sent with the logged-out token, ensure() does not resolve with it`, async () => {
      const t = sdk({ build, schedule });
      const s = t.create();
      const order = [];
      const request = t.wx.request;
      t.wx.request = (o) => {
        if (!isLogin(o)) order.push(`sent ${o.url.replace('https://api.test', '')} with ${o.header && o.header.token}`);
        return request(o);
      };
      let once = true;
      s.onChange((state) => {
        if (state === 'ready' && once) {
          once = false;
          order.push('logout()');
          s.logout();
        }
      });
      // Both wait for the launch login.
      const [r, e] = await Promise.all([outcome(s.request({ url: '/api/profile' })), outcome(s.ensure())]);
      const afterLogout = order.slice(order.indexOf('logout()') + 1);
      // README: logout() "forgets the token in storage and memory; waiters of a login in flight
      // get LOGGED_OUT".
      assert.ok(!afterLogout.some((line) => /with tok-1$/.test(line)), `${order.join(' | ')}; request ${show(r)}`);
      assert.ok(!(e.ok && e.value.token === 'tok-1'), `ensure() ${show(e)} after logout(): ${order.join(' | ')}`);
    });
  }

  test(`${build.name}: logout() from the onChange "ready" listener of a re-login (after a 401): the request is not sent again with the token logout() just forgot`, async () => {
    const t = sdk({ build });
    const s = t.create();
    assert.ok((await outcome(s.ensure())).ok);
    t.fake.revokeAll(); // the server refuses tok-1: the next request gets 401, one re-login (tok-2)
    const order = [];
    const request = t.wx.request;
    t.wx.request = (o) => {
      if (!isLogin(o)) order.push(`sent with ${o.header && o.header.token}`);
      return request(o);
    };
    let once = true;
    s.onChange((state) => {
      if (state === 'ready' && once) {
        once = false;
        order.push('logout()');
        s.logout();
      }
    });
    const r = await outcome(s.request({ url: '/api/profile' }));
    const afterLogout = order.slice(order.indexOf('logout()') + 1);
    // README: logout() "forgets the token in storage and memory; … a request in flight that
    // fails afterwards is not sent again with the old token".
    assert.deepEqual(afterLogout.filter((line) => /with tok-2$/.test(line)), [], `${order.join(' | ')}; request ${show(r)}`);
  });

  // ---- 5. a platform timer that throws kills every session --------------------------------------

  test(`${build.name}: one throwing setTimeout must not fail every session's calls with INTERNAL`, async () => {
    const t = sdk({ build, respond: hangingServer });
    const a = t.create({ retries: 0 });
    const b = t.create({ storageKey: 'b' });
    assert.ok((await outcome(a.ensure())).ok);
    assert.ok((await outcome(b.ensure())).ok);
    const inflight = outcome(a.request({ url: '/api/hang', timeout: 1000 }), 3000);
    const inner = t.runtime.context.setTimeout;
    let once = true;
    // (A monitoring SDK's wrapper, a timer quota: one call fails.)
    t.runtime.context.setTimeout = function (...args) {
      if (once && args[1] > 50 && args[1] <= 100) { // the SDK's timer for B's 100 ms deadline
        once = false;
        throw new Error('setTimeout: too many timers');
      }
      return inner(...args);
    };
    const r = await outcome(b.request({ url: '/api/ok', timeout: 100 }), 3000);
    const ra = await inflight;
    assert.equal(once, false, 'the SDK called the throwing setTimeout');
    // README: INTERNAL means "the wasm instance trapped (a bug)"; nothing trapped here.
    assert.notEqual(r.code, 'INTERNAL', `session B's request: ${show(r)}`);
    assert.notEqual(ra.code, 'INTERNAL', `session A's request in flight: ${show(ra)}`);
  });

  // ---- 6. an answer whose `then` shows up on the second read hangs the call ---------------------

  test(`${build.name}: a success answer whose then getter (or Proxy) says undefined once, then a function, still settles`, async () => {
    const answers = {
      getter: () => {
        let reads = 0;
        return { statusCode: 200, data: {}, get then() { reads++; return reads === 1 ? undefined : function () {}; } };
      },
      proxy: () => {
        let reads = 0;
        return new Proxy({ statusCode: 200, data: {} }, { get: (o, k) => (k === 'then' ? (++reads === 1 ? undefined : function () {}) : o[k]) });
      },
    };
    for (const [name, make] of Object.entries(answers)) {
      const t = sdk({ build, respond: (o) => (/\/api\/thenable/.test(o.url) ? make() : undefined) });
      const s = t.create();
      assert.ok((await outcome(s.ensure())).ok);
      let callbacks = 0;
      const r = await outcome(s.request({ url: '/api/thenable', complete: () => callbacks++ }), 3000);
      // README "Nothing hangs"; a success answer with a then() method settles (0.2.0's fix).
      assert.ok(!r.hang, `${name}: the request ${show(r)}; complete() called ${callbacks} times`);
    }
  });

  // ---- 7. contract slips: onTask and onReport ---------------------------------------------------

  test(`${build.name}: on a platform that answers synchronously, onTask(fn) still hears the task the call started`, async () => {
    const t = sdk({ build, schedule: 'sync' });
    const s = t.create();
    assert.ok((await outcome(s.ensure())).ok);
    const tasks = [];
    const p = s.request({ url: '/api/ok' });
    p.onTask((task) => tasks.push(task));
    const r = await outcome(p);
    assert.ok(r.ok, show(r));
    const sent = t.fake.sentTo('/api/ok');
    assert.equal(sent.length, 1);
    // README: onTask(fn) gets "each platform task the call starts, e.g. for progress".
    assert.deepEqual(tasks, [sent[0].task], `onTask heard ${tasks.length} tasks`);
  });

  test(`${build.name}: onReport gets one event for a request the glue refused (unreadable options) or aborted before the wasm loaded`, async () => {
    const t = sdk({ build });
    const events = [];
    const s = t.create({ onReport: (e) => events.push(e) });
    const early = s.request({ url: '/api/early' });
    early.abort();
    const r0 = await outcome(early);
    assert.equal(r0.code, 'ABORTED', show(r0));
    assert.ok((await outcome(s.ensure())).ok);
    const r1 = await outcome(s.request({ get url() { throw new Error('unreadable'); } }));
    assert.equal(r1.code, 'CONFIG', show(r1));
    const r2 = await outcome(s.request({ url: 'has spaces' })); // refused by the core: reported
    assert.equal(r2.code, 'CONFIG', show(r2));
    await sleep(20);
    const requestEvents = events.filter((e) => e.kind === 'request').map((e) => `${e.url} ${e.code}`);
    // README: "onReport(event) in the config gets one event per finished request".
    assert.equal(requestEvents.length, 3, `events: ${JSON.stringify(requestEvents)}`);
  });
}

// ---- a request cut short by the JS stack between the glue and the core -------------------------

// The URL crosses once (URL_SAME for the one the core took last) and the core decides from it
// whether the token may go there: a call whose export never ran (the stack ran out at the call)
// must not make the glue believe the core has its URL. Else the next call to that URL would be
// judged by the one before: the token sent to another origin.
test('wasm build: a request whose call into the core threw before it ran: the next request to its URL is judged by its own URL', async () => {
  const t = sdk({ build: BUILDS[0] });
  const loader = t.runtime.context.WXWebAssembly;
  let cutShort = false;
  t.runtime.context.WXWebAssembly = {
    instantiate(wasmPath, imports) {
      return loader.instantiate(wasmPath, imports).then(({ instance, module }) => {
        const exports = Object.assign({}, instance.exports);
        exports.request = function () {
          if (cutShort) {
            cutShort = false;
            throw new RangeError('Maximum call stack size exceeded');
          }
          return instance.exports.request.apply(null, arguments);
        };
        return { instance: { exports }, module };
      });
    },
  };
  const session = t.create();
  assert.ok((await outcome(session.request({ url: 'https://api.test/api/a' }))).ok);
  cutShort = true;
  const stopped = await outcome(session.request({ url: 'https://evil.test/x' }));
  assert.equal(stopped.code, 'INTERNAL', show(stopped)); // the session stopped; its next call starts it again
  const next = await outcome(session.request({ url: 'https://evil.test/x' }));
  assert.equal(next.code, 'CONFIG', `${show(next)}: the token only goes to baseUrl's origin`);
  assert.deepEqual(t.fake.requests().filter((o) => /evil/.test(o.url)), [], 'nothing sent to another origin');
  assert.ok((await outcome(session.request({ url: 'https://api.test/api/a' }))).ok, 'and the URL before still works');
});

// ---- the deep-stack runs, each in a fresh Node process ----------------------------------------

// shape 'login-held': session A waits for its wx.login (held) while session B is called at each
// level of a stack unwinding from its limit, until B's token() stops answering; then the login
// is released. shape 'request-held': A waits for an API answer (held) while B is called at the
// 1,000 deepest levels that accept a call.
function deepStackRun(build, shape) {
  const script = `
    const vm = require('vm');
    const { sdk, outcome, sleep, BUILDS } = require(${JSON.stringify(HARNESS)});
    const build = BUILDS[${BUILDS.indexOf(build)}];
    const unhandled = [];
    process.on('unhandledRejection', (e) => unhandled.push(String(e && e.message || e).slice(0, 120)));
    const say = (r) => (r.hang ? 'hung' : r.ok ? 'resolved' : 'rejected ' + (r.error && r.error.name) + '/' + r.code + ': ' + String(r.error && r.error.message).slice(0, 100));
    (async () => {
      const t = sdk({ build });
      const b = t.create();
      await b.ensure();
      let a, held;
      if (${JSON.stringify(shape)} === 'login-held') {
        t.fake.holdLogin();
        a = t.create({ retries: 0, storageKey: 'a' });
        held = outcome(a.ensure(), 6000);
      } else {
        a = t.create({ retries: 0 });
        await a.ensure();
        t.fake.hold((kind, o) => /\\/api\\/held/.test(o.url));
        held = outcome(a.request({ url: '/api/held' }), 6000);
      }
      await sleep(20);
      const deep = vm.runInContext('(' + function (b, shape) {
        var made = [], threw = 0, stop = false;
        function down(n) {
          try { down(n + 1); } catch (e) {}
          if (stop) return;
          // URLs in pairs (ok, ok, ok2, ok2, …): a call the stack cut short must not leave the
          // next call with the same URL sent where the one before went.
          var url = Math.floor(n / 2) % 2 ? '/api/ok2' : '/api/ok';
          try { made.push(b.request({ url: url, header: { 'X-Want': url } })); } catch (e) { threw++; }
          if (shape === 'login-held' ? b.token() !== 'tok-1' || made.length + threw > 3000 : made.length + threw >= 1000) stop = true;
        }
        down(0);
        return { made: made, threw: threw };
      } + ')', t.runtime.context);
      const { made, threw } = deep(b, ${JSON.stringify(shape)});
      t.fake.releaseLogin();
      t.fake.release();
      const settled = await Promise.all(made.map((p) => outcome(p, 4000)));
      const r = await held;
      const after = await outcome(a.request({ url: '/api/ok' }), 3000);
      const fresh = await outcome(t.create({ storageKey: 'fresh' }).ensure(), 3000);
      await sleep(50);
      console.log(JSON.stringify({
        shape: ${JSON.stringify(shape)}, calls: made.length, threwAtOnce: threw,
        deepSettled: { hung: settled.filter((x) => x.hang).length, internal: settled.filter((x) => x.code === 'INTERNAL').length },
        held: say(r), after: say(after), fresh: say(fresh), unhandled,
        misrouted: t.fake.sent.filter((e) => e.options.header && e.options.header['X-Want'] && !e.options.url.endsWith(e.options.header['X-Want'])).length,
      }));
      process.exit(0);
    })();
  `;
  const output = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 120000, stdio: ['ignore', 'pipe', 'ignore'] });
  return JSON.parse(output.trim().split('\n').pop());
}

// ---- JavaScriptCore, with and without JIT, both builds -----------------------------------------

// ES5 scenarios for jsc: the findings above whose outcome depends on the engine.
const JSC_SCENARIOS = `'use strict';
var createWx = require('../fakes/wx').createWx;
function run(sdk, wasmPath, only) {
  var results = [];
  function outcome(promise, ms) {
    return new Promise(function (resolve) {
      var done = false;
      var finish = function (r) { if (!done) { done = true; resolve(r); } };
      setTimeout(function () { finish({ hang: true }); }, ms || 5000);
      promise.then(function (v) { finish({ ok: true, value: v }); }, function (e) { finish({ ok: false, code: e && e.code, message: e && e.message }); });
    });
  }
  function show(r) { return r.hang ? 'hung' : r.ok ? 'resolved ' + JSON.stringify(r.value && (r.value.token || r.value.statusCode)) : 'rejected ' + r.code + ': ' + r.message; }
  function session(fake, config) {
    var base = { baseUrl: 'https://api.test', useCheckSession: false, wx: fake.wx };
    if (wasmPath) base.wasmPath = wasmPath;
    for (var k in config) base[k] = config[k];
    return sdk.createSession(base);
  }
  function later(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }
  var cases = {
    'logout() from the "ready" listener: the waiting request is not sent with the logged-out token': function () {
      var fake = createWx({ schedule: 2 });
      var s = session(fake, {});
      var sent = [];
      var request = fake.wx.request;
      fake.wx.request = function (o) { if (/\\/api\\//.test(o.url)) sent.push(o.header && o.header.token); return request(o); };
      var once = true;
      s.onChange(function (state) { if (state === 'ready' && once) { once = false; s.logout(); } });
      return Promise.all([outcome(s.request({ url: '/api/profile' })), outcome(s.ensure())]).then(function (rs) {
        return [sent.indexOf('tok-1') < 0 && !(rs[1].ok && rs[1].value.token === 'tok-1'), 'sent with ' + JSON.stringify(sent) + ', request ' + show(rs[0]) + ', ensure ' + show(rs[1])];
      });
    },
    'one throwing setTimeout: no INTERNAL': function () {
      var fake = createWx({ schedule: 2, respond: function (o) { return /\\/api\\/hang/.test(o.url) ? null : undefined; } });
      var a = session(fake, { retries: 0 });
      var b = session(fake, { storageKey: 'b' });
      return Promise.all([a.ensure(), b.ensure()]).then(function () {
        var inflight = outcome(a.request({ url: '/api/hang', timeout: 1000 }), 3000);
        var inner = setTimeout;
        var once = true;
        // (Only the SDK's timer for B's 100 ms deadline throws: the fake platform's own 2 ms
        // timers share this global here.)
        setTimeout = function (fn, ms) { if (once && ms > 50 && ms <= 100) { once = false; throw new Error('setTimeout: too many timers'); } return inner.apply(this, arguments); };
        var r = outcome(b.request({ url: '/api/ok', timeout: 100 }), 3000);
        return Promise.all([inflight, r]).then(function (rs) { setTimeout = inner; rs.push(once); return rs; });
      }).then(function (rs) { return [!rs[2] && rs[0].code !== 'INTERNAL' && rs[1].code !== 'INTERNAL', 'A in flight ' + show(rs[0]) + ', B ' + show(rs[1]) + (rs[2] ? ' (the SDK set no timer)' : '')]; });
    },
    'a call near the stack limit on session B: session A\\'s login settles, and A works afterwards': function () {
      var fake = createWx({ schedule: 2 });
      var b = session(fake, {});
      return b.ensure().then(function () {
        fake.holdLogin();
        var a = session(fake, { retries: 0, storageKey: 'a' });
        var held = outcome(a.ensure(), 6000);
        return later(20).then(function () {
          var stop = false, made = 0, threw = 0;
          function down(n) {
            try { down(n + 1); } catch (e) {}
            if (stop) return;
            try { b.request({ url: '/api/ok' }); made++; } catch (e) { threw++; }
            if (b.token() !== 'tok-1' || made + threw > 3000) stop = true;
          }
          down(0);
          fake.releaseLogin();
          // (INTERNAL when the stack ran out inside the core, which then stopped: see the V8 test.)
          return held.then(function (r) {
            return outcome(a.ensure()).then(function (again) {
              var settled = r.ok || (r.code === 'INTERNAL' && /instance stopped/.test(r.message));
              return [settled && again.ok, 'A\\'s login ' + show(r) + ', then ' + show(again) + ' (' + made + ' deep calls, ' + threw + ' threw at once)'];
            });
          });
        });
      });
    },
    'a session used through destructured methods keeps its token after a collection': function () {
      if (typeof gc !== 'function' || typeof FinalizationRegistry !== 'function') return Promise.resolve([true, 'no gc() or FinalizationRegistry here']);
      var fake = createWx({ schedule: 2 });
      var m = (function () { var s = session(fake, {}); return { ensure: s.ensure, token: s.token }; })();
      return m.ensure().then(function () {
        var i = 0;
        function loop() { gc(); i++; return later(20).then(function () { return i < 10 ? loop() : null; }); }
        return loop();
      }).then(function () { return [m.token() === 'tok-1', 'token() ' + m.token()]; });
    },
    'a success answer whose then getter says undefined once settles': function () {
      var fake = createWx({ schedule: 2, respond: function (o) {
        if (!/\\/api\\/thenable/.test(o.url)) return undefined;
        var reads = 0;
        var answer = { statusCode: 200, data: {} };
        Object.defineProperty(answer, 'then', { enumerable: true, get: function () { reads++; return reads === 1 ? undefined : function () {}; } });
        return answer;
      } });
      var s = session(fake, {});
      return s.ensure().then(function () { return outcome(s.request({ url: '/api/thenable' }), 3000); })
        .then(function (r) { return [!r.hang, 'the request ' + show(r)]; });
    },
    'one Date.now() reading of 2^53: a 300 ms request still times out': function () {
      var fake = createWx({ schedule: 2, respond: function (o) { return /\\/api\\/hang/.test(o.url) ? null : undefined; } });
      var s = session(fake, { retries: 0 });
      var inner = setTimeout;
      var zero = 0;
      return s.ensure().then(function () {
        var realNow = Date.now;
        var once = true;
        Date.now = function () { if (once) { once = false; return Math.pow(2, 53); } return realNow.call(Date); };
        s.token();
        Date.now = realNow;
        // (This shell's timer queue runs due timers in one loop: a timer re-armed at 0 ms for
        // ever would never let it return. Past 200 of them, they are dropped and counted.)
        setTimeout = function (fn, ms) { if (!(ms > 0) && ++zero > 200) return 0; return inner.apply(this, arguments); };
        return outcome(s.request({ url: '/api/hang', timeout: 300 }), 2500);
      }).then(function (r) {
        setTimeout = inner;
        return [r.code === 'TIMEOUT', 'the request ' + show(r) + ' (' + zero + ' timers of 0 ms)'];
      });
    },
  };
  var chain = Promise.resolve();
  Object.keys(cases).forEach(function (name) {
    if (only && only.indexOf(name) < 0) return;
    chain = chain.then(function () { return cases[name](); }).then(function (v) { results.push({ name: name, ok: v[0], detail: v[1] }); }, function (e) { results.push({ name: name, ok: false, detail: 'threw ' + e }); });
  });
  return chain.then(function () { return results; });
}
module.exports = { run: run };
`;

const scenarioFile = (() => {
  let file = null;
  return () => {
    if (!file) {
      file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'wx-session-review-')), 'review-scenarios.js');
      fs.writeFileSync(file, JSC_SCENARIOS);
    }
    return file;
  };
})();

// One jsc process per case: a case that wedges the instance must not decide the next one.
const JSC_CASES = [
  'logout() from the "ready" listener: the waiting request is not sent with the logged-out token',
  'one throwing setTimeout: no INTERNAL',
  'a call near the stack limit on session B: session A\'s login settles, and A works afterwards',
  'a session used through destructured methods keeps its token after a collection',
  'a success answer whose then getter says undefined once settles',
  'one Date.now() reading of 2^53: a 300 ms request still times out',
];

for (const build of BUILDS) {
  const wasmPath = build.js ? undefined : '/wx_session_bg.wasm';
  for (const [engine, env] of [['JavaScriptCore', {}], ['JavaScriptCore without JIT (as on iPhone)', NO_JIT]]) {
    for (const name of JSC_CASES) {
      test(`${build.name} on ${engine}: ${name}`, { skip: JSC ? false : JSC_MISSING }, () => {
        const results = runJsc({
          files: { sdk: path.join(build.dist, 'index.js'), '../fakes/wx': FAKE_WX, review: scenarioFile() },
          packageFiles: build.js ? {} : { '/wx_session_bg.wasm': PLAIN_WASM },
          noWebAssemblyLoader: build.js,
          main: `
            __require('review').run(__require('sdk'), ${JSON.stringify(wasmPath)}, ${JSON.stringify([name])}).then(function (results) {
              print('RESULT ' + JSON.stringify(results));
              quit();
            }, function (e) { print('RESULT ' + JSON.stringify([{ name: 'the scenario ran', ok: false, detail: String(e) }])); quit(); });
          `,
        }, { env, timeout: 60000 });
        assert.equal(results.length, 1, JSON.stringify(results));
        assert.ok(results[0].ok, results[0].detail);
      });
    }
  }
}
