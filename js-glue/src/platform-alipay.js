// Alipay's adapter (see platform.js): its names and shapes made WeChat's for the glue. Only the
// JavaScript build carries it: Alipay has WebAssembly only inside Workers, so the wasm build
// stands platform-alipay-none.js here.
import * as abi from './abi.js';
import { callName } from './calls.js';

// Alipay (opendocs.alipay.com/mini/api): getAuthCode for the code; no checkSession; request
// takes `headers` and answers `status`/`headers`, failures are { error, errorMessage }; storage
// calls take and answer objects; uploadFile names the file `fileName` (with a `fileType`);
// downloadFile answers `apFilePath`. Requests resolve with the SDK's one shape
// { statusCode, data, header }.
function alipay(api) {
  return {
    name: 'alipay',
    has: function (kind) { return typeof api[callName(kind)] === 'function'; },
    getStorage: function (key) {
      var res = api.getStorageSync({ key: key });
      return res ? res.data : undefined;
    },
    setStorage: function (key, value) { okOrThrow(api.setStorageSync({ key: key, data: value })); },
    removeStorage: function (key) { okOrThrow(api.removeStorageSync({ key: key })); },
    checkSession: null,
    login: function (force, answer) {
      api.getAuthCode({
        scopes: 'auth_base', // silent: no authorization page
        success: function (res) {
          var code;
          try {
            code = res && res.authCode;
          } catch (e) {
            // no code
          }
          answer(abi.LOGIN_CODE, typeof code === 'string' ? code : '');
        },
        fail: function (err) { answer(abi.LOGIN_FAILED, failureText('getAuthCode', err)); },
      });
    },
    send: function (kind, options) {
      var call = callName(kind);
      var out = { url: options.url, timeout: options.timeout };
      for (var key in options) {
        if (!out.hasOwnProperty(key) && key !== 'success' && key !== 'fail' && key !== 'header' && key !== 'name') out[key] = options[key];
      }
      // The request's header is `headers`; an upload's and a download's stay `header`.
      if (options.header) out[kind === abi.CALL_REQUEST ? 'headers' : 'header'] = options.header;
      if (kind === abi.CALL_UPLOAD) {
        out.fileName = options.name;
        if (!out.fileType) out.fileType = 'image';
      }
      // (An answer that can't be read, or none, reaches the glue as such: never as a throw into
      // the platform's callback, which would leave the call waiting for its time limit.)
      out.success = function (res) { options.success(shaped(kind, res)); };
      out.fail = function (err) {
        // An HTTP answer that is not 2xx comes as a failure (error 19) that carries it.
        var status;
        try {
          status = err && err.status;
        } catch (e) {
          status = undefined;
        }
        if (typeof status === 'number' && status > 0) options.success(shaped(kind, err));
        else options.fail({ errMsg: failureText(call, err) });
      };
      return api[call](out);
    },
  };
}

// An Alipay answer in the SDK's shape: { statusCode, data, header } (a download's file path as
// `tempFilePath`); null for one that can't be read (no HTTP answer, to the glue).
function shaped(kind, res) {
  try {
    var out = { statusCode: res.status !== undefined ? res.status : res.statusCode, data: res.data, header: res.headers || res.header };
    if (kind === abi.CALL_UPLOAD && out.statusCode === undefined) out.statusCode = 200;
    if (kind === abi.CALL_DOWNLOAD) {
      out.tempFilePath = res.apFilePath;
      if (out.statusCode === undefined) out.statusCode = 200;
    }
    return out;
  } catch (e) {
    return null;
  }
}

// Alipay's failure as WeChat-style text the core classifies: `<call>:fail timeout` for a timeout
// (error 13), `<call>:fail abort` for an abort, else its message.
function failureText(call, err) {
  var code;
  var message = '';
  try {
    code = err && err.error;
    var given = err && (err.errorMessage || err.errMsg);
    // (Made text here: a message whose toString throws would throw into the platform's callback.)
    if (given) message = String(given);
  } catch (e) {
    // unreadable
  }
  if (code === 13) return call + ':fail timeout' + (message ? ' (' + message + ')' : '');
  if (code === 9 || /abort/i.test(message)) return call + ':fail abort';
  return call + ':fail ' + (message || 'error ' + code);
}

// Alipay's storage calls answer { error, errorMessage } (or { success: false }) instead of
// throwing: error 12 when all storage is over 10 MB, 14 when one key is over 200 KB.
function okOrThrow(res) {
  if (res && (res.success === false || res.error)) throw new Error(res.errorMessage || 'storage failed (error ' + res.error + ')');
}

export { alipay };
