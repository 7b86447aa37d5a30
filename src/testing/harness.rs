//! The test harness: a fake platform and backend that performs the machine's actions, with a
//! virtual clock. Deterministic: time jumps to the next scheduled answer or machine deadline
//! only when nothing else is left to do.
//!
//! The backend behaves like a developer's server over code2Session: `wx.login` codes work once
//! (40163 after), unknown codes are 40029, and it accepts only the tokens it issued.

use std::collections::{HashMap, HashSet};

use serde_json::{json, Value};

use crate::answer::{Answer, ReadSet};
use crate::config::Config;
use crate::error::Error;
use crate::rule::{Field, Scalar};
use crate::session::{Action, ApiKind, ApiRequest, CallId, OpId, Resolution, Session, Source, State};
use crate::token::{StorageRead, StorageValue, StoredToken};
use crate::Millis;

/// One request as the backend saw it.
#[derive(Debug, Clone)]
pub struct Sent {
    pub kind: ApiKind,
    pub url: String,
    pub method: &'static str,
    pub header: Option<(String, String)>,
    /// The login body: the code field and `login.extra`'s object, merged as the glue does.
    pub body: Option<Value>,
    /// When the backend saw it.
    pub at: Millis,
}

impl Sent {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.header.as_ref().filter(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
    pub fn path(&self) -> &str {
        let rest = self.url.trim_start_matches("http://dev.test");
        rest.split('?').next().unwrap_or(rest)
    }
}

/// What the fake network does with one request.
pub enum Reply {
    Answer(u16, Value),
    Fail(&'static str),
    Hang,
}

type Handler = Box<dyn Fn(&mut World, &Sent) -> Reply>;

/// A host capability the machine uses through its driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Capability {
    StorageGet,
    StorageSet,
    StorageRemove,
    CheckSession,
    WxLogin,
    LoginExtra,
    /// The login exchange (`Send` with [`ReadSet::Login`]).
    LoginHttp,
    /// The server check (`Send` with [`ReadSet::Check`]).
    CheckHttp,
    /// An API request (`Send` with [`ReadSet::Api`]).
    ApiHttp,
}

/// What a faulty capability does instead of its job. A JS exception never reaches the machine:
/// the glue catches every `wx.*` call that throws and reports it as the platform's failure, so
/// "throws" is [`Fault::Fails`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The platform's failure: storage unreadable or refusing, `checkSession` false, an errMsg.
    Fails,
    /// Never answers: only the machine's deadline ends the operation.
    Hangs,
    /// Answers, with garbage.
    Garbage(Garbage),
}

/// The garbage a capability answers with (not every kind fits every capability).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Garbage {
    /// A value of the wrong type: a number for the token or for `login.extra()`'s object, the
    /// string `"0"` for the check's numeric `errCode`.
    WrongType,
    /// An HTML error page where JSON (or a code) belongs.
    Html,
    /// An empty value, body or errMsg.
    Empty,
    /// A 1 MB string.
    Huge,
    /// Too deep or cyclic to read: the glue reports `Field::Other` / `StorageValue::Unreadable`.
    Deep,
    /// HTTP status 0 with an empty body: no HTTP answer, so a network failure.
    Status0,
    /// A token with CR/LF in it.
    TokenCrLf,
    /// `wx.login` succeeding without a code, with CR/LF in it, or with 2 KB of it.
    CodeEmpty,
    CodeCrLf,
    Code2K,
    /// A result of another kind for the operation (a driver mixing up its callbacks); the
    /// operation itself then never answers.
    WrongKind,
}

/// 1 MB of text.
pub fn huge() -> String {
    "x".repeat(1 << 20)
}

pub const HTML: &str = "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>";

/// JSON nested 64 deep (the glue stops reading at 32 and reports `Field::Other`).
pub fn deep() -> Value {
    (0..64).fold(json!("bottom"), |inner, _| json!({ "a": inner }))
}

/// The outside world: storage, `wx.*`, the backend, and what happened.
pub struct World {
    pub storage: HashMap<String, Value>,
    pub storage_full: bool,
    pub storage_unreadable: bool,
    /// What `login.extra()` resolves to (`Ok`), its failure (`Err`), or `None` to hang.
    pub extra: Option<Result<Value, String>>,
    pub check_session_ok: bool,
    pub check_session_hangs: bool,
    /// Storage calls never answer (an async storage API that hangs).
    pub storage_hangs: bool,
    /// `wx.login` calls that fail before the first success.
    pub login_failures: u32,
    pub login_hangs: bool,
    pub login_calls: u32,
    pub sent: Vec<Sent>,
    pub states: Vec<(State, Option<&'static str>)>,
    pub latency_ms: u32,
    /// Adds `n * 37 % stagger_ms` to the n-th request's latency, so answers come back out of order.
    pub stagger_ms: u32,
    pub requests_made: u32,
    /// Per-path latency overriding `latency_ms`.
    pub slow_paths: HashMap<String, u32>,
    handler: Option<Handler>,
    pub issued_codes: HashSet<String>,
    pub used_codes: HashSet<String>,
    pub valid_tokens: HashSet<String>,
    pub tokens_issued: u32,
    /// `wx.login` answers ever given, across relaunches: codes stay unique like WeChat's.
    codes_made: u32,
    /// Capabilities that misbehave, and how.
    pub faults: HashMap<Capability, Fault>,
    /// How many operations a fault was applied to.
    pub faults_hit: u32,
}

impl Default for World {
    fn default() -> Self {
        World {
            storage: HashMap::new(),
            storage_full: false,
            storage_unreadable: false,
            extra: Some(Ok(json!({ "iv": "iv-1", "encryptedData": "enc" }))),
            check_session_ok: true,
            check_session_hangs: false,
            storage_hangs: false,
            login_failures: 0,
            login_hangs: false,
            login_calls: 0,
            sent: Vec::new(),
            states: Vec::new(),
            latency_ms: 50,
            stagger_ms: 0,
            requests_made: 0,
            slow_paths: HashMap::new(),
            handler: None,
            issued_codes: HashSet::new(),
            used_codes: HashSet::new(),
            valid_tokens: HashSet::new(),
            tokens_issued: 0,
            codes_made: 0,
            faults: HashMap::new(),
            faults_hit: 0,
        }
    }
}

impl World {
    /// The fault `capability` has, counted as applied.
    fn fault(&mut self, capability: Capability) -> Option<Fault> {
        let fault = self.faults.get(&capability).copied();
        self.faults_hit += u32::from(fault.is_some());
        fault
    }

    /// Replaces the backend's behaviour.
    pub fn serve(&mut self, handler: impl Fn(&mut World, &Sent) -> Reply + 'static) {
        self.handler = Some(Box::new(handler));
    }

    pub fn sent_to(&self, path: &str) -> Vec<Sent> {
        self.sent.iter().filter(|s| s.path() == path).cloned().collect()
    }

    pub fn stored(&self) -> Option<Value> {
        self.storage.get("token").cloned()
    }

    /// The token in the stored record (or legacy string), if any.
    pub fn stored_token(&self) -> Option<String> {
        match StoredToken::read(&storage_value(self.stored())) {
            StorageRead::Record(t) | StorageRead::Legacy(t) => Some(t.token.as_str().to_owned()),
            _ => None,
        }
    }

    /// Stores a record for `token` and makes the backend accept it.
    pub fn store_record(&mut self, token: &str) {
        self.valid_tokens.insert(token.to_owned());
        self.storage.insert("token".into(), json!({ "v": 1, "token": token, "expiresAt": null, "obtainedAt": 0 }));
    }

    /// The default backend: like the seeds' server over code2Session.
    pub fn backend(&mut self, sent: &Sent) -> Reply {
        let authorized = sent.header("token").is_some_and(|t| self.valid_tokens.contains(t));
        match sent.path() {
            "/login" => {
                let code = sent.body.as_ref().and_then(|b| b.get("code")).and_then(Value::as_str).unwrap_or("").to_owned();
                self.redeem(&code)
            }
            "/auth" => Reply::Answer(200, json!({ "errCode": if authorized { 0 } else { 40001 } })),
            "/api/profile" | "/api/order" if authorized => Reply::Answer(200, json!({ "nickname": "demo" })),
            "/api/profile" | "/api/order" => Reply::Answer(401, json!({ "error": "invalid session" })),
            _ => Reply::Answer(404, json!({})),
        }
    }

    /// code2Session: a code works once (40163 after), unknown codes are 40029.
    pub fn redeem(&mut self, code: &str) -> Reply {
        if !self.issued_codes.contains(code) {
            return Reply::Answer(400, json!({ "errcode": 40029 }));
        }
        if !self.used_codes.insert(code.to_owned()) {
            return Reply::Answer(400, json!({ "errcode": 40163 }));
        }
        self.tokens_issued += 1;
        let token = format!("tok-{}", self.tokens_issued);
        self.valid_tokens.insert(token.clone());
        Reply::Answer(200, json!({ "token": token, "session_key": "SECRET-KEY", "openid": "o-1" }))
    }
}

/// What the glue would report for a stored value.
fn storage_value(value: Option<Value>) -> StorageValue {
    match value {
        None => StorageValue::Missing,
        Some(Value::String(text)) if text.is_empty() => StorageValue::Missing,
        Some(other) => StorageValue::Plain(crate::plain::json::to_plain(&other)),
    }
}

/// What a storage read answers with `garbage` in place of the stored record.
fn stored_garbage(garbage: Garbage) -> StorageValue {
    let plain = |value: Value| StorageValue::Plain(crate::plain::json::to_plain(&value));
    match garbage {
        Garbage::WrongType => plain(json!({ "v": 1, "token": 12345, "expiresAt": null, "obtainedAt": 0 })),
        Garbage::Html => plain(json!(HTML)),
        Garbage::Empty => plain(json!("")),
        Garbage::Huge => plain(json!(huge())),
        Garbage::Deep => StorageValue::Unreadable("the stored value is nested deeper than 32".into()),
        Garbage::TokenCrLf => plain(json!({ "v": 1, "token": "good\r\nX-Evil: 1", "expiresAt": null, "obtainedAt": 0 })),
        other => panic!("a storage read has no {other:?} answer"),
    }
}

/// Reads `path` from a JSON body the way the glue does: own members, array indexes.
pub fn read_field(body: &Value, path: &crate::rule::Path) -> Field {
    let mut node = body;
    for segment in path.segments() {
        let next = match node {
            Value::Object(map) => map.get(segment),
            Value::Array(items) => segment.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        };
        match next {
            Some(value) => node = value,
            None => return Field::Absent,
        }
    }
    match node {
        Value::Null => Field::Scalar(Scalar::Null),
        Value::Bool(b) => Field::Scalar(Scalar::Bool(*b)),
        Value::Number(n) => Field::Scalar(Scalar::Number(n.as_f64().unwrap_or(f64::NAN))),
        Value::String(s) => Field::Scalar(Scalar::Text(s.clone())),
        Value::Array(_) | Value::Object(_) => Field::Other,
    }
}

/// How a call settled.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Ready(String, Source),
    Answer(u16, Value),
    Done,
    Failed(Error),
}

impl Outcome {
    pub fn ready(self) -> (String, Source) {
        match self {
            Outcome::Ready(token, source) => (token, source),
            other => panic!("expected a token, got {other:?}"),
        }
    }
    pub fn answer(self) -> (u16, Value) {
        match self {
            Outcome::Answer(status, body) => (status, body),
            other => panic!("expected an answer, got {other:?}"),
        }
    }
    pub fn status(self) -> u16 {
        self.answer().0
    }
    pub fn error(self) -> Error {
        match self {
            Outcome::Failed(error) => error,
            other => panic!("expected an error, got {other:?}"),
        }
    }
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

/// The machine, the world, and the clock.
pub struct Harness {
    pub session: Session,
    pub world: World,
    pub now: Millis,
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
    /// Operations the machine cancelled.
    pub cancelled: Vec<OpId>,
    /// Operations started and neither answered nor cancelled yet.
    open: HashSet<OpId>,
    /// Every call started, in order.
    calls: Vec<CallId>,
    /// Every action performed, for tests that look at the protocol itself.
    pub log: Vec<Action>,
}

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

impl Harness {
    pub fn new(world: World, config_extra: Value) -> Harness {
        Harness::with_session(world, Session::new(config(config_extra), SEED))
    }

    /// A session whose app has a `login.extra()` (its result is `world.extra`).
    pub fn with_login_extra(world: World, config_extra: Value) -> Harness {
        Harness::with_session(world, Session::new(config(config_extra), SEED).with_login_extra(true))
    }

    pub fn with_session(world: World, session: Session) -> Harness {
        Harness {
            session,
            world,
            now: START,
            pending: Vec::new(),
            seq: 0,
            outcomes: HashMap::new(),
            answers: HashMap::new(),
            extra_object: None,
            call_extras: HashMap::new(),
            cancelled: Vec::new(),
            open: HashSet::new(),
            calls: Vec::new(),
            log: Vec::new(),
        }
    }

    /// A new app launch over the same storage and backend: a fresh machine; the clock goes on.
    pub fn relaunch(self, config_extra: Value) -> Harness {
        let mut next = Harness::new(self.world, config_extra);
        next.world.sent.clear();
        next.world.states.clear();
        next.world.login_calls = 0;
        next.now = self.now;
        next
    }

    pub fn ensure(&mut self) -> CallId {
        let call = self.session.ensure(self.now);
        self.started(call)
    }

    pub fn request(&mut self, api: ApiRequest) -> CallId {
        let call = self.session.request(self.now, api);
        self.started(call)
    }

    pub fn get(&mut self, url: &str) -> CallId {
        self.request(ApiRequest::get(url))
    }

    pub fn logout(&mut self) -> CallId {
        let call = self.session.logout(self.now);
        self.started(call)
    }

    /// `session.login(extra)`: the harness keeps `extra` for that login's body, as the glue does.
    pub fn login(&mut self, extra: Value) -> CallId {
        let call = self.session.login(self.now);
        self.call_extras.insert(call, extra);
        self.started(call)
    }

    pub fn set_token(&mut self, token: &str, expires_in_s: Option<u32>) -> CallId {
        let call = self.session.set_token(self.now, token, expires_in_s);
        self.started(call)
    }

    pub fn abort(&mut self, call: CallId) {
        self.session.abort(call);
        self.perform();
    }

    fn started(&mut self, call: CallId) -> CallId {
        self.calls.push(call);
        self.perform();
        call
    }

    /// Tells the machine something directly (a late or made-up result), then performs what it
    /// asks for.
    pub fn feed(&mut self, event: impl FnOnce(&mut Session, Millis)) {
        event(&mut self.session, self.now);
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
    /// settled and every operation was answered or cancelled.
    pub fn run_until_idle(&mut self) {
        let mut steps = 0;
        while self.step() {
            steps += 1;
            assert!(steps < MAX_STEPS, "still busy after {MAX_STEPS} steps: a livelock");
        }
        let unsettled: Vec<_> = self.calls.iter().filter(|c| !self.outcomes.contains_key(c)).collect();
        assert!(unsettled.is_empty(), "calls {unsettled:?} never settled");
        assert!(self.open.is_empty(), "operations {:?} were dropped without an answer or a Cancel", self.open);
    }

    /// The ids of the operations the machine started, in order, that `pick` selects.
    pub fn ops(&self, pick: impl Fn(&Action) -> bool) -> Vec<OpId> {
        self.log.iter().filter(|a| pick(a)).filter_map(op_of).collect()
    }

    /// Moves the clock by `ms`, delivering whatever falls due on the way.
    pub fn advance(&mut self, ms: Millis) {
        let until = self.now + ms;
        while self.next_time().is_some_and(|t| t <= until) {
            self.step();
        }
        self.now = until;
    }

    /// The outcome of `call`, if it settled.
    pub fn outcome(&self, call: CallId) -> Option<&Outcome> {
        self.outcomes.get(&call)
    }

    fn next_time(&self) -> Option<Millis> {
        let next_event = self.pending.iter().map(|(at, _, _)| *at).min();
        match (next_event, self.session.next_deadline()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Jumps to the next thing that happens and lets it happen. `false` when nothing will.
    fn step(&mut self) -> bool {
        let Some(at) = self.next_time() else { return false };
        self.now = self.now.max(at);
        // Events due now, in the order they were scheduled.
        self.pending.sort_by_key(|(at, seq, _)| (*at, *seq));
        while self.pending.first().is_some_and(|(at, _, _)| *at <= self.now) {
            let (_, _, event) = self.pending.remove(0);
            self.deliver(event);
            self.perform();
        }
        if self.session.next_deadline().is_some_and(|d| d <= self.now) {
            self.session.handle_timeout(self.now);
            self.perform();
        }
        true
    }

    fn schedule(&mut self, after_ms: u32, event: Event) {
        self.seq += 1;
        self.pending.push((self.now + Millis::from(after_ms), self.seq, event));
    }

    /// Performs every action the machine asked for.
    fn perform(&mut self) {
        while let Some(action) = self.session.poll_action() {
            self.log.push(action.clone());
            self.perform_one(action);
        }
    }

    fn perform_one(&mut self, action: Action) {
        let now = self.now;
        if let Some(op) = op_of(&action) {
            assert!(self.open.insert(op), "operation {op} started twice");
            if self.world.storage_hangs && matches!(action, Action::ReadStorage { .. } | Action::WriteStorage { .. } | Action::RemoveStorage { .. }) {
                return;
            }
        }
        match action {
            Action::ReadStorage { op, key } => {
                let value = match self.world.fault(Capability::StorageGet) {
                    Some(Fault::Hangs) => return,
                    Some(Fault::Garbage(Garbage::WrongKind)) => return self.session.storage_done(op, Ok(())),
                    Some(Fault::Fails) => StorageValue::Unreadable("getStorageSync:fail data corrupted".into()),
                    Some(Fault::Garbage(garbage)) => stored_garbage(garbage),
                    None if self.world.storage_unreadable => StorageValue::Unreadable("getStorageSync:fail data corrupted".into()),
                    None => storage_value(self.world.storage.get(&key).cloned()),
                };
                self.open.remove(&op);
                self.session.storage_read(now, op, value);
            }
            Action::WriteStorage { op, key, value } => {
                if let Some(fault) = self.world.fault(Capability::StorageSet) {
                    return self.spoil_storage_done(op, fault);
                }
                self.open.remove(&op);
                if self.world.storage_full {
                    self.session.storage_done(op, Err("setStorageSync:fail exceed storage max size 10M"));
                } else {
                    let value: Value = serde_json::from_str(&value).expect("the record is JSON");
                    self.world.storage.insert(key, value);
                    self.session.storage_done(op, Ok(()));
                }
            }
            Action::RemoveStorage { op, key } => {
                if let Some(fault) = self.world.fault(Capability::StorageRemove) {
                    return self.spoil_storage_done(op, fault);
                }
                self.world.storage.remove(&key);
                self.open.remove(&op);
                self.session.storage_done(op, Ok(()));
            }
            Action::CheckSession { op } => {
                if !self.world.check_session_hangs {
                    let ok = self.world.check_session_ok;
                    self.schedule(5, Event::CheckSession(op, ok));
                }
            }
            Action::WxLogin { op } => {
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
                let mut body = send.body.as_ref().map(|(k, v)| json!({ k: v }));
                if send.config_extra {
                    if let (Some(Value::Object(body)), Some(Value::Object(extra))) = (&mut body, &self.extra_object) {
                        for (k, v) in extra {
                            body.entry(k.clone()).or_insert(v.clone());
                        }
                    }
                }
                let header = send.header.map(|h| (h.0.clone(), h.1.clone()));
                // The full URL, made the way the glue makes it.
                let url = match send.joined {
                    None => send.url.to_string(),
                    Some(joined) => crate::config::Target { given: send.url.clone(), same_origin: true, joined }.full(self.session.config()),
                };
                // A `login(extra)` login: that call's object too (the code wins, as in the glue).
                let call_extra = send.call.filter(|_| send.read == ReadSet::Login).and_then(|call| self.call_extras.get(&call));
                if let Some(Value::Object(extra)) = call_extra {
                    let body = body.get_or_insert_with(|| json!({}));
                    if let Value::Object(body) = body {
                        for (k, v) in extra {
                            if Some(k) != send.body.as_ref().map(|(code_key, _)| code_key) {
                                body.insert(k.clone(), v.clone());
                            }
                        }
                    }
                }
                let sent = Sent { kind: send.kind, url, method: send.method.as_str(), header, body, at: 0 };
                self.world.requests_made += 1;
                let n = self.world.requests_made;
                let stagger = match self.world.stagger_ms {
                    0 => 0,
                    spread => n * 37 % spread,
                };
                let latency = self.world.slow_paths.get(sent.path()).copied().unwrap_or(self.world.latency_ms) + stagger;
                self.schedule(latency, Event::Http(send.op, sent, send.read));
            }
            Action::Cancel { op, .. } => {
                assert!(self.open.remove(&op), "cancelled operation {op}, which was not in flight");
                self.cancelled.push(op);
                self.pending.retain(|(_, _, event)| match event {
                    Event::CheckSession(o, _) | Event::WxLogin(o) | Event::Extra(o) | Event::Http(o, _, _) => *o != op,
                });
            }
            Action::Resolve { call, value } => {
                let outcome = match value {
                    Resolution::Ready { token, source } => Outcome::Ready(token.as_str().to_owned(), source),
                    Resolution::Answer { op } => {
                        let (status, body) = self.answers.remove(&op).expect("the machine resolves with an answer it got");
                        Outcome::Answer(status, body)
                    }
                    Resolution::Done => Outcome::Done,
                };
                assert!(self.outcomes.insert(call, outcome).is_none(), "call {call} settled twice");
            }
            Action::Reject { call, error } => {
                assert!(self.outcomes.insert(call, Outcome::Failed(error)).is_none(), "call {call} settled twice");
            }
            Action::Report { state, error } => self.world.states.push((state, error.map(|e| e.code()))),
        }
    }

    /// Answers storage write or remove `op` as `fault` says (the storage is left as it was).
    fn spoil_storage_done(&mut self, op: OpId, fault: Fault) {
        let err_msg = match fault {
            Fault::Hangs => return,
            Fault::Garbage(Garbage::WrongKind) => return self.session.storage_read(self.now, op, StorageValue::Missing),
            Fault::Fails => "setStorageSync:fail exceed storage max size 10M".to_owned(),
            Fault::Garbage(Garbage::Empty) => String::new(),
            Fault::Garbage(Garbage::Huge) => huge(),
            Fault::Garbage(other) => panic!("a storage write has no {other:?} answer"),
        };
        self.open.remove(&op);
        self.session.storage_done(op, Err(&err_msg));
    }

    fn deliver(&mut self, event: Event) {
        let now = self.now;
        match event {
            Event::CheckSession(op, ok) => {
                let ok = match self.world.fault(Capability::CheckSession) {
                    None => ok,
                    Some(Fault::Fails) => false,
                    Some(Fault::Hangs) => return,
                    Some(Fault::Garbage(Garbage::WrongKind)) => return self.session.wx_login_done(now, op, Ok("code-wrong-kind")),
                    Some(Fault::Garbage(other)) => panic!("wx.checkSession has no {other:?} answer: the glue reduces it to success or fail"),
                };
                self.open.remove(&op);
                self.session.check_session_done(now, op, ok);
            }
            Event::WxLogin(op) => {
                let fault = self.world.fault(Capability::WxLogin);
                match fault {
                    Some(Fault::Hangs) => return,
                    Some(Fault::Garbage(Garbage::WrongKind)) => return self.session.check_session_done(now, op, true),
                    _ => {}
                }
                self.open.remove(&op);
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
                self.session.wx_login_done(now, op, answer.as_deref().map_err(String::as_str));
            }
            // As the glue does: an object is kept for the login body, `null` adds nothing,
            // anything else fails the login.
            Event::Extra(op) => {
                let extra = match self.world.fault(Capability::LoginExtra) {
                    None => self.world.extra.clone(),
                    Some(Fault::Hangs) => None,
                    Some(Fault::Garbage(Garbage::WrongKind)) => return self.session.wx_login_done(now, op, Ok("code-wrong-kind")),
                    Some(Fault::Fails) => Some(Err("getUserProfile:fail auth deny".to_owned())),
                    Some(Fault::Garbage(Garbage::WrongType)) => Some(Ok(json!(42))),
                    Some(Fault::Garbage(Garbage::Empty)) => Some(Err(String::new())),
                    Some(Fault::Garbage(Garbage::Huge)) => Some(Err(huge())),
                    Some(Fault::Garbage(other)) => panic!("login.extra() has no {other:?} answer"),
                };
                match extra {
                    Some(Ok(value @ (Value::Object(_) | Value::Null))) => {
                        self.open.remove(&op);
                        self.extra_object = Some(value);
                        self.session.login_extra_done(now, op, Ok(()));
                    }
                    Some(Ok(_)) => {
                        self.open.remove(&op);
                        self.session.login_extra_done(now, op, Err("login.extra() must resolve to an object"));
                    }
                    Some(Err(reason)) => {
                        self.open.remove(&op);
                        self.session.login_extra_done(now, op, Err(&reason));
                    }
                    None => {}
                }
            }
            Event::Http(op, mut sent, read) => {
                sent.at = now;
                self.world.sent.push(sent.clone());
                let capability = match read {
                    ReadSet::Login => Capability::LoginHttp,
                    ReadSet::Check => Capability::CheckHttp,
                    ReadSet::Api => Capability::ApiHttp,
                };
                let reply = match self.world.fault(capability) {
                    Some(Fault::Garbage(Garbage::WrongKind)) => return self.session.wx_login_done(now, op, Ok("code-wrong-kind")),
                    Some(fault) => http_fault(fault, read),
                    None => match self.world.handler.take() {
                        Some(handler) => {
                            let reply = handler(&mut self.world, &sent);
                            self.world.handler = Some(handler);
                            reply
                        }
                        None => self.world.backend(&sent),
                    },
                };
                match reply {
                    Reply::Answer(status, body) => {
                        self.open.remove(&op);
                        let fields = self.session.read_paths(read).iter().map(|p| read_field(&body, p)).collect();
                        self.answers.insert(op, (status, body));
                        self.session.http_answered(now, op, Answer { status, fields });
                    }
                    Reply::Fail(err_msg) => {
                        self.open.remove(&op);
                        self.session.http_failed(now, op, err_msg);
                    }
                    Reply::Hang => {}
                }
            }
        }
    }
}

/// What an HTTP exchange of `read` answers when it has `fault` (not a wrong-kind one).
fn http_fault(fault: Fault, read: ReadSet) -> Reply {
    // The field the answer should have: the token, the check's `errCode`; an API answer is
    // garbage as a whole.
    let field = |value: Value| match read {
        ReadSet::Login => json!({ "token": value }),
        ReadSet::Check => json!({ "errCode": value }),
        ReadSet::Api => value,
    };
    let wrong_type = if read == ReadSet::Check { json!("0") } else { json!(12345) };
    match fault {
        Fault::Fails => Reply::Fail("request:fail -2:net::ERR_FAILED"),
        Fault::Hangs => Reply::Hang,
        Fault::Garbage(Garbage::WrongType) => Reply::Answer(200, field(wrong_type)),
        Fault::Garbage(Garbage::Html) => Reply::Answer(200, json!(HTML)),
        Fault::Garbage(Garbage::Empty) => Reply::Answer(200, json!("")),
        Fault::Garbage(Garbage::Huge) => Reply::Answer(200, field(json!(huge()))),
        Fault::Garbage(Garbage::Deep) => Reply::Answer(200, field(deep())),
        Fault::Garbage(Garbage::Status0) => Reply::Answer(0, json!("")),
        Fault::Garbage(Garbage::TokenCrLf) if read == ReadSet::Login => Reply::Answer(200, field(json!("tok\r\nX-Evil: 1"))),
        Fault::Garbage(other) => panic!("an HTTP answer of {read:?} has no {other:?} form here"),
    }
}

/// The operation an action starts, if it starts one.
fn op_of(action: &Action) -> Option<OpId> {
    match action {
        Action::ReadStorage { op, .. }
        | Action::WriteStorage { op, .. }
        | Action::RemoveStorage { op, .. }
        | Action::CheckSession { op }
        | Action::WxLogin { op }
        | Action::LoginExtra { op } => Some(*op),
        Action::Send(send) => Some(send.op),
        Action::Cancel { .. } | Action::Resolve { .. } | Action::Reject { .. } | Action::Report { .. } => None,
    }
}
