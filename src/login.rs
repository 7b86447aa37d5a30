//! The login exchange as pure functions: the request a `wx.login` code turns into, and what is
//! taken from the answer (the token and its lifetime; nothing else).

use alloc::string::{String, ToString};

use crate::answer::AnswerView;
use crate::config::{CodeIn, Config, Method, RefreshConfig};
use crate::error::Error;
use crate::rule::{Field, Path, Rule, Scalar};
use crate::text::join;
use crate::token::{StoredToken, Token};
use crate::Millis;

/// The longest `wx.login` code accepted (WeChat's are 32 characters).
pub const MAX_CODE_BYTES: usize = 256;

/// The login request, ready to send.
#[derive(Debug, Clone, PartialEq)]
pub struct LoginRequest {
    pub url: String,
    pub method: Method,
    /// The code as a header (`codeIn: 'header'`).
    pub header: Option<(String, String)>,
    /// The code as a body field (`codeIn: 'body'`); the glue merges `login.extra`'s object.
    pub body: Option<(String, String)>,
}

/// Checks a `wx.login` code: a usable one is non-empty, short, without control characters.
pub fn check_code(code: &str) -> Result<(), Error> {
    let problem = if code.is_empty() {
        "wx.login succeeded without a code"
    } else if code.len() > MAX_CODE_BYTES || !crate::token::is_header_text(code) {
        "wx.login gave a code that cannot be sent"
    } else {
        return Ok(());
    };
    Err(Error::WxLoginFailed { err_msg: problem.to_string() })
}

/// Where the code goes, per `login.codeIn`.
///
/// ```
/// let mut plain = wx_session::plain::Writer::new();
/// plain.object(2).key("baseUrl").string("https://api.test")
///     .key("login").object(3).key("url").string("/user/login").key("method").string("GET").key("codeIn").string("query");
/// let config = wx_session::Config::from_plain(plain.bytes()).unwrap();
/// let request = wx_session::login::request(&config, "0a1B+c", false);
/// assert_eq!(request.url, "https://api.test/user/login?code=0a1B%2Bc");
/// ```
pub fn request(config: &Config, code: &str, anonymous: bool) -> LoginRequest {
    let login = &config.login;
    // `Config::from_json` made sure the login URL has a target.
    let mut url = config.endpoint(&login.url);
    let key = if anonymous { &login.anonymous_key } else { &login.code_key };
    let field = || Some((key.as_str().to_string(), code.to_string()));
    let (mut header, mut body) = (None, None);
    match login.code_in {
        CodeIn::Body => body = field(),
        CodeIn::Header => header = field(),
        CodeIn::Query => {
            let separator = if url.as_bytes().contains(&b'?') { "&" } else { "?" };
            url = join(&[&url, separator, &encode_query(key.as_str()), "=", &encode_query(code)]);
        }
    }
    LoginRequest { url, method: login.method, header, body }
}

/// Takes only the token, its lifetime and the refresh token from a login answer;
/// `session_key`, `openid` and anything else the server sent are never looked at.
pub fn read_answer(config: &Config, answer: &AnswerView, now: Millis) -> Result<StoredToken, Error> {
    let login = &config.login;
    let paths = TokenPaths {
        endpoint: "login",
        ok_when: login.ok_when.as_ref(),
        token: &login.token_path,
        expires_in: login.expires_in_path.as_ref(),
        refresh_token: login.refresh_token_path.as_ref(),
    };
    read_token_answer(&paths, answer, now)
}

/// Takes the new token (and refresh token, lifetime) from a refresh answer (`refresh` is set
/// when a refresh was sent).
pub fn read_refresh_answer(refresh: &RefreshConfig, answer: &AnswerView, now: Millis) -> Result<StoredToken, Error> {
    let paths = TokenPaths {
        endpoint: "refresh",
        ok_when: refresh.ok_when.as_ref(),
        token: &refresh.token_path,
        expires_in: refresh.expires_in_path.as_ref(),
        refresh_token: Some(&refresh.refresh_token_path),
    };
    read_token_answer(&paths, answer, now)
}

/// Where an answer that hands out a token carries what.
struct TokenPaths<'a> {
    endpoint: &'static str,
    ok_when: Option<&'a Rule>,
    token: &'a Path,
    expires_in: Option<&'a Path>,
    refresh_token: Option<&'a Path>,
}

fn read_token_answer(paths: &TokenPaths, answer: &AnswerView, now: Millis) -> Result<StoredToken, Error> {
    let endpoint = paths.endpoint;
    let status = answer.status();
    let ok = match paths.ok_when {
        Some(rule) => status < 500 && answer.matches(rule),
        None => (200..300).contains(&status),
    };
    if !ok {
        return Err(Error::ServerRejected { endpoint, status });
    }
    let bad = |what: &str, path: &str| Error::BadResponse { endpoint, reason: join(&["`", path, "` ", what]) };
    let token_path = paths.token.as_str();
    let token = match answer.field(paths.token) {
        Field::Scalar(Scalar::Text(text)) => Token::new(text).map_err(|why| bad(why, token_path))?,
        Field::Absent => return Err(bad("is missing", token_path)),
        _ => return Err(bad("is not a string", token_path)),
    };
    let expires_at = match paths.expires_in {
        None => None,
        Some(path) => match answer.field(path) {
            Field::Absent | Field::Scalar(Scalar::Null) => None,
            field => {
                let seconds = seconds_of(field).ok_or_else(|| bad("is not a number of seconds", path.as_str()))?;
                Some(now.saturating_add(seconds.saturating_mul(1000)).min(crate::MAX_MILLIS))
            }
        },
    };
    // A refresh token that could not go in a header or a body as is counts as none.
    let refresh_token = paths.refresh_token.and_then(|path| answer.field(path).as_text()).and_then(|text| Token::new(text).ok());
    Ok(StoredToken { token, expires_at, obtained_at: Some(now), refresh_token })
}

/// `expiresIn` as whole seconds: a positive number, or a string of digits. Lifetimes past
/// [`crate::MAX_MILLIS`] (servers send `Long.MAX_VALUE` or `1e20` for "never") are that long.
fn seconds_of(field: &Field) -> Option<Millis> {
    let seconds = match field {
        Field::Scalar(Scalar::Number(n)) if n.is_finite() && *n >= 1.0 => crate::millis_from(*n),
        Field::Scalar(Scalar::Text(text)) => {
            let digits = text.trim();
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            digits.parse::<Millis>().unwrap_or(Millis::MAX)
        }
        _ => return None,
    };
    (seconds > 0).then_some(seconds)
}

/// Percent-encodes a query component (RFC 3986 unreserved characters pass).
fn encode_query(text: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 15)]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answer::{Answer, ReadPaths, ReadSet};

    fn config(login: &str) -> Config {
        Config::from_json(&format!(r#"{{"baseUrl":"https://api.test","login":{login}}}"#)).unwrap()
    }

    fn read(config: &Config, status: u16, fields: Vec<Field>) -> Result<StoredToken, Error> {
        let paths = ReadPaths::new(config);
        let answer = Answer { status, fields };
        read_answer(config, &paths.view(ReadSet::Login, &answer), 1_000)
    }

    fn text(s: &str) -> Field {
        Field::Scalar(Scalar::Text(s.into()))
    }
    fn number(n: f64) -> Field {
        Field::Scalar(Scalar::Number(n))
    }

    #[test]
    fn the_code_travels_where_configured() {
        let body = request(&config("{}"), "c1", false);
        assert_eq!(
            (body.url.as_str(), body.method, body.body, body.header),
            ("https://api.test/login", Method::Post, Some(("code".into(), "c1".into())), None)
        );
        let header = request(&config(r#"{"url":"/weapp/login","method":"GET","codeIn":"header","codeKey":"X-WX-Code"}"#), "c2", false);
        assert_eq!((header.header, header.body), (Some(("X-WX-Code".into(), "c2".into())), None));
        let query = request(&config(r#"{"url":"/l?app=1","codeIn":"query","codeKey":"js code"}"#), "a/b", false);
        assert_eq!(query.url, "https://api.test/l?app=1&js%20code=a%2Fb");
    }

    #[test]
    fn codes_that_cannot_be_sent_are_refused() {
        assert!(check_code("061Abc").is_ok());
        for bad in [String::new(), "a\r\nX-Evil: 1".into(), "x".repeat(MAX_CODE_BYTES + 1)] {
            assert_eq!(check_code(&bad).map_err(|e| e.code()), Err("WX_LOGIN_FAILED"), "{bad:?}");
        }
    }

    #[test]
    fn the_answer_gives_the_token_and_its_lifetime() {
        let c = config(r#"{"expiresInPath":"expiresIn"}"#);
        let stored = read(&c, 200, vec![text("tok"), number(7200.0)]).unwrap();
        assert_eq!((stored.token.as_str(), stored.expires_at, stored.obtained_at), ("tok", Some(1_000 + 7_200_000), Some(1_000)));
        assert_eq!(read(&c, 200, vec![text("tok"), text(" 60 ")]).unwrap().expires_at, Some(61_000));
        assert_eq!(read(&c, 200, vec![text("tok"), Field::Absent]).unwrap().expires_at, None);
        for bad in [text("soon"), number(-5.0), number(f64::INFINITY), Field::Other] {
            assert_eq!(read(&c, 200, vec![text("tok"), bad.clone()]).map_err(|e| e.code()), Err("BAD_RESPONSE"), "{bad:?}");
        }
    }

    #[test]
    fn a_bad_token_field_is_a_bad_response() {
        let c = config("{}");
        for bad in [Field::Absent, number(7.0), text(""), text("a\r\nb"), Field::Other] {
            let error = read(&c, 200, vec![bad.clone()]).unwrap_err();
            assert_eq!(error.code(), "BAD_RESPONSE", "{bad:?}");
            assert!(error.to_string().contains("`token`"), "{error}");
        }
    }

    #[test]
    fn status_and_ok_when_decide_acceptance() {
        let plain = config("{}");
        assert_eq!(read(&plain, 400, vec![text("t")]).unwrap_err(), Error::ServerRejected { endpoint: "login", status: 400 });
        assert_eq!(read(&plain, 503, vec![text("t")]).unwrap_err().code(), "SERVER_REJECTED");
        let business = config(r#"{"okWhen":{"path":"code","equals":0},"tokenPath":"data.skey"}"#);
        assert!(read(&business, 200, vec![number(0.0), text("k")]).is_ok());
        assert_eq!(read(&business, 200, vec![number(-1.0), text("k")]).unwrap_err().code(), "SERVER_REJECTED");
        assert_eq!(read(&business, 500, vec![number(0.0), text("k")]).unwrap_err().code(), "SERVER_REJECTED", "5xx never counts as OK");
    }
}
