//! What the core learns from an HTTP answer: its status and the few fields the rules read.
//!
//! Bodies never cross into the core. Each request the core sends names a [`ReadSet`]; when the
//! answer comes, the driver reads the set's [`Path`]s from the body (bounded, own properties
//! only) and reports them, in order, as [`Field`]s.

use alloc::vec::Vec;

use crate::config::Config;
use crate::rule::{Field, Path, Rule};

/// Which fields the driver reads from an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadSet {
    /// An API answer: the fields `invalidWhen`, `authRequiredWhen` and `api.failWhen` read,
    /// and `api.messagePath`.
    Api = 0,
    /// A login answer: `okWhen`, `tokenPath`, `expiresInPath`, `refreshTokenPath`.
    Login = 1,
    /// A check answer: `invalidWhen` and `check.okWhen`.
    Check = 2,
    /// A refresh answer: `refresh.okWhen`, `tokenPath`, `refreshTokenPath`, `expiresInPath`.
    Refresh = 3,
}

impl ReadSet {
    pub const ALL: [ReadSet; 4] = [ReadSet::Api, ReadSet::Login, ReadSet::Check, ReadSet::Refresh];
}

/// The status and the fields read, in the order of the set's paths.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub status: u16,
    pub fields: Vec<Field>,
}

impl Answer {
    /// An answer with a status and no fields read.
    pub fn status(status: u16) -> Answer {
        Answer { status, fields: Vec::new() }
    }
}

/// The paths of each [`ReadSet`], worked out once from the config.
#[derive(Debug, Clone)]
pub struct ReadPaths {
    sets: [Vec<Path>; 4],
}

impl ReadPaths {
    pub fn new(config: &Config) -> ReadPaths {
        let rule_paths = |rules: &mut dyn Iterator<Item = &Rule>, into: &mut Vec<Path>| {
            for (path, _) in rules.filter_map(|rule| rule.field.as_ref()) {
                add(into, path);
            }
        };
        let mut check = Vec::new();
        rule_paths(&mut config.invalid_when.iter(), &mut check);
        let mut api = check.clone();
        rule_paths(&mut config.auth_required_when.iter(), &mut api);
        rule_paths(&mut config.api.fail_when.iter(), &mut api);
        api.extend(config.api.message_path.clone().filter(|path| !api.contains(path)));

        let mut login = Vec::new();
        rule_paths(&mut config.login.ok_when.iter(), &mut login);
        add(&mut login, &config.login.token_path);
        for path in [&config.login.expires_in_path, &config.login.refresh_token_path].into_iter().flatten() {
            add(&mut login, path);
        }

        if let Some(check_config) = &config.check {
            rule_paths(&mut check_config.ok_when.iter(), &mut check);
        }

        let mut refresh = Vec::new();
        if let Some(refresh_config) = &config.refresh {
            rule_paths(&mut refresh_config.ok_when.iter(), &mut refresh);
            add(&mut refresh, &refresh_config.token_path);
            add(&mut refresh, &refresh_config.refresh_token_path);
            if let Some(path) = &refresh_config.expires_in_path {
                add(&mut refresh, path);
            }
        }
        ReadPaths { sets: [api, login, check, refresh] }
    }

    /// The paths the driver reads for `set`, in the order it reports them.
    pub fn of(&self, set: ReadSet) -> &[Path] {
        &self.sets[set as usize]
    }

    /// A view of `answer` that finds fields by path.
    pub fn view<'a>(&'a self, set: ReadSet, answer: &'a Answer) -> AnswerView<'a> {
        AnswerView { paths: self.of(set), answer }
    }
}

fn add(paths: &mut Vec<Path>, path: &Path) {
    if !paths.contains(path) {
        paths.push(path.clone());
    }
}

/// An answer with the paths its fields were read at.
pub struct AnswerView<'a> {
    paths: &'a [Path],
    answer: &'a Answer,
}

static ABSENT: Field = Field::Absent;

impl<'a> AnswerView<'a> {
    pub fn status(&self) -> u16 {
        self.answer.status
    }

    /// The field at `path`; absent when the driver didn't report it.
    pub fn field(&self, path: &Path) -> &'a Field {
        let at = self.paths.iter().position(|p| p == path);
        at.and_then(|i| self.answer.fields.get(i)).unwrap_or(&ABSENT)
    }

    /// Does `rule` hold for this answer?
    pub fn matches(&self, rule: &Rule) -> bool {
        rule.matches(self.answer.status, |path| self.field(path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rule::Scalar;

    #[test]
    fn each_set_lists_its_paths_once() {
        let config = Config::from_json(
            r#"{"baseUrl":"https://x","invalidWhen":[{"status":401},{"path":"code","equals":-1},{"path":"code","in":[-2]}],
                "login":{"tokenPath":"data.skey","expiresInPath":"data.ttl","okWhen":{"path":"code","equals":0}},
                "check":{"okWhen":{"path":"errCode","equals":0}}}"#,
        )
        .unwrap();
        let paths = ReadPaths::new(&config);
        let texts = |set| paths.of(set).iter().map(Path::as_str).collect::<Vec<_>>();
        assert_eq!(texts(ReadSet::Api), ["code"]);
        assert_eq!(texts(ReadSet::Login), ["code", "data.skey", "data.ttl"]);
        assert_eq!(texts(ReadSet::Check), ["code", "errCode"]);
    }

    #[test]
    fn the_default_config_reads_no_fields_from_api_answers() {
        let config = Config::from_json(r#"{"baseUrl":"https://x"}"#).unwrap();
        assert!(ReadPaths::new(&config).of(ReadSet::Api).is_empty());
    }

    #[test]
    fn a_view_finds_fields_by_path() {
        let config = Config::from_json(r#"{"baseUrl":"https://x","invalidWhen":[{"path":"code","equals":-1}]}"#).unwrap();
        let paths = ReadPaths::new(&config);
        let answer = Answer { status: 200, fields: vec![Field::Scalar(Scalar::Number(-1.0))] };
        let view = paths.view(ReadSet::Api, &answer);
        assert!(view.matches(&config.invalid_when[0]));
        assert_eq!(view.field(&Path::parse("other").unwrap()), &Field::Absent);
        let short = Answer::status(200);
        assert!(!paths.view(ReadSet::Api, &short).matches(&config.invalid_when[0]), "a missing report is an absent field");
    }
}
