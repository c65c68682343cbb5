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
//!
//! Here what both runners share (the YAML, the kit on `PATH`, a step run to its
//! end, a launched server); `action` runs the GitHub Action, `gitlab` the
//! GitLab template, and `documented` holds what they document to the kit.

mod action;
mod documented;
mod gitlab;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use oms_reference_server::faults::Fault;
use serde_json::Value;

use crate::support::{Ran, reference_server_with, root, run_captured};

/// A step or a job is killed, and the test fails, past this.
const STEP_DEADLINE: Duration = Duration::from_secs(120);

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
