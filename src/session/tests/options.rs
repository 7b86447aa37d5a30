//! Protocol options, check policies and storage shapes: where the code travels, how expiry is
//! read and used, legacy and corrupt stored values, `login.extra`.

use super::*;

/// Stores a record for `token` obtained an hour ago, expiring `expires_in_ms` from now.
fn store_with_expiry(h: &mut Harness, token: &str, expires_in_ms: Option<i64>) {
    h.world.valid_tokens.insert(token.to_owned());
    let expires_at = expires_in_ms.map(|ms| h.now().saturating_add_signed(ms));
    let record = json!({ "v": 1, "token": token, "expiresAt": expires_at, "obtainedAt": h.now() - 3_600_000 });
    h.world.storage.insert("token".into(), record);
}

fn policy(name: &str) -> Value {
    json!({ "check": { "url": "/auth", "okWhen": { "path": "errCode", "equals": 0 }, "policy": name } })
}

#[test]
fn when_unknown_trusts_a_known_fresh_token_without_any_network() {
    let mut config = policy("when-unknown");
    config["useCheckSession"] = json!(true);
    let mut h = Harness::new(World::default(), config);
    store_with_expiry(&mut h, "fresh", Some(3_600_000));
    let call = h.ensure();
    assert_eq!(h.run(call).ready(), ("fresh".into(), Source::Storage));
    assert!(h.world.sent.is_empty(), "no request at all");
    assert!(h.ops(|a| matches!(a, Action::CheckSession { .. })).is_empty(), "not even wx.checkSession");
    assert_eq!(h.world.login_calls, 0);
}

#[test]
fn a_known_expired_token_goes_straight_to_login() {
    for name in ["when-unknown", "always", "never"] {
        let mut h = Harness::new(World::default(), policy(name));
        store_with_expiry(&mut h, "stale", Some(-1));
        let call = h.ensure();
        assert_eq!(h.run(call).ready().1, Source::Login, "{name}");
        assert!(h.world.sent_to("/auth").is_empty(), "{name}: no check of a token known to be expired");
    }
}

#[test]
fn a_token_expiring_within_the_margin_is_refreshed() {
    let mut h = Harness::new(World::default(), policy("when-unknown"));
    store_with_expiry(&mut h, "almost", Some(30_000)); // 30 s left of a long lifetime
    let call = h.ensure();
    assert_eq!(h.run(call).ready().1, Source::Login);
}

#[test]
fn each_policy_checks_when_it_should() {
    let cases = [("always", Some(3_600_000), 1), ("always", None, 1), ("when-unknown", None, 1), ("never", None, 0)];
    for (name, expiry, checks) in cases {
        let mut h = Harness::new(World::default(), policy(name));
        store_with_expiry(&mut h, "t", expiry);
        let call = h.ensure();
        assert_eq!(h.run(call).ready().1, Source::Storage, "{name}");
        assert_eq!(h.world.sent_to("/auth").len(), checks, "{name} with expiry {expiry:?}");
    }
}

#[test]
fn expiry_from_the_login_answer_is_stored_and_used_by_the_clock() {
    let mut world = World::default();
    world.serve(|w, sent| match sent.path() {
        "/login" => match w.backend(sent) {
            Response::Answer(200, mut body) => {
                body["expiresIn"] = json!("120"); // some servers send a numeric string
                Response::Answer(200, body)
            }
            other => other,
        },
        _ => w.backend(sent),
    });
    let mut h = Harness::new(world, json!({ "login": { "expiresInPath": "expiresIn" } }));
    let call = h.ensure();
    h.run(call).ready();
    let stored = h.world.stored().unwrap();
    assert_eq!(stored["expiresAt"].as_f64().unwrap() - stored["obtainedAt"].as_f64().unwrap(), 120_000.0);

    // Relaunch two minutes later with `when-unknown`: known expired → straight to login.
    let mut h = h.relaunch(json!({ "login": { "expiresInPath": "expiresIn" }, "check": { "policy": "when-unknown" } }));
    h.driver.now += 120_000;
    let call = h.ensure();
    assert_eq!(h.run(call).ready().1, Source::Login);
    assert!(h.world.sent_to("/auth").is_empty());
}

#[test]
fn a_malformed_expiry_is_a_bad_response() {
    let mut world = World::default();
    world.serve(|_, _| Response::Answer(200, json!({ "token": "t", "expiresIn": "soon" })));
    let mut h = Harness::new(world, json!({ "login": { "expiresInPath": "expiresIn" } }));
    let call = h.ensure();
    assert_eq!(h.run(call).code(), "BAD_RESPONSE");
    assert_eq!(h.world.stored(), None);
}

#[test]
fn a_legacy_plain_string_token_keeps_the_user_logged_in_and_is_migrated() {
    let mut world = World::default();
    world.valid_tokens.insert("hand-rolled".into());
    world.storage.insert("token".into(), json!("hand-rolled"));
    let mut h = Harness::new(world, check_always());
    let call = h.ensure();
    assert_eq!(h.run(call).ready(), ("hand-rolled".into(), Source::Storage));
    assert_eq!(h.world.login_calls, 0);
    let stored = h.world.stored().unwrap();
    assert_eq!((stored["v"].clone(), stored["token"].clone()), (json!(1), json!("hand-rolled")), "rewritten as a record");
}

#[test]
fn corrupt_storage_counts_as_no_token_and_is_replaced_only_by_a_successful_login() {
    for corrupt in [json!(42), json!({ "user": 1 }), json!("{\"v\":1,"), json!([1])] {
        let mut world = World::default();
        world.storage.insert("token".into(), corrupt.clone());
        world.serve(|_, _| Response::Answer(400, json!({ "errcode": 40029 })));
        let mut h = Harness::new(world, json!({}));
        let call = h.ensure();
        assert_eq!(h.run(call).code(), "SERVER_REJECTED");
        assert_eq!(h.world.stored(), Some(corrupt.clone()), "left alone after a failed login");
        h.world.serve(|w, sent| w.backend(sent));
        let call = h.ensure();
        assert_eq!(h.run(call).ready().1, Source::Login);
        assert_eq!(h.world.stored_token().as_deref(), Some("tok-1"), "{corrupt}");
    }
}

#[test]
fn storage_that_cannot_be_read_is_reported_and_the_flow_logs_in() {
    let mut world = World::default();
    world.storage_unreadable = true;
    let mut h = Harness::new(world, json!({}));
    let call = h.ensure();
    assert_eq!(h.run(call).ready().1, Source::Login);
    assert!(h.world.states.contains(&(State::Checking, Some("STORAGE"))));
}

#[test]
fn the_code_travels_where_configured() {
    // wafer2-style: GET with the code in a header, token at data.skey, code 0 means OK.
    let mut world = World::default();
    world.serve(|w, sent| match sent.path() {
        "/weapp/login" => {
            assert_eq!(sent.method, "GET");
            assert_eq!(sent.body, None, "a GET login carries no body");
            match w.redeem(sent.header("X-WX-Code").unwrap_or("")) {
                Response::Answer(200, body) => Response::Answer(200, json!({ "code": 0, "data": { "skey": body["token"] } })),
                _ => Response::Answer(200, json!({ "code": -1, "error": "ERR_LOGIN_FAILED" })),
            }
        }
        _ => w.backend(sent),
    });
    let config = json!({ "login": { "url": "/weapp/login", "method": "GET", "codeIn": "header", "codeKey": "X-WX-Code",
        "tokenPath": "data.skey", "okWhen": { "path": "code", "equals": 0 } } });
    let mut h = Harness::new(world, config);
    let call = h.ensure();
    assert_eq!(h.run(call).ready().0, "tok-1");

    // A GET login with the code in the query: GET /user/login?code=…, answer {code: 200, msg, token}.
    let mut world = World::default();
    world.serve(|w, sent| {
        let code = sent.url.split("code=").nth(1).unwrap_or("");
        match w.redeem(code) {
            Response::Answer(200, body) => Response::Answer(200, json!({ "code": 200, "msg": "登录成功", "token": body["token"] })),
            _ => Response::Answer(200, json!({ "code": 500, "msg": "登录失败" })),
        }
    });
    let config = json!({ "login": { "url": "/user/login?from=app", "method": "GET", "codeIn": "query", "okWhen": { "path": "code", "equals": 200 } } });
    let mut h = Harness::new(world, config);
    let call = h.ensure();
    assert_eq!(h.run(call).ready().0, "tok-1");
    assert!(h.world.sent[0].url.ends_with("/user/login?from=app&code=code-1"), "{}", h.world.sent[0].url);
}

#[test]
fn a_business_code_that_says_no_is_server_rejected() {
    let mut world = World::default();
    world.serve(|_, _| Response::Answer(200, json!({ "code": 500, "msg": "登录失败", "token": "ignored" })));
    let mut h = Harness::new(world, json!({ "login": { "okWhen": { "path": "code", "equals": 200 } } }));
    let call = h.ensure();
    assert_eq!(h.run(call).error(), Error::ServerRejected { endpoint: "login", status: 200 });
    assert_eq!(h.world.stored(), None);
}

#[test]
fn login_extra_is_merged_and_its_failure_is_typed() {
    // `login.extra` is a JS function the glue calls, so only "there is one" reaches the
    // machine (`Session::with_login_extra`).
    let mut h = Harness::with_login_extra(World::default(), json!({}));
    let call = h.ensure();
    h.run(call).ready();
    assert_eq!(h.world.sent_to("/login")[0].body, Some(json!({ "iv": "iv-1", "encryptedData": "enc", "code": "code-1" })));

    let mut world = World::default();
    world.extra = Some(Err("getUserProfile:fail auth deny".into()));
    let mut h = Harness::with_login_extra(world, json!({}));
    let call = h.ensure();
    assert_eq!(h.run(call).code(), "LOGIN_EXTRA_FAILED");
    assert!(h.world.sent_to("/login").is_empty(), "nothing sent when the user refused");

    let mut world = World::default();
    world.extra = Some(Ok(json!("not an object")));
    let mut h = Harness::with_login_extra(world, json!({}));
    let call = h.ensure();
    assert_eq!(h.run(call).code(), "LOGIN_EXTRA_FAILED");
}

#[test]
fn an_invalid_session_in_a_200_body_triggers_the_relogin() {
    // wafer2: HTTP 200 {code: -1} means the skey is invalid.
    let mut world = with_record("old");
    world.valid_tokens.clear();
    world.serve(|w, sent| match sent.path() {
        "/api/profile" => {
            let ok = sent.header("X-WX-Skey").is_some_and(|t| w.valid_tokens.contains(t));
            Response::Answer(200, if ok { json!({ "code": 0, "data": {} }) } else { json!({ "code": -1, "error": "ERR_SKEY_INVALID" }) })
        }
        _ => w.backend(sent),
    });
    let mut h = Harness::new(world, json!({ "tokenHeader": "X-WX-Skey", "invalidWhen": [{ "path": "code", "equals": -1 }] }));
    let call = h.get("/api/profile");
    assert_eq!(h.run(call).answer().1["code"], json!(0));
    assert_eq!(h.world.login_calls, 1);
}
