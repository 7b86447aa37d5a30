// Loading the core in the JavaScript build (wx-session/js): the same Rust core, compiled from the
// wasm to JavaScript by binaryen's wasm2js at build time, for runtimes without WebAssembly
// (WeChat base library < 2.13, Alipay, QQ, Baidu, Kuaishou). The bundle puts this file where
// loader.js stands. One instance, shared by every session, as with one wasm file.
import * as errors from './errors.js';
import { createInstance } from './instance.js';
import { createCore } from 'wx-session-core-js';

var shared = null;

// Resolves to the live instance (the path is the wasm build's: nothing is loaded from a file).
function load() {
  return new Promise(function (resolve) {
    if (!shared || shared.dead) {
      try {
        // wasm2js's memory grows into a new buffer; the old one is not detached.
        shared = createInstance(createCore(), false);
      } catch (e) {
        throw new errors.WxSessionError('WASM_LOAD', 'the JavaScript core could not start: ' + errors.describe(e));
      }
    }
    resolve(shared);
  });
}

export { load };
