#!/usr/bin/env node
// The demo's backend on 127.0.0.1, with WeChat's side played in-process. Node stdlib only.
//
// WeChat's side (what the sandbox's wx.login calls, standing in for WeChat's servers):
//   POST /__wx/login            → {code}: a code that lives 5 minutes and works once
// Test controls (loopback only; a real backend has none of this):
//   GET /__admin/stats · POST /__admin/revoke · POST /__admin/reset · POST /__admin/mode {alwaysInvalid}
//
// The developer's backend comes in profiles, one per protocol the seeds and wafer2 use
// (`--profile NAME`, default `default`); PROFILES below documents each one's endpoints.
//
// Usage: node server.js [--port 3000] [--profile default|seed001|seed002|wafer2]
//        (--port 0 picks a free port; the chosen one is printed)
'use strict';

const http = require('http');
const crypto = require('crypto');

const CODE_LIFETIME_MS = 5 * 60 * 1000;
const TOKEN_LIFETIME_S = 7200;

// Each profile: how the login answers, how a request proves its session, what "invalid" looks like.
const PROFILES = {
  // Seed 003 (+ expiresIn): POST /login {code} → {token, expiresIn}; POST /auth header token → {errCode};
  // GET /api/profile header token → the user, or 401.
  default: {
    loginRoute: ['POST', '/login'],
    codeFrom: (req) => req.body && req.body.code,
    loginOk: (token) => [200, { token, expiresIn: TOKEN_LIFETIME_S }],
    loginFailed: (err) => [400, err],
    tokenFrom: (req) => req.headers.token,
    checkRoute: ['POST', '/auth'],
    apiRoute: ['GET', '/api/profile'],
    apiOk: (user) => [200, user],
    invalid: () => [401, { error: 'invalid session' }],
  },
  // Seed 001: GET /user/login?code= → {code: 200, msg, token} (failures: {code: 500, msg});
  // GET /api/profile header token → the user, or 401.
  seed001: {
    loginRoute: ['GET', '/user/login'],
    codeFrom: (req) => req.query.get('code'),
    loginOk: (token) => [200, { code: 200, msg: '登录成功', token }],
    loginFailed: () => [200, { code: 500, msg: '登录失败' }],
    tokenFrom: (req) => req.headers.token,
    apiRoute: ['GET', '/api/profile'],
    apiOk: (user) => [200, user],
    invalid: () => [401, { error: 'invalid session' }],
  },
  // Seed 002: POST /api/fetch_code {code} → {session_id}; requests carry it in X-Session-Id
  // (the seed sends it in the body; a header keeps it out of URLs and logs);
  // GET /api/profile → the user, or 401.
  seed002: {
    loginRoute: ['POST', '/api/fetch_code'],
    codeFrom: (req) => req.body && req.body.code,
    loginOk: (token) => [200, { session_id: token }],
    loginFailed: (err) => [400, err],
    tokenFrom: (req) => req.headers['x-session-id'],
    apiRoute: ['GET', '/api/profile'],
    apiOk: (user) => [200, user],
    invalid: () => [401, { status: 'FAILED' }],
  },
  // wafer2: GET /weapp/login header X-WX-Code → {code: 0, data: {skey, userinfo}} (failures:
  // {code: -1, error}); GET /weapp/user header X-WX-Skey → {code: 0, data: {userinfo}}, and
  // HTTP 200 {code: -1, error: 'ERR_SKEY_INVALID'} for an invalid session.
  wafer2: {
    loginRoute: ['GET', '/weapp/login'],
    codeFrom: (req) => req.headers['x-wx-code'],
    loginOk: (token, user) => [200, { code: 0, data: { skey: token, userinfo: user } }],
    loginFailed: (err) => [200, { code: -1, error: `ERR_LOGIN_FAILED ${err.errcode}` }],
    tokenFrom: (req) => req.headers['x-wx-skey'],
    apiRoute: ['GET', '/weapp/user'],
    apiOk: (user) => [200, { code: 0, data: { userinfo: user } }],
    invalid: () => [200, { code: -1, error: 'ERR_SKEY_INVALID' }],
  },
};

function createBackend(options = {}) {
  const now = options.now || Date.now;
  const profile = PROFILES[options.profile || 'default'];
  if (!profile) throw new Error(`unknown profile ${options.profile}: one of ${Object.keys(PROFILES).join(', ')}`);
  const codes = new Map(); // code → {openid, issuedAt, used}
  const sessions = new Map(); // token → {openid, sessionKey, expiresAt}
  const mode = { alwaysInvalid: false };
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

  const user = (session) => ({ openid: session.openid, nickname: '微信用户', vip: false });

  function login(req) {
    const result = code2Session(profile.codeFrom(req));
    if (result.errcode) {
      stats.loginErrors += 1;
      return profile.loginFailed({ errcode: result.errcode, errmsg: result.errmsg });
    }
    stats.logins += 1;
    const token = crypto.randomBytes(24).toString('hex');
    // session_key stays on the server: it never goes to the client.
    const session = { openid: result.openid, sessionKey: result.session_key, expiresAt: now() + TOKEN_LIFETIME_S * 1000 };
    sessions.set(token, session);
    return profile.loginOk(token, user(session));
  }

  function sessionOf(req) {
    const token = profile.tokenFrom(req);
    const session = token ? sessions.get(token) : undefined;
    return session && session.expiresAt > now() && !mode.alwaysInvalid ? session : undefined;
  }

  const is = (route, req) => route && req.method === route[0] && req.path === route[1];

  // req: {method, path, query: URLSearchParams, headers (lower-case names), body}
  function handle(req) {
    if (req.method === 'POST' && req.path === '/__wx/login') return [200, { code: issueCode((req.body && req.body.openid) || 'o-demo-user') }];
    if (is(profile.loginRoute, req)) return login(req);
    if (is(profile.checkRoute, req)) {
      stats.checks += 1;
      return [200, { errCode: sessionOf(req) ? 0 : 40001 }];
    }
    if (is(profile.apiRoute, req)) {
      stats.apiCalls += 1;
      const session = sessionOf(req);
      if (!session) {
        stats.unauthorized += 1;
        return profile.invalid();
      }
      return profile.apiOk(user(session));
    }
    if (req.method === 'GET' && req.path === '/__admin/stats') return [200, { ...stats, sessions: sessions.size }];
    if (req.method === 'POST' && req.path === '/__admin/revoke') {
      const revoked = sessions.size;
      sessions.clear();
      return [200, { revoked }];
    }
    if (req.method === 'POST' && req.path === '/__admin/mode') {
      mode.alwaysInvalid = Boolean(req.body && req.body.alwaysInvalid);
      return [200, mode];
    }
    if (req.method === 'POST' && req.path === '/__admin/reset') {
      sessions.clear();
      codes.clear();
      mode.alwaysInvalid = false;
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

function startServer({ port = 3000, host = '127.0.0.1', profile = 'default', backend = createBackend({ profile }) } = {}) {
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://local');
    const body = await readJson(req);
    const [status, answer] = backend.handle({ method: req.method, path: url.pathname, query: url.searchParams, headers: req.headers, body });
    const text = JSON.stringify(answer);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve({ server, backend, port: server.address().port }));
  });
}

module.exports = { createBackend, startServer, PROFILES, CODE_LIFETIME_MS };

if (require.main === module) {
  const flag = (name, fallback) => {
    const at = process.argv.indexOf(`--${name}`);
    return at > 0 ? process.argv[at + 1] : fallback;
  };
  const port = Number(flag('port', process.env.PORT || 3000));
  const profile = flag('profile', 'default');
  startServer({ port, profile }).then(({ port: actual }) => {
    console.log(`dev server (${profile} profile) listening on http://127.0.0.1:${actual}`);
  }, (error) => {
    console.error(`dev server: ${error.message}`);
    process.exit(1);
  });
}
