// The callbacks the Rust core drives (see src/wasm/host.rs), built over a wx-like object.
// Each one only adapts wx's callback style to Promises: the flow logic lives in Rust.
'use strict';

function makeHost(wx, options) {
  return {
    getStorage: function (key) {
      var value = wx.getStorageSync(key);
      return value === '' ? undefined : value; // wx returns '' for a missing key
    },
    setStorage: function (key, value) { wx.setStorageSync(key, value); },
    removeStorage: function (key) { wx.removeStorageSync(key); },
    checkSession: function () {
      return new Promise(function (resolve) {
        wx.checkSession({
          success: function () { resolve(true); },
          fail: function () { resolve(false); },
        });
      });
    },
    login: function () {
      return new Promise(function (resolve, reject) {
        wx.login({
          success: function (res) {
            if (res && res.code) resolve(res.code);
            else reject({ errMsg: (res && res.errMsg) || 'login:ok without a code' });
          },
          fail: reject,
        });
      });
    },
    loginExtra: function () {
      return Promise.resolve().then(function () { return options.loginExtra(); });
    },
    // `call` is a fresh object the core built for this request (the caller's options, url,
    // method, header and timeout on top), so it is used as is rather than copied again.
    request: function (call) {
      return new Promise(function (resolve, reject) {
        // Our own per-request options stay out of wx.request; its callbacks are ours.
        delete call.auth;
        delete call.retry;
        delete call.complete;
        call.success = resolve;
        call.fail = reject;
        wx.request(call);
      });
    },
    now: function () { return Date.now(); },
    sleep: function (ms) {
      var wake;
      var sleeping = new Promise(function (resolve) { wake = resolve; });
      var timer = setTimeout(wake, ms);
      sleeping.cancel = function () {
        clearTimeout(timer);
        // Settle it anyway: the core's awaiter is only freed when its Promise settles, so a
        // sleep left pending forever would leak a little wasm memory per timed call.
        wake();
      };
      return sleeping;
    },
    // The core lost interest (the call it was timing answered first).
    cancelSleep: function (sleeping) { sleeping.cancel(); },
    stateChanged: function (state, error) { options.onState(state, error); },
  };
}

module.exports = { makeHost: makeHost };
