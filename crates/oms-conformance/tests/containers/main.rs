//! The `--image` tests: build the registry-free reference-server image, run
//! the whole suite against it through testcontainers (exit 0), run it again
//! with a fault switched on in the same image (exit 1, the fault's rule
//! failing), check the clear refusal of a missing image, and check that no
//! container is left behind.
//!
//! This target has its own `main` (`harness = false`) for one reason: where
//! no Docker engine is reachable, its tests must be reported as *not run*
//! (libtest's "ignored"), never as passed, and libtest cannot decide that at
//! run time. With `OMS_REQUIRE_DOCKER=1` (set by `.ci/run`) a missing engine
//! is a failure instead, so CI can never pass these silently.

#[path = "../it/support.rs"]
#[allow(dead_code, reason = "the shared helpers serve the `it` target too")]
mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use support::{Ran, root, run_binary};

const IMAGE: &str = "oms-reference-server:local";

/// Runs a command to completion, failing with its output if it fails.
fn must(command: &mut Command, what: &str) -> Result<String, String> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{what}: cannot run: {e}"))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(format!(
            "{what} failed ({}):\n{}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// Whether a Docker engine answers, and its version or why not.
fn engine() -> Result<String, String> {
    must(
        Command::new("docker").args(["version", "--format", "{{.Server.Version}}"]),
        "docker version",
    )
    .map(|v| v.trim().to_owned())
}

/// Builds the image exactly as `just image` does. Cargo builds in its own
/// target directory (`target/image`), so it never waits for the lock that the
/// surrounding `cargo test` holds on the main one; unchanged sources make both
/// steps near no-ops.
fn build_image(root: &Path) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    must(
        Command::new(cargo)
            .current_dir(root)
            .env("RUSTFLAGS", "-C target-feature=+crt-static")
            .env("CARGO_TARGET_DIR", root.join("target/image"))
            .args([
                "build",
                "--release",
                "--locked",
                "--target",
                "x86_64-unknown-linux-gnu",
                "-p",
                "oms-reference-server",
                "--features",
                "faults",
            ]),
        "cargo build of the static reference server",
    )?;
    must(
        Command::new("docker").current_dir(root).args([
            "build",
            "-q",
            "-t",
            IMAGE,
            "-f",
            "crates/oms-reference-server/Dockerfile",
            ".",
        ]),
        "docker build",
    )
    .map(|_| ())
}

/// Containers of the image, running or not.
fn leftovers() -> Result<Vec<String>, String> {
    let out = must(
        Command::new("docker").args(["ps", "-a", "-q", "--filter", &format!("ancestor={IMAGE}")]),
        "docker ps",
    )?;
    Ok(out.lines().map(str::to_owned).collect())
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

fn suite_passes_against_the_image() -> Result<(), String> {
    let ran = run_binary("image-ok", &["--image", IMAGE]);
    if ran.code != 0 {
        return Err(format!("expected exit 0\n{}", ran.explain()));
    }
    let results = ran.results();
    for rule in results["rules"].as_array().into_iter().flatten() {
        if rule["level"] == "MUST" && rule["verdict"] != "pass" {
            return Err(format!(
                "{} is {} against the image",
                rule["id"], rule["verdict"]
            ));
        }
    }
    if results["target"] != "container image" {
        return Err(format!(
            "results.json names the target {}",
            results["target"]
        ));
    }
    Ok(())
}

fn a_fault_in_the_same_image_fails_its_rule() -> Result<(), String> {
    let ran = run_binary(
        "image-fault",
        &["--image", IMAGE, "--image-env", "OMS_FAULT=delete-running"],
    );
    if ran.code != 1 {
        return Err(format!("expected exit 1\n{}", ran.explain()));
    }
    let failing = failing_rules(&ran);
    if !failing.iter().any(|r| r == "OMS-DEL-003") {
        return Err(format!(
            "OMS-DEL-003 is not among the failing rules {failing:?}"
        ));
    }
    Ok(())
}

fn a_missing_image_is_one_clear_line() -> Result<(), String> {
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

/// Polls `probe` every 50 ms until it holds or `deadline` passes.
fn wait_for(deadline: std::time::Duration, mut probe: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + deadline;
    while Instant::now() < until {
        if probe() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    false
}

fn an_interrupted_run_removes_its_container() -> Result<(), String> {
    let dir = support::scratch("image-interrupted");
    let mut child = Command::new(env!("CARGO_BIN_EXE_oms-conformance"))
        .args(["--image", IMAGE, "--report-dir"])
        .arg(dir.join("reports"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start the binary: {e}"))?;
    let started = wait_for(std::time::Duration::from_secs(60), || {
        leftovers().is_ok_and(|ids| !ids.is_empty())
    });
    // Interrupt as a CI runner or `docker stop` would, while the container runs.
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let exited = wait_for(std::time::Duration::from_secs(30), || {
        matches!(child.try_wait(), Ok(Some(_)))
    });
    if !exited {
        let _ = child.kill();
        return Err("the interrupted run did not end within 30 s".to_owned());
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if !started {
        return Err("no container of the image appeared within 60 s".to_owned());
    }
    let left = leftovers()?;
    if !left.is_empty() {
        return Err(format!(
            "the interrupted run left containers behind: {left:?}"
        ));
    }
    if status.code() != Some(2) {
        return Err(format!(
            "an interrupted run should exit 2 (could not judge), got {status}"
        ));
    }
    Ok(())
}

/// A container test: `Err` carries what went wrong.
type Test = fn() -> Result<(), String>;

fn main() -> std::process::ExitCode {
    let started = Instant::now();
    let tests: [(&str, Test); 4] = [
        (
            "suite_passes_against_the_image",
            suite_passes_against_the_image,
        ),
        (
            "a_fault_in_the_same_image_fails_its_rule",
            a_fault_in_the_same_image_fails_its_rule,
        ),
        (
            "a_missing_image_is_one_clear_line",
            a_missing_image_is_one_clear_line,
        ),
        (
            "an_interrupted_run_removes_its_container",
            an_interrupted_run_removes_its_container,
        ),
    ];
    // The image build and the leftover check are tests too.
    let total = tests.len() + 2;
    let names = ["image_builds_without_a_registry"]
        .into_iter()
        .chain(tests.iter().map(|(name, _)| *name))
        .chain(["no_container_is_left_behind"]);
    println!("\nrunning {total} tests");
    let finish = |passed: usize, failed: usize, ignored: usize| {
        println!(
            "\ntest result: {}. {passed} passed; {failed} failed; {ignored} ignored; 0 measured; 0 filtered out; finished in {:.2}s\n",
            if failed == 0 { "ok" } else { "FAILED" },
            started.elapsed().as_secs_f64()
        );
        if failed == 0 {
            std::process::ExitCode::SUCCESS
        } else {
            std::process::ExitCode::FAILURE
        }
    };

    if let Err(why) = engine() {
        let required = std::env::var("OMS_REQUIRE_DOCKER").is_ok_and(|v| v == "1");
        eprintln!("\n!!! NO DOCKER ENGINE REACHABLE: the --image tests did NOT run !!!\n{why}");
        if required {
            eprintln!("OMS_REQUIRE_DOCKER=1: a missing engine is a failure");
            println!("test docker_engine_is_reachable ... FAILED");
            return finish(0, 1, total);
        }
        for name in names {
            println!("test {name} ... ignored, no Docker engine");
        }
        return finish(0, 0, total);
    }

    let root = root();
    let (mut passed, mut failed) = (0, 0);
    let mut report = |name: &str, outcome: Result<(), String>| match outcome {
        Ok(()) => {
            println!("test {name} ... ok");
            passed += 1;
        }
        Err(why) => {
            println!("test {name} ... FAILED\n{why}");
            failed += 1;
        }
    };
    let built = build_image(&root);
    let ready = built.is_ok();
    report("image_builds_without_a_registry", built);
    if ready {
        for (name, test) in tests {
            report(name, test());
        }
    }
    let left = leftovers().and_then(|ids| {
        if ids.is_empty() {
            Ok(())
        } else {
            Err(format!("containers of {IMAGE} left behind: {ids:?}"))
        }
    });
    report("no_container_is_left_behind", left);
    let not_run = if ready { 0 } else { tests.len() };
    finish(passed, failed, not_run)
}
