//! [`Driver`]: the session machine, its clock, and the books a driver keeps (the calls started,
//! the operations in flight), checking every action the machine asks for.
//!
//! Every test of the machine goes through it: the scripted tests (through [`super::Harness`]),
//! the property tests and the fuzz target. Each decides what the platform answers and when; the
//! driver tells the machine, takes its actions, and checks them against what must always hold
//! (see [`Driver`]). A check that fails panics with what went wrong.

use std::collections::{HashMap, HashSet};

use crate::answer::{Answer, ReadSet};
use crate::config::{Config, Method};
use crate::error::Error;
use crate::session::{Action, ApiKind, ApiRequest, CallId, OpId, Resolution, Session, State};
use crate::token::{StorageRead, StorageValue, StoredToken};
use crate::Millis;

/// The reply an operation waits for. A reply of another kind for its id (a driver mixing up
/// its callbacks) must be ignored: the operation stays in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Awaits {
    /// A `ReadStorage`: [`Reply::Read`].
    Read,
    /// A `WriteStorage` or `RemoveStorage`: [`Reply::Stored`].
    Write,
    /// A `CheckSession`: [`Reply::CheckSession`].
    CheckSession,
    /// A `WxLogin`: [`Reply::WxLogin`].
    WxLogin,
    /// A `LoginExtra`: [`Reply::LoginExtra`].
    LoginExtra,
    /// A `Send`: [`Reply::Answered`] or [`Reply::Failed`].
    Http,
}

impl Awaits {
    /// Every kind, in a fixed order (the fuzz target's inputs name a kind by its index here).
    pub const ALL: [Awaits; 6] = [Awaits::Read, Awaits::Write, Awaits::CheckSession, Awaits::WxLogin, Awaits::LoginExtra, Awaits::Http];

    /// The operation `action` starts and what it waits for; `None` for actions that start none.
    pub fn of(action: &Action) -> Option<(OpId, Awaits)> {
        match action {
            Action::ReadStorage { op, .. } => Some((*op, Awaits::Read)),
            Action::WriteStorage { op, .. } | Action::RemoveStorage { op, .. } => Some((*op, Awaits::Write)),
            Action::CheckSession { op } => Some((*op, Awaits::CheckSession)),
            Action::WxLogin { op, .. } => Some((*op, Awaits::WxLogin)),
            Action::LoginExtra { op } => Some((*op, Awaits::LoginExtra)),
            Action::Send(send) => Some((send.op, Awaits::Http)),
            Action::Cancel { .. } | Action::Resolve { .. } | Action::Reject { .. } | Action::Report { .. } | Action::AuthRequired { .. } => None,
        }
    }
}

/// What the platform tells the machine about an operation: one `Session` method each.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// [`Session::storage_read`]: the stored value.
    Read(StorageValue),
    /// [`Session::storage_done`]: the write or remove ended, or failed with this errMsg.
    Stored(Result<(), String>),
    /// [`Session::check_session_done`]: whether `wx.checkSession` said the session is valid.
    CheckSession(bool),
    /// [`Session::wx_login_done`]: a code, or the errMsg.
    WxLogin(Result<String, String>),
    /// [`Session::login_extra_done`]: `login.extra()`'s object was kept, or why not.
    LoginExtra(Result<(), String>),
    /// [`Session::http_answered`]: the status and the fields read.
    Answered(Answer),
    /// [`Session::http_failed`]: the errMsg.
    Failed(String),
    /// [`Session::send_refused`]: the app's `beforeRequest` hook refused the send, and why.
    Refused(String),
}

impl Reply {
    /// The kind of operation this reply ends.
    pub fn awaits(&self) -> Awaits {
        match self {
            Reply::Read(_) => Awaits::Read,
            Reply::Stored(_) => Awaits::Write,
            Reply::CheckSession(_) => Awaits::CheckSession,
            Reply::WxLogin(_) => Awaits::WxLogin,
            Reply::LoginExtra(_) => Awaits::LoginExtra,
            Reply::Answered(_) | Reply::Failed(_) | Reply::Refused(_) => Awaits::Http,
        }
    }
}

/// An operation the machine started and that has not ended: no reply of its kind yet, no
/// `Cancel`.
#[derive(Debug, Clone)]
pub struct Op {
    /// The id its reply goes with.
    pub id: OpId,
    /// The kind of reply that ends it.
    pub awaits: Awaits,
    /// The action that started it: what to store, where a request goes, with which header.
    pub action: Action,
}

impl Op {
    /// A `wx.login` or a login request.
    pub fn is_login(&self) -> bool {
        match &self.action {
            Action::WxLogin { .. } => true,
            Action::Send(send) => send.read == ReadSet::Login,
            _ => false,
        }
    }
}

/// Which public call a call id is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallKind {
    /// `ensure()`.
    Ensure,
    /// `request`, `uploadFile` or `downloadFile`.
    Api(ApiKind),
    /// `login(extra)`.
    Login,
    /// `setToken(token, expiresIn)`.
    SetToken,
    /// `logout()`.
    Logout,
    /// A call refused before it started (`reject_now`).
    Refused,
}

#[derive(Debug)]
struct Call {
    kind: CallKind,
    settled: Option<Result<Resolution, Error>>,
    /// Requests sent for it.
    sends: u32,
}

/// Is `text` a token a header can carry: 1 to 8192 bytes of visible ASCII and spaces, neither
/// starting nor ending with a space (a header value loses those)? Written out here rather than
/// taken from the core, which it checks.
pub fn is_good_token(text: &str) -> bool {
    (1..=8192).contains(&text.len()) && text.bytes().all(|b| (0x20..0x7f).contains(&b)) && !text.starts_with(' ') && !text.ends_with(' ')
}

/// JSON text (a record the machine asks to store) as plain data, as the glue's `JSON.parse`
/// and the storage hand it back; `None` if it is not JSON.
pub fn json_to_plain(text: &str) -> Option<Vec<u8>> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    Some(crate::plain::json::to_plain(&value))
}

/// The session machine with its clock and a driver's books, checking every action.
///
/// The caller plays the platform: it starts calls ([`Driver::ensure`], [`Driver::request`], …),
/// answers operations in flight ([`Driver::answer`], [`Driver::in_flight`]), moves the clock
/// ([`Driver::now`]) and lets deadlines pass ([`Driver::handle_timeout`]). After each of these
/// the driver takes every action the machine asks for, checks it, and appends it to
/// [`Driver::log`]; a platform that performs actions as they come (the harness) takes them in
/// order with [`Driver::next_action`].
///
/// Checked on every action, whatever the schedule:
/// - call and operation ids are never reused (operation 0 is never used);
/// - every `Resolve`/`Reject` settles a started call, once; a request resolves only with the
///   answer to one of its own sends; `ensure()` only with a token a header can carry;
/// - a `Cancel` is for an operation in flight, and says "timed out" only within
///   `handle_timeout`;
/// - storage calls use the config's key; a stored value reads back as a record;
/// - `login.extra()` is asked for only when the app has one, and merged into login bodies only;
/// - headers and login body fields hold no control characters; a send is for a call still
///   waiting, of that call's kind (uploads POST, downloads GET); login sends only for
///   `login(extra)` calls, checks for no call;
/// - a flow asks `wx.login` at most `retries + 1` times, a call is sent at most
///   `2 × (retries + 1)` times;
/// - no error message or key holds a token from [`Driver::issue`];
/// - with [`Driver::only_issued_tokens`], every token given or stored is one of those.
///
/// Checked after every input: at most one login (`wx.login` or a login request) in flight;
/// the token in use can go in a header; `set_token` settles at once; `abort` rejects its
/// request with `ABORTED`, cancels its sends in flight, and settles nothing else. And [`Driver::assert_idle`] checks the end.
///
/// ```
/// use wx_session::testing::{config, Driver, Reply, START};
/// use wx_session::StorageValue;
///
/// let mut driver = Driver::new(config(serde_json::json!({})), 1, false, START);
/// let call = driver.ensure();
/// // The flow reads storage first: nothing there, so it asks `wx.login` for a code.
/// let read = driver.in_flight()[0].id;
/// driver.answer(read, Reply::Read(StorageValue::Missing));
/// assert!(driver.in_flight()[0].is_login());
/// assert!(driver.settled(call).is_none());
/// ```
pub struct Driver {
    /// The machine. Tell it things through the driver, so its actions are checked.
    pub session: Session,
    /// The clock the machine is told (`Date.now()` in the glue). Tests move it.
    pub now: Millis,
    /// Every action the machine asked for, in order.
    pub log: Vec<Action>,
    /// Operations the machine cancelled, in order.
    pub cancelled: Vec<OpId>,
    /// Operations that ended (a reply of their kind, or a `Cancel`), in order.
    pub finished: Vec<OpId>,
    /// Only tokens from [`Driver::issue`] may be given by `ensure()` or stored (property tests,
    /// whose fake server knows every token there is).
    pub only_issued_tokens: bool,
    /// Print every input and action (set from `FUZZ_TRACE` by the fuzz target).
    pub trace: bool,
    /// How far [`Driver::next_action`] got through the log.
    performed: usize,
    in_flight: Vec<Op>,
    calls: HashMap<CallId, Call>,
    /// Every id the machine has given, to calls and operations.
    ids: HashSet<u32>,
    /// Sends that got an HTTP answer while in flight, with the call each was for.
    answered: HashMap<OpId, Option<CallId>>,
    issued: Vec<String>,
    /// Refresh tokens the server issued: never in an error, never given or stored as a token.
    refresh_issued: Vec<String>,
    login_extra: bool,
    retries: u32,
    /// `wx.login` asked for by the flow running now.
    flow_logins: u32,
    last_state: Option<State>,
    /// The actions being taken follow a `handle_timeout`.
    in_timeout: bool,
}

impl Driver {
    /// A fresh session over `config` (with a `login.extra()` if `login_extra`), jitter seeded
    /// with `seed`, the clock at `now`.
    pub fn new(config: Config, seed: u32, login_extra: bool, now: Millis) -> Driver {
        let retries = config.retries.get();
        Driver {
            session: Session::new(config, seed).with_login_extra(login_extra),
            now,
            log: Vec::new(),
            cancelled: Vec::new(),
            finished: Vec::new(),
            only_issued_tokens: false,
            trace: false,
            performed: 0,
            in_flight: Vec::new(),
            calls: HashMap::new(),
            ids: HashSet::new(),
            answered: HashMap::new(),
            issued: Vec::new(),
            refresh_issued: Vec::new(),
            login_extra,
            retries,
            flow_logins: 0,
            last_state: None,
            in_timeout: false,
        }
    }

    // ---- calls -------------------------------------------------------------------------------

    /// `session.ensure()`.
    pub fn ensure(&mut self) -> CallId {
        self.call(CallKind::Ensure, |s, now| s.ensure(now))
    }

    /// `session.request(opts)`, `uploadFile(opts)` or `downloadFile(opts)`, as `api.kind` says.
    pub fn request(&mut self, api: ApiRequest) -> CallId {
        self.call(CallKind::Api(api.kind), |s, now| s.request(now, api))
    }

    /// `session.login(extra)` (the object itself stays with the platform).
    pub fn login(&mut self) -> CallId {
        self.call(CallKind::Login, |s, now| s.login(now))
    }

    /// `session.logout()`.
    pub fn logout(&mut self) -> CallId {
        self.call(CallKind::Logout, |s, now| s.logout(now))
    }

    /// `session.setToken(token, expiresIn)`; checks that it settles at once.
    pub fn set_token(&mut self, token: &str, expires_in_s: Option<u32>) -> CallId {
        self.set_token_pair(token, None, expires_in_s)
    }

    /// `setToken(token, { refreshToken, expiresIn })`.
    pub fn set_token_pair(&mut self, token: &str, refresh_token: Option<&str>, expires_in_s: Option<u32>) -> CallId {
        let call = self.call(CallKind::SetToken, |s, now| s.set_token_pair(now, token, refresh_token, expires_in_s));
        assert!(self.settled(call).is_some(), "setToken({} bytes) did not settle at once", token.len());
        call
    }

    /// A call whose options the glue could not read: refused at once with `error`.
    pub fn reject_now(&mut self, error: Error) -> CallId {
        self.call(CallKind::Refused, |s, _| s.reject_now(error))
    }

    /// `abort()` of `call`; checks that a waiting API call is rejected with `ABORTED`, that its
    /// sends in flight are cancelled, and that nothing else settles.
    pub fn abort(&mut self, call: CallId) {
        let api_waiting = self.calls.get(&call).is_some_and(|c| c.settled.is_none() && matches!(c.kind, CallKind::Api(_)));
        let settled_before = self.settled_count();
        if self.trace {
            eprintln!("@{} abort {call}", self.now);
        }
        self.feed(|s, _| s.abort(call));
        if api_waiting {
            let code = self.settled(call).and_then(|r| r.as_ref().err()).map(Error::code);
            assert_eq!(code, Some("ABORTED"), "abort() of request {call} did not reject it with ABORTED");
            assert_eq!(self.settled_count(), settled_before + 1, "abort() of request {call} settled other calls");
            let sends: Vec<OpId> =
                self.in_flight.iter().filter(|op| matches!(&op.action, Action::Send(send) if send.call == Some(call))).map(|op| op.id).collect();
            assert!(sends.is_empty(), "abort() of request {call} left its sends {sends:?} in flight");
        } else {
            assert_eq!(self.settled_count(), settled_before, "abort() of {call}, no API call in flight, settled a call");
        }
    }

    fn call(&mut self, kind: CallKind, start: impl FnOnce(&mut Session, Millis) -> CallId) -> CallId {
        let had_flow = self.session.flow_running();
        let call = start(&mut self.session, self.now);
        if self.trace {
            eprintln!("@{} {kind:?} call {call}", self.now);
        }
        assert!(self.ids.insert(call), "call id {call} was used before");
        self.calls.insert(call, Call { kind, settled: None, sends: 0 });
        self.take_actions(had_flow);
        call
    }

    // ---- the platform's side -----------------------------------------------------------------

    /// Tells the machine `reply` for operation `op`. A reply of the kind `op` waits for ends it;
    /// any other leaves it in flight (the machine must ignore it), as does a reply for an
    /// operation that is not in flight.
    pub fn answer(&mut self, op: OpId, reply: Reply) {
        if let Some(at) = self.in_flight.iter().position(|o| o.id == op && o.awaits == reply.awaits()) {
            let ended = self.in_flight.remove(at);
            self.finished.push(op);
            if let (Reply::Answered(_), Action::Send(send)) = (&reply, &ended.action) {
                self.answered.insert(op, send.call);
            }
        }
        if self.trace {
            eprintln!("@{} op {op} <- {reply:?}", self.now);
        }
        self.feed(|s, now| match reply {
            Reply::Read(value) => s.storage_read(now, op, value),
            Reply::Stored(result) => s.storage_done(op, result.as_ref().map(|_| ()).map_err(String::as_str)),
            Reply::CheckSession(valid) => s.check_session_done(now, op, valid),
            Reply::WxLogin(result) => s.wx_login_done(now, op, result.as_deref().map_err(String::as_str)),
            Reply::LoginExtra(result) => s.login_extra_done(now, op, result.as_ref().map(|_| ()).map_err(String::as_str)),
            Reply::Answered(answer) => s.http_answered(now, op, answer),
            Reply::Refused(reason) => s.send_refused(op, &reason),
            Reply::Failed(err_msg) => s.http_failed(now, op, &err_msg),
        });
    }

    /// Tells the machine anything at all (a made-up or late result), keeping no books on it:
    /// the operations in flight stay as they are.
    pub fn input(&mut self, event: impl FnOnce(&mut Session, Millis)) {
        if self.trace {
            eprintln!("@{} a direct input", self.now);
        }
        self.feed(event);
    }

    fn feed(&mut self, event: impl FnOnce(&mut Session, Millis)) {
        let had_flow = self.session.flow_running();
        event(&mut self.session, self.now);
        self.take_actions(had_flow);
    }

    /// `handle_timeout` at [`Driver::now`], as the glue's timer calls it.
    pub fn handle_timeout(&mut self) {
        if self.trace {
            eprintln!("@{} handle_timeout", self.now);
        }
        self.in_timeout = true;
        self.feed(|s, now| s.handle_timeout(now));
        self.in_timeout = false;
    }

    /// Moves the clock to every deadline in turn, nothing answering, until the machine waits
    /// for no time (at most 10,000 rounds: more is a livelock).
    pub fn pass_deadlines(&mut self) {
        for _ in 0..10_000 {
            let Some(deadline) = self.session.next_deadline() else { return };
            self.now = self.now.max(deadline);
            self.handle_timeout();
        }
        assert_eq!(self.session.next_deadline(), None, "deadlines keep coming: a livelock");
    }

    /// A token the (fake) server issued: no error may ever show it.
    pub fn issue(&mut self, token: &str) {
        if !self.issued.iter().any(|known| known == token) {
            self.issued.push(token.to_owned());
        }
    }

    /// A refresh token the server issued: it may be stored beside a token, but never given as one
    /// or shown in an error.
    pub fn issue_refresh(&mut self, refresh: &str) {
        if !self.refresh_issued.iter().any(|known| known == refresh) {
            self.refresh_issued.push(refresh.to_owned());
        }
    }

    /// The actions not yet performed, one at a time, in order (for a platform that performs them
    /// as they come).
    pub fn next_action(&mut self) -> Option<Action> {
        let action = self.log.get(self.performed).cloned()?;
        self.performed += 1;
        Some(action)
    }

    // ---- what the books say ------------------------------------------------------------------

    /// The operations in flight, oldest first.
    pub fn in_flight(&self) -> &[Op] {
        &self.in_flight
    }

    /// Every token from [`Driver::issue`], in order.
    pub fn issued(&self) -> &[String] {
        &self.issued
    }

    /// How `call` settled, if it did.
    pub fn settled(&self, call: CallId) -> Option<&Result<Resolution, Error>> {
        self.calls.get(&call).and_then(|c| c.settled.as_ref())
    }

    /// Every call started, in order.
    pub fn calls(&self) -> Vec<CallId> {
        let mut ids: Vec<CallId> = self.calls.keys().copied().collect();
        ids.sort_unstable();
        ids
    }

    /// The calls started and not settled, in order.
    pub fn waiting(&self) -> Vec<CallId> {
        let mut ids: Vec<CallId> = self.calls.iter().filter(|(_, c)| c.settled.is_none()).map(|(id, _)| *id).collect();
        ids.sort_unstable();
        ids
    }

    /// The state the machine reported last.
    pub fn last_state(&self) -> Option<State> {
        self.last_state
    }

    /// Checks the end of a schedule: the machine waits for no time, no operation is in flight,
    /// every call settled, and the last state reported is not `checking` or `logging-in`.
    pub fn assert_idle(&self) {
        assert_eq!(self.session.next_deadline(), None, "the machine still waits for a deadline");
        let open: Vec<(OpId, Awaits)> = self.in_flight.iter().map(|op| (op.id, op.awaits)).collect();
        assert!(open.is_empty(), "operations {open:?} were dropped without an answer or a Cancel");
        let waiting = self.waiting();
        assert!(waiting.is_empty(), "calls {waiting:?} never settled, and the machine waits for nothing");
        assert!(!matches!(self.last_state, Some(State::Checking | State::LoggingIn)), "left in {:?}", self.last_state);
    }

    fn settled_count(&self) -> usize {
        self.calls.values().filter(|c| c.settled.is_some()).count()
    }

    // ---- the checks --------------------------------------------------------------------------

    /// Takes and checks every action the last input caused, then what must hold between inputs.
    fn take_actions(&mut self, had_flow: bool) {
        if !had_flow {
            // A flow starting now is a new one. (A flow that ended and another that started
            // within one input count as one: stricter, never looser.)
            self.flow_logins = 0;
        }
        while let Some(action) = self.session.poll_action() {
            if self.trace {
                eprintln!("  <- {action:?}");
            }
            self.check(&action);
            self.log.push(action);
        }
        let logins: Vec<OpId> = self.in_flight.iter().filter(|op| op.is_login()).map(|op| op.id).collect();
        assert!(logins.len() <= 1, "two logins in flight: {logins:?}");
        if let Some(token) = self.session.token(self.now) {
            assert!(is_good_token(token.as_str()), "token() shows a token a header cannot carry");
        }
    }

    fn check(&mut self, action: &Action) {
        let storage_key = self.session.config().storage_key.as_str();
        match action {
            Action::ReadStorage { key, .. } | Action::RemoveStorage { key, .. } => assert_eq!(key, storage_key, "storage used under another key"),
            Action::WriteStorage { key, value, .. } => {
                assert_eq!(key, storage_key, "storage used under another key");
                self.check_stored(value);
            }
            Action::CheckSession { .. } => {}
            Action::WxLogin { .. } => {
                self.flow_logins += 1;
                assert!(self.flow_logins <= self.retries + 1, "{} wx.login attempts in one flow", self.flow_logins);
            }
            Action::LoginExtra { .. } => assert!(self.login_extra, "login.extra() asked for without one"),
            Action::Send(send) => self.check_send(send),
            Action::Cancel { op, timed_out } => {
                assert!(!timed_out || self.in_timeout, "operation {op} timed out without handle_timeout");
                let at = self.in_flight.iter().position(|o| o.id == *op);
                assert!(at.is_some(), "cancelled operation {op}, which was not in flight");
                if let Some(at) = at {
                    self.in_flight.remove(at);
                }
                self.cancelled.push(*op);
                self.finished.push(*op);
            }
            Action::Resolve { call, value } => {
                match value {
                    Resolution::Ready { token, .. } => {
                        assert!(is_good_token(token.as_str()), "ensure() resolved with a token a header cannot carry");
                        if self.only_issued_tokens {
                            assert!(self.issued.iter().any(|t| t == token.as_str()), "ensure() gave a token nobody issued");
                        }
                    }
                    Resolution::Answer { op } => {
                        let answered_for = self.answered.get(op);
                        assert_eq!(answered_for, Some(&Some(*call)), "call {call} resolved with operation {op}, not an answer to one of its sends");
                    }
                    Resolution::Done => {}
                }
                self.settle(*call, Ok(value.clone()));
            }
            Action::Reject { call, error } => {
                self.check_error(error);
                self.settle(*call, Err(error.clone()));
            }
            Action::AuthRequired { call } => {
                let waiting = self.calls.get(call).is_some_and(|c| c.settled.is_none() && matches!(c.kind, CallKind::Api(_)));
                assert!(waiting, "onAuthRequired for call {call}, which is not a waiting API call");
            }
            Action::Report { state, error } => {
                if let Some(error) = error {
                    self.check_error(error);
                }
                self.last_state = Some(*state);
                if matches!(state, State::Ready | State::Failed) {
                    // A flow ended (it reports how); another may start within the same input.
                    self.flow_logins = 0;
                }
            }
        }
        if let Some((op, awaits)) = Awaits::of(action) {
            assert!(op != 0, "operation id 0");
            assert!(self.ids.insert(op), "operation id {op} was used before");
            self.in_flight.push(Op { id: op, awaits, action: action.clone() });
        }
    }

    /// A value the machine stores: JSON text that reads back as a record.
    fn check_stored(&self, value: &str) {
        let plain = json_to_plain(value).unwrap_or_else(|| panic!("the machine stored text that is not JSON ({} bytes)", value.len()));
        match StoredToken::read(&StorageValue::Plain(plain)) {
            StorageRead::Record(stored) => {
                if self.only_issued_tokens {
                    let token = stored.token.as_str();
                    assert!(self.issued.iter().any(|t| t == token), "stored a token nobody issued ({} bytes)", token.len());
                    if let Some(refresh) = &stored.refresh_token {
                        let refresh = refresh.as_str();
                        assert!(self.refresh_issued.iter().any(|t| t == refresh), "stored a refresh token nobody issued ({} bytes)", refresh.len());
                    }
                }
            }
            other => panic!("the machine stored something that does not read back as a record: {other:?}"),
        }
    }

    fn check_send(&mut self, send: &crate::session::Send) {
        if let Some(header) = &send.header {
            let (name, value) = &**header;
            assert!(!name.is_empty() && !value.chars().any(char::is_control), "a header with control characters: {name:?}");
        }
        if let Some((key, value)) = &send.body {
            assert!(!key.is_empty() && !value.chars().any(char::is_control), "a login body field with control characters");
        }
        if let Some(call) = send.call {
            let limit = 2 * (self.retries + 1);
            let entry = self.calls.get_mut(&call).filter(|c| c.settled.is_none());
            let Some(entry) = entry else { panic!("a send for call {call}, which is not waiting") };
            entry.sends += 1;
            assert!(entry.sends <= limit, "call {call} sent {} times", entry.sends);
        }
        let call_kind = send.call.and_then(|call| self.calls.get(&call)).map(|c| c.kind);
        match send.read {
            ReadSet::Api => {
                assert_eq!(call_kind, Some(CallKind::Api(send.kind)), "an API send of the wrong kind, or for no API call");
                match send.kind {
                    ApiKind::Upload => assert_eq!(send.method, Method::Post, "an upload that does not POST"),
                    ApiKind::Download => assert_eq!(send.method, Method::Get, "a download that does not GET"),
                    ApiKind::Request => {}
                }
            }
            ReadSet::Login => {
                assert!(send.call.is_none() || call_kind == Some(CallKind::Login), "a login send for a call that is not login()");
                assert_eq!(send.kind, ApiKind::Request, "a login that is not a wx.request");
            }
            ReadSet::Check | ReadSet::Refresh => {
                assert!(send.call.is_none(), "a check or refresh send for a call");
                assert_eq!(send.kind, ApiKind::Request, "a check or refresh that is not a wx.request");
            }
        }
        assert!(send.config_extra == (self.login_extra && send.read == ReadSet::Login), "login.extra's object merged into the wrong request");
    }

    fn settle(&mut self, call: CallId, outcome: Result<Resolution, Error>) {
        let entry = self.calls.get_mut(&call);
        let Some(entry) = entry else { panic!("settled call {call}, which was never started") };
        assert!(entry.settled.is_none(), "settled call {call} twice");
        entry.settled = Some(outcome);
    }

    fn check_error(&self, error: &Error) {
        let message = error.message();
        let key = error.key().unwrap_or("");
        for token in self.issued.iter().chain(&self.refresh_issued) {
            assert!(!message.contains(token.as_str()) && !key.contains(token.as_str()), "an error carries an issued token: {}", error.code());
        }
    }
}
