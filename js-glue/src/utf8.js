// UTF-8 in and out of wasm memory. The mini-program runtime has no TextEncoder/TextDecoder.
// Writes `text` as UTF-8 at `at` in `bytes` (which must have room for text.length * 3 bytes)
// and returns the number of bytes written. A lone surrogate becomes U+FFFD, as TextEncoder does.
function encodeInto(text, bytes, at) {
  var start = at;
  for (var i = 0; i < text.length; i++) {
    var c = text.charCodeAt(i);
    if (c < 0x80) {
      bytes[at++] = c;
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      var next = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        i++;
      } else {
        c = 0xfffd;
      }
    }
    if (c < 0x800) {
      bytes[at++] = 0xc0 | (c >> 6);
    } else if (c < 0x10000) {
      bytes[at++] = 0xe0 | (c >> 12);
      bytes[at++] = 0x80 | ((c >> 6) & 63);
    } else {
      bytes[at++] = 0xf0 | (c >> 18);
      bytes[at++] = 0x80 | ((c >> 12) & 63);
      bytes[at++] = 0x80 | ((c >> 6) & 63);
    }
    bytes[at++] = 0x80 | (c & 63);
  }
  return at - start;
}

// Reads `length` bytes of UTF-8 at `at`. The core only writes valid UTF-8.
function decode(bytes, at, length) {
  var end = at + length;
  // URLs and header values are ASCII: one native call for them.
  if (length <= 4096) {
    var i = at;
    while (i < end && bytes[i] < 0x80) i++;
    if (i === end) return String.fromCharCode.apply(null, bytes.subarray(at, end));
  }
  var units = [];
  var text = '';
  while (at < end) {
    var b = bytes[at++];
    var c = b;
    if (b >= 0xf0) {
      c = ((b & 7) << 18) | ((bytes[at++] & 63) << 12) | ((bytes[at++] & 63) << 6) | (bytes[at++] & 63);
      c -= 0x10000;
      units.push(0xd800 + (c >> 10), 0xdc00 + (c & 1023));
      continue;
    }
    if (b >= 0xe0) c = ((b & 15) << 12) | ((bytes[at++] & 63) << 6) | (bytes[at++] & 63);
    else if (b >= 0xc0) c = ((b & 31) << 6) | (bytes[at++] & 63);
    units.push(c);
    if (units.length >= 4096) {
      text += String.fromCharCode.apply(null, units);
      units = [];
    }
  }
  return text + String.fromCharCode.apply(null, units);
}

export { encodeInto, decode };
