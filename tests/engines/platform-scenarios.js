// The SDK on the other mini-program platforms (issue 17), engine-neutral (ES5 + whatever Promise
// the engine's global has), one platform a run, over the fakes written from each platform's
// documentation (tests/fakes/wx.js, facts in tests/fakes/PLATFORMS.md): first launch with the
// platform's code source, relaunch from its storage, 20 concurrent requests after a revoke, an
// upload, the SDK's one answer shape, its error codes with the platform's texts, no token in logs,
// errors or reports, detection from the globals, and each platform's own cases (Douyin's
// anonymous users, Alipay's storage results and older upload fields, Baidu's older checkSession).
//
// run(sdk, options) → Promise of [{ name, ok, detail }]
//   sdk                 the SDK module (createSession)
//   options.platform    'douyin' | 'alipay' | 'qq' | 'baidu' | 'kuaishou'
//   options.wasmPath    the package path of the core for the wasm build; undefined: the JavaScript build
//   options.setGlobal(name, value)  defines a global the SDK can see (value undefined: removes it)
'use strict';

var fakes = require('../fakes/wx');

// What each platform answers when things go wrong, as its docs word it (PLATFORMS.md).
var FAILURES = {
  douyin: {
    timeout: { errMsg: 'request:fail timeout' },
    network: { errMsg: 'request:fail net::ERR_INTERNET_DISCONNECTED' },
    login: { errMsg: 'login:fail internal error' },
  },
  alipay: {
    // error 13 is "超时" and 12 "网络出错" in my.request's table; the adapter decides by the code.
    timeout: { error: 13, errorMessage: '超时' },
    network: { error: 12, errorMessage: '网络出错' },
    login: { error: 11, errorMessage: '用户取消授权' },
  },
  qq: {
    timeout: { errMsg: 'request:fail timeout' },
    network: { errMsg: 'request:fail net::ERR_INTERNET_DISCONNECTED' },
    login: { errMsg: 'login:fail system error' },
  },
  baidu: {
    timeout: { errCode: 1001, errMsg: 'request:fail timeout' },
    network: { errCode: 1001, errMsg: 'request:fail net::ERR_INTERNET_DISCONNECTED' },
    login: { errCode: 10002, errMsg: 'login:fail 网络请求失败' },
  },
  kuaishou: {
    timeout: { errMsg: 'request:fail timeout' },
    network: { errMsg: 'request:fail net::ERR_INTERNET_DISCONNECTED' },
    login: { errMsg: 'login:fail system error' },
  },
};

var LOGIN_API = { douyin: 'tt.login', alipay: 'my.getAuthCode', qq: 'qq.login', baidu: 'swan.login', kuaishou: 'ks.login' };

var LOGIN_CALL = {
  douyin: 'tt.login → code',
  alipay: "my.getAuthCode({ scopes: 'auth_base' }) → authCode",
  qq: 'qq.login → code',
  baidu: 'swan.login → code',
  kuaishou: 'ks.login → code',
};

// The next platform in the detection order (wx, tt, my, qq, swan, ks): defined beside the
// platform's own global, it must lose.
var NEXT = { douyin: 'alipay', alipay: 'qq', qq: 'baidu', baidu: 'kuaishou', kuaishou: null };

function textOf(failure) {
  return failure.errorMessage !== undefined ? failure.errorMessage : failure.errMsg;
}

function describe(value) {
  try {
    return JSON.stringify(value);
  } catch (e) {
    return String(value);
  }
}

function run(sdk, options) {
  var P = options.platform;
  var wasmPath = options.wasmPath;
  var setGlobal = options.setGlobal;
  var global = fakes.GLOBALS[P];
  var failures = FAILURES[P];
  var isAlipay = P === 'alipay';
  var results = [];
  var made = []; // every fake, for the secrets they handed out
  var reports = []; // every onReport event
  var errorsSeen = []; // every rejection's message and stack
  var logs = []; // every console line

  // Catches every console line while the scenarios run.
  var saved = {};
  ['log', 'info', 'warn', 'error', 'debug'].forEach(function (name) {
    saved[name] = console[name];
    console[name] = function () {
      logs.push(Array.prototype.map.call(arguments, function (a) { return typeof a === 'string' ? a : describe(a); }).join(' '));
    };
  });
  function restoreConsole() {
    for (var name in saved) console[name] = saved[name];
  }

  // Douyin: which package paths TTWebAssembly was asked for.
  var loads = [];
  if (typeof TTWebAssembly !== 'undefined' && TTWebAssembly && typeof TTWebAssembly.instantiate === 'function') {
    var instantiate = TTWebAssembly.instantiate;
    TTWebAssembly.instantiate = function (path, imports) {
      loads.push(path);
      return instantiate.call(this, path, imports);
    };
  }

  function make(extra) {
    var o = { schedule: 'jitter' };
    for (var k in extra || {}) o[k] = extra[k];
    var fake = fakes.createPlatform(P, o);
    made.push(fake);
    return fake;
  }

  function config(fake, extra) {
    var c = {
      baseUrl: 'https://api.test',
      platform: P,
      wx: fake.api,
      login: { url: '/login', tokenPath: 'token', expiresInPath: 'expiresIn' },
      check: { url: '/auth', okWhen: { path: 'errCode', equals: 0 } },
      onReport: function (event) { reports.push(describe(event)); },
    };
    if (wasmPath) c.wasmPath = wasmPath;
    for (var k in extra || {}) {
      if (extra[k] === undefined) delete c[k];
      else c[k] = extra[k];
    }
    return c;
  }
  function loginWith(more) {
    var login = { url: '/login', tokenPath: 'token', expiresInPath: 'expiresIn' };
    for (var k in more) login[k] = more[k];
    return login;
  }
  function create(c) {
    return sdk.createSession(c);
  }

  // How `promise` settled within `ms`: { ok, value } | { ok: false, error, code } | { hang: true }.
  function outcome(promise, ms) {
    return new Promise(function (resolve) {
      var timer = setTimeout(function () { resolve({ hang: true }); }, ms || 8000);
      promise.then(function (value) {
        clearTimeout(timer);
        resolve({ ok: true, value: value });
      }, function (error) {
        clearTimeout(timer);
        var message = '';
        var stack = '';
        try {
          message = String(error && error.message);
          stack = String(error && error.stack);
        } catch (e) {
          message = '(unreadable error)';
        }
        errorsSeen.push(message + '\n' + stack);
        resolve({ ok: false, error: error, code: error && error.code, message: message });
      });
    });
  }
  function show(r) {
    if (r.hang) return 'hung';
    if (r.ok) return 'resolved ' + describe(r.value).slice(0, 200);
    return 'rejected ' + r.code + ': ' + String(r.message).slice(0, 200);
  }
  function later(ms) {
    return new Promise(function (resolve) { setTimeout(resolve, ms); });
  }

  var steps = [];
  function step(name, fn) {
    steps.push({ name: name, fn: fn });
  }
  function check(ok, detail) {
    return { ok: Boolean(ok), detail: detail };
  }

  // ---- the platform as the sandbox presents it ------------------------------------------------------

  step('the environment: no wx, no WXWebAssembly, no WebAssembly; ' + (P === 'douyin' ? 'TTWebAssembly' : 'no wasm loader at all'), function () {
    var seen = {
      wx: typeof wx, WXWebAssembly: typeof WXWebAssembly, WebAssembly: typeof WebAssembly,
      TTWebAssembly: typeof TTWebAssembly,
    };
    var ok = seen.wx === 'undefined' && seen.WXWebAssembly === 'undefined' && seen.WebAssembly === 'undefined' &&
      seen.TTWebAssembly === (P === 'douyin' ? 'object' : 'undefined');
    return check(ok, describe(seen));
  });

  // ---- the main flow, on one fake ------------------------------------------------------------------

  var main = make();
  var session = null;

  step('first launch: ' + LOGIN_CALL[P] + ', sent to the login URL, a token back', function () {
    session = create(config(main));
    return outcome(session.ensure()).then(function (r) {
      var kinds = main.backend.loginCodes.map(function (c) { return c.kind; });
      var ok = r.ok && r.value.source === 'login' && main.counts.login === 1 && main.backend.logins === 1 &&
        kinds.join() === (isAlipay ? 'authCode' : 'code');
      var detail = show(r) + '; login calls ' + main.counts.login + ', codes sent ' + describe(main.backend.loginCodes);
      if (isAlipay) {
        var scopes = main.logins[0] && main.logins[0].scopes;
        ok = ok && (scopes === 'auth_base' || (scopes && scopes.length === 1 && scopes[0] === 'auth_base'));
        detail += '; getAuthCode options ' + describe(main.logins);
      }
      if (P === 'douyin') {
        ok = ok && main.counts.loginUi === 0;
        detail += '; Douyin login UI opened ' + main.counts.loginUi + 'x';
      }
      return check(ok, detail);
    });
  });

  step('the token is stored through ' + global + "'s own storage calls" + (isAlipay ? ' ({ key, data })' : ' (key, data)') + ', session_key never', function () {
    var stored = main.storage.token;
    var text = describe(main.storage);
    var ok = stored !== undefined && main.backend.latest !== null && text.indexOf(main.backend.latest) >= 0 && text.indexOf('NEVER-STORED') < 0;
    if (isAlipay) {
      var read = main.api.getStorageSync({ key: 'token' });
      ok = ok && describe(read.data) === describe(stored);
    } else {
      ok = ok && describe(main.api.getStorageSync('token')) === describe(stored);
    }
    return check(ok, 'storage keys ' + describe(Object.keys(main.storage)));
  });

  step('relaunch: the stored token, no login' + (isAlipay ? ' (Alipay has no checkSession)' : ''), function () {
    return outcome(create(config(main)).ensure()).then(function (r) {
      return check(r.ok && r.value.source === 'storage' && main.counts.login === 1, show(r) + '; login calls ' + main.counts.login);
    });
  });

  step('request resolves with the SDK\'s one shape { statusCode, data, header }, the token in ' + (isAlipay ? "my.request's `headers`" : '`header`'), function () {
    return outcome(session.request({ url: '/api/profile' })).then(function (r) {
      var sent = main.sentTo('/api/profile', 'request');
      var last = sent.length ? sent[sent.length - 1].options : {};
      var carried = isAlipay ? last.headers : last.header;
      var v = r.ok ? r.value : {};
      var ok = r.ok && v.statusCode === 200 && v.data && v.data.ok === true && v.header !== null && typeof v.header === 'object' &&
        carried && carried.token === main.backend.latest;
      return check(ok, show(r) + '; sent ' + describe(last).slice(0, 200));
    });
  });

  step('an HTTP 404 resolves with statusCode 404, like any status' + (isAlipay ? ' (my.request fails it with error 19)' : ''), function () {
    var fake = make({
      respond: function (o) {
        return fakes.pathOf(o.url) === '/api/missing' ? { statusCode: 404, data: { error: 'missing' }, header: { 'x-test': '1' } } : undefined;
      },
    });
    var s = create(config(fake));
    return outcome(s.ensure().then(function () { return s.request({ url: '/api/missing' }); })).then(function (r) {
      var ok = r.ok && r.value.statusCode === 404 && r.value.data && r.value.data.error === 'missing' && r.value.header && typeof r.value.header === 'object';
      return check(ok, show(r));
    });
  });

  step('20 concurrent requests after the server revoked the token: exactly one re-login, 20 answers 200', function () {
    main.revokeAll();
    var calls = [];
    for (var i = 0; i < 20; i++) calls.push(outcome(session.request({ url: '/api/profile' }), 15000));
    return Promise.all(calls).then(function (rs) {
      var fine = rs.filter(function (r) { return r.ok && r.value.statusCode === 200; }).length;
      var ok = fine === 20 && main.counts.login === 2 && main.backend.logins === 2;
      var bad = rs.filter(function (r) { return !(r.ok && r.value.statusCode === 200); })[0];
      return check(ok, fine + '/20 answered 200; login calls ' + main.counts.login + ', logins ' + main.backend.logins + (bad ? '; e.g. ' + show(bad) : ''));
    });
  });

  step('an upload carries the token in ' + global + '.uploadFile\'s `header` and the file under its field name', function () {
    return outcome(session.uploadFile({ url: '/api/avatar', filePath: 'tmp/avatar.png', name: 'avatar', fileType: 'image' })).then(function (r) {
      var sent = main.sentTo('/api/avatar', 'upload');
      var o = sent.length ? sent[sent.length - 1].options : {};
      var header = isAlipay ? (o.header || o.headers) : o.header;
      var field = isAlipay ? (o.name || o.fileName) : o.name;
      var ok = r.ok && r.value.statusCode === 200 && header && header.token === main.backend.latest && field === 'avatar';
      return check(ok, show(r) + '; sent ' + describe(o).slice(0, 240));
    });
  });

  step('a download resolves with statusCode 200 and a tempFilePath' + (isAlipay ? ' (my.downloadFile answers apFilePath and no status)' : ''), function () {
    return outcome(session.downloadFile({ url: '/files/report.pdf' })).then(function (r) {
      var ok = r.ok && r.value.statusCode === 200 && typeof r.value.tempFilePath === 'string' && r.value.tempFilePath.length > 0;
      return check(ok, show(r));
    });
  });

  // ---- errors keep the SDK's codes, with the platform's texts ------------------------------------------

  function failing(extra) {
    var fake = make({
      respond: function (o) {
        var path = fakes.pathOf(o.url);
        if (path === '/api/slow') return failures.timeout;
        if (path === '/api/offline') return failures.network;
        if (path === '/api/hang') return null;
        return undefined;
      },
    });
    for (var k in extra || {}) fake[k] = extra[k];
    return { fake: fake, session: create(config(fake, { retries: 0 })) };
  }

  step("the platform's timeout rejects TIMEOUT, with the platform's text (" + describe(failures.timeout) + ')', function () {
    var t = failing();
    return outcome(t.session.ensure().then(function () { return t.session.request({ url: '/api/slow' }); })).then(function (r) {
      return check(r.code === 'TIMEOUT' && r.message.indexOf(textOf(failures.timeout)) >= 0, show(r));
    });
  });

  step('no answer within the call\'s timeout rejects TIMEOUT', function () {
    var t = failing();
    return outcome(t.session.ensure().then(function () { return t.session.request({ url: '/api/hang', timeout: 60 }); })).then(function (r) {
      return check(r.code === 'TIMEOUT', show(r));
    });
  });

  step("a network failure rejects NETWORK, with the platform's text (" + describe(failures.network) + ')', function () {
    var t = failing();
    return outcome(t.session.ensure().then(function () { return t.session.request({ url: '/api/offline' }); })).then(function (r) {
      return check(r.code === 'NETWORK' && r.message.indexOf(textOf(failures.network)) >= 0, show(r));
    });
  });

  step('abort() rejects ABORTED and aborts the platform\'s task', function () {
    var t = failing();
    return outcome(t.session.ensure().then(function () {
      var call = t.session.request({ url: '/api/hang' });
      setTimeout(function () { call.abort(); }, 5);
      return call;
    })).then(function (r) {
      return check(r.code === 'ABORTED' && t.fake.counts.abort >= 1, show(r) + '; task aborts ' + t.fake.counts.abort);
    });
  });

  step('a failed ' + LOGIN_API[P] + " rejects WX_LOGIN_FAILED, with the platform's text (" + describe(failures.login) + ')', function () {
    var fake = make({ loginFails: failures.login });
    return outcome(create(config(fake, { retries: 0 })).ensure()).then(function (r) {
      return check(r.code === 'WX_LOGIN_FAILED' && r.message.indexOf(textOf(failures.login)) >= 0 && fake.backend.loginBodies.length === 0, show(r));
    });
  });

  step('a login the server refuses (400 { errcode })' + (isAlipay ? ', which my.request fails with error 19,' : '') + ' rejects SERVER_REJECTED', function () {
    var fake = make();
    fake.backend.refuseLogins = true;
    return outcome(create(config(fake, { retries: 0 })).ensure()).then(function (r) {
      return check(r.code === 'SERVER_REJECTED', show(r));
    });
  });

  // ---- the platform, from config or from the globals ------------------------------------------------

  step("an unknown platform ('weibo') is a CONFIG error naming `platform`", function () {
    var fake = make();
    return outcome(create(config(fake, { platform: 'weibo' })).ensure()).then(function (r) {
      return check(r.code === 'CONFIG' && /platform/.test(r.message), show(r));
    });
  });

  // A session with neither `platform` nor config.wx while the globals of `list` are defined: the
  // first must be the one used.
  function detected(list) {
    list.forEach(function (fake) { setGlobal(fake.global, fake.api); });
    var s;
    try {
      s = create(config(list[0], { platform: undefined, wx: undefined }));
    } catch (e) {
      s = { ensure: function () { return Promise.reject(e); } };
    }
    return outcome(s.ensure()).then(function (r) {
      list.forEach(function (fake) { setGlobal(fake.global, undefined); });
      var ok = r.ok && r.value.source === 'login' && list[0].counts.login === 1;
      for (var i = 1; i < list.length; i++) ok = ok && list[i].counts.login === 0;
      return check(ok, show(r) + '; ' + list.map(function (fake) { return fake.global + ' logins ' + fake.counts.login; }).join(', '));
    });
  }

  step('no `platform`, no config.wx, only the global `' + global + '` defined (no wx): detected', function () {
    return detected([make()]);
  });

  if (NEXT[P]) {
    step('`' + global + '` wins over `' + fakes.GLOBALS[NEXT[P]] + '` (the order: wx, tt, my, qq, swan, ks)', function () {
      var other = fakes.createPlatform(NEXT[P], { schedule: 'jitter' });
      made.push(other);
      return detected([make(), other]);
    });
  }

  // ---- each platform's own cases ------------------------------------------------------------------

  if (P === 'douyin') {
    step('the wasm build was loaded by TTWebAssembly.instantiate(' + describe(wasmPath) + ')', function () {
      return check(loads.length >= 1 && loads[0] === wasmPath, 'TTWebAssembly.instantiate calls: ' + describe(loads));
    });

    step("user not logged in to Douyin, login.anonymous unset ('fail'): WX_LOGIN_FAILED saying why; tt.login({ force: false }), no Douyin login UI, nothing sent", function () {
      var fake = make({ loggedIn: false });
      return outcome(create(config(fake, { retries: 0 })).ensure()).then(function (r) {
        var forced = fake.logins.map(function (o) { return o.force; });
        var ok = r.code === 'WX_LOGIN_FAILED' && /anonymous|not logged in|未登录/i.test(r.message) && fake.counts.loginUi === 0 &&
          forced.length >= 1 && forced.every(function (f) { return f === false; }) && fake.backend.loginBodies.length === 0;
        return check(ok, show(r) + '; tt.login force ' + describe(forced) + ', login UI ' + fake.counts.loginUi + 'x, login requests ' + fake.backend.loginBodies.length);
      });
    });

    step("login.anonymous 'send': the anonymousCode goes out under 'anonymousCode' instead of code, no Douyin login UI", function () {
      var fake = make({ loggedIn: false });
      return outcome(create(config(fake, { login: loginWith({ anonymous: 'send' }) })).ensure()).then(function (r) {
        var sent = fake.backend.loginCodes[0] || {};
        var body = fake.backend.loginBodies[0] || {};
        var ok = r.ok && r.value.source === 'login' && sent.kind === 'anonymousCode' && sent.field === 'anonymousCode' && body.code === undefined &&
          fake.counts.loginUi === 0 && fake.logins[0] && fake.logins[0].force === false;
        return check(ok, show(r) + '; sent ' + describe(fake.backend.loginCodes) + ', body keys ' + describe(Object.keys(body)) + ', login UI ' + fake.counts.loginUi + 'x');
      });
    });

    step("login.anonymous 'send' with anonymousKey 'anonymous_code'", function () {
      var fake = make({ loggedIn: false });
      return outcome(create(config(fake, { login: loginWith({ anonymous: 'send', anonymousKey: 'anonymous_code' }) })).ensure()).then(function (r) {
        var sent = fake.backend.loginCodes[0] || {};
        return check(r.ok && sent.kind === 'anonymousCode' && sent.field === 'anonymous_code', show(r) + '; sent ' + describe(fake.backend.loginCodes));
      });
    });

    step("login.anonymous 'send', user logged in to Douyin: the code goes out as usual", function () {
      var fake = make({ loggedIn: true });
      return outcome(create(config(fake, { login: loginWith({ anonymous: 'send' }) })).ensure()).then(function (r) {
        var sent = fake.backend.loginCodes[0] || {};
        return check(r.ok && sent.kind === 'code' && sent.field === 'code', show(r) + '; sent ' + describe(fake.backend.loginCodes));
      });
    });

    step("login.anonymous 'force': tt.login({ force: true }) opens Douyin's login, then the code goes out", function () {
      var fake = make({ loggedIn: false });
      return outcome(create(config(fake, { login: loginWith({ anonymous: 'force' }) })).ensure()).then(function (r) {
        var sent = fake.backend.loginCodes[0] || {};
        var ok = r.ok && fake.logins[0] && fake.logins[0].force === true && fake.counts.loginUi === 1 && sent.kind === 'code';
        return check(ok, show(r) + '; tt.login ' + describe(fake.logins) + ', login UI ' + fake.counts.loginUi + 'x, sent ' + describe(fake.backend.loginCodes));
      });
    });

    step("login.anonymous 'force', the user cancels Douyin's login: WX_LOGIN_FAILED with Douyin's text", function () {
      var fake = make({ loggedIn: false, loginUi: 'cancel' });
      return outcome(create(config(fake, { retries: 0, login: loginWith({ anonymous: 'force' }) })).ensure()).then(function (r) {
        return check(r.code === 'WX_LOGIN_FAILED' && r.message.indexOf('host login fail') >= 0, show(r));
      });
    });

    step("tt.getStorageSync throwing 'data not found' for a missing key means no token: a login, no STORAGE failure", function () {
      var fake = make({ missingKey: 'throw' });
      var s = create(config(fake));
      var storageErrors = [];
      s.onChange(function (state, error) { if (error && error.code === 'STORAGE') storageErrors.push(error.message); });
      return outcome(s.ensure()).then(function (r) {
        return later(50).then(function () {
          return check(r.ok && r.value.source === 'login' && storageErrors.length === 0, show(r) + '; STORAGE reports ' + describe(storageErrors));
        });
      });
    });
  }

  if (isAlipay) {
    step('my.setStorageSync returning { error: 12 } (it never throws) is reported as STORAGE, with Alipay\'s text', function () {
      var fake = make({ storageFull: true });
      var s = create(config(fake));
      var storageErrors = [];
      s.onChange(function (state, error) { if (error && error.code === 'STORAGE') storageErrors.push(String(error.message)); });
      return outcome(s.ensure()).then(function (r) {
        return later(100).then(function () {
          var ok = storageErrors.length >= 1 && storageErrors[0].indexOf('存储总大小达到上限') >= 0 && fake.storage.token === undefined;
          return check(ok, show(r) + '; STORAGE reports ' + describe(storageErrors));
        });
      });
    });

    step('Alipay clients before late 2022: my.uploadFile needs fileName and fileType (the app passes name)', function () {
      var fake = make({ upload: 'legacy' });
      var s = create(config(fake));
      return outcome(s.ensure().then(function () {
        return s.uploadFile({ url: '/api/avatar', filePath: 'tmp/avatar.png', name: 'avatar', fileType: 'image' });
      })).then(function (r) {
        var sent = fake.sentTo('/api/avatar', 'upload');
        var o = sent.length ? sent[0].options : {};
        return check(r.ok && r.value.statusCode === 200 && o.fileName === 'avatar' && o.fileType === 'image', show(r) + '; sent ' + describe(o).slice(0, 240));
      });
    });

    step('newer Alipay clients (statusCode/header beside status/headers) work the same', function () {
      var fake = make({ headerAlias: true });
      var s = create(config(fake));
      return outcome(s.ensure().then(function () { return s.request({ url: '/api/profile' }); })).then(function (r) {
        return check(r.ok && r.value.statusCode === 200 && r.value.data && r.value.data.ok === true, show(r));
      });
    });
  }

  if (P === 'baidu') {
    step('swan.checkSession of base libraries before 3.120.9 (success with { result: false }) means expired: a new login', function () {
      var first = make();
      return outcome(create(config(first)).ensure()).then(function (r1) {
        // The same stored token on a phone whose Baidu session expired (no code handed out there).
        var stale = make({ checkSessionStyle: 'result', storage: JSON.parse(describe(first.storage)) });
        stale.accept(first.backend.latest);
        return outcome(create(config(stale, { check: null })).ensure()).then(function (r) {
          var ok = r1.ok && r.ok && r.value.source === 'login' && stale.counts.checkSession >= 1 && stale.counts.login === 1;
          return check(ok, show(r) + '; checkSession ' + stale.counts.checkSession + 'x, logins ' + stale.counts.login);
        });
      });
    });

    step('swan.checkSession of base libraries before 3.120.9 (success with { result: true }): the stored token', function () {
      var fake = make({ checkSessionStyle: 'result' });
      return outcome(create(config(fake)).ensure().then(function () {
        return create(config(fake, { check: null })).ensure();
      })).then(function (r) {
        return check(r.ok && r.value.source === 'storage' && fake.counts.login === 1, show(r) + '; logins ' + fake.counts.login);
      });
    });
  }

  // ---- last: what every fake handed out never shows where it must not --------------------------------

  step('no token and no session_key in any log line, error message or onReport event', function () {
    var secrets = ['NEVER-STORED'];
    made.forEach(function (fake) { secrets = secrets.concat(fake.backend.tokens); });
    var places = [['log line', logs], ['error', errorsSeen], ['onReport event', reports]];
    var found = [];
    places.forEach(function (place) {
      place[1].forEach(function (text) {
        secrets.forEach(function (secret) {
          if (String(text).indexOf(secret) >= 0) found.push(place[0] + ' has ' + secret + ': ' + String(text).slice(0, 160));
        });
      });
    });
    return check(found.length === 0 && reports.length > 0 && errorsSeen.length > 0,
      found.length ? found.slice(0, 3).join(' | ') : 'checked ' + logs.length + ' log lines, ' + errorsSeen.length + ' errors, ' + reports.length + ' reports against ' + secrets.length + ' secrets');
  });

  // Runs the steps one after another; a step that throws or hangs is a failed result.
  var chain = Promise.resolve();
  steps.forEach(function (s) {
    chain = chain.then(function () {
      var bounded = new Promise(function (resolve) {
        var timer = setTimeout(function () { resolve({ ok: false, detail: 'hung (20 s)' }); }, 20000);
        new Promise(function (r) { r(s.fn()); }).then(function (value) {
          clearTimeout(timer);
          resolve(value);
        }, function (e) {
          clearTimeout(timer);
          resolve({ ok: false, detail: 'threw: ' + String(e && (e.stack || e.message) || e).slice(0, 400) });
        });
      });
      return bounded.then(function (r) {
        results.push({ name: s.name, ok: Boolean(r && r.ok), detail: r && r.detail });
      });
    });
  });
  return chain.then(function () {
    restoreConsole();
    return results;
  }, function (e) {
    restoreConsole();
    results.push({ name: 'the scenarios ran', ok: false, detail: String(e) });
    return results;
  });
}

module.exports = { run: run, FAILURES: FAILURES };
