//! The kill matrix: the harness binary against the reference server with each
//! fault of its catalogue (`oms_reference_server::faults`), one fresh server per
//! fault, each run judging both dialects (v1 and v2, the default profile's).
//! Every fault must make its own rule fail in each dialect it applies to, and
//! every MUST rule of each dialect must fail under some fault: a fault nothing
//! catches is a hole in the suite, a rule no fault breaks checks nothing. A
//! reference run with no fault (the row `(none)`) proves the same arguments give
//! a clean verdict against the faithful server, so a fault's failures are the
//! fault's. The fault × rule matrix is written to
//! `<target>/conformance/kill-matrix/` (`kill-matrix.json`, `kill-matrix.md`) before anything is asserted, so a failing run still leaves
//! the evidence behind; a failing run's matrix is also kept as
//! `kill-matrix-failed-<unix-seconds>.{md,json}`, and every problem names its
//! cell (run, fault, mode, dialect, rule, verdict, and the reasons of the
//! scenarios that did not pass). A job that panics is a problem of its cell, not
//! of the test. `OMS_KILL_MATRIX_RUNS=N` runs the whole matrix N times and
//! `kill-matrix-stability.{md,json}` counts each cell's verdicts over the runs.
//!
//! Here the one test and how often it repeats the matrix; `plan` says what runs
//! and what each fault must break, `runner` runs the jobs, `matrix` writes the
//! matrix files, `judge` finds the problems and `stability` counts the verdicts
//! over the runs.

mod judge;
mod matrix;
mod plan;
mod runner;
mod stability;

use std::collections::BTreeSet;
use std::time::Instant;

use oms_reference_server::faults::Fault;

use judge::judge;
use matrix::{keep_failed, matrix_dir, write_matrix};
use plan::{MUST_FAIL, jobs};
use runner::{catalogue, run_all};
use stability::{Record, write_stability};

/// How many times the whole matrix runs: `OMS_KILL_MATRIX_RUNS` (default 1), for
/// measuring which cells vary (`just kill-matrix-soak`).
fn runs() -> usize {
    match std::env::var("OMS_KILL_MATRIX_RUNS") {
        Err(_) => 1,
        Ok(text) => text
            .trim()
            .parse()
            .ok()
            .filter(|n| *n >= 1)
            .unwrap_or_else(|| {
                panic!("OMS_KILL_MATRIX_RUNS={text:?}: expected a whole number of runs, at least 1")
            }),
    }
}

#[test]
fn every_fault_is_caught_by_its_own_rule_and_every_must_rule_catches_a_fault() {
    // The table and the catalogue of faults are the same set, in both directions.
    let names: BTreeSet<&str> = Fault::ALL.iter().map(|f| f.name()).collect();
    let table: BTreeSet<&str> = MUST_FAIL.iter().map(|(name, _)| *name).collect();
    assert_eq!(
        names, table,
        "every fault needs a row in MUST_FAIL, and every row a fault"
    );

    let runs = runs();
    let jobs = jobs();
    let dir = matrix_dir();
    let mut problems = Vec::new();
    let mut kept = Vec::new();
    let mut records = Vec::new();
    let mut rules = Vec::new();
    for k in 1..=runs {
        let run = format!("{k}/{runs}");
        let started = Instant::now();
        let outcomes = run_all(&jobs, k);
        let wall = started.elapsed();
        let judged = catalogue(&outcomes);
        // The matrix is written before anything is judged, so a failure leaves it.
        write_matrix(&dir, &outcomes, &judged, wall, &run);
        let found = judge(&run, &outcomes, &judged);
        eprintln!(
            "kill matrix run {run}: {} jobs in {:.1} s, {} problem(s), written to {}",
            outcomes.len(),
            wall.as_secs_f64(),
            found.len(),
            dir.display()
        );
        if !found.is_empty() {
            kept.extend(keep_failed(&dir, k, runs));
        }
        problems.extend(found);
        records.push(Record::of(&outcomes));
        if rules.is_empty() {
            rules = judged;
        }
    }
    let (stability, differing) = write_stability(&dir, &jobs, &records, &rules);
    eprintln!(
        "kill matrix stability: {differing} cell(s) differed over {runs} run(s), written to {}",
        stability.display()
    );
    assert!(
        problems.is_empty(),
        "kill matrix: {} problem(s) over {runs} run(s); the matrix of each failing run is kept at\n{}\nstability over the runs: {}\n\n{}",
        problems.len(),
        kept.iter()
            .map(|p| format!("  {}", p.display()))
            .collect::<Vec<_>>()
            .join("\n"),
        stability.display(),
        problems.join("\n")
    );
}
