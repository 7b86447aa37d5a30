// Taro 4 as a user sets it up (tests/frameworks/taro): the stock React + TypeScript + webpack5
// project, the SDK's npm tarball installed, `plugins: ['wx-session/taro']` in config/index.ts, a
// src/session.ts creating the one session with no wasmPath, and a page requesting through it.
// Built with Taro's own CLI (`taro build --type weapp`, and `--watch`), each output runs in the
// strict sandbox against the dev server: the first launch logs in and the page's request carries
// the token.
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
const PROJECT = h.projectDir('taro');
const OUTPUT = path.join(PROJECT, 'dist'); // outputRoot of the stock config
const MISSING = h.missingInstall('taro');
if (MISSING) {
  process.stderr.write(`\n!!!!!!!!!! ${MISSING} !!!!!!!!!!\n\n`);
  // In CI the framework builds are required: a skipped run must not pass silently.
  if (process.env.CI) test('the Taro project is installed (required in CI)', () => assert.fail(MISSING));
}
const skip = MISSING || false;

let server;
let origin;
let sdk; // node_modules/wx-session of the project

test.before(async () => {
  if (skip) return;
  server = await startServer({ port: 0 });
  origin = `http://127.0.0.1:${server.port}`;
  sdk = h.installSdk('taro');
});
test.after(() => server && server.server.close());

const freshStorage = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'wx-session-taro-')), 'storage.json');

test('the project adds only the plugin line, a session module without wasmPath and a page using it', { skip }, () => {
  const config = fs.readFileSync(path.join(PROJECT, 'config', 'index.ts'), 'utf8');
  assert.match(config, /plugins: \[\s*"@tarojs\/plugin-generator",\s*'wx-session\/taro'\s*\]/);
  const session = fs.readFileSync(path.join(PROJECT, 'src', 'session.ts'), 'utf8');
  assert.match(session, /export const session = createSession\(\{ baseUrl: '[^']+' \}\)/);
  assert.doesNotMatch(session + config, /wasmPath|copy: \{\s*patterns: \[\s*\{/);
  assert.match(fs.readFileSync(path.join(PROJECT, 'src', 'pages', 'index', 'index.tsx'), 'utf8'), /from '\.\.\/\.\.\/session'/);
});

test('taro build --type weapp puts the package\'s wasm where the default wasmPath points, and only there', { skip }, () => {
  fs.rmSync(OUTPUT, { recursive: true, force: true });
  h.runCli('taro', 'taro', ['build', '--type', 'weapp']);
  const wasmFiles = h.listFiles(OUTPUT).filter((f) => /\.wasm(\.br)?$/.test(f));
  assert.deepEqual(wasmFiles, [h.WASM_IN_OUTPUT]);
  assert.ok(fs.readFileSync(path.join(OUTPUT, h.WASM_IN_OUTPUT)).equals(fs.readFileSync(path.join(sdk, 'dist', 'wx_session_bg.wasm.br'))), 'the package\'s bytes');
});

test('the weapp build: the first launch logs in and the page\'s request carries the token; a relaunch reuses it', { skip }, async () => {
  assert.ok(fs.existsSync(path.join(OUTPUT, 'app.js')), 'built by the test above');
  const storageFile = freshStorage();
  let before = { ...server.backend.stats };
  h.assertSessionFlow({ ...(await h.launchBuilt({ packageRoot: OUTPUT, origin, storageFile })), backend: server.backend, before });
  before = { ...server.backend.stats };
  h.assertSessionFlow({ ...(await h.launchBuilt({ packageRoot: OUTPUT, origin, storageFile })), backend: server.backend, before, relaunch: true });
});

test('taro build --watch: the dev build logs in too, and each rebuild (an edit, an upgraded SDK) places the wasm again', { skip }, async (t) => {
  fs.rmSync(OUTPUT, { recursive: true, force: true });
  const wasmOut = path.join(OUTPUT, h.WASM_IN_OUTPUT);
  const wasmIn = path.join(sdk, 'dist', 'wx_session_bg.wasm.br');
  const shipped = fs.readFileSync(wasmIn);
  const watch = h.startWatch('taro', 'taro', ['build', '--type', 'weapp', '--watch']);
  t.after(() => {
    watch.stop();
    fs.writeFileSync(wasmIn, shipped);
  });
  await watch.waitFor(() => /Watching/.test(watch.output()), 'first watch build');
  assert.ok(fs.existsSync(wasmOut), `the first watch build placed the wasm:\n${watch.output().slice(-2000)}`);
  assert.ok(fs.existsSync(path.join(OUTPUT, 'app.js.map')), 'a development build (source maps)');
  const before = { ...server.backend.stats };
  h.assertSessionFlow({ ...(await h.launchBuilt({ packageRoot: OUTPUT, origin, storageFile: freshStorage() })), backend: server.backend, before });

  // An edit rebuilds; the wasm comes back even if something removed it from the output.
  fs.rmSync(wasmOut);
  const now = new Date();
  fs.utimesSync(path.join(PROJECT, 'src', 'session.ts'), now, now);
  await watch.waitFor(() => fs.existsSync(wasmOut), 'the wasm after an edit', 60_000);

  // Upgrading the package rebuilds by itself: the wasm is a dependency of the build.
  const upgraded = Buffer.concat([shipped, Buffer.from('upgraded')]);
  fs.writeFileSync(wasmIn, upgraded);
  await watch.waitFor(() => fs.existsSync(wasmOut) && fs.readFileSync(wasmOut).equals(upgraded), 'the upgraded wasm', 60_000);
});

test('the project\'s own tsc finds nothing in the session module or the page', { skip }, () => {
  // skipLibCheck: Taro 4.1.11's own component typings do not check by themselves. The stock
  // config/index.ts has one error of its own (unused `command, mode`), which is the template's.
  let output = '';
  try {
    execFileSync(path.join(PROJECT, 'node_modules', '.bin', 'tsc'), ['--noEmit', '--skipLibCheck', '-p', PROJECT], { cwd: PROJECT, encoding: 'utf8' });
  } catch (error) {
    output = `${error.stdout}${error.stderr}`;
  }
  const errors = output.split('\n').filter((line) => /error TS/.test(line));
  assert.deepEqual(errors.filter((line) => !line.startsWith('config/index.ts(7,55): error TS6198')), []);
});

test('taro.d.ts: the plugin is a Taro plugin to tsc --strict (IPluginContext of @tarojs/service)', { skip }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wx-session-taro-types-'));
  fs.symlinkSync(path.join(PROJECT, 'node_modules'), path.join(dir, 'node_modules'));
  fs.writeFileSync(path.join(dir, 'plugin.ts'), [
    "import type { IPluginContext } from '@tarojs/service'",
    "import wxSessionTaro from 'wx-session/taro'",
    'const plugin: (ctx: IPluginContext) => void = wxSessionTaro',
    'export default plugin',
  ].join('\n'));
  const tsc = path.join(ROOT, 'tests', 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    execFileSync(process.execPath, [tsc, '--noEmit', '--strict', '--esModuleInterop', '--module', 'commonjs', '--moduleResolution', 'node', '--target', 'es2020', '--skipLibCheck', 'plugin.ts'], { cwd: dir, encoding: 'utf8' });
  } catch (error) {
    assert.fail(`${error.stdout}${error.stderr}`);
  }
});

// Without a Taro install: the plugin's registrations, driven by a stand-in plugin context.
function registrations(env) {
  const saved = process.env.TARO_ENV;
  process.env.TARO_ENV = env;
  try {
    const hooks = {};
    require('../../js-glue/taro.js')({
      modifyWebpackChain: (fn) => { hooks.webpack = fn; },
      modifyViteConfig: (fn) => { hooks.vite = fn; },
    });
    const used = [];
    hooks.webpack({ chain: { plugin: (name) => ({ use: (plugin) => used.push([name, typeof plugin]) }) } });
    const viteConfig = { plugins: [{ name: 'taro:vite-mini' }] };
    hooks.vite({ viteConfig });
    return { webpack: used, vite: viteConfig.plugins.map((p) => p.name) };
  } finally {
    if (saved === undefined) delete process.env.TARO_ENV;
    else process.env.TARO_ENV = saved;
  }
}

test('wx-session/taro adds its webpack plugin to mini-program builds and not to H5 ones; Taro\'s Vite compiler gets wx-session/vite', () => {
  assert.deepEqual(registrations('weapp'), { webpack: [['wx-session', 'function']], vite: ['taro:vite-mini', 'wx-session'] });
  assert.deepEqual(registrations('h5').webpack, []);
});
