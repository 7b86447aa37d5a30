//! The seed corpus, fuzz/corpus/<target>/<name>: the README's server profiles and their flows,
//! in each target's input format. The test fails when the committed corpus differs from what
//! is made here; `SEEDS=write cargo test --test seeds` (in fuzz/) writes it (see README.md).
//!
//! Each `machine` seed is played once here and must do what its name says (how many calls got
//! a token, how many requests an answer), so a change to the schedule format can't silently
//! turn the seeds into noise.

use std::fs;
use std::path::Path;

use wx_session::plain::Writer;
use wx_session::{StoredToken, Token};
use wx_session_fuzz::fields::{self, FieldSpec};
use wx_session_fuzz::machine::{self, Event, Header, Http, Reply, SetTo, Start, Stored, Stray};
use wx_session_fuzz::{profiles, Script};

#[test]
fn the_committed_corpus_is_what_the_seeds_make() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let write = std::env::var("SEEDS").is_ok_and(|v| v == "write");
    let targets: [(&str, MakeSeeds); 4] = [("config", config), ("stored_record", stored_record), ("login_answer", login_answer), ("machine", machine)];
    for (target, make) in targets {
        let dir = root.join(target);
        let mut seeds = Seeds::default();
        make(&mut seeds);
        if write {
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).expect("corpus folder");
            for (name, bytes) in &seeds.files {
                fs::write(dir.join(name), bytes).expect("seed written");
            }
        }
        let mut committed: Vec<(String, Vec<u8>)> = fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e} (SEEDS=write cargo test --test seeds writes it)", dir.display()))
            .map(|entry| {
                let path = entry.expect("corpus entry").path();
                (path.file_name().unwrap_or_default().to_string_lossy().into_owned(), fs::read(&path).expect("seed read"))
            })
            .collect();
        committed.sort();
        seeds.files.sort();
        assert!(committed == seeds.files, "fuzz/corpus/{target} is not what the seeds make: SEEDS=write cargo test --test seeds");
    }
}

/// Makes the seeds of one target.
type MakeSeeds = fn(&mut Seeds);

/// The seeds of one target, by name.
#[derive(Default)]
struct Seeds {
    files: Vec<(String, Vec<u8>)>,
}

impl Seeds {
    fn add(&mut self, name: &str, bytes: &[u8]) {
        self.files.push((name.into(), bytes.to_vec()));
    }
}

fn plain(write: impl FnOnce(&mut Writer)) -> Vec<u8> {
    let mut w = Writer::new();
    write(&mut w);
    w.into_bytes()
}

fn config(seeds: &mut Seeds) {
    let mut seed = |name: &str, bytes: &[u8]| seeds.add(name, bytes);
    for (name, bytes) in profiles::all() {
        seed(&format!("profile-{name}"), &bytes);
    }
    seed(
        "minimal",
        &plain(|w| {
            w.object(1).key("baseUrl").string("https://api.example.com");
        }),
    );
    // The design's example with every key.
    seed(
        "every-key",
        &plain(|w| {
            w.object(11).key("baseUrl").string("https://api.example.com").key("storageKey").string("token");
            w.key("tokenHeader").string("token").key("tokenPrefix").string("");
            w.key("login").object(7).key("url").string("/login").key("method").string("POST").key("codeIn").string("body");
            w.key("codeKey").string("code").key("tokenPath").string("token").key("expiresInPath").null().key("okWhen").null();
            w.key("check").object(4).key("url").string("/auth").key("method").string("POST");
            w.key("okWhen").object(2).key("path").string("errCode").key("equals").number(0.0).key("policy").string("always");
            w.key("useCheckSession").bool(true);
            w.key("invalidWhen").array(2).object(1).key("status").number(401.0).object(2).key("path").string("code").key("equals").number(-1.0);
            w.key("retries").number(2.0).key("timeoutMs").number(10_000.0);
            w.key("trustedOrigins").array(1).string("https://cdn.example.com");
        }),
    );
    seed(
        "typo-retrys",
        &plain(|w| {
            w.object(2).key("baseUrl").string("https://x").key("retrys").number(3.0);
        }),
    );
    seed(
        "rule-without-test",
        &plain(|w| {
            w.object(2).key("baseUrl").string("https://x").key("invalidWhen").array(2);
            w.object(1).key("status").number(401.0).object(1).key("path").string("code");
        }),
    );
    seed(
        "deep-unknown-key",
        &plain(|w| {
            w.object(2).key("baseUrl").string("https://x").key("login").object(1).key("extra");
            for _ in 0..40 {
                w.array(1);
            }
            w.null();
        }),
    );
}

fn stored_record(seeds: &mut Seeds) {
    let mut seed = |name: &str, bytes: &[u8]| seeds.add(name, bytes);
    let token = |text| Token::new(text).expect("a token");
    let record = StoredToken { token: token("eyJhbGciOi.abc"), expires_at: Some(1_700_007_200_000), obtained_at: Some(1_700_000_000_000), refresh_token: None };
    seed("record", &record.to_plain());
    seed("record-no-expiry", &StoredToken { token: token("t"), expires_at: None, obtained_at: None, refresh_token: None }.to_plain());
    seed(
        "legacy-string",
        &plain(|w| {
            w.string("eyJhbGciOi.legacy");
        }),
    );
    seed(
        "null",
        &plain(|w| {
            w.null();
        }),
    );
    seed(
        "json-text",
        &plain(|w| {
            w.string("{\"v\":1,\"token\":\"abc\"}");
        }),
    );
    seed(
        "record-v2-odd-times",
        &plain(|w| {
            w.object(5).key("v").number(2.0).key("token").string("abc").key("expiresAt").number(1.7e12);
            w.key("obtainedAt").number(-5.0).key("note").object(1).key("x").array(1).number(1.0);
        }),
    );
    seed(
        "number",
        &plain(|w| {
            w.number(42.0);
        }),
    );
}

fn login_answer(seeds: &mut Seeds) {
    let mut seed = |name: &str, bytes: &[u8]| seeds.add(name, bytes);
    let now = 1_700_000_000_000;
    let mut answer = |name: &str, profile: usize, status: u16, specs: &[FieldSpec]| {
        let mut s = Script::new();
        s.choice(profile).u64(now);
        fields::write_status(&mut s, status);
        fields::write_specs(&mut s, specs);
        seed(name, &s.bytes);
    };
    let token = FieldSpec::Token { junk: 0 };
    // The profiles' read paths, in order: default [token, expiresIn]; get-query-code [code,
    // token]; session-id [session_id]; wafer2 [code, data.skey].
    answer("default-ok", 0, 200, &[token.clone(), FieldSpec::Number(7200.0)]);
    answer("default-expiry-text", 0, 200, &[token.clone(), FieldSpec::Text(" 60 ".into())]);
    answer("default-503", 0, 503, std::slice::from_ref(&token));
    answer("get-query-code-ok", 1, 200, &[FieldSpec::Number(200.0), token.clone()]);
    answer("get-query-code-500", 1, 200, &[FieldSpec::Number(500.0), token.clone()]);
    answer("session-id-ok", 2, 200, std::slice::from_ref(&token));
    answer("session-id-header-injection", 2, 200, &[FieldSpec::Token { junk: 1 }]);
    answer("wafer2-ok", 3, 200, &[FieldSpec::Number(0.0), token.clone()]);
    answer("wafer2-no-skey", 3, 200, &[FieldSpec::Number(0.0), FieldSpec::Other]);
    answer("limits-8192", 5, 200, &[FieldSpec::Token { junk: 3 }]);
}

fn machine(seeds: &mut Seeds) {
    let mut seed = |name: &str, bytes: &[u8]| seeds.add(name, bytes);
    let mut schedule = |name: &str, header: Header, events: &[Event], ready: usize, answers: usize| {
        let mut s = Script::new();
        header.write(&mut s);
        events.iter().for_each(|event| event.write(&mut s));
        let summary = machine::play(&s.bytes, usize::MAX);
        assert_eq!((summary.ready, summary.answers), (ready, answers), "seed {name} does not do what it says: {summary:?}");
        println!(
            "machine/{name}: {} events, {ready} ready, {answers} answers, rejected {:?}, {} tokens issued",
            summary.events, summary.rejected, summary.tokens_issued
        );
        seed(name, &s.bytes);
    };
    let header = |profile, login_extra| Header { profile, login_extra, seed: 7, start: Start::Now };
    let reply = |index, reply| Event::Reply { index, reply };
    let ok = |status, fields: &[FieldSpec]| Reply::Http(Http::Answer { status, fields: fields.to_vec() });
    let get = |url| Event::Request { url, method: 0, kind: 0, auth: true, retry: false, timeout_ms: None };
    let token = FieldSpec::Token { junk: 0 };
    let code = || Reply::Code(Ok("061abcDEF".into()));

    // default: storage empty → wx.login → POST /login → token stored; then a request.
    schedule(
        "first-launch-default",
        header(0, false),
        &[
            Event::Ensure,
            reply(0, Reply::Storage(Stored::Missing)),
            reply(0, code()),
            reply(0, ok(200, &[token.clone(), FieldSpec::Number(7200.0)])),
            get(0),
            reply(0, Reply::Done(Ok(()))),
            reply(0, ok(200, &[])),
        ],
        1,
        1,
    );

    // default: a fresh stored record → wx.checkSession → POST /auth {errCode: 0} → ready.
    schedule(
        "relaunch-default",
        header(0, false),
        &[
            Event::Ensure,
            reply(0, Reply::Storage(Stored::Newest { expiry: 1 })),
            reply(0, Reply::Valid(true)),
            reply(0, ok(200, &[FieldSpec::Number(0.0)])),
            get(0),
            reply(0, ok(200, &[])),
        ],
        1,
        1,
    );

    // wafer2: a legacy stored string is migrated; the server says {code: -1} → one re-login
    // (X-WX-Code header) → the request is sent again with the new skey.
    schedule(
        "revoked-token-wafer2",
        header(3, false),
        &[
            Event::Ensure,
            reply(0, Reply::Storage(Stored::Legacy("eyJhbGciOi.legacy".into()))),
            reply(0, Reply::Valid(true)),
            get(0),
            reply(1, ok(200, &[FieldSpec::Number(-1.0)])),
            reply(1, code()),
            reply(1, ok(200, &[FieldSpec::Number(0.0), token.clone()])),
            reply(2, ok(200, &[FieldSpec::Number(0.0)])),
            reply(0, Reply::Done(Ok(()))),
            reply(0, Reply::Done(Err("setStorage:fail exceed storage max size 10MB".into()))),
        ],
        1,
        1,
    );

    // get-query-code: three calls on a cold start (one to another origin without the token);
    // wx.login fails once and is retried after the backoff; a timed-out request is retried.
    schedule(
        "cold-start-get-query-code",
        header(1, false),
        &[
            Event::Ensure,
            get(0),
            Event::Request { url: 1, method: 2, kind: 0, auth: true, retry: false, timeout_ms: Some(5_000) },
            Event::Request { url: 3, method: 0, kind: 0, auth: false, retry: false, timeout_ms: None },
            reply(0, Reply::Storage(Stored::Missing)),
            reply(1, Reply::Code(Err("login:fail".into()))),
            Event::Timeout { mode: 1, amount: 0 },
            reply(1, code()),
            reply(1, ok(200, &[FieldSpec::Number(200.0), token.clone()])),
            reply(0, Reply::Http(Http::Fail("request:fail timeout".into()))),
            Event::Timeout { mode: 1, amount: 0 },
            reply(3, ok(200, &[])),
            reply(1, ok(200, &[])),
            reply(1, ok(401, &[])),
        ],
        1,
        2,
    );

    // when-unknown with login.extra: an expired record → login; logout while login.extra()
    // runs; its late answer is ignored; the next login's extra is refused.
    schedule(
        "logout-during-login-extra",
        header(4, true),
        &[
            Event::Ensure,
            reply(0, Reply::Storage(Stored::Newest { expiry: 2 })),
            reply(0, code()),
            Event::Logout,
            Event::Stray { to: Stray::Finished(2), reply: Reply::Extra(Ok(())) },
            reply(0, Reply::Done(Ok(()))),
            Event::Ensure,
            reply(0, Reply::Storage(Stored::Missing)),
            reply(0, code()),
            reply(0, Reply::Extra(Err("user refused".into()))),
        ],
        0,
        0,
    );

    // limits (1 ms deadlines, 10 retries): nothing ever answers; time jumps to each deadline.
    let mut timeouts = vec![Event::Ensure, get(0), Event::Request { url: 2, method: 3, kind: 0, auth: true, retry: true, timeout_ms: Some(0) }];
    timeouts.extend((0..30).map(|_| Event::Timeout { mode: 1, amount: 0 }));
    schedule("nothing-answers-limits", header(5, false), &timeouts, 0, 0);

    // default with login.extra: a checked stored token; then a phone-number login(extra)
    // replaces it; an upload is aborted, a download answered; setToken installs a token of the
    // server's, which the next request carries.
    schedule(
        "phone-login-upload-default",
        header(0, true),
        &[
            Event::Ensure,
            reply(0, Reply::Storage(Stored::Newest { expiry: 1 })),
            reply(0, Reply::Valid(true)),
            reply(0, ok(200, &[FieldSpec::Number(0.0)])),
            Event::Login,
            reply(0, code()),
            reply(0, Reply::Extra(Ok(()))),
            reply(0, ok(200, &[token.clone(), FieldSpec::Number(7200.0)])),
            Event::Request { url: 0, method: 0, kind: 1, auth: true, retry: false, timeout_ms: None },
            Event::Request { url: 1, method: 1, kind: 2, auth: true, retry: false, timeout_ms: None },
            Event::Abort { index: 0 },
            reply(1, ok(200, &[])),
            reply(0, Reply::Done(Ok(()))),
            Event::SetToken { token: SetTo::Issued { junk: 0 }, expires_in_s: None },
            get(0),
            reply(1, ok(200, &[])),
            reply(0, Reply::Done(Ok(()))),
        ],
        2,
        2,
    );

    // session-id: replies of the wrong kind to operations in flight are ignored (each still
    // takes its real answer); a logout whose storage remove never answers times out.
    let wrong = |to, reply| Event::Stray { to: Stray::InFlight(to), reply };
    schedule(
        "wrong-kind-replies-session-id",
        header(2, false),
        &[
            Event::Ensure,
            wrong(0, Reply::Valid(true)),
            reply(0, Reply::Storage(Stored::Missing)),
            wrong(0, Reply::Http(Http::Fail("request:fail".into()))),
            reply(0, code()),
            wrong(0, Reply::Code(Ok("061abcDEF".into()))),
            reply(0, ok(200, std::slice::from_ref(&token))),
            Event::Logout,
            wrong(0, Reply::Storage(Stored::Missing)),
            Event::Timeout { mode: 1, amount: 0 },
        ],
        1,
        0,
    );

    // session-id near the end of u64 time: a plain-string session_id in storage, unchecked.
    let session_id = plain(|w| {
        w.string("legacy-session-id");
    });
    schedule(
        "near-max-time-session-id",
        Header { profile: 2, login_extra: false, seed: 0, start: Start::NearMax },
        &[
            Event::Ensure,
            reply(0, Reply::Storage(Stored::Raw(session_id))),
            reply(0, Reply::Valid(false)),
            reply(0, code()),
            reply(0, ok(200, std::slice::from_ref(&token))),
            Event::Timeout { mode: 4, amount: 0 },
            get(4),
        ],
        1,
        0,
    );
}
