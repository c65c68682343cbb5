//! The plan of a run: every scenario of the features as a [`Planned`] (what
//! its tags and its `Rule:` say of it), and why one is not run
//! ([`skip_reason`]: not selected, or a rule or capability the profile
//! disables).

use cucumber::gherkin;

use super::features::dialect_of;
use crate::config::{CAPABILITIES, RunConfig};
use crate::dialect::Dialect;
use crate::verdict::{ScenarioKey, ScenarioRecord, Verdict};

/// A scenario of the suite, as the plan sees it: what the tags and the `Rule:`
/// say of it, read once by [`Planned::of`].
#[derive(Debug, Clone)]
pub struct Planned {
    /// Where it is written, and in which dialect it runs: its identity within
    /// the run.
    pub key: ScenarioKey,
    pub dialect: Dialect,
    pub feature_tags: Vec<String>,
    /// The `@OMS-DEL-…` tags of its `Rule:` (exactly one when the suite is tidy).
    pub rule_tags: Vec<String>,
    pub name: String,
    pub tags: Vec<String>,
    rule: String,
    spec: Vec<String>,
    whole_run: bool,
    serial: bool,
}

impl Planned {
    pub fn of(
        feature: &gherkin::Feature,
        rule: Option<&gherkin::Rule>,
        scenario: &gherkin::Scenario,
    ) -> Self {
        let rule_tags = rule.map(|r| r.tags.clone()).unwrap_or_default();
        let dialect = dialect_of(feature);
        Self {
            key: ScenarioKey {
                file: feature
                    .path
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
                line: scenario.position.line,
                dialect,
            },
            dialect,
            feature_tags: feature.tags.clone(),
            rule: rule_tags.first().cloned().unwrap_or_default(),
            rule_tags,
            name: scenario.name.clone(),
            spec: scenario
                .tags
                .iter()
                .filter_map(|t| t.strip_prefix("spec:"))
                .map(str::to_owned)
                .collect(),
            whole_run: scenario.tags.iter().any(|t| t == "whole-run"),
            serial: scenario.tags.iter().any(|t| t == "serial"),
            tags: scenario.tags.clone(),
        }
    }

    /// The catalogue rule: the first tag of its `Rule:`.
    pub fn rule(&self) -> &str {
        &self.rule
    }

    /// The spec sentences it cites (`@spec:…`).
    pub fn spec(&self) -> &[String] {
        &self.spec
    }

    /// Whether it runs alone (`@serial`).
    pub fn serial(&self) -> bool {
        self.serial
    }

    /// Whether it judges the whole run (`@whole-run`).
    pub fn whole_run(&self) -> bool {
        self.whole_run
    }

    /// Its record with `verdict`, before anything of a run is added to it.
    pub fn record(&self, verdict: Verdict, reason: Option<String>) -> ScenarioRecord {
        ScenarioRecord {
            key: self.key.clone(),
            dialect: self.dialect,
            rule: self.rule.clone(),
            name: self.name.clone(),
            spec: self.spec.clone(),
            verdict,
            reason,
            failure: None,
            observed: Vec::new(),
            duration_ms: 0,
            timelines: Vec::new(),
        }
    }

    /// Its record when it did not run (skipped, or cut short by the run's end).
    pub fn not_run(&self, verdict: Verdict, reason: String) -> ScenarioRecord {
        self.record(verdict, Some(reason))
    }
}

/// Every scenario of the features, in order.
pub fn plan(features: &[gherkin::Feature]) -> Vec<Planned> {
    let mut planned = Vec::new();
    for feature in features {
        for scenario in &feature.scenarios {
            planned.push(Planned::of(feature, None, scenario));
        }
        for rule in &feature.rules {
            for scenario in &rule.scenarios {
                planned.push(Planned::of(feature, Some(rule), scenario));
            }
        }
    }
    planned
}

/// Why a scenario is not run, if it is not: the reason is the profile's.
pub fn skip_reason(config: &RunConfig, scenario: &Planned) -> Option<String> {
    let rule = scenario.rule();
    if !config.only_rules.is_empty() && !config.only_rules.iter().any(|r| r == rule) {
        return Some("not selected (--rule)".to_owned());
    }
    if let Some(reason) = config.disabled_rules.get(rule) {
        return Some(format!("disabled in the profile: {reason}"));
    }
    for capability in CAPABILITIES {
        if scenario
            .tags
            .iter()
            .any(|t| t.strip_prefix("needs:") == Some(capability))
            && let Some(reason) = config.disabled_capabilities.get(capability)
        {
            return Some(format!("capability {capability} disabled: {reason}"));
        }
    }
    let needs_failing = scenario.tags.iter().any(|t| t == "needs:failing-task");
    let no_failing = config
        .bodies_for(scenario.dialect)
        .is_none_or(|set| set.failing.is_none());
    if needs_failing && no_failing {
        return Some(format!(
            "capability failing-task disabled: the profile names no {} create body for a failing task",
            scenario.dialect
        ));
    }
    None
}
