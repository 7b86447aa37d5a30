// A Promise like the polyfill older iOS base libraries (≤ 15) use: callbacks run as timer tasks
// (setTimeout 0), not microtasks. Plain ES5, Promises/A+ resolution.
'use strict';

function TimerPromise(executor) {
  if (!(this instanceof TimerPromise)) throw new TypeError('use new');
  TimerPromise.created += 1;
  var self = this;
  self._state = 'pending';
  self._value = undefined;
  self._handlers = [];
  var settled = false;
  function settle(state, value) {
    if (self._state !== 'pending') return;
    self._state = state;
    self._value = value;
    var handlers = self._handlers;
    self._handlers = [];
    for (var i = 0; i < handlers.length; i++) schedule(self, handlers[i]);
  }
  function resolve(value) {
    if (settled) return;
    settled = true;
    adopt(self, value, function (v) { settle('fulfilled', v); }, function (e) { settle('rejected', e); });
  }
  function reject(reason) {
    if (settled) return;
    settled = true;
    settle('rejected', reason);
  }
  try {
    executor(resolve, reject);
  } catch (e) {
    reject(e);
  }
}

// Resolves `promise` with `value`, unwrapping thenables (including native promises).
function adopt(promise, value, fulfil, reject) {
  if (value === promise) return reject(new TypeError('a promise cannot resolve to itself'));
  if (value && (typeof value === 'object' || typeof value === 'function')) {
    var then;
    try {
      then = value.then;
    } catch (e) {
      return reject(e);
    }
    if (typeof then === 'function') {
      var called = false;
      try {
        then.call(value, function (v) {
          if (called) return;
          called = true;
          adopt(promise, v, fulfil, reject);
        }, function (e) {
          if (called) return;
          called = true;
          reject(e);
        });
      } catch (e) {
        if (!called) reject(e);
      }
      return;
    }
  }
  fulfil(value);
}

// The old iOS behaviour: every reaction is a separate timer task.
function schedule(promise, handler) {
  setTimeout(function () {
    var callback = promise._state === 'fulfilled' ? handler.onFulfilled : handler.onRejected;
    if (typeof callback !== 'function') {
      if (promise._state === 'fulfilled') handler.resolve(promise._value);
      else handler.reject(promise._value);
      return;
    }
    try {
      handler.resolve(callback(promise._value));
    } catch (e) {
      handler.reject(e);
    }
  }, 0);
}

// How many were made: tests check the SDK really ran on this Promise.
TimerPromise.created = 0;

TimerPromise.prototype.then = function (onFulfilled, onRejected) {
  var self = this;
  return new TimerPromise(function (resolve, reject) {
    var handler = { onFulfilled: onFulfilled, onRejected: onRejected, resolve: resolve, reject: reject };
    if (self._state === 'pending') self._handlers.push(handler);
    else schedule(self, handler);
  });
};
TimerPromise.prototype['catch'] = function (onRejected) { return this.then(undefined, onRejected); };
TimerPromise.prototype['finally'] = function (fn) {
  return this.then(function (v) { fn(); return v; }, function (e) { fn(); throw e; });
};
TimerPromise.resolve = function (value) {
  if (value instanceof TimerPromise) return value;
  return new TimerPromise(function (resolve) { resolve(value); });
};
TimerPromise.reject = function (reason) {
  return new TimerPromise(function (_, reject) { reject(reason); });
};
TimerPromise.all = function (items) {
  return new TimerPromise(function (resolve, reject) {
    var results = [];
    var left = items.length;
    if (!left) return resolve(results);
    items.forEach(function (item, i) {
      TimerPromise.resolve(item).then(function (v) {
        results[i] = v;
        if (--left === 0) resolve(results);
      }, reject);
    });
  });
};
TimerPromise.allSettled = function (items) {
  return TimerPromise.all(items.map(function (item) {
    return TimerPromise.resolve(item).then(function (value) {
      return { status: 'fulfilled', value: value };
    }, function (reason) {
      return { status: 'rejected', reason: reason };
    });
  }));
};
TimerPromise.race = function (items) {
  return new TimerPromise(function (resolve, reject) {
    items.forEach(function (item) { TimerPromise.resolve(item).then(resolve, reject); });
  });
};

module.exports = { TimerPromise: TimerPromise };
