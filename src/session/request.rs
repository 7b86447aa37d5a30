//! API requests: the token attached, one shared refresh or re-login when the answer says the
//! session is invalid, a wait for the app's own login when it says the user must act, business
//! errors of 2xx answers, and retries of transport failures where sending twice is safe.

use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;

use super::{Action, ApiKind, ApiRequest, Awaits, CallId, Error, OpId, Owner, Ready, Resolution, Send, Session};
use crate::answer::{Answer, ReadSet};
use crate::config::{Method, Target, TimeoutMs};
use crate::retry::{backoff_ms, is_transient};
use crate::token::Token;
use crate::Millis;

/// The longest `request.url` taken, in characters (the glue passes one more of a longer one).
pub const MAX_URL_CHARS: usize = 65536;

/// A `request()` call in progress.
pub(super) struct Request {
    call: CallId,
    api: ApiRequest,
    target: Target,
    timeout_ms: u32,
    stage: Stage,
    /// Transient failures of this request so far; bounded by `retries`.
    failures: u32,
    /// The session already logged in again (or refreshed) once for this request.
    relogged: bool,
    /// It already waited once for the app's login (`authRequiredWhen`).
    auth_waited: bool,
    /// The session generation when the request started (see `Session::logout`).
    generation: u32,
}

enum Stage {
    /// Waiting for the login flow to give a token.
    WaitingForToken,
    /// In flight with `token` (none for `auth: false`).
    Sending { token: Option<Token> },
    /// Waiting to send again after a transport failure.
    ResendAt { at: Millis, token: Option<Token> },
    /// The server said the user must act: waiting for the app's `login(extra)` until `until`.
    WaitingForAuth { until: Millis },
}

impl Request {
    pub(super) fn wake_at(&self) -> Option<Millis> {
        match self.stage {
            Stage::ResendAt { at, .. } => Some(at),
            Stage::WaitingForAuth { until } => Some(until),
            _ => None,
        }
    }
}

impl Session {
    /// Sends an API request with the token, logging in again once (shared by every caller)
    /// when the answer says the session is invalid. Resolves with any HTTP answer.
    pub fn request(&mut self, now: Millis, mut api: ApiRequest) -> CallId {
        let call = self.new_id();
        // wx.uploadFile always posts, wx.downloadFile always gets: that decides retries.
        match api.kind {
            ApiKind::Upload => api.method = Method::Post,
            ApiKind::Download => api.method = Method::Get,
            ApiKind::Request => {}
        }
        let checked = self.check_request(&api);
        let (target, timeout_ms) = match checked {
            Ok(checked) => checked,
            Err(error) => {
                self.actions.push_back(Action::Reject { call, error });
                return call;
            }
        };
        let auth = api.auth;
        let generation = self.generation;
        let request = Request { call, api, target, timeout_ms, stage: Stage::WaitingForToken, failures: 0, relogged: false, auth_waited: false, generation };
        self.requests.push(request);
        match (self.token_for_new_call(now), auth) {
            (_, false) => self.send(now, call, None),
            (Some(ready), true) => {
                let token = ready.token.clone();
                self.send(now, call, Some(token));
            }
            // (A login(extra) in flight: the request waits for its token.)
            (None, true) => self.start_flow_if_idle(now),
        }
        call
    }

    /// Where the request goes and its time limit, or the `CONFIG` error that refuses it.
    fn check_request(&mut self, api: &ApiRequest) -> Result<(Target, u32), Error> {
        let target = self.remembered_target_of(&api.url)?;
        if api.auth && !target.same_origin {
            return Err(Error::config("request.url", "the token only goes to baseUrl's origin: pass auth: false for another one"));
        }
        let timeout_ms = match api.timeout_ms {
            None => self.config.timeout_ms.get(),
            Some(ms) => TimeoutMs::new(ms).ok_or_else(|| Error::config("request.timeout", "must be between 1 and 120000 ms"))?.get(),
        };
        Ok((target, timeout_ms))
    }

    /// [`Session::target_of`], remembered for the next request with the same URL (the same
    /// string, which the wasm's exports keep): what it was made into stands, the config being
    /// fixed.
    fn remembered_target_of(&mut self, url: &Rc<str>) -> Result<Target, Error> {
        match &self.last_target {
            Some(last) if Rc::ptr_eq(&last.given, url) => Ok(last.clone()),
            _ => {
                let target = self.target_of(url)?;
                self.last_target = Some(target.clone());
                Ok(target)
            }
        }
    }

    /// Where a request to `url` goes, or the `CONFIG` error that refuses it.
    fn target_of(&self, url: &Rc<str>) -> Result<Target, Error> {
        // (A string has at least as many bytes as characters: only a long one needs counting.)
        if url.len() > MAX_URL_CHARS && url.chars().count() > MAX_URL_CHARS {
            return Err(Error::config("request.url", "is longer than 65536 characters"));
        }
        self.config.target(url).ok_or_else(|| Error::config("request.url", "must be a path or an http(s) URL without spaces"))
    }

    /// Sends request `call` with `token`.
    fn send(&mut self, now: Millis, call: CallId, token: Option<Token>) {
        let header = token.as_ref().map(|token| self.token_header(token));
        let Some(request) = self.request_mut(call) else { return };
        let (kind, method, timeout_ms) = (request.api.kind, request.api.method, request.timeout_ms);
        let (url, joined) = (Rc::clone(&request.target.given), Some(request.target.joined));
        request.stage = Stage::Sending { token };
        let op = self.start_op(Owner::Request(call), Awaits::Http, now, timeout_ms);
        let send = Send { op, kind, call: Some(call), url, joined, method, header, body: None, config_extra: false, timeout_ms, read: ReadSet::Api };
        self.actions.push_back(Action::Send(alloc::boxed::Box::new(send)));
    }

    fn request_mut(&mut self, call: CallId) -> Option<&mut Request> {
        self.requests.iter_mut().find(|r| r.call == call)
    }

    /// Does any request wait for a token?
    pub(super) fn requests_waiting(&self) -> bool {
        self.requests.iter().any(|r| matches!(r.stage, Stage::WaitingForToken))
    }

    /// Was request `call` started before the last `logout()` (and does it carry a token)?
    pub(super) fn is_from_before_logout(&self, call: CallId) -> bool {
        self.requests.iter().any(|r| r.call == call && r.api.auth && r.generation != self.generation)
    }

    pub(super) fn has_request(&self, call: CallId) -> bool {
        self.requests.iter().any(|r| r.call == call)
    }

    /// Settles request `call` and forgets it.
    pub(super) fn settle_request(&mut self, call: CallId, result: Result<OpId, Error>) {
        if let Some(at) = self.requests.iter().position(|r| r.call == call) {
            self.requests.swap_remove(at);
        }
        self.actions.push_back(match result {
            Ok(op) => Action::Resolve { call, value: Resolution::Answer { op } },
            Err(error) => Action::Reject { call, error },
        });
    }

    /// An API answer came: "session invalid" (`invalidWhen`) → a refresh or re-login and one
    /// retry; "the user must act" (`authRequiredWhen`) → a wait for the app's login; a 2xx
    /// business failure (`api.failWhen`) → `API_ERROR`; anything else resolves the call.
    pub(super) fn request_answered(&mut self, now: Millis, call: CallId, op: OpId, answer: &Answer) {
        let Some(request) = self.requests.iter().find(|r| r.call == call) else { return };
        let view = self.paths.view(ReadSet::Api, answer);
        let any = |rules: &[crate::rule::Rule]| rules.iter().any(|rule| view.matches(rule));
        let auth = request.api.auth;
        let invalid = auth && any(&self.config.invalid_when);
        if !invalid && auth && any(&self.config.auth_required_when) {
            return self.auth_required(now, call);
        }
        // The token this answer is for.
        let carried = match &request.stage {
            Stage::Sending { token } => token.as_ref(),
            _ => None,
        };
        if !invalid && (200..300).contains(&answer.status) && any(&self.config.api.fail_when) {
            let message = self.config.api.message_path.as_ref().and_then(|path| view.field(path).as_text());
            let message = message.map_or_else(|| "the server answered with a business error (api.failWhen)".into(), |text| self.without_secrets(text, carried));
            return self.settle_request(call, Err(Error::ApiError { message }));
        }
        let carried = match carried {
            Some(token) if invalid => token.clone(),
            _ => return self.settle_request(call, Ok(op)),
        };
        if request.relogged {
            // A token the server refuses right after issuing it: forget it so the next call
            // starts over, but don't loop here.
            self.forget(&carried);
            return self.settle_request(call, Err(Error::SessionExpired));
        }
        if request.generation != self.generation {
            // Logged out while this request was in flight: don't log back in behind the app.
            return self.settle_request(call, Err(Error::LoggedOut));
        }
        self.relogin(now, call, &carried);
    }

    /// `stale` was refused: use a newer token if there is one, else wait for one login.
    fn relogin(&mut self, now: Millis, call: CallId, stale: &Token) {
        if let Some(request) = self.request_mut(call) {
            request.relogged = true;
            request.stage = Stage::WaitingForToken;
        }
        if let Some(ready) = self.usable(now).filter(|ready| ready.token != *stale) {
            let token = ready.token.clone();
            return self.send(now, call, Some(token));
        }
        if self.flow.is_some() {
            // A login is already running: wait for it. If it fails (a `login(extra)` the server
            // refused), the launch flow that follows must not take the refused token back.
            if self.current.as_ref().is_some_and(|ready| ready.token == *stale) {
                self.current = None;
                self.refused = Some(stale.clone());
            }
            return;
        }
        if self.newest.as_ref().is_some_and(|newest| newest != stale) {
            // A newer token was issued since, and the server refused that one too.
            return self.settle_request(call, Err(Error::SessionExpired));
        }
        // The refused token's refresh token, if it has one, swaps it for a new one; else a
        // login. The refused token stays in storage until a new one replaces it (a failed
        // login must not leave the user with nothing), but is not read back from there.
        let refresh = self.refresh_token_of(self.current.as_ref().filter(|ready| ready.token == *stale).and_then(|ready| ready.refresh_token.as_ref()));
        self.current = None;
        self.refused = Some(stale.clone());
        match refresh {
            Some(refresh) => self.start_refresh_flow(now, refresh),
            None => self.start_login_flow(now, None),
        }
    }

    pub(super) fn request_failed(&mut self, now: Millis, call: CallId, error: Error) {
        let retries = self.config.retries.get();
        let jitter = self.jitter.draw();
        let generation = self.generation;
        let Some(request) = self.request_mut(call) else { return };
        if request.api.auth && request.generation != generation {
            // Logged out while in flight: never send the logged-out token again.
            return self.settle_request(call, Err(Error::LoggedOut));
        }
        let may_retry = request.api.retry || request.api.method.is_idempotent();
        if !(may_retry && is_transient(&error) && request.failures < retries) {
            return self.settle_request(call, Err(error));
        }
        let wait = backoff_ms(request.failures, jitter);
        request.failures += 1;
        let token = match core::mem::replace(&mut request.stage, Stage::WaitingForToken) {
            Stage::Sending { token } | Stage::ResendAt { token, .. } => token,
            Stage::WaitingForToken | Stage::WaitingForAuth { .. } => None,
        };
        request.stage = Stage::ResendAt { at: now.saturating_add(Millis::from(wait)), token };
    }

    /// Sends again the requests whose backoff wait is over, with the token in use now (a
    /// login may have replaced the one they carried), or waits for one; those that waited for
    /// the app's login too long fail with `AUTH_REQUIRED`.
    pub(super) fn wake_requests(&mut self, now: Millis) {
        let gave_up: Vec<CallId> =
            self.requests.iter().filter(|r| matches!(r.stage, Stage::WaitingForAuth { until } if until <= now)).map(|r| r.call).collect();
        for call in gave_up {
            self.settle_request(call, Err(Error::AuthRequired { reason: "no login within authWaitMs" }));
        }
        self.end_auth_burst_if_over();
        let due: Vec<CallId> = self.requests.iter().filter(|r| matches!(r.stage, Stage::ResendAt { at, .. } if at <= now)).map(|r| r.call).collect();
        let current = self.usable(now).map(|ready| ready.token.clone());
        for call in due {
            let carried = match self.request_mut(call).map(|r| core::mem::replace(&mut r.stage, Stage::WaitingForToken)) {
                Some(Stage::ResendAt { token, .. }) => token,
                _ => None,
            };
            match (carried, &current) {
                (None, _) => self.send(now, call, None),
                (Some(_), Some(token)) => self.send(now, call, Some(token.clone())),
                (Some(_), None) => self.start_flow_if_idle(now),
            }
        }
    }

    /// The login flow ended: waiting requests go out with the token, or fail with its error.
    pub(super) fn settle_waiting_requests(&mut self, now: Millis, result: Result<&Ready, &Error>) {
        let waiting: Vec<CallId> = self.requests.iter().filter(|r| matches!(r.stage, Stage::WaitingForToken)).map(|r| r.call).collect();
        for call in waiting {
            match result {
                Ok(ready) => self.send(now, call, Some(ready.token.clone())),
                Err(error) => self.settle_request(call, Err(error.clone())),
            }
        }
    }

    /// The server said the user must act: the call waits for the app's login (once; a second
    /// such answer, after that login, fails it). The app hears it once per burst. An answer for
    /// a token the app's login already replaced goes out again with the new one; one that comes
    /// after a logout fails `LOGGED_OUT`.
    fn auth_required(&mut self, now: Millis, call: CallId) {
        let until = now.saturating_add(Millis::from(self.config.auth_wait_ms));
        let current = self.usable(now).map(|ready| ready.token.clone());
        let generation = self.generation;
        let Some(request) = self.request_mut(call) else { return };
        if request.generation != generation {
            return self.settle_request(call, Err(Error::LoggedOut));
        }
        if request.auth_waited {
            return self.settle_request(call, Err(Error::AuthRequired { reason: "the server still asks after the login" }));
        }
        request.auth_waited = true;
        let carried = match &request.stage {
            Stage::Sending { token } => token.clone(),
            _ => None,
        };
        if let (Some(carried), Some(current)) = (carried, current) {
            if carried != current {
                return self.send(now, call, Some(current));
            }
        }
        let Some(request) = self.request_mut(call) else { return };
        request.stage = Stage::WaitingForAuth { until };
        if !self.auth_burst {
            self.auth_burst = true;
            self.actions.push_back(Action::AuthRequired { call });
        }
    }

    /// The app logged in (`login(extra)` or `setToken`): the calls waiting for it go out again
    /// with the new token.
    pub(super) fn resume_auth_waiters(&mut self, now: Millis) {
        let waiting: Vec<CallId> = self.requests.iter().filter(|r| matches!(r.stage, Stage::WaitingForAuth { .. })).map(|r| r.call).collect();
        let token = self.usable(now).map(|ready| ready.token.clone());
        for call in waiting {
            self.send(now, call, token.clone());
        }
        self.auth_burst = false;
    }

    /// `logout()`: the calls waiting for the app's login fail with `AUTH_REQUIRED`.
    pub(super) fn reject_auth_waiters(&mut self, reason: &'static str) {
        let waiting: Vec<CallId> = self.requests.iter().filter(|r| matches!(r.stage, Stage::WaitingForAuth { .. })).map(|r| r.call).collect();
        for call in waiting {
            self.settle_request(call, Err(Error::AuthRequired { reason }));
        }
        self.auth_burst = false;
    }

    /// A burst of "the user must act" answers is over once none of its calls waits (aborted,
    /// timed out): the next such answer calls `onAuthRequired` again.
    fn end_auth_burst_if_over(&mut self) {
        if self.auth_burst && !self.requests.iter().any(|r| matches!(r.stage, Stage::WaitingForAuth { .. })) {
            self.auth_burst = false;
        }
    }

    /// `logout()`: a request waiting to send a token again must not send a logged-out token.
    pub(super) fn drop_resends_with_token(&mut self) {
        let stale: Vec<CallId> = self.requests.iter().filter(|r| matches!(r.stage, Stage::ResendAt { token: Some(_), .. })).map(|r| r.call).collect();
        for call in stale {
            self.settle_request(call, Err(Error::LoggedOut));
        }
    }
}

impl Session {
    /// `text` (a server's message, a platform's or a hook's) with the token `carried`, the token
    /// in use and its refresh token each replaced by `…`: each may echo what it was sent, and an
    /// error message ends up in the app's logs. Then cut to its first 1,000 characters (cut
    /// before, a token across the cut would leave its beginning).
    pub(super) fn without_secrets(&self, text: &str, carried: Option<&Token>) -> String {
        let current = self.current.as_ref();
        let mut text = String::from(text);
        for secret in [carried, current.map(|ready| &ready.token), current.and_then(|ready| ready.refresh_token.as_ref())].into_iter().flatten() {
            text = replaced(&text, secret.as_str(), "…");
        }
        short(&text).into()
    }
}

/// `text` with each `secret` in it replaced by `with`. (A plain search: `str::replace` brings
/// in a string searcher of its own, 1.4 KB of the shipped wasm.)
fn replaced(text: &str, secret: &str, with: &str) -> String {
    if secret.is_empty() {
        return text.into();
    }
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.as_bytes().windows(secret.len()).position(|w| w == secret.as_bytes()) {
        // (`at` and the end of the match are character boundaries: a secret is ASCII.)
        out.push_str(rest.get(..at).unwrap_or_default());
        out.push_str(with);
        rest = rest.get(at + secret.len()..).unwrap_or_default();
    }
    out.push_str(rest);
    out
}

/// The first 1,000 characters of a message (the rest is not for an error message).
fn short(text: &str) -> &str {
    match text.char_indices().nth(1000) {
        Some((at, _)) => text.get(..at).unwrap_or(text),
        None => text,
    }
}
