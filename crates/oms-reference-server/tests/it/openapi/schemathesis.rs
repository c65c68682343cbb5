//! schemathesis against a live server for each document, from a cached venv
//! with the pinned version: no failed check, no server error, a test case for
//! every operation, and a stateful phase that drove real tasks through stop,
//! start and delete (each answered 2xx at least once); and the negative
//! control, a broken copy of the v2 document that fails by exactly the checks
//! that guard it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use oms_reference_server::{Config, Limits};

use super::{DOCUMENTS, document, operations, resolve};
use crate::process::{Finished, TempDir, run_with_deadline, tail};
use crate::venv::Venv;
use crate::wire::InProcess;

const REQUIREMENTS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/it/schemathesis_requirements.txt"
);
const CONFIG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/schemathesis.toml");

/// The exact version the requirements pin; the test checks that the venv runs it.
const SCHEMATHESIS_VERSION: &str = "4.32.5";

/// The four checks the issue names, as schemathesis 4.32.5 names them.
const CHECKS: [&str; 4] = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
];

/// A run has measured 8.5–35.5 s per document (its stateful phase of 20-step
/// scenarios included) on the 2-core development machine beside other builds;
/// this only keeps a stuck run from hanging it.
const RUN_DEADLINE: Duration = Duration::from_secs(120);

/// The state machine's operations that the stateful phase must get a 2xx from
/// in each document, keyed as [`Report::stateful`] keys them: v1's stop and
/// start share one `PUT`, told apart by the body's `operation`.
const LIFECYCLE: [(&str, [&str; 3]); 2] = [
    (
        "v1",
        [
            "PUT /v1/{project_id}/objectstorage/task/{task_id} stop",
            "PUT /v1/{project_id}/objectstorage/task/{task_id} start",
            "DELETE /v1/{project_id}/objectstorage/task/{task_id}",
        ],
    ),
    (
        "v2",
        [
            "POST /v2/{project_id}/tasks/{task_id}/stop",
            "POST /v2/{project_id}/tasks/{task_id}/start",
            "DELETE /v2/{project_id}/tasks/{task_id}",
        ],
    ),
];

static SCHEMATHESIS: Venv = Venv::new(
    "schemathesis-venv",
    REQUIREMENTS,
    "the schemathesis test of the OpenAPI documents",
);

/// What one schemathesis run reported, from its NDJSON events and JUnit XML.
#[derive(Debug, Default)]
struct Report {
    /// Test cases per operation (`METHOD /path/template`).
    cases: BTreeMap<String, usize>,
    /// Answers per operation and status code.
    statuses: BTreeMap<String, BTreeMap<u16, usize>>,
    /// The stateful phase's answers per operation and status code; a body
    /// that names its `operation` (v1's `PUT`) adds it to the key.
    stateful: BTreeMap<String, BTreeMap<u16, usize>>,
    /// The check names that ran, and how often each did not succeed.
    checks: BTreeMap<String, usize>,
    /// Failed checks, as `check on METHOD path`, deduplicated.
    failures: BTreeSet<String>,
    junit_failures: Option<usize>,
    junit_errors: Option<usize>,
}

impl Report {
    /// The reports of `run`; a missing one fails the test with what
    /// schemathesis printed (a bad configuration, a broken venv).
    fn read(ndjson: &Path, junit: &Path, run: &Finished) -> Self {
        let missing = |which: &str, e: std::io::Error| -> ! {
            panic!(
                "schemathesis wrote no {which} report ({e}); it exited {}:\n{}\n{}",
                run.status,
                tail(&run.stdout, 40),
                tail(&run.stderr, 20)
            )
        };
        let mut report = Self::default();
        let events = std::fs::read_to_string(ndjson).unwrap_or_else(|e| missing("NDJSON", e));
        for line in events.lines().filter(|l| !l.trim().is_empty()) {
            let event: Value = serde_json::from_str(line).expect("an NDJSON line is JSON");
            let Some(recorder) = event.pointer("/ScenarioFinished/recorder") else {
                continue;
            };
            let stateful = event.pointer("/ScenarioFinished/phase") == Some(&json!("stateful"));
            let Some(cases) = recorder["cases"].as_object() else {
                continue;
            };
            for (id, case) in cases {
                let value = &case["value"];
                let op = format!(
                    "{} {}",
                    value["method"].as_str().unwrap_or("?"),
                    value["path"].as_str().unwrap_or("?")
                );
                *report.cases.entry(op.clone()).or_default() += 1;
                if let Some(status) = recorder
                    .pointer(&format!("/interactions/{id}/response/status_code"))
                    .and_then(Value::as_u64)
                {
                    let status = status as u16;
                    *report
                        .statuses
                        .entry(op.clone())
                        .or_default()
                        .entry(status)
                        .or_default() += 1;
                    if stateful {
                        let key = match value["body"]["operation"].as_str() {
                            Some(operation) => format!("{op} {operation}"),
                            None => op.clone(),
                        };
                        *report
                            .stateful
                            .entry(key)
                            .or_default()
                            .entry(status)
                            .or_default() += 1;
                    }
                }
                for check in recorder["checks"][id].as_array().into_iter().flatten() {
                    let name = check["name"].as_str().unwrap_or("?").to_owned();
                    let failed = check["status"] != "success";
                    *report.checks.entry(name.clone()).or_default() += usize::from(failed);
                    if failed {
                        report.failures.insert(format!("{name} on {op}"));
                    }
                }
            }
        }
        let xml = std::fs::read_to_string(junit).unwrap_or_else(|e| missing("JUnit", e));
        let attribute = |name: &str| {
            let suites = xml.split("<testsuites").nth(1)?;
            let head = suites.split('>').next()?;
            head.split(&format!(" {name}=\""))
                .nth(1)?
                .split('"')
                .next()?
                .parse()
                .ok()
        };
        report.junit_failures = attribute("failures");
        report.junit_errors = attribute("errors");
        report
    }

    fn total(&self) -> usize {
        self.cases.values().sum()
    }

    /// The stateful phase's 2xx answers for `key` (a [`LIFECYCLE`] entry).
    fn stateful_successes(&self, key: &str) -> usize {
        self.stateful.get(key).map_or(0, |statuses| {
            statuses
                .iter()
                .filter(|(status, _)| (200..300).contains(*status))
                .map(|(_, n)| n)
                .sum()
        })
    }

    /// Answers 5xx, in any phase: the server never means to send one.
    fn server_errors(&self) -> usize {
        let statuses = self.statuses.values().flatten();
        statuses
            .filter(|(status, _)| **status >= 500)
            .map(|(_, n)| n)
            .sum()
    }
}

/// The server the documents are run against: the default one but for three
/// limits, so that each task is already in the state its next linked call
/// needs when the stateful phase makes that call, milliseconds later. A new
/// task runs at once (no initialization, and a slot is always free, whatever
/// the earlier phases left running), and a stop stops it at once (no pause).
/// The documents describe the server under any limits; these ones make the
/// states come sooner, and leave no task waiting for a slot (so a create is
/// never refused for 50 waiting tasks, `OMS.0077`, here).
fn stateful_config() -> Config {
    Config {
        limits: Limits {
            max_parallel: 100_000,
            init_ms: 0,
            pause_ms: 0,
            ..Limits::default()
        },
        ..Config::default()
    }
}

/// Runs `schemathesis run LOCATION` with the committed configuration against
/// `base_url`, in `work` (its reports, its scratch files), plus `extra` flags.
fn schemathesis(
    work: &Path,
    name: &str,
    location: &str,
    base_url: &str,
    extra: &[&str],
) -> (Finished, Report, Duration) {
    let python = SCHEMATHESIS.python();
    let ndjson = work.join(format!("{name}.ndjson"));
    let junit = work.join(format!("{name}.junit.xml"));
    let mut command = Command::new(python);
    command
        .args(["-m", "schemathesis.cli", "--config-file", CONFIG, "run"])
        .arg(location)
        .args(["--url", base_url, "--seed", "1", "--no-color"])
        .args(["--report", "junit,ndjson", "--report-junit-path"])
        .arg(&junit)
        .arg("--report-ndjson-path")
        .arg(&ndjson)
        .args(extra)
        .current_dir(work)
        // A clean environment: no proxy or SCHEMATHESIS_* variable of the
        // developer's shell changes the run.
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", work)
        .env("PYTHONUTF8", "1");
    let started = Instant::now();
    let run = run_with_deadline(command, RUN_DEADLINE, &format!("schemathesis on {name}"));
    let elapsed = started.elapsed();
    let report = Report::read(&ndjson, &junit, &run);
    (run, report, elapsed)
}

#[test]
fn schemathesis_finds_no_failure_in_either_document() {
    let python = SCHEMATHESIS.python();
    let version = run_with_deadline(
        {
            let mut c = Command::new(&python);
            c.args(["-m", "schemathesis.cli", "--version"]);
            c
        },
        Duration::from_secs(60),
        "schemathesis --version",
    );
    assert!(
        version.stdout.contains(SCHEMATHESIS_VERSION),
        "the venv runs schemathesis {SCHEMATHESIS_VERSION}, not {:?}",
        version.stdout.trim()
    );
    // Both documents against one store: the v2 run lists the tasks the v1 run
    // created, as v2 shows them.
    let server = InProcess::start(stateful_config());
    let work = TempDir::new("schemathesis");
    let mut problems = Vec::new();
    let mut summary = Vec::new();
    for (dialect, route) in DOCUMENTS {
        let problems_before = problems.len();
        let location = format!("{}{route}", server.url());
        let (run, report, elapsed) =
            schemathesis(work.path(), dialect, &location, &server.url(), &[]);
        let doc = document(dialect);
        let what = format!("schemathesis on {route}");
        if !run.status.success() {
            problems.push(format!("{what} exited {}", run.status));
        }
        if report.junit_failures != Some(0) || report.junit_errors != Some(0) {
            problems.push(format!(
                "{what}: the JUnit report counts {:?} failures and {:?} errors",
                report.junit_failures, report.junit_errors
            ));
        }
        if !report.failures.is_empty() {
            problems.push(format!("{what}: failed checks {:?}", report.failures));
        }
        if report.server_errors() > 0 {
            problems.push(format!(
                "{what}: {} answers 5xx {:?}",
                report.server_errors(),
                report.statuses
            ));
        }
        let ran: BTreeSet<&str> = report.checks.keys().map(String::as_str).collect();
        if ran != BTreeSet::from(CHECKS) {
            problems.push(format!(
                "{what}: the checks that ran were {ran:?}, not {CHECKS:?}"
            ));
        }
        // Positive evidence: a test case for every operation the document
        // describes, so the run cannot pass by testing nothing.
        for (method, path, _, _) in operations(&doc) {
            let op = format!("{method} {path}");
            let cases = report.cases.get(&op).copied().unwrap_or(0);
            if cases == 0 {
                problems.push(format!("{what}: no test case for {op}"));
            }
            summary.push(format!(
                "  {op}: {cases} cases, answers {:?}",
                report.statuses.get(&op).cloned().unwrap_or_default()
            ));
        }
        // The stateful phase reached the state machine: a task it created
        // was stopped, started again and deleted through the links.
        let (_, lifecycle) = LIFECYCLE
            .iter()
            .find(|(d, _)| *d == dialect)
            .expect("a dialect of LIFECYCLE");
        for key in lifecycle {
            if report.stateful_successes(key) == 0 {
                problems.push(format!(
                    "{what}: the stateful phase got no 2xx from {key}, only {:?}",
                    report.stateful.get(*key).cloned().unwrap_or_default()
                ));
            }
            summary.push(format!(
                "  stateful {key}: answers {:?}",
                report.stateful.get(*key).cloned().unwrap_or_default()
            ));
        }
        summary.push(format!(
            "{what}: {} cases in {:.1} s ({})",
            report.total(),
            elapsed.as_secs_f64(),
            run.status
        ));
        // This document's own output, only where it had a problem of its own.
        if problems.len() > problems_before {
            problems.push(format!(
                "--- {what}: stdout (tail)\n{}\n--- stderr (tail)\n{}",
                tail(&run.stdout, 80),
                tail(&run.stderr, 20)
            ));
        }
    }
    server.stop();
    println!("{}", summary.join("\n"));
    assert!(
        problems.is_empty(),
        "schemathesis and the OpenAPI documents disagree with the server:\n{}\n{}",
        problems.join("\n"),
        summary.join("\n")
    );
}

/// The negative control: the same configuration against a copy of the v2
/// document broken three ways, one operation each, fails by exactly the three
/// checks that guard them, so the green run above means the checks ran and
/// held.
#[test]
fn schemathesis_fails_a_document_the_server_does_not_match() {
    let original = document("v2");
    let mut doc = original.clone();
    let show = "/paths/~1v2~1{project_id}~1tasks~1{task_id}/get/responses/400";
    let delete = "/paths/~1v2~1{project_id}~1tasks~1{task_id}/delete/responses";
    // The list envelope requires a field the server does not send.
    doc.pointer_mut("/components/schemas/ListTasksResponse/required")
        .and_then(Value::as_array_mut)
        .expect("the list envelope's required fields")
        .push(json!("total"));
    // Show's refusals are declared as plain text; the server sends JSON.
    let declared = original.pointer(show).expect("show's 400");
    let mut refusal = resolve(&original, declared).clone();
    let body = refusal["content"]["application/json"].take();
    refusal["content"] = json!({ "text/plain": body });
    *doc.pointer_mut(show).expect("show's 400") = refusal;
    // The delete no longer declares the 400 it answers for a missing task.
    doc.pointer_mut(delete)
        .and_then(Value::as_object_mut)
        .expect("the delete's responses")
        .remove("400");

    let server = InProcess::start(Config::default());
    let work = TempDir::new("schemathesis-control");
    let broken = work.path().join("broken-v2.json");
    std::fs::write(&broken, doc.to_string()).expect("write the broken document");
    let (run, report, _) = schemathesis(
        work.path(),
        "broken-v2",
        broken.to_str().expect("a UTF-8 path"),
        &server.url(),
        &[
            "--include-operation-id",
            "listTasks",
            "--include-operation-id",
            "showTask",
            "--include-operation-id",
            "deleteTask",
            "--phases",
            "examples,coverage",
        ],
    );
    server.stop();
    let failed: BTreeSet<&str> = report
        .checks
        .iter()
        .filter(|(_, failures)| **failures > 0)
        .map(|(name, _)| name.as_str())
        .collect();
    assert!(
        !run.status.success()
            && report.junit_failures.is_some_and(|n| n > 0)
            && failed
                == BTreeSet::from([
                    "content_type_conformance",
                    "response_schema_conformance",
                    "status_code_conformance",
                ]),
        "schemathesis should fail the broken document by exactly the three checks it breaks \
         (exit {}, JUnit failures {:?}, failed checks {failed:?}, failures {:?})\n--- stdout (tail)\n{}",
        run.status,
        report.junit_failures,
        report.failures,
        tail(&run.stdout, 60)
    );
}
