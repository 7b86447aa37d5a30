// Numbers at the edges through the shipped builds (the wasm one and the JavaScript one), against
// the table in tests/fixtures/edge-numbers.json, which tests/edge_numbers.rs holds the native core
// to: what a float becomes in the shipped core (binaryen's lowering, wasm2js) must be what it is
// natively.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');
const { BUILDS, sdk, outcome, isLogin } = require('../hostile/harness');

const TABLE = require(path.join(__dirname, '..', 'fixtures', 'edge-numbers.json'));

const show = (r) => (r.ok ? `resolved ${JSON.stringify(r.value)}` : `rejected ${r.code}: ${r.error && r.error.message}`);

for (const build of BUILDS) {
  test(`${build.name}: login lifetimes at the edges`, async () => {
    for (const c of TABLE.loginExpiresIn) {
      const t = sdk({ build, respond: (o) => (isLogin(o) ? { statusCode: 200, data: { token: 'tok', expiresIn: c.expiresIn } } : undefined) });
      const r = await outcome(t.create({ retries: 0, login: { expiresInPath: 'expiresIn' } }).ensure());
      const record = t.storage.token;
      const label = JSON.stringify(c);
      if (c.error) {
        assert.equal(r.code, c.error, `${label}: ${show(r)}`);
      } else if (c.expiresAt === 'max') {
        assert.ok(r.ok, `${label}: ${show(r)}`);
        assert.equal(record.expiresAt, TABLE.maxMillis, label);
      } else {
        assert.ok(r.ok, `${label}: ${show(r)}`);
        assert.equal(record.expiresAt - record.obtainedAt, c.lifetimeMs, label);
      }
    }
  });

  test(`${build.name}: stored expiries at the edges`, async () => {
    for (const c of TABLE.storedExpiresAt) {
      const t = sdk({ build });
      t.storage.token = { v: 1, token: 'tok-0', expiresAt: c.expiresAt, obtainedAt: Date.now() - 1000 };
      t.fake.accept('tok-0');
      const r = await outcome(t.create({ check: { url: '/auth', policy: 'when-unknown' } }).ensure());
      const label = JSON.stringify(c);
      assert.ok(r.ok, `${label}: ${show(r)}`);
      const checked = t.fake.sentTo('/auth').length;
      // Fresh: used with no network at all; expired: a login; unknown: the server check.
      if (c.fresh === true) assert.deepEqual([r.value.source, t.counts.login, checked], ['storage', 0, 0], label);
      else if (c.fresh === false) assert.deepEqual([r.value.source, t.counts.login, checked], ['login', 1, 0], label);
      else assert.deepEqual([r.value.source, t.counts.login, checked], ['storage', 0, 1], label);
    }
  });

  test(`${build.name}: setToken lifetimes at the edges`, async () => {
    for (const c of TABLE.setTokenExpiresIn) {
      const t = sdk({ build });
      const r = await outcome(t.create().setToken('tok', { expiresIn: c.expiresIn }));
      const label = JSON.stringify(c);
      if (c.error) {
        assert.equal(r.code, c.error, `${label}: ${show(r)}`);
      } else {
        assert.ok(r.ok, `${label}: ${show(r)}`);
        assert.equal(t.storage.token.expiresAt - t.storage.token.obtainedAt, c.lifetimeMs, label);
      }
    }
  });

  test(`${build.name}: request timeouts at the edges`, async () => {
    const t = sdk({ build });
    const s = t.create();
    for (const c of TABLE.requestTimeout) {
      const r = await outcome(s.request({ url: '/api/x', auth: false, timeout: c.timeout }));
      const label = JSON.stringify(c);
      if (c.error) assert.equal(r.code, c.error, `${label}: ${show(r)}`);
      else assert.ok(r.ok, `${label}: ${show(r)}`);
    }
  });
}
