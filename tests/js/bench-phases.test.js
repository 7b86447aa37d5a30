// The bench's --verbose breakdown (tests/bench/phases.js) charges time to the core by wrapping
// the exports createInstance receives. It finds that function in the built bundles by its shape,
// so a change to the glue can silently leave the core's column at 0.0 (it did once): this holds
// the shape to both builds.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const { patchBundle } = require('../bench/phases.js');

const ROOT = path.join(__dirname, '..', '..');

for (const file of ['js-glue/dist/index.js', 'js-glue/dist-js/index.js']) {
  test(`the bench's breakdown finds createInstance in ${file} and wraps its exports`, () => {
    const source = fs.readFileSync(path.join(ROOT, file), 'utf8');
    const copy = patchBundle(source);
    assert.ok(copy, 'createInstance not found');
    assert.equal(copy.split('__benchExports(').length - 1, 1);
    assert.match(copy, /function\s*\((\w+)\)\s*\{\1=__benchExports\(\1\);/);
  });
}

test("the bench's breakdown leaves a bundle without createInstance alone", () => {
  assert.equal(patchBundle('module.exports = function (o) { return o.memory; };'), null);
});
