//! The expectations file: the target's known failures, each with a reason and an
//! expiry date, excused until that date and reported as expired after it. The
//! file is named by `--expectations` or, relative to itself, by the profile.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::error::{ConfigError, one_line};
use super::profile::Origin;
use crate::catalogue::Catalogue;

/// A known failure of the target, excused until its expiry date.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Expectation {
    pub rule: String,
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
    reason: String,
    expires: toml::value::Datetime,
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
    let err = |message: String| ConfigError::Expectations {
        path: path.display().to_string(),
        message,
    };
    let file: ExpectationsFile =
        toml::from_str(&text).map_err(|e| err(one_line(&e.to_string())))?;
    file.known_failure
        .into_iter()
        .map(|entry| {
            if catalogue.rule(&entry.rule).is_none() {
                return Err(err(format!("rule {} is not in the catalogue", entry.rule)));
            }
            if entry.reason.trim().is_empty() {
                return Err(err(format!("the entry for {} gives no reason", entry.rule)));
            }
            let date = entry
                .expires
                .date
                .filter(|_| entry.expires.time.is_none())
                .ok_or_else(|| {
                    err(format!(
                        "the entry for {} needs `expires = YYYY-MM-DD`",
                        entry.rule
                    ))
                })?;
            let expires = format!("{:04}-{:02}-{:02}", date.year, date.month, date.day);
            Ok(Expectation {
                expired: expires.as_str() < today,
                rule: entry.rule,
                reason: entry.reason,
                expires,
            })
        })
        .collect()
}
