// The fake mini-program platform every JS suite runs the SDK on: one module, plain ES5, so the
// same file runs in Node, inside the strict sandbox (tests/sandbox/runtime.js) and in the `jsc`
// shell (tests/engines/jsc-bundle.js bundles it under the name its users require, '../fakes/wx').
//
// A platform fake is a surface (the platform's API names and answer shapes: `createWx` below)
// over parts that do not depend on the platform: when answers arrive (`scheduler`), the
// developer's backend together with the platform's code2Session (`createBackend`), and the
// record of what the SDK sent, with holds to keep an exchange in flight (`createCore`). Douyin's
// `tt` and Alipay's `my` belong beside `createWx`, on the same core.
//
//   var fake = createWx({ schedule: 2 });
//   createSession({ baseUrl: 'https://api.test', wx: fake.wx, ... });
//   fake.revokeAll();                      // the server forgets every token
//   fake.sentTo('/api/avatar', 'upload');  // what was sent there: [{ kind, options, task, result, ... }]
//
// createWx(options), every option optional:
//   schedule   when the platform answers (login, checkSession, request/upload/download, abort):
//              'jitter' (default: 2–12 ms, so answers overtake each other, as on a network),
//              a number (that many ms), 'macrotask' (the next turn), 'sync' (inside the call)
//              or a function (fn) that runs fn when it likes
//   respond    function (options, fake, kind) → the answer to one request/upload/download
//              (kind 'request' | 'upload' | 'download'), read when it is due: an object
//              ({ statusCode, data, header, ... }: success), { errMsg } not ending in ':ok'
//              (fail), null (never answers; an abort still ends it) or undefined (the
//              built-in backend answers)
//   storage    the object behind get/set/removeStorageSync (default {}); values go in as JSON
//              copies and come out as JSON copies, as the platform's do
//   rawStorage true: reads hand back the stored value itself, so a test can plant what JSON
//              cannot copy (cycles, Proxies, getters)
//   record     false: keep no list of exchanges and login bodies (long runs); counts are kept
//   media      what wx.chooseMedia picks: { tempFilePath, size, fileType } (default a 199-byte
//              PNG at wxfile://tmp_a1.png), or false: the user cancels
//   The backend's (see createBackend):
//   pairs      true: access + refresh token pairs (无感刷新): logins and /refresh answer with a
//              refreshToken (ref-1, ref-2, …) beside the token
//   accessTtl  seconds an access token lives (the `expiresIn` answered; default 7200); when
//              given, the backend also refuses a token that old, by Date.now()
//   rotate     false: /refresh answers a new token only, the refresh token stays (default true:
//              a new refresh token each time, the old one refused from then on)
//   business   true: a `{ code, msg, data }` backend (HTTP 200 for business answers, see
//              createBackend)
//
// The fake it returns:
//   wx          getStorageSync/setStorageSync/removeStorageSync, checkSession, login, request,
//               uploadFile, downloadFile (each returns a task: abort(), progress/headers no-ops),
//               showToast, chooseMedia
//   storage     the storage object itself
//   backend     the server's state (see createBackend); set backend.alwaysInvalid,
//               backend.refuseLogins, backend.refuseRefresh, backend.rotate or
//               backend.needPhone to change how it answers
//   counts      { login, checkSession, request, upload, download, abort }
//   sent        every exchange in order: { kind, options, task, answered, aborted, result }
//   toasts, picks   the options of every showToast / chooseMedia call
//   requests()  the options of every wx.request, in order
//   sentTo(path, kind)  the exchanges whose URL path is `path` (and of that kind)
//   revokeAll() (access and refresh tokens) · revokeAccess() (access tokens only: they
//               "expired") · revokeRefresh() · accept(token) · acceptRefresh(refreshToken) ·
//               secrets() (every token, refresh token and login code handed out)
//   refreshes() the /refresh exchanges the backend answered: { refreshToken (what was sent, or
//               undefined), where ('body' | 'header' | null), key, status }
//   hold(predicate (kind, options) → bool) · release()   exchanges matching wait for release()
//               (release(filter) answers only the held ones filter(kind, options) picks)
//   holdLogin() · releaseLogin()                          wx.login's answers wait likewise
// Also exported: sign(text), the hash a signing hook and backend.verify compute (8 hex digits).
//
// The other platforms (tests/fakes/PLATFORMS.md has each fact with its source), on the same core:
//   createTt(options)    Douyin  `tt`    createMy(options)    Alipay  `my`
//   createQq(options)    QQ      `qq`    createSwan(options)  Baidu   `swan`
//   createKs(options)    Kuaishou `ks`
//   createPlatform(name, options)  name: 'wechat' | 'douyin' | 'alipay' | 'qq' | 'baidu' | 'kuaishou'
//                                  (or the global's name: 'wx', 'tt', 'my', 'qq', 'swan', 'ks')
// Each returns the fake above with the platform object as fake.api and under its global's name
// (fake.tt, fake.my, …), fake.global ('tt', …) and fake.platform ('douyin', …), plus
//   logins      the options of every login call (tt.login, my.getAuthCode, …), callbacks left out
//   counts.loginUi   how often Douyin's own login UI opened (tt.login with force, user not logged in)
// Options beyond createWx's (every one optional):
//   loginFails  an object: every login call fails with it (as the platform words it:
//               { errMsg } on tt/qq/swan/ks, { error, errorMessage } on my)
//   tt: loggedIn (default true) false: the user is not logged in to Douyin, so tt.login answers
//               only { anonymousCode, isLogin: false } unless `force` (whose default is true!)
//               opens Douyin's login UI, where the user does `loginUi`: 'login' (default) or
//               'cancel' (tt.login fails 'login:fail host login fail'), after `loginUiMs`
//               (default 0: the user's time in that UI)
//       missingKey 'empty' (default: getStorageSync answers '' for a missing key) or 'throw'
//               (it throws 'getStorageSync:fail data not found, key == K', as Douyin's
//               error table lists)
//   my: headerAlias true: my.request also reads `header` and answers statusCode/header beside
//               status/headers (newer clients, per @mini-types/my 3.x); default: `headers` only
//       httpErrors 'fail' (default: a status other than 2xx fails with
//               { error: 19, errorMessage: 'http status error', status, data, headers }) or
//               'success'
//       upload  'current' (default: `name` or `fileName`; `fileType`, when given, one of
//               image/video/audio) or 'legacy' (`fileName` and `fileType` both required, as the
//               2021 docs said)
//       storageFull true: every my.setStorageSync answers { error: 12, … } (it never throws)
//   swan: checkSessionStyle 'fail' (default: an invalid session calls fail, base library
//               > 3.120.9) or 'result' (success with { result: boolean }, older base libraries)
// `respond` answers for every platform the same way: undefined (the backend), null (never), an
// HTTP answer { statusCode, data, header } (the platform shapes it: my.request answers
// { status, data, headers }, or fails with error 19), or the platform's own failure object
// ({ errMsg } on tt/qq/swan/ks, { error, errorMessage } on my), handed to `fail` as it is.
'use strict';

var hasOwn = Object.prototype.hasOwnProperty;

function noop() {}

function copy(value) {
  return JSON.parse(JSON.stringify(value));
}

// A JSON copy, or the value itself when JSON can't copy it (a cycle, a throwing getter).
function copyIfPossible(value) {
  try {
    return copy(value);
  } catch (e) {
    return value;
  }
}

function pathOf(url) {
  return String(url).replace(/^https?:\/\/[^/]+/i, '').replace(/[?#][\s\S]*$/, '');
}

function queryParam(url, name) {
  var m = new RegExp('[?&]' + name + '=([^&#]*)').exec(String(url));
  return m ? decodeURIComponent(m[1]) : undefined;
}

// The values of `header`'s fields named one of `names` (lower case), in any spelling.
function headerValues(header, names) {
  var values = [];
  if (!header || typeof header !== 'object') return values;
  for (var k in header) {
    if (hasOwn.call(header, k) && names.indexOf(k.toLowerCase()) >= 0) values.push(header[k]);
  }
  return values;
}

// A hash of `text` (32-bit FNV-1a of its UTF-16 code units, 8 hex digits): what a signing
// beforeRequest hook and backend.verify both compute. Not cryptographic; a test's signature.
function sign(text) {
  var h = 0x811c9dc5;
  text = String(text);
  for (var i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    // h * 16777619 (the FNV prime) modulo 2^32, without Math.imul (ES5)
    h = (h + (h << 1) + (h << 4) + (h << 7) + (h << 8) + (h << 24)) >>> 0;
  }
  return ('0000000' + h.toString(16)).slice(-8);
}

// ---- when answers arrive --------------------------------------------------------------------

// schedule ('jitter' | ms | 'macrotask' | 'sync' | function) → function (fn) running fn then.
function scheduler(schedule) {
  if (typeof schedule === 'function') return schedule;
  if (typeof schedule === 'number') return function (fn) { setTimeout(fn, schedule); };
  if (schedule === 'sync') return function (fn) { fn(); };
  if (schedule === 'macrotask') {
    // Node has setImmediate; the sandbox and jsc have only timers.
    if (typeof setImmediate === 'function') return function (fn) { setImmediate(fn); };
    return function (fn) { setTimeout(fn, 0); };
  }
  if (schedule === undefined || schedule === 'jitter') {
    var tick = 0;
    return function (fn) {
      tick += 1;
      setTimeout(fn, 2 + ((tick * 7) % 11));
    };
  }
  throw new Error('fake platform: unknown schedule ' + schedule);
}

// ---- the server -------------------------------------------------------------------------------

// The developer's backend and the platform's code2Session in one, as the demo's dev server plays
// them (its default profile):
//   …/login {code} (code in the body, the query, or an X-WX-Code header) → 200 { token, expiresIn,
//     session_key }; a code works once (40163 when used again, 40029 when unknown: 400 {errcode}).
//     Alipay's authCode and Douyin's anonymousCode are codes like any other (one use each), found
//     under any body field or query parameter (`code`, `authCode`, `anonymousCode`, or whatever
//     name carries an issued code); loginCodes records { field, kind } of each login.
//   /auth → 200 { errCode: 0 } with a valid token, else { errCode: 40001 }
//   any other path → 200 (request: { ok: true, path }; upload: JSON text; download: a temp file)
//     with a valid token, else 401
// A request carries its token in a `token` or `Authorization` header, either alone or after a
// prefix ending in a space ('Bearer tok-1'). Tokens are tok-1, tok-2, … (logins and refreshes
// count alike); codes code-1, code-2, …; refresh tokens ref-1, ref-2, …
//
// With `pairs` (access + refresh tokens, 无感刷新):
//   …/login → 200 { token, expiresIn (accessTtl), refreshToken, session_key }
//   …/refresh, the refresh token in any body field or any header (alone or after 'Bearer ')
//     → 200 { token, expiresIn, refreshToken } (rotate: a new refresh token, the old one refused
//     from then on; rotate false: { token, expiresIn }, the refresh token stays), or 401
//     { error: 'invalid refresh token' } for one unknown, revoked or rotated away (or with
//     refuseRefresh). A user's phone (below) goes with the refresh.
// With `business` (the { code, msg, data } backends most Chinese APIs are): every answer to a
// request is HTTP 200 (uploads and downloads keep their statuses):
//   login → { code: 0, msg: 'ok', data: { token, expiresIn, refreshToken? } }, refused
//     { code: 40029, msg }; /refresh → { code: 0, data: {…} } or { code: 40102, msg };
//   an API path → { code: 0, msg: 'ok', data: { ok, path } }; no valid token { code: -1, msg };
//   backend.failures[path] = { code, msg } answers that business failure instead (with or
//   without `business`: HTTP 200 either way).
// backend.needPhone = [path, …]: those paths answer "the user must act" (403, or 200 with
//   `business`: { code: 1001, msg: 'bind a phone number first' }) until the user logged in with a
//   `phoneCode` in the login body (the app's login page: session.login({ phoneCode })), or
//   backend.bindPhone(token) said so of a token made elsewhere.
// backend.verify = function (options) → true | false: an API request it refuses gets 400
//   { code: 'BAD_SIGNATURE' } (backend.badSignatures counts them): a signing hook checked on
//   the server's side. sign(text) below is a hash both sides can compute.
function createBackend(options) {
  options = options || {};
  var record = options.record !== false;
  var backend = {
    issued: 0, // codes handed out by the platform's login (of every kind)
    logins: 0, // logins the backend accepted
    codes: {}, // code → its kind ('code' | 'authCode' | 'anonymousCode') while unused
    used: {}, // code → true once used
    valid: {}, // token → true while accepted
    tokens: [], // every token issued, in order
    latest: null, // the last token issued
    loginBodies: [], // the data of every login request (a copy; null without data)
    loginCodes: [], // every login request's code: { field, kind } (field null: none found)
    refuseLogins: false, // every login → 400 { errcode: 40029 }
    alwaysInvalid: false, // no token is accepted, ever
    pairs: options.pairs === true, // logins and refreshes hand out refresh tokens
    rotate: options.rotate !== false, // a refresh hands out a new refresh token, refusing the old
    business: options.business === true, // { code, msg, data } answers, HTTP 200
    accessTtl: typeof options.accessTtl === 'number' ? options.accessTtl : 7200, // seconds
    refuseRefresh: false, // every refresh → refused
    refreshValid: {}, // refresh token → true while accepted
    refreshTokens: [], // every refresh token issued, in order
    refreshLog: [], // every /refresh answered: { refreshToken, where, key, status }
    failures: {}, // path → { code, msg }: a business failure, HTTP 200
    needPhone: [], // paths that answer "the user must act" until a phone login
    verify: null, // function (options) → bool: refuses API requests with a bad signature
    badSignatures: 0,
    issuedTokens: 0, // access tokens issued (logins and refreshes)
  };
  // Access tokens die by the clock only when the test asked for a lifetime.
  var timed = typeof options.accessTtl === 'number';
  var expiry = {}; // token → Date.now() after which it is refused (timed only)
  var phones = {}; // access or refresh token → the phone code its user logged in with

  // kind: 'code' (default) → code-1, code-2, …; 'authCode' → auth-1, …; 'anonymousCode' → anon-1, …
  var counters = { code: 0, authCode: 0, anonymousCode: 0 };
  var kinds = {}; // code → kind, kept after use
  var PREFIX = { code: 'code-', authCode: 'auth-', anonymousCode: 'anon-' };
  backend.issueCode = function (kind) {
    kind = kind || 'code';
    backend.issued += 1;
    counters[kind] += 1;
    var code = PREFIX[kind] + counters[kind];
    backend.codes[code] = kind;
    kinds[code] = kind;
    return code;
  };

  function live(token) {
    return backend.valid[token] === true && !(timed && hasOwn.call(expiry, token) && Date.now() >= expiry[token]);
  }
  // The access token `value` names (alone or after a prefix), if the backend accepts it.
  function accepted(value) {
    if (typeof value !== 'string' || backend.alwaysInvalid) return null;
    if (live(value)) return value;
    var space = value.indexOf(' ');
    return space >= 0 && live(value.slice(space + 1)) ? value.slice(space + 1) : null;
  }
  function tokenOf(header) {
    var values = headerValues(header, ['token', 'authorization']);
    for (var i = 0; i < values.length; i++) if (accepted(values[i])) return accepted(values[i]);
    return null;
  }
  backend.authorized = function (header) {
    return tokenOf(header) !== null;
  };

  // A new access token (and, with pairs, refresh token) for a user with `phone`.
  function issue(phone) {
    backend.issuedTokens += 1;
    var token = 'tok-' + backend.issuedTokens;
    backend.valid[token] = true;
    backend.tokens.push(token);
    backend.latest = token;
    if (timed) expiry[token] = Date.now() + backend.accessTtl * 1000;
    if (phone) phones[token] = phone;
    return token;
  }
  function issueRefresh(phone) {
    var refresh = 'ref-' + (backend.refreshTokens.length + 1);
    backend.refreshValid[refresh] = true;
    backend.refreshTokens.push(refresh);
    if (phone) phones[refresh] = phone;
    return refresh;
  }
  backend.acceptRefresh = function (refresh) { backend.refreshValid[refresh] = true; };
  // The user of `token` (an access or refresh token) has bound a phone (see needPhone).
  backend.bindPhone = function (token, phoneCode) { phones[token] = phoneCode || 'bound'; };

  var CODE_FIELDS = ['code', 'authCode', 'anonymousCode'];
  function isIssued(value) {
    return typeof value === 'string' && (hasOwn.call(backend.codes, value) || hasOwn.call(backend.used, value));
  }
  // → { code, field }: the known field names first, then any field holding an issued code.
  function findCode(o) {
    var data = o.data && typeof o.data === 'object' ? o.data : {};
    var i;
    var k;
    for (i = 0; i < CODE_FIELDS.length; i++) {
      if (typeof data[CODE_FIELDS[i]] === 'string' && data[CODE_FIELDS[i]]) return { code: data[CODE_FIELDS[i]], field: CODE_FIELDS[i] };
    }
    for (k in data) if (hasOwn.call(data, k) && isIssued(data[k])) return { code: data[k], field: k };
    for (i = 0; i < CODE_FIELDS.length; i++) {
      var q = queryParam(o.url, CODE_FIELDS[i]);
      if (q) return { code: q, field: CODE_FIELDS[i] };
    }
    var query = /\?([^#]*)/.exec(String(o.url));
    if (query) {
      var pairs = query[1].split('&');
      for (i = 0; i < pairs.length; i++) {
        var eq = pairs[i].indexOf('=');
        var value = eq < 0 ? '' : decodeURIComponent(pairs[i].slice(eq + 1));
        if (isIssued(value)) return { code: value, field: decodeURIComponent(pairs[i].slice(0, eq)) };
      }
    }
    var inHeader = headerValues(o.header, ['x-wx-code'])[0];
    if (inHeader) return { code: inHeader, field: 'X-WX-Code' };
    return { code: undefined, field: null };
  }

  function login(o) {
    var found = findCode(o);
    var code = found.code;
    if (record) {
      backend.loginBodies.push(o.data === undefined ? null : copyIfPossible(o.data));
      backend.loginCodes.push({ field: found.field, kind: hasOwn.call(kinds, code) ? kinds[code] : null });
    }
    var refused = backend.refuseLogins ? 40029 : backend.used[code] ? 40163 : !backend.codes[code] ? 40029 : 0;
    if (refused) return backend.business ? answer(200, { code: refused, msg: 'login refused (' + refused + ')' }) : answer(400, { errcode: refused });
    delete backend.codes[code];
    backend.used[code] = true;
    backend.logins += 1;
    var data = o.data && typeof o.data === 'object' ? o.data : {};
    var phone = typeof data.phoneCode === 'string' && data.phoneCode ? data.phoneCode : null;
    var token = issue(phone);
    var pair = { token: token, expiresIn: backend.accessTtl };
    if (backend.pairs) pair.refreshToken = issueRefresh(phone);
    if (backend.business) return answer(200, { code: 0, msg: 'ok', data: pair });
    pair.session_key = 'NEVER-STORED';
    return answer(200, pair);
  }

  function answer(statusCode, data) {
    return { statusCode: statusCode, data: data };
  }

  // The refresh token a /refresh request carries: in any body field or header, alone or after a
  // prefix ('Bearer ref-1'); the first issued one found, else the `refreshToken` field as sent.
  function findRefresh(o) {
    var issued = function (v) {
      if (typeof v !== 'string') return null;
      var bare = v.indexOf(' ') >= 0 ? v.slice(v.indexOf(' ') + 1) : v;
      return backend.refreshTokens.indexOf(bare) >= 0 || hasOwn.call(backend.refreshValid, bare) ? bare : null;
    };
    var data = o.data && typeof o.data === 'object' ? o.data : {};
    var k;
    for (k in data) if (hasOwn.call(data, k) && issued(data[k])) return { refreshToken: issued(data[k]), where: 'body', key: k };
    var header = o.header && typeof o.header === 'object' ? o.header : {};
    for (k in header) if (hasOwn.call(header, k) && issued(header[k])) return { refreshToken: issued(header[k]), where: 'header', key: k };
    if (data.refreshToken !== undefined) return { refreshToken: data.refreshToken, where: 'body', key: 'refreshToken' };
    return { refreshToken: undefined, where: null, key: null };
  }

  function refresh(o) {
    var found = findRefresh(o);
    var ref = found.refreshToken;
    var ok = !backend.refuseRefresh && !backend.alwaysInvalid && typeof ref === 'string' && backend.refreshValid[ref] === true;
    var result;
    if (!ok) {
      result = backend.business ? answer(200, { code: 40102, msg: 'refresh token invalid' }) : answer(401, { error: 'invalid refresh token' });
    } else {
      var phone = hasOwn.call(phones, ref) ? phones[ref] : null;
      var pair = { token: issue(phone), expiresIn: backend.accessTtl };
      if (backend.rotate) {
        delete backend.refreshValid[ref];
        pair.refreshToken = issueRefresh(phone);
      }
      result = backend.business ? answer(200, { code: 0, msg: 'ok', data: pair }) : answer(200, pair);
    }
    backend.refreshLog.push({ refreshToken: ref, where: found.where, key: found.key, status: ok ? 200 : result.statusCode === 200 ? 'refused' : result.statusCode });
    return result;
  }

  function needsPhone(path, token) {
    return backend.needPhone.indexOf(path) >= 0 && !hasOwn.call(phones, token);
  }

  // kind 'request' | 'upload' | 'download'; o: what the SDK handed the platform.
  backend.serve = function (kind, o) {
    var path = pathOf(o.url);
    if (/\/login$/.test(path)) return login(o);
    if (/\/refresh$/.test(path)) return refresh(o);
    var token = tokenOf(o.header);
    var ok = token !== null;
    if (path === '/auth') return { statusCode: 200, data: { errCode: ok ? 0 : 40001 } };
    if (ok && backend.verify && !backend.verify(o)) {
      backend.badSignatures += 1;
      return { statusCode: 400, data: { code: 'BAD_SIGNATURE' }, header: {} };
    }
    if (ok && needsPhone(path, token)) {
      var act = { code: 1001, msg: 'bind a phone number first' };
      return kind === 'request' ? { statusCode: backend.business ? 200 : 403, data: act, header: {} } : { statusCode: 403, data: JSON.stringify(act) };
    }
    if (kind === 'upload') {
      // wx.uploadFile's data is the server's text, not parsed.
      return ok ? { statusCode: 200, data: JSON.stringify({ url: 'https://cdn.test/' + o.name + '.png', code: 0 }) } : { statusCode: 401, data: '{"code":-1}' };
    }
    if (kind === 'download') {
      return ok ? { statusCode: 200, tempFilePath: 'wxfile://tmp_download.png' } : { statusCode: 401, tempFilePath: 'wxfile://tmp_error.html' };
    }
    if (backend.business && !ok) return { statusCode: 200, data: { code: -1, msg: 'session invalid' }, header: {} };
    var failure = ok && hasOwn.call(backend.failures, path) ? backend.failures[path] : null;
    if (failure) return { statusCode: 200, data: { code: failure.code, msg: failure.msg, data: null }, header: { 'X-Request-Id': 'req-' + backend.tokens.length } };
    if (backend.business) return { statusCode: 200, data: { code: 0, msg: 'ok', data: { ok: true, path: path } }, header: {} };
    return ok ? { statusCode: 200, data: { ok: true, path: path }, header: {} } : { statusCode: 401, data: {}, header: {} };
  };

  return backend;
}

// ---- the parts every platform shares ------------------------------------------------------------

// The fake's state and bookkeeping, and the two things a platform surface builds on:
// exchange(kind, options, surface) → a task, and login(send).
// surface (one per platform and kind of exchange):
//   names     { ok: 'request:ok', abort: 'request:fail abort' } (WeChat-shaped platforms)
//   view(o)   what the backend reads ({ url, method, header, data, name }) when the platform
//             names its options otherwise (default: the options themselves)
//   check(o)  a failure object when the platform refuses the options before sending, else null
//   deliver(answer, entry) → { ok, res }: success (ok) or fail, with the platform's answer
//   abortFailure(entry)    what fail gets after task.abort()
function createCore(options) {
  options = options || {};
  var later = scheduler(options.schedule);
  var record = options.record !== false;
  var backend = createBackend(options);
  var holds = [];
  var held = [];
  var loginHeld = false;
  var heldLogins = [];

  var fake = {
    storage: options.storage || {},
    backend: backend,
    counts: { login: 0, checkSession: 0, request: 0, upload: 0, download: 0, abort: 0 },
    sent: [],
    toasts: [],
    picks: [],
    logins: [],
    pathOf: pathOf,
    requests: function () {
      var list = [];
      for (var i = 0; i < fake.sent.length; i++) if (fake.sent[i].kind === 'request') list.push(fake.sent[i].options);
      return list;
    },
    sentTo: function (path, kind) {
      return fake.sent.filter(function (e) { return pathOf(e.options.url) === path && (!kind || e.kind === kind); });
    },
    revokeAll: function () {
      backend.valid = {};
      backend.refreshValid = {};
    },
    revokeAccess: function () { backend.valid = {}; },
    revokeRefresh: function () { backend.refreshValid = {}; },
    accept: function (token) { backend.valid[token] = true; },
    acceptRefresh: function (refresh) { backend.acceptRefresh(refresh); },
    refreshes: function () { return backend.refreshLog.slice(); },
    secrets: function () {
      return backend.tokens.concat(backend.refreshTokens, Object.keys(backend.codes), Object.keys(backend.used));
    },
    hold: function (predicate) { holds.push(predicate); },
    // release(): every held exchange answers, and nothing more is held. release(filter): only
    // the held exchanges for which filter(kind, options) is true answer; the holds stay.
    release: function (filter) {
      var list = held;
      if (filter) {
        list = held.filter(function (entry) { return filter(entry.kind, entry.options); });
        held = held.filter(function (entry) { return list.indexOf(entry) < 0; });
      } else {
        holds = [];
        held = [];
      }
      list.forEach(function (entry) { later(function () { answer(entry); }); });
    },
    holdLogin: function () { loginHeld = true; },
    releaseLogin: function () {
      loginHeld = false;
      var list = heldLogins;
      heldLogins = [];
      list.forEach(function (reply) { later(reply); });
    },
  };

  function answer(entry) {
    if (entry.answered) return;
    var o = entry.options;
    var surface = entry.surface;
    var refused = surface.check ? surface.check(o) : null;
    var a;
    if (refused) {
      a = refused;
    } else {
      a = options.respond ? options.respond(o, fake, entry.kind) : undefined;
      if (a === undefined) a = backend.serve(entry.kind, surface.view ? surface.view(o) : o);
    }
    entry.result = a;
    if (a === null) return; // never answers
    entry.answered = true;
    var out = refused ? { ok: false, res: refused } : surface.deliver(a, entry);
    entry.delivered = out.res;
    if (out.ok) {
      if (o.success) o.success(out.res);
    } else if (o.fail) {
      o.fail(out.res);
    }
    if (o.complete) o.complete(out.res);
  }

  function abort(entry) {
    fake.counts.abort += 1;
    entry.aborted = true;
    if (entry.answered) return;
    entry.answered = true;
    later(function () {
      var o = entry.options;
      var failure = entry.surface.abortFailure ? entry.surface.abortFailure(entry) : { errMsg: entry.surface.names.abort };
      if (o.fail) o.fail(failure);
      if (o.complete) o.complete(failure);
    });
  }

  function exchange(kind, o, surface) {
    fake.counts[kind] += 1;
    var entry = { kind: kind, options: o, task: null, answered: false, aborted: false, result: undefined, delivered: undefined, surface: surface, names: surface.names };
    entry.task = {
      kind: kind,
      abort: function () { abort(entry); },
      onProgressUpdate: noop,
      offProgressUpdate: noop,
      onHeadersReceived: noop,
      offHeadersReceived: noop,
    };
    if (record) fake.sent.push(entry);
    var hold = false;
    for (var i = 0; i < holds.length; i++) if (holds[i](kind, o)) hold = true;
    if (hold) held.push(entry);
    else later(function () { answer(entry); });
    return entry.task;
  }

  // A login call: counted, and `send` (which answers it) run when due, or once released.
  function login(send) {
    fake.counts.login += 1;
    if (loginHeld) heldLogins.push(send);
    else later(send);
  }

  return { fake: fake, later: later, exchange: exchange, login: login, options: options };
}

// success or fail, then complete, as every platform's callbacks run.
function settle(o, ok, res) {
  if (!o) return;
  if (ok) {
    if (o.success) o.success(res);
  } else if (o.fail) {
    o.fail(res);
  }
  if (o.complete) o.complete(res);
}

// The options an app passed, without its callbacks (for fake.logins).
function withoutCallbacks(o) {
  var out = {};
  if (!o || typeof o !== 'object') return out;
  for (var k in o) if (hasOwn.call(o, k) && typeof o[k] !== 'function') out[k] = o[k];
  return out;
}

// Byte length of `text` in UTF-8 (no TextEncoder or Buffer in every runtime this file runs in).
function utf8Length(text) {
  return unescape(encodeURIComponent(text)).length;
}

// ---- WeChat and the platforms shaped like it ------------------------------------------------------

var WX_NAMES = {
  request: { ok: 'request:ok', abort: 'request:fail abort' },
  upload: { ok: 'uploadFile:ok', abort: 'uploadFile:fail abort' },
  download: { ok: 'downloadFile:ok', abort: 'downloadFile:fail abort' },
};

// WeChat's way: { errMsg } not ending in ':ok' fails; any other answer is a success, whatever
// its statusCode, completed (in place, so entry.result is the object success got) with
// errMsg when `withErrMsg` and, for a request, header.
function wxShaped(withErrMsg) {
  return function (a, entry) {
    if (a && typeof a.errMsg === 'string' && !/:ok$/.test(a.errMsg)) return { ok: false, res: a };
    if (a && Object.isExtensible(a)) {
      if (withErrMsg && a.errMsg === undefined) a.errMsg = entry.surface.names.ok;
      if (entry.kind === 'request' && a.header === undefined) a.header = {};
    }
    return { ok: true, res: a };
  };
}

function wxSurfaces(withErrMsg) {
  var deliver = wxShaped(withErrMsg);
  return {
    request: { names: WX_NAMES.request, deliver: deliver },
    upload: { names: WX_NAMES.upload, deliver: deliver },
    download: { names: WX_NAMES.download, deliver: deliver },
  };
}

// getStorageSync(key) / setStorageSync(key, data) / removeStorageSync(key), values as JSON
// copies. missing: 'empty' (answers '') or 'throw' (`missingError(key)` is thrown).
function positionalStorage(fake, options, missing, missingError) {
  var storage = fake.storage;
  return {
    getStorageSync: function (key) {
      if (!hasOwn.call(storage, key)) {
        if (missing === 'throw') throw missingError(key);
        return '';
      }
      return options.rawStorage ? storage[key] : copy(storage[key]);
    },
    setStorageSync: function (key, value) { storage[key] = copy(value); },
    removeStorageSync: function (key) { delete storage[key]; },
  };
}

// A login that answers { code } like wx.login (qq.login, swan.login, ks.login), or fails with
// options.loginFails. res(code) → the success object.
function codeLogin(core, res) {
  var fake = core.fake;
  var options = core.options;
  return function (o) {
    fake.logins.push(withoutCallbacks(o));
    if (options.loginFails) {
      var failure = copy(options.loginFails);
      core.login(function () { settle(o, false, failure); });
      return;
    }
    var answer = res(fake.backend.issueCode('code'));
    core.login(function () { settle(o, true, answer); });
  };
}

// checkSession that succeeds once the platform has handed out a login code; `fail(o)` answers
// otherwise.
function codeCheckSession(core, valid, fail) {
  return function (o) {
    core.fake.counts.checkSession += 1;
    core.later(function () {
      if (valid()) settle(o, true, { errMsg: 'checkSession:ok' });
      else fail(o);
    });
  };
}

function exchanges(core, api, surfaces) {
  api.request = function (o) { return core.exchange('request', o, surfaces.request); };
  api.uploadFile = function (o) { return core.exchange('upload', o, surfaces.upload); };
  api.downloadFile = function (o) { return core.exchange('download', o, surfaces.download); };
  return api;
}

// Names the platform object on the fake: fake.api, fake[global], fake.global, fake.platform.
function expose(fake, platform, global, api) {
  fake.api = api;
  fake[global] = api;
  fake.global = global;
  fake.platform = platform;
  return fake;
}

function createWx(options) {
  options = options || {};
  var core = createCore(options);
  var fake = core.fake;
  var later = core.later;
  var media = options.media === undefined ? { tempFilePath: 'wxfile://tmp_a1.png', size: 199, fileType: 'image' } : options.media;

  var wx = positionalStorage(fake, options, 'empty');
  wx.checkSession = function (o) {
    fake.counts.checkSession += 1;
    later(function () {
      if (o && o.success) o.success({ errMsg: 'checkSession:ok' });
      if (o && o.complete) o.complete({ errMsg: 'checkSession:ok' });
    });
  };
  wx.login = codeLogin(core, function (code) { return { code: code, errMsg: 'login:ok' }; });
  exchanges(core, wx, wxSurfaces(true));
  wx.showToast = function (o) { fake.toasts.push(o); };
  wx.chooseMedia = function (o) {
    fake.picks.push(o);
    later(function () {
      if (media === false) {
        if (o.fail) o.fail({ errMsg: 'chooseMedia:fail cancel' });
      } else if (o.success) {
        o.success({ tempFiles: [{ tempFilePath: media.tempFilePath, size: media.size, fileType: media.fileType }], type: media.fileType, errMsg: 'chooseMedia:ok' });
      }
    });
  };
  return expose(fake, 'wechat', 'wx', wx);
}

// ---- Douyin (tt) ------------------------------------------------------------------------------------
// WeChat-shaped network and storage; tt.login's `force` defaults to true and, for a user not
// logged in to Douyin, either opens Douyin's login UI (force) or answers only an anonymousCode.
function createTt(options) {
  options = options || {};
  var core = createCore(options);
  var fake = core.fake;
  var backend = fake.backend;
  var loggedIn = options.loggedIn !== false;
  var codeIssued = false; // tt.checkSession succeeds only after a (non-anonymous) login
  fake.counts.loginUi = 0;
  // The user logs in to (true) or out of (false) the Douyin app.
  fake.setLoggedIn = function (value) { loggedIn = Boolean(value); };

  var tt = positionalStorage(fake, options, options.missingKey === 'throw' ? 'throw' : 'empty', function (key) {
    var error = new Error('getStorageSync:fail data not found, key == ' + key);
    error.errMsg = error.message;
    error.errorCode = 100599;
    error.errorType = 'D';
    return error;
  });
  tt.login = function (o) {
    fake.logins.push(withoutCallbacks(o));
    if (options.loginFails) {
      var failure = copy(options.loginFails);
      core.login(function () { settle(o, false, failure); });
      return;
    }
    var force = !o || o.force === undefined ? true : Boolean(o.force); // documented default: true
    if (!loggedIn && force) {
      fake.counts.loginUi += 1;
      var userActs = function () {
        if (options.loginUi === 'cancel') {
          core.login(function () { settle(o, false, { errMsg: 'login:fail host login fail' }); });
          return;
        }
        loggedIn = true;
        answerLogin(o);
      };
      if (options.loginUiMs) setTimeout(userActs, options.loginUiMs);
      else userActs();
      return;
    }
    answerLogin(o);
  };
  function answerLogin(o) {
    // anonymousCode: "无论登录与否都会返回"; code: only for a user logged in to Douyin.
    var res = { anonymousCode: backend.issueCode('anonymousCode'), isLogin: loggedIn, errMsg: 'login:ok' };
    if (loggedIn) {
      res.code = backend.issueCode('code');
      codeIssued = true;
    }
    core.login(function () { settle(o, true, res); });
  }
  tt.checkSession = codeCheckSession(core, function () { return codeIssued && loggedIn; }, function (o) {
    settle(o, false, { errMsg: 'checkSession:fail session expired' });
  });
  exchanges(core, tt, wxSurfaces(true));
  return expose(fake, 'douyin', 'tt', tt);
}

// ---- Alipay (my) ------------------------------------------------------------------------------------
// my.getAuthCode instead of a login; my.request with `headers`, answering { status, data, headers }
// and failing { error, errorMessage } (error 19 for an HTTP status other than 2xx); storage calls
// that take and answer objects and never throw.
function isMyFailure(a) {
  return a !== null && typeof a === 'object' && typeof a.error === 'number';
}

var MY_FILE_TYPES = ['image', 'video', 'audio'];

function createMy(options) {
  options = options || {};
  var core = createCore(options);
  var fake = core.fake;
  var backend = fake.backend;
  var storage = fake.storage;
  var alias = options.headerAlias === true;
  var my = {};

  my.getAuthCode = function (o) {
    fake.logins.push(withoutCallbacks(o));
    if (options.loginFails) {
      var failure = copy(options.loginFails);
      core.login(function () { settle(o, false, failure); });
      return;
    }
    var scopes = !o || o.scopes === undefined ? 'auth_base' : o.scopes;
    var res = { authCode: backend.issueCode('authCode'), authSuccessScopes: [].concat(scopes), authErrorScopes: {} };
    core.login(function () { settle(o, true, res); });
  };

  function keyOf(o) {
    return o && typeof o === 'object' && typeof o.key === 'string' && o.key ? o.key : null;
  }
  var EMPTY = function () { return { error: 2, errorMessage: '必填参数为空' }; };
  my.getStorageSync = function (o) {
    var key = keyOf(o);
    if (key === null) return EMPTY();
    // A missing key: the docs don't say; Taro's Alipay adapter reads `data` and treats null as none.
    if (!hasOwn.call(storage, key)) return { data: null };
    return { data: options.rawStorage ? storage[key] : copy(storage[key]) };
  };
  my.setStorageSync = function (o) {
    var key = keyOf(o);
    if (key === null || o.data === undefined) return EMPTY();
    if (options.storageFull) return { error: 12, errorMessage: '存储总大小达到上限' };
    var text = JSON.stringify(o.data);
    if (utf8Length(text) > 200 * 1024) return { error: 14, errorMessage: 'data长度超限' };
    var next = {};
    for (var k in storage) if (hasOwn.call(storage, k)) next[k] = storage[k];
    next[key] = JSON.parse(text);
    if (utf8Length(JSON.stringify(next)) > 10 * 1024 * 1024) return { error: 12, errorMessage: '存储总大小达到上限' };
    storage[key] = next[key];
    return { success: true };
  };
  my.removeStorageSync = function (o) {
    var key = keyOf(o);
    if (key === null) return EMPTY();
    delete storage[key];
    return { success: true };
  };

  function headerOf(o) {
    // my.request reads `headers` (older docs name nothing else); newer clients also `header`.
    if (!alias) return o.headers;
    var merged = {};
    var k;
    for (k in o.header || {}) if (hasOwn.call(o.header, k)) merged[k] = o.header[k];
    for (k in o.headers || {}) if (hasOwn.call(o.headers, k)) merged[k] = o.headers[k];
    return merged;
  }
  var request = {
    names: { ok: null, abort: 'request:fail abort' },
    view: function (o) { return { url: o.url, method: o.method, data: o.data, header: headerOf(o) }; },
    deliver: function (a) {
      if (isMyFailure(a)) return { ok: false, res: a };
      var headers = a.header || {};
      var status = a.statusCode;
      if (options.httpErrors !== 'success' && !(status >= 200 && status < 300)) {
        return { ok: false, res: { error: 19, errorMessage: 'http status error', status: status, data: a.data, headers: headers } };
      }
      var res = { data: a.data, status: status, headers: headers };
      if (alias) {
        res.statusCode = status;
        res.header = headers;
      }
      return { ok: true, res: res };
    },
    abortFailure: function () { return { error: 9, errorMessage: 'request:fail abort' }; },
  };
  var upload = {
    names: { ok: null, abort: 'uploadFile:fail abort' },
    check: function (o) {
      var bad = { error: 11, errorMessage: '无效参数' };
      if (!o || typeof o.url !== 'string' || typeof o.filePath !== 'string') return bad;
      if (options.upload === 'legacy') {
        if (typeof o.fileName !== 'string' || !o.fileName || MY_FILE_TYPES.indexOf(o.fileType) < 0) return bad;
      } else {
        var name = o.name || o.fileName;
        if (typeof name !== 'string' || !name) return bad;
        if (o.fileType !== undefined && MY_FILE_TYPES.indexOf(o.fileType) < 0) return bad;
      }
      return null;
    },
    view: function (o) {
      return { url: o.url, method: 'POST', header: o.header || o.headers, name: o.name || o.fileName, formData: o.formData, filePath: o.filePath };
    },
    deliver: function (a) {
      if (isMyFailure(a)) return { ok: false, res: a };
      return { ok: true, res: { data: a.data, statusCode: a.statusCode, header: a.header || {} } };
    },
    abortFailure: function () { return { error: 9, errorMessage: 'uploadFile:fail abort' }; },
  };
  var download = {
    names: { ok: null, abort: 'downloadFile:fail abort' },
    view: function (o) { return { url: o.url, method: 'GET', header: o.header }; },
    deliver: function (a) {
      if (isMyFailure(a)) return { ok: false, res: a };
      // The documented answer has no status: apFilePath (and tempFilePath, base library ≥ 2.7.23).
      // How a status other than 2xx arrives is not documented; error 12 (下载失败) is assumed.
      if (!(a.statusCode >= 200 && a.statusCode < 300)) return { ok: false, res: { error: 12, errorMessage: '下载失败' } };
      return { ok: true, res: { apFilePath: a.tempFilePath, tempFilePath: a.tempFilePath } };
    },
    // Not documented for downloads; the same shape as uploadFile's (error 9).
    abortFailure: function () { return { error: 9, errorMessage: 'downloadFile:fail abort' }; },
  };
  exchanges(core, my, { request: request, upload: upload, download: download });
  return expose(fake, 'alipay', 'my', my);
}

// ---- QQ (qq) ------------------------------------------------------------------------------------------
// WeChat-shaped throughout (qq.login → code, qq.checkSession, qq.request → statusCode/header).
function createQq(options) {
  options = options || {};
  var core = createCore(options);
  var fake = core.fake;
  var qq = positionalStorage(fake, options, 'empty');
  qq.login = codeLogin(core, function (code) { return { code: code, errMsg: 'login:ok' }; });
  qq.checkSession = codeCheckSession(core, function () { return fake.backend.issued > 0; }, function (o) {
    settle(o, false, { errMsg: 'checkSession:fail session expired' });
  });
  exchanges(core, qq, wxSurfaces(true));
  return expose(fake, 'qq', 'qq', qq);
}

// ---- Baidu (swan) -------------------------------------------------------------------------------------
// swan.login → { code }; failures carry errCode and errMsg; swan.checkSession fails for an invalid
// session (base library after 3.120.9) or, older, succeeds with { result: false }.
function createSwan(options) {
  options = options || {};
  var core = createCore(options);
  var fake = core.fake;
  var swan = positionalStorage(fake, options, 'empty');
  swan.login = codeLogin(core, function (code) { return { code: code }; });
  swan.checkSession = function (o) {
    fake.counts.checkSession += 1;
    var valid = fake.backend.issued > 0;
    core.later(function () {
      if (options.checkSessionStyle === 'result') settle(o, true, { result: valid });
      else if (valid) settle(o, true, {});
      else settle(o, false, { errCode: 10004, errMsg: 'user not login' });
    });
  };
  exchanges(core, swan, wxSurfaces(false));
  return expose(fake, 'baidu', 'swan', swan);
}

// ---- Kuaishou (ks) ------------------------------------------------------------------------------------
// No official JS API reference was found: WeChat-shaped, as uni-app's mp-kuaishou passes these
// calls through unchanged (tests/fakes/PLATFORMS.md).
function createKs(options) {
  options = options || {};
  var core = createCore(options);
  var fake = core.fake;
  var ks = positionalStorage(fake, options, 'empty');
  ks.login = codeLogin(core, function (code) { return { code: code, errMsg: 'login:ok' }; });
  ks.checkSession = codeCheckSession(core, function () { return fake.backend.issued > 0; }, function (o) {
    settle(o, false, { errMsg: 'checkSession:fail' });
  });
  exchanges(core, ks, wxSurfaces(true));
  return expose(fake, 'kuaishou', 'ks', ks);
}

// ---- by name ------------------------------------------------------------------------------------------

var PLATFORMS = {
  wechat: { global: 'wx', create: createWx },
  douyin: { global: 'tt', create: createTt },
  alipay: { global: 'my', create: createMy },
  qq: { global: 'qq', create: createQq },
  baidu: { global: 'swan', create: createSwan },
  kuaishou: { global: 'ks', create: createKs },
};
var PLATFORM_NAMES = ['wechat', 'douyin', 'alipay', 'qq', 'baidu', 'kuaishou'];

// name: a platform ('douyin') or its global ('tt').
function createPlatform(name, options) {
  for (var i = 0; i < PLATFORM_NAMES.length; i++) {
    var entry = PLATFORMS[PLATFORM_NAMES[i]];
    if (name === PLATFORM_NAMES[i] || name === entry.global) return entry.create(options);
  }
  throw new Error('fake platform: unknown platform ' + name);
}

// The global each platform's object lives under, in the SDK's detection order.
var GLOBALS = { wechat: 'wx', douyin: 'tt', alipay: 'my', qq: 'qq', baidu: 'swan', kuaishou: 'ks' };

module.exports = {
  createWx: createWx,
  createTt: createTt,
  createMy: createMy,
  createQq: createQq,
  createSwan: createSwan,
  createKs: createKs,
  createPlatform: createPlatform,
  PLATFORM_NAMES: PLATFORM_NAMES,
  GLOBALS: GLOBALS,
  createBackend: createBackend,
  scheduler: scheduler,
  pathOf: pathOf,
  sign: sign,
};
