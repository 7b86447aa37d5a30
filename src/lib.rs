//! wx-session: the WeChat mini-program login flow, done once and correctly.
//!
//! Read the stored token → check it → if missing or invalid, `wx.login` for a fresh code →
//! send it to the developer's server → store the returned token → carry it on every request →
//! log in again (once, shared by every caller) when the server says the session is invalid.
//!
//! The core is **sans-IO**, in the style of quinn-proto and rustls: [`Session`] is a state
//! machine that never awaits and never calls out. Its driver (the JS glue in the mini-program,
//! a test harness natively) tells it what happened — a call started, `wx.login` answered, an HTTP
//! answer arrived, a deadline passed — with the current time, and performs the [`Action`]s it
//! asks for. `src/wasm/` (wasm32 only) exports that machine to the glue as a handful of
//! functions of numbers and strings.
//!
//! ```
//! use wx_session::{Action, Config, Session};
//!
//! let mut plain = wx_session::plain::Writer::new();
//! plain.object(1).key("baseUrl").string("https://api.example.com");
//! let config = Config::from_plain(plain.bytes()).unwrap();
//! let mut session = Session::new(config, 7);
//! let call = session.ensure(1_000);
//! // No token in memory: the machine reports it is checking, and asks for the stored token.
//! assert!(matches!(session.poll_action(), Some(Action::Report { .. })));
//! assert!(matches!(session.poll_action(), Some(Action::ReadStorage { .. })));
//! # let _ = call;
//! ```
// The shipped .wasm is no_std (see `standalone` in Cargo.toml); every other build has std.
// The code itself uses only `core` and `alloc` either way.
#![cfg_attr(feature = "standalone", no_std)]
#![deny(unsafe_code)]

extern crate alloc;

pub mod abi;
pub mod answer;
pub mod config;
pub mod error;
pub mod login;
pub mod plain;
pub mod retry;
pub mod rule;
pub mod session;
pub mod text;
pub mod token;

/// The fake platform that drives the machine in tests (the `testing` feature; always in this
/// crate's own tests). Never in the shipped .wasm.
#[cfg(any(test, feature = "testing"))]
pub mod testing;
// The fake platform needs std; the shipped no_std build must never carry it.
#[cfg(all(feature = "testing", feature = "standalone"))]
compile_error!("`testing` is for tests and fuzzing: the shipped build (`standalone`) must not enable it");

/// The exported functions of the shipped .wasm (wasm32 only).
#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)]
pub mod wasm;

pub use answer::{Answer, ReadSet};
pub use config::Config;
pub use config::Method;
pub use error::{Error, ERROR_CODES};
pub use rule::{Field, Scalar};
pub use session::{Action, ApiRequest, CallId, LoginAnswer, OpId, Resolution, Send, Session, Source, State};
pub use token::{StorageValue, StoredToken, Token};

/// Milliseconds since the epoch, as the driver's clock reads them (`Date.now()`).
pub type Millis = u64;

/// The latest time the core keeps: 2^53 − 1 ms (the year 287,396), the largest whole number a JS
/// number holds exactly, so times cross to the glue and round-trip through stored records as
/// they are. Lifetimes servers send for "never" (`Long.MAX_VALUE` seconds, `1e20`) end here.
pub const MAX_MILLIS: Millis = (1 << 53) - 1;

/// `x` (a JS number) as whole milliseconds from 0 to [`MAX_MILLIS`]; NaN and negatives are 0,
/// fractions are cut. Clamped here rather than left to `as`: in the shipped wasm, binaryen's MVP
/// lowering of Rust's saturating float-to-int cast wraps values past 2^64 to 0 instead.
///
/// ```
/// use wx_session::{millis_from, MAX_MILLIS};
/// assert_eq!(millis_from(1_700_000_000_000.5), 1_700_000_000_000);
/// assert_eq!(millis_from(1e20), MAX_MILLIS);
/// assert_eq!(millis_from(f64::NAN), 0);
/// ```
pub fn millis_from(x: f64) -> Millis {
    if x >= MAX_MILLIS as f64 {
        MAX_MILLIS
    } else if x >= 0.0 {
        x as Millis // in range: the cast is exact in every build
    } else {
        0
    }
}
