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

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

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
    // Its OMS-DEL-002 failures are collateral, not its own: whose task the
    // neighbour is depends on the interleaving of the run's creates (caught
    // in 18 of 20 runs beside two CPU hogs; inconclusive or passing when the
    // removed neighbour was a task another scenario still needed).
    ("delete-neighbour-instead", &["OMS-DEL-012"]),
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
    // Each loses only inside a race window: only the races see them.
    ("stop-rewrites-record", &["OMS-DEL-014"]),
    ("start-ignores-delete", &["OMS-DEL-024"]),
    ("finish-reinserts", &["OMS-DEL-024"]),
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

impl Job {
    /// The job's mode as the matrix names it: `default`, or `strict --rule <own rule>`.
    fn mode_text(&self) -> String {
        match self.mode {
            Mode::Default => "default".to_owned(),
            Mode::Strict => format!("strict --rule {}", must_fail(self.fault)[0]),
        }
    }
}

#[derive(Debug)]
struct Outcome {
    fault: Option<Fault>,
    mode: Mode,
    /// The run, or the message of the panic that ended the job before it had one
    /// (a server that did not start, the watchdog): a cell of the matrix, not a
    /// panic of the test, so the matrix is still written and names the cell.
    watched: Result<Watched, String>,
    results: Option<Value>,
}

/// A rule as judged in one dialect: (dialect, id).
type Judged = (String, String);

impl Outcome {
    fn job(&self) -> Job {
        Job {
            fault: self.fault,
            mode: self.mode,
        }
    }

    /// The harness's exit code; none when the job panicked.
    fn code(&self) -> Option<i32> {
        self.watched.as_ref().ok().map(|w| w.ran.code)
    }

    /// The exit code as the matrix shows it.
    fn exit_text(&self) -> String {
        self.code()
            .map_or_else(|| "panic".to_owned(), |code| code.to_string())
    }

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

/// Runs `job` (as run `k` of the matrix); a panic inside becomes the outcome's
/// `watched` error.
fn run_job(job: &Job, k: usize) -> Outcome {
    let ran = std::panic::catch_unwind(AssertUnwindSafe(|| run_harness(job, k)));
    let watched = ran.map_err(|panic| {
        panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_else(|| "a panic without a message".to_owned())
    });
    let results = watched.as_ref().ok().and_then(|w| {
        let text = std::fs::read_to_string(w.ran.report_dir.join("results.json")).ok()?;
        serde_json::from_str(&text).ok()
    });
    Outcome {
        fault: job.fault,
        mode: job.mode,
        watched,
        results,
    }
}

fn run_harness(job: &Job, k: usize) -> Watched {
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
    // `run.rs` already runs one named `reference`; scratch folders are per name,
    // and per run of the matrix so that a repeat keeps each run's reports.
    let base = job.fault.map_or(format!("kill{k}-no-fault"), |f| {
        format!("kill{k}-fault-{}", f.name())
    });
    let name = match job.mode {
        Mode::Default => base,
        Mode::Strict => {
            args.extend(["--strict", "--rule", own]);
            format!("{base}-strict")
        }
    };
    let watched = support::run_watched(&name, &args, Duration::from_secs(90));
    drop(rt);
    watched
}

/// Runs every job (as run `k`) on [`WORKERS`] threads; the outcomes come back in
/// job order.
fn run_all(jobs: &[Job], k: usize) -> Vec<Outcome> {
    let next = AtomicUsize::new(0);
    let done = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..WORKERS {
            scope.spawn(|| {
                while let Some(job) = jobs.get(next.fetch_add(1, Ordering::SeqCst)) {
                    let outcome = run_job(job, k);
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

/// The folder the matrix and its stability report are written to.
fn matrix_dir() -> PathBuf {
    let dir = target_dir().join("conformance/kill-matrix");
    std::fs::create_dir_all(&dir).expect("kill-matrix folder");
    dir
}

/// Writes `kill-matrix.{json,md}` of one run (`run`: `k/N`) into `dir`.
/// The head of a matrix table: a column per rule (ˢ marks a SHOULD rule).
fn table_head(columns: &[(String, String)]) -> String {
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

fn write_matrix(
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
            let _ = write!(
                md,
                "| `{}` | {dialect}{} | {} |",
                row(o.fault),
                if applies { "" } else { " (n/a)" },
                o.exit_text()
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
                o.exit_text(),
                o.rule("v1", own)["verdict"].as_str().unwrap_or("none"),
                o.rule("v2", own)["verdict"].as_str().unwrap_or("none")
            );
        }
    }
    std::fs::write(dir.join("kill-matrix.md"), md).expect("kill-matrix.md");
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

/// Every problem of one run of the matrix (`run`: `k/N`), each naming its cell.
fn judge(run: &str, outcomes: &[Outcome], rules: &[(String, String, String)]) -> Vec<String> {
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
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        for o in &under_faults {
            let verdict = o
                .verdicts()
                .get(&key)
                .cloned()
                .unwrap_or("absent".to_owned());
            *seen.entry(verdict).or_default() += 1;
        }
        if !seen.contains_key("fail") {
            problems.push(format!(
                "{head} · failed under no fault, expected fail under at least one; verdicts over the faults: {}",
                counts_text(&seen)
            ));
        }
    }
    problems
}

/// Verdict counts, most frequent first: `fail 18, pass 2`.
fn counts_text(counts: &BTreeMap<String, usize>) -> String {
    let mut sorted: Vec<(&String, &usize)> = counts.iter().collect();
    sorted.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    sorted
        .iter()
        .map(|(verdict, n)| format!("{verdict} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Copies the matrix just written to `kill-matrix-failed-<unix-seconds>` (with
/// `-run<k>` when the matrix is repeated, so two failing runs keep two copies)
/// and returns the two paths.
fn keep_failed(dir: &Path, k: usize, runs: usize) -> Vec<PathBuf> {
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

/// A row of the stability report: the fault's row name, ` --strict` for the
/// strict re-run.
fn stability_row(fault: Option<Fault>, mode: Mode) -> String {
    match mode {
        Mode::Default => row(fault).to_owned(),
        Mode::Strict => format!("{} --strict", row(fault)),
    }
}

/// What the stability report keeps of one run of the matrix.
#[derive(Debug, Default)]
struct Record {
    /// (row, dialect, rule) → verdict.
    verdicts: BTreeMap<(String, String, String), String>,
    /// row → exit code (`panic` for a job that panicked).
    exits: BTreeMap<String, String>,
    /// fault → whether its own rules failed in each dialect it applies to.
    caught: BTreeMap<&'static str, bool>,
}

impl Record {
    fn of(outcomes: &[Outcome]) -> Self {
        let mut record = Record::default();
        for o in outcomes {
            let name = stability_row(o.fault, o.mode);
            record.exits.insert(name.clone(), o.exit_text());
            for ((dialect, id), verdict) in o.verdicts() {
                record.verdicts.insert((name.clone(), dialect, id), verdict);
            }
            if let (Some(fault), Mode::Default) = (o.fault, o.mode) {
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
fn write_stability(
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
        let mut exits: BTreeMap<String, usize> = BTreeMap::new();
        for record in records {
            let exit = record
                .exits
                .get(&name)
                .cloned()
                .unwrap_or("absent".to_owned());
            *exits.entry(exit).or_default() += 1;
        }
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
                let mut counts: BTreeMap<String, usize> = BTreeMap::new();
                for record in records {
                    let verdict = record
                        .verdicts
                        .get(&key)
                        .cloned()
                        .unwrap_or("absent".to_owned());
                    *counts.entry(verdict).or_default() += 1;
                }
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
    std::fs::write(
        dir.join("kill-matrix-stability.json"),
        serde_json::to_string_pretty(&json).expect("json") + "\n",
    )
    .expect("kill-matrix-stability.json");

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
        "\n## Own rules caught\n\nA run catches a fault when all its own rules fail in each dialect it applies to.\n\n\
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

/// The jobs of one run of the matrix: the reference run, every fault, then the
/// strict re-runs.
fn jobs() -> Vec<Job> {
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
    jobs
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
