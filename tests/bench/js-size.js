#!/usr/bin/env node
// What the shipped index.js (js-glue/dist) is made of: the readable bundle (js-glue/build.js
// --readable) minified again with the build's own terser options and a source map, each byte of
// the minified output charged to the top-level function or variable of the readable bundle it
// came from, those summed by the js-glue/src module that defines them; then the bytes that are
// string literals (error messages and names) and property names, which minifying keeps.
//   node js-glue/build.js --readable --no-demo --to /tmp/x --to-js /tmp/y
//   node tests/bench/js-size.js /tmp/x/index.js [top N]
'use strict';

const fs = require('fs');
const path = require('path');
const zlib = require('zlib');

const GLUE = path.join(__dirname, '..', '..', 'js-glue');
const req = (name) => require(require.resolve(name, { paths: [path.join(GLUE, 'node_modules')] }));
const { minify } = req('terser');
const acorn = req('acorn');
const { TraceMap, originalPositionFor } = req('@jridgewell/trace-mapping');

const [file, topArg] = process.argv.slice(2);
const top = Number(topArg || 25);

// Which src module defines each top-level name (Rollup renames clashes to name$1).
function definitions() {
  const byName = new Map();
  const src = path.join(GLUE, 'src');
  for (const f of fs.readdirSync(src).filter((n) => n.endsWith('.js'))) {
    const ast = acorn.parse(fs.readFileSync(path.join(src, f), 'utf8'), { ecmaVersion: 2020, sourceType: 'module' });
    for (const node of ast.body) {
      const decl = node.type === 'ExportNamedDeclaration' ? node.declaration : node;
      if (!decl) continue;
      if (decl.type === 'FunctionDeclaration') byName.set(decl.id.name, f);
      if (decl.type === 'VariableDeclaration') decl.declarations.forEach((d) => d.id.name && byName.set(d.id.name, f));
    }
  }
  return byName;
}

async function main() {
  const code = fs.readFileSync(file, 'utf8').replace(/^\/\/.*\n/, '');
  const ast = acorn.parse(code, { ecmaVersion: 2020, sourceType: 'script', locations: true });
  const defined = definitions();
  // Top-level statements by line range, each with a name and a module.
  const statements = ast.body.map((node) => {
    let name = '(statement)';
    if (node.type === 'FunctionDeclaration') name = node.id.name;
    else if (node.type === 'VariableDeclaration') name = node.declarations.map((d) => d.id.name).join(', ');
    else if (node.type === 'ExpressionStatement' && node.expression.type === 'AssignmentExpression') name = code.slice(node.expression.left.start, node.expression.left.end);
    const first = name.split(', ')[0].replace(/\$\d+$/, '');
    const module = defined.get(first) || (/\.prototype\./.test(name) ? defined.get(name.split('.')[0]) : null) || '(bundle glue)';
    return { name, module, start: node.loc.start.line, end: node.loc.end.line, bytes: 0 };
  });
  const at = (line) => statements.find((s) => s.start <= line && line <= s.end);

  const result = await minify(code, {
    ecma: 5, toplevel: true, compress: { passes: 2 }, mangle: true, format: { ecma: 5 },
    sourceMap: { asObject: true },
  });
  const map = new TraceMap(result.map);
  const out = result.code;
  // Charge every output byte to the statement its mapping points into.
  const lines = out.split('\n');
  let unmapped = 0;
  lines.forEach((text, i) => {
    let last = null;
    for (let col = 0; col < text.length; col++) {
      const pos = originalPositionFor(map, { line: i + 1, column: col });
      const s = pos.line ? at(pos.line) : null;
      if (s) last = s;
      if (last) last.bytes++;
      else unmapped++;
    }
  });
  const total = out.length;
  console.log(`index.js minified again: ${total.toLocaleString('en-US')} B (brotli ${zlib.brotliCompressSync(out).length.toLocaleString('en-US')} B); unmapped ${unmapped} B`);

  const byModule = new Map();
  for (const s of statements) byModule.set(s.module, (byModule.get(s.module) || 0) + s.bytes);
  console.log('\nby js-glue/src module:');
  for (const [m, b] of [...byModule].sort((a, b2) => b2[1] - a[1])) {
    console.log(`  ${String(b).padStart(6)} B  ${(100 * b / total).toFixed(1).padStart(5)}%  ${m}`);
  }
  console.log(`\nlargest ${top} top-level functions and variables:`);
  statements.slice().sort((a, b) => b.bytes - a.bytes).slice(0, top)
    .forEach((s) => console.log(`  ${String(s.bytes).padStart(6)} B  ${s.module.padEnd(22)} ${s.name.slice(0, 80)}`));

  // String literals and property names in the minified output: what minifying cannot shorten.
  const tokens = [...acorn.tokenizer(out, { ecmaVersion: 5 })];
  let strings = 0;
  let stringCount = 0;
  const longest = [];
  let props = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.type.label === 'string') {
      strings += t.end - t.start;
      stringCount++;
      longest.push(out.slice(t.start, t.end));
    }
    if (t.type.label === 'name' && i > 0 && tokens[i - 1].type.label === '.') props += t.end - t.start;
  }
  console.log(`\nstring literals: ${strings.toLocaleString('en-US')} B in ${stringCount} (${(100 * strings / total).toFixed(1)}%); property names after '.': ${props.toLocaleString('en-US')} B (${(100 * props / total).toFixed(1)}%)`);
  console.log('longest strings:');
  longest.sort((a, b) => b.length - a.length).slice(0, 12).forEach((s) => console.log(`  ${String(s.length).padStart(5)} B  ${s.slice(0, 110)}`));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
