//! Interop with the real client: the official Huawei Cloud Python SDK
//! (`huaweicloudsdkoms` and `huaweicloudsdkcore`, pinned in
//! `sdk_requirements.txt`) drives the server over TCP through `call_api` on
//! the v1 paths (`sdk_interop.py`), and through its native v2 client,
//! `OmsClient` with typed requests (`sdk_v2_interop.py`), signing every
//! request with AK/SK. Each test provisions (or reuses) a cached
//! virtual environment for the SDK itself, runs `sdk_interop.py` against a
//! server on the wall clock, and asserts on the one JSON line of observations
//! the script prints. Without `python3` or a reachable package index it fails,
//! saying which; it never skips.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use oms_reference_server::{Config, DEV_AKSK};
use serde_json::{Value, json};

use crate::process::{Finished, TempDir, run_with_deadline};
use crate::venv::Venv;
use crate::wire::InProcess;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/sdk_interop.py");
const V2_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/sdk_v2_interop.py");
const REQUIREMENTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/sdk_requirements.txt");
const RUNNING: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../fixtures/create/running.json"
);

/// The SDK version the requirements pin; the script reports what it imported,
/// so a venv that is not the pinned one fails the test instead of passing.
const SDK_VERSION: &str = "3.1.219";

/// The headers the SDK signs on every request, as `signing.md` documents them.
const SIGNED_HEADERS: &str = "content-type;host;user-agent;x-project-id;x-sdk-date";

/// The script's own waits are shorter (10 s per poll loop, 10 s per request).
const SCRIPT_DEADLINE: Duration = Duration::from_secs(90);

#[test]
fn official_python_sdk_drives_a_task_through_its_lifecycle() {
    let (observed, run) = run_script(SCRIPT, &[RUNNING]);
    check_observations(&observed, &run);
}

#[test]
fn official_python_sdks_v2_client_drives_a_task_through_its_lifecycle() {
    let (observed, run) = run_script(V2_SCRIPT, &[]);
    let mut check = Checks::new(&observed);
    check.eq("/unexpected", Value::Null);
    check.eq("/sdk/oms", json!(SDK_VERSION));
    check.eq("/create/status_code", json!(200));
    check.that("/create/id", "a task id", Value::is_u64);
    let id = observed["create"]["id"].clone();
    check.eq("/create/task_name", json!(format!("oms-task-{id}")));
    check.eq("/running/status", json!(2));
    check.eq("/show/id", id.clone());
    check.eq("/show/status", json!(2));
    check.eq("/show/dst_bucket", json!("dst-bucket"));
    check.eq("/list/count", json!(1));
    check.eq("/list/ids", json!([id]));
    check.client_errors(&[
        ("delete_running", 400, "OMS.0063"),
        ("show_deleted", 400, "OMS.1009"),
        ("wrong_secret", 401, "APIGW.0301"),
    ]);
    check.eq("/stop/status_code", json!(200));
    check.eq("/stopped/status", json!(3));
    check.eq("/delete_stopped/status_code", json!(200));
    assert!(
        check.failures.is_empty() && run.status.success(),
        "the official SDK's v2 client and the reference server disagree (script {}):\n  {}\n\
         --- observations\n{}\n--- stderr\n{}",
        run.status,
        check.failures.join("\n  "),
        serde_json::to_string_pretty(&observed).unwrap_or_default(),
        run.stderr
    );
}

/// The README's Python example, as written but for the server's address.
#[test]
fn the_readmes_python_example_runs() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
        .expect("read README.md");
    let example = readme
        .split("```python\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("the README has a Python example");
    assert!(example.contains("http://127.0.0.1:8080"), "{example}");
    let python = sdk_python();
    let server = InProcess::start(Config::default());
    let home = TempDir::new("sdk-home");
    let mut command = Command::new(&python);
    command
        .arg("-c")
        .arg(example.replace("http://127.0.0.1:8080", &server.url()))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home.path());
    let run = run_with_deadline(command, SCRIPT_DEADLINE, "the README's Python example");
    server.stop();
    assert!(
        run.status.success() && run.stdout.trim() == "0",
        "the README's example printed {:?} (exit {}), expected the count 0 of a fresh server\n--- stderr\n{}",
        run.stdout,
        run.status,
        run.stderr
    );
}

/// Runs `script ENDPOINT PROJECT_ID ARGS…` in the SDK's venv against a fresh
/// server, and parses the one JSON line of observations it prints last.
fn run_script(script: &str, args: &[&str]) -> (Value, Finished) {
    let python = sdk_python();
    let server = InProcess::start(Config::default());
    let home = TempDir::new("sdk-home");
    let (ak, sk, project_id) = DEV_AKSK[0];

    let mut command = Command::new(&python);
    command
        .arg(script)
        .arg(server.url())
        .arg(project_id)
        .args(args)
        // A clean environment: no proxy, `PYTHONPATH` or `HUAWEICLOUD_SDK_*`
        // variable of the developer's shell may change what the SDK sends.
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        // The SDK writes `~/.huaweicloud/application_id` on first use.
        .env("HOME", home.path())
        .env("PYTHONUTF8", "1")
        .env("OMS_SDK_AK", ak)
        .env("OMS_SDK_SK", sk);
    let run = run_with_deadline(command, SCRIPT_DEADLINE, "the SDK interop script");
    server.stop();

    let line = run.stdout.lines().rev().find(|l| !l.trim().is_empty());
    let observed: Value = match line.map(serde_json::from_str) {
        Some(Ok(value)) => value,
        _ => panic!(
            "the SDK interop script printed no JSON line of observations (exit {}):\n\
             --- stdout\n{}\n--- stderr\n{}",
            run.status, run.stdout, run.stderr
        ),
    };
    (observed, run)
}

/// Every observation the script reports, checked at once so one failure
/// message lists every step that went wrong, with the full observations.
fn check_observations(observed: &Value, run: &Finished) {
    let mut check = Checks::new(observed);
    check.eq("/unexpected", Value::Null);
    check.eq("/sdk/core", json!(SDK_VERSION));
    check.eq("/sdk/oms", json!(SDK_VERSION));

    check.eq("/create/status_code", json!(200));
    check.that("/create/json/id", "a task id", Value::is_u64);
    check.eq("/running/status", json!(2));
    check.client_errors(&[
        ("delete_running", 400, "OMS.0063"),
        ("query_deleted", 400, "OMS.1009"),
        ("wrong_secret", 401, "APIGW.0301"),
    ]);
    // The server's request id reaches the caller's exception: what a user
    // quotes in a support ticket.
    check.that("/delete_running/request_id", "32 hex digits", |id| {
        id.as_str()
            .is_some_and(|id| id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()))
    });
    check.eq("/stop/outcome", json!("ok"));
    check.eq("/stop/status_code", json!(200));
    check.eq("/stopped/status", json!(3));
    check.eq("/delete_stopped/outcome", json!("ok"));
    check.eq("/delete_stopped/status_code", json!(200));
    check.eq("/delete_stopped/body", json!(""));

    // What went over the wire: every request signed the documented way, and
    // the bodies the SDK serialised are the JSON it was given.
    let requests = observed["requests"].as_array().cloned().unwrap_or_default();
    check.that(
        "/requests",
        "create, 2+ queries, 2 deletes, stop, query, query",
        |r| r.as_array().is_some_and(|r| r.len() >= 8),
    );
    for i in 0..requests.len() {
        check.eq(&format!("/requests/{i}/scheme"), json!("SDK-HMAC-SHA256"));
        check.eq(
            &format!("/requests/{i}/signed_headers"),
            json!(SIGNED_HEADERS),
        );
    }
    // The wrong-secret client keeps the right access key, so its 401 can only
    // come from the signature check.
    check.eq(
        &format!("/requests/{}/access", requests.len().saturating_sub(1)),
        json!(DEV_AKSK[0].0),
    );
    let fixture: Value =
        serde_json::from_str(&std::fs::read_to_string(RUNNING).expect("read running.json"))
            .expect("running.json is JSON");
    let sent_body = |method: &str| {
        requests
            .iter()
            .find(|r| r["method"] == method)
            .and_then(|r| r["body"].as_str())
            .and_then(|b| serde_json::from_str::<Value>(b).ok())
            .unwrap_or(Value::Null)
    };
    check.value("the POST body sent", sent_body("POST"), fixture);
    check.value(
        "the PUT body sent",
        sent_body("PUT"),
        json!({"operation": "stop"}),
    );

    assert!(
        check.failures.is_empty() && run.status.success(),
        "the official SDK and the reference server disagree (script {}):\n  {}\n\
         --- observations\n{}\n--- stderr\n{}",
        run.status,
        check.failures.join("\n  "),
        serde_json::to_string_pretty(observed).unwrap_or_default(),
        run.stderr
    );
}

/// Mismatches between the observations and what the spec expects, collected
/// rather than asserted one by one so a single run names all of them.
struct Checks<'a> {
    observed: &'a Value,
    failures: Vec<String>,
}

impl<'a> Checks<'a> {
    fn new(observed: &'a Value) -> Self {
        Self {
            observed,
            failures: Vec::new(),
        }
    }

    fn at(&self, pointer: &str) -> Value {
        self.observed
            .pointer(pointer)
            .cloned()
            .unwrap_or(Value::Null)
    }

    /// The observation at `pointer` (a JSON pointer) equals `expected`.
    fn eq(&mut self, pointer: &str, expected: Value) {
        let actual = self.at(pointer);
        self.value(pointer, actual, expected);
    }

    /// The observation at `pointer` satisfies `predicate`, described as `expected`.
    fn that(&mut self, pointer: &str, expected: &str, predicate: impl Fn(&Value) -> bool) {
        let actual = self.at(pointer);
        if !predicate(&actual) {
            self.failures
                .push(format!("{pointer}: expected {expected}, got {actual}"));
        }
    }

    /// Each step failed as the SDK reports an error answer: a
    /// `ClientRequestException` with the step's HTTP status and OMS code.
    fn client_errors(&mut self, steps: &[(&str, u16, &str)]) {
        for &(step, status, code) in steps {
            self.eq(
                &format!("/{step}/exception"),
                json!("ClientRequestException"),
            );
            self.eq(&format!("/{step}/status_code"), json!(status));
            self.eq(&format!("/{step}/error_code"), json!(code));
        }
    }

    fn value(&mut self, what: &str, actual: Value, expected: Value) {
        if actual != expected {
            self.failures
                .push(format!("{what}: expected {expected}, got {actual}"));
        }
    }
}

/// The Python of a virtual environment holding exactly `sdk_requirements.txt`,
/// provisioned on first use and reused after (`venv`).
fn sdk_python() -> PathBuf {
    static SDK: Venv = Venv::new("sdk-venv", REQUIREMENTS, "the official SDK interop test");
    SDK.python()
}
