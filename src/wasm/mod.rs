//! The shipped .wasm's exports: the session machine as a handful of functions of numbers, with
//! strings passed through linear memory. No imports: the machine never calls JS, so no JS
//! exception can ever unwind through these frames.
//!
//! The protocol, which `js-glue/src/core.js` speaks:
//! - Strings *in*: the glue asks for room with [`wxs_input`] (exported as `input`, like every
//!   function here without its `wxs_` prefix), writes UTF-8 there, and passes the length to the
//!   next call.
//! - Actions *out*: [`wxs_next_action`] fills the [`Slot`] (its address: [`wxs_slot`]) with the
//!   next action and returns its kind (0 when there is none). Strings in the slot are
//!   `(pointer, length)` pairs, valid until the next `wxs_next_action`.
//! - Sessions are handles (`1, 2, …`) into a table, so several sessions (and a fresh one after
//!   a logout-and-recreate) share one instance.
//!
//! Time is `Date.now()` as an f64; statuses, ids and enums are u32.

#[cfg(feature = "standalone")]
mod runtime;
mod slot;

use alloc::rc::Rc;
use alloc::vec::Vec;
use core::cell::RefCell;

use crate::abi;
use crate::answer::{Answer, ReadSet};
use crate::config::{Config, Method};
use crate::error::Error;
use crate::rule::{Field, Scalar};
use crate::session::{ApiKind, ApiRequest, LoginAnswer, Session};
use crate::token::StorageValue;
use crate::Millis;

pub use slot::Slot;

/// One entry of the session table.
struct Entry {
    session: Session,
    /// The header of the last `Send`, so an unchanged one crosses as a flag.
    last_header: Option<crate::session::Header>,
}

/// Everything the exports share.
struct Instance {
    sessions: Vec<Option<Entry>>,
    /// Where the glue writes strings for the next call.
    input: Vec<u8>,
    /// Fields of the answer being reported ([`wxs_field`], then [`wxs_http_answered`]).
    fields: Vec<Field>,
    /// The URL of the last [`wxs_request`] that passed one: an app calls the same few URLs over
    /// and over, so the glue says "the same" ([`abi::url::SAME`]) instead of writing it again,
    /// and the session knows what it made of it (`Session::request`).
    last_url: Option<Rc<str>>,
    slot: Slot,
}

/// The instance's state. wasm32-unknown-unknown (without the atomics feature) runs one thread,
/// and no export calls another, so a `RefCell` is all the locking there is.
struct Global(RefCell<Instance>);

// SAFETY: this module is compiled for wasm32-unknown-unknown only, which has a single thread.
unsafe impl Sync for Global {}

static GLOBAL: Global = Global(RefCell::new(Instance { sessions: Vec::new(), input: Vec::new(), fields: Vec::new(), last_url: None, slot: Slot::EMPTY }));

impl Instance {
    /// The URL of a [`wxs_request`]: `url_len` bytes of input, now the last URL, or the last
    /// one again ([`abi::url::SAME`]).
    fn request_url(&mut self, url_len: u32) -> Rc<str> {
        match (url_len, &self.last_url) {
            (abi::url::SAME, Some(last)) => Rc::clone(last),
            _ => {
                let url: Rc<str> = Rc::from(text(&self.input, url_len));
                self.last_url = Some(Rc::clone(&url));
                url
            }
        }
    }
}

/// Runs `f` on the instance; `fallback` if it is somehow already in use (it never is: no
/// export calls out).
fn with<T>(fallback: T, f: impl FnOnce(&mut Instance) -> T) -> T {
    match GLOBAL.0.try_borrow_mut() {
        Ok(mut instance) => f(&mut instance),
        Err(_) => fallback,
    }
}

/// The table place of session `handle` (handles count from 1).
fn place(sessions: &mut [Option<Entry>], handle: u32) -> Option<&mut Option<Entry>> {
    sessions.get_mut((handle as usize).checked_sub(1)?)
}

/// Session `handle`, if it is live.
fn entry(sessions: &[Option<Entry>], handle: u32) -> Option<&Entry> {
    sessions.get((handle as usize).checked_sub(1)?)?.as_ref()
}

/// Runs `f` on session `handle` (and the instance's input); `fallback` for an unknown handle.
fn with_session<T>(handle: u32, fallback: T, f: impl FnOnce(&mut Entry, &[u8], &mut Vec<Field>) -> T) -> T {
    with(None, |instance| {
        let entry = place(&mut instance.sessions, handle)?.as_mut()?;
        Some(f(entry, &instance.input, &mut instance.fields))
    })
    .unwrap_or(fallback)
}

fn millis(now: f64) -> Millis {
    crate::millis_from(now)
}

/// The first `len` bytes of the input as text. The glue always writes valid UTF-8; anything
/// else reads as the empty string.
fn text(input: &[u8], len: u32) -> &str {
    core::str::from_utf8(input.get(..len as usize).unwrap_or_default()).unwrap_or_default()
}

/// Room for `len` bytes of input; returns where to write them.
#[export_name = "input"]
pub extern "C" fn wxs_input(len: u32) -> *mut u8 {
    with(core::ptr::null_mut(), |instance| {
        if instance.input.len() < len as usize {
            instance.input.resize(len as usize, 0);
        }
        instance.input.as_mut_ptr()
    })
}

/// The address of the action slot (it never moves).
#[export_name = "slot"]
pub extern "C" fn wxs_slot() -> *const Slot {
    with(core::ptr::null(), |instance| &instance.slot as *const Slot)
}

/// Creates a session from the config as plain data (`len` bytes of input). Returns its handle,
/// or 0 with the `CONFIG` error in the slot (as a `Reject` of call 0).
#[export_name = "create"]
pub extern "C" fn wxs_create(len: u32, seed: u32, login_extra: u32) -> u32 {
    with(0, |instance| {
        let bytes = instance.input.get(..len as usize).unwrap_or_default();
        match Config::from_plain(bytes) {
            Ok(config) => {
                let session = Session::new(config, seed).with_login_extra(login_extra != 0);
                let entry = Some(Entry { session, last_header: None });
                // The first free entry of the table, or a new one at its end.
                let free = instance.sessions.iter().position(Option::is_none).unwrap_or(instance.sessions.len());
                match instance.sessions.get_mut(free) {
                    Some(place) => *place = entry,
                    None => instance.sessions.push(entry),
                }
                free as u32 + 1
            }
            Err(error) => {
                instance.slot.put_error(0, &error);
                0
            }
        }
    })
}

/// Forgets session `handle`.
#[export_name = "drop"]
pub extern "C" fn wxs_drop(handle: u32) {
    with((), |instance| {
        if let Some(place) = place(&mut instance.sessions, handle) {
            *place = None;
        }
    });
}

/// Puts the session's `baseUrl` (as normalized) in the slot's first string: what the glue
/// prefixes to a caller's URL when a `Send` says so.
#[export_name = "base_url"]
pub extern "C" fn wxs_base_url(handle: u32) {
    with((), |instance| {
        let base = entry(&instance.sessions, handle).map_or("", |entry| entry.session.config().base_url.as_str());
        instance.slot.put_text(base);
    });
}

/// How many paths the glue reads from answers of read set `set`; [`wxs_read_path`] gives each.
#[export_name = "read_paths"]
pub extern "C" fn wxs_read_paths(handle: u32, set: u32) -> u32 {
    with_session(handle, 0, |entry, _, _| read_set(set).map_or(0, |set| entry.session.read_paths(set).len() as u32))
}

/// Puts path `index` of read set `set` in the slot's first string (dot-separated).
#[export_name = "read_path"]
pub extern "C" fn wxs_read_path(handle: u32, set: u32, index: u32) {
    with((), |instance| {
        let path = entry(&instance.sessions, handle).and_then(|entry| entry.session.read_paths(read_set(set)?).get(index as usize));
        let text = path.map_or("", |p| p.as_str());
        instance.slot.put_text(text);
    });
}

fn read_set(set: u32) -> Option<ReadSet> {
    ReadSet::ALL.get(set as usize).copied()
}

#[export_name = "ensure"]
pub extern "C" fn wxs_ensure(handle: u32, now: f64) -> u32 {
    with_session(handle, 0, |entry, _, _| entry.session.ensure(millis(now)))
}

/// A tri-state flag from the glue: 0 false, 1 true, 2 not given, anything else not a boolean.
fn flag(value: u32, default: bool) -> Option<bool> {
    match value {
        abi::flag::FALSE => Some(false),
        abi::flag::TRUE => Some(true),
        abi::flag::ABSENT => Some(default),
        _ => None,
    }
}

/// `request(opts)` (`kind` 0), `uploadFile(opts)` (1) or `downloadFile(opts)` (2): the URL is
/// `url_len` bytes of input, or [`abi::url::SAME`]: the previous request's; `method` indexes
/// [`Method::ALL`] (anything else is not a method); `auth`/`retry` are tri-state flags;
/// `timeout` is NaN when not given.
#[export_name = "request"]
pub extern "C" fn wxs_request(handle: u32, now: f64, url_len: u32, method: u32, auth: u32, retry: u32, timeout: f64, kind: u32) -> u32 {
    with(0, |instance| {
        // (Before the session is looked up: the glue takes this URL as the last one whatever
        // the handle, so the instance must too.)
        let url = instance.request_url(url_len);
        let Some(entry) = place(&mut instance.sessions, handle).and_then(Option::as_mut) else { return 0 };
        let session = &mut entry.session;
        let now = millis(now);
        let bad = |key: &str, reason: &str| Error::config(crate::text::join(&["request.", key]), reason);
        let method = Method::ALL.get(method as usize).copied().ok_or_else(|| bad("method", "must be an HTTP method wx.request accepts"));
        let auth = flag(auth, true).ok_or_else(|| bad("auth", "must be true or false"));
        let retry = flag(retry, false).ok_or_else(|| bad("retry", "must be true or false"));
        let timeout_ms =
            if timeout.is_nan() { Ok(None) } else { abi::whole_u32(timeout).map(Some).ok_or_else(|| bad("timeout", "must be a whole number of milliseconds")) };
        match (method, auth, retry, timeout_ms) {
            (Ok(method), Ok(auth), Ok(retry), Ok(timeout_ms)) => {
                // (The glue's own choice, never the app's: anything else is a plain request.)
                let kind = match kind {
                    abi::call::UPLOAD => ApiKind::Upload,
                    abi::call::DOWNLOAD => ApiKind::Download,
                    _ => ApiKind::Request,
                };
                session.request(now, ApiRequest { kind, url, method, auth, retry, timeout_ms })
            }
            (Err(error), ..) | (_, Err(error), ..) | (_, _, Err(error), _) | (.., Err(error)) => session.reject_now(error),
        }
    })
}

/// `login(extra)`: the glue keeps `extra` with the call.
#[export_name = "login"]
pub extern "C" fn wxs_login(handle: u32, now: f64) -> u32 {
    with_session(handle, 0, |entry, _, _| entry.session.login(millis(now)))
}

/// `setToken(token, { refreshToken, expiresIn })`: the input holds the token (`len` bytes) and
/// then the refresh token (`refresh_len` bytes; 0: none); `expires_in` is in seconds, NaN when
/// not given.
#[export_name = "set_token"]
pub extern "C" fn wxs_set_token(handle: u32, now: f64, len: u32, refresh_len: u32, expires_in: f64) -> u32 {
    with_session(handle, 0, |entry, input, _| {
        let session = &mut entry.session;
        let token = text(input, len);
        let rest = input.get(len as usize..).unwrap_or_default();
        let refresh = (refresh_len > 0).then(|| text(rest, refresh_len));
        match (expires_in.is_nan(), abi::whole_u32(expires_in)) {
            (true, _) => session.set_token_pair(millis(now), token, refresh, None),
            (false, Some(seconds)) => session.set_token_pair(millis(now), token, refresh, Some(seconds)),
            (false, None) => session.reject_now(Error::config("expiresIn", "must be a whole number of seconds")),
        }
    })
}

/// Puts the token in use in the slot's first string; returns 1, or 0 when there is none.
#[export_name = "token"]
pub extern "C" fn wxs_token(handle: u32, now: f64) -> u32 {
    with(0, |instance| {
        let token = entry(&instance.sessions, handle).and_then(|entry| entry.session.token(millis(now)));
        instance.slot.put_text(token.map_or("", |token| token.as_str()));
        u32::from(token.is_some())
    })
}

/// The caller aborted API call `call`.
#[export_name = "abort"]
pub extern "C" fn wxs_abort(handle: u32, call: u32) {
    with_session(handle, (), |entry, _, _| entry.session.abort(call));
}

#[export_name = "logout"]
pub extern "C" fn wxs_logout(handle: u32, now: f64) -> u32 {
    with_session(handle, 0, |entry, _, _| entry.session.logout(millis(now)))
}

/// Time passed: call when [`wxs_deadline`] is due.
#[export_name = "timeout"]
pub extern "C" fn wxs_timeout(handle: u32, now: f64) {
    with_session(handle, (), |entry, _, _| entry.session.handle_timeout(millis(now)));
}

/// When [`wxs_timeout`] must next be called (ms since the epoch), or -1 when nothing waits.
#[export_name = "deadline"]
pub extern "C" fn wxs_deadline(handle: u32) -> f64 {
    with_session(handle, -1.0, |entry, _, _| entry.session.next_deadline().map_or(-1.0, |at| at as f64))
}

/// The storage read of op `op`: `kind` 0 missing, 1 the value as plain data, 2 unreadable (the
/// input says why); the input is `len` bytes.
#[export_name = "storage_read"]
pub extern "C" fn wxs_storage_read(handle: u32, now: f64, op: u32, kind: u32, len: u32) {
    with_session(handle, (), |entry, input, _| {
        let bytes = input.get(..len as usize).unwrap_or_default();
        let value = match kind {
            abi::stored::MISSING => StorageValue::Missing,
            abi::stored::PLAIN => StorageValue::Plain(bytes.to_vec()),
            _ => StorageValue::Unreadable(text(input, len).into()),
        };
        entry.session.storage_read(millis(now), op, value);
    });
}

/// A storage write or remove finished; when `ok` is 0 the input holds the error message.
#[export_name = "storage_done"]
pub extern "C" fn wxs_storage_done(handle: u32, op: u32, ok: u32, len: u32) {
    with_session(handle, (), |entry, input, _| {
        let message = text(input, len);
        entry.session.storage_done(op, if ok != 0 { Ok(()) } else { Err(message) });
    });
}

#[export_name = "session_checked"]
pub extern "C" fn wxs_check_session_done(handle: u32, now: f64, op: u32, valid: u32) {
    with_session(handle, (), |entry, _, _| entry.session.check_session_done(millis(now), op, valid != 0));
}

/// The platform's login call answered: `kind` is one of `abi::login`; the input holds the code
/// or the `errMsg`.
#[export_name = "login_answered"]
pub extern "C" fn wxs_login_answered(handle: u32, now: f64, op: u32, kind: u32, len: u32) {
    with_session(handle, (), |entry, input, _| {
        let text = text(input, len);
        let answer = match kind {
            abi::login::CODE => LoginAnswer::Code(text),
            abi::login::ANONYMOUS => LoginAnswer::Anonymous(text),
            _ => LoginAnswer::Failed(text),
        };
        entry.session.login_answered(millis(now), op, answer);
    });
}

/// `login.extra()` settled: an object the glue keeps (`ok` 1), or a failure whose reason is the
/// input.
#[export_name = "extra_done"]
pub extern "C" fn wxs_login_extra_done(handle: u32, now: f64, op: u32, ok: u32, len: u32) {
    with_session(handle, (), |entry, input, _| {
        let text = text(input, len);
        entry.session.login_extra_done(millis(now), op, if ok != 0 { Ok(()) } else { Err(text) });
    });
}

/// Adds one field of the answer being reported, in read-set order: `tag` 0 absent, 1 null,
/// 2 false, 3 true, 4 the number `number`, 5 the string in the input, 6 something else.
#[export_name = "field"]
pub extern "C" fn wxs_field(tag: u32, number: f64, len: u32) {
    with((), |instance| {
        let field = match tag {
            abi::field::ABSENT => Field::Absent,
            abi::field::NULL => Field::Scalar(Scalar::Null),
            abi::field::FALSE => Field::Scalar(Scalar::Bool(false)),
            abi::field::TRUE => Field::Scalar(Scalar::Bool(true)),
            abi::field::NUMBER => Field::Scalar(Scalar::Number(number)),
            abi::field::TEXT => Field::Scalar(Scalar::Text(text(&instance.input, len).into())),
            _ => Field::Other,
        };
        instance.fields.push(field);
    });
}

/// An HTTP answer for op `op` with `status` and the fields added since the last answer.
#[export_name = "http_answered"]
pub extern "C" fn wxs_http_answered(handle: u32, now: f64, op: u32, status: u32) {
    with_session(handle, (), |entry, _, fields| {
        let status = u16::try_from(status).unwrap_or(0);
        let answer = Answer { status, fields: core::mem::take(fields) };
        entry.session.http_answered(millis(now), op, answer);
    });
    // Fields left over from a call to an unknown handle must not leak into the next answer.
    with((), |instance| instance.fields.clear());
}

/// Puts in the slot's first string the error code a platform failure (its `errMsg`, `len` bytes
/// of input) stands for — `NETWORK`, `TIMEOUT` or `ABORTED`, as the core classifies it — for
/// what `onReport` says of a failed login or check exchange.
#[export_name = "failure_code"]
pub extern "C" fn wxs_failure_code(len: u32) {
    with((), |instance| {
        let code = crate::retry::transport_error(text(&instance.input, len)).code();
        instance.slot.put_text(code);
    });
}

/// The app's `beforeRequest` hook refused op `op`'s send; the input holds why.
#[export_name = "send_refused"]
pub extern "C" fn wxs_send_refused(handle: u32, op: u32, len: u32) {
    with_session(handle, (), |entry, input, _| entry.session.send_refused(op, text(input, len)));
}

/// An HTTP request failed; the input holds the platform's `errMsg`.
#[export_name = "http_failed"]
pub extern "C" fn wxs_http_failed(handle: u32, now: f64, op: u32, len: u32) {
    with_session(handle, (), |entry, input, _| {
        let err_msg = text(input, len);
        entry.session.http_failed(millis(now), op, err_msg);
    });
}

/// Puts the next action of session `handle` in the slot and returns its [`Kind`] (0: none).
/// The slot also says whether more actions wait and, when none does, the next deadline.
#[export_name = "next_action"]
pub extern "C" fn wxs_next_action(handle: u32) -> u32 {
    with(0, |instance| {
        let Some(entry) = place(&mut instance.sessions, handle).and_then(Option::as_mut) else {
            instance.slot.clear();
            return 0;
        };
        let kind = match entry.session.poll_action() {
            Some(action) => instance.slot.put(action, &mut entry.last_header),
            None => {
                instance.slot.clear();
                0
            }
        };
        let more = entry.session.has_actions();
        instance.slot.more = u32::from(more);
        instance.slot.deadline = if more { -1.0 } else { entry.session.next_deadline().map_or(-1.0, |at| at as f64) };
        kind
    })
}
