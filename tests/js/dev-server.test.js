// The dev server's command line as the manuals' 真机调试 recipe uses it: `--host` makes it reachable
// from the network (a phone on the same Wi-Fi), while its test controls and WeChat's side still
// answer this machine only; `--any-code` takes the codes of a real wx.login (DevTools, a phone),
// each once. Without the options it stays where it was: 127.0.0.1, the sandbox's codes only.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('http');
const path = require('path');
const { spawn } = require('child_process');
const { isLoopback, lanAddresses } = require('../../demo-miniprogram/dev-server/server');

const SERVER = path.join(__dirname, '..', '..', 'demo-miniprogram', 'dev-server', 'server.js');

// Starts the CLI with `args` (plus --port 0); resolves { port, lines, stop } once it listens.
function startCli(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SERVER, '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const stop = () => new Promise((done) => {
      child.once('exit', done);
      child.kill();
    });
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`the dev server did not start: ${out}`));
    }, 10000);
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const at = /listening on http:\/\/[^\s]*:(\d+)/.exec(out);
      // The LAN lines follow the first one in the same write; wait for the whole of it.
      if (at && out.endsWith('\n')) {
        clearTimeout(timer);
        resolve({ port: Number(at[1]), lines: out.trim().split('\n'), stop });
      }
    });
    child.stderr.on('data', (chunk) => { out += chunk; });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the dev server exited (${code}): ${out}`));
    });
  });
}

// One HTTP exchange → { status, body } or { error } (a refused connection, say).
function exchange(host, port, method, pathname, body) {
  return new Promise((resolve) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = http.request({ host, port, method, path: pathname, headers: data ? { 'content-type': 'application/json', 'content-length': data.length } : {}, timeout: 5000 }, (res) => {
      let text = '';
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode, body: text ? JSON.parse(text) : null }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (error) => resolve({ error: error.code || error.message }));
    if (data) req.write(data);
    req.end();
  });
}

const LAN = lanAddresses()[0];

test('isLoopback tells this machine from the network', () => {
  for (const a of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1']) assert.equal(isLoopback(a), true, a);
  for (const a of ['192.168.1.20', '10.0.0.2', '::ffff:192.168.1.20', 'fd00::2', '', undefined]) assert.equal(isLoopback(a), false, String(a));
});

test('without --host the server listens on 127.0.0.1 only', { skip: LAN ? false : 'this machine has no LAN address' }, async () => {
  const server = await startCli([]);
  try {
    assert.match(server.lines[0], /listening on http:\/\/127\.0\.0\.1:\d+/);
    assert.equal((await exchange('127.0.0.1', server.port, 'GET', '/api/profile')).status, 401);
    assert.equal((await exchange(LAN, server.port, 'GET', '/api/profile')).error, 'ECONNREFUSED');
  } finally {
    await server.stop();
  }
});

test('--host 0.0.0.0: the API answers on the LAN address it prints; test controls and WeChat\'s side answer loopback only', async () => {
  const server = await startCli(['--host', '0.0.0.0']);
  try {
    assert.equal((await exchange('127.0.0.1', server.port, 'GET', '/__admin/stats')).status, 200);
    assert.equal((await exchange('127.0.0.1', server.port, 'POST', '/__wx/login', {})).status, 200);
    if (!LAN) return;
    assert.ok(server.lines.some((l) => l.includes(`baseUrl 'http://${LAN}:${server.port}'`)), server.lines.join('\n'));
    assert.equal((await exchange(LAN, server.port, 'GET', '/api/profile')).status, 401, 'the API, from the network');
    assert.equal((await exchange(LAN, server.port, 'POST', '/login', { code: 'nope' })).status, 400);
    for (const [method, pathname] of [['GET', '/__admin/stats'], ['POST', '/__admin/revoke'], ['POST', '/__wx/login']]) {
      const answer = await exchange(LAN, server.port, method, pathname, method === 'POST' ? {} : undefined);
      assert.equal(answer.status, 403, `${method} ${pathname} from the network`);
    }
  } finally {
    await server.stop();
  }
});

test('--host with the LAN address itself listens there', { skip: LAN ? false : 'this machine has no LAN address' }, async () => {
  const server = await startCli(['--host', LAN]);
  try {
    assert.match(server.lines[0], new RegExp(`listening on http://${LAN.replace(/\./g, '\\.')}:\\d+`));
    assert.equal((await exchange(LAN, server.port, 'GET', '/api/profile')).status, 401);
  } finally {
    await server.stop();
  }
});

test('--any-code logs in with a code the server never minted, once; without it, 40029', async () => {
  const strict = await startCli([]);
  try {
    const refused = await exchange('127.0.0.1', strict.port, 'POST', '/login', { code: '0a1b2c3d4e-real-wx-login-code' });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.errcode, 40029);
  } finally {
    await strict.stop();
  }
  const server = await startCli(['--any-code']);
  try {
    assert.match(server.lines[0], /any login code/);
    const first = await exchange('127.0.0.1', server.port, 'POST', '/login', { code: '0a1b2c3d4e-real-wx-login-code' });
    assert.equal(first.status, 200);
    assert.equal(typeof first.body.token, 'string');
    const again = await exchange('127.0.0.1', server.port, 'POST', '/login', { code: '0a1b2c3d4e-real-wx-login-code' });
    assert.equal(again.body.errcode, 40163, 'a code works once, as WeChat\'s do');
    const profile = await new Promise((resolve) => {
      http.get({ host: '127.0.0.1', port: server.port, path: '/api/profile', headers: { token: first.body.token } }, (res) => {
        let text = '';
        res.on('data', (c) => { text += c; });
        res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(text) }));
      });
    });
    assert.equal(profile.status, 200);
    assert.match(profile.body.openid, /^o-[0-9a-f]{16}$/);
    assert.equal((await exchange('127.0.0.1', server.port, 'POST', '/login', { code: 'has space' })).body.errcode, 40029, 'not a code: still refused');
  } finally {
    await server.stop();
  }
});
