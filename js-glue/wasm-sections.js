// Reads a .wasm binary's sections and lists what iOS WeChat's MVP-only engine would reject
// beyond what instruction validation catches: tables, reference types, exported Globals.
// Also drops exported Globals (wasm-bindgen 0.2.130 exports two that its JS never reads).
// Used by build.js (the build fails on a problem) and by the wasm audit test.
'use strict';

const VALUE_TYPES = { 0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64', 0x7b: 'v128', 0x70: 'funcref', 0x6f: 'externref' };
const MVP_VALUE_TYPES = new Set([0x7f, 0x7e, 0x7d, 0x7c]);
const SECTION_NAMES = { 1: 'type', 2: 'import', 3: 'function', 4: 'table', 5: 'memory', 6: 'global', 7: 'export', 12: 'datacount' };

class Reader {
  constructor(bytes, start = 0, end = bytes.length) {
    this.bytes = bytes;
    this.at = start;
    this.end = end;
  }
  byte() {
    if (this.at >= this.end) throw new Error('unexpected end of section');
    return this.bytes[this.at++];
  }
  u32() {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if (!(b & 0x80)) return result;
      shift += 7;
      if (shift > 35) throw new Error('LEB128 too long');
    }
  }
  name() {
    const length = this.u32();
    const text = Buffer.from(this.bytes.subarray(this.at, this.at + length)).toString('utf8');
    this.at += length;
    return text;
  }
  limits(problems, what) {
    const flags = this.byte();
    if (flags > 1) problems.push(`${what} uses limits flag 0x${flags.toString(16)} (shared or 64-bit)`);
    this.u32();
    if (flags & 1) this.u32();
  }
}

/**
 * Lists problems; an empty list means the module's shape is MVP-clean.
 * @param {Uint8Array} bytes the .wasm file
 * @returns {{problems: string[], tables: number, exports: {name: string, kind: string}[], customSections: string[]}}
 */
function inspectWasm(bytes) {
  const problems = [];
  const exports = [];
  const customSections = [];
  let tables = 0;
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
    return { problems: ['not a wasm binary'], tables, exports, customSections };
  }
  const top = new Reader(bytes, 8);
  const table = (r, where) => {
    const type = r.byte();
    tables += 1;
    if (type !== 0x70) problems.push(`${where} table of ${VALUE_TYPES[type] || '0x' + type.toString(16)}, not funcref`);
    r.limits(problems, `${where} table`);
  };
  while (top.at < bytes.length) {
    const id = top.byte();
    const size = top.u32();
    const r = new Reader(bytes, top.at, top.at + size);
    top.at += size;
    if (id === 0) {
      customSections.push(r.name());
    } else if (id === 1) {
      for (let n = r.u32(); n > 0; n--) {
        const form = r.byte();
        if (form !== 0x60) { problems.push(`type form 0x${form.toString(16)}`); break; }
        for (let group = 0; group < 2; group++) {
          for (let k = r.u32(); k > 0; k--) {
            const t = r.byte();
            if (!MVP_VALUE_TYPES.has(t)) problems.push(`a function signature uses ${VALUE_TYPES[t] || '0x' + t.toString(16)}`);
          }
        }
        if (form === 0x60 && r.at > r.end) break;
      }
    } else if (id === 2) {
      for (let n = r.u32(); n > 0; n--) {
        const module = r.name();
        const field = r.name();
        const kind = r.byte();
        if (kind === 0) r.u32();
        else if (kind === 1) table(r, `imported ${module}.${field}`);
        else if (kind === 2) r.limits(problems, 'imported memory');
        else if (kind === 3) {
          const type = r.byte();
          const mutable = r.byte();
          if (mutable) problems.push(`imports mutable Global ${module}.${field}`);
          if (!MVP_VALUE_TYPES.has(type)) problems.push(`imports a Global of ${VALUE_TYPES[type] || type}`);
        } else problems.push(`import kind ${kind}`);
      }
    } else if (id === 4) {
      for (let n = r.u32(); n > 0; n--) table(r, 'defined');
    } else if (id === 7) {
      for (let n = r.u32(); n > 0; n--) {
        const name = r.name();
        const kind = r.byte();
        r.u32();
        const kindName = ['function', 'table', 'memory', 'global'][kind] || `kind ${kind}`;
        exports.push({ name, kind: kindName });
        if (kind === 3) problems.push(`exports Global \`${name}\` (iOS cannot)`);
      }
    } else if (id === 12) {
      problems.push('has a DataCount section (bulk memory)');
    } else if (!SECTION_NAMES[id] && !(id >= 8 && id <= 11)) {
      problems.push(`unknown section id ${id}`);
    }
  }
  if (tables > 1) problems.push(`${tables} tables (MVP allows one)`);
  if (customSections.includes('target_features')) problems.push('still carries a target_features section');
  return { problems, tables, exports, customSections };
}

function auditWasm(bytes) {
  return inspectWasm(bytes).problems;
}

function leb(n) {
  const out = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

/**
 * Returns a copy of the module without its Global exports, and their names. The globals stay
 * (an optimizer removes them when unused); only the export entries go.
 * @param {Uint8Array} bytes
 * @returns {{bytes: Buffer, removed: string[]}}
 */
function dropGlobalExports(bytes) {
  const top = new Reader(bytes, 8);
  const chunks = [Buffer.from(bytes.subarray(0, 8))];
  const removed = [];
  while (top.at < bytes.length) {
    const start = top.at;
    const id = top.byte();
    const size = top.u32();
    const bodyStart = top.at;
    top.at += size;
    if (id !== 7) {
      chunks.push(Buffer.from(bytes.subarray(start, top.at)));
      continue;
    }
    const r = new Reader(bytes, bodyStart, top.at);
    const kept = [];
    for (let n = r.u32(); n > 0; n--) {
      const entryStart = r.at;
      const name = r.name();
      const kind = r.byte();
      r.u32();
      if (kind === 3) removed.push(name);
      else kept.push(Buffer.from(bytes.subarray(entryStart, r.at)));
    }
    const body = Buffer.concat([Buffer.from(leb(kept.length)), ...kept]);
    chunks.push(Buffer.from([7, ...leb(body.length)]), body);
  }
  return { bytes: Buffer.concat(chunks), removed };
}

module.exports = { auditWasm, inspectWasm, dropGlobalExports };

if (require.main === module) {
  const file = process.argv[2];
  const report = inspectWasm(require('fs').readFileSync(file));
  console.log(JSON.stringify(report, null, 2));
  process.exit(report.problems.length ? 1 : 0);
}
