//! The `--image` tests: build the registry-free reference-server images (the
//! fault-free emulator users run, and a separately tagged one with fault
//! injection), run the whole suite against the emulator through
//! testcontainers (exit 0), check that the emulator refuses to inject a
//! fault, run the suite against the faults image with a fault switched on
//! (exit 1, the fault's rule failing), check the clear refusal of a missing
//! image, and check that no container is left behind.
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

/// The emulator image, as `just image` builds it: no fault injection.
const IMAGE: &str = "oms-reference-server:local";
/// The same server with fault injection compiled in, as `just image-faults` builds it.
const FAULTS_IMAGE: &str = "oms-reference-server:faults";

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

/// Builds both images exactly as `just image` and `just image-faults` do,
/// one after the other (the Dockerfile copies whichever binary was built
/// last). Cargo builds in its own target directory (`target/image`), so it
/// never waits for the lock that the surrounding `cargo test` holds on the
/// main one; the two builds share every dependency, and unchanged sources
/// make each step near a no-op.
fn build_images(root: &Path) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    for (image, features) in [(IMAGE, None), (FAULTS_IMAGE, Some("faults"))] {
        let mut build = Command::new(&cargo);
        build
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
            ]);
        if let Some(features) = features {
            build.args(["--features", features]);
        }
        must(
            &mut build,
            &format!("cargo build of the static server for {image}"),
        )?;
        must(
            Command::new("docker").current_dir(root).args([
                "build",
                "-q",
                "-t",
                image,
                "-f",
                "crates/oms-reference-server/Dockerfile",
                ".",
            ]),
            &format!("docker build of {image}"),
        )?;
    }
    Ok(())
}

/// Containers of either image, running or not.
fn leftovers() -> Result<Vec<String>, String> {
    let mut ids = Vec::new();
    for image in [IMAGE, FAULTS_IMAGE] {
        let out = must(
            Command::new("docker").args([
                "ps",
                "-a",
                "-q",
                "--filter",
                &format!("ancestor={image}"),
            ]),
            "docker ps",
        )?;
        ids.extend(out.lines().map(str::to_owned));
    }
    Ok(ids)
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

/// The emulator image has no fault injection: asked for a fault, the server
/// refuses to start, in one line, with exit 2.
fn the_emulator_image_refuses_a_fault() -> Result<(), String> {
    let name = format!("oms-refuses-a-fault-{}", std::process::id());
    let output = Command::new("docker")
        .args([
            "run",
            "--rm",
            "--name",
            &name,
            "-e",
            "OMS_FAULT=delete-running",
            IMAGE,
        ])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("docker run: {e}"))?;
    // `--rm` removal may finish just after `docker run` returns; the tests
    // after this one count containers of the image, so wait until it is gone.
    let gone = wait_for(std::time::Duration::from_secs(20), || {
        must(
            Command::new("docker").args(["ps", "-a", "-q", "--filter", &format!("name={name}")]),
            "docker ps",
        )
        .is_ok_and(|ids| ids.trim().is_empty())
    });
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.code() != Some(2) || !stderr.contains("no fault injection") {
        return Err(format!(
            "expected exit 2 and \"no fault injection\", got {} with stderr:\n{stderr}",
            output.status
        ));
    }
    if !gone {
        return Err(format!("the container {name} was not removed within 20 s"));
    }
    Ok(())
}

fn a_fault_in_the_faults_image_fails_its_rule() -> Result<(), String> {
    let ran = run_binary(
        "image-fault",
        &[
            "--image",
            FAULTS_IMAGE,
            "--image-env",
            "OMS_FAULT=delete-running",
        ],
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

/// Reads from `stream` until `want` has arrived, within 10 s.
fn read_until(stream: &mut std::net::TcpStream, want: &[u8]) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let until = Instant::now() + std::time::Duration::from_secs(10);
    let mut got = Vec::new();
    let mut chunk = [0u8; 4096];
    while !got.windows(want.len()).any(|w| w == want) {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(format!(
                "no {:?} within 10 s, got {:?}",
                String::from_utf8_lossy(want),
                String::from_utf8_lossy(&got)
            ));
        }
        stream
            .set_read_timeout(Some(left))
            .map_err(|e| e.to_string())?;
        match stream.read(&mut chunk) {
            Ok(0) => return Err(format!("closed, got {:?}", String::from_utf8_lossy(&got))),
            Ok(n) => got.extend_from_slice(&chunk[..n]),
            Err(e) => return Err(format!("read: {e}")),
        }
    }
    Ok(got)
}

/// `docker stop` of the emulator with a half-sent head and a half-sent body
/// open: the server drains (default deadline 5 s) and exits 0, well before
/// docker's SIGKILL at 10 s (which would be exit 137).
fn docker_stop_with_half_sent_requests_exits_0() -> Result<(), String> {
    use std::io::Write;
    let name = format!("oms-stop-half-sent-{}", std::process::id());
    must(
        Command::new("docker").args(["run", "-d", "--name", &name, "-p", "127.0.0.1::8080", IMAGE]),
        "docker run",
    )?;
    let outcome = (|| {
        let port = must(
            Command::new("docker").args(["port", &name, "8080/tcp"]),
            "docker port",
        )?;
        let addr: std::net::SocketAddr = port
            .lines()
            .next()
            .and_then(|l| l.trim().parse().ok())
            .ok_or_else(|| format!("docker port said {port:?}"))?;
        let project = "0123456789abcdef0123456789abcdef";
        let list = format!(
            "GET /v1/{project}/objectstorage/task?start=0&limit=1 HTTP/1.1\r\nHost: t\r\nX-Auth-Token: dev-token-a\r\n\r\n"
        );
        // The emulator answers once it is up; each connection is proved held
        // by an answer before it sends its half request.
        let mut head = None;
        let up = wait_for(std::time::Duration::from_secs(30), || {
            let Ok(mut stream) = std::net::TcpStream::connect(addr) else {
                return false;
            };
            let answered = stream.write_all(list.as_bytes()).is_ok()
                && read_until(&mut stream, b"\r\n\r\n").is_ok();
            head = answered.then_some(stream);
            answered
        });
        let mut head = head
            .filter(|_| up)
            .ok_or("the emulator did not answer within 30 s")?;
        head.write_all(b"GET /v1/x/version HTTP/1.1\r\nHost: x\r\n")
            .map_err(|e| e.to_string())?;
        let mut body = std::net::TcpStream::connect(addr).map_err(|e| e.to_string())?;
        body.write_all(
            format!(
                "POST /v1/{project}/objectstorage/task HTTP/1.1\r\nHost: t\r\nX-Auth-Token: dev-token-a\r\n\
                 Content-Type: application/json\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n"
            )
            .as_bytes(),
        )
        .map_err(|e| e.to_string())?;
        read_until(&mut body, b"100 Continue")?;
        body.write_all(b"{").map_err(|e| e.to_string())?;
        let started = Instant::now();
        must(
            Command::new("docker").args(["stop", "-t", "10", &name]),
            "docker stop",
        )?;
        let took = started.elapsed();
        let code = must(
            Command::new("docker").args(["inspect", "-f", "{{.State.ExitCode}}", &name]),
            "docker inspect",
        )?;
        if code.trim() != "0" {
            return Err(format!(
                "docker stop took {took:?}; the exit code was {}",
                code.trim()
            ));
        }
        if took >= std::time::Duration::from_secs(9) {
            return Err(format!("docker stop took {took:?}: near its SIGKILL"));
        }
        println!("docker stop with a half-sent head and body open: exit 0 after {took:.2?}");
        Ok(())
    })();
    let _ = Command::new("docker")
        .args(["rm", "-f", &name])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    outcome
}

/// A container test: `Err` carries what went wrong.
type Test = fn() -> Result<(), String>;

fn main() -> std::process::ExitCode {
    let started = Instant::now();
    let tests: [(&str, Test); 6] = [
        (
            "suite_passes_against_the_image",
            suite_passes_against_the_image,
        ),
        (
            "the_emulator_image_refuses_a_fault",
            the_emulator_image_refuses_a_fault,
        ),
        (
            "a_fault_in_the_faults_image_fails_its_rule",
            a_fault_in_the_faults_image_fails_its_rule,
        ),
        (
            "a_missing_image_is_one_clear_line",
            a_missing_image_is_one_clear_line,
        ),
        (
            "an_interrupted_run_removes_its_container",
            an_interrupted_run_removes_its_container,
        ),
        (
            "docker_stop_with_half_sent_requests_exits_0",
            docker_stop_with_half_sent_requests_exits_0,
        ),
    ];
    // The image build and the leftover check are tests too.
    let total = tests.len() + 2;
    let names = ["images_build_without_a_registry"]
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
    let built = build_images(&root);
    let ready = built.is_ok();
    report("images_build_without_a_registry", built);
    if ready {
        for (name, test) in tests {
            report(name, test());
        }
    }
    let left = leftovers().and_then(|ids| {
        if ids.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "containers of {IMAGE} or {FAULTS_IMAGE} left behind: {ids:?}"
            ))
        }
    });
    report("no_container_is_left_behind", left);
    let not_run = if ready { 0 } else { tests.len() };
    finish(passed, failed, not_run)
}
