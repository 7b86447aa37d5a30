//! Retry policy: which failures are worth another attempt, and how long to wait before it.

use alloc::string::{String, ToString};

use crate::error::Error;

/// How a `wx.request` failure `errMsg` reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportFailure {
    /// `request:fail abort` and the like.
    Aborted,
    /// The platform gave up waiting.
    TimedOut,
    /// No connection, DNS, TLS…: another attempt may work.
    Network,
    /// Another attempt cannot work (the domain is not in the mini-program's list, a bad URL).
    Permanent,
}

/// Classifies a `wx.request` failure `errMsg`.
///
/// The table holds the messages WeChat is known to produce on Android (Chromium's net errors),
/// on iOS (NSURLError texts, English and Chinese) and in DevTools.
///
/// ```
/// use wx_session::retry::{classify, TransportFailure};
/// assert_eq!(classify("request:fail timeout"), TransportFailure::TimedOut);
/// assert_eq!(classify("request:fail url not in domain list"), TransportFailure::Permanent);
/// ```
pub fn classify(err_msg: &str) -> TransportFailure {
    // ASCII case folding is enough: the Chinese texts have no case (and Unicode case tables
    // would add kilobytes to the wasm).
    let lower = err_msg.to_ascii_lowercase();
    let any = |table: &[&str]| table.iter().any(|m| contains(lower.as_bytes(), m.as_bytes()));
    if any(ABORTED) {
        TransportFailure::Aborted
    } else if any(TIMED_OUT) {
        TransportFailure::TimedOut
    } else if any(PERMANENT) {
        TransportFailure::Permanent
    } else {
        TransportFailure::Network
    }
}

/// Does `text` contain `part`? (A plain scan: these messages are short, and `str::contains`
/// brings a two-way searcher into the wasm.)
fn contains(text: &[u8], part: &[u8]) -> bool {
    !part.is_empty() && text.windows(part.len()).any(|window| window == part)
}

/// The typed error for a transport failure.
pub fn transport_error(err_msg: &str) -> Error {
    let err_msg: String = err_msg.to_string();
    match classify(&err_msg) {
        TransportFailure::Aborted => Error::Aborted,
        TransportFailure::TimedOut => Error::PlatformTimeout { err_msg },
        TransportFailure::Network | TransportFailure::Permanent => Error::Network { err_msg },
    }
}

/// Worth another attempt after a backoff: the same call may well succeed later.
pub fn is_transient(error: &Error) -> bool {
    match error {
        Error::WxLoginFailed { .. } | Error::Timeout { .. } | Error::PlatformTimeout { .. } => true,
        Error::Network { err_msg } => classify(err_msg) != TransportFailure::Permanent,
        // 5xx, and "try again later": a timeout (408) or rate limit (429) is no refusal.
        Error::ServerRejected { status, .. } => *status >= 500 || *status == 408 || *status == 429,
        _ => false,
    }
}

const TIMED_OUT: &[&str] = &[
    "request:fail timeout",     // all platforms, wx.request's own `timeout`
    "timed out",                // iOS "The request timed out.", Android ERR_TIMED_OUT text
    "err_timed_out",            // Android cronet -7
    "err_connection_timed_out", // Android cronet -118
    "请求超时",                 // iOS, Chinese locale
];

const ABORTED: &[&str] = &[
    "request:fail abort", // RequestTask.abort()
    "err_aborted",        // Android cronet -3
];

const PERMANENT: &[&str] = &[
    "url not in domain list", // 不在以下 request 合法域名列表中 (English locale)
    "合法域名",               // the same, Chinese locale
    "invalid url",
    "request:fail parameter error",
];

/// Exponential backoff with jitter: attempt 0 waits about `BASE_MS`, each next one twice as
/// long, never more than `MAX_MS`. Half of each delay is random so phones that failed together
/// don't all retry at the same instant.
pub const BASE_MS: u32 = 300;
pub const MAX_MS: u32 = 5_000;

/// The wait before retry number `attempt` (0-based); `random` is any `u32` (uniform).
pub fn backoff_ms(attempt: u32, random: u32) -> u32 {
    let ceiling = BASE_MS.saturating_mul(1u32 << attempt.min(16)).min(MAX_MS);
    let half = ceiling / 2;
    // (half + 1) * random / 2^32 is in [0, half].
    let jitter = (((u64::from(half) + 1) * u64::from(random)) >> 32) as u32;
    half + jitter
}

/// A small, fast generator for jitter (xorshift32); seeded by the driver.
#[derive(Debug, Clone)]
pub struct Jitter(u32);

impl Jitter {
    pub fn new(seed: u32) -> Jitter {
        Jitter(if seed == 0 { 0x9E37_79B9 } else { seed })
    }

    pub fn draw(&mut self) -> u32 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.0 = x;
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_messages_are_classified() {
        let timeouts = [
            "request:fail timeout",
            "request:fail The request timed out.",
            "request:fail 请求超时。",
            "request:fail errcode:-118 cronet_error_code:-118 error_msg:net::ERR_CONNECTION_TIMED_OUT",
            "request:fail -7:net::ERR_TIMED_OUT",
        ];
        for msg in timeouts {
            assert_eq!(classify(msg), TransportFailure::TimedOut, "{msg}");
            assert_eq!(transport_error(msg).code(), "TIMEOUT");
        }
        for msg in ["request:fail abort", "request:fail abort statusCode:-1", "request:fail -3:net::ERR_ABORTED"] {
            assert_eq!(transport_error(msg), Error::Aborted, "{msg}");
        }
        for msg in [
            "request:fail The Internet connection appears to be offline.",
            "request:fail 似乎已断开与互联网的连接。",
            "request:fail errcode:-105 cronet_error_code:-105 error_msg:net::ERR_NAME_NOT_RESOLVED",
            "request:fail -2:net::ERR_FAILED",
            "request:fail ssl hand shake error",
        ] {
            assert_eq!(classify(msg), TransportFailure::Network, "{msg}");
            assert!(is_transient(&transport_error(msg)), "{msg}");
        }
    }

    #[test]
    fn domain_list_failures_are_network_errors_that_are_not_retried() {
        let error = transport_error("request:fail url not in domain list");
        assert_eq!(error.code(), "NETWORK");
        assert!(!is_transient(&error));
    }

    #[test]
    fn backoff_grows_and_is_bounded() {
        let lows: Vec<u32> = (0..8).map(|a| backoff_ms(a, 0)).collect();
        let highs: Vec<u32> = (0..8).map(|a| backoff_ms(a, u32::MAX)).collect();
        assert_eq!(lows, [150, 300, 600, 1200, 2400, 2500, 2500, 2500]);
        assert_eq!(highs, [300, 600, 1200, 2400, 4800, 5000, 5000, 5000]);
        assert_eq!(backoff_ms(40, u32::MAX), MAX_MS, "huge attempt counts don't overflow");
    }

    #[test]
    fn jitter_never_sticks_at_zero() {
        let mut jitter = Jitter::new(0);
        let values: Vec<u32> = (0..4).map(|_| jitter.draw()).collect();
        assert!(values.iter().all(|&v| v != 0), "{values:?}");
        assert_ne!(values[0], values[1]);
    }
}
