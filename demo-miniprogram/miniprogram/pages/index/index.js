// Built with Component() (page lifecycle in `methods`), which WeChat supports for pages and
// miniprogram-simulate needs to render it in tests.

var STATE_TEXT = {
  idle: '未登录',
  checking: '检查登录状态…',
  'logging-in': '登录中…',
  ready: '已登录',
  failed: '登录失败',
};

// Shows the first 4 and last 2 characters: enough to tell tokens apart, useless to steal.
function mask(token) {
  if (!token) return '';
  return token.length <= 8 ? '****' : token.slice(0, 4) + '****' + token.slice(-2);
}

function describe(error) {
  return (error && error.code ? error.code + ': ' : '') + (error && error.message ? error.message : String(error));
}

function session() {
  return getApp().session;
}

// wx.uploadFile answers with the body as a string.
function parseJson(text) {
  if (typeof text !== 'string') return text;
  try {
    return JSON.parse(text);
  } catch (e) {
    return null;
  }
}

Component({
  data: {
    state: 'idle',
    stateText: STATE_TEXT.idle,
    token: '',
    source: '',
    error: '',
    profile: '',
    apiError: '',
    calling: false,
    phone: '',
    phoneLogging: false,
    phoneError: '',
    avatarPath: '',
    avatarUrl: '',
    avatarSize: 0,
    uploading: false,
    uploadError: '',
  },

  methods: {
    onLoad: function () {
      var page = this;
      this.unsubscribe = session().onChange(function (state, error) {
        // STORAGE errors arrive with the current state: the session goes on in memory.
        if (error && error.code === 'STORAGE') {
          page.setData({ error: '本地存储失败，登录只在本次有效：' + describe(error) });
          return;
        }
        page.setData({ state: state, stateText: STATE_TEXT[state] || state });
      });
      this.showSession();
      // Fired while onLaunch is still logging in: it waits for that login instead of starting one.
      this.callProtected();
    },

    onUnload: function () {
      if (this.unsubscribe) this.unsubscribe();
    },

    showSession: function () {
      var page = this;
      return session().ensure().then(function (session) {
        page.setData({ token: mask(session.token), source: session.source, error: '' });
      }, function (error) {
        page.setData({ token: '', source: '', error: describe(error) });
      });
    },

    retry: function () {
      this.setData({ error: '' });
      return this.showSession();
    },

    callProtected: function () {
      var page = this;
      this.setData({ calling: true, apiError: '' });
      return session().request({ url: '/api/profile' }).then(function (res) {
        var ok = res.statusCode === 200;
        page.setData({
          calling: false,
          profile: ok ? res.data.nickname + ' (' + res.data.openid + ')' : 'HTTP ' + res.statusCode,
          // The dev server shows the phone bound by 手机号登录, masked.
          phone: ok && res.data.phone ? res.data.phone : '',
        });
        return page.showSession();
      }, function (error) {
        page.setData({ calling: false, profile: '', apiError: describe(error) });
      });
    },

    // <button open-type="getPhoneNumber">: WeChat asks the user, then gives a one-time code for the
    // number (base library 2.21.2+; the appid must be a verified non-personal one, so the
    // tourist appid in project.config.json only gets errMsg). The code goes to the backend with
    // a fresh wx.login code in one login, which binds the phone and replaces the token.
    onPhoneLogin: function (e) {
      var detail = (e && e.detail) || {};
      if (!detail.code) {
        // Refused ('getPhoneNumber:fail user deny') or not available: no login, the session stays.
        var refused = /deny|cancel/.test(detail.errMsg || '');
        wx.showToast({ title: refused ? '已取消手机号授权' : '无法获取手机号', icon: 'none' });
        return Promise.resolve();
      }
      var page = this;
      this.setData({ phoneLogging: true, phoneError: '' });
      return session().login({ phoneCode: detail.code }).then(function (result) {
        page.setData({ phoneLogging: false, token: mask(result.token), source: result.source, error: '' });
        wx.showToast({ title: '登录成功', icon: 'success' });
        // The profile (with the phone now bound) comes with the new token.
        return page.callProtected();
      }, function (error) {
        // The SDK keeps the previous token: the page stays logged in as before.
        page.setData({ phoneLogging: false, phoneError: '手机号登录失败：' + describe(error) });
      });
    },

    uploadAvatar: function () {
      var page = this;
      if (this.data.uploading) return Promise.resolve();
      return new Promise(function (resolve) {
        wx.chooseMedia({
          count: 1,
          mediaType: ['image'],
          sourceType: ['album', 'camera'],
          sizeType: ['compressed'],
          success: function (res) {
            resolve(res.tempFiles[0].tempFilePath);
          },
          fail: function (err) {
            // Cancelling the picker is no error.
            if (!/cancel/.test((err && err.errMsg) || '')) wx.showToast({ title: '选择图片失败', icon: 'none' });
            resolve('');
          },
        });
      }).then(function (filePath) {
        if (!filePath) return undefined;
        page.setData({ uploading: true, uploadError: '', avatarPath: filePath, avatarUrl: '', avatarSize: 0 });
        return session().uploadFile({ url: '/api/avatar', filePath: filePath, name: 'avatar' }).then(function (res) {
          var answer = parseJson(res.data);
          if (res.statusCode === 200 && answer && answer.url) {
            page.setData({ uploading: false, avatarUrl: answer.url, avatarSize: answer.size });
          } else {
            page.setData({ uploading: false, uploadError: '上传失败：HTTP ' + res.statusCode });
          }
        }, function (error) {
          page.setData({ uploading: false, uploadError: '上传失败：' + describe(error) });
        });
      });
    },

    logout: function () {
      var page = this;
      return session().logout().then(function () {
        page.setData({ token: '', source: '', profile: '', phone: '' });
      });
    },
  },
});
