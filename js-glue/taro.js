// wx-session/taro: a Taro plugin that puts the SDK's wasm into the mini-program build, where
// createSession's default `wasmPath` finds it.
//
//   // config/index.ts
//   plugins: ['wx-session/taro'],
//
// Webpack copies only what JavaScript imports, and nothing imports the wasm: WXWebAssembly takes a
// path inside the package. So, with the webpack5 compiler, a webpack plugin (added through
// modifyWebpackChain) emits dist/wx_session_bg.wasm.br as an asset named like the SDK's
// DEFAULT_WASM_PATH, relative to webpack's output path (the mini-program root, `dist/` by
// default). Being an asset of every compilation, it survives Taro emptying `dist/` before a
// build and is emitted again by each `--watch` rebuild; the file is also a watched dependency,
// so upgrading the package rebuilds. With the Vite compiler, the same job goes to wx-session/vite.
'use strict';

var fs = require('fs');
var path = require('path');
var viteWxSession = require('./vite.js');

var NAME = 'wx-session';
var WASM_FILE = path.join(__dirname, 'dist', 'wx_session_bg.wasm.br');
// DEFAULT_WASM_PATH of dist/index.js, relative to the mini-program root.
var OUTPUT_NAME = 'miniprogram_npm/wx-session/wx_session_bg.wasm.br';

/** The webpack (5) side: one asset per compilation. */
function WasmAssetPlugin() {}

WasmAssetPlugin.prototype.apply = function (compiler) {
  var webpack = compiler.webpack; // the project's own webpack: no dependency of ours
  compiler.hooks.thisCompilation.tap(NAME, function (compilation) {
    compilation.hooks.processAssets.tap({ name: NAME, stage: webpack.Compilation.PROCESS_ASSETS_STAGE_ADDITIONAL }, function () {
      compilation.fileDependencies.add(WASM_FILE);
      if (!fs.existsSync(WASM_FILE)) {
        compilation.errors.push(new webpack.WebpackError('wx-session: ' + WASM_FILE + ' is missing; reinstall wx-session'));
        return;
      }
      compilation.emitAsset(OUTPUT_NAME, new webpack.sources.RawSource(fs.readFileSync(WASM_FILE)));
    });
  });
};

// Web and React Native builds have no WXWebAssembly: nothing to place there.
function isMiniProgramBuild() {
  var platform = process.env.TARO_ENV || '';
  return !/^(h5|rn|harmony)/.test(platform);
}

/**
 * The Taro plugin: `plugins: ['wx-session/taro']` in config/index.ts.
 * @param {import('./taro').TaroPluginContext} ctx
 */
function wxSessionTaro(ctx) {
  ctx.modifyWebpackChain(function (args) {
    if (isMiniProgramBuild()) args.chain.plugin(NAME).use(WasmAssetPlugin);
  });
  // Taro's Vite compiler (`compiler: 'vite'`) asks this hook instead; older Taro has no such hook.
  if (typeof ctx.modifyViteConfig === 'function') {
    ctx.modifyViteConfig(function (args) {
      var config = args.viteConfig;
      if (Array.isArray(config.plugins)) config.plugins.push(viteWxSession());
      else config.plugins = [viteWxSession()];
    });
  }
}

module.exports = wxSessionTaro;
module.exports.default = wxSessionTaro;
