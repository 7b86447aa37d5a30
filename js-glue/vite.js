// wx-session/vite: a Vite plugin (uni-app, or Taro's Vite compiler) that puts the SDK's wasm into
// the mini-program build, where createSession's default `wasmPath` finds it.
//
//   // vite.config.js
//   import uni from '@dcloudio/vite-plugin-uni'
//   import wxSession from 'wx-session/vite'
//   export default defineConfig({ plugins: [uni(), wxSession()] })
//
// Bundlers copy only what JavaScript imports, and nothing imports the wasm: WXWebAssembly takes a
// path inside the package. So the plugin emits dist/wx_session_bg.wasm.br as an asset named like
// the SDK's DEFAULT_WASM_PATH, in every build, each rebuild of `vite build --watch`
// (uni -p mp-weixin) included.
// CommonJS on purpose: Vite bundles a stock vite.config.js into CommonJS and require()s plugins;
// an ES module config imports this file just as well (its default export is module.exports).
'use strict';

var fs = require('fs');
var path = require('path');

var WASM_FILE = path.join(__dirname, 'dist', 'wx_session_bg.wasm.br');
// DEFAULT_WASM_PATH of dist/index.js, relative to the mini-program root (the output folder).
var OUTPUT_NAME = 'miniprogram_npm/wx-session/wx_session_bg.wasm.br';

// Web, app and React Native builds have no WXWebAssembly: nothing to place there.
function isMiniProgramBuild(env) {
  if (env.UNI_PLATFORM) return /^mp-/.test(env.UNI_PLATFORM);
  if (env.TARO_ENV) return !/^(h5|rn|harmony)/.test(env.TARO_ENV);
  return true;
}

/**
 * The Vite plugin. `vite build` and `vite build --watch` only (a mini-program is never served).
 * @returns {import('./vite').WxSessionVitePlugin}
 */
function wxSession() {
  return {
    name: 'wx-session',
    apply: 'build',
    buildStart: function () {
      if (!isMiniProgramBuild(process.env)) return;
      if (!fs.existsSync(WASM_FILE)) this.error('wx-session: ' + WASM_FILE + ' is missing; reinstall wx-session');
      // Watched, so a linked or local copy of the SDK rebuilds when it changes. Vite's watcher
      // ignores node_modules by default: there an upgrade shows at the next rebuild, which
      // reads the file again.
      this.addWatchFile(WASM_FILE);
    },
    generateBundle: function () {
      if (!isMiniProgramBuild(process.env)) return;
      this.emitFile({ type: 'asset', fileName: OUTPUT_NAME, source: fs.readFileSync(WASM_FILE) });
    },
  };
}

module.exports = wxSession;
module.exports.default = wxSession;
