#!/usr/bin/env node
// Runs demo-miniprogram headless in the strict sandbox against a running dev server and prints
// the timeline. Storage persists in a file, so a second run is a relaunch.
//
//   node tests/sandbox/run-demo.js --server http://127.0.0.1:3000 [--storage .run/storage.json]
//                                   [--fresh] [--title "launch 1"]
// Exits 1 unless the page ends logged in with a successful protected call.
'use strict';

const fs = require('fs');
const path = require('path');
const { createRuntime } = require('./runtime');

function arg(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1] : fallback;
}

async function main() {
  const server = arg('server', 'http://127.0.0.1:3000');
  const storageFile = path.resolve(arg('storage', '.run/storage.json'));
  const title = arg('title', 'launch');
  if (process.argv.includes('--fresh')) fs.rmSync(storageFile, { force: true });

  console.log(`\n── ${title} ─────────────────────────────────────────────`);
  const runtime = createRuntime({
    packageRoot: path.join(__dirname, '..', '..', 'demo-miniprogram', 'miniprogram'),
    devServer: server,
    extConfig: { baseUrl: server },
    storageFile,
    log: (line) => console.log(line),
  });
  const page = runtime.launch();
  await runtime.idle();
  const { data } = page;
  console.log(
    `result: ${data.stateText} (${data.state}), token ${data.token || '—'} from ${data.source || '—'}; ` +
      `/api/profile: ${data.profile || data.apiError || '—'}; ` +
      `wx.login ×${runtime.counts.login}, wx.request ×${runtime.counts.request}`,
  );
  const ok = data.state === 'ready' && data.profile && !data.apiError;
  process.exitCode = ok ? 0 : 1;
}

main().catch((error) => {
  console.error(`run-demo: ${error.stack || error}`);
  process.exit(1);
});
