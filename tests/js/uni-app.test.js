// uni-app as a user sets it up (tests/frameworks/uni-app): the stock Vue 3 + Vite project, the
// SDK's npm tarball installed, `wxSession()` from 'wx-session/vite' beside `uni()` in
// vite.config.js, a src/session.js creating the one session with no wasmPath, and a page
// requesting through it. Built with uni's own CLI (`uni build -p mp-weixin`, and the watching
// `uni -p mp-weixin`), each output runs in the strict sandbox against the dev server: the first
// launch logs in and the page's request carries the token.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');
const { startServer } = require('../../demo-miniprogram/dev-server/server');
const h = require('../frameworks/harness');

const ROOT = path.join(__dirname, '..', '..');
const PROJECT = h.projectDir('uni-app');
const BUILD_OUTPUT = path.join(PROJECT, 'dist', 'build', 'mp-weixin');
const DEV_OUTPUT = path.join(PROJECT, 'dist', 'dev', 'mp-weixin');
const MISSING = h.missingInstall('uni-app');
if (MISSING) {
  process.stderr.write(`\n!!!!!!!!!! ${MISSING} !!!!!!!!!!\n\n`);
  // In CI the framework builds are required: a skipped run must not pass silently.
  if (process.env.CI) test('the uni-app project is installed (required in CI)', () => assert.fail(MISSING));
}
const skip = MISSING || false;

let server;
let origin;
let sdk; // node_modules/wx-session of the project

test.before(async () => {
  if (skip) return;
  server = await startServer({ port: 0 });
  origin = `http://127.0.0.1:${server.port}`;
  sdk = h.installSdk('uni-app');
});
test.after(() => server && server.server.close());

const freshStorage = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'wx-session-uni-')), 'storage.json');

test('the project adds only the plugin line, a session module without wasmPath and a page using it', { skip }, () => {
  const config = fs.readFileSync(path.join(PROJECT, 'vite.config.js'), 'utf8');
  assert.match(config, /^import wxSession from 'wx-session\/vite'$/m);
  assert.match(config, /plugins: \[\s*uni\(\),\s*wxSession\(\),\s*\]/);
  const session = fs.readFileSync(path.join(PROJECT, 'src', 'session.js'), 'utf8');
  assert.match(session, /export const session = createSession\(\{ baseUrl: '[^']+' \}\)/);
  assert.doesNotMatch(session + config, /wasmPath/);
  assert.ok(!fs.existsSync(path.join(PROJECT, 'src', 'static', 'wx-session')), 'no copy under static/');
  assert.match(fs.readFileSync(path.join(PROJECT, 'src', 'pages', 'index', 'index.vue'), 'utf8'), /from '\.\.\/\.\.\/session'/);
});

test('uni build -p mp-weixin puts the package\'s wasm where the default wasmPath points, and only there', { skip }, () => {
  fs.rmSync(BUILD_OUTPUT, { recursive: true, force: true });
  h.runCli('uni-app', 'uni', ['build', '-p', 'mp-weixin']);
  const wasmFiles = h.listFiles(BUILD_OUTPUT).filter((f) => /\.wasm(\.br)?$/.test(f));
  assert.deepEqual(wasmFiles, [h.WASM_IN_OUTPUT]);
  assert.ok(fs.readFileSync(path.join(BUILD_OUTPUT, h.WASM_IN_OUTPUT)).equals(fs.readFileSync(path.join(sdk, 'dist', 'wx_session_bg.wasm.br'))), 'the package\'s bytes');
});

test('the mp-weixin build: the first launch logs in and the page\'s request carries the token; a relaunch reuses it', { skip }, async () => {
  assert.ok(fs.existsSync(path.join(BUILD_OUTPUT, 'app.js')), 'built by the test above');
  const storageFile = freshStorage();
  let before = { ...server.backend.stats };
  h.assertSessionFlow({ ...(await h.launchBuilt({ packageRoot: BUILD_OUTPUT, origin, storageFile })), backend: server.backend, before });
  before = { ...server.backend.stats };
  h.assertSessionFlow({ ...(await h.launchBuilt({ packageRoot: BUILD_OUTPUT, origin, storageFile })), backend: server.backend, before, relaunch: true });
});

test('uni -p mp-weixin (watching): the dev build logs in too, and each rebuild places the wasm again, an upgraded one included', { skip }, async (t) => {
  fs.rmSync(DEV_OUTPUT, { recursive: true, force: true });
  const wasmOut = path.join(DEV_OUTPUT, h.WASM_IN_OUTPUT);
  const wasmIn = path.join(sdk, 'dist', 'wx_session_bg.wasm.br');
  const shipped = fs.readFileSync(wasmIn);
  const watch = h.startWatch('uni-app', 'uni', ['-p', 'mp-weixin']);
  t.after(() => {
    watch.stop();
    fs.writeFileSync(wasmIn, shipped);
  });
  await watch.waitFor(() => /Watching for changes/.test(watch.output()), 'first watch build');
  assert.ok(fs.existsSync(wasmOut), `the first watch build placed the wasm:\n${watch.output().slice(-2000)}`);
  const before = { ...server.backend.stats };
  h.assertSessionFlow({ ...(await h.launchBuilt({ packageRoot: DEV_OUTPUT, origin, storageFile: freshStorage() })), backend: server.backend, before });

  // An edit rebuilds; the wasm comes back even if something removed it from the output.
  const edit = () => {
    const now = new Date();
    fs.utimesSync(path.join(PROJECT, 'src', 'session.js'), now, now);
  };
  fs.rmSync(wasmOut);
  edit();
  await watch.waitFor(() => fs.existsSync(wasmOut), 'the wasm after an edit', 60_000);

  // Vite's watcher ignores node_modules, so an upgraded package shows at the next rebuild.
  const upgraded = Buffer.concat([shipped, Buffer.from('upgraded')]);
  fs.writeFileSync(wasmIn, upgraded);
  edit();
  await watch.waitFor(() => fs.existsSync(wasmOut) && fs.readFileSync(wasmOut).equals(upgraded), 'the upgraded wasm after an edit', 60_000);
});

test('vite.d.ts: `plugins: [uni(), wxSession()]` type-checks with tsc --strict against Vite\'s defineConfig', { skip }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wx-session-vite-types-'));
  fs.symlinkSync(path.join(PROJECT, 'node_modules'), path.join(dir, 'node_modules'));
  fs.writeFileSync(path.join(dir, 'vite.config.ts'), [
    "import { defineConfig } from 'vite'",
    "import uni from '@dcloudio/vite-plugin-uni'",
    "import wxSession from 'wx-session/vite'",
    'export default defineConfig({ plugins: [uni(), wxSession()] })',
  ].join('\n'));
  const tsc = path.join(ROOT, 'tests', 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    execFileSync(process.execPath, [tsc, '--noEmit', '--strict', '--esModuleInterop', '--module', 'esnext', '--moduleResolution', 'bundler', '--target', 'es2020', '--skipLibCheck', 'vite.config.ts'], { cwd: dir, encoding: 'utf8' });
  } catch (error) {
    assert.fail(`${error.stdout}${error.stderr}`);
  }
});

// Without a uni-app install: the plugin's hooks, driven by a stand-in Rollup context.
function emitted(platform) {
  const saved = process.env.UNI_PLATFORM;
  process.env.UNI_PLATFORM = platform;
  try {
    const files = [];
    const watched = [];
    const plugin = require('../../js-glue/vite.js')();
    plugin.buildStart.call({ addWatchFile: (f) => watched.push(f), error: (m) => { throw new Error(m); } });
    plugin.generateBundle.call({ emitFile: (f) => files.push({ ...f, source: f.source.length }) });
    return { files, watched: watched.map((f) => path.relative(ROOT, f)) };
  } finally {
    if (saved === undefined) delete process.env.UNI_PLATFORM;
    else process.env.UNI_PLATFORM = saved;
  }
}

test('wx-session/vite emits the wasm in mini-program builds only (uni-app\'s h5 and app builds get nothing)', () => {
  const size = fs.statSync(path.join(ROOT, 'js-glue', 'dist', 'wx_session_bg.wasm.br')).size;
  assert.deepEqual(emitted('mp-weixin'), {
    files: [{ type: 'asset', fileName: 'miniprogram_npm/wx-session/wx_session_bg.wasm.br', source: size }],
    watched: ['js-glue/dist/wx_session_bg.wasm.br'],
  });
  assert.deepEqual(emitted('h5'), { files: [], watched: [] });
  assert.deepEqual(emitted('app'), { files: [], watched: [] });
});
