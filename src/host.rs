//! What the core needs from the outside world, as one trait.
//!
//! The core owns no storage, network or clock (the sans-IO style of quinn-proto and rustls):
//! the wasm build implements [`Host`] over the JS glue's `wx.*` callbacks, and native tests
//! implement it with a scripted server and a virtual clock.

use serde_json::Value;

use crate::config::Method;
use crate::error::Error;
use crate::rule::{Answer, Path};

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

/// One HTTP request for the host to send (`wx.request` in the mini-program).
#[derive(Debug, Clone)]
pub struct HttpRequest<O> {
    /// Full URL.
    pub url: String,
    pub method: Method,
    /// Headers to add on top of whatever `passthrough` already carries.
    pub headers: Vec<(String, String)>,
    /// A JSON body built by the core (login requests). Caller bodies travel in `passthrough`.
    pub body: Option<Value>,
    pub timeout_ms: u32,
    /// The caller's own request options, forwarded untouched (data, dataType, responseType…).
    pub passthrough: Option<O>,
}

/// The outside world. Every async method must eventually finish; the core still puts a
/// time limit on the ones that talk to the network or to WeChat.
#[allow(async_fn_in_trait)] // single-threaded by design: the mini-program runtime has no threads
pub trait Host {
    /// An HTTP answer, kept wherever the host keeps it (a JS object in the wasm build).
    type Response;
    /// The caller's request options, forwarded untouched.
    type Options: Clone;

    /// Reads the storage key (`wx.getStorageSync`). `Err` carries the platform's message.
    fn read_storage(&self, key: &str) -> Result<Option<Value>, String>;
    /// Writes the storage key (`wx.setStorageSync`, which throws when storage is full).
    fn write_storage(&self, key: &str, value: &Value) -> Result<(), String>;
    /// Removes the storage key.
    fn remove_storage(&self, key: &str) -> Result<(), String>;

    /// `wx.checkSession`: is WeChat's own login session still valid?
    async fn check_session(&self) -> bool;
    /// `wx.login`: a fresh one-time code, or the `errMsg` of the failure.
    async fn login(&self) -> Result<String, String>;
    /// The app's `login.extra()` result, merged into the login body.
    async fn login_extra(&self) -> Result<Value, String>;
    /// Sends a request; `Err` is the transport's `errMsg` (`request:fail timeout`).
    async fn request(&self, request: HttpRequest<Self::Options>) -> Result<Self::Response, String>;

    /// The HTTP status of an answer.
    fn status(&self, response: &Self::Response) -> u16;
    /// One field of an answer's JSON body, looked up where the body lives.
    fn body_field(&self, response: &Self::Response, path: &Path) -> Option<Value>;

    /// Milliseconds since the epoch.
    fn now_ms(&self) -> f64;
    /// Resolves after `ms` milliseconds.
    async fn sleep(&self, ms: u32);
    /// A number in `[0, 1)` for backoff jitter.
    fn random(&self) -> f64;

    /// Reports a state change, or (with the current state) a non-fatal error such as `STORAGE`.
    fn state_changed(&self, state: State, error: Option<&Error>);
}

/// A response seen through the host, so [`crate::rule::Rule`]s can read it.
pub(crate) struct HostAnswer<'a, H: Host> {
    pub host: &'a H,
    pub response: &'a H::Response,
}

impl<H: Host> Answer for HostAnswer<'_, H> {
    fn status(&self) -> u16 {
        self.host.status(self.response)
    }
    fn field(&self, path: &Path) -> Option<Value> {
        self.host.body_field(self.response, path)
    }
}
