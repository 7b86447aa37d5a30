// Plain data: the format values cross into the core in (see src/plain.rs for the grammar).
// The core never reads a JS object: this walks the app's values here, under try/catch and with
// bounds on depth, count and size, and writes what it finds.
import * as utf8 from './utf8.js';

var NULL = 0, FALSE = 1, TRUE = 2, NUMBER = 3, STRING = 4, ARRAY = 5, OBJECT = 6, OTHER = 7;
var MAX_DEPTH = 32;
var MAX_VALUES = 10000;
var MAX_BYTES = 1024 * 1024;

// Thrown when a value can't be written: `key` is where (`login.tokenPath`), `reason` why.
function PlainError(key, reason) {
  this.key = key;
  this.reason = reason;
}

// Writes `value` as plain data. `omit(key, depth)` drops object members by name (the JS-only
// config keys). Returns a Uint8Array; throws a PlainError.
function encode(value, omit) {
  var out = { bytes: new Uint8Array(256), length: 0, values: 0 };
  var path = [];
  var open = [];
  writeValue(out, value, path, open, omit || noOmit);
  return out.bytes.subarray(0, out.length);
}

function noOmit() {
  return false;
}

// Makes room for `n` more bytes (the limit is checked on what is written, in writeText).
function room(out, n) {
  if (out.length + n <= out.bytes.length) return;
  var bigger = new Uint8Array(Math.max(out.bytes.length * 2, out.length + n));
  bigger.set(out.bytes.subarray(0, out.length));
  out.bytes = bigger;
}

function writeCount(out, n) {
  room(out, 4);
  out.bytes[out.length++] = n & 255;
  out.bytes[out.length++] = (n >>> 8) & 255;
  out.bytes[out.length++] = (n >>> 16) & 255;
  out.bytes[out.length++] = (n >>> 24) & 255;
}

function writeText(out, text, path) {
  if (out.length + text.length > MAX_BYTES) throw new PlainError(keyOf(path || []), 'is larger than 1 MB');
  room(out, 4 + text.length * 3);
  var at = out.length;
  out.length += 4;
  var n = utf8.encodeInto(text, out.bytes, out.length);
  out.length = at;
  writeCount(out, n);
  out.length += n;
  if (out.length > MAX_BYTES) throw new PlainError(keyOf(path || []), 'is larger than 1 MB');
}

var scratch = new DataView(new ArrayBuffer(8));

function writeValue(out, value, path, open, omit) {
  var where = function () { return keyOf(path); };
  if (++out.values > MAX_VALUES) throw new PlainError(where(), 'has more than ' + MAX_VALUES + ' values');
  room(out, 1);
  if (value === null) {
    out.bytes[out.length++] = NULL;
  } else if (value === true || value === false) {
    out.bytes[out.length++] = value ? TRUE : FALSE;
  } else if (typeof value === 'number') {
    out.bytes[out.length++] = NUMBER;
    room(out, 8);
    scratch.setFloat64(0, value, true);
    for (var b = 0; b < 8; b++) out.bytes[out.length++] = scratch.getUint8(b);
  } else if (typeof value === 'string') {
    out.bytes[out.length++] = STRING;
    writeText(out, value, path);
  } else if (typeof value === 'object') {
    if (open.length >= MAX_DEPTH) throw new PlainError(where(), 'nests deeper than ' + MAX_DEPTH);
    if (open.indexOf(value) >= 0) throw new PlainError(where(), 'contains a cycle');
    open.push(value);
    if (isArray(value, path)) writeArray(out, value, path, open, omit);
    else writeObject(out, value, path, open, omit);
    open.pop();
  } else {
    out.bytes[out.length++] = OTHER;
    writeText(out, typeof value);
  }
}

// Array.isArray, which throws for a revoked Proxy.
function isArray(value, path) {
  try {
    return Array.isArray(value);
  } catch (e) {
    throw new PlainError(keyOf(path), 'cannot be read');
  }
}

function writeArray(out, items, path, open, omit) {
  var length = read(items, 'length', path) >>> 0;
  if (length > MAX_VALUES) throw new PlainError(keyOf(path), 'has more than ' + MAX_VALUES + ' values');
  out.bytes[out.length++] = ARRAY;
  writeCount(out, length);
  for (var i = 0; i < length; i++) {
    path.push(i);
    writeValue(out, read(items, i, path), path, open, omit);
    path.pop();
  }
}

function writeObject(out, object, path, open, omit) {
  var keys;
  try {
    keys = Object.keys(object);
  } catch (e) {
    throw new PlainError(keyOf(path), 'cannot be read');
  }
  out.bytes[out.length++] = OBJECT;
  var countAt = out.length;
  writeCount(out, 0);
  var count = 0;
  for (var i = 0; i < keys.length; i++) {
    var key = keys[i];
    if (omit(key, path)) continue;
    path.push(key);
    var value = read(object, key, path);
    // Like JSON: a member set to undefined is not there (optional keys may be left undefined).
    if (value !== undefined) {
      writeText(out, key);
      writeValue(out, value, path, open, omit);
      count++;
    }
    path.pop();
  }
  var end = out.length;
  out.length = countAt;
  writeCount(out, count);
  out.length = end;
}

// object[key], with a throwing getter or Proxy turned into a PlainError for that key.
function read(object, key, path) {
  try {
    return object[key];
  } catch (e) {
    throw new PlainError(keyOf(path), 'cannot be read (its getter throws)');
  }
}

function keyOf(path) {
  var key = '';
  for (var i = 0; i < path.length; i++) {
    if (typeof path[i] === 'number') key += '[' + path[i] + ']';
    else key += (key ? '.' : '') + path[i];
  }
  return key;
}

export { encode, PlainError };
