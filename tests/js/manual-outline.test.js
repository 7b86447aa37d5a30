// README.md and README.zh-CN.md are one manual in two languages: the same sections, in the same
// order, at the same levels (the table below pairs each English heading with its 中文 one), and in
// each pair of sections the same examples, tables and figures, so nothing lives in one only. Every
// in-page link (`](#…)`) of either manual points at a heading it has. Plain Node: reads the text.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');

const ROOT = path.join(__dirname, '..', '..');

// English heading → 中文 heading, in the manuals' order ('#' marks give the level).
const OUTLINE = [
  ['## Install', '## 安装'],
  ['### npm and 构建 npm', '### npm 与构建 npm'],
  ['### Copying the files', '### 直接复制文件'],
  ['### TypeScript', '### TypeScript'],
  ['## Quick start', '## 快速上手'],
  ['## Phone-number login', '## 手机号登录'],
  ['## Uploads and downloads', '## 上传与下载'],
  ['## Callbacks and abort', '## 回调与中止'],
  ['## token() and setToken()', '## token() 与 setToken()'],
  ['## Passing the session to a web-view', '## 把登录态带进 web-view'],
  ['## Refresh tokens (无感刷新)', '## 无感刷新（refresh token）'],
  ['## Hooks', '## 钩子'],
  ['### beforeRequest', '### beforeRequest：发送前的钩子'],
  ['### Business-code errors', '### 业务错误码'],
  ['### When the user must act', '### 需要用户操作时'],
  ['## Monitoring with onReport', '## onReport 监控'],
  ['## Independent subpackages', '## 独立分包'],
  ['## Testing on a phone', '## 真机调试'],
  ['## Taro', '## 在 Taro 中使用'],
  ['## uni-app', '## 在 uni-app 中使用'],
  ['## Other toolchains (mpx, webpack, Remax)', '## 其他构建工具（mpx、webpack、Remax）'],
  ['## Other platforms', '## 其他平台（抖音、支付宝、QQ、百度、快手）'],
  ['## API', '## API 一览'],
  ['## Config', '## 配置项'],
  ['### Rules', '### 规则'],
  ['## Errors', '## 错误码'],
  ['## Servers people already run', '## 对接已有的后端'],
  ['## What happens under load and failure', '## 并发与失败时的行为'],
  ['### Known limits', '### 已知限制'],
  ['## Troubleshooting', '## 故障排查'],
  ['### Request domains', '### 合法域名'],
  ['### WASM_LOAD', '### WASM_LOAD：wasm 加载失败'],
  ['### iOS and MVP wasm', '### iOS 与 MVP wasm'],
  ['### Package size', '### 包体积'],
  ['### Other symptoms', '### 其他问题'],
  ['## The demo', '## 示例小程序（demo）'],
  ['## Reliability', '## 可靠性'],
  ['## How it works', '## 工作原理'],
  ['## What the tests run', '## 测试'],
  ['## How it is built', '## 构建'],
  ['## Size', '## 体积'],
  ['## Performance', '## 性能'],
  ['### Why missed, what would reach it', '### 未达标的原因与办法'],
  ['## Layout', '## 目录结构'],
  ['## Dependencies', '## 依赖'],
];

// The headings of `markdown` (## and deeper; code blocks skipped), as written: '## Install'.
function headings(markdown) {
  const out = [];
  let fence = null;
  for (const line of markdown.split('\n')) {
    const f = /^\s*(```+|~~~+)/.exec(line);
    if (f) fence = fence === null ? f[1] : line.trim() === fence ? null : fence;
    else if (fence === null && /^#{2,6} /.test(line)) out.push(line.trim());
  }
  return out;
}

// What each section holds that both languages must share: its code blocks (language and
// `file:` marks), its tables (rows), its figures (keys). Keyed by the section's heading.
function sections(markdown) {
  const out = [];
  let current = null;
  let fence = null;
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const f = /^\s*(```+|~~~+)\s*([\w-]*)/.exec(line);
    if (f && fence === null) {
      fence = f[1];
      if (current) {
        const file = /<!--.*\bfile:\s*(\S+?)\s*(;|-->)/.exec(lines[i - 1] || '');
        current.blocks.push(`${f[2] || 'text'}${file ? ` ${file[1]}` : ''}`);
      }
      continue;
    }
    if (fence !== null) {
      if (line.trim() === fence) fence = null;
      continue;
    }
    if (/^#{2,6} /.test(line)) {
      current = { heading: line.trim(), blocks: [], tableRows: 0, figures: [] };
      out.push(current);
      continue;
    }
    if (!current) continue;
    if (/^\s*\|/.test(line) && !/^\s*\|\s*:?-{3,}/.test(line)) current.tableRows++;
    for (const m of line.matchAll(/<!-- figures?:([a-z0-9-]+) -->/g)) current.figures.push(m[1]);
  }
  return out;
}

// GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens.
function slug(heading) {
  return heading.replace(/^#+\s*/, '').replace(/`/g, '').toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-');
}

// The in-page links of `markdown` that point at no heading of it.
function brokenAnchors(markdown) {
  const known = new Set(headings(markdown).map(slug));
  const text = markdown.replace(/```[\s\S]*?```/g, '');
  return [...text.matchAll(/\]\(#([^)]+)\)/g)].map((m) => decodeURIComponent(m[1])).filter((a) => !known.has(a));
}

const read = (file) => fs.readFileSync(path.join(ROOT, file), 'utf8');

// The folders of the checkout, two levels deep (`git ls-files | cut -d/ -f1-2`, directories only).
function trackedFolders() {
  const { execFileSync } = require('child_process');
  const files = execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' }).split('\n').filter(Boolean);
  const folders = new Set();
  for (const file of files) {
    const parts = file.split('/');
    if (parts.length > 1) folders.add(parts[0]);
    if (parts.length > 2) folders.add(`${parts[0]}/${parts[1]}`);
  }
  return [...folders].sort();
}

// The Layout section's block of a manual.
function layoutBlock(markdown, heading) {
  const at = markdown.indexOf(`\n${heading}\n`);
  const block = /```\n([\s\S]*?)```/.exec(markdown.slice(at));
  return block ? block[1] : '';
}

test('README.md has the outline, heading by heading', () => {
  assert.deepEqual(headings(read('README.md')), OUTLINE.map(([en]) => en));
});

test('README.zh-CN.md has the same outline in 中文, heading by heading', () => {
  assert.deepEqual(headings(read('README.zh-CN.md')), OUTLINE.map(([, zh]) => zh));
});

test('the outline pairs headings of the same level', () => {
  for (const [en, zh] of OUTLINE) assert.equal(/^#+/.exec(en)[0], /^#+/.exec(zh)[0], `${en} / ${zh}`);
});

test('each pair of sections has the same examples, tables and figures', () => {
  const en = sections(read('README.md'));
  const zh = sections(read('README.zh-CN.md'));
  assert.equal(en.length, zh.length);
  const problems = [];
  en.forEach((section, i) => {
    const other = zh[i];
    const where = `${section.heading} / ${other.heading}`;
    if (section.blocks.join(', ') !== other.blocks.join(', ')) problems.push(`${where}: code blocks [${section.blocks.join(', ')}] vs [${other.blocks.join(', ')}]`);
    if (section.tableRows !== other.tableRows) problems.push(`${where}: ${section.tableRows} table rows vs ${other.tableRows}`);
    // (A sentence may name its figures in another order in the other language.)
    if ([...section.figures].sort().join(', ') !== [...other.figures].sort().join(', ')) problems.push(`${where}: figures [${section.figures.join(', ')}] vs [${other.figures.join(', ')}]`);
  });
  assert.deepEqual(problems, [], problems.join('\n'));
});

for (const file of ['README.md', 'README.zh-CN.md']) {
  test(`${file}: every in-page link points at one of its headings`, () => {
    assert.deepEqual(brokenAnchors(read(file)), []);
  });
}

for (const [file, heading] of [['README.md', '## Layout'], ['README.zh-CN.md', '## 目录结构']]) {
  test(`${file}: Layout names every folder of the checkout`, { skip: fs.existsSync(path.join(ROOT, '.git')) ? false : 'not a git checkout' }, () => {
    const layout = layoutBlock(read(file), heading);
    assert.ok(layout.length > 200, 'the Layout block is found');
    // `a/b` itself, or its parent's line naming `b/` (fuzz/ … fuzz_targets/, src/, corpus/).
    const named = (folder) => {
      if (layout.includes(`${folder}/`) || layout.includes(`${folder} `)) return true;
      const [parent, child] = folder.split('/');
      return Boolean(child) && layout.includes(`${parent}/`) && new RegExp(`(^|[\\s(,：:（、])${child.replace(/[.]/g, '\\.')}/`).test(layout);
    };
    const missing = trackedFolders().filter((f) => !named(f));
    assert.deepEqual(missing, []);
  });
}

test('self-check: a missing section, an extra example and a dead link are each found', () => {
  const en = '## A\n\n```js\nx\n```\n\n| a |\n|---|\n| 1 |\n\n## B\n\nsee [A](#a)\n';
  const zh = '## 甲\n\n```js\nx\n```\n\n```js\ny\n```\n\n| a |\n|---|\n| 1 |\n\nsee [B](#b)\n';
  assert.deepEqual(headings(zh), ['## 甲']);
  assert.deepEqual(sections(en)[0].blocks, ['js']);
  assert.deepEqual(sections(zh)[0].blocks, ['js', 'js']);
  assert.equal(sections(en)[0].tableRows, 2);
  assert.deepEqual(brokenAnchors(en), []);
  assert.deepEqual(brokenAnchors(zh), ['b']);
  assert.equal(slug('## 其他平台（抖音、支付宝、QQ、百度、快手）'), '其他平台抖音支付宝qq百度快手');
  assert.equal(slug('## token() and setToken()'), 'token-and-settoken');
  assert.equal(slug('### WASM_LOAD：wasm 加载失败'), 'wasm_loadwasm-加载失败');
});

module.exports = { OUTLINE, headings, sections, slug, brokenAnchors };
