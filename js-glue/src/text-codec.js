// UTF-8 TextEncoder/TextDecoder for runtimes that lack them (the mini-program JS runtime).
// Only what wasm-bindgen's generated code calls: encode, encodeInto, decode.
'use strict';

function TextEncoder() {}

TextEncoder.prototype.encode = function (text) {
  var bytes = [];
  encodeTo(String(text === undefined ? '' : text), function (b) { bytes.push(b); }, Infinity);
  return new Uint8Array(bytes);
};

// Writes as much of `text` as fits in `view`, never splitting a character.
TextEncoder.prototype.encodeInto = function (text, view) {
  var written = 0;
  var read = encodeTo(String(text), function (b) { view[written++] = b; }, view.length);
  return { read: read, written: written };
};

// Calls `put` for each UTF-8 byte while whole characters fit in `room` bytes.
// Returns how many UTF-16 units were consumed. Lone surrogates become U+FFFD, as in browsers.
function encodeTo(text, put, room) {
  var used = 0;
  var i = 0;
  while (i < text.length) {
    var code = text.charCodeAt(i);
    var units = 1;
    if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      var low = text.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
        units = 2;
      } else {
        code = 0xfffd;
      }
    } else if (code >= 0xd800 && code <= 0xdfff) {
      code = 0xfffd;
    }
    var size = code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
    if (used + size > room) break;
    if (size === 1) {
      put(code);
    } else if (size === 2) {
      put(0xc0 | (code >> 6)); put(0x80 | (code & 0x3f));
    } else if (size === 3) {
      put(0xe0 | (code >> 12)); put(0x80 | ((code >> 6) & 0x3f)); put(0x80 | (code & 0x3f));
    } else {
      put(0xf0 | (code >> 18)); put(0x80 | ((code >> 12) & 0x3f));
      put(0x80 | ((code >> 6) & 0x3f)); put(0x80 | (code & 0x3f));
    }
    used += size;
    i += units;
  }
  return i;
}

function TextDecoder() {}

// Decodes UTF-8; malformed sequences become U+FFFD (the non-fatal mode wasm-bindgen uses).
TextDecoder.prototype.decode = function (bytes) {
  if (!bytes) return '';
  var out = '';
  var chunk = [];
  var i = 0;
  while (i < bytes.length) {
    var b = bytes[i];
    var need = b < 0x80 ? 0 : b >= 0xf0 && b <= 0xf4 ? 3 : b >= 0xe0 ? 2 : b >= 0xc2 && b < 0xe0 ? 1 : -1;
    var code = need === 0 ? b : need === 1 ? b & 0x1f : need === 2 ? b & 0x0f : b & 0x07;
    var ok = need >= 0; // a missing continuation byte is caught below
    for (var k = 1; ok && k <= need; k++) {
      var next = bytes[i + k];
      if (next === undefined || (next & 0xc0) !== 0x80) ok = false;
      else code = (code << 6) | (next & 0x3f);
    }
    if (ok && need > 0) {
      var min = need === 1 ? 0x80 : need === 2 ? 0x800 : 0x10000;
      if (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) ok = false;
    }
    if (!ok) {
      chunk.push(0xfffd);
      i += 1;
    } else {
      if (code >= 0x10000) {
        code -= 0x10000;
        chunk.push(0xd800 + (code >> 10), 0xdc00 + (code & 0x3ff));
      } else {
        chunk.push(code);
      }
      i += need + 1;
    }
    if (chunk.length > 4096) {
      out += String.fromCharCode.apply(null, chunk);
      chunk = [];
    }
  }
  return out + String.fromCharCode.apply(null, chunk);
};

module.exports = { TextEncoder: TextEncoder, TextDecoder: TextDecoder };
