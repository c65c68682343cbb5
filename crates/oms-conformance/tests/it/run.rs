//! Whole runs of the binary against the embedded reference server: conformant
//! in both dialects and in v2 alone, every race reported with its timeline and
//! replayed by its seed, the snapshot of its `results.json`, and the features
//! read from a folder. Its children: `negative`, the negative controls (a proxy
//! that breaks one behaviour: the run must fail with the right rule),
//! `verdicts`, the verdict machinery (known failures, expired entries, disabled
//! rules, an unreachable target, deadlines), and `declared`, the answers and
//! known failures of one dialect (against the reference server with a fault). The children live in `run/` while
//! this file stays where it is: insta keeps the snapshot of
//! `the_reference_results_match_the_snapshot` in the `snapshots/` folder beside
//! the file that takes it.

mod declared;
mod negative;
mod verdicts;

use std::sync::OnceLock;

use serde_json::Value;

use crate::support::{self, Ran, run_binary};

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
        // The commit the kit was built from; provenance.rs checks it is HEAD's.
        ".provenance.kit.commit" => "[commit]",
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
