#!/usr/bin/env node
// The figures in the manuals (README.md, README.zh-CN.md), written from their sources instead of
// by hand: sizes from the build's files (js-glue/dist/, js-glue/wasm/, js-glue/dist-js/: run
// ./scripts/build.sh first), timings and the peers' figures from one bench run
// (tests/bench/results.json: ./scripts/bench.sh --save tests/bench/results.json).
//
//   node scripts/figures.js           rewrites the marked places in both manuals
//   node scripts/figures.js --check   changes nothing; exits 1 and says where a manual differs
//                                     (tests/js/figures.test.js runs this)
//
// The marked places:
//   <!-- figures:size -->…<!-- /figures -->          the Size table
//   <!-- figures:performance -->…<!-- /figures -->   the Performance table and the run it is from
//   <!-- figure:KEY -->…<!-- /figure -->             one figure in a sentence (KEYS below)
'use strict';

const fs = require('fs');
const path = require('path');
const zlib = require('zlib');

const ROOT = path.join(__dirname, '..');
const MANUALS = { 'README.md': 'en', 'README.zh-CN.md': 'zh' };
const RESULTS = path.join('tests', 'bench', 'results.json');
const FILES = {
  wasmBr: path.join('js-glue', 'dist', 'wx_session_bg.wasm.br'),
  indexJs: path.join('js-glue', 'dist', 'index.js'),
  rawWasm: path.join('js-glue', 'wasm', 'wx_session_bg.wasm'),
  jsBuild: path.join('js-glue', 'dist-js', 'index.js'),
};
// Issue 19's targets (the bench prints the same ones beside its figures).
const SHIPPED_TARGET = 40 * 1024;
const SHIPPED_STRETCH = 32 * 1024;

const bytes = (n) => n.toLocaleString('en-US');
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const times = (n) => `${n.toFixed(2)}×`;
const row = (cells) => `| ${cells.join(' | ')} |`; // a Markdown table's row
const us = (n) => `${n.toFixed(1)} µs`;
const ms = (n) => `${n.toFixed(2)} ms`;

// Everything the manuals quote, from the build (`root`'s files) and the bench run.
function measure(root = ROOT) {
  const size = {};
  for (const [name, file] of Object.entries(FILES)) {
    const full = path.join(root, file);
    if (!fs.existsSync(full)) throw new Error(`${file} is missing: run ./scripts/build.sh first`);
    size[name] = fs.statSync(full).size;
  }
  size.shipped = size.wasmBr + size.indexJs;
  size.shippedPlain = size.rawWasm + size.indexJs;
  size.jsBuildBrotli = zlib.brotliCompressSync(fs.readFileSync(path.join(root, FILES.jsBuild))).length;
  const resultsFile = path.join(root, RESULTS);
  if (!fs.existsSync(resultsFile)) throw new Error(`${RESULTS} is missing: run ./scripts/bench.sh --save ${RESULTS}`);
  const bench = JSON.parse(fs.readFileSync(resultsFile, 'utf8'));
  return { size, bench };
}

// The wx-session figures of the run's --verbose breakdown (tests/bench/phases.js's lines, kept in
// results.json's `printed`), or null when the run had no --verbose.
function breakdown(bench) {
  const lines = bench.printed || [];
  const perRequest = lines.find((l) => /^\| wx-session \|/.test(l));
  const cold = lines.find((l) => /^wx-session: total [\d.]+; loading the JS/.test(l));
  const again = cold ? lines[lines.indexOf(cold) + 1] || '' : '';
  if (!perRequest || !cold) return null;
  const cells = perRequest.split('|').map((c) => c.trim()).filter(Boolean);
  const number = (re, text) => {
    const m = re.exec(text);
    return m ? Number(m[1]) : NaN;
  };
  return {
    coreUs: Number(cells[3]),
    glueUs: Number(cells[4]),
    platformUs: Number(cells[5]),
    engineUs: Number(cells[6]),
    jsLoadMs: number(/loading the JS \(parse \+ run\) ([\d.]+)/, cold),
    wasmCompileMs: number(/compile ([\d.]+)/, cold),
    firstJsCompileMs: number(/compiling the JS the first time costs ([\d.]+)/, again),
  };
}

// What each inline `<!-- figure:KEY -->` says.
function inlineFigures({ size, bench }) {
  const parts = breakdown(bench);
  const none = '–';
  const node = bench.perRequest.node;
  const jit = bench.perRequest.jscJit;
  const noJit = bench.perRequest.jscNoJit;
  const cold = bench.cold['jsc without JIT'];
  return {
    'wasm-br': `${bytes(size.wasmBr)} B`,
    'wasm-br-kb': kb(size.wasmBr),
    'index-js': `${bytes(size.indexJs)} B`,
    'index-js-kb': kb(size.indexJs),
    shipped: `${bytes(size.shipped)} B`,
    'shipped-kb': kb(size.shipped),
    'shipped-over': `${bytes(size.shipped - SHIPPED_TARGET)} B`,
    'raw-wasm': `${bytes(size.rawWasm)} B`,
    'raw-wasm-kb': kb(size.rawWasm),
    'shipped-plain-kb': kb(size.shippedPlain),
    'js-build': `${bytes(size.jsBuild)} B`,
    'js-build-kb': kb(size.jsBuild),
    'js-build-br-kb': kb(size.jsBuildBrotli),
    'node-cpu-ratio': times(node['wx-session'].ratioCpu),
    'jsc-jit-ratio': times(jit['wx-session'].ratioWall),
    'jsc-nojit-ratio': times(noJit['wx-session'].ratioWall),
    'jsc-nojit-us': us(noJit['wx-session'].wall),
    'hand-nojit-us': us(noJit['hand-written'].wall),
    'js-build-nojit-ratio': times(noJit['wx-session/js'].ratioWall),
    'cold-nojit-ms': ms(cold['wx-session'].total),
    'cold-nojit-vs-wafer2': times(cold['wx-session'].vsWafer2),
    'wafer2-cold-nojit-ms': ms(cold.wafer2.total),
    'js-build-cold-nojit-ms': ms(cold['wx-session/js'].total),
    'bench-date': bench.date,
    'nojit-target-us': us(bench.targets.jscNoJit * noJit['hand-written'].wall),
    'cold-nojit-target-ms': ms(bench.targets.coldNoJitVsWafer2 * cold.wafer2.total),
    'js-build-nojit-us': us(noJit['wx-session/js'].wall),
    'nojit-core-us': parts ? us(parts.coreUs) : none,
    'nojit-glue-us': parts ? us(parts.glueUs) : none,
    'nojit-without-core-us': parts ? us(parts.glueUs + parts.platformUs + parts.engineUs) : none,
    'nojit-platform-us': parts ? us(parts.platformUs) : none,
    'nojit-engine-us': parts ? us(parts.engineUs) : none,
    'cold-js-load-ms': parts ? ms(parts.jsLoadMs) : none,
    'cold-wasm-compile-ms': parts ? ms(parts.wasmCompileMs) : none,
    'cold-first-js-compile-ms': parts ? ms(parts.firstJsCompileMs) : none,
  };
}

const WORDS = {
  en: {
    met: 'met', missed: 'missed', missedBy: (by) => `**missed** by ${by}`, none: '—', flat: 'flat',
    run: (b) => `One run, ${b.date}: \`${b.command}\` on ${b.machine.cpus} cores (\`nproc\` ${b.machine.cpus}, ${b.machine.cpuModel}, ${b.machine.memoryGiB} GiB), Node ${b.machine.node}, jsc ${b.machine.jsc ? `(${b.machine.jsc})` : 'missing'}; the strict sandbox, every client in the package's realm, the fake platform answering on the next macrotask. Ratios are to the hand-written wrapper in the same round (medians); cold start is load + compile + the first login, in a fresh process per sample.`,
    head: ['', 'wx-session', 'target', 'met?', 'wx-session/js', 'hand-written', 'wafer2-client-sdk', 'flyio'],
    rows: {
      shipped: 'shipped bytes (what the package carries)',
      node: 'per request, Node, CPU, × hand-written',
      jit: 'per request, jsc with JIT, × hand-written',
      noJit: 'per request, **jsc without JIT** (iPhone WeChat), × hand-written',
      coldNode: 'cold start, Node',
      coldJit: 'cold start, jsc with JIT',
      coldNoJit: 'cold start, **jsc without JIT**, × wafer2\'s',
      revoke: '20 requests after a revoke: logins / successes',
      first: '20 requests during the first login: logins / successes',
      memory: 'core memory, 64 KiB pages: first login / 1,000 / 100,000 requests',
    },
    oneLogin: 'one login, 20 / 20',
    sizeHead: ['file', 'bytes', 'target'],
    sizeRows: {
      wasmBr: '`dist/wx_session_bg.wasm.br`: the core, brotli (base library ≥ 2.14.0)',
      indexJs: '`dist/index.js`: the glue',
      shipped: '**shipped**: `.wasm.br` + `index.js`',
      rawWasm: '`wasm/wx_session_bg.wasm`: the core, uncompressed (base library 2.13)',
      shippedPlain: 'shipped with the uncompressed `.wasm` instead',
      jsBuild: '`dist-js/index.js`: the JavaScript build (`wx-session/js`), all in one',
    },
    stretch: (limit) => `stretch ≤ ${limit}`,
  },
  zh: {
    met: '达到', missed: '未达到', missedBy: (by) => `**未达到**，差 ${by}`, none: '—', flat: '不增长',
    run: (b) => `数据来自一次运行（${b.date}）：\`${b.command}\`，${b.machine.cpus} 核（\`nproc\` 为 ${b.machine.cpus}，${b.machine.cpuModel}，${b.machine.memoryGiB} GiB 内存），Node ${b.machine.node}，jsc${b.machine.jsc ? `（${b.machine.jsc}）` : " 缺失"}；在严格沙箱里运行，各客户端都在代码包的 realm 里，假平台在下一个宏任务应答。倍数是同一轮里相对手写封装的比值（取中位数）；冷启动指加载、编译到第一次登录完成，每个样本一个新进程。`,
    head: ['', 'wx-session', '目标', '是否达到', 'wx-session/js', '手写封装', 'wafer2-client-sdk', 'flyio'],
    rows: {
      shipped: '进包字节数',
      node: '每个请求，Node，CPU，相对手写封装',
      jit: '每个请求，jsc 开 JIT，相对手写封装',
      noJit: '每个请求，**jsc 关 JIT**（iPhone 上的微信），相对手写封装',
      coldNode: '冷启动，Node',
      coldJit: '冷启动，jsc 开 JIT',
      coldNoJit: '冷启动，**jsc 关 JIT**，相对 wafer2',
      revoke: 'token 被吊销后同时发 20 个请求：登录次数 / 成功数',
      first: '首次登录期间同时发 20 个请求：登录次数 / 成功数',
      memory: '核心内存，64 KiB 页数：首次登录后 / 1,000 个请求后 / 100,000 个请求后',
    },
    oneLogin: '一次登录，20 / 20',
    sizeHead: ['文件', '字节数', '目标'],
    sizeRows: {
      wasmBr: '`dist/wx_session_bg.wasm.br`：核心，brotli 压缩（基础库 ≥ 2.14.0）',
      indexJs: '`dist/index.js`：胶水代码',
      shipped: '**进包合计**：`.wasm.br` + `index.js`',
      rawWasm: '`wasm/wx_session_bg.wasm`：核心，未压缩（基础库 2.13）',
      shippedPlain: '改用未压缩 `.wasm` 时的合计',
      jsBuild: '`dist-js/index.js`：JS 版（`wx-session/js`），单个文件',
    },
    stretch: (limit) => `进一步目标 ≤ ${limit}`,
  },
};

function verdict(w, ok, by) {
  return ok ? `**${w.met}**` : w.missedBy(by);
}

function sizeTable({ size }, lang) {
  const w = WORDS[lang];
  const shippedOk = size.shipped <= SHIPPED_TARGET;
  const lines = [
    row(w.sizeHead),
    row(w.sizeHead.map(() => '---')),
    row([w.sizeRows.wasmBr, bytes(size.wasmBr), '']),
    row([w.sizeRows.indexJs, bytes(size.indexJs), '']),
    row([w.sizeRows.shipped, `**${bytes(size.shipped)}** (${kb(size.shipped)})`, `≤ ${SHIPPED_TARGET / 1024} KB (${bytes(SHIPPED_TARGET)}): ${verdict(w, shippedOk, `${bytes(size.shipped - SHIPPED_TARGET)} B`)}; ${w.stretch(`${SHIPPED_STRETCH / 1024} KB`)}: ${size.shipped <= SHIPPED_STRETCH ? w.met : w.missed}`]),
    row([w.sizeRows.rawWasm, bytes(size.rawWasm), '']),
    row([w.sizeRows.shippedPlain, `${bytes(size.shippedPlain)} (${kb(size.shippedPlain)})`, '']),
    row([w.sizeRows.jsBuild, `${bytes(size.jsBuild)} (${kb(size.jsBuild)}; brotli ${bytes(size.jsBuildBrotli)})`, '']),
  ];
  return lines.join('\n');
}

function performanceTable({ bench }, lang) {
  const w = WORDS[lang];
  const t = bench.targets;
  const clients = ['wx-session/js', 'hand-written', 'wafer2', 'flyio'];
  const lines = [w.run(bench), '', row(w.head), row(w.head.map(() => '---'))];
  const sizes = bench.size.clients;
  const ship = sizes['wx-session'].total;
  lines.push(row([w.rows.shipped, `**${bytes(ship)}**`, `≤ ${bytes(t.shipped)}`, verdict(w, ship <= t.shipped, `${bytes(ship - t.shipped)} B`), ...clients.map((c) => bytes(sizes[c].total))]));
  const ratioRow = (label, result, key, target) => {
    // The time the ratio is of: CPU time for a CPU ratio, else wall time.
    const absolute = (client) => (key === 'ratioCpu' ? client.cpu : client.wall);
    const own = result['wx-session'];
    const ratio = own[key];
    lines.push(row([label, `**${times(ratio)}** (${us(absolute(own))})`, `≤ ${t[target].toFixed(1)}×`, verdict(w, ratio <= t[target], `${(ratio - t[target]).toFixed(2)}×`),
      ...clients.map((c) => `${times(result[c][key])} (${us(absolute(result[c]))})`)]));
  };
  ratioRow(w.rows.node, bench.perRequest.node, 'ratioCpu', 'nodeCpu');
  ratioRow(w.rows.jit, bench.perRequest.jscJit, 'ratioWall', 'jscJit');
  ratioRow(w.rows.noJit, bench.perRequest.jscNoJit, 'ratioWall', 'jscNoJit');
  const coldRow = (label, result, target) => {
    const own = result['wx-session'];
    const cells = target
      ? [`**${ms(own.total)}, ${times(own.vsWafer2)}**`, `≤ ${t.coldNoJitVsWafer2.toFixed(1)}× wafer2`, verdict(w, own.vsWafer2 <= t.coldNoJitVsWafer2, `${(own.vsWafer2 - t.coldNoJitVsWafer2).toFixed(2)}×`)]
      : [ms(own.total), w.none, w.none];
    lines.push(row([label, ...cells, ...clients.map((c) => ms(result[c].total))]));
  };
  coldRow(w.rows.coldNode, bench.cold.Node, false);
  coldRow(w.rows.coldJit, bench.cold['jsc with JIT'], false);
  coldRow(w.rows.coldNoJit, bench.cold['jsc without JIT'], true);
  const correctRow = (label, result) => {
    const cell = (c) => (result[c].error ? result[c].error : `${result[c].logins} / ${result[c].ok}`);
    const own = result['wx-session'];
    lines.push(row([label, `**${cell('wx-session')}**`, w.oneLogin, own.logins === 1 && own.ok === 20 ? `**${w.met}**` : `**${w.missed}**`, ...clients.map(cell)]));
  };
  const [revoke, first] = Object.keys(bench.correctness);
  correctRow(w.rows.revoke, bench.correctness[revoke]);
  correctRow(w.rows.first, bench.correctness[first]);
  const mem = bench.memory;
  const pages = (m) => (m ? `${m.firstLogin} / ${m.after1000} / ${m.after}` : w.none);
  const flat = mem['wx-session'] && mem['wx-session'].after === mem['wx-session'].after1000;
  lines.push(row([w.rows.memory, `**${pages(mem['wx-session'])}**`, w.flat, flat ? `**${w.met}**` : `**${w.missed}**`, pages(mem['wx-session/js']), w.none, w.none, w.none]));
  return lines.join('\n');
}

// `markdown` with every marked place rewritten for `lang` from `measured`; throws on a marker
// that names nothing known, or one left open.
function render(markdown, lang, measured) {
  const inline = inlineFigures(measured);
  const blocks = { size: () => sizeTable(measured, lang), performance: () => performanceTable(measured, lang) };
  let out = markdown.replace(/<!-- figures:([a-z-]+) -->\n[\s\S]*?<!-- \/figures -->/g, (all, name) => {
    if (!blocks[name]) throw new Error(`unknown figures block "${name}"`);
    return `<!-- figures:${name} -->\n${blocks[name]()}\n<!-- /figures -->`;
  });
  out = out.replace(/<!-- figure:([a-z0-9-]+) -->[^<\n]*<!-- \/figure -->/g, (all, key) => {
    if (!(key in inline)) throw new Error(`unknown figure "${key}"`);
    return `<!-- figure:${key} -->${inline[key]}<!-- /figure -->`;
  });
  const open = (out.match(/<!-- figures?:/g) || []).length;
  const closed = (out.match(/<!-- \/figures? -->/g) || []).length;
  if (open !== closed) throw new Error(`${open} figure markers opened, ${closed} closed`);
  return out;
}

// { file: { now, wanted } } for each manual.
function manuals(root = ROOT) {
  const measured = measure(root);
  const out = {};
  for (const [file, lang] of Object.entries(MANUALS)) {
    const now = fs.readFileSync(path.join(root, file), 'utf8');
    out[file] = { now, wanted: render(now, lang, measured) };
  }
  return out;
}

// The first differing line of two texts, for a message.
function firstDifference(now, wanted) {
  const nowLines = now.split('\n');
  const wantedLines = wanted.split('\n');
  for (let i = 0; i < Math.max(nowLines.length, wantedLines.length); i++) {
    if (nowLines[i] !== wantedLines[i]) return `line ${i + 1}:\n  now:    ${nowLines[i]}\n  wanted: ${wantedLines[i]}`;
  }
  return '';
}

if (require.main === module) {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const [file, { now, wanted }] of Object.entries(manuals())) {
    if (now === wanted) continue;
    stale++;
    if (check) console.error(`${file} differs from its sources (node scripts/figures.js rewrites it), first at ${firstDifference(now, wanted)}`);
    else {
      fs.writeFileSync(path.join(ROOT, file), wanted);
      console.log(`rewrote the figures in ${file}`);
    }
  }
  if (!stale) console.log('the manuals\' figures match the build and tests/bench/results.json');
  process.exitCode = check && stale ? 1 : 0;
}

module.exports = { measure, inlineFigures, render, manuals, firstDifference, FILES, RESULTS };
