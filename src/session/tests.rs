//! Flow tests: a scripted host, a fake backend that behaves like code2Session, and a virtual
//! clock driven by a single-threaded executor. Deterministic: time only moves when every task
//! is waiting on a timer.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use futures_executor::LocalPool;
use futures_util::task::LocalSpawnExt;
use serde_json::{json, Value};

use super::*;
use crate::rule::Path;

// ---------------------------------------------------------------------------------------------
// The world: clock, storage, wx.login and a backend.

#[derive(Debug, Clone)]
struct Sent {
    url: String,
    method: &'static str,
    headers: Vec<(String, String)>,
    body: Option<Value>,
}

impl Sent {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
    fn path(&self) -> &str {
        let rest = self.url.trim_start_matches("http://dev.test");
        rest.split('?').next().unwrap_or(rest)
    }
}

/// What the fake network does with one request.
enum Reply {
    Answer(u16, Value),
    Fail(&'static str),
    Hang,
}

type Handler = Box<dyn Fn(&World, &Sent) -> Reply>;

#[derive(Default)]
struct World {
    now: Cell<f64>,
    timers: RefCell<Vec<(f64, Waker)>>,
    storage: RefCell<HashMap<String, Value>>,
    storage_full: Cell<bool>,
    storage_unreadable: Cell<bool>,
    /// What login.extra() resolves to (Ok) or its failure (Err).
    extra: RefCell<Option<Result<Value, String>>>,
    check_session_ok: Cell<bool>,
    /// wx.login calls that fail before the first success.
    login_failures: Cell<u32>,
    login_calls: Cell<u32>,
    sent: RefCell<Vec<Sent>>,
    states: RefCell<Vec<(State, Option<&'static str>)>>,
    latency_ms: Cell<u32>,
    /// Adds `n * 37 % stagger_ms` to the n-th request's latency, so answers come back out of order.
    stagger_ms: Cell<u32>,
    requests_made: Cell<u32>,
    /// Per-path latency overriding `latency_ms`.
    slow_paths: RefCell<HashMap<String, u32>>,
    handler: RefCell<Option<Handler>>,
    // The backend: codes issued by wx.login, codes used, tokens the server accepts.
    issued_codes: RefCell<HashSet<String>>,
    used_codes: RefCell<HashSet<String>>,
    valid_tokens: RefCell<HashSet<String>>,
    tokens_issued: Cell<u32>,
}

impl World {
    fn new() -> Rc<World> {
        let world = World::default();
        world.check_session_ok.set(true);
        world.latency_ms.set(50);
        world.now.set(1_700_000_000_000.0);
        Rc::new(world)
    }

    /// Replaces the backend's behaviour.
    fn serve(&self, handler: impl Fn(&World, &Sent) -> Reply + 'static) {
        *self.handler.borrow_mut() = Some(Box::new(handler));
    }

    fn sent_to(&self, path: &str) -> Vec<Sent> {
        self.sent.borrow().iter().filter(|s| s.path() == path).cloned().collect()
    }

    fn stored(&self) -> Option<Value> {
        self.storage.borrow().get("token").cloned()
    }

    fn stored_token(&self) -> Option<String> {
        match StoredToken::read(self.stored().as_ref()) {
            StorageRead::Record(t) | StorageRead::Legacy(t) => Some(t.token.as_str().to_owned()),
            _ => None,
        }
    }

    /// The default backend: like the seeds' server over code2Session.
    fn backend(&self, sent: &Sent) -> Reply {
        match sent.path() {
            "/login" => {
                let code = sent.body.as_ref().and_then(|b| b.get("code")).and_then(Value::as_str).unwrap_or("");
                self.redeem(code)
            }
            "/auth" => {
                let ok = sent.header("token").is_some_and(|t| self.valid_tokens.borrow().contains(t));
                Reply::Answer(200, json!({ "errCode": if ok { 0 } else { 40001 } }))
            }
            "/api/profile" | "/api/order" => {
                let ok = sent.header("token").is_some_and(|t| self.valid_tokens.borrow().contains(t));
                if ok {
                    Reply::Answer(200, json!({ "nickname": "demo" }))
                } else {
                    Reply::Answer(401, json!({ "error": "invalid session" }))
                }
            }
            _ => Reply::Answer(404, json!({})),
        }
    }

    /// code2Session: a code works once (40163 after), unknown codes are 40029.
    fn redeem(&self, code: &str) -> Reply {
        if !self.issued_codes.borrow().contains(code) {
            return Reply::Answer(400, json!({ "errcode": 40029 }));
        }
        if !self.used_codes.borrow_mut().insert(code.to_owned()) {
            return Reply::Answer(400, json!({ "errcode": 40163 }));
        }
        let n = self.tokens_issued.get() + 1;
        self.tokens_issued.set(n);
        let token = format!("tok-{n}");
        self.valid_tokens.borrow_mut().insert(token.clone());
        Reply::Answer(200, json!({ "token": token, "session_key": "SECRET-KEY", "openid": "o-1" }))
    }

    fn advance_to_next_timer(&self) -> bool {
        let mut timers = self.timers.borrow_mut();
        let Some(next) = timers.iter().map(|(due, _)| *due).reduce(f64::min) else {
            return false;
        };
        self.now.set(next);
        let (due, waiting): (Vec<_>, Vec<_>) = timers.drain(..).partition(|(at, _)| *at <= next);
        *timers = waiting;
        drop(timers);
        due.into_iter().for_each(|(_, waker)| waker.wake());
        true
    }
}

struct Sleep {
    world: Rc<World>,
    due: f64,
}

impl Future for Sleep {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.world.now.get() >= self.due {
            Poll::Ready(())
        } else {
            self.world.timers.borrow_mut().push((self.due, cx.waker().clone()));
            Poll::Pending
        }
    }
}

#[derive(Clone)]
struct ScriptedHost(Rc<World>);

impl ScriptedHost {
    fn sleep_for(&self, ms: u32) -> Sleep {
        Sleep { world: Rc::clone(&self.0), due: self.0.now.get() + f64::from(ms) }
    }
}

impl Host for ScriptedHost {
    type Response = (u16, Value);
    type Options = Value;

    fn read_storage(&self, key: &str) -> Result<Option<Value>, String> {
        if self.0.storage_unreadable.get() {
            return Err("getStorageSync:fail data corrupted".into());
        }
        Ok(self.0.storage.borrow().get(key).cloned())
    }
    fn write_storage(&self, key: &str, value: &Value) -> Result<(), String> {
        if self.0.storage_full.get() {
            return Err("setStorageSync:fail exceed storage max size 10M".into());
        }
        self.0.storage.borrow_mut().insert(key.to_owned(), value.clone());
        Ok(())
    }
    fn remove_storage(&self, key: &str) -> Result<(), String> {
        self.0.storage.borrow_mut().remove(key);
        Ok(())
    }
    async fn check_session(&self) -> bool {
        self.sleep_for(5).await;
        self.0.check_session_ok.get()
    }
    async fn login(&self) -> Result<String, String> {
        self.sleep_for(20).await;
        let n = self.0.login_calls.get() + 1;
        self.0.login_calls.set(n);
        if self.0.login_failures.get() > 0 {
            self.0.login_failures.set(self.0.login_failures.get() - 1);
            return Err("login:fail system error".into());
        }
        let code = format!("code-{n}");
        self.0.issued_codes.borrow_mut().insert(code.clone());
        Ok(code)
    }
    async fn login_extra(&self) -> Result<Value, String> {
        self.sleep_for(5).await;
        self.0.extra.borrow().clone().unwrap_or_else(|| Ok(json!({ "iv": "iv-1", "encryptedData": "enc" })))
    }
    async fn request(&self, request: HttpRequest<Value>) -> Result<(u16, Value), String> {
        let path = Sent { url: request.url.clone(), method: "", headers: vec![], body: None }.path().to_owned();
        let n = self.0.requests_made.get() + 1;
        self.0.requests_made.set(n);
        let stagger = match self.0.stagger_ms.get() {
            0 => 0,
            spread => n * 37 % spread,
        };
        let latency = self.0.slow_paths.borrow().get(&path).copied().unwrap_or(self.0.latency_ms.get()) + stagger;
        self.sleep_for(latency).await;
        let sent = Sent { url: request.url, method: request.method.as_str(), headers: request.headers, body: request.body };
        self.0.sent.borrow_mut().push(sent.clone());
        let reply = match &*self.0.handler.borrow() {
            Some(handler) => handler(&self.0, &sent),
            None => self.0.backend(&sent),
        };
        match reply {
            Reply::Answer(status, body) => Ok((status, body)),
            Reply::Fail(msg) => Err(msg.to_owned()),
            Reply::Hang => {
                futures_util::future::pending::<()>().await;
                Err("unreachable".into())
            }
        }
    }
    fn status(&self, response: &(u16, Value)) -> u16 {
        response.0
    }
    fn body_field(&self, response: &(u16, Value), path: &Path) -> Option<Value> {
        path.lookup(&response.1).cloned()
    }
    fn now_ms(&self) -> f64 {
        self.0.now.get()
    }
    async fn sleep(&self, ms: u32) {
        self.sleep_for(ms).await;
    }
    fn random(&self) -> f64 {
        0.5
    }
    fn state_changed(&self, state: State, error: Option<&Error>) {
        self.0.states.borrow_mut().push((state, error.map(Error::code)));
    }
}

// ---------------------------------------------------------------------------------------------
// Driving.

fn config(extra: Value) -> Config {
    let mut base = json!({ "baseUrl": "http://dev.test", "useCheckSession": false });
    if let (Value::Object(base), Value::Object(extra)) = (&mut base, extra) {
        base.extend(extra);
    }
    Config::from_json(base).expect("test config is valid")
}

fn session(world: &Rc<World>, extra: Value) -> Session<ScriptedHost> {
    Session::new(ScriptedHost(Rc::clone(world)), config(extra))
}

/// Runs every future to completion on one thread, moving the virtual clock only when all of
/// them are waiting. Panics if they wait on nothing (a hang).
fn run_all<T: 'static, F: Future<Output = T> + 'static>(world: &World, futures: Vec<F>) -> Vec<T> {
    let mut pool = LocalPool::new();
    let results: Rc<RefCell<Vec<Option<T>>>> = Rc::new(RefCell::new((0..futures.len()).map(|_| None).collect()));
    for (i, future) in futures.into_iter().enumerate() {
        let results = Rc::clone(&results);
        pool.spawner()
            .spawn_local(async move {
                let value = future.await;
                results.borrow_mut()[i] = Some(value);
            })
            .expect("spawn");
    }
    loop {
        pool.run_until_stalled();
        if results.borrow().iter().all(Option::is_some) {
            break;
        }
        assert!(world.advance_to_next_timer(), "futures are stuck: nothing scheduled");
    }
    let results = std::mem::take(&mut *results.borrow_mut());
    results.into_iter().map(|r| r.expect("finished")).collect()
}

fn run<T: 'static>(world: &World, future: impl Future<Output = T> + 'static) -> T {
    run_all(world, vec![future]).pop().expect("one result")
}

fn store_record(world: &World, token: &str) {
    world.valid_tokens.borrow_mut().insert(token.to_owned());
    let record = StoredToken { token: Token::new(token).unwrap(), expires_at: None, obtained_at: Some(0.0) };
    world.storage.borrow_mut().insert("token".into(), record.to_value());
}

fn profile<S: Host<Options = Value> + 'static>(s: &Session<S>) -> impl Future<Output = Result<S::Response, Error>> + 'static {
    let s = s.clone();
    async move { s.request(ApiRequest::get("/api/profile")).await }
}

const CHECK_ALWAYS: fn() -> Value = || json!({ "check": { "url": "/auth", "okWhen": { "path": "errCode", "equals": 0 } } });

// ---------------------------------------------------------------------------------------------
// Launch flow.

#[test]
fn first_launch_logs_in_and_stores_the_token() {
    let world = World::new();
    let s = session(&world, json!({}));
    let ready = run(&world, { let s = s.clone(); async move { s.ensure().await } }).unwrap();
    assert_eq!(ready.source, Source::Login);
    assert_eq!(ready.token.as_str(), "tok-1");
    assert_eq!(world.login_calls.get(), 1);
    let logins = world.sent_to("/login");
    assert_eq!(logins.len(), 1);
    assert_eq!(logins[0].body, Some(json!({ "code": "code-1" })));
    assert_eq!(world.stored_token().as_deref(), Some("tok-1"));
    let states: Vec<_> = world.states.borrow().iter().map(|(s, _)| *s).collect();
    assert_eq!(states, [State::Checking, State::LoggingIn, State::Ready]);
}

#[test]
fn login_answer_keeps_only_the_token() {
    let world = World::new();
    let s = session(&world, json!({}));
    run(&world, { let s = s.clone(); async move { s.ensure().await } }).unwrap();
    let stored = world.stored().unwrap();
    let text = stored.to_string();
    assert!(!text.contains("SECRET-KEY") && !text.contains("openid"), "{text}");
    let keys: Vec<_> = stored.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, ["expiresAt", "obtainedAt", "token", "v"]);
}

#[test]
fn relaunch_reuses_a_checked_stored_token() {
    let world = World::new();
    store_record(&world, "kept");
    let s = session(&world, CHECK_ALWAYS());
    let ready = run(&world, { let s = s.clone(); async move { s.ensure().await } }).unwrap();
    assert_eq!((ready.source, ready.token.as_str()), (Source::Storage, "kept"));
    assert_eq!(world.login_calls.get(), 0);
    let checks = world.sent_to("/auth");
    assert_eq!(checks.len(), 1);
    assert_eq!(checks[0].header("token"), Some("kept"));
}

#[test]
fn relaunch_without_a_check_trusts_storage() {
    let world = World::new();
    store_record(&world, "kept");
    let s = session(&world, json!({}));
    let ready = run(&world, { let s = s.clone(); async move { s.ensure().await } }).unwrap();
    assert_eq!(ready.source, Source::Storage);
    assert!(world.sent.borrow().is_empty());
}

#[test]
fn invalid_stored_token_leads_to_a_login() {
    let world = World::new();
    store_record(&world, "revoked");
    world.valid_tokens.borrow_mut().clear();
    let s = session(&world, CHECK_ALWAYS());
    let ready = run(&world, { let s = s.clone(); async move { s.ensure().await } }).unwrap();
    assert_eq!((ready.source, ready.token.as_str()), (Source::Login, "tok-1"));
    assert_eq!(world.stored_token().as_deref(), Some("tok-1"));
}

#[test]
fn failed_check_session_leads_to_a_login() {
    let world = World::new();
    store_record(&world, "kept");
    world.check_session_ok.set(false);
    let s = session(&world, json!({ "useCheckSession": true }));
    let ready = run(&world, { let s = s.clone(); async move { s.ensure().await } }).unwrap();
    assert_eq!(ready.source, Source::Login);
}

#[test]
fn every_login_attempt_uses_a_fresh_code() {
    let world = World::new();
    world.login_failures.set(1);
    let failed_once = Cell::new(false);
    world.serve(move |w, sent| {
        if sent.path() == "/login" && !failed_once.replace(true) {
            // The code reached the server, which consumed it, then the answer got lost.
            let code = sent.body.as_ref().and_then(|b| b.get("code")).and_then(Value::as_str).unwrap_or("");
            w.used_codes.borrow_mut().insert(code.to_owned());
            return Reply::Answer(503, json!({}));
        }
        w.backend(sent)
    });
    let s = session(&world, json!({ "retries": 3 }));
    let ready = run(&world, { let s = s.clone(); async move { s.ensure().await } }).unwrap();
    assert_eq!(ready.source, Source::Login);
    let codes: Vec<_> = world.sent_to("/login").iter().map(|s| s.body.clone().unwrap()["code"].clone()).collect();
    assert_eq!(codes, [json!("code-2"), json!("code-3")], "wx.login call 1 failed; each request has its own code");
    assert_eq!(world.login_calls.get(), 3);
}

#[test]
fn retries_are_bounded_and_the_next_call_tries_again() {
    let world = World::new();
    world.serve(|_, _| Reply::Fail("request:fail -2:net::ERR_FAILED"));
    let s = session(&world, json!({ "retries": 2 }));
    let err = run(&world, { let s = s.clone(); async move { s.ensure().await } }).unwrap_err();
    assert_eq!(err.code(), "NETWORK");
    assert_eq!(world.sent_to("/login").len(), 3, "1 try + 2 retries");
    assert_eq!(world.login_calls.get(), 3, "a fresh code for each");
    assert_eq!(world.states.borrow().last().copied(), Some((State::Failed, Some("NETWORK"))));

    world.serve(|w, sent| w.backend(sent));
    let ready = run(&world, { let s = s.clone(); async move { s.ensure().await } }).unwrap();
    assert_eq!(ready.source, Source::Login, "not stuck in failed or logging-in");
}

#[test]
fn bad_login_answer_keeps_the_old_token() {
    let world = World::new();
    store_record(&world, "old");
    world.valid_tokens.borrow_mut().clear();
    let before = world.stored();
    world.serve(|w, sent| match sent.path() {
        "/login" => Reply::Answer(200, json!({ "token": 12345 })),
        _ => w.backend(sent),
    });
    let s = session(&world, CHECK_ALWAYS());
    let err = run(&world, { let s = s.clone(); async move { s.ensure().await } }).unwrap_err();
    assert_eq!(err.code(), "BAD_RESPONSE");
    assert!(err.to_string().contains("`token` is not a string"), "{err}");
    assert_eq!(world.stored(), before);
    assert_eq!(world.sent_to("/login").len(), 1, "a malformed answer is not retried");
}

#[test]
fn rejected_login_is_not_retried() {
    let world = World::new();
    world.serve(|_, _| Reply::Answer(400, json!({ "errcode": 40029 })));
    let s = session(&world, json!({}));
    let err = run(&world, { let s = s.clone(); async move { s.ensure().await } }).unwrap_err();
    assert_eq!(err, Error::ServerRejected { endpoint: "login", status: 400 });
    assert_eq!(world.sent_to("/login").len(), 1);
}

#[test]
fn wx_login_that_never_answers_times_out() {
    let world = World::new();
    let s = session(&world, json!({ "retries": 0, "timeoutMs": 1000 }));
    // A host whose wx.login hangs: emulate by a latency far beyond the limit.
    world.latency_ms.set(60_000);
    let err = run(&world, { let s = s.clone(); async move { s.ensure().await } }).unwrap_err();
    assert_eq!(err, Error::Timeout { ms: 1000 });
}

#[test]
fn storage_that_throws_keeps_the_session_in_memory() {
    let world = World::new();
    world.storage_full.set(true);
    let s = session(&world, json!({}));
    let ready = run(&world, { let s = s.clone(); async move { s.ensure().await } }).unwrap();
    assert_eq!(ready.source, Source::Login);
    assert!(world.states.borrow().iter().any(|(_, code)| *code == Some("STORAGE")));
    let profile = run(&world, profile(&s)).unwrap();
    assert_eq!(profile.0, 200);
}

// ---------------------------------------------------------------------------------------------
// Requests.

#[test]
fn fifty_concurrent_requests_on_a_cold_start_cost_one_login() {
    let world = World::new();
    let s = session(&world, json!({}));
    let results = run_all(&world, (0..50).map(|_| profile(&s)).collect());
    assert!(results.iter().all(|r| matches!(r, Ok((200, _)))));
    assert_eq!(world.login_calls.get(), 1);
    assert_eq!(world.sent_to("/login").len(), 1);
    assert_eq!(world.sent_to("/api/profile").len(), 50);
}

#[test]
fn fifty_requests_with_a_revoked_token_cost_one_relogin() {
    let world = World::new();
    store_record(&world, "revoked");
    let s = session(&world, json!({}));
    run(&world, { let s = s.clone(); async move { s.ensure().await } }).unwrap();
    world.valid_tokens.borrow_mut().remove("revoked");
    let results = run_all(&world, (0..50).map(|_| profile(&s)).collect());
    assert!(results.iter().all(|r| matches!(r, Ok((200, _)))), "all 50 succeed");
    assert_eq!(world.login_calls.get(), 1);
    assert_eq!(world.sent_to("/api/profile").len(), 100, "each sent once with the old token, once with the new");
    assert_eq!(world.stored_token().as_deref(), Some("tok-1"));
}

#[test]
fn a_stale_invalid_answer_does_not_log_in_again() {
    let world = World::new();
    store_record(&world, "old");
    let s = session(&world, json!({}));
    run(&world, { let s = s.clone(); async move { s.ensure().await } }).unwrap();
    world.valid_tokens.borrow_mut().remove("old");
    // The order request goes out with `old` and its 401 comes back long after the profile
    // request's 401 has already triggered the re-login.
    world.slow_paths.borrow_mut().insert("/api/order".into(), 500);
    let slow = { let s = s.clone(); async move { s.request(ApiRequest::get("/api/order")).await } };
    let results = run_all(&world, vec![Box::pin(slow) as Pin<Box<dyn Future<Output = _>>>, Box::pin(profile(&s))]);
    assert!(results.iter().all(|r| matches!(r, Ok((200, _)))), "{results:?}");
    assert_eq!(world.login_calls.get(), 1, "the late 401 for `old` reuses the new token");
    let orders = world.sent_to("/api/order");
    let tokens: Vec<_> = orders.iter().map(|o| o.header("token")).collect();
    assert_eq!(tokens, [Some("old"), Some("tok-1")]);
}

#[test]
fn a_server_that_always_says_invalid_gets_bounded_logins() {
    let world = World::new();
    world.serve(|w, sent| match sent.path() {
        "/api/profile" => Reply::Answer(401, json!({})),
        _ => w.backend(sent),
    });
    let s = session(&world, json!({}));
    let results = run_all(&world, (0..20).map(|_| profile(&s)).collect());
    assert!(results.iter().all(|r| r.as_ref().err() == Some(&Error::SessionExpired)));
    assert_eq!(world.login_calls.get(), 2, "launch login + one shared re-login");
    assert_eq!(world.sent_to("/api/profile").len(), 40);
}

#[test]
fn answers_out_of_order_from_an_always_invalid_server_still_cost_two_logins() {
    let world = World::new();
    world.stagger_ms.set(400);
    world.serve(|w, sent| match sent.path() {
        "/api/profile" => Reply::Answer(401, json!({})),
        _ => w.backend(sent),
    });
    let s = session(&world, json!({}));
    let results = run_all(&world, (0..20).map(|_| profile(&s)).collect());
    assert!(results.iter().all(|r| r.as_ref().err() == Some(&Error::SessionExpired)), "{results:?}");
    assert_eq!(world.login_calls.get(), 2, "a late 401 for the first token must not start a third login");
}

#[test]
fn post_is_not_retried_on_network_errors_unless_asked() {
    let world = World::new();
    store_record(&world, "t");
    world.serve(|w, sent| match sent.path() {
        "/api/order" => Reply::Fail("request:fail -2:net::ERR_FAILED"),
        _ => w.backend(sent),
    });
    let s = session(&world, json!({ "retries": 2 }));
    let post = |retry: bool| {
        let s = s.clone();
        async move {
            let mut req = ApiRequest::get("/api/order");
            req.method = Method::Post;
            req.retry = retry;
            s.request(req).await
        }
    };
    assert_eq!(run(&world, post(false)).unwrap_err().code(), "NETWORK");
    assert_eq!(world.sent_to("/api/order").len(), 1);
    assert_eq!(world.sent_to("/api/order")[0].method, "POST");
    assert_eq!(run(&world, post(true)).unwrap_err().code(), "NETWORK");
    assert_eq!(world.sent_to("/api/order").len(), 4, "opted-in POST: 1 + 2 retries");
    let get = { let s = s.clone(); async move { s.request(ApiRequest::get("/api/order")).await } };
    assert_eq!(run(&world, get).unwrap_err().code(), "NETWORK");
    assert_eq!(world.sent_to("/api/order").len(), 7, "GET: 1 + 2 retries");
}

#[test]
fn retry_delays_grow_between_attempts() {
    let world = World::new();
    store_record(&world, "t");
    let times = Rc::new(RefCell::new(Vec::new()));
    let seen = Rc::clone(&times);
    world.serve(move |w, sent| {
        if sent.path() == "/api/profile" {
            seen.borrow_mut().push(w.now.get());
            return Reply::Fail("request:fail -2:net::ERR_FAILED");
        }
        w.backend(sent)
    });
    let s = session(&world, json!({ "retries": 4 }));
    run(&world, profile(&s)).unwrap_err();
    let times = times.borrow();
    let gaps: Vec<f64> = times.windows(2).map(|w| w[1] - w[0] - 50.0).collect();
    // random() = 0.5 → 3/4 of each ceiling: 300, 600, 1200, 2400 ceilings.
    assert_eq!(gaps, [225.0, 450.0, 900.0, 1800.0]);
}

#[test]
fn a_hanging_request_times_out() {
    let world = World::new();
    store_record(&world, "t");
    world.serve(|w, sent| match sent.path() {
        "/api/profile" => Reply::Hang,
        _ => w.backend(sent),
    });
    let s = session(&world, json!({ "retries": 0, "timeoutMs": 3000 }));
    let start = world.now.get();
    let mut req = ApiRequest::get("/api/profile");
    req.timeout_ms = Some(700);
    let err = run(&world, { let s = s.clone(); async move { s.request(req).await } }).unwrap_err();
    assert_eq!(err, Error::Timeout { ms: 700 });
    assert_eq!(world.now.get() - start, 700.0);
}

#[test]
fn a_failed_login_rejects_every_waiter_with_the_same_error() {
    let world = World::new();
    world.serve(|_, _| Reply::Answer(400, json!({ "errcode": 40029 })));
    let s = session(&world, json!({}));
    let results = run_all(&world, (0..10).map(|_| profile(&s)).collect());
    for r in &results {
        assert_eq!(r.as_ref().err(), Some(&Error::ServerRejected { endpoint: "login", status: 400 }));
    }
    assert_eq!(world.login_calls.get(), 1);
}

#[test]
fn unauthenticated_requests_skip_token_and_relogin() {
    let world = World::new();
    let s = session(&world, json!({}));
    let mut req = ApiRequest::get("/api/profile");
    req.auth = false;
    let response = run(&world, { let s = s.clone(); async move { s.request(req).await } }).unwrap();
    assert_eq!(response.0, 401);
    assert_eq!(world.login_calls.get(), 0);
    assert_eq!(world.sent_to("/api/profile")[0].header("token"), None);
}

#[test]
fn logout_during_a_login_does_not_resurrect_the_session() {
    let world = World::new();
    let s = session(&world, json!({}));
    let waiting = { let s = s.clone(); async move { s.ensure().await.map(|r| r.token) } };
    let logout = {
        let s = s.clone();
        let world = Rc::clone(&world);
        async move {
            ScriptedHost(world).sleep_for(30).await; // wx.login done, login request in flight
            s.logout().await.map(|()| Token::new("x").unwrap())
        }
    };
    let results = run_all(&world, vec![Box::pin(waiting) as Pin<Box<dyn Future<Output = _>>>, Box::pin(logout)]);
    assert_eq!(results[0], Err(Error::LoggedOut));
    assert_eq!(world.stored(), None, "the late login answer was not stored");
    assert_eq!(world.states.borrow().last().copied(), Some((State::Idle, None)));
}

#[test]
fn token_header_and_prefix_are_configurable() {
    let world = World::new();
    world.serve(|w, sent| match sent.path() {
        "/api/profile" => Reply::Answer(200, json!({ "auth": sent.header("Authorization") })),
        _ => w.backend(sent),
    });
    let s = session(&world, json!({ "tokenHeader": "Authorization", "tokenPrefix": "Bearer " }));
    let response = run(&world, profile(&s)).unwrap();
    assert_eq!(response.1, json!({ "auth": "Bearer tok-1" }));
}

#[test]
fn logout_with_a_request_in_flight_does_not_log_back_in() {
    let world = World::new();
    store_record(&world, "old");
    let s = session(&world, json!({}));
    run(&world, { let s = s.clone(); async move { s.ensure().await } }).unwrap();
    world.valid_tokens.borrow_mut().clear(); // the answer in flight will be a 401
    let in_flight = { let s = s.clone(); async move { s.request(ApiRequest::get("/api/profile")).await.map(|_| ()) } };
    let logout = {
        let s = s.clone();
        let world = Rc::clone(&world);
        async move {
            ScriptedHost(world).sleep_for(10).await;
            s.logout().await
        }
    };
    let results = run_all(&world, vec![Box::pin(in_flight) as Pin<Box<dyn Future<Output = _>>>, Box::pin(logout)]);
    assert_eq!(results[0], Err(Error::LoggedOut));
    assert_eq!(world.login_calls.get(), 0, "no login behind the app's back");
    assert_eq!(world.stored(), None, "the old token is not written back");
}

// ---------------------------------------------------------------------------------------------
// Protocol options, check policies, storage shapes.

fn ensure_of(s: &Session<ScriptedHost>) -> impl Future<Output = Result<Ready, Error>> + 'static {
    let s = s.clone();
    async move { s.ensure().await }
}

fn store_with_expiry(world: &World, token: &str, expires_in_ms: Option<f64>) {
    world.valid_tokens.borrow_mut().insert(token.to_owned());
    let now = world.now.get();
    let record = StoredToken { token: Token::new(token).unwrap(), expires_at: expires_in_ms.map(|ms| now + ms), obtained_at: Some(now - 3_600_000.0) };
    world.storage.borrow_mut().insert("token".into(), record.to_value());
}

fn policy(name: &str) -> Value {
    json!({ "check": { "url": "/auth", "okWhen": { "path": "errCode", "equals": 0 }, "policy": name } })
}

#[test]
fn when_unknown_trusts_a_known_fresh_token_without_any_network() {
    let world = World::new();
    store_with_expiry(&world, "fresh", Some(3_600_000.0));
    let mut config = policy("when-unknown");
    config["useCheckSession"] = json!(true);
    let s = session(&world, config);
    let ready = run(&world, ensure_of(&s)).unwrap();
    assert_eq!(ready.source, Source::Storage);
    assert!(world.sent.borrow().is_empty(), "no request at all");
    assert_eq!(world.login_calls.get(), 0);
}

#[test]
fn a_known_expired_token_goes_straight_to_login() {
    for name in ["when-unknown", "always", "never"] {
        let world = World::new();
        store_with_expiry(&world, "stale", Some(-1.0));
        let s = session(&world, policy(name));
        let ready = run(&world, ensure_of(&s)).unwrap();
        assert_eq!(ready.source, Source::Login, "{name}");
        assert!(world.sent_to("/auth").is_empty(), "{name}: no check of a token known to be expired");
    }
}

#[test]
fn a_token_expiring_within_the_margin_is_refreshed() {
    let world = World::new();
    store_with_expiry(&world, "almost", Some(30_000.0)); // 30 s left of a long lifetime
    let s = session(&world, policy("when-unknown"));
    assert_eq!(run(&world, ensure_of(&s)).unwrap().source, Source::Login);
}

#[test]
fn each_policy_checks_when_it_should() {
    let cases = [("always", Some(3_600_000.0), 1), ("always", None, 1), ("when-unknown", None, 1), ("never", None, 0)];
    for (name, expiry, checks) in cases {
        let world = World::new();
        store_with_expiry(&world, "t", expiry);
        let s = session(&world, policy(name));
        assert_eq!(run(&world, ensure_of(&s)).unwrap().source, Source::Storage, "{name}");
        assert_eq!(world.sent_to("/auth").len(), checks, "{name} with expiry {expiry:?}");
    }
}

#[test]
fn expiry_from_the_login_answer_is_stored_and_used_by_the_clock() {
    let world = World::new();
    world.serve(|w, sent| match sent.path() {
        "/login" => match w.backend(sent) {
            Reply::Answer(200, mut body) => {
                body["expiresIn"] = json!("120"); // some servers send a numeric string
                Reply::Answer(200, body)
            }
            other => other,
        },
        _ => w.backend(sent),
    });
    let s = session(&world, json!({ "login": { "expiresInPath": "expiresIn" } }));
    run(&world, ensure_of(&s)).unwrap();
    let stored = world.stored().unwrap();
    assert_eq!(stored["expiresAt"].as_f64().unwrap() - stored["obtainedAt"].as_f64().unwrap(), 120_000.0);

    // Relaunch two minutes later with `when-unknown`: known expired → straight to login.
    world.now.set(world.now.get() + 120_000.0);
    let s = session(&world, json!({ "login": { "expiresInPath": "expiresIn" }, "check": { "policy": "when-unknown" } }));
    assert_eq!(run(&world, ensure_of(&s)).unwrap().source, Source::Login);
    assert!(world.sent_to("/auth").is_empty());
}

#[test]
fn a_malformed_expiry_is_a_bad_response() {
    let world = World::new();
    world.serve(|_, _| Reply::Answer(200, json!({ "token": "t", "expiresIn": "soon" })));
    let s = session(&world, json!({ "login": { "expiresInPath": "expiresIn" } }));
    let err = run(&world, ensure_of(&s)).unwrap_err();
    assert_eq!(err.code(), "BAD_RESPONSE");
    assert_eq!(world.stored(), None);
}

#[test]
fn a_legacy_plain_string_token_keeps_the_user_logged_in_and_is_migrated() {
    let world = World::new();
    world.valid_tokens.borrow_mut().insert("hand-rolled".into());
    world.storage.borrow_mut().insert("token".into(), json!("hand-rolled"));
    let s = session(&world, CHECK_ALWAYS());
    let ready = run(&world, ensure_of(&s)).unwrap();
    assert_eq!((ready.source, ready.token.as_str()), (Source::Storage, "hand-rolled"));
    assert_eq!(world.login_calls.get(), 0);
    let stored = world.stored().unwrap();
    assert_eq!((stored["v"].clone(), stored["token"].clone()), (json!(1), json!("hand-rolled")), "rewritten as a record");
}

#[test]
fn corrupt_storage_counts_as_no_token_and_is_replaced_only_by_a_successful_login() {
    for corrupt in [json!(42), json!({ "user": 1 }), json!("{\"v\":1,"), json!([1])] {
        let world = World::new();
        world.storage.borrow_mut().insert("token".into(), corrupt.clone());
        world.serve(|_, _| Reply::Answer(400, json!({ "errcode": 40029 })));
        let s = session(&world, json!({}));
        assert_eq!(run(&world, ensure_of(&s)).unwrap_err().code(), "SERVER_REJECTED");
        assert_eq!(world.stored(), Some(corrupt.clone()), "left alone after a failed login");
        world.serve(|w, sent| w.backend(sent));
        assert_eq!(run(&world, ensure_of(&s)).unwrap().source, Source::Login);
        assert_eq!(world.stored_token().as_deref(), Some("tok-1"), "{corrupt}");
    }
}

#[test]
fn storage_that_cannot_be_read_is_reported_and_the_flow_logs_in() {
    let world = World::new();
    world.storage_unreadable.set(true);
    let s = session(&world, json!({}));
    assert_eq!(run(&world, ensure_of(&s)).unwrap().source, Source::Login);
    assert!(world.states.borrow().contains(&(State::Checking, Some("STORAGE"))));
}

#[test]
fn the_code_travels_where_configured() {
    // wafer2-style: GET with the code in a header, token at data.skey, code 0 means OK.
    let world = World::new();
    world.serve(|w, sent| match sent.path() {
        "/weapp/login" => {
            assert_eq!(sent.method, "GET");
            assert_eq!(sent.body, None, "a GET login carries no body");
            match w.redeem(sent.header("X-WX-Code").unwrap_or("")) {
                Reply::Answer(200, body) => Reply::Answer(200, json!({ "code": 0, "data": { "skey": body["token"] } })),
                _ => Reply::Answer(200, json!({ "code": -1, "error": "ERR_LOGIN_FAILED" })),
            }
        }
        _ => w.backend(sent),
    });
    let config = json!({ "login": { "url": "/weapp/login", "method": "GET", "codeIn": "header", "codeKey": "X-WX-Code",
        "tokenPath": "data.skey", "okWhen": { "path": "code", "equals": 0 } } });
    let s = session(&world, config);
    assert_eq!(run(&world, ensure_of(&s)).unwrap().token.as_str(), "tok-1");

    // Seed 001: GET /user/login?code=…, answer {code: 200, msg, token}.
    let world = World::new();
    world.serve(|w, sent| {
        let code = sent.url.split("code=").nth(1).unwrap_or("");
        match w.redeem(code) {
            Reply::Answer(200, body) => Reply::Answer(200, json!({ "code": 200, "msg": "登录成功", "token": body["token"] })),
            _ => Reply::Answer(200, json!({ "code": 500, "msg": "登录失败" })),
        }
    });
    let config = json!({ "login": { "url": "/user/login?from=app", "method": "GET", "codeIn": "query", "okWhen": { "path": "code", "equals": 200 } } });
    let s = session(&world, config);
    assert_eq!(run(&world, ensure_of(&s)).unwrap().token.as_str(), "tok-1");
    assert!(world.sent.borrow()[0].url.ends_with("/user/login?from=app&code=code-1"), "{}", world.sent.borrow()[0].url);
}

#[test]
fn a_business_code_that_says_no_is_server_rejected() {
    let world = World::new();
    world.serve(|_, _| Reply::Answer(200, json!({ "code": 500, "msg": "登录失败", "token": "ignored" })));
    let s = session(&world, json!({ "login": { "okWhen": { "path": "code", "equals": 200 } } }));
    assert_eq!(run(&world, ensure_of(&s)).unwrap_err(), Error::ServerRejected { endpoint: "login", status: 200 });
    assert_eq!(world.stored(), None);
}

#[test]
fn login_extra_is_merged_and_its_failure_is_typed() {
    let world = World::new();
    let s = session(&world, json!({ "login": { "hasExtra": true } }));
    run(&world, ensure_of(&s)).unwrap();
    assert_eq!(world.sent_to("/login")[0].body, Some(json!({ "iv": "iv-1", "encryptedData": "enc", "code": "code-1" })));

    let world = World::new();
    *world.extra.borrow_mut() = Some(Err("getUserProfile:fail auth deny".into()));
    let s = session(&world, json!({ "login": { "hasExtra": true } }));
    let err = run(&world, ensure_of(&s)).unwrap_err();
    assert_eq!(err.code(), "LOGIN_EXTRA_FAILED");
    assert!(world.sent_to("/login").is_empty(), "nothing sent when the user refused");

    let world = World::new();
    *world.extra.borrow_mut() = Some(Ok(json!("not an object")));
    let s = session(&world, json!({ "login": { "hasExtra": true } }));
    assert_eq!(run(&world, ensure_of(&s)).unwrap_err().code(), "LOGIN_EXTRA_FAILED");
}

#[test]
fn an_invalid_session_in_a_200_body_triggers_the_relogin() {
    // wafer2: HTTP 200 {code: -1} means the skey is invalid.
    let world = World::new();
    store_record(&world, "old");
    world.valid_tokens.borrow_mut().clear();
    world.serve(|w, sent| match sent.path() {
        "/api/profile" => {
            let ok = sent.header("X-WX-Skey").is_some_and(|t| w.valid_tokens.borrow().contains(t));
            Reply::Answer(200, if ok { json!({ "code": 0, "data": {} }) } else { json!({ "code": -1, "error": "ERR_SKEY_INVALID" }) })
        }
        _ => w.backend(sent),
    });
    let s = session(&world, json!({ "tokenHeader": "X-WX-Skey", "invalidWhen": [{ "path": "code", "equals": -1 }] }));
    let response = run(&world, profile(&s)).unwrap();
    assert_eq!(response.1["code"], json!(0));
    assert_eq!(world.login_calls.get(), 1);
}
