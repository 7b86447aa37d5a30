//! The `machine` target: the fuzzer's bytes as a schedule of events on a [`Session`], played by
//! a fake platform that checks every action the machine asks for.
//!
//! A schedule is a [`Header`] (config, `login.extra`, jitter seed, start time) and then
//! [`Event`]s until the input ends: calls (`ensure`, `request` of each kind, `login`, `setToken`,
//! `logout`, `abort`), replies to operations the machine is waiting for (any of them, in any
//! order), replies to operations it is not waiting for (unknown, finished or cancelled ids, or
//! the wrong kind of reply), time passing with or without `handle_timeout`. The driver drains the actions after every event, as the
//! glue does.
//!
//! Checked: nothing panics (in the wasm a panic kills the instance); every `Resolve`/`Reject` is
//! for a call that was started and settles it once; a request resolves only with an answer to one
//! of its own sends; cancels are for operations in flight (timed out only after `handle_timeout`);
//! no error message or key contains a token the fake server issued; headers and stored records are
//! well formed; `setToken` settles at once and `abort` settles its request (and nothing else) with
//! `ABORTED`; a reply of the wrong kind is ignored (the operation stays in flight, and times out if
//! nothing else answers it); and, at the end of every schedule, every call has settled once the
//! remaining deadlines have passed.

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use wx_session::plain::{self, Writer};
use wx_session::session::ApiKind;
use wx_session::token::StorageRead;
use wx_session::{Action, Answer, ApiRequest, CallId, Config, Error, Method, OpId, ReadSet, Resolution, Session, StorageValue, StoredToken, Token};

use crate::fields::{self, FieldSpec};
use crate::{gen, is_good_token, json_to_plain, profiles, Input, Script, MARK};

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
    /// Time passes and `handle_timeout` is called (see [`Driver::jump`] for `mode`).
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
    /// A record of the newest issued token (or of a fixed one); expiry per [`Driver::stored`].
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

/// Which reply an operation expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Storage,
    Done,
    Valid,
    Code,
    Extra,
    Http,
}

const KINDS: [Kind; 6] = [Kind::Storage, Kind::Done, Kind::Valid, Kind::Code, Kind::Extra, Kind::Http];

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
    fn kind(&self) -> Kind {
        match self {
            Reply::Storage(_) => Kind::Storage,
            Reply::Done(_) => Kind::Done,
            Reply::Valid(_) => Kind::Valid,
            Reply::Code(_) => Kind::Code,
            Reply::Extra(_) => Kind::Extra,
            Reply::Http(_) => Kind::Http,
        }
    }

    fn read(input: &mut Input, kind: Kind) -> Reply {
        let result = |input: &mut Input| if input.chance(70) { Ok(()) } else { Err(input.word(ERR_MSGS)) };
        match kind {
            Kind::Storage => Reply::Storage(match input.choice(7) {
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
            Kind::Done => Reply::Done(result(input)),
            Kind::Valid => Reply::Valid(input.chance(80)),
            Kind::Code => Reply::Code(if input.chance(75) { Ok(input.word(CODES)) } else { Err(input.word(ERR_MSGS)) }),
            Kind::Extra => Reply::Extra(result(input)),
            Kind::Http => Reply::Http(if input.chance(75) {
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
    /// Writes the event as [`Driver::step`] reads it. (A `Reply` is read only when an operation
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
                let kind = KINDS.iter().position(|k| *k == reply.kind()).unwrap_or(0);
                s.choice(kind);
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

/// An operation in flight.
#[derive(Debug, Clone)]
struct InFlight {
    op: OpId,
    kind: Kind,
    read: Option<ReadSet>,
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

/// The fake platform: plays a schedule and checks the machine's actions.
pub struct Driver {
    session: Session,
    config: Config,
    /// The config is one of the profiles (none trusts another origin).
    profile: bool,
    login_extra: bool,
    now: u64,
    started: HashSet<CallId>,
    settled: HashSet<CallId>,
    /// What each API call is (`None`: not a `request`/`uploadFile`/`downloadFile`).
    api_kinds: HashMap<CallId, Option<ApiKind>>,
    /// How each settled call ended: `None` resolved, else the error code.
    outcomes: HashMap<CallId, Option<&'static str>>,
    /// The `login(extra)` calls.
    logins: HashSet<CallId>,
    in_flight: Vec<InFlight>,
    /// Every id the machine has used, for calls and operations.
    ids: HashSet<u32>,
    finished: Vec<OpId>,
    /// The call each send was for (`None`: the flow's).
    sends: HashMap<OpId, Option<CallId>>,
    /// Sends that got an HTTP answer while in flight.
    answered: HashSet<OpId>,
    /// Every token the fake server issued.
    issued: Vec<String>,
    /// The actions being drained follow a `handle_timeout` call.
    timeout_called: bool,
    /// `FUZZ_TRACE` is set: print every event and action (to read a crash's schedule).
    trace: bool,
    pub summary: Summary,
}

impl Driver {
    /// Reads the header and sets the session up.
    pub fn new(input: &mut Input) -> Driver {
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
        if std::env::var_os("FUZZ_TRACE").is_some() {
            eprintln!("header {header:?}, profile config: {profile}, {config:?}");
        }
        let session = Session::new(config.clone(), header.seed).with_login_extra(header.login_extra);
        Driver {
            session,
            config,
            profile,
            login_extra: header.login_extra,
            now,
            started: HashSet::new(),
            settled: HashSet::new(),
            api_kinds: HashMap::new(),
            outcomes: HashMap::new(),
            logins: HashSet::new(),
            in_flight: Vec::new(),
            ids: HashSet::new(),
            finished: Vec::new(),
            sends: HashMap::new(),
            answered: HashSet::new(),
            issued: Vec::new(),
            timeout_called: false,
            trace: std::env::var_os("FUZZ_TRACE").is_some(),
            summary: Summary::default(),
        }
    }

    /// Plays a whole input: the header, up to `max_events` events, then the end (see [`Driver::finish`]).
    pub fn play(data: &[u8], max_events: usize) -> Summary {
        let mut input = Input::new(data);
        let mut driver = Driver::new(&mut input);
        while !input.is_empty() && driver.summary.events < max_events {
            driver.step(&mut input);
        }
        driver.finish();
        driver.summary
    }

    /// Reads one event, performs it, drains the actions.
    pub fn step(&mut self, input: &mut Input) {
        self.summary.events += 1;
        let now = self.now;
        match input.choice(11) {
            0 => {
                let call = self.session.ensure(now);
                self.start(call, None);
            }
            1 => {
                let url = REQUEST_URLS[input.choice(REQUEST_URLS.len())];
                let method = Method::ALL[input.choice(Method::ALL.len())];
                let flags = input.byte();
                let timeout_ms = (flags & 4 != 0).then(|| input.u32());
                let kind = [ApiKind::Request, ApiKind::Upload, ApiKind::Download][usize::from(flags >> 3) % 3];
                let api = ApiRequest { kind, url: Rc::from(url), method, auth: flags & 1 == 0, retry: flags & 2 != 0, timeout_ms };
                let call = self.session.request(now, api);
                self.start(call, Some(kind));
            }
            2 => {
                let call = self.session.logout(now);
                self.start(call, None);
            }
            3 => {
                let error = Error::Config { key: "request.data".into(), reason: "could not be read".into() };
                let call = self.session.reject_now(error);
                self.start(call, None);
            }
            4 => {
                let index = usize::from(input.byte());
                if !self.in_flight.is_empty() {
                    let target = self.in_flight.remove(index % self.in_flight.len());
                    self.finished.push(target.op);
                    let reply = Reply::read(input, target.kind);
                    self.reply(target.op, target.read, &reply);
                }
            }
            8 => {
                let call = self.session.login(now);
                self.start(call, None);
                self.logins.insert(call);
            }
            9 => {
                let text = if input.chance(70) {
                    let token = fields::token(self.issued.len() as u32 + 1, input.byte());
                    self.issued.push(token.clone());
                    token
                } else {
                    input.word(LEGACY)
                };
                let expires_in_s = input.chance(50).then(|| input.u32());
                let call = self.session.set_token(now, &text, expires_in_s);
                self.start(call, None);
                self.drain();
                let expected = if is_good_token(&text) { None } else { Some("CONFIG") };
                assert_eq!(self.outcomes.get(&call), Some(&expected), "setToken({} bytes) did not settle as it should", text.len());
                if expected.is_none() {
                    let token = self.session.token(now).map(Token::as_str);
                    let fresh = expires_in_s.is_none_or(|s| now.saturating_add(u64::from(s) * 1000) > now.saturating_add(60_000));
                    assert!(!fresh || token == Some(text.as_str()), "setToken's token is not the one in use");
                }
            }
            10 => {
                let index = input.byte();
                let mut waiting: Vec<CallId> = self.started.difference(&self.settled).copied().collect();
                waiting.sort_unstable();
                let call = if waiting.is_empty() { u32::from(index) } else { waiting[usize::from(index) % waiting.len()] };
                let was_waiting = self.started.contains(&call) && !self.settled.contains(&call);
                let before = self.settled.len();
                if self.trace {
                    eprintln!("@{} abort {call}", self.now);
                }
                self.session.abort(call);
                self.drain();
                if was_waiting && self.api_kinds.get(&call).is_some_and(Option::is_some) {
                    assert_eq!(self.outcomes.get(&call), Some(&Some("ABORTED")), "abort() of request {call} did not reject it with ABORTED");
                    assert_eq!(self.settled.len(), before + 1, "abort() of request {call} settled other calls");
                } else {
                    assert_eq!(self.settled.len(), before, "abort() of {call}, no API call in flight, settled a call");
                }
            }
            5 => {
                let op = match input.choice(3) {
                    0 => input.u32(),
                    1 => {
                        let i = usize::from(input.byte());
                        self.in_flight.get(i % self.in_flight.len().max(1)).map_or(0, |f| f.op)
                    }
                    _ => {
                        let i = usize::from(input.byte());
                        self.finished.get(i % self.finished.len().max(1)).copied().unwrap_or(0)
                    }
                };
                let kind = KINDS[input.choice(KINDS.len())];
                let reply = Reply::read(input, kind);
                // A reply of the kind the operation awaits ends it; any other is ignored and
                // the operation stays in flight.
                let mut read = None;
                if let Some(at) = self.in_flight.iter().position(|f| f.op == op && f.kind == kind) {
                    read = self.in_flight.remove(at).read;
                    self.finished.push(op);
                }
                self.reply(op, read, &reply);
            }
            6 => self.now = self.now.saturating_add(u64::from(input.u32())),
            _ => {
                let (mode, amount) = (input.byte(), input.u32());
                self.jump(mode, amount);
                if self.trace {
                    eprintln!("@{} handle_timeout", self.now);
                }
                self.session.handle_timeout(self.now);
                self.timeout_called = true;
            }
        }
        self.drain();
        self.timeout_called = false;
    }

    /// Moves the clock: by up to 20 s; to the next deadline; to just before it; by up to 136
    /// years; or by half of `u64`'s range. Never backwards.
    fn jump(&mut self, mode: u8, amount: u32) {
        let deadline = self.session.next_deadline();
        self.now = match mode % 5 {
            0 => self.now.saturating_add(u64::from(amount % 20_000)),
            1 => deadline.unwrap_or(self.now).max(self.now),
            2 => deadline.map_or(self.now, |d| d.saturating_sub(1)).max(self.now),
            3 => self.now.saturating_add(u64::from(amount) * 1000),
            _ => self.now.saturating_add(u64::MAX / 2),
        };
    }

    fn start(&mut self, call: CallId, api_kind: Option<ApiKind>) {
        if self.trace {
            eprintln!("@{} call {call} started", self.now);
        }
        assert!(self.ids.insert(call), "call id {call} was used before");
        self.started.insert(call);
        self.api_kinds.insert(call, api_kind);
    }

    /// Tells the machine `reply` for operation `op`.
    fn reply(&mut self, op: OpId, read: Option<ReadSet>, reply: &Reply) {
        if self.trace {
            eprintln!("@{} op {op} -> {reply:?}", self.now);
        }
        let now = self.now;
        match reply {
            Reply::Storage(stored) => {
                let value = self.stored(stored);
                self.session.storage_read(now, op, value);
            }
            Reply::Done(result) => self.session.storage_done(op, result.as_ref().map(|_| ()).map_err(String::as_str)),
            Reply::Valid(valid) => self.session.check_session_done(now, op, *valid),
            Reply::Code(result) => self.session.wx_login_done(now, op, result.as_ref().map(String::as_str).map_err(String::as_str)),
            Reply::Extra(result) => self.session.login_extra_done(now, op, result.as_ref().map(|_| ()).map_err(String::as_str)),
            Reply::Http(Http::Fail(err_msg)) => self.session.http_failed(now, op, err_msg),
            Reply::Http(Http::Answer { status, fields }) => {
                let issued = &mut self.issued;
                let mut issue = |junk: u8| {
                    let token = fields::token(issued.len() as u32 + 1, junk);
                    issued.push(token.clone());
                    token
                };
                let fields = fields.iter().map(|spec| spec.field(&mut issue)).collect();
                self.summary.tokens_issued = self.issued.len() as u32;
                if read.is_some() {
                    self.answered.insert(op);
                }
                self.session.http_answered(now, op, Answer { status: *status, fields });
            }
        }
    }

    /// The storage value a reply describes.
    fn stored(&self, stored: &Stored) -> StorageValue {
        match stored {
            Stored::Missing => StorageValue::Missing,
            Stored::Null => StorageValue::Plain(vec![plain::NULL]),
            Stored::Newest { expiry } => {
                let text = self.issued.last().cloned().unwrap_or_else(|| "stored-token".into());
                let Ok(token) = Token::new(&text) else { return StorageValue::Plain(vec![plain::NULL]) };
                let (expires_at, obtained_at) = match expiry % 4 {
                    0 => (None, None),
                    1 => (Some(self.now.saturating_add(3_600_000)), Some(self.now)),
                    2 => (Some(self.now), Some(self.now.saturating_sub(3_600_000))),
                    _ => (Some(u64::MAX), None),
                };
                StorageValue::Plain(StoredToken { token, expires_at, obtained_at }.to_plain())
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

    /// Takes every action and checks it.
    fn drain(&mut self) {
        while let Some(action) = self.session.poll_action() {
            self.check(action);
        }
        assert!(!self.session.has_actions());
        if let Some(token) = self.session.token(self.now) {
            assert!(is_good_token(token.as_str()), "token() shows a bad token");
        }
    }

    fn new_op(&mut self, op: OpId, kind: Kind, read: Option<ReadSet>) {
        assert!(op != 0, "operation id 0");
        assert!(self.ids.insert(op), "operation id {op} was used before");
        self.in_flight.push(InFlight { op, kind, read });
    }

    fn check(&mut self, action: Action) {
        if self.trace {
            eprintln!("  <- {action:?}");
        }
        match action {
            Action::ReadStorage { op, key } => {
                assert_eq!(key, self.config.storage_key.as_str());
                self.new_op(op, Kind::Storage, None);
            }
            Action::WriteStorage { op, key, value } => {
                assert_eq!(key, self.config.storage_key.as_str());
                // JSON text, which the glue parses and storage keeps as the object it describes.
                let plain = json_to_plain(&value).unwrap_or_else(|| panic!("the machine stored text that is not JSON ({} bytes)", value.len()));
                let read = StoredToken::read(&StorageValue::Plain(plain));
                assert!(matches!(read, StorageRead::Record(_)), "the machine stored something that does not read back as a record: {read:?}");
                self.summary.stored_records += 1;
                self.new_op(op, Kind::Done, None);
            }
            Action::RemoveStorage { op, key } => {
                assert_eq!(key, self.config.storage_key.as_str());
                self.new_op(op, Kind::Done, None);
            }
            Action::CheckSession { op } => self.new_op(op, Kind::Valid, None),
            Action::WxLogin { op } => self.new_op(op, Kind::Code, None),
            Action::LoginExtra { op } => {
                assert!(self.login_extra, "login.extra() asked for without one");
                self.new_op(op, Kind::Extra, None);
            }
            Action::Send(send) => {
                if let Some(header) = &send.header {
                    let (name, value) = &**header;
                    assert!(!name.is_empty() && !value.chars().any(char::is_control), "a header with control characters: {name:?}");
                    assert!(
                        !(self.profile && send.url.get(..EVIL.len()).is_some_and(|u| u.eq_ignore_ascii_case(EVIL))),
                        "a header went to another origin: {}",
                        send.url
                    );
                }
                if let Some((key, value)) = &send.body {
                    assert!(!key.is_empty() && !value.chars().any(char::is_control), "a login body field with control characters");
                }
                if let Some(call) = send.call {
                    assert!(self.started.contains(&call) && !self.settled.contains(&call), "a send for call {call}, which is not waiting");
                }
                match send.read {
                    ReadSet::Api => {
                        let kind = send.call.and_then(|call| self.api_kinds.get(&call).copied().flatten());
                        assert_eq!(kind, Some(send.kind), "an API send of the wrong kind, or for no API call");
                        match send.kind {
                            ApiKind::Upload => assert_eq!(send.method, Method::Post, "an upload that does not POST"),
                            ApiKind::Download => assert_eq!(send.method, Method::Get, "a download that does not GET"),
                            ApiKind::Request => {}
                        }
                    }
                    ReadSet::Login => {
                        assert!(send.call.is_none_or(|call| self.logins.contains(&call)), "a login send for a call that is not login()");
                        assert_eq!(send.kind, ApiKind::Request, "a login that is not a wx.request");
                        self.summary.logins_sent += 1;
                    }
                    _ => {
                        assert!(send.call.is_none(), "a check send for a call");
                        assert_eq!(send.kind, ApiKind::Request, "a check that is not a wx.request");
                    }
                }
                assert!(send.config_extra == (self.login_extra && send.read == ReadSet::Login), "login.extra's object merged into the wrong request");
                self.sends.insert(send.op, send.call);
                self.new_op(send.op, Kind::Http, Some(send.read));
            }
            Action::Cancel { op, timed_out } => {
                assert!(!timed_out || self.timeout_called, "operation {op} timed out without handle_timeout");
                let at = self.in_flight.iter().position(|f| f.op == op);
                assert!(at.is_some(), "cancel of operation {op}, which is not in flight");
                if let Some(at) = at {
                    self.in_flight.remove(at);
                }
                self.finished.push(op);
            }
            Action::Resolve { call, value } => {
                self.settle(call, None);
                match value {
                    Resolution::Ready { token, .. } => {
                        let text = token.as_str();
                        assert!(is_good_token(text), "ensure() resolved with a bad token");
                        self.summary.ready += 1;
                    }
                    Resolution::Answer { op } => {
                        assert_eq!(self.sends.get(&op), Some(&Some(call)), "call {call} resolved with the answer to operation {op}, not one of its sends");
                        assert!(self.answered.contains(&op), "call {call} resolved with operation {op}, which got no answer");
                        self.summary.answers += 1;
                    }
                    Resolution::Done => {}
                }
            }
            Action::Reject { call, error } => {
                self.settle(call, Some(error.code()));
                self.check_error(&error);
                self.summary.rejected.push(error.code());
            }
            Action::Report { error, .. } => {
                if let Some(error) = error {
                    self.check_error(&error);
                }
            }
        }
    }

    fn settle(&mut self, call: CallId, outcome: Option<&'static str>) {
        assert!(self.started.contains(&call), "settled call {call}, which was never started");
        assert!(self.settled.insert(call), "settled call {call} twice");
        self.outcomes.insert(call, outcome);
    }

    fn check_error(&self, error: &Error) {
        let message = error.message();
        let key = error.key().unwrap_or("");
        for token in &self.issued {
            assert!(!message.contains(token.as_str()) && !key.contains(token.as_str()), "an error carries an issued token: {}", error.code());
        }
        // Strings from the fuzzer never hold the mark: one in a message is a piece of a token.
        assert!(!message.contains(MARK) && !key.contains(MARK), "an error carries part of a token: {}", error.code());
    }

    /// The schedule is over: every deadline left passes, nothing answers. Every call must have
    /// settled by then.
    pub fn finish(&mut self) {
        self.drain();
        for _ in 0..10_000 {
            let Some(deadline) = self.session.next_deadline() else { break };
            self.now = self.now.max(deadline);
            self.session.handle_timeout(self.now);
            self.timeout_called = true;
            self.drain();
            self.timeout_called = false;
        }
        assert_eq!(self.session.next_deadline(), None, "deadlines keep coming");
        let mut waiting: Vec<&CallId> = self.started.difference(&self.settled).collect();
        waiting.sort();
        assert!(waiting.is_empty(), "calls {waiting:?} never settled, and the machine waits for nothing");
    }
}
