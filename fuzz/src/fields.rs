//! The fields a driver reports from an answer, and the tokens the fake server issues in them.

use wx_session::{Field, Scalar};

use crate::{Input, Script, MARK};

/// One field as the fuzzer describes it.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldSpec {
    Absent,
    Other,
    Null,
    Bool(bool),
    Number(f64),
    Text(String),
    /// A fresh token from the fake server, maybe spoilt by `junk` (see [`token`]).
    Token {
        junk: u8,
    },
}

const TEXTS: &[&str] = &["0", "200", "EXPIRED", " 60 ", "7200", "abc", "", "a\r\nb", "-1", "18446744073709551616"];
const FAVOURITES: &[f64] = &[0.0, -1.0, 200.0, 7200.0, 40_001.0, -0.0];

impl FieldSpec {
    pub fn read(input: &mut Input) -> FieldSpec {
        match input.choice(8) {
            0 => FieldSpec::Absent,
            1 => FieldSpec::Other,
            2 => FieldSpec::Null,
            3 => FieldSpec::Bool(input.chance(50)),
            4 => FieldSpec::Number(input.number_from(FAVOURITES)),
            5 => FieldSpec::Text(input.word(TEXTS)),
            _ => FieldSpec::Token { junk: input.byte() },
        }
    }

    pub fn write(&self, s: &mut Script) {
        match self {
            FieldSpec::Absent => s.choice(0),
            FieldSpec::Other => s.choice(1),
            FieldSpec::Null => s.choice(2),
            FieldSpec::Bool(b) => s.choice(3).chance(*b),
            FieldSpec::Number(n) => s.choice(4).number_from(FAVOURITES, *n),
            FieldSpec::Text(text) => s.choice(5).word(TEXTS, text),
            FieldSpec::Token { junk } => s.choice(6).byte(*junk),
        };
    }

    /// The field; a token is made with `issue` (which numbers it and remembers it).
    pub fn field(&self, issue: &mut dyn FnMut(u8) -> String) -> Field {
        match self {
            FieldSpec::Absent => Field::Absent,
            FieldSpec::Other => Field::Other,
            FieldSpec::Null => Field::Scalar(Scalar::Null),
            FieldSpec::Bool(b) => Field::Scalar(Scalar::Bool(*b)),
            FieldSpec::Number(n) => Field::Scalar(Scalar::Number(*n)),
            FieldSpec::Text(text) => Field::Scalar(Scalar::Text(text.clone())),
            FieldSpec::Token { junk } => Field::Scalar(Scalar::Text(issue(*junk))),
        }
    }
}

/// Token number `n`: `~tok{n}~`, or with `junk` (mod 8) 1: a header injection after it,
/// 2: padded to 8193 bytes (too long), 3: padded to exactly 8192, 4: a NUL inside, 5: non-ASCII
/// whose low bytes are CR LF; else clean.
pub fn token(n: u32, junk: u8) -> String {
    let clean = format!("{MARK}tok{n}{MARK}");
    let pad = |to: usize| format!("{clean}{}", "x".repeat(to - clean.len()));
    match junk % 8 {
        1 => format!("{clean}\r\nX-Evil: 1"),
        2 => pad(8193),
        3 => pad(8192),
        4 => format!("{clean}\u{0}"),
        5 => format!("{clean}\u{10d}\u{10a}X-Evil: 1"),
        _ => clean,
    }
}

/// Reads up to `max` field specs (the count first).
pub fn read_specs(input: &mut Input, max: usize) -> Vec<FieldSpec> {
    let count = input.choice(max + 1);
    (0..count).map(|_| FieldSpec::read(input)).collect()
}

pub fn write_specs(s: &mut Script, specs: &[FieldSpec]) {
    s.choice(specs.len());
    specs.iter().for_each(|spec| spec.write(s));
}

/// Statuses worth trying, else any `u16`.
pub const STATUSES: &[u16] = &[200, 401, 500, 204, 400, 403, 503, 0, 99, 299, 300, 499, 999, 1000, u16::MAX];

pub fn read_status(input: &mut Input) -> u16 {
    match STATUSES.get(input.choice(STATUSES.len() + 1)) {
        Some(status) => *status,
        None => input.u16(),
    }
}

pub fn write_status(s: &mut Script, status: u16) {
    match STATUSES.iter().position(|x| *x == status) {
        Some(i) => s.choice(i),
        None => s.choice(STATUSES.len()).u16(status),
    };
}
