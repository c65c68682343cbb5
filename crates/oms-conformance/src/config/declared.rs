//! What a target declares for the values the spec leaves open: the answer it
//! gives to each kind of refused delete ([`Answer`], `STATUS` or `STATUS CODE`),
//! what it does with the delete of a pausing task ([`Disposition`]), its
//! success status and whether it ignores unexpected input. The defaults are
//! the OMS documentation's; strict mode checks them.
//!
//! `[declared]` holds the answers of every dialect; a dialect's own table
//! (`[declared.v2]`) overrides them key by key for that dialect alone
//! ([`Declarations`]), as `[create.v2]` holds v2's create bodies.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize as _;

use super::error::one_line;
use super::profile::{DeclaredFile, OneOrMany};
use crate::dialect::Dialect;

/// An expected answer, `STATUS` or `STATUS CODE` (`"400 OMS.0063"`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Answer {
    pub status: u16,
    pub code: Option<String>,
}

impl Answer {
    fn parse(text: &str) -> Result<Self, String> {
        let mut parts = text.split_whitespace();
        let status = parts
            .next()
            .and_then(|s| s.parse::<u16>().ok())
            .filter(|s| (100..600).contains(s))
            .ok_or_else(|| format!("`{text}` does not start with an HTTP status"))?;
        let code = parts.next().map(str::to_owned);
        if parts.next().is_some() {
            return Err(format!("`{text}` is not `STATUS` or `STATUS CODE`"));
        }
        Ok(Self { status, code })
    }

    /// Whether an answer with this status and error code matches.
    pub fn matches(&self, status: u16, code: Option<&str>) -> bool {
        self.status == status && self.code.as_deref().is_none_or(|c| Some(c) == code)
    }
}

impl fmt::Display for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.code {
            Some(code) => write!(f, "{} {code}", self.status),
            None => write!(f, "{}", self.status),
        }
    }
}

/// What a target does with a delete that the spec lets it refuse or accept
/// (a pausing task, OMS-DEL-018).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    /// Refused with one of these answers; the task stays.
    Refused(Vec<Answer>),
    /// Deleted: the declared success status, and the task gone.
    Deleted,
}

impl fmt::Display for Disposition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Refused(answers) => {
                let answers: Vec<String> = answers.iter().map(ToString::to_string).collect();
                write!(f, "refused ({})", answers.join(" or "))
            }
            Self::Deleted => f.write_str("deleted (a 2xx, and the task gone)"),
        }
    }
}

/// What the target declares in one dialect for the values the spec leaves
/// open; checked in strict mode only.
#[derive(Debug, Clone)]
pub struct Declared {
    pub delete_status: u16,
    pub running: Vec<Answer>,
    /// The delete of a pausing task (v2 status 7).
    pub pausing: Disposition,
    pub missing: Vec<Answer>,
    pub malformed: Vec<Answer>,
    /// The empty task id (`…/task/`), which a router may treat as another route.
    pub empty_segment: Vec<Answer>,
    pub cross_project: Vec<Answer>,
    pub unauthenticated: Vec<Answer>,
    /// A correctly signed request whose `X-Sdk-Date` is more than 15 minutes off.
    pub skewed_date: Vec<Answer>,
    /// `true`: a delete with an unexpected body or query is handled as without it.
    pub unexpected_input_ignored: bool,
}

/// The declared answers of every dialect: `[declared]`, and over it, key by
/// key, each dialect's own table.
#[derive(Debug, Clone)]
pub struct Declarations {
    /// `[declared]` over the defaults: the answers of a dialect without a table.
    every: Declared,
    /// Each dialect with a table of its own, that table over `every`.
    own: BTreeMap<Dialect, Declared>,
}

impl Declarations {
    /// The answers declared for `dialect`.
    pub fn of(&self, dialect: Dialect) -> &Declared {
        self.own.get(&dialect).unwrap_or(&self.every)
    }
}

/// The word that declares that a delete is accepted rather than refused.
const DELETED: &str = "deleted";

fn texts(value: &Option<OneOrMany>, default: &[&str]) -> Vec<String> {
    match value {
        None => default.iter().map(|s| (*s).to_owned()).collect(),
        Some(OneOrMany::One(one)) => vec![one.clone()],
        Some(OneOrMany::Many(many)) => many.clone(),
    }
}

fn answers(value: &Option<OneOrMany>, key: &str, default: &[&str]) -> Result<Vec<Answer>, String> {
    let texts = texts(value, default);
    if texts.is_empty() {
        return Err(format!("{key} is empty"));
    }
    texts
        .iter()
        .map(|t| Answer::parse(t).map_err(|m| format!("{key}: {m}")))
        .collect()
}

/// Answers, or the one word `deleted`.
fn disposition(
    value: &Option<OneOrMany>,
    key: &str,
    default: &[&str],
) -> Result<Disposition, String> {
    match value {
        Some(OneOrMany::One(word)) if word == DELETED => Ok(Disposition::Deleted),
        Some(OneOrMany::Many(many)) if many.iter().any(|t| t == DELETED) => Err(format!(
            "{key}: `{DELETED}` stands alone, not in a list of answers"
        )),
        _ => answers(value, key, default)
            .map(Disposition::Refused)
            .map_err(|m| format!("{m}; or `{DELETED}`")),
    }
}

/// `[declared]` and each dialect's table in it, resolved. A table whose name
/// is not a dialect, or a dialect's key that is not a table, is refused.
pub(super) fn declarations(table: &toml::Table) -> Result<Declarations, String> {
    let mut common = toml::Table::new();
    let mut tables = Vec::new();
    for (key, value) in table {
        match (Dialect::parse(key), value) {
            (Some(dialect), toml::Value::Table(own)) => tables.push((dialect, own)),
            (Some(_), _) => {
                return Err(format!(
                    "declared.{key} names a dialect: write its answers as a table, [declared.{key}]"
                ));
            }
            (None, toml::Value::Table(_)) => {
                let known: Vec<&str> = Dialect::ALL.iter().map(|d| d.as_str()).collect();
                return Err(format!(
                    "[declared.{key}]: unknown dialect `{key}` (known: {})",
                    known.join(", ")
                ));
            }
            (None, _) => {
                common.insert(key.clone(), value.clone());
            }
        }
    }
    let every = declared(&common, "declared")?;
    let mut own = BTreeMap::new();
    for (dialect, table) in tables {
        let name = format!("declared.{dialect}");
        // The dialect's table alone first, so that a bad key or value in it
        // is named as its own.
        declared(table, &name)?;
        let mut merged = common.clone();
        merged.extend(table.clone());
        own.insert(dialect, declared(&merged, &name)?);
    }
    Ok(Declarations { every, own })
}

/// One table of declared answers (named `name` in a refusal) over the defaults.
fn declared(table: &toml::Table, name: &str) -> Result<Declared, String> {
    let file = DeclaredFile::deserialize(toml::Value::Table(table.clone()))
        .map_err(|e| format!("{name}: {}", one_line(&e.to_string())))?;
    let key = |k: &str| format!("{name}.{k}");
    let unexpected_input_ignored = match file.unexpected_input.as_deref() {
        None | Some("ignored") => true,
        Some("refused") => false,
        Some(other) => {
            return Err(format!(
                "{} is `{other}`; expected `ignored` or `refused`",
                key("unexpected_input")
            ));
        }
    };
    let delete_status = file.delete_status.unwrap_or(200);
    if !(200..300).contains(&delete_status) {
        return Err(format!(
            "{} {delete_status} is not a 2xx",
            key("delete_status")
        ));
    }
    Ok(Declared {
        delete_status,
        running: answers(&file.running, &key("running"), &["400 OMS.0063"])?,
        pausing: disposition(&file.pausing, &key("pausing"), &["400 OMS.0063"])?,
        missing: answers(&file.missing, &key("missing"), &["400 OMS.1009"])?,
        malformed: answers(&file.malformed, &key("malformed"), &["400 OMS.0054"])?,
        empty_segment: answers(
            &file.empty_segment,
            &key("empty_segment"),
            &["404 APIGW.0101"],
        )?,
        cross_project: answers(
            &file.cross_project,
            &key("cross_project"),
            &["403", "400 OMS.1009"],
        )?,
        unauthenticated: answers(
            &file.unauthenticated,
            &key("unauthenticated"),
            &["401 APIGW.0301"],
        )?,
        skewed_date: answers(&file.skewed_date, &key("skewed_date"), &["401 APIGW.0303"])?,
        unexpected_input_ignored,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_parse_status_and_code() {
        assert_eq!(
            Answer::parse("400 OMS.0063"),
            Ok(Answer {
                status: 400,
                code: Some("OMS.0063".to_owned())
            })
        );
        assert!(Answer::parse("4xx").is_err());
        assert!(Answer::parse("400 A B").is_err());
        let any_code = Answer::parse("403").unwrap();
        assert!(any_code.matches(403, Some("OMS.0072")));
        assert!(!any_code.matches(401, None));
    }

    fn parse(text: &str) -> Result<Declarations, String> {
        declarations(&text.parse::<toml::Table>().expect("TOML"))
    }

    fn answer(text: &str) -> Answer {
        Answer::parse(text).expect("an answer")
    }

    #[test]
    fn a_dialects_table_beats_the_common_one_key_by_key_in_that_dialect_alone() {
        let declared = parse(
            r#"
            delete_status = 204
            running = "409 OMS.0063"
            [v2]
            running = ["400 OMS.0063", "400 OMS.0073"]
            pausing = "deleted"
            unexpected_input = "refused"
            "#,
        )
        .expect("valid");
        let (v1, v2) = (declared.of(Dialect::V1), declared.of(Dialect::V2));
        assert_eq!(v1.running, [answer("409 OMS.0063")]);
        assert_eq!(v2.running, [answer("400 OMS.0063"), answer("400 OMS.0073")]);
        assert_eq!(
            v1.pausing,
            Disposition::Refused(vec![answer("400 OMS.0063")])
        );
        assert_eq!(v2.pausing, Disposition::Deleted);
        assert!(v1.unexpected_input_ignored && !v2.unexpected_input_ignored);
        // A key v2 does not name is `[declared]`'s, then the default.
        assert_eq!((v1.delete_status, v2.delete_status), (204, 204));
        assert_eq!(v2.missing, [answer("400 OMS.1009")]);
        // A table for v1 only leaves v2 with the common answers.
        let declared = parse("running = \"409\"\n[v1]\nrunning = \"400\"").expect("valid");
        assert_eq!(declared.of(Dialect::V1).running, [answer("400")]);
        assert_eq!(declared.of(Dialect::V2).running, [answer("409")]);
    }

    #[test]
    fn without_a_table_every_dialect_has_the_defaults_of_the_reference() {
        let declared = parse("").expect("valid");
        for dialect in Dialect::ALL {
            let d = declared.of(dialect);
            assert_eq!(d.delete_status, 200);
            assert_eq!(
                d.pausing,
                Disposition::Refused(vec![answer("400 OMS.0063")])
            );
            assert_eq!(d.running, [answer("400 OMS.0063")]);
            assert!(d.unexpected_input_ignored);
        }
        let pausing = parse("pausing = [\"400 OMS.0063\", \"409\"]").expect("valid");
        assert_eq!(
            pausing.of(Dialect::V2).pausing.to_string(),
            "refused (400 OMS.0063 or 409)"
        );
    }

    #[test]
    fn a_bad_key_value_or_dialect_is_refused_with_its_name() {
        let refused = |text: &str| parse(text).expect_err(text);
        assert!(refused("[v3]\nrunning = \"400\"").contains("unknown dialect `v3`"));
        assert!(refused("v2 = \"400\"").contains("[declared.v2]"));
        let unknown = refused("[v2]\ncolour = \"blue\"");
        assert!(
            unknown.starts_with("declared.v2: ") && unknown.contains("colour"),
            "{unknown}"
        );
        assert!(refused("colour = 1").starts_with("declared: "));
        assert!(refused("[v2]\nrunning = \"4xx\"").starts_with("declared.v2.running: "));
        assert!(refused("[v1]\ndelete_status = 404").starts_with("declared.v1.delete_status"));
        assert!(refused("pausing = [\"deleted\", \"400\"]").contains("stands alone"));
        assert!(refused("[v2]\npausing = \"gone\"").starts_with("declared.v2.pausing: "));
        assert!(refused("pausing = []").contains("empty"));
        assert!(refused("missing = []").contains("empty"));
        // A bad common answer is named as the common one, not once per dialect.
        assert!(
            refused("running = \"4xx\"\n[v2]\nmissing = \"404\"").starts_with("declared.running: ")
        );
    }
}
