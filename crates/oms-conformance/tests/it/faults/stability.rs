//! The stability report over repeated runs of the matrix
//! (`OMS_KILL_MATRIX_RUNS=N`): what each run keeps (`Record`), and
//! `kill-matrix-stability.{json,md}`, each cell's verdict counts over the runs,
//! the cells that ever differed from their usual verdict, and per fault the
//! runs that caught its own rules.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use oms_reference_server::faults::Fault;
use serde_json::json;

use super::judge::{counts_text, tally};
use super::matrix::{cell, ids, table_head, write_json};
use super::plan::{Job, Mode, dialects, must_fail, row, strict_only};
use super::runner::Outcome;

/// A row of the stability report: the fault's row name, ` --strict` for the
/// strict re-run.
fn stability_row(fault: Option<Fault>, mode: Mode) -> String {
    match mode {
        Mode::Default => row(fault).to_owned(),
        Mode::Strict => format!("{} --strict", row(fault)),
        Mode::StrictAll => format!("{} --strict (every rule)", row(fault)),
    }
}

/// What the stability report keeps of one run of the matrix.
#[derive(Debug, Default)]
pub(super) struct Record {
    /// (row, dialect, rule) → verdict.
    verdicts: BTreeMap<(String, String, String), String>,
    /// row → exit code (`panic` for a job that panicked).
    exits: BTreeMap<String, String>,
    /// fault → whether its own rules failed in each dialect it applies to.
    caught: BTreeMap<&'static str, bool>,
}

impl Record {
    pub(super) fn of(outcomes: &[Outcome]) -> Self {
        let mut record = Record::default();
        for o in outcomes {
            let name = stability_row(o.fault, o.mode);
            record.exits.insert(name.clone(), o.exit_text());
            for ((dialect, id), verdict) in o.verdicts() {
                record.verdicts.insert((name.clone(), dialect, id), verdict);
            }
            // Caught in its default run, or in its strict one where only
            // strict mode catches it.
            let catching = if strict_only(o.fault) {
                Mode::Strict
            } else {
                Mode::Default
            };
            if let (Some(fault), true) = (o.fault, o.mode == catching) {
                let caught = dialects(o.fault).iter().all(|dialect| {
                    must_fail(o.fault)
                        .iter()
                        .all(|id| o.rule(dialect, id)["verdict"] == "fail")
                });
                record.caught.insert(fault.name(), caught);
            }
        }
        record
    }
}

/// The most frequent verdict of `counts` (on a tie, the first by name).
fn usual(counts: &BTreeMap<String, usize>) -> &str {
    counts
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .map(|(verdict, _)| verdict.as_str())
        .unwrap_or_default()
}

/// A cell of the stability table: each verdict's mark and count (`✗18 ·2`).
fn counts_cell(counts: &BTreeMap<String, usize>) -> String {
    counts
        .iter()
        .map(|(verdict, n)| match verdict.as_str() {
            "absent" => format!("absent {n}"),
            _ => format!("{}{n}", cell(verdict, false)),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Writes `kill-matrix-stability.{json,md}` over the runs `records`: each cell's
/// verdict counts, the cells that ever differed from their usual verdict, and per
/// fault the runs that caught its own rules. Returns the Markdown's path and the
/// number of cells that differed.
pub(super) fn write_stability(
    dir: &Path,
    jobs: &[Job],
    records: &[Record],
    rules: &[(String, String, String)],
) -> (PathBuf, usize) {
    let runs = records.len();
    let columns = ids(rules);
    let mut cells = Vec::new();
    let mut table = String::new();
    let mut differing = Vec::new();
    let mut exits_json = BTreeMap::new();
    for job in jobs {
        let name = stability_row(job.fault, job.mode);
        let exits = tally(records.iter().map(|r| r.exits.get(&name).cloned()));
        let exit_text = exits
            .iter()
            .map(|(code, n)| format!("{code}×{n}"))
            .collect::<Vec<_>>()
            .join(", ");
        exits_json.insert(name.clone(), exits);
        for dialect in ["v1", "v2"] {
            let _ = write!(table, "| `{name}` | {dialect} | {exit_text} |");
            for (id, _) in &columns {
                let key = (name.clone(), dialect.to_owned(), id.clone());
                if !records.iter().any(|r| r.verdicts.contains_key(&key)) {
                    // The rule is not the dialect's, or not in a strict run's selection.
                    table.push_str("  |");
                    continue;
                }
                let counts = tally(records.iter().map(|r| r.verdicts.get(&key).cloned()));
                let usual = usual(&counts).to_owned();
                let differed = counts.len() > 1;
                let _ = write!(table, " {} |", counts_cell(&counts));
                if differed {
                    differing.push(format!(
                        "| `{name}` | {dialect} | {id} | {usual} | {} |",
                        counts_text(&counts)
                    ));
                }
                cells.push(json!({
                    "row": name,
                    "fault": job.fault.map(Fault::name),
                    "mode": job.mode_text(),
                    "dialect": dialect,
                    "rule": id,
                    "counts": counts,
                    "usual": usual,
                    "differed": differed,
                }));
            }
            table.push('\n');
        }
    }
    let mut caught_rows = String::new();
    let mut caught_json = Vec::new();
    for &fault in Fault::ALL {
        let caught = records
            .iter()
            .filter(|r| r.caught.get(fault.name()).copied().unwrap_or(false))
            .count();
        let own = must_fail(Some(fault)).join(", ");
        let _ = writeln!(
            caught_rows,
            "| `{}` | {own} | {} | {caught} of {runs} runs |",
            fault.name(),
            dialects(Some(fault)).join(", ")
        );
        caught_json.push(json!({
            "fault": fault.name(),
            "must_fail": must_fail(Some(fault)),
            "dialects": dialects(Some(fault)),
            "caught_runs": caught,
            "runs": runs,
        }));
    }

    let json = json!({
        "what": "the kill matrix run `runs` times in a row (OMS_KILL_MATRIX_RUNS): per row (fault, \
                 or `(none)`, with ` --strict` for a strict re-run), dialect and rule, how often \
                 each verdict came; `usual` is the most frequent, `differed` whether any run gave \
                 another; `own_rules_caught` counts the runs in which a fault's own rules all \
                 failed in each of its dialects",
        "runs": runs,
        "differing_cells": differing.len(),
        "cells": cells,
        "exits": exits_json,
        "own_rules_caught": caught_json,
    });
    write_json(dir, "kill-matrix-stability.json", &json);

    let mut md = String::from("# Kill matrix stability\n\n");
    let _ = writeln!(
        md,
        "The kill matrix run {runs} time(s) in a row (`OMS_KILL_MATRIX_RUNS={runs} cargo test -p oms-conformance --test it faults::`); \
         {} cell(s) ever differed from their usual verdict (the most frequent one).\n",
        differing.len()
    );
    md.push_str("## Cells that ever differed from their usual verdict\n\n");
    if differing.is_empty() {
        let _ = writeln!(
            md,
            "None: every cell had the same verdict in all {runs} run(s)."
        );
    } else {
        md.push_str("| fault | api | rule | usual | counts |\n|---|---|---|---|---|\n");
        for line in &differing {
            md.push_str(line);
            md.push('\n');
        }
    }
    md.push_str(
        "\n## Own rules caught\n\nA run catches a fault when all its own rules fail in each dialect it applies to (in its strict run, for a fault only strict mode catches).\n\n\
         | fault | own rules | dialects | caught |\n|---|---|---|---|\n",
    );
    md.push_str(&caught_rows);
    md.push_str(
        "\n## Every cell\n\nEach verdict's mark and count over the runs (✗ fail · pass ? inconclusive E error – skipped; \
         `absent`: a run that reported no such rule). A `--strict` row judges its own rule only (`--rule`): the others are skipped.\n\n",
    );
    md.push_str(&table_head(&columns));
    md.push_str(&table);
    let path = dir.join("kill-matrix-stability.md");
    std::fs::write(&path, md).expect("kill-matrix-stability.md");
    (path, differing.len())
}
