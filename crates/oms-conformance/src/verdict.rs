//! Verdicts: per scenario as recorded after it ran, per rule as aggregated here, and
//! the run's exit status. Known failures of the expectations file are applied here:
//! an excused failure does not count, a known failure that passes is reported, an
//! expired entry fails the run.

use std::sync::Arc;

use serde::Serialize;

use crate::catalogue::{Catalogue, Level};
use crate::check::CheckFailure;
use crate::config::{Expectation, RunConfig};
use crate::dialect::Dialect;
use crate::http::Exchange;
use crate::timeline::Timeline;

/// The outcome of a scenario or a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Fail,
    Inconclusive,
    Skipped,
    Error,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Fail => "fail",
            Self::Inconclusive => "inconclusive",
            Self::Skipped => "skipped",
            Self::Error => "error",
        }
    }
}

/// Where a scenario is written: its feature file and line. Unique within a run,
/// as each example of an outline has a line of its own.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ScenarioKey {
    pub file: String,
    pub line: usize,
    pub dialect: Dialect,
}

/// One scenario, as it ended.
#[derive(Debug, Clone)]
pub struct ScenarioRecord {
    /// The scenario's key in the plan (not reported).
    pub key: ScenarioKey,
    pub dialect: Dialect,
    pub rule: String,
    pub name: String,
    pub spec: Vec<String>,
    pub verdict: Verdict,
    /// Why it did not pass: the failed expectation, the precondition not reached,
    /// the error, or the reason it was skipped.
    pub reason: Option<String>,
    pub failure: Option<CheckFailure>,
    /// `STATUS` or `STATUS CODE` of the DELETE answers the scenario received,
    /// distinct and sorted.
    pub observed: Vec<String>,
    pub duration_ms: u64,
    /// The races the scenario ran (OMS-DEL-014, -024): every request of each,
    /// timed from its anchor.
    pub timelines: Vec<Timeline>,
}

/// One rule, over its scenarios.
#[derive(Debug, Clone)]
pub struct RuleResult {
    pub id: String,
    pub dialect: Dialect,
    pub level: Level,
    pub verdict: Verdict,
    pub scenarios: Vec<ScenarioRecord>,
    /// Distinct observed answers, sorted.
    pub observed: Vec<String>,
    /// The expectations-file entry that excuses this rule's failure, if any applies.
    pub known_failure: Option<String>,
    /// Whether the rule weighs like a MUST in this run (MUST, or SHOULD with `--strict`).
    pub binding: bool,
}

/// The judgement of a whole run.
#[derive(Debug, Clone)]
pub struct Judgement {
    pub rules: Vec<RuleResult>,
    pub passed: usize,
    pub failed: usize,
    pub inconclusive: usize,
    pub skipped: usize,
    pub errors: usize,
    pub exit_code: u8,
    /// Messages for the operator (known failures that passed, expired entries, why
    /// the run could not be judged).
    pub notes: Vec<String>,
}

/// Aggregates scenario records into rule verdicts and the exit status.
pub fn judge(catalogue: &Catalogue, config: &RunConfig, records: &[ScenarioRecord]) -> Judgement {
    let mut notes = Vec::new();
    let mut rules = Vec::new();
    // Per dialect judged, each rule that applies to it, in catalogue order.
    let judged = config.apis.iter().flat_map(|dialect| {
        catalogue
            .rules
            .iter()
            .filter(|rule| rule.applies_to(*dialect))
            .map(move |rule| (*dialect, rule))
    });
    for (dialect, rule) in judged {
        let scenarios: Vec<ScenarioRecord> = records
            .iter()
            .filter(|r| r.rule == rule.id && r.dialect == dialect)
            .cloned()
            .collect();
        let verdict = aggregate(scenarios.iter().map(|s| s.verdict));
        let mut observed: Vec<String> = scenarios
            .iter()
            .flat_map(|s| s.observed.iter().cloned())
            .collect();
        observed.sort();
        observed.dedup();
        let expectation = Expectation::find(&config.expectations, &rule.id, dialect);
        let mut known_failure = None;
        if let Some(e) = expectation {
            if e.expired {
                // Said once, however many dialects the rule is judged in.
                let note = format!(
                    "the expectation for {} expired on {}: review it ({})",
                    e.label(),
                    e.expires,
                    e.reason
                );
                if !notes.contains(&note) {
                    notes.push(note);
                }
            } else if verdict == Verdict::Fail {
                known_failure = Some(format!("{} (until {})", e.reason, e.expires));
            } else if verdict == Verdict::Pass {
                notes.push(format!(
                    "{} ({dialect}) is listed as a known failure but passed: remove its entry from the expectations file",
                    e.rule
                ));
            }
        }
        rules.push(RuleResult {
            id: rule.id.clone(),
            dialect,
            level: rule.level,
            verdict,
            scenarios,
            observed,
            known_failure,
            binding: rule.level == Level::Must || config.strict,
        });
    }

    let count = |v: Verdict| records.iter().filter(|r| r.verdict == v).count();
    let ran = records.iter().any(|r| r.verdict != Verdict::Skipped);
    let failing: Vec<&RuleResult> = rules
        .iter()
        .filter(|r| r.binding && r.verdict == Verdict::Fail && r.known_failure.is_none())
        .collect();
    let unjudged: Vec<&RuleResult> = rules
        .iter()
        .filter(|r| r.binding && matches!(r.verdict, Verdict::Inconclusive | Verdict::Error))
        .collect();
    let expired = config.expectations.iter().any(|e| e.expired);
    let exit_code = if !ran {
        notes
            .push("nothing was tested: every scenario was skipped or none was selected".to_owned());
        2
    } else if !failing.is_empty() || expired {
        1
    } else if !unjudged.is_empty() {
        notes.push(format!(
            "could not judge {}",
            unjudged
                .iter()
                .map(|r| format!("{} {} ({})", r.dialect, r.id, r.verdict.as_str()))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        2
    } else {
        0
    };
    Judgement {
        rules,
        passed: count(Verdict::Pass),
        failed: count(Verdict::Fail),
        inconclusive: count(Verdict::Inconclusive),
        skipped: count(Verdict::Skipped),
        errors: count(Verdict::Error),
        exit_code,
        notes,
    }
}

/// A rule fails if any scenario failed; otherwise it is in error, inconclusive,
/// passed or skipped, in that order of precedence.
fn aggregate(verdicts: impl Iterator<Item = Verdict>) -> Verdict {
    let all: Vec<Verdict> = verdicts.collect();
    for v in [
        Verdict::Fail,
        Verdict::Error,
        Verdict::Inconclusive,
        Verdict::Pass,
    ] {
        if all.contains(&v) {
            return v;
        }
    }
    Verdict::Skipped
}

/// The exchanges behind a failure, for the reports.
pub fn evidence(record: &ScenarioRecord) -> Vec<Arc<Exchange>> {
    record
        .failure
        .as_ref()
        .map(|f| f.evidence.clone())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_outweighs_everything() {
        use Verdict::*;
        assert_eq!(aggregate([Pass, Fail, Inconclusive].into_iter()), Fail);
        assert_eq!(aggregate([Pass, Inconclusive].into_iter()), Inconclusive);
        assert_eq!(aggregate([Pass, Error, Inconclusive].into_iter()), Error);
        assert_eq!(aggregate([Pass, Skipped].into_iter()), Pass);
        assert_eq!(aggregate([Skipped].into_iter()), Skipped);
        assert_eq!(aggregate(std::iter::empty()), Skipped);
    }
}
