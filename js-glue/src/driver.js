// The driver of one session: it starts calls in the core's machine, performs the actions the
// machine asks for with wx.*, and feeds back what happened, with the time. Decisions (when to
// log in, retry, what is invalid) are the core's; this file only moves plain data.
'use strict';

var plain = require('./plain');
var errors = require('./errors');
var clock = require('./core');
var now = clock.now;

// Action kinds (src/wasm/slot.rs).
var READ_STORAGE = 1;
var WRITE_STORAGE = 2;
var REMOVE_STORAGE = 3;
var CHECK_SESSION = 4;
var WX_LOGIN = 5;
var LOGIN_EXTRA = 6;
var SEND = 7;
var CANCEL = 8;
var RESOLVE_READY = 9;
var RESOLVE_ANSWER = 10;
var RESOLVE_DONE = 11;
var REPORT = 13;
// Send flags (the slot's `e`; its low byte is the read set).
var SEND_HEADER = 1 << 8;
var SEND_BODY = 1 << 9;
var SEND_EXTRA = 1 << 10;
var SEND_SAME_HEADER = 1 << 11;
// The URL is the caller's as given / baseUrl + it / baseUrl + '/' + it (string 0 is empty).
var SEND_URL_AS_GIVEN = 1 << 12;
var SEND_URL_BASE = 1 << 13;
var SEND_URL_BASE_SLASH = 1 << 14;
// With wx.uploadFile / wx.downloadFile instead of wx.request.
var SEND_UPLOAD = 1 << 15;
var SEND_DOWNLOAD = 1 << 16;
// Read sets (src/answer.rs): what an exchange is for.
var READ_API = 0;
var READ_LOGIN = 1;
// By a call's `kind` (index.js): its onReport kind, and the wx function it needs.
var KINDS = ['request', 'upload', 'download'];
var WX_CALLS = ['request', 'uploadFile', 'downloadFile'];
var REPORT_KINDS = ['', 'login', 'check'];
var STATES = ['idle', 'checking', 'logging-in', 'ready', 'failed'];
var METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'];
var READ_SETS = 3;
var hasOwn = Object.prototype.hasOwnProperty;
// Request options that are the SDK's or ours to set, never copied from the caller's.
var RESERVED = { url: 1, method: 1, header: 1, timeout: 1, auth: 1, retry: 1, success: 1, fail: 1, complete: 1 };
// Longest answer field (or URL) passed to the core, in characters.
var MAX_FIELD = 65536;
// Longest string body parsed as JSON for the rules (a text or upload answer), in characters.
var MAX_BODY = 1 << 20;
// Longer codes and tokens are cut to one character over the core's limits (256 and 8192
// bytes), so it refuses them as too long without a huge copy.
var MAX_CODE = 257;
var MAX_TOKEN = 8193;
var ABSENT = {};
var UNREADABLE = {};

// Creates the session in the core `c` and returns its driver: { ensure, request, logout, login,
// setToken, token, abort, dispose, dead } (`dead`: the error once the instance died).
// `setup`: { bytes (the config as plain data), wx, loginExtra, onReport }; `emit(state, error)`
// tells onChange listeners. Throws the core's CONFIG error for a bad config.
function createDriver(c, setup, emit) {
  var wx = setup.wx;
  var x = c.exports;
  var h = c.run(function () {
    return x.create(c.data(setup.bytes), Math.floor(Math.random() * 4294967296), setup.loginExtra ? 1 : 0);
  });
  if (!h) {
    c.views(); // the error is in the slot
    throw c.error();
  }
  var calls = new Map(); // call id → the call record (index.js)
  var ops = new Map(); // op id → { call, read, task, event } while the platform works on it
  var onReport = setup.onReport;
  var disposed = false;
  var configExtra = null; // the object login.extra() resolved to
  var header = null; // [name, value] of the last Send that carried one
  var base = c.run(function () {
    x.base_url(h);
    c.views();
    return c.str(0);
  });
  var timer = null;
  var timerAt = -1;
  var dead = null;
  var paths = [];
  c.run(function () {
    for (var set = 0; set < READ_SETS; set++) paths.push(readPaths(set));
  });
  c.onDeath.push(die);

  function readPaths(set) {
    var list = [];
    for (var i = 0, n = x.read_paths(h, set); i < n; i++) {
      x.read_path(h, set, i);
      c.views();
      list.push(c.str(0).split('.'));
    }
    return list;
  }

  // The instance is entered in three places: start() (a call), take() (a platform callback)
  // and the timer. A throw there means it trapped: c.die() settles every call through die().

  // Starts `call` (a record of index.js) in the machine: `kind` 0 ensure, 1 request (upload,
  // download), 2 logout, 3 login, 4 setToken (`token` is its token). It is settled when the
  // machine says so. (A switch, not a function per kind: this runs for every request.)
  function start(call, kind, token) {
    if (dead) return call.reject(dead);
    if (call.aborted) return;
    try {
      var t = now();
      var id = kind === 1 ? x.request(h, t, c.text(call.url), call.method, call.auth, call.retry, call.timeout, call.kind)
        : kind === 0 ? x.ensure(h, t)
        : kind === 2 ? x.logout(h, t)
        : kind === 3 ? x.login(h, t)
        : x.set_token(h, t, c.text(token), call.expiresIn);
      call.startMs = t;
      call.id = id >>> 0; // ids are u32; the slot gives them unsigned too
      calls.set(call.id, call);
      drain();
    } catch (e) {
      c.die(e);
      call.reject(c.dead); // if die() has not already
    }
  }

  // `call.options` are wx.request's (or uploadFile's, downloadFile's) options (plus `auth`,
  // `retry`). What the core needs is read here; the rest is copied once, so a throwing getter
  // fails this call only.
  function request(call) {
    var o = call.options;
    var url, method, auth, retry, timeout;
    try {
      if (!o || typeof o !== 'object') throw errors.configError('request', 'pass an options object like wx.request\'s');
      var needs = WX_CALLS[call.kind];
      if (call.kind && typeof wx[needs] !== 'function') throw errors.configError('wx.' + needs, 'this wx has no ' + needs);
      url = o.url;
      method = o.method;
      auth = o.auth;
      retry = o.retry;
      timeout = o.timeout;
      call.base = copyOwn(o, RESERVED);
      call.header = o.header && typeof o.header === 'object' ? copyOwn(o.header) : null;
    } catch (e) {
      return call.reject(errors.isWxSessionError(e) ? e : errors.configError('request', 'its options cannot be read: ' + errors.describe(e)));
    }
    // (The core refuses what is not a usable URL; a huge string would only fill its memory.)
    call.url = typeof url === 'string' && url.length <= MAX_FIELD ? url : '';
    call.method = (method === undefined ? 0 : METHODS.indexOf(typeof method === 'string' ? method.toUpperCase() : '')) >>> 0;
    call.auth = flag(auth);
    call.retry = flag(retry);
    call.timeout = numberOption(timeout);
    call.api = true;
    start(call, 1);
  }

  // login(extra): a copy of `extra` goes into this login's body.
  function login(call) {
    var extra = call.extra; // login(extra)'s object (configExtra is login.extra()'s)
    try {
      if (extra !== undefined && (extra === null || typeof extra !== 'object' || Array.isArray(extra))) {
        throw errors.configError('extra', 'must be an object');
      }
      call.extra = extra && copyOwn(extra);
    } catch (e) {
      return call.reject(errors.isWxSessionError(e) ? e : errors.configError('extra', 'cannot be read: ' + errors.describe(e)));
    }
    start(call, 3);
  }

  // setToken(token, { expiresIn }): `call.options` holds both; the core validates them.
  function setToken(call) {
    var token = call.options.token;
    var expiresIn;
    try {
      expiresIn = call.options.more && call.options.more.expiresIn;
    } catch (e) {
      expiresIn = -1;
    }
    if (typeof token !== 'string') return call.reject(errors.configError('token', 'must be a string'));
    call.expiresIn = numberOption(expiresIn);
    start(call, 4, token.slice(0, MAX_TOKEN));
  }

  // The token in use, or null: no I/O.
  function token() {
    return c.run(function () {
      var has = x.token(h, now());
      c.views();
      return has ? c.str(0) : null;
    });
  }

  // The caller gave up on `call`: the core rejects it (ABORTED) and cancels its exchange.
  // (Only this driver's own record: after a restart, ids start over.)
  function abort(call) {
    if (dead || calls.get(call.id) !== call) return;
    try {
      x.abort(h, call.id);
      drain();
    } catch (e) {
      c.die(e);
    }
  }

  // Performs the machine's actions until it has none, then sets the timer for its next deadline.
  // Every slot field an action needs is read before anything is called out: a platform
  // callback may run at once and drain (and fill the slot) again.
  function drain() {
    var more;
    do {
      var kind = c.next(h);
      more = c.more();
      if (kind) perform(kind);
    } while (more);
    // The slot now holds what the latest next() saw, nested drains included.
    schedule(c.deadline());
    if (disposed && !calls.size && !ops.size) release();
  }

  function perform(kind) {
    var a = c.num(1);
    switch (kind) {
      case READ_STORAGE: return readStorage(a, c.str(0));
      case WRITE_STORAGE: return writeStorage(a, c.str(0), JSON.parse(c.str(1))); // the record, as JSON
      case REMOVE_STORAGE: return writeStorage(a, c.str(0));
      case CHECK_SESSION: return checkSession(a);
      case WX_LOGIN: return wxLogin(a);
      case LOGIN_EXTRA: return runLoginExtra(a);
      case SEND: return send(a);
      case CANCEL: return cancel(a, c.num(2) ? 'TIMEOUT' : 'ABORTED');
      case REPORT: return emit(STATES[a], c.error());
    }
    // The rest settle call `a`.
    var call = calls.get(a);
    if (!call) return;
    calls.delete(a);
    var error = kind === RESOLVE_READY || kind === RESOLVE_ANSWER || kind === RESOLVE_DONE ? null : c.error();
    if (kind === RESOLVE_READY) call.resolve({ token: c.str(0), source: c.num(2) ? 'login' : 'storage' });
    else if (kind === RESOLVE_ANSWER) call.resolve(call.answer);
    else if (kind === RESOLVE_DONE) call.resolve(undefined);
    else call.reject(error);
    // Every API call that reached the core is reported, also one never sent (its login failed,
    // it was aborted while waiting): attempts 0.
    if (onReport && call.api) {
      var method = call.kind === 1 ? 'POST' : call.kind === 2 ? 'GET' : METHODS[call.method];
      report(KINDS[call.kind], call.url, method, call.status, !error, error && error.code, call.sends, call.relogin, call.startMs);
    }
  }

  // One onReport event (`code`: an error code, or null): never a token, code, body or query.
  function report(kind, url, method, status, ok, code, attempts, relogin, startMs) {
    var event = {
      kind: kind, url: pathOf(url), method: method, status: status, ok: ok, code: code,
      attempts: attempts, relogin: relogin, startMs: startMs, endMs: now(),
    };
    try {
      onReport(event);
    } catch (e) {
      // a reporter's bug must not break the session
    }
  }

  // A login or check exchange `entry` ended: with an answer's status, or failed with `code`.
  function reportExchange(entry, status, code) {
    var e = entry.event;
    if (onReport && e) report(REPORT_KINDS[entry.read], e.url, e.method, status, status >= 200 && status < 300, code, 1, false, e.startMs);
  }

  // The platform finished operation `op`: its entry, once (later callbacks for the same
  // operation, a platform calling both success and fail, get null).
  function take(op) {
    var entry = ops.get(op);
    if (!entry || dead) return null;
    ops.delete(op);
    return entry;
  }

  // Tells the machine `op` finished, with `tell(time, entry)`.
  function finish(op, tell) {
    var entry = take(op);
    if (!entry) return;
    try {
      tell(now(), entry);
      drain();
    } catch (e) {
      c.die(e);
    }
  }

  function readStorage(op, key) {
    var kind = 0;
    var bytes = null;
    var why = '';
    try {
      var value = wx.getStorageSync(key);
      if (value !== '' && value !== undefined) {
        bytes = plain.encode(value);
        kind = 1;
      }
    } catch (e) {
      kind = 2;
      why = e instanceof plain.PlainError ? 'the stored value ' + e.reason : errors.describe(e);
    }
    ops.set(op, {});
    finish(op, function (now) {
      x.storage_read(h, now, op, kind, kind === 1 ? c.data(bytes) : kind === 2 ? c.text(why) : 0);
    });
  }

  // Writes `value` under `key`, or removes the key when `value` is undefined (or, if removing
  // fails, empties it: an empty string reads as no token).
  function writeStorage(op, key, value) {
    var failure = null;
    try {
      if (value === undefined) wx.removeStorageSync(key);
      else wx.setStorageSync(key, value);
    } catch (e) {
      failure = errors.describe(e);
      if (value === undefined) {
        try {
          wx.setStorageSync(key, '');
          failure = null;
        } catch (ignored) {
          // both failed: the core hears the first failure
        }
      }
    }
    ops.set(op, {});
    finish(op, function () {
      x.storage_done(h, op, failure === null ? 1 : 0, failure === null ? 0 : c.text(failure));
    });
  }

  function checkSession(op) {
    var done = function (valid) {
      return function () {
        finish(op, function (now) { x.session_checked(h, now, op, valid); });
      };
    };
    ops.set(op, {});
    try {
      wx.checkSession({ success: done(1), fail: done(0) });
    } catch (e) {
      done(0)();
    }
  }

  function wxLogin(op) {
    var answer = function (ok, text) {
      finish(op, function (now) { x.wx_login_done(h, now, op, ok, c.text(text)); });
    };
    ops.set(op, {});
    try {
      wx.login({
        success: function (res) {
          var code = '';
          try {
            code = res && typeof res.code === 'string' ? res.code.slice(0, MAX_CODE) : '';
          } catch (e) {
            // an unreadable answer is an answer without a code
          }
          answer(1, code);
        },
        fail: function (err) { answer(0, errors.describe(err)); },
      });
    } catch (e) {
      answer(0, errors.describe(e));
    }
  }

  // Calls login.extra() and keeps its object for the login body.
  function runLoginExtra(op) {
    var answer = function (failure) {
      finish(op, function (now) {
        x.extra_done(h, now, op, failure === null ? 1 : 0, failure === null ? 0 : c.text(failure));
      });
    };
    ops.set(op, {});
    new Promise(function (resolve) { resolve(setup.loginExtra()); }).then(function (object) {
      if (object === undefined || object === null) object = {};
      if (typeof object !== 'object' || Array.isArray(object)) return answer('login.extra() must resolve to an object');
      try {
        configExtra = copyOwn(object);
      } catch (e) {
        return answer('its object cannot be read: ' + errors.describe(e));
      }
      answer(null);
    }, function (e) {
      answer(errors.describe(e));
    });
  }

  function send(op) {
    var callId = c.num(2);
    var flags = c.num(5);
    var read = flags & 255;
    var found = callId ? calls.get(callId) : null;
    // An API call's record; for a login, the login(extra) call whose object joins the body.
    var call = read === READ_API ? found : null;
    var loginCall = read === READ_LOGIN ? found : null;
    // The copy made at request() goes out the first time; a retry sends a copy of it.
    var options = !call ? {} : call.sends ? copyOwn(call.base) : call.base;
    if (call) {
      // A call sent again after an answer (not a failure) was answered "session invalid".
      if (call.answer) call.relogin = true;
      call.sends++;
    }
    var own = call && call.header;
    // An API URL is made here from the caller's string, as the core says; others are read.
    if (flags & SEND_URL_AS_GIVEN) options.url = call.url;
    else if (flags & SEND_URL_BASE) options.url = base + call.url;
    else if (flags & SEND_URL_BASE_SLASH) options.url = base + '/' + call.url;
    else options.url = c.str(0);
    if (!(flags & (SEND_UPLOAD | SEND_DOWNLOAD))) options.method = METHODS[c.num(3)];
    options.timeout = c.num(4);
    if (flags & SEND_HEADER) {
      if (!(flags & SEND_SAME_HEADER)) header = [c.str(1), c.str(2)];
      var name = header[0].toLowerCase();
      var merged = {};
      // The caller's headers, without any spelling of ours (`authorization ` beside `Authorization`).
      for (var key in own) {
        if (hasOwn.call(own, key) && key.trim().toLowerCase() !== name) merged[key] = own[key];
      }
      merged[header[0]] = header[1];
      options.header = merged;
    } else if (own) {
      options.header = own;
    }
    if (flags & (SEND_BODY | SEND_EXTRA) || (loginCall && loginCall.extra)) {
      // login.extra()'s object, login(extra)'s, and the code when it goes in the body (it wins);
      // for a GET login the platform sends `data` as query parameters.
      var body = flags & SEND_EXTRA && configExtra ? copyOwn(configExtra) : {};
      if (loginCall && loginCall.extra) {
        for (var k in loginCall.extra) body[k] = loginCall.extra[k];
      }
      if (flags & SEND_BODY) body[c.str(3)] = c.str(4);
      // The platform adds a GET's data to the query: nothing there may repeat a parameter the
      // URL has already (the code, when it goes in the query).
      else dropQueryNames(body, options.url);
      options.data = body;
    }
    var entry = { call: call ? callId : 0, read: read, task: null, event: null };
    if (onReport && !call) entry.event = { url: options.url, method: options.method, startMs: now() };
    options.success = function (res) { answered(op, res); };
    options.fail = function (err) { failed(op, errors.describe(err)); };
    ops.set(op, entry);
    try {
      var task = flags & SEND_UPLOAD ? wx.uploadFile(options) : flags & SEND_DOWNLOAD ? wx.downloadFile(options) : wx.request(options);
      // (The platform may have answered already, synchronously: the entry is gone then.)
      entry.task = task;
      if (call && task && ops.has(op)) {
        call.task = task; // for an onTask() listener added later
        if (call.onTask) {
          try {
            call.onTask(task);
          } catch (e) {
            // the app's handler failing does not fail its call
          }
        }
      }
    } catch (e) {
      options.fail(e);
    }
  }

  // An HTTP answer: its status and the fields the machine reads cross; the answer itself stays
  // here until the call resolves with it.
  function answered(op, res) {
    var status = 0;
    var data;
    try {
      // An answer that is a thenable would be adopted, not resolved with: it goes out as a
      // plain copy. One that can't even be read is no answer (status 0: a network failure).
      if (res && (typeof res === 'object' || typeof res === 'function') && res.then !== undefined) res = copyOwn(res, { then: 1 });
      var s = res.statusCode;
      status = typeof s === 'number' && s % 1 === 0 && s > 0 && s < 1000 ? s : 0;
      data = res.data;
    } catch (e) {
      status = 0;
    }
    var entry = take(op);
    if (!entry) return;
    var call = entry.call ? calls.get(entry.call) : null;
    if (call && status) {
      call.answer = res;
      call.status = status;
    }
    reportExchange(entry, status, status ? null : 'NETWORK');
    var list = paths[entry.read] || [];
    if (list.length && typeof data === 'string' && data.length <= MAX_BODY) data = parseJson(data);
    try {
      for (var i = 0; i < list.length; i++) reportField(lookup(data, list[i]));
      x.http_answered(h, now(), op, status);
      drain();
    } catch (e) {
      c.die(e);
    }
  }

  function failed(op, errMsg) {
    finish(op, function (t, entry) {
      var length = c.text(errMsg);
      var code = null;
      if (onReport && entry.event) {
        // The code the core gives this failure (read before the app's reporter can run).
        x.failure_code(length);
        c.views();
        code = c.str(0);
      }
      x.http_failed(h, t, op, length);
      reportExchange(entry, 0, code);
    });
  }

  function reportField(value) {
    if (value === ABSENT) x.field(0, 0, 0);
    else if (value === null) x.field(1, 0, 0);
    else if (value === false || value === true) x.field(value ? 3 : 2, 0, 0);
    else if (typeof value === 'number') x.field(4, value, 0);
    else if (typeof value === 'string' && value.length <= MAX_FIELD) x.field(5, 0, c.text(value));
    else x.field(6, 0, 0);
  }

  // Aborts `op`'s platform task; `code`: why, for onReport.
  function cancel(op, code) {
    var entry = ops.get(op);
    ops.delete(op);
    if (entry) reportExchange(entry, 0, code);
    if (entry && entry.task) {
      try {
        entry.task.abort();
      } catch (e) {
        // nothing more to do for a task that can't be aborted
      }
    }
  }

  // One timer, for the machine's next deadline. It is never cleared early: a timer that fires
  // when nothing is due costs nothing, while clearing and setting one for every request cost
  // a third of the SDK's time per request. When it fires, the next one is set.
  function schedule(at) {
    if (at < 0 || (timer !== null && timerAt <= at)) return;
    clearTimeout(timer);
    timerAt = at;
    timer = setTimeout(tick, Math.max(0, at - now()));
  }

  function tick() {
    timer = null;
    if (dead) return;
    clock.reach(timerAt); // (the time this timer was for has come, whatever Date.now says)
    try {
      x.timeout(h, now());
      drain();
    } catch (e) {
      c.die(e);
    }
  }

  // The app dropped the session (index.js's FinalizationRegistry): once nothing is in flight,
  // its slot in the core's table and this driver are freed.
  function release() {
    if (dead) return;
    dead = c.dead || errors.configError('session', 'this session was released');
    api.dead = dead;
    clearTimeout(timer);
    var at = c.onDeath.indexOf(die);
    if (at >= 0) c.onDeath.splice(at, 1);
    try {
      x.drop(h);
    } catch (e) {
      c.die(e);
    }
  }

  // The instance trapped: every call in flight fails with INTERNAL, and the session starts over
  // on a fresh instance at its next call.
  function die(error) {
    if (dead) return;
    dead = error;
    api.dead = error;
    clearTimeout(timer);
    ops.forEach(function (entry, op) { cancel(op, 'INTERNAL'); });
    var pending = calls;
    calls = new Map();
    pending.forEach(function (call) { call.reject(error); });
    emit('failed', error);
  }

  var api = {
    ensure: function (call) {
      start(call, 0);
    },
    request: request,
    logout: function (call) {
      start(call, 2);
    },
    login: login,
    setToken: setToken,
    token: token,
    abort: abort,
    dispose: function () {
      disposed = true;
      if (!calls.size && !ops.size) release();
    },
    dead: null, // the error that killed the instance
  };
  return api;
}

// Deletes from `body` the names the query of `url` has.
function dropQueryNames(body, url) {
  var query = url.split('#')[0].split('?')[1];
  var pairs = query ? query.split('&') : [];
  for (var i = 0; i < pairs.length; i++) {
    try {
      delete body[decodeURIComponent(pairs[i].split('=')[0])];
    } catch (e) {
      // a malformed escape: not a name the body can have
    }
  }
}

// A number option for the core: NaN when not given, -1 (refused there) when not a number.
function numberOption(value) {
  return value === undefined ? NaN : typeof value === 'number' && value === value ? value : -1;
}

// A boolean option for the core: 0 false, 1 true, 2 not given, 3 something else.
function flag(value) {
  return value === undefined ? 2 : value === true ? 1 : value === false ? 0 : 3;
}

// The own enumerable members of `object`, except `skip`'s (and `__proto__`, which as a plain
// assignment would set the copy's prototype instead).
function copyOwn(object, skip) {
  var copy = {};
  for (var key in object) {
    if (hasOwn.call(object, key) && key !== '__proto__' && !(skip && hasOwn.call(skip, key))) copy[key] = object[key];
  }
  return copy;
}

// The path of `url`: no origin, query or fragment (what onReport may show).
function pathOf(url) {
  return String(url).replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, '').replace(/[?#][\s\S]*/, '') || '/';
}

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch (e) {
    return text;
  }
}

// The value at `path` in `data`: own members only; ABSENT when a step is missing, UNREADABLE
// when a getter throws.
function lookup(data, path) {
  var node = data;
  try {
    for (var i = 0; i < path.length; i++) {
      if (node === null || typeof node !== 'object' || !hasOwn.call(node, path[i])) return ABSENT;
      node = node[path[i]];
    }
  } catch (e) {
    return UNREADABLE;
  }
  return node === undefined ? ABSENT : node;
}

module.exports = { createDriver: createDriver };
