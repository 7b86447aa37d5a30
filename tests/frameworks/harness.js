// What tests/js/taro.test.js and uni-app.test.js share: the SDK's npm tarball installed into a
// stock project under tests/frameworks/, the framework's own CLI run on it (a build, or a watch
// build kept running), and the output launched in the strict sandbox against the dev server.
//
// The projects' node_modules come from `npm ci` of their committed lock files (scripts/test.sh,
// once; ~1 min each on a fresh machine); the SDK is packed and installed again on every run.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync, spawn } = require('child_process');
const assert = require('node:assert/strict');
const { createRuntime, maskToken } = require('../sandbox/runtime');

const ROOT = path.join(__dirname, '..', '..');
const GLUE = path.join(ROOT, 'js-glue');
// Where createSession's default wasmPath points, relative to the mini-program root.
const WASM_IN_OUTPUT = path.join('miniprogram_npm', 'wx-session', 'wx_session_bg.wasm.br');
// The fixtures' session modules use their real-looking baseUrl; the sandbox sends it to the dev server.
const APP_ORIGIN = 'https://api.example.com';

function projectDir(name) {
  return path.join(__dirname, name);
}

/** Why a fixture cannot run, or null: its framework packages are installed. */
function missingInstall(name) {
  if (fs.existsSync(path.join(projectDir(name), 'node_modules', '.package-lock.json'))) return null;
  return `SKIPPED: tests/frameworks/${name}/node_modules is missing; scripts/test.sh installs it (npm ci, about a minute)`;
}

/** Packs js-glue (as `npm pack` makes it for users) once per process. → the tarball's path */
let packed;
function sdkTarball() {
  if (!packed) {
    const into = fs.mkdtempSync(path.join(os.tmpdir(), 'wx-session-pack-'));
    const out = execFileSync('npm', ['pack', '--json', '--pack-destination', into, '--loglevel=error'], { cwd: GLUE, encoding: 'utf8' });
    packed = path.join(into, JSON.parse(out)[0].filename);
  }
  return packed;
}

/**
 * Installs the SDK's tarball into a fixture the way a user's `npm install` does, without saving it:
 * package.json and the lock file stay the template's.
 */
function installSdk(name) {
  execFileSync('npm', ['install', '--no-save', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', sdkTarball()], {
    cwd: projectDir(name),
    encoding: 'utf8',
    env: { ...process.env, HUSKY: '0' },
  });
  return path.join(projectDir(name), 'node_modules', 'wx-session');
}

/** Runs a fixture's CLI (`node_modules/.bin/<bin>`) to the end; throws with its output on failure. */
function runCli(name, bin, args, { timeout = 10 * 60 * 1000 } = {}) {
  const started = Date.now();
  try {
    const output = execFileSync(path.join(projectDir(name), 'node_modules', '.bin', bin), args, {
      cwd: projectDir(name),
      encoding: 'utf8',
      timeout,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, FORCE_COLOR: '0' },
    });
    return { output, ms: Date.now() - started };
  } catch (error) {
    throw new Error(`${bin} ${args.join(' ')} failed:\n${tail(`${error.stdout || ''}\n${error.stderr || ''}`)}`);
  }
}

function tail(text, lines = 40) {
  return text.split('\n').slice(-lines).join('\n');
}

/**
 * Starts a fixture's CLI in watch mode, in a process group of its own (stop() ends the group).
 * → { output(), stop(), waitFor(predicate, what, ms) }
 */
function startWatch(name, bin, args) {
  let output = '';
  const child = spawn(path.join(projectDir(name), 'node_modules', '.bin', bin), args, {
    cwd: projectDir(name),
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, FORCE_COLOR: '0' },
  });
  child.stdout.on('data', (chunk) => { output += chunk; });
  child.stderr.on('data', (chunk) => { output += chunk; });
  let exited = false;
  child.on('exit', () => { exited = true; });
  return {
    output: () => output,
    stop() {
      if (exited) return;
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    },
    // Polls `predicate` until it holds; fails with the CLI's output after `ms`.
    async waitFor(predicate, what, ms = 5 * 60 * 1000) {
      const until = Date.now() + ms;
      for (;;) {
        if (predicate()) return;
        if (exited) throw new Error(`${bin} ${args.join(' ')} exited while waiting for ${what}:\n${tail(output)}`);
        if (Date.now() > until) throw new Error(`no ${what} after ${ms} ms from ${bin} ${args.join(' ')}:\n${tail(output)}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    },
  };
}

/** Every file under `dir`, relative to it, sorted. */
function listFiles(dir) {
  const found = [];
  const walk = (at) => {
    for (const entry of fs.readdirSync(at, { withFileTypes: true })) {
      const full = path.join(at, entry.name);
      if (entry.isDirectory()) walk(full);
      else found.push(path.relative(dir, full));
    }
  };
  walk(dir);
  return found.sort();
}

/**
 * Launches a built mini-program in the strict sandbox (no WebAssembly global; WXWebAssembly takes
 * a package path) against the dev server, and waits until nothing is in flight.
 * → { runtime, page }
 */
async function launchBuilt({ packageRoot, origin, storageFile }) {
  const runtime = createRuntime({ packageRoot, devServer: origin, storageFile, hosts: { [APP_ORIGIN]: origin }, log: () => {} });
  const page = runtime.launch();
  await runtime.idle();
  return { runtime, page };
}

/**
 * A launch of a built app, checked end to end: the wasm came from the default wasmPath, the first
 * launch logged in exactly once (wx.login, POST /login), and the page's request carried the very
 * token the login stored and got the user. With `relaunch`, the stored token was used instead.
 * `before` is the backend's stats taken before the launch.
 */
function assertSessionFlow({ runtime, page, backend, before, relaunch = false }) {
  const log = runtime.lines.join('\n');
  assert.ok(runtime.lines.some((l) => l.includes(`WXWebAssembly.instantiate("/${WASM_IN_OUTPUT}")`)), `the wasm loads from the default wasmPath:\n${log}`);
  const logins = backend.stats.logins - before.logins;
  assert.equal(runtime.counts.login, relaunch ? 0 : 1, `wx.login calls:\n${log}`);
  assert.equal(logins, relaunch ? 0 : 1, `POST /login at the server:\n${log}`);
  const record = runtime.storage.get('token');
  assert.ok(record && typeof record.token === 'string' && record.token.length > 8, `a token is stored:\n${log}`);
  assert.ok(runtime.lines.some((l) => l.includes('→ GET /api/profile header ') && l.includes(`"token":"${maskToken(record.token)}"`)), `the page's request carries the stored token:\n${log}`);
  assert.ok(runtime.lines.some((l) => l.includes('← 200 /api/profile')), `the server took it:\n${log}`);
  assert.equal(backend.stats.unauthorized - before.unauthorized, 0, 'no request went out without a valid token');
  assert.match(JSON.stringify(page.data), /微信用户/, 'the page shows the user the server returned');
}

module.exports = {
  assertSessionFlow, WASM_IN_OUTPUT, APP_ORIGIN, projectDir, missingInstall, sdkTarball, installSdk, runCli, startWatch, listFiles, launchBuilt };
