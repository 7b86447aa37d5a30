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
      login: { url: '/login', tokenPath: 'token', expiresInPath: 'expiresIn' },
      check: { url: '/auth', okWhen: { path: 'errCode', equals: 0 }, policy: 'always' },
      invalidWhen: [{ status: 401 }],
    });
    // Start logging in now; pages that call request() meanwhile wait for this same login.
    this.session.ensure().then(null, function () {
      // The index page shows the error (it listens to onChange) and offers a retry.
    });
  },
});
