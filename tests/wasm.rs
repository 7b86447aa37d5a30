//! The exported ABI on wasm32, in Node: what `js-glue/src/core.js` and `driver.js` rely on —
//! the slot's layout, strings through linear memory, handles, plain data — driven the way the
//! glue drives it. Run with `wasm-pack test --node` (or scripts/test.sh).
#![cfg(target_arch = "wasm32")]

use wasm_bindgen_test::*;
use wx_session::abi::{self, action, field, flag, read, send, source, stored, word};
use wx_session::plain::Writer;
use wx_session::wasm::*;

/// Reads slot word `i` the way the glue does (the offsets of `abi::word`).
fn slot_word(i: u32) -> u32 {
    let slot = wxs_slot() as *const u32;
    // SAFETY: the slot is a live static of at least 20 words (see src/wasm/slot.rs).
    unsafe { *slot.add(i as usize) }
}

fn bytes(i: u32) -> Vec<u8> {
    let (ptr, len) = (slot_word(word::TEXT_PTR + i) as *const u8, slot_word(word::TEXT_LEN + i) as usize);
    // SAFETY: the slot's string i points at `len` bytes owned by the slot until the next action.
    unsafe { std::slice::from_raw_parts(ptr, len) }.to_vec()
}

fn text(i: u32) -> String {
    String::from_utf8(bytes(i)).expect("the core writes UTF-8")
}

/// Writes `data` where the glue writes its input; returns the length.
fn input(data: &[u8]) -> u32 {
    let at = wxs_input(data.len() as u32);
    // SAFETY: wxs_input returned room for at least `data.len()` bytes.
    unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), at, data.len()) };
    data.len() as u32
}

fn config(base_url: &str, extra: impl FnOnce(&mut Writer)) -> Vec<u8> {
    let mut w = Writer::new();
    w.object(2).key("baseUrl").string(base_url).key("useCheckSession").bool(false);
    extra(&mut w);
    w.into_bytes()
}

fn create(config: &[u8]) -> u32 {
    wxs_create(input(config), 7, 0)
}

/// The next action's kind and its numbers `a`…`e`.
fn next(handle: u32) -> (u32, [u32; 5]) {
    let kind = wxs_next_action(handle);
    (kind, [slot_word(word::A), slot_word(word::B), slot_word(word::C), slot_word(word::D), slot_word(word::E)])
}

const NOW: f64 = 1_700_000_000_000.0;

#[wasm_bindgen_test]
fn a_first_launch_through_the_abi() {
    let h = create(&config("https://api.test", |_| {}));
    assert!(h > 0);
    let call = wxs_ensure(h, NOW);

    // "checking" (state 1), then the stored token: kind 1 (ReadStorage), the key in string 0.
    let checking = abi::state::NAMES.iter().position(|s| *s == "checking").unwrap() as u32;
    assert_eq!(next(h), (action::REPORT, [checking, 0, 0, 0, 0]));
    let (kind, [op, ..]) = next(h);
    assert_eq!((kind, text(0).as_str()), (action::READ_STORAGE, "token"));
    assert_eq!(next(h).0, 0);
    wxs_storage_read(h, NOW, op, stored::MISSING, 0);

    // wx.login, then the login request with the code in the body.
    let mut login_op = 0;
    loop {
        let (kind, [a, ..]) = next(h);
        if kind == 0 {
            break;
        }
        if kind == action::WX_LOGIN {
            login_op = a;
        }
    }
    assert!(login_op > 0);
    let code = input(b"061code");
    wxs_login_answered(h, NOW, login_op, abi::login::CODE, code);
    let (kind, [send_op, call_of_send, method, timeout, flags]) = next(h);
    assert_eq!(kind, action::SEND);
    assert_eq!(call_of_send, 0, "a login is no caller's request");
    assert_eq!((abi::method::NAMES[method as usize], timeout), ("POST", 10_000), "POST, the default time limit");
    assert_eq!(text(0), "https://api.test/login");
    assert_eq!(flags & send::READ_SET_MASK, read::LOGIN, "the login read set");
    assert_ne!(flags & send::BODY, 0, "a body field");
    assert_eq!((text(3), text(4)), ("code".to_string(), "061code".to_string()));

    // The answer: status 200 and the token field (the login read set is just `token`).
    assert_eq!(wxs_read_paths(h, read::LOGIN), 1);
    wxs_read_path(h, read::LOGIN, 0);
    assert_eq!(text(0), "token");
    let token = input("tok-1".as_bytes());
    wxs_field(field::TEXT, 0.0, token);
    wxs_http_answered(h, NOW + 5.0, send_op, 200);

    // The record to store (JSON), the report, and `ensure` resolved with the token.
    let mut resolved = None;
    loop {
        let (kind, [a, b, ..]) = next(h);
        match kind {
            0 => break,
            k if k == action::WRITE_STORAGE => {
                let record = text(1);
                assert!(record.starts_with("{\"v\":1,\"token\":\"tok-1\","), "the record, as JSON: {record}");
                wxs_storage_done(h, a, 1, 0);
            }
            k if k == action::RESOLVE_READY => resolved = Some((a, b, text(0))),
            _ => {}
        }
    }
    assert_eq!(resolved, Some((call, source::LOGIN, "tok-1".to_string())));
    assert_eq!(wxs_deadline(h), -1.0, "nothing left waiting");
    wxs_drop(h);
}

#[wasm_bindgen_test]
fn a_bad_config_gives_handle_zero_and_the_error_in_the_slot() {
    let mut w = Writer::new();
    w.object(2).key("baseUrl").string("https://x").key("login").object(1).key("tokenPath").number(7.0);
    assert_eq!(create(w.bytes()), 0);
    assert_eq!(slot_word(word::KIND), action::REJECT);
    assert_eq!((text(0).as_str(), text(2).as_str()), ("CONFIG", "login.tokenPath"));
    assert!(text(1).contains("expected a string, got a number"), "{}", text(1));
}

#[wasm_bindgen_test]
fn requests_with_unreadable_options_are_refused_by_the_core() {
    let h = create(&config("https://api.test", |_| {}));
    let url = input(b"/api/profile");
    let call = wxs_request(h, NOW, url, u32::MAX, flag::ABSENT, flag::ABSENT, f64::NAN, abi::call::REQUEST);
    assert_eq!(next(h), (action::REJECT, [call, 0, 0, 0, 0]));
    assert_eq!((text(0).as_str(), text(2).as_str()), ("CONFIG", "request.method"));
    let url = input(b"/api/profile");
    let call = wxs_request(h, NOW, url, 0, flag::INVALID, flag::ABSENT, f64::NAN, abi::call::REQUEST);
    assert_eq!(next(h).1[0], call);
    assert_eq!(text(2), "request.auth");
    let url = input(b"/api/profile");
    wxs_request(h, NOW, url, 0, flag::ABSENT, flag::ABSENT, 1.5, abi::call::REQUEST);
    next(h);
    assert_eq!(text(2), "request.timeout");
    wxs_drop(h);
}

#[wasm_bindgen_test]
fn unknown_handles_and_ops_are_ignored() {
    assert_eq!(wxs_ensure(999, NOW), 0);
    assert_eq!(wxs_next_action(999), 0);
    assert_eq!(wxs_deadline(0), -1.0);
    wxs_http_answered(12345, NOW, 1, 200);
    let h = create(&config("https://api.test", |_| {}));
    wxs_http_failed(h, NOW, 424242, input(b"request:fail"));
    wxs_field(field::NUMBER, 1.0, 0); // a stray field for an answer that never comes
    wxs_http_answered(h, NOW, 424243, 200);
    assert_eq!(wxs_next_action(h), 0, "no action for ops the machine never started");
    wxs_drop(h);
    assert_eq!(wxs_ensure(h, NOW), 0, "a dropped handle is gone");
}

#[wasm_bindgen_test]
fn handles_are_reused_after_drop_and_sessions_stay_apart() {
    let a = create(&config("https://a.test", |_| {}));
    let b = create(&config("https://b.test", |_| {}));
    assert_ne!(a, b);
    wxs_drop(a);
    let c = create(&config("https://c.test", |_| {}));
    assert_eq!(c, a, "the free slot is reused");
    wxs_ensure(b, NOW);
    assert_eq!(wxs_next_action(c), 0, "c saw nothing of b's call");
    assert_eq!(wxs_next_action(b), action::REPORT);
    assert_eq!(wxs_next_action(b), action::READ_STORAGE);
    wxs_drop(b);
    wxs_drop(c);
}

#[wasm_bindgen_test]
fn time_and_u64_arithmetic_behave_on_wasm32() {
    // Deadlines are whole milliseconds since the epoch (u64), crossing as f64.
    let h = create(&config("https://api.test", |_| {}));
    wxs_ensure(h, NOW);
    assert_eq!(wxs_deadline(h), NOW + 10_000.0);
    wxs_timeout(h, NOW + 10_000.0); // the storage read never answered: on to wx.login
    let mut saw_login = false;
    while let kind @ 1.. = wxs_next_action(h) {
        saw_login |= kind == action::WX_LOGIN;
    }
    assert!(saw_login);
    assert_eq!(wxs_deadline(h), NOW + 20_000.0);
    wxs_drop(h);
}

#[wasm_bindgen_test]
fn set_token_token_upload_and_abort_through_the_abi() {
    let h = create(&config("https://api.test", |_| {}));
    // A refused token: CONFIG naming `token`; a bad lifetime: CONFIG naming `expiresIn`.
    let call = wxs_set_token(h, NOW, input(b"a\r\nb"), 0, f64::NAN);
    assert_eq!(next(h), (action::REJECT, [call, 0, 0, 0, 0]));
    assert_eq!(text(2), "token");
    let call = wxs_set_token(h, NOW, input(b"scanned"), 0, 1.5);
    assert_eq!(next(h).1[0], call);
    assert_eq!(text(2), "expiresIn");
    assert_eq!(wxs_token(h, NOW), 0, "no token yet");
    // A good one: stored as a JSON record, reported ready, resolved, and shown by token().
    let call = wxs_set_token(h, NOW, input(b"scan\"ned"), 0, 3600.0);
    let mut stored = None;
    let mut resolved = false;
    while let kind @ 1.. = wxs_next_action(h) {
        if kind == action::WRITE_STORAGE {
            stored = Some(text(1));
        }
        resolved |= kind == action::RESOLVE_DONE && slot_word(word::A) == call;
    }
    assert!(resolved);
    let expires = (NOW + 3_600_000.0) as u64;
    let json = format!("{{\"v\":1,\"token\":\"scan\\\"ned\",\"expiresAt\":{expires},\"obtainedAt\":{}}}", NOW as u64);
    assert_eq!(stored.as_deref(), Some(json.as_str()));
    assert_eq!(wxs_token(h, NOW), 1);
    assert_eq!(text(0), "scan\"ned");
    // An upload goes out as one, with the token; abort() rejects it and cancels the exchange.
    let call = wxs_request(h, NOW, input(b"/api/avatar"), 0, flag::ABSENT, flag::ABSENT, f64::NAN, abi::call::UPLOAD);
    let (kind, [op, send_call, ..]) = next(h);
    assert_eq!((kind, send_call), (action::SEND, call));
    assert_ne!(slot_word(word::E) & send::UPLOAD, 0);
    assert_eq!(abi::method::NAMES[slot_word(word::C) as usize], "POST", "an upload is a POST");
    wxs_abort(h, call);
    assert_eq!(next(h), (action::CANCEL, [op, 0, 0, 0, 0]));
    assert_eq!(next(h).0, action::REJECT);
    assert_eq!(text(0), "ABORTED");
    wxs_drop(h);
}

#[wasm_bindgen_test]
fn login_carries_its_call_on_the_login_send() {
    let h = create(&config("https://api.test", |_| {}));
    let call = wxs_login(h, NOW);
    let mut login_op = 0;
    while let kind @ 1.. = wxs_next_action(h) {
        if kind == action::WX_LOGIN {
            login_op = slot_word(word::A);
        }
    }
    wxs_login_answered(h, NOW, login_op, abi::login::CODE, input(b"code-1"));
    let (kind, [_, send_call, ..]) = next(h);
    assert_eq!((kind, send_call), (action::SEND, call), "the glue merges this call's extra");
    wxs_drop(h);
}
