//! The comparison itself: runs of the same kit and catalogue checked alike, a
//! [`Row`] per rule and dialect with each run's cell, and the [`Mark`] that
//! says how the runs differ.

use super::error::CompareError;
use super::results::{Judged, RunResults};

/// How a row's runs differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    Same,
    /// Only the observed answers differ.
    Answers,
    /// Some run did not judge the rule (not run, or not in its dialects), and
    /// the verdicts of those that did agree.
    Unjudged,
    /// The verdicts differ.
    Verdicts,
}

impl Mark {
    pub(super) fn symbol(self) -> &'static str {
        match self {
            Self::Same => " ",
            Self::Answers => "~",
            Self::Unjudged => "?",
            Self::Verdicts => "!",
        }
    }
}

/// One row: a rule in a dialect, and each run's cell.
#[derive(Debug, Clone)]
pub struct Row {
    pub id: String,
    pub dialect: String,
    pub level: String,
    /// Per run, in order; `None` where the run did not judge the dialect.
    pub cells: Vec<Option<Judged>>,
    pub mark: Mark,
}

/// The comparison of two or more runs.
#[derive(Debug, Clone)]
pub struct Comparison {
    pub runs: Vec<RunResults>,
    pub rows: Vec<Row>,
    /// Said once each on stderr and in the document.
    pub warnings: Vec<String>,
}

impl Comparison {
    /// Rows of each kind.
    pub fn count(&self, mark: Mark) -> usize {
        self.rows.iter().filter(|r| r.mark == mark).count()
    }
}

/// Compares runs: refuses (or, with `allow_mixed`, warns about) runs judged by
/// different kit versions or catalogues, warns about different features, and
/// builds a row per (rule, dialect) in the order the runs list them.
pub fn compare(runs: Vec<RunResults>, allow_mixed: bool) -> Result<Comparison, CompareError> {
    if runs.len() < 2 {
        return Err(CompareError::TooFew(runs.len()));
    }
    let mut warnings = Vec::new();
    let first = &runs[0];
    type Of = fn(&RunResults) -> &str;
    let checks: [(&'static str, Of, bool); 3] = [
        ("kit versions", |r| r.kit.as_str(), true),
        ("catalogues", |r| r.catalogue.as_str(), true),
        ("features", |r| r.features.as_str(), false),
    ];
    for (what, of, refused) in checks {
        let Some(other) = runs.iter().find(|r| of(r) != of(first)) else {
            continue;
        };
        if refused && !allow_mixed {
            return Err(CompareError::Mixed {
                what,
                first: first.path.display().to_string(),
                first_value: of(first).to_owned(),
                other: other.path.display().to_string(),
                other_value: of(other).to_owned(),
            });
        }
        let values: Vec<String> = runs
            .iter()
            .map(|r| format!("{} {}", r.label, of(r)))
            .collect();
        let consequence = if what == "features" {
            "a rule's verdicts may rest on different scenarios"
        } else {
            "compared anyway (--allow-mixed)"
        };
        warnings.push(format!(
            "warning: the runs were judged by different {what} ({}): {consequence}",
            values.join(", ")
        ));
    }
    let mut keys: Vec<(String, String, String)> = Vec::new();
    for run in &runs {
        for rule in &run.rules {
            if !keys
                .iter()
                .any(|(id, dialect, _)| *id == rule.id && *dialect == rule.dialect)
            {
                keys.push((rule.id.clone(), rule.dialect.clone(), rule.level.clone()));
            }
        }
    }
    let rows = keys
        .into_iter()
        .map(|(id, dialect, level)| {
            let cells: Vec<Option<Judged>> = runs
                .iter()
                .map(|run| {
                    run.rules
                        .iter()
                        .find(|r| r.id == id && r.dialect == dialect)
                        .cloned()
                })
                .collect();
            let mark = mark(&cells);
            Row {
                id,
                dialect,
                level,
                cells,
                mark,
            }
        })
        .collect();
    Ok(Comparison {
        runs,
        rows,
        warnings,
    })
}

/// How a row's cells differ: the verdicts of the runs that judged the rule
/// first, then whether every run judged it, then the answers.
fn mark(cells: &[Option<Judged>]) -> Mark {
    let judged: Vec<&Judged> = cells
        .iter()
        .flatten()
        .filter(|c| c.verdict != "not run")
        .collect();
    if judged.iter().any(|c| c.verdict != judged[0].verdict) {
        Mark::Verdicts
    } else if judged.len() < cells.len() && !judged.is_empty() {
        Mark::Unjudged
    } else if judged.iter().any(|c| c.observed != judged[0].observed) {
        Mark::Answers
    } else {
        Mark::Same
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judged(id: &str, verdict: &str, observed: &[&str]) -> Judged {
        Judged {
            id: id.to_owned(),
            dialect: "v1".to_owned(),
            level: "MUST".to_owned(),
            verdict: verdict.to_owned(),
            observed: observed.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn a_row_is_marked_by_how_its_runs_differ() {
        let pass = Some(judged("R", "pass", &["200"]));
        let pass_other = Some(judged("R", "pass", &["204"]));
        let fail = Some(judged("R", "fail", &["200"]));
        let not_run = Some(judged("R", "not run", &[]));
        assert_eq!(mark(&[pass.clone(), pass.clone()]), Mark::Same);
        assert_eq!(mark(&[pass.clone(), pass_other]), Mark::Answers);
        assert_eq!(mark(&[pass.clone(), fail.clone()]), Mark::Verdicts);
        assert_eq!(mark(&[pass.clone(), None]), Mark::Unjudged);
        assert_eq!(mark(&[pass.clone(), not_run.clone()]), Mark::Unjudged);
        // A verdict that differs outweighs a run that did not judge the rule.
        assert_eq!(mark(&[pass, fail, None]), Mark::Verdicts);
        assert_eq!(mark(&[not_run.clone(), not_run]), Mark::Same);
    }
}
