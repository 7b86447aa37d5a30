// WxSessionError: the one error class every rejection and onChange report uses.
'use strict';

// `code` is stable (CONFIG, NETWORK, …); `key` names the bad config key for CONFIG errors;
// `status` is the HTTP status for SERVER_REJECTED. Messages never contain the token.
function WxSessionError(code, message, key, status) {
  var error = new Error(message);
  this.name = 'WxSessionError';
  this.code = code;
  this.message = message;
  if (key) this.key = key;
  if (status) this.status = status;
  if (error.stack) this.stack = 'WxSessionError: ' + message + String(error.stack).replace(/^[^\n]*/, '');
}
WxSessionError.prototype = Object.create(Error.prototype);
WxSessionError.prototype.constructor = WxSessionError;
WxSessionError.prototype.name = 'WxSessionError';

// True for errors of this SDK, also from another copy of it (two bundles in one app).
function isWxSessionError(value) {
  return value instanceof WxSessionError || Boolean(value && value.name === 'WxSessionError' && typeof value.code === 'string');
}

function configError(key, reason) {
  return new WxSessionError('CONFIG', 'invalid config `' + key + '`: ' + reason, key);
}

// The text of whatever a platform callback or a rejected promise gave: `errMsg`, `message` or
// the value itself, read without letting a throwing getter escape.
function describe(value) {
  var text;
  try {
    if (value && typeof value.errMsg === 'string') text = value.errMsg;
    else if (value && typeof value.message === 'string') text = value.message;
    else text = String(value);
  } catch (e) {
    text = 'unreadable failure';
  }
  return text.length > 1000 ? text.slice(0, 1000) + '…' : text;
}

module.exports = { WxSessionError: WxSessionError, isWxSessionError: isWxSessionError, configError: configError, describe: describe };
