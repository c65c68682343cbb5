//! What the front doors document, held to what the kit accepts: the action's
//! inputs (declared, described, passed as the kit's options, and the table of
//! them in the user guide, `docs/src/ci.md`), the kit variables the GitLab
//! template names, and its artifacts.

use super::{read, yaml};
use crate::support::{root, run_exact};

/// What the action documents, and the kit option each input becomes.
const ACTION_INPUTS: [(&str, &str); 6] = [
    ("profile", "--profile"),
    ("target", "--target"),
    ("image", "--image"),
    ("strict", "--strict"),
    ("rules", "--rule"),
    ("report-dir", "--report-dir"),
];

/// The user guide's page on CI, and the heading of its section on the action.
const GUIDE: &str = "docs/src/ci.md";
const GUIDE_HEADING: &str = "## The GitHub Action";

/// The lines of the first Markdown table after the line `heading` of `text`,
/// its head and delimiter row included; none if no line is `heading`.
fn first_table_after<'a>(text: &'a str, heading: &str) -> Option<Vec<&'a str>> {
    let mut lines = text.lines().skip_while(|line| *line != heading);
    lines.next()?;
    Some(
        lines
            .skip_while(|line| !line.starts_with('|'))
            .take_while(|line| line.starts_with('|'))
            .collect(),
    )
}

/// The `[env: NAME=…]` variables and the `--flags` the kit's `--help` lists.
fn kit_help() -> String {
    let end = run_exact("front-doors-help", &["--help"], &[]);
    assert_eq!(end.code, 0, "--help: {}", end.explain());
    // clap wraps long lines, `[env:` and the name among them.
    end.stdout.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn the_front_doors_document_what_the_kit_accepts() {
    let help = kit_help();
    let action = yaml("action.yml");
    let inputs: Vec<&str> = action["inputs"]
        .as_object()
        .expect("inputs")
        .keys()
        .map(String::as_str)
        .collect();
    let mut documented: Vec<&str> = ACTION_INPUTS.iter().map(|(input, _)| *input).collect();
    documented.sort_unstable();
    let mut declared = inputs.clone();
    declared.sort_unstable();
    assert_eq!(declared, documented, "the action's inputs");
    let steps = action["runs"]["steps"].as_array().expect("steps");
    let run = steps
        .iter()
        .find(|step| step["id"] == "run")
        .expect("the step with id run");
    let script = run["run"].as_str().expect("a script");
    for (input, flag) in ACTION_INPUTS {
        assert!(help.contains(&format!("{flag} ")), "the kit accepts {flag}");
        assert!(script.contains(flag), "the action passes {input} as {flag}");
        assert!(
            action["inputs"][input]["description"]
                .as_str()
                .is_some_and(|d| !d.is_empty()),
            "{input} is described"
        );
    }
    for step in steps {
        let script = step["run"].as_str().expect("a run step");
        assert!(
            !script.contains("${{"),
            "no expression inside a script (an input would run as shell code): {script}"
        );
    }
    // The user guide's table of the action's inputs names exactly these.
    let guide = read(&root().join(GUIDE));
    let table = first_table_after(&guide, GUIDE_HEADING)
        .unwrap_or_else(|| panic!("{GUIDE}: a heading line \"{GUIDE_HEADING}\""));
    assert_eq!(
        table.first().copied(),
        Some("| input | default | the kit's option |"),
        "{GUIDE}: the first table after \"{GUIDE_HEADING}\" is the action's inputs"
    );
    let mut rows: Vec<&str> = table
        .iter()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|line| line.split('`').next())
        .collect();
    rows.sort_unstable();
    assert_eq!(rows, documented, "{GUIDE}: the action's inputs");

    // Every kit variable the template names, in its comments too, is one the kit reads.
    let text = read(&root().join("ci/gitlab/oms-conformance.yml"));
    let mut named: Vec<&str> = text
        .match_indices("OMS_CONFORMANCE_")
        .map(|(at, _)| {
            let rest = &text[at..];
            let end = rest
                .find(|c: char| !(c.is_ascii_uppercase() || c == '_'))
                .unwrap_or(rest.len());
            rest[..end].trim_end_matches('_')
        })
        .filter(|name| !name.ends_with("_*") && name.len() > "OMS_CONFORMANCE".len())
        .collect();
    named.sort_unstable();
    named.dedup();
    let unknown: Vec<&str> = named
        .iter()
        .copied()
        .filter(|name| {
            // clap shows `[env: NAME=]`, or `[env: NAME]` for a hidden value; a
            // family (`…_AK_*`) must be the prefix of some variable the kit reads.
            !["=", "]", "_"]
                .iter()
                .any(|end| help.contains(&format!("[env: {name}{end}")))
        })
        .collect();
    assert!(
        unknown.is_empty(),
        "the template names variables the kit does not read: {unknown:?}"
    );
    for needed in [
        "OMS_CONFORMANCE_PROFILE",
        "OMS_CONFORMANCE_TARGET",
        "OMS_CONFORMANCE_IMAGE",
        "OMS_CONFORMANCE_STRICT",
        "OMS_CONFORMANCE_RULES",
    ] {
        assert!(named.contains(&needed), "the template documents {needed}");
    }
    let template = yaml("ci/gitlab/oms-conformance.yml");
    let artifacts = &template[".oms-conformance"]["artifacts"];
    assert_eq!(
        artifacts["reports"]["junit"],
        "conformance-reports/junit.xml"
    );
    assert_eq!(
        artifacts["when"], "always",
        "reports of a failed run are kept"
    );
    assert!(
        artifacts["paths"]
            .as_array()
            .is_some_and(|paths| paths.iter().any(|p| p == "conformance-reports/")),
        "every report is an artifact"
    );
}
