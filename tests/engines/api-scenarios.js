// The weRequest-style API (uploadFile/downloadFile, callbacks, abort/onTask, login(extra),
// token()/setToken(), onReport), engine-neutral: plain ES5 with whatever Promise the engine's
// global has, so the same scenarios run in the V8 sandbox and in the `jsc` shell.
//
// run(sdk, wasmPath) → Promise of [{ name, ok, detail }], each scenario on a fresh fake wx
// (tests/fakes/wx.js) it steers: holds an exchange in flight, revokes tokens, sees every task.
'use strict';

var createWx = require('../fakes/wx').createWx;

function run(sdk, wasmPath) {
  var results = [];
  function check(name, ok, detail) {
    results.push({ name: name, ok: Boolean(ok), detail: detail });
  }
  function create(fake, extra) {
    var c = { baseUrl: 'https://api.test', wasmPath: wasmPath, wx: fake.wx, useCheckSession: false };
    for (var k in extra || {}) c[k] = extra[k];
    return sdk.createSession(c);
  }
  // Resolves once `predicate()` holds (polled), or with false after `ms`.
  function until(predicate, ms) {
    var end = Date.now() + (ms || 3000);
    return new Promise(function (resolve) {
      (function poll() {
        if (predicate()) return resolve(true);
        if (Date.now() > end) return resolve(false);
        setTimeout(poll, 2);
      })();
    });
  }
  function pause(ms) {
    return new Promise(function (resolve) { setTimeout(resolve, ms); });
  }
  function settle(promise) {
    return promise.then(function (value) { return { ok: true, value: value }; }, function (error) { return { ok: false, error: error, code: error && error.code }; });
  }
  function scenario(name, body) {
    return function () {
      return Promise.resolve().then(body).then(function (r) {
        check(name, r.ok, r.detail);
      }, function (e) {
        check(name, false, 'threw ' + (e && e.code ? e.code + ' ' : '') + (e && e.message ? e.message : e));
      });
    };
  }

  var scenarios = [
    scenario('upload with a revoked token: one re-login, the upload retried with the new token', function () {
      var fake = createWx({ schedule: 2 });
      var s = create(fake);
      var first;
      return s.ensure().then(function (ready) {
        first = ready.token;
        fake.revokeAll();
        var formData = { album: 'a1' };
        return s.uploadFile({ url: '/api/avatar', filePath: 'wxfile://tmp_a.png', name: 'avatar', formData: formData });
      }).then(function (res) {
        var uploads = fake.sentTo('/api/avatar', 'upload');
        var logins = fake.sentTo('/login', 'request');
        var second = fake.backend.latest;
        var detail = 'status ' + res.statusCode + ', data ' + res.data + ', wx.login x' + fake.counts.login + ', login requests ' + logins.length +
          ', uploads ' + uploads.length + ', tokens ' + uploads.map(function (u) { return u.options.header.token === first ? 'first' : u.options.header.token === second ? 'second' : 'other'; }).join('/') +
          '';
        var ok = res.statusCode === 200 && res.data === '{"url":"https://cdn.test/avatar.png","code":0}' && res.errMsg === 'uploadFile:ok' &&
          fake.counts.login === 2 && logins.length === 2 && uploads.length === 2 &&
          uploads[0].options.header.token === first && uploads[1].options.header.token === second && second !== first &&
          uploads[1].options.url === 'https://api.test/api/avatar' && uploads[1].options.method === undefined &&
          uploads[1].options.name === 'avatar' && uploads[1].options.filePath === 'wxfile://tmp_a.png' &&
          s.token() === second;
        return { ok: ok, detail: detail };
      });
    }),

    scenario('download carries the token and resolves with the platform success object', function () {
      var fake = createWx({ schedule: 2 });
      var s = create(fake);
      return s.downloadFile({ url: '/api/file.png', header: { 'X-A': '1' } }).then(function (res) {
        var d = fake.sentTo('/api/file.png', 'download');
        var ok = res.statusCode === 200 && res.tempFilePath === 'wxfile://tmp_download.png' && res.errMsg === 'downloadFile:ok' &&
          d.length === 1 && d[0].options.header.token === fake.backend.latest && d[0].options.header['X-A'] === '1' && d[0].options.method === undefined;
        return { ok: ok, detail: 'status ' + res.statusCode + ', ' + res.tempFilePath + ', downloads ' + d.length };
      });
    }),

    scenario('callbacks: success then complete then the app\'s then, once each; fail then complete then catch', function () {
      var fake = createWx({ schedule: 2 });
      var s = create(fake);
      var order = [];
      var got = {};
      var p = s.request({
        url: '/api/profile',
        success: function (res) { order.push('success'); got.success = res; },
        fail: function () { order.push('fail'); },
        complete: function (r) { order.push('complete'); got.complete = r; },
      });
      return p.then(function (res) {
        order.push('then');
        got.then = res;
        return pause(20);
      }).then(function () {
        var okOrder = order.join(',') === 'success,complete,then' && got.success === got.then && got.complete === got.then && got.then.statusCode === 200;
        var failOrder = [];
        var failGot = {};
        var q = s.request({
          url: 'https://elsewhere.test/x', // the token never goes to another origin: CONFIG
          success: function () { failOrder.push('success'); },
          fail: function (e) { failOrder.push('fail'); failGot.fail = e; },
          complete: function (e) { failOrder.push('complete'); failGot.complete = e; },
        });
        return q.then(function () { failOrder.push('then'); }, function (e) { failOrder.push('catch'); failGot.caught = e; }).then(function () {
          return pause(20);
        }).then(function () {
          var okFail = failOrder.join(',') === 'fail,complete,catch' && failGot.fail === failGot.caught && failGot.complete === failGot.caught &&
            failGot.caught.code === 'CONFIG' && sdk.isWxSessionError(failGot.caught);
          return { ok: okOrder && okFail, detail: order.join(',') + ' / ' + failOrder.join(',') };
        });
      });
    }),

    scenario('a throwing success callback changes nothing; the next call works', function () {
      var fake = createWx({ schedule: 2 });
      var s = create(fake);
      var completes = 0;
      return s.request({ url: '/api/profile', success: function () { throw new Error('app bug'); }, complete: function () { completes += 1; } }).then(function (res) {
        return s.request({ url: '/api/profile' }).then(function (next) {
          return { ok: res.statusCode === 200 && next.statusCode === 200 && completes === 1, detail: res.statusCode + ', ' + next.statusCode + ', complete x' + completes };
        });
      });
    }),

    scenario('abort during the request: the task aborted, ABORTED, no re-login', function () {
      var fake = createWx({ schedule: 2 });
      var s = create(fake);
      var fails = [];
      var call;
      return s.ensure().then(function () {
        fake.revokeAll(); // it would come back 401 and log in again
        fake.hold(function (kind, o) { return fake.pathOf(o.url) === '/api/slow'; });
        call = s.request({ url: '/api/slow', fail: function (e) { fails.push(e.code); } });
        return until(function () { return fake.sentTo('/api/slow').length === 1; });
      }).then(function () {
        call.abort();
        return settle(call);
      }).then(function (r) {
        fake.release();
        return pause(30).then(function () { return r; });
      }).then(function (r) {
        var sentTask = fake.sentTo('/api/slow')[0];
        var ok = !r.ok && r.code === 'ABORTED' && sentTask.aborted && fake.counts.abort === 1 && fake.counts.login === 1 &&
          fake.sentTo('/api/slow').length === 1 && fails.join() === 'ABORTED';
        return { ok: ok, detail: (r.ok ? 'resolved' : r.code) + ', task aborted ' + sentTask.aborted + ', wx.login x' + fake.counts.login + ', fail ' + fails.join() };
      });
    }),

    scenario('onTask, attached right after the call on a ready session, gets every task (the first included)', function () {
      var fake = createWx({ schedule: 2 });
      var s = create(fake);
      var tasks = [];
      return s.ensure().then(function () {
        fake.revokeAll();
        var upload = s.uploadFile({ url: '/api/avatar', filePath: 'wxfile://tmp_a.png', name: 'avatar' });
        var same = upload.onTask(function (task) { tasks.push(task); });
        return same.then(function (res) { return { res: res, same: same === upload }; });
      }).then(function (r) {
        var uploads = fake.sentTo('/api/avatar', 'upload');
        var ok = r.same && r.res.statusCode === 200 && uploads.length === 2 && tasks.length === 2 && tasks[0] === uploads[0].task && tasks[1] === uploads[1].task;
        return { ok: ok, detail: 'uploads ' + uploads.length + ', onTask got ' + tasks.length + ' (first ' + (tasks[0] === uploads[0].task) + ')' };
      });
    }),

    scenario('setToken then request: the request carries it, token() shows it, storage holds it', function () {
      var fake = createWx({ schedule: 2 });
      var s = create(fake);
      fake.accept('ext-TOKEN-42');
      return s.setToken('ext-TOKEN-42', { expiresIn: 3600 }).then(function (value) {
        return s.request({ url: '/api/profile' }).then(function (res) {
          var sentReq = fake.sentTo('/api/profile')[0];
          var record = fake.storage.token || {};
          var ok = value === undefined && res.statusCode === 200 && sentReq.options.header.token === 'ext-TOKEN-42' && s.token() === 'ext-TOKEN-42' &&
            record.v === 1 && record.token === 'ext-TOKEN-42' && record.expiresAt - record.obtainedAt === 3600000 && fake.counts.login === 0;
          return { ok: ok, detail: 'status ' + res.statusCode + ', token() ' + (s.token() === 'ext-TOKEN-42') + ', record ' + JSON.stringify(Object.keys(record)) + ', wx.login x' + fake.counts.login };
        });
      });
    }),

    scenario('setToken refuses bad tokens with CONFIG token / expiresIn', function () {
      var fake = createWx({ schedule: 2 });
      var s = create(fake);
      var bad = [['', undefined, 'token'], ['a\nb', undefined, 'token'], [new Array(8194).join('x'), undefined, 'token'], [1, undefined, 'token'], ['ok', { expiresIn: 1.5 }, 'expiresIn']];
      return Promise.all(bad.map(function (b) { return settle(s.setToken(b[0], b[1])); })).then(function (rs) {
        var keys = rs.map(function (r) { return r.ok ? 'resolved' : r.code + ':' + r.error.key; });
        var want = bad.map(function (b) { return 'CONFIG:' + b[2]; });
        return { ok: keys.join() === want.join() && s.token() === null && fake.storage.token === undefined, detail: keys.join() };
      });
    }),

    scenario('report events: one per call and per login exchange, with no secret in any', function () {
      var fake = createWx({ schedule: 2 });
      var events = [];
      var s = create(fake, { onReport: function (e) { events.push(e); } });
      return s.ensure().then(function () {
        fake.revokeAll();
        return s.request({ url: '/api/profile?q=BODYSECRET#frag', data: { note: 'BODYSECRET' } });
      }).then(function () {
        return s.uploadFile({ url: '/api/avatar', filePath: 'wxfile://tmp_a.png', name: 'avatar', formData: { f: 'BODYSECRET' } });
      }).then(function () {
        return s.downloadFile({ url: '/api/file.png' });
      }).then(function () {
        return pause(20);
      }).then(function () {
        var shape = events.map(function (e) { return [e.kind, e.url, e.method, e.status, e.ok, e.code, e.attempts, e.relogin].join(' '); });
        var want = [
          'login /login POST 200 true  1 false',
          'login /login POST 200 true  1 false',
          'request /api/profile GET 200 true  2 true',
          'upload /api/avatar POST 200 true  1 false',
          'download /api/file.png GET 200 true  1 false',
        ];
        var text = JSON.stringify(events);
        var leaks = fake.secrets().concat(['BODYSECRET']).filter(function (secret) { return text.indexOf(secret) >= 0; });
        var times = events.every(function (e) { return typeof e.startMs === 'number' && typeof e.endMs === 'number' && e.endMs >= e.startMs; });
        return { ok: shape.join('|') === want.join('|') && leaks.length === 0 && times && fake.secrets().length >= 4, detail: shape.join(' | ') + '; leaks ' + leaks.length };
      });
    }),
  ];

  var chain = Promise.resolve();
  scenarios.forEach(function (s) { chain = chain.then(s); });
  return chain.then(function () { return results; });
}

module.exports = { run: run };
