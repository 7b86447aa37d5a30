// Run as `node --expose-gc tests/hostile/dropped-sessions.js` (by hostile.test.js):
// creates, uses and drops 5,000 sessions, freeing them with session.dispose() when the SDK has
// it, else by garbage collection (the SDK's FinalizationRegistry). Prints one JSON line:
// { mode, before, after } with wasm memory in pages, or { mode: null } when neither exists.
'use strict';

const { sdk, sleep } = require('./harness');

(async () => {
  // Nothing recorded: the fake must hold no reference to a dropped session.
  const t = sdk({ schedule: 'macrotask', record: false });
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
      await s.ensure();
      if (mode === 'dispose') s.dispose();
      s = null;
      if (i % 100 === 99) await collect();
    }
    await collect();
  };
  await round(200);
  const before = t.pages();
  await round(5000);
  const after = t.pages();
  const alive = await t.create().request({ url: '/api/ok' }).then((a) => a.statusCode, (e) => e.code);
  console.log(JSON.stringify({ mode, before, after, alive }));
  process.exit(0);
})();
