// The npm package as a team uses it: `npm pack`, install the tarball into a copy of the demo,
// Tencent's own 构建npm (miniprogram-ci's packNpm, with a throwaway key: no network), then the
// demo's flow in the strict sandbox from miniprogram_npm/ with the default wasmPath.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');
const { createRuntime } = require('../sandbox/runtime');
const { startServer } = require('../../demo-miniprogram/dev-server/server');

const ROOT = path.join(__dirname, '..', '..');
const GLUE = path.join(ROOT, 'js-glue');

function pack(into) {
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', into, '--loglevel=error'], { cwd: GLUE, encoding: 'utf8' });
  const [info] = JSON.parse(out);
  return { file: path.join(into, info.filename), files: info.files.map((f) => f.path).sort(), info };
}

test('the tarball holds what a user needs and nothing else', () => {
  const { files, info } = pack(fs.mkdtempSync(path.join(os.tmpdir(), 'wx-session-pack-')));
  assert.deepEqual(files, [
    'CHANGELOG.md', 'LICENSE', 'README.md', 'README.zh-CN.md',
    'dist-js/index.d.ts', 'dist-js/index.js', 'dist/index.d.ts', 'dist/index.js', 'dist/wx_session_bg.wasm.br',
    'package.json', 'taro.d.ts', 'taro.js', 'vite.d.ts', 'vite.js', 'wasm/wx_session_bg.wasm',
  ]);
  const pkg = JSON.parse(fs.readFileSync(path.join(GLUE, 'package.json'), 'utf8'));
  assert.equal(info.version, pkg.version);
  assert.equal(pkg.miniprogram, 'dist');
  assert.equal(pkg.main, 'dist/index.js');
  assert.equal(pkg.types, 'dist/index.d.ts');
  assert.equal(pkg.license, 'MIT');
  assert.match(fs.readFileSync(path.join(GLUE, 'LICENSE'), 'utf8'), /^MIT License/);
  const cargo = fs.readFileSync(path.join(ROOT, 'Cargo.toml'), 'utf8');
  assert.equal(cargo.match(/^version = "([^"]+)"/m)[1], pkg.version, 'Cargo.toml and package.json agree');
});

test('Tencent\'s 构建npm puts one wasm in miniprogram_npm, and the demo logs in from there', async () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'wx-session-ci-'));
  const { file } = pack(work);
  const project = path.join(work, 'demo');
  fs.cpSync(path.join(ROOT, 'demo-miniprogram'), project, { recursive: true });
  const miniprogram = path.join(project, 'miniprogram');
  // The demo as an npm user writes it: require('wx-session'), no wasmPath, no copied libs/.
  fs.rmSync(path.join(miniprogram, 'libs'), { recursive: true });
  const appJs = path.join(miniprogram, 'app.js');
  const source = fs.readFileSync(appJs, 'utf8');
  const npmApp = source.replace("require('./libs/wx-session/index.js')", "require('wx-session')").replace(/^\s*wasmPath: .*\n/m, '');
  assert.notEqual(npmApp, source);
  assert.doesNotMatch(npmApp, /wasmPath/);
  fs.writeFileSync(appJs, npmApp);
  fs.writeFileSync(path.join(miniprogram, 'package.json'), JSON.stringify({ name: 'demo', private: true, dependencies: { 'wx-session': `file:${file}` } }));
  execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: miniprogram });

  const ci = require('miniprogram-ci');
  const { privateKey } = crypto.generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const keyPath = path.join(work, 'private.key');
  fs.writeFileSync(keyPath, privateKey);
  const ciProject = new ci.Project({ appid: 'wx0000000000000000', type: 'miniProgram', projectPath: project, privateKeyPath: keyPath, ignores: ['node_modules/**/*'] });
  const warnings = await ci.packNpm(ciProject, { reporter: () => {} });
  assert.deepEqual(warnings, []);

  const installed = path.join(miniprogram, 'miniprogram_npm', 'wx-session');
  assert.deepEqual(fs.readdirSync(installed).sort(), ['index.d.ts', 'index.js', 'wx_session_bg.wasm.br'], 'one wasm form');

  const { server, port } = await startServer({ port: 0 });
  try {
    const origin = `http://127.0.0.1:${port}`;
    const runtime = createRuntime({ packageRoot: miniprogram, devServer: origin, extConfig: { baseUrl: origin }, log: () => {} });
    const page = runtime.launch();
    await runtime.idle();
    assert.equal(page.data.state, 'ready');
    assert.equal(page.data.source, 'login');
    assert.equal(page.data.profile, '微信用户 (o-demo-user)');
    assert.ok(runtime.lines.some((l) => l.includes('WXWebAssembly.instantiate("/miniprogram_npm/wx-session/wx_session_bg.wasm.br")')), runtime.lines.join('\n'));
  } finally {
    server.close();
  }
});

test('wx-session/taro and wx-session/vite load the way their frameworks load them; the exports map keeps every older path', async () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'wx-session-plugins-'));
  const { file } = pack(work);
  fs.writeFileSync(path.join(work, 'package.json'), JSON.stringify({ name: 'app', private: true }));
  execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--loglevel=error', file], { cwd: work });
  const pkg = JSON.parse(fs.readFileSync(path.join(GLUE, 'package.json'), 'utf8'));
  assert.equal(pkg.exports['.'].default, `./${pkg.main}`, "require('wx-session') is the mini-program build");
  // Taro resolves plugin names with `resolve`, which ignores "exports": the name must be a file.
  assert.ok(fs.existsSync(path.join(work, 'node_modules', 'wx-session', 'taro.js')));
  // A stock vite.config.js is bundled to CommonJS and require()s the plugin; an ES module config
  // imports it (Vite's own loader, or Node's: that one needs the "exports" entry).
  const script = [
    "const taro = require('wx-session/taro'); const vite = require('wx-session/vite');",
    "import('wx-session/vite').then((esm) => console.log(JSON.stringify({",
    '  taro: typeof taro, taroDefault: taro.default === taro, vite: typeof vite, viteDefault: vite.default === vite,',
    '  esmDefault: esm.default === vite, plugin: vite().name, apply: vite().apply,',
    "  sdk: typeof require('wx-session').createSession, version: require('wx-session/package.json').version,",
    "  js: require('path').relative(process.cwd(), require.resolve('wx-session/js')), jsSdk: typeof require('wx-session/js').createSession,",
    "  wasm: [require.resolve('wx-session/dist/wx_session_bg.wasm.br'), require.resolve('wx-session/wasm/wx_session_bg.wasm')].map((f) => require('path').relative(process.cwd(), f)),",
    '})));',
  ].join('\n');
  const loaded = JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: work, encoding: 'utf8' }));
  assert.deepEqual(loaded, {
    taro: 'function', taroDefault: true, vite: 'function', viteDefault: true, esmDefault: true, plugin: 'wx-session', apply: 'build',
    sdk: 'function', version: pkg.version, js: 'node_modules/wx-session/dist-js/index.js', jsSdk: 'function',
    wasm: ['node_modules/wx-session/dist/wx_session_bg.wasm.br', 'node_modules/wx-session/wasm/wx_session_bg.wasm'],
  });
  // The typings need nothing else: no vite, no Taro types.
  const tsc = path.join(ROOT, 'tests', 'node_modules', 'typescript', 'bin', 'tsc');
  execFileSync(process.execPath, [tsc, '--noEmit', '--strict', path.join(GLUE, 'taro.d.ts'), path.join(GLUE, 'vite.d.ts')], { encoding: 'utf8' });
});
