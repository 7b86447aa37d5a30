// One loaded wasm instance of the core, spoken to through its ABI (src/abi.rs, src/wasm/mod.rs):
// numbers in, strings through linear memory, actions out of the slot.
import * as abi from './abi.js';
import * as utf8 from './utf8.js';
import * as errors from './errors.js';

// Made ahead of need: the error of an instance that stopped where no error could be made.
var STOPPED = null;

// `x`: the instance's exports. Returns the helpers the drivers use: the slot's fields, the input
// area, and `die(cause)`: a throw while the glue works with the instance means it trapped (or the
// glue broke); it is dead for good, and every driver with calls in flight hears it once.
// `detaches`: growing the memory detaches its old buffer (true of WebAssembly; wasm2js's memory
// just moves to a new one).
function createInstance(x, detaches) {
  if (!STOPPED) STOPPED = new errors.WxSessionError('INTERNAL', 'the wasm instance stopped; the next call starts a new one');
  var memory = x.memory;
  var bytes = null;
  var words = null;
  var floats = null;
  var slotWord = x.slot() >> 2; // the slot's address (8-byte aligned), in words
  var inputAt = 0; // the input area: where, and how many bytes it has room for
  var inputRoom = 0;
  var lastUrl = null; // the URL of the last request the core took (it keeps it too)

  // Typed views over memory, made again when memory grew (only a call into the instance can
  // grow it: next() and the input helpers refresh them). Growing detaches a wasm memory's old
  // buffer, whose views then have length 0: cheaper to test than reading `memory.buffer`.
  function views() {
    if (!bytes || (detaches ? bytes.length === 0 : bytes.buffer !== memory.buffer)) {
      var buffer = memory.buffer;
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

  function num(word) {
    return words[slotWord + word];
  }

  // Text `i` of the slot.
  function str(i) {
    return utf8.decode(bytes, words[slotWord + abi.WORD_TEXT_PTR + i], words[slotWord + abi.WORD_TEXT_LEN + i]);
  }

  var instance = {
    exports: x,
    dead: null, // the error, once it died
    // Drivers with calls in flight, by session handle: what die() tells. (Only those: a map of
    // every driver would keep every session alive, listeners and all.)
    busy: new Map(),
    num: num,
    str: str,
    views: views,
    // The next action of session `h` into the slot: its kind (ACTION_NONE for none).
    next: function (h) {
      var kind = x.next_action(h);
      views();
      return kind;
    },
    // After next(): do more actions wait?
    more: function () {
      return words[slotWord + abi.WORD_MORE];
    },
    // After a next() that said no more: the machine's next deadline, or -1.
    deadline: function () {
      return floats[(slotWord + abi.WORD_DEADLINE) >> 1];
    },
    // Writes `text` to the input area; returns its length in bytes.
    text: function (text) {
      var at = input(text.length * 3); // first: it may replace `bytes`
      return utf8.encodeInto(text, bytes, at);
    },
    // request/uploadFile/downloadFile `call` (calls.js) into the core of session `h`; returns
    // its id. The URL crosses once: URL_SAME says it is the last one the core took (an app calls
    // the same few URLs over and over, and the core keeps what it made of it).
    request: function (h, t, call) {
      var url = call.url;
      var id = x.request(h, t, url === lastUrl ? abi.URL_SAME : instance.text(url), call.method, call.auth, call.retry, call.timeout, call.kind);
      // Only now: a throw before the export ran (the JS stack running out) left the core's URL as it was.
      lastUrl = url;
      return id;
    },
    // Writes `first` then `second` to the input area; returns their lengths in bytes.
    texts: function (first, second) {
      var at = input((first.length + second.length) * 3);
      var n = utf8.encodeInto(first, bytes, at);
      return [n, utf8.encodeInto(second, bytes, at + n)];
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
      return code ? new errors.WxSessionError(code, str(1), str(2), num(abi.WORD_B)) : undefined;
    },
    die: die,
  };

  // Marks the instance dead, whatever happens after: at the edge of the JS stack even building
  // the error may throw, and the instance must not stay half alive.
  function die(cause) {
    if (instance.dead) return;
    instance.dead = STOPPED;
    try {
      instance.dead = new errors.WxSessionError('INTERNAL', 'the wasm instance stopped (' + errors.describe(cause) + '); the next call starts a new one');
    } catch (e) {
      // STOPPED stands
    }
    var busy = instance.busy;
    instance.busy = new Map();
    busy.forEach(function (driver) {
      try {
        driver.die(instance.dead);
      } catch (e) {
        // the other drivers still hear it
      }
    });
  }

  // Is the instance in a state the exports can work with? A throw out of an export (a trap, or
  // the JS stack running out inside it) leaves the core's state borrowed: every export then
  // answers its fallback, `slot` 0. A throw in the glue around an export leaves it whole.
  // true, false, or null: it could not be asked (the JS stack is still nearly full).
  instance.whole = function () {
    if (instance.dead) return false;
    try {
      return x.slot() >> 2 === slotWord;
    } catch (e) {
      return null;
    }
  };

  // After `cause` was thrown at the instance: it dies if it is not whole; asked again once the
  // stack has unwound if it cannot be told now.
  instance.check = function (cause) {
    var whole = instance.whole();
    if (whole === false) die(cause);
    else if (whole === null) {
      try {
        setTimeout(function () { instance.check(cause); }, 0);
      } catch (e) {
        die(cause); // no way to ask later
      }
    }
    return whole;
  };

  return instance;
}

export { createInstance };
