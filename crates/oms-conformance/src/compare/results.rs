//! The runs `compare` reads: each `results.json` parsed into a [`RunResults`]
//! (what judged it, its counts, a [`Judged`] per rule and dialect), and each
//! run's column name ([`labels`]).

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::error::CompareError;
use crate::reported::counts;

/// One run as its `results.json` tells it.
#[derive(Debug, Clone)]
pub struct RunResults {
    pub path: PathBuf,
    /// The column's name: the run's folder, made unique.
    pub label: String,
    /// `name version` of the kit that judged it.
    pub kit: String,
    pub catalogue: String,
    pub features: String,
    pub profile: String,
    pub profile_digest: String,
    pub target: String,
    pub exit_code: Option<i64>,
    /// `N passed, N failed, N inconclusive, N skipped`, as the run's closing line.
    pub counts: String,
    pub rules: Vec<Judged>,
}

/// One rule in one dialect, as a run judged it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judged {
    pub id: String,
    pub dialect: String,
    pub level: String,
    /// The verdict, or `not run` where `--rule` left the rule out.
    pub verdict: String,
    pub observed: Vec<String>,
}

/// Reads each file as a `results.json`, and names its column.
pub fn load(files: &[PathBuf]) -> Result<Vec<RunResults>, CompareError> {
    if files.len() < 2 {
        return Err(CompareError::TooFew(files.len()));
    }
    let mut runs = files
        .iter()
        .map(|path| read(path))
        .collect::<Result<Vec<_>, _>>()?;
    let labels = labels(&runs.iter().map(|r| r.path.clone()).collect::<Vec<_>>());
    for (run, label) in runs.iter_mut().zip(labels) {
        run.label = label;
    }
    Ok(runs)
}

fn read(path: &Path) -> Result<RunResults, CompareError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| CompareError::Read {
        path: shown.clone(),
        source,
    })?;
    let value: Value = serde_json::from_str(&text).map_err(|e| CompareError::NotJson {
        path: shown.clone(),
        message: e.to_string(),
    })?;
    parse(path, &value)
}

/// A run from its `results.json` document.
pub fn parse(path: &Path, value: &Value) -> Result<RunResults, CompareError> {
    let shown = path.display().to_string();
    let not_results = |message: String| CompareError::NotResults {
        path: shown.clone(),
        message,
    };
    if !value.is_object() {
        return Err(not_results("it is not a JSON object".to_owned()));
    }
    if !value["kit"].is_string() {
        return Err(not_results("it names no `kit`".to_owned()));
    }
    let Some(rules) = value["rules"].as_array() else {
        return Err(not_results("it has no `rules`".to_owned()));
    };
    let provenance = &value["provenance"];
    if provenance.is_null() {
        return Err(CompareError::NoProvenance { path: shown });
    }
    let field = |pointer: &str| -> Result<String, CompareError> {
        provenance
            .pointer(pointer)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| not_results(format!("its provenance has no `{pointer}`")))
    };
    let kit = format!("{} {}", field("/kit/name")?, field("/kit/version")?);
    let catalogue = field("/catalogue/sha256")?;
    let features = field("/features/sha256")?;
    let profile_digest = field("/profile/sha256")?;
    let mut judged = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        let text = |key: &str| -> Result<String, CompareError> {
            rule[key]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| not_results(format!("rules[{i}] has no `{key}`")))
        };
        let ran = rule["scenarios"].as_array().is_some_and(|s| !s.is_empty());
        judged.push(Judged {
            id: text("id")?,
            dialect: text("dialect")?,
            level: rule["level"].as_str().unwrap_or_default().to_owned(),
            verdict: if ran {
                text("verdict")?
            } else {
                "not run".to_owned()
            },
            observed: rule["observed"]
                .as_array()
                .map(|o| {
                    o.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
        });
    }
    let summary = &value["summary"];
    let number = |key: &str| summary[key].as_u64().unwrap_or(0);
    Ok(RunResults {
        path: path.to_owned(),
        label: String::new(),
        kit,
        catalogue,
        features,
        profile: value["profile"].as_str().unwrap_or_default().to_owned(),
        profile_digest,
        target: value["base_url"].as_str().unwrap_or_default().to_owned(),
        exit_code: value["exit_code"].as_i64(),
        counts: counts(
            number("passed"),
            number("failed"),
            number("inconclusive") + number("errors"),
            number("skipped"),
        ),
        rules: judged,
    })
}

/// Each run's column name: the name of the folder holding its file (its own
/// name for a file not called `results.json`); where several share one, as
/// many more folders above it as tell them apart, then a number.
pub fn labels(paths: &[PathBuf]) -> Vec<String> {
    // The path's components from the file's folder upwards.
    let parts: Vec<Vec<String>> = paths
        .iter()
        .map(|path| {
            let absolute = std::path::absolute(path).unwrap_or_else(|_| path.clone());
            let mut parts: Vec<String> = absolute
                .components()
                .filter_map(|c| match c {
                    std::path::Component::Normal(name) => Some(name.to_string_lossy().into_owned()),
                    _ => None,
                })
                .collect();
            if parts.last().is_some_and(|name| name == "results.json") {
                parts.pop();
            }
            parts.reverse();
            parts
        })
        .collect();
    let name = |i: usize, depth: usize| -> String {
        let mut taken: Vec<&str> = parts[i].iter().take(depth).map(String::as_str).collect();
        taken.reverse();
        if taken.is_empty() {
            "results".to_owned()
        } else {
            taken.join("/")
        }
    };
    let mut depth = vec![1; paths.len()];
    // Deepen every label that collides with another file's, until none does
    // or none can grow; the same file twice is numbered instead.
    loop {
        let current: Vec<String> = (0..paths.len()).map(|i| name(i, depth[i])).collect();
        let mut grew = false;
        for i in 0..paths.len() {
            let collides = (0..paths.len())
                .any(|k| k != i && current[k] == current[i] && parts[k] != parts[i]);
            if collides && depth[i] < parts[i].len() {
                depth[i] += 1;
                grew = true;
            }
        }
        if !grew {
            break;
        }
    }
    let mut labels: Vec<String> = Vec::new();
    for (i, depth) in depth.iter().enumerate() {
        let base = name(i, *depth);
        let mut label = base.clone();
        let mut n = 2;
        while labels.contains(&label) {
            label = format!("{base} ({n})");
            n += 1;
        }
        labels.push(label);
    }
    labels
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_folder_names_made_unique() {
        let labels = labels(&[
            PathBuf::from("/r/reference/results.json"),
            PathBuf::from("/r/vendor/results.json"),
        ]);
        assert_eq!(labels, ["reference", "vendor"]);
        let labels = super::labels(&[
            PathBuf::from("/a/run-1/reports/results.json"),
            PathBuf::from("/a/run-2/reports/results.json"),
            PathBuf::from("/a/other.json"),
        ]);
        assert_eq!(labels, ["run-1/reports", "run-2/reports", "other.json"]);
        let labels = super::labels(&[
            PathBuf::from("/a/x/results.json"),
            PathBuf::from("/a/x/results.json"),
        ]);
        assert_eq!(labels, ["x", "x (2)"]);
    }
}
