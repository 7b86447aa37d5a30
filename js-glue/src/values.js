// Reading the app's values (request options, answers, login objects): own members only, under
// the caller's try/catch (a getter may throw), never more than the SDK needs.
var hasOwn = Object.prototype.hasOwnProperty;
var ABSENT = {};
var UNREADABLE = {};

// The own enumerable members of `object`, except `skip`'s (and `__proto__`, which as a plain
// assignment would set the copy's prototype instead).
function copyOwn(object, skip) {
  var copy = {};
  for (var key in object) {
    if (hasOwn.call(object, key) && key !== '__proto__' && !(skip && hasOwn.call(skip, key))) copy[key] = object[key];
  }
  return copy;
}

// A number option for the core: NaN when not given, -1 (refused there) when not a number.
function numberOption(value) {
  return value === undefined ? NaN : typeof value === 'number' && value === value ? value : -1;
}

// The value at `path` (a list of names) in `data`: own members only; ABSENT when a step is
// missing, UNREADABLE when a getter throws.
function lookup(data, path) {
  var node = data;
  try {
    for (var i = 0; i < path.length; i++) {
      if (node === null || typeof node !== 'object' || !hasOwn.call(node, path[i])) return ABSENT;
      node = node[path[i]];
    }
  } catch (e) {
    return UNREADABLE;
  }
  return node === undefined ? ABSENT : node;
}

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch (e) {
    return text;
  }
}

// Deletes from `body` the names the query of `url` has.
function dropQueryNames(body, url) {
  var query = url.split('#')[0].split('?')[1];
  var pairs = query ? query.split('&') : [];
  for (var i = 0; i < pairs.length; i++) {
    try {
      delete body[decodeURIComponent(pairs[i].split('=')[0])];
    } catch (e) {
      // a malformed escape: not a name the body can have
    }
  }
}

// The path of `url`: no origin, query or fragment (what onReport may show).
function pathOf(url) {
  return String(url).replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, '').replace(/[?#][\s\S]*/, '') || '/';
}

// Calls an app's callback; its exceptions stay there (the app's bug must not break the session).
function callBack(fn, value, more) {
  if (typeof fn !== 'function') return;
  try {
    fn(value, more);
  } catch (e) {
    // ignored
  }
}

export {
  hasOwn, ABSENT, UNREADABLE, copyOwn, numberOption, lookup, parseJson, dropQueryNames, pathOf, callBack,
};
