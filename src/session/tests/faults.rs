//! The fault matrix: every host capability × every way it can misbehave × every call that reaches
//! it, each cell with the result it must end in.
//!
//! A fault is switched on for one capability and stays on for every operation of that capability
//! (retries included). Each cell then checks that (a) the call settles within a bound worked out
//! from the config, (b) with the cell's result, (c) storage only ever holds the record stored
//! beforehand or one of a token the server issued, (d) the last reported state is not `checking`
//! or `logging-in` once everything settled, and (e) with the fault gone, the same call on the
//! same session succeeds.
//!
//! "Throws" is not a fault of its own: the glue calls every `wx.*` function inside `try/catch`
//! and reports an exception as the platform's failure, so it reaches the machine as `Fails`.

use serde_json::{json, Value};

use super::*;
use crate::retry::MAX_MS;
use crate::token::{StorageRead, StoredToken};

use Capability::*;
use Garbage::*;

/// The calls of the public API.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Call {
    Ensure,
    Request,
    Logout,
}
use Call::*;

/// How a cell must end.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Ends {
    /// `ensure()` resolves with a token from this source.
    Token(Source),
    /// `request()` resolves with the answer of this status.
    Answer(u16),
    /// `logout()` resolves.
    Done,
    /// The call rejects with this code.
    Code(&'static str),
}

const LOGIN: Ends = Ends::Token(Source::Login);
const OK: Ends = Ends::Answer(200);
const STORAGE: Ends = Ends::Code("STORAGE");
const WX_LOGIN_FAILED: Ends = Ends::Code("WX_LOGIN_FAILED");
const LOGIN_EXTRA_FAILED: Ends = Ends::Code("LOGIN_EXTRA_FAILED");
const NETWORK: Ends = Ends::Code("NETWORK");
const TIMEOUT: Ends = Ends::Code("TIMEOUT");
const BAD_RESPONSE: Ends = Ends::Code("BAD_RESPONSE");
const SERVER_REJECTED: Ends = Ends::Code("SERVER_REJECTED");

const fn g(garbage: Garbage) -> Fault {
    Fault::Garbage(garbage)
}
const FAILS: Fault = Fault::Fails;
const HANGS: Fault = Fault::Hangs;

/// One cell: `call` meets `capability` with `fault`, and `ends` so.
type Cell = (Capability, Fault, Call, Ends);

#[rustfmt::skip]
const MATRIX: &[Cell] = &[
    // A fresh launch over a good stored record: whatever the read gives, the flow logs in.
    (StorageGet,    FAILS,          Ensure,  LOGIN),
    (StorageGet,    HANGS,          Ensure,  LOGIN),
    (StorageGet,    g(WrongType),   Ensure,  LOGIN),
    (StorageGet,    g(Html),        Ensure,  LOGIN),
    (StorageGet,    g(Empty),       Ensure,  LOGIN),
    (StorageGet,    g(Huge),        Ensure,  LOGIN),
    (StorageGet,    g(Deep),        Ensure,  LOGIN),
    (StorageGet,    g(TokenCrLf),   Ensure,  LOGIN),
    (StorageGet,    g(WrongKind),   Ensure,  LOGIN),
    (StorageGet,    FAILS,          Request, OK),
    (StorageGet,    HANGS,          Request, OK),
    (StorageGet,    g(WrongType),   Request, OK),
    (StorageGet,    g(Html),        Request, OK),
    (StorageGet,    g(Empty),       Request, OK),
    (StorageGet,    g(Huge),        Request, OK),
    (StorageGet,    g(Deep),        Request, OK),
    (StorageGet,    g(TokenCrLf),   Request, OK),
    (StorageGet,    g(WrongKind),   Request, OK),
    // Writing a new token: the session goes on in memory (STORAGE is only reported).
    (StorageSet,    FAILS,          Ensure,  LOGIN),
    (StorageSet,    HANGS,          Ensure,  LOGIN),
    (StorageSet,    g(Empty),       Ensure,  LOGIN),
    (StorageSet,    g(Huge),        Ensure,  LOGIN),
    (StorageSet,    g(WrongKind),   Ensure,  LOGIN),
    (StorageSet,    FAILS,          Request, OK),
    (StorageSet,    HANGS,          Request, OK),
    (StorageSet,    g(Empty),       Request, OK),
    (StorageSet,    g(Huge),        Request, OK),
    (StorageSet,    g(WrongKind),   Request, OK),
    // Logging out: the token may still be stored, and the caller hears it.
    (StorageRemove, FAILS,          Logout,  STORAGE),
    (StorageRemove, HANGS,          Logout,  STORAGE),
    (StorageRemove, g(Empty),       Logout,  STORAGE),
    (StorageRemove, g(Huge),        Logout,  STORAGE),
    (StorageRemove, g(WrongKind),   Logout,  STORAGE),
    // wx.checkSession says no (or nothing): WeChat's session is gone, log in.
    (CheckSession,  FAILS,          Ensure,  LOGIN),
    (CheckSession,  HANGS,          Ensure,  LOGIN),
    (CheckSession,  g(WrongKind),   Ensure,  LOGIN),
    (CheckSession,  FAILS,          Request, OK),
    (CheckSession,  HANGS,          Request, OK),
    (CheckSession,  g(WrongKind),   Request, OK),
    // wx.login: no usable code after the retries. A code of HTML is sendable, and the server
    // refuses it (40029).
    (WxLogin,       FAILS,          Ensure,  WX_LOGIN_FAILED),
    (WxLogin,       HANGS,          Ensure,  WX_LOGIN_FAILED),
    (WxLogin,       g(Empty),       Ensure,  WX_LOGIN_FAILED),
    (WxLogin,       g(CodeEmpty),   Ensure,  WX_LOGIN_FAILED),
    (WxLogin,       g(CodeCrLf),    Ensure,  WX_LOGIN_FAILED),
    (WxLogin,       g(Code2K),      Ensure,  WX_LOGIN_FAILED),
    (WxLogin,       g(Huge),        Ensure,  WX_LOGIN_FAILED),
    (WxLogin,       g(Html),        Ensure,  SERVER_REJECTED),
    (WxLogin,       g(WrongKind),   Ensure,  WX_LOGIN_FAILED),
    (WxLogin,       FAILS,          Request, WX_LOGIN_FAILED),
    (WxLogin,       HANGS,          Request, WX_LOGIN_FAILED),
    (WxLogin,       g(Empty),       Request, WX_LOGIN_FAILED),
    (WxLogin,       g(CodeEmpty),   Request, WX_LOGIN_FAILED),
    (WxLogin,       g(CodeCrLf),    Request, WX_LOGIN_FAILED),
    (WxLogin,       g(Code2K),      Request, WX_LOGIN_FAILED),
    (WxLogin,       g(Huge),        Request, WX_LOGIN_FAILED),
    (WxLogin,       g(Html),        Request, SERVER_REJECTED),
    (WxLogin,       g(WrongKind),   Request, WX_LOGIN_FAILED),
    // login.extra(): the app's own callback is not asked twice.
    (LoginExtra,    FAILS,          Ensure,  LOGIN_EXTRA_FAILED),
    (LoginExtra,    HANGS,          Ensure,  LOGIN_EXTRA_FAILED),
    (LoginExtra,    g(WrongType),   Ensure,  LOGIN_EXTRA_FAILED),
    (LoginExtra,    g(Empty),       Ensure,  LOGIN_EXTRA_FAILED),
    (LoginExtra,    g(Huge),        Ensure,  LOGIN_EXTRA_FAILED),
    (LoginExtra,    g(WrongKind),   Ensure,  LOGIN_EXTRA_FAILED),
    (LoginExtra,    FAILS,          Request, LOGIN_EXTRA_FAILED),
    (LoginExtra,    HANGS,          Request, LOGIN_EXTRA_FAILED),
    (LoginExtra,    g(WrongType),   Request, LOGIN_EXTRA_FAILED),
    (LoginExtra,    g(Empty),       Request, LOGIN_EXTRA_FAILED),
    (LoginExtra,    g(Huge),        Request, LOGIN_EXTRA_FAILED),
    (LoginExtra,    g(WrongKind),   Request, LOGIN_EXTRA_FAILED),
    // The login exchange: transport failures are retried; a 2xx without a usable token is
    // BAD_RESPONSE at once; status 0 is not 2xx.
    (LoginHttp,     FAILS,          Ensure,  NETWORK),
    (LoginHttp,     HANGS,          Ensure,  TIMEOUT),
    (LoginHttp,     g(WrongType),   Ensure,  BAD_RESPONSE),
    (LoginHttp,     g(Html),        Ensure,  BAD_RESPONSE),
    (LoginHttp,     g(Empty),       Ensure,  BAD_RESPONSE),
    (LoginHttp,     g(Huge),        Ensure,  BAD_RESPONSE),
    (LoginHttp,     g(Deep),        Ensure,  BAD_RESPONSE),
    (LoginHttp,     g(Status0),     Ensure,  NETWORK),
    (LoginHttp,     g(TokenCrLf),   Ensure,  BAD_RESPONSE),
    (LoginHttp,     g(WrongKind),   Ensure,  TIMEOUT),
    (LoginHttp,     FAILS,          Request, NETWORK),
    (LoginHttp,     HANGS,          Request, TIMEOUT),
    (LoginHttp,     g(WrongType),   Request, BAD_RESPONSE),
    (LoginHttp,     g(Html),        Request, BAD_RESPONSE),
    (LoginHttp,     g(Empty),       Request, BAD_RESPONSE),
    (LoginHttp,     g(Huge),        Request, BAD_RESPONSE),
    (LoginHttp,     g(Deep),        Request, BAD_RESPONSE),
    (LoginHttp,     g(Status0),     Request, NETWORK),
    (LoginHttp,     g(TokenCrLf),   Request, BAD_RESPONSE),
    (LoginHttp,     g(WrongKind),   Request, TIMEOUT),
    // The server check: unreachable fails the launch; an answer that does not say "valid"
    // (garbage included) means a login.
    (CheckHttp,     FAILS,          Ensure,  NETWORK),
    (CheckHttp,     HANGS,          Ensure,  TIMEOUT),
    (CheckHttp,     g(WrongType),   Ensure,  LOGIN),
    (CheckHttp,     g(Html),        Ensure,  LOGIN),
    (CheckHttp,     g(Empty),       Ensure,  LOGIN),
    (CheckHttp,     g(Huge),        Ensure,  LOGIN),
    (CheckHttp,     g(Deep),        Ensure,  LOGIN),
    (CheckHttp,     g(Status0),     Ensure,  NETWORK),
    (CheckHttp,     g(WrongKind),   Ensure,  TIMEOUT),
    (CheckHttp,     FAILS,          Request, NETWORK),
    (CheckHttp,     HANGS,          Request, TIMEOUT),
    (CheckHttp,     g(WrongType),   Request, OK),
    (CheckHttp,     g(Html),        Request, OK),
    (CheckHttp,     g(Empty),       Request, OK),
    (CheckHttp,     g(Huge),        Request, OK),
    (CheckHttp,     g(Deep),        Request, OK),
    (CheckHttp,     g(Status0),     Request, NETWORK),
    (CheckHttp,     g(WrongKind),   Request, TIMEOUT),
    // An API request resolves with any answer, as wx.request does; only transport fails it.
    (ApiHttp,       FAILS,          Request, NETWORK),
    (ApiHttp,       HANGS,          Request, TIMEOUT),
    (ApiHttp,       g(WrongType),   Request, OK),
    (ApiHttp,       g(Html),        Request, OK),
    (ApiHttp,       g(Empty),       Request, OK),
    (ApiHttp,       g(Huge),        Request, OK),
    (ApiHttp,       g(Deep),        Request, OK),
    (ApiHttp,       g(Status0),     Request, NETWORK),
    (ApiHttp,       g(WrongKind),   Request, TIMEOUT),
    // The refresh exchange (an expired token at launch, or a refused one, with a refresh
    // token): transport failures are retried, then fail the call; an answer without a usable
    // token refuses the refresh token and a login takes its place.
    (RefreshHttp,   FAILS,          Ensure,  NETWORK),
    (RefreshHttp,   HANGS,          Ensure,  TIMEOUT),
    (RefreshHttp,   g(WrongType),   Ensure,  LOGIN),
    (RefreshHttp,   g(Html),        Ensure,  LOGIN),
    (RefreshHttp,   g(Empty),       Ensure,  LOGIN),
    (RefreshHttp,   g(Huge),        Ensure,  LOGIN),
    (RefreshHttp,   g(Deep),        Ensure,  LOGIN),
    (RefreshHttp,   g(Status0),     Ensure,  NETWORK),
    (RefreshHttp,   g(TokenCrLf),   Ensure,  LOGIN),
    (RefreshHttp,   g(WrongKind),   Ensure,  TIMEOUT),
    (RefreshHttp,   FAILS,          Request, NETWORK),
    (RefreshHttp,   HANGS,          Request, TIMEOUT),
    (RefreshHttp,   g(WrongType),   Request, OK),
    (RefreshHttp,   g(Html),        Request, OK),
    (RefreshHttp,   g(Empty),       Request, OK),
    (RefreshHttp,   g(Huge),        Request, OK),
    (RefreshHttp,   g(Deep),        Request, OK),
    (RefreshHttp,   g(Status0),     Request, NETWORK),
    (RefreshHttp,   g(TokenCrLf),   Request, OK),
    (RefreshHttp,   g(WrongKind),   Request, TIMEOUT),
];

/// The config of every cell: every capability reachable (wx.checkSession, a server check,
/// `login.extra`, a refresh endpoint), two retries, one second per operation.
const RETRIES: u64 = 2;
const TIMEOUT_MS: u64 = 1000;

fn cell_config() -> Value {
    json!({
        "useCheckSession": true,
        "check": { "url": "/auth", "okWhen": { "path": "errCode", "equals": 0 } },
        "refresh": { "url": "/refresh" },
        "retries": RETRIES,
        "timeoutMs": TIMEOUT_MS,
    })
}

/// The longest a call may take: every operation on its path waited out to its deadline, every
/// retry after the longest backoff (5 s).
fn bound(call: Call) -> Millis {
    // A stage of the flow or a request: each attempt does `ops` operations, retries wait.
    let stage = |ops: u64| (RETRIES + 1) * ops * TIMEOUT_MS + RETRIES * Millis::from(MAX_MS);
    // Storage read, wx.checkSession, the server check, then login (wx.login, login.extra, the
    // login request).
    // (Or a refresh, then a login when the server refuses it.)
    let launch = TIMEOUT_MS + TIMEOUT_MS + stage(1) + stage(1) + stage(3);
    match call {
        Ensure => launch,
        // A launch, the request, a refresh, a re-login, the request again.
        Request => launch + stage(1) + stage(1) + stage(3) + stage(1),
        Logout => TIMEOUT_MS,
    }
}

/// How a cell reaches its capability.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Scene {
    /// A fresh launch over a good stored record the server accepts.
    Launch,
    /// A fresh launch over a stored record the server no longer accepts: the flow logs in.
    Revoked,
    /// The session is ready with the stored token before the fault is switched on.
    Ready,
    /// Ready, then the server revokes the token: the request's 401 starts a re-login.
    ReadyRevoked,
    /// A fresh launch over a stored record that has expired, with a refresh token: a refresh.
    Expired,
}

fn scene(capability: Capability, call: Call) -> Scene {
    match (capability, call) {
        (StorageGet | CheckSession | CheckHttp, _) => Scene::Launch,
        (StorageSet | WxLogin | LoginExtra | LoginHttp, Ensure) => Scene::Revoked,
        (StorageSet | WxLogin | LoginExtra | LoginHttp, _) => Scene::ReadyRevoked,
        (StorageRemove | ApiHttp, _) => Scene::Ready,
        (RefreshHttp, Ensure) => Scene::Expired,
        (RefreshHttp, _) => Scene::ReadyRevoked,
    }
}

fn start(h: &mut Harness, call: Call) -> CallId {
    match call {
        Ensure => h.ensure(),
        Request => h.get("/api/profile"),
        Logout => h.logout(),
    }
}

fn ends(outcome: &Outcome) -> Ends {
    match outcome {
        Outcome::Ready(_, source) => Ends::Token(*source),
        Outcome::Answer(status, _) => Ends::Answer(*status),
        Outcome::Done => Ends::Done,
        Outcome::Failed(error) => Ends::Code(error.code()),
    }
}

/// The token of a stored value, or why it is not one.
fn token_of(value: &Value) -> Result<String, String> {
    match StoredToken::read(&StorageValue::Plain(crate::plain::json::to_plain(value))) {
        StorageRead::Record(stored) => Ok(stored.token.as_str().to_owned()),
        other => Err(format!("{other:?}")),
    }
}

/// Storage holds the record stored beforehand, a record of a token the server issued, or (only
/// after a logout that succeeded) nothing.
fn check_storage(h: &Harness, before: &Option<Value>, removed: bool, cell: &str) {
    let after = h.world.stored();
    if after == *before || (removed && after.is_none()) {
        return;
    }
    let token = after.as_ref().map(token_of);
    let issued = matches!(&token, Some(Ok(token)) if token.starts_with("tok-") && h.world.valid_tokens.contains(token));
    assert!(issued, "{cell}: storage holds {token:?}, not the record stored before nor a token the server issued");
}

/// Everything the machine asked to write was a record of the good token or an issued one.
fn check_writes(h: &Harness, cell: &str) {
    for action in h.log() {
        if let Action::WriteStorage { value, .. } = action {
            let token = token_of(&serde_json::from_str(value).expect("the record is JSON"));
            let ok = matches!(&token, Ok(token) if token == "good" || token.starts_with("tok-"));
            assert!(ok, "{cell}: the machine wrote {token:?}");
        }
    }
}

fn check_settled_state(h: &Harness, cell: &str) {
    let last = h.world.states.last().map(|(state, _)| *state);
    assert!(!matches!(last, Some(State::Checking | State::LoggingIn)), "{cell}: left in {last:?}");
}

fn run_cell(&(capability, fault, call, expected): &Cell) {
    let cell = format!("{capability:?} × {fault:?} × {call:?}");
    let mut world = World::default();
    world.store_record("good");
    let scene = scene(capability, call);
    if capability == RefreshHttp {
        // The stored record carries a refresh token the server takes (expired at launch).
        world.refresh_tokens = true;
        world.valid_refresh.insert("ref-good".into());
        let expires_at = if scene == Scene::Expired { json!(START - 1) } else { json!(null) };
        world.storage.insert("token".into(), json!({ "v": 1, "token": "good", "expiresAt": expires_at, "obtainedAt": 0, "refreshToken": "ref-good" }));
    }
    let mut h = Harness::with_login_extra(world, cell_config());
    if scene == Scene::Revoked {
        h.world.valid_tokens.remove("good");
    }
    if matches!(scene, Scene::Ready | Scene::ReadyRevoked) {
        let ready = h.ensure();
        assert_eq!(h.run(ready), Outcome::Ready("good".into(), Source::Storage), "{cell}: getting ready");
        h.run_until_idle();
        if scene == Scene::ReadyRevoked {
            h.world.valid_tokens.remove("good");
        }
    }
    let before = h.world.stored();
    h.world.faults.insert(capability, fault);

    let started = h.now();
    let id = start(&mut h, call);
    let outcome = h.run(id);
    let took = h.now() - started;
    assert!(took <= bound(call), "{cell}: settled after {took} ms, more than the {} ms bound", bound(call));
    assert_eq!(ends(&outcome), expected, "{cell}: {outcome:?}");
    h.run_until_idle(); // every call settled; every operation answered or cancelled
    assert!(h.world.faults_hit > 0, "{cell}: the capability was never reached");
    check_storage(&h, &before, outcome == Outcome::Done, &cell);
    if matches!(outcome, Outcome::Failed(_)) && call != Logout {
        assert_eq!(h.world.stored(), before, "{cell}: a failed call changed storage");
    }
    check_settled_state(&h, &cell);

    // The fault goes away: the same call on the same session works.
    h.world.faults.clear();
    let id = start(&mut h, call);
    let again = h.run(id);
    let ok = matches!(again, Outcome::Ready(..) | Outcome::Answer(200, _) | Outcome::Done);
    assert!(ok, "{cell}: after the fault is gone, {again:?}");
    h.run_until_idle();
    check_storage(&h, &before, again == Outcome::Done, &cell);
    check_writes(&h, &cell);
    check_settled_state(&h, &cell);
}

#[test]
fn every_capability_times_every_fault_times_every_call() {
    // Every cell runs, and the failures are listed together.
    let failed: Vec<String> = MATRIX
        .iter()
        .filter(|cell| std::panic::catch_unwind(|| run_cell(cell)).is_err())
        .map(|cell| format!("{:?} × {:?} × {:?}", cell.0, cell.1, cell.2))
        .collect();
    assert!(failed.is_empty(), "{} of {} cells failed:\n{}", failed.len(), MATRIX.len(), failed.join("\n"));
    let count = |call: Call| MATRIX.iter().filter(|cell| cell.2 == call).count();
    println!("fault matrix: {} cells ({} ensure, {} request, {} logout)", MATRIX.len(), count(Ensure), count(Request), count(Logout));
    assert_eq!(MATRIX.len(), 136);
}

#[test]
fn the_matrix_covers_every_capability_and_fault() {
    // Each capability meets `Fails`, `Hangs` and a wrong-kind answer from every call that
    // reaches it; each garbage kind is met by at least one capability.
    let reaches = [
        (StorageGet, [Ensure, Request].as_slice()),
        (StorageSet, &[Ensure, Request]),
        (StorageRemove, &[Logout]),
        (CheckSession, &[Ensure, Request]),
        (WxLogin, &[Ensure, Request]),
        (LoginExtra, &[Ensure, Request]),
        (LoginHttp, &[Ensure, Request]),
        (CheckHttp, &[Ensure, Request]),
        (ApiHttp, &[Request]),
        (RefreshHttp, &[Ensure, Request]),
    ];
    for (capability, calls) in reaches {
        for &call in calls {
            for fault in [FAILS, HANGS, g(WrongKind)] {
                let found = MATRIX.iter().any(|cell| (cell.0, cell.1, cell.2) == (capability, fault, call));
                assert!(found, "no cell for {capability:?} × {fault:?} × {call:?}");
            }
        }
    }
    for garbage in [WrongType, Html, Empty, Huge, Deep, Status0, TokenCrLf, CodeEmpty, CodeCrLf, Code2K, WrongKind] {
        assert!(MATRIX.iter().any(|cell| cell.1 == g(garbage)), "no cell with {garbage:?}");
    }
    let mut seen = std::collections::HashSet::new();
    for cell in MATRIX {
        assert!(seen.insert(format!("{:?} {:?} {:?}", cell.0, cell.1, cell.2)), "{cell:?} twice");
    }
}
