//! Answers and known failures per dialect, against the reference server with
//! a fault: a known failure qualified by a dialect excuses its rule in that
//! dialect alone (an unqualified one in every dialect).

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
