//! Typed errors with stable codes.
//!
//! Every error that reaches a mini-program carries a `code` string that never changes between
//! releases (`error.code === 'NETWORK'`), so apps can branch on it. Messages are for humans and
//! never contain the token, a login code or anything like `session_key`.

use alloc::string::String;
use core::fmt;

use crate::text::{join, number};

/// Everything that can go wrong in a session, as the app sees it.
///
/// ```
/// use wx_session::Error;
/// let err = Error::Network { err_msg: "request:fail".into() };
/// assert_eq!(err.code(), "NETWORK");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// The config given to `createSession`, or a call's options, are wrong; `key` names the key.
    Config { key: String, reason: String },

    /// `wx.login` failed or gave no usable code (after retries).
    WxLoginFailed { err_msg: String },

    /// The platform's login gave only an anonymous code (Douyin, a user not logged in to the
    /// Douyin app) and `login.anonymous` is `'fail'` (or the user did not log in when asked).
    /// Not retried: asking again gives the same answer.
    AnonymousOnly,

    /// `login.extra()` failed, didn't settle in time, or the user refused what it asked for.
    LoginExtraFailed { reason: String },

    /// The request never got an HTTP answer (after retries where allowed).
    Network { err_msg: String },

    /// No answer within the time limit the session set.
    Timeout { ms: u32 },

    /// The platform itself reported a timeout (`request:fail timeout`).
    PlatformTimeout { err_msg: String },

    /// The request was aborted (`request:fail abort`, or the caller's `abort()`).
    Aborted,

    /// The login or check endpoint answered, but said no (4xx, or `okWhen` did not match).
    ServerRejected { endpoint: &'static str, status: u16 },

    /// The server answered 2xx but the answer lacks what the config says it holds (a usable
    /// token at `tokenPath`). (A platform refusal like `url not in domain list` is `Network`,
    /// not retried.)
    BadResponse { endpoint: &'static str, reason: String },

    /// A storage call failed (full storage, 1 MB a key). The session goes on in memory.
    Storage { err_msg: String },

    /// The server still said "session invalid" after a fresh login.
    SessionExpired,

    /// `logout()` was called while this call was waiting for a login.
    LoggedOut,

    /// A 2xx API answer matched `api.failWhen`: a business-code failure; `message` is the text
    /// at `api.messagePath` (or a generic one). The glue adds the answer as `response`.
    ApiError { message: String },

    /// An API answer matched `authRequiredWhen` and no login came within `authWaitMs` (or
    /// `logout()` came first, or the new token was refused the same way).
    AuthRequired { reason: &'static str },

    /// The app's `beforeRequest` hook threw, rejected or did not settle: nothing was sent.
    BeforeRequest { reason: String },
}

impl Error {
    /// The message for humans (never with the token).
    pub fn message(&self) -> String {
        match self {
            Error::Config { key, reason } => join(&["invalid config `", key, "`: ", reason]),
            Error::WxLoginFailed { err_msg } => join(&["wx.login failed: ", err_msg]),
            // (Also the answer of a forced login the user left without logging in: no advice
            // to set 'force', which may be set already.)
            Error::AnonymousOnly => "login gave only an anonymous code: the user is not logged in to the app (Douyin; see login.anonymous)".into(),
            Error::LoginExtraFailed { reason } => join(&["login extra data failed: ", reason]),
            Error::Network { err_msg } => join(&["network error: ", err_msg]),
            Error::Timeout { ms } => join(&["no answer within ", &number(u64::from(*ms)), " ms"]),
            Error::PlatformTimeout { err_msg } => join(&["the platform reported a timeout: ", err_msg]),
            Error::Aborted => "request aborted".into(),
            Error::ServerRejected { endpoint, status } => join(&["the server rejected the ", endpoint, " request (HTTP ", &number(u64::from(*status)), ")"]),
            Error::BadResponse { endpoint, reason } => join(&["bad response from the ", endpoint, " endpoint: ", reason]),
            Error::Storage { err_msg } => join(&["storage failed: ", err_msg]),
            Error::SessionExpired => "the session is still invalid after logging in again".into(),
            Error::LoggedOut => "logged out while the call was waiting".into(),
            Error::ApiError { message } => message.clone(),
            Error::AuthRequired { reason } => join(&["the server asks the user to log in: ", reason]),
            Error::BeforeRequest { reason } => join(&["beforeRequest failed: ", reason]),
        }
    }

    /// The stable code, e.g. `"WX_LOGIN_FAILED"`.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Config { .. } => "CONFIG",
            Error::WxLoginFailed { .. } | Error::AnonymousOnly => "WX_LOGIN_FAILED",
            Error::LoginExtraFailed { .. } => "LOGIN_EXTRA_FAILED",
            Error::Network { .. } => "NETWORK",
            Error::Timeout { .. } | Error::PlatformTimeout { .. } => "TIMEOUT",
            Error::Aborted => "ABORTED",
            Error::ServerRejected { .. } => "SERVER_REJECTED",
            Error::BadResponse { .. } => "BAD_RESPONSE",
            Error::Storage { .. } => "STORAGE",
            Error::SessionExpired => "SESSION_EXPIRED",
            Error::LoggedOut => "LOGGED_OUT",
            Error::ApiError { .. } => "API_ERROR",
            Error::AuthRequired { .. } => "AUTH_REQUIRED",
            Error::BeforeRequest { .. } => "BEFORE_REQUEST_FAILED",
        }
    }

    /// The key a `CONFIG` error names.
    pub fn key(&self) -> Option<&str> {
        match self {
            Error::Config { key, .. } => Some(key),
            _ => None,
        }
    }

    /// The HTTP status a `SERVER_REJECTED` error carries.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::ServerRejected { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub(crate) fn config(key: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Config { key: key.into(), reason: reason.into() }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl core::error::Error for Error {}

/// Every code an [`Error`] can carry, for docs and typings tests.
pub const ERROR_CODES: &[&str] = &[
    "CONFIG",
    "WX_LOGIN_FAILED",
    "LOGIN_EXTRA_FAILED",
    "NETWORK",
    "TIMEOUT",
    "ABORTED",
    "SERVER_REJECTED",
    "BAD_RESPONSE",
    "STORAGE",
    "SESSION_EXPIRED",
    "LOGGED_OUT",
    "API_ERROR",
    "AUTH_REQUIRED",
    "BEFORE_REQUEST_FAILED",
];

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn codes_are_listed_and_unique() {
        let samples = [
            Error::config("retries", "too big"),
            Error::WxLoginFailed { err_msg: String::new() },
            Error::LoginExtraFailed { reason: String::new() },
            Error::Network { err_msg: String::new() },
            Error::Timeout { ms: 1 },
            Error::Aborted,
            Error::ServerRejected { endpoint: "login", status: 400 },
            Error::BadResponse { endpoint: "login", reason: String::new() },
            Error::Storage { err_msg: String::new() },
            Error::SessionExpired,
            Error::LoggedOut,
            Error::ApiError { message: String::new() },
            Error::AuthRequired { reason: "" },
            Error::BeforeRequest { reason: String::new() },
        ];
        let codes: Vec<_> = samples.iter().map(Error::code).collect();
        assert_eq!(codes, ERROR_CODES);
        assert_eq!(Error::PlatformTimeout { err_msg: String::new() }.code(), "TIMEOUT");
        assert_eq!(Error::AnonymousOnly.code(), "WX_LOGIN_FAILED");
    }

    #[test]
    fn anonymous_only_points_at_the_option_without_advising_a_setting_that_may_be_in_place() {
        // The same error answers a forced login the user left without logging in.
        let message = Error::AnonymousOnly.message();
        assert!(message.contains("login.anonymous"), "{message}");
        assert!(!message.contains("'force'"), "{message}");
    }

    #[test]
    fn config_error_names_the_key() {
        let error = Error::config("login.tokenPath", "must not be empty");
        assert!(error.to_string().contains("login.tokenPath"), "{error}");
        assert_eq!(Error::Timeout { ms: 1500 }.message(), "no answer within 1500 ms");
        assert_eq!(Error::ServerRejected { endpoint: "login", status: 503 }.message(), "the server rejected the login request (HTTP 503)");
        assert_eq!(error.key(), Some("login.tokenPath"));
    }
}
