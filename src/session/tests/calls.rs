//! Tests of the calls beyond `ensure`/`request`/`logout`: `login(extra)`, `set_token`, `abort`,
//! uploads and downloads, and of what `logout()` leaves behind.

use serde_json::json;

use super::*;
use crate::rule::{Field, Scalar};

fn logged_in() -> Harness {
    let mut h = Harness::new(World::default(), json!({}));
    let call = h.ensure();
    assert_eq!(h.run(call).ready().0, "tok-1");
    h
}

fn upload(url: &str) -> ApiRequest {
    ApiRequest { kind: ApiKind::Upload, ..ApiRequest::get(url) }
}

// ---- login(extra) ------------------------------------------------------------------------

#[test]
fn login_sends_one_login_with_the_code_and_the_extra_object() {
    let mut h = logged_in();
    let call = h.login(json!({ "phoneCode": "phone-1", "code": "not-this" }));
    assert_eq!(h.run(call).ready(), ("tok-2".into(), Source::Login));
    assert_eq!(h.world.login_calls, 2, "one wx.login for the launch, one for login()");
    let logins = h.world.sent_to("/login");
    assert_eq!(logins.len(), 2);
    assert_eq!(logins[1].body, Some(json!({ "code": "code-2", "phoneCode": "phone-1" })), "the fresh code wins over the extra's");
    let next = h.get("/api/profile");
    assert!(matches!(h.run(next), Outcome::Answer(200, _)));
    assert_eq!(h.world.sent.last().and_then(|s| s.header("token")), Some("tok-2"));
    assert_eq!(h.world.stored_token().as_deref(), Some("tok-2"));
}

#[test]
fn each_login_call_gets_its_own_login_in_order() {
    let mut h = logged_in();
    let first = h.login(json!({ "phoneCode": "phone-1" }));
    let second = h.login(json!({ "phoneCode": "phone-2" })); // a double tap: a new one-time code
    let ensure = h.ensure();
    let outcomes = h.run_all(&[first, second, ensure]);
    assert_eq!(outcomes[0].clone().ready().0, "tok-2");
    assert_eq!(outcomes[1].clone().ready().0, "tok-3");
    assert_eq!(outcomes[2].clone().ready().0, "tok-2", "ensure() started while the first login runs joins it");
    let bodies: Vec<_> = h.world.sent_to("/login").iter().map(|s| s.body.clone()).collect();
    assert_eq!(bodies[1..], [Some(json!({ "code": "code-2", "phoneCode": "phone-1" })), Some(json!({ "code": "code-3", "phoneCode": "phone-2" }))]);
}

#[test]
fn a_login_waits_for_the_launch_flow_in_flight() {
    let mut h = Harness::new(World::default(), json!({}));
    let ensure = h.ensure(); // reading storage
    let request = h.get("/api/profile");
    let login = h.login(json!({ "phoneCode": "phone-1" }));
    let outcomes = h.run_all(&[ensure, request, login]);
    assert_eq!(outcomes[0].clone().ready().0, "tok-1");
    assert!(matches!(outcomes[1], Outcome::Answer(200, _)));
    assert_eq!(outcomes[2].clone().ready().0, "tok-2");
    let logins = h.world.sent_to("/login");
    assert_eq!(logins[1].body, Some(json!({ "code": "code-2", "phoneCode": "phone-1" })));
    h.run_until_idle();
}

#[test]
fn a_failed_login_leaves_a_good_stored_token_to_the_others_in_either_order() {
    for login_first in [false, true] {
        let mut world = World::default();
        world.store_record("stored");
        world.serve(|world, sent| match sent.path() {
            "/login" => Response::Answer(500, json!({})),
            _ => world.backend(sent),
        });
        let mut h = Harness::new(world, json!({ "retries": 0 }));
        let (login, request) = if login_first {
            let login = h.login(json!({ "phoneCode": "p" }));
            (login, h.get("/api/profile"))
        } else {
            let request = h.get("/api/profile");
            (h.login(json!({ "phoneCode": "p" })), request)
        };
        let outcomes = h.run_all(&[login, request]);
        assert_eq!(outcomes[0].clone().code(), "SERVER_REJECTED", "login first: {login_first}");
        assert!(matches!(outcomes[1], Outcome::Answer(200, _)), "login first: {login_first}: {:?}", outcomes[1]);
        assert_eq!(h.world.sent_to("/api/profile")[0].header("token"), Some("stored"));
        h.run_until_idle();
    }
}

#[test]
fn a_failed_login_keeps_the_token_in_use() {
    let mut h = logged_in();
    h.world.serve(|world, sent| match sent.path() {
        "/login" => Response::Answer(403, json!({ "error": "phone code expired" })),
        _ => world.backend(sent),
    });
    let call = h.login(json!({ "phoneCode": "old" }));
    assert_eq!(h.run(call).code(), "SERVER_REJECTED");
    assert_eq!(h.world.states.last(), Some(&(State::Ready, Some("SERVER_REJECTED"))));
    let ensure = h.ensure();
    assert_eq!(h.run(ensure).ready().0, "tok-1");
    assert_eq!(h.world.stored_token().as_deref(), Some("tok-1"));
}

#[test]
fn logout_cancels_a_login_in_flight() {
    let mut h = logged_in();
    h.world.login_hangs = true;
    let call = h.login(json!({}));
    let out = h.logout();
    assert_eq!(h.run(call).code(), "LOGGED_OUT");
    assert_eq!(h.run(out), Outcome::Done);
    h.run_until_idle();
}

// ---- set_token ---------------------------------------------------------------------------

#[test]
fn set_token_is_stored_used_and_reported() {
    let mut h = Harness::new(World::default(), json!({}));
    h.world.valid_tokens.insert("scanned".into());
    let call = h.set_token("scanned", Some(3600));
    assert_eq!(h.run(call), Outcome::Done);
    assert_eq!(h.session().token(h.now()).map(Token::as_str), Some("scanned"));
    assert_eq!(h.world.stored_token().as_deref(), Some("scanned"));
    assert_eq!(h.world.states.last(), Some(&(State::Ready, None)));
    let get = h.get("/api/profile");
    assert!(matches!(h.run(get), Outcome::Answer(200, _)));
    assert_eq!(h.world.sent_to("/api/profile")[0].header("token"), Some("scanned"));
    assert_eq!(h.world.login_calls, 0);
}

#[test]
fn set_token_refuses_what_cannot_go_in_a_header_and_changes_nothing() {
    let mut h = logged_in();
    for bad in ["", "a\r\nX-Evil: 1", "tab\there"] {
        let call = h.set_token(bad, None);
        let error = h.run(call).error();
        assert_eq!((error.code(), error.key()), ("CONFIG", Some("token")), "{bad:?}");
    }
    assert_eq!(h.session().token(h.now()).map(Token::as_str), Some("tok-1"));
    assert_eq!(h.world.stored_token().as_deref(), Some("tok-1"));
}

#[test]
fn set_token_ends_a_flow_in_flight_for_its_waiters() {
    let mut world = World::default();
    world.login_hangs = true;
    let mut h = Harness::new(world, json!({}));
    let ensure = h.ensure();
    h.advance(10);
    let set = h.set_token("elsewhere", None);
    assert_eq!(h.run(ensure).ready().0, "elsewhere");
    assert_eq!(h.run(set), Outcome::Done);
    h.run_until_idle();
}

#[test]
fn a_token_past_its_expiry_is_not_used_from_memory() {
    let mut h = Harness::new(World::default(), json!({}));
    h.world.valid_tokens.insert("short".into());
    let set = h.set_token("short", Some(60));
    h.run(set);
    h.advance(59_000); // past the refresh margin (a tenth of the lifetime)
    assert_eq!(h.session().token(h.now()), None);
    let ensure = h.ensure();
    assert_eq!(h.run(ensure).ready(), ("tok-1".into(), Source::Login));
}

// ---- abort -------------------------------------------------------------------------------

#[test]
fn abort_while_waiting_for_the_login_leaves_the_login_to_the_others() {
    let mut h = Harness::new(World::default(), json!({}));
    let ensure = h.ensure();
    let request = h.get("/api/profile");
    h.abort(request);
    assert_eq!(h.outcome(request).cloned().map(Outcome::code), Some("ABORTED"));
    assert_eq!(h.run(ensure).ready().0, "tok-1");
    assert!(h.world.sent_to("/api/profile").is_empty(), "no stray request");
    h.run_until_idle();
}

#[test]
fn abort_during_the_request_cancels_it_and_never_logs_in() {
    let mut h = logged_in();
    h.world.valid_tokens.clear(); // the answer would say "invalid" and start a re-login
    let request = h.get("/api/profile");
    let op = *h.ops(|a| matches!(a, Action::Send(_))).last().unwrap();
    h.abort(request);
    assert_eq!(h.run(request).code(), "ABORTED");
    assert!(h.cancelled().contains(&op));
    h.run_until_idle();
    assert_eq!(h.world.login_calls, 1, "only the launch's");
}

#[test]
fn abort_during_a_retry_wait_and_after_settling() {
    let mut h = logged_in();
    h.world.serve(|_, _| Response::Fail("request:fail -2:net::ERR_FAILED"));
    let request = h.get("/api/profile");
    h.advance(100); // failed once, waiting to send again
    h.abort(request);
    assert_eq!(h.run(request).code(), "ABORTED");
    h.run_until_idle();
    assert_eq!(h.world.sent_to("/api/profile").len(), 1);
    h.abort(request); // settled already: nothing happens
    h.abort(9_999); // never was a call
    assert!(!h.session().has_actions());
}

// ---- uploads and downloads -----------------------------------------------------------------

#[test]
fn an_upload_posts_and_is_retried_once_after_one_relogin() {
    let mut h = logged_in();
    h.world.valid_tokens.clear();
    let call = h.request(upload("/api/profile"));
    assert!(matches!(h.run(call), Outcome::Answer(200, _)));
    let sent = h.world.sent_to("/api/profile");
    assert_eq!(sent.len(), 2);
    assert!(sent.iter().all(|s| s.kind == ApiKind::Upload && s.method == "POST"));
    assert_eq!((sent[0].header("token"), sent[1].header("token")), (Some("tok-1"), Some("tok-2")));
    assert_eq!(h.world.login_calls, 2);
}

#[test]
fn a_failed_upload_is_not_sent_twice_but_a_download_is() {
    let mut h = logged_in();
    h.world.serve(|_, _| Response::Fail("request:fail -2:net::ERR_FAILED"));
    let up = h.request(upload("/api/avatar"));
    let down = h.request(ApiRequest { kind: ApiKind::Download, method: Method::Post, ..ApiRequest::get("/api/file") });
    let outcomes = h.run_all(&[up, down]);
    assert_eq!((outcomes[0].clone().code(), outcomes[1].clone().code()), ("NETWORK", "NETWORK"));
    assert_eq!(h.world.sent_to("/api/avatar").len(), 1);
    let downloads = h.world.sent_to("/api/file");
    assert_eq!(downloads.len(), 3, "a download is a GET: retried twice");
    assert!(downloads.iter().all(|s| s.method == "GET" && s.kind == ApiKind::Download));
}

// ---- what logout() leaves behind -----------------------------------------------------------

#[test]
fn a_request_failing_after_logout_is_not_sent_again_with_the_old_token() {
    let mut h = logged_in();
    h.world.serve(|_, _| Response::Hang);
    let request = h.get("/api/profile");
    let op = *h.ops(|a| matches!(a, Action::Send(_))).last().unwrap();
    h.advance(60); // at the server, which doesn't answer
    let out = h.logout();
    h.feed(|s, now| s.http_failed(now, op, "request:fail -2:net::ERR_FAILED"));
    assert_eq!(h.run(request).code(), "LOGGED_OUT");
    assert_eq!(h.run(out), Outcome::Done);
    assert_eq!(h.world.sent_to("/api/profile").len(), 1);
}

#[test]
fn after_a_logout_that_could_not_remove_the_token_it_is_not_read_back() {
    let mut h = logged_in();
    h.world.faults.insert(Capability::StorageRemove, Fault::Fails);
    let out = h.logout();
    assert_eq!(h.run(out).code(), "STORAGE");
    h.world.faults.clear();
    let ensure = h.ensure();
    assert_eq!(h.run(ensure).ready(), ("tok-2".into(), Source::Login));
}

#[test]
fn a_refused_token_left_in_storage_is_not_read_back() {
    let mut h = logged_in();
    h.world.valid_tokens.clear();
    h.world.login_failures = 10; // the re-login fails: tok-1 stays stored
    let request = h.get("/api/profile");
    assert_eq!(h.run(request).code(), "WX_LOGIN_FAILED");
    assert_eq!(h.world.stored_token().as_deref(), Some("tok-1"));
    h.world.login_failures = 0;
    let ensure = h.ensure();
    assert_eq!(h.run(ensure).ready(), ("tok-2".into(), Source::Login), "no second try of the refused tok-1");
}

#[test]
fn a_retry_after_backoff_carries_the_newest_token() {
    let mut h = logged_in();
    let fail_once = std::cell::Cell::new(true);
    h.world.serve(move |world, sent| {
        if sent.path() == "/api/order" && fail_once.replace(false) {
            return Response::Fail("request:fail -2:net::ERR_FAILED");
        }
        world.backend(sent)
    });
    let order = h.get("/api/order");
    h.advance(60); // failed; waiting to send again
    let set = h.set_token("tok-new", None);
    h.world.valid_tokens.insert("tok-new".into());
    h.run(set);
    assert!(matches!(h.run(order), Outcome::Answer(200, _)));
    let sent = h.world.sent_to("/api/order");
    assert_eq!(sent.last().and_then(|s| s.header("token")), Some("tok-new"));
}

#[test]
fn set_token_during_a_login_with_extra_aborts_that_login_but_not_the_waiters() {
    let mut h = Harness::new(World::default(), json!({}));
    h.world.login_hangs = true;
    let login = h.login(json!({ "phoneCode": "phone-1" }));
    let ensure = h.ensure();
    let set = h.set_token("elsewhere", None);
    assert_eq!(h.run(login).code(), "ABORTED", "its phone code never reached the server");
    assert_eq!(h.run(ensure).ready().0, "elsewhere");
    assert_eq!(h.run(set), Outcome::Done);
    h.run_until_idle();
}

// ---- calls started while a login(extra) runs --------------------------------------------

#[test]
fn calls_started_while_a_login_runs_wait_for_its_token() {
    let mut h = logged_in();
    let login = h.login(json!({ "phoneCode": "phone-1" }));
    let ensure = h.ensure();
    let request = h.get("/api/profile");
    let upload = h.request(upload("/api/profile"));
    let outcomes = h.run_all(&[login, ensure, request, upload]);
    assert_eq!(outcomes[0].clone().ready().0, "tok-2");
    assert_eq!(outcomes[1].clone().ready(), ("tok-2".into(), Source::Login), "ensure() joins the login in flight");
    assert!(matches!(outcomes[2], Outcome::Answer(200, _)));
    let api: Vec<_> = h.world.sent_to("/api/profile").iter().map(|s| s.header("token").map(str::to_owned)).collect();
    assert_eq!(api, [Some("tok-2".to_owned()), Some("tok-2".to_owned())], "the request and the upload carry the new token");
}

#[test]
fn when_that_login_fails_they_go_on_with_the_token_in_use() {
    let mut h = logged_in();
    h.world.serve(|world, sent| match sent.body.as_ref().and_then(|b| b.get("phoneCode")) {
        Some(_) => Response::Answer(400, json!({ "errcode": 40029 })),
        None => world.backend(sent),
    });
    let login = h.login(json!({ "phoneCode": "phone-1" }));
    let ensure = h.ensure();
    let request = h.get("/api/profile");
    let outcomes = h.run_all(&[login, ensure, request]);
    assert_eq!(outcomes[0].clone().code(), "SERVER_REJECTED");
    assert_eq!(outcomes[1].clone().ready().0, "tok-1");
    assert!(matches!(outcomes[2], Outcome::Answer(200, _)));
    assert_eq!(h.world.login_calls, 2, "no other login than the refused one");
}

#[test]
fn a_refused_login_never_puts_the_refused_token_back_in_use() {
    // The token is revoked; a request gets 401 and waits for the login(extra) in flight, which
    // the server refuses. The request must not be sent again with the refused token (read back
    // from storage): it logs in again, once.
    let mut h = logged_in();
    h.world.valid_tokens.clear();
    h.world.serve(|world, sent| match sent.body.as_ref().and_then(|b| b.get("phoneCode")) {
        Some(_) => Response::Answer(400, json!({ "errcode": 40029 })),
        None => world.backend(sent),
    });
    h.world.slow_paths.insert("/login".into(), 200);
    let request = h.get("/api/profile"); // sent with tok-1: its 401 comes in 50 ms
    h.advance(10);
    let login = h.login(json!({ "phoneCode": "phone-1" })); // in flight when the 401 comes
    let outcomes = h.run_all(&[request, login]);
    assert_eq!(outcomes[1].clone().code(), "SERVER_REJECTED");
    assert!(matches!(outcomes[0], Outcome::Answer(200, _)), "{:?}", outcomes[0]);
    let sent: Vec<_> = h.world.sent_to("/api/profile").iter().map(|s| s.header("token").map(str::to_owned)).collect();
    assert_eq!(sent, [Some("tok-1".to_owned()), Some("tok-2".to_owned())], "never tok-1 again");
}

// ---- app code called from an action calling back in ---------------------------------------

/// Polls actions until one `pick` selects (returned), performing nothing.
fn poll_until(session: &mut Session, pick: impl Fn(&Action) -> bool) -> Vec<Action> {
    let mut seen = Vec::new();
    while let Some(action) = session.poll_action() {
        let done = pick(&action);
        seen.push(action);
        if done {
            return seen;
        }
    }
    panic!("no such action among {seen:?}");
}

#[test]
fn a_logout_from_the_logging_in_report_starts_no_wx_login() {
    let mut session = Session::new(config(json!({})), SEED);
    session.ensure(START);
    let read = poll_until(&mut session, |a| matches!(a, Action::ReadStorage { .. }));
    let Some(Action::ReadStorage { op, .. }) = read.last() else { unreachable!() };
    session.storage_read(START, *op, StorageValue::Missing);
    // The driver has taken "logging-in" (the WxLogin is still queued) and its listener logs out.
    poll_until(&mut session, |a| matches!(a, Action::Report { state: State::LoggingIn, .. }));
    session.logout(START);
    let rest: Vec<Action> = core::iter::from_fn(|| session.poll_action()).collect();
    assert!(!rest.iter().any(|a| matches!(a, Action::WxLogin { .. })), "{rest:?}");
    assert!(!rest.iter().any(|a| matches!(a, Action::Cancel { .. })), "nothing started, nothing to cancel: {rest:?}");
    assert_eq!(session.next_deadline(), Some(START + 10_000), "only the logout's storage call waits");
}

#[test]
fn an_abort_from_the_ready_report_sends_nothing() {
    let mut session = Session::new(config(json!({})), SEED);
    let post = session.request(START, ApiRequest { method: Method::Post, ..ApiRequest::get("/api/order") });
    let read = poll_until(&mut session, |a| matches!(a, Action::ReadStorage { .. }));
    let Some(Action::ReadStorage { op, .. }) = read.last() else { unreachable!() };
    session.storage_read(START, *op, StorageValue::Missing);
    let login = poll_until(&mut session, |a| matches!(a, Action::WxLogin { .. }));
    let Some(Action::WxLogin { op, .. }) = login.last() else { unreachable!() };
    session.wx_login_done(START, *op, Ok("code-1"));
    let send = poll_until(&mut session, |a| matches!(a, Action::Send(_)));
    let Some(Action::Send(send)) = send.last() else { unreachable!() };
    let answer = Answer { status: 200, fields: vec![Field::Scalar(Scalar::Text("tok-1".into()))] };
    session.http_answered(START, send.op, answer);
    // The driver has taken "ready" (the POST's Send is still queued) and its listener aborts it.
    poll_until(&mut session, |a| matches!(a, Action::Report { state: State::Ready, .. }));
    session.abort(post);
    let rest: Vec<Action> = core::iter::from_fn(|| session.poll_action()).collect();
    assert!(!rest.iter().any(|a| matches!(a, Action::Send(_))), "{rest:?}");
    assert!(rest.iter().any(|a| matches!(a, Action::Reject { call, error: Error::Aborted } if *call == post)), "{rest:?}");
}

#[test]
fn a_logout_from_the_ready_report_hands_out_no_token() {
    let mut session = Session::new(config(json!({})), SEED);
    let ensure = session.ensure(START);
    let get = session.request(START, ApiRequest::get("/api/profile"));
    let read = poll_until(&mut session, |a| matches!(a, Action::ReadStorage { .. }));
    let Some(Action::ReadStorage { op, .. }) = read.last() else { unreachable!() };
    session.storage_read(START, *op, StorageValue::Missing);
    let login = poll_until(&mut session, |a| matches!(a, Action::WxLogin { .. }));
    let Some(Action::WxLogin { op, .. }) = login.last() else { unreachable!() };
    session.wx_login_done(START, *op, Ok("code-1"));
    let send = poll_until(&mut session, |a| matches!(a, Action::Send(_)));
    let Some(Action::Send(send)) = send.last() else { unreachable!() };
    session.http_answered(START, send.op, Answer { status: 200, fields: vec![Field::Scalar(Scalar::Text("tok-1".into()))] });
    // The driver has taken "ready" (the ensure()'s token and the request's Send are still queued)
    // and its listener logs out.
    poll_until(&mut session, |a| matches!(a, Action::Report { state: State::Ready, .. }));
    session.logout(START);
    let rest: Vec<Action> = core::iter::from_fn(|| session.poll_action()).collect();
    assert!(!rest.iter().any(|a| matches!(a, Action::Send(_) | Action::Resolve { value: Resolution::Ready { .. }, .. })), "{rest:?}");
    for call in [ensure, get] {
        assert!(rest.iter().any(|a| matches!(a, Action::Reject { call: c, error: Error::LoggedOut } if *c == call)), "{call}: {rest:?}");
    }
}
