// The platforms the SDK runs on, and what the glue needs of each whatever its API names and answer
// shapes: where the login code comes from, checkSession (or none), requests, uploads, downloads
// and storage. (Which wasm loader each has is loader.js's business.) WeChat, Douyin, QQ, Baidu and
// Kuaishou name and shape these like WeChat; Alipay does not (platform-alipay.js). Each fact, with
// its source, is in tests/fakes/PLATFORMS.md. The core knows none of this.
import * as abi from './abi.js';
import * as errors from './errors.js';
import { alipay } from './platform-alipay.js';
import { callName } from './calls.js';

// Each platform's global object; detection tries them in this order.
var GLOBALS = { wechat: 'wx', douyin: 'tt', alipay: 'my', qq: 'qq', baidu: 'swan', kuaishou: 'ks' };
var DETECTION = ['wechat', 'douyin', 'alipay', 'qq', 'baidu', 'kuaishou'];

// The global object of platform `name`, if this runtime has it. (No `globalThis` on older base
// libraries: each global is named.)
function globalOf(name) {
  switch (GLOBALS[name]) {
    case 'wx': return typeof wx !== 'undefined' ? wx : undefined;
    case 'tt': return typeof tt !== 'undefined' ? tt : undefined;
    case 'my': return typeof my !== 'undefined' ? my : undefined;
    case 'qq': return typeof qq !== 'undefined' ? qq : undefined;
    case 'swan': return typeof swan !== 'undefined' ? swan : undefined;
    default: return typeof ks !== 'undefined' ? ks : undefined;
  }
}

// The platform for config's `platform` and `wx` (the platform object; its name stays for
// compatibility). Throws CONFIG when it can't be told.
function choosePlatform(name, object) {
  if (name !== undefined && (typeof name !== 'string' || !GLOBALS.hasOwnProperty(name))) {
    throw errors.configError('platform', "must be one of 'wechat', 'douyin', 'alipay', 'qq', 'baidu', 'kuaishou'");
  }
  if (name === undefined) {
    for (var i = 0; i < DETECTION.length && name === undefined; i++) {
      if (globalOf(DETECTION[i]) !== undefined) name = DETECTION[i];
    }
    // An injected object on a runtime with no platform global (tests, a custom host): WeChat's shapes.
    if (name === undefined && object) name = 'wechat';
  }
  if (name === undefined) throw errors.configError('wx', 'no platform here (no wx, tt, my, qq, swan or ks): pass config.wx, the platform object');
  object = object || globalOf(name);
  if (!object) throw errors.configError('wx', 'there is no global ' + GLOBALS[name] + ' here: pass config.wx, the platform object');
  return name === 'alipay' ? alipay(object) : wechatShaped(name, object);
}

// WeChat and the platforms shaped like it: the same names, options and answers.
// (developers.weixin.qq.com/miniprogram/dev/api/; Douyin's tt.login adds `anonymousCode`.)
function wechatShaped(name, api) {
  return {
    name: name,
    has: function (kind) { return typeof api[callName(kind)] === 'function'; },
    getStorage: function (key) {
      try {
        return api.getStorageSync(key);
      } catch (e) {
        // Douyin throws for a missing key (error 100599, "data not found"): no value, no failure.
        if (/data not found|100599/.test(errors.describe(e))) return '';
        throw e;
      }
    },
    setStorage: function (key, value) { api.setStorageSync(key, value); },
    removeStorage: function (key) { api.removeStorageSync(key); },
    // (Baidu before base library 3.120.9 succeeds with { result: false } for an expired session.)
    checkSession: typeof api.checkSession === 'function' ? function (valid, invalid) {
      api.checkSession({
        success: function (res) {
          var result;
          try {
            result = res && res.result;
          } catch (e) {
            result = false;
          }
          if (result === false) invalid();
          else valid();
        },
        fail: invalid,
      });
    } : null,
    // answer(kind, text): kind one of abi LOGIN_ (the code, the anonymous code, or the errMsg).
    login: function (force, answer) {
      var options = {
        success: function (res) {
          var code;
          var anonymous;
          try {
            code = res && res.code;
            anonymous = res && res.anonymousCode;
          } catch (e) {
            // an unreadable answer is an answer without a code
          }
          if (typeof code === 'string' && code) answer(abi.LOGIN_CODE, code);
          else if (typeof anonymous === 'string' && anonymous) answer(abi.LOGIN_ANONYMOUS, anonymous);
          else answer(abi.LOGIN_CODE, '');
        },
        fail: function (err) { answer(abi.LOGIN_FAILED, errors.describe(err)); },
      };
      // Douyin's tt.login takes `force` (true by default: a user not logged in to Douyin gets its
      // login screen), so it is always given there; the others take no such option.
      if (name === 'douyin') options.force = force;
      api.login(options);
    },
    // `options` are WeChat's, with success and fail set; returns the platform's task.
    send: function (kind, options) {
      return kind === abi.CALL_UPLOAD ? api.uploadFile(options) : kind === abi.CALL_DOWNLOAD ? api.downloadFile(options) : api.request(options);
    },
  };
}


export { choosePlatform };
