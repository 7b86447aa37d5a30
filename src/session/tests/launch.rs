//! The launch flow: stored token → checks → login, its retries, and what it stores.

use std::cell::Cell;

use super::*;

#[test]
fn first_launch_logs_in_and_stores_the_token() {
    let mut h = Harness::new(World::default(), json!({}));
    let call = h.ensure();
    assert_eq!(h.run(call).ready(), ("tok-1".into(), Source::Login));
    assert_eq!(h.world.login_calls, 1);
    let logins = h.world.sent_to("/login");
    assert_eq!(logins.len(), 1);
    assert_eq!(logins[0].body, Some(json!({ "code": "code-1" })));
    assert_eq!(h.world.stored_token().as_deref(), Some("tok-1"));
    assert_eq!(states(&h), [State::Checking, State::LoggingIn, State::Ready]);
}

#[test]
fn login_answer_keeps_only_the_token() {
    let mut h = Harness::new(World::default(), json!({}));
    let call = h.ensure();
    h.run(call).ready();
    let stored = h.world.stored().unwrap();
    let text = stored.to_string();
    assert!(!text.contains("SECRET-KEY") && !text.contains("openid"), "{text}");
    let keys: Vec<_> = stored.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, ["expiresAt", "obtainedAt", "token", "v"]);
}

#[test]
fn relaunch_reuses_a_checked_stored_token() {
    let mut h = Harness::new(with_record("kept"), check_always());
    let call = h.ensure();
    assert_eq!(h.run(call).ready(), ("kept".into(), Source::Storage));
    assert_eq!(h.world.login_calls, 0);
    let checks = h.world.sent_to("/auth");
    assert_eq!(checks.len(), 1);
    assert_eq!(checks[0].header("token"), Some("kept"));
}

#[test]
fn relaunch_without_a_check_trusts_storage() {
    let mut h = Harness::new(with_record("kept"), json!({}));
    let call = h.ensure();
    assert_eq!(h.run(call).ready().1, Source::Storage);
    assert!(h.world.sent.is_empty());
}

#[test]
fn invalid_stored_token_leads_to_a_login() {
    let mut world = with_record("revoked");
    world.valid_tokens.clear();
    let mut h = Harness::new(world, check_always());
    let call = h.ensure();
    assert_eq!(h.run(call).ready(), ("tok-1".into(), Source::Login));
    assert_eq!(h.world.stored_token().as_deref(), Some("tok-1"));
}

#[test]
fn failed_check_session_leads_to_a_login() {
    let mut world = with_record("kept");
    world.check_session_ok = false;
    let mut h = Harness::new(world, json!({ "useCheckSession": true }));
    let call = h.ensure();
    assert_eq!(h.run(call).ready().1, Source::Login);
    assert_eq!(h.ops(|a| matches!(a, Action::CheckSession { .. })).len(), 1, "wx.checkSession was asked");
}

#[test]
fn every_login_attempt_uses_a_fresh_code() {
    let mut world = World::default();
    world.login_failures = 1;
    let failed_once = Cell::new(false);
    world.serve(move |w, sent| {
        if sent.path() == "/login" && !failed_once.replace(true) {
            // The code reached the server, which consumed it, then the answer got lost.
            let code = sent.body.as_ref().and_then(|b| b.get("code")).and_then(Value::as_str).unwrap_or("");
            w.used_codes.insert(code.to_owned());
            return Response::Answer(503, json!({}));
        }
        w.backend(sent)
    });
    let mut h = Harness::new(world, json!({ "retries": 3 }));
    let call = h.ensure();
    assert_eq!(h.run(call).ready().1, Source::Login);
    let codes: Vec<_> = h.world.sent_to("/login").iter().map(|s| s.body.clone().unwrap()["code"].clone()).collect();
    assert_eq!(codes, [json!("code-2"), json!("code-3")], "wx.login call 1 failed; each request has its own code");
    assert_eq!(h.world.login_calls, 3);
}

#[test]
fn retries_are_bounded_and_the_next_call_tries_again() {
    let mut world = World::default();
    world.serve(|_, _| Response::Fail("request:fail -2:net::ERR_FAILED"));
    let mut h = Harness::new(world, json!({ "retries": 2 }));
    let call = h.ensure();
    assert_eq!(h.run(call).code(), "NETWORK");
    assert_eq!(h.world.sent_to("/login").len(), 3, "1 try + 2 retries");
    assert_eq!(h.world.login_calls, 3, "a fresh code for each");
    assert_eq!(h.world.states.last().copied(), Some((State::Failed, Some("NETWORK"))));

    h.world.serve(|w, sent| w.backend(sent));
    let call = h.ensure();
    assert_eq!(h.run(call).ready().1, Source::Login, "not stuck in failed or logging-in");
}

#[test]
fn bad_login_answer_keeps_the_old_token() {
    let mut world = with_record("old");
    world.valid_tokens.clear();
    let before = world.stored();
    world.serve(|w, sent| match sent.path() {
        "/login" => Response::Answer(200, json!({ "token": 12345 })),
        _ => w.backend(sent),
    });
    let mut h = Harness::new(world, check_always());
    let call = h.ensure();
    let err = h.run(call).error();
    assert_eq!(err.code(), "BAD_RESPONSE");
    assert!(err.to_string().contains("`token` is not a string"), "{err}");
    assert_eq!(h.world.stored(), before);
    assert_eq!(h.world.sent_to("/login").len(), 1, "a malformed answer is not retried");
}

#[test]
fn rejected_login_is_not_retried() {
    let mut world = World::default();
    world.serve(|_, _| Response::Answer(400, json!({ "errcode": 40029 })));
    let mut h = Harness::new(world, json!({}));
    let call = h.ensure();
    assert_eq!(h.run(call).error(), Error::ServerRejected { endpoint: "login", status: 400 });
    assert_eq!(h.world.sent_to("/login").len(), 1);
}

#[test]
fn wx_login_that_never_answers_times_out() {
    // As in the old test, the login exchange after wx.login is what never answers in time (a
    // latency far beyond the limit); a hanging wx.login itself is
    // `a_wx_login_that_never_answers_fails_typed_and_is_cancelled`.
    let mut world = World::default();
    world.latency_ms = 60_000;
    let mut h = Harness::new(world, json!({ "retries": 0, "timeoutMs": 1000 }));
    let call = h.ensure();
    assert_eq!(h.run(call).error(), Error::Timeout { ms: 1000 });
}

#[test]
fn storage_that_throws_keeps_the_session_in_memory() {
    let mut world = World::default();
    world.storage_full = true;
    let mut h = Harness::new(world, json!({}));
    let call = h.ensure();
    assert_eq!(h.run(call).ready().1, Source::Login);
    assert!(h.world.states.iter().any(|(_, code)| *code == Some("STORAGE")));
    let call = h.get("/api/profile");
    assert_eq!(h.run(call).status(), 200);
}
