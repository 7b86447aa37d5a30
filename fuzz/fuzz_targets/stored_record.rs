//! Whatever storage holds, through `StoredToken::read`: never a panic; a token read is one
//! `Token::new` accepts; a record read back from what `to_plain` or `to_json` writes is the same
//! record.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wx_session::plain::Writer;
use wx_session::testing::{is_good_token, json_to_plain};
use wx_session::token::StorageRead;
use wx_session::{StorageValue, StoredToken};
use wx_session_fuzz::{gen, Input};

fuzz_target!(|data: &[u8]| {
    check(&StorageValue::Plain(data.to_vec()));
    let mut input = Input::new(data);
    let value = match input.choice(4) {
        0 => StorageValue::Missing,
        1 => StorageValue::Unreadable(input.text()),
        2 => {
            let mut w = Writer::new();
            w.string(&String::from_utf8_lossy(input.bytes(usize::MAX)));
            StorageValue::Plain(w.into_bytes())
        }
        _ => {
            let mut w = Writer::new();
            gen::record(&mut input, &mut w);
            StorageValue::Plain(w.into_bytes())
        }
    };
    check(&value);
});

fn check(value: &StorageValue) {
    let read = StoredToken::read(value);
    let stored = match &read {
        StorageRead::Record(stored) | StorageRead::Legacy(stored) => stored,
        StorageRead::Empty | StorageRead::Corrupt => return,
    };
    let token = stored.token.as_str();
    assert!(is_good_token(token), "a token of {} bytes a header cannot carry was read", token.len());
    if let StorageRead::Legacy(stored) = &read {
        assert_eq!((stored.expires_at, stored.obtained_at), (None, None));
    }
    // What the session writes back (a legacy token is migrated) reads as the same record.
    let again = StoredToken::read(&StorageValue::Plain(stored.to_plain()));
    assert_eq!(again, StorageRead::Record(stored.clone()), "the record does not survive a write and a read");
    // The session hands records to the glue as JSON text, which storage keeps as an object.
    let json = stored.to_json();
    let plain = json_to_plain(&json).unwrap_or_else(|| panic!("to_json wrote no JSON: {json:?}"));
    let again = StoredToken::read(&StorageValue::Plain(plain));
    assert_eq!(again, StorageRead::Record(stored.clone()), "the record does not survive to_json and a read");
    for now in [0, 1_700_000_000_000, u64::MAX] {
        for ahead in [None, Some(0), Some(60_000), Some(u32::MAX)] {
            stored.freshness(now, ahead);
        }
    }
    if let Some(refresh) = &stored.refresh_token {
        assert!(is_good_token(refresh.as_str()), "a refresh token of {} bytes a header cannot carry was read", refresh.as_str().len());
    }
}
