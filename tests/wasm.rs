//! The wasm layer under Node: the exported `WxSession` driving a fake JS host.
//! Run with `cargo test --target wasm32-unknown-unknown --test wasm` (wasm-bindgen-test-runner).
#![cfg(target_arch = "wasm32")]

use js_sys::{Array, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;
use wx_session::wasm::{HostCallbacks, WxSession};

#[wasm_bindgen(inline_js = r#"
// A host like js-glue/src/host.js builds, over an in-memory backend.
// mode: 'ok' | 'login-fails' | 'storage-full'
export function fakeHost(mode) {
  const world = { storage: {}, logins: 0, requests: [], states: [], valid: new Set(), tokens: 0, timers: new Set() };
  const host = {
    getStorage(key) { return world.storage[key]; },
    setStorage(key, value) {
      if (mode === 'storage-full') throw new Error('setStorageSync:fail exceed storage max size 10M');
      world.storage[key] = value;
    },
    removeStorage(key) { delete world.storage[key]; },
    checkSession() { return Promise.resolve(true); },
    login() {
      world.logins += 1;
      return mode === 'login-fails' ? Promise.reject({ errMsg: 'login:fail auth deny' }) : Promise.resolve('code-' + world.logins);
    },
    loginExtra() { return Promise.resolve({}); },
    request(options) {
      world.requests.push(options);
      if (options.url.endsWith('/login')) {
        const token = 'tok-' + (++world.tokens);
        world.valid.add(token);
        return Promise.resolve({ statusCode: 200, data: { token, session_key: 'SECRET' }, header: {} });
      }
      const ok = world.valid.has(options.header.token);
      return Promise.resolve({ statusCode: ok ? 200 : 401, data: ok ? { echo: options.data } : {}, header: {} });
    },
    now() { return 1700000000000; },
    sleep(ms) {
      let timer;
      let wake;
      const p = new Promise((resolve) => { wake = resolve; });
      timer = setTimeout(() => { world.timers.delete(timer); wake(); }, ms);
      world.timers.add(timer);
      p.cancel = () => { world.timers.delete(timer); clearTimeout(timer); wake(); };
      return p;
    },
    cancelSleep(p) { p.cancel(); },
    stateChanged(state, error) { world.states.push(error ? state + ':' + error.code : state); },
  };
  return { host, world };
}
export function revokeAll(world) { world.valid.clear(); }
export function sameObject(a, b) { return a === b; }
"#)]
extern "C" {
    #[wasm_bindgen(js_name = fakeHost)]
    fn fake_host(mode: &str) -> JsValue;
    #[wasm_bindgen(js_name = revokeAll)]
    fn revoke_all(world: &JsValue);
    #[wasm_bindgen(js_name = sameObject)]
    fn same_object(a: &JsValue, b: &JsValue) -> bool;
}

fn get(target: &JsValue, key: &str) -> JsValue {
    Reflect::get(target, &JsValue::from_str(key)).expect("property")
}

fn config() -> JsValue {
    let config = Object::new();
    Reflect::set(&config, &"baseUrl".into(), &"https://api.test".into()).unwrap();
    Reflect::set(&config, &"useCheckSession".into(), &JsValue::FALSE).unwrap();
    config.into()
}

fn session(mode: &str) -> (WxSession, JsValue) {
    let fake = fake_host(mode);
    let callbacks: HostCallbacks = get(&fake, "host").unchecked_into();
    (WxSession::new(config(), callbacks).expect("valid config"), get(&fake, "world"))
}

async fn settle(promise: Promise) -> Result<JsValue, JsValue> {
    JsFuture::from(promise).await
}

fn states(world: &JsValue) -> Vec<String> {
    Array::from(&get(world, "states")).iter().filter_map(|s| s.as_string()).collect()
}

#[wasm_bindgen_test]
fn a_bad_config_key_is_a_config_error_naming_it() {
    let config = config();
    let login = Object::new();
    Reflect::set(&login, &"tokenPath".into(), &"data..skey".into()).unwrap();
    Reflect::set(&config, &"login".into(), &login).unwrap();
    let callbacks: HostCallbacks = get(&fake_host("ok"), "host").unchecked_into();
    let error = WxSession::new(config, callbacks).err().expect("refused");
    assert_eq!(get(&error, "code").as_string().as_deref(), Some("CONFIG"));
    assert_eq!(get(&error, "key").as_string().as_deref(), Some("login.tokenPath"));
    assert!(error.is_instance_of::<js_sys::Error>());
}

#[wasm_bindgen_test]
fn a_misspelt_config_key_is_refused() {
    let config = config();
    Reflect::set(&config, &"retrys".into(), &JsValue::from_f64(3.0)).unwrap();
    let callbacks: HostCallbacks = get(&fake_host("ok"), "host").unchecked_into();
    let error = WxSession::new(config, callbacks).err().expect("refused");
    assert_eq!(get(&error, "key").as_string().as_deref(), Some("retrys"));
}

#[wasm_bindgen_test]
async fn ensure_logs_in_and_stores_only_the_token() {
    let (session, world) = session("ok");
    let ready = settle(session.ensure()).await.expect("logged in");
    assert_eq!(get(&ready, "token").as_string().as_deref(), Some("tok-1"));
    assert_eq!(get(&ready, "source").as_string().as_deref(), Some("login"));
    let record = get(&get(&world, "storage"), "token");
    assert_eq!(get(&record, "v").as_f64(), Some(1.0));
    assert_eq!(get(&record, "token").as_string().as_deref(), Some("tok-1"));
    assert!(get(&record, "session_key").is_undefined());
    assert_eq!(states(&world), ["checking", "logging-in", "ready"]);
    assert_eq!(get(&world, "timers").unchecked_into::<js_sys::Set>().size(), 0, "no timer left behind");
}

#[wasm_bindgen_test]
async fn request_forwards_the_callers_data_object_and_adds_the_token() {
    let (session, world) = session("ok");
    let data = Object::new();
    Reflect::set(&data, &"big".into(), &"payload".into()).unwrap();
    let header = Object::new();
    Reflect::set(&header, &"X-Trace".into(), &"t1".into()).unwrap();
    let options = Object::new();
    Reflect::set(&options, &"url".into(), &"/api/echo".into()).unwrap();
    Reflect::set(&options, &"method".into(), &"POST".into()).unwrap();
    Reflect::set(&options, &"data".into(), &data).unwrap();
    Reflect::set(&options, &"header".into(), &header).unwrap();
    Reflect::set(&options, &"dataType".into(), &"json".into()).unwrap();
    let response = settle(session.request(options.into())).await.expect("answered");
    assert_eq!(get(&response, "statusCode").as_f64(), Some(200.0));
    let requests = Array::from(&get(&world, "requests"));
    let sent = requests.get(requests.length() - 1);
    assert!(same_object(&get(&sent, "data"), &data), "the body object is forwarded, not copied");
    assert_eq!(get(&sent, "url").as_string().as_deref(), Some("https://api.test/api/echo"));
    assert_eq!(get(&sent, "dataType").as_string().as_deref(), Some("json"));
    let sent_header = get(&sent, "header");
    assert_eq!(get(&sent_header, "token").as_string().as_deref(), Some("tok-1"));
    assert_eq!(get(&sent_header, "X-Trace").as_string().as_deref(), Some("t1"));
}

#[wasm_bindgen_test]
async fn a_401_logs_in_again_once_and_retries() {
    let (session, world) = session("ok");
    settle(session.ensure()).await.expect("logged in");
    revoke_all(&world);
    let options = Object::new();
    Reflect::set(&options, &"url".into(), &"/api/profile".into()).unwrap();
    let response = settle(session.request(options.into())).await.expect("answered");
    assert_eq!(get(&response, "statusCode").as_f64(), Some(200.0));
    assert_eq!(get(&world, "logins").as_f64(), Some(2.0));
}

#[wasm_bindgen_test]
async fn a_failed_wx_login_rejects_with_a_typed_error_and_can_be_retried() {
    let (session, world) = session("login-fails");
    let error = settle(session.ensure()).await.expect_err("rejected");
    assert_eq!(get(&error, "code").as_string().as_deref(), Some("WX_LOGIN_FAILED"));
    assert!(get(&error, "message").as_string().unwrap().contains("auth deny"));
    assert_eq!(get(&world, "logins").as_f64(), Some(3.0), "1 try + 2 retries, each a fresh wx.login");
    assert_eq!(states(&world).last().map(String::as_str), Some("failed:WX_LOGIN_FAILED"));
    settle(session.ensure()).await.expect_err("tries again, rejected again");
    assert_eq!(get(&world, "logins").as_f64(), Some(6.0));
}

#[wasm_bindgen_test]
async fn storage_that_throws_is_reported_and_the_session_goes_on() {
    let (session, world) = session("storage-full");
    let ready = settle(session.ensure()).await.expect("logged in despite storage");
    assert_eq!(get(&ready, "source").as_string().as_deref(), Some("login"));
    assert!(states(&world).iter().any(|s| s.ends_with(":STORAGE")), "{:?}", states(&world));
}

#[wasm_bindgen_test]
async fn bad_request_options_are_config_errors() {
    let (session, _) = session("ok");
    let error = settle(session.request(Object::new().into())).await.expect_err("refused");
    assert_eq!(get(&error, "code").as_string().as_deref(), Some("CONFIG"));
    assert_eq!(get(&error, "key").as_string().as_deref(), Some("request.url"));
}
