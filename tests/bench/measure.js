// The measuring loop of scripts/bench.sh, plain ES5 so the same code runs in the strict sandbox's
// realm (Node) and in the jsc shell (with and without JIT).
//
// perRequest(clients, options) → Promise of { name: { wall: [µs], cpu: [µs], ratioWall: [],
// ratioCpu: [] } }: per round, one batch of `batch` sequential requests per client, the order
// rotated every round (each client takes every position in turn); each figure is per request,
// each ratio is against clients[0] (the hand-written wrapper) in the same round. `now()` in µs;
// `cpu()` in µs of process CPU time, where the engine has it (Node), else null.
'use strict';

// Runs fn() (a Promise) n times, one after the other.
function repeat(n, fn) {
  return new Promise(function (resolve, reject) {
    var i = 0;
    function next() {
      if (i++ >= n) return resolve();
      fn().then(next, reject);
    }
    next();
  });
}

function perRequest(clients, options) {
  var rounds = options.rounds;
  var batch = options.batch;
  var now = options.now;
  var cpu = options.cpu || null;
  var out = {};
  clients.forEach(function (c) { out[c.name] = { wall: [], cpu: [], ratioWall: [], ratioCpu: [] }; });
  var warm = Promise.resolve();
  clients.forEach(function (c) {
    warm = warm.then(function () { return repeat(options.warmup, c.request); });
  });
  function round(r) {
    if (r >= rounds) return Promise.resolve(out);
    var order = clients.slice(r % clients.length).concat(clients.slice(0, r % clients.length));
    var times = {};
    var chain = Promise.resolve();
    order.forEach(function (c) {
      chain = chain.then(function () {
        var c0 = cpu ? cpu() : 0;
        var t0 = now();
        return repeat(batch, c.request).then(function () {
          var t1 = now();
          times[c.name] = { wall: (t1 - t0) / batch, cpu: cpu ? (cpu() - c0) / batch : 0 };
        });
      });
    });
    return chain.then(function () {
      var hand = times[clients[0].name];
      clients.forEach(function (c) {
        var t = times[c.name];
        var o = out[c.name];
        o.wall.push(t.wall);
        o.ratioWall.push(t.wall / hand.wall);
        if (cpu) {
          o.cpu.push(t.cpu);
          o.ratioCpu.push(t.cpu / hand.cpu);
        }
      });
      return round(r + 1);
    });
  }
  return warm.then(function () { return round(0); });
}

function median(xs) {
  var s = xs.slice().sort(function (a, b) { return a - b; });
  if (!s.length) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

// The medians of perRequest's result: { name: { wall, cpu, ratioWall, ratioCpu } }.
function summarize(result) {
  var out = {};
  for (var name in result) {
    var r = result[name];
    out[name] = { wall: median(r.wall), cpu: r.cpu.length ? median(r.cpu) : null, ratioWall: median(r.ratioWall), ratioCpu: r.ratioCpu.length ? median(r.ratioCpu) : null };
  }
  return out;
}

module.exports = { repeat: repeat, perRequest: perRequest, median: median, summarize: summarize };
