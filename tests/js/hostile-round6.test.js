// Hostile review, sixth round: what a hostile app, server or platform can still do to the BUILT
// SDK (js-glue/dist, the wasm build, and js-glue/dist-js, the JavaScript build) through the fifth
// round's fixes: the beforeRequest copy, a hook's own calls into the session, rotated refresh
// tokens. Each case is a minimal reproduction of one finding, asserting what README.md promises.
// Every wait is bounded: a hang is a failing assertion, never a stuck test.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { BUILDS, sdk, outcome, sleep } = require('../hostile/harness');
const fakes = require('../fakes/wx');

const show = (r) => (r.hang ? 'hung' : r.ok ? `resolved ${JSON.stringify(r.value && (r.value.token !== undefined ? r.value.token : r.value.statusCode))}`
  : `rejected ${r.error && r.error.name}/${r.code}: ${String(r.error && r.error.message).slice(0, 160)}`);

for (const build of BUILDS) {
  // ---- beforeRequest -------------------------------------------------------------------------

  test(`${build.name}: a beforeRequest hook that aborts its own call before it returns: nothing is sent (as when it aborts while its Promise is pending)`, async () => {
    const forms = {
      'returns at once': () => undefined,
      'returns a Promise': () => Promise.resolve(),
    };
    for (const [name, form] of Object.entries(forms)) {
      const t = sdk({ build });
      let call = null;
      // The retry after a re-login runs the hook with the call's Promise in hand.
      const s = t.create({ beforeRequest: (o, { attempt }) => { if (attempt === 2) call.abort(); return form(); } });
      assert.equal((await outcome(s.ensure())).ok, true);
      t.fake.revokeAll();
      call = s.request({ url: '/api/order', method: 'POST', data: { sku: 'A1' } });
      const r = await outcome(call);
      assert.equal(r.code, 'ABORTED', `${name}: ${show(r)}`);
      await sleep(20);
      assert.equal(t.fake.sentTo('/api/order').length, 1, `${name}: the aborted POST went out again`);
    }
  });
}

for (const build of BUILDS) {
  test(`${build.name}: a logout while beforeRequest signs an \`auth: false\` request (its Promise pending, or the hook's own): the request carries no token, so it goes out as without a hook`, async () => {
    const forms = {
      'a logout while its Promise is pending': (s) => () => { const signed = sleep(10); s.logout(); return signed; },
      'the hook logs out itself': (s) => () => { s.logout(); },
    };
    for (const [name, form] of Object.entries(forms)) {
      const t = sdk({ build });
      let s = null;
      s = t.create({ beforeRequest: (o) => form(s)(o) });
      assert.equal((await outcome(s.ensure())).ok, true);
      const r = await outcome(s.request({ url: '/public/banners', auth: false }));
      assert.equal(r.ok, true, `${name}: ${show(r)}`);
      assert.equal(t.fake.sentTo('/public/banners').length, 1, name);
    }
  });
}

for (const build of BUILDS) {
  test(`${build.name}: a beforeRequest hook that changes its options' timeout in place and returns a Promise: it has until the call's own time limit, not one the change made`, async () => {
    const changes = {
      'deletes it': (o) => { delete o.timeout; },
      'makes it a string': (o) => { o.timeout = '60000'; },
      'raises it past 2^31 ms': (o) => { o.timeout = 5e9; },
    };
    for (const [name, change] of Object.entries(changes)) {
      const t = sdk({ build });
      const s = t.create({ beforeRequest: (o) => { change(o); return sleep(20).then(() => o); } });
      const r = await outcome(s.request({ url: '/api/x' }));
      assert.equal(r.ok, true, `${name}: ${show(r)}`);
    }
  });
}

for (const build of BUILDS) {
  // ---- error messages ------------------------------------------------------------------------

  test(`${build.name}: a hook's error or a platform's errMsg that echoes the token (BEFORE_REQUEST_FAILED, NETWORK, TIMEOUT): the message never carries it`, async () => {
    const echo = (o) => `token=${o.header && o.header.token}`;
    const cases = {
      'a hook that throws': { beforeRequest: (o) => { throw new Error(`cannot sign ${echo(o)}`); } },
      'a hook that rejects': { beforeRequest: (o) => Promise.reject(`cannot sign ${echo(o)}`) },
      'wx.request failing': { respond: (o) => ({ errMsg: `request:fail bad header ${echo(o)}` }) },
      'wx.request timing out': { respond: (o) => ({ errMsg: `request:fail timeout ${echo(o)}` }) },
    };
    for (const [name, { beforeRequest, respond }] of Object.entries(cases)) {
      const t = sdk({ build, respond: respond && ((o) => (/\/api\//.test(o.url) ? respond(o) : undefined)) });
      const s = t.create({ beforeRequest, retries: 0 });
      const token = (await outcome(s.ensure())).value.token;
      const r = await outcome(s.request({ url: '/api/x' }));
      assert.equal(r.ok, false, `${name}: ${show(r)}`);
      assert.equal(r.error.name, 'WxSessionError', `${name}: ${show(r)}`);
      assert.ok(!String(r.error.message).includes(token), `${name}: ${show(r)}`);
      assert.match(r.error.message, /token=…/, `${name}: the rest of the message stays`);
    }
  });
}

for (const build of BUILDS) {
  test(`${build.name}: a storage write failing with an error that echoes the record (STORAGE, told through onChange): the message never carries the token`, async () => {
    const t = sdk({ build });
    t.wx.setStorageSync = (key, value) => { throw new Error(`setStorageSync:fail exceed quota ${JSON.stringify(value)}`); };
    const s = t.create({});
    const told = [];
    s.onChange((state, error) => { if (error) told.push(error); });
    const r = await outcome(s.ensure());
    assert.equal(r.ok, true, show(r));
    await sleep(20);
    const storage = told.filter((e) => e.code === 'STORAGE');
    assert.equal(storage.length, 1, told.map((e) => e.code).join());
    assert.ok(!storage[0].message.includes(r.value.token), storage[0].message);
  });
}

for (const build of BUILDS) {
  test(`${build.name}: a message that echoes the token across its 1,000th character (a hook's error, a platform's errMsg): no part of the token is left where the message is cut`, async () => {
    // Each message has the token at characters 990–1029: the glue's cut at 1,000 would split it.
    const token = `S3cr3t${'a'.repeat(34)}`;
    const cases = {
      'a hook that throws': { beforeRequest: (o) => { throw new Error(`${'x'.repeat(985)} key=${o.header.token} end`); } },
      'wx.request failing': { respond: (o) => ({ errMsg: `request:fail ${'x'.repeat(972)} key=${o.header.token} end` }) },
    };
    for (const [name, { beforeRequest, respond }] of Object.entries(cases)) {
      const t = sdk({ build, respond: respond && ((o) => (/\/api\//.test(o.url) ? respond(o) : undefined)) });
      const s = t.create({ beforeRequest, retries: 0 });
      assert.equal((await outcome(s.setToken(token))).ok, true);
      const r = await outcome(s.request({ url: '/api/x' }));
      assert.equal(r.ok, false, `${name}: ${show(r)}`);
      assert.ok(!r.error.message.includes(token.slice(0, 6)), `${name}: …${r.error.message.slice(-60)}`);
      assert.ok(r.error.message.length <= 1100, `${name}: the message is still cut (${r.error.message.length} characters)`);
    }
  });
}

for (const build of BUILDS) {
  test(`${build.name} on Douyin: login.anonymous 'force' and a user who takes longer than timeoutMs in Douyin's login screen: one screen, logged in (the wait is authWaitMs)`, async () => {
    const t = sdk({ build });
    // (Douyin's loader: the sandbox's WXWebAssembly stands for TTWebAssembly, a package path too.)
    if (!build.js) t.runtime.context.TTWebAssembly = t.runtime.context.WXWebAssembly;
    const tt = fakes.createTt({ schedule: 2, loggedIn: false, loginUiMs: 700 });
    const s = t.create({ platform: 'douyin', wx: tt.tt, timeoutMs: 200, login: { anonymous: 'force' } });
    const r = await outcome(s.ensure(), 5000);
    assert.equal(r.ok, true, show(r));
    assert.equal(tt.counts.loginUi, 1, `Douyin's login screen opened ${tt.counts.loginUi} times`);
  });
}
