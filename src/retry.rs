//! Transport failures and how long to wait before trying again.

use crate::error::Error;

/// Maps a `wx.request` failure `errMsg` to a typed error.
///
/// The table holds the messages WeChat is known to produce on Android (Chromium's net errors),
/// on iOS (NSURLError texts, English and Chinese) and in DevTools.
///
/// ```
/// use wx_session::{retry::classify_transport_error, Error};
/// assert_eq!(classify_transport_error("request:fail timeout", 5000), Error::Timeout { ms: 5000 });
/// assert_eq!(classify_transport_error("request:fail abort", 5000), Error::Aborted);
/// ```
pub fn classify_transport_error(err_msg: &str, timeout_ms: u32) -> Error {
    let lower = err_msg.to_lowercase();
    if ABORTED.iter().any(|m| lower.contains(m)) {
        Error::Aborted
    } else if TIMED_OUT.iter().any(|m| lower.contains(m)) {
        Error::Timeout { ms: timeout_ms }
    } else {
        Error::Network { err_msg: err_msg.to_owned() }
    }
}

/// Network failures that another attempt cannot fix (the domain is not allowed, bad URL).
pub fn is_permanent_network_failure(err_msg: &str) -> bool {
    let lower = err_msg.to_lowercase();
    PERMANENT.iter().any(|m| lower.contains(m))
}

const TIMED_OUT: &[&str] = &[
    "request:fail timeout",       // all platforms, wx.request's own `timeout`
    "timed out",                  // iOS "The request timed out.", Android ERR_TIMED_OUT text
    "err_timed_out",              // Android cronet -7
    "err_connection_timed_out",   // Android cronet -118
    "请求超时",                   // iOS, Chinese locale
];

const ABORTED: &[&str] = &[
    "request:fail abort",         // RequestTask.abort()
    "err_aborted",                // Android cronet -3
];

const PERMANENT: &[&str] = &[
    "url not in domain list",     // 不在以下 request 合法域名列表中
    "invalid url",
    "request:fail parameter error",
];

/// Exponential backoff with jitter: attempt 0 waits about `BASE_MS`, each next one twice as
/// long, never more than `MAX_MS`. Half of each delay is random so phones that failed together
/// don't all retry at the same instant.
pub const BASE_MS: u32 = 300;
pub const MAX_MS: u32 = 5_000;

/// The wait before retry number `attempt` (0-based); `random` is in `[0, 1)`.
pub fn backoff_ms(attempt: u32, random: f64) -> u32 {
    let ceiling = BASE_MS.saturating_mul(1u32 << attempt.min(16)).min(MAX_MS);
    let half = ceiling / 2;
    let jitter = (f64::from(half) * random.clamp(0.0, 1.0)) as u32;
    half + jitter.min(half)
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
            assert_eq!(classify_transport_error(msg, 10), Error::Timeout { ms: 10 }, "{msg}");
        }
        for msg in ["request:fail abort", "request:fail abort statusCode:-1", "request:fail -3:net::ERR_ABORTED"] {
            assert_eq!(classify_transport_error(msg, 10), Error::Aborted, "{msg}");
        }
        for msg in [
            "request:fail The Internet connection appears to be offline.",
            "request:fail 似乎已断开与互联网的连接。",
            "request:fail errcode:-105 cronet_error_code:-105 error_msg:net::ERR_NAME_NOT_RESOLVED",
            "request:fail -2:net::ERR_FAILED",
            "request:fail ssl hand shake error",
        ] {
            assert!(matches!(classify_transport_error(msg, 10), Error::Network { .. }), "{msg}");
        }
    }

    #[test]
    fn domain_list_failures_are_permanent() {
        assert!(is_permanent_network_failure("request:fail url not in domain list"));
        assert!(!is_permanent_network_failure("request:fail -2:net::ERR_FAILED"));
    }

    #[test]
    fn backoff_grows_and_is_bounded() {
        let lows: Vec<u32> = (0..8).map(|a| backoff_ms(a, 0.0)).collect();
        let highs: Vec<u32> = (0..8).map(|a| backoff_ms(a, 0.999_999)).collect();
        assert_eq!(lows, [150, 300, 600, 1200, 2400, 2500, 2500, 2500]);
        assert!(highs.windows(2).all(|w| w[0] <= w[1]), "{highs:?}");
        assert!(highs.iter().all(|&h| h <= MAX_MS), "{highs:?}");
        assert_eq!(backoff_ms(40, 1.0), MAX_MS, "huge attempt counts don't overflow");
        assert_eq!(backoff_ms(0, f64::NAN), 150, "a broken random source still gives a delay");
    }
}
