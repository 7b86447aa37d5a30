#!/usr/bin/env node
// One cold-start sample for bench.js, in a fresh process: a fresh strict sandbox over the bench
// package, then, timed: the client's files loaded (read, compiled, run), the client made, its
// first login done (wx-session: createSession → first ensure() resolved, the wasm compiled and
// instantiated on the way). Prints { total, load } in ms.
//   node tests/bench/cold.js PACKAGE_DIR CLIENT MAIN WASM_PATH
'use strict';

const { createRuntime } = require('../sandbox/runtime');

const [packageDir, name, main, wasmPath] = process.argv.slice(2);
const now = () => Number(process.hrtime.bigint()) / 1e6;

const runtime = createRuntime({ packageRoot: packageDir, devServer: 'http://127.0.0.1:9', log: () => {} });
const clients = runtime.requireModule('bench/clients.js');
const fakes = runtime.requireModule('bench/wx.js');
clients.warmPlatform(fakes, clients.benchRespond);
const fake = fakes.createWx({ schedule: (fn) => setImmediate(fn), record: false, respond: clients.benchRespond });
runtime.context.wx = clients.addSocketListeners(fake.wx);

const t0 = now();
const lib = runtime.requireModule(main);
const t1 = now();
clients.makeClient(name, lib, { wasmPath, storageKey: 'token' }).start().then(() => {
  const t2 = now();
  console.log(JSON.stringify({ total: t2 - t0, load: t1 - t0 }));
  process.exit(0);
}, (error) => {
  console.error(error);
  process.exit(1);
});
