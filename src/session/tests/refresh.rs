//! Access + refresh token pairs (无感刷新): one refresh shared by every caller instead of a
//! `wx.login`, a login when the server refuses the refresh token, rotation, a refresh ahead of a
//! known expiry, a relaunch over an expired token, late answers for the old token, logout and
//! `setToken` pairs.

use super::*;

/// A config with a refresh endpoint (the defaults: body field `refreshToken`, `token` and
/// `refreshToken` in the answer), plus `extra`'s keys.
fn refresh_config(extra: Value) -> Value {
    let mut config = json!({ "refresh": { "url": "/refresh" } });
    if let (Value::Object(config), Value::Object(extra)) = (&mut config, extra) {
        config.extend(extra);
    }
    config
}

/// A backend handing out refresh tokens with its tokens.
fn pairs() -> World {
    let mut world = World::default();
    world.refresh_tokens = true;
    world
}

/// Logged in through `wx.login`: tok-1 with ref-1.
fn logged_in(world: World, config: Value) -> Harness {
    let mut h = Harness::new(world, refresh_config(config));
    let call = h.ensure();
    assert_eq!(h.run(call).ready().0, "tok-1");
    h.run_until_idle();
    assert_eq!(h.world.stored().and_then(|r| r.get("refreshToken").cloned()), Some(json!("ref-1")), "the pair is stored");
    h
}

/// The refresh tokens the refresh requests carried, in order.
fn refreshes(h: &Harness) -> Vec<String> {
    h.world.sent_to("/refresh").iter().filter_map(|s| s.body.as_ref()?.get("refreshToken")?.as_str().map(str::to_owned)).collect()
}

#[test]
fn twenty_calls_after_the_access_token_expired_share_one_refresh_and_no_login() {
    let mut h = logged_in(pairs(), json!({}));
    h.world.valid_tokens.clear(); // the access token expired on the server
    let calls: Vec<CallId> = (0..20).map(|_| h.get("/api/profile")).collect();
    let outcomes = h.run_all(&calls);
    assert!(outcomes.iter().all(is_ok_answer), "{outcomes:?}");
    assert_eq!(refreshes(&h), ["ref-1"], "one refresh for all twenty");
    assert_eq!(h.world.login_calls, 1, "no wx.login besides the launch's");
    let api: Vec<_> = h.world.sent_to("/api/profile").into_iter().filter_map(|s| s.header("token").map(str::to_owned)).collect();
    assert_eq!(api.iter().filter(|t| *t == "tok-2").count(), 20, "each retried once with the new token: {api:?}");
    assert_eq!(h.world.stored_token().as_deref(), Some("tok-2"));
}

#[test]
fn a_refused_refresh_token_falls_back_to_one_login_and_is_never_sent_again() {
    let mut h = logged_in(pairs(), json!({}));
    h.world.valid_tokens.clear();
    h.world.valid_refresh.clear(); // the server refuses the refresh token too
    let calls: Vec<CallId> = (0..20).map(|_| h.get("/api/profile")).collect();
    let outcomes = h.run_all(&calls);
    assert!(outcomes.iter().all(is_ok_answer), "{outcomes:?}");
    assert_eq!(refreshes(&h), ["ref-1"]);
    assert_eq!(h.world.login_calls, 2, "one shared wx.login after the refused refresh");
    assert_eq!(h.world.sent_to("/login").len(), 2);
    // The login's pair replaces it; ref-1 never goes out again.
    h.world.valid_tokens.clear();
    let again = h.get("/api/profile");
    assert!(is_ok_answer(&h.run(again)));
    assert_eq!(refreshes(&h), ["ref-1", "ref-2"]);
}

#[test]
fn rotation_replaces_the_refresh_token_and_the_old_one_is_never_sent() {
    let mut h = logged_in(pairs(), json!({}));
    for round in 0..3 {
        h.world.valid_tokens.clear();
        let call = h.get("/api/profile");
        assert!(is_ok_answer(&h.run(call)), "round {round}");
    }
    assert_eq!(refreshes(&h), ["ref-1", "ref-2", "ref-3"], "each refresh with the newest refresh token");
    assert_eq!(h.world.stored().and_then(|r| r.get("refreshToken").cloned()), Some(json!("ref-4")));
    // Without rotation the server keeps the refresh token, and so does the session.
    let mut world = pairs();
    world.rotate_refresh = false;
    let mut h = logged_in(world, json!({}));
    for _ in 0..2 {
        h.world.valid_tokens.clear();
        let call = h.get("/api/profile");
        assert!(is_ok_answer(&h.run(call)));
    }
    assert_eq!(refreshes(&h), ["ref-1", "ref-1"]);
}

#[test]
fn a_call_within_ahead_ms_of_a_known_expiry_refreshes_first() {
    let mut world = pairs();
    world.expires_in_s = Some(3600);
    let config = json!({ "login": { "expiresInPath": "expiresIn" }, "refresh": { "url": "/refresh", "expiresInPath": "expiresIn", "aheadMs": 60000 } });
    let mut h = Harness::new(world, config);
    let call = h.ensure();
    assert_eq!(h.run(call).ready().0, "tok-1");
    h.advance(3_600_000 - 60_000 + 1); // inside the last minute
    let call = h.get("/api/profile");
    assert!(is_ok_answer(&h.run(call)));
    assert_eq!(refreshes(&h), ["ref-1"], "refreshed before the call went out");
    let api: Vec<_> = h.world.sent_to("/api/profile").into_iter().filter_map(|s| s.header("token").map(str::to_owned)).collect();
    assert_eq!(api, ["tok-2"], "the API never saw the old token");
    assert_eq!(h.session().token(h.now()).map(|t| t.as_str().to_owned()).as_deref(), Some("tok-2"));
}

#[test]
fn a_relaunch_over_an_expired_token_with_a_refresh_token_refreshes_without_a_login() {
    let mut world = pairs();
    world.valid_refresh.insert("ref-stored".into());
    let record = json!({ "v": 1, "token": "stale", "expiresAt": START - 1, "obtainedAt": START - 7_200_000, "refreshToken": "ref-stored" });
    world.storage.insert("token".into(), record);
    let mut h = Harness::new(world, refresh_config(json!({})));
    let call = h.ensure();
    assert_eq!(h.run(call).ready(), ("tok-1".into(), Source::Login));
    assert_eq!(h.world.login_calls, 0);
    assert_eq!(refreshes(&h), ["ref-stored"]);
}

#[test]
fn a_late_refusal_of_the_old_token_neither_wipes_the_new_pair_nor_refreshes_again() {
    let mut h = logged_in(pairs(), json!({}));
    h.world.valid_tokens.clear();
    h.world.slow_paths.insert("/api/order".into(), 500); // its 401 comes after the refresh
    let slow = h.get("/api/order");
    let fast = h.get("/api/profile");
    let outcomes = h.run_all(&[fast, slow]);
    assert!(outcomes.iter().all(is_ok_answer), "{outcomes:?}");
    assert_eq!(refreshes(&h), ["ref-1"], "the late 401 reused the new token");
    assert_eq!(h.world.stored_token().as_deref(), Some("tok-2"));
    assert_eq!(h.world.stored().and_then(|r| r.get("refreshToken").cloned()), Some(json!("ref-2")));
}

#[test]
fn logout_forgets_both_tokens() {
    let mut h = logged_in(pairs(), json!({}));
    let call = h.logout();
    assert_eq!(h.run(call), Outcome::Done);
    assert_eq!(h.world.stored(), None);
    h.world.valid_tokens.clear();
    let call = h.get("/api/profile");
    assert!(is_ok_answer(&h.run(call)));
    assert_eq!(refreshes(&h), Vec::<String>::new(), "no refresh with the forgotten refresh token");
    assert_eq!(h.world.login_calls, 2);
}

#[test]
fn set_token_installs_a_pair_that_refreshes_later() {
    let mut world = pairs();
    world.valid_tokens.insert("scanned".into());
    world.valid_refresh.insert("ref-scanned".into());
    let mut h = Harness::new(world, refresh_config(json!({})));
    let call = h.set_token_pair("scanned", Some("ref-scanned"), None);
    assert_eq!(h.run(call), Outcome::Done);
    assert_eq!(h.world.stored().and_then(|r| r.get("refreshToken").cloned()), Some(json!("ref-scanned")));
    h.world.valid_tokens.clear();
    let call = h.get("/api/profile");
    assert!(is_ok_answer(&h.run(call)));
    assert_eq!(refreshes(&h), ["ref-scanned"]);
    assert_eq!(h.world.login_calls, 0);
    let bad = h.set_token_pair("t", Some("r\r\nX: 1"), None);
    assert_eq!(h.run(bad).error().key(), Some("refreshToken"));
}

#[test]
fn a_refresh_token_in_a_header_and_a_refresh_that_keeps_failing() {
    // tokenIn 'header': the refresh token travels in the header named `key`.
    let mut h = logged_in(pairs(), json!({ "refresh": { "url": "/refresh", "tokenIn": "header", "key": "refreshToken" } }));
    h.world.valid_tokens.clear();
    let call = h.get("/api/profile");
    assert!(is_ok_answer(&h.run(call)));
    let sent = h.world.sent_to("/refresh");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].header("refreshToken"), Some("ref-1"));
    assert_eq!(sent[0].body, None);
    // A refresh endpoint that answers 503: retried, then the call fails; the refresh token is
    // kept (not refused), so a later call refreshes with it.
    h.world.valid_tokens.clear();
    h.world.serve(|world, sent| if sent.path() == "/refresh" { Response::Answer(503, json!({})) } else { world.backend(sent) });
    let call = h.get("/api/profile");
    assert_eq!(h.run(call).code(), "SERVER_REJECTED");
    h.world.serve(|world, sent| world.backend(sent));
    let call = h.get("/api/profile");
    assert!(is_ok_answer(&h.run(call)));
    assert_eq!(h.world.login_calls, 1, "never a login for an unreachable refresh endpoint");
}
