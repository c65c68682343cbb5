//! The CI front doors, run as their runners would run them: the GitHub Action
//! (`action.yml`, composite) and the GitLab CI template
//! (`ci/gitlab/oms-conformance.yml`). Neither hosted runner is reachable here,
//! so these tests read each file's YAML and execute its shell steps the way the
//! runner does: the action's steps one after another under `bash --noprofile
//! --norc -eo pipefail`, their `env` with `${{ inputs.* }}` filled in, and the
//! files a runner provides (`GITHUB_STEP_SUMMARY`, `GITHUB_OUTPUT`,
//! `GITHUB_PATH`, `GITHUB_ENV`) honoured between steps; the template's
//! `script` lines in one POSIX `sh -e`, in `CI_PROJECT_DIR`, with its
//! `variables`. The built binary is put on `PATH`, as a kit already installed
//! on the runner (the action's `cargo install` branch builds a release binary,
//! minutes that the test command cannot spend). They assert the job summary,
//! the step's or job's exit status, the outputs and the report files, against
//! the embedded reference server and a launched one with a fault; a tidy test
//! holds the inputs and variables they document to the options the kit
//! accepts.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use oms_reference_server::faults::Fault;
use serde_json::Value;

use crate::support::{Ran, reference_server_with, root, run_captured, run_exact, runtime, scratch};

/// A step or a job is killed, and the test fails, past this.
const STEP_DEADLINE: Duration = Duration::from_secs(120);

/// What the action documents, and the kit option each input becomes.
const ACTION_INPUTS: [(&str, &str); 6] = [
    ("profile", "--profile"),
    ("target", "--target"),
    ("image", "--image"),
    ("strict", "--strict"),
    ("rules", "--rule"),
    ("report-dir", "--report-dir"),
];

fn yaml(path: &str) -> Value {
    let text = std::fs::read_to_string(root().join(path))
        .unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    yaml_serde::from_str(&text).unwrap_or_else(|e| panic!("{path} is not YAML: {e}"))
}

/// The folder of the built binary, which the runner's `PATH` starts with.
fn kit_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_oms-conformance"))
        .parent()
        .expect("the binary has a folder")
        .to_path_buf()
}

/// `PATH` as the job sees it: `first`, then this process's, without any
/// folder holding another `oms-conformance`.
fn path_with(first: &[PathBuf]) -> String {
    let inherited = std::env::var_os("PATH").unwrap_or_default();
    let rest =
        std::env::split_paths(&inherited).filter(|dir| !dir.join("oms-conformance").exists());
    std::env::join_paths(first.iter().cloned().chain(rest))
        .expect("PATH joins")
        .into_string()
        .expect("PATH is UTF-8")
}

/// Runs `command` to its end, killing it (and failing) past [`STEP_DEADLINE`];
/// its output is kept in `dir/<what>/`, the kit's reports in `report_dir`.
fn finish(mut command: Command, what: &str, dir: &Path, report_dir: PathBuf) -> Ran {
    // Nothing of the test's own environment may steer the kit.
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("OMS_CONFORMANCE_") {
            command.env_remove(key);
        }
    }
    let ended = run_captured(
        &mut command,
        &dir.join(what),
        what,
        Instant::now() + STEP_DEADLINE,
        |_| {},
    )
    .unwrap_or_else(|message| panic!("{message}"));
    Ran {
        code: ended.status.code().unwrap_or(-1),
        stdout: ended.stdout,
        stderr: ended.stderr,
        report_dir,
    }
}

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

/// A reference server with `fault` on 127.0.0.1, serving while `rt` lives.
fn launched(rt: &tokio::runtime::Runtime, fault: Option<Fault>) -> String {
    let config = oms_reference_server::Config {
        fault,
        ..oms_reference_server::Config::default()
    };
    format!("http://{}", reference_server_with(rt, config))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
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

/// What one run of the GitLab job left behind.
#[derive(Debug)]
struct JobRun {
    /// The job's end; its `report_dir` is `$CI_PROJECT_DIR/conformance-reports`.
    end: Ran,
    project: PathBuf,
    /// The job's `artifacts:reports:junit` path.
    junit: String,
}

/// Runs the template's hidden job as a GitLab runner with a POSIX shell does:
/// its `variables` overlaid with the pipeline's `variables`, its `script`
/// lines one after another in one `sh -e`, in `CI_PROJECT_DIR`.
fn run_job(name: &str, variables: &[(&str, &str)], path: &[PathBuf]) -> JobRun {
    let template = yaml("ci/gitlab/oms-conformance.yml");
    let job = &template[".oms-conformance"];
    let dir = scratch(&format!("gitlab-{name}"));
    let project = dir.join("project");
    std::fs::create_dir_all(&project).expect("project folder");
    let script: Vec<&str> = job["script"]
        .as_array()
        .expect("a script")
        .iter()
        .map(|line| line.as_str().expect("script lines are strings"))
        .collect();
    let script_file = dir.join("job.sh");
    std::fs::write(&script_file, script.join("\n") + "\n").expect("script");
    let mut command = Command::new("sh");
    command
        .arg("-e")
        .arg(&script_file)
        .current_dir(&project)
        .env("PATH", path_with(path))
        .env("CI", "true")
        .env("GITLAB_CI", "true")
        .env("CI_PROJECT_DIR", &project)
        .env("CI_JOB_NAME", "oms-conformance");
    for (key, value) in job["variables"].as_object().expect("variables") {
        command.env(key, value.as_str().expect("variables are strings"));
    }
    for (key, value) in variables {
        command.env(key, value);
    }
    JobRun {
        end: finish(command, "job", &dir, project.join("conformance-reports")),
        project,
        junit: job["artifacts"]["reports"]["junit"]
            .as_str()
            .expect("a JUnit report")
            .to_owned(),
    }
}

#[test]
fn the_gitlab_job_judges_a_target_and_fails_with_the_kits_exit_status() {
    let rt = runtime();
    for (fault, code) in [(None, 0), (Some(Fault::DeleteRunning), 1)] {
        let target = launched(&rt, fault);
        let job = run_job(
            fault.map_or("reference", Fault::name),
            &[
                ("OMS_CONFORMANCE_TARGET", &target),
                ("OMS_CONFORMANCE_RULES", "OMS-DEL-003"),
                // Set but empty, as a pipeline leaves an optional variable: unset.
                ("OMS_CONFORMANCE_STRICT", ""),
                ("OMS_CONFORMANCE_PROFILE", ""),
            ],
            &[kit_dir()],
        );
        let explain = job.end.explain();
        assert_eq!(job.end.code, code, "{fault:?}: {explain}");
        let junit = job.project.join(&job.junit);
        assert!(
            junit.is_file(),
            "the JUnit artifact at {}: {explain}",
            job.junit
        );
        let summary = read(&job.project.join("conformance-reports/summary.md"));
        assert!(
            job.end.stdout.contains(&summary),
            "the log shows summary.md: {explain}"
        );
        assert_eq!(job.end.results()["base_url"], target.as_str(), "{explain}");
        let want = if fault.is_some() { "fail" } else { "pass" };
        assert_eq!(
            job.end.rule_in("v1", "OMS-DEL-003")["verdict"],
            want,
            "{explain}"
        );
    }
}

#[test]
fn the_gitlab_job_without_the_kit_says_so_in_one_line_and_exits_2() {
    let job = run_job("no-kit", &[], &[]);
    assert_eq!(job.end.code, 2, "{job:?}");
    assert_eq!(
        job.end.stderr.trim_end(),
        "error: oms-conformance is not on PATH: set OMS_KIT_GIT to the kit's git URL, or use a job image that has it"
    );
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
    // The README's table of the action's inputs names exactly these.
    let readme = read(&root().join("README.md"));
    let section = readme
        .split("### The GitHub Action")
        .nth(1)
        .and_then(|rest| rest.split("\n#").next())
        .expect("README: a section \"### The GitHub Action\"");
    let mut rows: Vec<&str> = section
        .lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|line| line.split('`').next())
        .collect();
    rows.sort_unstable();
    assert_eq!(rows, documented, "README: the action's inputs");

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
