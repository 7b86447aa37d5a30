//! Rules that read a server's answer: `{status}`, `{path, equals}`, `{path, in}`, `{path, exists}`.
//!
//! The same rule shape decides whether a login answer is OK (`okWhen`), whether a check says the
//! token is valid, and whether an API answer means "session invalid" (`invalidWhen`). A rule may
//! combine a status with one field test; both must hold.

use serde::Deserialize;
use serde_json::Value;

/// A dot path into a JSON answer, parsed once: `data.skey`, `list.0.id`.
///
/// ```
/// use wx_session::rule::Path;
/// let path = Path::parse("data.skey").unwrap();
/// let answer = serde_json::json!({ "data": { "skey": "abc" } });
/// assert_eq!(path.lookup(&answer), Some(&serde_json::json!("abc")));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    text: String,
    segments: Vec<String>,
}

impl Path {
    /// Parses `a.b.0.c`. Empty paths and empty segments (`a..b`) are rejected.
    pub fn parse(text: &str) -> Option<Path> {
        let segments: Vec<String> = text.split('.').map(str::to_owned).collect();
        if segments.iter().any(String::is_empty) {
            return None;
        }
        Some(Path { text: text.to_owned(), segments })
    }

    /// The path as written in the config.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The path's segments; a segment of digits also indexes arrays.
    pub fn segments(&self) -> &[String] {
        &self.segments
    }

    /// Walks `value` along the path. Missing keys, out-of-range indexes and stepping into a
    /// scalar all give `None`.
    pub fn lookup<'v>(&self, value: &'v Value) -> Option<&'v Value> {
        self.segments.iter().try_fold(value, |node, segment| match node {
            Value::Object(map) => map.get(segment),
            Value::Array(items) => segment.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        })
    }
}

/// What a rule tests on one field.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldTest {
    /// The field equals this JSON value (numbers compare by value: `0` equals `0.0`).
    Equals(Value),
    /// The field equals one of these.
    In(Vec<Value>),
    /// The field is present (`true`) or absent (`false`). `null` counts as present.
    Exists(bool),
}

/// One rule: an optional HTTP status and an optional field test; every part given must hold.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub status: Option<u16>,
    pub field: Option<(Path, FieldTest)>,
}

/// What a rule looks at: the status and a way to read one field of the body. The body itself
/// stays wherever the host keeps it (a JS object in the wasm build).
pub trait Answer {
    fn status(&self) -> u16;
    fn field(&self, path: &Path) -> Option<Value>;
}

impl Rule {
    /// Does `answer` satisfy every part of this rule?
    pub fn matches(&self, answer: &impl Answer) -> bool {
        if self.status.is_some_and(|status| status != answer.status()) {
            return false;
        }
        match &self.field {
            None => true,
            Some((path, test)) => test.holds(answer.field(path).as_ref()),
        }
    }
}

impl FieldTest {
    fn holds(&self, found: Option<&Value>) -> bool {
        match self {
            FieldTest::Exists(wanted) => found.is_some() == *wanted,
            FieldTest::Equals(expected) => found.is_some_and(|v| same_value(v, expected)),
            FieldTest::In(options) => found.is_some_and(|v| options.iter().any(|o| same_value(v, o))),
        }
    }
}

/// JSON equality where `0`, `0.0` and `-0` are the same number (JS numbers are all f64).
fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// A rule as written in the config, before it is checked.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRule {
    status: Option<u16>,
    path: Option<String>,
    equals: Option<Value>,
    #[serde(rename = "in")]
    one_of: Option<Vec<Value>>,
    exists: Option<bool>,
}

impl RawRule {
    /// `{ status }`: the default `invalidWhen` rule.
    pub(crate) fn status(status: u16) -> RawRule {
        RawRule { status: Some(status), path: None, equals: None, one_of: None, exists: None }
    }

    /// Checks the rule's shape; the error text says what is wrong, the caller adds the key.
    pub(crate) fn into_rule(self) -> Result<Rule, String> {
        let tests = [
            self.equals.map(FieldTest::Equals),
            self.one_of.map(FieldTest::In),
            self.exists.map(FieldTest::Exists),
        ];
        let mut given = tests.into_iter().flatten();
        let test = given.next();
        if given.next().is_some() {
            return Err("give only one of `equals`, `in`, `exists`".into());
        }
        let field = match (self.path, test) {
            (Some(path), Some(test)) => {
                let parsed = Path::parse(&path).ok_or_else(|| format!("bad path `{path}`"))?;
                Some((parsed, test))
            }
            (Some(_), None) => return Err("`path` needs one of `equals`, `in`, `exists`".into()),
            (None, Some(_)) => return Err("`equals`/`in`/`exists` need a `path`".into()),
            (None, None) => None,
        };
        if self.status.is_none() && field.is_none() {
            return Err("a rule needs `status` or `path`".into());
        }
        Ok(Rule { status: self.status, field })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    struct Json(u16, Value);
    impl Answer for Json {
        fn status(&self) -> u16 {
            self.0
        }
        fn field(&self, path: &Path) -> Option<Value> {
            path.lookup(&self.1).cloned()
        }
    }

    fn rule(raw: Value) -> Result<Rule, String> {
        serde_json::from_value::<RawRule>(raw).map_err(|e| e.to_string())?.into_rule()
    }

    #[test]
    fn paths_walk_objects_and_arrays() {
        let v = json!({"data": {"skey": "k", "list": [{"id": 7}]}, "n": 1});
        let get = |p: &str| Path::parse(p).and_then(|p| p.lookup(&v).cloned());
        assert_eq!(get("data.skey"), Some(json!("k")));
        assert_eq!(get("data.list.0.id"), Some(json!(7)));
        assert_eq!(get("data.list.1.id"), None, "index out of range");
        assert_eq!(get("data.list.x"), None, "non-numeric index into an array");
        assert_eq!(get("n.deeper"), None, "stepping into a number");
        assert_eq!(get("missing"), None);
        assert_eq!(Path::parse(""), None);
        assert_eq!(Path::parse("a..b"), None);
        assert_eq!(Path::parse("a."), None);
    }

    #[test]
    fn status_rule() {
        let r = rule(json!({"status": 401})).unwrap();
        assert!(r.matches(&Json(401, json!(null))));
        assert!(!r.matches(&Json(200, json!(null))));
    }

    #[test]
    fn equals_compares_numbers_by_value_and_types_strictly() {
        let r = rule(json!({"path": "code", "equals": 0})).unwrap();
        assert!(r.matches(&Json(200, json!({"code": 0}))));
        assert!(r.matches(&Json(200, json!({"code": 0.0}))));
        assert!(!r.matches(&Json(200, json!({"code": "0"}))), "string is not a number");
        assert!(!r.matches(&Json(200, json!({"code": null}))));
        assert!(!r.matches(&Json(200, json!({}))), "missing");
        assert!(!r.matches(&Json(200, json!("code"))), "body is not an object");
    }

    #[test]
    fn in_and_exists() {
        let r = rule(json!({"path": "code", "in": [-1, "EXPIRED"]})).unwrap();
        assert!(r.matches(&Json(200, json!({"code": -1}))));
        assert!(r.matches(&Json(200, json!({"code": "EXPIRED"}))));
        assert!(!r.matches(&Json(200, json!({"code": 0}))));

        let present = rule(json!({"path": "data.skey", "exists": true})).unwrap();
        let absent = rule(json!({"path": "data.skey", "exists": false})).unwrap();
        let with = Json(200, json!({"data": {"skey": null}}));
        let without = Json(200, json!({"data": []}));
        assert!(present.matches(&with) && !absent.matches(&with));
        assert!(!present.matches(&without) && absent.matches(&without));
    }

    #[test]
    fn status_and_field_must_both_hold() {
        let r = rule(json!({"status": 200, "path": "code", "equals": -1})).unwrap();
        assert!(r.matches(&Json(200, json!({"code": -1}))));
        assert!(!r.matches(&Json(500, json!({"code": -1}))));
        assert!(!r.matches(&Json(200, json!({"code": 0}))));
    }

    #[test]
    fn malformed_rules_are_refused_with_a_reason() {
        assert!(rule(json!({})).unwrap_err().contains("needs"));
        assert!(rule(json!({"path": "code"})).unwrap_err().contains("one of"));
        assert!(rule(json!({"equals": 1})).unwrap_err().contains("path"));
        assert!(rule(json!({"path": "a", "equals": 1, "exists": true})).unwrap_err().contains("only one"));
        assert!(rule(json!({"path": "a..b", "exists": true})).unwrap_err().contains("bad path"));
        assert!(rule(json!({"status": 401, "colour": 1})).unwrap_err().contains("colour"));
    }
}
