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

// Decodes UTF-8 with the WHATWG algorithm (non-fatal mode, as wasm-bindgen uses it): each
// maximal malformed subsequence becomes one U+FFFD.
TextDecoder.prototype.decode = function (bytes) {
  if (!bytes) return '';
  var out = '';
  var units = [];
  var needed = 0, seen = 0, code = 0, lower = 0x80, upper = 0xbf;
  var emit = function (cp) {
    if (cp >= 0x10000) {
      cp -= 0x10000;
      units.push(0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
    } else {
      units.push(cp);
    }
    if (units.length > 4096) {
      out += String.fromCharCode.apply(null, units);
      units = [];
    }
  };
  for (var i = 0; i < bytes.length; i++) {
    var b = bytes[i];
    if (needed === 0) {
      if (b <= 0x7f) emit(b);
      else if (b >= 0xc2 && b <= 0xdf) { needed = 1; code = b & 0x1f; }
      else if (b >= 0xe0 && b <= 0xef) {
        if (b === 0xe0) lower = 0xa0;
        if (b === 0xed) upper = 0x9f;
        needed = 2; code = b & 0x0f;
      } else if (b >= 0xf0 && b <= 0xf4) {
        if (b === 0xf0) lower = 0x90;
        if (b === 0xf4) upper = 0x8f;
        needed = 3; code = b & 0x07;
      } else emit(0xfffd);
      continue;
    }
    if (b < lower || b > upper) {
      needed = seen = code = 0; lower = 0x80; upper = 0xbf;
      emit(0xfffd);
      i--; // this byte starts afresh
      continue;
    }
    lower = 0x80; upper = 0xbf;
    code = (code << 6) | (b & 0x3f);
    if (++seen === needed) {
      emit(code);
      needed = seen = code = 0;
    }
  }
  if (needed !== 0) emit(0xfffd);
  return out + String.fromCharCode.apply(null, units);
};

module.exports = { TextEncoder: TextEncoder, TextDecoder: TextDecoder };
