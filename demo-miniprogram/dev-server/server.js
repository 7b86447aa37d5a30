#!/usr/bin/env node
// The demo's backend (on 127.0.0.1 unless --host says otherwise), with WeChat's side played
// in-process. Node stdlib only.
//
// WeChat's side (what the sandbox's wx.login calls, standing in for WeChat's servers):
//   POST /__wx/login            → {code}: a code that lives 5 minutes and works once
// Every profile also has (the demo's 手机号登录 and 上传头像):
//   login body (or query) `phoneCode`: a getPhoneNumber button's code; the phone is bound to the
//     user and shown masked ('138****1234') in the answer and the user, never as the token
//   POST /api/avatar            multipart/form-data (what wx.uploadFile sends), the file under
//                               `avatar`, token as the profile's API calls carry it
//                               → {url: '/avatars/<id>.png', size}
//   GET /avatars/<id>.png       the uploaded bytes, token required
// Test controls (answered to loopback clients only, whatever --host says: 403 for anyone else on
// the network; a real backend has none of this):
//   GET /__admin/stats · POST /__admin/revoke (every token, refresh tokens too) · POST /__admin/reset
//   POST /__admin/mode {alwaysInvalid} · POST /__admin/expire (every access token's time is up
//   now; refresh tokens stay: what 无感刷新 is for)
//
// The developer's backend comes in profiles, one per protocol the seeds and wafer2 use, and one
// with access + refresh token pairs (`--profile NAME`, default `default`); PROFILES below
// documents each one's endpoints.
//
// Usage: node server.js [--port 3000] [--host 127.0.0.1] [--any-code]
//        [--profile default|get-query-code|session-id|wafer2|refresh]
//        [--access-ttl SECONDS]   (the refresh profile's access token lifetime, default 300)
//        (--port 0 picks a free port; the chosen one is printed)
// --host ADDRESS: where to listen, e.g. 0.0.0.0 or the machine's LAN address, so a phone on the
//   same network (预览 or 真机调试) can reach it; the addresses to put in baseUrl are printed.
// --any-code: also accept login codes this server did not mint (a real wx.login's, in DevTools or
//   on a phone: the server cannot ask WeChat's code2Session without an AppSecret), each once,
//   as a user named after the code's hash. Without it only the sandbox's codes log in.
'use strict';

const http = require('http');
const os = require('os');
const crypto = require('crypto');

const CODE_LIFETIME_MS = 5 * 60 * 1000;
const TOKEN_LIFETIME_S = 7200;
// The refresh profile: short-lived access tokens (--access-ttl), refresh tokens for 30 days.
const ACCESS_LIFETIME_S = 300;
const REFRESH_LIFETIME_MS = 30 * 24 * 3600 * 1000;
// Bodies larger than this get 413 (an avatar is far smaller; the whole request is buffered).
const MAX_BODY_BYTES = 5 * 1024 * 1024;
const AVATARS_KEPT = 100;

// Each profile: how the login answers, how a request proves its session, what "invalid" looks like.
const PROFILES = {
  // Seed 003 (+ expiresIn): POST /login {code} → {token, expiresIn}; POST /auth header token → {errCode};
  // GET /api/profile header token → the user, or 401.
  default: {
    loginRoute: ['POST', '/login'],
    codeFrom: (req) => req.body && req.body.code,
    // `phone` (masked) only once a phone is bound; the demo's config reads `token` alone.
    loginOk: (token, user) => [200, { token, expiresIn: TOKEN_LIFETIME_S, ...(user.phone ? { phone: user.phone } : {}) }],
    loginFailed: (err) => [400, err],
    tokenFrom: (req) => req.headers.token,
    checkRoute: ['POST', '/auth'],
    apiRoute: ['GET', '/api/profile'],
    apiOk: (user) => [200, user],
    invalid: () => [401, { error: 'invalid session' }],
  },
  // get-query-code (seed 001's protocol): GET /user/login?code= → {code: 200, msg, token}
  // (failures: {code: 500, msg}); GET /api/profile header token → the user, or 401.
  'get-query-code': {
    loginRoute: ['GET', '/user/login'],
    codeFrom: (req) => req.query.get('code'),
    loginOk: (token) => [200, { code: 200, msg: '登录成功', token }],
    loginFailed: () => [200, { code: 500, msg: '登录失败' }],
    tokenFrom: (req) => req.headers.token,
    apiRoute: ['GET', '/api/profile'],
    apiOk: (user) => [200, user],
    invalid: () => [401, { error: 'invalid session' }],
  },
  // session-id (seed 002's protocol): POST /api/fetch_code {code} → {session_id}; requests carry
  // it in X-Session-Id (the seed sends it in the body; a header keeps it out of URLs and logs);
  // GET /api/profile → the user, or 401.
  'session-id': {
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
  // refresh (access + refresh token pairs, 无感刷新): POST /login {code} → {token, expiresIn,
  // refreshToken}, the access token short-lived (--access-ttl, default 300 s); POST /refresh
  // {refreshToken} → a new {token, expiresIn, refreshToken}: rotation, the old refresh token
  // refused from then on (401 {error: 'invalid refresh token'}), as is an unknown or expired one;
  // POST /auth and GET /api/profile as in the default profile.
  refresh: {
    pairs: true,
    loginRoute: ['POST', '/login'],
    codeFrom: (req) => req.body && req.body.code,
    loginOk: (token, user, pair) => [200, { token, expiresIn: pair.expiresIn, refreshToken: pair.refreshToken, ...(user.phone ? { phone: user.phone } : {}) }],
    loginFailed: (err) => [400, err],
    refreshRoute: ['POST', '/refresh'],
    refreshFrom: (req) => req.body && req.body.refreshToken,
    refreshOk: (token, pair) => [200, { token, expiresIn: pair.expiresIn, refreshToken: pair.refreshToken }],
    refreshFailed: () => [401, { error: 'invalid refresh token' }],
    tokenFrom: (req) => req.headers.token,
    checkRoute: ['POST', '/auth'],
    apiRoute: ['GET', '/api/profile'],
    apiOk: (user) => [200, user],
    invalid: () => [401, { error: 'invalid session' }],
  },
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
  // The refresh profile's refresh tokens → {openid, sessionKey, expiresAt}, each until used once.
  const refreshTokens = new Map();
  // How long an access token lives, in seconds (the refresh profile's are short).
  const accessTtlS = profile.pairs ? options.accessTtl || ACCESS_LIFETIME_S : TOKEN_LIFETIME_S;
  const mode = { alwaysInvalid: false };
  const stats = {
    codesIssued: 0, logins: 0, loginErrors: 0, checks: 0, apiCalls: 0, unauthorized: 0,
    phoneLogins: 0, uploads: 0, downloads: 0, refreshes: 0, refreshErrors: 0,
  };
  const phones = new Map(); // openid → masked phone number bound by a phone login
  const phoneCodes = new Set(); // phone codes used (they work once, like wx.login's)
  const avatars = new Map(); // id → {openid, bytes, contentType}, the last AVATARS_KEPT
  // What each successful login carried besides the code, for tests: [{openid, phoneCode}].
  const loginLog = [];

  // wx.login's half: WeChat mints a one-time code for this user.
  function issueCode(openid) {
    const code = crypto.randomBytes(16).toString('hex');
    codes.set(code, { openid, issuedAt: now(), used: false });
    stats.codesIssued += 1;
    return code;
  }

  // auth.code2Session: 40029 for unknown or expired codes, 40163 for a code used before. With
  // anyCode, a code it never minted (a real wx.login's) is taken as a fresh one, once.
  function code2Session(code) {
    if (options.anyCode && typeof code === 'string' && /^[\x21-\x7e]{1,128}$/.test(code) && !codes.has(code)) {
      codes.set(code, { openid: `o-${crypto.createHash('sha256').update(code).digest('hex').slice(0, 16)}`, issuedAt: now(), used: false });
    }
    const entry = typeof code === 'string' ? codes.get(code) : undefined;
    if (!entry || now() - entry.issuedAt > CODE_LIFETIME_MS) return { errcode: 40029, errmsg: 'invalid code' };
    if (entry.used) return { errcode: 40163, errmsg: 'code been used' };
    entry.used = true;
    return { openid: entry.openid, session_key: crypto.randomBytes(16).toString('base64') };
  }

  const user = (session) => {
    const phone = phones.get(session.openid);
    return { openid: session.openid, nickname: '微信用户', vip: false, ...(phone ? { phone } : {}) };
  };

  // phonenumber.getPhoneNumber's half: a getPhoneNumber button's code → the user's number.
  // Faked from the code (same code, same number) and kept masked: the demo never needs it whole.
  function phoneOf(phoneCode) {
    if (typeof phoneCode !== 'string' || !phoneCode || phoneCode.length > 128) return { errcode: 40029, errmsg: 'invalid phone code' };
    if (phoneCodes.has(phoneCode)) return { errcode: 40163, errmsg: 'phone code been used' };
    phoneCodes.add(phoneCode);
    const digits = String(crypto.createHash('sha256').update(phoneCode).digest().readUInt16BE(0) % 10000).padStart(4, '0');
    return { phone: `138****${digits}` };
  }

  function login(req) {
    // A GET login carries the SDK's `data` (extra fields included) as query parameters.
    const inBody = req.body && typeof req.body === 'object' && req.body.phoneCode !== undefined;
    const inQuery = req.query && req.query.has('phoneCode');
    const phoneCode = inBody ? req.body.phoneCode : inQuery ? req.query.get('phoneCode') : undefined;
    const phone = phoneCode === undefined ? undefined : phoneOf(phoneCode);
    if (phone && phone.errcode) {
      stats.loginErrors += 1;
      return profile.loginFailed({ errcode: phone.errcode, errmsg: phone.errmsg });
    }
    const result = code2Session(profile.codeFrom(req));
    if (result.errcode) {
      stats.loginErrors += 1;
      return profile.loginFailed({ errcode: result.errcode, errmsg: result.errmsg });
    }
    stats.logins += 1;
    if (phone) {
      stats.phoneLogins += 1;
      phones.set(result.openid, phone.phone);
    }
    loginLog.push({ openid: result.openid, phoneCode });
    // session_key stays on the server: it never goes to the client.
    const { token, session, pair } = newSession(result.openid, result.session_key);
    return profile.loginOk(token, user(session), pair);
  }

  // A new access token (and, in the refresh profile, a refresh token) for `openid`.
  function newSession(openid, sessionKey) {
    const token = crypto.randomBytes(24).toString('hex');
    const session = { openid, sessionKey, expiresAt: now() + accessTtlS * 1000 };
    sessions.set(token, session);
    const pair = { expiresIn: accessTtlS };
    if (profile.pairs) {
      pair.refreshToken = crypto.randomBytes(24).toString('hex');
      refreshTokens.set(pair.refreshToken, { openid, sessionKey, expiresAt: now() + REFRESH_LIFETIME_MS });
    }
    return { token, session, pair };
  }

  // The refresh profile's POST /refresh: a valid refresh token → a new pair (it works once).
  function refresh(req) {
    const given = profile.refreshFrom(req);
    const entry = typeof given === 'string' ? refreshTokens.get(given) : undefined;
    if (!entry || entry.expiresAt <= now() || mode.alwaysInvalid) {
      stats.refreshErrors += 1;
      return profile.refreshFailed();
    }
    refreshTokens.delete(given); // rotation: this one is never accepted again
    stats.refreshes += 1;
    const { token, pair } = newSession(entry.openid, entry.sessionKey);
    return profile.refreshOk(token, pair);
  }

  function sessionOf(req) {
    const token = profile.tokenFrom(req);
    const session = token ? sessions.get(token) : undefined;
    return session && session.expiresAt > now() && !mode.alwaysInvalid ? session : undefined;
  }

  const is = (route, req) => route && req.method === route[0] && req.path === route[1];

  // req: {method, path, query: URLSearchParams, headers (lower-case names), body, form (multipart:
  // {fields, files}, or null when malformed)}. → [status, answer (JSON, or a Buffer sent as is), headers?]
  function handle(req) {
    if (req.method === 'POST' && req.path === '/__wx/login') return [200, { code: issueCode((req.body && req.body.openid) || 'o-demo-user') }];
    if (is(profile.loginRoute, req)) return login(req);
    if (is(profile.refreshRoute, req)) return refresh(req);
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
    if (req.method === 'POST' && req.path === '/api/avatar') return uploadAvatar(req);
    const avatar = req.method === 'GET' && /^\/avatars\/([0-9a-f]{16})\.png$/.exec(req.path);
    if (avatar) return downloadAvatar(req, avatar[1]);
    if (req.method === 'GET' && req.path === '/__admin/stats') return [200, { ...stats, sessions: sessions.size, refreshTokens: refreshTokens.size }];
    if (req.method === 'POST' && req.path === '/__admin/revoke') {
      const revoked = sessions.size;
      sessions.clear();
      refreshTokens.clear();
      return [200, { revoked }];
    }
    if (req.method === 'POST' && req.path === '/__admin/expire') {
      // Every access token's time is up; refresh tokens stay.
      for (const session of sessions.values()) session.expiresAt = Math.min(session.expiresAt, now());
      return [200, { expired: sessions.size }];
    }
    if (req.method === 'POST' && req.path === '/__admin/mode') {
      mode.alwaysInvalid = Boolean(req.body && req.body.alwaysInvalid);
      return [200, mode];
    }
    if (req.method === 'POST' && req.path === '/__admin/reset') {
      sessions.clear();
      refreshTokens.clear();
      codes.clear();
      phones.clear();
      phoneCodes.clear();
      avatars.clear();
      loginLog.length = 0;
      mode.alwaysInvalid = false;
      for (const key of Object.keys(stats)) stats[key] = 0;
      return [200, {}];
    }
    return [404, { error: 'not found' }];
  }

  // What wx.uploadFile sends: multipart/form-data, the file under `avatar` (formData fields beside it).
  function uploadAvatar(req) {
    stats.uploads += 1;
    const session = sessionOf(req);
    if (!session) {
      stats.unauthorized += 1;
      return profile.invalid();
    }
    const file = req.form && req.form.files.avatar;
    if (!file) return [400, { error: 'expected multipart/form-data with a file under "avatar"' }];
    if (!file.bytes.length) return [400, { error: 'the file is empty' }];
    const id = crypto.randomBytes(8).toString('hex');
    avatars.set(id, { openid: session.openid, bytes: file.bytes, contentType: file.contentType || 'application/octet-stream' });
    if (avatars.size > AVATARS_KEPT) avatars.delete(avatars.keys().next().value);
    return [200, { url: `/avatars/${id}.png`, size: file.bytes.length }];
  }

  function downloadAvatar(req, id) {
    stats.downloads += 1;
    if (!sessionOf(req)) {
      stats.unauthorized += 1;
      return profile.invalid();
    }
    const avatar = avatars.get(id);
    if (!avatar) return [404, { error: 'not found' }];
    return [200, avatar.bytes, { 'content-type': avatar.contentType }];
  }

  return { handle, issueCode, code2Session, stats, loginLog, phones, accessTtlS };
}

// multipart/form-data → {fields: {name: text}, files: {name: {filename, contentType, bytes}}},
// or null when it is malformed. (RFC 7578; what wx.uploadFile and browsers send.)
function parseMultipart(body, contentType) {
  const match = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  if (!match) return null;
  const delimiter = Buffer.from(`--${match[1] || match[2]}`);
  const next = Buffer.concat([Buffer.from('\r\n'), delimiter]);
  const form = { fields: {}, files: {} };
  let at = body.indexOf(delimiter);
  if (at < 0) return null;
  at += delimiter.length;
  for (;;) {
    if (body[at] === 0x2d && body[at + 1] === 0x2d) return form; // the closing `--boundary--`
    if (body[at] !== 0x0d || body[at + 1] !== 0x0a) return null;
    const headEnd = body.indexOf('\r\n\r\n', at + 2);
    if (headEnd < 0) return null;
    const end = body.indexOf(next, headEnd + 4);
    if (end < 0) return null;
    const headers = {};
    for (const line of body.subarray(at + 2, headEnd).toString('utf8').split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const disposition = headers['content-disposition'] || '';
    const name = /;\s*name="([^"]*)"/i.exec(disposition);
    const filename = /;\s*filename="([^"]*)"/i.exec(disposition);
    if (!/^form-data\b/i.test(disposition) || !name) return null;
    const bytes = body.subarray(headEnd + 4, end);
    if (filename) form.files[name[1]] = { filename: filename[1], contentType: headers['content-type'], bytes: Buffer.from(bytes) };
    else form.fields[name[1]] = bytes.toString('utf8');
    at = end + next.length;
  }
}

// The whole body as bytes; null once it passes MAX_BODY_BYTES (the rest is drained, not kept).
function readBody(req) {
  return new Promise((resolve) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size <= MAX_BODY_BYTES) chunks.push(c);
    });
    req.on('end', () => resolve(size > MAX_BODY_BYTES ? null : Buffer.concat(chunks)));
  });
}

function parseJson(bytes) {
  const text = bytes.toString('utf8');
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

// Is `address` (a socket's remoteAddress) this machine? IPv4, IPv6 and IPv4-mapped IPv6 forms.
function isLoopback(address) {
  return /^(127\.|::1$|::ffff:127\.)/.test(String(address || ''));
}

// The addresses a phone on the same network could use for this machine (IPv4, not internal).
function lanAddresses() {
  return Object.values(os.networkInterfaces()).flat().filter((a) => a && a.family === 'IPv4' && !a.internal).map((a) => a.address);
}

function startServer({ port = 3000, host = '127.0.0.1', profile = 'default', accessTtl, anyCode = false, backend = createBackend({ profile, accessTtl, anyCode }) } = {}) {
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://local');
    // WeChat's side and the test controls are for this machine only (the sandbox, the tests).
    if (url.pathname.startsWith('/__') && !isLoopback(req.socket.remoteAddress)) {
      const raw = Buffer.from(JSON.stringify({ error: 'test controls answer this machine only' }));
      res.writeHead(403, { 'content-type': 'application/json; charset=utf-8', 'content-length': raw.length });
      res.end(raw);
      return;
    }
    const bytes = await readBody(req);
    const reply = (status, answer, headers) => {
      // A Buffer goes out as it is (an avatar); anything else as JSON text.
      const raw = Buffer.isBuffer(answer) ? answer : Buffer.from(JSON.stringify(answer));
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers, 'content-length': raw.length });
      res.end(raw);
    };
    if (!bytes) return reply(413, { error: `body larger than ${MAX_BODY_BYTES} bytes` });
    // multipart/form-data (wx.uploadFile) arrives as `form`; any other body is read as JSON.
    const multipart = /^multipart\/form-data\b/i.test(req.headers['content-type'] || '');
    const body = multipart ? undefined : parseJson(bytes);
    const form = multipart ? parseMultipart(bytes, req.headers['content-type']) : undefined;
    const [status, answer, headers] = backend.handle({ method: req.method, path: url.pathname, query: url.searchParams, headers: req.headers, body, form });
    reply(status, answer, headers);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve({ server, backend, port: server.address().port }));
  });
}

module.exports = { createBackend, startServer, parseMultipart, isLoopback, lanAddresses, PROFILES, CODE_LIFETIME_MS, ACCESS_LIFETIME_S };

if (require.main === module) {
  const flag = (name, fallback) => {
    const at = process.argv.indexOf(`--${name}`);
    return at > 0 ? process.argv[at + 1] : fallback;
  };
  const port = Number(flag('port', process.env.PORT || 3000));
  const host = flag('host', '127.0.0.1');
  const anyCode = process.argv.includes('--any-code');
  const profile = flag('profile', 'default');
  const accessTtl = flag('access-ttl') === undefined ? undefined : Number(flag('access-ttl'));
  if (accessTtl !== undefined && !(Number.isInteger(accessTtl) && accessTtl >= 1)) {
    console.error('dev server: --access-ttl takes a whole number of seconds ≥ 1');
    process.exit(1);
  }
  startServer({ port, host, profile, accessTtl, anyCode }).then(({ port: actual, backend }) => {
    const ttl = PROFILES[profile].pairs ? ` (access tokens live ${backend.accessTtlS} s)` : '';
    const wildcard = host === '0.0.0.0' || host === '::';
    const shown = wildcard ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
    const lines = [`dev server (${profile} profile${ttl}${anyCode ? ', any login code' : ''}) listening on http://${shown}:${actual}`];
    if (wildcard) for (const address of lanAddresses()) lines.push(`  from a phone on this network: baseUrl 'http://${address}:${actual}'`);
    console.log(lines.join('\n')); // one write: whoever reads the first line has them all
  }, (error) => {
    console.error(`dev server: ${error.message}`);
    process.exit(1);
  });
}
