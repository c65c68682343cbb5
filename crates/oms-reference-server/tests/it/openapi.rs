//! The OpenAPI descriptions of both dialects (`fixtures/openapi/oms-v1.yaml`
//! and `oms-v2.yaml`). In process: the emulator serves them byte for byte,
//! as YAML, without credentials; they are OpenAPI 3.1 whose references all
//! resolve; they are true to the router in both directions (every route the
//! source declares is probed with every method, and a method is served exactly
//! when a document describes it); and every operation declares the one OMS
//! error body for its 4xx answers. Then schemathesis (pinned in
//! `schemathesis_requirements.txt`, in a cached venv, configured by
//! `schemathesis.toml`) runs against a live server for each document with its
//! server-error, status-code, content-type and response-schema checks: it must
//! exit 0 with no failed check and show a test case for every operation. A
//! negative control proves the same run fails when a document and the server
//! disagree.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::{Value, json};

use oms_reference_server::Config;

use crate::process::{Finished, TempDir, run_with_deadline, tail};
use crate::support::{PROJECT_A, SUCCEEDING, TOKEN_A, TestServer};
use crate::venv::Venv;
use crate::wire::InProcess;

const REQUIREMENTS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/it/schemathesis_requirements.txt"
);
const CONFIG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/schemathesis.toml");

/// The dialects, and the routes that serve their documents.
const DOCUMENTS: [(&str, &str); 2] = [("v1", "/openapi/v1.yaml"), ("v2", "/openapi/v2.yaml")];

/// The exact version the requirements pin; the test checks that the venv runs it.
const SCHEMATHESIS_VERSION: &str = "4.32.5";

/// The four checks the issue names, as schemathesis 4.32.5 names them.
const CHECKS: [&str; 4] = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
];

/// The error answers every operation declares: the OMS ones (400, 401, 403,
/// 413) and the connection layer's (408, 414, 429, 431), each with the OMS
/// error body.
const DECLARED_ERRORS: [&str; 8] = ["400", "401", "403", "408", "413", "414", "429", "431"];

/// A run has measured 7.8–18.2 s per document on the 2-core development
/// machine beside other builds; this only keeps a stuck run from hanging it.
const RUN_DEADLINE: Duration = Duration::from_secs(120);

/// The operation keys of an OpenAPI path item.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The methods probed on every route: the four the API uses, and two it
/// does not. `HEAD` is left out: axum answers it on every `GET` route as the
/// `GET` without a body (RFC 9110 §9.3.2), as the documents say.
const PROBED: [&str; 6] = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"];

static SCHEMATHESIS: Venv = Venv::new(
    "schemathesis-venv",
    REQUIREMENTS,
    "the schemathesis test of the OpenAPI documents",
);

fn fixture(dialect: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/openapi")
        .join(format!("oms-{dialect}.yaml"))
}

fn document(dialect: &str) -> Value {
    let path = fixture(dialect);
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    yaml_serde::from_str(&text).unwrap_or_else(|e| panic!("{} is not YAML: {e}", path.display()))
}

/// A reference's target, following `$ref` chains (local references only).
fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    let mut value = value;
    for _ in 0..16 {
        let Some(target) = value.get("$ref").and_then(Value::as_str) else {
            return value;
        };
        value = target
            .strip_prefix('#')
            .and_then(|pointer| doc.pointer(pointer))
            .unwrap_or_else(|| panic!("unresolvable $ref {target}"));
    }
    panic!("a $ref chain longer than 16");
}

/// Every operation of a document: (method in capitals, path template, its
/// path item, the operation).
fn operations(doc: &Value) -> Vec<(String, String, &Value, &Value)> {
    let paths = doc["paths"].as_object().expect("paths is an object");
    let mut out = Vec::new();
    for (path, item) in paths {
        for method in METHODS {
            if let Some(operation) = item.get(method) {
                out.push((method.to_uppercase(), path.clone(), item, operation));
            }
        }
    }
    out
}

/// Every `$ref` in `value`.
fn refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("$ref") {
                out.push(target.clone());
            }
            map.values().for_each(|v| refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

/// Whether `schema` is the OMS error body: its component, or an `allOf`
/// that includes it (the gateway's body, which requires `request_id`).
fn is_error_body(doc: &Value, schema: &Value) -> bool {
    let error_body = "#/components/schemas/ErrorBody";
    if schema.get("$ref").and_then(Value::as_str) == Some(error_body) {
        return true;
    }
    let schema = resolve(doc, schema);
    schema["allOf"]
        .as_array()
        .is_some_and(|parts| parts.iter().any(|p| is_error_body(doc, p)))
}

#[tokio::test]
async fn both_documents_are_served_byte_for_byte_without_credentials() {
    let server = TestServer::new();
    for (dialect, route) in DOCUMENTS {
        let fixture = std::fs::read(fixture(dialect)).expect("read the fixture");
        for method in [Method::GET, Method::HEAD] {
            // No credentials at all: the documents are public.
            let request = Request::builder()
                .method(method.clone())
                .uri(route)
                .body(Body::empty())
                .expect("request");
            let reply = server.send(request).await;
            assert_eq!(reply.status, StatusCode::OK, "{method} {route}");
            assert_eq!(
                reply.headers["content-type"], "application/yaml",
                "{method} {route}: RFC 9512's media type"
            );
            let id = reply.headers["x-request-id"].to_str().unwrap_or_default();
            assert!(
                id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()),
                "{method} {route} carries an X-Request-Id, got {id:?}"
            );
            let expected: &[u8] = if method == Method::GET { &fixture } else { b"" };
            assert!(
                reply.bytes == expected,
                "{method} {route} serves exactly the bytes of fixtures/openapi/oms-{dialect}.yaml \
                 ({} bytes served, {} expected)",
                reply.bytes.len(),
                expected.len()
            );
            assert_eq!(
                reply.headers["content-length"].to_str().ok(),
                Some(fixture.len().to_string().as_str()),
                "{method} {route}: Content-Length"
            );
        }
        // A token changes nothing, even one the server does not know.
        for token in [TOKEN_A, "not-a-token"] {
            let reply = server.raw(Method::GET, route, Some(token), b"").await;
            assert_eq!(reply.status, StatusCode::OK, "GET {route} with {token}");
            assert!(reply.bytes == fixture, "GET {route} with {token}");
        }
    }
}

#[tokio::test]
async fn other_methods_on_the_documents_get_the_oms_405() {
    let server = TestServer::new();
    for (_, route) in DOCUMENTS {
        for method in [
            Method::POST,
            Method::PUT,
            Method::DELETE,
            Method::PATCH,
            Method::OPTIONS,
        ] {
            for token in [None, Some(TOKEN_A)] {
                let reply = server.raw(method.clone(), route, token, b"{}").await;
                let what = format!("{method} {route} (token {token:?})");
                crate::support::expect(&reply, 405, "APIGW.0101", &what);
                assert_eq!(reply.headers["content-type"], "application/json", "{what}");
                assert_eq!(reply.headers["allow"], "GET,HEAD", "{what}");
                assert!(reply.headers.contains_key("x-request-id"), "{what}");
            }
        }
    }
}

#[test]
fn both_documents_are_openapi_3_1_with_every_reference_resolved() {
    for (dialect, _) in DOCUMENTS {
        let doc = document(dialect);
        let what = format!("oms-{dialect}.yaml");
        assert_eq!(doc["openapi"], "3.1.0", "{what}");
        for field in ["title", "version", "description"] {
            assert!(doc["info"][field].is_string(), "{what}: info.{field}");
        }
        assert!(
            doc["info"]["description"]
                .as_str()
                .is_some_and(|d| d.contains("/openapi/")),
            "{what}: info.description names where the other document is served"
        );
        let mut targets = Vec::new();
        refs(&doc, &mut targets);
        assert!(targets.len() > 50, "{what}: too few $refs found");
        for target in &targets {
            assert!(
                target
                    .strip_prefix('#')
                    .is_some_and(|p| doc.pointer(p).is_some()),
                "{what}: $ref {target} does not resolve"
            );
        }

        // The two ways to authenticate, as alternatives on every operation.
        let schemes = &doc["components"]["securitySchemes"];
        assert_eq!(
            schemes["token"],
            json!({"type": "apiKey", "in": "header", "name": "X-Auth-Token",
                   "description": schemes["token"]["description"]}),
            "{what}: the token scheme"
        );
        assert_eq!(schemes["aksk"]["type"], "http", "{what}");
        assert_eq!(schemes["aksk"]["scheme"], "SDK-HMAC-SHA256", "{what}");
        assert!(
            schemes["aksk"]["description"]
                .as_str()
                .is_some_and(|d| d.contains("signing.md")),
            "{what}: the AK/SK scheme points to signing.md"
        );
        assert_eq!(
            doc["security"],
            json!([{"token": []}, {"aksk": []}]),
            "{what}"
        );

        let mut ids = BTreeSet::new();
        let operations = operations(&doc);
        assert!(operations.len() >= 6, "{what}: too few operations");
        for (method, path, item, operation) in operations {
            let op = format!("{what} {method} {path}");
            let id = operation["operationId"].as_str().expect("an operationId");
            assert!(ids.insert(id.to_owned()), "{op}: operationId {id} twice");
            assert!(operation["description"].is_string(), "{op}: description");

            // Every template parameter is a required path parameter.
            let parameters: Vec<&Value> = item["parameters"]
                .as_array()
                .into_iter()
                .chain(operation["parameters"].as_array())
                .flatten()
                .map(|p| resolve(&doc, p))
                .collect();
            for name in path
                .split('/')
                .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
            {
                assert!(
                    parameters
                        .iter()
                        .any(|p| p["name"] == name && p["in"] == "path" && p["required"] == true),
                    "{op}: the path parameter {name} is not declared"
                );
            }

            let responses = operation["responses"]
                .as_object()
                .expect("responses is an object");
            assert!(responses.contains_key("200"), "{op}: a 200 answer");
            for code in DECLARED_ERRORS {
                assert!(responses.contains_key(code), "{op}: no {code} answer");
            }
            for (code, response) in responses {
                let response = resolve(&doc, response);
                assert!(
                    !code.starts_with('5'),
                    "{op}: declares {code}; the server never means to answer 5xx"
                );
                let header = resolve(&doc, &response["headers"]["X-Request-Id"]);
                assert_eq!(
                    header["required"], true,
                    "{op} {code}: X-Request-Id is declared, required"
                );
                if code.starts_with('4') {
                    let content = response["content"].as_object().expect("content");
                    let keys: Vec<&String> = content.keys().collect();
                    assert_eq!(keys, ["application/json"], "{op} {code}: content");
                    assert!(
                        is_error_body(&doc, &content["application/json"]["schema"]),
                        "{op} {code}: the answer is not the shared OMS error body"
                    );
                }
            }
        }
    }
}

/// The route templates the server's source declares (`.route("…", …)` in
/// `src/api/`): the list the documents are checked against, so a route
/// added without its description fails here.
fn source_routes() -> BTreeSet<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/api");
    let mut routes = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).expect("read src/api") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("read a source file");
        for (at, _) in text.match_indices(".route(") {
            let literal = text[at..]
                .split('"')
                .nth(1)
                .expect("a route's path is a string literal");
            routes.insert(literal.to_owned());
        }
    }
    routes
}

/// A route template made concrete: project A, and `task` for a task id.
fn concrete(template: &str, task: u64) -> String {
    template
        .replace("{project_id}", PROJECT_A)
        .replace("{task_id}", &task.to_string())
}

/// Whether the router serves `method` on `path`: anything but its
/// route-not-found 404 `APIGW.0101` and its 405.
async fn served(server: &TestServer, method: &str, path: &str) -> bool {
    let method = Method::from_bytes(method.as_bytes()).expect("a method");
    let reply = server.raw(method, path, Some(TOKEN_A), b"{}").await;
    let route_not_found =
        reply.status == StatusCode::NOT_FOUND && reply.error_code() == "APIGW.0101";
    !(route_not_found || reply.status == StatusCode::METHOD_NOT_ALLOWED)
}

#[tokio::test]
async fn every_route_served_is_described_and_every_operation_described_is_served() {
    // What the documents describe, plus the documents themselves.
    let mut described: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (dialect, route) in DOCUMENTS {
        let doc = document(dialect);
        for (method, path, _, _) in operations(&doc) {
            described.entry(path).or_default().insert(method);
        }
        described
            .entry(route.to_owned())
            .or_default()
            .insert("GET".to_owned());
    }
    // The routes the source declares; those beyond the documents' paths are
    // the two documents and the v2 route the emulator refuses on purpose.
    let routes = source_routes();
    let undescribed: BTreeSet<&str> = routes
        .iter()
        .filter(|r| !described.contains_key(r.as_str()))
        .map(String::as_str)
        .collect();
    assert_eq!(
        undescribed,
        BTreeSet::from(["/v2/{project_id}/tasks/batch-update"]),
        "routes in src/api/ that no document describes (batch-update alone is expected: it \
         answers 404 to every method, as the v2 document says)"
    );
    let unrouted: Vec<&String> = described.keys().filter(|p| !routes.contains(*p)).collect();
    assert!(
        unrouted.is_empty(),
        "paths the documents describe that src/api/ does not route: {unrouted:?}"
    );

    let server = TestServer::new();
    let task = server.create(SUCCEEDING).await;
    let mut wrong = Vec::new();
    for template in &routes {
        let expected = described.get(template).cloned().unwrap_or_default();
        for method in PROBED {
            let path = concrete(template, task);
            let is_served = served(&server, method, &path).await;
            if is_served != expected.contains(method) {
                wrong.push(format!(
                    "{method} {template}: {} but {}",
                    if is_served { "served" } else { "not served" },
                    if expected.contains(method) {
                        "described"
                    } else {
                        "not described"
                    }
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "the router and the documents disagree:\n  {}",
        wrong.join("\n  ")
    );
    let probed_ops: usize = described.values().map(BTreeSet::len).sum();
    assert!(probed_ops >= 15, "too few operations probed: {described:?}");
}

/// What one schemathesis run reported, from its NDJSON events and JUnit XML.
#[derive(Debug, Default)]
struct Report {
    /// Test cases per operation (`METHOD /path/template`).
    cases: BTreeMap<String, usize>,
    /// Answers per operation and status code.
    statuses: BTreeMap<String, BTreeMap<u16, usize>>,
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
                    *report
                        .statuses
                        .entry(op.clone())
                        .or_default()
                        .entry(status as u16)
                        .or_default() += 1;
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
    // The emulator as users run it, both documents against one store: the v2
    // run lists the tasks the v1 run created, as v2 shows them.
    let server = InProcess::start(Config::default());
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
