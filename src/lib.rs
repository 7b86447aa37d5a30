//! wx-session: the WeChat mini-program login flow, done once and correctly.
//!
//! Read the stored token → check it → if missing or invalid, `wx.login` for a fresh code →
//! send it to the developer's server → store the returned token → carry it on every request →
//! log in again (once, shared by every caller) when the server says the session is invalid.
//!
//! The core ([`Session`]) is plain Rust over a [`Host`] trait, tested natively with a scripted
//! host and a virtual clock. `src/wasm/` (wasm32 only) implements `Host` over the JS glue's
//! callbacks and exports the `WxSession` class the glue drives.

pub mod config;
pub mod error;
pub mod host;
pub mod retry;
pub mod rule;
pub mod session;
pub mod token;

/// The JS-facing class and the JS host (wasm32 only).
#[cfg(target_arch = "wasm32")]
pub mod wasm;

pub use config::Config;
pub use error::{Error, ERROR_CODES};
pub use host::{Host, HttpRequest, State};
pub use session::{ApiRequest, Ready, Session, Source};
pub use token::{StoredToken, Token};
