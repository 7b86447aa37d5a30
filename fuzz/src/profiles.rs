//! The configs of the README's "Servers people already run" (the dev server's profiles), plus
//! two that stretch the limits, as plain data. Every base URL is `https://api.example.com`.

use wx_session::plain::Writer;
use wx_session::Config;

pub const BASE_URL: &str = "https://api.example.com";

/// `(name, plain data)` of each profile.
pub fn all() -> Vec<(&'static str, Vec<u8>)> {
    let mut profiles = Vec::new();
    let mut add = |name, write: fn(&mut Writer)| {
        let mut w = Writer::new();
        write(&mut w);
        profiles.push((name, w.into_bytes()));
    };
    // default: POST /login {code} → {token, expiresIn}; POST /auth → {errCode}
    add("default", |w| {
        w.object(3).key("baseUrl").string(BASE_URL);
        w.key("login").object(3).key("url").string("/login").key("tokenPath").string("token").key("expiresInPath").string("expiresIn");
        w.key("check").object(2).key("url").string("/auth").key("okWhen").object(2).key("path").string("errCode").key("equals").number(0.0);
    });
    // get-query-code: GET /user/login?code=… → {code: 200, msg, token}
    add("get-query-code", |w| {
        w.object(2).key("baseUrl").string(BASE_URL);
        w.key("login").object(5).key("url").string("/user/login").key("method").string("GET").key("codeIn").string("query");
        w.key("tokenPath").string("token").key("okWhen").object(2).key("path").string("code").key("equals").number(200.0);
    });
    // session-id: POST /api/fetch_code {code} → {session_id}, kept under its own storage key and
    // sent in an X-Session-Id header
    add("session-id", |w| {
        w.object(4).key("baseUrl").string(BASE_URL).key("storageKey").string("session_id").key("tokenHeader").string("X-Session-Id");
        w.key("login").object(2).key("url").string("/api/fetch_code").key("tokenPath").string("session_id");
    });
    // wafer2: GET /weapp/login with X-WX-Code → {code: 0, data: {skey}}; {code: -1} = invalid
    add("wafer2", |w| {
        w.object(4).key("baseUrl").string(BASE_URL).key("tokenHeader").string("X-WX-Skey");
        w.key("login").object(6).key("url").string("/weapp/login").key("method").string("GET").key("codeIn").string("header");
        w.key("codeKey").string("X-WX-Code").key("tokenPath").string("data.skey");
        w.key("okWhen").object(2).key("path").string("code").key("equals").number(0.0);
        w.key("invalidWhen").array(2).object(1).key("status").number(401.0);
        w.object(2).key("path").string("code").key("equals").number(-1.0);
    });
    // The SDK at its minimum: no wx.checkSession, check only when the expiry is unknown, no retries.
    add("when-unknown", |w| {
        w.object(5).key("baseUrl").string(BASE_URL).key("useCheckSession").bool(false).key("retries").number(0.0);
        w.key("check").object(2).key("policy").string("when-unknown").key("okWhen").object(2).key("path").string("errCode").key("equals").number(0.0);
        w.key("login").object(1).key("expiresInPath").string("expiresIn");
    });
    // Every limit at once: 10 retries, 1 ms deadlines, a header with a prefix, every rule form.
    add("limits", |w| {
        w.object(7).key("baseUrl").string("https://api.example.com/v1/").key("retries").number(10.0).key("timeoutMs").number(1.0);
        w.key("tokenHeader").string("Authorization").key("tokenPrefix").string("Bearer ");
        w.key("check").object(2).key("policy").string("never").key("method").string("get");
        w.key("invalidWhen").array(3);
        w.object(1).key("status").number(401.0);
        w.object(2).key("path").string("code").key("in").array(3).number(-1.0).string("EXPIRED").null();
        w.object(3).key("status").number(200.0).key("path").string("relogin").key("exists").bool(true);
    });
    profiles
}

/// How many profiles there are.
pub const COUNT: usize = 6;

thread_local! {
    /// Read once: the targets take one for nearly every input.
    static CONFIGS: Vec<Config> = all()
        .iter()
        .map(|(name, plain)| Config::from_plain(plain).unwrap_or_else(|e| panic!("profile {name}: {e}")))
        .collect();
}

/// Profile number `index`'s config, read (`None` past the end).
pub fn config(index: usize) -> Option<Config> {
    CONFIGS.with(|configs| {
        assert_eq!(configs.len(), COUNT);
        configs.get(index).cloned()
    })
}
