//! Whole runs of the binary: against the embedded reference server (conformant,
//! and the snapshot of its `results.json`), against negative controls (a proxy
//! that breaks one behaviour: the run must fail with the right rule), and the
//! verdict machinery (known failures, expired entries, disabled rules, an
//! unreachable target).

use std::sync::OnceLock;

use serde_json::Value;

use crate::support::{self, Answer, Ran, run_binary};

/// The default run against the embedded reference server, shared by the tests
/// that read it. The seed is fixed so that the snapshot is stable.
pub(crate) fn reference_run() -> &'static Ran {
    static RUN: OnceLock<Ran> = OnceLock::new();
    RUN.get_or_init(|| run_binary("reference", &["--seed", "7"]))
}

fn must_rules(results: &Value) -> Vec<&Value> {
    results["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .filter(|r| r["level"] == "MUST")
        .collect()
}

#[test]
fn the_reference_server_is_conformant() {
    let ran = reference_run();
    assert_eq!(ran.code, 0, "{}", ran.explain());
    let results = ran.results();
    // With no profile the run judges both dialects of the reference server.
    assert_eq!(results["apis"], serde_json::json!(["v1", "v2"]));
    let must = must_rules(&results);
    assert_eq!(must.len(), 15 + 18, "15 MUST rules of v1, 18 of v2");
    for rule in must {
        assert_eq!(rule["verdict"], "pass", "{rule:#}");
    }
    for rule in ["OMS-DEL-018", "OMS-DEL-023"] {
        assert_eq!(ran.rule_in("v2", rule)["verdict"], "pass", "{rule}");
    }
    assert_eq!(results["not_cleaned"], Value::Array(vec![]));
    let last = ran.last_line();
    // The four signature checks of OMS-DEL-011 need an AK/SK profile, in each
    // dialect, and so does v2's signed X-Project-Id of OMS-DEL-010; the default
    // profile authenticates with tokens (see aksk.rs for the other kind).
    assert!(
        last.starts_with("conformance: ")
            && last.ends_with(" passed, 0 failed, 0 inconclusive, 9 skipped"),
        "{last}"
    );
    for report in ["junit.xml", "cucumber.json", "report.html", "results.json"] {
        let len = std::fs::metadata(ran.report_dir.join(report))
            .map(|m| m.len())
            .unwrap_or(0);
        assert!(len > 100, "{report} is missing or empty");
    }
    let junit = std::fs::read_to_string(ran.report_dir.join("junit.xml")).expect("junit");
    for dialect in ["v1", "v2"] {
        let case = format!(
            "classname=\"{dialect}.OMS-DEL-013\" name=\"{dialect} OMS-DEL-013: 8 simultaneous deletes of a stopped task\""
        );
        assert!(junit.contains(&case), "{junit}");
    }
    let cucumber: Value = serde_json::from_str(
        &std::fs::read_to_string(ran.report_dir.join("cucumber.json")).expect("cucumber json"),
    )
    .expect("cucumber.json is JSON");
    assert!(
        cucumber
            .as_array()
            .is_some_and(|features| !features.is_empty())
    );
}

/// The v2-only profile: the whole suite in v2, with tokens (the AK/SK
/// profile judges both dialects, signed: aksk.rs).
#[test]
fn the_reference_server_is_conformant_in_v2_alone() {
    let profile = support::root().join("fixtures/profiles/reference-v2.toml");
    let ran = run_binary(
        "reference-v2",
        &["--profile", &profile.display().to_string(), "--seed", "7"],
    );
    assert_eq!(ran.code, 0, "{}", ran.explain());
    let results = ran.results();
    assert_eq!(results["apis"], serde_json::json!(["v2"]));
    let must = must_rules(&results);
    assert_eq!(must.len(), 18);
    for rule in must {
        assert_eq!(rule["dialect"], "v2");
        assert_eq!(rule["verdict"], "pass", "{rule:#}");
    }
    // Cross-version visibility needs both dialects: skipped, with the reason.
    let cross = ran.rule_in("v2", "OMS-DEL-023");
    assert_eq!(cross["verdict"], "skipped", "{cross:#}");
    assert!(
        cross["scenarios"][0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("both-dialects")),
        "{cross:#}"
    );
}

/// The races of a scenario as `results.json` reports them: (race, seed,
/// schedule), and the rows of each.
fn races(ran: &Ran, dialect: &str, rule: &str) -> Vec<(Value, Vec<Value>)> {
    ran.rule_in(dialect, rule)["scenarios"]
        .as_array()
        .expect("scenarios")
        .iter()
        .flat_map(|s| s["races"].as_array().cloned().unwrap_or_default())
        .map(|race| {
            let rows = race["rows"].as_array().cloned().unwrap_or_default();
            let head = serde_json::json!([race["seed"], race["schedule"], race["anchor"]]);
            (head, rows)
        })
        .collect()
}

#[test]
fn every_race_is_reported_with_its_timeline_and_its_schedule_replays_with_the_seed() {
    let ran = reference_run();
    for dialect in ["v1", "v2"] {
        let stop = races(ran, dialect, "OMS-DEL-014");
        assert_eq!(stop.len(), 1, "one race with the stop");
        let (_, rows) = &stop[0];
        let stops: Vec<&Value> = rows.iter().filter(|r| r["request"] == "stop").collect();
        assert_eq!(stops.len(), 1, "{rows:#?}");
        assert_eq!(stops[0]["answer"], "200", "{rows:#?}");
        let deletes: Vec<&Value> = rows
            .iter()
            .filter(|r| {
                r["request"]
                    .as_str()
                    .is_some_and(|n| n.starts_with("delete"))
            })
            .collect();
        // Before the stop, while it is in flight, and after its answer: the
        // reference server refuses each (running, then pausing).
        let stop_answered = stops[0]["answered_us"].as_i64().expect("answered");
        assert!(
            deletes.iter().any(|d| d["sent_us"].as_i64() < Some(0)),
            "{rows:#?}"
        );
        assert!(
            deletes
                .iter()
                .any(|d| d["sent_us"].as_i64() > Some(stop_answered)),
            "{rows:#?}"
        );
        // Refused while the task runs or pauses. One sent after the stop's
        // answer may land once the pause is over (a loaded machine sends it
        // late) and be accepted; those still in flight then find it gone.
        let won: Vec<&&Value> = deletes.iter().filter(|d| d["answer"] == "200").collect();
        assert!(won.len() <= 1, "{rows:#?}");
        if let Some(winner) = won.first() {
            assert!(
                winner["sent_us"].as_i64() > Some(stop_answered),
                "{rows:#?}"
            );
        }
        for delete in deletes.iter().filter(|d| d["answer"] != "200") {
            let gone = !won.is_empty() && delete["answer"] == "400 OMS.1009";
            assert!(gone || delete["answer"] == "400 OMS.0063", "{rows:#?}");
        }
        // Four rounds of start races, then the end race's tries: a task
        // whose first delete arrived after its end (a loaded machine sends
        // late) is judged too, and another one tried, up to ten in all.
        let starts = races(ran, dialect, "OMS-DEL-024");
        assert!(
            (5..=14).contains(&starts.len()),
            "four rounds of start races and one to ten end races, got {}",
            starts.len()
        );
        for (_, rows) in &starts {
            let won = rows
                .iter()
                .filter(|r| {
                    r["request"]
                        .as_str()
                        .is_some_and(|n| n.starts_with("delete"))
                })
                .filter(|r| r["answer"] == "200")
                .count();
            assert!(won <= 1, "{rows:#?}");
        }
        // A delete of the end race is accepted once the task has succeeded.
        let (_, end) = starts.last().expect("end race");
        assert!(end.iter().any(|r| r["answer"] == "200"), "{end:#?}");
    }
    // The same seed draws the same schedules: the v2-only run (seed 7 too)
    // raced v2 on the schedules of the two-dialect run's v2.
    let profile = support::root().join("fixtures/profiles/reference-v2.toml");
    let again = run_binary(
        "reference-v2-replay",
        &[
            "--profile",
            &profile.display().to_string(),
            "--seed",
            "7",
            "--rule",
            "OMS-DEL-014,OMS-DEL-024",
        ],
    );
    assert_eq!(again.code, 0, "{}", again.explain());
    for rule in ["OMS-DEL-014", "OMS-DEL-024"] {
        // An end race's tries share its schedule: one head for them all.
        let heads = |ran: &Ran| {
            let mut heads = races(ran, "v2", rule)
                .into_iter()
                .map(|(h, _)| h)
                .collect::<Vec<_>>();
            heads.dedup();
            heads
        };
        assert_eq!(heads(ran), heads(&again), "{rule}");
    }
    let html = std::fs::read_to_string(ran.report_dir.join("report.html")).expect("html");
    assert!(
        html.contains("race: stop of task"),
        "the HTML report shows the timelines"
    );
}

#[test]
fn the_reference_results_match_the_snapshot() {
    let ran = reference_run();
    let results = ran.results();
    insta::assert_json_snapshot!("reference_results", results, {
        ".base_url" => "[base_url]",
        ".duration_ms" => "[duration]",
        ".exchanges" => "[count]",
        // The digests of what judged the run change with any byte of the
        // catalogue, the features or the reference profile; provenance.rs
        // checks each against its definition.
        ".provenance.catalogue.sha256" => "[sha256]",
        ".provenance.features.sha256" => "[sha256]",
        ".provenance.profile.sha256" => "[sha256]",
        ".rules[].scenarios[].duration_ms" => "[duration]",
        // The timelines of the races are times and answers as they came.
        ".rules[].scenarios[].races" => "[races]",
        // Which deletes of a race are answered with what is up to the
        // interleaving (OMS-DEL-014 and 024 of v1, then of v2).
        ".rules[13].observed" => "[race]",
        ".rules[13].scenarios[].observed" => "[race]",
        ".rules[17].observed" => "[race]",
        ".rules[17].scenarios[].observed" => "[race]",
        ".rules[31].observed" => "[race]",
        ".rules[31].scenarios[].observed" => "[race]",
        ".rules[40].observed" => "[race]",
        ".rules[40].scenarios[].observed" => "[race]",
        // Whether the delete of a pausing task (v2 OMS-DEL-018) lands before
        // the pause ends is up to the scheduler too.
        ".rules[35].observed" => "[race]",
        ".rules[35].scenarios[].observed" => "[race]",
        // An end race tries another task when one ends before its deletes
        // begin or after the first arrives, as the machine's load has it.
        ".tasks_created" => "[count]",
    });
}

fn negative_control(name: &str, alter: support::Alteration, rules: &[&str]) -> Ran {
    let rt = support::runtime();
    let upstream = support::reference_server(&rt);
    let proxy = support::altering_proxy(&rt, upstream, alter);
    let target = format!("http://{proxy}");
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
fn body_on_delete(method: &str, _target: &str, mut answer: Answer) -> Answer {
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
    let upstream = support::reference_server(&rt);
    let proxy = support::altering_proxy(&rt, upstream, body_on_delete);
    let target = format!("http://{proxy}");
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
    let upstream = support::reference_server(&rt);
    let proxy = support::altering_proxy(&rt, upstream, no_request_id);
    let target = format!("http://{proxy}");
    let strict = run_binary(
        "no-request-id-strict",
        &["--target", &target, "--rule", "OMS-DEL-016", "--strict"],
    );
    assert_eq!(strict.code, 1, "{}", strict.explain());
    drop(rt);
}

#[test]
fn a_state_not_reached_in_time_is_inconclusive_never_a_pass() {
    let ran = run_binary(
        "inconclusive",
        &[
            "--api",
            "v1",
            "--rule",
            "OMS-DEL-003",
            "--state-timeout",
            "1ms",
        ],
    );
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

#[test]
fn the_features_can_come_from_a_folder() {
    let features = support::root().join("features").display().to_string();
    let ran = run_binary(
        "features-dir",
        &["--features-dir", &features, "--rule", "OMS-DEL-008"],
    );
    assert_eq!(ran.code, 0, "{}", ran.explain());
    assert_eq!(ran.rule("OMS-DEL-008")["verdict"], "pass");

    let empty = support::scratch("no-features");
    let ran = run_binary(
        "features-empty",
        &["--features-dir", &empty.display().to_string()],
    );
    assert_eq!(ran.code, 2, "{}", ran.explain());
}
