// The round-trip table of both manuals ("What happens under load and failure" / 并发与失败时的行为),
// measured here: wx.login + wx.request + wx.checkSession calls per launch scenario, for the built
// SDK at its minimum (a stored expiry trusted: check.policy 'when-unknown', no wx.checkSession)
// and for the flow tutorials write by hand (check the stored token at /auth, else log in; nothing
// waits for the login, nothing reacts to a 401), with and without the re-login on 401 that later
// tutorials add. All over the same fake platform (tests/fakes/wx.js). Each cell of the table is
// the round trips, and for the 20-request rows how many of the 20 were answered 200.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const { createWx } = require('../fakes/wx');
const { sdk } = require('../hostile/harness');

const ROOT = path.join(__dirname, '..', '..');
const TABLE_HEADERS = { 'README.md': 'round trips', 'README.zh-CN.md': '往返次数' };

// The hand-written flow: the token from storage checked at /auth, else wx.login + POST /login;
// requests carry whatever token is in memory. `relogin401`: a 401 logs in again and retries.
function handWritten(wx, relogin401) {
  const app = { token: '' };
  const request = (options) => new Promise((resolve) => {
    wx.request({ url: `https://api.test${options.url}`, method: 'GET', header: { token: app.token }, success: resolve, fail: () => resolve({ statusCode: 0 }) });
  });
  const login = () => new Promise((resolve) => {
    wx.login({
      success: (res) => wx.request({
        url: 'https://api.test/login', method: 'POST', data: { code: res.code },
        success: (answer) => {
          app.token = answer.data.token;
          wx.setStorageSync('token', app.token);
          resolve();
        },
        fail: () => resolve(),
      }),
      fail: () => resolve(),
    });
  });
  return {
    launch: () => {
      const token = wx.getStorageSync('token');
      if (!token) return login();
      return new Promise((resolve) => wx.request({
        url: 'https://api.test/auth', method: 'POST', header: { token },
        success: (res) => {
          if (!res.data.errCode) {
            app.token = token;
            resolve();
          } else login().then(resolve);
        },
        fail: () => resolve(),
      }));
    },
    request: relogin401 ? (o) => request(o).then((res) => (res.statusCode === 401 ? login().then(() => request(o)) : res)) : request,
  };
}

const CLIENTS = {
  'wx-session': () => {
    const s = sdk({ schedule: 'macrotask' });
    let session;
    return {
      fake: s.fake,
      launch: () => {
        session = session || s.create({ login: { url: '/login', tokenPath: 'token', expiresInPath: 'expiresIn' }, check: { url: '/auth', okWhen: { path: 'errCode', equals: 0 }, policy: 'when-unknown' } });
        return session.ensure().catch(() => {});
      },
      request: (o) => session.request(o).catch(() => ({ statusCode: 0 })),
    };
  },
  'hand-written': () => {
    const fake = createWx({ schedule: 'macrotask' });
    return { fake, ...handWritten(fake.wx, false) };
  },
  'hand-written + re-login on 401': () => {
    const fake = createWx({ schedule: 'macrotask' });
    return { fake, ...handWritten(fake.wx, true) };
  },
};

const trips = (fake) => fake.counts.login + fake.counts.request + fake.counts.checkSession;
const twenty = (client) => Promise.all(Array.from({ length: 20 }, () => client.request({ url: '/api/profile' })));
const oks = (answers) => answers.filter((a) => a && a.statusCode === 200).length;

// A token the backend accepts in storage: 'fresh' (the SDK's record says two more hours) or
// 'expired' (its expiry passed, and the backend no longer takes it). Hand-written code keeps a
// plain string.
function plant(client, name, stored) {
  const token = `stored-${stored}`;
  if (stored === 'fresh') client.fake.accept(token);
  const now = Date.now();
  const expiresAt = stored === 'fresh' ? now + 7200 * 1000 : now - 1000;
  client.fake.storage.token = name === 'wx-session' ? { v: 1, token, expiresAt, obtainedAt: expiresAt - 7200 * 1000 } : token;
}

// The table's rows, in its order: [[round trips, answered?] per client].
const SCENARIOS = [
  async (c) => [await c.launch()].length && null,
  async (c, name) => { plant(c, name, 'fresh'); await c.launch(); return null; },
  async (c, name) => { plant(c, name, 'expired'); await c.launch(); return null; },
  async (c) => { const launching = c.launch(); const answers = await twenty(c); await launching; return oks(answers); },
  async (c) => { await c.launch(); c.fake.revokeAll(); c.before = trips(c.fake); return oks(await twenty(c)); },
];

async function measure() {
  const rows = [];
  for (const scenario of SCENARIOS) {
    const row = [];
    for (const [name, make] of Object.entries(CLIENTS)) {
      const client = make();
      client.before = 0;
      const answered = await scenario(client, name);
      row.push(answered === null ? [trips(client.fake) - client.before] : [trips(client.fake) - client.before, answered, 20]);
    }
    rows.push(row);
  }
  return rows;
}

// The manual's table: the rows under the header whose first cell is `header`, each cell's numbers.
function manualTable(markdown, header) {
  const lines = markdown.split('\n');
  const at = lines.findIndex((l) => l.startsWith(`| ${header} |`));
  assert.ok(at >= 0, `a table headed "| ${header} |"`);
  const rows = [];
  for (let i = at + 2; i < lines.length && lines[i].startsWith('|'); i++) {
    const cells = lines[i].split('|').slice(2, -1);
    rows.push(cells.map((c) => (c.match(/\d+/g) || []).map(Number)));
  }
  return rows;
}

test('the round-trip table of both manuals is what the SDK and the hand-written flows do', async () => {
  const measured = await measure();
  // The SDK's promises, whatever the table says: one login for the 20, every one answered.
  assert.deepEqual(measured[3][0], [22, 20, 20]);
  assert.deepEqual(measured[4][0], [42, 20, 20]);
  assert.deepEqual(measured[1][0], [0], 'a token known fresh: no network at all');
  for (const [file, header] of Object.entries(TABLE_HEADERS)) {
    assert.deepEqual(manualTable(fs.readFileSync(path.join(ROOT, file), 'utf8'), header), measured, file);
  }
});
module.exports = { measure, manualTable, handWritten };
