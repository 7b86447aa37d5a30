//! Numbers at the edges through the native core, against the table in
//! `tests/fixtures/edge-numbers.json`; `tests/js/edge-numbers.test.js` holds the shipped wasm to
//! the same table, so the two builds read every such number the same way.
#![cfg(all(feature = "testing", not(target_arch = "wasm32")))]

use serde_json::{json, Value};
use wx_session::abi::whole_u32;
use wx_session::token::{Freshness, StorageRead};
use wx_session::{Action, Answer, ApiRequest, Config, Field, Scalar, Session, StorageValue, StoredToken, MAX_MILLIS};

const NOW: u64 = 1_700_000_000_000;

fn table() -> Value {
    serde_json::from_str(include_str!("fixtures/edge-numbers.json")).expect("the table is JSON")
}

fn config(extra: Value) -> Config {
    let mut config = json!({ "baseUrl": "https://api.test", "useCheckSession": false });
    config.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    Config::from_json(&config.to_string()).unwrap()
}

fn field(value: &Value) -> Field {
    match value {
        Value::Number(n) => Field::Scalar(Scalar::Number(n.as_f64().unwrap())),
        Value::String(s) => Field::Scalar(Scalar::Text(s.clone())),
        other => panic!("not in the table's vocabulary: {other}"),
    }
}

/// The actions of `session` until none is left.
fn drain(session: &mut Session) -> Vec<Action> {
    std::iter::from_fn(|| session.poll_action()).collect()
}

/// A first login whose answer carries `expires_in`: the stored record, or the error code.
fn login_with(expires_in: &Value) -> Result<Value, &'static str> {
    let mut session = Session::new(config(json!({ "login": { "expiresInPath": "expiresIn" } })), 1);
    let call = session.ensure(NOW);
    let read = drain(&mut session).into_iter().find_map(|a| if let Action::ReadStorage { op, .. } = a { Some(op) } else { None }).unwrap();
    session.storage_read(NOW, read, StorageValue::Missing);
    let login = drain(&mut session).into_iter().find_map(|a| if let Action::WxLogin { op, .. } = a { Some(op) } else { None }).unwrap();
    session.wx_login_done(NOW, login, Ok("code-1"));
    let send = drain(&mut session).into_iter().find_map(|a| if let Action::Send(send) = a { Some(send.op) } else { None }).unwrap();
    // The login read set: tokenPath, then expiresInPath.
    session.http_answered(NOW, send, Answer { status: 200, fields: vec![Field::Scalar(Scalar::Text("tok".into())), field(expires_in)] });
    for action in drain(&mut session) {
        match action {
            Action::WriteStorage { value, .. } => return Ok(serde_json::from_str(&value).unwrap()),
            Action::Reject { call: c, error } if c == call => return Err(error.code()),
            _ => {}
        }
    }
    panic!("no record and no error")
}

#[test]
fn login_lifetimes_at_the_edges() {
    let table = table();
    assert_eq!(table["maxMillis"].as_u64(), Some(MAX_MILLIS));
    for case in table["loginExpiresIn"].as_array().unwrap() {
        let got = login_with(&case["expiresIn"]);
        match (&case["lifetimeMs"], &case["expiresAt"], &case["error"]) {
            (Value::Number(ms), _, _) => assert_eq!(got.map(|r| r["expiresAt"].as_u64().unwrap() - NOW), Ok(ms.as_u64().unwrap()), "{case}"),
            (_, Value::String(max), _) if max == "max" => assert_eq!(got.map(|r| r["expiresAt"].as_u64()), Ok(Some(MAX_MILLIS)), "{case}"),
            (_, _, Value::String(code)) => assert_eq!(got.map(|_| ()), Err(code.as_str()), "{case}"),
            _ => panic!("a case of the table the test does not know: {case}"),
        }
    }
}

#[test]
fn stored_expiries_at_the_edges() {
    for case in table()["storedExpiresAt"].as_array().unwrap() {
        let record = json!({ "v": 1, "token": "tok", "expiresAt": case["expiresAt"], "obtainedAt": NOW - 1000 });
        let plain = wx_session::plain::json::to_plain(&record);
        let StorageRead::Record(stored) = StoredToken::read(&StorageValue::Plain(plain)) else { panic!("{case}: not a record") };
        let expected = match case["fresh"] {
            Value::Bool(true) => Freshness::Fresh,
            Value::Bool(false) => Freshness::Expired,
            _ => Freshness::Unknown,
        };
        assert_eq!(stored.freshness(NOW, None), expected, "{case}");
    }
}

#[test]
fn set_token_lifetimes_at_the_edges() {
    for case in table()["setTokenExpiresIn"].as_array().unwrap() {
        let mut session = Session::new(config(json!({})), 1);
        // The export's test (`whole_u32`) decides between a lifetime and CONFIG.
        let Some(seconds) = whole_u32(case["expiresIn"].as_f64().unwrap()) else {
            assert_eq!(case["error"], "CONFIG", "{case}");
            continue;
        };
        let call = session.set_token(NOW, "tok", Some(seconds));
        let actions = drain(&mut session);
        let record = actions.iter().find_map(|a| if let Action::WriteStorage { value, .. } = a { Some(value.clone()) } else { None });
        let error = actions.iter().find_map(|a| if let Action::Reject { call: c, error } = a { (*c == call).then(|| error.code()) } else { None });
        match (&case["lifetimeMs"], &case["error"]) {
            (Value::Number(ms), _) => {
                let record: Value = serde_json::from_str(&record.unwrap()).unwrap();
                assert_eq!(record["expiresAt"].as_u64().unwrap() - NOW, ms.as_u64().unwrap(), "{case}");
            }
            (_, Value::String(code)) => assert_eq!(error, Some(code.as_str()), "{case}"),
            _ => panic!("{case}"),
        }
    }
}

#[test]
fn request_timeouts_at_the_edges() {
    for case in table()["requestTimeout"].as_array().unwrap() {
        let mut session = Session::new(config(json!({})), 1);
        // The export's test (`whole_u32`), then the core's limit (1–120000 ms).
        let refused = match whole_u32(case["timeout"].as_f64().unwrap()) {
            None => true,
            Some(ms) => {
                let call = session.request(NOW, ApiRequest { auth: false, timeout_ms: Some(ms), ..ApiRequest::get("/x") });
                drain(&mut session).into_iter().any(|a| matches!(a, Action::Reject { call: c, .. } if c == call))
            }
        };
        assert_eq!(refused, case["error"].is_string(), "{case}");
    }
}
