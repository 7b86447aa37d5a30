// The time the core is told: Date.now(), except that it never goes back. Deadlines are
// absolute times; a clock set back an hour (by the user, or a network time correction) must
// not stretch every wait by an hour. A clock set forward ends waits early (see driver.js's
// schedule(), which does not trust a timer armed before the jump).
var lastNow = 0;
var shift = 0; // added to Date.now() since the clock was last seen going back
var stuck = false; // Date.now() threw or read NaN at the last look

// The latest time a Date can hold (ECMAScript: 8.64e15 ms); a reading past it is no time.
var MAX_DATE = 8.64e15;

// A clock that reads NaN, throws, or reads past any date (Infinity, 2^53) is stuck at its last
// good time (reach() moves it on): one bad reading must not push every deadline out of reach.
function now() {
  var t;
  try {
    t = Date.now() + shift;
  } catch (e) {
    t = NaN;
  }
  stuck = !(t <= MAX_DATE);
  if (stuck || t < lastNow) {
    if (!stuck) shift += lastNow - t;
    t = lastNow;
  }
  lastNow = t;
  return t;
}

// A timer armed for time `t` fired: at least that much time has passed, whatever Date.now()
// says (it was set back, or it is stuck), so the clock reads `t` at least from now on.
function reach(t) {
  var current = now();
  if (t > current) {
    if (!stuck) shift += t - current;
    lastNow = t;
  }
}

export { now, reach };
