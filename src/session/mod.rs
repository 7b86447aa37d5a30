//! The session machine: storage → check → login, single-flight, with bounded retries.
//!
//! Sans-IO: [`Session`] never awaits and never calls out. Its driver starts calls
//! ([`Session::ensure`], [`Session::request`], [`Session::logout`]), reports what the outside world
//! did (`*_done` methods, [`Session::handle_timeout`]) with the current time, and performs the
//! [`Action`]s it takes from [`Session::poll_action`]. Every operation the machine starts has a
//! deadline ([`Session::next_deadline`]), so no call can wait forever.
//!
//! At most one login flow runs at a time ([`flow`]): whoever finds no token starts it, every
//! other caller waits for it. A request whose answer says "session invalid" asks for a newer
//! token than the one it carried ([`request`]), so a stale answer never throws away a token
//! another request just got.

mod flow;
mod request;

use alloc::collections::VecDeque;
use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;

use crate::answer::{Answer, ReadPaths, ReadSet};
use crate::config::{Config, Method, Target};
use crate::error::Error;
use crate::retry::Jitter;
use crate::token::{StorageValue, StoredToken, Token};
use crate::Millis;

use flow::Flow;
use request::Request;

/// A caller's call (`ensure`, `request`, `login`, `set_token`, `logout`): settled exactly once by a
/// [`Action::Resolve`] or [`Action::Reject`].
pub type CallId = u32;

/// An operation the driver performs for the machine (`wx.login`, an HTTP exchange, a storage
/// call). Its result comes back with the same id; results for ids the machine no longer waits
/// for (timed out, cancelled, logged out) are ignored.
pub type OpId = u32;

/// Which `wx.*` call an API call goes out with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiKind {
    /// `wx.request`.
    Request,
    /// `wx.uploadFile`: always a POST, whose answer's `data` is a string.
    Upload,
    /// `wx.downloadFile`: always a GET, whose answer has no `data`.
    Download,
}

/// An authenticated API call, as `session.request(opts)`, `uploadFile(opts)` or
/// `downloadFile(opts)` describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiRequest {
    pub kind: ApiKind,
    /// Path relative to `baseUrl`, or an absolute URL.
    pub url: Rc<str>,
    pub method: Method,
    /// `false` skips the token and the re-login logic.
    pub auth: bool,
    /// Retry on network errors even though the method is not idempotent (POST).
    pub retry: bool,
    /// Overrides the config's `timeoutMs`.
    pub timeout_ms: Option<u32>,
}

impl ApiRequest {
    /// A GET with the defaults.
    pub fn get(url: &str) -> Self {
        ApiRequest { kind: ApiKind::Request, url: url.into(), method: Method::Get, auth: true, retry: false, timeout_ms: None }
    }
}

/// Where the current token came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Storage,
    Login,
}

impl Source {
    /// The name the JS API uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Storage => "storage",
            Source::Login => "login",
        }
    }
}

/// The session's state as reported to `onChange`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Idle,
    Checking,
    LoggingIn,
    Ready,
    Failed,
}

impl State {
    /// The name the JS API uses.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Idle => "idle",
            State::Checking => "checking",
            State::LoggingIn => "logging-in",
            State::Ready => "ready",
            State::Failed => "failed",
        }
    }
}

/// A header name and value. Shared: the token's header is made once per token, not per request.
pub type Header = Rc<(String, String)>;

/// One HTTP request for the driver to send (`wx.request`, `wx.uploadFile` or `wx.downloadFile`).
#[derive(Debug, Clone, PartialEq)]
pub struct Send {
    pub op: OpId,
    /// `wx.request`, `wx.uploadFile` or `wx.downloadFile` (logins and checks: a request).
    pub kind: ApiKind,
    /// For an API request: the call whose options (`data`, `dataType`…) go along untouched.
    /// For a login that `login(extra)` started: that call, whose `extra` joins the body.
    pub call: Option<CallId>,
    /// The full URL when `joined` is `None`; else the caller's URL, which `baseUrl` goes in
    /// front of as `joined` says (the glue has both strings already: no URL crosses back).
    pub url: Rc<str>,
    pub joined: Option<crate::config::Joined>,
    pub method: Method,
    /// A header to set, replacing any of the same name in any case (the token, or the code).
    pub header: Option<Header>,
    /// A login body field (the code), merged with `login.extra()`'s object when `config_extra`
    /// is set (and with the `login(extra)` call's object, when `call` names one).
    pub body: Option<(alloc::string::String, alloc::string::String)>,
    pub config_extra: bool,
    pub timeout_ms: u32,
    /// The fields to read from the answer.
    pub read: ReadSet,
}

/// What the platform's login call answered.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LoginAnswer<'a> {
    /// A one-time code (`wx.login`'s `code`, Alipay's `authCode`).
    Code(&'a str),
    /// Only an anonymous code: Douyin's `anonymousCode`, for a user not logged in to the Douyin
    /// app. Sent under `login.anonymousKey` when `login.anonymous` is `'send'`; else the login
    /// fails (`WX_LOGIN_FAILED`, not retried).
    Anonymous(&'a str),
    /// The call failed, with the platform's `errMsg`.
    Failed(&'a str),
}

/// What a resolved call gets.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolution {
    /// `ensure()`: the token and where it came from.
    Ready { token: Token, source: Source },
    /// `request()`: the answer of operation `op`, as the platform gave it.
    Answer { op: OpId },
    /// `logout()`, `setToken()`.
    Done,
}

/// What the machine asks its driver to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Read the storage key; answer with [`Session::storage_read`].
    ReadStorage { op: OpId, key: alloc::string::String },
    /// Write this value (JSON text, stored as the object it describes) under the key; answer
    /// with [`Session::storage_done`].
    WriteStorage { op: OpId, key: alloc::string::String, value: alloc::string::String },
    /// Remove the key; answer with [`Session::storage_done`].
    RemoveStorage { op: OpId, key: alloc::string::String },
    /// `wx.checkSession`; answer with [`Session::check_session_done`].
    CheckSession { op: OpId },
    /// `wx.login` (the platform's login call); answer with [`Session::login_answered`].
    /// `force`: ask the platform to make the user log in (Douyin's `tt.login({ force: true })`).
    WxLogin { op: OpId, force: bool },
    /// Call `login.extra()` and keep its object for the login body; answer with
    /// [`Session::login_extra_done`].
    LoginExtra { op: OpId },
    /// `wx.request` (or `wx.uploadFile`, `wx.downloadFile`); answer with
    /// [`Session::http_answered`] or [`Session::http_failed`]. (Boxed: actions move through a queue, and this one is three times the size of the rest.)
    Send(alloc::boxed::Box<Send>),
    /// The machine stopped waiting for `op`: abort it if possible and forget it. `timed_out`:
    /// its deadline passed (else the flow or call it served was cancelled, replaced or aborted).
    Cancel { op: OpId, timed_out: bool },
    /// Settle `call` with a value.
    Resolve { call: CallId, value: Resolution },
    /// Settle `call` with an error.
    Reject { call: CallId, error: Error },
    /// Tell `onChange` listeners: a new state, or (with the current state) a non-fatal error
    /// such as `STORAGE`.
    Report { state: State, error: Option<Error> },
    /// The server says the user must act (an answer to API call `call` matched
    /// `authRequiredWhen`): call the app's `onAuthRequired` once for this burst. The call waits
    /// for the app's `login(extra)` (or `setToken`).
    AuthRequired { call: CallId },
}

impl Action {
    /// Does this action start operation `op`?
    fn starts(&self, op: OpId) -> bool {
        match self {
            Action::ReadStorage { op: id, .. }
            | Action::WriteStorage { op: id, .. }
            | Action::RemoveStorage { op: id, .. }
            | Action::CheckSession { op: id }
            | Action::WxLogin { op: id, .. }
            | Action::LoginExtra { op: id } => *id == op,
            Action::Send(send) => send.op == op,
            Action::Cancel { .. } | Action::Resolve { .. } | Action::Reject { .. } | Action::Report { .. } | Action::AuthRequired { .. } => false,
        }
    }
}

/// A usable session: the token, where it came from, and when it stops being fresh (if the
/// server said when it expires).
#[derive(Debug, Clone, PartialEq)]
struct Ready {
    token: Token,
    source: Source,
    refresh_at: Option<Millis>,
    /// What swaps it for a new token when it expires or is refused (with `refresh` set).
    refresh_token: Option<Token>,
}

/// What an operation in flight is for.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Owner {
    /// A step of the login flow.
    Flow,
    /// An API request's exchange.
    Request(CallId),
    /// Writing the new token's record; a failure is only reported.
    Store,
    /// `logout()` removing the record.
    Logout(CallId),
}

/// The result an operation waits for. A result of another kind for its id (a driver mixing up
/// its callbacks) is ignored like one for an unknown operation: the operation runs on to its
/// answer or its deadline, and the step waiting for it is never confused.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Awaits {
    /// [`Session::storage_read`].
    Read,
    /// [`Session::storage_done`], for a write or a remove.
    Write,
    /// [`Session::check_session_done`].
    CheckSession,
    /// [`Session::wx_login_done`].
    WxLogin,
    /// [`Session::login_extra_done`].
    LoginExtra,
    /// [`Session::http_answered`] or [`Session::http_failed`].
    Http,
}

#[derive(Debug, Clone)]
struct Op {
    id: OpId,
    owner: Owner,
    awaits: Awaits,
    deadline: Millis,
    /// The limit, for the `TIMEOUT` message.
    limit_ms: u32,
}

/// The session machine. See the module docs.
pub struct Session {
    config: Config,
    paths: ReadPaths,
    /// The token in use, if any.
    current: Option<Ready>,
    /// The one login flow in flight.
    flow: Option<Flow>,
    /// `ensure()` calls waiting for the flow.
    ensures: Vec<CallId>,
    /// `login(extra)` calls, in order: the first is in flight when the flow's `started_by` is it;
    /// the others wait for their own login.
    logins: VecDeque<CallId>,
    requests: Vec<Request>,
    ops: Vec<Op>,
    actions: VecDeque<Action>,
    /// Bumped by `logout()`: a request sent before it never logs back in or sends again.
    generation: u32,
    /// `logout()` could not remove the stored token: storage is not trusted (read as empty)
    /// until a new token is stored.
    storage_stale: bool,
    /// The token the server refused, which stays in storage until a login replaces it: read
    /// back from storage, it counts as no token.
    refused: Option<Token>,
    /// The refresh token the server refused: never sent again, even read back from storage.
    refused_refresh: Option<Token>,
    /// `onAuthRequired` was called for the requests now waiting for the app's login.
    auth_burst: bool,
    /// The newest token this session has had, even after it was forgotten as rejected: a
    /// refusal of an older token then says nothing new and must not start another login.
    newest: Option<Token>,
    reported: Option<State>,
    next_id: u32,
    jitter: Jitter,
    /// The app has a `login.extra()` whose object goes into every login body.
    login_extra: bool,
    /// The header of the last token sent, reused while the token is the same.
    last_header: Option<(Token, Header)>,
    /// Where the last request's URL goes: the next request with the same URL (the same `Rc`)
    /// skips checking it again.
    last_target: Option<Target>,
}

impl Session {
    /// A session in the `idle` state; nothing happens until the first call. `seed` seeds the
    /// backoff jitter.
    pub fn new(config: Config, seed: u32) -> Session {
        Session {
            paths: ReadPaths::new(&config),
            config,
            current: None,
            flow: None,
            ensures: Vec::new(),
            logins: VecDeque::new(),
            requests: Vec::new(),
            ops: Vec::new(),
            actions: VecDeque::new(),
            generation: 0,
            storage_stale: false,
            refused: None,
            refused_refresh: None,
            auth_burst: false,
            newest: None,
            reported: None,
            next_id: 1,
            jitter: Jitter::new(seed),
            login_extra: false,
            last_header: None,
            last_target: None,
        }
    }

    /// Every login asks the driver for `login.extra()`'s object first ([`Action::LoginExtra`]).
    pub fn with_login_extra(mut self, login_extra: bool) -> Session {
        self.login_extra = login_extra;
        self
    }

    /// The validated config.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The paths the driver reads from answers of `set`.
    pub fn read_paths(&self, set: ReadSet) -> &[crate::rule::Path] {
        self.paths.of(set)
    }

    /// The next action for the driver, in order.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// Are actions waiting for [`Session::poll_action`]?
    pub fn has_actions(&self) -> bool {
        !self.actions.is_empty()
    }

    /// When [`Session::handle_timeout`] must next be called, if anything is waiting.
    pub fn next_deadline(&self) -> Option<Millis> {
        let ops = self.ops.iter().map(|op| op.deadline);
        let waits = self.requests.iter().filter_map(Request::wake_at);
        ops.chain(waits).chain(self.flow.as_ref().and_then(Flow::wake_at)).min()
    }

    /// A usable token: from memory, else storage (checked as configured), else a login.
    /// Concurrent callers share one flow; while a `login(extra)` runs, they wait for its token.
    pub fn ensure(&mut self, now: Millis) -> CallId {
        let call = self.new_id();
        if let Some(ready) = self.token_for_new_call(now) {
            let value = Resolution::Ready { token: ready.token.clone(), source: ready.source };
            self.actions.push_back(Action::Resolve { call, value });
        } else {
            self.ensures.push(call);
            self.start_flow_if_idle(now);
        }
        call
    }

    /// A new login now, whose body also carries the object the driver keeps for this call
    /// (`session.login(extra)`: a phone-number code from a button, say). Resolves like
    /// [`Session::ensure`]. A flow in flight (the launch, a re-login, another `login`) ends
    /// first; then each `login` call gets its own login, in order, so every object reaches the
    /// server. Callers needing a token meanwhile share the login in flight. The current token
    /// stays in use until the login succeeds, and stays if it fails; if it fails while nobody
    /// has a token, those waiting for one go on with the launch flow (storage first).
    pub fn login(&mut self, now: Millis) -> CallId {
        let call = self.new_id();
        self.logins.push_back(call);
        if self.flow.is_none() {
            self.start_login_flow(now, Some(call));
        }
        call
    }

    /// Installs a token obtained elsewhere (`session.setToken`), as if a login had returned it
    /// with a lifetime of `expires_in_s` seconds: stored, in use, reported ready. A flow in
    /// flight ends with it. An unusable token is refused with `CONFIG`.
    pub fn set_token(&mut self, now: Millis, token: &str, expires_in_s: Option<u32>) -> CallId {
        self.set_token_pair(now, token, None, expires_in_s)
    }

    /// [`Session::set_token`] with a refresh token (`setToken(token, { refreshToken })`).
    pub fn set_token_pair(&mut self, now: Millis, token: &str, refresh_token: Option<&str>, expires_in_s: Option<u32>) -> CallId {
        let call = self.new_id();
        let token = match Token::new(token) {
            Ok(token) => token,
            Err(why) => return self.reject(call, Error::config("token", why)),
        };
        let refresh_token = match refresh_token.map(Token::new) {
            None => None,
            Some(Ok(refresh)) => Some(refresh),
            Some(Err(why)) => return self.reject(call, Error::config("refreshToken", why)),
        };
        let expires_at = expires_in_s.map(|s| now.saturating_add(Millis::from(s) * 1000).min(crate::MAX_MILLIS));
        let stored = StoredToken { token, expires_at, obtained_at: Some(now), refresh_token };
        // `login(extra)` calls asked for before it are superseded (`ABORTED`: their objects
        // never reached the server); everyone else waiting gets this token.
        for login in core::mem::take(&mut self.logins) {
            self.reject(login, Error::Aborted);
        }
        self.cancel_flow();
        let ready = self.ready_of(&stored, Source::Login);
        self.adopt(now, ready, Some(stored));
        self.resume_auth_waiters(now);
        self.actions.push_back(Action::Resolve { call, value: Resolution::Done });
        call
    }

    /// The token in use, if any: what `session.token()` shows, with no I/O.
    pub fn token(&self, now: Millis) -> Option<&Token> {
        self.usable(now).map(|ready| &ready.token)
    }

    /// The caller gave up on API call `call` (`abort()`): it is rejected with `ABORTED` and
    /// its exchange in flight cancelled. A login it waits for goes on for the others; an
    /// unknown or settled call is left alone.
    pub fn abort(&mut self, call: CallId) {
        if self.has_request(call) {
            self.cancel_ops_of(Owner::Request(call));
            self.settle_request(call, Err(Error::Aborted));
        }
    }

    /// Forgets the token in memory and storage. A login in flight is cancelled and its waiters
    /// get `LOGGED_OUT`; a request in flight that comes back "invalid" does not log back in.
    pub fn logout(&mut self, now: Millis) -> CallId {
        let call = self.new_id();
        self.generation = self.generation.wrapping_add(1);
        self.current = None;
        self.newest = None;
        self.refused = None;
        self.cancel_flow();
        self.settle_waiters(now, Err(&Error::LoggedOut));
        for login in core::mem::take(&mut self.logins) {
            self.reject(login, Error::LoggedOut);
        }
        self.drop_resends_with_token();
        self.withdraw_queued_token();
        self.reject_auth_waiters("logged out");
        self.report(State::Idle, None);
        let op = self.start_op(Owner::Logout(call), Awaits::Write, now, self.config.timeout_ms.get());
        let key = self.config.storage_key.as_str().into();
        self.actions.push_back(Action::RemoveStorage { op, key });
        call
    }

    /// Refuses a call the driver could not even describe (its options were not readable):
    /// the call gets an id and is rejected with `error` at once.
    pub fn reject_now(&mut self, error: Error) -> CallId {
        let call = self.new_id();
        self.reject(call, error)
    }

    /// Passes time: operations past their deadline time out, backoff waits end.
    pub fn handle_timeout(&mut self, now: Millis) {
        let mut expired: Vec<Op> = Vec::new();
        self.ops.retain(|op| {
            let due = op.deadline <= now;
            if due {
                expired.push(op.clone());
            }
            !due
        });
        for op in expired {
            self.actions.push_back(Action::Cancel { op: op.id, timed_out: true });
            let error = Error::Timeout { ms: op.limit_ms };
            match op.owner {
                Owner::Flow => self.flow_timed_out(now, error),
                Owner::Request(call) => self.request_failed(now, call, error),
                Owner::Store => self.warn(Error::Storage { err_msg: "the storage write did not finish".into() }),
                Owner::Logout(call) => self.logout_failed(call, "removing the token did not finish"),
            }
        }
        self.wake_requests(now);
        self.wake_flow(now);
    }

    /// The storage read of a flow finished.
    pub fn storage_read(&mut self, now: Millis, op: OpId, value: StorageValue) {
        if self.finish_op(op, Awaits::Read) == Some(Owner::Flow) {
            self.flow_storage_read(now, value);
        }
    }

    /// A storage write or remove finished; `Err` carries the platform's message.
    pub fn storage_done(&mut self, op: OpId, result: Result<(), &str>) {
        match (self.finish_op(op, Awaits::Write), result) {
            (Some(Owner::Logout(call)), Ok(())) => self.actions.push_back(Action::Resolve { call, value: Resolution::Done }),
            (Some(Owner::Logout(call)), Err(err_msg)) => self.logout_failed(call, &self.without_secrets(err_msg, None)),
            (Some(Owner::Store), Ok(())) => self.storage_stale = false,
            // (The platform's message may echo the record written.)
            (Some(Owner::Store), Err(err_msg)) => self.warn(Error::Storage { err_msg: self.without_secrets(err_msg, None) }),
            _ => {}
        }
    }

    /// `wx.checkSession` answered: is WeChat's own session still valid?
    pub fn check_session_done(&mut self, now: Millis, op: OpId, valid: bool) {
        if self.finish_op(op, Awaits::CheckSession) == Some(Owner::Flow) {
            self.flow_check_session_done(now, valid);
        }
    }

    /// `wx.login` answered with a code, or failed with an `errMsg`.
    pub fn wx_login_done(&mut self, now: Millis, op: OpId, result: Result<&str, &str>) {
        let answer = match result {
            Ok(code) => LoginAnswer::Code(code),
            Err(err_msg) => LoginAnswer::Failed(err_msg),
        };
        self.login_answered(now, op, answer);
    }

    /// The platform's login call answered (see [`LoginAnswer`]).
    pub fn login_answered(&mut self, now: Millis, op: OpId, answer: LoginAnswer) {
        if self.finish_op(op, Awaits::WxLogin) == Some(Owner::Flow) {
            self.flow_wx_login_done(now, answer);
        }
    }

    /// `login.extra()` resolved to an object (kept by the driver) or failed for `reason`.
    pub fn login_extra_done(&mut self, now: Millis, op: OpId, result: Result<(), &str>) {
        if self.finish_op(op, Awaits::LoginExtra) == Some(Owner::Flow) {
            self.flow_login_extra_done(now, result);
        }
    }

    /// An HTTP answer arrived: its status and the fields of the request's [`ReadSet`]. Status 0
    /// (the platform's answer had no usable `statusCode`) is no HTTP answer: a network failure.
    pub fn http_answered(&mut self, now: Millis, op: OpId, answer: Answer) {
        if answer.status == 0 {
            return self.http_failed(now, op, "request:fail the answer has no HTTP status");
        }
        match self.finish_op(op, Awaits::Http) {
            Some(Owner::Flow) => self.flow_http_done(now, Ok(answer)),
            Some(Owner::Request(call)) => self.request_answered(now, call, op, &answer),
            _ => {}
        }
    }

    /// The app's `beforeRequest` hook refused operation `op` (it threw, rejected or did not
    /// settle): its call fails with `BEFORE_REQUEST_FAILED`, nothing having been sent.
    pub fn send_refused(&mut self, op: OpId, reason: &str) {
        if let Some(Owner::Request(call)) = self.finish_op(op, Awaits::Http) {
            // (A hook still working when the app logged out: the send is refused as logged out.)
            let error = if self.is_from_before_logout(call) { Error::LoggedOut } else { Error::BeforeRequest { reason: self.without_secrets(reason, None) } };
            self.settle_request(call, Err(error));
        }
    }

    /// An HTTP request failed without an answer; `err_msg` is the platform's (`request:fail …`).
    pub fn http_failed(&mut self, now: Millis, op: OpId, err_msg: &str) {
        let mut error = crate::retry::transport_error(err_msg);
        // (Classified first: the platform's message may echo what it was sent, not the token.)
        if let Error::Network { err_msg } | Error::PlatformTimeout { err_msg } = &mut error {
            *err_msg = self.without_secrets(err_msg, None);
        }
        match self.finish_op(op, Awaits::Http) {
            Some(Owner::Flow) => self.flow_http_done(now, Err(error)),
            Some(Owner::Request(call)) => self.request_failed(now, call, error),
            _ => {}
        }
    }

    // ---- shared helpers ------------------------------------------------------------------

    /// How long before a known expiry a token is replaced, when a refresh token can replace it
    /// (`refresh.aheadMs`); `None`: the default margin.
    fn refresh_ahead(&self) -> Option<u32> {
        self.config.refresh.as_ref().map(|refresh| refresh.ahead_ms)
    }

    /// The session's view of a stored token: when it stops being usable, and its refresh token.
    fn ready_of(&self, stored: &StoredToken, source: Source) -> Ready {
        let refresh_at = stored.refresh_at(self.refresh_ahead());
        Ready { token: stored.token.clone(), source, refresh_at, refresh_token: stored.refresh_token.clone() }
    }

    /// `refresh`, if it can be swapped for a token: `refresh` is configured and the server has
    /// not refused it.
    fn refresh_token_of(&self, refresh: Option<&Token>) -> Option<Token> {
        refresh.filter(|refresh| self.config.refresh.is_some() && self.refused_refresh.as_ref() != Some(*refresh)).cloned()
    }

    /// The token a call starting now may use at once: the current one, except while a
    /// `login(extra)` runs (calls started then wait for its token, and go on with the launch
    /// flow if it fails).
    fn token_for_new_call(&self, now: Millis) -> Option<&Ready> {
        if self.flow.as_ref().is_some_and(|flow| flow.started_by.is_some()) {
            return None;
        }
        self.usable(now)
    }

    /// The current token, unless it has expired by now.
    fn usable(&self, now: Millis) -> Option<&Ready> {
        self.current.as_ref().filter(|ready| ready.refresh_at.is_none_or(|at| now < at))
    }

    fn reject(&mut self, call: CallId, error: Error) -> CallId {
        self.actions.push_back(Action::Reject { call, error });
        call
    }

    /// `logout()` could not remove the stored token: the call fails with `STORAGE`, and this
    /// session reads storage as empty until it stores a new token.
    fn logout_failed(&mut self, call: CallId, err_msg: &str) {
        self.storage_stale = true;
        let error = Error::Storage { err_msg: err_msg.into() };
        self.warn(error.clone());
        self.reject(call, error);
    }

    fn new_id(&mut self) -> u32 {
        let id = self.next_id;
        // Ids wrap after four billion calls; 0 is never used, so a driver can use it as "none".
        self.next_id = self.next_id.checked_add(1).unwrap_or(1);
        id
    }

    /// Registers an operation and returns its id.
    fn start_op(&mut self, owner: Owner, awaits: Awaits, now: Millis, limit_ms: u32) -> OpId {
        let id = self.new_id();
        self.ops.push(Op { id, owner, awaits, deadline: now.saturating_add(Millis::from(limit_ms)), limit_ms });
        id
    }

    /// Forgets a finished operation; `None` if the machine was not waiting for a result of
    /// this kind for it.
    fn finish_op(&mut self, id: OpId, awaits: Awaits) -> Option<Owner> {
        let at = self.ops.iter().position(|op| op.id == id && op.awaits == awaits)?;
        Some(self.ops.swap_remove(at).owner)
    }

    /// Stops waiting for every operation `owner` has in flight, telling the driver. One the
    /// driver has not even been asked to start yet (app code run by an earlier action called
    /// back in: `logout()` from an `onChange` listener) never starts: its action is taken back.
    fn cancel_ops_of(&mut self, owner: Owner) {
        let actions = &mut self.actions;
        self.ops.retain(|op| {
            let mine = op.owner == owner;
            if mine {
                match actions.iter().position(|action| action.starts(op.id)) {
                    Some(at) => drop(actions.remove(at)),
                    None => actions.push_back(Action::Cancel { op: op.id, timed_out: false }),
                }
            }
            !mine
        });
    }

    /// The header carrying `token` (made once per token).
    fn token_header(&mut self, token: &Token) -> Header {
        if let Some((last, header)) = &self.last_header {
            if last == token {
                return Rc::clone(header);
            }
        }
        let mut value = String::from(self.config.token_prefix.as_str());
        value.push_str(token.as_str());
        let header = Rc::new((self.config.token_header.as_str().into(), value));
        self.last_header = Some((token.clone(), Rc::clone(&header)));
        header
    }

    /// `logout()` from app code the driver ran while it still had actions to perform (an
    /// `onChange` listener hearing `ready`): nothing still queued may hand out the logged-out
    /// token. A queued `ensure()` result becomes `LOGGED_OUT`; a queued send with the token is
    /// withdrawn and its request fails `LOGGED_OUT`.
    fn withdraw_queued_token(&mut self) {
        let mut withdrawn = Vec::new();
        for action in &mut self.actions {
            match action {
                Action::Resolve { call, value: Resolution::Ready { .. } } => *action = Action::Reject { call: *call, error: Error::LoggedOut },
                Action::Send(send) if send.read == ReadSet::Api && send.header.is_some() => withdrawn.push((send.op, send.call)),
                _ => {}
            }
        }
        for (op, call) in withdrawn {
            self.actions.retain(|action| !action.starts(op));
            self.ops.retain(|o| o.id != op);
            if let Some(call) = call {
                self.settle_request(call, Err(Error::LoggedOut));
            }
        }
    }

    /// Reports a non-fatal error with the current state.
    fn warn(&mut self, error: Error) {
        let state = self.reported.unwrap_or(State::Idle);
        self.actions.push_back(Action::Report { state, error: Some(error) });
    }

    /// Reports `state` if it differs from the last one reported (failures are always reported).
    fn report(&mut self, state: State, error: Option<Error>) {
        if self.reported != Some(state) || error.is_some() {
            self.reported = Some(state);
            self.actions.push_back(Action::Report { state, error });
        }
    }

    /// Drops `token` from memory if it is still the current one.
    fn forget(&mut self, token: &Token) {
        if self.current.as_ref().is_some_and(|ready| ready.token == *token) {
            self.current = None;
            self.report(State::Idle, None);
        }
    }
}

/// What [`crate::testing::Driver`] needs to see inside, to check the machine.
#[cfg(any(test, feature = "testing"))]
impl Session {
    /// A login flow runs: the driver bounds each flow's `wx.login` attempts.
    pub(crate) fn flow_running(&self) -> bool {
        self.flow.is_some()
    }
}

#[cfg(test)]
mod tests;
