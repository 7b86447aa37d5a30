// The whole integration: create the session in onLaunch, and pages ask it for requests.
var createSession = require('./libs/wx-session/index.js').createSession;
var config = require('./config.js');

App({
  onLaunch: function () {
    this.session = createSession({
      baseUrl: config.baseUrl,
      wasmPath: '/libs/wx-session/wx_session_bg.wasm.br',
      storageKey: 'token',
      tokenHeader: 'token',
      login: { url: '/login', tokenPath: 'token', expiresInPath: 'expiresIn', refreshTokenPath: 'refreshToken' },
      check: { url: '/auth', okWhen: { path: 'errCode', equals: 0 }, policy: 'always' },
      invalidWhen: [{ status: 401 }],
      // 无感刷新: when the server hands out a refresh token with the access token (the dev
      // server's refresh profile), an expired access token is swapped for a new pair at /refresh,
      // once for every waiting call, with no wx.login. (A server without one: never used.)
      refresh: { url: '/refresh', tokenPath: 'token', refreshTokenPath: 'refreshToken', expiresInPath: 'expiresIn' },
      onReport: function (event) {
        // Shown in the console (and the headless timeline); the event never holds a token.
        if (event.kind === 'refresh') {
          console.log('无感刷新 ' + event.method + ' ' + event.url + ' → ' + (event.ok ? event.status : event.code || event.status) + ' in ' + (event.endMs - event.startMs) + ' ms');
        }
      },
    });
    // Start logging in now; pages that call request() meanwhile wait for this same login.
    this.session.ensure().then(null, function () {
      // The index page shows the error (it listens to onChange) and offers a retry.
    });
  },
});
