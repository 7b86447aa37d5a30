#!/usr/bin/env node
// Second half of scripts/build.sh: turns wasm-bindgen's bundler output into the SDK that a
// mini-program can load, and refuses to ship a .wasm that iOS would reject.
//
//   build/bindgen/wx_session_bg.wasm → wasm-opt (lower bulk-memory + sign-ext, -Oz, strip
//   target_features) → validate with MVP features only → audit (one funcref table, no
//   externref, no exported Global) → dist/wx_session_bg.wasm (+ .br)
//   build/bindgen/wx_session_bg.js + src/*.js → dist/index.js (one CommonJS file)
'use strict';

const fs = require('fs');
const path = require('path');
const zlib = require('zlib');
const { execFileSync } = require('child_process');
const { auditWasm, dropGlobalExports } = require('./wasm-sections');

const here = __dirname;
const demoLib = path.join(here, '..', 'demo-miniprogram', 'miniprogram', 'libs', 'wx-session');

// Options for tests that push another wasm-bindgen output through the same steps:
//   --from DIR (default build/bindgen) --to DIR (default dist) --no-demo (don't copy into the demo)
function option(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? path.resolve(process.argv[at + 1]) : fallback;
}
const bindgen = option('from', path.join(here, 'build', 'bindgen'));
const dist = option('to', path.join(here, 'dist'));
const copyToDemo = !process.argv.includes('--no-demo');
const wasmOpt = path.join(here, 'node_modules', 'binaryen', 'bin', 'wasm-opt');

function step(message) {
  process.stderr.write(`\x1b[1m==> ${message}\x1b[0m\n`);
}

function run(args) {
  execFileSync(process.execPath, [wasmOpt, ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
}

// iOS cannot instantiate a module that exports a Global. wasm-bindgen 0.2.130 exports two
// (`__abort_handler`, `__instance_terminated`) for its unwind/reinit machinery, which a
// panic=abort build never emits JS for. Drop those exports; refuse if the JS reads one.
function withoutGlobalExports(file, bindingsJs) {
  const { bytes, removed } = dropGlobalExports(fs.readFileSync(file));
  const used = removed.filter((name) => bindingsJs.includes(name));
  if (used.length) throw new Error(`the JS bindings use exported Globals ${used.join(', ')}: cannot drop them`);
  if (removed.length) step(`dropped Global exports the JS never reads: ${removed.join(', ')}`);
  const out = path.join(path.dirname(bindgen), 'no-global-exports.wasm');
  fs.writeFileSync(out, bytes);
  return out;
}

function buildWasm(bindgenWasm, bindingsJs) {
  const unoptimized = withoutGlobalExports(bindgenWasm, bindingsJs);
  const out = path.join(dist, 'wx_session_bg.wasm');
  // Binaryen reads the target_features section and enables what it claims, so the lowering
  // passes see the post-MVP instructions the precompiled std carries, and rewrite them.
  step('wasm-opt: lower bulk-memory and sign-ext to MVP, -Oz, strip target_features');
  run([
    unoptimized,
    '--enable-bulk-memory', '--enable-sign-ext', '--enable-mutable-globals',
    '--llvm-memory-copy-fill-lowering', '--signext-lowering',
    '-Oz',
    '--strip-target-features', '--strip-debug', '--strip-producers',
    '-o', out,
  ]);
  step('validate with MVP features only');
  // No target_features section is left, so --mvp-features really means MVP here.
  run([out, '--mvp-features', '-o', process.platform === 'win32' ? 'NUL' : '/dev/null']);
  const problems = auditWasm(fs.readFileSync(out));
  if (problems.length) {
    throw new Error(`the .wasm would be rejected on iOS:\n  - ${problems.join('\n  - ')}`);
  }
  const bytes = fs.readFileSync(out);
  const br = zlib.brotliCompressSync(bytes, {
    params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: bytes.length },
  });
  fs.writeFileSync(out + '.br', br);
  return { wasm: bytes.length, br: br.length };
}

// wasm-bindgen's `*_bg.js` is an ES module; the mini-program runtime only has CommonJS.
// Its free references to TextEncoder, TextDecoder and globalThis are bound to our own.
function bindingsModule() {
  const source = fs.readFileSync(path.join(bindgen, 'wx_session_bg.js'), 'utf8');
  const names = [];
  const body = source
    .replace(/^export function (\w+)/gm, (_, name) => { names.push(name); return `function ${name}`; })
    .replace(/^export class (\w+)/gm, (_, name) => { names.push(name); return `class ${name}`; });
  const leftover = body.match(/^(export|import)\b.*$/m);
  if (leftover) throw new Error(`unexpected ES module syntax in wasm-bindgen output: ${leftover[0]}`);
  return [
    "var TextEncoder = require('./text-codec').TextEncoder;",
    "var TextDecoder = require('./text-codec').TextDecoder;",
    '// wasm-bindgen-futures looks up queueMicrotask on the global object. Older iOS base',
    '// libraries have no `globalThis`: give it an object without queueMicrotask, so it',
    '// schedules with Promise.then, which every runtime has.',
    'var globalThis = {};',
    body,
    `module.exports = { ${names.join(', ')} };`,
  ].join('\n');
}

function bundle(version) {
  const modules = {
    './index': fs.readFileSync(path.join(here, 'src', 'index.js'), 'utf8'),
    './loader': fs.readFileSync(path.join(here, 'src', 'loader.js'), 'utf8'),
    './host': fs.readFileSync(path.join(here, 'src', 'host.js'), 'utf8'),
    './text-codec': fs.readFileSync(path.join(here, 'src', 'text-codec.js'), 'utf8'),
    './bindings': bindingsModule(),
  };
  const parts = [
    `// wx-session ${version}: generated by js-glue/build.js from js-glue/src and wasm-bindgen's output.`,
    '// Do not edit: run scripts/build.sh.',
    "'use strict';",
    'var __wxsModules = {',
  ];
  for (const [name, source] of Object.entries(modules)) {
    parts.push(`${JSON.stringify(name)}: function (module, exports, require) {\n${source}\n},`);
  }
  parts.push(
    '};',
    'var __wxsCache = {};',
    'function __wxsRequire(name) {',
    '  if (!__wxsCache[name]) {',
    '    var module = { exports: {} };',
    '    __wxsCache[name] = module;',
    '    __wxsModules[name](module, module.exports, __wxsRequire);',
    '  }',
    '  return __wxsCache[name].exports;',
    '}',
    "module.exports = __wxsRequire('./index');",
    '',
  );
  return parts.join('\n');
}

function copyDir(from, to) {
  fs.rmSync(to, { recursive: true, force: true });
  fs.mkdirSync(to, { recursive: true });
  for (const name of fs.readdirSync(from)) fs.copyFileSync(path.join(from, name), path.join(to, name));
}

function main() {
  const version = require('./package.json').version;
  fs.rmSync(dist, { recursive: true, force: true });
  fs.mkdirSync(dist, { recursive: true });
  const bindingsJs = fs.readFileSync(path.join(bindgen, 'wx_session_bg.js'), 'utf8');
  const sizes = buildWasm(path.join(bindgen, 'wx_session_bg.wasm'), bindingsJs);
  step('bundle dist/index.js (CommonJS) and typings');
  fs.writeFileSync(path.join(dist, 'index.js'), bundle(version));
  fs.copyFileSync(path.join(here, 'src', 'index.d.ts'), path.join(dist, 'index.d.ts'));
  const js = fs.statSync(path.join(dist, 'index.js')).size;
  console.log(`built ${path.relative(process.cwd(), dist)}: wx_session_bg.wasm ${sizes.wasm} B, .wasm.br ${sizes.br} B, index.js ${js} B`);
  if (copyToDemo) {
    copyDir(dist, demoLib);
    console.log(`copied to ${path.relative(process.cwd(), demoLib)}`);
  }
}

try {
  main();
} catch (error) {
  console.error(`build failed: ${error.message}`);
  process.exit(1);
}
