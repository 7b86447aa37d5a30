//! Rules that read a server's answer: `{status}`, `{path, equals}`, `{path, in}`, `{path, exists}`.
//!
//! The same rule shape decides whether a login answer is OK (`okWhen`), whether a check says the
//! token is valid, and whether an API answer means "session invalid" (`invalidWhen`). A rule may
//! combine a status with one field test; both must hold.
//!
//! The answer's body never crosses into the core: the driver reads the few fields the rules name
//! (see [`crate::session::ReadSet`]) and reports each as a [`Field`].

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::plain::{self, ReadPlain, Reader};

/// The longest dot path accepted, in segments.
pub const MAX_PATH_SEGMENTS: usize = 16;

/// A dot path into a JSON answer, parsed once: `data.skey`, `list.0.id`.
///
/// ```
/// use wx_session::rule::Path;
/// let path = Path::parse("data.skey").unwrap();
/// assert_eq!(path.segments(), ["data", "skey"]);
/// assert!(Path::parse("a..b").is_none());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    text: String,
    segments: Vec<String>,
}

impl Path {
    /// Parses `a.b.0.c`. Empty paths, empty segments (`a..b`) and very long paths are rejected.
    pub fn parse(text: &str) -> Option<Path> {
        let segments: Vec<String> = text.split('.').map(ToString::to_string).collect();
        if segments.len() > MAX_PATH_SEGMENTS || segments.iter().any(|s| s.is_empty() || s.chars().any(char::is_control)) {
            return None;
        }
        Some(Path { text: text.to_string(), segments })
    }

    /// A path of one key (a default in the config, which needs no parsing).
    pub(crate) fn key(name: &'static str) -> Path {
        Path { text: name.to_string(), segments: alloc::vec![name.to_string()] }
    }

    /// The path as written in the config.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The path's segments; a segment of digits also indexes arrays.
    pub fn segments(&self) -> &[String] {
        &self.segments
    }
}

impl ReadPlain for Path {
    fn read(reader: &mut Reader) -> Result<Self, plain::Error> {
        let text = reader.string()?;
        Path::parse(text).ok_or_else(|| reader.error("expected a dot path like `data.skey` (no empty segments, at most 16)"))
    }
}

/// A plain JSON value a rule compares with: what `equals` and `in` hold.
#[derive(Debug, Clone)]
pub enum Scalar {
    Null,
    Bool(bool),
    Number(f64),
    Text(String),
}

/// Numbers compare by value, as in JS: `0`, `0.0` and `-0` are equal; NaN equals nothing.
impl PartialEq for Scalar {
    fn eq(&self, other: &Scalar) -> bool {
        match (self, other) {
            (Scalar::Null, Scalar::Null) => true,
            (Scalar::Bool(a), Scalar::Bool(b)) => a == b,
            (Scalar::Number(a), Scalar::Number(b)) => a == b,
            (Scalar::Text(a), Scalar::Text(b)) => a == b,
            _ => false,
        }
    }
}

impl ReadPlain for Scalar {
    fn read(reader: &mut Reader) -> Result<Self, plain::Error> {
        match reader.peek_tag() {
            Some(plain::NULL) => reader.optional(|_| Ok(())).map(|_| Scalar::Null),
            Some(plain::FALSE | plain::TRUE) => reader.bool().map(Scalar::Bool),
            Some(plain::NUMBER) => reader.number().map(Scalar::Number),
            Some(plain::STRING) => reader.string().map(|s| Scalar::Text(s.to_string())),
            _ => Err(reader.error("expected a string, number, boolean or null (rules compare plain values)")),
        }
    }
}

/// One field of an answer, as the driver read it.
#[derive(Debug, Clone, PartialEq)]
pub enum Field {
    /// Not there (or a step of the path is not an object).
    Absent,
    /// A plain value.
    Scalar(Scalar),
    /// There, but an object, an array, or something the driver could not read: it exists and
    /// equals no plain value.
    Other,
}

impl Field {
    /// The field as text, if it is a string.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Field::Scalar(Scalar::Text(text)) => Some(text),
            _ => None,
        }
    }
}

/// What a rule tests on one field.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldTest {
    /// The field equals this value.
    Equals(Scalar),
    /// The field equals one of these.
    In(Vec<Scalar>),
    /// The field is present (`true`) or absent (`false`). `null` counts as present.
    Exists(bool),
    /// The field is present and does not equal this value (`code != 0`).
    NotEquals(Scalar),
    /// The field is present and equals none of these.
    NotIn(Vec<Scalar>),
}

impl FieldTest {
    fn holds(&self, found: &Field) -> bool {
        match (self, found) {
            (FieldTest::Exists(wanted), found) => (*found != Field::Absent) == *wanted,
            (FieldTest::Equals(expected), Field::Scalar(value)) => value == expected,
            (FieldTest::In(options), Field::Scalar(value)) => options.iter().any(|o| o == value),
            (FieldTest::NotEquals(_) | FieldTest::NotIn(_), Field::Absent) => false,
            (FieldTest::NotEquals(other), Field::Scalar(value)) => value != other,
            (FieldTest::NotIn(options), Field::Scalar(value)) => !options.iter().any(|o| o == value),
            (FieldTest::NotEquals(_) | FieldTest::NotIn(_), Field::Other) => true,
            _ => false,
        }
    }
}

/// One rule: an optional HTTP status and an optional field test; every part given must hold.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub status: Option<u16>,
    pub field: Option<(Path, FieldTest)>,
}

impl Rule {
    /// `{ status }`, the default `invalidWhen` rule.
    pub fn status(status: u16) -> Rule {
        Rule { status: Some(status), field: None }
    }

    /// Does an answer with `status` satisfy every part of this rule? `field` reads one field.
    pub fn matches<'a>(&self, status: u16, field: impl Fn(&Path) -> &'a Field) -> bool {
        if self.status.is_some_and(|wanted| wanted != status) {
            return false;
        }
        match &self.field {
            None => true,
            Some((path, test)) => test.holds(field(path)),
        }
    }
}

impl Rule {
    /// Every key of a rule.
    pub const KEYS: &'static [&'static str] = &["status", "path", "equals", "in", "exists", "notEquals", "notIn"];
}

impl ReadPlain for Rule {
    fn read(reader: &mut Reader) -> Result<Self, plain::Error> {
        let mut spec = RuleSpec::default();
        reader.object(Rule::KEYS, &[], &mut |key, r| {
            match key {
                "status" => spec.status = r.optional(|r| r.whole(100, 999).map(|s| s as u16))?,
                "path" => spec.path = Option::read(r)?,
                "equals" => spec.equals = Option::read(r)?,
                "in" => spec.one_of = Option::read(r)?,
                "exists" => spec.exists = Option::read(r)?,
                "notEquals" => spec.not_equals = Option::read(r)?,
                "notIn" => spec.not_in = Option::read(r)?,
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        Rule::try_from(spec).map_err(|why| reader.error(why))
    }
}

/// A rule as written in the config; [`Rule`] is built from it once its shape is checked.
#[derive(Default)]
struct RuleSpec {
    status: Option<u16>,
    path: Option<Path>,
    equals: Option<Scalar>,
    one_of: Option<Vec<Scalar>>,
    exists: Option<bool>,
    not_equals: Option<Scalar>,
    not_in: Option<Vec<Scalar>>,
}

impl TryFrom<RuleSpec> for Rule {
    type Error = &'static str;

    fn try_from(spec: RuleSpec) -> Result<Rule, &'static str> {
        let mut tests = [
            spec.equals.map(FieldTest::Equals),
            spec.one_of.map(FieldTest::In),
            spec.exists.map(FieldTest::Exists),
            spec.not_equals.map(FieldTest::NotEquals),
            spec.not_in.map(FieldTest::NotIn),
        ]
        .into_iter()
        .flatten();
        let test = tests.next();
        if tests.next().is_some() {
            return Err("give only one of `equals`, `in`, `exists`, `notEquals`, `notIn`");
        }
        let field = match (spec.path, test) {
            (Some(path), Some(test)) => Some((path, test)),
            (Some(_), None) => return Err("`path` needs one of `equals`, `in`, `exists`, `notEquals`, `notIn`"),
            (None, Some(_)) => return Err("`equals`/`in`/`exists`/`notEquals`/`notIn` need a `path`"),
            (None, None) => None,
        };
        if spec.status.is_none() && field.is_none() {
            return Err("a rule needs `status` or `path`");
        }
        Ok(Rule { status: spec.status, field })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(json: &str) -> Result<Rule, String> {
        let value: serde_json::Value = serde_json::from_str(json).unwrap();
        crate::plain::read::<Rule>(&crate::plain::json::to_plain(&value)).map_err(|e| e.message)
    }

    fn text(s: &str) -> Field {
        Field::Scalar(Scalar::Text(s.into()))
    }
    fn number(n: f64) -> Field {
        Field::Scalar(Scalar::Number(n))
    }

    /// Checks `rule` against a status and the one field it reads.
    fn check(rule: &Rule, status: u16, found: Field) -> bool {
        rule.matches(status, |_| &found)
    }

    #[test]
    fn paths_parse_and_refuse_empty_segments() {
        assert_eq!(Path::parse("data.list.0.id").unwrap().segments(), ["data", "list", "0", "id"]);
        for bad in ["", "a..b", "a.", ".a", "a.\nb"] {
            assert_eq!(Path::parse(bad), None, "{bad:?}");
        }
        let long = vec!["a"; MAX_PATH_SEGMENTS + 1].join(".");
        assert_eq!(Path::parse(&long), None);
    }

    #[test]
    fn status_rule() {
        let r = rule(r#"{"status": 401}"#).unwrap();
        assert!(check(&r, 401, Field::Absent));
        assert!(!check(&r, 200, Field::Absent));
    }

    #[test]
    fn equals_compares_numbers_by_value_and_types_strictly() {
        let r = rule(r#"{"path": "code", "equals": 0}"#).unwrap();
        assert!(check(&r, 200, number(0.0)));
        assert!(check(&r, 200, number(-0.0)));
        assert!(!check(&r, 200, text("0")), "string is not a number");
        assert!(!check(&r, 200, Field::Scalar(Scalar::Null)));
        assert!(!check(&r, 200, Field::Absent));
        assert!(!check(&r, 200, Field::Other), "an object equals no plain value");
        let nan = Rule { status: None, field: Some((Path::parse("x").unwrap(), FieldTest::Equals(Scalar::Number(f64::NAN)))) };
        assert!(!check(&nan, 200, number(f64::NAN)), "NaN equals nothing, as in JS");
    }

    #[test]
    fn in_and_exists() {
        let r = rule(r#"{"path": "code", "in": [-1, "EXPIRED", null]}"#).unwrap();
        assert!(check(&r, 200, number(-1.0)));
        assert!(check(&r, 200, text("EXPIRED")));
        assert!(check(&r, 200, Field::Scalar(Scalar::Null)));
        assert!(!check(&r, 200, number(0.0)));

        let present = rule(r#"{"path": "data.skey", "exists": true}"#).unwrap();
        let absent = rule(r#"{"path": "data.skey", "exists": false}"#).unwrap();
        for there in [Field::Scalar(Scalar::Null), Field::Other, text("")] {
            assert!(check(&present, 200, there.clone()) && !check(&absent, 200, there));
        }
        assert!(!check(&present, 200, Field::Absent) && check(&absent, 200, Field::Absent));
    }

    #[test]
    fn status_and_field_must_both_hold() {
        let r = rule(r#"{"status": 200, "path": "code", "equals": -1}"#).unwrap();
        assert!(check(&r, 200, number(-1.0)));
        assert!(!check(&r, 500, number(-1.0)));
        assert!(!check(&r, 200, number(0.0)));
    }

    #[test]
    fn malformed_rules_are_refused_with_a_reason() {
        assert!(rule("{}").unwrap_err().contains("needs"));
        assert!(rule(r#"{"path": "code"}"#).unwrap_err().contains("one of"));
        assert!(rule(r#"{"equals": 1}"#).unwrap_err().contains("path"));
        assert!(rule(r#"{"path": "a", "equals": 1, "exists": true}"#).unwrap_err().contains("only one"));
        assert!(rule(r#"{"path": "a..b", "exists": true}"#).unwrap_err().contains("dot path"));
        assert!(rule(r#"{"status": 401, "colour": 1}"#).unwrap_err().contains("colour"));
        assert!(rule(r#"{"path": "a", "equals": {"deep": 1}}"#).unwrap_err().contains("plain values"));
        assert!(rule(r#"{"path": "a", "in": [1, [2]]}"#).unwrap_err().contains("plain values"));
        assert!(rule(r#"{"status": 70000}"#).is_err(), "not an HTTP status");
    }
}
