#!/usr/bin/env node
// Runs demo-miniprogram headless in the strict sandbox against a running dev server and prints
// the timeline. Storage persists in a file, so a second run is a relaunch.
//
//   node tests/sandbox/run-demo.js --server http://127.0.0.1:3000 [--storage .run/storage.json]
//                                   [--fresh] [--title "launch 1"] [--wait-then-call SECONDS]
// --wait-then-call: once the launch is done, wait that long (past the access token's lifetime,
// against the dev server's refresh profile) and tap 调用受保护接口 again: 无感刷新 shows in the
// timeline as one POST /refresh and no wx.login.
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
  let ok = data.state === 'ready' && data.profile && !data.apiError;
  const wait = arg('wait-then-call');
  if (wait !== undefined) {
    const seconds = Number(wait);
    console.log(`── ${seconds} s later (the access token has expired): the page calls /api/profile again ──`);
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    const before = { login: runtime.counts.login, lines: runtime.lines.length };
    runtime.tap(page, 'callProtected');
    await runtime.idle();
    const lines = runtime.lines.slice(before.lines);
    const refreshes = lines.filter((l) => l.includes('→ POST /refresh')).length;
    const logins = runtime.counts.login - before.login;
    console.log(`result: /api/profile: ${page.data.profile || page.data.apiError || '—'}; /refresh ×${refreshes}, wx.login ×${logins} since the tap`);
    ok = ok && page.data.profile && !page.data.apiError && logins === 0;
  }
  process.exitCode = ok ? 0 : 1;
}

// Exits once the run is told: the SDK's watchdog timers (up to timeoutMs) would otherwise keep
// the process, and the next launch, waiting for nothing.
main().then(() => process.exit(), (error) => {
  console.error(`run-demo: ${error.stack || error}`);
  process.exit(1);
});
