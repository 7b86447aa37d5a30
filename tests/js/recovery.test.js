// Trap recovery: if the wasm instance traps anyway, the calls in flight fail with INTERNAL,
// onChange hears it, and the next call starts a fresh instance that carries on from storage.
// The trap is real: the test swaps one export of the shipped module for `unreachable`.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { createRuntime } = require('../sandbox/runtime');
const { createWx } = require('../fakes/wx');
const { trappingWasm } = require('../hostile/harness');

const DIST = path.join(__dirname, '..', '..', 'js-glue', 'dist');
const PLAIN = path.join(__dirname, '..', '..', 'js-glue', 'wasm', 'wx_session_bg.wasm');

test('a trap fails the calls in flight with INTERNAL, and the next call recovers from storage', async () => {
  const pkg = fs.mkdtempSync(path.join(os.tmpdir(), 'wx-session-trap-'));
  fs.copyFileSync(path.join(DIST, 'index.js'), path.join(pkg, 'index.js'));
  fs.writeFileSync(path.join(pkg, 'wx_session_bg.wasm'), await trappingWasm());

  const fake = createWx();
  const runtime = createRuntime({ packageRoot: pkg, devServer: 'http://127.0.0.1:9', wx: () => fake.wx, log: () => {} });
  let instances = 0;
  const instantiate = runtime.context.WXWebAssembly.instantiate;
  runtime.context.WXWebAssembly.instantiate = (p, imports) => {
    instances++;
    return instantiate(p, imports);
  };
  const { createSession } = runtime.requireModule('index.js');
  const config = { baseUrl: 'https://api.test', wasmPath: '/wx_session_bg.wasm', useCheckSession: false };
  // A good token in storage: the fresh instance must pick it up.
  fake.accept('stored-tok');
  fake.storage.token = { v: 1, token: 'stored-tok', expiresAt: null, obtainedAt: 1 };

  const a = createSession(config);
  const b = createSession(config); // the same instance: it dies too
  const heard = { a: [], b: [] };
  a.onChange((state, error) => heard.a.push(`${state}${error ? `:${error.code}` : ''}`));
  b.onChange((state, error) => heard.b.push(`${state}${error ? `:${error.code}` : ''}`));
  assert.equal((await a.ensure()).source, 'storage', 'no HTTP yet: no trap');

  const inFlight = await Promise.allSettled([a.request({ url: '/api/profile' }), a.request({ url: '/api/profile' }), b.request({ url: '/api/profile' })]);
  assert.deepEqual(inFlight.map((r) => r.status), ['rejected', 'rejected', 'rejected']);
  for (const r of inFlight) {
    assert.equal(r.reason.code, 'INTERNAL');
    assert.equal(r.reason.name, 'WxSessionError');
    assert.ok(!String(r.reason.message).includes('stored-tok'));
  }
  assert.ok(heard.a.includes('failed:INTERNAL') && heard.b.includes('failed:INTERNAL'), JSON.stringify(heard));

  // The file is fixed (an update): the next calls start a fresh instance and carry on.
  fs.copyFileSync(PLAIN, path.join(pkg, 'wx_session_bg.wasm'));
  const again = await a.ensure();
  assert.deepEqual({ ...again }, { token: 'stored-tok', source: 'storage' }, 'from storage, no new login');
  assert.equal((await a.request({ url: '/api/profile' })).statusCode, 200);
  assert.equal((await b.request({ url: '/api/profile' })).statusCode, 200);
  assert.equal(fake.counts.login, 0, 'nobody logged in again');
  assert.equal(instances, 2, 'one instance before the trap, one fresh one after, shared by both sessions');
});
