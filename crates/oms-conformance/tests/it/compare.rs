//! `oms-conformance compare`: a run against the faithful server and one against
//! a server with a fault, set side by side as text, Markdown and HTML, the
//! fault's rule marked; and every refusal, one line and exit 2.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use oms_reference_server::faults::Fault;
use serde_json::Value;

use crate::support::{self, Ran, run_binary, run_exact};

/// The rules both runs judge, in v1: the fault's own, and one it leaves alone.
const RULES: &str = "OMS-DEL-003,OMS-DEL-001";

/// Two runs' `results.json`, as `reference/results.json` and
/// `delete-running/results.json` in a folder of their own.
fn runs() -> &'static (PathBuf, PathBuf) {
    static RUNS: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    RUNS.get_or_init(|| {
        let rt = support::runtime();
        let faithful = support::reference_server(&rt);
        let faulty = support::reference_server_with(
            &rt,
            oms_reference_server::Config {
                fault: Some(Fault::DeleteRunning),
                ..oms_reference_server::Config::default()
            },
        );
        let run = |name: &str, addr: std::net::SocketAddr| -> Ran {
            let target = format!("http://{addr}");
            run_binary(
                name,
                &[
                    "--target", &target, "--api", "v1", "--rule", RULES, "--seed", "7",
                ],
            )
        };
        let reference = run("compare-reference", faithful);
        let fault = run("compare-fault", faulty);
        drop(rt);
        assert_eq!(reference.code, 0, "{}", reference.explain());
        assert_eq!(fault.code, 1, "{}", fault.explain());
        let dir = support::scratch("compare-runs");
        let keep = |ran: &Ran, label: &str| {
            let folder = dir.join(label);
            std::fs::create_dir_all(&folder).expect("folder");
            let path = folder.join("results.json");
            std::fs::copy(ran.report_dir.join("results.json"), &path).expect("copy");
            path
        };
        (
            keep(&reference, "reference"),
            keep(&fault, "delete-running"),
        )
    })
}

fn shown(path: &Path) -> String {
    path.display().to_string()
}

/// Runs `compare` with `args`.
fn compare(name: &str, args: &[&str]) -> Ran {
    compare_env(name, args, &[])
}

fn compare_env(name: &str, args: &[&str], env: &[(&str, &str)]) -> Ran {
    let mut all = vec!["compare"];
    all.extend_from_slice(args);
    run_exact(name, &all, env)
}

/// The line of a text table (after its three columns of mark) that names `rule` in v1.
fn row<'a>(stdout: &'a str, rule: &str) -> &'a str {
    stdout
        .lines()
        .find(|l| {
            l.get(3..)
                .is_some_and(|rest| rest.starts_with(&format!("{rule}  v1 ")))
        })
        .unwrap_or_else(|| panic!("no row of {rule}:\n{stdout}"))
}

#[test]
fn compare_marks_the_rule_the_fault_breaks() {
    let (reference, fault) = runs();
    let ran = compare("compare-text", &[&shown(reference), &shown(fault)]);
    assert_eq!(ran.code, 0, "{}", ran.explain());
    assert!(ran.stderr.is_empty(), "{}", ran.explain());
    let out = &ran.stdout;
    assert!(
        out.starts_with("oms-conformance compare: 2 runs (kit oms-conformance "),
        "{out}"
    );
    let header = out
        .lines()
        .find(|l| l.starts_with("   rule "))
        .unwrap_or_else(|| panic!("no header:\n{out}"));
    assert!(
        header.contains(" reference ") && header.ends_with(" delete-running"),
        "{header}"
    );
    let broken = row(out, "OMS-DEL-003");
    assert!(
        broken.starts_with("!  ")
            && broken.contains("pass (400 OMS.0063)")
            && broken.ends_with("fail (200)"),
        "{broken}"
    );
    let kept = row(out, "OMS-DEL-001");
    assert!(
        kept.starts_with("   ") && kept.matches("pass (200)").count() == 2,
        "{kept}"
    );
    // The rules neither run judged are in both `not run`: the same.
    let other = row(out, "OMS-DEL-005");
    assert!(
        other.starts_with("   ") && other.matches("not run").count() == 2,
        "{other}"
    );
    assert!(
        out.contains("! verdicts differ: 1 · ~ only the answers differ: 0 · ? not judged by every run: 0 · rows: 18"),
        "{out}"
    );

    // Opt-in: a verdict that differs fails the comparison; the same run twice does not.
    let gate = compare(
        "compare-gate",
        &[&shown(reference), &shown(fault), "--fail-on-difference"],
    );
    assert_eq!(gate.code, 1, "{}", gate.explain());
    let same = compare(
        "compare-gate-same",
        &[&shown(reference), &shown(reference), "--fail-on-difference"],
    );
    assert_eq!(same.code, 0, "{}", same.explain());
    // Labels are made unique: the same folder twice.
    assert!(same.stdout.contains(" reference (2)"), "{}", same.stdout);
}

#[test]
fn compare_writes_markdown_and_one_html_page() {
    let (reference, fault) = runs();
    let md = compare(
        "compare-markdown",
        &[&shown(reference), &shown(fault), "--format", "markdown"],
    );
    assert_eq!(md.code, 0, "{}", md.explain());
    let lines: Vec<&str> = md.stdout.lines().collect();
    assert_eq!(lines[0], "# OMS conformance: 2 runs compared");
    assert!(
        lines.contains(&"|   | rule | dialect | level | reference | delete-running |"),
        "{}",
        md.stdout
    );
    assert!(
        lines.contains(
            &"| ! | OMS-DEL-003 | v1 | MUST | **pass (400 OMS.0063)** | **fail (200)** |"
        ),
        "{}",
        md.stdout
    );
    assert!(
        lines.contains(&"|  | OMS-DEL-001 | v1 | MUST | pass (200) | pass (200) |"),
        "{}",
        md.stdout
    );

    // The format follows the output file's extension.
    let page = support::scratch("compare-html").join("compared.html");
    let html = compare(
        "compare-html",
        &[&shown(reference), &shown(fault), "--output", &shown(&page)],
    );
    assert_eq!(html.code, 0, "{}", html.explain());
    assert!(html.stdout.is_empty(), "{}", html.explain());
    let text = std::fs::read_to_string(&page).expect("the page is written");
    assert!(text.starts_with("<!DOCTYPE html>") && text.trim_end().ends_with("</html>"));
    let differing: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("<tr class=\"differ\">"))
        .collect();
    assert_eq!(differing.len(), 1, "{text}");
    assert!(
        differing[0].contains("<code>OMS-DEL-003</code>")
            && differing[0].contains(">fail (200)</td>"),
        "{}",
        differing[0]
    );
    assert!(
        !text.contains("<script"),
        "one self-contained page, no scripts"
    );
}

/// A copy of `results` in a folder `name` with `edit` applied.
fn edited(name: &str, results: &Path, edit: impl FnOnce(&mut Value)) -> String {
    let mut value: Value =
        serde_json::from_str(&std::fs::read_to_string(results).expect("results")).expect("json");
    edit(&mut value);
    let dir = support::scratch(name).join(name);
    std::fs::create_dir_all(&dir).expect("folder");
    let path = dir.join("results.json");
    std::fs::write(&path, value.to_string()).expect("write");
    shown(&path)
}

/// The one line a refusal prints, with exit 2 and nothing on stdout.
fn refusal(ran: Ran) -> String {
    assert_eq!(ran.code, 2, "{}", ran.explain());
    assert!(ran.stdout.is_empty(), "{}", ran.explain());
    let lines: Vec<&str> = ran.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{}", ran.explain());
    lines[0].to_owned()
}

#[test]
fn compare_refuses_what_it_cannot_compare_in_one_line() {
    let (reference, fault) = runs();
    let (reference, fault) = (shown(reference), shown(fault));
    let dir = support::scratch("compare-refusals");

    let line = refusal(compare("compare-one", &[&reference]));
    assert!(
        line.contains("two or more results.json files, got 1"),
        "{line}"
    );
    let line = refusal(compare("compare-none", &[]));
    assert!(line.contains("got 0"), "{line}");

    let missing = shown(&dir.join("missing/results.json"));
    let line = refusal(compare("compare-missing", &[&reference, &missing]));
    assert!(
        line.contains("cannot read") && line.contains(&missing),
        "{line}"
    );

    let unreadable = shown(&dir);
    let line = refusal(compare("compare-folder", &[&reference, &unreadable]));
    assert!(
        line.contains("cannot read") && line.contains(&unreadable),
        "{line}"
    );

    let not_json = dir.join("report.html");
    std::fs::write(&not_json, "<!DOCTYPE html>").expect("write");
    let line = refusal(compare(
        "compare-not-json",
        &[&reference, &shown(&not_json)],
    ));
    assert!(line.contains("is not JSON"), "{line}");

    for (name, text, says) in [
        ("cucumber.json", "[]", "it is not a JSON object"),
        (
            "no-rules.json",
            r#"{"kit": "oms-conformance 0.1.0"}"#,
            "it has no `rules`",
        ),
        ("no-kit.json", r#"{"rules": []}"#, "it names no `kit`"),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write");
        let line = refusal(compare("compare-not-results", &[&reference, &shown(&path)]));
        assert!(
            line.contains("is not a results.json of oms-conformance") && line.contains(says),
            "{line}"
        );
    }

    let old = edited("before-provenance", Path::new(&reference), |v| {
        v.as_object_mut().expect("object").remove("provenance");
    });
    let line = refusal(compare("compare-old", &[&old, &fault]));
    assert!(
        line.contains(&old) && line.contains("before results.json recorded what judged it"),
        "{line}"
    );

    let line = refusal(compare(
        "compare-format",
        &[&reference, &fault, "--format", "pdf"],
    ));
    assert!(line.contains("--format") && line.contains("pdf"), "{line}");
}

#[test]
fn runs_of_other_kits_or_catalogues_are_refused_unless_allowed_mixed() {
    let (reference, fault) = runs();
    let (reference, fault) = (shown(reference), shown(fault));
    let older_kit = edited("older-kit", Path::new(&fault), |v| {
        v["provenance"]["kit"]["version"] = "0.0.9".into();
    });
    let line = refusal(compare("compare-kit", &[&reference, &older_kit]));
    assert!(
        line.contains("different kit versions")
            && line.contains(&format!(
                "{reference} (oms-conformance {})",
                env!("CARGO_PKG_VERSION")
            ))
            && line.contains(&format!("{older_kit} (oms-conformance 0.0.9)"))
            && line.contains("--allow-mixed"),
        "{line}"
    );
    let mixed = compare(
        "compare-kit-mixed",
        &[&reference, &older_kit, "--allow-mixed"],
    );
    assert_eq!(mixed.code, 0, "{}", mixed.explain());
    assert!(
        mixed
            .stderr
            .starts_with("warning: the runs were judged by different kit versions"),
        "{}",
        mixed.explain()
    );
    assert!(mixed.stdout.contains("kit mixed"), "{}", mixed.stdout);

    let other_catalogue = edited("other-catalogue", Path::new(&fault), |v| {
        v["provenance"]["catalogue"]["sha256"] = "0".repeat(64).into();
    });
    let line = refusal(compare(
        "compare-catalogue",
        &[&reference, &other_catalogue],
    ));
    assert!(
        line.contains("different catalogues") && line.contains(&"0".repeat(64)),
        "{line}"
    );
    let mixed = compare(
        "compare-catalogue-mixed",
        &[&reference, &other_catalogue, "--allow-mixed"],
    );
    assert_eq!(mixed.code, 0, "{}", mixed.explain());
    assert!(
        mixed
            .stderr
            .starts_with("warning: the runs were judged by different catalogues"),
        "{}",
        mixed.explain()
    );

    // Other features are compared, with a warning.
    let other_features = edited("other-features", Path::new(&fault), |v| {
        v["provenance"]["features"]["sha256"] = "f".repeat(64).into();
    });
    let warned = compare("compare-features", &[&reference, &other_features]);
    assert_eq!(warned.code, 0, "{}", warned.explain());
    assert!(
        warned
            .stderr
            .starts_with("warning: the runs were judged by different features"),
        "{}",
        warned.explain()
    );
}

#[test]
fn the_suites_environment_does_not_stand_in_the_way_of_compare() {
    let (reference, fault) = runs();
    // Values the suite would refuse: two targets at once, a bad duration.
    let env = [
        ("OMS_CONFORMANCE_TARGET", "http://127.0.0.1:9"),
        ("OMS_CONFORMANCE_IMAGE", "some/image:tag"),
        ("OMS_CONFORMANCE_REQUEST_TIMEOUT", "soon"),
    ];
    let ran = compare_env("compare-env", &[&shown(reference), &shown(fault)], &env);
    assert_eq!(ran.code, 0, "{}", ran.explain());
    let suite = run_exact("compare-env-suite", &[], &env);
    assert_eq!(suite.code, 2, "{}", suite.explain());
}

#[test]
fn help_lists_the_compare_command_and_documents_its_options() {
    let main = run_exact("compare-main-help", &["--help"], &[]);
    assert_eq!(main.code, 0, "{}", main.explain());
    let commands = main
        .stdout
        .split("Commands:")
        .nth(1)
        .unwrap_or_else(|| panic!("no commands in --help:\n{}", main.stdout));
    assert!(commands.trim_start().starts_with("compare "), "{commands}");
    let help = compare("compare-help", &["--help"]);
    let documented = [
        "Usage: oms-conformance compare",
        "--format",
        "--output",
        "--allow-mixed",
        "--fail-on-difference",
        "OMS_CONFORMANCE_COMPARE_FORMAT",
        "Exit status: 0 compared",
    ];
    support::assert_help_mentions(&help, "compare --help", &documented);
}
