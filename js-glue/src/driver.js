// The driver of one session: it starts the app's calls in the core's machine, performs the
// actions the machine asks for (exchanges.js), and feeds back what happened, with the time.
// Decisions (when to log in, retry, what is invalid) are the core's; this only moves plain data.
import * as abi from './abi.js';
import * as clock from './clock.js';
import * as errors from './errors.js';
import * as calls from './calls.js';
import * as values from './values.js';
import * as exchanges from './exchanges.js';
import { reportCall } from './reports.js';

// Made ahead of need: the error of a session that stopped where no error could be made.
var STOPPED_SESSION = new errors.WxSessionError('INTERNAL', 'the session stopped; the next call starts it again');
// Request options that are the SDK's or ours to set, never copied from the caller's.
var RESERVED = { url: 1, method: 1, header: 1, timeout: 1, auth: 1, retry: 1, success: 1, fail: 1, complete: 1 };
// Longest URL passed to the core, in characters (one more: the core refuses it as too long
// without a huge copy).
var MAX_URL = 65537;
// Longer tokens are cut to one character over the core's limit (8192 bytes), so it refuses
// them as too long without a huge copy.
var MAX_TOKEN = 8193;

// Creates the session in `instance` (instance.js) and returns its driver. `setup` (index.js):
// { bytes (the config as plain data), platform, loginExtra, onReport, holder }; `emit(state, error)`
// tells onChange listeners. Throws the core's CONFIG error for a bad config.
function Driver(instance, setup, emit) {
  var x = instance.exports;
  var h = 0;
  var refused;
  try {
    h = x.create(instance.data(setup.bytes), Math.floor(Math.random() * 4294967296), setup.loginExtra ? 1 : 0);
    if (!h) {
      instance.views(); // the error is in the slot, unless the instance is not whole
      refused = instance.error();
    }
  } catch (e) {
    instance.check(e);
    refused = instance.dead || STOPPED_SESSION;
  }
  if (!h && !refused) instance.die('no session could be created');
  if (instance.dead) throw instance.dead;
  if (!h) throw refused;
  var self = this;
  this.instance = instance;
  this.x = x;
  this.h = h; // this session's handle in the instance
  this.handle = { instance: instance, h: h, released: false }; // what index.js's registry may hold
  this.platform = setup.platform; // platform.js's adapter
  this.loginExtra = setup.loginExtra;
  this.onReport = setup.onReport;
  this.beforeRequest = setup.beforeRequest; // the app's hook before each API send, if any
  this.onAuthRequired = setup.onAuthRequired;
  this.holder = setup.holder; // shared with index.js: `dropped` once the app let the session go
  this.emit = emit;
  this.calls = new Map(); // call id → Call (calls.js) while the machine works on it
  this.ops = new Map(); // op id → Op (exchanges.js) while the platform works on it
  this.busy = false; // calls or ops in flight: listed in instance.busy, so a trap reaches them
  this.configExtra = null; // the object login.extra() resolved to
  this.header = null; // [name, value] of the last Send that carried one
  this.base = ''; // baseUrl, as the core normalized it
  this.paths = []; // by read set: the answer fields the core reads, each a list of names
  this.timer = null; // the one timer, for the machine's next deadline
  this.timerAt = -1;
  this.tick = function () { tick(self); };
  this.at = 0; // the time of the event the machine is working on (its deadlines count from it)
  this.logouts = 0; // logout() calls so far (an app hook still working across one must not send)
  this.draining = false; // drain() is running (further calls only ask it to go on)
  this.again = false;
  this.dead = null; // the error once the instance died or the session was released
  try {
    x.base_url(h);
    instance.views();
    this.base = instance.str(0);
    for (var set = 0; set < abi.READ_SETS; set++) this.paths.push(readPaths(this, set));
  } catch (e) {
    instance.die(e);
    throw instance.dead;
  }
}

function readPaths(d, set) {
  var list = [];
  for (var i = 0, n = d.x.read_paths(d.h, set); i < n; i++) {
    d.x.read_path(d.h, set, i);
    d.instance.views();
    list.push(d.instance.str(0).split('.'));
  }
  return list;
}

// Starts `call` (calls.js) in the machine; it settles when the machine says so.
Driver.prototype.start = function (call) {
  if (!this.live()) return call.reject(this.dead || this.instance.dead);
  if (call.aborted) return;
  var token;
  try {
    if (call.type === calls.REQUEST) readRequest(this, call);
    else if (call.type === calls.LOGIN) readLoginExtra(call);
    else if (call.type === calls.SET_TOKEN) token = readToken(call);
  } catch (e) {
    var error = errors.isWxSessionError(e) ? e : errors.configError('request', 'its options cannot be read: ' + errors.describe(e));
    call.reject(error);
    // Every request is reported, also one refused before the core saw it.
    if (this.onReport && call.type === calls.REQUEST) reportCall(this.onReport, call, error);
    return;
  }
  var x = this.x;
  var h = this.h;
  try {
    var t = clock.now();
    this.at = t;
    if (call.type === calls.LOGOUT) this.logouts++;
    // (A switch, not a function per type: this runs for every request.)
    var id = call.type === calls.REQUEST ? this.instance.request(h, t, call)
      : call.type === calls.ENSURE ? x.ensure(h, t)
      : call.type === calls.LOGOUT ? x.logout(h, t)
      : call.type === calls.LOGIN ? x.login(h, t)
      : setToken(x, h, t, this.instance, token, call.options);
    // (0: the export answered its fallback, the instance is not whole.)
    if (!id) throw new Error('the core took no call');
    call.startMs = t;
    call.id = id >>> 0; // ids are u32; the slot gives them unsigned too
    this.calls.set(call.id, call);
    this.drain();
  } catch (e) {
    this.fail(e);
    call.reject(this.dead); // if die() has not already
  }
};

// Can it still take calls? (Not once its instance died, even while it had nothing in flight.)
Driver.prototype.live = function () {
  return !this.dead && !this.instance.dead && !this.handle.released;
};

// Something the glue did with the instance threw: it trapped (or the glue broke). The instance
// is dead for good: this driver and every busy one hear it.
Driver.prototype.fail = function (cause) {
  // A trap (a bug in the core) stops the instance; the JS stack running out (RangeError) stops
  // it only if it ran out inside the core, which then holds its state half-changed.
  if (!isStackOverflow(cause)) {
    this.instance.die(cause);
    return this.die(this.instance.dead);
  }
  if (this.instance.check(cause) === false) return this.die(this.instance.dead);
  // The throw came from the glue around the core (the JS stack ran out, say): the core and the
  // other sessions are fine, but this session's driver may have lost an action it took, so it
  // stops: its calls fail INTERNAL, and its next call starts it afresh on the same instance.
  var error = this.instance.dead || STOPPED_SESSION;
  try {
    error = new errors.WxSessionError('INTERNAL', 'the session stopped (' + errors.describe(cause) + '); the next call starts it again');
  } catch (e) {
    // the error made ahead of need stands
  }
  this.die(error);
  releaseHandle(this.handle);
};

// `call.options` are wx.request's (or uploadFile's, downloadFile's) options, plus `auth` and
// `retry`. What the core needs is read here; the rest is copied once, so a throwing getter
// fails this call only.
function readRequest(d, call) {
  var o = call.options;
  if (!o || typeof o !== 'object') throw errors.configError('request', 'pass an options object like wx.request\'s');
  if (!d.platform.has(call.kind)) throw errors.configError('wx.' + calls.callName(call.kind), 'this platform object has no ' + calls.callName(call.kind));
  var url = o.url;
  var method = o.method;
  var auth = o.auth;
  var retry = o.retry;
  var timeout = o.timeout;
  call.base = values.copyOwn(o, RESERVED);
  call.header = o.header && typeof o.header === 'object' ? values.copyOwn(o.header) : null;
  // (The core refuses what is not a usable URL, and says so of one too long.)
  call.url = typeof url === 'string' ? url.slice(0, MAX_URL) : '';
  call.method = (method === undefined ? 0 : abi.METHOD_NAMES.indexOf(typeof method === 'string' ? method.toUpperCase() : '')) >>> 0;
  call.auth = flag(auth);
  call.retry = flag(retry);
  call.timeout = values.numberOption(timeout);
}

// A boolean option for the core.
function flag(value) {
  return value === undefined ? abi.FLAG_ABSENT : value === true ? abi.FLAG_TRUE : value === false ? abi.FLAG_FALSE : abi.FLAG_INVALID;
}

// login(extra): a copy of `extra` goes into this login's body.
function readLoginExtra(call) {
  var extra = call.extra;
  try {
    if (extra !== undefined && (extra === null || typeof extra !== 'object' || Array.isArray(extra))) {
      throw errors.configError('extra', 'must be an object');
    }
    call.extra = extra && values.copyOwn(extra);
  } catch (e) {
    throw errors.isWxSessionError(e) ? e : errors.configError('extra', 'cannot be read: ' + errors.describe(e));
  }
}

// setToken(token, { refreshToken, expiresIn }): the core validates them. Returns the token.
function readToken(call) {
  var token = call.options.token;
  var more = call.options.more;
  var expiresIn;
  var refresh;
  try {
    expiresIn = more && more.expiresIn;
    refresh = more && more.refreshToken;
  } catch (e) {
    expiresIn = -1;
  }
  if (typeof token !== 'string') throw errors.configError('token', 'must be a string');
  if (refresh !== undefined && refresh !== null && (typeof refresh !== 'string' || !refresh)) throw errors.configError('refreshToken', 'must be a string');
  call.options.expiresIn = values.numberOption(expiresIn);
  call.options.refreshToken = refresh ? refresh.slice(0, MAX_TOKEN) : '';
  return token.slice(0, MAX_TOKEN);
}

function setToken(x, h, t, instance, token, options) {
  var lengths = instance.texts(token, options.refreshToken);
  return x.set_token(h, t, lengths[0], lengths[1], options.expiresIn);
}

// The token in use, or null: no I/O.
Driver.prototype.token = function () {
  if (!this.live()) return null;
  try {
    var has = this.x.token(this.h, clock.now());
    this.instance.views();
    return has ? this.instance.str(0) : null;
  } catch (e) {
    this.fail(e);
    return null;
  }
};

// The app gave up on `call`: the core rejects it (ABORTED) and cancels its exchange. (Only this
// driver's own record: after a restart, ids start over.)
Driver.prototype.abort = function (call) {
  if (this.dead || this.calls.get(call.id) !== call) return;
  call.aborted = true; // (a beforeRequest hook running now sends nothing: exchanges.js)
  var x = this.x;
  var h = this.h;
  this.feed(function () { x.abort(h, call.id); });
};

// Tells the machine what happened (`tell(now)` calls the export), then performs what it asks.
Driver.prototype.feed = function (tell) {
  if (this.handle.released) return;
  if (!this.live()) return this.die(this.dead || this.instance.dead);
  try {
    var t = clock.now();
    this.at = t;
    tell(t);
    this.drain();
  } catch (e) {
    this.fail(e);
  }
};

// The platform finished operation `op` (exchanges.js): tells the machine with
// `tell(now, op)`, once (later callbacks for the same operation, a platform calling both
// success and fail, are ignored).
Driver.prototype.finish = function (op, tell) {
  var entry = this.take(op);
  if (entry) this.feed(function (now) { tell(now, entry); });
};

// The Op of `op`, forgotten; null when it is not in flight (or the session died).
Driver.prototype.take = function (op) {
  var entry = this.ops.get(op);
  if (!entry || this.dead) return null;
  this.ops.delete(op);
  return entry;
};

// Performs the machine's actions until it has none, then sets the timer for its next deadline.
// Not recursive: an event fed while it runs (a platform answering at once, app code called
// from an action calling back into this session) only makes it go on, so the depth never grows
// with the number of queued calls. Every slot field is read before anything is called out: app
// code run by an action may use another session of this instance, whose drain fills the slot.
Driver.prototype.drain = function () {
  if (this.draining) {
    this.again = true;
    return;
  }
  var instance = this.instance;
  var h = this.h;
  var deadline = -1;
  this.draining = true;
  try {
    do {
      this.again = false;
      var more;
      do {
        var kind = instance.next(h);
        more = instance.more();
        if (!more) deadline = instance.deadline();
        if (kind) this.perform(kind);
      } while (more && !this.dead);
    } while (this.again && !this.dead);
  } finally {
    this.draining = false;
  }
  if (this.dead) return;
  schedule(this, deadline);
  var busy = this.calls.size > 0 || this.ops.size > 0;
  if (busy !== this.busy) {
    this.busy = busy;
    if (busy) instance.busy.set(h, this);
    else instance.busy.delete(h);
  }
  if (!busy && this.holder.dropped) releaseHandle(this.handle);
};

Driver.prototype.perform = function (kind) {
  var instance = this.instance;
  var a = instance.num(abi.WORD_A);
  switch (kind) {
    case abi.ACTION_READ_STORAGE: return exchanges.readStorage(this, a, instance.str(0));
    case abi.ACTION_WRITE_STORAGE: return exchanges.writeStorage(this, a, instance.str(0), JSON.parse(instance.str(1))); // the record, as JSON
    case abi.ACTION_REMOVE_STORAGE: return exchanges.writeStorage(this, a, instance.str(0));
    case abi.ACTION_CHECK_SESSION: return exchanges.checkSession(this, a);
    case abi.ACTION_WX_LOGIN: return exchanges.wxLogin(this, a, instance.num(abi.WORD_B) === 1);
    case abi.ACTION_LOGIN_EXTRA: return exchanges.loginExtra(this, a);
    case abi.ACTION_SEND: return exchanges.send(this, a);
    case abi.ACTION_CANCEL: return exchanges.cancel(this, a, instance.num(abi.WORD_B) === abi.CANCEL_TIMED_OUT ? 'TIMEOUT' : 'ABORTED');
    case abi.ACTION_REPORT: return this.emit(abi.STATE_NAMES[a], instance.error());
    case abi.ACTION_AUTH_REQUIRED: return authRequired(this, this.calls.get(a));
  }
  settle(this, kind, a);
};

// Settles call `a` as the action of `kind` says.
function settle(d, kind, a) {
  var call = d.calls.get(a);
  if (!call) return;
  d.calls.delete(a);
  var instance = d.instance;
  var error = null;
  if (kind === abi.ACTION_RESOLVE_READY) {
    var source = instance.num(abi.WORD_B) === abi.SOURCE_LOGIN ? 'login' : 'storage';
    call.resolve({ token: instance.str(0), source: source });
  } else if (kind === abi.ACTION_RESOLVE_ANSWER) call.resolve(call.answer);
  else if (kind === abi.ACTION_RESOLVE_DONE) call.resolve(undefined);
  else {
    error = instance.error();
    // A business failure carries the answer: { statusCode, data, header }.
    if (error.code === 'API_ERROR' && call.answer) error.response = { statusCode: call.status, data: call.answer.data, header: call.answer.header };
    call.reject(error);
  }
  // Every API call that reached the core is reported, also one never sent (its login failed,
  // it was aborted while waiting): attempts 0.
  if (d.onReport && call.type === calls.REQUEST) reportCall(d.onReport, call, error);
}

// The server says the user must act (authRequiredWhen): the app hears it once for this burst,
// with what it needs to show its login page; the call waits for the app's login.
function authRequired(d, call) {
  if (!d.onAuthRequired || !call) return;
  var method = call.kind === abi.CALL_UPLOAD ? 'POST' : call.kind === abi.CALL_DOWNLOAD ? 'GET' : abi.METHOD_NAMES[call.method];
  var answer = call.answer || {};
  values.callBack(d.onAuthRequired, { url: values.pathOf(call.url), method: method, statusCode: call.status, data: answer.data });
}

// One timer, for the machine's next deadline `at` (-1: none). It is not cleared when nothing
// is due any more: a timer that fires for nothing costs nothing, while clearing and setting one
// for every request cost a third of the SDK's time per request. It is set again when an earlier
// deadline comes, and when the clock jumped past the time it was set for: a timer fires after
// its delay in real time, whatever the clock says.
// A platform whose timers throw (a quota, a monitoring wrapper) leaves no timer set: the next
// drain tries again; it is no reason to fail anyone's calls.
function schedule(d, at) {
  if (at < 0) return;
  var t = clock.now();
  if (d.timer !== null && d.timerAt <= at && d.timerAt > t) return;
  try {
    clearTimeout(d.timer);
    d.timer = null;
    d.timerAt = at;
    d.timer = setTimeout(d.tick, Math.max(0, at - t));
  } catch (e) {
    d.timer = null;
  }
}

function tick(d) {
  d.timer = null;
  if (d.dead || d.handle.released) return;
  clock.reach(d.timerAt); // the time this timer was for has come, whatever Date.now says
  var x = d.x;
  var h = d.h;
  d.feed(function (now) { x.timeout(h, now); });
}

function isStackOverflow(cause) {
  try {
    return Boolean(cause) && cause.name === 'RangeError';
  } catch (e) {
    return false;
  }
}

// The app dropped the session (index.js) and nothing of it is in flight: its slot in the core's
// table is freed, once. Its driver, if a timer still reaches it, is then dead (live() is false).
function releaseHandle(handle) {
  if (handle.released) return;
  handle.released = true;
  if (handle.instance.dead) return;
  try {
    handle.instance.exports.drop(handle.h);
  } catch (e) {
    handle.instance.check(e);
  }
}

// The instance trapped: every call in flight fails with INTERNAL, and the session starts over
// on a fresh instance at its next call.
Driver.prototype.die = function (error) {
  if (this.dead) return;
  this.dead = error;
  try {
    clearTimeout(this.timer);
  } catch (e) {
    // a timer that fires now finds the driver dead
  }
  var self = this;
  this.ops.forEach(function (entry, op) { exchanges.cancel(self, op, 'INTERNAL'); });
  var pending = this.calls;
  this.calls = new Map();
  pending.forEach(function (call) { call.reject(error); });
  this.emit('failed', error);
};

export { Driver, releaseHandle };
