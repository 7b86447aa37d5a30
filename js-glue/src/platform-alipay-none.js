// The wasm build's stand-in for platform-alipay.js: Alipay has WebAssembly only inside Workers,
// so a session there needs the JavaScript build. Every call says so (WASM_LOAD, from loader.js).
function alipay() {
  return { name: 'alipay', has: function () { return false; } };
}

export { alipay };
