#!/usr/bin/env node
// Second half of scripts/build.sh: turns cargo's .wasm into the SDK a mini-program loads, and
// refuses to ship anything iOS WeChat would reject.
//
//   wasm: binaryen (its JS API): drop Global exports → lower bulk-memory, sign-ext and
//         non-trapping float-to-int to MVP → optimize for size with MVP features only →
//         validate as MVP → audit (no imports, no Global export, one funcref table at most)
//         → blank panic-location paths → dist/wx_session_bg.wasm.br, wasm/wx_session_bg.wasm
//   js:   src/abi.js from src/abi.rs → the ES modules of src/ (entry index.js; every import must
//         be one of them) in one scope (Rollup) → one CommonJS file, minified to ES5 (terser)
//         → loaded once to check its exports → dist/index.js
//
// Options (tests push other inputs through the same steps):
//   --from FILE (cargo's .wasm)  --to DIR (default dist)  --to-js DIR (default dist-js)
//   --no-demo (don't copy into the demo)
//   --readable (don't minify the bundle) --profiling (keep function names): for profilers
'use strict';

const fs = require('fs');
const path = require('path');
const vm = require('vm');
const zlib = require('zlib');

const here = __dirname;
const root = path.join(here, '..');
const demoLib = path.join(root, 'demo-miniprogram', 'miniprogram', 'libs', 'wx-session');
const WASM_NAME = 'wx_session_bg.wasm';
// What the bundle must export, no more, no less.
const API = ['createSession', 'WxSessionError', 'isWxSessionError', 'DEFAULT_WASM_PATH'];

function option(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? path.resolve(process.argv[at + 1]) : fallback;
}

function step(message) {
  process.stderr.write(`\x1b[1m==> ${message}\x1b[0m\n`);
}

// binaryen 132 is an ES module with top-level await: it can only be imported.
function loadBinaryen() {
  return import('binaryen').then((m) => m.default);
}

// The features rustc's std may still use, which the lowering passes rewrite into MVP code.
function postMvpFeatures(binaryen) {
  const F = binaryen.Features;
  return F.MVP | F.MutableGlobals | F.SignExt | F.BulkMemory | F.BulkMemoryOpt | F.NontrappingFPToInt;
}

const KIND_NAMES = ['function', 'table', 'memory', 'global', 'tag'];

/**
 * What iOS WeChat's MVP-only engine would reject, or what the glue can't provide: a list of
 * problems, empty when the module is fine. Validation runs with MVP features only.
 * @param {Uint8Array} bytes a .wasm file
 * @returns {Promise<{problems: string[], exports: {name: string, kind: string}[], imports: number, tables: number}>}
 */
async function inspectWasm(bytes) {
  const binaryen = await loadBinaryen();
  const problems = [];
  let module;
  try {
    module = binaryen.readBinary(bytes);
  } catch (error) {
    return { problems: [`not a wasm binary: ${error.message}`], exports: [], imports: 0, tables: 0 };
  }
  try {
    const exports = [];
    for (let i = 0; i < module.getNumExports(); i++) {
      const info = binaryen.getExportInfo(module.getExportByIndex(i));
      const kind = KIND_NAMES[info.kind] || `kind ${info.kind}`;
      exports.push({ name: info.name, kind });
      if (kind === 'global') problems.push(`exports Global \`${info.name}\` (iOS cannot instantiate it)`);
      else if (kind !== 'function' && kind !== 'memory') problems.push(`exports a ${kind} (\`${info.name}\`)`);
    }
    // The core never calls JS: any import means something (wasm-bindgen, std's env) crept in.
    let imports = 0;
    for (let i = 0; i < module.getNumFunctions(); i++) {
      const info = binaryen.getFunctionInfo(module.getFunctionByIndex(i));
      if (info.module) {
        imports++;
        problems.push(`imports function ${info.module}.${info.base}`);
      }
    }
    for (let i = 0; i < module.getNumGlobals(); i++) {
      const info = binaryen.getGlobalInfo(module.getGlobalByIndex(i));
      if (info.module) {
        imports++;
        problems.push(`imports Global ${info.module}.${info.base}`);
      }
    }
    const tables = module.getNumTables();
    if (tables > 1) problems.push(`${tables} tables (MVP allows one)`);
    for (let i = 0; i < tables; i++) {
      const table = module.getTableByIndex(i);
      const info = binaryen.getTableInfo(table);
      if (info.module) problems.push(`imports table ${info.module}.${info.base}`);
      if (binaryen._BinaryenTableGetType(table) !== binaryen.funcref) problems.push(`table \`${info.name}\` is not of funcref`);
    }
    if (!module.hasMemory()) problems.push('has no memory');
    else {
      const memory = module.getMemoryInfo();
      if (memory.module) problems.push(`imports its memory from ${memory.module}.${memory.base}`);
      if (memory.shared || memory.is64) problems.push('has a shared or 64-bit memory');
    }
    // binaryen would enable whatever a target_features section claims: none may be left.
    if (Buffer.from(bytes).includes('target_features')) problems.push('still carries a target_features section');
    module.setFeatures(binaryen.Features.MVP);
    if (!quietly(() => module.validate())) problems.push('does not validate with MVP features only (post-MVP instructions)');
    const paths = locationPaths(bytes);
    if (paths.length) problems.push(`carries source paths (${paths.slice(0, 2).join(', ')}…)`);
    return { problems, exports, imports, tables };
  } finally {
    module.dispose();
  }
}

// Runs `fn` with binaryen's validator output (printed on stdout/stderr) kept out of the build log.
function quietly(fn) {
  const write = process.stdout.write;
  const writeErr = process.stderr.write;
  process.stdout.write = () => true;
  process.stderr.write = () => true;
  try {
    return fn();
  } finally {
    process.stdout.write = write;
    process.stderr.write = writeErr;
  }
}

// Source paths of panic locations (`/rustc/<hash>/library/core/src/…rs`, a cargo registry,
// the build machine's checkout, the crate's own `src/…rs`): data the trapping panic handler
// never reads. Rust packs strings together, so a path starts at its first `/` (or `src/`).
const LOCATION_PATH = /(?:\/|src\/)[\x21-\x7e]*?\.rs(?![A-Za-z0-9_])/g;

function locationPaths(bytes) {
  return Buffer.from(bytes).toString('latin1').match(LOCATION_PATH) || [];
}

// Zeroes every panic-location path in place (same length: the module stays valid).
function blankLocationPaths(bytes) {
  const text = Buffer.from(bytes).toString('latin1');
  const out = Buffer.from(bytes);
  let blanked = 0;
  for (const match of text.matchAll(LOCATION_PATH)) {
    out.fill(0, match.index, match.index + match[0].length);
    blanked++;
  }
  return { bytes: out, blanked };
}

/**
 * Gives binaryen's lowered `memory.copy` (`__memory_copy`, a byte-by-byte loop) a body that
 * copies 8 bytes at a time when it can go forward, and byte by byte backward otherwise. The
 * precompiled std moves every struct through it: byte by byte, it was a quarter of the core's
 * time per request. Same bounds check and trap as the original.
 * @returns {boolean} whether the module had one to replace
 */
function fasterMemoryCopy(binaryen, module) {
  const name = '__memory_copy';
  if (!module.getFunction(name)) return false;
  module.removeFunction(name);
  const m = module;
  const { i32, i64, none } = binaryen;
  const get = (i) => m.local.get(i, i32);
  const set = (i, value) => m.local.set(i, value);
  const DST = 0;
  const SRC = 1;
  const LEN = 2;
  const step = (i, by) => set(i, m.i32.add(get(i), m.i32.const(by)));
  const memoryBytes = m.i32.shl(m.memory.size(), m.i32.const(16));
  const outOfBounds = m.i32.or(
    m.i32.lt_u(memoryBytes, m.i32.add(get(DST), get(LEN))),
    m.i32.gt_u(m.i32.add(get(SRC), get(LEN)), m.i32.shl(m.memory.size(), m.i32.const(16))),
  );
  const forward = m.block(null, [
    m.loop('words', m.if(m.i32.ge_u(get(LEN), m.i32.const(8)), m.block(null, [
      m.i64.store(0, 1, get(DST), m.i64.load(0, 1, get(SRC))),
      step(DST, 8), step(SRC, 8), step(LEN, -8),
      m.br('words'),
    ]))),
    m.loop('bytes', m.if(get(LEN), m.block(null, [
      m.i32.store8(0, 1, get(DST), m.i32.load8_u(0, 1, get(SRC))),
      step(DST, 1), step(SRC, 1), step(LEN, -1),
      m.br('bytes'),
    ]))),
  ]);
  const backward = m.loop('back', m.if(get(LEN), m.block(null, [
    step(LEN, -1),
    m.i32.store8(0, 1, m.i32.add(get(DST), get(LEN)), m.i32.load8_u(0, 1, m.i32.add(get(SRC), get(LEN)))),
    m.br('back'),
  ])));
  const body = m.block(null, [
    m.if(outOfBounds, m.unreachable()),
    // Forward is safe when the destination starts before the source: each 8-byte piece is
    // read before anything at or after it is written.
    m.if(m.i32.gt_u(get(DST), get(SRC)), backward, forward),
  ]);
  module.addFunction(name, binaryen.createType([i32, i32, i32]), none, [], body);
  void i64;
  return true;
}

/**
 * cargo's .wasm → the shipped one. Throws when the result would be rejected on iOS.
 * @param {Uint8Array} input
 */
async function buildWasm(input) {
  const binaryen = await loadBinaryen();
  const module = binaryen.readBinary(input);
  let bytes;
  try {
    // rustc exports `__data_end` and `__heap_base` as Globals; nothing reads them, and iOS
    // refuses a module that exports a Global.
    const dropped = [];
    for (let i = module.getNumExports() - 1; i >= 0; i--) {
      const info = binaryen.getExportInfo(module.getExportByIndex(i));
      if (KIND_NAMES[info.kind] === 'global') {
        module.removeExport(info.name);
        dropped.push(info.name);
      }
    }
    if (dropped.length) step(`dropped Global exports: ${dropped.join(', ')}`);
    step('binaryen: lower bulk-memory, sign-ext and float-to-int to MVP, optimize for size');
    module.setFeatures(postMvpFeatures(binaryen));
    module.runPasses(['llvm-memory-copy-fill-lowering', 'signext-lowering', 'llvm-nontrapping-fptoint-lowering']);
    if (fasterMemoryCopy(binaryen, module)) step('memory.copy: 8 bytes at a time');
    // From here on only MVP instructions exist, and the optimizer may not add others.
    module.setFeatures(binaryen.Features.MVP);
    binaryen.setOptimizeLevel(2);
    binaryen.setShrinkLevel(2);
    // --profiling keeps function names (for a profiler; the audit then refuses the file).
    binaryen.setDebugInfo(process.argv.includes('--profiling'));
    module.runPasses(['merge-similar-functions']);
    module.optimize();
    module.runPasses(process.argv.includes('--profiling') ? ['strip-target-features'] : ['strip-debug', 'strip-producers', 'strip-target-features']);
    if (!quietly(() => module.validate())) {
      throw new Error('the .wasm would be rejected on iOS: after lowering it still has post-MVP instructions');
    }
    bytes = module.emitBinary();
  } finally {
    module.dispose();
  }
  const { bytes: blanked, blanked: count } = blankLocationPaths(bytes);
  if (count) step(`blanked ${count} panic-location paths`);
  step('audit: MVP only, no imports, no Global export, one funcref table at most, no source paths');
  const { problems } = await inspectWasm(blanked);
  if (problems.length) throw new Error(`the .wasm would be rejected on iOS:\n  - ${problems.join('\n  - ')}`);
  return blanked;
}

/**
 * cargo's .wasm → the same core as JavaScript (the JavaScript build, wx-session/js): lowered to
 * MVP and optimized like the shipped wasm (without the 8-byte memory.copy, whose 64-bit loads cost
 * more than they save once 64-bit numbers are pairs of 32-bit ones), panic-location paths
 * blanked, then binaryen's wasm2js. Returns an ES module exporting `createCore()`: a new
 * instance's exports, memory included, as WXWebAssembly would give them.
 * @param {Uint8Array} input
 */
async function buildCoreJs(input) {
  const binaryen = await loadBinaryen();
  const module = binaryen.readBinary(input);
  let bytes;
  try {
    module.setFeatures(postMvpFeatures(binaryen));
    module.runPasses(['llvm-memory-copy-fill-lowering', 'signext-lowering', 'llvm-nontrapping-fptoint-lowering']);
    module.setFeatures(binaryen.Features.MVP);
    binaryen.setOptimizeLevel(2);
    binaryen.setShrinkLevel(2);
    binaryen.setDebugInfo(false);
    module.optimize();
    module.runPasses(['strip-debug', 'strip-producers', 'strip-target-features']);
    if (!quietly(() => module.validate())) throw new Error('the core for wasm2js still has post-MVP instructions');
    bytes = blankLocationPaths(module.emitBinary()).bytes;
  } finally {
    module.dispose();
  }
  const dir = fs.mkdtempSync(path.join(require('os').tmpdir(), 'wx-session-wasm2js-'));
  try {
    fs.writeFileSync(path.join(dir, 'core.wasm'), bytes);
    const wasm2js = path.join(path.dirname(require.resolve('binaryen/package.json')), 'bin', 'wasm2js');
    require('child_process').execFileSync(process.execPath, [wasm2js, path.join(dir, 'core.wasm'), '-Oz', '-o', path.join(dir, 'core.js')], { stdio: ['ignore', 'ignore', 'inherit'] });
    const text = fs.readFileSync(path.join(dir, 'core.js'), 'utf8');
    // wasm2js ends with `var retasmFunc = asmFunc({}); export var name = retasmFunc.name; …`:
    // one instance at load time. Instead, the glue makes one when it first needs it.
    const body = text.replace(/\nvar retasmFunc = asmFunc\(\{\s*\}\);\n[\s\S]*$/, '\n');
    if (body === text || /\bexport\b/.test(body)) throw new Error('wasm2js output is not of the expected shape');
    return `${body}\nexport function createCore() {\n  return asmFunc({});\n}\n`;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The ABI constants of src/abi.rs, by their JS names (`GROUP_NAME` for `group::NAME`): numbers,
 * and lists of strings. Throws on a constant of another form (the file says which it keeps).
 * @param {string} rust the text of src/abi.rs
 */
function abiConstants(rust) {
  const constants = {};
  let group = null;
  for (const line of rust.split('\n')) {
    let m;
    if ((m = /^pub mod (\w+) \{/.exec(line))) group = m[1].toUpperCase();
    else if (/^\}/.test(line)) group = null;
    else if (!group || !/^\s*pub const /.test(line)) continue;
    else if ((m = /^\s*pub const (\w+): u32 = (\d+)(?: << (\d+))?;$/.exec(line))) {
      constants[`${group}_${m[1]}`] = m[3] === undefined ? Number(m[2]) : Number(m[2]) * 2 ** Number(m[3]);
    } else if ((m = /^\s*pub const (\w+): \[&str; (\d+)\] = \[(.*)\];$/.exec(line))) {
      const list = JSON.parse(`[${m[3]}]`);
      if (list.length !== Number(m[2])) throw new Error(`src/abi.rs: ${m[1]} has ${list.length} names, not ${m[2]}`);
      constants[`${group}_${m[1]}`] = list;
    } else throw new Error(`src/abi.rs: a constant build.js cannot read: ${line.trim()}`);
  }
  return constants;
}

/** js-glue/src/abi.js, as generated from src/abi.rs. */
function abiModule(rust) {
  const lines = Object.entries(abiConstants(rust)).map(([name, value]) => `export var ${name} = ${JSON.stringify(value).replace(/"/g, "'")};`);
  return [
    '// Generated by js-glue/build.js from src/abi.rs (scripts/build.sh): edit that file, not this one.',
    '// The glue reads these as `abi.NAME`; in the bundle each use of a number becomes the number.',
    ...lines,
    '',
  ].join('\n');
}

const ABI_RS = path.join(root, 'src', 'abi.rs');
const ABI_JS = path.join(here, 'src', 'abi.js');

// By build: the modules of src/ that stand in for others.
const WASM_BUILD_STANDS_IN = { './platform-alipay.js': 'platform-alipay-none.js' };
const JS_BUILD_STANDS_IN = { './loader.js': 'loader-js.js' };

/**
 * src/ (ES modules, ES5 otherwise) → one CommonJS file. Rollup hoists every module into one
 * scope, so terser can shorten every name that crosses modules and inline the ABI's numbers.
 * An import that is not a module of src/ fails the build (the mini-program runtime has nothing
 * else to give).
 */
async function bundle(version, srcDir = path.join(here, 'src'), coreJs = null) {
  const { rollup } = require('rollup');
  const problems = [];
  const build = await rollup({
    input: path.join(srcDir, 'index.js'),
    onwarn: (warning) => problems.push(warning.message),
    // Modules that stand for others in one build: the JavaScript build loads the core as JS
    // (loader-js.js); the wasm build carries no Alipay adapter (Alipay needs the JavaScript build).
    plugins: [{
      name: 'build-flavour',
      resolveId(source, importer) {
        if (source === 'wx-session-core-js' && coreJs !== null) return '\0wx-session-core-js';
        const stand = (coreJs === null ? WASM_BUILD_STANDS_IN : JS_BUILD_STANDS_IN)[source];
        return stand && importer && path.dirname(importer) === srcDir ? path.join(srcDir, stand) : null;
      },
      load(id) {
        return id === '\0wx-session-core-js' ? coreJs : null;
      },
    }],
  });
  const { output } = await build.generate({ format: 'cjs', exports: 'named', esModule: false, generatedCode: 'es5', freeze: false });
  await build.close();
  if (problems.length) throw new Error(`bundling src/:\n  - ${problems.join('\n  - ')}`);
  const code = output[0].code;
  const { minify } = require('terser');
  // ES5 out: the glue runs on old base libraries too, and is shipped as is. (--readable keeps
  // names and layout, for profiling.) The file is one module: its top level is private.
  const readable = process.argv.includes('--readable');
  const result = readable
    ? { code }
    : await minify(code, { ecma: 5, toplevel: true, compress: { passes: 2 }, mangle: true, format: { ecma: 5 } });
  const flavour = coreJs === null ? '' : ' (the JavaScript build: no WebAssembly)';
  const banner = `// wx-session ${version}${flavour} (MIT). Built by js-glue/build.js from js-glue/src; run scripts/build.sh to regenerate.\n`;
  return banner + result.code + '\n';
}

// Loads the bundle as a mini-program would (CommonJS, no WebAssembly) and checks its exports.
function checkEntry(code) {
  const module = { exports: {} };
  const sandbox = vm.createContext({ setTimeout, clearTimeout, Date, Math, Promise });
  vm.runInContext(`(function (module, exports) {${code}\n})`, sandbox)(module, module.exports);
  const names = Object.keys(module.exports).sort();
  if (names.join() !== [...API].sort().join()) throw new Error(`the bundle exports ${names.join(', ')}, not ${API.join(', ')}`);
  if (typeof module.exports.createSession !== 'function') throw new Error('createSession is not a function');
}

function copyDir(from, to) {
  fs.rmSync(to, { recursive: true, force: true });
  fs.mkdirSync(to, { recursive: true });
  for (const name of fs.readdirSync(from)) fs.copyFileSync(path.join(from, name), path.join(to, name));
}

function brotli(bytes) {
  return zlib.brotliCompressSync(bytes, {
    params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: bytes.length },
  });
}

// dist/ is the package's `miniprogram` folder, which 构建npm copies whole into
// miniprogram_npm/wx-session/: the JS, the typings and one wasm form, the brotli one (base
// library ≥ 2.14). The uncompressed .wasm, for apps that support 2.13, goes to wasm/ beside it.
async function main() {
  const from = option('from', path.join(root, 'target', 'sdk', 'wasm32-unknown-unknown', 'release', 'wx_session.wasm'));
  const dist = option('to', path.join(here, 'dist'));
  const distJs = option('to-js', path.join(here, 'dist-js'));
  const plainDir = path.join(dist, '..', 'wasm');
  const version = require('./package.json').version;
  const wasm = await buildWasm(fs.readFileSync(from));
  step('js-glue/src/abi.js from src/abi.rs');
  fs.writeFileSync(ABI_JS, abiModule(fs.readFileSync(ABI_RS, 'utf8')));
  step('bundle dist/index.js (CommonJS, minified ES5) and typings');
  const js = await bundle(version);
  checkEntry(js);
  fs.rmSync(dist, { recursive: true, force: true });
  fs.mkdirSync(dist, { recursive: true });
  fs.mkdirSync(plainDir, { recursive: true });
  fs.writeFileSync(path.join(plainDir, WASM_NAME), wasm);
  const br = brotli(wasm);
  fs.writeFileSync(path.join(dist, `${WASM_NAME}.br`), br);
  fs.writeFileSync(path.join(dist, 'index.js'), js);
  fs.copyFileSync(path.join(here, 'src', 'index.d.ts'), path.join(dist, 'index.d.ts'));
  console.log(`built ${path.relative(process.cwd(), dist)}: ${WASM_NAME}.br ${br.length} B + index.js ${Buffer.byteLength(js)} B = shipped ${br.length + Buffer.byteLength(js)} B (${path.relative(process.cwd(), plainDir)}/${WASM_NAME}: ${wasm.length} B)`);
  step('the JavaScript build: wasm2js, then the same glue with the core as JavaScript → dist-js/index.js');
  const jsBuild = await bundle(version, path.join(here, 'src'), await buildCoreJs(fs.readFileSync(from)));
  checkEntry(jsBuild);
  // (Comments kept by --readable may name it; the shipped, minified build has none.)
  if (!process.argv.includes('--readable') && /WebAssembly/.test(jsBuild.slice(jsBuild.indexOf('\n')))) throw new Error('the JavaScript build uses WebAssembly');
  fs.rmSync(distJs, { recursive: true, force: true });
  fs.mkdirSync(distJs, { recursive: true });
  fs.writeFileSync(path.join(distJs, 'index.js'), jsBuild);
  fs.copyFileSync(path.join(here, 'src', 'index.d.ts'), path.join(distJs, 'index.d.ts'));
  const jsBytes = Buffer.byteLength(jsBuild);
  console.log(`built ${path.relative(process.cwd(), distJs)}: index.js ${jsBytes} B (brotli ${brotli(Buffer.from(jsBuild)).length} B), the JavaScript build, beside the wasm build's ${br.length + Buffer.byteLength(js)} B`);
  // The npm tarball carries the manuals, the licence and the changelog (npm takes README*,
  // LICENSE* and CHANGELOG* from the package folder): copies of the repository's own.
  for (const doc of ['README.md', 'README.zh-CN.md', 'LICENSE', 'CHANGELOG.md']) {
    fs.copyFileSync(path.join(root, doc), path.join(here, doc));
  }
  if (!process.argv.includes('--no-demo')) {
    copyDir(dist, demoLib);
    console.log(`copied to ${path.relative(process.cwd(), demoLib)}`);
  }
}

module.exports = { inspectWasm, buildWasm, buildCoreJs, bundle, locationPaths, loadBinaryen, abiConstants, abiModule, ABI_RS, ABI_JS };

if (require.main === module) {
  main().catch((error) => {
    console.error(`build failed: ${error.message}`);
    process.exit(1);
  });
}
