//! What the app's own rules and hooks make of an answer: `authRequiredWhen` (the calls wait for
//! the app's login), `api.failWhen` (`API_ERROR`), and a send the app's `beforeRequest` hook
//! refused (`BEFORE_REQUEST_FAILED`).

use super::*;

/// A backend whose `/api/vip` answers `{ code: 4031 }` until a login carried a phone code.
fn phone_gate(world: &mut World) {
    world.serve(|world, sent| {
        let phone = world.sent.iter().any(|s| s.path() == "/login" && s.body.as_ref().is_some_and(|b| b.get("phoneCode").is_some()));
        match sent.path() {
            "/api/vip" if !phone => Response::Answer(200, json!({ "code": 4031, "msg": "bind a phone number" })),
            "/api/vip" => match sent.header("token").is_some_and(|t| world.valid_tokens.contains(t)) {
                true => Response::Answer(200, json!({ "code": 0, "data": "vip" })),
                false => Response::Answer(401, json!({})),
            },
            _ => world.backend(sent),
        }
    });
}

fn auth_config(extra: Value) -> Value {
    let mut config = json!({ "authRequiredWhen": [{ "path": "code", "equals": 4031 }] });
    if let (Value::Object(config), Value::Object(extra)) = (&mut config, extra) {
        config.extend(extra);
    }
    config
}

#[test]
fn calls_the_server_sends_to_the_login_page_wait_for_it_and_go_on_with_its_token() {
    let mut world = World::default();
    phone_gate(&mut world);
    let mut h = Harness::new(world, auth_config(json!({})));
    let calls: Vec<CallId> = (0..5).map(|_| h.get("/api/vip")).collect();
    h.advance(1_000);
    assert!(calls.iter().all(|call| h.outcome(*call).is_none()), "they wait for the app's login");
    assert_eq!(h.world.auth_required.len(), 1, "onAuthRequired once for the burst");
    // The app shows its login page; the user taps the phone-number button.
    let login = h.login(json!({ "phoneCode": "phone-1" }));
    let outcomes = h.run_all(&calls);
    assert_eq!(h.run(login).ready().0, "tok-2");
    assert!(outcomes.iter().all(is_ok_answer), "{outcomes:?}");
    let vip: Vec<_> = h.world.sent_to("/api/vip").into_iter().filter_map(|s| s.header("token").map(str::to_owned)).collect();
    assert_eq!(vip.iter().filter(|t| *t == "tok-2").count(), 5, "each retried once with the new token: {vip:?}");
    // A later burst calls it again.
    h.world.serve(|world, sent| match sent.path() {
        "/api/vip" => Response::Answer(200, json!({ "code": 4031 })),
        _ => world.backend(sent),
    });
    let call = h.get("/api/vip");
    h.advance(1_000);
    assert_eq!(h.world.auth_required.len(), 2);
    let logout = h.logout();
    assert_eq!(h.run(call).code(), "AUTH_REQUIRED", "logout ends the wait");
    assert_eq!(h.run(logout), Outcome::Done);
}

#[test]
fn a_wait_for_the_apps_login_ends_after_auth_wait_ms_and_a_second_refusal_fails() {
    let mut world = World::default();
    world.serve(|world, sent| match sent.path() {
        "/api/vip" => Response::Answer(200, json!({ "code": 4031 })),
        _ => world.backend(sent),
    });
    let mut h = Harness::new(world, auth_config(json!({ "authWaitMs": 5000 })));
    let call = h.get("/api/vip");
    let started = h.now();
    let error = h.run(call).error();
    assert_eq!(error.code(), "AUTH_REQUIRED");
    assert!(h.now() - started >= 5000 && h.now() - started < 6000, "after authWaitMs: {} ms", h.now() - started);
    // Still refused after the app's login: the call fails instead of waiting again.
    let call = h.get("/api/vip");
    h.advance(1_000);
    let login = h.login(json!({ "phoneCode": "p" }));
    assert_eq!(h.run(call).code(), "AUTH_REQUIRED");
    assert!(matches!(h.run(login), Outcome::Ready(..)));
    assert_eq!(h.world.login_calls, 2, "never a login of the SDK's own for it");
}

#[test]
fn a_business_failure_rejects_api_error_with_the_servers_message_and_never_logs_in() {
    let mut world = World::default();
    world.serve(|world, sent| match sent.path() {
        "/api/pay" => Response::Answer(200, json!({ "code": 1002, "msg": "余额不足", "data": null })),
        "/api/ok" => Response::Answer(200, json!({ "code": 0, "msg": "ok", "data": 1 })),
        "/api/bare" => Response::Answer(200, json!({ "data": 1 })),
        "/api/created" => Response::Answer(500, json!({ "code": 9 })),
        _ => world.backend(sent),
    });
    let config = json!({ "api": { "failWhen": [{ "path": "code", "notEquals": 0 }], "messagePath": "msg" } });
    let mut h = Harness::new(world, config);
    let pay = h.get("/api/pay");
    let error = h.run(pay).error();
    assert_eq!((error.code(), error.message()), ("API_ERROR", "余额不足".to_string()));
    let ok = h.get("/api/ok");
    assert!(is_ok_answer(&h.run(ok)));
    let bare = h.get("/api/bare");
    assert!(is_ok_answer(&h.run(bare)), "no `code` at all: not a business failure");
    let five = h.get("/api/created");
    assert_eq!(h.run(five).status(), 500, "only 2xx answers are business failures");
    assert_eq!(h.world.login_calls, 1);
    // `notIn`, and no message path: a generic message.
    let mut world = World::default();
    world.serve(|world, sent| match sent.path() {
        "/api/x" => Response::Answer(200, json!({ "errno": "E7" })),
        _ => world.backend(sent),
    });
    let mut h = Harness::new(world, json!({ "api": { "failWhen": [{ "path": "errno", "notIn": ["0", "OK"] }] } }));
    let call = h.get("/api/x");
    let error = h.run(call).error();
    assert_eq!(error.code(), "API_ERROR");
    assert!(error.message().contains("failWhen"), "{}", error.message());
}

#[test]
fn a_business_failure_message_that_echoes_the_token_never_carries_it() {
    let mut world = World::default();
    world.serve(|world, sent| match sent.path() {
        "/api/echo" => Response::Answer(200, json!({ "code": 7, "msg": format!("token {} may not do this", sent.header("token").unwrap_or("?")) })),
        _ => world.backend(sent),
    });
    let config = json!({ "api": { "failWhen": [{ "path": "code", "notEquals": 0 }], "messagePath": "msg" } });
    let mut h = Harness::new(world, config);
    let call = h.get("/api/echo");
    let error = h.run(call).error();
    let issued: Vec<String> = h.world.issued_tokens().collect();
    assert!(!issued.is_empty());
    assert!(issued.iter().all(|token| !error.message().contains(token.as_str())), "{}", error.message());
    assert_eq!((error.code(), error.message()), ("API_ERROR", "token … may not do this".to_string()));
}

#[test]
fn a_send_the_apps_hook_refused_fails_only_its_call() {
    let mut d = Driver::new(config(json!({})), SEED, false, START);
    d.issue("tok-1");
    let setup = d.set_token("tok-1", None);
    assert!(d.settled(setup).is_some());
    let call = d.request(ApiRequest::get("/api/profile"));
    let send = d.in_flight().iter().find(|op| op.awaits == crate::testing::Awaits::Http).map(|op| op.id).expect("sent");
    d.answer(send, Reply::Refused("sign failed".into()));
    let Some(Err(error)) = d.settled(call) else { panic!("not refused: {:?}", d.settled(call)) };
    assert_eq!(error.code(), "BEFORE_REQUEST_FAILED");
    assert!(error.message().contains("sign failed"));
    // The session works on.
    let next = d.request(ApiRequest::get("/api/profile"));
    assert!(d.settled(next).is_none(), "sent");
}

#[test]
fn a_forced_login_waits_for_the_user_as_long_as_auth_wait_ms_and_is_not_asked_again() {
    // Douyin's login screen is up while tt.login({ force: true }) runs: the user may take longer
    // than a network call's `timeoutMs`. Ending the wait there and retrying would open the screen
    // again over the first one; the wait is `authWaitMs` (the SDK's wait for the user), once.
    let mut d = Driver::new(config(json!({ "timeoutMs": 8000, "authWaitMs": 120000, "login": { "anonymous": "force" } })), SEED, false, START);
    let call = d.ensure();
    let read = d.in_flight().first().map(|op| op.id).expect("storage read");
    d.answer(read, Reply::Read(StorageValue::Missing));
    let login = d.in_flight().first().map(|op| (op.id, op.awaits)).expect("tt.login");
    assert_eq!(login.1, crate::testing::Awaits::WxLogin);
    assert_eq!(d.session.next_deadline(), Some(d.now + 120_000), "the user's time, not timeoutMs");
    d.now += 120_000;
    d.handle_timeout();
    let Some(Err(error)) = d.settled(call) else { panic!("not settled: {:?}", d.settled(call)) };
    assert_eq!(error.code(), "WX_LOGIN_FAILED");
    assert!(d.in_flight().is_empty(), "asked again: {:?}", d.in_flight());
    // Without force (no screen), timeoutMs as before.
    let mut d = Driver::new(config(json!({ "timeoutMs": 8000, "authWaitMs": 120000 })), SEED, false, START);
    d.ensure();
    let read = d.in_flight().first().map(|op| op.id).expect("storage read");
    d.answer(read, Reply::Read(StorageValue::Missing));
    assert_eq!(d.session.next_deadline(), Some(d.now + 8000));
}

#[test]
fn a_forced_login_the_user_cancelled_is_not_asked_again() {
    // Douyin's tt.login({ force: true }) shows its login screen; "login:fail host login fail" is
    // the user closing it. A retry would show it again. Without force (no screen), a failed
    // wx.login is retried as before.
    for (options, err_msg, expected) in [(json!({ "login": { "anonymous": "force" } }), "login:fail host login fail", 1), (json!({}), "login:fail", 3)] {
        let mut d = Driver::new(config(options), SEED, false, START);
        let call = d.ensure();
        let mut logins = 0;
        for _ in 0..100 {
            if d.settled(call).is_some() {
                break;
            }
            let op = d.in_flight().first().map(|op| (op.id, op.awaits));
            match op {
                Some((op, crate::testing::Awaits::Read)) => d.answer(op, Reply::Read(StorageValue::Missing)),
                Some((op, crate::testing::Awaits::WxLogin)) => {
                    logins += 1;
                    d.answer(op, Reply::WxLogin(Err(err_msg.into())));
                }
                Some((op, awaits)) => panic!("op {op} awaits {awaits:?}"),
                None => {
                    // (The backoff wait: its deadline only.)
                    d.now = d.session.next_deadline().expect("something to wait for");
                    d.handle_timeout();
                }
            }
        }
        assert_eq!(logins, expected, "{err_msg}: the platform's login was called {logins} times");
        let Some(Err(error)) = d.settled(call) else { panic!("not settled: {:?}", d.settled(call)) };
        assert_eq!(error.code(), "WX_LOGIN_FAILED");
    }
}
