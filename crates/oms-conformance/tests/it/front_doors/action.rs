//! The GitHub Action (`action.yml`, composite) run as a GitHub runner runs it:
//! its steps one after another under `bash --noprofile --norc -eo pipefail`,
//! their `env` with `${{ inputs.* }}` filled in, and the files a runner
//! provides (`GITHUB_STEP_SUMMARY`, `GITHUB_OUTPUT`, `GITHUB_PATH`,
//! `GITHUB_ENV`) honoured between steps; against the embedded server, a
//! launched one with a fault, a bad input and a bad profile.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use oms_reference_server::faults::Fault;
use serde_json::Value;

use super::{finish, kit_dir, launched, path_with, read, yaml};
use crate::support::{Ran, root, runtime, scratch};

/// Fills in the `${{ inputs.NAME }}` expressions of an action's `env` value;
/// any other expression fails the test, since this runner would not know it.
fn expand(value: &str, inputs: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("${{") {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find("}}")
            .unwrap_or_else(|| panic!("unclosed expression in {value:?}"))
            + start;
        let expression = rest[start + 3..end].trim();
        let name = expression
            .strip_prefix("inputs.")
            .unwrap_or_else(|| panic!("this runner knows only inputs.*, not {expression:?}"));
        out.push_str(
            inputs
                .get(name)
                .unwrap_or_else(|| panic!("{expression} is not a declared input")),
        );
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    out
}

/// What one use of the action left behind.
#[derive(Debug)]
struct ActionRun {
    /// Each step run, in order, with its end; the run stops at a failing step.
    steps: Vec<(String, Ran)>,
    /// The job summary file after the run.
    summary: String,
    /// `name=value` outputs of the step with `id: run`.
    outputs: BTreeMap<String, String>,
    workspace: PathBuf,
}

impl ActionRun {
    /// The exit status of the last step run: the action's.
    fn code(&self) -> i32 {
        self.steps.last().map_or(-1, |(_, end)| end.code)
    }

    /// What step `step` printed on stdout.
    fn stdout_of(&self, step: &str) -> String {
        self.steps
            .iter()
            .find(|(name, _)| name == step)
            .map(|(_, end)| end.stdout.clone())
            .unwrap_or_default()
    }

    fn explain(&self) -> String {
        let mut text = String::new();
        for (name, end) in &self.steps {
            text += &format!("--- step {name:?}: {}\n", end.explain());
        }
        text + &format!("--- job summary:\n{}", self.summary)
    }
}

/// Runs `action.yml`'s steps as a GitHub runner does, with `with` as the
/// step's inputs, in a fresh workspace named `name`.
fn run_action(name: &str, with: &[(&str, &str)], prepare: impl FnOnce(&Path)) -> ActionRun {
    let action = yaml("action.yml");
    let mut inputs: BTreeMap<String, String> = action["inputs"]
        .as_object()
        .expect("inputs")
        .iter()
        .map(|(name, spec)| {
            let default = spec["default"].as_str().unwrap_or_default().to_owned();
            (name.clone(), default)
        })
        .collect();
    for (key, value) in with {
        assert!(
            inputs.contains_key(*key),
            "{key} is not an input of the action"
        );
        inputs.insert((*key).to_owned(), (*value).to_owned());
    }
    let dir = scratch(&format!("action-{name}"));
    let workspace = dir.join("workspace");
    let temp = dir.join("runner-temp");
    std::fs::create_dir_all(&workspace).expect("workspace");
    std::fs::create_dir_all(&temp).expect("runner temp");
    prepare(&workspace);
    let summary = dir.join("step-summary.md");
    let github_path = dir.join("github-path");
    let github_env = dir.join("github-env");
    for file in [&summary, &github_path, &github_env] {
        std::fs::write(file, "").expect("runner file");
    }
    let mut run = ActionRun {
        steps: Vec::new(),
        summary: String::new(),
        outputs: BTreeMap::new(),
        workspace: workspace.clone(),
    };
    assert_eq!(action["runs"]["using"], "composite", "a composite action");
    for (index, step) in action["runs"]["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .enumerate()
    {
        let step_name = step["name"]
            .as_str()
            .expect("every step is named")
            .to_owned();
        assert_eq!(step["shell"], "bash", "{step_name}: shell");
        let script = dir.join(format!("step-{index}.sh"));
        std::fs::write(&script, step["run"].as_str().expect("a run step")).expect("script");
        let output = dir.join(format!("output-{index}"));
        std::fs::write(&output, "").expect("output file");
        // GITHUB_PATH and GITHUB_ENV written by earlier steps apply to later ones.
        let mut path_dirs: Vec<PathBuf> = std::fs::read_to_string(&github_path)
            .unwrap_or_default()
            .lines()
            .rev()
            .map(PathBuf::from)
            .collect();
        path_dirs.push(kit_dir());
        let mut command = Command::new("bash");
        command
            .args(["--noprofile", "--norc", "-eo", "pipefail"])
            .arg(&script)
            .current_dir(&workspace)
            .env("PATH", path_with(&path_dirs))
            .env("CI", "true")
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_ACTION_PATH", root())
            .env("GITHUB_WORKSPACE", &workspace)
            .env("RUNNER_TEMP", &temp)
            .env("GITHUB_STEP_SUMMARY", &summary)
            .env("GITHUB_OUTPUT", &output)
            .env("GITHUB_PATH", &github_path)
            .env("GITHUB_ENV", &github_env);
        for line in std::fs::read_to_string(&github_env)
            .unwrap_or_default()
            .lines()
        {
            let (key, value) = line
                .split_once('=')
                .expect("GITHUB_ENV lines are KEY=VALUE");
            command.env(key, value);
        }
        if let Some(env) = step["env"].as_object() {
            for (key, value) in env {
                command.env(
                    key,
                    expand(value.as_str().expect("env values are strings"), &inputs),
                );
            }
        }
        let report_dir = workspace.join(&inputs["report-dir"]);
        let end = finish(command, &format!("step-{index}"), &dir, report_dir);
        let failed = end.code != 0;
        if step["id"] == "run" {
            for line in std::fs::read_to_string(&output).unwrap_or_default().lines() {
                assert!(
                    !line.contains("<<"),
                    "a multi-line output this runner does not parse: {line}"
                );
                let (key, value) = line.split_once('=').expect("outputs are name=value");
                run.outputs.insert(key.to_owned(), value.to_owned());
            }
        }
        run.steps.push((step_name, end));
        if failed {
            break;
        }
    }
    run.summary = std::fs::read_to_string(&summary).unwrap_or_default();
    run
}

#[test]
fn the_action_judges_the_embedded_server_and_writes_the_job_summary() {
    let run = run_action("embedded", &[("rules", "OMS-DEL-001,OMS-DEL-003")], |_| {});
    assert_eq!(run.code(), 0, "{}", run.explain());
    let (install, _) = &run.steps[0];
    assert_eq!(install, "Install oms-conformance");
    assert!(
        run.steps[0].1.stdout.contains(&format!(
            "using {}",
            kit_dir().join("oms-conformance").display()
        )),
        "the kit on PATH is used, not built: {}",
        run.explain()
    );
    assert_eq!(run.outputs.get("exit-code").map(String::as_str), Some("0"));
    assert_eq!(
        run.outputs.get("report-dir").map(String::as_str),
        Some("conformance-reports")
    );
    let reports = run.workspace.join("conformance-reports");
    for file in ["junit.xml", "results.json", "report.html", "cucumber.json"] {
        assert!(reports.join(file).is_file(), "no {file}: {}", run.explain());
    }
    assert_eq!(
        run.summary,
        read(&reports.join("summary.md")),
        "the job summary is the kit's summary.md"
    );
    assert!(
        run.summary.contains("OMS-DEL-001") && run.summary.contains("OMS-DEL-003"),
        "the summary's rule table: {}",
        run.summary
    );
    let results: Value = serde_json::from_str(&read(&reports.join("results.json"))).expect("JSON");
    assert_eq!(results["exit_code"], 0);
    assert!(
        !run.stdout_of("Run the conformance suite")
            .contains("::error")
    );
}

#[test]
fn the_action_fails_the_step_with_the_kits_exit_status() {
    let rt = runtime();
    let target = launched(&rt, Some(Fault::DeleteRunning));
    let run = run_action(
        "fault",
        &[
            ("target", &target),
            ("rules", "OMS-DEL-003"),
            ("report-dir", "out/oms"),
        ],
        |_| {},
    );
    assert_eq!(run.code(), 1, "{}", run.explain());
    assert_eq!(run.outputs.get("exit-code").map(String::as_str), Some("1"));
    let reports = run.workspace.join("out/oms");
    assert!(reports.join("junit.xml").is_file(), "{}", run.explain());
    assert_eq!(run.summary, read(&reports.join("summary.md")));
    assert!(
        run.summary.contains("OMS-DEL-003") && run.summary.contains("fail"),
        "the summary names the failing rule: {}",
        run.summary
    );
    assert!(
        run.stdout_of("Run the conformance suite")
            .contains("::error title=OMS conformance::not conformant (exit 1)"),
        "{}",
        run.explain()
    );
}

#[test]
fn the_action_refuses_a_bad_input_and_a_bad_profile_with_exit_2() {
    let run = run_action("strict-maybe", &[("strict", "maybe")], |_| {});
    assert_eq!(run.code(), 2, "{}", run.explain());
    let stdout = run.stdout_of("Run the conformance suite");
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        ["::error title=OMS conformance::input strict must be true or false, not 'maybe'"],
        "{}",
        run.explain()
    );
    assert_eq!(run.outputs.get("exit-code").map(String::as_str), Some("2"));

    // A summary left in the report folder by an earlier run is not this run's.
    let run = run_action(
        "missing-profile",
        &[("profile", "ci/missing.toml")],
        |workspace| {
            let stale = workspace.join("conformance-reports");
            std::fs::create_dir_all(&stale).expect("report folder");
            std::fs::write(
                stale.join("summary.md"),
                "STALE: an earlier run's summary\n",
            )
            .expect("stale summary");
        },
    );
    assert_eq!(run.code(), 2, "{}", run.explain());
    assert_eq!(run.outputs.get("exit-code").map(String::as_str), Some("2"));
    assert!(!run.summary.contains("STALE"), "{}", run.summary);
    assert!(
        run.summary
            .starts_with("### OMS conformance: could not judge (exit 2)"),
        "{}",
        run.summary
    );
    let (_, end) = run.steps.last().expect("steps ran");
    assert_eq!(
        end.stderr.lines().count(),
        1,
        "the kit's one line: {}",
        run.explain()
    );
    assert!(end.stderr.contains("ci/missing.toml"), "{}", end.stderr);
}
