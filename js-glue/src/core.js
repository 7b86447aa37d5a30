// The wasm core: loading it (WXWebAssembly, one instance per file) and speaking its ABI
// (src/wasm/mod.rs): numbers in, strings through linear memory, actions out of a slot.
'use strict';

var utf8 = require('./utf8');
var errors = require('./errors');

// The time the core is told: Date.now(), except that it never goes back. Deadlines are
// absolute times; a clock set back an hour (by the user, or a network time correction) must
// not stretch every wait by an hour. (A clock set forward only ends waits early.)
// A clock that reads NaN or throws is stuck at its last good time; `reach(t)` (a timer for t
// fired) moves a stuck clock on, so waits still end.
var lastNow = 0;
var clockShift = 0;
var stuck = false;
function now() {
  var t;
  try {
    t = Date.now() + clockShift;
  } catch (e) {
    t = NaN;
  }
  stuck = t !== t;
  if (stuck || t < lastNow) {
    if (!stuck) clockShift += lastNow - t;
    t = lastNow;
  }
  lastNow = t;
  return t;
}

function reach(t) {
  if (stuck && t > lastNow) lastNow = t;
}

// One loaded instance: its exports, helpers for the slot and the input area, and `die(cause)`:
// a throw while the glue works with the instance means it trapped (or the glue broke); it is
// dead for good, and the functions in `onDeath` hear it once. `run(fn)` runs `fn` that way.
function createCore(x) {
  var memory = x.memory;
  var buffer = null;
  var bytes = null;
  var words = null;
  var floats = null;
  var slot = x.slot(); // the slot's address (8-byte aligned)
  var inputAt = 0; // the input area: where, and how many bytes it has room for
  var inputRoom = 0;

  // Typed views over memory, made again when memory grew (only a call into the instance can
  // grow it: next() and the input helpers refresh them). Growing detaches the old buffer, whose
  // views then have length 0.
  function views() {
    if (!bytes || bytes.length === 0) {
      buffer = memory.buffer;
      bytes = new Uint8Array(buffer);
      words = new Uint32Array(buffer);
      floats = new Float64Array(buffer);
    }
  }

  // Room for `n` bytes of input; only the instance's `input` moves the area, so its address is
  // asked for only when the area must grow.
  function input(n) {
    if (n > inputRoom) {
      inputRoom = Math.max(n, 1024);
      inputAt = x.input(inputRoom);
    }
    views();
    return inputAt;
  }

  // Slot fields (src/wasm/slot.rs): kind word 0, numbers `a`…`e` words 1–5, string i at words
  // 6+i (pointer) and 11+i (length), `more` word 16, the deadline the f64 at words 18–19.
  function num(i) {
    return words[(slot >> 2) + i];
  }

  function str(i) {
    return utf8.decode(bytes, words[(slot >> 2) + 6 + i], words[(slot >> 2) + 11 + i]);
  }

  var core = {
    exports: x,
    dead: null,
    onDeath: [],
    num: num,
    str: str,
    views: views,
    // The next action of session `h` into the slot: its kind (0 for none).
    next: function (h) {
      var kind = x.next_action(h);
      views();
      return kind;
    },
    // After next(): do more actions wait?
    more: function () {
      return words[(slot >> 2) + 16];
    },
    // After the last next(): the machine's next deadline, or -1.
    deadline: function () {
      return floats[(slot >> 3) + 9];
    },
    // Writes `text` to the input area; returns its length in bytes.
    text: function (text) {
      var at = input(text.length * 3); // first: it may replace `bytes`
      return utf8.encodeInto(text, bytes, at);
    },
    // Copies `data` (bytes) to the input area; returns the length.
    data: function (data) {
      var at = input(data.length);
      bytes.set(data, at);
      return data.length;
    },
    // The error in the slot (of a Reject, or a Report with one).
    error: function () {
      var code = str(0);
      return code ? new errors.WxSessionError(code, str(1), str(2), num(2)) : undefined;
    },
    run: function (fn) {
      if (core.dead) throw core.dead;
      try {
        return fn();
      } catch (e) {
        die(e);
        throw core.dead;
      }
    },
    die: die,
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

module.exports = { load: load, now: now, reach: reach };
