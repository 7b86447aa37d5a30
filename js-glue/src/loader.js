// Loads the wasm the only way the mini-program runtime allows: WXWebAssembly with a package path.
'use strict';

var cache = {};

// Resolves to the bindings module, wired to a ready wasm instance. One instance per path,
// shared by every session that uses it.
function load(path, bindings) {
  if (!cache[path]) {
    cache[path] = instantiate(path, bindings);
    // A failed load may succeed later (e.g. the file was missing during a hot reload).
    cache[path].then(null, function () { delete cache[path]; });
  }
  return cache[path];
}

function instantiate(path, bindings) {
  return new Promise(function (resolve, reject) {
    if (typeof WXWebAssembly === 'undefined' || !WXWebAssembly || typeof WXWebAssembly.instantiate !== 'function') {
      reject(loadError('WXWebAssembly is not available: base library 2.13.0 or newer is needed'));
      return;
    }
    var imports = { './wx_session_bg.js': bindings };
    var pending;
    try {
      pending = WXWebAssembly.instantiate(path, imports);
    } catch (e) {
      reject(loadError('WXWebAssembly.instantiate(' + JSON.stringify(path) + ') threw: ' + describe(e)));
      return;
    }
    Promise.resolve(pending).then(function (result) {
      // Accept both `{ instance, module }` and a bare `Instance`.
      var instance = result && result.instance ? result.instance : result;
      if (!instance || !instance.exports || !instance.exports.memory) {
        throw loadError('WXWebAssembly.instantiate resolved to something that is not an instance');
      }
      bindings.__wbg_set_wasm(instance.exports);
      resolve(bindings);
    }).then(null, function (e) {
      reject(e && e.code === 'WASM_LOAD' ? e : loadError('could not load ' + path + ': ' + describe(e)));
    });
  });
}

function describe(e) {
  return e && e.message ? e.message : String(e);
}

function loadError(message) {
  var error = new Error(message);
  error.name = 'WxSessionError';
  error.code = 'WASM_LOAD';
  return error;
}

module.exports = { load: load, loadError: loadError };
