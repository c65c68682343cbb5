//! The binary's `--image` runs: the whole suite against the emulator image
//! (exit 0), a fault switched on in the faults image (exit 1, its rule
//! failing), a missing image (one clear line, exit 2), and an interrupted run
//! that removes its container.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::checks::{exits, fails_rule, names_target};
use crate::docker::wait_for;
use crate::guards::leftovers;
use crate::support::{self, run_binary, wait_for_exit};
use crate::{FAULTS_IMAGE, IMAGE};

pub fn suite_passes_against_the_image() -> Result<(), String> {
    let ran = run_binary("image-ok", &["--image", IMAGE]);
    exits(&ran, 0)?;
    let results = ran.results();
    for rule in results["rules"].as_array().into_iter().flatten() {
        if rule["level"] == "MUST" && rule["verdict"] != "pass" {
            return Err(format!(
                "{} is {} against the image",
                rule["id"], rule["verdict"]
            ));
        }
    }
    names_target(&ran, "container image")
}

pub fn a_fault_in_the_faults_image_fails_its_rule() -> Result<(), String> {
    let ran = run_binary(
        "image-fault",
        &[
            "--image",
            FAULTS_IMAGE,
            "--image-env",
            "OMS_FAULT=delete-running",
        ],
    );
    exits(&ran, 1)?;
    fails_rule(&ran, "OMS-DEL-003")
}

pub fn a_missing_image_is_one_clear_line() -> Result<(), String> {
    let ran = run_binary(
        "image-missing",
        &["--image", "oms-reference-server:no-such-tag"],
    );
    let lines: Vec<&str> = ran.stderr.lines().collect();
    if ran.code != 2
        || lines.len() != 1
        || !lines[0].contains("not present on the local Docker engine")
    {
        return Err(format!(
            "expected exit 2 and one line naming the missing image\n{}",
            ran.explain()
        ));
    }
    Ok(())
}

pub fn an_interrupted_run_removes_its_container() -> Result<(), String> {
    // Only a container this run creates counts: one that an earlier test is
    // still removing must neither start the clock nor be blamed on this run.
    let before = leftovers()?;
    let dir = support::scratch("image-interrupted");
    let mut child = Command::new(env!("CARGO_BIN_EXE_oms-conformance"))
        .args(["--image", IMAGE, "--report-dir"])
        .arg(dir.join("reports"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start the binary: {e}"))?;
    let mut own = Vec::new();
    let started = wait_for(std::time::Duration::from_secs(60), || {
        own = leftovers()
            .unwrap_or_default()
            .into_iter()
            .filter(|id| !before.contains(id))
            .collect();
        !own.is_empty()
    });
    // Interrupt as a CI runner or `docker stop` would, while the container runs.
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let status = wait_for_exit(&mut child, Instant::now() + Duration::from_secs(30), || {})
        .ok_or("the interrupted run did not end within 30 s")?;
    if !started {
        return Err("no container of the image appeared within 60 s".to_owned());
    }
    let left: Vec<String> = leftovers()?
        .into_iter()
        .filter(|id| own.contains(id))
        .collect();
    if !left.is_empty() {
        return Err(format!(
            "the interrupted run left its container behind: {left:?}"
        ));
    }
    if status.code() != Some(2) {
        return Err(format!(
            "an interrupted run should exit 2 (could not judge), got {status}"
        ));
    }
    Ok(())
}
