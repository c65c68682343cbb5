//! The finished run as every report reads it ([`Run`]), and the words the
//! reports share: the run's verdict and closing line, a rule's shown
//! verdict, the scenario counts and a digest's short form. A leaf below
//! `report.rs`, `summary.rs` and `compare/`, so that none of them imports
//! another for these.

use crate::catalogue::Catalogue;
use crate::config::RunConfig;
use crate::provenance::Provenance;
use crate::suite::LedgerEntry;
use crate::verdict::{Judgement, RuleResult};

/// Everything the reports are made of.
#[derive(Debug)]
pub struct Run<'a> {
    pub config: &'a RunConfig,
    pub catalogue: &'a Catalogue,
    pub judgement: &'a Judgement,
    /// What judged the run: the kit, and the digests of its catalogue,
    /// features and profile.
    pub provenance: &'a Provenance,
    pub ledger: &'a [LedgerEntry],
    pub base_url: &'a str,
    pub generated: &'a [String],
    pub exchanges: usize,
    pub duration_ms: u64,
}

/// A rule's verdict as shown to a person: `not run` when `--rule` left it out.
pub(crate) fn shown_verdict(rule: &RuleResult) -> &'static str {
    if rule.scenarios.is_empty() {
        "not run"
    } else {
        rule.verdict.as_str()
    }
}

/// The run's verdict in words, by its exit status.
pub(crate) fn verdict_of_run(exit_code: u8) -> &'static str {
    match exit_code {
        0 => "conformant",
        1 => "not conformant",
        _ => "could not judge",
    }
}

/// The plain closing line of the terminal, `summary.md` and the logs: scenario
/// counts, those the kit could not run counted as inconclusive.
pub(crate) fn closing_line(j: &Judgement) -> String {
    format!(
        "conformance: {}",
        counts(j.passed, j.failed, j.inconclusive + j.errors, j.skipped)
    )
}

/// The scenario counts as the closing line and `compare` say them (a scenario
/// in error is counted as inconclusive).
pub(crate) fn counts<N: std::fmt::Display>(
    passed: N,
    failed: N,
    inconclusive: N,
    skipped: N,
) -> String {
    format!("{passed} passed, {failed} failed, {inconclusive} inconclusive, {skipped} skipped")
}

/// The first 12 hex digits of a digest.
pub(crate) fn short(digest: &str) -> String {
    digest.chars().take(12).collect()
}
