//! [`Error`] as a JS `Error` with a stable `code` (and `status` where there is one).

use js_sys::Reflect;
use wasm_bindgen::JsValue;

use crate::error::Error;

/// `new Error(message)` with `code`, plus `key` for CONFIG and `status` for SERVER_REJECTED.
pub fn to_js_error(error: &Error) -> JsValue {
    let js = js_sys::Error::new(&error.to_string());
    js.set_name("WxSessionError");
    let set = |key: &str, value: JsValue| {
        let _ = Reflect::set(&js, &JsValue::from_str(key), &value);
    };
    set("code", JsValue::from_str(error.code()));
    match error {
        Error::Config { key, .. } => set("key", JsValue::from_str(key)),
        Error::ServerRejected { status, .. } => set("status", JsValue::from_f64(f64::from(*status))),
        _ => {}
    }
    js.into()
}
