//! The JS-facing surface: one class, `WxSession`, driven by `js-glue/src/index.js`.
//!
//! Every method returns a Promise that settles: the flow's futures always finish (time limits
//! on every host call), and errors are converted, never thrown through wasm.

mod error;
mod host;

use js_sys::{Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::config::{Config, Method};
use crate::error::Error;
use crate::session::{ApiRequest, Ready, Session};

use error::to_js_error;
pub use host::HostCallbacks;
use host::JsHost;

/// One session; the glue creates one per `createSession(config)`.
#[wasm_bindgen]
pub struct WxSession {
    session: Session<JsHost>,
}

#[wasm_bindgen]
impl WxSession {
    /// Validates `config` (a `CONFIG` error names the bad key) and builds an idle session.
    #[wasm_bindgen(constructor)]
    pub fn new(config: JsValue, callbacks: HostCallbacks) -> Result<WxSession, JsValue> {
        // Through serde_json::Value: serde-wasm-bindgen reads only a struct's declared fields,
        // which would let a misspelt key slip past `deny_unknown_fields` unnoticed.
        let json: serde_json::Value = serde_wasm_bindgen::from_value(config)
            .map_err(|e| to_js_error(&Error::config("config", format!("not a plain object: {e}"))))?;
        let config = Config::from_json(json).map_err(|e| to_js_error(&e))?;
        Ok(WxSession { session: Session::new(JsHost::new(callbacks), config) })
    }

    /// `→ { token, source }`.
    pub fn ensure(&self) -> Promise {
        let session = self.session.clone();
        future_to_promise(async move {
            let ready = session.ensure().await.map_err(|e| to_js_error(&e))?;
            Ok(ready_to_js(&ready))
        })
    }

    /// `wx.request` options → the `wx.request` success object.
    pub fn request(&self, options: JsValue) -> Promise {
        let session = self.session.clone();
        future_to_promise(async move {
            let request = api_request(options).map_err(|e| to_js_error(&e))?;
            session.request(request).await.map_err(|e| to_js_error(&e))
        })
    }

    pub fn logout(&self) -> Promise {
        let session = self.session.clone();
        future_to_promise(async move {
            session.logout().await.map_err(|e| to_js_error(&e))?;
            Ok(JsValue::UNDEFINED)
        })
    }
}

fn ready_to_js(ready: &Ready) -> JsValue {
    let object = Object::new();
    let _ = Reflect::set(&object, &"token".into(), &JsValue::from_str(ready.token.as_str()));
    let _ = Reflect::set(&object, &"source".into(), &JsValue::from_str(ready.source.as_str()));
    object.into()
}

/// Reads the options the core needs; the object itself is forwarded to `wx.request`.
fn api_request(options: JsValue) -> Result<ApiRequest<JsValue>, Error> {
    let bad = |key: &str, reason: &str| Error::config(format!("request.{key}"), reason);
    if !options.is_object() {
        return Err(Error::config("request", "pass an options object like wx.request's"));
    }
    let get = |key: &str| Reflect::get(&options, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED);
    let url = get("url").as_string().filter(|u| !u.is_empty()).ok_or_else(|| bad("url", "must be a non-empty string"))?;
    let method = match get("method") {
        m if m.is_undefined() => Method::Get,
        m => m.as_string().as_deref().and_then(Method::parse).ok_or_else(|| bad("method", "unknown HTTP method"))?,
    };
    let flag = |key: &str, default: bool| match get(key) {
        v if v.is_undefined() => Ok(default),
        v => v.as_bool().ok_or_else(|| bad(key, "must be true or false")),
    };
    let timeout_ms = match get("timeout") {
        t if t.is_undefined() => None,
        t => Some(
            t.as_f64()
                .filter(|ms| *ms >= 1.0 && *ms <= f64::from(crate::config::MAX_TIMEOUT_MS))
                .ok_or_else(|| bad("timeout", "must be a number of milliseconds"))? as u32,
        ),
    };
    Ok(ApiRequest {
        url,
        method,
        auth: flag("auth", true)?,
        retry: flag("retry", false)?,
        timeout_ms,
        options: Some(options),
    })
}
