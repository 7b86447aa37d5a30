// The glue's UTF-8 codec (the mini-program runtime has no TextEncoder/TextDecoder), checked
// against Node's, including what the platform's own codec does with lone surrogates.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');

let utf8;
test.before(async () => {
  utf8 = await import('../../js-glue/src/utf8.js');
});

const SAMPLES = ['', 'token', 'https://api.test/api/profile?x=1', '微信用户', 'é', '€', '😀 emoji', 'a\u0000b', '\ud800', 'x\udc00y', '\ud83d', 'z'.repeat(10000) + '中'];

function encode(text) {
  const bytes = new Uint8Array(text.length * 3);
  return bytes.subarray(0, utf8.encodeInto(text, bytes, 0));
}

test('encoding matches TextEncoder, lone surrogates included', () => {
  for (const text of SAMPLES) assert.deepEqual(Buffer.from(encode(text)), Buffer.from(new TextEncoder().encode(text)), JSON.stringify(text.slice(0, 20)));
});

test('decoding round-trips and matches TextDecoder', () => {
  for (const text of SAMPLES) {
    const bytes = encode(text);
    assert.equal(utf8.decode(bytes, 0, bytes.length), new TextDecoder().decode(bytes));
  }
});

test('decoding reads only the given range', () => {
  const bytes = encode('abc微信def');
  assert.equal(utf8.decode(bytes, 3, 6), '微信');
});
