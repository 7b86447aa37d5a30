//! [`World`]: the fake platform and backend the harness performs the machine's actions on:
//! storage, `wx.*`, a developer's server over code2Session, and the faults each capability can
//! be given.
//!
//! The backend behaves like a developer's server over code2Session: `wx.login` codes work once
//! (40163 after), unknown codes are 40029, and it accepts only the tokens it issued.

use std::collections::{HashMap, HashSet};

use serde_json::{json, Value};

use crate::answer::ReadSet;
use crate::config::Config;
use crate::rule::{Field, Scalar};
use crate::session::{ApiKind, Send, State};
use crate::token::{StorageRead, StorageValue, StoredToken};
use crate::Millis;

/// One request as the backend saw it.
#[derive(Debug, Clone)]
pub struct Sent {
    /// `wx.request`, `wx.uploadFile` or `wx.downloadFile`.
    pub kind: ApiKind,
    /// The full URL.
    pub url: String,
    /// `GET`, `POST`, …
    pub method: &'static str,
    /// The one header the machine sets (the token, or the code), name and value.
    pub header: Option<(String, String)>,
    /// The login body: the code field and `login.extra`'s object, merged as the glue does.
    pub body: Option<Value>,
    /// When the backend saw it.
    pub at: Millis,
}

impl Sent {
    /// The request `send` describes, made the way the glue makes it: the full URL, the header,
    /// and the code field as the login body (the caller merges `login.extra`'s objects).
    pub fn new(send: &Send, config: &Config) -> Sent {
        let url = match send.joined {
            None => send.url.to_string(),
            Some(joined) => crate::config::Target { given: send.url.clone(), same_origin: true, joined }.full(config),
        };
        let header = send.header.as_ref().map(|h| (h.0.clone(), h.1.clone()));
        let body = send.body.as_ref().map(|(k, v)| json!({ k: v }));
        Sent { kind: send.kind, url, method: send.method.as_str(), header, body, at: 0 }
    }

    /// The value of header `name`, if the request has it.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.header.as_ref().filter(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
    /// The path, without `http://dev.test` and the query.
    pub fn path(&self) -> &str {
        let rest = self.url.trim_start_matches("http://dev.test");
        rest.split('?').next().unwrap_or(rest)
    }
}

/// What the fake network does with one request.
#[derive(Debug, Clone, PartialEq)]
pub enum Response {
    /// An HTTP answer: the status and the JSON body.
    Answer(u16, Value),
    /// `wx.request` fails with this errMsg.
    Fail(&'static str),
    /// No answer ever: only the machine's deadline ends the request.
    Hang,
}

type Handler = Box<dyn Fn(&mut World, &Sent) -> Response>;

/// A host capability the machine uses through its driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Capability {
    /// Reading the stored token.
    StorageGet,
    /// Writing the new token's record.
    StorageSet,
    /// Removing the record (`logout()`).
    StorageRemove,
    /// `wx.checkSession`.
    CheckSession,
    /// `wx.login`.
    WxLogin,
    /// The app's `login.extra()`.
    LoginExtra,
    /// The login exchange (`Send` with [`ReadSet::Login`]).
    LoginHttp,
    /// The server check (`Send` with [`ReadSet::Check`]).
    CheckHttp,
    /// An API request (`Send` with [`ReadSet::Api`]).
    ApiHttp,
    /// The refresh exchange (`Send` with [`ReadSet::Refresh`]).
    RefreshHttp,
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
    /// `wx.login` succeeding without a code.
    CodeEmpty,
    /// `wx.login` succeeding with CR/LF in the code.
    CodeCrLf,
    /// `wx.login` succeeding with a code of 2 KB.
    Code2K,
    /// A result of another kind for the operation (a driver mixing up its callbacks); the
    /// operation itself then never answers.
    WrongKind,
}

/// 1 MB of text.
pub fn huge() -> String {
    "x".repeat(1 << 20)
}

/// An nginx error page, where JSON belongs.
pub const HTML: &str = "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>";

/// JSON nested 64 deep (the glue stops reading at 32 and reports `Field::Other`).
pub fn deep() -> Value {
    (0..64).fold(json!("bottom"), |inner, _| json!({ "a": inner }))
}

/// The outside world: storage, `wx.*`, the backend, and what happened.
pub struct World {
    /// What storage holds, by key, as the JSON the glue stores.
    pub storage: HashMap<String, Value>,
    /// Storage writes fail as a full storage does (10 MB).
    pub storage_full: bool,
    /// Storage reads fail (a corrupted storage).
    pub storage_unreadable: bool,
    /// What `login.extra()` resolves to (`Ok`), its failure (`Err`), or `None` to hang.
    pub extra: Option<Result<Value, String>>,
    /// What `wx.checkSession` says.
    pub check_session_ok: bool,
    /// `wx.checkSession` never answers.
    pub check_session_hangs: bool,
    /// Storage calls never answer (an async storage API that hangs).
    pub storage_hangs: bool,
    /// `wx.login` calls that fail before the first success.
    pub login_failures: u32,
    /// `wx.login` never answers.
    pub login_hangs: bool,
    /// `wx.login` answers given (since the last relaunch).
    pub login_calls: u32,
    /// Every request the backend saw, in order (since the last relaunch).
    pub sent: Vec<Sent>,
    /// Every state reported to `onChange`, with the error code of a report that carried one.
    pub states: Vec<(State, Option<&'static str>)>,
    /// How long `wx.request` takes, in ms.
    pub latency_ms: u32,
    /// Adds `n * 37 % stagger_ms` to the n-th request's latency, so answers come back out of order.
    pub stagger_ms: u32,
    /// Requests sent so far.
    pub requests_made: u32,
    /// Per-path latency overriding `latency_ms`.
    pub slow_paths: HashMap<String, u32>,
    handler: Option<Handler>,
    /// The `wx.login` codes WeChat gave (others are 40029).
    pub issued_codes: HashSet<String>,
    /// Codes already redeemed (a second use is 40163).
    pub used_codes: HashSet<String>,
    /// Tokens the backend takes.
    pub valid_tokens: HashSet<String>,
    /// Tokens [`World::redeem`] issued.
    pub tokens_issued: u32,
    /// `wx.login` answers ever given, across relaunches: codes stay unique like WeChat's.
    pub(super) codes_made: u32,
    /// Capabilities that misbehave, and how.
    pub faults: HashMap<Capability, Fault>,
    /// The backend hands out refresh tokens with its tokens (`refreshToken` in the login and
    /// refresh answers) and swaps them at `/refresh`.
    pub refresh_tokens: bool,
    /// A refresh answer carries a new refresh token (rotation); the old one stops working.
    pub rotate_refresh: bool,
    /// The refresh tokens the backend still accepts.
    pub valid_refresh: HashSet<String>,
    pub refresh_issued: u32,
    /// The lifetime the backend's login and refresh answers give (`expiresIn`), if any.
    pub expires_in_s: Option<u64>,
    /// The calls `onAuthRequired` was called for, in order.
    pub auth_required: Vec<crate::session::CallId>,
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
            refresh_tokens: false,
            rotate_refresh: true,
            valid_refresh: HashSet::new(),
            refresh_issued: 0,
            auth_required: Vec::new(),
            expires_in_s: None,
        }
    }
}

impl World {
    /// The fault `capability` has, counted as applied.
    pub(super) fn fault(&mut self, capability: Capability) -> Option<Fault> {
        let fault = self.faults.get(&capability).copied();
        self.faults_hit += u32::from(fault.is_some());
        fault
    }

    /// Replaces the backend's behaviour.
    pub fn serve(&mut self, handler: impl Fn(&mut World, &Sent) -> Response + 'static) {
        self.handler = Some(Box::new(handler));
    }

    /// The requests the backend saw for `path`, in order.
    pub fn sent_to(&self, path: &str) -> Vec<Sent> {
        self.sent.iter().filter(|s| s.path() == path).cloned().collect()
    }

    /// The value stored under the default key (`token`), as JSON.
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

    /// What the backend answers to `sent`: the handler [`World::serve`] installed, else
    /// [`World::backend`].
    pub fn respond(&mut self, sent: &Sent) -> Response {
        match self.handler.take() {
            Some(handler) => {
                let response = handler(self, sent);
                self.handler = Some(handler);
                response
            }
            None => self.backend(sent),
        }
    }

    /// The default backend: a developer's server over code2Session, with `/login`, a check at
    /// `/auth` (`errCode` 0 or 40001) and two API paths that take only valid tokens.
    pub fn backend(&mut self, sent: &Sent) -> Response {
        let authorized = sent.header("token").is_some_and(|t| self.valid_tokens.contains(t));
        match sent.path() {
            "/login" => {
                let code = sent.body.as_ref().and_then(|b| b.get("code")).and_then(Value::as_str).unwrap_or("").to_owned();
                self.redeem(&code)
            }
            "/refresh" => {
                let refresh = sent.body.as_ref().and_then(|b| b.get("refreshToken")).and_then(Value::as_str).map(str::to_owned);
                let refresh = refresh.or_else(|| sent.header("refreshToken").map(str::to_owned)).unwrap_or_default();
                self.swap(&refresh)
            }
            "/auth" => Response::Answer(200, json!({ "errCode": if authorized { 0 } else { 40001 } })),
            "/api/profile" | "/api/order" if authorized => Response::Answer(200, json!({ "nickname": "demo" })),
            "/api/profile" | "/api/order" => Response::Answer(401, json!({ "error": "invalid session" })),
            _ => Response::Answer(404, json!({})),
        }
    }

    /// Every refresh token the backend issued, in order.
    pub fn issued_refresh_tokens(&self) -> impl Iterator<Item = String> {
        (1..=self.refresh_issued).map(|n| format!("ref-{n}"))
    }

    /// Every token [`World::redeem`] issued, in order.
    pub fn issued_tokens(&self) -> impl Iterator<Item = String> {
        (1..=self.tokens_issued).map(issued_token)
    }

    /// code2Session: a code works once (40163 after), unknown codes are 40029.
    pub fn redeem(&mut self, code: &str) -> Response {
        if !self.issued_codes.contains(code) {
            return Response::Answer(400, json!({ "errcode": 40029 }));
        }
        if !self.used_codes.insert(code.to_owned()) {
            return Response::Answer(400, json!({ "errcode": 40163 }));
        }
        self.tokens_issued += 1;
        let token = issued_token(self.tokens_issued);
        self.valid_tokens.insert(token.clone());
        let mut answer = json!({ "token": token, "session_key": "SECRET-KEY", "openid": "o-1" });
        if self.refresh_tokens {
            answer["refreshToken"] = json!(self.new_refresh_token());
        }
        if let Some(seconds) = self.expires_in_s {
            answer["expiresIn"] = json!(seconds);
        }
        Response::Answer(200, answer)
    }

    /// The refresh endpoint: a refresh token it issued and still accepts gets a new token (and,
    /// rotating, a new refresh token, the old one then refused); any other is refused (401).
    pub fn swap(&mut self, refresh: &str) -> Response {
        if !self.valid_refresh.contains(refresh) {
            return Response::Answer(401, json!({ "error": "invalid refresh token" }));
        }
        self.tokens_issued += 1;
        let token = issued_token(self.tokens_issued);
        self.valid_tokens.insert(token.clone());
        let mut answer = json!({ "token": token });
        if self.rotate_refresh {
            self.valid_refresh.remove(refresh);
            answer["refreshToken"] = json!(self.new_refresh_token());
        }
        if let Some(seconds) = self.expires_in_s {
            answer["expiresIn"] = json!(seconds);
        }
        Response::Answer(200, answer)
    }

    fn new_refresh_token(&mut self) -> String {
        self.refresh_issued += 1;
        let refresh = format!("ref-{}", self.refresh_issued);
        self.valid_refresh.insert(refresh.clone());
        refresh
    }
}

/// The `n`-th token [`World::redeem`] issues.
fn issued_token(n: u32) -> String {
    format!("tok-{n}")
}

/// What the glue would report for a stored value.
pub(super) fn storage_value(value: Option<Value>) -> StorageValue {
    match value {
        None => StorageValue::Missing,
        Some(Value::String(text)) if text.is_empty() => StorageValue::Missing,
        Some(other) => StorageValue::Plain(crate::plain::json::to_plain(&other)),
    }
}

/// What a storage read answers with `garbage` in place of the stored record.
pub(super) fn stored_garbage(garbage: Garbage) -> StorageValue {
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

/// What an HTTP exchange of `read` answers when it has `fault` (not a wrong-kind one).
pub(super) fn http_fault(fault: Fault, read: ReadSet) -> Response {
    // The field the answer should have: the token, the check's `errCode`; an API answer is
    // garbage as a whole.
    let field = |value: Value| match read {
        ReadSet::Login | ReadSet::Refresh => json!({ "token": value }),
        ReadSet::Check => json!({ "errCode": value }),
        ReadSet::Api => value,
    };
    let wrong_type = if read == ReadSet::Check { json!("0") } else { json!(12345) };
    match fault {
        Fault::Fails => Response::Fail("request:fail -2:net::ERR_FAILED"),
        Fault::Hangs => Response::Hang,
        Fault::Garbage(Garbage::WrongType) => Response::Answer(200, field(wrong_type)),
        Fault::Garbage(Garbage::Html) => Response::Answer(200, json!(HTML)),
        Fault::Garbage(Garbage::Empty) => Response::Answer(200, json!("")),
        Fault::Garbage(Garbage::Huge) => Response::Answer(200, field(json!(huge()))),
        Fault::Garbage(Garbage::Deep) => Response::Answer(200, field(deep())),
        Fault::Garbage(Garbage::Status0) => Response::Answer(0, json!("")),
        Fault::Garbage(Garbage::TokenCrLf) if matches!(read, ReadSet::Login | ReadSet::Refresh) => Response::Answer(200, field(json!("tok\r\nX-Evil: 1"))),
        Fault::Garbage(other) => panic!("an HTTP answer of {read:?} has no {other:?} form here"),
    }
}
