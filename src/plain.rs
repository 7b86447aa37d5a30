//! Plain data: how values cross between the glue and the core.
//!
//! The glue never hands the core a JS object. It walks the few values the core must read (the
//! config, a stored record) itself, under `try/catch` and with bounds on depth and size, and
//! writes them in this compact format; the core reads them with a [`Reader`], each type checking
//! itself as it reads ([`ReadPlain`]). The core writes what the glue must store the same way
//! ([`Writer`]).
//!
//! ```text
//! value  := 0x00                      null
//!         | 0x01 | 0x02               false | true
//!         | 0x03 f64 (8 bytes, LE)    a number
//!         | 0x04 text                 a string
//!         | 0x05 u32 value*           an array of that many values
//!         | 0x06 u32 (text value)*    an object of that many members
//!         | 0x07 text                 anything else (a function, a symbol…): its type's name
//! text   := u32 (length, LE) UTF-8 bytes
//! ```
//!
//! Reading tracks where it is, so an error names its key exactly (`login.tokenPath`,
//! `invalidWhen[1]`). This small reader replaced serde, serde_json and serde_path_to_error,
//! which together cost about 100 KB of the wasm's 246 KB (see the README's size section).

use alloc::string::String;

use crate::text::{join, number};
use alloc::vec::Vec;

pub const NULL: u8 = 0;
pub const FALSE: u8 = 1;
pub const TRUE: u8 = 2;
pub const NUMBER: u8 = 3;
pub const STRING: u8 = 4;
pub const ARRAY: u8 = 5;
pub const OBJECT: u8 = 6;
pub const OTHER: u8 = 7;

/// Arrays and objects nest at most this deep (the glue stops earlier).
pub const MAX_DEPTH: usize = 32;

/// A type that reads itself from plain data, checking itself as it goes.
pub trait ReadPlain: Sized {
    fn read(reader: &mut Reader) -> Result<Self, Error>;
}

/// Reading failed: what is wrong, and at which key.
#[derive(Debug, Clone, PartialEq)]
pub struct Error {
    /// The key, dotted (`login.tokenPath`, `invalidWhen[1]`); empty for the value itself.
    pub key: String,
    pub message: String,
}

/// One step of a key path.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Step<'a> {
    Key(&'a str),
    Index(u32),
}

/// One value's start, as read.
#[derive(Debug, Clone, Copy)]
enum Token<'a> {
    Null,
    Bool(bool),
    Number(f64),
    Text(&'a str),
    /// An array of this many elements follows.
    Array(u32),
    /// An object of this many members follows.
    Object(u32),
    /// Not plain data: a function, a symbol… (its type's name).
    Other(&'a str),
}

impl Token<'_> {
    /// What the value was, for "expected …, got …" messages.
    fn describe(&self) -> String {
        match self {
            Token::Null => "null".into(),
            Token::Bool(_) => "a boolean".into(),
            Token::Number(_) => "a number".into(),
            Token::Text(_) => "a string".into(),
            Token::Array(_) => "an array".into(),
            Token::Object(_) => "an object".into(),
            Token::Other(what) => {
                let vowel = what.starts_with(['a', 'e', 'i', 'o', 'u']);
                join(&[if vowel { "an " } else { "a " }, what])
            }
        }
    }
}

/// Reads plain data, tracking the key path.
pub struct Reader<'a> {
    input: &'a [u8],
    at: usize,
    path: Vec<Step<'a>>,
}

/// Reads one `T` from `input`, which must hold exactly one value.
pub fn read<T: ReadPlain>(input: &[u8]) -> Result<T, Error> {
    let mut reader = Reader { input, at: 0, path: Vec::new() };
    let value = T::read(&mut reader)?;
    if reader.at != input.len() {
        return Err(reader.error("trailing bytes after the value"));
    }
    Ok(value)
}

/// The tag of the value `input` holds, if any.
pub fn tag_of(input: &[u8]) -> Option<u8> {
    input.first().copied()
}

impl<'a> Reader<'a> {
    /// An error about the value being read, at the current key.
    pub fn error(&self, message: impl Into<String>) -> Error {
        self.error_at(None, message.into())
    }

    fn error_at(&self, member: Option<&str>, message: String) -> Error {
        let mut key = String::new();
        let push_key = |key: &mut String, name: &str| {
            if !key.is_empty() {
                key.push('.');
            }
            key.push_str(name);
        };
        for step in &self.path {
            match step {
                Step::Key(name) => push_key(&mut key, name),
                Step::Index(i) => key.push_str(&join(&["[", &number(u64::from(*i)), "]"])),
            }
        }
        if let Some(name) = member {
            push_key(&mut key, name);
        }
        Error { key, message }
    }

    fn byte(&mut self) -> Result<u8, Error> {
        let byte = self.input.get(self.at).copied().ok_or_else(|| self.error("the data ends too early"))?;
        self.at += 1;
        Ok(byte)
    }

    fn take<const N: usize>(&mut self) -> Result<[u8; N], Error> {
        let bytes = self.input.get(self.at..self.at.saturating_add(N)).ok_or_else(|| self.error("the data ends too early"))?;
        self.at += N;
        let mut array = [0; N];
        array.copy_from_slice(bytes);
        Ok(array)
    }

    fn count(&mut self) -> Result<u32, Error> {
        self.take().map(u32::from_le_bytes)
    }

    fn text(&mut self) -> Result<&'a str, Error> {
        let len = self.count()? as usize;
        let end = self.at.checked_add(len).filter(|end| *end <= self.input.len()).ok_or_else(|| self.error("the data ends too early"))?;
        let bytes = self.input.get(self.at..end).unwrap_or_default();
        self.at = end;
        core::str::from_utf8(bytes).map_err(|_| self.error("a string is not valid UTF-8"))
    }

    fn token(&mut self) -> Result<Token<'a>, Error> {
        Ok(match self.byte()? {
            NULL => Token::Null,
            FALSE => Token::Bool(false),
            TRUE => Token::Bool(true),
            NUMBER => Token::Number(f64::from_le_bytes(self.take()?)),
            STRING => Token::Text(self.text()?),
            ARRAY => Token::Array(self.count()?),
            OBJECT => Token::Object(self.count()?),
            OTHER => Token::Other(self.text()?),
            _ => return Err(self.error("unknown data tag")),
        })
    }

    fn expected(&self, what: &str, got: &Token) -> Error {
        self.error(join(&["expected ", what, ", got ", &got.describe()]))
    }

    /// A string.
    pub fn string(&mut self) -> Result<&'a str, Error> {
        match self.token()? {
            Token::Text(text) => Ok(text),
            other => Err(self.expected("a string", &other)),
        }
    }

    /// A number.
    pub fn number(&mut self) -> Result<f64, Error> {
        match self.token()? {
            Token::Number(n) => Ok(n),
            other => Err(self.expected("a number", &other)),
        }
    }

    /// `true` or `false`.
    pub fn bool(&mut self) -> Result<bool, Error> {
        match self.token()? {
            Token::Bool(value) => Ok(value),
            other => Err(self.expected("true or false", &other)),
        }
    }

    /// A whole number from `min` to `max`.
    pub fn whole(&mut self, min: u32, max: u32) -> Result<u32, Error> {
        let n = self.number()?;
        // In range first, then the cast through u64 (a u32 cast of u32::MAX itself came out
        // wrong in the shipped wasm: see `abi::whole_u32`).
        if n >= f64::from(min) && n <= f64::from(max) && (n as u64) as f64 == n {
            Ok(n as u64 as u32)
        } else {
            Err(self.error(join(&["expected a whole number from ", &number(u64::from(min)), " to ", &number(u64::from(max))])))
        }
    }

    /// `None` for null, else what `read` reads.
    pub fn optional<T>(&mut self, read: impl FnOnce(&mut Self) -> Result<T, Error>) -> Result<Option<T>, Error> {
        if self.input.get(self.at) == Some(&NULL) {
            self.at += 1;
            Ok(None)
        } else {
            read(self).map(Some)
        }
    }

    /// The tag of the next value.
    pub fn peek_tag(&self) -> Option<u8> {
        self.input.get(self.at).copied()
    }

    /// An object. `member(name, reader)` reads the value of each member it knows and returns
    /// `true`, or returns `false` without reading: the member is then refused as unknown if
    /// `fields` lists the known ones (for the message), or skipped if `fields` is empty.
    /// `required` names members that must be there.
    pub fn object(&mut self, fields: &[&str], required: &[&str], member: &mut dyn FnMut(&str, &mut Reader<'a>) -> Result<bool, Error>) -> Result<(), Error> {
        let count = match self.token()? {
            Token::Object(count) => count,
            other => return Err(self.expected("an object", &other)),
        };
        if self.path.len() >= MAX_DEPTH {
            return Err(self.error("nests too deep"));
        }
        // Bit i: `required[i]` was there.
        let mut seen: u64 = 0;
        for _ in 0..count {
            let name = self.text()?;
            self.path.push(Step::Key(name));
            if let Some(i) = required.iter().position(|r| *r == name) {
                seen |= 1 << (i % 64);
            }
            if !member(name, self)? {
                if !fields.is_empty() {
                    let mut message = join(&["unknown key `", name, "`, expected one of"]);
                    for (i, field) in fields.iter().enumerate() {
                        message.push_str(if i == 0 { " " } else { ", " });
                        message.push_str(field);
                    }
                    return Err(self.error(message));
                }
                self.skip(0)?;
            }
            self.path.pop();
        }
        match required.iter().enumerate().find(|(i, _)| seen & (1 << (i % 64)) == 0).map(|(_, name)| name) {
            Some(missing) => Err(self.error_at(Some(missing), "is required".into())),
            None => Ok(()),
        }
    }

    /// An array, each element read by `element`.
    pub fn array<T>(&mut self, mut element: impl FnMut(&mut Self) -> Result<T, Error>) -> Result<Vec<T>, Error> {
        let count = match self.token()? {
            Token::Array(count) => count,
            other => return Err(self.expected("an array", &other)),
        };
        if self.path.len() >= MAX_DEPTH {
            return Err(self.error("nests too deep"));
        }
        // The count comes from outside: grow as elements really arrive.
        let mut items = Vec::new();
        for index in 0..count {
            self.path.push(Step::Index(index));
            items.push(element(self)?);
            self.path.pop();
        }
        Ok(items)
    }

    /// Skips one value.
    fn skip(&mut self, depth: usize) -> Result<(), Error> {
        if depth > MAX_DEPTH {
            return Err(self.error("nests too deep"));
        }
        match self.token()? {
            Token::Array(count) => (0..count).try_for_each(|_| self.skip(depth + 1)),
            Token::Object(count) => (0..count).try_for_each(|_| {
                self.text()?;
                self.skip(depth + 1)
            }),
            _ => Ok(()),
        }
    }
}

impl ReadPlain for String {
    fn read(reader: &mut Reader) -> Result<Self, Error> {
        reader.string().map(String::from)
    }
}

impl ReadPlain for bool {
    fn read(reader: &mut Reader) -> Result<Self, Error> {
        reader.bool()
    }
}

impl ReadPlain for f64 {
    fn read(reader: &mut Reader) -> Result<Self, Error> {
        reader.number()
    }
}

impl<T: ReadPlain> ReadPlain for Option<T> {
    fn read(reader: &mut Reader) -> Result<Self, Error> {
        reader.optional(T::read)
    }
}

impl<T: ReadPlain> ReadPlain for Vec<T> {
    fn read(reader: &mut Reader) -> Result<Self, Error> {
        reader.array(T::read)
    }
}

/// Writes plain data, for values the glue turns back into JS (the stored record).
///
/// ```
/// use wx_session::plain::{read, Writer};
/// let mut w = Writer::new();
/// w.array(2).number(2.0).string("x");
/// assert_eq!(w.bytes()[0], wx_session::plain::ARRAY);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Writer {
    bytes: Vec<u8>,
}

impl Writer {
    pub fn new() -> Writer {
        Writer::default()
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    pub fn null(&mut self) -> &mut Self {
        self.bytes.push(NULL);
        self
    }

    pub fn bool(&mut self, value: bool) -> &mut Self {
        self.bytes.push(if value { TRUE } else { FALSE });
        self
    }

    pub fn number(&mut self, value: f64) -> &mut Self {
        self.bytes.push(NUMBER);
        self.bytes.extend_from_slice(&value.to_le_bytes());
        self
    }

    pub fn string(&mut self, text: &str) -> &mut Self {
        self.bytes.push(STRING);
        self.text(text)
    }

    /// Starts an array; the next `count` values are its elements.
    pub fn array(&mut self, count: u32) -> &mut Self {
        self.bytes.push(ARRAY);
        self.bytes.extend_from_slice(&count.to_le_bytes());
        self
    }

    /// Starts an object; `count` times, a [`Writer::key`] and a value follow.
    pub fn object(&mut self, count: u32) -> &mut Self {
        self.bytes.push(OBJECT);
        self.bytes.extend_from_slice(&count.to_le_bytes());
        self
    }

    pub fn key(&mut self, key: &str) -> &mut Self {
        self.text(key)
    }

    /// Something that is not plain data, named by its type (`"function"`).
    pub fn other(&mut self, type_name: &str) -> &mut Self {
        self.bytes.push(OTHER);
        self.text(type_name)
    }

    fn text(&mut self, text: &str) -> &mut Self {
        self.bytes.extend_from_slice(&(text.len() as u32).to_le_bytes());
        self.bytes.extend_from_slice(text.as_bytes());
        self
    }
}

/// JSON to plain data and back, for tests written with JSON.
#[cfg(any(test, feature = "testing"))]
pub mod json {
    use super::*;
    use serde_json::Value;

    pub fn to_plain(value: &Value) -> Vec<u8> {
        let mut w = Writer::new();
        write(&mut w, value);
        w.into_bytes()
    }

    fn write(w: &mut Writer, value: &Value) {
        match value {
            Value::Null => w.null(),
            Value::Bool(b) => w.bool(*b),
            Value::Number(n) => w.number(n.as_f64().unwrap_or(f64::NAN)),
            Value::String(s) => w.string(s),
            Value::Array(items) => {
                w.array(items.len() as u32);
                items.iter().for_each(|item| write(w, item));
                w
            }
            Value::Object(map) => {
                w.object(map.len() as u32);
                for (k, v) in map {
                    w.key(k);
                    write(w, v);
                }
                w
            }
        };
    }

    pub fn from_plain(bytes: &[u8]) -> Value {
        read::<JsonValue>(bytes).expect("valid plain data").0
    }

    struct JsonValue(Value);

    impl ReadPlain for JsonValue {
        fn read(reader: &mut Reader) -> Result<Self, Error> {
            let value = match reader.token()? {
                Token::Null => Value::Null,
                Token::Bool(b) => Value::Bool(b),
                Token::Number(n) if n.fract() == 0.0 && n.abs() < 9e15 => Value::from(n as i64),
                Token::Number(n) => Value::from(n),
                Token::Text(s) => Value::from(s),
                Token::Array(count) => Value::Array((0..count).map(|_| JsonValue::read(reader).map(|v| v.0)).collect::<Result<_, _>>()?),
                Token::Object(count) => {
                    let mut map = serde_json::Map::new();
                    for _ in 0..count {
                        let key = reader.text()?.to_owned();
                        map.insert(key, JsonValue::read(reader)?.0);
                    }
                    Value::Object(map)
                }
                Token::Other(what) => Value::from(format!("<{what}>")),
            };
            Ok(JsonValue(value))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, PartialEq, Default)]
    struct Outer {
        name: String,
        count: Option<u32>,
        list: Vec<Inner>,
    }

    #[derive(Debug, PartialEq, Default)]
    struct Inner {
        flag: bool,
    }

    impl ReadPlain for Outer {
        fn read(reader: &mut Reader) -> Result<Self, Error> {
            let mut outer = Outer::default();
            reader.object(&["name", "count", "list"], &["name"], &mut |key, r| {
                match key {
                    "name" => outer.name = r.string()?.into(),
                    "count" => outer.count = r.optional(|r| r.whole(0, 10))?,
                    "list" => outer.list = Vec::read(r)?,
                    _ => return Ok(false),
                }
                Ok(true)
            })?;
            Ok(outer)
        }
    }

    impl ReadPlain for Inner {
        fn read(reader: &mut Reader) -> Result<Self, Error> {
            let mut inner = Inner::default();
            reader.object(&["flag"], &[], &mut |key, r| {
                if key != "flag" {
                    return Ok(false);
                }
                inner.flag = r.bool()?;
                Ok(true)
            })?;
            Ok(inner)
        }
    }

    fn read_json(value: serde_json::Value) -> Result<Outer, Error> {
        read(&json::to_plain(&value))
    }

    #[test]
    fn reads_objects_options_and_lists() {
        let outer = read_json(json!({"name": "a", "count": 3, "list": [{"flag": true}, {}]})).unwrap();
        assert_eq!(outer, Outer { name: "a".into(), count: Some(3), list: vec![Inner { flag: true }, Inner { flag: false }] });
        assert_eq!(read_json(json!({"name": "a", "count": null})).unwrap().count, None);
    }

    #[test]
    fn errors_name_the_key_and_the_kind_of_value() {
        let error = |value| read_json(value).unwrap_err();
        let e = error(json!({"name": "a", "count": "3"}));
        assert_eq!((e.key.as_str(), e.message.as_str()), ("count", "expected a number, got a string"));
        assert_eq!(error(json!({"name": "a", "count": 1.5})).message, "expected a whole number from 0 to 10");
        assert_eq!(error(json!({"name": "a", "count": 11})).key, "count");
        assert_eq!(error(json!({"name": "a", "list": [{"flag": true}, {"flag": 1}]})).key, "list[1].flag");
        let e = error(json!({"name": "a", "list": [{"colour": 1}]}));
        assert_eq!((e.key.as_str(), e.message.as_str()), ("list[0].colour", "unknown key `colour`, expected one of flag"));
        let e = error(json!({"count": 1}));
        assert_eq!((e.key.as_str(), e.message.as_str()), ("name", "is required"));
        let e = error(json!([1]));
        assert_eq!((e.key.as_str(), e.message.as_str()), ("", "expected an object, got an array"));
    }

    #[test]
    fn other_values_are_named_by_type() {
        let mut w = Writer::new();
        w.object(1).key("name").other("function");
        let error = read::<Outer>(w.bytes()).unwrap_err();
        assert_eq!((error.key.as_str(), error.message.as_str()), ("name", "expected a string, got a function"));
        let mut w = Writer::new();
        w.object(1).key("name").other("undefined");
        assert_eq!(read::<Outer>(w.bytes()).unwrap_err().message, "expected a string, got an undefined");
    }

    #[test]
    fn broken_or_hostile_input_is_an_error_not_a_panic() {
        let good = json::to_plain(&json!({"name": "a", "list": [{"flag": true}]}));
        for cut in 0..good.len() {
            assert!(read::<Outer>(&good[..cut]).is_err(), "cut at {cut}");
        }
        assert!(read::<Outer>(&[OBJECT, 0xff, 0xff, 0xff, 0xff]).is_err(), "a huge count with nothing behind it");
        assert!(read::<Outer>(&[ARRAY, 0xff, 0xff, 0xff, 0xff]).is_err());
        assert!(read::<Outer>(&[STRING, 2, 0, 0, 0, 0xff, 0xfe]).is_err(), "invalid UTF-8");
        assert!(read::<Outer>(&[42]).is_err(), "unknown tag");
        // A member that is skipped, nested 10,000 deep: refused, not a stack overflow.
        struct Loose;
        impl ReadPlain for Loose {
            fn read(reader: &mut Reader) -> Result<Self, Error> {
                reader.object(&[], &[], &mut |_, _| Ok(false)).map(|()| Loose)
            }
        }
        let mut deep = vec![OBJECT, 1, 0, 0, 0, 1, 0, 0, 0, b'x'];
        for _ in 0..10_000 {
            deep.extend_from_slice(&[ARRAY, 1, 0, 0, 0]);
        }
        deep.push(NULL);
        assert!(read::<Loose>(&deep).is_err(), "deep nesting stops at MAX_DEPTH");
        let mut trailing = good.clone();
        trailing.push(NULL);
        assert!(read::<Outer>(&trailing).is_err());
    }

    #[test]
    fn json_round_trips_through_plain_data() {
        let value = json!({"a": [1, -2, 2.5, "x", null, true, {"b": {}}]});
        assert_eq!(json::from_plain(&json::to_plain(&value)), value);
    }
}
