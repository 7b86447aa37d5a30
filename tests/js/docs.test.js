// The manuals against the code: README.md and README.zh-CN.md list exactly the config keys and
// error codes that the typings (js-glue/src/index.d.ts) and the Rust core (src/config.rs,
// src/error.rs) have, and link to each other. Plain Node: reads source text, needs no build.
//
// How a README lists them: in Markdown tables whose first column holds the key in backticks.
//   config keys  README.md: a table headed `| config key |` or `| key | type | default |`
//                README.zh-CN.md: a table headed `| 配置项 |`
//   error codes  README.md: a table headed `| code |`;  README.zh-CN.md: `| 错误码 |`
// Nested keys are written with their parent: `login.tokenPath`, `check.policy`.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');

const ROOT = path.join(__dirname, '..', '..');
const read = (file) => fs.readFileSync(path.join(ROOT, file), 'utf8');

// Keys only the glue reads; the core never sees them.
const JS_ONLY_KEYS = ['wx', 'platform', 'wasmPath', 'login.extra', 'onReport', 'beforeRequest', 'onAuthRequired'];
// Codes only the glue makes: the wasm could not be loaded, or its instance trapped.
const JS_ONLY_CODES = ['WASM_LOAD', 'INTERNAL'];

const MANUALS = {
  'README.md': {
    configTable: (header) => header[0] === 'config key' || (header[0] === 'key' && header[1] === 'type' && header[2] === 'default'),
    errorTable: (header) => header[0] === 'code',
    linksTo: 'README.zh-CN.md',
  },
  'README.zh-CN.md': {
    configTable: (header) => header[0] === '配置项',
    errorTable: (header) => header[0] === '错误码',
    linksTo: 'README.md',
  },
};

// ---------------------------------------------------------------------------------------------
// Extraction

// Every Markdown table: { header: [cell], rows: [[cell]], line }. Cells are split on `|` not
// escaped as `\|` (GFM lets `\|` stand inside a cell, code spans included).
function markdownTables(markdown) {
  const lines = markdown.split(/\r?\n/);
  const cells = (line) => line.trim().replace(/^\|/, '').replace(/(?<!\\)\|$/, '').split(/(?<!\\)\|/).map((c) => c.trim());
  const isRow = (line) => /^\s*\|/.test(line);
  const isDelimiter = (line) => /^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$/.test(line);
  const tables = [];
  let inFence = false;
  for (let i = 0; i < lines.length; i++) {
    if (/^\s*(```|~~~)/.test(lines[i])) inFence = !inFence;
    if (inFence || !isRow(lines[i]) || i + 1 >= lines.length || !isDelimiter(lines[i + 1])) continue;
    const table = { header: cells(lines[i]), rows: [], line: i + 1 };
    let j = i + 2;
    for (; j < lines.length && isRow(lines[j]); j++) table.rows.push(cells(lines[j]));
    tables.push(table);
    i = j - 1;
  }
  return tables;
}

// The keys in the first column of the tables `isWanted(header)` picks: { keys, tables, bad },
// `bad` listing rows whose first cell is not a key in backticks.
function tableKeys(markdown, isWanted) {
  const keys = [];
  const bad = [];
  const tables = markdownTables(markdown).filter((t) => isWanted(t.header));
  for (const table of tables) {
    for (const row of table.rows) {
      const key = /^`([^`]+)`$/.exec(row[0]);
      if (key) keys.push(key[1]);
      else bad.push(`table at line ${table.line}: row "${row[0]}"`);
    }
  }
  return { keys, tables: tables.length, bad };
}

// `source` without comments (// and /* */), strings left alone where it matters here.
function stripComments(source) {
  return source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1');
}

// The text between the `{` at `open` and its matching `}`.
function braceBody(text, open) {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '{') depth++;
    else if (text[i] === '}' && --depth === 0) return text.slice(open + 1, i);
  }
  throw new Error('unbalanced braces');
}

// The member names of `export interface name { … }` in TypeScript typings.
function interfaceKeys(dts, name) {
  const source = stripComments(dts);
  const at = new RegExp(`export interface ${name}\\b[^{]*\\{`).exec(source);
  if (!at) throw new Error(`no interface ${name} in the typings`);
  const body = braceBody(source, at.index + at[0].length - 1);
  // Only what is at the top level of the body: nested object types are not members.
  let top = '';
  let depth = 0;
  for (const ch of body) {
    if ('{(['.includes(ch)) depth++;
    else if ('})]'.includes(ch)) depth--;
    else if (depth === 0) top += ch;
  }
  return [...top.matchAll(/(?:^|[;\n])\s*(?:readonly\s+)?([A-Za-z_$][\w$]*)\??\s*:/g)].map((m) => m[1]);
}

// The nested config objects: their interface in the typings, their struct in src/config.rs.
const NESTED = { login: ['LoginConfig', 'LoginConfig'], check: ['CheckConfig', 'CheckConfig'], refresh: ['RefreshConfig', 'RefreshConfig'], api: ['ApiConfig', 'ApiConfig'] };

// The config keys in the typings: SessionConfig's, and each nested object's as `login.x`,
// `check.x`, `refresh.x`, `api.x`.
function typingsConfigKeys(dts) {
  return [
    ...interfaceKeys(dts, 'SessionConfig'),
    ...Object.entries(NESTED).flatMap(([parent, [name]]) => interfaceKeys(dts, name).map((k) => `${parent}.${k}`)),
  ];
}

function typingsErrorCodes(dts) {
  const union = /export type ErrorCode =([^;]+);/.exec(stripComments(dts));
  if (!union) throw new Error('no ErrorCode union in the typings');
  return [...union[1].matchAll(/'([A-Z_]+)'/g)].map((m) => m[1]);
}

// The config keys the core reads: each struct's `KEYS` (what the reader accepts) and the keys
// its `match` reads (what it does with them); a difference between the two is a bug itself.
function rustConfigKeys(rust) {
  const structs = { Config: '', ...Object.fromEntries(Object.entries(NESTED).map(([parent, [, struct]]) => [struct, `${parent}.`])) };
  const keys = [];
  const problems = [];
  for (const [struct, prefix] of Object.entries(structs)) {
    const listed = new RegExp(`impl ${struct} \\{[^}]*?const KEYS[^=]*=\\s*&\\[([^\\]]*)\\]`).exec(rust);
    if (!listed) throw new Error(`no ${struct}::KEYS in src/config.rs`);
    const declared = [...listed[1].matchAll(/"([^"]+)"/g)].map((m) => m[1]);
    const readAt = new RegExp(`impl ReadPlain for ${struct} \\{`).exec(rust);
    if (!readAt) throw new Error(`no ReadPlain for ${struct} in src/config.rs`);
    const body = braceBody(rust, readAt.index + readAt[0].length - 1);
    const read = [...body.matchAll(/^\s*"([^"]+)" =>/gm)].map((m) => m[1]);
    problems.push(...difference(`src/config.rs ${struct}: KEYS vs the keys read`, read, declared));
    keys.push(...declared.map((k) => prefix + k));
  }
  return { keys, problems };
}

// The codes `Error::code()` returns.
function rustErrorCodes(rust) {
  const at = /pub fn code\(&self\)[^{]*\{/.exec(rust);
  if (!at) throw new Error('no Error::code() in src/error.rs');
  return [...new Set([...braceBody(rust, at.index + at[0].length - 1).matchAll(/=> "([A-Z_]+)"/g)].map((m) => m[1]))];
}

// ---------------------------------------------------------------------------------------------
// Comparison

// What `actual` lacks and what it has too many of, against `expected`, as sentences naming
// `where`; empty when they are the same set (duplicates in `actual` are reported too).
function difference(where, actual, expected) {
  const have = new Set(actual);
  const want = new Set(expected);
  const problems = [];
  const missing = [...want].filter((k) => !have.has(k)).sort();
  const extra = [...have].filter((k) => !want.has(k)).sort();
  const twice = [...have].filter((k) => actual.indexOf(k) !== actual.lastIndexOf(k)).sort();
  if (missing.length) problems.push(`${where} lacks: ${missing.join(', ')}`);
  if (extra.length) problems.push(`${where} has unknown: ${extra.join(', ')}`);
  if (twice.length) problems.push(`${where} lists more than once: ${twice.join(', ')}`);
  return problems;
}

// Every problem of one manual: its config keys and error codes against the expected lists.
function manualProblems(name, markdown, spec, expected) {
  const problems = [];
  const config = tableKeys(markdown, spec.configTable);
  const codes = tableKeys(markdown, spec.errorTable);
  if (!config.tables) problems.push(`${name} has no config key table`);
  if (!codes.tables) problems.push(`${name} has no error code table`);
  for (const row of [...config.bad, ...codes.bad]) problems.push(`${name}: ${row} has no key in backticks`);
  // Two tables (an overview and a reference) may both list a key: compare the union.
  problems.push(...difference(`${name}'s config tables`, [...new Set(config.keys)], expected.configKeys));
  problems.push(...difference(`${name}'s error codes`, codes.keys, expected.errorCodes));
  return problems;
}

function sources() {
  const dts = read('js-glue/src/index.d.ts');
  const config = read('src/config.rs');
  const error = read('src/error.rs');
  const rust = rustConfigKeys(config);
  return {
    typings: { configKeys: typingsConfigKeys(dts), errorCodes: typingsErrorCodes(dts) },
    rust: { configKeys: rust.keys, errorCodes: rustErrorCodes(error), problems: rust.problems },
  };
}

// What a manual must list: every key and code any source has (the sources are compared with
// each other separately, so a key missing from the typings fails that test, not the manuals').
function expectedLists({ typings, rust }) {
  return {
    configKeys: [...new Set([...typings.configKeys, ...rust.configKeys, ...JS_ONLY_KEYS])],
    errorCodes: [...new Set([...typings.errorCodes, ...rust.errorCodes, ...JS_ONLY_CODES])],
  };
}

// ---------------------------------------------------------------------------------------------
// Tests

test('the extractors read the sources they are meant for', () => {
  const { typings, rust } = sources();
  for (const key of ['baseUrl', 'trustedOrigins', 'wx', 'wasmPath', 'login.tokenPath', 'login.extra', 'check.policy']) {
    assert.ok(typings.configKeys.includes(key), `typings: ${key} in ${typings.configKeys.join(', ')}`);
  }
  for (const key of ['baseUrl', 'trustedOrigins', 'login.okWhen', 'check.url']) {
    assert.ok(rust.configKeys.includes(key), `Rust: ${key} in ${rust.configKeys.join(', ')}`);
  }
  assert.ok(!typings.configKeys.includes('status'), 'members of nested types are not config keys');
  assert.ok(typings.errorCodes.includes('CONFIG') && typings.errorCodes.includes('LOGGED_OUT'));
  assert.ok(rust.errorCodes.includes('CONFIG') && rust.errorCodes.includes('TIMEOUT'));
});

test('self-check: a missing, an unknown and a doubled key are each reported', () => {
  const expected = { configKeys: ['baseUrl', 'retries', 'login.url'], errorCodes: ['CONFIG', 'NETWORK'] };
  const markdown = [
    '| 配置项 | 类型 | 默认值 |',
    '| --- | --- | --- |',
    '| `baseUrl` | `string` | 必填 |',
    '| `retrys` | `number` | `2` |',          // a made-up key instead of `retries`
    '| `login.url` | `string` | `\'/login\'` |',
    '',
    '```',
    '| `inAFence` | not a table |',
    '```',
    '',
    '| 错误码 | 含义 |',
    '|---|---|',
    '| `CONFIG` | a \\| b |',
    '| `CONFIG` | again |',
    '| NETWORK | no backticks |',
  ].join('\n');
  const problems = manualProblems('made-up.md', markdown, MANUALS['README.zh-CN.md'], expected);
  assert.deepEqual(problems, [
    'made-up.md: table at line 11: row "NETWORK" has no key in backticks',
    "made-up.md's config tables lacks: retries",
    "made-up.md's config tables has unknown: retrys",
    "made-up.md's error codes lacks: NETWORK",
    "made-up.md's error codes lists more than once: CONFIG",
  ]);
  // The same manual, complete, passes: the check is not just always failing.
  const fixed = markdown.replace('`retrys`', '`retries`').replace('| `CONFIG` | again |', '| `NETWORK` | again |').replace('\n| NETWORK | no backticks |', '');
  assert.deepEqual(manualProblems('made-up.md', fixed, MANUALS['README.zh-CN.md'], expected), []);
  // And the typings extractor sees a key that is removed from an interface.
  const dts = read('js-glue/src/index.d.ts').replace(/^\s*retries\?:.*$/m, '');
  assert.ok(!typingsConfigKeys(dts).includes('retries'));
  assert.deepEqual(difference('typings', typingsConfigKeys(dts), typingsConfigKeys(read('js-glue/src/index.d.ts'))), ['typings lacks: retries']);
});

test('typings and Rust agree on config keys (JS-only keys are typings-only)', () => {
  const { typings, rust } = sources();
  const problems = [
    ...rust.problems,
    ...difference('js-glue/src/index.d.ts (SessionConfig, LoginConfig, CheckConfig)', typings.configKeys, [...rust.configKeys, ...JS_ONLY_KEYS]),
  ];
  assert.deepEqual(problems, [], problems.join('\n'));
});

test('typings and Rust agree on error codes (WASM_LOAD and INTERNAL come from the glue)', () => {
  const { typings, rust } = sources();
  const problems = difference('js-glue/src/index.d.ts ErrorCode', typings.errorCodes, [...rust.errorCodes, ...JS_ONLY_CODES]);
  assert.deepEqual(problems, [], problems.join('\n'));
});

for (const [name, spec] of Object.entries(MANUALS)) {
  test(`${name} lists every config key and error code, and no others`, () => {
    const problems = manualProblems(name, read(name), spec, expectedLists(sources()));
    assert.deepEqual(problems, [], problems.join('\n'));
  });

  test(`${name} links to ${spec.linksTo} at the top`, () => {
    const top = read(name).split(/\r?\n/).slice(0, 3).join('\n');
    const link = new RegExp(`\\]\\((\\./)?${spec.linksTo.replace(/\./g, '\\.')}\\)`);
    assert.match(top, link, `the first lines of ${name} should link to ${spec.linksTo}`);
  });
}

module.exports = { markdownTables, tableKeys, interfaceKeys, typingsConfigKeys, typingsErrorCodes, rustConfigKeys, rustErrorCodes, difference, manualProblems };
