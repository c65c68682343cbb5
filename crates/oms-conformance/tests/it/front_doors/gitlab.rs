//! The GitLab CI template (`ci/gitlab/oms-conformance.yml`) run as a GitLab
//! runner with a POSIX shell runs it: its `script` lines in one `sh -e`, in
//! `CI_PROJECT_DIR`, with its `variables`; against a launched server with and
//! without a fault, and without the kit on `PATH`.

use std::path::PathBuf;
use std::process::Command;

use oms_reference_server::faults::Fault;

use super::{finish, kit_dir, launched, path_with, read, yaml};
use crate::support::{Ran, runtime, scratch};

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
