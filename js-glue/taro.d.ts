// Types of wx-session/taro. Structural, so the package needs no Taro types: the parts of Taro's
// plugin context (IPluginContext of @tarojs/service) the plugin uses.

/** The parts of Taro's plugin context that wx-session/taro uses. */
export interface TaroPluginContext {
  modifyWebpackChain(fn: (args: { chain: { plugin(name: string): { use(plugin: new () => unknown): unknown } } }) => void): void;
  modifyViteConfig?(fn: (args: { viteConfig: { plugins?: unknown[] } }) => void): void;
}

/**
 * The Taro plugin: puts `dist/wx_session_bg.wasm.br` into the mini-program build at
 * `miniprogram_npm/wx-session/wx_session_bg.wasm.br` (relative to the output root), where
 * createSession's default `wasmPath` finds it. Production and `--watch` builds; H5 and RN builds
 * get nothing.
 *
 * @example
 * // config/index.ts
 * plugins: ['wx-session/taro'],
 */
declare function wxSessionTaro(ctx: TaroPluginContext): void;

export default wxSessionTaro;
