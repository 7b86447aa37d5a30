//! [`Host`] over the JS glue's callbacks object (see `js-glue/src/host.js`).
//!
//! Every callback is imported with `catch`: a JS exception must come back as a `Result`, never
//! unwind through wasm frames with a `RefCell` borrowed.

use js_sys::{Object, Promise, Reflect};
use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::error::Error;
use crate::host::{Host, HttpRequest, State};
use crate::rule::Path;

use super::error::to_js_error;

#[wasm_bindgen]
extern "C" {
    /// The callbacks object the glue builds from `wx.*`.
    pub type HostCallbacks;

    #[wasm_bindgen(method, catch, js_name = getStorage)]
    fn get_storage(this: &HostCallbacks, key: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch, js_name = setStorage)]
    fn set_storage(this: &HostCallbacks, key: &str, value: &JsValue) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = removeStorage)]
    fn remove_storage(this: &HostCallbacks, key: &str) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = checkSession)]
    fn check_session(this: &HostCallbacks) -> Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn login(this: &HostCallbacks) -> Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch, js_name = loginExtra)]
    fn login_extra(this: &HostCallbacks) -> Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn request(this: &HostCallbacks, options: &JsValue) -> Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn now(this: &HostCallbacks) -> Result<f64, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn sleep(this: &HostCallbacks, ms: u32) -> Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch, js_name = cancelSleep)]
    fn cancel_sleep(this: &HostCallbacks, sleep: &Promise) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = stateChanged)]
    fn state_changed(this: &HostCallbacks, state: &str, error: &JsValue) -> Result<(), JsValue>;
}

/// The host of the wasm build.
pub struct JsHost {
    callbacks: HostCallbacks,
}

impl JsHost {
    pub fn new(callbacks: HostCallbacks) -> Self {
        JsHost { callbacks }
    }
}

/// Awaits a callback's Promise; a synchronous throw counts as a rejection.
async fn settle(promise: Result<Promise, JsValue>) -> Result<JsValue, JsValue> {
    JsFuture::from(promise?).await
}

/// The `errMsg` of a wx failure object, or whatever text the thrown value has.
fn err_msg(value: &JsValue) -> String {
    Reflect::get(value, &JsValue::from_str("errMsg"))
        .ok()
        .and_then(|m| m.as_string())
        .or_else(|| value.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())))
        .or_else(|| value.as_string())
        .unwrap_or_else(|| "unknown failure".to_owned())
}

/// Converts a small JS value to JSON; functions, symbols and cycles give `None`.
fn to_json(value: &JsValue) -> Option<Value> {
    if value.is_undefined() {
        return None;
    }
    serde_wasm_bindgen::from_value(value.clone()).ok()
}

fn from_json(value: &Value) -> Result<JsValue, String> {
    use serde::Serialize;
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| e.to_string())
}

fn set(target: &Object, key: &str, value: &JsValue) -> Result<(), String> {
    Reflect::set(target, &JsValue::from_str(key), value).map(drop).map_err(|e| err_msg(&e))
}

impl JsHost {
    /// Builds `wx.request` options: a fresh object with the caller's own, and url, method,
    /// timeout and our headers on top. The caller's `data` is forwarded as the same JS object,
    /// never copied. The glue may change the fresh object (it adds the callbacks).
    fn request_options(&self, request: HttpRequest<JsValue>) -> Result<JsValue, String> {
        let options = Object::new();
        let header = Object::new();
        if let Some(own) = request.passthrough.as_ref().filter(|o| o.is_object()) {
            Object::assign(&options, own.unchecked_ref());
            if let Ok(own_header) = Reflect::get(own, &JsValue::from_str("header")) {
                if own_header.is_object() {
                    Object::assign(&header, own_header.unchecked_ref());
                }
            }
        }
        for (name, value) in &request.headers {
            set(&header, name, &JsValue::from_str(value))?;
        }
        set(&options, "url", &JsValue::from_str(&request.url))?;
        set(&options, "method", &JsValue::from_str(request.method.as_str()))?;
        set(&options, "header", &header)?;
        set(&options, "timeout", &JsValue::from_f64(f64::from(request.timeout_ms)))?;
        if let Some(body) = &request.body {
            set(&options, "data", &from_json(body)?)?;
        }
        Ok(options.into())
    }
}

/// Clears a sleep's timer unless it has fired.
struct ClearOnDrop<'a> {
    callbacks: &'a HostCallbacks,
    timer: Option<Promise>,
}

impl ClearOnDrop<'_> {
    fn disarm(mut self) {
        self.timer = None;
    }
}

impl Drop for ClearOnDrop<'_> {
    fn drop(&mut self) {
        if let Some(timer) = self.timer.take() {
            let _ = self.callbacks.cancel_sleep(&timer);
        }
    }
}

impl Host for JsHost {
    type Response = JsValue;
    type Options = JsValue;

    fn read_storage(&self, key: &str) -> Result<Option<Value>, String> {
        let value = self.callbacks.get_storage(key).map_err(|e| err_msg(&e))?;
        if value.is_undefined() || value.is_null() {
            return Ok(None);
        }
        // A value JSON can't hold (a function, a cycle) is reported, then treated as no token.
        to_json(&value).map(Some).ok_or_else(|| "the stored value is not JSON".to_owned())
    }

    fn write_storage(&self, key: &str, value: &Value) -> Result<(), String> {
        let value = from_json(value)?;
        self.callbacks.set_storage(key, &value).map_err(|e| err_msg(&e))
    }

    fn remove_storage(&self, key: &str) -> Result<(), String> {
        self.callbacks.remove_storage(key).map_err(|e| err_msg(&e))
    }

    async fn check_session(&self) -> bool {
        matches!(settle(self.callbacks.check_session()).await, Ok(v) if v.as_bool() == Some(true))
    }

    async fn login(&self) -> Result<String, String> {
        let value = settle(self.callbacks.login()).await.map_err(|e| err_msg(&e))?;
        value.as_string().ok_or_else(|| "login:ok without a code".to_owned())
    }

    async fn login_extra(&self) -> Result<Value, String> {
        let value = settle(self.callbacks.login_extra()).await.map_err(|e| err_msg(&e))?;
        if value.is_undefined() || value.is_null() {
            return Ok(Value::Null);
        }
        to_json(&value).ok_or_else(|| "login.extra() resolved to something that is not JSON".to_owned())
    }

    async fn request(&self, request: HttpRequest<JsValue>) -> Result<JsValue, String> {
        let options = self.request_options(request)?;
        settle(self.callbacks.request(&options)).await.map_err(|e| err_msg(&e))
    }

    fn status(&self, response: &JsValue) -> u16 {
        Reflect::get(response, &JsValue::from_str("statusCode"))
            .ok()
            .and_then(|s| s.as_f64())
            .filter(|s| (0.0..=999.0).contains(s))
            .map_or(0, |s| s as u16)
    }

    /// Walks `data` along the path on the JS side: only the field found crosses into wasm.
    fn body_field(&self, response: &JsValue, path: &Path) -> Option<Value> {
        let mut node = Reflect::get(response, &JsValue::from_str("data")).ok()?;
        for segment in path.segments() {
            if !node.is_object() {
                return None;
            }
            let key = JsValue::from_str(segment);
            if !Reflect::has(&node, &key).ok()? {
                return None;
            }
            node = Reflect::get(&node, &key).ok()?;
        }
        to_json(&node)
    }

    fn now_ms(&self) -> f64 {
        self.callbacks.now().unwrap_or_else(|_| js_sys::Date::now())
    }

    async fn sleep(&self, ms: u32) {
        // A sleep that lost its race (the request answered first) is dropped: clear its timer
        // instead of leaving one behind per call. A broken timer just returns; the caller's
        // attempt count still bounds any loop.
        let Ok(timer) = self.callbacks.sleep(ms) else { return };
        let guard = ClearOnDrop { callbacks: &self.callbacks, timer: Some(timer.clone()) };
        let _ = JsFuture::from(timer).await;
        guard.disarm();
    }

    fn random(&self) -> f64 {
        js_sys::Math::random()
    }

    fn state_changed(&self, state: State, error: Option<&Error>) {
        let error = error.map_or(JsValue::UNDEFINED, to_js_error);
        // A listener that throws is the app's bug; the session carries on.
        let _ = self.callbacks.state_changed(state.as_str(), &error);
    }
}
