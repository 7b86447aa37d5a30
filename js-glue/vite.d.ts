// Types of wx-session/vite. Structural, so the package needs no `vite` types: the object fits
// Vite's (and Rollup's) Plugin, and so `plugins: [uni(), wxSession()]` type-checks.

/** What wxSession() returns: a build-only Vite plugin that emits the SDK's wasm. */
export interface WxSessionVitePlugin {
  name: 'wx-session';
  apply: 'build';
  buildStart(this: { addWatchFile(id: string): void; error(message: string): never }): void;
  generateBundle(this: { emitFile(file: { type: 'asset'; fileName: string; source: Uint8Array }): string }): void;
}

/**
 * Puts `dist/wx_session_bg.wasm.br` into the mini-program build at
 * `miniprogram_npm/wx-session/wx_session_bg.wasm.br`, where createSession's default `wasmPath`
 * finds it. `vite build` and `vite build --watch`; web and app builds get nothing.
 *
 * @example
 * // vite.config.js (uni-app)
 * import { defineConfig } from 'vite'
 * import uni from '@dcloudio/vite-plugin-uni'
 * import wxSession from 'wx-session/vite'
 * export default defineConfig({ plugins: [uni(), wxSession()] })
 */
declare function wxSession(): WxSessionVitePlugin;

export default wxSession;
