//! `summary.md`, as a run writes it beside its other reports: against a server
//! with a fault, the failing rule with its expectation, the redacted exchange
//! and its `curl` line; against the faithful server, the verdict line and the
//! table with no failures; for a run that could not judge, why.

use oms_reference_server::faults::Fault;

use crate::run::reference_run;
use crate::support::{self, Ran, run_binary};

fn summary(ran: &Ran) -> String {
    std::fs::read_to_string(ran.report_dir.join("summary.md"))
        .unwrap_or_else(|e| panic!("no summary.md ({e}): {}", ran.explain()))
}

/// The contents of each fenced code block with `info`, in order.
fn blocks<'a>(summary: &'a str, info: &str) -> Vec<Vec<&'a str>> {
    let mut found = Vec::new();
    let mut lines = summary.lines();
    while let Some(line) = lines.next() {
        if line == format!("```{info}") {
            found.push(lines.by_ref().take_while(|l| *l != "```").collect());
        }
    }
    found
}

#[test]
fn a_failing_run_summarizes_the_failure_with_its_exchange_and_curl_line() {
    let rt = support::runtime();
    let addr = support::reference_server_with(
        &rt,
        oms_reference_server::Config {
            fault: Some(Fault::DeleteRunning),
            ..oms_reference_server::Config::default()
        },
    );
    let target = format!("http://{addr}");
    let ran = run_binary(
        "summary-fault",
        &[
            "--target",
            &target,
            "--api",
            "v1",
            "--rule",
            "OMS-DEL-003",
            "--seed",
            "7",
        ],
    );
    drop(rt);
    assert_eq!(ran.code, 1, "{}", ran.explain());
    let summary = summary(&ran);
    let lines: Vec<&str> = summary.lines().collect();
    assert_eq!(lines[0], "# OMS conformance: not conformant");
    // The terminal's closing line, as it is.
    assert!(lines.contains(&ran.last_line()), "{summary}");
    assert!(
        lines.contains(
            &"**Exit 1**: a MUST rule failed (or a SHOULD rule with --strict), or an expectation expired."
        ),
        "{summary}"
    );
    assert!(
        lines.contains(&"| OMS-DEL-003 | v1 | **fail** | MUST | 200 |"),
        "{summary}"
    );
    assert!(
        lines.contains(&"| OMS-DEL-001 | v1 | not run | MUST | – |"),
        "{summary}"
    );
    let failures = summary
        .split("## Failures\n")
        .nth(1)
        .expect("a failures section");
    assert!(
        failures.starts_with("\n### v1 OMS-DEL-003 (MUST): a running task cannot be deleted\n"),
        "{failures}"
    );
    assert!(
        failures.contains("\nExpected: deleting a running task: a 4xx status (got 200)\n"),
        "{failures}"
    );
    let exchanges = blocks(&summary, "text");
    assert_eq!(exchanges.len(), 1, "{summary}");
    assert!(
        exchanges[0][0].starts_with("  > DELETE http://127.0.0.1:")
            && exchanges[0].contains(&"  > X-Auth-Token: ***")
            && exchanges[0].contains(&"  < 200"),
        "{exchanges:#?}"
    );
    let curl = blocks(&summary, "sh");
    assert_eq!(curl.len(), 1, "{summary}");
    assert!(
        curl[0].len() == 1
            && curl[0][0].starts_with("curl ")
            && curl[0][0].contains("-X DELETE")
            && curl[0][0].contains("$OMS_CONFORMANCE_TOKEN_FIRST"),
        "{curl:#?}"
    );
    for secret in [
        "dev-token-a",
        "dev-token-b",
        "SRC-SK-EXAMPLE",
        "DST-SK-EXAMPLE",
    ] {
        assert!(!summary.contains(secret), "{secret} is in summary.md");
    }
    assert!(summary.len() < oms_conformance::summary::CAP);
}

#[test]
fn a_conformant_run_summary_has_the_verdict_line_and_the_table_and_no_failures() {
    let ran = reference_run();
    let summary = summary(ran);
    let lines: Vec<&str> = summary.lines().collect();
    assert_eq!(lines[0], "# OMS conformance: conformant");
    assert!(lines.contains(&ran.last_line()), "{summary}");
    assert!(
        lines.contains(&"**Exit 0**: every MUST rule passed (SHOULD rules too, with --strict)."),
        "{summary}"
    );
    let rows: Vec<&&str> = lines
        .iter()
        .filter(|l| l.starts_with("| OMS-DEL-"))
        .collect();
    let results = ran.results();
    assert_eq!(rows.len(), results["rules"].as_array().map_or(0, Vec::len));
    for row in rows {
        assert!(row.contains(" | pass | "), "{row}");
    }
    assert!(!summary.contains("## Failures"), "{summary}");
    assert!(!summary.contains("## Not judged"), "{summary}");
    assert!(!summary.contains("```"), "{summary}");
    // What judged it, by the first digits of each digest.
    let catalogue = results["provenance"]["catalogue"]["sha256"]
        .as_str()
        .unwrap_or_default();
    assert!(
        summary.contains(&format!("catalogue {}", &catalogue[..12])),
        "{summary}"
    );
}

#[test]
fn a_run_that_could_not_judge_says_why() {
    let ran = support::run_inconclusive("summary-inconclusive");
    assert_eq!(ran.code, 2, "{}", ran.explain());
    let summary = summary(&ran);
    assert!(
        summary.contains("\n**Exit 2**: could not judge"),
        "{summary}"
    );
    let not_judged = summary
        .split("## Not judged\n\n")
        .nth(1)
        .expect("a section");
    let line = not_judged.lines().next().unwrap_or_default();
    assert!(
        line.starts_with(
            "- v1 OMS-DEL-003 (MUST, inconclusive): a running task cannot be deleted: "
        ) && line.contains("did not reach status running"),
        "{line}"
    );
}
