//! Which config key a serde_json error is about.
//!
//! serde_json says *where* in the text it failed (line and column), not which key; the config
//! text is one line of JSON the glue made with `JSON.stringify`. Scanning the text up to that
//! point tells which object member or array element was being read: `login.tokenPath`,
//! `invalidWhen[1]`. This costs a few dozen lines where a path-tracking deserializer wrapper
//! (serde_path_to_error) cost 35 KB of wasm.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// The dotted key the error is about, or `"config"` for the whole object.
pub(super) fn key_of_error(json: &str, error: &serde_json::Error) -> String {
    let offset = byte_offset(json, error.line(), error.column());
    let mut path = path_at(json, offset);
    // A missing field is reported at the end of its object: name the field itself.
    let message = error.to_string();
    if let Some(name) = message.strip_prefix("missing field `").and_then(|rest| rest.split('`').next()) {
        path.push(Step::Key(name.to_string()));
    }
    render(&path)
}

/// One step of a key path.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
}

fn render(path: &[Step]) -> String {
    let mut out = String::new();
    for step in path {
        match step {
            Step::Key(key) if out.is_empty() => out.push_str(key),
            Step::Key(key) => out.push_str(&format!(".{key}")),
            Step::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    if out.is_empty() {
        out.push_str("config");
    }
    out
}

/// serde_json's line and column (both 1-based; the column is the byte at which it noticed the
/// error) as the offset of that byte: the text before it has been read.
fn byte_offset(json: &str, line: usize, column: usize) -> usize {
    let line_start: usize = json.split_inclusive('\n').take(line.saturating_sub(1)).map(str::len).sum();
    (line_start + column.saturating_sub(1)).min(json.len())
}

/// An open object (with the member being read, once its key is known) or array.
enum Open {
    Object { key: Option<String>, expecting_key: bool },
    Array { index: usize },
}

/// The members and elements open at `offset`.
fn path_at(json: &str, offset: usize) -> Vec<Step> {
    let bytes = json.as_bytes();
    let mut open: Vec<Open> = Vec::new();
    let mut at = 0;
    while at < offset.min(bytes.len()) {
        match bytes[at] {
            b'"' => {
                let end = string_end(bytes, at);
                if let Some(Open::Object { key, expecting_key: expecting @ true }) = open.last_mut() {
                    *key = json.get(at + 1..end.saturating_sub(1)).map(ToString::to_string);
                    *expecting = false;
                }
                at = end;
                continue;
            }
            b'{' => open.push(Open::Object { key: None, expecting_key: true }),
            b'[' => open.push(Open::Array { index: 0 }),
            b'}' | b']' => {
                open.pop();
            }
            b',' => match open.last_mut() {
                Some(Open::Object { expecting_key, .. }) => *expecting_key = true,
                Some(Open::Array { index }) => *index += 1,
                None => {}
            },
            _ => {}
        }
        at += 1;
    }
    if matches!(open.first(), Some(Open::Array { .. })) {
        return Vec::new(); // the config is not an object at all
    }
    open.into_iter()
        .filter_map(|level| match level {
            Open::Object { key, .. } => key.map(Step::Key),
            Open::Array { index } => Some(Step::Index(index)),
        })
        .collect()
}

/// The offset just past the string starting at `start` (a `"`), escapes included.
fn string_end(bytes: &[u8], start: usize) -> usize {
    let mut at = start + 1;
    while let Some(&byte) = bytes.get(at) {
        at += 1;
        match byte {
            b'\\' => at += 1,
            b'"' => return at,
            _ => {}
        }
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(json: &str, offset: usize) -> String {
        render(&path_at(json, offset))
    }

    #[test]
    fn paths_follow_members_and_elements() {
        let json = r#"{"a":{"b":[1,{"c":"x\"y"}]},"d":2}"#;
        assert_eq!(path(json, json.find("1").unwrap() + 1), "a.b[0]");
        assert_eq!(path(json, json.find("x").unwrap()), "a.b[1].c");
        assert_eq!(path(json, json.find("\"d\"").unwrap() + 3), "d");
        assert_eq!(path(json, 0), "config");
        assert_eq!(path(json, json.len()), "config");
    }
}
