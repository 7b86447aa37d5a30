//! Plain data made from the fuzzer's choices with [`Writer`]: any value, a config-shaped object,
//! a stored-record-shaped object, or a raw stream of writer calls.
//!
//! The shaped generators write the keys the core knows with mostly plausible values (the
//! README's values, the edges the readers check) and sometimes anything at all, so the fuzzer
//! reaches deep into the readers instead of stopping at the first wrong tag.

use wx_session::config::{CheckConfig, LoginConfig};
use wx_session::plain::Writer;
use wx_session::rule::Rule;
use wx_session::Config;

use crate::Input;

/// Nesting beyond the readers' limit (32), to reach it.
const DEEPEST: usize = 40;

/// Writes one member's value.
type Member = fn(&mut Input, &mut Writer, usize);

/// Any plain value.
pub fn value(input: &mut Input, w: &mut Writer, depth: usize) {
    if depth > DEEPEST {
        w.null();
        return;
    }
    match input.choice(9) {
        0 => w.null(),
        1 => w.bool(false),
        2 => w.bool(true),
        3 => w.number(input.number()),
        4 => w.string(&input.word(WORDS)),
        5 => {
            let count = input.choice(5);
            w.array(counted(input, count));
            (0..count).for_each(|_| value(input, w, depth + 1));
            w
        }
        6 => {
            let count = input.choice(5);
            w.object(counted(input, count));
            for _ in 0..count {
                w.key(&input.word(KEYS));
                value(input, w, depth + 1);
            }
            w
        }
        7 => w.other(&input.word(&["function", "symbol", "undefined", "bigint", "object"])),
        _ => {
            // A tower of one-element arrays and objects, to the depth limit and past it.
            let levels = input.choice(DEEPEST + 2);
            for level in 0..levels {
                if level % 2 == 0 {
                    w.array(1);
                } else {
                    w.object(1).key("x");
                }
            }
            w.null()
        }
    };
}

/// The count to write for `count` items: now and then a wrong one (truncated or trailing data).
fn counted(input: &mut Input, count: usize) -> u32 {
    let count = count as u32;
    if input.chance(3) {
        match input.choice(3) {
            0 => count.wrapping_sub(1),
            1 => count + 1,
            _ => u32::MAX,
        }
    } else {
        count
    }
}

/// An object with some of `members` (each with its own value writer), maybe an unknown key,
/// and maybe a repeated one.
fn object(input: &mut Input, w: &mut Writer, depth: usize, members: &[(&str, Member)]) {
    let chosen: Vec<(&str, Member)> = members.iter().copied().filter(|_| input.chance(45)).collect();
    let unknown = input.chance(5);
    let repeated = !chosen.is_empty() && input.chance(3);
    let count = chosen.len() + usize::from(unknown) + usize::from(repeated);
    w.object(counted(input, count));
    for (key, write) in &chosen {
        w.key(key);
        member(input, w, depth, *write);
    }
    if let Some((key, write)) = chosen.first().filter(|_| repeated) {
        w.key(key);
        member(input, w, depth, *write);
    }
    if unknown {
        w.key(&input.word(KEYS));
        value(input, w, depth + 1);
    }
}

/// A member's value: mostly from its own writer, sometimes anything.
fn member(input: &mut Input, w: &mut Writer, depth: usize, write: Member) {
    if input.chance(6) {
        value(input, w, depth + 1);
    } else {
        write(input, w, depth + 1);
    }
}

fn array_of(input: &mut Input, w: &mut Writer, depth: usize, element: Member) {
    let count = input.choice(4);
    w.array(counted(input, count));
    (0..count).for_each(|_| member(input, w, depth, element));
}

fn nullable(input: &mut Input, w: &mut Writer, depth: usize, write: Member) {
    if input.chance(20) {
        w.null();
    } else {
        write(input, w, depth);
    }
}

/// Mostly one of `good` (values the reader accepts), else one of `bad` or any text: so that
/// most configs made are accepted and reach the session, and the rest reach each refusal.
fn string(input: &mut Input, w: &mut Writer, (good, bad): (&[&str], &[&str])) {
    if input.chance(80) {
        w.string(good[input.choice(good.len())]);
    } else {
        w.string(&input.word(bad));
    }
}

/// A config object: the keys of [`Config::KEYS`] and below.
pub fn config(input: &mut Input, w: &mut Writer) {
    debug_assert_eq!(Config::KEYS.len(), 11);
    // `baseUrl` is required: almost always there.
    let members: [(&str, Member); 11] = [
        ("baseUrl", |i, w, _| string(i, w, BASE_URLS)),
        ("storageKey", |i, w, _| string(i, w, (&["token", "session_id", "中文"], &["", " ", "a\u{0}b"]))),
        ("tokenHeader", |i, w, _| string(i, w, HEADER_NAMES)),
        ("tokenPrefix", |i, w, _| string(i, w, (&["", "Bearer ", "Token "], &["Bearer\r\n", "\u{85}"]))),
        ("login", login),
        ("check", |i, w, d| nullable(i, w, d, check)),
        ("useCheckSession", |i, w, _| {
            w.bool(i.chance(50));
        }),
        ("invalidWhen", |i, w, d| array_of(i, w, d, rule)),
        ("retries", |i, w, _| {
            w.number(i.number_from(&[0.0, 2.0, 10.0, 11.0, -1.0, 1.5]));
        }),
        ("timeoutMs", |i, w, _| {
            w.number(i.number_from(&[1.0, 10_000.0, 120_000.0, 0.0, 120_001.0]));
        }),
        ("trustedOrigins", |i, w, d| array_of(i, w, d, |i, w, _| string(i, w, ORIGINS))),
    ];
    if input.chance(97) {
        // baseUrl first, then the others as chosen.
        let rest: Vec<(&str, Member)> = members[1..].iter().copied().filter(|_| input.chance(40)).collect();
        let unknown = input.chance(4);
        let count = 1 + rest.len() + usize::from(unknown);
        w.object(counted(input, count));
        w.key("baseUrl");
        member(input, w, 0, members[0].1);
        for (key, write) in &rest {
            w.key(key);
            member(input, w, 0, *write);
        }
        if unknown {
            w.key(&input.word(KEYS));
            value(input, w, 1);
        }
    } else {
        object(input, w, 0, &members);
    }
}

fn login(input: &mut Input, w: &mut Writer, depth: usize) {
    debug_assert_eq!(LoginConfig::KEYS.len(), 7);
    object(
        input,
        w,
        depth,
        &[
            ("url", |i, w, _| string(i, w, URLS)),
            ("method", |i, w, _| string(i, w, METHODS)),
            ("codeIn", |i, w, _| string(i, w, (&["body", "query", "header"], &["cookie", "BODY"]))),
            ("codeKey", |i, w, _| string(i, w, (&["code", "X-WX-Code", "js code"], &["__proto__", "X WX Code", ""]))),
            ("tokenPath", |i, w, _| string(i, w, PATHS)),
            ("expiresInPath", |i, w, d| nullable(i, w, d, |i, w, _| string(i, w, PATHS))),
            ("okWhen", |i, w, d| nullable(i, w, d, rule)),
        ],
    );
}

fn check(input: &mut Input, w: &mut Writer, depth: usize) {
    debug_assert_eq!(CheckConfig::KEYS.len(), 4);
    object(
        input,
        w,
        depth,
        &[
            ("url", |i, w, _| string(i, w, URLS)),
            ("method", |i, w, _| string(i, w, METHODS)),
            ("okWhen", |i, w, d| nullable(i, w, d, rule)),
            ("policy", |i, w, _| string(i, w, (&["always", "when-unknown", "never"], &["sometimes"]))),
        ],
    );
}

fn rule(input: &mut Input, w: &mut Writer, depth: usize) {
    debug_assert_eq!(Rule::KEYS.len(), 5);
    object(
        input,
        w,
        depth,
        &[
            ("status", |i, w, _| {
                w.number(i.number_from(&[401.0, 200.0, 500.0, 100.0, 999.0, 99.0, 1000.0, 70_000.0, 401.5]));
            }),
            ("path", |i, w, _| string(i, w, PATHS)),
            ("equals", scalar),
            ("in", |i, w, d| array_of(i, w, d, scalar)),
            ("exists", |i, w, _| {
                w.bool(i.chance(50));
            }),
        ],
    );
}

/// What rules compare with: null, a boolean, a number or a string (and now and then not).
fn scalar(input: &mut Input, w: &mut Writer, depth: usize) {
    match input.choice(5) {
        0 => w.null(),
        1 => w.bool(input.chance(50)),
        2 => w.number(input.number_from(&[0.0, -1.0, 200.0, 40_001.0])),
        3 => w.string(&input.word(&["EXPIRED", "0", "", "ok"])),
        _ => {
            value(input, w, depth);
            w
        }
    };
}

/// A stored record `{ v, token, expiresAt, obtainedAt }`, as storage might hold it.
pub fn record(input: &mut Input, w: &mut Writer) {
    object(
        input,
        w,
        0,
        &[
            ("v", |i, w, _| match i.choice(4) {
                0 => {
                    w.string("1");
                }
                1 => {
                    w.null();
                }
                _ => {
                    w.number(i.number_from(&[1.0, 2.0, 0.0, 4_294_967_296.0]));
                }
            }),
            ("token", |i, w, _| match i.choice(8) {
                0 => {
                    w.string(&"x".repeat(8192));
                }
                1 => {
                    w.string(&"x".repeat(8193));
                }
                _ => string(i, w, STORED_TOKENS),
            }),
            ("expiresAt", time),
            ("obtainedAt", time),
        ],
    );
}

fn time(input: &mut Input, w: &mut Writer, _depth: usize) {
    match input.choice(6) {
        0 => w.null(),
        1 => w.string("1700000000000"),
        _ => w.number(input.number_from(&[1.7e12, 1_700_000_000_000.5, -5.0, 0.0, 1e20, 18_446_744_073_709_551_615.0, 4e18])),
    };
}

/// Writer calls one after the other as the input says, well formed or not.
pub fn writer_calls(input: &mut Input, w: &mut Writer) {
    for _ in 0..256 {
        if input.is_empty() {
            return;
        }
        match input.choice(9) {
            0 => w.null(),
            1 => w.bool(false),
            2 => w.bool(true),
            3 => w.number(input.number()),
            4 => w.string(&input.word(WORDS)),
            5 => w.array(u32::from(input.byte() % 8)),
            6 => w.object(u32::from(input.byte() % 8)),
            7 => w.key(&input.word(KEYS)),
            _ => w.other(&input.word(&["function", "undefined"])),
        };
    }
}

/// Each of these: (accepted values, refused ones).
type Words = (&'static [&'static str], &'static [&'static str]);

pub const BASE_URLS: Words = (
    &["https://api.example.com", "http://127.0.0.1:3000/v1/", "HTTPS://API.TEST/", "http://[::1]:80/", "https://api.example.com:443", "https://例子.测试/api"],
    &["https://user:pw@api.test", "ftp://x", "https://", "https://api.test?v=1", "https://api .test", "https://api.test/#f", "http://"],
);
pub const HEADER_NAMES: Words = (&["token", "Authorization", "X-WX-Skey", "X-Session-Id", "X-WX-Code"], &["__proto__", "Bad Header", ""]);
pub const URLS: Words = (
    &[
        "/login",
        "/user/login",
        "/weapp/login",
        "/api/fetch_code",
        "/auth",
        "https://api.example.com/login",
        "https://other.test/login",
        "/l?app=1",
        "relative/path",
        "?q=1",
    ],
    &["javascript:x", "ftp://x/auth", "", "/a b", ":x"],
);
pub const METHODS: Words = (&["GET", "POST", "post", "Get", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH"], &["FETCH", ""]);
pub const PATHS: Words = (
    &["token", "data.skey", "session_id", "expiresIn", "data.ttl", "code", "errCode", "list.0.id", "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p", "__proto__"],
    &["a..b", "a.", ".a", "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q", "a\nb", ""],
);
pub const ORIGINS: Words = (
    &["https://cdn.example.com", "http://files.test:8080/", "HTTPS://CDN.EXAMPLE.COM:443", "https://evil.test"],
    &["https://b.test/path", "cdn.test", "https://u@x.test", "https://", "https://a.test?x"],
);
pub const STORED_TOKENS: Words = (&["abc", "eyJhbGciOi.legacy", "中文令牌 with spaces"], &["", "a\r\nb", " ", "a\u{7f}", "{\"v\":1}", "<html>"]);
/// Keys anywhere: the config's, the record's, and others.
pub const KEYS: &[&str] = &[
    "baseUrl",
    "storageKey",
    "tokenHeader",
    "tokenPrefix",
    "login",
    "check",
    "useCheckSession",
    "invalidWhen",
    "retries",
    "timeoutMs",
    "trustedOrigins",
    "url",
    "method",
    "codeIn",
    "codeKey",
    "tokenPath",
    "expiresInPath",
    "okWhen",
    "policy",
    "status",
    "path",
    "equals",
    "in",
    "exists",
    "v",
    "token",
    "expiresAt",
    "obtainedAt",
    "wx",
    "wasmPath",
    "__proto__",
    "",
];
/// Strings anywhere.
pub const WORDS: &[&str] = &["", "token", "https://api.example.com", "/login", "GET", "body", "data.skey", "always", "abc", "a\r\nb"];
