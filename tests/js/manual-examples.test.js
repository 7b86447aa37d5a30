// The manuals' code, as a reader copies it. In README.md and README.zh-CN.md:
//   - every js/ts/tsx block parses (acorn for JavaScript, TypeScript's parser for ts/tsx); a
//     block marked as a fragment is wrapped first, json blocks parse as JSON;
//   - every ts block, and every js block marked `typecheck`, passes `tsc --strict` against
//     js-glue/src/index.d.ts and the official wx typings (miniprogram-api-typings);
//   - the blocks that are whole files of a mini-program (`file: app.js`, `file: pages/…`,
//     `file: moduleB/…`) are put into a package with the built SDK and run in the strict sandbox
//     against the dev server: it logs in, the pages get their data, the phone login and the
//     avatar upload go through, a cancelled picker, a failed upload and a page closed mid-upload
//     end quietly (no unhandled rejection), and the independent-subpackage module works whether
//     the app started in the main package or in the subpackage.
//
// What can stand on the line right before a block's opening fence, ';'-separated:
//   <!-- fragment -->               statements of a function body (await allowed): wrapped in one
//   <!-- fragment: object -->       the inside of an object literal (config keys): wrapped in { }
//   <!-- typecheck -->              a js block that tsc --strict checks too (checkJs)
//   <!-- no typecheck: REASON -->   a ts/tsx block tsc leaves alone, and why
//   <!-- file: PATH -->             the block is that file (of the app, or of the tsc project)
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');
const acorn = require('acorn');
const ts = require('typescript');
const { createRuntime } = require('../sandbox/runtime');
const { startServer } = require('../../demo-miniprogram/dev-server/server');

const ROOT = path.join(__dirname, '..', '..');
const MANUALS = ['README.md', 'README.zh-CN.md'];
const DIST = path.join(ROOT, 'js-glue', 'dist');
const TSC = path.join(ROOT, 'tests', 'node_modules', 'typescript', 'bin', 'tsc');
const CHECKED = new Set(['js', 'javascript', 'ts', 'typescript', 'tsx', 'json']);

// ---------------------------------------------------------------------------------------------
// Extraction

// Every fenced block: { lang, code, line (of the opening fence, 1-based), directives }.
function codeBlocks(markdown) {
  const lines = markdown.split('\n');
  const blocks = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(```+|~~~+)\s*([\w-]*)\s*$/.exec(lines[i]);
    if (!open) continue;
    const [, indent, fence, lang] = open;
    let j = i + 1;
    while (j < lines.length && !(lines[j].startsWith(`${indent}${fence}`) && lines[j].trim() === fence)) j++;
    if (j >= lines.length) throw new Error(`unclosed code block at line ${i + 1}`);
    const code = lines.slice(i + 1, j).map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l)).join('\n');
    blocks.push({ lang: lang.toLowerCase(), code, line: i + 1, directives: directivesBefore(lines[i - 1]) });
    i = j;
  }
  return blocks;
}

// The directives of the comment line before a fence (see the top of this file).
function directivesBefore(line) {
  const out = { fragment: null, typecheck: false, noTypecheck: null, file: null };
  const comment = /^\s*<!--\s*(.*?)\s*-->\s*$/.exec(line || '');
  if (!comment || /^figures?:|^\/figures?$/.test(comment[1])) return out;
  for (const part of comment[1].split(';').map((p) => p.trim()).filter(Boolean)) {
    let m;
    if (part === 'fragment') out.fragment = 'statements';
    else if ((m = /^fragment:\s*(object)$/.exec(part))) out.fragment = m[1];
    else if (part === 'typecheck') out.typecheck = true;
    else if ((m = /^no typecheck:\s*(.+)$/.exec(part))) out.noTypecheck = m[1];
    else if ((m = /^file:\s*(\S+)$/.exec(part))) out.file = m[1];
    else throw new Error(`unknown directive "${part}" in ${line.trim()}`);
  }
  return out;
}

const isTs = (lang) => lang === 'ts' || lang === 'typescript' || lang === 'tsx';

// The text the parser and tsc see: a fragment wrapped so it stands as a file.
function wrapped(block) {
  if (block.directives.fragment === 'object') return block.lang === 'json' ? `{\n${block.code}\n}` : `({\n${block.code}\n});`;
  if (block.directives.fragment === 'statements') return `(async function () {\n${block.code}\n});`;
  return block.code;
}

// null when `block` parses, else the parser's message.
function parseProblem(block) {
  const text = wrapped(block);
  if (block.lang === 'json') {
    try {
      JSON.parse(text);
      return null;
    } catch (e) {
      return e.message;
    }
  }
  if (isTs(block.lang)) {
    const fileName = block.lang === 'tsx' ? 'block.tsx' : 'block.ts';
    const { diagnostics } = ts.transpileModule(text, { fileName, reportDiagnostics: true, compilerOptions: { jsx: ts.JsxEmit.Preserve } });
    return diagnostics.length ? diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')).join('; ') : null;
  }
  const sourceType = /^\s*(import|export)\b/m.test(text) ? 'module' : 'script';
  try {
    acorn.parse(text, { ecmaVersion: 'latest', sourceType });
    return null;
  } catch (e) {
    return e.message;
  }
}

function checkedBlocks(name) {
  return codeBlocks(fs.readFileSync(path.join(ROOT, name), 'utf8')).filter((b) => CHECKED.has(b.lang));
}

// The blocks tsc checks: ts and tsx ones unless marked otherwise, js ones marked `typecheck`.
function typedBlocks(blocks) {
  return blocks.filter((b) => (isTs(b.lang) ? !b.directives.noTypecheck : b.directives.typecheck && b.lang !== 'json'));
}

// tsc --strict over `blocks` as one project (each block a file: its `file:` path, or its own
// name), against the SDK's typings. → [problem], each naming the manual's line.
function typeProblems(name, blocks) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wx-session-manual-types-'));
  const files = new Map(); // project path → block
  blocks.forEach((block, i) => {
    if (block.directives.fragment) throw new Error(`${name}:${block.line}: a fragment cannot be type-checked`);
    const ext = block.lang === 'tsx' ? '.tsx' : isTs(block.lang) ? '.ts' : '.js';
    const file = block.directives.file || `block-${i + 1}${ext}`;
    if (files.has(file)) throw new Error(`${name}:${block.line}: ${file} given twice`);
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), block.code);
    files.set(file, block);
  });
  // Taro declares process.env.TARO_ENV in the project's own types/global.d.ts.
  fs.writeFileSync(path.join(dir, 'taro-env.d.ts'), 'declare const process: { env: { [key: string]: string | undefined } }\n');
  const glue = path.join(ROOT, 'js-glue');
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      strict: true, noEmit: true, allowJs: true, checkJs: true, target: 'ES2020', lib: ['ES2020'],
      module: 'commonjs', moduleResolution: 'node', moduleDetection: 'force', esModuleInterop: true, jsx: 'preserve',
      types: ['miniprogram-api-typings'], typeRoots: [path.join(ROOT, 'tests', 'node_modules')],
      baseUrl: '.',
      paths: {
        'wx-session': [path.join(glue, 'src', 'index.d.ts')],
        'wx-session/js': [path.join(glue, 'src', 'index.d.ts')],
        'wx-session/taro': [path.join(glue, 'taro.d.ts')],
        'wx-session/vite': [path.join(glue, 'vite.d.ts')],
      },
    },
    files: ['taro-env.d.ts', ...files.keys()],
  }));
  try {
    execFileSync(process.execPath, [TSC, '-p', dir], { encoding: 'utf8', cwd: dir });
    return [];
  } catch (error) {
    const out = `${error.stdout || ''}${error.stderr || ''}`;
    return out.split('\n').filter(Boolean).map((l) => {
      const m = /^(.+?)\((\d+),(\d+)\): (.*)$/.exec(l);
      const block = m && files.get(m[1]);
      return block ? `${name}:${block.line + Number(m[2])}: ${m[4]}` : l;
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Parsing and types

for (const name of MANUALS) {
  test(`${name}: every js/ts/json block parses`, () => {
    const blocks = checkedBlocks(name);
    assert.ok(blocks.filter((b) => b.lang !== 'json').length >= 25, `${blocks.length} blocks found: the extractor reads the manual`);
    const problems = blocks.map((b) => [b, parseProblem(b)]).filter(([, p]) => p).map(([b, p]) => `${name}:${b.line} (${b.lang}): ${p}`);
    assert.deepEqual(problems, [], problems.join('\n'));
  });

  test(`${name}: the typed blocks pass tsc --strict against index.d.ts`, () => {
    const typed = typedBlocks(checkedBlocks(name));
    assert.ok(typed.length >= 8, `${typed.length} typed blocks`);
    for (const b of checkedBlocks(name)) {
      if (isTs(b.lang) && b.directives.noTypecheck !== null) assert.ok(b.directives.noTypecheck.length > 3, `${name}:${b.line}: say why it is not type-checked`);
    }
    const problems = typeProblems(name, typed);
    assert.deepEqual(problems, [], problems.join('\n'));
  });
}

test('self-check: a syntax error, a wrong config key and a bad directive are each caught', () => {
  const markdown = [
    '<!-- fragment: object -->',
    '```js',
    'chooseAvatar() {},',
    'onUnload() { upload.abort() }',
    '```',
    '',
    '```js',
    'Page({ chooseAvatar() {} })',
    'onUnload() { upload.abort() }', // the 0.2.0 upload example's mistake: outside any object
    '```',
    '',
    '<!-- typecheck -->',
    '```js',
    "const { createSession } = require('wx-session')",
    "createSession({ baseUrl: 'https://api.example.com', retrys: 2 })",
    '```',
  ].join('\n');
  const blocks = codeBlocks(markdown);
  assert.equal(blocks.length, 3);
  assert.equal(parseProblem(blocks[0]), null, 'methods of an object, wrapped: they parse');
  assert.match(parseProblem(blocks[1]), /Unexpected token/);
  assert.deepEqual(typeProblems('made-up.md', typedBlocks(blocks)).map((p) => p.replace(/ +/g, ' ')), [
    "made-up.md:15: error TS2353: Object literal may only specify known properties, and 'retrys' does not exist in type 'SessionConfig'.",
  ]);
  assert.throws(() => codeBlocks('<!-- fragmnet -->\n```js\nx\n```'), /unknown directive/);
  assert.match(parseProblem({ lang: 'ts', code: 'const x: = 1', directives: directivesBefore('') }), /expected/i);
});

// ---------------------------------------------------------------------------------------------
// Running the examples

// The manual's mini-program files: { 'app.js': code, 'pages/index/index.js': code, … }.
function appFiles(name) {
  const files = {};
  for (const b of codeBlocks(fs.readFileSync(path.join(ROOT, name), 'utf8'))) {
    const file = b.directives.file;
    if (file && b.lang === 'js' && /^(app\.js|pages\/|moduleB\/)/.test(file)) files[file] = b.code;
  }
  return files;
}

// A package: the manual's files, the built SDK where 构建 npm puts it and in the subpackage.
function makePackage(files) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wx-session-manual-app-'));
  for (const [file, code] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), code);
  }
  for (const to of ['miniprogram_npm/wx-session', 'moduleB/libs/wx-session']) fs.cpSync(DIST, path.join(dir, to), { recursive: true });
  const pages = Object.keys(files).filter((f) => f.startsWith('pages/')).map((f) => f.replace(/\.js$/, ''));
  fs.writeFileSync(path.join(dir, 'app.json'), JSON.stringify({ pages, subpackages: [{ root: 'moduleB', pages: [], independent: true }] }));
  return dir;
}

let server;
let origin;
const unhandled = [];
const onUnhandled = (reason) => unhandled.push(reason);

test.before(async () => {
  server = await startServer({ port: 0 });
  origin = `http://127.0.0.1:${server.port}`;
  process.on('unhandledRejection', onUnhandled);
});

test.after(() => {
  process.off('unhandledRejection', onUnhandled);
  return new Promise((resolve) => server.server.close(resolve));
});

// A launch of the manual's app: the sandbox with api.example.com routed to the dev server.
function launch(packageRoot, options = {}) {
  return createRuntime({
    packageRoot,
    devServer: origin,
    hosts: { 'https://api.example.com': origin },
    storageFile: options.storageFile || path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'wx-session-manual-')), 'storage.json'),
    ...options,
  });
}

const toasts = (runtime) => runtime.lines.filter((l) => l.includes('wx.showToast')).map((l) => l.replace(/^.*wx\.showToast /, ''));

for (const name of MANUALS) {
  test(`${name}: the app, its pages and the subpackage module run as copied`, async (t) => {
    const files = appFiles(name);
    for (const f of ['app.js', 'pages/index/index.js', 'pages/phone/phone.js', 'pages/avatar/avatar.js', 'pages/feed/feed.js', 'pages/h5/h5.js', 'moduleB/session.js']) {
      assert.ok(files[f], `${name} has a block marked <!-- file: ${f} -->`);
    }
    const pkg = makePackage(files);
    unhandled.length = 0;

    await t.test('app.js logs in at launch; the index page\'s request waits for it and gets the user', async () => {
      const before = server.backend.stats.logins;
      const runtime = launch(pkg);
      runtime.launchApp();
      const page = runtime.openPage('pages/index/index');
      await runtime.idle();
      assert.equal(runtime.counts.login, 1, 'one wx.login');
      assert.equal(server.backend.stats.logins - before, 1, 'one login request');
      assert.match(page.data.user && page.data.user.openid, /^o-/);
    });

    await t.test('phone login: the code goes with a fresh wx.login; no code (1400001) asks for another way', async () => {
      const runtime = launch(pkg);
      runtime.launchApp();
      const page = runtime.openPage('pages/phone/phone');
      await runtime.idle();
      const phones = server.backend.stats.phoneLogins;
      page.onPhoneLogin({ detail: { code: `phone-${name}-${Date.now()}`, errMsg: 'getPhoneNumber:ok' } });
      await runtime.idle();
      assert.equal(server.backend.stats.phoneLogins - phones, 1);
      assert.equal(runtime.counts.login, 2, 'the launch\'s login and the phone login\'s');
      page.onPhoneLogin({ detail: { errno: 1400001, errMsg: 'getPhoneNumber:fail no quota' } });
      await runtime.idle();
      assert.deepEqual(toasts(runtime).slice(-1), ['"请用其他方式登录"']);
      assert.ok(toasts(runtime).some((t2) => t2.includes('登录成功')), toasts(runtime).join(', '));
    });

    await t.test('avatar: the upload carries the token and shows the answer\'s url', async () => {
      const uploads = server.backend.stats.uploads;
      const runtime = launch(pkg);
      runtime.launchApp();
      const page = runtime.openPage('pages/avatar/avatar');
      runtime.tap(page, 'chooseAvatar');
      await runtime.idle();
      assert.equal(server.backend.stats.uploads - uploads, 1);
      assert.match(page.data.avatar, /^\/avatars\/.+\.png$/);
      assert.deepEqual(toasts(runtime), []);
    });

    await t.test('avatar: a cancelled picker is quiet, a failed upload says so, closing the page aborts', async () => {
      const cancel = launch(pkg, { media: false });
      cancel.launchApp();
      const cancelled = cancel.openPage('pages/avatar/avatar');
      cancel.tap(cancelled, 'chooseAvatar');
      await cancel.idle();
      assert.deepEqual(toasts(cancel), [], 'cancelling the picker is no error');

      const failing = launch(pkg, {
        wx: (wx) => Object.assign(Object.create(wx), {
          uploadFile(call) {
            setTimeout(() => {
              call.fail({ errMsg: 'uploadFile:fail ssl hand shake error' });
              if (call.complete) call.complete();
            }, 0);
            return { abort() {}, onProgressUpdate() {}, offProgressUpdate() {}, onHeadersReceived() {}, offHeadersReceived() {} };
          },
        }),
      });
      failing.launchApp();
      const failed = failing.openPage('pages/avatar/avatar');
      failing.tap(failed, 'chooseAvatar');
      await failing.idle();
      assert.deepEqual(toasts(failing), ['"上传失败：NETWORK"']);
      assert.equal(failed.data.avatar, '');

      const uploads = server.backend.stats.uploads;
      const leaving = launch(pkg);
      leaving.launchApp();
      const left = leaving.openPage('pages/avatar/avatar');
      left.uploadAvatar(leaving.localFile ? await pickedFile(leaving) : '');
      left.onUnload(); // before the login or the upload could finish
      await leaving.idle();
      assert.equal(left.data.avatar, '');
      assert.deepEqual(toasts(leaving), [], 'ABORTED is not shown');
      assert.equal(server.backend.stats.uploads - uploads, 0, 'nothing went out after the abort');
      assert.deepEqual(unhandled.map(String), [], 'no unhandled rejection in any of them');
    });

    await t.test('feed: leaving the page aborts the request quietly', async () => {
      const runtime = launch(pkg);
      runtime.launchApp();
      const page = runtime.openPage('pages/feed/feed');
      page.onUnload();
      await runtime.idle();
      assert.equal(page.data.error, '');
      assert.equal(page.data.feed, null);
    });

    await t.test('web-view: the ticket is asked for with the session, and only the ticket is in the URL', async () => {
      let seen;
      const runtime = launch(pkg, {
        wx: (wx) => Object.assign(Object.create(wx), {
          request(call) {
            if (!String(call.url).endsWith('/api/webview-ticket')) return wx.request(call);
            seen = call;
            setTimeout(() => call.success({ statusCode: 200, data: { ticket: 'one-time ticket' }, header: {} }), 0);
            return { abort() {} };
          },
        }),
      });
      runtime.launchApp();
      const page = runtime.openPage('pages/h5/h5');
      await runtime.idle();
      assert.equal(seen.method, 'POST');
      assert.ok(seen.header && seen.header.token, 'the session\'s token authenticates the ticket request');
      assert.equal(page.data.src, 'https://h5.example.com/sso?ticket=one-time%20ticket');
      assert.ok(!page.data.src.includes(seen.header.token), 'the token is not in the URL');
    });

    await t.test('moduleB/session.js: shares the app\'s session, or makes one when the app is not there yet', async () => {
      const runtime = launch(pkg);
      runtime.launchApp();
      assert.equal(runtime.requireModule('moduleB/session.js'), runtime.getApp().session);

      // Launched in the independent subpackage: no App; getApp({ allowDefault: true }) gives a
      // default object (as WeChat's page describes; the sandbox plays it here).
      const alone = launch(pkg);
      const defaults = {};
      alone.context.getApp = (options) => (options && options.allowDefault ? defaults : undefined);
      const session = alone.requireModule('moduleB/session.js');
      assert.equal(defaults.session, session);
      const { token, source } = await session.ensure();
      assert.equal(source, 'login');
      assert.ok(token);
      assert.ok(alone.lines.some((l) => l.includes('WXWebAssembly.instantiate("/moduleB/libs/wx-session/wx_session_bg.wasm.br")')), 'the subpackage\'s own copy');
      await alone.idle();
    });
  });
}

// A picked image's temp path, as wx.chooseMedia gives it.
function pickedFile(runtime) {
  return new Promise((resolve) => {
    runtime.wx.chooseMedia({ count: 1, success: (res) => resolve(res.tempFiles[0].tempFilePath), fail: () => resolve('') });
  });
}

module.exports = { codeBlocks, directivesBefore, parseProblem, typeProblems, typedBlocks, appFiles };
