//! The `machine` target: the fuzzer's bytes as a schedule of events on a [`wx_session::Session`],
//! played on the shared fake platform ([`wx_session::testing::Driver`]), which checks every
//! action the machine asks for.
//!
//! A schedule is a [`Header`] (config, `login.extra`, jitter seed, start time) and then
//! [`Event`]s until the input ends: calls (`ensure`, `request` of each kind, `login`, `setToken`,
//! `logout`, `abort`), replies to operations the machine is waiting for (any of them, in any
//! order), replies to operations it is not waiting for (unknown, finished or cancelled ids, or
//! the wrong kind of reply), time passing with or without `handle_timeout`. The driver takes
//! the actions after every event, as the glue does.
//!
//! Checked: nothing panics (in the wasm a panic kills the instance); everything the shared
//! driver checks on every action (every `Resolve`/`Reject` is for a call that was started and
//! settles it once; a request resolves only with an answer to one of its own sends; cancels are
//! for operations in flight, timed out only within `handle_timeout`; no error message or key
//! contains a token the fake server issued; headers and stored records are well formed;
//! `setToken` settles at once and `abort` settles its request, and nothing else, with `ABORTED`;
//! a reply of the wrong kind is ignored: the operation stays in flight, and times out if nothing
//! else answers it); here, that `setToken` gives the token in use, that a profile's token never
//! goes to another origin, and that no error holds a piece of a token; and, at the end of every
//! schedule, once the remaining deadlines have passed, every call has settled and every
//! operation ended.

use std::rc::Rc;

use wx_session::plain::{self, Writer};
use wx_session::session::ApiKind;
use wx_session::testing::{self, is_good_token, Awaits, Driver};
use wx_session::{Action, Answer, ApiRequest, Config, Error, Method, OpId, ReadSet, Resolution, StorageValue, StoredToken, Token, MAX_MILLIS};

use crate::fields::{self, FieldSpec};
use crate::{gen, profiles, Input, Script, MARK};

/// URLs `request()` is called with: relative, same origin, another origin, unusable.
pub const REQUEST_URLS: &[&str] = &[
    "/api/profile",
    "api/x?q=1",
    "https://api.example.com/y",
    "https://evil.test/steal",
    "",
    "/a b",
    "javascript:alert(1)",
    "http://api.example.com/z",
    "?page=2",
    "HTTPS://API.EXAMPLE.COM:443/x",
];
/// The URL prefix of another origin: the token must never go there.
const EVIL: &str = "https://evil.test";

/// What `wx.*` failures say, else any text.
pub const ERR_MSGS: &[&str] = &[
    "request:fail timeout",
    "request:fail abort",
    "request:fail url not in domain list",
    "request:fail",
    "请求超时",
    "net::ERR_CONNECTION_TIMED_OUT",
    "request:fail parameter error",
    "login:fail",
    "",
    "setStorage:fail exceed storage max size 10MB",
    "getStorage:fail data not found",
    "cycle",
    "user refused",
];
/// Codes `wx.login` gives: good, empty, with a header injection, too long (257 bytes).
pub const CODES: &[&str] = &["061abcDEF", "", "a\r\nX-Evil: 1", "0a1B+c/=", "中文", LONG_CODE];
const LONG_CODE: &str = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";
const LEGACY: &[&str] = &["eyJhbGciOi.legacy", "", "{\"v\":1,\"token\":\"abc\"}", "legacy\r\nX: 1", " token"];

/// How a schedule starts.
#[derive(Debug, Clone)]
pub struct Header {
    /// An index into [`profiles::all`]; one past the end: a config made by [`gen::config`].
    pub profile: usize,
    pub login_extra: bool,
    pub seed: u32,
    pub start: Start,
}

#[derive(Debug, Clone, Copy)]
pub enum Start {
    /// 2023-11-14, as `Date.now()` reads.
    Now,
    Zero,
    /// Near `u64::MAX`: every deadline saturates.
    NearMax,
    At(u64),
}

/// One event of a schedule.
#[derive(Debug, Clone)]
pub enum Event {
    Ensure,
    /// `kind`: 0 `request`, 1 `uploadFile`, 2 `downloadFile`.
    Request {
        url: usize,
        method: usize,
        kind: u8,
        auth: bool,
        retry: bool,
        timeout_ms: Option<u32>,
    },
    Logout,
    /// `login(extra)`.
    Login,
    /// `setToken(token, expiresIn)`.
    SetToken {
        token: SetTo,
        expires_in_s: Option<u32>,
    },
    /// `abort()` of the call at `index` (modulo their number) among those not settled, or of
    /// call id `index` when there are none.
    Abort {
        index: u8,
    },
    /// A call whose options the glue could not read.
    RejectNow,
    /// Reply to the operation at `index` (modulo their number) among those in flight, as its
    /// kind expects; nothing when none is in flight.
    Reply {
        index: u8,
        reply: Reply,
    },
    /// Reply to an operation the machine may not be waiting for, with any kind of reply.
    Stray {
        to: Stray,
        reply: Reply,
    },
    /// Time passes; the machine is not told.
    Advance {
        ms: u32,
    },
    /// Time passes and `handle_timeout` is called (see [`Player::jump`] for `mode`).
    Timeout {
        mode: u8,
        amount: u32,
    },
}

/// The token `setToken` is given.
#[derive(Debug, Clone)]
pub enum SetTo {
    /// A token of the fake server's (see [`fields::token`]), counted as issued.
    Issued {
        junk: u8,
    },
    Text(String),
}

#[derive(Debug, Clone, Copy)]
pub enum Stray {
    Id(u32),
    /// One in flight (by index): a wrong kind of reply is a driver bug the machine must survive.
    InFlight(u8),
    /// One already replied to or cancelled (by index).
    Finished(u8),
}

/// A reply to an operation.
#[derive(Debug, Clone)]
pub enum Reply {
    /// To `ReadStorage`.
    Storage(Stored),
    /// To `WriteStorage` or `RemoveStorage`.
    Done(Result<(), String>),
    /// To `CheckSession`.
    Valid(bool),
    /// To `WxLogin`: a code or an errMsg.
    Code(Result<String, String>),
    /// To `LoginExtra`.
    Extra(Result<(), String>),
    /// To `Send`.
    Http(Http),
}

#[derive(Debug, Clone)]
pub enum Stored {
    Missing,
    Null,
    /// A record of the newest issued token (or of a fixed one); expiry per [`Player::stored`].
    Newest {
        expiry: u8,
    },
    Legacy(String),
    Raw(Vec<u8>),
    /// A record-shaped value made by [`gen::record`] (read only: seeds use `Raw`).
    Generated(Vec<u8>),
    Unreadable(String),
}

#[derive(Debug, Clone)]
pub enum Http {
    /// The status and the fields, in the order of the send's read set.
    Answer {
        status: u16,
        fields: Vec<FieldSpec>,
    },
    Fail(String),
}

impl Header {
    pub fn read(input: &mut Input) -> Header {
        let profile = input.choice(profiles::COUNT + 1);
        let login_extra = input.chance(30);
        let seed = input.u32();
        let start = match input.choice(4) {
            0 => Start::Now,
            1 => Start::Zero,
            2 => Start::NearMax,
            _ => Start::At(input.u64()),
        };
        Header { profile, login_extra, seed, start }
    }

    pub fn write(&self, s: &mut Script) {
        s.choice(self.profile).chance(self.login_extra).u32(self.seed);
        match self.start {
            Start::Now => s.choice(0),
            Start::Zero => s.choice(1),
            Start::NearMax => s.choice(2),
            Start::At(t) => s.choice(3).u64(t),
        };
    }
}

impl Reply {
    fn awaits(&self) -> Awaits {
        match self {
            Reply::Storage(_) => Awaits::Read,
            Reply::Done(_) => Awaits::Write,
            Reply::Valid(_) => Awaits::CheckSession,
            Reply::Code(_) => Awaits::WxLogin,
            Reply::Extra(_) => Awaits::LoginExtra,
            Reply::Http(_) => Awaits::Http,
        }
    }

    fn read(input: &mut Input, awaits: Awaits) -> Reply {
        let result = |input: &mut Input| if input.chance(70) { Ok(()) } else { Err(input.word(ERR_MSGS)) };
        match awaits {
            Awaits::Read => Reply::Storage(match input.choice(7) {
                0 => Stored::Missing,
                1 => Stored::Null,
                2 => Stored::Newest { expiry: input.byte() },
                3 => Stored::Legacy(input.word(LEGACY)),
                4 => {
                    let len = usize::from(input.byte());
                    Stored::Raw(input.bytes(len).to_vec())
                }
                5 => {
                    let mut w = Writer::new();
                    gen::record(input, &mut w);
                    Stored::Generated(w.into_bytes())
                }
                _ => Stored::Unreadable(input.word(ERR_MSGS)),
            }),
            Awaits::Write => Reply::Done(result(input)),
            Awaits::CheckSession => Reply::Valid(input.chance(80)),
            Awaits::WxLogin => Reply::Code(if input.chance(75) { Ok(input.word(CODES)) } else { Err(input.word(ERR_MSGS)) }),
            Awaits::LoginExtra => Reply::Extra(result(input)),
            Awaits::Http => Reply::Http(if input.chance(75) {
                Http::Answer { status: fields::read_status(input), fields: fields::read_specs(input, 5) }
            } else {
                Http::Fail(input.word(ERR_MSGS))
            }),
        }
    }

    fn write(&self, s: &mut Script) {
        fn result(s: &mut Script, r: &Result<(), String>) {
            match r {
                Ok(()) => s.chance(true),
                Err(e) => s.chance(false).word(ERR_MSGS, e),
            };
        }
        match self {
            Reply::Storage(stored) => match stored {
                Stored::Missing => s.choice(0),
                Stored::Null => s.choice(1),
                Stored::Newest { expiry } => s.choice(2).byte(*expiry),
                Stored::Legacy(text) => s.choice(3).word(LEGACY, text),
                Stored::Raw(bytes) => s.choice(4).choice(bytes.len()).raw(bytes),
                Stored::Generated(_) => panic!("a generated record cannot be written back: use Raw"),
                Stored::Unreadable(why) => s.choice(6).word(ERR_MSGS, why),
            },
            Reply::Done(r) | Reply::Extra(r) => {
                result(s, r);
                s
            }
            Reply::Valid(valid) => s.chance(*valid),
            Reply::Code(Ok(code)) => s.chance(true).word(CODES, code),
            Reply::Code(Err(e)) => s.chance(false).word(ERR_MSGS, e),
            Reply::Http(Http::Answer { status, fields }) => {
                s.chance(true);
                fields::write_status(s, *status);
                fields::write_specs(s, fields);
                s
            }
            Reply::Http(Http::Fail(e)) => s.chance(false).word(ERR_MSGS, e),
        };
    }
}

impl Event {
    /// Writes the event as [`Player::step`] reads it. (A `Reply` is read only when an operation
    /// is in flight: a script must not reply when none is.)
    pub fn write(&self, s: &mut Script) {
        match self {
            Event::Ensure => {
                s.choice(0);
            }
            Event::Request { url, method, kind, auth, retry, timeout_ms } => {
                let flags = u8::from(!auth) | u8::from(*retry) << 1 | u8::from(timeout_ms.is_some()) << 2 | kind << 3;
                s.choice(1).choice(*url).choice(*method).byte(flags);
                if let Some(ms) = timeout_ms {
                    s.u32(*ms);
                }
            }
            Event::Logout => {
                s.choice(2);
            }
            Event::Login => {
                s.choice(8);
            }
            Event::SetToken { token, expires_in_s } => {
                s.choice(9);
                match token {
                    SetTo::Issued { junk } => s.chance(true).byte(*junk),
                    SetTo::Text(text) => s.chance(false).word(LEGACY, text),
                };
                match expires_in_s {
                    Some(secs) => s.chance(true).u32(*secs),
                    None => s.chance(false),
                };
            }
            Event::Abort { index } => {
                s.choice(10).byte(*index);
            }
            Event::RejectNow => {
                s.choice(3);
            }
            Event::Reply { index, reply } => {
                s.choice(4).byte(*index);
                reply.write(s);
            }
            Event::Stray { to, reply } => {
                s.choice(5);
                match to {
                    Stray::Id(id) => s.choice(0).u32(*id),
                    Stray::InFlight(i) => s.choice(1).byte(*i),
                    Stray::Finished(i) => s.choice(2).byte(*i),
                };
                let awaits = Awaits::ALL.iter().position(|a| *a == reply.awaits()).unwrap_or(0);
                s.choice(awaits);
                reply.write(s);
            }
            Event::Advance { ms } => {
                s.choice(6).u32(*ms);
            }
            Event::Timeout { mode, amount } => {
                s.choice(7).byte(*mode).u32(*amount);
            }
        }
    }
}

/// What a schedule did, for the seeds' sanity check.
#[derive(Debug, Default, Clone)]
pub struct Summary {
    pub events: usize,
    pub ready: usize,
    pub answers: usize,
    pub rejected: Vec<&'static str>,
    pub logins_sent: usize,
    pub tokens_issued: u32,
    pub stored_records: usize,
}

/// Plays a whole input: the header, up to `max_events` events, then the end (see
/// [`Player::finish`]).
pub fn play(data: &[u8], max_events: usize) -> Summary {
    let mut input = Input::new(data);
    let mut player = Player::new(&mut input);
    while !input.is_empty() && player.summary.events < max_events {
        player.step(&mut input);
    }
    player.finish();
    player.summary
}

/// Plays a schedule on the shared [`Driver`] (which keeps the books and checks every action),
/// adding the checks that only hold for the fuzzer's inputs.
pub struct Player {
    driver: Driver,
    /// The config is one of the profiles (none trusts another origin).
    profile: bool,
    pub summary: Summary,
}

impl Player {
    /// Reads the header and sets the session up.
    pub fn new(input: &mut Input) -> Player {
        let header = Header::read(input);
        let (config, profile) = match profiles::config(header.profile) {
            Some(config) => (config, true),
            None => {
                let mut w = Writer::new();
                gen::config(input, &mut w);
                match Config::from_plain(w.bytes()) {
                    Ok(config) => (config, false),
                    Err(_) => (profiles::config(0).expect("a profile"), true),
                }
            }
        };
        let now = match header.start {
            Start::Now => 1_700_000_000_000,
            Start::Zero => 0,
            Start::NearMax => u64::MAX - 1_000_000,
            Start::At(t) => t,
        };
        let trace = std::env::var_os("FUZZ_TRACE").is_some();
        if trace {
            eprintln!("header {header:?}, profile config: {profile}, {config:?}");
        }
        let mut driver = Driver::new(config, header.seed, header.login_extra, now);
        driver.trace = trace;
        Player { driver, profile, summary: Summary::default() }
    }

    /// Reads one event, performs it, and checks the actions it caused.
    pub fn step(&mut self, input: &mut Input) {
        self.summary.events += 1;
        match input.choice(11) {
            0 => {
                self.driver.ensure();
            }
            1 => {
                let url = REQUEST_URLS[input.choice(REQUEST_URLS.len())];
                let method = Method::ALL[input.choice(Method::ALL.len())];
                let flags = input.byte();
                let timeout_ms = (flags & 4 != 0).then(|| input.u32());
                let kind = [ApiKind::Request, ApiKind::Upload, ApiKind::Download][usize::from(flags >> 3) % 3];
                self.driver.request(ApiRequest { kind, url: Rc::from(url), method, auth: flags & 1 == 0, retry: flags & 2 != 0, timeout_ms });
            }
            2 => {
                self.driver.logout();
            }
            3 => {
                self.driver.reject_now(Error::Config { key: "request.data".into(), reason: "could not be read".into() });
            }
            4 => {
                let index = usize::from(input.byte());
                let in_flight = self.driver.in_flight();
                if !in_flight.is_empty() {
                    let target = &in_flight[index % in_flight.len()];
                    let (op, awaits) = (target.id, target.awaits);
                    let reply = Reply::read(input, awaits);
                    self.reply(op, &reply);
                }
            }
            8 => {
                self.driver.login();
            }
            9 => {
                let text = if input.chance(70) {
                    let token = fields::token(self.driver.issued().len() as u32 + 1, input.byte());
                    self.driver.issue(&token);
                    token
                } else {
                    input.word(LEGACY)
                };
                let expires_in_s = input.chance(50).then(|| input.u32());
                let now = self.driver.now;
                let call = self.driver.set_token(&text, expires_in_s);
                let expected = if is_good_token(&text) { None } else { Some("CONFIG") };
                let settled = self.driver.settled(call).map(|result| result.as_ref().err().map(Error::code));
                assert_eq!(settled, Some(expected), "setToken({} bytes) did not settle as it should", text.len());
                if expected.is_none() {
                    let token = self.driver.session.token(now).map(Token::as_str);
                    // The expiry is kept at most at MAX_MILLIS (2^53 - 1 ms), as every time the core keeps.
                    let expires_at = expires_in_s.map(|s| now.saturating_add(u64::from(s) * 1000).min(MAX_MILLIS));
                    let fresh = expires_at.is_none_or(|at| at > now.saturating_add(60_000));
                    assert!(!fresh || token == Some(text.as_str()), "setToken's token is not the one in use");
                }
            }
            10 => {
                let index = input.byte();
                let waiting = self.driver.waiting();
                let call = if waiting.is_empty() { u32::from(index) } else { waiting[usize::from(index) % waiting.len()] };
                self.driver.abort(call);
            }
            5 => {
                let op = match input.choice(3) {
                    0 => input.u32(),
                    1 => {
                        let i = usize::from(input.byte());
                        let in_flight = self.driver.in_flight();
                        in_flight.get(i % in_flight.len().max(1)).map_or(0, |op| op.id)
                    }
                    _ => {
                        let i = usize::from(input.byte());
                        let finished = &self.driver.finished;
                        finished.get(i % finished.len().max(1)).copied().unwrap_or(0)
                    }
                };
                let awaits = Awaits::ALL[input.choice(Awaits::ALL.len())];
                let reply = Reply::read(input, awaits);
                // A reply of the kind the operation awaits ends it; any other is ignored and the
                // operation stays in flight (the driver keeps the books either way).
                self.reply(op, &reply);
            }
            6 => self.driver.now = self.driver.now.saturating_add(u64::from(input.u32())),
            _ => {
                let (mode, amount) = (input.byte(), input.u32());
                self.jump(mode, amount);
                self.driver.handle_timeout();
            }
        }
        self.look_at_actions();
    }

    /// Moves the clock: by up to 20 s; to the next deadline; to just before it; by up to 136
    /// years; or by half of `u64`'s range. Never backwards.
    fn jump(&mut self, mode: u8, amount: u32) {
        let now = self.driver.now;
        let deadline = self.driver.session.next_deadline();
        self.driver.now = match mode % 5 {
            0 => now.saturating_add(u64::from(amount % 20_000)),
            1 => deadline.unwrap_or(now).max(now),
            2 => deadline.map_or(now, |d| d.saturating_sub(1)).max(now),
            3 => now.saturating_add(u64::from(amount) * 1000),
            _ => now.saturating_add(u64::MAX / 2),
        };
    }

    /// Tells the machine `reply` for operation `op`: its tokens are issued by the fake server
    /// as the reply is made.
    fn reply(&mut self, op: OpId, reply: &Reply) {
        let told = match reply {
            Reply::Storage(stored) => testing::Reply::Read(self.stored(stored)),
            Reply::Done(result) => testing::Reply::Stored(result.clone()),
            Reply::Valid(valid) => testing::Reply::CheckSession(*valid),
            Reply::Code(result) => testing::Reply::WxLogin(result.clone()),
            Reply::Extra(result) => testing::Reply::LoginExtra(result.clone()),
            Reply::Http(Http::Fail(err_msg)) => testing::Reply::Failed(err_msg.clone()),
            Reply::Http(Http::Answer { status, fields }) => {
                let driver = &mut self.driver;
                let mut issue = |junk: u8| {
                    let token = fields::token(driver.issued().len() as u32 + 1, junk);
                    driver.issue(&token);
                    token
                };
                let fields = fields.iter().map(|spec| spec.field(&mut issue)).collect();
                self.summary.tokens_issued = self.driver.issued().len() as u32;
                testing::Reply::Answered(Answer { status: *status, fields })
            }
        };
        self.driver.answer(op, told);
    }

    /// The storage value a reply describes.
    fn stored(&self, stored: &Stored) -> StorageValue {
        let now = self.driver.now;
        match stored {
            Stored::Missing => StorageValue::Missing,
            Stored::Null => StorageValue::Plain(vec![plain::NULL]),
            Stored::Newest { expiry } => {
                let text = self.driver.issued().last().cloned().unwrap_or_else(|| "stored-token".into());
                let Ok(token) = Token::new(&text) else { return StorageValue::Plain(vec![plain::NULL]) };
                let (expires_at, obtained_at) = match expiry % 4 {
                    0 => (None, None),
                    1 => (Some(now.saturating_add(3_600_000)), Some(now)),
                    2 => (Some(now), Some(now.saturating_sub(3_600_000))),
                    _ => (Some(u64::MAX), None),
                };
                StorageValue::Plain(StoredToken { token, expires_at, obtained_at, refresh_token: None }.to_plain())
            }
            Stored::Legacy(text) => {
                let mut w = Writer::new();
                w.string(text);
                StorageValue::Plain(w.into_bytes())
            }
            Stored::Raw(bytes) | Stored::Generated(bytes) => StorageValue::Plain(bytes.clone()),
            Stored::Unreadable(why) => StorageValue::Unreadable(why.clone()),
        }
    }

    /// Counts what the last event's actions did, and checks what holds only for these inputs:
    /// no token header to another origin from a profile's config (none trusts one), and no part
    /// of an issued token in an error (strings from the fuzzer never hold [`MARK`]).
    fn look_at_actions(&mut self) {
        while let Some(action) = self.driver.next_action() {
            match action {
                Action::WriteStorage { .. } => self.summary.stored_records += 1,
                Action::Send(send) => {
                    if send.header.is_some() {
                        let evil = send.url.get(..EVIL.len()).is_some_and(|u| u.eq_ignore_ascii_case(EVIL));
                        assert!(!(self.profile && evil), "a header went to another origin: {}", send.url);
                    }
                    if send.read == ReadSet::Login {
                        self.summary.logins_sent += 1;
                    }
                }
                Action::Resolve { value: Resolution::Ready { .. }, .. } => self.summary.ready += 1,
                Action::Resolve { value: Resolution::Answer { .. }, .. } => self.summary.answers += 1,
                Action::Reject { error, .. } => {
                    check_error(&error);
                    self.summary.rejected.push(error.code());
                }
                Action::Report { error: Some(error), .. } => check_error(&error),
                _ => {}
            }
        }
    }

    /// The schedule is over: every deadline left passes, nothing answers. Every call must have
    /// settled by then, and every operation ended ([`Driver::assert_idle`]).
    pub fn finish(&mut self) {
        self.driver.pass_deadlines();
        self.look_at_actions();
        self.driver.assert_idle();
    }
}

/// Strings from the fuzzer never hold [`MARK`]: one in an error is a piece of a token.
fn check_error(error: &Error) {
    let key = error.key().unwrap_or("");
    assert!(!error.message().contains(MARK) && !key.contains(MARK), "an error carries part of a token: {}", error.code());
}
