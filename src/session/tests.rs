//! Flow tests: scripts over the harness (a fake platform, a code2Session-like backend, a
//! virtual clock).

use std::cell::Cell;

use serde_json::{json, Value};

use super::harness::*;
use super::*;
use crate::retry::{backoff_ms, Jitter};
use crate::rule::{Field, Scalar};

fn check_always() -> Value {
    json!({ "check": { "url": "/auth", "okWhen": { "path": "errCode", "equals": 0 } } })
}

fn with_record(token: &str) -> World {
    let mut world = World::default();
    world.store_record(token);
    world
}

fn states(h: &Harness) -> Vec<State> {
    h.world.states.iter().map(|(state, _)| *state).collect()
}

fn is_ok_answer(outcome: &Outcome) -> bool {
    matches!(outcome, Outcome::Answer(200, _))
}

// ---------------------------------------------------------------------------------------------
// Launch flow.

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
            return Reply::Answer(503, json!({}));
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
    world.serve(|_, _| Reply::Fail("request:fail -2:net::ERR_FAILED"));
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
        "/login" => Reply::Answer(200, json!({ "token": 12345 })),
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
    world.serve(|_, _| Reply::Answer(400, json!({ "errcode": 40029 })));
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

// ---------------------------------------------------------------------------------------------
// Requests.

#[test]
fn fifty_concurrent_requests_on_a_cold_start_cost_one_login() {
    let mut h = Harness::new(World::default(), json!({}));
    let calls: Vec<_> = (0..50).map(|_| h.get("/api/profile")).collect();
    let results = h.run_all(&calls);
    assert!(results.iter().all(is_ok_answer), "{results:?}");
    assert_eq!(h.world.login_calls, 1);
    assert_eq!(h.world.sent_to("/login").len(), 1);
    assert_eq!(h.world.sent_to("/api/profile").len(), 50);
}

#[test]
fn fifty_requests_with_a_revoked_token_cost_one_relogin() {
    let mut h = Harness::new(with_record("revoked"), json!({}));
    let call = h.ensure();
    h.run(call).ready();
    h.world.valid_tokens.remove("revoked");
    let calls: Vec<_> = (0..50).map(|_| h.get("/api/profile")).collect();
    let results = h.run_all(&calls);
    assert!(results.iter().all(is_ok_answer), "all 50 succeed");
    assert_eq!(h.world.login_calls, 1);
    assert_eq!(h.world.sent_to("/api/profile").len(), 100, "each sent once with the old token, once with the new");
    assert_eq!(h.world.stored_token().as_deref(), Some("tok-1"));
}

#[test]
fn a_stale_invalid_answer_does_not_log_in_again() {
    let mut h = Harness::new(with_record("old"), json!({}));
    let call = h.ensure();
    h.run(call).ready();
    h.world.valid_tokens.remove("old");
    // The order request goes out with `old` and its 401 comes back long after the profile
    // request's 401 has already triggered the re-login.
    h.world.slow_paths.insert("/api/order".into(), 500);
    let slow = h.get("/api/order");
    let fast = h.get("/api/profile");
    let results = h.run_all(&[slow, fast]);
    assert!(results.iter().all(is_ok_answer), "{results:?}");
    assert_eq!(h.world.login_calls, 1, "the late 401 for `old` reuses the new token");
    let orders = h.world.sent_to("/api/order");
    let tokens: Vec<_> = orders.iter().map(|o| o.header("token")).collect();
    assert_eq!(tokens, [Some("old"), Some("tok-1")]);
}

#[test]
fn a_server_that_always_says_invalid_gets_bounded_logins() {
    let mut world = World::default();
    world.serve(|w, sent| match sent.path() {
        "/api/profile" => Reply::Answer(401, json!({})),
        _ => w.backend(sent),
    });
    let mut h = Harness::new(world, json!({}));
    let calls: Vec<_> = (0..20).map(|_| h.get("/api/profile")).collect();
    let results = h.run_all(&calls);
    assert!(results.iter().all(|r| *r == Outcome::Failed(Error::SessionExpired)), "{results:?}");
    assert_eq!(h.world.login_calls, 2, "launch login + one shared re-login");
    assert_eq!(h.world.sent_to("/api/profile").len(), 40);
}

#[test]
fn answers_out_of_order_from_an_always_invalid_server_still_cost_two_logins() {
    let mut world = World::default();
    world.stagger_ms = 400;
    world.serve(|w, sent| match sent.path() {
        "/api/profile" => Reply::Answer(401, json!({})),
        _ => w.backend(sent),
    });
    let mut h = Harness::new(world, json!({}));
    let calls: Vec<_> = (0..20).map(|_| h.get("/api/profile")).collect();
    let results = h.run_all(&calls);
    assert!(results.iter().all(|r| *r == Outcome::Failed(Error::SessionExpired)), "{results:?}");
    assert_eq!(h.world.login_calls, 2, "a late 401 for the first token must not start a third login");
}

#[test]
fn post_is_not_retried_on_network_errors_unless_asked() {
    let mut world = with_record("t");
    world.serve(|w, sent| match sent.path() {
        "/api/order" => Reply::Fail("request:fail -2:net::ERR_FAILED"),
        _ => w.backend(sent),
    });
    let mut h = Harness::new(world, json!({ "retries": 2 }));
    let post = |retry: bool| {
        let mut req = ApiRequest::get("/api/order");
        req.method = Method::Post;
        req.retry = retry;
        req
    };
    let call = h.request(post(false));
    assert_eq!(h.run(call).code(), "NETWORK");
    assert_eq!(h.world.sent_to("/api/order").len(), 1);
    assert_eq!(h.world.sent_to("/api/order")[0].method, "POST");
    let call = h.request(post(true));
    assert_eq!(h.run(call).code(), "NETWORK");
    assert_eq!(h.world.sent_to("/api/order").len(), 4, "opted-in POST: 1 + 2 retries");
    let call = h.get("/api/order");
    assert_eq!(h.run(call).code(), "NETWORK");
    assert_eq!(h.world.sent_to("/api/order").len(), 7, "GET: 1 + 2 retries");
}

#[test]
fn retry_delays_grow_between_attempts() {
    let mut world = with_record("t");
    world.serve(|w, sent| match sent.path() {
        "/api/profile" => Reply::Fail("request:fail -2:net::ERR_FAILED"),
        _ => w.backend(sent),
    });
    let mut h = Harness::new(world, json!({ "retries": 4 }));
    let call = h.get("/api/profile");
    assert_eq!(h.run(call).code(), "NETWORK");
    let times: Vec<Millis> = h.world.sent_to("/api/profile").iter().map(|s| s.at).collect();
    let gaps: Vec<Millis> = times.windows(2).map(|w| w[1] - w[0] - 50).collect();
    // The old host's random() was fixed at 0.5; the machine draws its jitter from its seed, so
    // the exact waits are those of the seeded sequence: 300, 600, 1200, 2400 ceilings.
    let mut jitter = Jitter::new(SEED);
    let expected: Vec<Millis> = (0..4).map(|attempt| Millis::from(backoff_ms(attempt, jitter.draw()))).collect();
    assert_eq!(gaps, expected);
    for (attempt, gap) in gaps.iter().enumerate() {
        let ceiling = 300 << attempt;
        assert!((ceiling / 2..=ceiling).contains(gap), "wait {attempt} is {gap} ms");
    }
    assert!(gaps.windows(2).all(|w| w[0] < w[1]), "{gaps:?}");
}

#[test]
fn a_hanging_request_times_out() {
    let mut world = with_record("t");
    world.serve(|w, sent| match sent.path() {
        "/api/profile" => Reply::Hang,
        _ => w.backend(sent),
    });
    let mut h = Harness::new(world, json!({ "retries": 0, "timeoutMs": 3000 }));
    let start = h.now;
    let mut req = ApiRequest::get("/api/profile");
    req.timeout_ms = Some(700);
    let call = h.request(req);
    assert_eq!(h.run(call).error(), Error::Timeout { ms: 700 });
    assert_eq!(h.now - start, 700);
}

#[test]
fn a_failed_login_rejects_every_waiter_with_the_same_error() {
    let mut world = World::default();
    world.serve(|_, _| Reply::Answer(400, json!({ "errcode": 40029 })));
    let mut h = Harness::new(world, json!({}));
    let calls: Vec<_> = (0..10).map(|_| h.get("/api/profile")).collect();
    for r in h.run_all(&calls) {
        assert_eq!(r, Outcome::Failed(Error::ServerRejected { endpoint: "login", status: 400 }));
    }
    assert_eq!(h.world.login_calls, 1);
}

#[test]
fn unauthenticated_requests_skip_token_and_relogin() {
    let mut h = Harness::new(World::default(), json!({}));
    let mut req = ApiRequest::get("/api/profile");
    req.auth = false;
    let call = h.request(req);
    assert_eq!(h.run(call).status(), 401);
    assert_eq!(h.world.login_calls, 0);
    assert_eq!(h.world.sent_to("/api/profile")[0].header("token"), None);
}

#[test]
fn logout_during_a_login_does_not_resurrect_the_session() {
    let mut h = Harness::new(World::default(), json!({}));
    let waiting = h.ensure();
    h.advance(30); // wx.login done, login request in flight
    let login_op = *h.ops(|a| matches!(a, Action::Send(_))).last().unwrap();
    let logout = h.logout();
    let results = h.run_all(&[waiting, logout]);
    assert_eq!(results, [Outcome::Failed(Error::LoggedOut), Outcome::Done]);
    assert!(h.cancelled.contains(&login_op), "the login in flight is cancelled");
    // The platform could not abort it: its answer (a token) arrives anyway.
    let answer = Answer { status: 200, fields: vec![Field::Scalar(Scalar::Text("late".into()))] };
    h.feed(|s, now| s.http_answered(now, login_op, answer));
    h.run_until_idle();
    assert_eq!(h.world.stored(), None, "the late login answer was not stored");
    assert_eq!(h.world.states.last().copied(), Some((State::Idle, None)));
}

#[test]
fn token_header_and_prefix_are_configurable() {
    let mut world = World::default();
    world.serve(|w, sent| match sent.path() {
        "/api/profile" => Reply::Answer(200, json!({ "auth": sent.header("Authorization") })),
        _ => w.backend(sent),
    });
    let mut h = Harness::new(world, json!({ "tokenHeader": "Authorization", "tokenPrefix": "Bearer " }));
    let call = h.get("/api/profile");
    assert_eq!(h.run(call).answer().1, json!({ "auth": "Bearer tok-1" }));
}

#[test]
fn logout_with_a_request_in_flight_does_not_log_back_in() {
    let mut h = Harness::new(with_record("old"), json!({}));
    let call = h.ensure();
    h.run(call).ready();
    h.world.valid_tokens.clear(); // the answer in flight will be a 401
    let in_flight = h.get("/api/profile");
    h.advance(10);
    let logout = h.logout();
    let results = h.run_all(&[in_flight, logout]);
    assert_eq!(results[0], Outcome::Failed(Error::LoggedOut));
    h.run_until_idle();
    assert_eq!(h.world.login_calls, 0, "no login behind the app's back");
    assert_eq!(h.world.stored(), None, "the old token is not written back");
}

// ---------------------------------------------------------------------------------------------
// Protocol options, check policies, storage shapes.

/// Stores a record for `token` obtained an hour ago, expiring `expires_in_ms` from now.
fn store_with_expiry(h: &mut Harness, token: &str, expires_in_ms: Option<i64>) {
    h.world.valid_tokens.insert(token.to_owned());
    let expires_at = expires_in_ms.map(|ms| h.now.saturating_add_signed(ms));
    let record = json!({ "v": 1, "token": token, "expiresAt": expires_at, "obtainedAt": h.now - 3_600_000 });
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
            Reply::Answer(200, mut body) => {
                body["expiresIn"] = json!("120"); // some servers send a numeric string
                Reply::Answer(200, body)
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
    h.now += 120_000;
    let call = h.ensure();
    assert_eq!(h.run(call).ready().1, Source::Login);
    assert!(h.world.sent_to("/auth").is_empty());
}

#[test]
fn a_malformed_expiry_is_a_bad_response() {
    let mut world = World::default();
    world.serve(|_, _| Reply::Answer(200, json!({ "token": "t", "expiresIn": "soon" })));
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
        world.serve(|_, _| Reply::Answer(400, json!({ "errcode": 40029 })));
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
                Reply::Answer(200, body) => Reply::Answer(200, json!({ "code": 0, "data": { "skey": body["token"] } })),
                _ => Reply::Answer(200, json!({ "code": -1, "error": "ERR_LOGIN_FAILED" })),
            }
        }
        _ => w.backend(sent),
    });
    let config = json!({ "login": { "url": "/weapp/login", "method": "GET", "codeIn": "header", "codeKey": "X-WX-Code",
        "tokenPath": "data.skey", "okWhen": { "path": "code", "equals": 0 } } });
    let mut h = Harness::new(world, config);
    let call = h.ensure();
    assert_eq!(h.run(call).ready().0, "tok-1");

    // Seed 001: GET /user/login?code=…, answer {code: 200, msg, token}.
    let mut world = World::default();
    world.serve(|w, sent| {
        let code = sent.url.split("code=").nth(1).unwrap_or("");
        match w.redeem(code) {
            Reply::Answer(200, body) => Reply::Answer(200, json!({ "code": 200, "msg": "登录成功", "token": body["token"] })),
            _ => Reply::Answer(200, json!({ "code": 500, "msg": "登录失败" })),
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
    world.serve(|_, _| Reply::Answer(200, json!({ "code": 500, "msg": "登录失败", "token": "ignored" })));
    let mut h = Harness::new(world, json!({ "login": { "okWhen": { "path": "code", "equals": 200 } } }));
    let call = h.ensure();
    assert_eq!(h.run(call).error(), Error::ServerRejected { endpoint: "login", status: 200 });
    assert_eq!(h.world.stored(), None);
}

#[test]
fn login_extra_is_merged_and_its_failure_is_typed() {
    // `login.hasExtra` in the config became `Session::with_login_extra`: `login.extra` is a JS
    // function the glue calls, so only "there is one" reaches the machine.
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
            Reply::Answer(200, if ok { json!({ "code": 0, "data": {} }) } else { json!({ "code": -1, "error": "ERR_SKEY_INVALID" }) })
        }
        _ => w.backend(sent),
    });
    let mut h = Harness::new(world, json!({ "tokenHeader": "X-WX-Skey", "invalidWhen": [{ "path": "code", "equals": -1 }] }));
    let call = h.get("/api/profile");
    assert_eq!(h.run(call).answer().1["code"], json!(0));
    assert_eq!(h.world.login_calls, 1);
}

// ---------------------------------------------------------------------------------------------
// What the sans-IO machine makes testable: deadlines, cancellation, late and unknown results.

/// One stage that never answers, and how the call it blocks must end.
struct Hung {
    stage: &'static str,
    setup: fn(&mut World),
    call: fn(&mut Harness) -> CallId,
    /// The source of the token, or the error code.
    ends: Result<Source, &'static str>,
    /// The operations that hang.
    hung: fn(&Action) -> bool,
}

fn sends_to(action: &Action, path: &str) -> bool {
    matches!(action, Action::Send(send) if send.url.ends_with(path))
}

#[test]
fn every_operation_that_never_answers_ends_at_its_deadline_and_is_cancelled() {
    let ensure: fn(&mut Harness) -> CallId = Harness::ensure;
    let cases = [
        Hung {
            stage: "storage",
            setup: |w| w.storage_hangs = true,
            call: ensure,
            ends: Ok(Source::Login), // an unreadable store counts as "no token"; the write is only reported
            hung: |a| matches!(a, Action::ReadStorage { .. } | Action::WriteStorage { .. }),
        },
        Hung {
            stage: "wx.checkSession",
            setup: |w| w.check_session_hangs = true,
            call: ensure,
            ends: Ok(Source::Login),
            hung: |a| matches!(a, Action::CheckSession { .. }),
        },
        Hung {
            stage: "server check",
            setup: |w| w.serve(|w, sent| if sent.path() == "/auth" { Reply::Hang } else { w.backend(sent) }),
            call: ensure,
            ends: Err("TIMEOUT"),
            hung: |a| sends_to(a, "/auth"),
        },
        Hung {
            stage: "wx.login",
            setup: |w| {
                w.valid_tokens.clear();
                w.login_hangs = true;
            },
            call: ensure,
            ends: Err("WX_LOGIN_FAILED"),
            hung: |a| matches!(a, Action::WxLogin { .. }),
        },
        Hung {
            stage: "login.extra",
            setup: |w| {
                w.valid_tokens.clear();
                w.extra = None;
            },
            call: ensure,
            ends: Err("LOGIN_EXTRA_FAILED"),
            hung: |a| matches!(a, Action::LoginExtra { .. }),
        },
        Hung {
            stage: "login request",
            setup: |w| {
                w.valid_tokens.clear();
                w.serve(|w, sent| if sent.path() == "/login" { Reply::Hang } else { w.backend(sent) });
            },
            call: ensure,
            ends: Err("TIMEOUT"),
            hung: |a| sends_to(a, "/login"),
        },
        Hung {
            stage: "API request",
            setup: |w| w.serve(|w, sent| if sent.path() == "/api/profile" { Reply::Hang } else { w.backend(sent) }),
            call: |h| h.get("/api/profile"),
            ends: Err("TIMEOUT"),
            hung: |a| sends_to(a, "/api/profile"),
        },
    ];
    for case in cases {
        let mut world = with_record("kept");
        (case.setup)(&mut world);
        let mut config = check_always();
        config["useCheckSession"] = json!(true);
        config["retries"] = json!(0);
        config["timeoutMs"] = json!(1000);
        let mut h = Harness::with_login_extra(world, config);
        let call = (case.call)(&mut h);
        let ends = match h.run(call) {
            Outcome::Ready(_, source) => Ok(source),
            Outcome::Failed(error) => Err(error.code()),
            other => panic!("{}: {other:?}", case.stage),
        };
        assert_eq!(ends, case.ends, "{}", case.stage);
        h.run_until_idle(); // asserts every operation was answered or cancelled
        let hung = h.ops(case.hung);
        assert!(!hung.is_empty(), "{}: the stage was reached", case.stage);
        assert_eq!(h.cancelled, hung, "{}: exactly the operations that hung are cancelled", case.stage);
    }
}

#[test]
fn a_wx_login_that_never_answers_fails_typed_and_is_cancelled() {
    let mut world = World::default();
    world.login_hangs = true;
    let mut h = Harness::new(world, json!({ "retries": 1, "timeoutMs": 1000 }));
    let start = h.now;
    let call = h.ensure();
    let err = h.run(call).error();
    assert_eq!(err.code(), "WX_LOGIN_FAILED");
    assert!(err.to_string().contains("did not answer within 1000 ms"), "{err}");
    let logins = h.ops(|a| matches!(a, Action::WxLogin { .. }));
    assert_eq!(logins.len(), 2, "one try and one retry, each with its own deadline");
    assert_eq!(h.cancelled, logins);
    let mut jitter = Jitter::new(SEED);
    assert_eq!(h.now - start, 1000 + Millis::from(backoff_ms(0, jitter.draw())) + 1000);
    assert_eq!(h.world.states.last().copied(), Some((State::Failed, Some("WX_LOGIN_FAILED"))));
    h.run_until_idle();
}

#[test]
fn a_login_extra_that_never_settles_fails_typed_and_is_cancelled() {
    let mut world = World::default();
    world.extra = None;
    let mut h = Harness::with_login_extra(world, json!({ "retries": 2, "timeoutMs": 1000 }));
    let call = h.ensure();
    let err = h.run(call).error();
    assert_eq!(err.code(), "LOGIN_EXTRA_FAILED");
    assert!(err.to_string().contains("did not settle within 1000 ms"), "{err}");
    let extras = h.ops(|a| matches!(a, Action::LoginExtra { .. }));
    assert_eq!(extras.len(), 1, "the app's own callback is not asked again");
    assert_eq!(h.cancelled, extras);
    assert!(h.world.sent_to("/login").is_empty(), "no login without the extra data");
    h.run_until_idle();
}

#[test]
fn storage_writes_and_removes_that_never_answer_are_reported() {
    let mut world = World::default();
    world.storage_hangs = true;
    let mut h = Harness::new(world, json!({ "timeoutMs": 1000 }));
    let call = h.ensure();
    assert_eq!(h.run(call).ready(), ("tok-1".into(), Source::Login));
    h.run_until_idle();
    assert_eq!(h.world.states.last().copied(), Some((State::Ready, Some("STORAGE"))), "the write timed out");
    let call = h.logout();
    assert_eq!(h.run(call).code(), "STORAGE", "logout says the token may still be stored");
    assert_eq!(h.world.states.last().copied(), Some((State::Idle, Some("STORAGE"))), "and onChange hears it too");
    h.run_until_idle();
    let storage_ops = h.ops(|a| matches!(a, Action::ReadStorage { .. } | Action::WriteStorage { .. } | Action::RemoveStorage { .. }));
    assert_eq!(storage_ops.len(), 3);
    assert_eq!(h.cancelled, storage_ops);
}

#[test]
fn results_for_unknown_or_cancelled_operations_are_ignored() {
    let mut world = with_record("t");
    world.serve(|w, sent| match sent.path() {
        "/api/profile" => Reply::Hang,
        _ => w.backend(sent),
    });
    let mut h = Harness::new(world, json!({ "retries": 0, "timeoutMs": 700 }));
    let call = h.get("/api/profile");
    assert_eq!(h.run(call).error(), Error::Timeout { ms: 700 });
    assert_eq!(h.cancelled.len(), 1);
    let cancelled = h.cancelled[0];
    let before = h.log.len();
    for op in [cancelled, 0, 9_999, OpId::MAX] {
        h.feed(|s, now| s.http_answered(now, op, Answer::status(200)));
        h.feed(|s, now| s.http_answered(now, op, Answer::status(401)));
        h.feed(|s, now| s.http_failed(now, op, "request:fail -2:net::ERR_FAILED"));
        h.feed(|s, now| s.wx_login_done(now, op, Ok("code-x")));
        h.feed(|s, now| s.wx_login_done(now, op, Err("login:fail")));
        h.feed(|s, now| s.login_extra_done(now, op, Ok(())));
        h.feed(|s, now| s.check_session_done(now, op, false));
        h.feed(|s, now| s.storage_read(now, op, StorageValue::Missing));
        h.feed(|s, _| s.storage_done(op, Ok(())));
        h.feed(|s, _| s.storage_done(op, Err("setStorageSync:fail")));
    }
    assert_eq!(h.log[before..], [], "no action for results nobody waits for");
    assert_eq!(h.session.next_deadline(), None);
    assert_eq!(h.run(call).error(), Error::Timeout { ms: 700 }, "settled once, as before");
    // The machine goes on as if nothing happened.
    let call = h.get("/api/order");
    assert_eq!(h.run(call).status(), 200);
    assert_eq!(h.world.sent_to("/api/order")[0].header("token"), Some("t"));
    h.run_until_idle();
}

#[test]
fn a_late_answer_to_a_timed_out_wx_login_is_ignored() {
    let mut world = World::default();
    world.login_hangs = true;
    let mut h = Harness::new(world, json!({ "retries": 1, "timeoutMs": 1000 }));
    let call = h.ensure();
    h.advance(1000);
    let first = h.ops(|a| matches!(a, Action::WxLogin { .. }));
    assert_eq!(h.cancelled, first, "the first wx.login timed out");
    assert_eq!(h.outcome(call), None, "the flow waits to try again");
    h.world.login_hangs = false;
    // The first wx.login answers after all, with a code the server would even accept.
    h.world.issued_codes.insert("late-code".into());
    h.feed(|s, now| s.wx_login_done(now, first[0], Ok("late-code")));
    assert_eq!(h.run(call).ready(), ("tok-1".into(), Source::Login));
    let codes: Vec<_> = h.world.sent_to("/login").iter().map(|s| s.body.clone().unwrap()["code"].clone()).collect();
    assert_eq!(codes, [json!("code-1")], "only the retry's own code is sent");
    h.run_until_idle();
}

#[test]
fn logout_during_the_launch_flow_cancels_its_operation() {
    // wx.login in flight.
    let mut h = Harness::new(World::default(), json!({}));
    let ensure = h.ensure();
    h.advance(10);
    let wx_login = h.ops(|a| matches!(a, Action::WxLogin { .. }));
    let logout = h.logout();
    assert_eq!(h.cancelled, wx_login);
    assert_eq!(h.run_all(&[ensure, logout]), [Outcome::Failed(Error::LoggedOut), Outcome::Done]);
    h.run_until_idle();
    assert_eq!(h.world.login_calls, 0, "the cancelled wx.login was dropped");
    assert!(h.world.sent.is_empty());
    let call = h.ensure();
    assert_eq!(h.run(call).ready(), ("tok-1".into(), Source::Login), "a later call starts afresh");

    // The server check in flight.
    let mut h = Harness::new(with_record("kept"), check_always());
    let ensure = h.ensure();
    h.advance(10);
    let check = h.ops(|a| sends_to(a, "/auth"));
    assert_eq!(check.len(), 1);
    let logout = h.logout();
    assert_eq!(h.cancelled, check);
    assert_eq!(h.run_all(&[ensure, logout]), [Outcome::Failed(Error::LoggedOut), Outcome::Done]);
    h.run_until_idle();
    assert!(h.world.sent.is_empty(), "the check never reached the server");
    assert_eq!(h.world.stored(), None);
    assert_eq!(h.world.states.last().copied(), Some((State::Idle, None)));

    // Between two login attempts (a backoff wait, nothing in flight): the retry never happens.
    let mut world = World::default();
    world.login_failures = 1;
    let mut h = Harness::new(world, json!({ "retries": 1 }));
    let ensure = h.ensure();
    h.advance(25);
    assert_eq!(h.world.login_calls, 1);
    let logout = h.logout();
    assert!(h.cancelled.is_empty());
    assert_eq!(h.run_all(&[ensure, logout]), [Outcome::Failed(Error::LoggedOut), Outcome::Done]);
    assert_eq!(h.session.next_deadline(), None, "no timer left behind");
    h.run_until_idle();
    assert_eq!(h.world.login_calls, 1);
}

#[test]
fn the_token_never_goes_to_another_origin() {
    let mut world = with_record("t");
    world.serve(|w, sent| if sent.url.starts_with("http://dev.test/") { w.backend(sent) } else { Reply::Answer(200, json!({ "seen": sent.header("token") })) });
    let mut h = Harness::new(world, json!({}));
    for url in [
        "https://other.example/x",
        "https://dev.test/api/profile",
        "http://dev.test:8080/api/profile",
        "http://dev.test.evil.example/api/profile",
        "http://dev.test@evil.example/api/profile",
    ] {
        let call = h.get(url);
        let err = h.run(call).error();
        assert_eq!((err.code(), err.key()), ("CONFIG", Some("request.url")), "{url}");
    }
    assert!(h.ops(|_| true).is_empty(), "refused before anything started");

    let mut req = ApiRequest::get("https://other.example/x");
    req.auth = false;
    let call = h.request(req);
    assert_eq!(h.run(call).answer(), (200, json!({ "seen": null })));
    assert_eq!(h.world.sent.len(), 1);
    assert_eq!((h.world.sent[0].url.as_str(), h.world.sent[0].header("token")), ("https://other.example/x", None));

    // baseUrl's own origin, written as an absolute URL, gets the token.
    let call = h.get("http://dev.test:80/api/profile");
    assert_eq!(h.run(call).status(), 200);
    assert_eq!(h.world.sent[1].header("token"), Some("t"));
    h.run_until_idle();
}

#[test]
fn a_relogin_reports_logging_in() {
    let mut h = Harness::new(with_record("old"), json!({}));
    let call = h.ensure();
    h.run(call).ready();
    h.world.valid_tokens.clear();
    let call = h.get("/api/profile");
    assert_eq!(h.run(call).status(), 200);
    assert_eq!(states(&h), [State::Checking, State::Ready, State::LoggingIn, State::Ready]);
}

#[test]
fn every_call_settles_exactly_once_whatever_happens() {
    // Random scripts over a random world. The harness fails on a double settle, on an answer the
    // machine resolves with but never got, on a Cancel for an operation not in flight; at the
    // end, on a call never settled or an operation neither answered nor cancelled.
    for seed in 1..=300u32 {
        let mut world = World::default();
        if seed % 4 != 0 {
            world.store_record("kept");
        }
        world.login_failures = seed % 3;
        world.check_session_ok = seed % 2 == 0;
        world.storage_full = seed % 5 == 0;
        world.stagger_ms = 300;
        let network = std::cell::RefCell::new(Jitter::new(seed));
        world.serve(move |w, sent| match network.borrow_mut().draw() % 12 {
            0 => Reply::Fail("request:fail -2:net::ERR_FAILED"),
            1 => Reply::Fail("request:fail timeout"),
            2 => Reply::Hang,
            3 => Reply::Answer(500, json!({})),
            4 => Reply::Answer(401, json!({})),
            _ => w.backend(sent),
        });
        let mut config = if seed % 3 == 0 { check_always() } else { json!({}) };
        config["retries"] = json!(seed % 3);
        config["timeoutMs"] = json!(1000);
        config["useCheckSession"] = json!(seed % 2 == 1);
        let mut h = Harness::new(world, config);
        let mut script = Jitter::new(seed.wrapping_mul(7919));
        for _ in 0..40 {
            let r = script.draw();
            match r % 10 {
                0..=2 => {
                    h.get("/api/profile");
                }
                3 => {
                    let mut req = ApiRequest::get("/api/order");
                    req.method = Method::Post;
                    h.request(req);
                }
                4 => {
                    h.ensure();
                }
                5 => {
                    h.logout();
                }
                6 | 7 => h.advance(Millis::from(r >> 8) % 1500),
                8 => h.world.valid_tokens.clear(),
                _ => {
                    // A late answer for something the machine gave up on.
                    if let Some(&op) = h.cancelled.get((r >> 8) as usize % h.cancelled.len().max(1)) {
                        h.feed(|s, now| s.http_answered(now, op, Answer::status(200)));
                        h.feed(|s, now| s.wx_login_done(now, op, Ok("code-late")));
                    }
                }
            }
        }
        h.run_until_idle();
    }
}

#[test]
fn a_request_waiting_to_resend_a_token_is_dropped_by_logout() {
    let mut h = Harness::new(with_record("tok-a"), json!({}));
    h.world.serve(|_, sent| if sent.path() == "/api/profile" { Reply::Fail("request:fail -2:net::ERR_FAILED") } else { Reply::Answer(404, json!({})) });
    let call = h.get("/api/profile");
    // The first attempt fails; the request now waits to send `tok-a` again.
    while h.world.sent_to("/api/profile").is_empty() {
        h.advance(10);
    }
    let logout = h.logout();
    assert_eq!(h.run(call).code(), "LOGGED_OUT");
    assert_eq!(h.run(logout), Outcome::Done);
    h.run_until_idle();
    assert_eq!(h.world.sent_to("/api/profile").len(), 1, "the logged-out token was not sent again");
}
