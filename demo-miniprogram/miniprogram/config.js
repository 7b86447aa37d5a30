// Where the demo's backend runs. In WeChat DevTools, start the dev server
// (node demo-miniprogram/dev-server/server.js) and tick 不校验合法域名 so 127.0.0.1 is allowed.
// The headless runner passes its own address through the ext config.
var ext = typeof wx !== 'undefined' && wx.getExtConfigSync ? wx.getExtConfigSync() : {};

module.exports = {
  baseUrl: (ext && ext.baseUrl) || 'http://127.0.0.1:3000',
};
