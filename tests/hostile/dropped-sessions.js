// Run as `node --expose-gc tests/hostile/dropped-sessions.js [--listeners] [--js] [N]` (by
// hostile.test.js and failure-paths.test.js): creates, uses and drops N sessions (5,000 by
// default), freeing them with session.dispose() when the SDK has it, else by garbage collection
// (the SDK's FinalizationRegistry). With --listeners, each session has an onChange listener that
// writes to a page object which holds the session, as a page that keeps its session does. With
// --js, on the JavaScript build (else the wasm build).
// Prints one JSON line: { mode, before, after, alive } with the core's memory in pages, or
// { mode: null } when neither exists.
'use strict';

const { BUILDS, sdk, sleep } = require('./harness');

const listeners = process.argv.includes('--listeners');
const build = BUILDS.find((b) => b.js === process.argv.includes('--js'));
const count = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) || 5000);

(async () => {
  // Nothing recorded: the fake must hold no reference to a dropped session.
  const t = sdk({ schedule: 'macrotask', record: false, build });
  const probe = t.create();
  const mode = typeof probe.dispose === 'function' ? 'dispose'
    : t.runtime.run('typeof FinalizationRegistry') === 'function' ? 'finalization' : null;
  if (!mode) {
    console.log(JSON.stringify({ mode }));
    process.exit(0);
  }
  if (mode === 'dispose') probe.dispose();
  // What a long-running app's GC does from time to time: collect, let finalizers run.
  const collect = async () => {
    for (let i = 0; i < 3; i++) {
      global.gc();
      await sleep(1);
    }
  };
  const round = async (n) => {
    for (let i = 0; i < n; i++) {
      let s = t.create();
      if (listeners) {
        const page = { data: {}, session: s };
        s.onChange((state) => { page.data.state = state; });
      }
      await s.ensure();
      if (mode === 'dispose') s.dispose();
      s = null;
      if (i % 100 === 99) await collect();
    }
    await collect();
  };
  await round(200);
  const before = t.pages();
  await round(count);
  const after = t.pages();
  const alive = await t.create().request({ url: '/api/ok' }).then((a) => a.statusCode, (e) => e.code);
  console.log(JSON.stringify({ mode, before, after, alive }));
  process.exit(0);
})();
