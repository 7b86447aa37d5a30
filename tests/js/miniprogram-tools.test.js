// Tencent's own tools on the demo and the SDK: wcc/wcsc compile every .wxml/.wxss,
// miniprogram-simulate renders the index page, tsc --strict checks the typings against the
// official wx typings, and the package works the way DevTools' 构建npm lays it out.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');
const { wxmlToJs, wxssToJs } = require('miniprogram-compiler');

// The compilers' output and miniprogram-simulate expect a browser's globals (a webview in
// DevTools): this test file runs with jsdom's.
const { JSDOM } = require('jsdom');
const dom = new JSDOM('<!doctype html><html><head></head><body></body></html>');
for (const key of ['window', 'document', 'navigator', 'Node', 'Element', 'HTMLElement', 'Event', 'CustomEvent', 'MutationObserver']) {
  Object.defineProperty(global, key, { value: key === 'window' ? dom.window : dom.window[key], configurable: true, writable: true });
}

const ROOT = path.join(__dirname, '..', '..');
const MINIPROGRAM = path.join(ROOT, 'demo-miniprogram', 'miniprogram');

function filesUnder(dir, ext) {
  return fs.readdirSync(dir, { recursive: true }).filter((f) => f.endsWith(ext)).map((f) => f.split(path.sep).join('/'));
}

test('wcc compiles every demo .wxml', () => {
  const files = filesUnder(MINIPROGRAM, '.wxml');
  assert.ok(files.length >= 1);
  const $gwx = new Function('global', wxmlToJs(MINIPROGRAM, { wxmlList: files }))({});
  for (const file of files) assert.equal(typeof $gwx(file), 'function', file);
});

test('wcsc compiles every demo .wxss', () => {
  const files = filesUnder(MINIPROGRAM, '.wxss');
  assert.ok(files.length >= 2, files.join(', '));
  const styles = new Function('global', wxssToJs(MINIPROGRAM, { wxssList: files }))({});
  for (const file of files) assert.ok(styles(file), file);
});

test('a broken tag or stylesheet fails the compilers', () => {
  const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'wx-session-broken-'));
  fs.cpSync(MINIPROGRAM, copy, { recursive: true });
  const wxml = path.join(copy, 'pages', 'index', 'index.wxml');
  fs.writeFileSync(wxml, fs.readFileSync(wxml, 'utf8').replace('</text>', '</txt>'));
  assert.throws(() => wxmlToJs(copy), /expect end-tag/);
  const wxss = path.join(copy, 'app.wxss');
  fs.writeFileSync(wxss, 'page { color: red');
  assert.throws(() => wxssToJs(copy, { wxssList: ['app.wxss'] }));
});

test('miniprogram-simulate renders the index page through the session states and a tap', async () => {
  const simulate = require('miniprogram-simulate');

  // A session the test drives by hand.
  let listener;
  let resolveEnsure;
  let rejectEnsure;
  const requests = [];
  const session = {
    onChange(cb) { listener = cb; return () => { listener = undefined; }; },
    ensure: () => new Promise((resolve, reject) => { resolveEnsure = resolve; rejectEnsure = reject; }),
    request: (options) => new Promise((resolve) => requests.push({ options, resolve })),
    logout: () => Promise.resolve(),
  };
  global.getApp = () => ({ session });

  const page = simulate.render(simulate.load(path.join(MINIPROGRAM, 'pages', 'index', 'index')));
  page.attach(document.createElement('parent-wrapper'));
  const text = (selector) => page.querySelector(selector).dom.textContent.trim();

  page.instance.onLoad();
  assert.equal(text('.state-text'), '未登录');
  listener('logging-in');
  await simulate.sleep(0);
  assert.equal(text('.state-text'), '登录中…');
  assert.match(page.dom.innerHTML, /请求中…/, 'the onLoad request shows as in flight');

  listener('ready');
  resolveEnsure({ token: 'abcdef0123456789', source: 'login' });
  requests.shift().resolve({ statusCode: 200, data: { nickname: '微信用户', openid: 'o-1' } });
  await simulate.sleep(10);
  assert.equal(text('.state-text'), '已登录');
  assert.match(page.dom.textContent, /abcd\*\*\*\*89/, 'token masked');
  assert.doesNotMatch(page.dom.textContent, /abcdef0123456789/);
  assert.match(page.dom.textContent, /本次登录/);
  assert.match(page.dom.textContent, /微信用户 \(o-1\)/);

  page.querySelector('.btn-primary').dispatchEvent('tap');
  await simulate.sleep(0);
  assert.equal(requests.length, 1, 'the tap called the protected API');
  assert.equal(requests[0].options.url, '/api/profile');
  requests.shift().resolve({ statusCode: 200, data: { nickname: '另一个用户', openid: 'o-2' } });
  await simulate.sleep(10);
  assert.match(page.dom.textContent, /另一个用户 \(o-2\)/);

  listener('failed', Object.assign(new Error('wx.login failed: auth deny'), { code: 'WX_LOGIN_FAILED' }));
  page.instance.showSession();
  rejectEnsure(Object.assign(new Error('wx.login failed: auth deny'), { code: 'WX_LOGIN_FAILED' }));
  await simulate.sleep(10);
  assert.equal(text('.state-text'), '登录失败');
  assert.match(text('.error'), /WX_LOGIN_FAILED: wx.login failed: auth deny/);
  assert.match(page.querySelector('.error').dom.innerHTML, /重试/, 'a retry button');
});

test('index.d.ts type-checks with tsc --strict against miniprogram-api-typings', () => {
  const tsc = path.join(ROOT, 'tests', 'node_modules', 'typescript', 'bin', 'tsc');
  const result = (() => {
    try {
      return execFileSync(process.execPath, [tsc, '-p', path.join(ROOT, 'tests', 'types')], { encoding: 'utf8' });
    } catch (error) {
      return `FAILED\n${error.stdout}${error.stderr}`;
    }
  })();
  assert.equal(result, '', result);
});

test('error codes agree across Rust, the typings and the README', () => {
  const rust = [...fs.readFileSync(path.join(ROOT, 'src', 'error.rs'), 'utf8').matchAll(/=> "([A-Z_]+)"/g)].map((m) => m[1]);
  const dts = [...fs.readFileSync(path.join(ROOT, 'js-glue', 'src', 'index.d.ts'), 'utf8').match(/export type ErrorCode =([^;]+);/)[1].matchAll(/'([A-Z_]+)'/g)].map((m) => m[1]);
  // The README's error table (headed `| code |`): other tables may list constants too (the API's DEFAULT_WASM_PATH).
  const lines = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8').split('\n');
  const at = lines.findIndex((l) => /^\| code \|/.test(l));
  const readme = [];
  for (let i = at + 2; at >= 0 && i < lines.length && lines[i].startsWith('|'); i++) readme.push(/^\| `([A-Z_]+)` \|/.exec(lines[i])[1]);
  const jsOnly = ['WASM_LOAD', 'INTERNAL'];
  assert.deepEqual([...dts].sort(), [...rust, ...jsOnly].sort());
  assert.deepEqual([...readme].sort(), [...dts].sort());
});
