// The glue's own UTF-8 codec must agree with the platform's wherever the platform has one.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const codec = require('../../js-glue/src/text-codec');

const samples = [
  '', 'token', '微信用户', 'emoji 😀👍🏽', 'mixed ascii 中文 and 𝒳', '\u0000\u007f\u0080\u07ff\u0800\uffff',
  'lone high \ud800 here', 'lone low \udc00 here', 'x'.repeat(10000) + '尾',
];

test('encode matches the platform TextEncoder', () => {
  for (const text of samples) {
    assert.deepEqual(Array.from(new codec.TextEncoder().encode(text)), Array.from(new TextEncoder().encode(text)), text.slice(0, 20));
  }
});

test('decode matches the platform TextDecoder, including malformed bytes', () => {
  const byteSamples = samples.map((t) => new TextEncoder().encode(t)).concat([
    new Uint8Array([0xff, 0x41]), new Uint8Array([0xe4, 0xb8]), new Uint8Array([0xc0, 0x80]),
    new Uint8Array([0xed, 0xa0, 0x80]), new Uint8Array([0xf4, 0x90, 0x80, 0x80]), new Uint8Array([0xe4, 0x41, 0x42]),
  ]);
  const platform = new TextDecoder('utf-8', { ignoreBOM: true });
  for (const bytes of byteSamples) {
    assert.equal(new codec.TextDecoder().decode(bytes), platform.decode(bytes), Array.from(bytes.slice(0, 8)).join(','));
  }
  assert.equal(new codec.TextDecoder().decode(), '');
});

test('encodeInto stops before a character that does not fit', () => {
  const view = new Uint8Array(4);
  const result = new codec.TextEncoder().encodeInto('ab中', view);
  assert.deepEqual(result, { read: 2, written: 2 });
  const full = new Uint8Array(16);
  assert.deepEqual(new codec.TextEncoder().encodeInto('ab中😀', full), new TextEncoder().encodeInto('ab中😀', new Uint8Array(16)));
});
