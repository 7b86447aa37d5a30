// onReport: one event per finished request, upload and download, and per login or check
// exchange. Never a token, a code, a body or a query: the URL is its path only.
import * as abi from './abi.js';
import * as clock from './clock.js';
import { pathOf } from './values.js';

// A call's onReport kind, by its `kind`; an exchange's, by its read set.
var CALL_KINDS = ['request', 'upload', 'download'];
var EXCHANGE_KINDS = ['', 'login', 'check', 'refresh'];

// An API call settled (`error`: its error, or null): `call` is a Call of calls.js.
function reportCall(onReport, call, error) {
  var method = call.kind === abi.CALL_UPLOAD ? 'POST' : call.kind === abi.CALL_DOWNLOAD ? 'GET' : abi.METHOD_NAMES[call.method];
  report(onReport, CALL_KINDS[call.kind], call.url, method, call.status, !error, error && error.code, call.sends, call.relogin, call.startMs);
}

// A login, check or refresh exchange ended: with an answer's `status`, or failed (status 0) with `code`.
// `exchange`: what the driver noted when it sent it ({ read, url, method, startMs }).
function reportExchange(onReport, exchange, status, code) {
  var ok = status >= 200 && status < 300;
  report(onReport, EXCHANGE_KINDS[exchange.read], exchange.url, exchange.method, status, ok, code, 1, false, exchange.startMs);
}

function report(onReport, kind, url, method, status, ok, code, attempts, relogin, startMs) {
  var event = {
    kind: kind, url: pathOf(url), method: method, status: status, ok: ok, code: code,
    attempts: attempts, relogin: relogin, startMs: startMs, endMs: clock.now(),
  };
  try {
    onReport(event);
  } catch (e) {
    // a reporter's bug must not break the session
  }
}

export { reportCall, reportExchange };
