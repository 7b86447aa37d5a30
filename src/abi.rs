//! The ABI between the shipped wasm and the glue, written once.
//!
//! Every number the glue and the exports agree on is a constant here: action kinds, `Send`
//! flags, the slot's word offsets, the codes of the exports' arguments. `js-glue/build.js`
//! reads this file and writes `js-glue/src/abi.js` from it (`GROUP_NAME` for `group::NAME`), so
//! the glue uses names, never numbers; a test fails if the two ever differ. Keep the form the
//! generator reads: `pub mod group { pub const NAME: u32 = 12; }` (or `1 << n`), and string
//! lists as `pub const NAMES: [&str; n] = [...];`.

/// What `wasm::wxs_next_action` put in the slot (its return value; 0 when nothing waits).
pub mod action {
    pub const NONE: u32 = 0;
    /// `a` op; text 0 the key.
    pub const READ_STORAGE: u32 = 1;
    /// `a` op; text 0 the key, text 1 the value (JSON).
    pub const WRITE_STORAGE: u32 = 2;
    /// `a` op; text 0 the key.
    pub const REMOVE_STORAGE: u32 = 3;
    /// `a` op.
    pub const CHECK_SESSION: u32 = 4;
    /// `a` op, `b` 1 to ask the platform to make the user log in (Douyin's `force`).
    pub const WX_LOGIN: u32 = 5;
    /// `a` op.
    pub const LOGIN_EXTRA: u32 = 6;
    /// `a` op, `b` call (0: none; an API call, or the `login(extra)` call of a login), `c`
    /// method (an index of `method::NAMES`), `d` timeout ms, `e` the read set (low byte) and
    /// `send::*` flags; text 0 the URL, 1–2 the header, 3–4 the body field.
    pub const SEND: u32 = 7;
    /// `a` op, `b` one of `cancel::*`.
    pub const CANCEL: u32 = 8;
    /// `a` call, `b` one of `source::*`; text 0 the token.
    pub const RESOLVE_READY: u32 = 9;
    /// `a` call, `b` the op whose answer resolves it.
    pub const RESOLVE_ANSWER: u32 = 10;
    /// `a` call.
    pub const RESOLVE_DONE: u32 = 11;
    /// `a` call, `b` status (0: none); text 0 code, 1 message, 2 key.
    pub const REJECT: u32 = 12;
    /// `a` state (an index of `state::NAMES`), `b` status; text 0 code (empty: no error), 1
    /// message, 2 key.
    pub const REPORT: u32 = 13;
    /// `a` call: its answer says the user must act; call the app's `onAuthRequired`.
    pub const AUTH_REQUIRED: u32 = 14;
}

/// `Send` flags, in the slot's `e` above the read set.
pub mod send {
    /// The low byte of `e`: the read set (`read::*`).
    pub const READ_SET_MASK: u32 = 255;
    /// A header goes out: texts 1–2 (or the previous one, with `SAME_HEADER`).
    pub const HEADER: u32 = 1 << 8;
    /// A login body field: texts 3–4.
    pub const BODY: u32 = 1 << 9;
    /// `login.extra()`'s object joins the login body.
    pub const EXTRA: u32 = 1 << 10;
    /// The header is the same as in this session's previous `Send` (texts 1–2 are empty).
    pub const SAME_HEADER: u32 = 1 << 11;
    /// The URL is the caller's `url` as given / `baseUrl` + it / `baseUrl` + `/` + it; text 0
    /// is then empty (the glue has both strings already).
    pub const URL_AS_GIVEN: u32 = 1 << 12;
    pub const URL_BASE: u32 = 1 << 13;
    pub const URL_BASE_SLASH: u32 = 1 << 14;
    /// With `wx.uploadFile` / `wx.downloadFile` instead of `wx.request`.
    pub const UPLOAD: u32 = 1 << 15;
    pub const DOWNLOAD: u32 = 1 << 16;
}

/// Where the slot's fields are, in 32-bit words from its address (`wasm::wxs_slot`).
pub mod word {
    pub const KIND: u32 = 0;
    pub const A: u32 = 1;
    pub const B: u32 = 2;
    pub const C: u32 = 3;
    pub const D: u32 = 4;
    pub const E: u32 = 5;
    /// Text i's pointer is word `TEXT_PTR + i`, its length in bytes word `TEXT_LEN + i`.
    pub const TEXT_PTR: u32 = 6;
    pub const TEXT_LEN: u32 = 11;
    /// 1 when more actions wait.
    pub const MORE: u32 = 16;
    /// An f64 (words 18–19): when no action waits, the next deadline (ms since the epoch), or -1.
    pub const DEADLINE: u32 = 18;
}

/// Why a `Cancel` came: its `b`.
pub mod cancel {
    /// The flow or call it served was cancelled, replaced or aborted.
    pub const DROPPED: u32 = 0;
    /// Its deadline passed.
    pub const TIMED_OUT: u32 = 1;
}

/// Where a `ResolveReady` token came from: its `b`.
pub mod source {
    pub const STORAGE: u32 = 0;
    pub const LOGIN: u32 = 1;
}

/// The read sets (`Send`'s low byte, and `wasm::wxs_read_paths`' `set`): what an exchange is for.
pub mod read {
    pub const API: u32 = 0;
    pub const LOGIN: u32 = 1;
    pub const CHECK: u32 = 2;
    pub const REFRESH: u32 = 3;
    /// How many there are.
    pub const SETS: u32 = 4;
}

/// The kind of an API call (`wasm::wxs_request`'s `kind`).
pub mod call {
    pub const REQUEST: u32 = 0;
    pub const UPLOAD: u32 = 1;
    pub const DOWNLOAD: u32 = 2;
}

/// `wasm::wxs_request`'s `url_len`, when the URL is the one of the instance's previous request
/// with a URL (the glue had the same string): it is not written to the input again, and the
/// core reuses what it made of it.
pub mod url {
    pub const SAME: u32 = 4294967295;
}

/// A boolean option as the app gave it (`wasm::wxs_request`'s `auth` and `retry`).
pub mod flag {
    pub const FALSE: u32 = 0;
    pub const TRUE: u32 = 1;
    pub const ABSENT: u32 = 2;
    /// Given, but not a boolean: refused with `CONFIG`.
    pub const INVALID: u32 = 3;
}

/// What the platform's login call answered (`wasm::wxs_login_answered`'s `kind`).
pub mod login {
    pub const FAILED: u32 = 0;
    /// A one-time code, in the input.
    pub const CODE: u32 = 1;
    /// Only an anonymous code (Douyin, a user not logged in to the Douyin app), in the input.
    pub const ANONYMOUS: u32 = 2;
}

/// What a storage read found (`wasm::wxs_storage_read`'s `kind`).
pub mod stored {
    pub const MISSING: u32 = 0;
    /// The value, as plain data in the input.
    pub const PLAIN: u32 = 1;
    /// Reading failed; the input says why.
    pub const UNREADABLE: u32 = 2;
}

/// One field of an answer (`wasm::wxs_field`'s `tag`).
pub mod field {
    pub const ABSENT: u32 = 0;
    pub const NULL: u32 = 1;
    pub const FALSE: u32 = 2;
    pub const TRUE: u32 = 3;
    /// The number argument.
    pub const NUMBER: u32 = 4;
    /// A string, in the input.
    pub const TEXT: u32 = 5;
    /// An object, an array, an unreadable value or an over-long string.
    pub const OTHER: u32 = 6;
}

/// The session states, in the order `Report`'s `a` uses.
pub mod state {
    pub const NAMES: [&str; 5] = ["idle", "checking", "logging-in", "ready", "failed"];
}

/// The HTTP methods, in the order `Send`'s `c` and `wasm::wxs_request`'s `method` use.
pub mod method {
    pub const NAMES: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"];
}

/// A number the glue passes for a whole count from 1 to `u32::MAX` (a timeout in ms, a
/// lifetime in seconds), if it is one. The range is checked first and the cast goes through
/// u64, far inside its range: a cast to u32 of `u32::MAX` itself came out wrong in the shipped
/// wasm (binaryen's MVP lowering of the saturating cast), so CONFIG refused a valid lifetime.
pub fn whole_u32(x: f64) -> Option<u32> {
    if !(1.0..=f64::from(u32::MAX)).contains(&x) {
        return None;
    }
    let whole = x as u64;
    (whole as f64 == x).then_some(whole as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Method;
    use crate::session::State;

    #[test]
    fn name_lists_follow_the_core() {
        let states = [State::Idle, State::Checking, State::LoggingIn, State::Ready, State::Failed];
        assert_eq!(states.map(State::as_str), state::NAMES);
        assert_eq!(Method::ALL.map(Method::as_str), method::NAMES);
        for (i, m) in Method::ALL.iter().enumerate() {
            assert_eq!(m.index(), i as u32);
        }
    }
}
