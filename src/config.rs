//! The session config: deserialized with serde from whatever the caller passed, validated once.
//!
//! Unknown keys and wrong types are refused with a [`Error::Config`] that names the key
//! (`login.tokenPath`, `invalidWhen[1]`), so a typo fails at start-up instead of silently
//! falling back to a default.

use serde::{Deserialize, Deserializer};

use crate::error::Error;
use crate::rule::{Path, RawRule, Rule};

/// HTTP methods `wx.request` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Head,
    Post,
    Put,
    Delete,
    Options,
    Patch,
}

impl Method {
    /// Parses a method name, any case (`'post'` is common in hand-written code).
    pub fn parse(name: &str) -> Option<Method> {
        Some(match name.to_ascii_uppercase().as_str() {
            "GET" => Method::Get,
            "HEAD" => Method::Head,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "DELETE" => Method::Delete,
            "OPTIONS" => Method::Options,
            "PATCH" => Method::Patch,
            _ => return None,
        })
    }

    /// The upper-case name `wx.request` expects.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
            Method::Options => "OPTIONS",
            Method::Patch => "PATCH",
        }
    }

    /// Safe to send twice: retried on network errors without the caller opting in.
    pub fn is_idempotent(self) -> bool {
        !matches!(self, Method::Post | Method::Patch)
    }
}

/// Where the login code travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CodeIn {
    Body,
    Query,
    Header,
}

/// When a stored token is checked with the server's check endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckPolicy {
    /// Check on every launch.
    Always,
    /// Trust a token whose stored expiry says it is fresh, log in when it says expired, and
    /// check only when the expiry is unknown.
    WhenUnknown,
    /// Never check; the first "invalid session" answer triggers a re-login.
    Never,
}

/// How to log in: where the code goes and where the token comes back.
#[derive(Debug, Clone)]
pub struct LoginConfig {
    pub url: String,
    pub method: Method,
    pub code_in: CodeIn,
    pub code_key: String,
    pub token_path: Path,
    pub expires_in_path: Option<Path>,
    pub ok_when: Option<Rule>,
    /// The glue has a `login.extra()` callback whose result is merged into the login body.
    pub has_extra: bool,
}

/// How to ask the server whether a stored token is still good.
#[derive(Debug, Clone)]
pub struct CheckConfig {
    pub url: String,
    pub method: Method,
    pub ok_when: Option<Rule>,
    pub policy: CheckPolicy,
}

/// A validated session config.
///
/// ```
/// let config = wx_session::Config::from_json(serde_json::json!({
///     "baseUrl": "https://api.example.com",
///     "login": { "tokenPath": "data.skey" },
/// })).unwrap();
/// assert_eq!(config.login.token_path.as_str(), "data.skey");
/// assert_eq!(config.retries, 2);
/// ```
#[derive(Debug, Clone)]
pub struct Config {
    pub base_url: String,
    pub storage_key: String,
    pub token_header: String,
    pub token_prefix: String,
    pub login: LoginConfig,
    pub check: Option<CheckConfig>,
    pub use_check_session: bool,
    pub invalid_when: Vec<Rule>,
    pub retries: u32,
    pub timeout_ms: u32,
}

/// Upper bounds that keep a typo from turning into an hour of retries.
pub const MAX_RETRIES: u32 = 10;
pub const MAX_TIMEOUT_MS: u32 = 120_000;

impl Config {
    /// Reads and validates a config from any serde deserializer (a JS object in the wasm build).
    pub fn from_deserializer<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Config, Error> {
        let raw: RawConfig = serde_path_to_error::deserialize(deserializer).map_err(|err| {
            let key = err.path().to_string();
            let key = if key == "." { "config".to_owned() } else { key };
            Error::config(key, err.into_inner().to_string())
        })?;
        raw.validate()
    }

    /// Reads and validates a config from a JSON value (native callers and tests).
    pub fn from_json(value: serde_json::Value) -> Result<Config, Error> {
        Config::from_deserializer(value)
    }

    /// The full URL for a path from the config or a caller: absolute URLs pass through.
    pub fn url_for(&self, path: &str) -> String {
        if path.starts_with("https://") || path.starts_with("http://") {
            path.to_owned()
        } else if path.starts_with('/') {
            format!("{}{}", self.base_url, path)
        } else {
            format!("{}/{}", self.base_url, path)
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawConfig {
    base_url: String,
    /// Used by the JS glue only; accepted here so one object configures both.
    #[serde(default)]
    #[allow(dead_code)]
    wasm_path: Option<String>,
    #[serde(default = "defaults::storage_key")]
    storage_key: String,
    #[serde(default = "defaults::token_header")]
    token_header: String,
    #[serde(default)]
    token_prefix: String,
    #[serde(default)]
    login: RawLogin,
    #[serde(default)]
    check: Option<RawCheck>,
    #[serde(default = "defaults::yes")]
    use_check_session: bool,
    #[serde(default = "defaults::invalid_when")]
    invalid_when: Vec<RawRule>,
    #[serde(default = "defaults::retries")]
    retries: u32,
    #[serde(default = "defaults::timeout_ms")]
    timeout_ms: u32,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawLogin {
    #[serde(default = "defaults::login_url")]
    url: String,
    #[serde(default = "defaults::post")]
    method: String,
    #[serde(default = "defaults::code_in")]
    code_in: CodeIn,
    #[serde(default = "defaults::code_key")]
    code_key: String,
    #[serde(default = "defaults::token_path")]
    token_path: String,
    #[serde(default)]
    expires_in_path: Option<String>,
    #[serde(default)]
    ok_when: Option<RawRule>,
    /// Set by the glue when the caller gave a `login.extra` function.
    #[serde(default)]
    has_extra: bool,
}

impl Default for RawLogin {
    fn default() -> Self {
        RawLogin {
            url: defaults::login_url(),
            method: defaults::post(),
            code_in: defaults::code_in(),
            code_key: defaults::code_key(),
            token_path: defaults::token_path(),
            expires_in_path: None,
            ok_when: None,
            has_extra: false,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawCheck {
    #[serde(default = "defaults::check_url")]
    url: String,
    #[serde(default = "defaults::post")]
    method: String,
    #[serde(default)]
    ok_when: Option<RawRule>,
    #[serde(default = "defaults::policy")]
    policy: CheckPolicy,
}

mod defaults {
    use super::{CheckPolicy, CodeIn, RawRule};

    pub fn storage_key() -> String {
        "token".into()
    }
    pub fn token_header() -> String {
        "token".into()
    }
    pub fn yes() -> bool {
        true
    }
    pub fn invalid_when() -> Vec<RawRule> {
        vec![RawRule::status(401)]
    }
    pub fn retries() -> u32 {
        2
    }
    pub fn timeout_ms() -> u32 {
        10_000
    }
    pub fn login_url() -> String {
        "/login".into()
    }
    pub fn check_url() -> String {
        "/auth".into()
    }
    pub fn post() -> String {
        "POST".into()
    }
    pub fn code_in() -> CodeIn {
        CodeIn::Body
    }
    pub fn code_key() -> String {
        "code".into()
    }
    pub fn token_path() -> String {
        "token".into()
    }
    pub fn policy() -> CheckPolicy {
        CheckPolicy::Always
    }
}

fn non_empty(key: &str, value: String) -> Result<String, Error> {
    if value.trim().is_empty() {
        Err(Error::config(key, "must not be empty"))
    } else {
        Ok(value)
    }
}

fn method(key: &str, name: &str) -> Result<Method, Error> {
    Method::parse(name).ok_or_else(|| Error::config(key, format!("unknown HTTP method `{name}`")))
}

fn path(key: &str, text: &str) -> Result<Path, Error> {
    Path::parse(text).ok_or_else(|| Error::config(key, format!("bad dot path `{text}`")))
}

fn rule(key: &str, raw: RawRule) -> Result<Rule, Error> {
    raw.into_rule().map_err(|reason| Error::config(key, reason))
}

impl RawConfig {
    fn validate(self) -> Result<Config, Error> {
        let base_url = self.base_url.trim_end_matches('/').to_owned();
        if !(base_url.starts_with("https://") || base_url.starts_with("http://")) {
            return Err(Error::config("baseUrl", "must start with https:// or http://"));
        }
        if self.retries > MAX_RETRIES {
            return Err(Error::config("retries", format!("at most {MAX_RETRIES}")));
        }
        if self.timeout_ms == 0 || self.timeout_ms > MAX_TIMEOUT_MS {
            return Err(Error::config("timeoutMs", format!("between 1 and {MAX_TIMEOUT_MS}")));
        }
        let login = self.login;
        let login = LoginConfig {
            url: non_empty("login.url", login.url)?,
            method: method("login.method", &login.method)?,
            code_in: login.code_in,
            code_key: non_empty("login.codeKey", login.code_key)?,
            token_path: path("login.tokenPath", &login.token_path)?,
            expires_in_path: match login.expires_in_path {
                Some(text) => Some(path("login.expiresInPath", &text)?),
                None => None,
            },
            ok_when: match login.ok_when {
                Some(raw) => Some(rule("login.okWhen", raw)?),
                None => None,
            },
            has_extra: login.has_extra,
        };
        if login.code_in == CodeIn::Body && matches!(login.method, Method::Get | Method::Head) {
            return Err(Error::config("login.codeIn", "a GET login cannot carry a body: use 'query' or 'header'"));
        }
        let check = match self.check {
            None => None,
            Some(check) => Some(CheckConfig {
                url: non_empty("check.url", check.url)?,
                method: method("check.method", &check.method)?,
                ok_when: match check.ok_when {
                    Some(raw) => Some(rule("check.okWhen", raw)?),
                    None => None,
                },
                policy: check.policy,
            }),
        };
        let invalid_when = self
            .invalid_when
            .into_iter()
            .enumerate()
            .map(|(i, raw)| rule(&format!("invalidWhen[{i}]"), raw))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Config {
            base_url,
            storage_key: non_empty("storageKey", self.storage_key)?,
            token_header: non_empty("tokenHeader", self.token_header)?,
            token_prefix: self.token_prefix,
            login,
            check,
            use_check_session: self.use_check_session,
            invalid_when,
            retries: self.retries,
            timeout_ms: self.timeout_ms,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key_of(value: serde_json::Value) -> String {
        match Config::from_json(value) {
            Err(Error::Config { key, .. }) => key,
            other => panic!("expected a CONFIG error, got {other:?}"),
        }
    }

    #[test]
    fn defaults_follow_the_contract() {
        let c = Config::from_json(json!({"baseUrl": "https://api.example.com/"})).unwrap();
        assert_eq!(c.base_url, "https://api.example.com");
        assert_eq!(c.storage_key, "token");
        assert_eq!(c.token_header, "token");
        assert_eq!(c.login.url, "/login");
        assert_eq!(c.login.method, Method::Post);
        assert_eq!(c.login.code_in, CodeIn::Body);
        assert_eq!(c.login.token_path.as_str(), "token");
        assert!(c.check.is_none());
        assert!(c.use_check_session);
        assert_eq!(c.invalid_when.len(), 1);
        assert_eq!(c.invalid_when[0].status, Some(401));
        assert_eq!((c.retries, c.timeout_ms), (2, 10_000));
    }

    #[test]
    fn bad_keys_are_named() {
        assert_eq!(key_of(json!({})), "config", "missing baseUrl is reported on the object");
        assert_eq!(key_of(json!({"baseUrl": "ftp://x"})), "baseUrl");
        assert_eq!(key_of(json!({"baseUrl": "https://x", "retrys": 3})), "retrys", "unknown keys are named");
        assert_eq!(key_of(json!({"baseUrl": "https://x", "login": {"tokenpath": "a"}})), "login.tokenpath");
        assert_eq!(key_of(json!({"baseUrl": "https://x", "retries": "3"})), "retries");
        assert_eq!(key_of(json!({"baseUrl": "https://x", "retries": 99})), "retries");
        assert_eq!(key_of(json!({"baseUrl": "https://x", "timeoutMs": 0})), "timeoutMs");
        assert_eq!(key_of(json!({"baseUrl": "https://x", "login": {"tokenPath": "a..b"}})), "login.tokenPath");
        assert_eq!(key_of(json!({"baseUrl": "https://x", "login": {"method": "FETCH"}})), "login.method");
        assert_eq!(key_of(json!({"baseUrl": "https://x", "login": {"codeIn": "cookie"}})), "login.codeIn");
        assert_eq!(key_of(json!({"baseUrl": "https://x", "login": {"method": "GET"}})), "login.codeIn");
        assert_eq!(key_of(json!({"baseUrl": "https://x", "check": {"policy": "sometimes"}})), "check.policy");
        assert_eq!(
            key_of(json!({"baseUrl": "https://x", "invalidWhen": [{"status": 401}, {"path": "code"}]})),
            "invalidWhen[1]"
        );
    }

    #[test]
    fn unknown_key_message_names_it() {
        let err = Config::from_json(json!({"baseUrl": "https://x", "retrys": 3})).unwrap_err();
        assert!(err.to_string().contains("retrys"), "{err}");
    }

    #[test]
    fn urls_join_base_and_pass_absolute() {
        let c = Config::from_json(json!({"baseUrl": "http://127.0.0.1:3000"})).unwrap();
        assert_eq!(c.url_for("/login"), "http://127.0.0.1:3000/login");
        assert_eq!(c.url_for("api/x"), "http://127.0.0.1:3000/api/x");
        assert_eq!(c.url_for("https://other/y"), "https://other/y");
    }

    #[test]
    fn methods_parse_any_case() {
        assert_eq!(Method::parse("post"), Some(Method::Post));
        assert_eq!(Method::parse("Get"), Some(Method::Get));
        assert_eq!(Method::parse("TRACE"), None);
        assert!(Method::Get.is_idempotent() && Method::Delete.is_idempotent());
        assert!(!Method::Post.is_idempotent());
    }
}
