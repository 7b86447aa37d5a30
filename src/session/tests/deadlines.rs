//! What the sans-IO machine makes testable: deadlines, cancellation, late and unknown results,
//! and every call settling exactly once whatever happens.

use super::*;
use crate::retry::{backoff_ms, Jitter};

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
            setup: |w| w.serve(|w, sent| if sent.path() == "/auth" { Response::Hang } else { w.backend(sent) }),
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
                w.serve(|w, sent| if sent.path() == "/login" { Response::Hang } else { w.backend(sent) });
            },
            call: ensure,
            ends: Err("TIMEOUT"),
            hung: |a| sends_to(a, "/login"),
        },
        Hung {
            stage: "API request",
            setup: |w| w.serve(|w, sent| if sent.path() == "/api/profile" { Response::Hang } else { w.backend(sent) }),
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
        assert_eq!(h.cancelled(), hung, "{}: exactly the operations that hung are cancelled", case.stage);
    }
}

#[test]
fn a_wx_login_that_never_answers_fails_typed_and_is_cancelled() {
    let mut world = World::default();
    world.login_hangs = true;
    let mut h = Harness::new(world, json!({ "retries": 1, "timeoutMs": 1000 }));
    let start = h.now();
    let call = h.ensure();
    let err = h.run(call).error();
    assert_eq!(err.code(), "WX_LOGIN_FAILED");
    assert!(err.to_string().contains("did not answer within 1000 ms"), "{err}");
    let logins = h.ops(|a| matches!(a, Action::WxLogin { .. }));
    assert_eq!(logins.len(), 2, "one try and one retry, each with its own deadline");
    assert_eq!(h.cancelled(), logins);
    let mut jitter = Jitter::new(SEED);
    assert_eq!(h.now() - start, 1000 + Millis::from(backoff_ms(0, jitter.draw())) + 1000);
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
    assert_eq!(h.cancelled(), extras);
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
    assert_eq!(h.cancelled(), storage_ops);
}

#[test]
fn results_for_unknown_or_cancelled_operations_are_ignored() {
    let mut world = with_record("t");
    world.serve(|w, sent| match sent.path() {
        "/api/profile" => Response::Hang,
        _ => w.backend(sent),
    });
    let mut h = Harness::new(world, json!({ "retries": 0, "timeoutMs": 700 }));
    let call = h.get("/api/profile");
    assert_eq!(h.run(call).error(), Error::Timeout { ms: 700 });
    assert_eq!(h.cancelled().len(), 1);
    let cancelled = h.cancelled()[0];
    let before = h.log().len();
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
    assert_eq!(h.log()[before..], [], "no action for results nobody waits for");
    assert_eq!(h.session().next_deadline(), None);
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
    assert_eq!(h.cancelled(), first, "the first wx.login timed out");
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
    assert_eq!(h.cancelled(), wx_login);
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
    assert_eq!(h.cancelled(), check);
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
    assert!(h.cancelled().is_empty());
    assert_eq!(h.run_all(&[ensure, logout]), [Outcome::Failed(Error::LoggedOut), Outcome::Done]);
    assert_eq!(h.session().next_deadline(), None, "no timer left behind");
    h.run_until_idle();
    assert_eq!(h.world.login_calls, 1);
}

#[test]
fn the_token_never_goes_to_another_origin() {
    let mut world = with_record("t");
    world.serve(
        |w, sent| if sent.url.starts_with("http://dev.test/") { w.backend(sent) } else { Response::Answer(200, json!({ "seen": sent.header("token") })) },
    );
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
            0 => Response::Fail("request:fail -2:net::ERR_FAILED"),
            1 => Response::Fail("request:fail timeout"),
            2 => Response::Hang,
            3 => Response::Answer(500, json!({})),
            4 => Response::Answer(401, json!({})),
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
                    if let Some(&op) = h.cancelled().get((r >> 8) as usize % h.cancelled().len().max(1)) {
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
    h.world.serve(|_, sent| if sent.path() == "/api/profile" { Response::Fail("request:fail -2:net::ERR_FAILED") } else { Response::Answer(404, json!({})) });
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
