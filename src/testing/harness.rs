//! [`Harness`]: the scripted tests' driver. A [`Driver`] whose actions are performed by a
//! [`World`] as they come, answers scheduled on a virtual clock. Deterministic: time jumps to
//! the next scheduled answer or machine deadline only when nothing else is left to do.

use std::collections::HashMap;

use serde_json::{json, Value};

use super::driver::{Driver, Reply};
use super::world::{http_fault, huge, read_field, storage_value, stored_garbage, Capability, Fault, Garbage, Response, Sent, World, HTML};
use crate::answer::{Answer, ReadSet};
use crate::config::Config;
use crate::error::Error;
use crate::session::{Action, ApiRequest, CallId, OpId, Resolution, Session, Source};
use crate::token::StorageValue;
use crate::Millis;

/// How a call settled, with the answer's JSON body.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// `ensure()`/`login()`: the token and where it came from.
    Ready(String, Source),
    /// `request()`: the status and body of the answer it resolved with.
    Answer(u16, Value),
    /// `logout()`, `set_token()`.
    Done,
    /// The call was rejected with this error.
    Failed(Error),
}

impl Outcome {
    /// The token and its source; panics on any other outcome.
    pub fn ready(self) -> (String, Source) {
        match self {
            Outcome::Ready(token, source) => (token, source),
            other => panic!("expected a token, got {other:?}"),
        }
    }
    /// The status and body; panics on any other outcome.
    pub fn answer(self) -> (u16, Value) {
        match self {
            Outcome::Answer(status, body) => (status, body),
            other => panic!("expected an answer, got {other:?}"),
        }
    }
    /// The answer's status; panics on any other outcome.
    pub fn status(self) -> u16 {
        self.answer().0
    }
    /// The error; panics on any other outcome.
    pub fn error(self) -> Error {
        match self {
            Outcome::Failed(error) => error,
            other => panic!("expected an error, got {other:?}"),
        }
    }
    /// The error's code; panics on any other outcome.
    pub fn code(self) -> &'static str {
        self.error().code()
    }
}

/// Something the world will tell the machine at a given time.
enum Event {
    CheckSession(OpId, bool),
    WxLogin(OpId),
    Extra(OpId),
    Http(OpId, Sent, ReadSet),
}

impl Event {
    fn op(&self) -> OpId {
        match self {
            Event::CheckSession(op, _) | Event::WxLogin(op) | Event::Extra(op) | Event::Http(op, _, _) => *op,
        }
    }
}

/// The clock when a harness starts (2023-11-14, as `Date.now()` reads).
pub const START: Millis = 1_700_000_000_000;
/// More steps than any script needs: past this, the machine is looping.
const MAX_STEPS: u32 = 100_000;
/// The jitter seed of every harness session.
pub const SEED: u32 = 1;

/// A config over `http://dev.test` without `wx.checkSession`, plus `extra`'s keys.
pub fn config(extra: Value) -> Config {
    let mut base = json!({ "baseUrl": "http://dev.test", "useCheckSession": false });
    if let (Value::Object(base), Value::Object(extra)) = (&mut base, extra) {
        base.extend(extra);
    }
    Config::from_json(&base.to_string()).expect("test config is valid")
}

/// The machine, the world, and the clock: tests read as scripts of calls and runs.
///
/// Every action is checked by the [`Driver`] (see its list), then performed by the
/// [`World`]: storage at once, `wx.*` and HTTP after their latency. `run` jumps the clock from
/// one answer or deadline to the next until the calls asked for settle.
///
/// ```
/// use serde_json::json;
/// use wx_session::testing::{Harness, World};
/// use wx_session::Source;
///
/// let mut h = Harness::new(World::default(), json!({}));
/// let call = h.ensure();
/// assert_eq!(h.run(call).ready(), ("tok-1".into(), Source::Login));
/// assert_eq!(h.world.sent_to("/login")[0].body, Some(json!({ "code": "code-1" })));
/// ```
pub struct Harness {
    /// The machine, its clock and the driver's books: `h.driver.now` moves the clock.
    pub driver: Driver,
    /// The platform and backend: set knobs and faults on it, read what it saw.
    pub world: World,
    /// Scheduled events: (due, sequence, event).
    pending: Vec<(Millis, u64, Event)>,
    seq: u64,
    outcomes: HashMap<CallId, Outcome>,
    /// Answers the backend gave, by operation, until a call resolves with one.
    answers: HashMap<OpId, (u16, Value)>,
    /// The last `login.extra()` object, merged into login bodies.
    extra_object: Option<Value>,
    /// The objects `login(extra)` calls passed, by call.
    call_extras: HashMap<CallId, Value>,
}

impl Harness {
    /// A session over [`config`]`(config_extra)`, on `world`, at [`START`].
    pub fn new(world: World, config_extra: Value) -> Harness {
        Harness::build(world, config(config_extra), false)
    }

    /// A session whose app has a `login.extra()` (its result is `world.extra`).
    pub fn with_login_extra(world: World, config_extra: Value) -> Harness {
        Harness::build(world, config(config_extra), true)
    }

    fn build(world: World, config: Config, login_extra: bool) -> Harness {
        Harness {
            driver: Driver::new(config, SEED, login_extra, START),
            world,
            pending: Vec::new(),
            seq: 0,
            outcomes: HashMap::new(),
            answers: HashMap::new(),
            extra_object: None,
            call_extras: HashMap::new(),
        }
    }

    /// A new app launch over the same storage and backend: a fresh machine; the clock goes on.
    pub fn relaunch(self, config_extra: Value) -> Harness {
        let mut next = Harness::new(self.world, config_extra);
        next.world.sent.clear();
        next.world.states.clear();
        next.world.login_calls = 0;
        next.driver.now = self.driver.now;
        next
    }

    /// The clock.
    pub fn now(&self) -> Millis {
        self.driver.now
    }

    /// The machine.
    pub fn session(&self) -> &Session {
        &self.driver.session
    }

    /// Every action the machine asked for, for tests that look at the protocol itself.
    pub fn log(&self) -> &[Action] {
        &self.driver.log
    }

    /// The operations the machine cancelled, in order.
    pub fn cancelled(&self) -> &[OpId] {
        &self.driver.cancelled
    }

    /// `session.ensure()`.
    pub fn ensure(&mut self) -> CallId {
        let call = self.driver.ensure();
        self.perform();
        call
    }

    /// `session.request(api)` (or an upload or download, as `api.kind` says).
    pub fn request(&mut self, api: ApiRequest) -> CallId {
        let call = self.driver.request(api);
        self.perform();
        call
    }

    /// A GET of `url` with the defaults.
    pub fn get(&mut self, url: &str) -> CallId {
        self.request(ApiRequest::get(url))
    }

    /// `session.logout()`.
    pub fn logout(&mut self) -> CallId {
        let call = self.driver.logout();
        self.perform();
        call
    }

    /// `session.login(extra)`: the harness keeps `extra` for that login's body, as the glue does.
    pub fn login(&mut self, extra: Value) -> CallId {
        let call = self.driver.login();
        self.call_extras.insert(call, extra);
        self.perform();
        call
    }

    /// `session.setToken(token, expiresIn)`.
    pub fn set_token(&mut self, token: &str, expires_in_s: Option<u32>) -> CallId {
        self.set_token_pair(token, None, expires_in_s)
    }

    /// `setToken(token, { refreshToken, expiresIn })`.
    pub fn set_token_pair(&mut self, token: &str, refresh_token: Option<&str>, expires_in_s: Option<u32>) -> CallId {
        let call = self.driver.set_token_pair(token, refresh_token, expires_in_s);
        self.perform();
        call
    }

    /// `abort()` of `call`.
    pub fn abort(&mut self, call: CallId) {
        self.driver.abort(call);
        self.perform();
    }

    /// Tells the machine something directly (a late or made-up result), then performs what it
    /// asks for.
    pub fn feed(&mut self, event: impl FnOnce(&mut Session, Millis)) {
        self.driver.input(event);
        self.perform();
    }

    /// Runs until `call` settles; panics if everything stops first (a hang).
    pub fn run(&mut self, call: CallId) -> Outcome {
        self.run_all(&[call]).pop().expect("one outcome")
    }

    /// Runs until every one of `calls` settles.
    pub fn run_all(&mut self, calls: &[CallId]) -> Vec<Outcome> {
        let mut steps = 0;
        while !calls.iter().all(|c| self.outcomes.contains_key(c)) {
            assert!(self.step(), "calls {calls:?} are stuck: nothing scheduled, no deadline");
            steps += 1;
            assert!(steps < MAX_STEPS, "calls {calls:?} unsettled after {MAX_STEPS} steps: a livelock");
        }
        calls.iter().map(|c| self.outcomes[c].clone()).collect()
    }

    /// Runs until nothing is scheduled and the machine waits for nothing; then every call has
    /// settled and every operation was answered or cancelled ([`Driver::assert_idle`]).
    pub fn run_until_idle(&mut self) {
        let mut steps = 0;
        while self.step() {
            steps += 1;
            assert!(steps < MAX_STEPS, "still busy after {MAX_STEPS} steps: a livelock");
        }
        self.driver.assert_idle();
    }

    /// The ids of the operations the machine started, in order, that `pick` selects.
    pub fn ops(&self, pick: impl Fn(&Action) -> bool) -> Vec<OpId> {
        self.driver.log.iter().filter(|a| pick(a)).filter_map(|action| super::Awaits::of(action).map(|(op, _)| op)).collect()
    }

    /// Moves the clock by `ms`, delivering whatever falls due on the way.
    pub fn advance(&mut self, ms: Millis) {
        let until = self.driver.now + ms;
        while self.next_time().is_some_and(|t| t <= until) {
            self.step();
        }
        self.driver.now = until;
    }

    /// The outcome of `call`, if it settled.
    pub fn outcome(&self, call: CallId) -> Option<&Outcome> {
        self.outcomes.get(&call)
    }

    fn next_time(&self) -> Option<Millis> {
        let next_event = self.pending.iter().map(|(at, _, _)| *at).min();
        match (next_event, self.driver.session.next_deadline()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Jumps to the next thing that happens and lets it happen. `false` when nothing will.
    fn step(&mut self) -> bool {
        let Some(at) = self.next_time() else { return false };
        self.driver.now = self.driver.now.max(at);
        // Events due now, in the order they were scheduled.
        self.pending.sort_by_key(|(at, seq, _)| (*at, *seq));
        while self.pending.first().is_some_and(|(at, _, _)| *at <= self.driver.now) {
            let (_, _, event) = self.pending.remove(0);
            self.deliver(event);
            self.perform();
        }
        if self.driver.session.next_deadline().is_some_and(|d| d <= self.driver.now) {
            self.driver.handle_timeout();
            self.perform();
        }
        true
    }

    fn schedule(&mut self, after_ms: u32, event: Event) {
        self.seq += 1;
        self.pending.push((self.driver.now + Millis::from(after_ms), self.seq, event));
    }

    /// Performs every action the machine asked for (the driver has checked them).
    fn perform(&mut self) {
        while let Some(action) = self.driver.next_action() {
            self.perform_one(action);
        }
    }

    fn perform_one(&mut self, action: Action) {
        let storage = matches!(action, Action::ReadStorage { .. } | Action::WriteStorage { .. } | Action::RemoveStorage { .. });
        if storage && self.world.storage_hangs {
            return;
        }
        match action {
            Action::ReadStorage { op, key } => {
                let value = match self.world.fault(Capability::StorageGet) {
                    Some(Fault::Hangs) => return,
                    Some(Fault::Garbage(Garbage::WrongKind)) => return self.driver.answer(op, Reply::Stored(Ok(()))),
                    Some(Fault::Fails) => StorageValue::Unreadable("getStorageSync:fail data corrupted".into()),
                    Some(Fault::Garbage(garbage)) => stored_garbage(garbage),
                    None if self.world.storage_unreadable => StorageValue::Unreadable("getStorageSync:fail data corrupted".into()),
                    None => storage_value(self.world.storage.get(&key).cloned()),
                };
                self.driver.answer(op, Reply::Read(value));
            }
            Action::WriteStorage { op, key, value } => {
                if let Some(fault) = self.world.fault(Capability::StorageSet) {
                    return self.spoil_storage_done(op, fault);
                }
                if self.world.storage_full {
                    self.driver.answer(op, Reply::Stored(Err("setStorageSync:fail exceed storage max size 10M".into())));
                } else {
                    let value: Value = serde_json::from_str(&value).expect("the record is JSON");
                    self.world.storage.insert(key, value);
                    self.driver.answer(op, Reply::Stored(Ok(())));
                }
            }
            Action::RemoveStorage { op, key } => {
                if let Some(fault) = self.world.fault(Capability::StorageRemove) {
                    return self.spoil_storage_done(op, fault);
                }
                self.world.storage.remove(&key);
                self.driver.answer(op, Reply::Stored(Ok(())));
            }
            Action::CheckSession { op } => {
                if !self.world.check_session_hangs {
                    let ok = self.world.check_session_ok;
                    self.schedule(5, Event::CheckSession(op, ok));
                }
            }
            Action::WxLogin { op, .. } => {
                if !self.world.login_hangs {
                    self.schedule(20, Event::WxLogin(op));
                }
            }
            Action::LoginExtra { op } => {
                if self.world.extra.is_some() {
                    self.schedule(5, Event::Extra(op));
                }
            }
            Action::Send(send) => {
                let mut sent = Sent::new(&send, self.driver.session.config());
                if send.config_extra {
                    if let (Some(Value::Object(body)), Some(Value::Object(extra))) = (&mut sent.body, &self.extra_object) {
                        for (k, v) in extra {
                            body.entry(k.clone()).or_insert(v.clone());
                        }
                    }
                }
                // A `login(extra)` login: that call's object too (the code wins, as in the glue).
                let call_extra = send.call.filter(|_| send.read == ReadSet::Login).and_then(|call| self.call_extras.get(&call));
                if let Some(Value::Object(extra)) = call_extra {
                    let body = sent.body.get_or_insert_with(|| json!({}));
                    if let Value::Object(body) = body {
                        for (k, v) in extra {
                            if Some(k) != send.body.as_ref().map(|(code_key, _)| code_key) {
                                body.insert(k.clone(), v.clone());
                            }
                        }
                    }
                }
                self.world.requests_made += 1;
                let n = self.world.requests_made;
                let stagger = match self.world.stagger_ms {
                    0 => 0,
                    spread => n * 37 % spread,
                };
                let latency = self.world.slow_paths.get(sent.path()).copied().unwrap_or(self.world.latency_ms) + stagger;
                self.schedule(latency, Event::Http(send.op, sent, send.read));
            }
            Action::Cancel { op, .. } => self.pending.retain(|(_, _, event)| event.op() != op),
            Action::Resolve { call, value } => {
                let outcome = match value {
                    Resolution::Ready { token, source } => Outcome::Ready(token.as_str().to_owned(), source),
                    Resolution::Answer { op } => {
                        let (status, body) = self.answers.remove(&op).expect("the machine resolves with an answer it got");
                        Outcome::Answer(status, body)
                    }
                    Resolution::Done => Outcome::Done,
                };
                self.outcomes.insert(call, outcome);
            }
            Action::Reject { call, error } => {
                self.outcomes.insert(call, Outcome::Failed(error));
            }
            Action::Report { state, error } => self.world.states.push((state, error.map(|e| e.code()))),
            Action::AuthRequired { call } => self.world.auth_required.push(call),
        }
    }

    /// Answers storage write or remove `op` as `fault` says (the storage is left as it was).
    fn spoil_storage_done(&mut self, op: OpId, fault: Fault) {
        let err_msg = match fault {
            Fault::Hangs => return,
            Fault::Garbage(Garbage::WrongKind) => return self.driver.answer(op, Reply::Read(StorageValue::Missing)),
            Fault::Fails => "setStorageSync:fail exceed storage max size 10M".to_owned(),
            Fault::Garbage(Garbage::Empty) => String::new(),
            Fault::Garbage(Garbage::Huge) => huge(),
            Fault::Garbage(other) => panic!("a storage write has no {other:?} answer"),
        };
        self.driver.answer(op, Reply::Stored(Err(err_msg)));
    }

    fn deliver(&mut self, event: Event) {
        let wrong_kind = Reply::WxLogin(Ok("code-wrong-kind".into()));
        match event {
            Event::CheckSession(op, ok) => {
                let ok = match self.world.fault(Capability::CheckSession) {
                    None => ok,
                    Some(Fault::Fails) => false,
                    Some(Fault::Hangs) => return,
                    Some(Fault::Garbage(Garbage::WrongKind)) => return self.driver.answer(op, wrong_kind),
                    Some(Fault::Garbage(other)) => panic!("wx.checkSession has no {other:?} answer: the glue reduces it to success or fail"),
                };
                self.driver.answer(op, Reply::CheckSession(ok));
            }
            Event::WxLogin(op) => {
                let fault = self.world.fault(Capability::WxLogin);
                match fault {
                    Some(Fault::Hangs) => return,
                    Some(Fault::Garbage(Garbage::WrongKind)) => return self.driver.answer(op, Reply::CheckSession(true)),
                    _ => {}
                }
                self.world.login_calls += 1;
                self.world.codes_made += 1;
                let answer = match fault {
                    Some(Fault::Garbage(Garbage::Empty)) => Err(String::new()),
                    Some(Fault::Garbage(Garbage::CodeEmpty)) => Ok(String::new()),
                    Some(Fault::Garbage(Garbage::CodeCrLf)) => Ok("code\r\nX-Evil: 1".to_owned()),
                    Some(Fault::Garbage(Garbage::Code2K)) => Ok("c".repeat(2048)),
                    Some(Fault::Garbage(Garbage::Huge)) => Ok(huge()),
                    Some(Fault::Garbage(Garbage::Html)) => Ok(HTML.to_owned()),
                    Some(Fault::Garbage(other)) => panic!("wx.login has no {other:?} answer"),
                    Some(Fault::Fails) => Err("login:fail system error".to_owned()),
                    Some(Fault::Hangs) => unreachable!("answered above"),
                    None if self.world.login_failures > 0 => {
                        self.world.login_failures -= 1;
                        Err("login:fail system error".to_owned())
                    }
                    None => {
                        let code = format!("code-{}", self.world.codes_made);
                        self.world.issued_codes.insert(code.clone());
                        Ok(code)
                    }
                };
                self.driver.answer(op, Reply::WxLogin(answer));
            }
            // As the glue does: an object is kept for the login body, `null` adds nothing,
            // anything else fails the login.
            Event::Extra(op) => {
                let extra = match self.world.fault(Capability::LoginExtra) {
                    None => self.world.extra.clone(),
                    Some(Fault::Hangs) => None,
                    Some(Fault::Garbage(Garbage::WrongKind)) => return self.driver.answer(op, wrong_kind),
                    Some(Fault::Fails) => Some(Err("getUserProfile:fail auth deny".to_owned())),
                    Some(Fault::Garbage(Garbage::WrongType)) => Some(Ok(json!(42))),
                    Some(Fault::Garbage(Garbage::Empty)) => Some(Err(String::new())),
                    Some(Fault::Garbage(Garbage::Huge)) => Some(Err(huge())),
                    Some(Fault::Garbage(other)) => panic!("login.extra() has no {other:?} answer"),
                };
                match extra {
                    Some(Ok(value @ (Value::Object(_) | Value::Null))) => {
                        self.extra_object = Some(value);
                        self.driver.answer(op, Reply::LoginExtra(Ok(())));
                    }
                    Some(Ok(_)) => self.driver.answer(op, Reply::LoginExtra(Err("login.extra() must resolve to an object".into()))),
                    Some(Err(reason)) => self.driver.answer(op, Reply::LoginExtra(Err(reason))),
                    None => {}
                }
            }
            Event::Http(op, mut sent, read) => {
                sent.at = self.driver.now;
                self.world.sent.push(sent.clone());
                let capability = match read {
                    ReadSet::Login => Capability::LoginHttp,
                    ReadSet::Check => Capability::CheckHttp,
                    ReadSet::Api => Capability::ApiHttp,
                    ReadSet::Refresh => Capability::RefreshHttp,
                };
                let response = match self.world.fault(capability) {
                    Some(Fault::Garbage(Garbage::WrongKind)) => return self.driver.answer(op, wrong_kind),
                    Some(fault) => http_fault(fault, read),
                    None => self.world.respond(&sent),
                };
                // The tokens the backend issued: no error may show them.
                for token in self.world.issued_tokens() {
                    self.driver.issue(&token);
                }
                match response {
                    Response::Answer(status, body) => {
                        let fields = self.driver.session.read_paths(read).iter().map(|p| read_field(&body, p)).collect();
                        self.answers.insert(op, (status, body));
                        self.driver.answer(op, Reply::Answered(Answer { status, fields }));
                    }
                    Response::Fail(err_msg) => self.driver.answer(op, Reply::Failed(err_msg.into())),
                    Response::Hang => {}
                }
            }
        }
    }
}
