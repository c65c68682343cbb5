//! Negative controls: the reference server behind a proxy that breaks one
//! behaviour (a body on a successful delete, a running task's delete accepted,
//! no `X-Request-Id`); the run must fail with the rule that reads it, and a
//! SHOULD rule's failure fails the run only in strict mode.

use crate::support::{self, Answer, Ran, run_binary};

fn negative_control(name: &str, alter: support::Alteration, rules: &[&str]) -> Ran {
    let rt = support::runtime();
    let target = support::altered_reference(&rt, alter);
    let mut args = vec!["--target", target.as_str(), "--seed", "7"];
    let joined = rules.join(",");
    if !rules.is_empty() {
        args.extend(["--rule", joined.as_str()]);
    }
    let ran = run_binary(name, &args);
    drop(rt);
    ran
}

/// Adds a JSON body to every successful DELETE answer.
pub(super) fn body_on_delete(method: &str, _target: &str, mut answer: Answer) -> Answer {
    if method == "DELETE" && (200..300).contains(&answer.status) {
        answer.body = br#"{"deleted":true}"#.to_vec();
    }
    answer
}

/// Answers 200 with no body where the server refused to delete a running task
/// (the task is not deleted: the answer lies).
fn running_delete_accepted(method: &str, _target: &str, answer: Answer) -> Answer {
    let refused_running = String::from_utf8_lossy(&answer.body).contains("OMS.0063");
    if method == "DELETE" && refused_running {
        Answer {
            status: 200,
            headers: answer
                .headers
                .into_iter()
                .filter(|(n, _)| !n.eq_ignore_ascii_case("content-type"))
                .collect(),
            body: Vec::new(),
        }
    } else {
        answer
    }
}

#[test]
fn a_body_on_a_successful_delete_fails_the_run() {
    let ran = negative_control("body-on-delete", body_on_delete, &[]);
    assert_eq!(ran.code, 1, "{}", ran.explain());
    let rule = ran.rule("OMS-DEL-001");
    assert_eq!(rule["verdict"], "fail", "{rule:#}");
    let scenario = &rule["scenarios"][0];
    assert!(
        scenario["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("no body"),
        "{scenario:#}"
    );
    let curl = scenario["curl"][0].as_str().unwrap_or_default();
    assert!(
        curl.starts_with("curl ") && curl.contains("-X DELETE"),
        "{curl}"
    );
    assert!(
        !ran.stdout.contains("dev-token-a"),
        "a token leaked into the output"
    );
    let results = std::fs::read_to_string(ran.report_dir.join("results.json")).expect("results");
    assert!(
        !results.contains("dev-token-a") && !results.contains("SRC-SK-EXAMPLE"),
        "a secret leaked"
    );
    // The rules that do not look at the success body still pass.
    assert_eq!(ran.rule("OMS-DEL-003")["verdict"], "pass");
    assert_eq!(ran.rule("OMS-DEL-017")["verdict"], "pass");
}

#[test]
fn accepting_the_delete_of_a_running_task_fails_the_run() {
    let ran = negative_control(
        "running-accepted",
        running_delete_accepted,
        &["OMS-DEL-003", "OMS-DEL-004", "OMS-DEL-001"],
    );
    assert_eq!(ran.code, 1, "{}", ran.explain());
    assert_eq!(ran.rule("OMS-DEL-003")["verdict"], "fail");
    assert_eq!(ran.rule("OMS-DEL-004")["verdict"], "fail");
    assert_eq!(ran.rule("OMS-DEL-001")["verdict"], "pass");
    assert_eq!(
        ran.rule("OMS-DEL-003")["observed"],
        serde_json::json!(["200"])
    );
    let html = std::fs::read_to_string(ran.report_dir.join("report.html")).expect("html");
    assert!(
        html.contains("<details>") && html.contains("OMS-DEL-003"),
        "the failure unfolds in report.html"
    );
}

/// Drops `X-Request-Id` from every answer.
fn no_request_id(_method: &str, _target: &str, mut answer: Answer) -> Answer {
    answer
        .headers
        .retain(|(name, _)| !name.eq_ignore_ascii_case("x-request-id"));
    answer
}

#[test]
fn a_failing_should_rule_fails_the_run_only_in_strict_mode() {
    let ran = negative_control(
        "no-request-id",
        no_request_id,
        &["OMS-DEL-016", "OMS-DEL-001"],
    );
    assert_eq!(ran.code, 0, "{}", ran.explain());
    assert_eq!(ran.rule("OMS-DEL-016")["verdict"], "fail");
    assert_eq!(ran.rule("OMS-DEL-016")["binding"], false);

    let rt = support::runtime();
    let target = support::altered_reference(&rt, no_request_id);
    let strict = run_binary(
        "no-request-id-strict",
        &["--target", &target, "--rule", "OMS-DEL-016", "--strict"],
    );
    assert_eq!(strict.code, 1, "{}", strict.explain());
    drop(rt);
}
