//! The action slot: one action at a time, laid out for the glue to read from linear memory at
//! the word offsets of [`crate::abi::word`] (checked below, at compile time).

use alloc::vec::Vec;

use crate::abi::{action, cancel, send as flag, source, word};
use crate::config::Joined;
use crate::error::Error;
use crate::session::{Action, ApiKind, Header, Resolution, Send, Source};

/// The state names' order: `Report`'s `a` indexes it (`abi::state::NAMES` says the same in text).
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

// The layout the glue reads: the offsets `crate::abi::word` gives it, and the read sets'
// numbers `crate::abi::read` gives it.
const fn at(w: u32) -> usize {
    4 * w as usize
}

const _: () = {
    use crate::abi::read;
    use crate::answer::ReadSet;
    use core::mem::offset_of;
    assert!(offset_of!(Slot, kind) == at(word::KIND));
    assert!(offset_of!(Slot, a) == at(word::A) && offset_of!(Slot, b) == at(word::B) && offset_of!(Slot, c) == at(word::C));
    assert!(offset_of!(Slot, d) == at(word::D) && offset_of!(Slot, e) == at(word::E));
    assert!(offset_of!(Slot, text_ptr) == at(word::TEXT_PTR) && offset_of!(Slot, text_len) == at(word::TEXT_LEN));
    assert!(offset_of!(Slot, more) == at(word::MORE) && offset_of!(Slot, deadline) == at(word::DEADLINE));
    assert!(ReadSet::Api as u32 == read::API && ReadSet::Login as u32 == read::LOGIN && ReadSet::Check as u32 == read::CHECK);
    assert!(ReadSet::Refresh as u32 == read::REFRESH);
    assert!(ReadSet::ALL.len() == read::SETS as usize);
};

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
        self.kind = action::REJECT;
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
    pub fn put(&mut self, next: Action, last_header: &mut Option<Header>) -> u32 {
        self.reset();
        let kind = match next {
            Action::ReadStorage { op, key } => {
                self.a = op;
                self.set_text(0, &key);
                action::READ_STORAGE
            }
            Action::WriteStorage { op, key, value } => {
                self.a = op;
                self.set_text(0, &key);
                self.set_text(1, &value);
                action::WRITE_STORAGE
            }
            Action::RemoveStorage { op, key } => {
                self.a = op;
                self.set_text(0, &key);
                action::REMOVE_STORAGE
            }
            Action::CheckSession { op } => {
                self.a = op;
                action::CHECK_SESSION
            }
            Action::WxLogin { op, force } => {
                self.a = op;
                self.b = u32::from(force);
                action::WX_LOGIN
            }
            Action::LoginExtra { op } => {
                self.a = op;
                action::LOGIN_EXTRA
            }
            Action::Send(send) => {
                self.send(*send, last_header);
                action::SEND
            }
            Action::Cancel { op, timed_out } => {
                self.a = op;
                self.b = if timed_out { cancel::TIMED_OUT } else { cancel::DROPPED };
                action::CANCEL
            }
            Action::Resolve { call, value } => {
                self.a = call;
                match value {
                    Resolution::Ready { token, source } => {
                        self.b = if source == Source::Login { source::LOGIN } else { source::STORAGE };
                        self.set_text(0, token.as_str());
                        action::RESOLVE_READY
                    }
                    Resolution::Answer { op } => {
                        self.b = op;
                        action::RESOLVE_ANSWER
                    }
                    Resolution::Done => action::RESOLVE_DONE,
                }
            }
            Action::Reject { call, error } => {
                self.a = call;
                self.error(&error);
                action::REJECT
            }
            Action::AuthRequired { call } => {
                self.a = call;
                action::AUTH_REQUIRED
            }
            Action::Report { state, error } => {
                self.a = STATES.iter().position(|s| *s == state).unwrap_or(0) as u32;
                if let Some(error) = &error {
                    self.error(error);
                }
                action::REPORT
            }
        };
        self.kind = kind;
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
            ApiKind::Upload => flags |= flag::UPLOAD,
            ApiKind::Download => flags |= flag::DOWNLOAD,
        }
        match send.joined {
            None => self.set_text(0, &send.url),
            Some(Joined::AsGiven) => flags |= flag::URL_AS_GIVEN,
            Some(Joined::Base) => flags |= flag::URL_BASE,
            Some(Joined::BaseSlash) => flags |= flag::URL_BASE_SLASH,
        }
        if let Some(header) = send.header {
            flags |= flag::HEADER;
            if last_header.as_ref().is_some_and(|last| alloc::rc::Rc::ptr_eq(last, &header) || *last == header) {
                flags |= flag::SAME_HEADER;
            } else {
                self.set_text(1, &header.0);
                self.set_text(2, &header.1);
                *last_header = Some(header);
            }
        }
        if let Some((key, value)) = send.body {
            flags |= flag::BODY;
            self.set_text(3, &key);
            self.set_text(4, &value);
        }
        if send.config_extra {
            flags |= flag::EXTRA;
        }
        self.e = flags;
    }
}
