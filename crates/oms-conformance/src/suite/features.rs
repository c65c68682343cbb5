//! The features a run reads: the built-in ones or those of `--features-dir`
//! ([`FeatureSource`]), parsed with their outlines expanded, and copied once per
//! dialect judged ([`in_dialects`]) with only the rules and scenarios that run
//! in it; the tags the harness reads, and why features could not be loaded.

use std::path::Path;

use cucumber::feature::Ext as _;
use cucumber::gherkin::{self, GherkinEnv};

use crate::dialect::Dialect;

/// The features this build embeds, by file name.
const EMBEDDED: [(&str, &str); 1] = [(
    "delete-task.feature",
    include_str!("../../../../features/delete-task.feature"),
)];

/// Tags scenarios may carry besides `@spec:…`, `@needs:…` and `@api:…`.
pub const PLAIN_TAGS: [&str; 3] = ["serial", "whole-run", "settles"];

/// A scenario that ends with a settle period (`@settles`): started first.
const SETTLES_TAG: &str = "settles";
/// Prefix of the tag naming the operation of a feature.
pub const OPERATION_TAG: &str = "operation:";
/// Prefix of the tag that restricts a rule or a scenario to the dialects it
/// names (`@api:v1`); without one it runs in every dialect judged.
pub const API_TAG: &str = "api:";
/// Prefix of the tag the harness gives each dialect's copy of a feature; the
/// features themselves never carry it.
pub const DIALECT_TAG: &str = "dialect:";

/// The features could not be loaded or do not fit the harness.
#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    #[error("cannot read the features in {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("bad feature file {path}: {message}")]
    Parse { path: String, message: String },
    #[error("the features use steps the harness does not define: {0}")]
    UnknownSteps(String),
}

/// One feature file as the run read it: where it came from (for messages),
/// its name relative to its folder (what the features digest hashes, so the
/// built-in features and a copy of `features/` hash alike), and its text.
#[derive(Debug, Clone)]
pub struct FeatureSource {
    pub path: String,
    pub name: String,
    pub text: String,
}

/// Reads the feature files: the built-in ones, or every `*.feature` directly
/// in `dir`, in the order of their paths.
pub fn feature_sources(dir: Option<&Path>) -> Result<Vec<FeatureSource>, SuiteError> {
    let Some(dir) = dir else {
        return Ok(EMBEDDED
            .iter()
            .map(|(name, text)| FeatureSource {
                path: format!("features/{name}"),
                name: (*name).to_owned(),
                text: (*text).to_owned(),
            })
            .collect());
    };
    let read_err = |source| SuiteError::Read {
        path: dir.display().to_string(),
        source,
    };
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .map_err(read_err)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "feature"))
        .collect();
    paths.sort();
    let mut sources = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(&path).map_err(read_err)?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        sources.push(FeatureSource {
            path: path.display().to_string(),
            name,
            text,
        });
    }
    Ok(sources)
}

/// Parses feature files, with their outlines expanded.
pub fn parse_features(sources: &[FeatureSource]) -> Result<Vec<gherkin::Feature>, SuiteError> {
    let mut features = Vec::new();
    for source in sources {
        let parse_err = |message: String| SuiteError::Parse {
            path: source.path.clone(),
            message,
        };
        let mut feature = gherkin::Feature::parse(&source.text, GherkinEnv::default())
            .map_err(|e| parse_err(e.to_string()))?;
        feature.path = Some(source.path.clone().into());
        features.push(
            feature
                .expand_examples()
                .map_err(|e| parse_err(e.to_string()))?,
        );
    }
    Ok(features)
}

/// Loads the features, with their outlines expanded.
pub fn load_features(dir: Option<&Path>) -> Result<Vec<gherkin::Feature>, SuiteError> {
    parse_features(&feature_sources(dir)?)
}

/// The dialect of a feature's copy (see [`in_dialects`]); v1 for a feature
/// that is no copy.
pub(super) fn dialect_of(feature: &gherkin::Feature) -> Dialect {
    feature
        .tags
        .iter()
        .find_map(|t| Dialect::parse(t.strip_prefix(DIALECT_TAG)?))
        .unwrap_or(Dialect::V1)
}

/// Whether tags that may restrict a rule or scenario to some dialects (`@api:…`)
/// let it run in `dialect`.
fn runs_in(tags: &[String], dialect: Dialect) -> bool {
    let mut named = tags
        .iter()
        .filter_map(|t| t.strip_prefix(API_TAG))
        .peekable();
    named.peek().is_none() || named.any(|name| name == dialect.as_str())
}

/// One copy of every feature per dialect judged, tagged `@dialect:…` and
/// named after it, holding only the rules and scenarios that run in it: the
/// one suite, run once per dialect, concurrently.
pub fn in_dialects(features: &[gherkin::Feature], apis: &[Dialect]) -> Vec<gherkin::Feature> {
    let mut early = Vec::new();
    let mut copies = Vec::new();
    for dialect in apis {
        for feature in features {
            let mut copy = feature.clone();
            copy.tags.push(format!("{DIALECT_TAG}{dialect}"));
            copy.name = format!("{} ({dialect})", feature.name);
            copy.scenarios.retain(|s| runs_in(&s.tags, *dialect));
            copy.rules.retain(|r| runs_in(&r.tags, *dialect));
            for rule in &mut copy.rules {
                rule.scenarios.retain(|s| runs_in(&s.tags, *dialect));
            }
            // The rules with a `@settles` scenario go first, in every dialect:
            // their settle period then overlaps the other scenarios' work
            // instead of following it.
            let (first, rest): (Vec<_>, Vec<_>) = copy.rules.drain(..).partition(|r| {
                r.scenarios
                    .iter()
                    .any(|s| s.tags.iter().any(|t| t == SETTLES_TAG))
            });
            if !first.is_empty() {
                let mut head = copy.clone();
                head.scenarios.clear();
                head.rules = first;
                early.push(head);
            }
            copy.rules = rest;
            copies.push(copy);
        }
    }
    early.extend(copies);
    early
}
