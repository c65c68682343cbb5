//! The expectations file: the target's known failures, each with a reason and an
//! expiry date, excused until that date and reported as expired after it. The
//! file is named by `--expectations` or, relative to itself, by the profile.
//!
//! An entry excuses its rule in every dialect, or, with `dialect = "v1"`, in
//! that dialect alone; for a rule with both, the entry of the dialect wins
//! there ([`Expectation::find`]), as `[declared.v1]` wins over `[declared]`.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::error::{ConfigError, one_line};
use super::profile::Origin;
use crate::catalogue::Catalogue;
use crate::dialect::Dialect;

/// A known failure of the target, excused until its expiry date.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Expectation {
    pub rule: String,
    /// The one dialect it excuses the rule in; `None`: every dialect.
    pub dialect: Option<Dialect>,
    pub reason: String,
    /// `YYYY-MM-DD`.
    pub expires: String,
    pub expired: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectationsFile {
    #[serde(default)]
    known_failure: Vec<KnownFailureFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KnownFailureFile {
    rule: String,
    dialect: Option<String>,
    reason: String,
    expires: toml::value::Datetime,
}

impl Expectation {
    /// The entry that applies to `rule` in `dialect`: the one naming that
    /// dialect, else the one naming none.
    pub fn find<'a>(all: &'a [Self], rule: &str, dialect: Dialect) -> Option<&'a Self> {
        let of = |d: Option<Dialect>| all.iter().find(|e| e.rule == rule && e.dialect == d);
        of(Some(dialect)).or_else(|| of(None))
    }

    /// The rule, and its dialect where the entry names one: `OMS-DEL-003 (v1)`.
    pub fn label(&self) -> String {
        match self.dialect {
            Some(dialect) => format!("{} ({dialect})", self.rule),
            None => self.rule.clone(),
        }
    }
}

/// The expectations file to read: the one given (`--expectations`) over the one
/// the profile names, none without either.
pub(super) fn path(
    given: Option<&Path>,
    named: Option<&str>,
    origin: &Origin,
) -> Result<Option<PathBuf>, ConfigError> {
    match (given, named) {
        (Some(path), _) => Ok(Some(path.to_owned())),
        (None, Some(relative)) => origin.beside(relative).map(Some).ok_or_else(|| {
            origin.error("the built-in profile cannot name an expectations file".to_owned())
        }),
        (None, None) => Ok(None),
    }
}

/// Reads the expectations at `path`; each entry must name a rule of the
/// catalogue, give a reason and an expiry date, which is compared with `today`.
pub(super) fn load(
    path: &Path,
    catalogue: &Catalogue,
    today: &str,
) -> Result<Vec<Expectation>, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        what: "expectations file",
        path: path.to_owned(),
        source,
    })?;
    parse(&text, catalogue, today).map_err(|message| ConfigError::Expectations {
        path: path.display().to_string(),
        message,
    })
}

/// The entries of an expectations file's `text`, each checked.
fn parse(text: &str, catalogue: &Catalogue, today: &str) -> Result<Vec<Expectation>, String> {
    let file: ExpectationsFile = toml::from_str(text).map_err(|e| one_line(&e.to_string()))?;
    let mut expectations: Vec<Expectation> = Vec::new();
    for entry in file.known_failure {
        let expectation = entry_of(entry, catalogue, today)?;
        // Two entries for one rule in one dialect: which would excuse it?
        let twice = expectations
            .iter()
            .any(|e| e.rule == expectation.rule && e.dialect == expectation.dialect);
        if twice {
            return Err(format!("two entries for {}", expectation.label()));
        }
        expectations.push(expectation);
    }
    Ok(expectations)
}

/// One entry, checked: a rule of the catalogue, judged in the dialect it
/// names, a reason, an expiry date.
fn entry_of(
    entry: KnownFailureFile,
    catalogue: &Catalogue,
    today: &str,
) -> Result<Expectation, String> {
    let Some(rule) = catalogue.rule(&entry.rule) else {
        return Err(format!("rule {} is not in the catalogue", entry.rule));
    };
    let dialect = match entry.dialect.as_deref() {
        None => None,
        Some(name) => {
            let Some(dialect) = Dialect::parse(name) else {
                let known: Vec<&str> = Dialect::ALL.iter().map(|d| d.as_str()).collect();
                return Err(format!(
                    "the entry for {} names an unknown dialect `{name}` (known: {})",
                    entry.rule,
                    known.join(", ")
                ));
            };
            if !rule.applies_to(dialect) {
                return Err(format!(
                    "the entry for {} names {dialect}, in which the rule is not judged",
                    entry.rule
                ));
            }
            Some(dialect)
        }
    };
    if entry.reason.trim().is_empty() {
        return Err(format!("the entry for {} gives no reason", entry.rule));
    }
    let date = entry
        .expires
        .date
        .filter(|_| entry.expires.time.is_none())
        .ok_or_else(|| format!("the entry for {} needs `expires = YYYY-MM-DD`", entry.rule))?;
    let expires = format!("{:04}-{:02}-{:02}", date.year, date.month, date.day);
    Ok(Expectation {
        expired: expires.as_str() < today,
        rule: entry.rule,
        dialect,
        reason: entry.reason,
        expires,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(text: &str) -> Result<Vec<Expectation>, String> {
        let catalogue = Catalogue::embedded().expect("catalogue");
        parse(text, &catalogue, "2026-01-01")
    }

    const ENTRY: &str = "[[known_failure]]\nreason = \"r\"\nexpires = 2999-01-01\n";

    #[test]
    fn the_entry_of_a_dialect_beats_the_unqualified_one_in_that_dialect_alone() {
        let all = entries(&format!(
            "{ENTRY}rule = \"OMS-DEL-003\"\n{ENTRY}rule = \"OMS-DEL-003\"\ndialect = \"v1\"\n{ENTRY}rule = \"OMS-DEL-004\"\ndialect = \"v2\"\n"
        ))
        .expect("valid");
        let found = |rule, dialect| Expectation::find(&all, rule, dialect).map(|e| e.dialect);
        assert_eq!(found("OMS-DEL-003", Dialect::V1), Some(Some(Dialect::V1)));
        assert_eq!(found("OMS-DEL-003", Dialect::V2), Some(None));
        assert_eq!(found("OMS-DEL-004", Dialect::V2), Some(Some(Dialect::V2)));
        assert_eq!(found("OMS-DEL-004", Dialect::V1), None);
        assert_eq!(found("OMS-DEL-001", Dialect::V1), None);
        assert_eq!(all[1].label(), "OMS-DEL-003 (v1)");
        assert_eq!(all[0].label(), "OMS-DEL-003");
    }

    #[test]
    fn a_bad_dialect_or_a_second_entry_is_refused_in_one_line() {
        let refused = |text: String| entries(&text).expect_err(&text);
        let unknown = refused(format!("{ENTRY}rule = \"OMS-DEL-003\"\ndialect = \"v3\"\n"));
        assert!(unknown.contains("unknown dialect `v3`"), "{unknown}");
        // OMS-DEL-018 is a v2 rule.
        let unjudged = refused(format!("{ENTRY}rule = \"OMS-DEL-018\"\ndialect = \"v1\"\n"));
        assert!(unjudged.contains("not judged"), "{unjudged}");
        let twice = refused(format!(
            "{ENTRY}rule = \"OMS-DEL-003\"\ndialect = \"v2\"\n{ENTRY}rule = \"OMS-DEL-003\"\ndialect = \"v2\"\n"
        ));
        assert!(
            twice.contains("two entries for OMS-DEL-003 (v2)"),
            "{twice}"
        );
        for message in [unknown, unjudged, twice] {
            assert_eq!(message.lines().count(), 1, "{message}");
        }
    }
}
