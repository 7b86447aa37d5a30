//! The one login flow: launch (stored token → checks → login when needed), a refresh (the
//! refresh token swapped for a new token; a login if the server refuses it), or straight to
//! login (a re-login after the server refused the token, or a `login(extra)` call).
//!
//! The flow is a sequence of [`Step`]s, each waiting for one operation or one backoff timer.
//! Everyone who needs a token while it runs waits for its end ([`Session::settle_waiters`]).

use alloc::rc::Rc;
use alloc::string::{String, ToString};

use super::{Action, ApiKind, Awaits, CallId, Error, LoginAnswer, Owner, Ready, Resolution, Send, Session, Source, State};
use crate::answer::{Answer, ReadSet};
use crate::config::{Anonymous, CheckPolicy, TokenIn};
use crate::login;
use crate::retry::{backoff_ms, is_transient};
use crate::rule::{Field, Scalar};
use crate::text::{join, number};
use crate::token::{Freshness, StorageRead, StorageValue, StoredToken, Token};
use crate::Millis;

/// The flow in flight.
pub(super) struct Flow {
    step: Step,
    /// Transient failures of the current stage (check, or login); bounded by `retries`.
    failures: u32,
    /// The `login(extra)` call that started this login, whose object joins the login body.
    pub(super) started_by: Option<CallId>,
}

/// What the flow waits for. (`LoginExtra`'s `anonymous`: its code is an anonymous one, see
/// [`LoginAnswer::Anonymous`].)
enum Step {
    ReadStorage,
    CheckSession { stored: StoredToken, migrate: bool },
    ServerCheck { stored: StoredToken, migrate: bool },
    CheckAgainAt { at: Millis, stored: StoredToken, migrate: bool },
    WxLogin,
    LoginExtra { code: String, anonymous: bool },
    SendLogin,
    LoginAgainAt { at: Millis },
    SendRefresh { refresh: Token },
    RefreshAgainAt { at: Millis, refresh: Token },
}

impl Flow {
    /// When a backoff wait ends.
    pub(super) fn wake_at(&self) -> Option<Millis> {
        match self.step {
            Step::CheckAgainAt { at, .. } | Step::LoginAgainAt { at } | Step::RefreshAgainAt { at, .. } => Some(at),
            _ => None,
        }
    }
}

/// How a flow ended well: the session, and a record to store if it is new.
struct Outcome {
    ready: Ready,
    store: Option<StoredToken>,
}

impl Session {
    /// Starts the launch flow unless a flow is already running; with a token in memory that
    /// is past its time and a refresh token, a refresh instead.
    pub(super) fn start_flow_if_idle(&mut self, now: Millis) {
        if self.flow.is_some() {
            return;
        }
        if let Some(refresh) = self.refresh_token_of(self.current.as_ref().and_then(|ready| ready.refresh_token.as_ref())) {
            return self.start_refresh_flow(now, refresh);
        }
        self.report(State::Checking, None);
        self.flow = Some(Flow { step: Step::ReadStorage, failures: 0, started_by: None });
        let op = self.start_op(Owner::Flow, Awaits::Read, now, self.config.timeout_ms.get());
        let key = self.config.storage_key.as_str().into();
        self.actions.push_back(Action::ReadStorage { op, key });
    }

    /// Starts a flow that goes straight to login: the current token was refused, or
    /// `login(extra)` call `started_by` asked for one.
    pub(super) fn start_login_flow(&mut self, now: Millis, started_by: Option<CallId>) {
        self.report(State::LoggingIn, None);
        self.flow = Some(Flow { step: Step::WxLogin, failures: 0, started_by });
        self.begin_login(now);
    }

    /// Starts a flow that swaps `refresh` for a new token (the one in use expired, or the
    /// server refused it). Nothing is reported unless it comes to a login: the app keeps seeing
    /// `ready`.
    pub(super) fn start_refresh_flow(&mut self, now: Millis, refresh: Token) {
        self.flow = Some(Flow { step: Step::ReadStorage, failures: 0, started_by: None });
        self.send_refresh(now, refresh);
    }

    fn send_refresh(&mut self, now: Millis, refresh: Token) {
        let Some(config) = &self.config.refresh else {
            // (A refresh token is only kept with `refresh` set.)
            return self.start_login(now);
        };
        let url = Rc::from(self.config.endpoint(&config.url));
        let field = (config.key.as_str().to_string(), refresh.as_str().to_string());
        let (header, body) = match config.token_in {
            TokenIn::Header => (Some(Rc::new(field)), None),
            TokenIn::Body => (None, Some(field)),
        };
        let method = config.method;
        let timeout_ms = self.config.timeout_ms.get();
        let op = self.start_op(Owner::Flow, Awaits::Http, now, timeout_ms);
        self.set_step(Step::SendRefresh { refresh });
        let send =
            Send { op, kind: ApiKind::Request, call: None, url, joined: None, method, header, body, config_extra: false, timeout_ms, read: ReadSet::Refresh };
        self.actions.push_back(Action::Send(alloc::boxed::Box::new(send)));
    }

    /// A refresh answered: the new token (and refresh token, when the server rotates them), or,
    /// refused, a login. Transient failures are retried like a login's.
    fn refresh_answered(&mut self, now: Millis, refresh: Token, answer: &Answer) {
        let Some(config) = &self.config.refresh else { return self.start_login(now) };
        let view = self.paths.view(ReadSet::Refresh, answer);
        match login::read_refresh_answer(config, &view, now) {
            Ok(mut stored) => {
                // Rotation: a new refresh token replaces the old one, which is never sent again,
                // also when the new one can't be used (the server rotated all the same): none
                // then. The old one stays only when the answer has none.
                if matches!(view.field(&config.refresh_token_path), Field::Absent | Field::Scalar(Scalar::Null)) {
                    stored.refresh_token = Some(refresh);
                }
                let ready = self.ready_of(&stored, Source::Login);
                self.finish(now, Ok(Outcome { ready, store: Some(stored) }));
            }
            // The server could not answer now (5xx, 408, 429): retried, the refresh token kept.
            Err(error @ Error::ServerRejected { .. }) if is_transient(&error) => self.retry_refresh_or_fail(now, refresh, error),
            // Refused: the refresh token is never sent again, and a login takes its place. The
            // stored record goes (its token is expired or refused, its refresh token refused),
            // so a relaunch does not try it either.
            Err(_) => {
                self.refused_refresh = Some(refresh);
                let op = self.start_op(Owner::Store, Awaits::Write, now, self.config.timeout_ms.get());
                let key = self.config.storage_key.as_str().into();
                self.actions.push_back(Action::RemoveStorage { op, key });
                self.start_login(now);
            }
        }
    }

    fn retry_refresh_or_fail(&mut self, now: Millis, refresh: Token, error: Error) {
        match self.backoff(now, &error) {
            Some(at) => self.set_step(Step::RefreshAgainAt { at, refresh }),
            None => self.finish(now, Err(error)),
        }
    }

    /// Drops the flow and whatever it was waiting for.
    pub(super) fn cancel_flow(&mut self) {
        if self.flow.take().is_some() {
            self.cancel_ops_of(Owner::Flow);
        }
    }

    /// Settles everyone waiting for a token: `ensure()` calls and requests.
    pub(super) fn settle_waiters(&mut self, now: Millis, result: Result<&Ready, &Error>) {
        for call in core::mem::take(&mut self.ensures) {
            self.actions.push_back(match result {
                Ok(ready) => Action::Resolve { call, value: Resolution::Ready { token: ready.token.clone(), source: ready.source } },
                Err(error) => Action::Reject { call, error: error.clone() },
            });
        }
        self.settle_waiting_requests(now, result);
    }

    pub(super) fn flow_storage_read(&mut self, now: Millis, value: StorageValue) {
        if let StorageValue::Unreadable(why) = &value {
            self.warn(Error::Storage { err_msg: why.clone() });
        }
        let (stored, migrate) = match StoredToken::read(&value) {
            // After a logout that could not remove it, or refused by the server: no token.
            _ if self.storage_stale => return self.start_login(now),
            // (Refused: its refresh token, if it has one the server has not refused, swaps it.)
            StorageRead::Record(stored) | StorageRead::Legacy(stored) if self.refused.as_ref() == Some(&stored.token) => {
                return match self.refresh_token_of(stored.refresh_token.as_ref()) {
                    Some(refresh) => self.send_refresh(now, refresh),
                    None => self.start_login(now),
                };
            }
            StorageRead::Record(stored) => (stored, false),
            StorageRead::Legacy(stored) => (stored, true),
            StorageRead::Empty | StorageRead::Corrupt => return self.start_login(now),
        };
        self.validate(now, stored, migrate);
    }

    /// Decides whether a stored token can be used, per `useCheckSession` and the check policy.
    fn validate(&mut self, now: Millis, stored: StoredToken, migrate: bool) {
        let freshness = stored.freshness(now, self.refresh_ahead());
        if freshness == Freshness::Expired {
            return match self.refresh_token_of(stored.refresh_token.as_ref()) {
                Some(refresh) => self.send_refresh(now, refresh),
                None => self.start_login(now),
            };
        }
        let policy = self.config.check.as_ref().map(|check| check.policy);
        if policy == Some(CheckPolicy::WhenUnknown) && freshness == Freshness::Fresh {
            return self.use_stored(now, stored, migrate); // known fresh: no network at all
        }
        if self.config.use_check_session {
            let op = self.start_op(Owner::Flow, Awaits::CheckSession, now, self.config.timeout_ms.get());
            self.set_step(Step::CheckSession { stored, migrate });
            self.actions.push_back(Action::CheckSession { op });
        } else {
            self.after_check_session(now, stored, migrate);
        }
    }

    pub(super) fn flow_check_session_done(&mut self, now: Millis, valid: bool) {
        match self.take_step() {
            Some(Step::CheckSession { stored, migrate }) if valid => self.after_check_session(now, stored, migrate),
            Some(Step::CheckSession { .. }) => self.start_login(now),
            Some(other) => self.set_step(other),
            None => {}
        }
    }

    fn after_check_session(&mut self, now: Millis, stored: StoredToken, migrate: bool) {
        match self.config.check.as_ref().map(|check| check.policy) {
            Some(CheckPolicy::Always | CheckPolicy::WhenUnknown) => self.server_check(now, stored, migrate),
            Some(CheckPolicy::Never) | None => self.use_stored(now, stored, migrate),
        }
    }

    /// Asks the check endpoint about the stored token.
    fn server_check(&mut self, now: Millis, stored: StoredToken, migrate: bool) {
        let Some(check) = &self.config.check else {
            return self.use_stored(now, stored, migrate);
        };
        let url = Rc::from(self.config.endpoint(&check.url));
        let method = check.method;
        let timeout_ms = self.config.timeout_ms.get();
        let header = Some(self.token_header(&stored.token));
        let op = self.start_op(Owner::Flow, Awaits::Http, now, timeout_ms);
        self.set_step(Step::ServerCheck { stored, migrate });
        let send = Send {
            op,
            kind: ApiKind::Request,
            call: None,
            url,
            joined: None,
            method,
            header,
            body: None,
            config_extra: false,
            timeout_ms,
            read: ReadSet::Check,
        };
        self.actions.push_back(Action::Send(alloc::boxed::Box::new(send)));
    }

    fn check_answered(&mut self, now: Millis, stored: StoredToken, migrate: bool, answer: &Answer) {
        let view = self.paths.view(ReadSet::Check, answer);
        let status = answer.status;
        if status >= 500 {
            let error = Error::ServerRejected { endpoint: "check", status };
            return self.retry_check_or_fail(now, stored, migrate, error);
        }
        let invalid = self.config.invalid_when.iter().any(|rule| view.matches(rule));
        let ok_when = self.config.check.as_ref().and_then(|check| check.ok_when.as_ref());
        let valid = !invalid && ok_when.map_or((200..300).contains(&status), |rule| view.matches(rule));
        if valid {
            return self.use_stored(now, stored, migrate);
        }
        // The server refuses the stored token: its refresh token, if it has one, swaps it.
        match self.refresh_token_of(stored.refresh_token.as_ref()) {
            Some(refresh) => self.send_refresh(now, refresh),
            None => self.start_login(now),
        }
    }

    fn retry_check_or_fail(&mut self, now: Millis, stored: StoredToken, migrate: bool, error: Error) {
        match self.backoff(now, &error) {
            Some(at) => self.set_step(Step::CheckAgainAt { at, stored, migrate }),
            None => self.finish(now, Err(error)),
        }
    }

    /// The stored token is good: the flow ends with it (rewritten as a record if it was legacy).
    fn use_stored(&mut self, now: Millis, stored: StoredToken, migrate: bool) {
        let ready = self.ready_of(&stored, Source::Storage);
        self.finish(now, Ok(Outcome { ready, store: migrate.then_some(stored) }));
    }

    /// The login stage: a fresh `wx.login` code for every attempt.
    fn start_login(&mut self, now: Millis) {
        self.report(State::LoggingIn, None);
        if let Some(flow) = &mut self.flow {
            flow.failures = 0;
        }
        self.begin_login(now);
    }

    /// `login.anonymous: 'force'`: the platform's login may show its own login screen (Douyin's),
    /// where the user takes their time and may say no.
    fn login_is_forced(&self) -> bool {
        self.config.login.anonymous == Anonymous::Force
    }

    fn begin_login(&mut self, now: Millis) {
        let force = self.login_is_forced();
        // A forced login may show the platform's login screen (Douyin's): the user's time, as
        // long as the SDK waits for the user elsewhere, not a network call's.
        let limit_ms = if force { self.config.auth_wait_ms.max(self.config.timeout_ms.get()) } else { self.config.timeout_ms.get() };
        let op = self.start_op(Owner::Flow, Awaits::WxLogin, now, limit_ms);
        self.set_step(Step::WxLogin);
        self.actions.push_back(Action::WxLogin { op, force });
    }

    pub(super) fn flow_wx_login_done(&mut self, now: Millis, answer: LoginAnswer) {
        let forced = self.login_is_forced();
        let code = match answer {
            LoginAnswer::Code(code) => login::check_code(code).map(|()| (code.to_string(), false)),
            LoginAnswer::Anonymous(code) if self.config.login.anonymous == Anonymous::Send => login::check_code(code).map(|()| (code.to_string(), true)),
            // ('fail', or 'force' and the user still did not log in: no code the server takes.)
            LoginAnswer::Anonymous(_) => Err(Error::AnonymousOnly),
            LoginAnswer::Failed(err_msg) => Err(Error::WxLoginFailed { err_msg: if err_msg.is_empty() { "login:fail".into() } else { err_msg.into() } }),
        };
        match code {
            Ok((code, anonymous)) if self.login_extra => {
                let op = self.start_op(Owner::Flow, Awaits::LoginExtra, now, self.config.timeout_ms.get());
                self.set_step(Step::LoginExtra { code, anonymous });
                self.actions.push_back(Action::LoginExtra { op });
            }
            Ok((code, anonymous)) => self.send_login(now, &code, anonymous),
            // A forced login that failed is the user's answer to the platform's login screen
            // (Douyin's, closed): trying again would show it again, as often as `retries` says.
            Err(error @ Error::WxLoginFailed { .. }) if forced => self.finish(now, Err(error)),
            Err(error) => self.retry_login_or_fail(now, error),
        }
    }

    pub(super) fn flow_login_extra_done(&mut self, now: Millis, result: Result<(), &str>) {
        match (self.take_step(), result) {
            (Some(Step::LoginExtra { code, anonymous }), Ok(())) => self.send_login(now, &code, anonymous),
            (Some(Step::LoginExtra { .. }), Err(reason)) => self.finish(now, Err(Error::LoginExtraFailed { reason: reason.into() })),
            (Some(other), _) => self.set_step(other),
            (None, _) => {}
        }
    }

    fn send_login(&mut self, now: Millis, code: &str, anonymous: bool) {
        let request = login::request(&self.config, code, anonymous);
        let timeout_ms = self.config.timeout_ms.get();
        let op = self.start_op(Owner::Flow, Awaits::Http, now, timeout_ms);
        self.set_step(Step::SendLogin);
        let send = Send {
            op,
            kind: ApiKind::Request,
            call: self.flow.as_ref().and_then(|flow| flow.started_by),
            url: Rc::from(request.url),
            joined: None,
            method: request.method,
            header: request.header.map(Rc::new),
            body: request.body,
            config_extra: self.login_extra,
            timeout_ms,
            read: ReadSet::Login,
        };
        self.actions.push_back(Action::Send(alloc::boxed::Box::new(send)));
    }

    /// A check or login exchange ended with an answer or a transport error.
    pub(super) fn flow_http_done(&mut self, now: Millis, result: Result<Answer, Error>) {
        match (self.take_step(), result) {
            (Some(Step::ServerCheck { stored, migrate }), Ok(answer)) => self.check_answered(now, stored, migrate, &answer),
            (Some(Step::ServerCheck { stored, migrate }), Err(error)) => self.retry_check_or_fail(now, stored, migrate, error),
            (Some(Step::SendLogin), Ok(answer)) => {
                let view = self.paths.view(ReadSet::Login, &answer);
                match login::read_answer(&self.config, &view, now) {
                    Ok(stored) => {
                        let ready = self.ready_of(&stored, Source::Login);
                        self.finish(now, Ok(Outcome { ready, store: Some(stored) }));
                    }
                    Err(error) => self.retry_login_or_fail(now, error),
                }
            }
            (Some(Step::SendLogin), Err(error)) => self.retry_login_or_fail(now, error),
            (Some(Step::SendRefresh { refresh }), Ok(answer)) => self.refresh_answered(now, refresh, &answer),
            (Some(Step::SendRefresh { refresh }), Err(error)) => self.retry_refresh_or_fail(now, refresh, error),
            (Some(other), _) => self.set_step(other),
            (None, _) => {}
        }
    }

    /// The flow's operation passed its deadline.
    pub(super) fn flow_timed_out(&mut self, now: Millis, error: Error) {
        let limit = match &error {
            Error::Timeout { ms } => *ms,
            _ => 0,
        };
        match self.take_step() {
            // Storage and wx.checkSession that don't answer count as "no token" / "expired".
            Some(Step::ReadStorage | Step::CheckSession { .. }) => self.start_login(now),
            Some(Step::ServerCheck { stored, migrate }) => self.retry_check_or_fail(now, stored, migrate, error),
            Some(Step::WxLogin) => {
                let err_msg = join(&["wx.login did not answer within ", &number(u64::from(limit)), " ms"]);
                let error = Error::WxLoginFailed { err_msg };
                // (A forced login's screen left open that long: asking again would reopen it.)
                if self.login_is_forced() {
                    self.finish(now, Err(error));
                } else {
                    self.retry_login_or_fail(now, error);
                }
            }
            Some(Step::LoginExtra { .. }) => {
                let reason = join(&["login.extra() did not settle within ", &number(u64::from(limit)), " ms"]);
                self.finish(now, Err(Error::LoginExtraFailed { reason }));
            }
            Some(Step::SendLogin) => self.retry_login_or_fail(now, error),
            Some(Step::SendRefresh { refresh }) => self.retry_refresh_or_fail(now, refresh, error),
            Some(step @ (Step::CheckAgainAt { .. } | Step::LoginAgainAt { .. } | Step::RefreshAgainAt { .. })) => self.set_step(step),
            None => {}
        }
    }

    fn retry_login_or_fail(&mut self, now: Millis, error: Error) {
        match self.backoff(now, &error) {
            Some(at) => self.set_step(Step::LoginAgainAt { at }),
            None => self.finish(now, Err(error)),
        }
    }

    /// When to try again after `error`, if it is transient and retries are left.
    fn backoff(&mut self, now: Millis, error: &Error) -> Option<Millis> {
        let retries = self.config.retries.get();
        let flow = self.flow.as_mut()?;
        if !is_transient(error) || flow.failures >= retries {
            return None;
        }
        let wait = backoff_ms(flow.failures, self.jitter.draw());
        flow.failures += 1;
        Some(now.saturating_add(Millis::from(wait)))
    }

    /// Ends a backoff wait that is due.
    pub(super) fn wake_flow(&mut self, now: Millis) {
        if self.flow.as_ref().and_then(Flow::wake_at).is_none_or(|at| at > now) {
            return;
        }
        match self.take_step() {
            Some(Step::CheckAgainAt { stored, migrate, .. }) => self.server_check(now, stored, migrate),
            Some(Step::LoginAgainAt { .. }) => self.begin_login(now),
            Some(Step::RefreshAgainAt { refresh, .. }) => self.send_refresh(now, refresh),
            Some(other) => self.set_step(other),
            None => {}
        }
    }

    /// The flow ends: the session is ready (and stored if new), or failed; everyone waiting
    /// hears the same result.
    fn finish(&mut self, now: Millis, result: Result<Outcome, Error>) {
        let started_by = self.flow.take().and_then(|flow| flow.started_by);
        if let Some(call) = started_by {
            self.logins.retain(|login| *login != call);
        }
        match (result, started_by) {
            (Ok(Outcome { ready, store }), _) => {
                if let Some(call) = started_by {
                    let value = Resolution::Ready { token: ready.token.clone(), source: ready.source };
                    self.actions.push_back(Action::Resolve { call, value });
                }
                self.adopt(now, ready, store);
                if started_by.is_some() {
                    // The login the app drove (its login page): calls the server sent there go on.
                    self.resume_auth_waiters(now);
                }
            }
            (Err(error), Some(call)) => {
                // Only the `login(extra)` call fails: a token in use stays in use for whoever
                // waited for this login, and without one they go on with the launch flow (a good
                // token may be stored; a refused one is not read back).
                let state = if self.usable(now).is_some() { State::Ready } else { State::Failed };
                self.report(state, Some(error.clone()));
                self.reject(call, error);
                match self.usable(now).cloned() {
                    Some(ready) => self.settle_waiters(now, Ok(&ready)),
                    None if !self.ensures.is_empty() || self.requests_waiting() => self.start_flow_if_idle(now),
                    None => {}
                }
            }
            (Err(error), None) => {
                self.report(State::Failed, Some(error.clone()));
                self.settle_waiters(now, Err(&error));
            }
        }
        // The next `login(extra)` call, once no flow runs.
        if let (None, Some(&next)) = (&self.flow, self.logins.front()) {
            self.start_login_flow(now, Some(next));
        }
    }

    /// `ready` becomes the session's token (and `store`'s record is written, when it is new);
    /// everyone waiting hears it.
    pub(super) fn adopt(&mut self, now: Millis, ready: Ready, store: Option<StoredToken>) {
        if let Some(record) = store {
            let op = self.start_op(Owner::Store, Awaits::Write, now, self.config.timeout_ms.get());
            let key = self.config.storage_key.as_str().into();
            self.actions.push_back(Action::WriteStorage { op, key, value: record.to_json() });
        }
        self.newest = Some(ready.token.clone());
        self.refused = None;
        self.current = Some(ready.clone());
        self.report(State::Ready, None);
        self.settle_waiters(now, Ok(&ready));
    }

    /// Takes the flow's step out to move on from it; `None` when no flow runs. The caller puts
    /// the next step back (or ends the flow).
    fn take_step(&mut self) -> Option<Step> {
        let flow = self.flow.as_mut()?;
        Some(core::mem::replace(&mut flow.step, Step::ReadStorage))
    }

    fn set_step(&mut self, step: Step) {
        if let Some(flow) = &mut self.flow {
            flow.step = step;
        }
    }
}
