//! `summary.md`: the run in Markdown, complete on its own, for a CI job's page
//! (GitHub's `$GITHUB_STEP_SUMMARY` takes it as it is): the verdict line with
//! the exit status's meaning, what judged the run, the rule table (rule,
//! dialect, verdict, level, observed answers), why each rule that could not be
//! judged was not, and for each failed rule its first failing expectation with
//! the redacted exchanges and their `curl` reproducers. Capped at [`CAP`] bytes: GitHub refuses a step summary over
//! 1 MiB ("each step is restricted to a maximum size of 1MiB", GitHub Docs,
//! "Workflow commands for GitHub Actions", Step isolation and limits), so the
//! failure details are cut first, with a line saying how many were left out;
//! the verdict line, the table and the lines of the rules not judged are never
//! cut (each of their cells and lines is bounded, and there is one a rule, so
//! they always fit). Every text from the target or a file is escaped: a cell
//! cannot break the table, a code block cannot end its fence early.

use std::fmt::Write as _;

use crate::markdown::{self, code_block, inline};
use crate::reported::{Run, closing_line, short, shown_verdict, verdict_of_run};
use crate::verdict::{self, RuleResult, ScenarioRecord, Verdict};

/// The most bytes `summary.md` takes: a quarter of GitHub's 1 MiB a step, so
/// that the step can add its own lines and even a count in UTF-16 code units
/// stays under half the limit.
pub const CAP: usize = 256 * 1024;
/// The most characters of a table cell's observed answers, and of one answer.
const ANSWERS_CAP: usize = 300;
const ANSWER_CAP: usize = 60;
/// The most characters of one note or expectation line.
const LINE_CAP: usize = 2000;
/// The most notes, uncleaned tasks, exchanges and timelines shown of each.
const NOTES_SHOWN: usize = 20;
const NOT_CLEANED_SHOWN: usize = 10;
const EXCHANGES_SHOWN: usize = 3;
const TIMELINES_SHOWN: usize = 2;
/// Room kept below the cap for the line saying what was left out.
const LEFT_OUT_LINE: usize = 600;

/// What each exit status means (the README's table of exit codes).
fn exit_meaning(exit_code: u8) -> &'static str {
    match exit_code {
        0 => "every MUST rule passed (SHOULD rules too, with --strict)",
        1 => "a MUST rule failed (or a SHOULD rule with --strict), or an expectation expired",
        _ => {
            "could not judge: a bad option or profile, an unreachable target, nothing ran, \
             or a MUST rule inconclusive or in error"
        }
    }
}

/// `summary.md` of a run, at most [`CAP`] bytes.
pub fn markdown(run: &Run<'_>) -> String {
    let head = head(run);
    let failed: Vec<&RuleResult> = failed_rules(run);
    if failed.is_empty() {
        return head;
    }
    let mut out = head;
    let _ = writeln!(out, "## Failures\n");
    let mut shown = 0;
    for rule in &failed {
        let section = failure_section(rule);
        if out.len() + section.len() + LEFT_OUT_LINE > CAP {
            break;
        }
        out.push_str(&section);
        shown += 1;
    }
    if shown < failed.len() {
        let _ = writeln!(
            out,
            "_The details of {} of the {} failed rules are left out, to keep this summary under {} KiB \
             (GitHub takes at most 1 MiB a step): `report.html` and `results.json` hold them._",
            failed.len() - shown,
            failed.len(),
            CAP / 1024
        );
    }
    out
}

/// The verdict line, what judged the run, notes, the rule table and the rules
/// not judged: never cut.
fn head(run: &Run<'_>) -> String {
    let j = run.judgement;
    let config = run.config;
    let p = run.provenance;
    let mut out = String::new();
    let _ = writeln!(out, "# OMS conformance: {}\n", verdict_of_run(j.exit_code));
    let _ = writeln!(out, "{}\n", closing_line(j));
    let _ = writeln!(
        out,
        "**Exit {}**: {}.\n",
        j.exit_code,
        exit_meaning(j.exit_code)
    );
    let dialects: Vec<&str> = config.apis.iter().map(|d| d.as_str()).collect();
    let _ = writeln!(
        out,
        "Target {} · profile {} · api {} · seed {}{} · {} {} · catalogue {} · features {} · profile digest {} (SHA-256, first 12 digits; `results.json` has them whole)\n",
        inline(run.base_url, LINE_CAP),
        inline(&config.profile_name, LINE_CAP),
        dialects.join(", "),
        config.seed,
        if config.strict { " · strict" } else { "" },
        inline(&p.kit.name, LINE_CAP),
        inline(&p.kit.version, LINE_CAP),
        short(&p.catalogue.sha256),
        short(&p.features.sha256),
        short(&p.profile.sha256),
    );
    for note in j.notes.iter().take(NOTES_SHOWN) {
        let _ = writeln!(out, "- note: {}", inline(note, LINE_CAP));
    }
    if j.notes.len() > NOTES_SHOWN {
        let _ = writeln!(
            out,
            "- and {} more notes (`results.json`)",
            j.notes.len() - NOTES_SHOWN
        );
    }
    let not_cleaned: Vec<_> = run.ledger.iter().filter(|e| !e.cleaned).collect();
    for entry in not_cleaned.iter().take(NOT_CLEANED_SHOWN) {
        let _ = writeln!(
            out,
            "- not cleaned up: {} project, task {} ({}): {}",
            inline(&entry.project, ANSWERS_CAP),
            entry.id,
            entry.dialect,
            inline(entry.note.as_deref().unwrap_or_default(), LINE_CAP)
        );
    }
    if not_cleaned.len() > NOT_CLEANED_SHOWN {
        let _ = writeln!(
            out,
            "- and {} more tasks not cleaned up (`results.json`)",
            not_cleaned.len() - NOT_CLEANED_SHOWN
        );
    }
    if !j.notes.is_empty() || !not_cleaned.is_empty() {
        out.push('\n');
    }
    let rows = j.rules.iter().map(|rule| {
        vec![
            inline(&rule.id, ANSWERS_CAP),
            rule.dialect.to_string(),
            verdict_cell(rule),
            rule.level.as_str().to_owned(),
            answers_cell(&rule.observed),
        ]
    });
    markdown::table(
        &mut out,
        &["rule", "dialect", "verdict", "level", "observed answers"],
        rows,
    );
    out.push('\n');
    not_judged(run, &mut out);
    out
}

/// A line for each rule that could not be judged (inconclusive or in error):
/// its first such scenario and why, which is what an exit status of 2 rests on.
/// One bounded line a rule, so this part is never cut either.
fn not_judged(run: &Run<'_>, out: &mut String) {
    let rules: Vec<&RuleResult> = run
        .judgement
        .rules
        .iter()
        .filter(|r| matches!(r.verdict, Verdict::Inconclusive | Verdict::Error))
        .collect();
    if rules.is_empty() {
        return;
    }
    out.push_str("## Not judged\n\n");
    for rule in rules {
        let scenario = rule.scenarios.iter().find(|s| s.verdict == rule.verdict);
        let _ = writeln!(
            out,
            "- {} ({}, {}): {}: {}",
            rule_name(rule, ANSWER_CAP),
            rule.level.as_str(),
            rule.verdict.as_str(),
            inline(scenario.map_or("", |s| s.name.as_str()), ANSWERS_CAP),
            inline(
                scenario
                    .and_then(|s| s.reason.as_deref())
                    .unwrap_or_default(),
                ANSWERS_CAP
            )
        );
    }
    out.push('\n');
}

/// A rule's verdict as its cell shows it: a failure that counts in bold, an
/// excused one marked.
fn verdict_cell(rule: &RuleResult) -> String {
    let shown = shown_verdict(rule);
    match (rule.verdict, &rule.known_failure) {
        (Verdict::Fail, Some(_)) => format!("{shown} (known failure)"),
        (Verdict::Fail, None) if rule.binding => format!("**{shown}**"),
        _ => shown.to_owned(),
    }
}

/// The observed answers of a rule, each cut to [`ANSWER_CAP`] characters and
/// all to [`ANSWERS_CAP`]: a target's error codes cannot swell the table.
fn answers_cell(observed: &[String]) -> String {
    if observed.is_empty() {
        return "–".to_owned();
    }
    let mut cell = String::new();
    for (i, answer) in observed.iter().enumerate() {
        let answer = inline(answer, ANSWER_CAP);
        if cell.len() + answer.len() > ANSWERS_CAP {
            let _ = write!(cell, " … and {} more", observed.len() - i);
            break;
        }
        if i > 0 {
            cell.push_str(", ");
        }
        cell.push_str(&answer);
    }
    cell
}

/// The failed rules: the failures that weigh on the exit status first, then
/// those of SHOULD rules outside strict mode and the known failures.
fn failed_rules<'a>(run: &Run<'a>) -> Vec<&'a RuleResult> {
    let failed = run
        .judgement
        .rules
        .iter()
        .filter(|r| r.verdict == Verdict::Fail);
    let (counting, others): (Vec<&RuleResult>, Vec<&RuleResult>) =
        failed.partition(|r| r.binding && r.known_failure.is_none());
    counting.into_iter().chain(others).collect()
}

/// One failed rule: its first failing scenario's expectation, the exchanges
/// behind it with their `curl` lines, and its race timelines.
fn failure_section(rule: &RuleResult) -> String {
    let failing: Vec<&ScenarioRecord> = rule
        .scenarios
        .iter()
        .filter(|s| s.verdict == Verdict::Fail)
        .collect();
    let mut out = String::new();
    let Some(first) = failing.first() else {
        return out;
    };
    let _ = writeln!(
        out,
        "### {} ({}): {}\n",
        rule_name(rule, ANSWERS_CAP),
        rule.level.as_str(),
        inline(&first.name, LINE_CAP)
    );
    if let Some(known) = &rule.known_failure {
        let _ = writeln!(
            out,
            "Known failure, excused by the expectations file: {}\n",
            inline(known, LINE_CAP)
        );
    }
    let expectation = first
        .failure
        .as_ref()
        .map(|f| f.expectation.as_str())
        .or(first.reason.as_deref())
        .unwrap_or("(no expectation recorded)");
    let _ = writeln!(out, "Expected: {}\n", inline(expectation, LINE_CAP));
    let evidence = verdict::evidence(first);
    for exchange in evidence.iter().take(EXCHANGES_SHOWN) {
        out.push_str(&code_block("text", &exchange.render()));
        out.push_str(&code_block("sh", &exchange.curl));
    }
    if evidence.len() > EXCHANGES_SHOWN {
        let _ = writeln!(
            out,
            "_{} behind this failure in `report.html`._\n",
            more(evidence.len() - EXCHANGES_SHOWN, "exchange")
        );
    }
    for timeline in first.timelines.iter().take(TIMELINES_SHOWN) {
        out.push_str(&code_block("text", &timeline.to_string()));
    }
    if first.timelines.len() > TIMELINES_SHOWN {
        let _ = writeln!(
            out,
            "_{} in `report.html`._\n",
            more(first.timelines.len() - TIMELINES_SHOWN, "race timeline")
        );
    }
    if failing.len() > 1 {
        let _ = writeln!(
            out,
            "_{} of this rule in `report.html`._\n",
            more(failing.len() - 1, "failing scenario")
        );
    }
    out
}

/// A rule as a line or heading names it: its dialect and id (cut to `id_cap`).
fn rule_name(rule: &RuleResult, id_cap: usize) -> String {
    format!("{} {}", rule.dialect, inline(&rule.id, id_cap))
}

/// `1 more thing`, `2 more things`.
fn more(n: usize, thing: &str) -> String {
    format!("{n} more {thing}{}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::catalogue::{self, Catalogue};
    use crate::check::CheckFailure;
    use crate::config::{Overrides, RunConfig};
    use crate::dialect::Dialect;
    use crate::http::{Exchange, Method, Received};
    use crate::provenance::Provenance;
    use crate::verdict::{Judgement, ScenarioKey};

    fn config(catalogue: &Catalogue) -> RunConfig {
        RunConfig::resolve(
            Overrides {
                seed: Some(7),
                now_unix: 1_795_824_000,
                ..Overrides::default()
            },
            catalogue,
        )
        .expect("the built-in profile resolves")
    }

    fn provenance(config: &RunConfig) -> Provenance {
        Provenance::new(
            catalogue::embedded_text(),
            "built-in",
            &[],
            &config.profile_name,
            &config.profile_as_used,
        )
    }

    /// An exchange whose answer body is `body`.
    fn exchange(body: &str) -> Arc<Exchange> {
        Arc::new(Exchange {
            seq: 1,
            method: Method::Delete,
            url: "http://127.0.0.1:1/x/1".to_owned(),
            raw: false,
            request_headers: vec![("x-auth-token".to_owned(), "***".to_owned())],
            request_body: None,
            elapsed_ms: 3,
            response: Some(Received {
                status: 200,
                headers: vec![("content-type".to_owned(), "text/plain".to_owned())],
                body: body.to_owned(),
                body_len: body.len(),
                body_truncated: false,
                json: None,
            }),
            error: None,
            curl: format!("curl -X DELETE 'http://127.0.0.1:1/{}'", "9".repeat(9000)),
        })
    }

    /// A judgement in which every rule of both dialects failed, each with
    /// five huge exchanges, huge answers and expectations full of Markdown.
    fn everything_failed(catalogue: &Catalogue) -> Judgement {
        let huge = format!("```` | <b>{}", "x|`".repeat(30_000));
        let mut rules = Vec::new();
        for dialect in [Dialect::V1, Dialect::V2] {
            for rule in catalogue.rules.iter().filter(|r| r.applies_to(dialect)) {
                let scenario = ScenarioRecord {
                    key: ScenarioKey {
                        file: "f".to_owned(),
                        line: 1,
                        dialect,
                    },
                    dialect,
                    rule: rule.id.clone(),
                    name: format!("scenario | of {} {}", rule.id, "n".repeat(5000)),
                    spec: vec![],
                    verdict: Verdict::Fail,
                    reason: Some(huge.clone()),
                    failure: Some(CheckFailure {
                        expectation: huge.clone(),
                        evidence: (0..5).map(|_| exchange(&huge)).collect(),
                    }),
                    observed: vec![],
                    duration_ms: 1,
                    timelines: vec![],
                };
                rules.push(RuleResult {
                    id: rule.id.clone(),
                    dialect,
                    level: rule.level,
                    verdict: Verdict::Fail,
                    scenarios: vec![scenario.clone(), scenario],
                    observed: (0..200).map(|i| format!("5{i:02} {huge}")).collect(),
                    known_failure: None,
                    binding: true,
                });
            }
        }
        let failed = rules.len() * 2;
        Judgement {
            rules,
            passed: 0,
            failed,
            inconclusive: 0,
            skipped: 0,
            errors: 0,
            exit_code: 1,
            notes: (0..50).map(|_| huge.clone()).collect(),
        }
    }

    #[test]
    fn many_huge_failures_stay_under_the_cap_with_the_verdict_line_and_the_table_whole() {
        let catalogue = Catalogue::embedded().unwrap();
        let config = config(&catalogue);
        let judgement = everything_failed(&catalogue);
        let provenance = provenance(&config);
        let run = Run {
            config: &config,
            catalogue: &catalogue,
            judgement: &judgement,
            provenance: &provenance,
            ledger: &[],
            base_url: "http://127.0.0.1:1",
            generated: &[],
            exchanges: 0,
            duration_ms: 1,
        };
        let summary = markdown(&run);
        assert!(summary.len() <= CAP, "{} bytes", summary.len());
        // The details fill the room there is: the cap, not a lesser limit, cut them.
        assert!(summary.len() > CAP - 64 * 1024, "{} bytes", summary.len());
        let lines: Vec<&str> = summary.lines().collect();
        let verdict_line = format!(
            "conformance: 0 passed, {} failed, 0 inconclusive, 0 skipped",
            judgement.failed
        );
        assert!(
            lines.contains(&verdict_line.as_str()),
            "{}",
            &summary[..2000]
        );
        assert!(summary.contains("**Exit 1**: a MUST rule failed"));
        // Every rule of both dialects has its row, with its five cells.
        let rows: Vec<&&str> = lines
            .iter()
            .filter(|l| l.starts_with("| OMS-DEL-"))
            .collect();
        assert_eq!(rows.len(), judgement.rules.len());
        for row in &rows {
            let cells = row.replace("\\|", "").matches('|').count();
            assert_eq!(cells, 6, "a row with other than five cells: {row}");
            assert!(row.len() < 1000, "an unbounded row: {} bytes", row.len());
        }
        // Some details were shown, the rest is said to be left out.
        assert!(summary.contains("## Failures"));
        assert!(summary.contains("### v1 OMS-DEL-001 (MUST): scenario \\| of OMS-DEL-001"));
        let left_out = lines
            .iter()
            .find(|l| l.starts_with("_The details of "))
            .expect("a line says what was left out");
        assert!(
            left_out.contains(&format!("of the {} failed rules", rows.len()))
                && left_out.contains("report.html"),
            "{left_out}"
        );
        // Every code block is closed: an opening fence of N backticks is
        // followed by a closing one of exactly N.
        let mut open: Option<&str> = None;
        for line in &lines {
            let ticks = line.len() - line.trim_start_matches('`').len();
            match open {
                None if ticks >= 3 => open = Some(&line[..ticks]),
                Some(fence) if *line == fence => open = None,
                _ => {}
            }
        }
        assert_eq!(open, None, "a code block is left open");
    }
}
