// The app's calls: the record the driver keeps for each one, and the Promise the app gets.
import * as abi from './abi.js';
import * as errors from './errors.js';
import { callBack } from './values.js';

// What a call asks the machine for (Call's `type`).
var ENSURE = 0;
var REQUEST = 1; // also uploadFile and downloadFile: see `kind`
var LOGOUT = 2;
var LOGIN = 3;
var SET_TOKEN = 4;

// One call of the app's, from the moment it is made until it settles. One shape for every call
// (every field is set here), so the engine keeps one hidden class for them all.
function Call(type, options, kind, extra) {
  this.type = type; // ENSURE, REQUEST, LOGOUT, LOGIN or SET_TOKEN
  this.id = 0; // the machine's id for it, once started (0 before)
  this.resolve = null; // the Promise's
  this.reject = null;
  // request/uploadFile/downloadFile: the app's options as given; setToken: { token, more }
  this.options = options;
  this.kind = kind; // abi.CALL_REQUEST, CALL_UPLOAD or CALL_DOWNLOAD (the wx function it goes out with)
  this.extra = extra; // login(extra): the app's object, then (once started) a copy of it
  this.aborted = false; // abort() came (before it started, or while a beforeRequest hook ran)
  this.startMs = 0; // when it started, on the SDK's clock
  // Read from the options once, when a request starts (driver.js):
  this.url = ''; // the app's url, as given
  this.method = 0; // an index of abi.METHOD_NAMES
  this.auth = 0; // an abi FLAG_ value
  this.retry = 0; // an abi FLAG_ value
  this.timeout = 0; // the number the core is given: NaN when not given, -1 when not a number
  this.base = null; // the options that go out with every send: a copy, less the SDK's own keys
  this.header = null; // the app's header, copied
  // While it runs:
  this.sends = 0; // how many times it went out
  this.answer = null; // the last HTTP answer (what a request resolves with)
  this.status = 0; // that answer's status
  this.relogin = false; // it was sent again after a "session invalid" answer
  this.task = null; // the platform's task of its last send, for onTask()
  this.onTask = null; // the app's onTask listener
}

// The Promise of a new call, with `call.resolve`/`call.reject` set. `start(call)` starts it.
function promiseOf(call) {
  return new Promise(function (resolve, reject) {
    call.resolve = resolve;
    call.reject = reject;
  });
}

// request/uploadFile/downloadFile's Promise: wx-style success/fail/complete callbacks, and
// abort() and onTask() on the Promise; `abort(call)` aborts the call (index.js).
function requestPromise(call, abort) {
  var promise = promiseOf(call);
  var o = call.options;
  var success, fail, complete;
  try {
    success = o.success;
    fail = o.fail;
    complete = o.complete;
  } catch (e) {
    // unreadable options: the driver rejects the call with CONFIG
  }
  if (typeof success === 'function' || typeof fail === 'function' || typeof complete === 'function') {
    promise.then(function (res) {
      callBack(success, res);
      callBack(complete, res);
    }, function (error) {
      callBack(fail, error);
      callBack(complete, error);
    });
  }
  promise.abort = function () {
    abort(call);
  };
  promise.onTask = function (listener) {
    if (typeof listener !== 'function') return promise;
    call.onTask = listener;
    if (call.task) callBack(listener, call.task); // the task already out (the call started at once)
    return promise;
  };
  return promise;
}

// The platform function a request of `kind` goes out with.
function callName(kind) {
  return kind === abi.CALL_UPLOAD ? 'uploadFile' : kind === abi.CALL_DOWNLOAD ? 'downloadFile' : 'request';
}

// The `kind` of each request method.
var KINDS = { request: abi.CALL_REQUEST, uploadFile: abi.CALL_UPLOAD, downloadFile: abi.CALL_DOWNLOAD };

export { Call, promiseOf, requestPromise, callName, KINDS, ENSURE, REQUEST, LOGOUT, LOGIN, SET_TOKEN };
