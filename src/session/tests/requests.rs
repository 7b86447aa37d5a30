//! API requests: one login for many callers, re-login on "session invalid", retries and their
//! delays, deadlines, and logout while requests are in flight.

use super::*;
use crate::retry::{backoff_ms, Jitter};
use crate::rule::{Field, Scalar};

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
        "/api/profile" => Response::Answer(401, json!({})),
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
        "/api/profile" => Response::Answer(401, json!({})),
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
        "/api/order" => Response::Fail("request:fail -2:net::ERR_FAILED"),
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
        "/api/profile" => Response::Fail("request:fail -2:net::ERR_FAILED"),
        _ => w.backend(sent),
    });
    let mut h = Harness::new(world, json!({ "retries": 4 }));
    let call = h.get("/api/profile");
    assert_eq!(h.run(call).code(), "NETWORK");
    let times: Vec<Millis> = h.world.sent_to("/api/profile").iter().map(|s| s.at).collect();
    let gaps: Vec<Millis> = times.windows(2).map(|w| w[1] - w[0] - 50).collect();
    // The machine draws its jitter from its seed, so the exact waits are those of the seeded
    // sequence, under ceilings of 300, 600, 1200, 2400 ms.
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
        "/api/profile" => Response::Hang,
        _ => w.backend(sent),
    });
    let mut h = Harness::new(world, json!({ "retries": 0, "timeoutMs": 3000 }));
    let start = h.now();
    let mut req = ApiRequest::get("/api/profile");
    req.timeout_ms = Some(700);
    let call = h.request(req);
    assert_eq!(h.run(call).error(), Error::Timeout { ms: 700 });
    assert_eq!(h.now() - start, 700);
}

#[test]
fn a_failed_login_rejects_every_waiter_with_the_same_error() {
    let mut world = World::default();
    world.serve(|_, _| Response::Answer(400, json!({ "errcode": 40029 })));
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
    assert!(h.cancelled().contains(&login_op), "the login in flight is cancelled");
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
        "/api/profile" => Response::Answer(200, json!({ "auth": sent.header("Authorization") })),
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
