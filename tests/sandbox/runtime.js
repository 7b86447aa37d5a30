// A mini-program runtime as strict as WeChat's, for running demo-miniprogram headless.
//
// The package's code runs in a fresh V8 context that has none of WebAssembly, TextEncoder,
// TextDecoder, fetch, queueMicrotask or globalThis, and cannot eval. It gets:
//   - WXWebAssembly.instantiate(path, imports): a package path only (.wasm or .wasm.br); for
//     Douyin the same loader as TTWebAssembly instead (options.wasmLoader), or none at all
//   - CommonJS require, confined to the package folder
//   - App / Page / Component / getApp / getCurrentPages, `global`, setTimeout and friends, console
//   - wx: login via the dev server's WeChat side, request over real HTTP, storage in a file,
//     uploadFile (multipart) / downloadFile over real HTTP, chooseMedia picking a fixture file
// Every wx call and HTTP exchange goes to a timeline, with tokens and codes masked.
'use strict';

const fs = require('fs');
const path = require('path');
const vm = require('vm');
const zlib = require('zlib');
const http = require('http');
const os = require('os');
const crypto = require('crypto');

// What wx.chooseMedia picks unless told otherwise: a small PNG.
const MEDIA_FIXTURE = path.join(__dirname, 'fixtures', 'avatar.png');
const MIME = { '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.gif': 'image/gif', '.webp': 'image/webp', '.mp4': 'video/mp4', '.txt': 'text/plain', '.json': 'application/json' };

// Tokens show their first 4 and last 2 characters; codes their first 6.
function maskToken(text) {
  const s = String(text);
  return s.length <= 8 ? '****' : `${s.slice(0, 4)}…${s.slice(-2)}`;
}

const SECRET_KEYS = /^(token|skey|session_?id|session_?key|authorization|x-wx-skey|refresh_?token|x-refresh-token)$/i;
const CODE_KEYS = /^(code|x-wx-code|js_code)$/i;

function masked(value, key) {
  if (typeof value === 'string' && key && SECRET_KEYS.test(key)) return maskToken(value);
  if (typeof value === 'string' && key && CODE_KEYS.test(key)) return value.length > 6 ? `${value.slice(0, 6)}…` : value;
  if (Array.isArray(value)) return value.map((v) => masked(v));
  if (value && typeof value === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(value)) out[k] = masked(v, k);
    return out;
  }
  return value;
}

function brief(value, key) {
  if (value === undefined) return '';
  const text = JSON.stringify(masked(value, key));
  return text.length > 160 ? `${text.slice(0, 157)}…` : text;
}

// Storage with wx's limits: 1 MB a key, 10 MB in all; setStorageSync throws when exceeded.
class FileStorage {
  constructor(file) {
    this.file = file;
    this.data = {};
    if (file && fs.existsSync(file)) {
      try {
        this.data = JSON.parse(fs.readFileSync(file, 'utf8'));
      } catch {
        this.data = {};
      }
    }
  }
  get(key) {
    return Object.prototype.hasOwnProperty.call(this.data, key) ? JSON.parse(JSON.stringify(this.data[key])) : '';
  }
  set(key, value) {
    const text = JSON.stringify(value === undefined ? null : value);
    if (Buffer.byteLength(text) > 1024 * 1024) throw new Error('setStorageSync:fail exceed storage item max length');
    const next = { ...this.data, [key]: JSON.parse(text) };
    if (Buffer.byteLength(JSON.stringify(next)) > 10 * 1024 * 1024) throw new Error('setStorageSync:fail exceed storage max size 10M');
    this.data = next;
    this.save();
  }
  remove(key) {
    delete this.data[key];
    this.save();
  }
  save() {
    if (!this.file) return;
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    fs.writeFileSync(this.file, JSON.stringify(this.data, null, 2));
  }
}

// One HTTP exchange the way wx.request reports it.
function httpExchange({ url, method, header, data, timeout, dataType }) {
  return new Promise((resolve) => {
    let target;
    try {
      target = new URL(url);
      if (target.protocol !== 'http:') throw new Error('only http');
    } catch {
      resolve({ fail: 'request:fail invalid url' });
      return;
    }
    const headers = { ...(header || {}) };
    let body;
    if (data !== undefined && data !== null) {
      if (method === 'GET' || method === 'HEAD') {
        for (const [k, v] of Object.entries(data)) target.searchParams.set(k, typeof v === 'string' ? v : JSON.stringify(v));
      } else {
        body = typeof data === 'string' ? data : JSON.stringify(data);
        if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
      }
    }
    const req = http.request(target, { method, headers, timeout: timeout || 60000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed = text;
        if (dataType === undefined || dataType === 'json') {
          try {
            parsed = JSON.parse(text);
          } catch {
            parsed = text;
          }
        }
        resolve({ ok: { data: parsed, statusCode: res.statusCode, header: res.headers, errMsg: 'request:ok' } });
      });
    });
    req.on('timeout', () => {
      req.destroy();
      resolve({ fail: 'request:fail timeout' });
    });
    req.on('error', (error) => {
      if (error.code === 'ECONNREFUSED') resolve({ fail: 'request:fail errcode:-102 cronet_error_code:-102 error_msg:net::ERR_CONNECTION_REFUSED' });
      else if (!req.destroyed || error.code !== 'ECONNRESET') resolve({ fail: `request:fail ${error.message}` });
    });
    if (body !== undefined) req.write(body);
    req.end();
  });
}

// One HTTP exchange with bytes in and out, for wx.uploadFile / wx.downloadFile (whose errMsg
// start with their own names: `prefix`). → { promise: {ok: {statusCode, headers, body}} | {fail}, abort }.
function rawExchange({ url, method, headers, body, timeout, prefix }) {
  let settle;
  let req;
  const promise = new Promise((resolve) => {
    let settled = false;
    settle = (result) => {
      if (!settled) {
        settled = true;
        resolve(result);
      }
    };
  });
  let target;
  try {
    target = new URL(url);
    if (target.protocol !== 'http:') throw new Error('only http');
  } catch {
    settle({ fail: `${prefix}:fail invalid url` });
    return { promise, abort() {} };
  }
  req = http.request(target, { method, headers, timeout: timeout || 60000 }, (res) => {
    const chunks = [];
    res.on('data', (c) => chunks.push(c));
    res.on('end', () => settle({ ok: { statusCode: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) } }));
    res.on('error', (error) => settle({ fail: `${prefix}:fail ${error.message}` }));
  });
  req.on('timeout', () => {
    settle({ fail: `${prefix}:fail timeout` });
    req.destroy();
  });
  req.on('error', (error) => {
    if (error.code === 'ECONNREFUSED') settle({ fail: `${prefix}:fail errcode:-102 cronet_error_code:-102 error_msg:net::ERR_CONNECTION_REFUSED` });
    else settle({ fail: `${prefix}:fail ${error.message}` });
  });
  req.end(body);
  return {
    promise,
    abort() {
      settle({ fail: `${prefix}:fail abort` });
      req.destroy();
    },
  };
}

// A multipart/form-data body the way wx.uploadFile builds it: formData fields, then the file.
function multipartBody({ name, filename, contentType, bytes, formData }) {
  const boundary = `----WxUploadBoundary${crypto.randomBytes(12).toString('hex')}`;
  const parts = [];
  const quote = (text) => String(text).replace(/"/g, '%22').replace(/\r|\n/g, ' ');
  for (const [key, value] of Object.entries(formData || {})) {
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${quote(key)}"\r\n\r\n${text}\r\n`));
  }
  parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${quote(name)}"; filename="${quote(filename)}"\r\nContent-Type: ${contentType}\r\n\r\n`));
  parts.push(bytes, Buffer.from(`\r\n--${boundary}--\r\n`));
  return { body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}

// Width and height of a PNG (its IHDR), or undefined.
function pngSize(bytes) {
  if (bytes.length < 24 || bytes.readUInt32BE(12) !== 0x49484452) return undefined;
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

/**
 * Builds a runtime for the mini-program in `packageRoot`.
 * @param {object} options
 * @param {string} options.packageRoot folder with app.json
 * @param {string} options.devServer   dev server origin (WeChat's side of wx.login lives there)
 * @param {object} [options.extConfig] what wx.getExtConfigSync() returns
 * @param {string} [options.storageFile] storage persisted between runs
 * @param {(line: string) => void} [options.log] timeline sink
 * @param {boolean} [options.bareInstance] WXWebAssembly resolves to an Instance, not {instance, module}
 * @param {'WXWebAssembly'|'TTWebAssembly'|false} [options.wasmLoader] the global that loads wasm
 *   from a package path (default WXWebAssembly; Douyin's TTWebAssembly takes a package path too,
 *   and resolves { module, instance }: tests/fakes/PLATFORMS.md); false: none
 * @param {object} [options.globals] the platform's globals instead of `{ wx }` (e.g. `{ tt }` or
 *   `{ my }`: then the package sees no `wx` at all)
 * @param {boolean} [options.checkSessionFails] wx.checkSession reports an expired WeChat session
 * @param {(httpWx: object) => object} [options.wx] replaces `wx` (given the HTTP-backed one)
 * @param {Function} [options.promise] the context's Promise (e.g. a timer-based polyfill)
 * @param {string} [options.filesDir] where wxfile:// paths live (default: a fresh temp folder)
 * @param {string|false} [options.media] the file wx.chooseMedia picks (default a small PNG);
 *   false: the user cancels
 * @param {Object<string, string>} [options.hosts] where requests to an origin really go, like a
 *   hosts file: { 'https://api.example.com': 'http://127.0.0.1:3000' } lets an app built with its
 *   real baseUrl talk to the dev server (the timeline shows paths only, as before)
 */
function createRuntime(options) {
  const packageRoot = path.resolve(options.packageRoot);
  const started = Date.now();
  const lines = [];
  const log = (line) => {
    const text = `[${String(Date.now() - started).padStart(5)} ms] ${line}`;
    lines.push(text);
    if (options.log) options.log(text);
  };
  const storage = new FileStorage(options.storageFile);
  const counts = { login: 0, request: 0, checkSession: 0 };
  let inFlight = 0; // wx calls waiting for an answer
  const activeTimers = new Map(); // id → when it fires
  // Work in progress: wx calls in flight, and timers due within WATCHDOG_MS. A timer further
  // out is a watchdog (the SDK's time limits: it fires for nothing when all went well), not work.
  const WATCHDOG_MS = 3000;
  const busy = () => {
    let soon = 0;
    const horizon = Date.now() + WATCHDOG_MS;
    for (const due of activeTimers.values()) if (due <= horizon) soon++;
    return inFlight + soon; // the runtime is idle at 0
  };
  const track = (promise) => {
    inFlight += 1;
    return promise.finally(() => { inFlight -= 1; });
  };

  const later = (fn) => setImmediate(fn);
  // The URL a request really goes to (options.hosts); only http:// is spoken here.
  const routed = (url) => {
    const text = String(url);
    for (const [from, to] of Object.entries(options.hosts || {})) {
      if (text === from || text.startsWith(`${from}/`) || text.startsWith(`${from}?`)) return to + text.slice(from.length);
    }
    return text;
  };

  // Local files: wxfile://tmp_… (temp files: chooseMedia, downloadFile) and wxfile://usr/…
  // (wx.env.USER_DATA_PATH), kept in one folder on disk.
  const fileCounts = { uploadFile: 0, downloadFile: 0, chooseMedia: 0 };
  let filesDir = options.filesDir;
  const filesRoot = () => {
    if (!filesDir) filesDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wx-session-files-'));
    return filesDir;
  };
  const localFile = (wxPath) => {
    const match = /^wxfile:\/\/(.+)$/.exec(String(wxPath));
    if (!match) return null;
    const root = filesRoot();
    const file = path.resolve(root, match[1]);
    return file.startsWith(root + path.sep) ? file : null;
  };
  const newTempFile = (ext) => `wxfile://tmp_${crypto.randomBytes(8).toString('hex')}${ext}`;
  // wx-style completion: success or fail, then complete.
  const finish = (call, error, result) => {
    if (error) call.fail && call.fail(error);
    else call.success && call.success(result);
    call.complete && call.complete(error || result);
  };
  const fileTask = (exchange) => ({
    abort() { exchange.abort(); },
    onProgressUpdate() {},
    offProgressUpdate() {},
    onHeadersReceived() {},
    offHeadersReceived() {},
  });

  const wx = {
    getStorageSync(key) {
      const value = storage.get(key);
      log(`wx.getStorageSync(${JSON.stringify(key)}) → ${value === '' ? "''" : brief(value, key)}`);
      return value;
    },
    setStorageSync(key, value) {
      log(`wx.setStorageSync(${JSON.stringify(key)}, ${brief(value, key)})`);
      storage.set(key, value);
    },
    removeStorageSync(key) {
      log(`wx.removeStorageSync(${JSON.stringify(key)})`);
      storage.remove(key);
    },
    checkSession({ success, fail } = {}) {
      counts.checkSession += 1;
      const ok = !options.checkSessionFails;
      log(`wx.checkSession → ${ok ? 'ok' : 'fail (session_key expired)'}`);
      track(new Promise((r) => later(r))).then(() => {
        if (ok) success && success({ errMsg: 'checkSession:ok' });
        else fail && fail({ errMsg: 'checkSession:fail session time out, need relogin' });
      });
    },
    login({ success, fail } = {}) {
      counts.login += 1;
      track(httpExchange({ url: `${options.devServer}/__wx/login`, method: 'POST', data: {} })).then((result) => {
        if (result.ok && result.ok.data && result.ok.data.code) {
          log(`wx.login → code ${masked(result.ok.data.code, 'code')}`);
          success && success({ code: result.ok.data.code, errMsg: 'login:ok' });
        } else {
          log(`wx.login → fail`);
          fail && fail({ errMsg: 'login:fail system error' });
        }
      });
    },
    request(call = {}) {
      counts.request += 1;
      const method = String(call.method || 'GET').toUpperCase();
      const shown = String(call.url).replace(/^https?:\/\/[^/]+/, '');
      const hdr = call.header && Object.keys(call.header).length ? ` header ${brief(call.header)}` : '';
      log(`→ ${method} ${shown}${hdr}${call.data !== undefined ? ` ${brief(call.data)}` : ''}`);
      let aborted = false;
      track(httpExchange({ ...call, url: routed(call.url), method })).then((result) => {
        if (aborted) return;
        if (result.ok) {
          log(`← ${result.ok.statusCode} ${shown} ${brief(result.ok.data)}`);
          call.success && call.success(result.ok);
        } else {
          log(`✗ ${shown} ${result.fail}`);
          call.fail && call.fail({ errMsg: result.fail });
        }
        call.complete && call.complete();
      });
      return {
        abort() {
          aborted = true;
          call.fail && call.fail({ errMsg: 'request:fail abort' });
        },
      };
    },
    // multipart/form-data to the server, over real HTTP: the file at `filePath` under `name`.
    uploadFile(call = {}) {
      fileCounts.uploadFile += 1;
      const shown = String(call.url).replace(/^https?:\/\/[^/]+/, '');
      const file = localFile(call.filePath);
      const hdr = call.header && Object.keys(call.header).length ? ` header ${brief(call.header)}` : '';
      log(`→ UPLOAD ${shown}${hdr} ${call.name}=${call.filePath}${call.formData ? ` formData ${brief(call.formData)}` : ''}`);
      let problem;
      if (typeof call.name !== 'string' || !call.name) problem = 'uploadFile:fail parameter error: parameter.name should be String';
      else if (!file || !fs.existsSync(file)) problem = `uploadFile:fail file not found: ${call.filePath}`;
      if (problem) {
        track(new Promise((r) => later(r))).then(() => {
          log(`✗ ${shown} ${problem}`);
          finish(call, { errMsg: problem });
        });
        return fileTask({ abort() {} });
      }
      const bytes = fs.readFileSync(file);
      const ext = path.extname(file).toLowerCase();
      const form = multipartBody({ name: call.name, filename: path.basename(file), contentType: MIME[ext] || 'application/octet-stream', bytes, formData: call.formData });
      const headers = {};
      for (const [k, v] of Object.entries(call.header || {})) if (k.toLowerCase() !== 'content-type') headers[k] = v;
      headers['content-type'] = form.contentType;
      const exchange = rawExchange({ url: routed(call.url), method: 'POST', headers, body: form.body, timeout: call.timeout, prefix: 'uploadFile' });
      track(exchange.promise).then((result) => {
        if (result.ok) {
          // Like WeChat: the answer's body as a string, never parsed.
          const data = result.ok.body.toString('utf8');
          let shownData = data;
          try {
            shownData = JSON.parse(data); // shown parsed, so tokens in it are masked too
          } catch {
            // not JSON: shown as the string it is
          }
          log(`← ${result.ok.statusCode} ${shown} ${brief(shownData)}`);
          finish(call, null, { data, statusCode: result.ok.statusCode, errMsg: 'uploadFile:ok' });
        } else {
          log(`✗ ${shown} ${result.fail}`);
          finish(call, { errMsg: result.fail });
        }
      });
      return fileTask(exchange);
    },
    // GET over real HTTP into a temp file (or `filePath`), for any HTTP status like WeChat.
    downloadFile(call = {}) {
      fileCounts.downloadFile += 1;
      const shown = String(call.url).replace(/^https?:\/\/[^/]+/, '');
      const hdr = call.header && Object.keys(call.header).length ? ` header ${brief(call.header)}` : '';
      log(`→ DOWNLOAD ${shown}${hdr}`);
      const target = call.filePath === undefined ? null : localFile(call.filePath);
      if (call.filePath !== undefined && !target) {
        const problem = `downloadFile:fail invalid filePath: ${call.filePath}`;
        track(new Promise((r) => later(r))).then(() => {
          log(`✗ ${shown} ${problem}`);
          finish(call, { errMsg: problem });
        });
        return fileTask({ abort() {} });
      }
      const exchange = rawExchange({ url: routed(call.url), method: 'GET', headers: { ...(call.header || {}) }, timeout: call.timeout, prefix: 'downloadFile' });
      track(exchange.promise).then((result) => {
        if (!result.ok) {
          log(`✗ ${shown} ${result.fail}`);
          finish(call, { errMsg: result.fail });
          return;
        }
        let ext = path.extname(new URL(call.url).pathname).toLowerCase();
        if (!MIME[ext]) ext = '';
        const wxPath = call.filePath === undefined ? newTempFile(ext) : call.filePath;
        const file = target || localFile(wxPath);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, result.ok.body);
        log(`← ${result.ok.statusCode} ${shown} ${result.ok.body.length} bytes → ${wxPath}`);
        const res = call.filePath === undefined
          ? { tempFilePath: wxPath, statusCode: result.ok.statusCode, errMsg: 'downloadFile:ok' }
          : { filePath: wxPath, statusCode: result.ok.statusCode, errMsg: 'downloadFile:ok' };
        finish(call, null, res);
      });
      return fileTask(exchange);
    },
    // The user picks `options.media` (a copy goes to a temp file), or cancels when it is false.
    chooseMedia(call = {}) {
      fileCounts.chooseMedia += 1;
      track(new Promise((r) => later(r))).then(() => {
        if (options.media === false) {
          log('wx.chooseMedia → fail cancel');
          finish(call, { errMsg: 'chooseMedia:fail cancel' });
          return;
        }
        const source = options.media || MEDIA_FIXTURE;
        const bytes = fs.readFileSync(source);
        const ext = path.extname(source).toLowerCase();
        const tempFilePath = newTempFile(ext);
        const file = localFile(tempFilePath);
        fs.writeFileSync(file, bytes);
        const video = /^\.(mp4|mov)$/.test(ext);
        const picked = { tempFilePath, size: bytes.length, fileType: video ? 'video' : 'image', ...(pngSize(bytes) || {}) };
        log(`wx.chooseMedia → ${tempFilePath} (${bytes.length} bytes)`);
        finish(call, null, { tempFiles: [picked], type: video ? 'video' : 'image', errMsg: 'chooseMedia:ok' });
      });
    },
    env: { USER_DATA_PATH: 'wxfile://usr' },
    getExtConfigSync() {
      return options.extConfig || {};
    },
    getSystemInfoSync() {
      return { SDKVersion: '3.0.0', platform: 'devtools', system: 'sandbox' };
    },
    showToast(o) { log(`wx.showToast ${brief(o && o.title)}`); },
    showModal(o) { log(`wx.showModal ${brief(o && o.title)}`); },
  };

  // A loader that takes only a package path, named as the platform names it.
  const pathLoader = (name) => ({
    instantiate(wasmPath, imports) {
      if (typeof wasmPath !== 'string') {
        return Promise.reject(new TypeError(`${name}.instantiate: only a package path string is accepted`));
      }
      const file = resolveInPackage(wasmPath.replace(/^\//, ''), packageRoot);
      if (!file || !/\.wasm(\.br)?$/.test(file) || !fs.existsSync(file)) {
        return Promise.reject(new Error(`${name}.instantiate: no such file in the package: ${wasmPath}`));
      }
      let bytes = fs.readFileSync(file);
      if (file.endsWith('.br')) bytes = zlib.brotliDecompressSync(bytes);
      log(`${name}.instantiate(${JSON.stringify(wasmPath)}) ${bytes.length} bytes`);
      // The instance belongs to the package's realm, as WXWebAssembly's do in WeChat: calls
      // between the glue and the wasm don't cross realms (which would make them slower).
      // (Compiled here, since the realm may not generate code, then instantiated there.)
      return track(WebAssembly.compile(bytes)).then((module) => {
        const instance = new realmWebAssembly.Instance(module, imports);
        return options.bareInstance ? instance : { instance, module };
      });
    },
  });
  const loaderName = options.wasmLoader === undefined ? 'WXWebAssembly' : options.wasmLoader;

  // The context's own globals: only what the mini-program runtime has.
  const timers = {
    setTimeout(fn, ms, ...args) {
      const id = setTimeout(() => { activeTimers.delete(id); fn(...args); }, ms);
      activeTimers.set(id, Date.now() + (Number(ms) || 0));
      return id;
    },
    clearTimeout(id) {
      activeTimers.delete(id);
      clearTimeout(id);
    },
    setInterval: (fn, ms) => setInterval(fn, ms),
    clearInterval: (id) => clearInterval(id),
  };
  const sandboxWx = options.wx ? options.wx(wx) : wx;
  const sandbox = {
    console: { log: (...a) => log(`console.log ${a.join(' ')}`), info: console.info, warn: (...a) => log(`console.warn ${a.join(' ')}`), error: (...a) => log(`console.error ${a.join(' ')}`) },
    ...(options.globals || { wx: sandboxWx }),
    // WeChat's `global`: a plain object every module sees (not the realm's global object).
    // uni-app's runtime hangs createApp and getLocale on it.
    global: {},
    ...timers,
  };
  if (loaderName) sandbox[loaderName] = pathLoader(loaderName);
  const context = vm.createContext(sandbox, { codeGeneration: { strings: false, wasm: false } });
  // The realm's own WebAssembly, kept for the path loader only, then removed from the package's sight.
  const realmWebAssembly = vm.runInContext('WebAssembly', context);
  vm.runInContext(
    'delete this.WebAssembly; delete this.SharedArrayBuffer; delete this.globalThis;',
    context,
  );
  if (options.promise) {
    // Replace the context's Promise (e.g. a timer-based polyfill like old iOS base libraries').
    context.Promise = options.promise;
  }

  const cache = new Map();
  function load(file) {
    if (cache.has(file)) return cache.get(file).exports;
    const module = { exports: {} };
    cache.set(file, module);
    const source = fs.readFileSync(file, 'utf8');
    const wrapper = vm.runInContext(`(function (module, exports, require) {${source}\n})`, context, { filename: file });
    wrapper.call(module.exports, module, module.exports, (request) => {
      // Bare names resolve to miniprogram_npm/, where DevTools' 构建npm puts packages.
      const bare = !request.startsWith('.') && !request.startsWith('/');
      const base = bare ? path.join(packageRoot, 'miniprogram_npm') : request.startsWith('/') ? packageRoot : path.dirname(file);
      const resolved = resolveInPackage(request, base, packageRoot);
      if (!resolved || !fs.existsSync(resolved)) throw new Error(`require: ${request} is not a file in the package (from ${path.relative(packageRoot, file)})`);
      return load(resolved);
    });
    return module.exports;
  }

  let app;
  const pages = [];
  let registeringPage; // { page: Page()'s object } or { component: Component()'s object }
  context.App = (definition) => { app = definition; };
  context.getApp = () => app;
  context.getCurrentPages = () => pages.slice();
  context.Page = (definition) => { registeringPage = { page: definition }; };
  // A page built with Component() (uni-app builds every page this way): page lifecycle and
  // handlers live in `methods`, the component's own in `lifetimes` (or at the top level).
  context.Component = (definition) => { registeringPage = { component: definition }; };

  function launch() {
    return openPage(launchApp().pages[0]);
  }

  // Runs app.js and its onLaunch and onShow, opening no page (for pages rendered elsewhere, e.g.
  // by miniprogram-simulate with getApp() pointed here). → app.json
  function launchApp() {
    const appJson = JSON.parse(fs.readFileSync(path.join(packageRoot, 'app.json'), 'utf8'));
    load(path.join(packageRoot, 'app.js'));
    if (!app) throw new Error('app.js did not call App()');
    const launchOptions = { path: appJson.pages[0], query: {}, scene: 1001 };
    log('App.onLaunch');
    if (app.onLaunch) app.onLaunch.call(app, launchOptions);
    if (app.onShow) app.onShow.call(app, launchOptions);
    return appJson;
  }

  // setData's keys are paths: 'list[0].name', 'a.b', and Taro's 'root.cn.[0].cn'.
  function setPath(data, key, value) {
    const parts = key.replace(/\[(\d+)\]/g, '.$1').split('.').filter((part) => part !== '');
    let at = data;
    for (let i = 0; i < parts.length - 1; i++) {
      if (at[parts[i]] === null || typeof at[parts[i]] !== 'object') at[parts[i]] = /^\d+$/.test(parts[i + 1]) ? [] : {};
      at = at[parts[i]];
    }
    at[parts[parts.length - 1]] = value;
  }

  function openPage(route, query = {}) {
    registeringPage = undefined;
    load(path.join(packageRoot, `${route}.js`));
    if (!registeringPage) throw new Error(`${route}.js did not call Page() or Component()`);
    const { page: pageDefinition, component } = registeringPage;
    const page = Object.create(pageDefinition || Object.assign({}, component.methods || {}));
    page.route = route;
    page.options = query;
    const initial = {};
    if (component) {
      for (const [name, property] of Object.entries(component.properties || {})) {
        initial[name] = property && typeof property === 'object' && 'value' in property ? property.value : null;
      }
    }
    page.data = JSON.parse(JSON.stringify(Object.assign(initial, (pageDefinition || component).data || {})));
    page.setData = (changes, callback) => {
      const shown = {};
      for (const [key, value] of Object.entries(changes)) {
        if (JSON.stringify(page.data[key]) !== JSON.stringify(value)) shown[key] = value;
        setPath(page.data, key, value);
      }
      if (Object.keys(shown).length) log(`${route} setData ${brief(shown)}`);
      if (callback) timers.setTimeout(callback, 0);
    };
    if (component) {
      page.properties = page.data;
      page.is = route;
      page.triggerEvent = () => {};
      page.selectComponent = () => null;
      page.selectAllComponents = () => [];
    }
    // A Component()'s own lifetimes: `lifetimes` wins over the top-level field, as in WeChat.
    const lifetime = (name) => {
      const fn = component && ((component.lifetimes && component.lifetimes[name]) || component[name]);
      if (typeof fn === 'function') fn.call(page);
    };
    pages.push(page);
    lifetime('created');
    lifetime('attached');
    log(`${route} onLoad`);
    if (page.onLoad) page.onLoad.call(page, query);
    if (page.onShow) page.onShow.call(page);
    if (component && component.pageLifetimes && component.pageLifetimes.show) component.pageLifetimes.show.call(page);
    lifetime('ready');
    if (pageDefinition && page.onReady) page.onReady.call(page);
    return page;
  }

  // Resolves once nothing is in flight for two consecutive turns, or after `limitMs`.
  function idle(limitMs = 30000) {
    const until = Date.now() + limitMs;
    return new Promise((resolve, reject) => {
      let quietTurns = 0;
      const poll = () => {
        quietTurns = busy() === 0 ? quietTurns + 1 : 0;
        if (quietTurns >= 3) return resolve();
        if (Date.now() > until) return reject(new Error(`still busy after ${limitMs} ms (${busy()} calls or timers pending)`));
        setTimeout(poll, 10);
      };
      setTimeout(poll, 10);
    });
  }

  function tap(page, handler) {
    log(`${page.route} tap ${handler}`);
    const result = page[handler].call(page, { type: 'tap', currentTarget: { dataset: {} } });
    return result;
  }

  // Loads a package file the way the package's own require would.
  function requireModule(relativePath) {
    const file = resolveInPackage(relativePath.replace(/^\//, ''), packageRoot);
    if (!file || !fs.existsSync(file)) throw new Error(`no such file in the package: ${relativePath}`);
    return load(file);
  }

  return {
    launch, launchApp, openPage, idle, tap, wx: sandboxWx, counts, storage, lines, context, log, requireModule,
    run: (code) => vm.runInContext(code, context),
    // wx.uploadFile / downloadFile / chooseMedia calls (apart from `counts`, whose shape tests pin)
    fileCounts,
    // the disk path of a wxfile:// path
    localFile,
    getApp: () => app,
  };
}

// Resolves `request` against `base`, adding .js when needed; null if it leaves the package.
function resolveInPackage(request, base, root = base) {
  const candidate = path.resolve(base, request);
  const inside = candidate === root || candidate.startsWith(root + path.sep);
  if (!inside) return null;
  if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) return candidate;
  if (fs.existsSync(`${candidate}.js`)) return `${candidate}.js`;
  if (fs.existsSync(path.join(candidate, 'index.js'))) return path.join(candidate, 'index.js');
  return candidate;
}

module.exports = { createRuntime, maskToken, masked, MEDIA_FIXTURE };
