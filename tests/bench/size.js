#!/usr/bin/env node
// scripts/size.sh's report: twiggy's per-function sizes (CSV) summed by crate and module, and
// the largest functions. Sizes are before binaryen's -Oz (the shipped file is ~15% smaller).
//   node tests/bench/size.js target/sdk/twiggy.csv [top N]
'use strict';

const fs = require('fs');

const [file, topArg] = process.argv.slice(2);
const top = Number(topArg || 25);
// One CSV line: fields may be quoted, with "" for a quote inside.
function fields(line) {
  const out = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted && ch === '"' && line[i + 1] === '"') {
      field += '"';
      i++;
    } else if (ch === '"') {
      quoted = !quoted;
    } else if (ch === ',' && !quoted) {
      out.push(field);
      field = '';
    } else {
      field += ch;
    }
  }
  out.push(field);
  return out;
}

// Columns: Name, ShallowSize, ShallowSizePercent.
const rows = fs.readFileSync(file, 'utf8').trim().split('\n').slice(1).map((line) => {
  const [name, size] = fields(line);
  return { name, size: Number(size) };
});

// "wx_session::session::flow::…" → "wx_session::session"; core/alloc → the crate; the exported
// functions (plain names like `create`) → the wasm layer.
function owner(name) {
  if (/^custom section|"function names"|^data segment ".debug/.test(name)) return null;
  if (/^data segment/.test(name)) return 'data (strings, tables)';
  if (/^export "|section headers|^(type|global|table|memory|elem)\[|magic bytes/.test(name)) return 'wasm structure (exports, types, headers)';
  if (/^<(str|char|\[T\])>::/.test(name)) return 'core';
  if (/^(memcmp|memcpy|memmove|memset|__\w+)$/.test(name)) return 'compiler_builtins';
  if (/^[a-z_]+$/.test(name)) return 'wx_session::wasm (the exported functions)';
  const inner = name.replace(/^<+/, '').replace(/\[[0-9a-f]+\]/g, '');
  const match = inner.match(/^&?(?:mut )?([a-z_][a-z0-9_]*)(?:::([a-z_][a-z0-9_]*))?/);
  if (!match) return 'other';
  const [, crate, module] = match;
  if (crate === 'wx_session') return `wx_session::${module || ''}`;
  return crate;
}

const byOwner = new Map();
let total = 0;
for (const row of rows) {
  const who = owner(row.name);
  if (!who) continue;
  total += row.size;
  byOwner.set(who, (byOwner.get(who) || 0) + row.size);
}
console.log(`wasm code and data before -Oz: ${total.toLocaleString('en-US')} B (debug info and names excluded)`);
console.log('\nby crate / module:');
for (const [who, size] of [...byOwner].sort((a, b) => b[1] - a[1])) {
  console.log(`  ${String(size).padStart(7)} B  ${(100 * size / total).toFixed(1).padStart(5)}%  ${who}`);
}
console.log(`\nlargest ${top} items:`);
rows.filter((r) => owner(r.name)).sort((a, b) => b.size - a.size).slice(0, top)
  .forEach((r) => console.log(`  ${String(r.size).padStart(7)} B  ${r.name.slice(0, 110)}`));
