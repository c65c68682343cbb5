//! Writing the fault × rule matrix of one run: `kill-matrix.json` and
//! `kill-matrix.md` in `<target>/conformance/kill-matrix/`, written before
//! anything is judged, and the copy a failing run keeps
//! (`kill-matrix-failed-<unix-seconds>.{md,json}`); the marks and the table
//! head the stability report shares.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use oms_reference_server::faults::Fault;
use serde_json::{Value, json};

use super::plan::{Mode, conformant_in, dialects, must_fail, row, strict_only};
use super::runner::{Outcome, STATE_TIMEOUT, WORKERS};
use crate::support;

/// The target folder the binary was built in (it honours `CARGO_TARGET_DIR`).
fn target_dir() -> PathBuf {
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_oms-conformance"));
    binary
        .parent()
        .and_then(|profile| profile.parent())
        .map(PathBuf::from)
        .unwrap_or_else(|| support::root().join("target"))
}

/// The folder the matrix and its stability report are written to.
pub(super) fn matrix_dir() -> PathBuf {
    let dir = target_dir().join("conformance/kill-matrix");
    std::fs::create_dir_all(&dir).expect("kill-matrix folder");
    dir
}

/// The rule ids of `rules`, each once, in order, with its level.
pub(super) fn ids(rules: &[(String, String, String)]) -> Vec<(String, String)> {
    let mut ids: Vec<(String, String)> = Vec::new();
    for (_, id, level) in rules {
        if !ids.iter().any(|(known, _)| known == id) {
            ids.push((id.clone(), level.clone()));
        }
    }
    ids.sort();
    ids
}

fn short(rule: &str) -> &str {
    rule.strip_prefix("OMS-DEL-").unwrap_or(rule)
}

pub(super) fn cell(verdict: &str, own: bool) -> String {
    let mark = match verdict {
        "fail" => "✗",
        "pass" => "·",
        "inconclusive" => "?",
        "error" => "E",
        "skipped" => "–",
        _ => " ",
    };
    if own && verdict == "fail" {
        format!("**{mark}**")
    } else if own {
        format!("**{mark}** (expected ✗)")
    } else {
        mark.to_owned()
    }
}

/// The head of a matrix table: a column per rule (ˢ marks a SHOULD rule).
pub(super) fn table_head(columns: &[(String, String)]) -> String {
    let mut head = String::from("| fault | api | exit |");
    for (id, level) in columns {
        let _ = write!(
            head,
            " {}{} |",
            short(id),
            if level == "MUST" { "" } else { "ˢ" }
        );
    }
    head.push_str("\n|---|---|---|");
    head.push_str(&"---|".repeat(columns.len()));
    head.push('\n');
    head
}

/// Writes `kill-matrix.{json,md}` of one run (`run`: `k/N`) into `dir`.
pub(super) fn write_matrix(
    dir: &Path,
    outcomes: &[Outcome],
    rules: &[(String, String, String)],
    wall: Duration,
    run: &str,
) {
    let default_runs: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| o.mode == Mode::Default)
        .collect();
    let mut caught_by: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for (dialect, id, _) in rules {
        caught_by.insert(format!("{dialect} {id}"), Vec::new());
    }
    for outcome in &default_runs {
        let Some(fault) = outcome.fault else { continue };
        for ((dialect, rule), verdict) in outcome.verdicts() {
            if verdict == "fail"
                && let Some(faults) = caught_by.get_mut(&format!("{dialect} {rule}"))
            {
                faults.push(fault.name());
            }
        }
    }
    let must_catching_nothing: Vec<String> = rules
        .iter()
        .map(|(dialect, id, level)| (format!("{dialect} {id}"), level))
        .filter(|(key, level)| *level == "MUST" && caught_by[key].is_empty())
        .map(|(key, _)| key)
        .collect();

    let json = json!({
        "what": "the harness against the reference server with one fault each, and once with \
                 none (`fault` null, row `(none)`) (default mode, fixed seed, both dialects); \
                 verdict per rule and dialect; `must_fail` is the fault's own rule(s), which \
                 must fail in each of its `dialects`",
        "run": run,
        "seed": 7,
        "state_timeout": STATE_TIMEOUT,
        "workers": WORKERS,
        "wall_ms": u64::try_from(wall.as_millis()).unwrap_or(u64::MAX),
        "rules": rules.iter().map(|(dialect, id, level)| json!({"dialect": dialect, "id": id, "level": level})).collect::<Vec<_>>(),
        "faults": default_runs.iter().map(|o| {
            let verdicts = o.verdicts();
            let with = |v: &str| verdicts.iter().filter(|(_, x)| *x == v).map(|((d, r), _)| format!("{d} {r}")).collect::<Vec<_>>();
            let strict = outcomes.iter().find(|s| s.fault == o.fault && s.mode == Mode::Strict);
            json!({
                "fault": o.fault.map(Fault::name),
                "row": row(o.fault),
                "description": o.fault.map_or("the faithful reference server", Fault::description),
                "must_fail": must_fail(o.fault),
                "dialects": dialects(o.fault),
                "exit_code": o.code(),
                "panic": o.watched.as_ref().err(),
                "failed": with("fail"),
                "inconclusive": with("inconclusive"),
                "error": with("error"),
                "verdicts": verdicts.iter().map(|((d, r), v)| (format!("{d} {r}"), v.clone())).collect::<BTreeMap<_, _>>(),
                "wall_ms": o.watched.as_ref().ok().map(|w| u64::try_from(w.wall.as_millis()).unwrap_or(u64::MAX)),
                "peak_rss_kib": o.watched.as_ref().ok().map(|w| w.peak_rss_kib),
                "strict_own_rule_exit_code": strict.and_then(Outcome::code),
                "report_dir": o.watched.as_ref().ok().map(|w| w.ran.report_dir.display().to_string()),
            })
        }).collect::<Vec<_>>(),
        "caught_by": caught_by,
        "must_rules_catching_nothing": must_catching_nothing,
    });
    write_json(dir, "kill-matrix.json", &json);

    let columns = ids(rules);
    let mut md = String::from("# Kill matrix\n\n");
    let _ = writeln!(
        md,
        "The harness against the reference server with one fault each, and once with none (row `(none)`; \
         `--seed 7 --state-timeout {STATE_TIMEOUT}`, default mode, both dialects), {} runs in {:.1} s on {WORKERS} workers (run {run} of the matrix). \
         Written by `cargo test -p oms-conformance --test it faults::`.\n",
        outcomes.len(),
        wall.as_secs_f64()
    );
    md.push_str(
        "One row per fault and dialect. ✗ fail · pass ? inconclusive E error – skipped, blank: the rule does not apply to the dialect; \
         **bold**: the fault's own rule(s), which must fail in each dialect the fault applies to.\n\n",
    );
    md.push_str(&table_head(&columns));
    for o in &default_runs {
        let verdicts = o.verdicts();
        for dialect in ["v1", "v2"] {
            let applies = dialects(o.fault).contains(&dialect);
            let note = if conformant_in(o.fault).contains(&dialect) {
                " (allowed)"
            } else if applies {
                ""
            } else {
                " (n/a)"
            };
            let _ = write!(
                md,
                "| `{}` | {dialect}{note} | {} |",
                row(o.fault),
                o.exit_text()
            );
            for (id, _) in &columns {
                // A strict-only fault's own rule passes here: its strict run fails it.
                let own =
                    applies && !strict_only(o.fault) && must_fail(o.fault).contains(&id.as_str());
                let verdict = verdicts
                    .get(&(dialect.to_owned(), id.clone()))
                    .map(String::as_str)
                    .unwrap_or_default();
                let _ = write!(md, " {} |", cell(verdict, own));
            }
            md.push('\n');
        }
    }
    md.push_str("\nˢ SHOULD rule (never fails the run unless `--strict`). n/a: the fault bends nothing that dialect's rules read (see `ONLY_IN`); allowed: a behaviour the spec allows there, judged like the reference (see `CONFORMANT_IN`).\n\n");
    md.push_str("| api | rule | level | fails under |\n|---|---|---|---|\n");
    for (dialect, id, level) in rules {
        let faults = &caught_by[&format!("{dialect} {id}")];
        let _ = writeln!(
            md,
            "| {dialect} | {id} | {level} | {} |",
            if faults.is_empty() {
                "**nothing**".to_owned()
            } else {
                faults
                    .iter()
                    .map(|f| format!("`{f}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        );
    }
    let strict: Vec<&Outcome> = outcomes.iter().filter(|o| o.mode == Mode::Strict).collect();
    if !strict.is_empty() {
        md.push_str(
            "\nFaults whose own rule is SHOULD-level, run again with `--strict --rule <own rule>`:\n\n\
             | fault | rule | exit | verdict (v1) | verdict (v2) |\n|---|---|---|---|---|\n",
        );
        for o in strict {
            let own = must_fail(o.fault)[0];
            let _ = writeln!(
                md,
                "| `{}` | {own} | {} | {} | {} |",
                row(o.fault),
                o.exit_text(),
                o.rule("v1", own)["verdict"].as_str().unwrap_or("none"),
                o.rule("v2", own)["verdict"].as_str().unwrap_or("none")
            );
        }
    }
    allowed_table(&mut md, outcomes);
    std::fs::write(dir.join("kill-matrix.md"), md).expect("kill-matrix.md");
}

/// The allowed behaviours (`CONFORMANT_IN`): for each, in default mode and in
/// a strict run of every rule, its exit and how many of its cells in the
/// dialects where it is allowed differ from the reference run's.
fn allowed_table(md: &mut String, outcomes: &[Outcome]) {
    let find = |fault: Option<Fault>, mode: Mode| {
        outcomes.iter().find(|o| o.fault == fault && o.mode == mode)
    };
    let allowed: Vec<Fault> = Fault::ALL
        .iter()
        .copied()
        .filter(|&f| !conformant_in(Some(f)).is_empty())
        .collect();
    if allowed.is_empty() {
        return;
    }
    md.push_str(
        "\nAllowed behaviours, judged like the reference run in the dialects where the spec allows \
         them (exit · cells whose verdict differs from the reference run's in the same mode):\n\n\
         | behaviour | allowed in | default | strict (every rule) |\n|---|---|---|---|\n",
    );
    for fault in allowed {
        let dialects = conformant_in(Some(fault));
        let cells = |mode: Mode| match (find(Some(fault), mode), find(None, mode)) {
            (Some(o), Some(reference)) => {
                format!(
                    "{} · {}",
                    o.exit_text(),
                    o.unlike(reference, dialects).len()
                )
            }
            _ => "not run".to_owned(),
        };
        let _ = writeln!(
            md,
            "| `{}` | {} | {} | {} |",
            fault.name(),
            dialects.join(", "),
            cells(Mode::Default),
            cells(Mode::StrictAll)
        );
    }
}

/// Writes `json` pretty-printed, with a final newline, to `dir/name`.
pub(super) fn write_json(dir: &Path, name: &str, json: &Value) {
    std::fs::write(
        dir.join(name),
        serde_json::to_string_pretty(json).expect("json") + "\n",
    )
    .expect(name);
}

/// Copies the matrix just written to `kill-matrix-failed-<unix-seconds>` (with
/// `-run<k>` when the matrix is repeated, so two failing runs keep two copies)
/// and returns the two paths.
pub(super) fn keep_failed(dir: &Path, k: usize, runs: usize) -> Vec<PathBuf> {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let stem = if runs > 1 {
        format!("kill-matrix-failed-{seconds}-run{k}")
    } else {
        format!("kill-matrix-failed-{seconds}")
    };
    ["md", "json"]
        .iter()
        .map(|ext| {
            let copy = dir.join(format!("{stem}.{ext}"));
            if let Err(e) = std::fs::copy(dir.join(format!("kill-matrix.{ext}")), &copy) {
                eprintln!("kill matrix: could not keep {}: {e}", copy.display());
            }
            copy
        })
        .collect()
}
