//! The token and how it is kept in storage.
//!
//! Stored as a versioned record `{ v: 1, token, expiresAt, obtainedAt }` under `storageKey`.
//! Reading also accepts what hand-written code leaves behind (a plain string, as the seeds do);
//! anything else (a number, an unrelated object, broken JSON) counts as "no token" and is only
//! replaced after a successful login.

use alloc::rc::Rc;
use alloc::string::String;
use core::fmt;

use crate::plain::{self, ReadPlain, Reader, Writer};
use crate::text::{join, number};
use crate::Millis;

/// The longest token accepted, in bytes (a header of 8 KB is already more than many servers take).
pub const MAX_TOKEN_BYTES: usize = 8192;

/// The developer's session token: non-empty, at most [`MAX_TOKEN_BYTES`], no control characters
/// (a `\r\n` in a header value would let a server or storage inject headers). `Debug` never
/// prints it. Cheap to clone: every request in flight holds the one it carries.
#[derive(Clone, Eq)]
pub struct Token(Rc<str>);

impl PartialEq for Token {
    fn eq(&self, other: &Token) -> bool {
        // Mostly the same token, shared: no need to compare the text.
        Rc::ptr_eq(&self.0, &other.0) || self.0 == other.0
    }
}

impl Token {
    /// Checks a token string.
    ///
    /// ```
    /// use wx_session::Token;
    /// assert!(Token::new("eyJhbGciOi.x").is_ok());
    /// assert!(Token::new("abc\r\nX-Evil: 1").is_err());
    /// assert!(Token::new("ok\u{10d}\u{10a}X-Evil: 1").is_err()); // low bytes CR LF
    /// assert!(Token::new("  ").is_err());
    /// ```
    pub fn new(text: &str) -> Result<Token, &'static str> {
        if text.len() > MAX_TOKEN_BYTES {
            Err("is longer than 8192 bytes")
        } else if !is_header_text(text) {
            Err("has characters a header cannot carry (only visible ASCII and spaces)")
        } else if text.bytes().all(|b| b == b' ') {
            Err("is empty")
        } else if text.starts_with(' ') || text.ends_with(' ') {
            Err("starts or ends with a space, which a header value loses")
        } else {
            Ok(Token(Rc::from(text)))
        }
    }

    /// The token itself, for the request header and the app. Never log it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Can `text` go into an HTTP header value as is? Visible ASCII and spaces only: no control
/// characters, and nothing outside ASCII, which a network stack keeping only each character's
/// low byte would turn into one (`\u{10d}\u{10a}` into CR LF).
pub fn is_header_text(text: &str) -> bool {
    text.bytes().all(|b| (0x20..0x7f).contains(&b))
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<")?;
        f.write_str(&crate::text::number(self.0.len() as u64))?;
        f.write_str(" bytes>)")
    }
}

/// A token with what we know of its lifetime (milliseconds since the epoch, driver's clock), and
/// the refresh token that goes with it, if the server gave one.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredToken {
    pub token: Token,
    pub expires_at: Option<Millis>,
    pub obtained_at: Option<Millis>,
    pub refresh_token: Option<Token>,
}

/// What the driver found under the storage key.
#[derive(Debug, Clone, PartialEq)]
pub enum StorageValue {
    /// Nothing there (wx answers `''` for a missing key).
    Missing,
    /// The value, as [`plain`] data.
    Plain(alloc::vec::Vec<u8>),
    /// The value could not be read (a cycle, a throwing getter, too big, storage threw); the
    /// text says why.
    Unreadable(String),
}

/// What the stored value means.
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
pub const RECORD_VERSION: u32 = 1;

/// How long before the stored expiry a token is refreshed, at most.
pub const REFRESH_MARGIN_MS: Millis = 60_000;

/// The record as read back. Times are read as any number (hand-edited storage may hold
/// `1.7e12`); unknown members are ignored.
#[derive(Default)]
struct RecordIn {
    v: Option<u32>,
    token: Option<String>,
    expires_at: Option<f64>,
    obtained_at: Option<f64>,
    refresh_token: Option<String>,
}

impl ReadPlain for RecordIn {
    fn read(reader: &mut Reader) -> Result<Self, plain::Error> {
        let mut record = RecordIn::default();
        // Other keys are skipped (no list of known ones): hand-edited records may carry more.
        reader.object(&[], &[], &mut |key, r| {
            match key {
                "v" => record.v = r.optional(|r| r.whole(0, u32::MAX))?,
                "token" => record.token = Option::read(r)?,
                "expiresAt" => record.expires_at = Option::read(r)?,
                "obtainedAt" => record.obtained_at = Option::read(r)?,
                // Anything but a string (a hand-edited record) is skipped: no refresh token.
                "refreshToken" if r.peek_tag() == Some(plain::STRING) => record.refresh_token = Some(r.string()?.into()),
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        Ok(record)
    }
}

impl StoredToken {
    /// Interprets whatever the storage key holds.
    pub fn read(value: &StorageValue) -> StorageRead {
        match value {
            StorageValue::Missing => StorageRead::Empty,
            StorageValue::Plain(bytes) => match plain::tag_of(bytes) {
                Some(plain::NULL) => StorageRead::Empty,
                Some(plain::STRING) => plain::read::<String>(bytes).map_or(StorageRead::Corrupt, |text| read_string(&text)),
                Some(plain::OBJECT) => read_record(bytes),
                _ => StorageRead::Corrupt,
            },
            StorageValue::Unreadable(_) => StorageRead::Corrupt,
        }
    }

    /// The record to store, as [`plain`] data: `{ v, token, expiresAt, obtainedAt }`, and
    /// `refreshToken` when there is one.
    pub fn to_plain(&self) -> alloc::vec::Vec<u8> {
        fn time(w: &mut Writer, t: Option<Millis>) {
            match t {
                Some(t) => w.number(t as f64),
                None => w.null(),
            };
        }
        let mut w = Writer::new();
        w.object(if self.refresh_token.is_some() { 5 } else { 4 }).key("v").number(f64::from(RECORD_VERSION)).key("token").string(self.token.as_str());
        time(w.key("expiresAt"), self.expires_at);
        time(w.key("obtainedAt"), self.obtained_at);
        if let Some(refresh) = &self.refresh_token {
            w.key("refreshToken").string(refresh.as_str());
        }
        w.into_bytes()
    }

    /// The record to store, as JSON text (the glue parses it into the object it stores):
    /// `{"v":1,"token":"…","expiresAt":…,"obtainedAt":…}`, and `"refreshToken":"…"` when there
    /// is one. Cheaper to send than plain data: the glue has `JSON.parse` already.
    pub fn to_json(&self) -> alloc::string::String {
        fn time(t: Option<Millis>) -> alloc::string::String {
            t.map_or_else(|| "null".into(), number)
        }
        let version = number(u64::from(RECORD_VERSION));
        let token = json_text(&self.token);
        let times = join(&[",\"expiresAt\":", &time(self.expires_at), ",\"obtainedAt\":", &time(self.obtained_at)]);
        match &self.refresh_token {
            Some(refresh) => join(&["{\"v\":", &version, ",\"token\":\"", &token, "\"", &times, ",\"refreshToken\":\"", &json_text(refresh), "\"}"]),
            None => join(&["{\"v\":", &version, ",\"token\":\"", &token, "\"", &times, "}"]),
        }
    }

    /// Is the token still good at `now`, as far as the stored expiry tells? `ahead_ms`: replace
    /// it this long before its expiry (at most half its lifetime; `refresh.aheadMs`), else a
    /// tenth of its lifetime, at most a minute, so a request sent just before expiry doesn't
    /// arrive just after it.
    pub fn freshness(&self, now: Millis, ahead_ms: Option<u32>) -> Freshness {
        // Obtained "in the future": written while the clock ran ahead, so its expiry says
        // nothing sure.
        if self.obtained_at.is_some_and(|at| at > now) {
            return Freshness::Unknown;
        }
        match self.refresh_at(ahead_ms) {
            None => Freshness::Unknown,
            Some(at) if now < at => Freshness::Fresh,
            Some(_) => Freshness::Expired,
        }
    }

    /// When the token stops counting as fresh (see [`StoredToken::freshness`]); `None` when the
    /// expiry is unknown.
    pub fn refresh_at(&self, ahead_ms: Option<u32>) -> Option<Millis> {
        let expires_at = self.expires_at?;
        let lifetime = self.obtained_at.map_or(Millis::MAX, |at| expires_at.saturating_sub(at));
        let margin = match ahead_ms {
            Some(ahead) => Millis::from(ahead).min(lifetime / 2),
            None => (lifetime / 10).min(REFRESH_MARGIN_MS),
        };
        Some(expires_at.saturating_sub(margin))
    }
}

/// What the stored expiry says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    Fresh,
    Expired,
    Unknown,
}

/// A plain string is a token written by hand-rolled code.
fn read_string(text: &str) -> StorageRead {
    if text.is_empty() {
        return StorageRead::Empty;
    }
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') || trimmed.starts_with('<') {
        // JSON or HTML text (hand-written code that stored the body of a 502 page): something
        // of someone else's, or garbage. Never use it as a token.
        return StorageRead::Corrupt;
    }
    match Token::new(text) {
        Ok(token) => StorageRead::Legacy(StoredToken { token, expires_at: None, obtained_at: None, refresh_token: None }),
        Err(_) => StorageRead::Corrupt,
    }
}

/// A token as the text of a JSON string. A token has no control characters: `"` and `\` are all
/// JSON needs escaped.
fn json_text(token: &Token) -> alloc::string::String {
    let mut text = alloc::string::String::with_capacity(token.as_str().len());
    for c in token.as_str().chars() {
        if c == '"' || c == '\\' {
            text.push('\\');
        }
        text.push(c);
    }
    text
}

fn read_record(bytes: &[u8]) -> StorageRead {
    let Ok(record) = plain::read::<RecordIn>(bytes) else {
        return StorageRead::Corrupt;
    };
    let time = |t: Option<f64>| t.filter(|t| !t.is_nan() && *t >= 0.0).map(crate::millis_from);
    match record.token.as_deref().map(Token::new) {
        Some(Ok(token)) if record.v == Some(RECORD_VERSION) => {
            // A refresh token that could not go in a header is no refresh token; the token stays.
            let refresh_token = record.refresh_token.as_deref().and_then(|text| Token::new(text).ok());
            StorageRead::Record(StoredToken { token, expires_at: time(record.expires_at), obtained_at: time(record.obtained_at), refresh_token })
        }
        _ => StorageRead::Corrupt,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn token(text: &str) -> Token {
        Token::new(text).unwrap()
    }
    fn stored(value: serde_json::Value) -> StorageRead {
        StoredToken::read(&StorageValue::Plain(plain::json::to_plain(&value)))
    }

    #[test]
    fn debug_never_shows_the_token() {
        let t = token("secret-token-123");
        assert_eq!(format!("{t:?}"), "Token(<16 bytes>)");
        let stored = StoredToken { token: t, expires_at: None, obtained_at: None, refresh_token: None };
        assert!(!format!("{stored:?}").contains("secret"));
    }

    #[test]
    fn tokens_refuse_what_could_inject_a_header() {
        // Non-ASCII too: "\u{10d}\u{10a}" is CR LF to a stack that keeps each character's low byte.
        for bad in ["a\r\nb", "a\nb", "\0", "a\u{7f}", "", "   ", " ab", "ab ", "ok\u{10d}\u{10a}X-Evil: 1", "a\u{2028}b", "a\u{85}b", "中文令牌"] {
            assert!(Token::new(bad).is_err(), "{bad:?}");
        }
        assert!(Token::new(&"x".repeat(MAX_TOKEN_BYTES)).is_ok());
        assert!(Token::new(&"x".repeat(MAX_TOKEN_BYTES + 1)).is_err());
        assert!(Token::new("Bearer eyJ.a-b_c~+/=").is_ok());
    }

    #[test]
    fn record_round_trips_with_whole_millisecond_times() {
        let record = StoredToken { token: token("abc"), expires_at: Some(1_700_000_000_000), obtained_at: Some(1_699_999_000_000), refresh_token: None };
        let bytes = record.to_plain();
        assert_eq!(plain::json::from_plain(&bytes), json!({"v": 1, "token": "abc", "expiresAt": 1_700_000_000_000u64, "obtainedAt": 1_699_999_000_000u64}));
        assert_eq!(StoredToken::read(&StorageValue::Plain(bytes)), StorageRead::Record(record));
        let unknown = StoredToken { token: token("t"), expires_at: None, obtained_at: None, refresh_token: None };
        assert_eq!(plain::json::from_plain(&unknown.to_plain()), json!({"v": 1, "token": "t", "expiresAt": null, "obtainedAt": null}));
    }

    #[test]
    fn the_json_record_reads_back_the_same() {
        for (token, expires_at) in [("abc", Some(1_700_000_000_000)), ("with \"quotes\" and \\", None)] {
            let record = StoredToken { token: Token::new(token).unwrap(), expires_at, obtained_at: Some(1_699_999_000_000), refresh_token: None };
            let json: serde_json::Value = serde_json::from_str(&record.to_json()).expect("JSON");
            match StoredToken::read(&StorageValue::Plain(crate::plain::json::to_plain(&json))) {
                StorageRead::Record(back) => assert_eq!(back, record),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn legacy_plain_string_is_read_as_a_token() {
        let read = stored(json!("eyJhbGciOi.legacy"));
        assert_eq!(read, StorageRead::Legacy(StoredToken { token: token("eyJhbGciOi.legacy"), expires_at: None, obtained_at: None, refresh_token: None }));
    }

    #[test]
    fn records_may_carry_more_and_odd_but_valid_times() {
        let read = stored(json!({"v": 1, "token": "abc", "expiresAt": 1.7e12, "obtainedAt": null, "note": {"x": [1]}}));
        assert_eq!(read, StorageRead::Record(StoredToken { token: token("abc"), expires_at: Some(1_700_000_000_000), obtained_at: None, refresh_token: None }));
        let negative = stored(json!({"v": 1, "token": "abc", "expiresAt": -5}));
        assert!(matches!(negative, StorageRead::Record(StoredToken { expires_at: None, .. })), "{negative:?}");
    }

    #[test]
    fn empty_and_corrupt_shapes() {
        assert_eq!(StoredToken::read(&StorageValue::Missing), StorageRead::Empty);
        assert_eq!(stored(json!("")), StorageRead::Empty);
        assert_eq!(stored(json!(null)), StorageRead::Empty);
        for corrupt in [
            json!(42),
            json!(true),
            json!([1, 2]),
            json!({"user": "x"}),
            json!({"v": 1, "token": 7}),
            json!({"v": 1, "token": ""}),
            json!({"v": 2, "token": "abc"}),
            json!({"v": 1, "token": "a\r\nb"}),
            json!("{\"v\":1,\"token\":\"abc\"}"),
            json!("[broken"),
            json!("<!DOCTYPE html><html><body>502 Bad Gateway</body></html>"),
            json!(" <html>"),
            json!("legacy\r\nX-Injected: 1"),
        ] {
            assert_eq!(stored(corrupt.clone()), StorageRead::Corrupt, "{corrupt}");
        }
        assert_eq!(StoredToken::read(&StorageValue::Unreadable("cycle".into())), StorageRead::Corrupt);
        assert_eq!(StoredToken::read(&StorageValue::Plain(vec![plain::OBJECT, 9])), StorageRead::Corrupt, "truncated data");
    }

    #[test]
    fn freshness_uses_a_margin() {
        let t = |expires_at, obtained_at| StoredToken { token: token("a"), expires_at, obtained_at, refresh_token: None };
        assert_eq!(t(None, None).freshness(0, None), Freshness::Unknown);
        // One hour token: refreshed from one minute before expiry.
        let hour = t(Some(3_600_000), Some(0));
        assert_eq!(hour.freshness(3_500_000, None), Freshness::Fresh);
        assert_eq!(hour.freshness(3_540_000, None), Freshness::Expired);
        // Ten second token: margin is a tenth of the lifetime.
        let short = t(Some(10_000), Some(0));
        assert_eq!(short.freshness(8_999, None), Freshness::Fresh);
        assert_eq!(short.freshness(9_000, None), Freshness::Expired);
        // No obtainedAt: the full minute.
        assert_eq!(t(Some(120_000), None).freshness(59_999, None), Freshness::Fresh);
        assert_eq!(t(Some(120_000), None).freshness(60_000, None), Freshness::Expired);
        // Obtained after `now` (the clock ran ahead when it was written): unknown, so checked.
        assert_eq!(t(Some(90_000_000), Some(86_400_000)).freshness(1_000, None), Freshness::Unknown);
        // With a refresh token's `aheadMs`: that long ahead, at most half the lifetime.
        assert_eq!(hour.freshness(3_539_999, Some(60_000)), Freshness::Fresh);
        assert_eq!(hour.freshness(3_540_000, Some(60_000)), Freshness::Expired);
        assert_eq!(short.freshness(4_999, Some(60_000)), Freshness::Fresh, "half of 10 s, not a minute");
        assert_eq!(short.freshness(5_000, Some(60_000)), Freshness::Expired);
        assert_eq!(hour.freshness(3_599_999, Some(0)), Freshness::Fresh, "aheadMs 0: until the expiry");
    }

    #[test]
    fn a_refresh_token_rides_in_the_record_and_a_bad_one_is_none() {
        let mut record = StoredToken { token: token("acc"), expires_at: Some(10), obtained_at: Some(1), refresh_token: Some(token("ref\"1")) };
        let json: serde_json::Value = serde_json::from_str(&record.to_json()).unwrap();
        assert_eq!(json["refreshToken"], "ref\"1");
        assert_eq!(stored(json.clone()), StorageRead::Record(record.clone()));
        assert_eq!(StoredToken::read(&StorageValue::Plain(record.to_plain())), StorageRead::Record(record.clone()));
        for bad in [json!(12), json!({ "a": 1 }), json!("x\r\ny"), json!(null)] {
            let mut other = json.clone();
            other["refreshToken"] = bad.clone();
            record.refresh_token = None;
            assert_eq!(stored(other), StorageRead::Record(record.clone()), "{bad}: the token stays, with no refresh token");
        }
        record.refresh_token = None;
        assert!(!record.to_json().contains("refreshToken"));
    }
}
