#!/usr/bin/env node
// The demo's backend on 127.0.0.1, with WeChat's side played in-process. Node stdlib only.
//
// Developer's backend (what the mini-program talks to):
//   POST /login {code}          → {token, expiresIn}   (code2Session errors → 400 {errcode, errmsg})
//   POST /auth  header `token`  → {errCode: 0} or {errCode: 40001}
//   GET  /api/profile           → the user, or 401 without a valid token
// WeChat's side (what the sandbox's wx.login calls, standing in for WeChat's servers):
//   POST /__wx/login            → {code}: a code that lives 5 minutes and works once
// Test controls (loopback only, never in a real backend):
//   GET  /__admin/stats, POST /__admin/revoke, POST /__admin/reset
//
// Usage: node server.js [--port 3000]   (0 picks a free port; the chosen one is printed)
'use strict';

const http = require('http');
const crypto = require('crypto');

const CODE_LIFETIME_MS = 5 * 60 * 1000;
const TOKEN_LIFETIME_S = 7200;

function createBackend(options = {}) {
  const now = options.now || Date.now;
  const codes = new Map(); // code → {openid, issuedAt, used}
  const sessions = new Map(); // token → {openid, sessionKey, expiresAt}
  const stats = { codesIssued: 0, logins: 0, loginErrors: 0, checks: 0, apiCalls: 0, unauthorized: 0 };

  // wx.login's half: WeChat mints a one-time code for this user.
  function issueCode(openid) {
    const code = crypto.randomBytes(16).toString('hex');
    codes.set(code, { openid, issuedAt: now(), used: false });
    stats.codesIssued += 1;
    return code;
  }

  // auth.code2Session: 40029 for unknown or expired codes, 40163 for a code used before.
  function code2Session(code) {
    const entry = typeof code === 'string' ? codes.get(code) : undefined;
    if (!entry || now() - entry.issuedAt > CODE_LIFETIME_MS) return { errcode: 40029, errmsg: 'invalid code' };
    if (entry.used) return { errcode: 40163, errmsg: 'code been used' };
    entry.used = true;
    return { openid: entry.openid, session_key: crypto.randomBytes(16).toString('base64') };
  }

  function login(body) {
    const result = code2Session(body && body.code);
    if (result.errcode) {
      stats.loginErrors += 1;
      return [400, { errcode: result.errcode, errmsg: result.errmsg }];
    }
    stats.logins += 1;
    const token = crypto.randomBytes(24).toString('hex');
    // session_key stays on the server: it never goes to the client.
    sessions.set(token, { openid: result.openid, sessionKey: result.session_key, expiresAt: now() + TOKEN_LIFETIME_S * 1000 });
    return [200, { token, expiresIn: TOKEN_LIFETIME_S }];
  }

  function sessionOf(token) {
    const session = token ? sessions.get(token) : undefined;
    return session && session.expiresAt > now() ? session : undefined;
  }

  function handle(method, path, headers, body) {
    if (method === 'POST' && path === '/__wx/login') return [200, { code: issueCode((body && body.openid) || 'o-demo-user') }];
    if (method === 'POST' && path === '/login') return login(body);
    if (method === 'POST' && path === '/auth') {
      stats.checks += 1;
      return [200, { errCode: sessionOf(headers.token) ? 0 : 40001 }];
    }
    if (method === 'GET' && path === '/api/profile') {
      stats.apiCalls += 1;
      const session = sessionOf(headers.token);
      if (!session) {
        stats.unauthorized += 1;
        return [401, { error: 'invalid session' }];
      }
      return [200, { openid: session.openid, nickname: '微信用户', vip: false }];
    }
    if (method === 'GET' && path === '/__admin/stats') return [200, { ...stats, sessions: sessions.size }];
    if (method === 'POST' && path === '/__admin/revoke') {
      const revoked = sessions.size;
      sessions.clear();
      return [200, { revoked }];
    }
    if (method === 'POST' && path === '/__admin/reset') {
      sessions.clear();
      codes.clear();
      for (const key of Object.keys(stats)) stats[key] = 0;
      return [200, {}];
    }
    return [404, { error: 'not found' }];
  }

  return { handle, issueCode, code2Session, stats };
}

function readJson(req) {
  return new Promise((resolve) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (!text) return resolve(undefined);
      try {
        resolve(JSON.parse(text));
      } catch {
        resolve(null);
      }
    });
  });
}

function startServer({ port = 3000, host = '127.0.0.1', backend = createBackend() } = {}) {
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://local');
    const body = await readJson(req);
    const [status, answer] = backend.handle(req.method, url.pathname, req.headers, body);
    const text = JSON.stringify(answer);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve({ server, backend, port: server.address().port }));
  });
}

module.exports = { createBackend, startServer, CODE_LIFETIME_MS };

if (require.main === module) {
  const at = process.argv.indexOf('--port');
  const port = at > 0 ? Number(process.argv[at + 1]) : Number(process.env.PORT || 3000);
  startServer({ port }).then(({ port: actual }) => {
    console.log(`dev server listening on http://127.0.0.1:${actual}`);
  }, (error) => {
    console.error(`dev server: ${error.message}`);
    process.exit(1);
  });
}
