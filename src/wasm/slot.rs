//! The action slot: one action at a time, laid out for the glue to read from linear memory
//! (`js-glue/src/core.js` reads the same offsets).

use alloc::vec::Vec;

use crate::config::Joined;
use crate::error::Error;
use crate::session::{Action, ApiKind, Header, Resolution, Send, Source};

/// Action kinds, as [`super::wxs_next_action`] returns them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum Kind {
    None = 0,
    /// `a` op; text 0 the key.
    ReadStorage = 1,
    /// `a` op; text 0 the key, text 1 the value (JSON).
    WriteStorage = 2,
    /// `a` op; text 0 the key.
    RemoveStorage = 3,
    /// `a` op.
    CheckSession = 4,
    /// `a` op.
    WxLogin = 5,
    /// `a` op.
    LoginExtra = 6,
    /// `a` op, `b` call (0: none; an API call, or the `login(extra)` call of a login), `c`
    /// method index, `d` timeout ms, `e` read set and [`SEND_HEADER`] etc.; text 0 the URL,
    /// 1–2 the header, 3–4 the body field.
    Send = 7,
    /// `a` op, `b` 1 when its deadline passed.
    Cancel = 8,
    /// `a` call, `b` 0 storage / 1 login; text 0 the token.
    ResolveReady = 9,
    /// `a` call, `b` the op whose answer resolves it.
    ResolveAnswer = 10,
    /// `a` call.
    ResolveDone = 11,
    /// `a` call, `b` status (0: none); text 0 code, 1 message, 2 key.
    Reject = 12,
    /// `a` state (index in `STATES`), `b` status; text 0 code (empty: no error), 1 message, 2 key.
    Report = 13,
}

/// `Send` flags in `e` (the low byte is the read set).
pub const SEND_HEADER: u32 = 1 << 8;
pub const SEND_BODY: u32 = 1 << 9;
pub const SEND_EXTRA: u32 = 1 << 10;
/// The header is the same as in this session's previous `Send` (texts 1–2 are empty).
pub const SEND_SAME_HEADER: u32 = 1 << 11;
/// The URL is the caller's `url` as given / `baseUrl` + it / `baseUrl` + `/` + it; text 0 is then
/// empty (the glue has both strings already).
pub const SEND_URL_AS_GIVEN: u32 = 1 << 12;
pub const SEND_URL_BASE: u32 = 1 << 13;
pub const SEND_URL_BASE_SLASH: u32 = 1 << 14;
/// With `wx.uploadFile` / `wx.downloadFile` instead of `wx.request`.
pub const SEND_UPLOAD: u32 = 1 << 15;
pub const SEND_DOWNLOAD: u32 = 1 << 16;

/// The state names, in the order `Report`'s `a` uses.
pub const STATES: [crate::session::State; 5] = {
    use crate::session::State::*;
    [Idle, Checking, LoggingIn, Ready, Failed]
};

/// Six 32-bit numbers and five UTF-8 strings (pointer and length each), which point into `texts`, owned here until the next action replaces them.
/// Then whether more actions wait, and — when none does — the machine's next deadline, so the
/// glue needs no call to ask for either.
#[repr(C)]
pub struct Slot {
    kind: u32,
    a: u32,
    b: u32,
    c: u32,
    d: u32,
    e: u32,
    text_ptr: [u32; 5],
    text_len: [u32; 5],
    /// Word 16: 1 when [`super::wxs_next_action`] has more to give.
    pub more: u32,
    _pad: u32,
    /// Words 18–19: when no action is left, the next deadline (ms since the epoch), or -1.
    pub deadline: f64,
    texts: [Vec<u8>; 5],
}

impl Slot {
    pub const EMPTY: Slot = Slot {
        kind: 0,
        a: 0,
        b: 0,
        c: 0,
        d: 0,
        e: 0,
        text_ptr: [0; 5],
        text_len: [0; 5],
        more: 0,
        _pad: 0,
        deadline: -1.0,
        texts: [Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new()],
    };

    pub fn clear(&mut self) {
        self.reset();
        self.expose();
    }

    /// Empties every field; `expose` must follow.
    fn reset(&mut self) {
        self.kind = 0;
        self.a = 0;
        self.b = 0;
        self.c = 0;
        self.d = 0;
        self.e = 0;
        for text in &mut self.texts {
            text.clear();
        }
    }

    /// Points the string fields at `texts` (after they changed).
    fn expose(&mut self) {
        for (i, text) in self.texts.iter().enumerate() {
            self.text_ptr[i] = text.as_ptr() as u32;
            self.text_len[i] = text.len() as u32;
        }
    }

    fn set_text(&mut self, i: usize, text: &str) {
        if let Some(slot) = self.texts.get_mut(i) {
            slot.clear();
            slot.extend_from_slice(text.as_bytes());
        }
    }

    /// Puts one string alone in the slot (for [`super::wxs_read_path`]).
    pub fn put_text(&mut self, text: &str) {
        self.clear();
        self.set_text(0, text);
        self.expose();
    }

    /// Puts a `Reject` of `call` with `error` in the slot.
    pub fn put_error(&mut self, call: u32, error: &Error) {
        self.clear();
        self.kind = Kind::Reject as u32;
        self.a = call;
        self.error(error);
        self.expose();
    }

    fn error(&mut self, error: &Error) {
        self.b = error.status().map_or(0, u32::from);
        self.set_text(0, error.code());
        self.set_text(1, &error.message());
        self.set_text(2, error.key().unwrap_or(""));
    }

    /// Puts `action` in the slot; `last_header` is the session's previous `Send` header.
    pub fn put(&mut self, action: Action, last_header: &mut Option<Header>) -> Kind {
        self.reset();
        let kind = match action {
            Action::ReadStorage { op, key } => {
                self.a = op;
                self.set_text(0, &key);
                Kind::ReadStorage
            }
            Action::WriteStorage { op, key, value } => {
                self.a = op;
                self.set_text(0, &key);
                self.set_text(1, &value);
                Kind::WriteStorage
            }
            Action::RemoveStorage { op, key } => {
                self.a = op;
                self.set_text(0, &key);
                Kind::RemoveStorage
            }
            Action::CheckSession { op } => {
                self.a = op;
                Kind::CheckSession
            }
            Action::WxLogin { op } => {
                self.a = op;
                Kind::WxLogin
            }
            Action::LoginExtra { op } => {
                self.a = op;
                Kind::LoginExtra
            }
            Action::Send(send) => {
                self.send(*send, last_header);
                Kind::Send
            }
            Action::Cancel { op, timed_out } => {
                self.a = op;
                self.b = u32::from(timed_out);
                Kind::Cancel
            }
            Action::Resolve { call, value } => {
                self.a = call;
                match value {
                    Resolution::Ready { token, source } => {
                        self.b = u32::from(source == Source::Login);
                        self.set_text(0, token.as_str());
                        Kind::ResolveReady
                    }
                    Resolution::Answer { op } => {
                        self.b = op;
                        Kind::ResolveAnswer
                    }
                    Resolution::Done => Kind::ResolveDone,
                }
            }
            Action::Reject { call, error } => {
                self.a = call;
                self.error(&error);
                Kind::Reject
            }
            Action::Report { state, error } => {
                self.a = STATES.iter().position(|s| *s == state).unwrap_or(0) as u32;
                if let Some(error) = &error {
                    self.error(error);
                }
                Kind::Report
            }
        };
        self.kind = kind as u32;
        self.expose();
        kind
    }

    fn send(&mut self, send: Send, last_header: &mut Option<Header>) {
        self.a = send.op;
        self.b = send.call.unwrap_or(0);
        self.c = send.method.index();
        self.d = send.timeout_ms;
        let mut flags = send.read as u32;
        match send.kind {
            ApiKind::Request => {}
            ApiKind::Upload => flags |= SEND_UPLOAD,
            ApiKind::Download => flags |= SEND_DOWNLOAD,
        }
        match send.joined {
            None => self.set_text(0, &send.url),
            Some(Joined::AsGiven) => flags |= SEND_URL_AS_GIVEN,
            Some(Joined::Base) => flags |= SEND_URL_BASE,
            Some(Joined::BaseSlash) => flags |= SEND_URL_BASE_SLASH,
        }
        if let Some(header) = send.header {
            flags |= SEND_HEADER;
            if last_header.as_ref().is_some_and(|last| alloc::rc::Rc::ptr_eq(last, &header) || *last == header) {
                flags |= SEND_SAME_HEADER;
            } else {
                self.set_text(1, &header.0);
                self.set_text(2, &header.1);
                *last_header = Some(header);
            }
        }
        if let Some((key, value)) = send.body {
            flags |= SEND_BODY;
            self.set_text(3, &key);
            self.set_text(4, &value);
        }
        if send.config_extra {
            flags |= SEND_EXTRA;
        }
        self.e = flags;
    }
}
