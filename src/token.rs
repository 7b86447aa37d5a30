//! The token and how it is kept in storage.
//!
//! Stored as a versioned record `{ v: 1, token, expiresAt, obtainedAt }` under `storageKey`.
//! Reading also accepts what hand-written code leaves behind (a plain string, as the seeds do);
//! anything else (a number, an unrelated object, broken JSON) counts as "no token" and is only
//! replaced after a successful login.

use std::fmt;

use serde_json::{json, Value};

/// The developer's session token. `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// Wraps a token string; empty strings are not tokens.
    pub fn new(text: impl Into<String>) -> Option<Token> {
        let text = text.into();
        (!text.is_empty()).then_some(Token(text))
    }

    /// The token itself, for the request header and the app. Never log it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Token(<{} chars>)", self.0.chars().count())
    }
}

/// A token with what we know of its lifetime (milliseconds since the epoch, host clock).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredToken {
    pub token: Token,
    pub expires_at: Option<f64>,
    pub obtained_at: Option<f64>,
}

/// What was found under the storage key.
#[derive(Debug, Clone, PartialEq)]
pub enum StorageRead {
    /// Nothing stored (missing key, `''`, `null`).
    Empty,
    /// Our own record.
    Record(StoredToken),
    /// A plain string written by hand-rolled code: used as the token and rewritten as a record.
    Legacy(StoredToken),
    /// Something we don't understand: treated as "no token", left alone until a login succeeds.
    Corrupt,
}

/// The record format version written by this SDK.
pub const RECORD_VERSION: u64 = 1;

/// How long before the stored expiry a token is refreshed, at most.
pub const REFRESH_MARGIN_MS: f64 = 60_000.0;

impl StoredToken {
    /// Interprets whatever the storage key holds.
    pub fn read(value: Option<&Value>) -> StorageRead {
        match value {
            None | Some(Value::Null) => StorageRead::Empty,
            Some(Value::String(text)) if text.is_empty() => StorageRead::Empty,
            Some(Value::String(text)) => read_string(text),
            Some(Value::Object(_)) => read_record(value),
            Some(_) => StorageRead::Corrupt,
        }
    }

    /// The record to store.
    pub fn to_value(&self) -> Value {
        json!({
            "v": RECORD_VERSION,
            "token": self.token.as_str(),
            "expiresAt": self.expires_at,
            "obtainedAt": self.obtained_at,
        })
    }

    /// Is the token still good at `now`, as far as the stored expiry tells?
    ///
    /// Refreshes a little ahead of the expiry (a 10th of the lifetime, at most a minute) so a
    /// request sent just before expiry doesn't arrive just after it.
    pub fn freshness(&self, now: f64) -> Freshness {
        let Some(expires_at) = self.expires_at else {
            return Freshness::Unknown;
        };
        let lifetime = self.obtained_at.map_or(f64::INFINITY, |at| expires_at - at);
        let margin = (lifetime / 10.0).clamp(0.0, REFRESH_MARGIN_MS);
        if now < expires_at - margin {
            Freshness::Fresh
        } else {
            Freshness::Expired
        }
    }
}

/// What the stored expiry says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    Fresh,
    Expired,
    Unknown,
}

/// A string is either our record serialized by someone (rare) or a legacy plain token.
fn read_string(text: &str) -> StorageRead {
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        // Looks like JSON: a record stringified by hand, or garbage. Never use it as a token.
        return match serde_json::from_str::<Value>(text) {
            Ok(value @ Value::Object(_)) => read_record(Some(&value)),
            _ => StorageRead::Corrupt,
        };
    }
    match Token::new(text) {
        Some(token) => StorageRead::Legacy(StoredToken { token, expires_at: None, obtained_at: None }),
        None => StorageRead::Empty,
    }
}

fn read_record(value: Option<&Value>) -> StorageRead {
    let Some(Value::Object(map)) = value else {
        return StorageRead::Corrupt;
    };
    let version_ok = map.get("v").and_then(Value::as_u64) == Some(RECORD_VERSION);
    let token = map.get("token").and_then(Value::as_str).and_then(Token::new);
    let time = |key: &str| map.get(key).and_then(Value::as_f64).filter(|t| t.is_finite());
    match (version_ok, token) {
        (true, Some(token)) => StorageRead::Record(StoredToken {
            token,
            expires_at: time("expiresAt"),
            obtained_at: time("obtainedAt"),
        }),
        _ => StorageRead::Corrupt,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(text: &str) -> Token {
        Token::new(text).unwrap()
    }

    #[test]
    fn debug_never_shows_the_token() {
        let t = token("secret-token-123");
        assert_eq!(format!("{t:?}"), "Token(<16 chars>)");
        let stored = StoredToken { token: t, expires_at: None, obtained_at: None };
        assert!(!format!("{stored:?}").contains("secret"));
    }

    #[test]
    fn record_round_trips() {
        let stored = StoredToken { token: token("abc"), expires_at: Some(5000.0), obtained_at: Some(1000.0) };
        assert_eq!(StoredToken::read(Some(&stored.to_value())), StorageRead::Record(stored));
    }

    #[test]
    fn legacy_plain_string_is_read_as_a_token() {
        let read = StoredToken::read(Some(&json!("eyJhbGciOi.legacy")));
        assert_eq!(
            read,
            StorageRead::Legacy(StoredToken { token: token("eyJhbGciOi.legacy"), expires_at: None, obtained_at: None })
        );
    }

    #[test]
    fn stringified_record_is_read() {
        let text = r#"{"v":1,"token":"abc","expiresAt":null,"obtainedAt":null}"#;
        assert!(matches!(StoredToken::read(Some(&json!(text))), StorageRead::Record(_)));
    }

    #[test]
    fn empty_and_corrupt_shapes() {
        assert_eq!(StoredToken::read(None), StorageRead::Empty);
        assert_eq!(StoredToken::read(Some(&json!(null))), StorageRead::Empty);
        assert_eq!(StoredToken::read(Some(&json!(""))), StorageRead::Empty);
        for corrupt in [
            json!(42),
            json!(true),
            json!([1, 2]),
            json!({"user": "x"}),
            json!({"v": 1, "token": 7}),
            json!({"v": 1, "token": ""}),
            json!({"v": 2, "token": "abc"}),
            json!("{\"v\":1,\"tok"),
            json!("[broken"),
        ] {
            assert_eq!(StoredToken::read(Some(&corrupt)), StorageRead::Corrupt, "{corrupt}");
        }
    }

    #[test]
    fn freshness_uses_a_margin() {
        let t = |expires_at, obtained_at| StoredToken { token: token("a"), expires_at, obtained_at };
        assert_eq!(t(None, None).freshness(0.0), Freshness::Unknown);
        // One hour token: refreshed from one minute before expiry.
        let hour = t(Some(3_600_000.0), Some(0.0));
        assert_eq!(hour.freshness(3_500_000.0), Freshness::Fresh);
        assert_eq!(hour.freshness(3_540_000.0), Freshness::Expired);
        // Ten second token: margin is a tenth of the lifetime.
        let short = t(Some(10_000.0), Some(0.0));
        assert_eq!(short.freshness(8_999.0), Freshness::Fresh);
        assert_eq!(short.freshness(9_000.0), Freshness::Expired);
    }
}
