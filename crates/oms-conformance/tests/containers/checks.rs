//! Judging a finished run of the binary or of the harness image: its exit
//! status, the target `results.json` names, a rule among the failing ones, the
//! reports on the host, every rule passed.

use crate::support::Ran;

/// The run exited `code`; else what it printed.
pub fn exits(ran: &Ran, code: i32) -> Result<(), String> {
    if ran.code == code {
        Ok(())
    } else {
        Err(format!("expected exit {code}\n{}", ran.explain()))
    }
}

/// `results.json` names the target `target` (`external`, `container image`,
/// `embedded reference server`).
pub fn names_target(ran: &Ran, target: &str) -> Result<(), String> {
    let named = &ran.results()["target"];
    if named == target {
        Ok(())
    } else {
        Err(format!("results.json names the target {named}"))
    }
}

/// `rule` is among the rules that failed.
pub fn fails_rule(ran: &Ran, rule: &str) -> Result<(), String> {
    let failing = failing_rules(ran);
    if failing.iter().any(|r| r == rule) {
        Ok(())
    } else {
        Err(format!("{rule} is not among the failing rules {failing:?}"))
    }
}

fn failing_rules(ran: &Ran) -> Vec<String> {
    ran.results()["rules"]
        .as_array()
        .map(|rules| {
            rules
                .iter()
                .filter(|r| r["verdict"] == "fail")
                .filter_map(|r| r["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The reports a finished run must leave on the host.
pub fn reports_present(ran: &Ran) -> Result<(), String> {
    for file in ["junit.xml", "report.html", "results.json"] {
        if !ran.report_dir.join(file).is_file() {
            return Err(format!(
                "no {file} in the mounted directory {}\n{}",
                ran.report_dir.display(),
                ran.explain()
            ));
        }
    }
    Ok(())
}

/// Every rule of `results.json` passed, against `base_url`.
pub fn every_rule_passed(ran: &Ran, base_url: &str) -> Result<(), String> {
    let results = ran.results();
    if results["base_url"] != base_url {
        return Err(format!(
            "results.json names the base URL {}, not {base_url}",
            results["base_url"]
        ));
    }
    let rules = results["rules"].as_array().cloned().unwrap_or_default();
    if rules.is_empty() {
        return Err(format!("results.json has no rules\n{}", ran.explain()));
    }
    let not_passed: Vec<String> = rules
        .iter()
        .filter(|r| r["verdict"] != "pass")
        .map(|r| format!("{} {} {}", r["dialect"], r["id"], r["verdict"]))
        .collect();
    if !not_passed.is_empty() {
        return Err(format!("rules that did not pass: {not_passed:?}"));
    }
    Ok(())
}
