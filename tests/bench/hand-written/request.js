// The request.js a mini-program writes by hand after the seeds (shared/seeds/, seed 003's flow):
// the token in memory and in storage, wx.login → POST /login { code } → { token }, the token in a
// `token` header on every request, and one re-login and retry on a 401, as later posts add.
// Plain ES5 and the global `wx`, as an app ships it. The bench measures wx-session against it.
var BASE_URL = 'https://api.test';
var TOKEN_KEY = 'token';
var token = '';

function login() {
  return new Promise(function (resolve, reject) {
    wx.login({
      success: function (res) {
        wx.request({
          url: BASE_URL + '/login',
          method: 'POST',
          data: { code: res.code },
          success: function (answer) {
            token = answer.data.token;
            wx.setStorageSync(TOKEN_KEY, token);
            resolve(token);
          },
          fail: reject,
        });
      },
      fail: reject,
    });
  });
}

function request(options, retried) {
  return new Promise(function (resolve, reject) {
    var header = Object.assign({}, options.header, { token: token });
    wx.request(Object.assign({}, options, {
      url: BASE_URL + options.url,
      header: header,
      success: function (res) {
        if (res.statusCode === 401 && !retried) {
          login().then(function () { return request(options, true); }).then(resolve, reject);
        } else {
          resolve(res);
        }
      },
      fail: reject,
    }));
  });
}

module.exports = { login: login, request: request };
