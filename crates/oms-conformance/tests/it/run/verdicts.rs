//! The verdict machinery of a whole run: a known failure excused until it
//! expires, disabled rules skipped (and a run that tests nothing exits 2), an
//! unreachable target, a state not reached in time (inconclusive, never a
//! pass), and the queue allowance a task waiting for a slot has beyond the
//! state deadline.

use super::negative::body_on_delete;
use crate::support::{self, Ran, run_binary};

#[test]
fn a_known_failure_is_excused_until_it_expires() {
    let dir = support::scratch("expectations");
    let known = dir.join("known.toml");
    std::fs::write(
        &known,
        "[[known_failure]]\nrule = \"OMS-DEL-001\"\nreason = \"the gateway adds a body\"\nexpires = 2999-12-31\n",
    )
    .expect("expectations");
    let rt = support::runtime();
    let target = support::altered_reference(&rt, body_on_delete);
    let known_path = known.display().to_string();
    let excused = run_binary(
        "expectations-excused",
        &[
            "--target",
            &target,
            "--rule",
            "OMS-DEL-001",
            "--expectations",
            &known_path,
        ],
    );
    assert_eq!(excused.code, 0, "{}", excused.explain());
    assert!(excused.rule("OMS-DEL-001")["known_failure"].is_string());
    let junit = std::fs::read_to_string(excused.report_dir.join("junit.xml")).expect("junit");
    assert!(
        junit.contains("<skipped message=\"known failure: the gateway adds a body"),
        "{junit}"
    );

    // Against a conformant server the known failure passes: reported, not failing.
    let passes = run_binary(
        "expectations-passes",
        &["--rule", "OMS-DEL-001", "--expectations", &known_path],
    );
    assert_eq!(passes.code, 0, "{}", passes.explain());
    assert!(
        passes
            .stdout
            .contains("listed as a known failure but passed"),
        "{}",
        passes.explain()
    );

    let expired = dir.join("expired.toml");
    std::fs::write(
        &expired,
        "[[known_failure]]\nrule = \"OMS-DEL-001\"\nreason = \"old\"\nexpires = 2000-01-01\n",
    )
    .expect("expectations");
    let expired_path = expired.display().to_string();
    let ran = run_binary(
        "expectations-expired",
        &["--rule", "OMS-DEL-001", "--expectations", &expired_path],
    );
    assert_eq!(ran.code, 1, "{}", ran.explain());
    assert!(
        ran.stdout.contains("expired on 2000-01-01"),
        "{}",
        ran.explain()
    );
    drop(rt);
}

#[test]
fn disabled_rules_are_skipped_and_a_run_that_tests_nothing_exits_2() {
    let dir = support::scratch("disabled");
    let profile = support::profile(
        &dir,
        "",
        "[disabled.rules]\n\"OMS-DEL-006\" = \"cannot hold a task in state 0 or 1\"\n",
    );
    let profile = profile.display().to_string();
    let ran = run_binary(
        "disabled",
        &["--profile", &profile, "--rule", "OMS-DEL-006,OMS-DEL-001"],
    );
    assert_eq!(ran.code, 0, "{}", ran.explain());
    let rule = ran.rule("OMS-DEL-006");
    assert_eq!(rule["verdict"], "skipped");
    assert!(
        rule["scenarios"][0]["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("cannot hold"),
        "{rule:#}"
    );
    assert_eq!(
        ran.last_line(),
        "conformance: 1 passed, 0 failed, 0 inconclusive, 2 skipped"
    );

    let nothing = run_binary("nothing", &["--profile", &profile, "--rule", "OMS-DEL-006"]);
    assert_eq!(nothing.code, 2, "{}", nothing.explain());
    assert_eq!(
        nothing.last_line(),
        "conformance: 0 passed, 0 failed, 0 inconclusive, 2 skipped",
        "{}",
        nothing.explain()
    );
}

#[test]
fn an_unreachable_target_exits_2_with_a_report() {
    let ran = run_binary(
        "unreachable",
        &["--target", "http://127.0.0.1:9", "--request-timeout", "2s"],
    );
    assert_eq!(ran.code, 2, "{}", ran.explain());
    assert!(ran.stderr.contains("unreachable"), "{}", ran.explain());
    let results = ran.results();
    assert_eq!(results["rules"][0]["verdict"], "error");
}

#[test]
fn a_state_not_reached_in_time_is_inconclusive_never_a_pass() {
    let ran = support::run_inconclusive("inconclusive");
    assert_eq!(ran.code, 2, "{}", ran.explain());
    let rule = ran.rule_in("v1", "OMS-DEL-003");
    assert_eq!(rule["verdict"], "inconclusive", "{rule:#}");
    let reason = rule["scenarios"][0]["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("did not reach status running") && reason.contains("initializing"),
        "{reason}"
    );
    // v1 only: v2 shows a starting task as status 1, as it shows a waiting
    // one, and that has the queue allowance on top of the state deadline.
    assert!(
        ran.last_line()
            .contains("0 passed, 0 failed, 1 inconclusive"),
        "{}",
        ran.last_line()
    );
    assert_eq!(
        ran.results()["not_cleaned"],
        serde_json::json!([]),
        "the task was not cleaned up"
    );
}

/// The rules of [`a_task_waiting_for_a_slot_has_the_queue_allowance_beyond_the_state_deadline`]:
/// each scenario's task runs before it is stopped or ends, so they queue.
const QUEUED_RULES: [&str; 5] = [
    "OMS-DEL-001",
    "OMS-DEL-002",
    "OMS-DEL-005",
    "OMS-DEL-011",
    "OMS-DEL-015",
];

/// One run of [`QUEUED_RULES`] in v1 against a fresh server that runs one task
/// per project at a time and pauses 0.4 s on a stop, with a 1 s state deadline
/// and `deadlines` in the profile.
fn queued_run(name: &str, deadlines: &str) -> Ran {
    let rt = support::runtime();
    let mut config = oms_reference_server::Config::default();
    config.limits.max_parallel = 1;
    // A stop's pause holds the slot 0.4 s (of the 1 s state deadline): the
    // five or six stopped tasks of each project wait about 2 s for theirs.
    config.limits.pause_ms = 400;
    let addr = support::reference_server_with(&rt, config);
    let dir = support::scratch(name);
    let profile = support::profile(&dir, "parallel_quota = 1", deadlines);
    let (target, profile) = (format!("http://{addr}"), profile.display().to_string());
    let mut args = vec![
        "--target",
        &target,
        "--profile",
        &profile,
        "--state-timeout",
        "1s",
    ];
    for rule in QUEUED_RULES {
        args.extend(["--rule", rule]);
    }
    let ran = run_binary(name, &args);
    drop(rt);
    ran
}

#[test]
fn a_task_waiting_for_a_slot_has_the_queue_allowance_beyond_the_state_deadline() {
    // The scenarios' tasks wait their turn for the one slot of their project
    // (status 1), longer in all than the state deadline: with the default
    // allowance they pass, ...
    let ran = queued_run("queue-allowed", "");
    assert_eq!(ran.code, 0, "{}", ran.explain());
    for rule in QUEUED_RULES {
        assert_eq!(
            ran.rule(rule)["verdict"],
            "pass",
            "{rule}: {}",
            ran.explain()
        );
    }
    // ... and with next to none, a task still waiting at the state deadline
    // makes its scenario inconclusive (which also shows the queue was that long).
    let ran = queued_run("queue-1ms", "[deadlines]\nqueue = \"1ms\"");
    assert_eq!(ran.code, 2, "{}", ran.explain());
    let reasons: Vec<String> = QUEUED_RULES
        .iter()
        .flat_map(|rule| {
            let rule = ran.rule(rule);
            let scenarios = rule["scenarios"].as_array().cloned().unwrap_or_default();
            scenarios
                .into_iter()
                .filter_map(|s| s["reason"].as_str().map(str::to_owned))
        })
        .collect();
    assert!(
        reasons.iter().any(|r| r.contains("(last status waiting)")),
        "no scenario waited out the state deadline in the queue: {reasons:#?}"
    );
    assert_eq!(
        ran.results()["not_cleaned"],
        serde_json::json!([]),
        "a queued task was not cleaned up"
    );
}
