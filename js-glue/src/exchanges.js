// What the machine asks of the platform, performed through its adapter (platform.js): storage,
// checkSession, the login call, login.extra(), and the HTTP exchanges (request, uploadFile,
// downloadFile). Each result goes back to the machine through the driver (driver.js): `d.feed`
// for one at once, `d.finish(op, …)` for a callback. Every platform call is guarded: a throw is
// the platform's failure.
import * as abi from './abi.js';
import * as clock from './clock.js';
import * as plain from './plain.js';
import * as errors from './errors.js';
import * as values from './values.js';
import { reportExchange } from './reports.js';

// Longest answer field passed to the core, in characters.
var MAX_FIELD = 65536;
// Longest string body parsed as JSON for the rules (a text or upload answer), in characters.
var MAX_BODY = 1 << 20;
// Longer codes (and login errMsgs) are cut to one character over the core's limit for a code
// (256 bytes), so it refuses them as too long without a huge copy.
var MAX_CODE = 257;

// What an answer never keeps.
var THEN = { then: 1 };

// An operation in flight: what the platform works on for the machine.
function Op(call, read) {
  this.call = call; // the id of the API call it sends, or of the login(extra) call of a login; 0: none
  this.read = read; // its read set (an abi READ_ value), -1 for what is not an HTTP exchange
  this.task = null; // the platform's task, to abort it
  this.exchange = null; // a login or check exchange's { read, url, method, startMs }, for onReport
}

function readStorage(d, op, key) {
  var kind = abi.STORED_MISSING;
  var bytes = null;
  var why = '';
  try {
    var value = d.platform.getStorage(key);
    if (value !== '' && value !== undefined) {
      bytes = plain.encode(value);
      kind = abi.STORED_PLAIN;
    }
  } catch (e) {
    kind = abi.STORED_UNREADABLE;
    why = e instanceof plain.PlainError ? 'the stored value ' + e.reason : errors.describe(e);
  }
  var x = d.x;
  var instance = d.instance;
  d.feed(function (now) {
    var length = kind === abi.STORED_PLAIN ? instance.data(bytes) : kind === abi.STORED_UNREADABLE ? instance.text(why) : 0;
    x.storage_read(d.h, now, op, kind, length);
  });
}

// Writes `value` under `key`, or removes the key when `value` is undefined (or, if removing
// fails, empties it: an empty string reads as no token).
function writeStorage(d, op, key, value) {
  var failure = null;
  try {
    if (value === undefined) d.platform.removeStorage(key);
    else d.platform.setStorage(key, value);
  } catch (e) {
    failure = errors.describe(e, errors.SCRUBBED_ROOM);
    if (value === undefined) {
      try {
        d.platform.setStorage(key, '');
        failure = null;
      } catch (ignored) {
        // both failed: the core hears the first failure
      }
    }
  }
  var x = d.x;
  var instance = d.instance;
  d.feed(function () {
    x.storage_done(d.h, op, failure === null ? 1 : 0, failure === null ? 0 : instance.text(failure));
  });
}

// (A platform without checkSession has no platform session to lose: valid.)
function checkSession(d, op) {
  var x = d.x;
  var done = function (valid) {
    return function () {
      d.finish(op, function (now) { x.session_checked(d.h, now, op, valid); });
    };
  };
  d.ops.set(op, new Op(0, -1));
  if (!d.platform.checkSession) return done(1)();
  try {
    d.platform.checkSession(done(1), done(0));
  } catch (e) {
    done(0)();
  }
}

// The platform's login call (`force`: make the user log in, Douyin's tt.login({ force: true })).
function wxLogin(d, op, force) {
  var x = d.x;
  var instance = d.instance;
  var answer = function (kind, text) {
    d.finish(op, function (now) { x.login_answered(d.h, now, op, kind, instance.text(text.slice(0, MAX_CODE))); });
  };
  d.ops.set(op, new Op(0, -1));
  try {
    d.platform.login(force, answer);
  } catch (e) {
    answer(abi.LOGIN_FAILED, errors.describe(e));
  }
}

// Calls login.extra() and keeps its object for the login body.
function loginExtra(d, op) {
  var x = d.x;
  var instance = d.instance;
  var answer = function (failure) {
    d.finish(op, function (now) {
      x.extra_done(d.h, now, op, failure === null ? 1 : 0, failure === null ? 0 : instance.text(failure));
    });
  };
  d.ops.set(op, new Op(0, -1));
  new Promise(function (resolve) { resolve(d.loginExtra()); }).then(function (object) {
    // (Anything here may throw: a revoked Proxy throws even for Array.isArray.)
    try {
      if (object === undefined || object === null) object = {};
      if (typeof object !== 'object' || Array.isArray(object)) return answer('login.extra() must resolve to an object');
      d.configExtra = values.copyOwn(object);
    } catch (e) {
      return answer('its object cannot be read: ' + errors.describe(e));
    }
    answer(null);
  }, function (e) {
    answer(errors.describe(e));
  });
}

// Sends an HTTP request: an API call's (with the app's options), a login or a check.
function send(d, op) {
  var instance = d.instance;
  var callId = instance.num(abi.WORD_B);
  var flags = instance.num(abi.WORD_E);
  var read = flags & abi.SEND_READ_SET_MASK;
  var found = callId ? d.calls.get(callId) : null;
  // An API call's record; for a login, the login(extra) call whose object joins the body.
  var call = read === abi.READ_API ? found : null;
  var loginCall = read === abi.READ_LOGIN ? found : null;
  // The copy made at request() goes out the first time; a retry sends a copy of it.
  var options = !call ? {} : call.sends ? values.copyOwn(call.base) : call.base;
  if (call) {
    // A call sent again after an answer (not a failure) was answered "session invalid".
    if (call.answer) call.relogin = true;
    call.sends++;
  }
  var own = call && call.header;
  // An API URL is made here from the caller's string, as the core says; others are read.
  if (flags & abi.SEND_URL_AS_GIVEN) options.url = call.url;
  else if (flags & abi.SEND_URL_BASE) options.url = d.base + call.url;
  else if (flags & abi.SEND_URL_BASE_SLASH) options.url = d.base + '/' + call.url;
  else options.url = instance.str(0);
  if (!(flags & (abi.SEND_UPLOAD | abi.SEND_DOWNLOAD))) options.method = abi.METHOD_NAMES[instance.num(abi.WORD_C)];
  options.timeout = instance.num(abi.WORD_D);
  if (flags & abi.SEND_HEADER) {
    if (!(flags & abi.SEND_SAME_HEADER)) d.header = [instance.str(1), instance.str(2)];
    options.header = withHeader(own, d.header[0], d.header[1]);
  } else if (own) {
    options.header = own;
  }
  if (flags & (abi.SEND_BODY | abi.SEND_EXTRA) || (loginCall && loginCall.extra)) {
    // login.extra()'s object, login(extra)'s, and the code when it goes in the body (it wins);
    // for a GET login the platform sends `data` as query parameters.
    var body = flags & abi.SEND_EXTRA && d.configExtra ? values.copyOwn(d.configExtra) : {};
    if (loginCall && loginCall.extra) {
      for (var k in loginCall.extra) body[k] = loginCall.extra[k];
    }
    if (flags & abi.SEND_BODY) body[instance.str(3)] = instance.str(4);
    // The platform adds a GET's data to the query: nothing there may repeat a parameter the
    // URL has already (the code, when it goes in the query).
    else values.dropQueryNames(body, options.url);
    options.data = body;
  }
  var entry = new Op(call ? callId : 0, read);
  if (d.onReport && !call) entry.exchange = { read: read, url: options.url, method: options.method, startMs: clock.now() };
  d.ops.set(op, entry);
  var kind = flags & abi.SEND_UPLOAD ? abi.CALL_UPLOAD : flags & abi.SEND_DOWNLOAD ? abi.CALL_DOWNLOAD : abi.CALL_REQUEST;
  if (!call || !d.beforeRequest) return goOut(d, op, entry, call, kind, options);
  beforeRequest(d, op, entry, call, kind, call.sends > 1 ? options : values.copyOwn(options), Boolean(flags & abi.SEND_HEADER));
}

// The app's hook sees every send of its calls (retries too), token already in the header, in
// options of its own (what it changes does not carry over to a retry); it may change them,
// return others, or a Promise of them. Whatever it throws or rejects, or a Promise still
// pending when the call's time limit is about to end, fails the call: nothing is sent. Only its
// first word counts (a hand-made thenable may call back twice, or both ways: a POST must not
// go out twice, nor fail after it went out). `carries`: the token is in the header, so the
// options it gives must keep the URL's origin (the token goes nowhere else).
function beforeRequest(d, op, entry, call, kind, options, carries) {
  var origin = carries ? originOf(options.url) : null;
  var logouts = d.logouts;
  // The machine's deadline for this send, which counts from the event it came in (read before
  // the hook, which may change its options' timeout).
  var limit = options.timeout;
  var result;
  var done = false;
  var goOutOnce = function (given) {
    if (done) return;
    done = true;
    // (A logout came meanwhile, even from the hook itself: the machine refuses a send carrying
    // the token as logged out; one without, `auth: false`, goes out as it would without a hook.
    // So with an abort of this call from the hook: the machine has it, its cancel is queued.)
    if ((carries && d.logouts !== logouts) || call.aborted) return refuse(d, op, entry, 'logged out');
    var out;
    var url;
    try {
      // New options, or its own (changed or not), copied: each member is read once, so the URL
      // checked is the URL sent (a getter or a Proxy could show the platform another).
      out = values.copyOwn(given && typeof given === 'object' ? given : options);
      url = out.url;
    } catch (e) {
      return refuse(d, op, entry, e);
    }
    if (carries && originOf(url) !== origin) return refuse(d, op, entry, 'beforeRequest moved a request that carries the token to another origin');
    goOut(d, op, entry, call, kind, out);
  };
  var refuseOnce = function (cause) {
    if (done) return;
    done = true;
    refuse(d, op, entry, cause);
  };
  try {
    result = d.beforeRequest(options, { attempt: call.sends });
    if (!result || (typeof result !== 'object' && typeof result !== 'function') || typeof result.then !== 'function') {
      return goOutOnce(result);
    }
  } catch (e) {
    return refuseOnce(e);
  }
  // Just before that deadline.
  var timer = null;
  try {
    timer = setTimeout(function () {
      refuseOnce('beforeRequest did not settle within ' + limit + ' ms');
    }, Math.max(0, d.at + limit - clock.now() - 1));
  } catch (e) {
    // (No timer: the machine's own deadline for the send still ends the wait.)
  }
  try {
    // (A thenable's then may throw, or be gone on the second read.)
    result.then(function (given) {
      clearTimeout(timer);
      if (d.ops.get(op) === entry) goOutOnce(given);
    }, function (e) {
      clearTimeout(timer);
      refuseOnce(e);
    });
  } catch (e) {
    clearTimeout(timer);
    refuseOnce(e);
  }
}

// The scheme, host and port of `url` as written (lower case), or null for what is not an
// absolute URL string: two URLs whose prefixes differ at all go to different origins.
function originOf(url) {
  var m = typeof url === 'string' ? /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(url) : null;
  return m ? m[0].toLowerCase() : null;
}

// The hook failed: the machine fails the call, and nothing goes out.
function refuse(d, op, entry, cause) {
  if (d.ops.get(op) !== entry) return;
  var reason = errors.describe(cause, errors.SCRUBBED_ROOM);
  var x = d.x;
  var instance = d.instance;
  d.finish(op, function () { x.send_refused(d.h, op, instance.text(reason)); });
}

// Hands the exchange to the platform.
function goOut(d, op, entry, call, kind, options) {
  try {
    options.success = function (res) { answered(d, op, res); };
    options.fail = function (err) { failed(d, op, errors.describe(err, errors.SCRUBBED_ROOM)); };
    var task = d.platform.send(kind, options);
    // (The platform may have answered already, synchronously: the call may even have settled.
    // The task was started all the same, and onTask hears it.)
    entry.task = task;
    if (call && task) {
      call.task = task; // for an onTask() listener added later
      values.callBack(call.onTask, task);
    }
  } catch (e) {
    failed(d, op, errors.describe(e, errors.SCRUBBED_ROOM));
  }
}

// The app's header `own` (or none) with `name: value`, without any other spelling of that name
// (`authorization ` beside `Authorization`).
function withHeader(own, name, value) {
  var lower = name.toLowerCase();
  var merged = {};
  for (var key in own) {
    if (values.hasOwn.call(own, key) && key.trim().toLowerCase() !== lower) merged[key] = own[key];
  }
  merged[name] = value;
  return merged;
}

// An HTTP answer: its status and the fields the machine reads cross; the answer itself stays
// here until the call resolves with it.
function answered(d, op, res) {
  var status = 0;
  var data;
  try {
    // The call resolves with a plain copy of the answer, never one with a `then` (a Promise
    // would adopt it instead: a getter or a Proxy can show one only on the second read, so
    // looking once is not enough). One that can't even be read is no answer (status 0: a
    // network failure).
    res = values.copyOwn(res, THEN);
    var s = res.statusCode;
    status = typeof s === 'number' && s % 1 === 0 && s > 0 && s < 1000 ? s : 0;
    data = res.data;
  } catch (e) {
    status = 0;
  }
  var entry = d.take(op);
  if (!entry) return;
  var call = entry.call ? d.calls.get(entry.call) : null;
  if (call && status) {
    call.answer = res;
    call.status = status;
  }
  if (d.onReport && entry.exchange) reportExchange(d.onReport, entry.exchange, status, status ? null : 'NETWORK');
  // The fields are read first (a getter is app code, which may use another session of this
  // instance), then handed over in one go.
  var paths = d.paths[entry.read] || [];
  var fields = [];
  if (paths.length && typeof data === 'string' && data.length <= MAX_BODY) data = values.parseJson(data);
  for (var i = 0; i < paths.length; i++) fields.push(values.lookup(data, paths[i]));
  var x = d.x;
  var instance = d.instance;
  d.feed(function (now) {
    for (var i = 0; i < fields.length; i++) giveField(x, instance, fields[i]);
    x.http_answered(d.h, now, op, status);
  });
}

function giveField(x, instance, value) {
  if (value === values.ABSENT) x.field(abi.FIELD_ABSENT, 0, 0);
  else if (value === null) x.field(abi.FIELD_NULL, 0, 0);
  else if (value === false) x.field(abi.FIELD_FALSE, 0, 0);
  else if (value === true) x.field(abi.FIELD_TRUE, 0, 0);
  else if (typeof value === 'number') x.field(abi.FIELD_NUMBER, value, 0);
  else if (typeof value === 'string' && value.length <= MAX_FIELD) x.field(abi.FIELD_TEXT, 0, instance.text(value));
  else x.field(abi.FIELD_OTHER, 0, 0);
}

function failed(d, op, errMsg) {
  var x = d.x;
  var instance = d.instance;
  d.finish(op, function (now, entry) {
    var length = instance.text(errMsg);
    var code = null;
    if (d.onReport && entry.exchange) {
      // The code the core gives this failure (read before the app's reporter can run).
      x.failure_code(length);
      instance.views();
      code = instance.str(0);
    }
    x.http_failed(d.h, now, op, length);
    if (code !== null) reportExchange(d.onReport, entry.exchange, 0, code);
  });
}

// Aborts `op`'s platform task; `code`: why, for onReport.
function cancel(d, op, code) {
  var entry = d.ops.get(op);
  d.ops.delete(op);
  if (!entry) return;
  if (d.onReport && entry.exchange) reportExchange(d.onReport, entry.exchange, 0, code);
  if (entry.task) {
    try {
      entry.task.abort();
    } catch (e) {
      // nothing more to do for a task that can't be aborted
    }
  }
}

export { readStorage, writeStorage, checkSession, wxLogin, loginExtra, send, cancel };
