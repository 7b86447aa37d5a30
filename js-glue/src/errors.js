// WxSessionError: the one error class every rejection and onChange report uses.
var setPrototypeOf = Object.setPrototypeOf || function (object, prototype) {
  object.__proto__ = prototype; // eslint-disable-line no-proto
  return object;
};

// `code` is stable (CONFIG, NETWORK, …); `key` names the bad config key for CONFIG errors;
// `status` is the HTTP status for SERVER_REJECTED. Messages never contain the token.
// Each instance is a real Error object (made by `Error`, then given this prototype), so consoles,
// DevTools and error monitors that test the internal class (`[object Error]`,
// `util.types.isNativeError`) show it as an error, with its message and stack. ES5: no `class`.
function WxSessionError(code, message, key, status) {
  var error = setPrototypeOf(new Error(message), WxSessionError.prototype);
  error.code = code;
  if (key) error.key = key;
  if (status) error.status = status;
  // V8 writes the stack's first line from the name at capture time: capture it again, as a
  // WxSessionError and without this constructor's frame. (JavaScriptCore has no header line.)
  if (typeof Error.captureStackTrace === 'function') Error.captureStackTrace(error, WxSessionError);
  return error;
}
// The bundle's minifier renames the function; consoles (Node's util.inspect) show its name.
try {
  Object.defineProperty(WxSessionError, 'name', { value: 'WxSessionError' });
} catch (e) {
  // an engine whose function names are fixed: only the label a console shows differs
}
WxSessionError.prototype = Object.create(Error.prototype, {
  constructor: { value: WxSessionError, writable: true, configurable: true },
  name: { value: 'WxSessionError', writable: true, configurable: true },
});

// True for errors of this SDK, also from another copy of it (two bundles in one app).
function isWxSessionError(value) {
  return value instanceof WxSessionError || Boolean(value && value.name === 'WxSessionError' && typeof value.code === 'string');
}

function configError(key, reason) {
  return new WxSessionError('CONFIG', 'invalid config `' + key + '`: ' + reason, key);
}

// The text of whatever a platform callback or a rejected promise gave: `errMsg`, `message` or
// the value itself, read without letting a throwing getter escape; cut after `room` characters
// (1,000 unless given).
function describe(value, room) {
  var text;
  try {
    if (value && typeof value.errMsg === 'string') text = value.errMsg;
    else if (value && typeof value.message === 'string') text = value.message;
    else text = String(value);
  } catch (e) {
    text = 'unreadable failure';
  }
  room = room || 1000;
  return text.length > room ? text.slice(0, room) + '…' : text;
}

// The room of a message the core clears of the token before cutting it to 1,000 characters
// (tokens are at most 8192): a token across the 1,000th character is cleared whole.
var SCRUBBED_ROOM = 1000 + 8192;

export { WxSessionError, isWxSessionError, configError, describe, SCRUBBED_ROOM };
