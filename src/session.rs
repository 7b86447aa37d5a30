//! The session flow: storage → check → login, single-flight, with bounded retries.
//!
//! One [`Session`] lives for the whole app. At most one login flow runs at a time: whoever finds
//! the session without a token starts the flow and stores it as a shared future; every later
//! caller awaits that same future. A flow's result is applied only if no `logout()` happened
//! meanwhile (the `generation` counter), so a late login never resurrects a logged-out session.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::pin;
use std::rc::Rc;

use futures_util::future::{select, Either, FutureExt, LocalBoxFuture, Shared};
use serde_json::{Map, Value};

use crate::config::{CheckPolicy, CodeIn, Config, Method};
use crate::error::Error;
use crate::host::{Host, HostAnswer, HttpRequest, State};
use crate::retry::{backoff_ms, classify_transport_error, is_permanent_network_failure};
use crate::token::{Freshness, StorageRead, StoredToken, Token};

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

/// A usable session: the token and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Ready {
    pub token: Token,
    pub source: Source,
}

/// An authenticated API call, as `session.request(opts)` describes it.
#[derive(Debug, Clone)]
pub struct ApiRequest<O> {
    /// Path relative to `baseUrl`, or an absolute URL.
    pub url: String,
    pub method: Method,
    /// `false` skips the token and the re-login logic.
    pub auth: bool,
    /// Retry on network errors even though the method is not idempotent (POST).
    pub retry: bool,
    /// Overrides the config's `timeoutMs`.
    pub timeout_ms: Option<u32>,
    /// The caller's options, forwarded to the host untouched.
    pub options: Option<O>,
}

impl<O> ApiRequest<O> {
    /// A GET with the defaults.
    pub fn get(url: impl Into<String>) -> Self {
        ApiRequest { url: url.into(), method: Method::Get, auth: true, retry: false, timeout_ms: None, options: None }
    }
}

type SharedFlow = Shared<LocalBoxFuture<'static, Result<Ready, Error>>>;

enum Phase {
    Idle,
    Ready(Ready),
    Pending(SharedFlow),
    Failed,
}

/// What a login flow produced: the session, and a record to store if it is new.
struct Outcome {
    ready: Ready,
    store: Option<StoredToken>,
}

struct Inner<H: Host> {
    host: H,
    config: Config,
    phase: RefCell<Phase>,
    /// Bumped by `logout()`; a flow started under an older generation doesn't apply its result.
    generation: Cell<u64>,
    /// The newest token this session has had, even after it was forgotten as rejected: a
    /// refusal of an older token then says nothing new and must not start another login.
    newest: RefCell<Option<Token>>,
    reported: Cell<Option<State>>,
}

/// The session. Cheap to clone; clones share state.
///
/// ```no_run
/// # async fn demo<H: wx_session::Host + 'static>(host: H, config: wx_session::Config) -> Result<(), wx_session::Error> {
/// let session = wx_session::Session::new(host, config);
/// let ready = session.ensure().await?;
/// println!("logged in from {}", ready.source.as_str());
/// # Ok(()) }
/// ```
pub struct Session<H: Host> {
    inner: Rc<Inner<H>>,
}

impl<H: Host> Clone for Session<H> {
    fn clone(&self) -> Self {
        Session { inner: Rc::clone(&self.inner) }
    }
}

impl<H: Host + 'static> Session<H> {
    /// A session in the `idle` state; nothing happens until the first call.
    pub fn new(host: H, config: Config) -> Self {
        Session {
            inner: Rc::new(Inner {
                host,
                config,
                phase: RefCell::new(Phase::Idle),
                generation: Cell::new(0),
                newest: RefCell::new(None),
                reported: Cell::new(None),
            }),
        }
    }

    /// The host, for drivers that need to reach it.
    pub fn host(&self) -> &H {
        &self.inner.host
    }

    /// A usable token: from memory, else storage (checked as configured), else a login.
    /// Concurrent callers share one flow.
    pub async fn ensure(&self) -> Result<Ready, Error> {
        let flow = {
            let mut phase = self.inner.phase.borrow_mut();
            match &*phase {
                Phase::Ready(ready) => return Ok(ready.clone()),
                Phase::Pending(flow) => flow.clone(),
                Phase::Idle | Phase::Failed => {
                    let flow = Inner::start_flow(&self.inner, false);
                    *phase = Phase::Pending(flow.clone());
                    flow
                }
            }
        };
        flow.await
    }

    /// Sends an API request with the token, logging in again once (shared by every caller)
    /// when the answer says the session is invalid. Resolves with any HTTP answer.
    pub async fn request(&self, request: ApiRequest<H::Options>) -> Result<H::Response, Error> {
        if !request.auth {
            return self.inner.send(&request, None).await;
        }
        let first = self.ensure().await?;
        let generation = self.inner.generation.get();
        let response = self.inner.send(&request, Some(&first.token)).await?;
        if !self.inner.says_invalid(&response) {
            return Ok(response);
        }
        if self.inner.generation.get() != generation {
            // Logged out while this request was in flight: don't log back in behind the app.
            return Err(Error::LoggedOut);
        }
        let fresh = self.relogin(&first.token).await?;
        let response = self.inner.send(&request, Some(&fresh.token)).await?;
        if self.inner.says_invalid(&response) {
            // A token the server rejects right after issuing it: forget it so the next call
            // starts over, but don't loop here.
            self.inner.forget(&fresh.token);
            return Err(Error::SessionExpired);
        }
        Ok(response)
    }

    /// Forgets the token in memory and storage. A login in flight finishes without applying
    /// its result, and its waiters get `LOGGED_OUT`.
    pub async fn logout(&self) -> Result<(), Error> {
        let inner = &self.inner;
        inner.generation.set(inner.generation.get().wrapping_add(1));
        *inner.phase.borrow_mut() = Phase::Idle;
        *inner.newest.borrow_mut() = None;
        inner.report(State::Idle, None);
        inner
            .host
            .remove_storage(&inner.config.storage_key)
            .map_err(|err_msg| Error::Storage { err_msg })
    }

    /// The token `stale` was refused: get a newer one. If another caller already replaced it,
    /// that one is used; otherwise one login starts (or is joined if already running).
    async fn relogin(&self, stale: &Token) -> Result<Ready, Error> {
        let flow = {
            let mut phase = self.inner.phase.borrow_mut();
            match &*phase {
                Phase::Ready(ready) if ready.token != *stale => return Ok(ready.clone()),
                Phase::Pending(flow) => flow.clone(),
                Phase::Ready(_) | Phase::Idle | Phase::Failed => {
                    if self.inner.newest.borrow().as_ref().is_some_and(|newest| newest != stale) {
                        // A newer token was issued since, and the server refused that one too.
                        return Err(Error::SessionExpired);
                    }
                    // The refused token stays in storage until a login replaces it: a failed
                    // login must not leave the user with nothing.
                    let flow = Inner::start_flow(&self.inner, true);
                    *phase = Phase::Pending(flow.clone());
                    flow
                }
            }
        };
        flow.await
    }
}

impl<H: Host + 'static> Inner<H> {
    /// Starts a flow (launch flow, or straight to login) as a shared future that applies its
    /// own result to the phase when it ends.
    fn start_flow(inner: &Rc<Self>, login_only: bool) -> SharedFlow {
        let inner = Rc::clone(inner);
        let generation = inner.generation.get();
        async move {
            let outcome = if login_only { inner.login().await } else { inner.launch().await };
            if inner.generation.get() != generation {
                return Err(Error::LoggedOut);
            }
            match outcome {
                Ok(Outcome { ready, store }) => {
                    if let Some(record) = store {
                        inner.store(&record);
                    }
                    *inner.newest.borrow_mut() = Some(ready.token.clone());
                    *inner.phase.borrow_mut() = Phase::Ready(ready.clone());
                    inner.report(State::Ready, None);
                    Ok(ready)
                }
                Err(error) => {
                    *inner.phase.borrow_mut() = Phase::Failed;
                    inner.report(State::Failed, Some(&error));
                    Err(error)
                }
            }
        }
        .boxed_local()
        .shared()
    }

    /// Launch: stored token → checks → login when needed.
    async fn launch(&self) -> Result<Outcome, Error> {
        self.report(State::Checking, None);
        let stored = match self.host.read_storage(&self.config.storage_key) {
            Ok(value) => StoredToken::read(value.as_ref()),
            Err(err_msg) => {
                self.warn(Error::Storage { err_msg });
                StorageRead::Empty
            }
        };
        let (stored, migrate) = match stored {
            StorageRead::Record(stored) => (stored, false),
            StorageRead::Legacy(stored) => (stored, true),
            StorageRead::Empty | StorageRead::Corrupt => return self.login().await,
        };
        if !self.still_valid(&stored).await? {
            return self.login().await;
        }
        let ready = Ready { token: stored.token.clone(), source: Source::Storage };
        Ok(Outcome { ready, store: migrate.then_some(stored) })
    }

    /// Decides whether a stored token can be used, per `useCheckSession` and the check policy.
    async fn still_valid(&self, stored: &StoredToken) -> Result<bool, Error> {
        let freshness = stored.freshness(self.host.now_ms());
        if freshness == Freshness::Expired {
            return Ok(false);
        }
        let policy = self.config.check.as_ref().map(|check| check.policy);
        if policy == Some(CheckPolicy::WhenUnknown) && freshness == Freshness::Fresh {
            return Ok(true); // known fresh: no network at all
        }
        if self.config.use_check_session && !self.check_session().await {
            return Ok(false);
        }
        match policy {
            Some(CheckPolicy::Always | CheckPolicy::WhenUnknown) => self.retrying(|| self.server_check(stored)).await,
            Some(CheckPolicy::Never) | None => Ok(true),
        }
    }

    /// `wx.checkSession`, counted as failed when it doesn't answer in time.
    async fn check_session(&self) -> bool {
        within(&self.host, self.config.timeout_ms, self.host.check_session()).await.unwrap_or(false)
    }

    /// Asks the check endpoint about the token. `Ok(false)` means the server says it's invalid.
    async fn server_check(&self, stored: &StoredToken) -> Result<bool, Error> {
        let Some(check) = &self.config.check else {
            return Ok(true);
        };
        let request = HttpRequest {
            url: self.config.url_for(&check.url),
            method: check.method,
            headers: vec![self.token_header(&stored.token)],
            body: None,
            timeout_ms: self.config.timeout_ms,
            passthrough: None,
        };
        let response = self.exchange(request).await?;
        let answer = HostAnswer { host: &self.host, response: &response };
        let status = self.host.status(&response);
        if status >= 500 {
            return Err(Error::ServerRejected { endpoint: "check", status });
        }
        if self.config.invalid_when.iter().any(|rule| rule.matches(&answer)) {
            return Ok(false);
        }
        Ok(match &check.ok_when {
            Some(rule) => rule.matches(&answer),
            None => (200..300).contains(&status),
        })
    }

    /// Logs in with a fresh `wx.login` code per attempt, retrying transient failures.
    async fn login(&self) -> Result<Outcome, Error> {
        self.report(State::LoggingIn, None);
        let stored = self.retrying(|| self.login_once()).await?;
        let ready = Ready { token: stored.token.clone(), source: Source::Login };
        Ok(Outcome { ready, store: Some(stored) })
    }

    async fn login_once(&self) -> Result<StoredToken, Error> {
        let login = &self.config.login;
        let code = within(&self.host, self.config.timeout_ms, self.host.login())
            .await
            .unwrap_or_else(|| Err("login:fail timeout".to_owned()))
            .map_err(|err_msg| Error::WxLoginFailed { err_msg })?;
        if code.is_empty() {
            return Err(Error::WxLoginFailed { err_msg: "login:ok without a code".into() });
        }
        let mut body = Map::new();
        if login.has_extra {
            match self.host.login_extra().await.map_err(|reason| Error::LoginExtraFailed { reason })? {
                Value::Object(extra) => body.extend(extra),
                Value::Null => {}
                _ => return Err(Error::LoginExtraFailed { reason: "login.extra() must resolve to an object".into() }),
            }
        }
        let mut url = self.config.url_for(&login.url);
        let mut headers = Vec::new();
        match login.code_in {
            CodeIn::Body => {
                body.insert(login.code_key.clone(), Value::String(code));
            }
            CodeIn::Query => {
                let separator = if url.contains('?') { '&' } else { '?' };
                url = format!("{url}{separator}{}={}", encode_query(&login.code_key), encode_query(&code));
            }
            CodeIn::Header => headers.push((login.code_key.clone(), code)),
        }
        let body = (!body.is_empty()).then_some(Value::Object(body));
        let request = HttpRequest { url, method: login.method, headers, body, timeout_ms: self.config.timeout_ms, passthrough: None };
        let response = self.exchange(request).await?;
        self.read_login_answer(&response)
    }

    /// Takes only the token (and its lifetime) from a login answer; nothing else is kept.
    fn read_login_answer(&self, response: &H::Response) -> Result<StoredToken, Error> {
        let login = &self.config.login;
        let status = self.host.status(response);
        let answer = HostAnswer { host: &self.host, response };
        let ok = match &login.ok_when {
            Some(rule) => status < 500 && rule.matches(&answer),
            None => (200..300).contains(&status),
        };
        if !ok {
            return Err(Error::ServerRejected { endpoint: "login", status });
        }
        let bad = |reason: String| Error::BadResponse { endpoint: "login", reason };
        let token = match self.host.body_field(response, &login.token_path) {
            Some(Value::String(text)) => Token::new(text).ok_or_else(|| bad(format!("`{}` is empty", login.token_path.as_str())))?,
            Some(_) => return Err(bad(format!("`{}` is not a string", login.token_path.as_str()))),
            None => return Err(bad(format!("`{}` is missing", login.token_path.as_str()))),
        };
        let now = self.host.now_ms();
        let expires_at = match &login.expires_in_path {
            None => None,
            Some(path) => match self.host.body_field(response, path) {
                None | Some(Value::Null) => None,
                Some(value) => {
                    let seconds = seconds_of(&value).ok_or_else(|| bad(format!("`{}` is not a number of seconds", path.as_str())))?;
                    Some(now + seconds * 1000.0)
                }
            },
        };
        Ok(StoredToken { token, expires_at, obtained_at: Some(now) })
    }

    /// Runs `attempt` until it succeeds, fails for good, or `retries` transient failures
    /// happened; waits with backoff in between.
    async fn retrying<T, F, Fut>(&self, mut attempt: F) -> Result<T, Error>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let mut failures = 0;
        loop {
            match attempt().await {
                Err(error) if error.is_transient() && failures < self.config.retries => {
                    self.host.sleep(backoff_ms(failures, self.host.random())).await;
                    failures += 1;
                }
                result => return result,
            }
        }
    }

    /// An API request, retried on network failures when that is safe.
    async fn send(&self, request: &ApiRequest<H::Options>, token: Option<&Token>) -> Result<H::Response, Error> {
        let may_retry = request.retry || request.method.is_idempotent();
        let http = HttpRequest {
            url: self.config.url_for(&request.url),
            method: request.method,
            headers: token.map(|t| self.token_header(t)).into_iter().collect(),
            body: None,
            timeout_ms: request.timeout_ms.unwrap_or(self.config.timeout_ms),
            passthrough: request.options.clone(),
        };
        if may_retry {
            self.retrying(|| self.exchange(http.clone())).await
        } else {
            self.exchange(http).await
        }
    }

    /// One HTTP exchange with a time limit; transport failures become typed errors.
    /// Only connection-level failures are transient here: an HTTP answer is returned as is.
    async fn exchange(&self, request: HttpRequest<H::Options>) -> Result<H::Response, Error> {
        let ms = request.timeout_ms;
        match within(&self.host, ms, self.host.request(request)).await {
            None => Err(Error::Timeout { ms }),
            Some(Ok(response)) => Ok(response),
            Some(Err(err_msg)) if is_permanent_network_failure(&err_msg) => {
                // Not transient: don't retry a domain that isn't allowed.
                Err(Error::BadResponse { endpoint: "request", reason: err_msg })
            }
            Some(Err(err_msg)) => Err(classify_transport_error(&err_msg, ms)),
        }
    }

    fn says_invalid(&self, response: &H::Response) -> bool {
        let answer = HostAnswer { host: &self.host, response };
        self.config.invalid_when.iter().any(|rule| rule.matches(&answer))
    }

    fn token_header(&self, token: &Token) -> (String, String) {
        (self.config.token_header.clone(), format!("{}{}", self.config.token_prefix, token.as_str()))
    }

    /// Drops `token` from memory if it is still the current one.
    fn forget(&self, token: &Token) {
        let mut phase = self.phase.borrow_mut();
        if matches!(&*phase, Phase::Ready(ready) if ready.token == *token) {
            *phase = Phase::Idle;
            drop(phase);
            self.report(State::Idle, None);
        }
    }

    fn store(&self, record: &StoredToken) {
        if let Err(err_msg) = self.host.write_storage(&self.config.storage_key, &record.to_value()) {
            // The session goes on in memory; the app hears about it.
            self.warn(Error::Storage { err_msg });
        }
    }

    /// Reports a non-fatal error with the current state.
    fn warn(&self, error: Error) {
        let state = self.reported.get().unwrap_or(State::Idle);
        self.host.state_changed(state, Some(&error));
    }

    /// Reports `state` if it differs from the last one reported (failures are always reported).
    fn report(&self, state: State, error: Option<&Error>) {
        if self.reported.get() != Some(state) || error.is_some() {
            self.reported.set(Some(state));
            self.host.state_changed(state, error);
        }
    }
}

/// Runs `future` for at most `ms`; `None` when time ran out.
async fn within<H: Host, T>(host: &H, ms: u32, future: impl Future<Output = T>) -> Option<T> {
    let future = pin!(future);
    let timer = pin!(host.sleep(ms));
    match select(future, timer).await {
        Either::Left((value, _)) => Some(value),
        Either::Right(_) => None,
    }
}

/// `expiresIn` as seconds: a number or a numeric string, positive and finite.
fn seconds_of(value: &Value) -> Option<f64> {
    let seconds = match value {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    (seconds.is_finite() && seconds > 0.0).then_some(seconds)
}

/// Percent-encodes a query component (RFC 3986 unreserved characters pass).
fn encode_query(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests;
