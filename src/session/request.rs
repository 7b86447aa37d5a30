//! API requests: the token attached, one shared re-login when the answer says the session is
//! invalid, and retries of transport failures where sending twice is safe.

use alloc::rc::Rc;
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
    /// The session already logged in again once for this request.
    relogged: bool,
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
}

impl Request {
    pub(super) fn wake_at(&self) -> Option<Millis> {
        match self.stage {
            Stage::ResendAt { at, .. } => Some(at),
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
        let request = Request { call, api, target, timeout_ms, stage: Stage::WaitingForToken, failures: 0, relogged: false, generation };
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
    fn check_request(&self, api: &ApiRequest) -> Result<(Target, u32), Error> {
        if api.url.chars().count() > MAX_URL_CHARS {
            return Err(Error::config("request.url", "is longer than 65536 characters"));
        }
        let target = self.config.target(&api.url).ok_or_else(|| Error::config("request.url", "must be a path or an http(s) URL without spaces"))?;
        if api.auth && !target.same_origin {
            return Err(Error::config("request.url", "the token only goes to baseUrl's origin: pass auth: false for another one"));
        }
        let timeout_ms = match api.timeout_ms {
            None => self.config.timeout_ms.get(),
            Some(ms) => TimeoutMs::new(ms).ok_or_else(|| Error::config("request.timeout", "must be between 1 and 120000 ms"))?.get(),
        };
        Ok((target, timeout_ms))
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

    pub(super) fn request_answered(&mut self, now: Millis, call: CallId, op: OpId, answer: &Answer) {
        let Some(request) = self.requests.iter().find(|r| r.call == call) else { return };
        let invalid = request.api.auth && {
            let view = self.paths.view(ReadSet::Api, answer);
            self.config.invalid_when.iter().any(|rule| view.matches(rule))
        };
        let carried = match &request.stage {
            Stage::Sending { token: Some(token) } if invalid => token.clone(),
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
        // The refused token stays in storage until a login replaces it (a failed login must
        // not leave the user with nothing), but is not read back from there as usable.
        self.current = None;
        self.refused = Some(stale.clone());
        self.start_login_flow(now, None);
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
            Stage::WaitingForToken => None,
        };
        request.stage = Stage::ResendAt { at: now.saturating_add(Millis::from(wait)), token };
    }

    /// Sends again the requests whose backoff wait is over, with the token in use now (a
    /// login may have replaced the one they carried), or waits for one.
    pub(super) fn wake_requests(&mut self, now: Millis) {
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

    /// `logout()`: a request waiting to send a token again must not send a logged-out token.
    pub(super) fn drop_resends_with_token(&mut self) {
        let stale: Vec<CallId> = self.requests.iter().filter(|r| matches!(r.stage, Stage::ResendAt { token: Some(_), .. })).map(|r| r.call).collect();
        for call in stale {
            self.settle_request(call, Err(Error::LoggedOut));
        }
    }
}
