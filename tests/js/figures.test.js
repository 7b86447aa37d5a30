// The figures in README.md and README.zh-CN.md come from their sources: sizes from this build's
// files (js-glue/dist/, js-glue/wasm/, js-glue/dist-js/; the tests run after ./scripts/build.sh),
// bench figures from tests/bench/results.json (one saved run of ./scripts/bench.sh --save). Each
// sits in a marked place that scripts/figures.js writes; this test fails when a manual differs from
// what the script would write, and when a size or timing is typed outside those places (except
// the quantities listed below, which are facts of platforms or of the code, not of a build).
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');
const figures = require('../../scripts/figures');

const ROOT = path.join(__dirname, '..', '..');
const MANUALS = ['README.md', 'README.zh-CN.md'];

// Sizes and times a manual may state in its own words: none is measured from a build or a run.
const NOT_BUILD_FIGURES = [
  '1 MB', // a storage key's limit; the bound of data read from JS; an upload answer the rules read
  '10 MB', // WeChat's storage in all
  '2 MB', // the main package's limit
  '200 KB', // an Alipay storage key's limit
  '100 KB', // the size aimed at for the JavaScript build (issue 16)
  '2 KB', // a login code in the fault matrix
  '50 MB', // a stored value in the hostile suite
  '64 KB', // the wasm stack the build sets (-zstack-size=65536)
  '40 KB', // issue 19's target
  '300 ms', // the retry backoff's first step
  '0.3 ms', // 50,000 concurrent requests, measured in 0.2.0 (said so where it stands)
  '8192 bytes', '8192 字节', // the longest token
  '8 字节', // the lowered memory.copy moves 8 bytes at a time (js-glue/build.js)
];
const QUANTITY = /\d[\d,.]*[ \u00a0]?(?:KB|KiB|MB|B|bytes|字节|µs|ms)(?![\w])/g;

// The manual with its marked places taken out.
function unmarked(markdown) {
  return markdown
    .replace(/<!-- figures:[a-z-]+ -->\n[\s\S]*?<!-- \/figures -->/g, '')
    .replace(/<!-- figure:[a-z0-9-]+ -->[^<\n]*<!-- \/figure -->/g, '');
}

// Quantities typed by hand: [line text] of `markdown`'s figures outside the marked places that
// are not in NOT_BUILD_FIGURES.
function typedFigures(markdown) {
  const out = [];
  for (const line of unmarked(markdown).split('\n')) {
    for (const m of line.matchAll(QUANTITY)) {
      if (!NOT_BUILD_FIGURES.includes(m[0].replace('\u00a0', ' '))) out.push(`${m[0]}: ${line.trim().slice(0, 120)}`);
    }
  }
  return out;
}

test('the manuals\' figures are what scripts/figures.js writes from this build and tests/bench/results.json', () => {
  try {
    execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'figures.js'), '--check'], { encoding: 'utf8' });
  } catch (error) {
    assert.fail(`${error.stderr}\nRun: node scripts/figures.js (after ./scripts/build.sh; after a new bench run, ./scripts/bench.sh --save tests/bench/results.json first)`);
  }
});

test('the size figures are this build\'s files, byte for byte', () => {
  const { size } = figures.measure();
  for (const [name, file] of Object.entries(figures.FILES)) assert.equal(size[name], fs.statSync(path.join(ROOT, file)).size, file);
  for (const file of MANUALS) {
    const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
    const shipped = size.wasmBr + size.indexJs;
    assert.ok(text.includes(`**${shipped.toLocaleString('en-US')}**`), `${file} gives the shipped total ${shipped}`);
    assert.ok(text.includes(`<!-- figure:raw-wasm-kb -->${(size.rawWasm / 1024).toFixed(1)} KB<!-- /figure -->`), `${file} gives the raw .wasm`);
  }
});

test('tests/bench/results.json is a saved bench run with every section the manuals quote', () => {
  const bench = JSON.parse(fs.readFileSync(path.join(ROOT, figures.RESULTS), 'utf8'));
  assert.match(bench.command, /bench\.sh .*--save tests\/bench\/results\.json/);
  for (const key of ['cpus', 'cpuModel', 'node', 'jsc']) assert.ok(bench.machine[key], `machine.${key}`);
  for (const run of ['node', 'jscJit', 'jscNoJit']) {
    for (const client of ['hand-written', 'wx-session', 'wx-session/js', 'wafer2', 'flyio']) assert.equal(typeof bench.perRequest[run][client].wall, 'number', `${run} ${client}`);
  }
  for (const engine of ['Node', 'jsc with JIT', 'jsc without JIT']) assert.equal(typeof bench.cold[engine]['wx-session'].total, 'number', engine);
  assert.equal(Object.keys(bench.correctness).length, 2);
  assert.equal(typeof bench.memory['wx-session'].after, 'number');
});

for (const file of MANUALS) {
  test(`${file}: no size or timing is typed outside the generated places`, () => {
    assert.deepEqual(typedFigures(fs.readFileSync(path.join(ROOT, file), 'utf8')), []);
  });
}

test('self-check: a stale figure in a marked place and a typed one outside are each found', () => {
  const measured = figures.measure();
  const fresh = figures.render('shipped <!-- figure:shipped -->1 B<!-- /figure -->, raw <!-- figure:raw-wasm-kb -->62 KB<!-- /figure -->', 'en', measured);
  assert.equal(fresh, `shipped ${measured.size.shipped.toLocaleString('en-US')} B, raw ${(measured.size.rawWasm / 1024).toFixed(1)} KB`.replace(/^shipped /, 'shipped <!-- figure:shipped -->').replace(/ B, raw /, ' B<!-- /figure -->, raw <!-- figure:raw-wasm-kb -->').replace(/ KB$/, ' KB<!-- /figure -->'));
  assert.throws(() => figures.render('<!-- figure:nonsense -->1<!-- /figure -->', 'en', measured), /unknown figure/);
  assert.deepEqual(typedFigures('合计四十 KB 左右，`.wasm.br` 约 25 KB；主包 2 MB'), ['25 KB: 合计四十 KB 左右，`.wasm.br` 约 25 KB；主包 2 MB']);
  // The check itself fails on a manual whose figure is off: a copy of the repository's manuals
  // and sources, one figure changed.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wx-session-figures-'));
  for (const file of [...MANUALS, figures.RESULTS, ...Object.values(figures.FILES)]) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.copyFileSync(path.join(ROOT, file), path.join(dir, file));
  }
  // (Brought up to date first, so the one figure changed below is the only difference.)
  for (const [file, { wanted }] of Object.entries(figures.manuals(dir))) fs.writeFileSync(path.join(dir, file), wanted);
  const readme = path.join(dir, 'README.md');
  fs.writeFileSync(readme, fs.readFileSync(readme, 'utf8').replace(/<!-- figure:shipped-kb -->[^<]*<!-- \/figure -->/, '<!-- figure:shipped-kb -->44 KB<!-- /figure -->'));
  const stale = figures.manuals(dir);
  assert.notEqual(stale['README.md'].now, stale['README.md'].wanted);
  assert.equal(stale['README.zh-CN.md'].now, stale['README.zh-CN.md'].wanted);
  assert.match(figures.firstDifference(stale['README.md'].now, stale['README.md'].wanted), /44 KB/);
});
