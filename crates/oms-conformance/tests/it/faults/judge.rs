//! The judgement of one run of the matrix, in both directions: every fault
//! makes its own rules fail in each dialect it applies to (and the reference
//! run is clean, the strict re-runs exit 1; a fault only strict mode catches
//! passes its rule in default mode), and every MUST rule of each
//! dialect fails under some fault. Every problem is one line naming its cell
//! (run, fault, mode, dialect, rule, verdict), with the reasons of the
//! scenarios that did not pass.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use oms_reference_server::faults::Fault;
use serde_json::Value;

use super::plan::{MUST_FAIL, Mode, conformant_in, dialects, must_fail, row, strict_only};
use super::runner::Outcome;

/// The verdicts a rule may have in the reference run. Measured against the
/// faithful server with these arguments: every rule of both dialects passes (its
/// `results.json` has 70 scenarios passed and 9 skipped, the AK/SK-only ones, but
/// every rule has a scenario that runs, so no rule is `skipped`).
const REFERENCE_VERDICTS: &[&str] = &["pass"];

/// Whether every rule a fault must break is SHOULD-level (the run is then
/// conformant in default mode: exit 0).
fn should_only(fault: Option<Fault>, rules: &[(String, String, String)]) -> bool {
    must_fail(fault).iter().all(|id| {
        rules
            .iter()
            .any(|(_, rule, level)| rule == id && level == "SHOULD")
    })
}

/// Whether a verdict is one whose scenarios say why.
fn troubled(verdict: &str) -> bool {
    matches!(verdict, "fail" | "inconclusive" | "error")
}

/// `text` on one line, cut at `max` characters.
fn one_line(text: &str, max: usize) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None => line,
    }
}

/// A judged rule of `results.json` in one line, and for a failing, inconclusive
/// or erroring rule one more line per scenario that did not pass, with its
/// reason: `v1 OMS-DEL-003 (MUST) · verdict fail` then `    fail «name»: reason`.
fn describe(dialect: &str, id: &str, judged: &Value) -> String {
    let verdict = judged["verdict"].as_str().unwrap_or("absent");
    let level = judged["level"].as_str().unwrap_or("?");
    let mut text = format!("{dialect} {id} ({level}) · verdict {verdict}");
    if troubled(verdict) {
        let scenarios = judged["scenarios"].as_array().cloned().unwrap_or_default();
        let mut passed = 0;
        for scenario in &scenarios {
            let verdict = scenario["verdict"].as_str().unwrap_or("?");
            if verdict == "pass" {
                passed += 1;
                continue;
            }
            let _ = write!(
                text,
                "\n        {verdict} «{}»: {}",
                scenario["name"].as_str().unwrap_or("?"),
                scenario["reason"]
                    .as_str()
                    .map_or_else(|| "no reason given".to_owned(), |r| one_line(r, 400))
            );
        }
        if passed > 0 {
            let _ = write!(text, "\n        ({passed} other scenario(s) passed)");
        }
    }
    text
}

/// The head of every problem line of one job: `run k/N · fault <row> · mode <mode>`.
fn head(run: &str, o: &Outcome) -> String {
    format!(
        "run {run} · fault {} · mode {}",
        row(o.fault),
        o.job().mode_text()
    )
}

/// A problem with one cell: its head, the rule as judged, what was expected.
fn cell_problem(head: &str, o: &Outcome, dialect: &str, id: &str, expected: &str) -> String {
    let judged = o.rule(dialect, id);
    let described = describe(dialect, id, &judged);
    let (first, rest) = described.split_once('\n').unwrap_or((&described, ""));
    let mut line = format!("{head} · {first}, expected {expected}");
    if !rest.is_empty() {
        line.push('\n');
        line.push_str(rest);
    }
    line
}

/// An unexpected exit: the rules of that run whose verdict is fail, inconclusive
/// or error, each described.
fn exit_problem(head: &str, o: &Outcome, expected: i32) -> String {
    let mut line = format!("{head} · exit {}, expected {expected}", o.exit_text());
    let troubled_rules: Vec<String> = o
        .verdicts()
        .into_iter()
        .filter(|(_, verdict)| troubled(verdict))
        .map(|((dialect, id), _)| describe(&dialect, &id, &o.rule(&dialect, &id)))
        .collect();
    if troubled_rules.is_empty() {
        line.push_str("; no rule is fail, inconclusive or error");
    } else {
        line.push_str("; the rules that are fail, inconclusive or error:");
        for rule in troubled_rules {
            let _ = write!(line, "\n    {rule}");
        }
    }
    line
}

/// The cells of `o` in `dialects` whose verdict is not `reference`'s (the
/// faithful server's run in the same mode): an allowed behaviour judged wrong.
fn unlike_reference(
    head: &str,
    o: &Outcome,
    reference: Option<&Outcome>,
    dialects: &[&str],
) -> Vec<String> {
    let Some(reference) = reference else {
        return vec![format!(
            "{head} · no reference run of this mode to compare with"
        )];
    };
    o.unlike(reference, dialects)
        .into_iter()
        .map(|((dialect, id), verdict)| {
            let expected = format!("{verdict}, as in the reference run (an allowed behaviour)");
            cell_problem(head, o, &dialect, &id, &expected)
        })
        .collect()
}

/// Whether `fault` is allowed in both dialects (its run must then be clean).
fn allowed_everywhere(fault: Option<Fault>) -> bool {
    ["v1", "v2"]
        .iter()
        .all(|d| conformant_in(fault).contains(d))
}

/// Every problem of one run of the matrix (`run`: `k/N`), each naming its cell.
pub(super) fn judge(
    run: &str,
    outcomes: &[Outcome],
    rules: &[(String, String, String)],
) -> Vec<String> {
    let mut problems = Vec::new();
    if rules.is_empty() {
        problems.push(format!("run {run} · no run wrote a readable results.json"));
    }
    let level_of = |id: &str| {
        rules
            .iter()
            .find(|(_, r, _)| r == id)
            .map(|(_, _, l)| l.clone())
            .unwrap_or_default()
    };
    for o in outcomes {
        let head = head(run, o);
        let watched = match &o.watched {
            Ok(watched) => watched,
            Err(panic) => {
                problems.push(format!("{head} · the job panicked: {panic}"));
                continue;
            }
        };
        if o.results.is_none() {
            problems.push(format!(
                "{head} · no readable results.json in {}\n{}",
                watched.ran.report_dir.display(),
                watched.ran.explain()
            ));
            continue;
        }
        let must = must_fail(o.fault);
        let reference = outcomes
            .iter()
            .find(|r| r.fault.is_none() && r.mode == o.mode);
        let allowed = conformant_in(o.fault);
        if o.fault.is_some() && !allowed.is_empty() {
            problems.extend(unlike_reference(&head, o, reference, allowed));
        }
        match o.mode {
            Mode::Default if o.fault.is_none() => {
                // The faithful server: a clean run, every rule as measured.
                if o.code() != Some(0) {
                    problems.push(exit_problem(&head, o, 0));
                }
                let verdicts = o.verdicts();
                if verdicts.is_empty() {
                    problems.push(format!("{head} · results.json judged no rule"));
                }
                for ((dialect, id), verdict) in verdicts {
                    if !REFERENCE_VERDICTS.contains(&verdict.as_str()) {
                        let expected = REFERENCE_VERDICTS.join(" or ");
                        problems.push(cell_problem(&head, o, &dialect, &id, &expected));
                    }
                }
            }
            Mode::StrictAll => {
                // The reference, or an allowed behaviour judged like it above
                // (its exit only where it is allowed in every dialect).
                if (o.fault.is_none() || allowed_everywhere(o.fault)) && o.code() != Some(0) {
                    problems.push(exit_problem(&head, o, 0));
                }
                if o.fault.is_none() {
                    for ((dialect, id), verdict) in o.verdicts() {
                        if !REFERENCE_VERDICTS.contains(&verdict.as_str()) {
                            let expected = REFERENCE_VERDICTS.join(" or ");
                            problems.push(cell_problem(&head, o, &dialect, &id, &expected));
                        }
                    }
                }
                for dialect in dialects(o.fault) {
                    for rule in must {
                        if o.rule(dialect, rule)["verdict"] != "fail" {
                            problems.push(cell_problem(&head, o, dialect, rule, "fail"));
                        }
                    }
                }
            }
            Mode::Default if must.is_empty() => {
                // Allowed everywhere: as clean as the reference run. Allowed
                // in one dialect only, its exit depends on the other's cells.
                if allowed_everywhere(o.fault) && o.code() != Some(0) {
                    problems.push(exit_problem(&head, o, 0));
                }
            }
            Mode::Default if strict_only(o.fault) => {
                // Its rule allows what it does: a clean run, the rule passing.
                if o.code() != Some(0) {
                    problems.push(exit_problem(&head, o, 0));
                }
                for dialect in dialects(o.fault) {
                    for rule in must {
                        if o.rule(dialect, rule)["verdict"] != "pass" {
                            let expected = "pass (only strict mode catches this fault)";
                            problems.push(cell_problem(&head, o, dialect, rule, expected));
                        }
                    }
                }
            }
            Mode::Default => {
                let expected_exit = if should_only(o.fault, rules) { 0 } else { 1 };
                if o.code() != Some(expected_exit) {
                    problems.push(exit_problem(&head, o, expected_exit));
                }
                for dialect in dialects(o.fault) {
                    for rule in must {
                        if o.rule(dialect, rule)["verdict"] != "fail" {
                            problems.push(cell_problem(&head, o, dialect, rule, "fail"));
                        }
                    }
                }
                if expected_exit == 0 {
                    // Confined to its SHOULD behaviour: no MUST rule fails.
                    for ((dialect, id), verdict) in o.verdicts() {
                        if verdict == "fail" && level_of(&id) == "MUST" {
                            let expected = "no MUST rule failing under a SHOULD-level fault";
                            problems.push(cell_problem(&head, o, &dialect, &id, expected));
                        }
                    }
                    for dialect in dialects(o.fault) {
                        if o.rule(dialect, must[0])["binding"] != false {
                            let expected = "not binding (a SHOULD rule, default mode)";
                            problems.push(cell_problem(&head, o, dialect, must[0], expected));
                        }
                    }
                }
            }
            Mode::Strict => {
                if o.code() != Some(1) {
                    problems.push(exit_problem(&head, o, 1));
                }
                for dialect in dialects(o.fault) {
                    if o.rule(dialect, must[0])["verdict"] != "fail" {
                        problems.push(cell_problem(&head, o, dialect, must[0], "fail"));
                    }
                }
            }
        }
    }
    // The other direction: every MUST rule of each dialect is some fault's own
    // rule (so the assertions above prove it can fail), and did fail in this run.
    let designated: BTreeSet<&str> = MUST_FAIL
        .iter()
        .flat_map(|(_, rules)| rules.iter().copied())
        .collect();
    let under_faults: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| o.mode == Mode::Default && o.fault.is_some())
        .collect();
    for (dialect, id, level) in rules {
        if level != "MUST" {
            continue;
        }
        let head =
            format!("run {run} · fault (every fault) · mode default · {dialect} {id} (MUST)");
        if !designated.contains(id.as_str()) {
            problems.push(format!(
                "{head} · in no row of MUST_FAIL: nothing proves it can fail"
            ));
        }
        let key = (dialect.clone(), id.clone());
        let seen = tally(under_faults.iter().map(|o| o.verdicts().get(&key).cloned()));
        if !seen.contains_key("fail") {
            problems.push(format!(
                "{head} · failed under no fault, expected fail under at least one; verdicts over the faults: {}",
                counts_text(&seen)
            ));
        }
    }
    problems
}

/// How often each verdict (or exit) came; `absent` counts those that had none.
pub(super) fn tally(seen: impl IntoIterator<Item = Option<String>>) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for verdict in seen {
        *counts
            .entry(verdict.unwrap_or("absent".to_owned()))
            .or_default() += 1;
    }
    counts
}

/// Verdict counts, most frequent first: `fail 18, pass 2`.
pub(super) fn counts_text(counts: &BTreeMap<String, usize>) -> String {
    let mut sorted: Vec<(&String, &usize)> = counts.iter().collect();
    sorted.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    sorted
        .iter()
        .map(|(verdict, n)| format!("{verdict} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}
