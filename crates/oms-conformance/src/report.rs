//! The reports of a run, in `--report-dir`: `results.json` (what judged the run,
//! its provenance; per rule: verdict, spec sentences, observed answers, the
//! redacted exchanges and `curl` lines behind a failure, the seed), `junit.xml`
//! (one testcase per scenario), `report.html` (one self-contained page),
//! `summary.md` (written by `crate::summary`), and the terminal summary ending
//! with the plain line `conformance: N passed, N failed, N inconclusive, N
//! skipped`. Cucumber's own JSON report is written by cucumber while the suite
//! runs.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::{Value, json};

use crate::config::Target;
/// Re-exported: `report::Run` is the path the crate's users name.
pub use crate::reported::Run;
use crate::reported::{closing_line, shown_verdict, verdict_of_run};
use crate::suite::LedgerEntry;
use crate::verdict::{self, RuleResult, ScenarioRecord, Verdict};

pub fn write_all(run: &Run<'_>) -> std::io::Result<()> {
    let dir = &run.config.report_dir;
    let results = serde_json::to_string_pretty(&results(run)).map_err(std::io::Error::other)?;
    std::fs::write(dir.join("results.json"), results + "\n")?;
    std::fs::write(dir.join("junit.xml"), junit(run))?;
    std::fs::write(dir.join("report.html"), html(run))?;
    std::fs::write(dir.join("summary.md"), crate::summary::markdown(run))?;
    let cucumber = dir.join("cucumber.json");
    if std::fs::metadata(&cucumber)
        .map(|m| m.len() == 0)
        .unwrap_or(true)
    {
        std::fs::write(&cucumber, "[]\n")?;
    }
    Ok(())
}

fn scenario_json(record: &ScenarioRecord) -> Value {
    let evidence = verdict::evidence(record);
    json!({
        "name": record.name,
        "spec": record.spec,
        "verdict": record.verdict,
        "reason": record.reason,
        "observed": record.observed,
        "duration_ms": record.duration_ms,
        "races": record.timelines,
        "exchanges": evidence.iter().map(|e| e.as_ref()).collect::<Vec<&crate::http::Exchange>>(),
        "curl": evidence.iter().map(|e| e.curl.clone()).collect::<Vec<_>>(),
    })
}

fn rule_json(run: &Run<'_>, rule: &RuleResult) -> Value {
    let entry = run.catalogue.rule(&rule.id);
    let sentences: Vec<Value> = entry
        .map(|r| r.basis.clone())
        .unwrap_or_default()
        .iter()
        .filter_map(|id| run.catalogue.sentence(id))
        .map(|s| json!({"id": s.id, "source": s.source, "text": s.text}))
        .collect();
    json!({
        "id": rule.id,
        "dialect": rule.dialect,
        "level": rule.level.as_str(),
        "verdict": rule.verdict,
        "binding": rule.binding,
        "rule": entry.map(|r| r.statement(rule.dialect)),
        "reference": entry.map(|r| r.reference.clone()),
        "spec": sentences,
        "observed": rule.observed,
        "known_failure": rule.known_failure,
        "seed": (rule.id == "OMS-DEL-009").then_some(run.config.seed),
        "scenarios": rule.scenarios.iter().map(scenario_json).collect::<Vec<_>>(),
    })
}

/// The `results.json` document.
pub fn results(run: &Run<'_>) -> Value {
    let j = run.judgement;
    json!({
        "kit": format!("{} {}", crate::provenance::KIT_NAME, crate::provenance::KIT_VERSION),
        "provenance": run.provenance,
        "target": match &run.config.target {
            Target::Embedded => "embedded reference server",
            Target::External(_) => "external",
            Target::Image(_) => "container image",
        },
        "base_url": run.base_url,
        "profile": run.config.profile_name,
        "apis": run.config.apis,
        "strict": run.config.strict,
        "seed": run.config.seed,
        "generated_malformed_ids": run.generated,
        "exit_code": j.exit_code,
        "summary": {
            "passed": j.passed,
            "failed": j.failed,
            "inconclusive": j.inconclusive,
            "skipped": j.skipped,
            "errors": j.errors,
        },
        "notes": j.notes,
        "rules": j.rules.iter().map(|r| rule_json(run, r)).collect::<Vec<_>>(),
        "expectations": run.config.expectations,
        "tasks_created": run.ledger.len(),
        "not_cleaned": run.ledger.iter().filter(|e| !e.cleaned).collect::<Vec<_>>(),
        "exchanges": run.exchanges,
        "duration_ms": run.duration_ms,
    })
}

/// `text` escaped for XML and HTML text and attributes, without the control
/// characters neither admits.
pub(crate) fn xml(text: &str) -> String {
    text.chars()
        .filter(|c| matches!(c, '\t' | '\n' | '\r') || !c.is_control())
        .collect::<String>()
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// JUnit XML: one testcase per scenario, named with its rule id. A failure is a
/// `<failure>`; an error, or an inconclusive binding rule, an `<error>`; skipped
/// scenarios, inconclusive SHOULD scenarios and known failures are `<skipped>`.
pub fn junit(run: &Run<'_>) -> String {
    let j = run.judgement;
    let records: Vec<(&RuleResult, &ScenarioRecord)> = j
        .rules
        .iter()
        .flat_map(|r| r.scenarios.iter().map(move |s| (r, s)))
        .collect();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"oms-conformance\" tests=\"{}\" time=\"{:.3}\">",
        records.len(),
        run.duration_ms as f64 / 1000.0
    );
    let failures = records
        .iter()
        .filter(|(r, s)| s.verdict == Verdict::Fail && r.known_failure.is_none())
        .count();
    let errors = records
        .iter()
        .filter(|(r, s)| {
            s.verdict == Verdict::Error || (s.verdict == Verdict::Inconclusive && r.binding)
        })
        .count();
    let skipped = records.len()
        - failures
        - errors
        - records
            .iter()
            .filter(|(_, s)| s.verdict == Verdict::Pass)
            .count();
    let _ = writeln!(
        out,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\">",
        xml(&format!("delete-task ({})", run.config.profile_name)),
        records.len()
    );
    for (rule, s) in records {
        let _ = write!(
            out,
            "    <testcase classname=\"{}.{}\" name=\"{}\" time=\"{:.3}\"",
            rule.dialect,
            xml(&rule.id),
            xml(&format!("{} {}: {}", rule.dialect, rule.id, s.name)),
            s.duration_ms as f64 / 1000.0
        );
        let reason = xml(s.reason.as_deref().unwrap_or_default());
        let body = match (s.verdict, rule.binding) {
            (Verdict::Pass, _) => None,
            (Verdict::Fail, _) => {
                let mut detail = s
                    .failure
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default();
                for timeline in &s.timelines {
                    detail.push_str(&timeline.to_string());
                }
                let detail = xml(&detail);
                match &rule.known_failure {
                    // Excused by the expectations file: not a failure of this run.
                    Some(known) => Some(format!(
                        "<skipped message=\"known failure: {}: {reason}\"/>",
                        xml(known)
                    )),
                    None => Some(format!("<failure message=\"{reason}\">{detail}</failure>")),
                }
            }
            (Verdict::Error, _) => Some(format!("<error message=\"{reason}\"/>")),
            (Verdict::Inconclusive, true) => Some(format!(
                "<error type=\"inconclusive\" message=\"inconclusive: {reason}\"/>"
            )),
            (Verdict::Inconclusive, false) => {
                Some(format!("<skipped message=\"inconclusive: {reason}\"/>"))
            }
            (Verdict::Skipped, _) => Some(format!("<skipped message=\"{reason}\"/>")),
        };
        match body {
            None => out.push_str("/>\n"),
            Some(body) => {
                let _ = writeln!(out, ">\n      {body}\n    </testcase>");
            }
        }
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

fn colour(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Pass => "#1a7f37",
        Verdict::Fail => "#cf222e",
        Verdict::Inconclusive => "#9a6700",
        Verdict::Skipped => "#6e7781",
        Verdict::Error => "#8250df",
    }
}

/// `report.html`: the rule table with verdict colours; each scenario that did not
/// pass unfolds its reason, the redacted exchanges and `curl` lines behind it.
pub fn html(run: &Run<'_>) -> String {
    let j = run.judgement;
    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>OMS conformance report</title>\n<style>\n");
    out.push_str(
        "body{font-family:system-ui,sans-serif;margin:2em;max-width:80em}table{border-collapse:collapse;width:100%}\
         td,th{border-bottom:1px solid #d0d7de;padding:.4em;text-align:left;vertical-align:top}\
         .v{color:#fff;border-radius:.3em;padding:.1em .5em;font-weight:600;font-size:.85em}\
         pre{background:#f6f8fa;padding:.6em;overflow-x:auto;white-space:pre-wrap}summary{cursor:pointer}\n",
    );
    out.push_str("</style></head><body>\n<h1>OMS delete-task conformance</h1>\n");
    let verdict_of_run = verdict_of_run(j.exit_code);
    let _ = writeln!(
        out,
        "<p><b>{}</b> (exit {}) · profile <code>{}</code> · target <code>{}</code>{} · seed <code>{}</code> · {} passed, {} failed, {} inconclusive, {} skipped, {} errors</p>",
        verdict_of_run,
        j.exit_code,
        xml(&run.config.profile_name),
        xml(run.base_url),
        if run.config.strict { " · strict" } else { "" },
        run.config.seed,
        j.passed,
        j.failed,
        j.inconclusive,
        j.skipped,
        j.errors
    );
    for note in &j.notes {
        let _ = writeln!(out, "<p>⚠ {}</p>", xml(note));
    }
    out.push_str("<table><tr><th>api</th><th>rule</th><th>level</th><th>verdict</th><th>rule and scenarios</th><th>observed</th></tr>\n");
    for rule in &j.rules {
        let entry = run.catalogue.rule(&rule.id);
        let _ = write!(
            out,
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td><span class=\"v\" style=\"background:{}\">{}</span>{}</td><td>{}<br><small>{}</small>",
            rule.dialect,
            xml(&rule.id),
            rule.level.as_str(),
            colour(rule.verdict),
            shown_verdict(rule),
            if rule.known_failure.is_some() {
                " <small>(known)</small>"
            } else {
                ""
            },
            xml(entry.map(|r| r.statement(rule.dialect)).unwrap_or_default()),
            xml(&entry.map(|r| r.basis.join(", ")).unwrap_or_default()),
        );
        for s in &rule.scenarios {
            if s.verdict == Verdict::Pass && s.timelines.is_empty() {
                let _ = write!(out, "<div>✔ {}</div>", xml(&s.name));
                continue;
            }
            if s.verdict == Verdict::Pass {
                // A race that passed still shows how it went.
                let _ = write!(out, "<details><summary>✔ {}</summary>", xml(&s.name));
                for timeline in &s.timelines {
                    let _ = write!(out, "<pre>{}</pre>", xml(&timeline.to_string()));
                }
                out.push_str("</details>");
                continue;
            }
            let _ = write!(
                out,
                "<details><summary><span class=\"v\" style=\"background:{}\">{}</span> {}</summary><p>{}</p>",
                colour(s.verdict),
                s.verdict.as_str(),
                xml(&s.name),
                xml(s.reason.as_deref().unwrap_or_default())
            );
            for timeline in &s.timelines {
                let _ = write!(out, "<pre>{}</pre>", xml(&timeline.to_string()));
            }
            for exchange in verdict::evidence(s) {
                let _ = write!(
                    out,
                    "<pre>{}</pre><pre>{}</pre>",
                    xml(&exchange.render()),
                    xml(&exchange.curl)
                );
            }
            out.push_str("</details>");
        }
        let _ = writeln!(out, "</td><td>{}</td></tr>", xml(&rule.observed.join(", ")));
    }
    out.push_str("</table>\n");
    let not_cleaned: Vec<&LedgerEntry> = run.ledger.iter().filter(|e| !e.cleaned).collect();
    if !not_cleaned.is_empty() {
        out.push_str("<h2>Tasks not cleaned up</h2><ul>");
        for entry in not_cleaned {
            let _ = write!(
                out,
                "<li>{} project, task {}: {}</li>",
                xml(&entry.project),
                entry.id,
                xml(entry.note.as_deref().unwrap_or_default())
            );
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</body></html>\n");
    out
}

/// The end of the terminal output: a line per rule, notes, then the plain line.
pub fn print_summary(run: &Run<'_>) {
    let j = run.judgement;
    say!();
    for rule in &j.rules {
        let observed = if rule.observed.is_empty() {
            String::new()
        } else {
            format!("  [{}]", rule.observed.join(", "))
        };
        say!(
            "{:<12} {} {} {:<6}{}{}",
            shown_verdict(rule),
            rule.dialect,
            rule.id,
            rule.level.as_str(),
            if rule.known_failure.is_some() {
                " (known failure)"
            } else {
                ""
            },
            observed
        );
    }
    for entry in run.ledger.iter().filter(|e| !e.cleaned) {
        say!(
            "not cleaned: {} project, task {}: {}",
            entry.project,
            entry.id,
            entry.note.as_deref().unwrap_or_default()
        );
    }
    for note in &j.notes {
        say!("note: {note}");
    }
    say!("reports: {}", display(&run.config.report_dir));
    say!("{}", closing_line(j));
}

fn display(path: &Path) -> String {
    path.display().to_string()
}
