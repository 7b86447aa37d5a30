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
        page.setData({
          calling: false,
          profile: res.statusCode === 200 ? res.data.nickname + ' (' + res.data.openid + ')' : 'HTTP ' + res.statusCode,
        });
        return page.showSession();
      }, function (error) {
        page.setData({ calling: false, profile: '', apiError: describe(error) });
      });
    },

    logout: function () {
      var page = this;
      return session().logout().then(function () {
        page.setData({ token: '', source: '', profile: '' });
      });
    },
  },
});
