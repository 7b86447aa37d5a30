// The wasm core: loading it (WXWebAssembly, one instance per file) and speaking its ABI
// (src/wasm/mod.rs): numbers in, strings through linear memory, actions out of a slot.
'use strict';

var utf8 = require('./utf8');
var errors = require('./errors');

// Action kinds (src/wasm/slot.rs).
var KIND = {
  READ_STORAGE: 1, WRITE_STORAGE: 2, REMOVE_STORAGE: 3, CHECK_SESSION: 4, WX_LOGIN: 5,
  LOGIN_EXTRA: 6, SEND: 7, CANCEL: 8, RESOLVE_READY: 9, RESOLVE_ANSWER: 10, RESOLVE_DONE: 11,
  REJECT: 12, REPORT: 13,
};
// Send flags in `e`; its low byte is the read set.
var SEND = { HEADER: 1 << 8, BODY: 1 << 9, EXTRA: 1 << 10, SAME_HEADER: 1 << 11 };
var STATES = ['idle', 'checking', 'logging-in', 'ready', 'failed'];
var METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'];
var READ_SETS = 3;

// One loaded instance. `call(fn)` runs `fn(exports)`; a throw means the instance trapped: it is
// dead for good, and the functions in `onDeath` hear it once.
function createCore(x) {
  var memory = x.memory;
  var buffer = null;
  var bytes = null;
  var words = null;
  var slot = x.slot() >>> 2;

  // Typed views over memory, made again when memory grew.
  function views() {
    if (memory.buffer !== buffer) {
      buffer = memory.buffer;
      bytes = new Uint8Array(buffer);
      words = new Uint32Array(buffer);
    }
  }

  // Slot fields: numbers `a`…`e` are words 1–5; string i is at words 6+i (pointer), 11+i (length).
  function num(i) {
    views();
    return words[slot + i];
  }

  function str(i) {
    views();
    return utf8.decode(bytes, words[slot + 6 + i], words[slot + 11 + i]);
  }

  var core = {
    dead: null,
    onDeath: [],
    num: num,
    str: str,
    // The slot's string i as bytes (plain data).
    raw: function (i) {
      views();
      var at = words[slot + 6 + i];
      return bytes.slice(at, at + words[slot + 11 + i]);
    },
    // Writes `text` to the input area; returns its length in bytes.
    text: function (text) {
      var at = x.input(text.length * 3);
      views();
      return utf8.encodeInto(text, bytes, at);
    },
    // Copies `data` (bytes) to the input area; returns the length.
    data: function (data) {
      var at = x.input(data.length);
      views();
      bytes.set(data, at);
      return data.length;
    },
    // The error in the slot (of a Reject, or a Report with one).
    error: function () {
      var code = str(0);
      return code ? new errors.WxSessionError(code, str(1), str(2), num(2)) : undefined;
    },
    call: function (fn) {
      if (core.dead) throw core.dead;
      try {
        return fn(x);
      } catch (e) {
        die(e);
        throw core.dead;
      }
    },
  };

  function die(cause) {
    if (core.dead) return;
    core.dead = new errors.WxSessionError('INTERNAL', 'the wasm instance stopped (' + errors.describe(cause) + '); the next call starts a new one');
    var listeners = core.onDeath;
    core.onDeath = [];
    for (var i = 0; i < listeners.length; i++) listeners[i](core.dead);
  }

  return core;
}

// Instances by file. `path` names a file in the package; spellings of the same file share one,
// and different files (.wasm and .wasm.br) never share anything.
var loaded = {};

function normalize(path) {
  var parts = [];
  var segments = path.split('/');
  for (var i = 0; i < segments.length; i++) {
    if (segments[i] === '..') parts.pop();
    else if (segments[i] && segments[i] !== '.') parts.push(segments[i]);
  }
  return '/' + parts.join('/');
}

// Resolves to a live core for the file at `path` (WXWebAssembly takes only package paths).
function load(path) {
  var key = normalize(path);
  var entry = loaded[key];
  if (entry && !(entry.core && entry.core.dead)) return entry.promise;
  entry = { core: null, promise: null };
  var forget = function () {
    if (loaded[key] === entry) delete loaded[key];
  };
  loaded[key] = entry;
  entry.promise = instantiate(path).then(function (core) {
    entry.core = core;
    core.onDeath.push(forget); // the next load makes a fresh instance
    return core;
  }, function (error) {
    forget(); // a failed load may succeed later (the file was missing during a hot reload)
    throw error;
  });
  return entry.promise;
}

function instantiate(path) {
  return new Promise(function (resolve) {
    var wxwa = typeof WXWebAssembly !== 'undefined' ? WXWebAssembly : undefined;
    if (!wxwa || typeof wxwa.instantiate !== 'function') {
      throw loadError('WXWebAssembly is not available: base library 2.13.0 or newer is needed');
    }
    resolve(wxwa.instantiate(path, {})); // the core imports nothing: it never calls JS
  }).then(function (result) {
    // Accept both `{ instance, module }` and a bare `Instance`.
    var instance = result && result.instance ? result.instance : result;
    var x = instance && instance.exports;
    if (!x || !x.memory || typeof x.slot !== 'function') throw loadError(path + ' is not the wx-session core');
    return createCore(x);
  }, function (error) {
    throw errors.isWxSessionError(error) ? error : loadError('could not load ' + path + ': ' + errors.describe(error));
  });
}

function loadError(message) {
  return new errors.WxSessionError('WASM_LOAD', message);
}

module.exports = { load: load, KIND: KIND, SEND: SEND, STATES: STATES, METHODS: METHODS, READ_SETS: READ_SETS };
