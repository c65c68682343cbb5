//! The kill matrix: the harness binary against the reference server with each
//! fault of its catalogue (`oms_reference_server::faults`), one fresh server per
//! fault, each run judging both dialects (v1 and v2, the default profile's).
//! Every fault must make its own rule fail in each dialect it applies to, and
//! every MUST rule of each dialect must fail under some fault: a fault nothing
//! catches is a hole in the suite, a rule no fault breaks checks nothing. A
//! reference run with no fault (the row `(none)`) proves the same arguments give
//! a clean verdict against the faithful server, so a fault's failures are the
//! fault's. The fault × rule matrix is written to `<target>/conformance/kill-matrix/` (`kill-matrix.json`,
//! `kill-matrix.md`) before anything is asserted, so a failing run still leaves
//! the evidence behind.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use oms_reference_server::faults::Fault;
use serde_json::{Value, json};

use crate::support::{self, Watched};

/// Each fault and the rules it must make fail, its own rule first. Rules listed
/// after the first are ones the fault breaks as deterministically (the collateral
/// failures the matrix also shows, such as a deleted neighbour being some other
/// scenario's task, depend on scheduling and are not asserted).
const MUST_FAIL: &[(&str, &[&str])] = &[
    ("delete-running", &["OMS-DEL-003", "OMS-DEL-004"]),
    ("delete-with-body", &["OMS-DEL-001"]),
    ("refuse-but-remove", &["OMS-DEL-004"]),
    // Refuses correctly and keeps status 2: only "its progress keeps moving" catches it.
    ("refused-delete-freezes", &["OMS-DEL-004"]),
    ("accept-missing", &["OMS-DEL-008"]),
    ("ghost-in-get", &["OMS-DEL-002"]),
    ("ghost-in-list", &["OMS-DEL-002"]),
    ("ghost-in-count", &["OMS-DEL-002"]),
    ("delete-neighbour", &["OMS-DEL-012"]),
    ("delete-neighbour-instead", &["OMS-DEL-012", "OMS-DEL-002"]),
    ("ignore-project-scope", &["OMS-DEL-010"]),
    ("skip-auth", &["OMS-DEL-011"]),
    ("malformed-500", &["OMS-DEL-009", "OMS-DEL-017"]),
    // Answers 400 OMS.0054 like the faithful server: only "deletes nothing" catches it.
    ("malformed-deletes-prefix", &["OMS-DEL-009"]),
    ("double-delete", &["OMS-DEL-013"]),
    ("delete-racing-stop", &["OMS-DEL-014"]),
    (
        "refuse-stopped",
        &["OMS-DEL-005", "OMS-DEL-001", "OMS-DEL-007"],
    ),
    ("refuse-failed", &["OMS-DEL-005"]),
    ("refuse-succeeded", &["OMS-DEL-005"]),
    // SHOULD-level: OMS-DEL-006 asks that a task in status 0 or 1 can be deleted.
    ("refuse-waiting", &["OMS-DEL-006"]),
    // OMS-DEL-015 is SHOULD, but the 500 also breaks the MUST rule OMS-DEL-017.
    ("query-string-500", &["OMS-DEL-015", "OMS-DEL-017"]),
    ("no-request-id", &["OMS-DEL-016"]),
    ("text-plain-errors", &["OMS-DEL-016"]),
    ("delete-needs-content-type", &["OMS-DEL-019"]),
    ("count-ignores-status", &["OMS-DEL-020"]),
    ("delete-on-action-route", &["OMS-DEL-021"]),
];

/// The faults that apply to one dialect only, and why; every other fault bends
/// the operations both dialects share, and must be caught in each.
const ONLY_IN: &[(&str, &str)] = &[
    // Only a client-shaped request (v2's OMS-DEL-019) sends no Content-Type.
    ("delete-needs-content-type", "v2"),
    // Only v2's list consistency rule (OMS-DEL-020) reads a filtered count.
    ("count-ignores-status", "v2"),
    // v1 has no action routes: its stop and start are a PUT of the task.
    ("delete-on-action-route", "v2"),
];

/// The dialects a fault applies to, in which its own rules must fail; the
/// reference run (no fault) is judged in both.
fn dialects(fault: Option<Fault>) -> Vec<&'static str> {
    match ONLY_IN
        .iter()
        .find(|(name, _)| Some(*name) == fault.map(Fault::name))
    {
        Some((_, dialect)) => vec![*dialect],
        None => vec!["v1", "v2"],
    }
}

/// The verdicts a rule may have in the reference run. Measured against the
/// faithful server with these arguments: every rule of both dialects passes (its
/// `results.json` has 70 scenarios passed and 9 skipped, the AK/SK-only ones, but
/// every rule has a scenario that runs, so no rule is `skipped`).
const REFERENCE_VERDICTS: &[&str] = &["pass"];

/// A row's name in the matrix: the fault's, or `(none)` for the faithful server.
fn row(fault: Option<Fault>) -> &'static str {
    fault.map_or("(none)", Fault::name)
}

/// Harness runs at once. Each is a harness process plus a reference server in
/// this test's process; on two cores four keep both busy without starving the
/// servers (measured: the whole matrix in about a third of its serial time).
const WORKERS: usize = 4;

/// The state deadline of the matrix runs. Faults that refuse deletes leave tasks
/// the harness cannot clean up, and each cleanup retries until this deadline;
/// the reference server reaches every state in well under a second.
const STATE_TIMEOUT: &str = "5s";

/// One run of the matrix: the full suite in default mode, or (for the faults
/// whose own rule is SHOULD-level) the own rule alone in strict mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Default,
    Strict,
}

/// One harness run; `fault: None` is the reference run against the faithful server.
#[derive(Debug)]
struct Job {
    fault: Option<Fault>,
    mode: Mode,
}

#[derive(Debug)]
struct Outcome {
    fault: Option<Fault>,
    mode: Mode,
    watched: Watched,
    results: Option<Value>,
}

/// A rule as judged in one dialect: (dialect, id).
type Judged = (String, String);

impl Outcome {
    /// (dialect, rule id) → verdict, from `results.json`.
    fn verdicts(&self) -> BTreeMap<Judged, String> {
        self.results
            .as_ref()
            .and_then(|r| r["rules"].as_array())
            .map(|rules| {
                rules
                    .iter()
                    .map(|r| {
                        let text = |key: &str| r[key].as_str().unwrap_or_default().to_owned();
                        ((text("dialect"), text("id")), text("verdict"))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    fn rule(&self, dialect: &str, id: &str) -> Value {
        self.results
            .as_ref()
            .and_then(|r| r["rules"].as_array())
            .and_then(|rules| {
                rules
                    .iter()
                    .find(|r| r["id"] == id && r["dialect"] == dialect)
                    .cloned()
            })
            .unwrap_or(Value::Null)
    }
}

/// The rules `fault` must make fail, its own first; none for the reference run.
fn must_fail(fault: Option<Fault>) -> &'static [&'static str] {
    MUST_FAIL
        .iter()
        .find(|(name, _)| Some(*name) == fault.map(Fault::name))
        .map(|(_, rules)| *rules)
        .unwrap_or_default()
}

/// The target folder the binary was built in (it honours `CARGO_TARGET_DIR`).
fn target_dir() -> PathBuf {
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_oms-conformance"));
    binary
        .parent()
        .and_then(|profile| profile.parent())
        .map(PathBuf::from)
        .unwrap_or_else(|| support::root().join("target"))
}

/// The reference server with `fault` (or none: the faithful server) on
/// `127.0.0.1:0`, in `rt`.
fn faulty_server(rt: &tokio::runtime::Runtime, fault: Option<Fault>) -> SocketAddr {
    support::reference_server_with(
        rt,
        oms_reference_server::Config {
            fault,
            ..oms_reference_server::Config::default()
        },
    )
}

fn run_job(job: &Job) -> Outcome {
    // A fresh server per run: a fault's tombstones and race memory, and the tasks
    // a refusing fault leaves behind, must not leak into another run.
    let rt = support::runtime();
    let addr = faulty_server(&rt, job.fault);
    let target = format!("http://{addr}");
    let mut args = vec![
        "--target",
        target.as_str(),
        "--seed",
        "7",
        "--state-timeout",
        STATE_TIMEOUT,
        "--run-timeout",
        "60s",
    ];
    let own = must_fail(job.fault).first().copied().unwrap_or_default();
    // `run.rs` already runs one named `reference`; scratch folders are per name.
    let base = job
        .fault
        .map_or("no-fault".to_owned(), |f| format!("fault-{}", f.name()));
    let name = match job.mode {
        Mode::Default => base,
        Mode::Strict => {
            args.extend(["--strict", "--rule", own]);
            format!("{base}-strict")
        }
    };
    let watched = support::run_watched(&name, &args, Duration::from_secs(90));
    drop(rt);
    let results = std::fs::read_to_string(watched.ran.report_dir.join("results.json"))
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok());
    Outcome {
        fault: job.fault,
        mode: job.mode,
        watched,
        results,
    }
}

/// Runs every job on [`WORKERS`] threads; the outcomes come back in job order.
fn run_all(jobs: Vec<Job>) -> Vec<Outcome> {
    let next = AtomicUsize::new(0);
    let done = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..WORKERS {
            scope.spawn(|| {
                while let Some(job) = jobs.get(next.fetch_add(1, Ordering::SeqCst)) {
                    let outcome = run_job(job);
                    done.lock().expect("outcomes").push(outcome);
                }
            });
        }
    });
    let mut outcomes = done.into_inner().expect("outcomes");
    outcomes.sort_by_key(|o| {
        jobs.iter()
            .position(|j| j.fault == o.fault && j.mode == o.mode)
    });
    outcomes
}

/// The rules as the runs report them: (dialect, id, level), in report order.
fn catalogue(outcomes: &[Outcome]) -> Vec<(String, String, String)> {
    outcomes
        .iter()
        .find_map(|o| o.results.as_ref()?["rules"].as_array().cloned())
        .unwrap_or_default()
        .iter()
        .map(|r| {
            let text = |key: &str| r[key].as_str().unwrap_or_default().to_owned();
            (text("dialect"), text("id"), text("level"))
        })
        .collect()
}

/// The rule ids of `rules`, each once, in order, with its level.
fn ids(rules: &[(String, String, String)]) -> Vec<(String, String)> {
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

fn cell(verdict: &str, own: bool) -> String {
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

fn write_matrix(
    outcomes: &[Outcome],
    rules: &[(String, String, String)],
    wall: Duration,
) -> PathBuf {
    let dir = target_dir().join("conformance/kill-matrix");
    std::fs::create_dir_all(&dir).expect("kill-matrix folder");
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
        "what": "the harness against the reference server with one fault each (default mode, \
                 fixed seed, both dialects); verdict per rule and dialect; `must_fail` is the \
                 fault's own rule(s), which must fail in each of its `dialects`",
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
                "exit_code": o.watched.ran.code,
                "failed": with("fail"),
                "inconclusive": with("inconclusive"),
                "error": with("error"),
                "verdicts": verdicts.iter().map(|((d, r), v)| (format!("{d} {r}"), v.clone())).collect::<BTreeMap<_, _>>(),
                "wall_ms": u64::try_from(o.watched.wall.as_millis()).unwrap_or(u64::MAX),
                "peak_rss_kib": o.watched.peak_rss_kib,
                "strict_own_rule_exit_code": strict.map(|s| s.watched.ran.code),
                "report_dir": o.watched.ran.report_dir.display().to_string(),
            })
        }).collect::<Vec<_>>(),
        "caught_by": caught_by,
        "must_rules_catching_nothing": must_catching_nothing,
    });
    std::fs::write(
        dir.join("kill-matrix.json"),
        serde_json::to_string_pretty(&json).expect("json") + "\n",
    )
    .expect("kill-matrix.json");

    let columns = ids(rules);
    let mut md = String::from("# Kill matrix\n\n");
    let _ = writeln!(
        md,
        "The harness against the reference server with one fault each, and once with none (row `(none)`; \
         `--seed 7 --state-timeout {STATE_TIMEOUT}`, default mode, both dialects), {} runs in {:.1} s on {WORKERS} workers. Written by `cargo test -p oms-conformance --test it faults::`.\n",
        outcomes.len(),
        wall.as_secs_f64()
    );
    md.push_str(
        "One row per fault and dialect. ✗ fail · pass ? inconclusive E error – skipped, blank: the rule does not apply to the dialect; \
         **bold**: the fault's own rule(s), which must fail in each dialect the fault applies to.\n\n",
    );
    md.push_str("| fault | api | exit |");
    for (id, level) in &columns {
        let _ = write!(
            md,
            " {}{} |",
            short(id),
            if level == "MUST" { "" } else { "ˢ" }
        );
    }
    md.push_str("\n|---|---|---|");
    md.push_str(&"---|".repeat(columns.len()));
    md.push('\n');
    for o in &default_runs {
        let verdicts = o.verdicts();
        for dialect in ["v1", "v2"] {
            let applies = dialects(o.fault).contains(&dialect);
            let _ = write!(
                md,
                "| `{}` | {dialect}{} | {} |",
                row(o.fault),
                if applies { "" } else { " (n/a)" },
                o.watched.ran.code
            );
            for (id, _) in &columns {
                let own = applies && must_fail(o.fault).contains(&id.as_str());
                let verdict = verdicts
                    .get(&(dialect.to_owned(), id.clone()))
                    .map(String::as_str)
                    .unwrap_or_default();
                let _ = write!(md, " {} |", cell(verdict, own));
            }
            md.push('\n');
        }
    }
    md.push_str("\nˢ SHOULD rule (never fails the run unless `--strict`). n/a: the fault bends nothing that dialect's rules read (see `ONLY_IN`).\n\n");
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
                o.watched.ran.code,
                o.rule("v1", own)["verdict"].as_str().unwrap_or("none"),
                o.rule("v2", own)["verdict"].as_str().unwrap_or("none")
            );
        }
    }
    std::fs::write(dir.join("kill-matrix.md"), md).expect("kill-matrix.md");
    dir
}

/// Whether every rule a fault must break is SHOULD-level (the run is then
/// conformant in default mode: exit 0).
fn should_only(fault: Option<Fault>, rules: &[(String, String, String)]) -> bool {
    must_fail(fault).iter().all(|id| {
        rules
            .iter()
            .any(|(_, rule, level)| rule == id && level == "SHOULD")
    })
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

    let started = Instant::now();
    // The reference run first: its row heads the matrix.
    let mut jobs: Vec<Job> = std::iter::once(None)
        .chain(Fault::ALL.iter().copied().map(Some))
        .map(|fault| Job {
            fault,
            mode: Mode::Default,
        })
        .collect();
    // SHOULD-level faults do not fail a default run by design; in strict mode
    // their own rule must fail the run (exit 1).
    for &fault in Fault::ALL {
        let own = must_fail(Some(fault))[0];
        if matches!(own, "OMS-DEL-006" | "OMS-DEL-015" | "OMS-DEL-016") {
            jobs.push(Job {
                fault: Some(fault),
                mode: Mode::Strict,
            });
        }
    }
    let outcomes = run_all(jobs);
    let wall = started.elapsed();
    let rules = catalogue(&outcomes);
    let dir = write_matrix(&outcomes, &rules, wall);
    eprintln!(
        "kill matrix: {} runs in {:.1} s, written to {}",
        outcomes.len(),
        wall.as_secs_f64(),
        dir.display()
    );

    let mut problems = Vec::new();
    assert!(!rules.is_empty(), "no run wrote a results.json");
    let level_of = |id: &str| {
        rules
            .iter()
            .find(|(_, r, _)| r == id)
            .map(|(_, _, l)| l.clone())
            .unwrap_or_default()
    };
    for o in &outcomes {
        let name = row(o.fault);
        if o.results.is_none() {
            problems.push(format!(
                "{name} ({:?}): no readable results.json\n{}",
                o.mode,
                o.watched.ran.explain()
            ));
            continue;
        }
        let must = must_fail(o.fault);
        match o.mode {
            Mode::Default if o.fault.is_none() => {
                // The faithful server: a clean run, every rule as measured.
                if o.watched.ran.code != 0 {
                    problems.push(format!("{name}: exit {} (expected 0)", o.watched.ran.code));
                }
                let verdicts = o.verdicts();
                if verdicts.is_empty() {
                    problems.push(format!("{name}: results.json judged no rule"));
                }
                for ((dialect, id), verdict) in verdicts {
                    if !REFERENCE_VERDICTS.contains(&verdict.as_str()) {
                        problems.push(format!(
                            "{name}: {dialect} {id} is {verdict} (expected one of {REFERENCE_VERDICTS:?})"
                        ));
                    }
                }
            }
            Mode::Default => {
                let expected_exit = if should_only(o.fault, &rules) { 0 } else { 1 };
                if o.watched.ran.code != expected_exit {
                    problems.push(format!(
                        "{name}: exit {} (expected {expected_exit})",
                        o.watched.ran.code
                    ));
                }
                for dialect in dialects(o.fault) {
                    for rule in must {
                        let judged = o.rule(dialect, rule);
                        if judged["verdict"] != "fail" {
                            problems.push(format!(
                                "{name}: {dialect} {rule} is {} (must fail): {:#}",
                                judged["verdict"], judged["scenarios"]
                            ));
                        }
                    }
                }
                if expected_exit == 0 {
                    // Confined to its SHOULD behaviour: no MUST rule fails.
                    let must_failing: Vec<String> = o
                        .verdicts()
                        .into_iter()
                        .filter(|((_, id), v)| v == "fail" && level_of(id) == "MUST")
                        .map(|((d, id), _)| format!("{d} {id}"))
                        .collect();
                    if !must_failing.is_empty() {
                        problems.push(format!(
                            "{name}: a SHOULD-level fault fails MUST rules {must_failing:?}"
                        ));
                    }
                    for dialect in dialects(o.fault) {
                        if o.rule(dialect, must[0])["binding"] != false {
                            problems
                                .push(format!("{name}: {dialect} {} counted as binding", must[0]));
                        }
                    }
                }
            }
            Mode::Strict => {
                let verdicts: Vec<String> = dialects(o.fault)
                    .into_iter()
                    .map(|d| format!("{d} {}", o.rule(d, must[0])["verdict"]))
                    .collect();
                let all_fail = dialects(o.fault)
                    .into_iter()
                    .all(|d| o.rule(d, must[0])["verdict"] == "fail");
                if o.watched.ran.code != 1 || !all_fail {
                    problems.push(format!(
                        "{name} --strict --rule {}: exit {}, verdicts {verdicts:?} (expected exit 1, fail in each)",
                        must[0], o.watched.ran.code
                    ));
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
    for (dialect, id, level) in &rules {
        if level != "MUST" {
            continue;
        }
        if !designated.contains(id.as_str()) {
            problems.push(format!(
                "{id} is no fault's rule: nothing proves it can fail"
            ));
        }
        let key = (dialect.clone(), id.clone());
        let caught = outcomes
            .iter()
            .filter(|o| o.mode == Mode::Default && o.fault.is_some())
            .any(|o| o.verdicts().get(&key).is_some_and(|v| v == "fail"));
        if !caught {
            problems.push(format!("{dialect} {id} failed under no fault"));
        }
    }
    assert!(
        problems.is_empty(),
        "kill matrix ({}):\n{}",
        dir.join("kill-matrix.md").display(),
        problems.join("\n")
    );
}
