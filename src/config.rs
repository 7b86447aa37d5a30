//! The session config: deserialized straight into [`Config`] from the plain data the glue makes
//! of the app's config object ([`crate::plain`]), validated once.
//!
//! Each leaf type checks itself while it is read (a [`BaseUrl`] has a scheme and a host, a
//! [`HeaderName`] is a legal header name…); the few checks that span keys run after. Unknown keys
//! and wrong types are refused with an [`Error::Config`] that names the key
//! (`login.tokenPath`, `invalidWhen[1]`), so a typo fails at start-up instead of silently falling
//! back to a default. The JS-only keys (`wx`, `wasmPath`, `login.extra`) never reach the core.

use alloc::rc::Rc;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

use crate::error::Error;
use crate::plain::{self, ReadPlain, Reader};
use crate::rule::{Path, Rule};
use crate::text::join;

/// Upper bounds that keep a typo from turning into an hour of retries.
pub const MAX_RETRIES: u32 = 10;
pub const MAX_TIMEOUT_MS: u32 = 120_000;
/// The largest config accepted, in bytes of plain data.
pub const MAX_CONFIG_BYTES: usize = 64 * 1024;
/// `authWaitMs`: five minutes by default, a day at most.
pub const DEFAULT_AUTH_WAIT_MS: u32 = 300_000;
pub const MAX_AUTH_WAIT_MS: u32 = 86_400_000;
/// `refresh.aheadMs`: a minute by default, a day at most.
pub const DEFAULT_REFRESH_AHEAD_MS: u32 = 60_000;
pub const MAX_REFRESH_AHEAD_MS: u32 = 86_400_000;

/// A validated session config.
///
/// ```
/// use wx_session::plain::Writer;
/// let mut w = Writer::new();
/// w.object(2).key("baseUrl").string("https://api.example.com/")
///     .key("login").object(1).key("tokenPath").string("data.skey");
/// let config = wx_session::Config::from_plain(w.bytes()).unwrap();
/// assert_eq!(config.base_url.as_str(), "https://api.example.com");
/// assert_eq!(config.login.token_path.as_str(), "data.skey");
/// assert_eq!(config.retries.get(), 2);
/// ```
#[derive(Debug, Clone)]
pub struct Config {
    pub base_url: BaseUrl,
    pub storage_key: NonEmpty,
    pub token_header: HeaderName,
    pub token_prefix: HeaderText,
    pub login: LoginConfig,
    pub check: Option<CheckConfig>,
    pub use_check_session: bool,
    pub invalid_when: Vec<Rule>,
    pub retries: Retries,
    pub timeout_ms: TimeoutMs,
    /// Origins besides `baseUrl`'s that the token may be sent to.
    pub trusted_origins: Vec<TrustedOrigin>,
    /// How to swap a refresh token for a new access token (無感刷新), if the server has one.
    pub refresh: Option<RefreshConfig>,
    /// Business-code failures of 2xx API answers.
    pub api: ApiConfig,
    /// Rules on API answers meaning "the user must act" (a login page, a phone number).
    pub auth_required_when: Vec<Rule>,
    /// How long calls wait for that login before `AUTH_REQUIRED`.
    pub auth_wait_ms: u32,
}

impl Config {
    /// Every key of the config object.
    pub const KEYS: &'static [&'static str] = &[
        "baseUrl",
        "storageKey",
        "tokenHeader",
        "tokenPrefix",
        "login",
        "check",
        "useCheckSession",
        "invalidWhen",
        "retries",
        "timeoutMs",
        "trustedOrigins",
        "refresh",
        "api",
        "authRequiredWhen",
        "authWaitMs",
    ];
}

impl ReadPlain for Config {
    fn read(reader: &mut Reader) -> Result<Self, plain::Error> {
        let mut config = Config {
            base_url: BaseUrl(String::new()), // `baseUrl` is required: this never survives reading
            storage_key: NonEmpty("token".into()),
            token_header: HeaderName("token".into()),
            token_prefix: HeaderText::default(),
            login: LoginConfig::default(),
            check: None,
            use_check_session: true,
            invalid_when: vec![Rule::status(401)],
            retries: Retries::default(),
            timeout_ms: TimeoutMs::default(),
            trusted_origins: Vec::new(),
            refresh: None,
            api: ApiConfig::default(),
            auth_required_when: Vec::new(),
            auth_wait_ms: DEFAULT_AUTH_WAIT_MS,
        };
        reader.object(Config::KEYS, &["baseUrl"], &mut |key, r| {
            match key {
                "baseUrl" => config.base_url = BaseUrl::read(r)?,
                "storageKey" => config.storage_key = NonEmpty::read(r)?,
                "tokenHeader" => config.token_header = HeaderName::read(r)?,
                "tokenPrefix" => config.token_prefix = HeaderText::read(r)?,
                "login" => config.login = LoginConfig::read(r)?,
                "check" => config.check = Option::read(r)?,
                "useCheckSession" => config.use_check_session = r.bool()?,
                "invalidWhen" => config.invalid_when = Vec::read(r)?,
                "retries" => config.retries = Retries::read(r)?,
                "timeoutMs" => config.timeout_ms = TimeoutMs::read(r)?,
                "trustedOrigins" => config.trusted_origins = Vec::read(r)?,
                "refresh" => config.refresh = Option::read(r)?,
                "api" => config.api = ApiConfig::read(r)?,
                "authRequiredWhen" => config.auth_required_when = Vec::read(r)?,
                "authWaitMs" => config.auth_wait_ms = r.whole(1, MAX_AUTH_WAIT_MS)?,
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        Ok(config)
    }
}

/// How to log in: where the code goes and where the token comes back.
#[derive(Debug, Clone)]
pub struct LoginConfig {
    pub url: UrlPath,
    pub method: Method,
    pub code_in: CodeIn,
    pub code_key: NonEmpty,
    pub token_path: Path,
    pub expires_in_path: Option<Path>,
    pub ok_when: Option<Rule>,
    /// What to do when the platform's login gives only an anonymous code (Douyin, a user not
    /// logged in to the Douyin app).
    pub anonymous: Anonymous,
    /// The name an anonymous code goes under (where `codeIn` says), with `anonymous: 'send'`.
    pub anonymous_key: NonEmpty,
    /// Where the answer carries a refresh token; by default `refresh.refreshTokenPath` when
    /// `refresh` is set.
    pub refresh_token_path: Option<Path>,
}

impl LoginConfig {
    /// Every key of `login`.
    pub const KEYS: &'static [&'static str] =
        &["url", "method", "codeIn", "codeKey", "tokenPath", "expiresInPath", "okWhen", "anonymous", "anonymousKey", "refreshTokenPath"];
}

impl ReadPlain for LoginConfig {
    fn read(reader: &mut Reader) -> Result<Self, plain::Error> {
        let mut login = LoginConfig::default();
        reader.object(LoginConfig::KEYS, &[], &mut |key, r| {
            match key {
                "url" => login.url = UrlPath::read(r)?,
                "method" => login.method = Method::read(r)?,
                "codeIn" => login.code_in = CodeIn::read(r)?,
                "codeKey" => login.code_key = NonEmpty::read(r)?,
                "tokenPath" => login.token_path = Path::read(r)?,
                "expiresInPath" => login.expires_in_path = Option::read(r)?,
                "okWhen" => login.ok_when = Option::read(r)?,
                "anonymous" => login.anonymous = Anonymous::read(r)?,
                "anonymousKey" => login.anonymous_key = NonEmpty::read(r)?,
                "refreshTokenPath" => login.refresh_token_path = Option::read(r)?,
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        Ok(login)
    }
}

/// How to ask the server whether a stored token is still good.
#[derive(Debug, Clone)]
pub struct CheckConfig {
    pub url: UrlPath,
    pub method: Method,
    pub ok_when: Option<Rule>,
    pub policy: CheckPolicy,
}

impl CheckConfig {
    /// Every key of `check`.
    pub const KEYS: &'static [&'static str] = &["url", "method", "okWhen", "policy"];
}

impl ReadPlain for CheckConfig {
    fn read(reader: &mut Reader) -> Result<Self, plain::Error> {
        let mut check = CheckConfig::default();
        reader.object(CheckConfig::KEYS, &[], &mut |key, r| {
            match key {
                "url" => check.url = UrlPath::read(r)?,
                "method" => check.method = Method::read(r)?,
                "okWhen" => check.ok_when = Option::read(r)?,
                "policy" => check.policy = CheckPolicy::read(r)?,
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        Ok(check)
    }
}

/// How to swap the refresh token for a new access token (and, when the server rotates them, a
/// new refresh token).
#[derive(Debug, Clone)]
pub struct RefreshConfig {
    pub url: UrlPath,
    pub method: Method,
    /// Where the refresh token goes: a body field or a header, named `key`.
    pub token_in: TokenIn,
    pub key: NonEmpty,
    pub token_path: Path,
    pub refresh_token_path: Path,
    pub expires_in_path: Option<Path>,
    pub ok_when: Option<Rule>,
    /// Refresh this long before a known expiry (at most half the token's lifetime).
    pub ahead_ms: u32,
}

impl RefreshConfig {
    /// Every key of `refresh`.
    pub const KEYS: &'static [&'static str] = &["url", "method", "tokenIn", "key", "tokenPath", "refreshTokenPath", "expiresInPath", "okWhen", "aheadMs"];
}

impl ReadPlain for RefreshConfig {
    fn read(reader: &mut Reader) -> Result<Self, plain::Error> {
        let mut refresh = RefreshConfig {
            url: UrlPath("/refresh".into()),
            method: Method::Post,
            token_in: TokenIn::Body,
            key: NonEmpty("refreshToken".into()),
            token_path: Path::key("token"),
            refresh_token_path: Path::key("refreshToken"),
            expires_in_path: None,
            ok_when: None,
            ahead_ms: DEFAULT_REFRESH_AHEAD_MS,
        };
        reader.object(RefreshConfig::KEYS, &[], &mut |key, r| {
            match key {
                "url" => refresh.url = UrlPath::read(r)?,
                "method" => refresh.method = Method::read(r)?,
                "tokenIn" => refresh.token_in = TokenIn::read(r)?,
                "key" => refresh.key = NonEmpty::read(r)?,
                "tokenPath" => refresh.token_path = Path::read(r)?,
                "refreshTokenPath" => refresh.refresh_token_path = Path::read(r)?,
                "expiresInPath" => refresh.expires_in_path = Option::read(r)?,
                "okWhen" => refresh.ok_when = Option::read(r)?,
                "aheadMs" => refresh.ahead_ms = r.whole(0, MAX_REFRESH_AHEAD_MS)?,
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        Ok(refresh)
    }
}

/// Where the refresh token travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenIn {
    Body,
    Header,
}

impl ReadPlain for TokenIn {
    fn read(reader: &mut Reader) -> Result<Self, plain::Error> {
        checked(reader, |name| match name {
            "body" => Ok(TokenIn::Body),
            "header" => Ok(TokenIn::Header),
            _ => Err("one of 'body', 'header'"),
        })
    }
}

/// `api`: a 2xx answer matching one of `failWhen` rejects with `API_ERROR`, its message the
/// text at `messagePath`.
#[derive(Debug, Clone, Default)]
pub struct ApiConfig {
    pub fail_when: Vec<Rule>,
    pub message_path: Option<Path>,
}

impl ApiConfig {
    /// Every key of `api`.
    pub const KEYS: &'static [&'static str] = &["failWhen", "messagePath"];
}

impl ReadPlain for ApiConfig {
    fn read(reader: &mut Reader) -> Result<Self, plain::Error> {
        let mut api = ApiConfig::default();
        reader.object(ApiConfig::KEYS, &[], &mut |key, r| {
            match key {
                "failWhen" => api.fail_when = Vec::read(r)?,
                "messagePath" => api.message_path = Option::read(r)?,
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        Ok(api)
    }
}

impl Default for LoginConfig {
    fn default() -> Self {
        LoginConfig {
            url: UrlPath("/login".into()),
            method: Method::Post,
            code_in: CodeIn::Body,
            code_key: NonEmpty("code".into()),
            token_path: Path::key("token"),
            expires_in_path: None,
            ok_when: None,
            anonymous: Anonymous::Fail,
            anonymous_key: NonEmpty("anonymousCode".into()),
            refresh_token_path: None,
        }
    }
}

impl Default for CheckConfig {
    fn default() -> Self {
        CheckConfig { url: UrlPath("/auth".into()), method: Method::Post, ok_when: None, policy: CheckPolicy::Always }
    }
}

impl Config {
    /// Reads and validates a config from plain data (what the glue makes of the app's object).
    pub fn from_plain(bytes: &[u8]) -> Result<Config, Error> {
        if bytes.len() > MAX_CONFIG_BYTES {
            return Err(Error::config("config", "is larger than 64 KB"));
        }
        let mut config: Config = plain::read(bytes).map_err(|error| {
            let key = if error.key.is_empty() { "config".into() } else { error.key };
            Error::config(key, error.message)
        })?;
        if config.login.refresh_token_path.is_none() {
            config.login.refresh_token_path = config.refresh.as_ref().map(|refresh| refresh.refresh_token_path.clone());
        }
        // A refresh answer carries the lifetime where the login answer does, unless told.
        let login_expires_in = config.login.expires_in_path.clone();
        if let Some(refresh) = config.refresh.as_mut().filter(|refresh| refresh.expires_in_path.is_none()) {
            refresh.expires_in_path = login_expires_in;
        }
        config.check_across_keys()?;
        Ok(config)
    }

    /// Reads a config written as JSON (tests).
    #[cfg(any(test, feature = "testing"))]
    pub fn from_json(json: &str) -> Result<Config, Error> {
        let value: serde_json::Value = serde_json::from_str(json).expect("test JSON is valid");
        Config::from_plain(&crate::plain::json::to_plain(&value))
    }

    /// The checks that involve more than one key.
    fn check_across_keys(&self) -> Result<(), Error> {
        let login = &self.login;
        if login.code_in == CodeIn::Body && matches!(login.method, Method::Get | Method::Head) {
            return Err(Error::config("login.codeIn", "a GET login cannot carry a body: use 'query' or 'header'"));
        }
        for (key, name) in [("login.codeKey", &login.code_key), ("login.anonymousKey", &login.anonymous_key)] {
            if login.code_in == CodeIn::Header {
                HeaderName::new(&name.0).map_err(|reason| Error::config(key, reason))?;
            }
            if login.code_in == CodeIn::Body && name.0 == "__proto__" {
                return Err(Error::config(key, "`__proto__` cannot be a body field"));
            }
        }
        if self.target(&Rc::from(login.url.as_str())).is_none() {
            return Err(Error::config("login.url", "must be a path or an http(s) URL"));
        }
        if let Some(refresh) = &self.refresh {
            // The refresh token goes only where the token may go.
            match self.target(&Rc::from(refresh.url.as_str())) {
                None => return Err(Error::config("refresh.url", "must be a path or an http(s) URL")),
                Some(target) if !target.same_origin => {
                    return Err(Error::config("refresh.url", "the refresh carries the refresh token: use baseUrl's origin or one in trustedOrigins"));
                }
                Some(_) => {}
            }
            match refresh.token_in {
                TokenIn::Header => HeaderName::new(&refresh.key.0).map(drop).map_err(|reason| Error::config("refresh.key", reason))?,
                TokenIn::Body if refresh.key.0 == "__proto__" => return Err(Error::config("refresh.key", "`__proto__` cannot be a body field")),
                TokenIn::Body => {}
            }
            if refresh.token_in == TokenIn::Body && matches!(refresh.method, Method::Get | Method::Head) {
                return Err(Error::config("refresh.tokenIn", "a GET refresh cannot carry a body: use 'header'"));
            }
        }
        if let Some(check) = &self.check {
            // The check carries the stored token: only where the token may go.
            match self.target(&Rc::from(check.url.as_str())) {
                None => return Err(Error::config("check.url", "must be a path or an http(s) URL")),
                Some(target) if !target.same_origin => {
                    return Err(Error::config("check.url", "the check carries the token: use baseUrl's origin or one in trustedOrigins"));
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// Where a caller's URL goes: relative URLs join `baseUrl`; absolute ones pass through.
    /// `None` for text that is not a usable URL.
    pub fn target(&self, url: &Rc<str>) -> Option<Target> {
        let unusable = |c: char| c.is_control() || c.is_whitespace();
        let bad = if url.is_ascii() { url.bytes().any(|b| b <= b' ' || b == 0x7f) } else { url.chars().any(unusable) };
        if url.is_empty() || bad {
            return None;
        }
        if has_scheme(url) {
            // Absolute: only http(s), and the token only goes to baseUrl's origin and the
            // trusted ones.
            let origin = origin_of(url)?;
            let trusted = origin_of(&self.base_url.0).is_some_and(|base| base == origin) || self.trusted_origins.iter().any(|trusted| trusted.0 == origin);
            return Some(Target { given: Rc::clone(url), same_origin: trusted, joined: Joined::AsGiven });
        }
        let slash = !(url.starts_with('/') || url.starts_with('?'));
        let joined = if slash { Joined::BaseSlash } else { Joined::Base };
        Some(Target { given: Rc::clone(url), same_origin: true, joined })
    }

    /// The full URL of an endpoint the config names (`login.url`, `check.url`).
    pub fn endpoint(&self, url: &UrlPath) -> String {
        self.target(&Rc::from(url.as_str())).map_or_else(String::new, |target| target.full(self))
    }
}

/// Where a request goes: the caller's URL, how `baseUrl` goes in front of it, and whether it
/// goes to `baseUrl`'s origin (only then does the token travel with it). The full URL is made
/// only when needed: the glue makes it from strings it already has ([`Joined`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub given: Rc<str>,
    /// The token may go there: `baseUrl`'s origin, or one of `trustedOrigins`.
    pub same_origin: bool,
    pub joined: Joined,
}

impl Target {
    /// The full URL.
    pub fn full(&self, config: &Config) -> String {
        let base = match self.joined {
            Joined::AsGiven => "",
            Joined::Base | Joined::BaseSlash => config.base_url.as_str(),
        };
        let mut full = String::with_capacity(base.len() + 1 + self.given.len());
        full.push_str(base);
        if self.joined == Joined::BaseSlash {
            full.push('/');
        }
        full.push_str(&self.given);
        full
    }
}

/// How a target URL was made from the URL a caller gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Joined {
    /// The caller's URL as given (absolute).
    AsGiven,
    /// `baseUrl` + the caller's URL.
    Base,
    /// `baseUrl` + `/` + the caller's URL.
    BaseSlash,
}

/// `scheme://host[:port]`, lower-cased, default port dropped.
#[derive(Debug, Clone, PartialEq)]
pub struct Origin {
    secure: bool,
    authority: String,
}

fn origin_of(url: &str) -> Option<Origin> {
    let starts = |scheme: &str| url.as_bytes().get(..scheme.len()).is_some_and(|head| head.eq_ignore_ascii_case(scheme.as_bytes()));
    let (secure, rest) = if starts("https://") {
        (true, url.get(8..)?)
    } else if starts("http://") {
        (false, url.get(7..)?)
    } else {
        return None;
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = rest.get(..end)?.to_ascii_lowercase();
    let default_port = if secure { ":443" } else { ":80" };
    let authority = match authority.strip_suffix(default_port) {
        Some(without_port) => without_port.to_string(),
        None => authority,
    };
    (!authority.is_empty()).then_some(Origin { secure, authority })
}

/// `host[:port]` (lower-cased, as [`origin_of`] gives it): a host name or IPv4 address of
/// letters, digits, `-` and `.`, or an IPv6 address in brackets; a port of 1–65535. Nothing a
/// URL parser could read as another host (`evil.test\.api.test`).
fn valid_authority(authority: &str) -> bool {
    // (A byte search, not `rfind`: that brings in a memrchr of its own.)
    let (host, port) = match authority.bytes().rposition(|b| b == b':') {
        Some(at) if !authority.get(at..).unwrap_or_default().contains(']') => {
            (authority.get(..at).unwrap_or_default(), Some(authority.get(at + 1..).unwrap_or_default()))
        }
        _ => (authority, None),
    };
    let host_ok = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(v6) => !v6.is_empty() && v6.bytes().all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.'),
        None => !host.is_empty() && host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.'),
    };
    let port_ok = port.is_none_or(|p| {
        let digits = !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit());
        digits && (1..=65535).contains(&p.bytes().fold(0u32, |n, b| n * 10 + u32::from(b - b'0')))
    });
    host_ok && port_ok
}

/// Does `url` start with a scheme (`https:`, `ftp:`, `javascript:`)?
fn has_scheme(url: &str) -> bool {
    for (i, b) in url.bytes().enumerate() {
        if b == b':' {
            return i > 0;
        }
        if !(b.is_ascii_alphanumeric() || b"+-.".contains(&b)) {
            return false;
        }
    }
    false
}

/// Reads a string and checks it with `check`, which says what is wrong.
fn checked<T>(reader: &mut Reader, check: impl FnOnce(&str) -> Result<T, &'static str>) -> Result<T, plain::Error> {
    let text = reader.string()?;
    check(text).map_err(|why| reader.error(why))
}

/// `baseUrl`: `http://` or `https://` (any case), a host, an optional path; no query, fragment,
/// credentials, spaces or control characters. Kept without its trailing `/`.
#[derive(Debug, Clone, PartialEq)]
pub struct BaseUrl(String);

impl BaseUrl {
    pub fn new(text: &str) -> Result<BaseUrl, &'static str> {
        let origin = origin_of(text).ok_or("must start with https:// or http:// and name a host")?;
        if text.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err("must not contain spaces or control characters");
        }
        if text.bytes().any(|b| b == b'?' || b == b'#') {
            return Err("must not have a query or fragment: paths are appended to it");
        }
        if origin.authority.as_bytes().contains(&b'@') {
            return Err("must not carry credentials");
        }
        if !valid_authority(&origin.authority) {
            return Err("must name a host (letters, digits, - and .) and at most a port 1-65535");
        }
        let scheme_len = if origin.secure { 8 } else { 7 };
        let scheme = if origin.secure { "https://" } else { "http://" };
        let rest = text.get(scheme_len..).unwrap_or_default().trim_end_matches('/');
        Ok(BaseUrl(join(&[scheme, rest])))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl ReadPlain for BaseUrl {
    fn read(reader: &mut Reader) -> Result<Self, plain::Error> {
        checked(reader, BaseUrl::new)
    }
}

/// `trustedOrigins[i]`: an origin (`https://cdn.example.com`, any case, default port or not)
/// that may receive the token too. Just the origin: no path, query or credentials.
#[derive(Debug, Clone, PartialEq)]
pub struct TrustedOrigin(Origin);

impl ReadPlain for TrustedOrigin {
    fn read(reader: &mut Reader) -> Result<Self, plain::Error> {
        checked(reader, |text| {
            // A base URL (scheme, host, no query or credentials) whose path is empty.
            let url = BaseUrl::new(text).map_err(|_| "must be an origin like https://cdn.example.com")?;
            match origin_of(url.as_str()) {
                Some(origin) if url.as_str().matches('/').count() == 2 => Ok(TrustedOrigin(origin)),
                _ => Err("must be just an origin: scheme and host (and port), no path"),
            }
        })
    }
}

/// An endpoint: a path relative to `baseUrl` (`/login`) or an absolute URL.
#[derive(Debug, Clone, PartialEq)]
pub struct UrlPath(String);

impl UrlPath {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl ReadPlain for UrlPath {
    fn read(reader: &mut Reader) -> Result<Self, plain::Error> {
        checked(reader, |text| {
            if text.trim().is_empty() {
                Err("must not be empty")
            } else if text.chars().any(|c| c.is_control() || c.is_whitespace()) {
                Err("must not contain spaces or control characters")
            } else {
                Ok(UrlPath(text.into()))
            }
        })
    }
}

/// A non-empty string without control characters (storage keys, body fields).
#[derive(Debug, Clone, PartialEq)]
pub struct NonEmpty(String);

impl NonEmpty {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl ReadPlain for NonEmpty {
    fn read(reader: &mut Reader) -> Result<Self, plain::Error> {
        checked(reader, |text| {
            if text.trim().is_empty() {
                Err("must not be empty")
            } else if text.chars().any(char::is_control) {
                Err("must not contain control characters")
            } else {
                Ok(NonEmpty(text.into()))
            }
        })
    }
}

/// An HTTP header name (RFC 9110 token characters), e.g. `Authorization`, `X-WX-Skey`.
#[derive(Debug, Clone, PartialEq)]
pub struct HeaderName(String);

impl HeaderName {
    pub fn new(text: &str) -> Result<HeaderName, &'static str> {
        let is_token_char = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
        if text.is_empty() || !text.bytes().all(is_token_char) {
            Err("must be a header name: letters, digits and !#$%&'*+-.^_`|~")
        } else if text == "__proto__" {
            Err("`__proto__` cannot be a header name")
        } else {
            Ok(HeaderName(text.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl ReadPlain for HeaderName {
    fn read(reader: &mut Reader) -> Result<Self, plain::Error> {
        checked(reader, HeaderName::new)
    }
}

/// Text that goes into a header value as is (`tokenPrefix`, e.g. `Bearer `): visible ASCII and spaces.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HeaderText(String);

impl HeaderText {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl ReadPlain for HeaderText {
    fn read(reader: &mut Reader) -> Result<Self, plain::Error> {
        checked(reader, |text| {
            if crate::token::is_header_text(text) {
                Ok(HeaderText(text.into()))
            } else {
                Err("must be visible ASCII and spaces: it goes into a header")
            }
        })
    }
}

/// `retries`: how many times a transient failure is retried, 0 to [`MAX_RETRIES`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Retries(u32);

impl Retries {
    pub fn get(self) -> u32 {
        self.0
    }
}

impl Default for Retries {
    fn default() -> Self {
        Retries(2)
    }
}

impl ReadPlain for Retries {
    fn read(reader: &mut Reader) -> Result<Self, plain::Error> {
        reader.whole(0, MAX_RETRIES).map(Retries)
    }
}

/// A time limit in milliseconds, 1 to [`MAX_TIMEOUT_MS`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeoutMs(u32);

impl TimeoutMs {
    pub fn new(ms: u32) -> Option<TimeoutMs> {
        (1..=MAX_TIMEOUT_MS).contains(&ms).then_some(TimeoutMs(ms))
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

impl Default for TimeoutMs {
    fn default() -> Self {
        TimeoutMs(10_000)
    }
}

impl ReadPlain for TimeoutMs {
    fn read(reader: &mut Reader) -> Result<Self, plain::Error> {
        reader.whole(1, MAX_TIMEOUT_MS).map(TimeoutMs)
    }
}

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
    /// Every method, in the order of [`Method::index`].
    pub const ALL: [Method; 7] = [Method::Get, Method::Head, Method::Post, Method::Put, Method::Delete, Method::Options, Method::Patch];

    /// Parses a method name, any case (`'post'` is common in hand-written code).
    pub fn parse(name: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.as_str().eq_ignore_ascii_case(name))
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

    /// The method's position in [`Method::ALL`] (how it crosses the wasm boundary).
    pub fn index(self) -> u32 {
        self as u32
    }

    /// Safe to send twice: retried on network errors without the caller opting in.
    pub fn is_idempotent(self) -> bool {
        !matches!(self, Method::Post | Method::Patch)
    }
}

impl ReadPlain for Method {
    fn read(reader: &mut Reader) -> Result<Self, plain::Error> {
        checked(reader, |name| Method::parse(name).ok_or("one of GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH"))
    }
}

/// Where the login code travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeIn {
    Body,
    Query,
    Header,
}

impl ReadPlain for CodeIn {
    fn read(reader: &mut Reader) -> Result<Self, plain::Error> {
        checked(reader, |name| match name {
            "body" => Ok(CodeIn::Body),
            "query" => Ok(CodeIn::Query),
            "header" => Ok(CodeIn::Header),
            _ => Err("one of 'body', 'query', 'header'"),
        })
    }
}

/// What a login that gives only an anonymous code does (`login.anonymous`): Douyin's `tt.login`
/// answers an `anonymousCode` instead of a `code` when the user is not logged in to the Douyin app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anonymous {
    /// Fails with `WX_LOGIN_FAILED` (not retried: asking again gives the same answer).
    Fail,
    /// Sends the anonymous code under `login.anonymousKey`, for servers that take it.
    Send,
    /// Asks the platform to make the user log in (`tt.login({ force: true })`).
    Force,
}

impl ReadPlain for Anonymous {
    fn read(reader: &mut Reader) -> Result<Self, plain::Error> {
        checked(reader, |name| match name {
            "fail" => Ok(Anonymous::Fail),
            "send" => Ok(Anonymous::Send),
            "force" => Ok(Anonymous::Force),
            _ => Err("one of 'fail', 'send', 'force'"),
        })
    }
}

/// When a stored token is checked with the server's check endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckPolicy {
    /// Check on every launch.
    Always,
    /// Trust a token whose stored expiry says it is fresh, log in when it says expired, and
    /// check only when the expiry is unknown.
    WhenUnknown,
    /// Never check; the first "invalid session" answer triggers a re-login.
    Never,
}

impl ReadPlain for CheckPolicy {
    fn read(reader: &mut Reader) -> Result<Self, plain::Error> {
        checked(reader, |name| match name {
            "always" => Ok(CheckPolicy::Always),
            "when-unknown" => Ok(CheckPolicy::WhenUnknown),
            "never" => Ok(CheckPolicy::Never),
            _ => Err("one of 'always', 'when-unknown', 'never'"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<Config, Error> {
        Config::from_json(json)
    }

    fn key_of(json: &str) -> String {
        match parse(json) {
            Err(Error::Config { key, .. }) => key,
            other => panic!("expected a CONFIG error for {json}, got {other:?}"),
        }
    }

    #[test]
    fn defaults_follow_the_contract() {
        let c = parse(r#"{"baseUrl":"https://api.example.com/"}"#).unwrap();
        assert_eq!(c.base_url.as_str(), "https://api.example.com");
        assert_eq!(c.storage_key.as_str(), "token");
        assert_eq!(c.token_header.as_str(), "token");
        assert_eq!(c.token_prefix.as_str(), "");
        assert_eq!(c.login.url.as_str(), "/login");
        assert_eq!(c.login.method, Method::Post);
        assert_eq!(c.login.code_in, CodeIn::Body);
        assert_eq!(c.login.code_key.as_str(), "code");
        assert_eq!(c.login.token_path.as_str(), "token");
        assert!(c.check.is_none());
        assert!(c.use_check_session);
        assert_eq!(c.invalid_when, [Rule::status(401)]);
        assert_eq!((c.retries.get(), c.timeout_ms.get()), (2, 10_000));
        let check = parse(r#"{"baseUrl":"https://x","check":{}}"#).unwrap().check.unwrap();
        assert_eq!((check.url.as_str(), check.method, check.policy), ("/auth", Method::Post, CheckPolicy::Always));
    }

    #[test]
    fn bad_keys_are_named() {
        let cases = [
            (r#"{}"#, "baseUrl"),
            (r#"[]"#, "config"),
            (r#"{"baseUrl":"ftp://x"}"#, "baseUrl"),
            (r#"{"baseUrl":"https://x","retrys":3}"#, "retrys"),
            (r#"{"baseUrl":"https://x","login":{"tokenpath":"a"}}"#, "login.tokenpath"),
            (r#"{"baseUrl":"https://x","retries":"3"}"#, "retries"),
            (r#"{"baseUrl":"https://x","retries":99}"#, "retries"),
            (r#"{"baseUrl":"https://x","retries":1.5}"#, "retries"),
            (r#"{"baseUrl":"https://x","timeoutMs":0}"#, "timeoutMs"),
            (r#"{"baseUrl":"https://x","login":{"tokenPath":"a..b"}}"#, "login.tokenPath"),
            (r#"{"baseUrl":"https://x","login":{"tokenPath":7}}"#, "login.tokenPath"),
            (r#"{"baseUrl":"https://x","login":{"method":"FETCH"}}"#, "login.method"),
            (r#"{"baseUrl":"https://x","login":{"codeIn":"cookie"}}"#, "login.codeIn"),
            (r#"{"baseUrl":"https://x","login":{"method":"GET"}}"#, "login.codeIn"),
            (r#"{"baseUrl":"https://x","login":{"codeIn":"header","codeKey":"X WX Code"}}"#, "login.codeKey"),
            (r#"{"baseUrl":"https://x","check":{"policy":"sometimes"}}"#, "check.policy"),
            (r#"{"baseUrl":"https://x","check":{"okWhen":{"path":"a"}}}"#, "check.okWhen"),
            (r#"{"baseUrl":"https://x","invalidWhen":[{"status":401},{"path":"code"}]}"#, "invalidWhen[1]"),
            (r#"{"baseUrl":"https://x","invalidWhen":[{"status":401},{"path":"code","colour":1}]}"#, "invalidWhen[1].colour"),
            (r#"{"baseUrl":"https://x","invalidWhen":{"status":401}}"#, "invalidWhen"),
            (r#"{"baseUrl":"https://x","tokenHeader":"__proto__"}"#, "tokenHeader"),
            (r#"{"baseUrl":"https://x","tokenHeader":"Bad\r\nHeader"}"#, "tokenHeader"),
            (r#"{"baseUrl":"https://x","tokenPrefix":"Bearer\r\n"}"#, "tokenPrefix"),
            (r#"{"baseUrl":"https://x","storageKey":""}"#, "storageKey"),
            (r#"{"baseUrl":"https://x","wx":{}}"#, "wx"),
            (r#"{"baseUrl":"https://x","login":{"url":"javascript:x"}}"#, "login.url"),
            (r#"{"baseUrl":"https://x","check":{"url":"ftp://x/auth"}}"#, "check.url"),
            (r#"{"baseUrl":"https://x","trustedOrigins":["https://a.test","https://b.test/path"]}"#, "trustedOrigins[1]"),
            (r#"{"baseUrl":"https://x","trustedOrigins":["cdn.test"]}"#, "trustedOrigins[0]"),
            (r#"{"baseUrl":"https://x","trustedOrigins":"https://a.test"}"#, "trustedOrigins"),
            (r#"{"baseUrl":"https://x","check":{"url":"https://evil.test/auth"}}"#, "check.url"),
        ];
        for (json, key) in cases {
            assert_eq!(key_of(json), key, "{json}");
        }
    }

    #[test]
    fn error_messages_say_what_is_wrong() {
        let error = parse(r#"{"baseUrl":"https://x","retrys":3}"#).unwrap_err().to_string();
        assert!(error.contains("unknown key `retrys`, expected one of baseUrl"), "{error}");
        let error = parse(r#"{"baseUrl":"https://x","login":{"tokenPath":"a..b"}}"#).unwrap_err().to_string();
        assert!(error.contains("dot path"), "{error}");
        let error = parse(r#"{"baseUrl":"https://x","retries":"3"}"#).unwrap_err().to_string();
        assert!(error.contains("expected a number, got a string"), "{error}");
        assert_eq!(key_of(&format!(r#"{{"baseUrl":"https://x","tokenPrefix":"{}"}}"#, "x".repeat(MAX_CONFIG_BYTES))), "config");
    }

    #[test]
    fn base_url_is_an_origin_with_an_optional_path() {
        for (text, kept) in
            [("https://api.test", "https://api.test"), ("HTTPS://API.TEST/", "https://API.TEST"), ("http://127.0.0.1:3000/v1/", "http://127.0.0.1:3000/v1")]
        {
            assert_eq!(BaseUrl::new(text).map(|b| b.0), Ok(kept.to_string()), "{text}");
        }
        assert_eq!(BaseUrl::new("https://[::1]:8443").map(|b| b.0), Ok("https://[::1]:8443".to_string()));
        // Not a host a URL parser agrees on: no host, bad ports, a backslash, non-ASCII (use
        // the punycode form, as the domain list does).
        let unclear = [
            "https://:80",
            "https://api.test:99999",
            "https://api.test:0",
            "https://api.test:abc",
            "https://evil.test\\.api.test",
            "http://é.test",
            "https://[zz]",
        ];
        for bad in [
            "https://api.test?v=1",
            "https://api.test/#frag",
            "https://api .test",
            "https://api.test\r\n",
            "https://",
            "ftp://x",
            "api.test",
            "https://user:pw@api.test",
        ]
        .into_iter()
        .chain(unclear)
        {
            assert!(BaseUrl::new(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn targets_join_base_and_only_its_origin_carries_the_token() {
        let c = parse(r#"{"baseUrl":"http://127.0.0.1:3000"}"#).unwrap();
        let target = |url: &str| c.target(&Rc::from(url)).map(|t| (t.full(&c), t.same_origin));
        assert_eq!(target("/login"), Some(("http://127.0.0.1:3000/login".into(), true)));
        assert_eq!(target("api/x?q=1"), Some(("http://127.0.0.1:3000/api/x?q=1".into(), true)));
        assert_eq!(target("HTTP://127.0.0.1:3000/y"), Some(("HTTP://127.0.0.1:3000/y".into(), true)));
        assert_eq!(target("https://other.test/y"), Some(("https://other.test/y".into(), false)));
        assert_eq!(target("http://127.0.0.1:3001/y").map(|t| t.1), Some(false), "another port is another origin");
        for bad in ["", "/a b", "/a\r\nb", "javascript:alert(1)", "ftp://x/y"] {
            assert_eq!(c.target(&Rc::from(bad)), None, "{bad:?}");
        }
        let https = parse(r#"{"baseUrl":"https://api.test"}"#).unwrap();
        assert!(https.target(&Rc::from("https://api.test:443/x")).unwrap().same_origin, "default port");
        let trusting = parse(r#"{"baseUrl":"https://api.test","trustedOrigins":["https://CDN.test","http://files.test:8080/"]}"#).unwrap();
        let goes = |url: &str| trusting.target(&Rc::from(url)).unwrap().same_origin;
        assert!(goes("https://cdn.test/a") && goes("http://files.test:8080/x"));
        assert!(!goes("http://cdn.test/a") && !goes("https://files.test:8080/x") && !goes("https://cdn.test.evil/a"));
    }

    #[test]
    fn methods_parse_any_case() {
        assert_eq!(Method::parse("post"), Some(Method::Post));
        assert_eq!(Method::parse("Get"), Some(Method::Get));
        assert_eq!(Method::parse("TRACE"), None);
        assert!(Method::Get.is_idempotent() && Method::Delete.is_idempotent());
        assert!(!Method::Post.is_idempotent());
        for (i, m) in Method::ALL.iter().enumerate() {
            assert_eq!(m.index() as usize, i);
        }
    }

    #[test]
    fn null_means_not_set_for_optional_keys() {
        let c = parse(r#"{"baseUrl":"https://x","check":null,"login":{"expiresInPath":null,"okWhen":null}}"#).unwrap();
        assert!(c.check.is_none() && c.login.expires_in_path.is_none() && c.login.ok_when.is_none());
    }
}
