//! Answers and known failures per dialect, against the reference server with
//! a fault: a known failure qualified by a dialect excuses its rule in that
//! dialect alone (an unqualified one in every dialect), and strict mode holds
//! a pausing task's delete to the profile's `declared.pausing`, the table of
//! a dialect (`[declared.v2]`) over `[declared]`.

use oms_reference_server::faults::Fault;

use crate::support::{self, Ran, run_binary};

/// The reference server with `fault`, on `127.0.0.1:0`, in `rt`.
fn faulty(rt: &tokio::runtime::Runtime, fault: Fault) -> String {
    let config = oms_reference_server::Config {
        fault: Some(fault),
        ..oms_reference_server::Config::default()
    };
    format!("http://{}", support::reference_server_with(rt, config))
}

/// Both dialects, OMS-DEL-003 and -004 only, against `delete-running` (which
/// fails both rules in both dialects), with an expectations file excusing
/// them: `qualifier` is appended to each entry.
fn excused_run(name: &str, qualifier: &str) -> Ran {
    let dir = support::scratch(name);
    let known = dir.join("known.toml");
    let entry = |rule: &str| {
        format!(
            "[[known_failure]]\nrule = \"{rule}\"\nreason = \"the v1 gateway deletes running tasks\"\nexpires = 2999-12-31\n{qualifier}\n"
        )
    };
    std::fs::write(&known, entry("OMS-DEL-003") + &entry("OMS-DEL-004")).expect("expectations");
    let rt = support::runtime();
    let target = faulty(&rt, Fault::DeleteRunning);
    let known = known.display().to_string();
    let ran = run_binary(
        name,
        &[
            "--target",
            &target,
            "--api",
            "v1",
            "--api",
            "v2",
            "--rule",
            "OMS-DEL-003",
            "--rule",
            "OMS-DEL-004",
            "--expectations",
            &known,
        ],
    );
    drop(rt);
    ran
}

#[test]
fn a_known_failure_of_one_dialect_excuses_the_rule_in_that_dialect_alone() {
    let ran = excused_run("known-v1", "dialect = \"v1\"");
    assert_eq!(
        ran.code,
        1,
        "v2's failures are not excused: {}",
        ran.explain()
    );
    for rule in ["OMS-DEL-003", "OMS-DEL-004"] {
        let (v1, v2) = (ran.rule_in("v1", rule), ran.rule_in("v2", rule));
        assert_eq!(
            (&v1["verdict"], &v2["verdict"]),
            (&"fail".into(), &"fail".into())
        );
        assert!(
            v1["known_failure"]
                .as_str()
                .is_some_and(|k| k.contains("the v1 gateway")),
            "{v1:#}"
        );
        assert!(v2["known_failure"].is_null(), "{v2:#}");
    }
    let results = ran.results();
    assert_eq!(results["expectations"][0]["dialect"], "v1", "{results:#}");
    // Without the qualifier the same entries excuse both dialects.
    let ran = excused_run("known-every", "");
    assert_eq!(ran.code, 0, "{}", ran.explain());
    for dialect in ["v1", "v2"] {
        let rule = ran.rule_in(dialect, "OMS-DEL-003");
        assert_eq!(rule["verdict"], "fail", "{rule:#}");
        assert!(rule["known_failure"].is_string(), "{rule:#}");
    }
    assert!(ran.results()["expectations"][0]["dialect"].is_null());
}

/// A strict v2 run of OMS-DEL-018 against `target`; `declared` is appended to
/// the profile (which has v2's create bodies).
fn strict_pausing(name: &str, target: &str, declared: &str) -> Ran {
    let dir = support::scratch(name);
    let v2 = support::root().join("fixtures/create/v2");
    let body = |role: &str| v2.join(format!("{role}.json")).display().to_string();
    let tables = format!(
        "[create.v2]\nrunning = \"{}\"\nsucceeding = \"{}\"\nretrying = \"{}\"\n\n{declared}\n",
        body("running"),
        body("succeeding"),
        body("retrying")
    );
    let profile = support::profile(&dir, "api = [\"v2\"]", &tables);
    let profile = profile.display().to_string();
    let args = [
        "--target",
        target,
        "--profile",
        &profile,
        "--strict",
        "--rule",
        "OMS-DEL-018",
    ];
    run_binary(name, &args)
}

/// The reason of OMS-DEL-018's pausing scenario.
fn pausing_reason(ran: &Ran) -> String {
    let rule = ran.rule_in("v2", "OMS-DEL-018");
    let scenarios = rule["scenarios"].as_array().cloned().unwrap_or_default();
    scenarios
        .iter()
        .find(|s| s["name"].as_str().is_some_and(|n| n.contains("pausing")))
        .and_then(|s| s["reason"].as_str().map(str::to_owned))
        .unwrap_or_default()
}

#[test]
fn strict_mode_holds_a_pausing_tasks_delete_to_the_declared_answer() {
    let rt = support::runtime();
    let deletes = faulty(&rt, Fault::DeletePausing);
    // A pause of a second, not 50 ms: the faithful server's refusal must not
    // depend on the delete arriving within 50 ms of the look that saw status 7.
    let mut config = oms_reference_server::Config::default();
    config.limits.pause_ms = 1_000;
    let faithful = format!("http://{}", support::reference_server_with(&rt, config));
    // The default declaration is the reference's refusal: a target that
    // deletes a pausing task fails, in strict mode ...
    let ran = strict_pausing("pausing-refused-declared", &deletes, "");
    assert_eq!(ran.code, 1, "{}", ran.explain());
    let reason = pausing_reason(&ran);
    assert!(
        reason.contains("the declared answer, refused (400 OMS.0063)"),
        "{reason}"
    );
    // ... and passes where v2 declares that it deletes one, which the
    // faithful server, refusing, then fails.
    let deleted = "[declared]\npausing = \"400 OMS.0063\"\n[declared.v2]\npausing = \"deleted\"\n";
    let ran = strict_pausing("pausing-deleted-declared", &deletes, deleted);
    assert_eq!(ran.code, 0, "{}", ran.explain());
    assert_eq!(ran.rule_in("v2", "OMS-DEL-018")["verdict"], "pass");
    let ran = strict_pausing("pausing-deleted-faithful", &faithful, deleted);
    assert_eq!(ran.code, 1, "{}", ran.explain());
    let reason = pausing_reason(&ran);
    assert!(reason.contains("the declared answer, deleted"), "{reason}");
    // A table for v1 leaves v2 with `[declared]`'s refusal.
    let v1_only = "[declared.v1]\npausing = \"deleted\"\n";
    let ran = strict_pausing("pausing-v1-declared", &faithful, v1_only);
    assert_eq!(ran.code, 0, "{}", ran.explain());
    drop(rt);
}
