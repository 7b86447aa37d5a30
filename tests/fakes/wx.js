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
//
// The fake it returns:
//   wx          getStorageSync/setStorageSync/removeStorageSync, checkSession, login, request,
//               uploadFile, downloadFile (each returns a task: abort(), progress/headers no-ops),
//               showToast, chooseMedia
//   storage     the storage object itself
//   backend     the server's state (see createBackend); set backend.alwaysInvalid or
//               backend.refuseLogins to change how it answers
//   counts      { login, checkSession, request, upload, download, abort }
//   sent        every exchange in order: { kind, options, task, answered, aborted, result }
//   toasts, picks   the options of every showToast / chooseMedia call
//   requests()  the options of every wx.request, in order
//   sentTo(path, kind)  the exchanges whose URL path is `path` (and of that kind)
//   revokeAll() · accept(token) · secrets() (every token and login code handed out)
//   hold(predicate (kind, options) → bool) · release()   exchanges matching wait for release()
//   holdLogin() · releaseLogin()                          wx.login's answers wait likewise
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
//     session_key }; a code works once (40163 when used again, 40029 when unknown: 400 {errcode})
//   /auth → 200 { errCode: 0 } with a valid token, else { errCode: 40001 }
//   any other path → 200 (request: { ok: true, path }; upload: JSON text; download: a temp file)
//     with a valid token, else 401
// A request carries its token in a `token` or `Authorization` header, either alone or after a
// prefix ending in a space ('Bearer tok-1'). Tokens are tok-1, tok-2, …; codes code-1, code-2, …
function createBackend(options) {
  var record = !options || options.record !== false;
  var backend = {
    issued: 0, // codes handed out by the platform's login
    logins: 0, // logins the backend accepted
    codes: {}, // code → true while unused
    used: {}, // code → true once used
    valid: {}, // token → true while accepted
    tokens: [], // every token issued, in order
    latest: null, // the last token issued
    loginBodies: [], // the data of every login request (a copy; null without data)
    refuseLogins: false, // every login → 400 { errcode: 40029 }
    alwaysInvalid: false, // no token is accepted, ever
  };

  backend.issueCode = function () {
    backend.issued += 1;
    var code = 'code-' + backend.issued;
    backend.codes[code] = true;
    return code;
  };

  function accepts(token) {
    if (typeof token !== 'string' || backend.alwaysInvalid) return false;
    if (backend.valid[token] === true) return true;
    var space = token.indexOf(' ');
    return space >= 0 && backend.valid[token.slice(space + 1)] === true;
  }
  backend.authorized = function (header) {
    var values = headerValues(header, ['token', 'authorization']);
    for (var i = 0; i < values.length; i++) if (accepts(values[i])) return true;
    return false;
  };

  function login(o) {
    var data = o.data && typeof o.data === 'object' ? o.data : {};
    var code = data.code || queryParam(o.url, 'code') || headerValues(o.header, ['x-wx-code'])[0];
    if (record) backend.loginBodies.push(o.data === undefined ? null : copyIfPossible(o.data));
    if (backend.refuseLogins) return { statusCode: 400, data: { errcode: 40029 } };
    if (backend.used[code]) return { statusCode: 400, data: { errcode: 40163 } };
    if (!backend.codes[code]) return { statusCode: 400, data: { errcode: 40029 } };
    delete backend.codes[code];
    backend.used[code] = true;
    backend.logins += 1;
    var token = 'tok-' + backend.logins;
    backend.valid[token] = true;
    backend.tokens.push(token);
    backend.latest = token;
    return { statusCode: 200, data: { token: token, expiresIn: 7200, session_key: 'NEVER-STORED' } };
  }

  // kind 'request' | 'upload' | 'download'; o: what the SDK handed the platform.
  backend.serve = function (kind, o) {
    var path = pathOf(o.url);
    if (/\/login$/.test(path)) return login(o);
    var ok = backend.authorized(o.header);
    if (path === '/auth') return { statusCode: 200, data: { errCode: ok ? 0 : 40001 } };
    if (kind === 'upload') {
      // wx.uploadFile's data is the server's text, not parsed.
      return ok ? { statusCode: 200, data: JSON.stringify({ url: 'https://cdn.test/' + o.name + '.png', code: 0 }) } : { statusCode: 401, data: '{"code":-1}' };
    }
    if (kind === 'download') {
      return ok ? { statusCode: 200, tempFilePath: 'wxfile://tmp_download.png' } : { statusCode: 401, tempFilePath: 'wxfile://tmp_error.html' };
    }
    return ok ? { statusCode: 200, data: { ok: true, path: path }, header: {} } : { statusCode: 401, data: {}, header: {} };
  };

  return backend;
}

// ---- the parts every platform shares ------------------------------------------------------------

// The fake's state and bookkeeping, and the two things a platform surface builds on:
// exchange(kind, options, names) → a task, and login(reply).
// names: { ok: 'request:ok', abort: 'request:fail abort' } for that kind of exchange.
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
    pathOf: pathOf,
    requests: function () {
      var list = [];
      for (var i = 0; i < fake.sent.length; i++) if (fake.sent[i].kind === 'request') list.push(fake.sent[i].options);
      return list;
    },
    sentTo: function (path, kind) {
      return fake.sent.filter(function (e) { return pathOf(e.options.url) === path && (!kind || e.kind === kind); });
    },
    revokeAll: function () { backend.valid = {}; },
    accept: function (token) { backend.valid[token] = true; },
    secrets: function () {
      return backend.tokens.concat(Object.keys(backend.codes), Object.keys(backend.used));
    },
    hold: function (predicate) { holds.push(predicate); },
    release: function () {
      holds = [];
      var list = held;
      held = [];
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
    var a = options.respond ? options.respond(o, fake, entry.kind) : undefined;
    if (a === undefined) a = backend.serve(entry.kind, o);
    entry.result = a;
    if (a === null) return; // never answers
    entry.answered = true;
    if (a && typeof a.errMsg === 'string' && !/:ok$/.test(a.errMsg)) {
      if (o.fail) o.fail(a);
    } else {
      if (a && Object.isExtensible(a)) {
        if (a.errMsg === undefined) a.errMsg = entry.names.ok;
        if (entry.kind === 'request' && a.header === undefined) a.header = {};
      }
      if (o.success) o.success(a);
    }
    if (o.complete) o.complete(a);
  }

  function abort(entry) {
    fake.counts.abort += 1;
    entry.aborted = true;
    if (entry.answered) return;
    entry.answered = true;
    later(function () {
      var o = entry.options;
      var failure = { errMsg: entry.names.abort };
      if (o.fail) o.fail(failure);
      if (o.complete) o.complete(failure);
    });
  }

  function exchange(kind, o, names) {
    fake.counts[kind] += 1;
    var entry = { kind: kind, options: o, task: null, answered: false, aborted: false, result: undefined, names: names };
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

  function login(reply) {
    fake.counts.login += 1;
    var code = backend.issueCode();
    var send = function () { reply(code); };
    if (loginHeld) heldLogins.push(send);
    else later(send);
  }

  return { fake: fake, later: later, exchange: exchange, login: login };
}

// ---- WeChat -----------------------------------------------------------------------------------------

var WX_NAMES = {
  request: { ok: 'request:ok', abort: 'request:fail abort' },
  upload: { ok: 'uploadFile:ok', abort: 'uploadFile:fail abort' },
  download: { ok: 'downloadFile:ok', abort: 'downloadFile:fail abort' },
};

function createWx(options) {
  options = options || {};
  var core = createCore(options);
  var fake = core.fake;
  var later = core.later;
  var storage = fake.storage;
  var media = options.media === undefined ? { tempFilePath: 'wxfile://tmp_a1.png', size: 199, fileType: 'image' } : options.media;

  fake.wx = {
    getStorageSync: function (key) {
      if (!hasOwn.call(storage, key)) return '';
      return options.rawStorage ? storage[key] : copy(storage[key]);
    },
    setStorageSync: function (key, value) { storage[key] = copy(value); },
    removeStorageSync: function (key) { delete storage[key]; },
    checkSession: function (o) {
      fake.counts.checkSession += 1;
      later(function () {
        if (o && o.success) o.success({ errMsg: 'checkSession:ok' });
        if (o && o.complete) o.complete({ errMsg: 'checkSession:ok' });
      });
    },
    login: function (o) {
      core.login(function (code) {
        var res = { code: code, errMsg: 'login:ok' };
        if (o && o.success) o.success(res);
        if (o && o.complete) o.complete(res);
      });
    },
    request: function (o) { return core.exchange('request', o, WX_NAMES.request); },
    uploadFile: function (o) { return core.exchange('upload', o, WX_NAMES.upload); },
    downloadFile: function (o) { return core.exchange('download', o, WX_NAMES.download); },
    showToast: function (o) { fake.toasts.push(o); },
    chooseMedia: function (o) {
      fake.picks.push(o);
      later(function () {
        if (media === false) {
          if (o.fail) o.fail({ errMsg: 'chooseMedia:fail cancel' });
        } else if (o.success) {
          o.success({ tempFiles: [{ tempFilePath: media.tempFilePath, size: media.size, fileType: media.fileType }], type: media.fileType, errMsg: 'chooseMedia:ok' });
        }
      });
    },
  };
  return fake;
}

module.exports = { createWx: createWx, createBackend: createBackend, scheduler: scheduler, pathOf: pathOf };
