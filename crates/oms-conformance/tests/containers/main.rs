//! The container tests: build the registry-free images (the fault-free
//! emulator users run, a separately tagged one with fault injection, and the
//! harness itself), run the whole suite against the emulator through
//! testcontainers (exit 0), check that the emulator refuses to inject a
//! fault, run the suite against the faults image with a fault switched on
//! (exit 1, the fault's rule failing), check the clear refusal of a missing
//! image; then run the harness image on a user-defined Docker network against
//! the emulator addressed by its container name (exit 0, the reports on a
//! mounted directory: the proof that the static harness resolves names
//! in-process), the same against the faults image (exit 1), with a bad profile
//! (exit 2, one line) and with no target at all (its embedded server); and
//! check that no container and no network is left behind. Every `docker`
//! command has a deadline, so a hung engine fails a test instead of hanging it.
//!
//! This target has its own `main` (`harness = false`) for one reason: where
//! no Docker engine is reachable, its tests must be reported as *not run*
//! (libtest's "ignored"), never as passed, and libtest cannot decide that at
//! run time. With `OMS_REQUIRE_DOCKER=1` (set by `.ci/run`) a missing engine
//! is a failure instead, so CI can never pass these silently.

#[path = "../it/support/mod.rs"]
#[allow(
    dead_code,
    unused_imports,
    reason = "the shared helpers, and their re-exports, serve the `it` target too"
)]
mod support;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use support::{Ran, root, run_binary, wait_for_exit};

/// The emulator image, as `just image` builds it: no fault injection.
const IMAGE: &str = "oms-reference-server:local";
/// The same server with fault injection compiled in, as `just image-faults` builds it.
const FAULTS_IMAGE: &str = "oms-reference-server:faults";
/// The harness, as `just harness-image` builds it.
const HARNESS_IMAGE: &str = "oms-conformance:local";

/// The label of every network and container these tests create, so that the
/// final check finds whatever any run of them left behind.
const LABEL: &str = "oms-conformance.containers-test";

/// Deadline of a quick `docker` command (ps, inspect, network, rm, run -d).
const QUICK: Duration = Duration::from_secs(60);
/// Deadline of a `docker build` (a local build context, nothing pulled).
const BUILD: Duration = Duration::from_secs(300);
/// Deadline of a harness container's whole run (the suite takes seconds).
const SUITE: Duration = Duration::from_secs(180);

/// Runs a command to completion, failing with its output if it fails. For
/// cargo, whose cold build takes what it takes; `docker` goes through
/// [`docker`], which has a deadline.
fn must(command: &mut Command, what: &str) -> Result<String, String> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{what}: cannot run: {e}"))?;
    succeeded(output, what)
}

fn succeeded(output: Output, what: &str) -> Result<String, String> {
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

/// Runs `command` to its end, or kills it once `deadline` has passed: a hung
/// Docker engine fails the test that waits on it instead of hanging it. Its
/// output is captured in a scratch folder of its own.
fn within(command: &mut Command, what: &str, deadline: Duration) -> Result<Output, String> {
    static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = support::scratch(&format!("command-{run}"));
    let ended = support::run_captured(command, &dir, what, Instant::now() + deadline, |_| {})?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(Output {
        status: ended.status,
        stdout: ended.stdout.into_bytes(),
        stderr: ended.stderr.into_bytes(),
    })
}

/// `docker ARGS` within `deadline`, whatever its exit status.
fn docker_output(args: &[&str], deadline: Duration) -> Result<Output, String> {
    within(
        Command::new("docker").current_dir(root()).args(args),
        &format!("docker {}", args.join(" ")),
        deadline,
    )
}

/// `docker ARGS` within `deadline`; its stdout, or an error if it failed.
fn docker(args: &[&str], deadline: Duration) -> Result<String, String> {
    let what = format!("docker {}", args.first().copied().unwrap_or_default());
    succeeded(docker_output(args, deadline)?, &what)
}

/// Whether a Docker engine answers, and its version or why not.
fn engine() -> Result<String, String> {
    docker(&["version", "--format", "{{.Server.Version}}"], QUICK).map(|v| v.trim().to_owned())
}

/// The static release build of `package` that the image recipes run, in
/// their target directory (`target/image`), so that cargo never waits for the
/// lock that the surrounding `cargo test` holds on the main one.
fn static_build(root: &Path, package: &str, features: Option<&str>) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut build = Command::new(cargo);
    // What `cargo test` sets for this test (`CARGO_PKG_NAME`,
    // `CARGO_MANIFEST_DIR` and the like) is not passed on: ring's build
    // script declares them `rerun-if-env-changed`, so the harness's static
    // build was redone from ring up (2.5 min) each time `just harness-image`,
    // run from a shell, and these tests took turns.
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if CARGO_SETS_FOR_TESTS
            .iter()
            .any(|prefix| key.starts_with(prefix))
        {
            build.env_remove(&*key);
        }
    }
    build
        .current_dir(root)
        .env("RUSTFLAGS", STATIC_RUSTFLAGS)
        .env("CARGO_TARGET_DIR", root.join("target/image"))
        .args(STATIC_BUILD)
        .args(["-p", package]);
    if let Some(features) = features {
        build.args(["--features", features]);
    }
    must(&mut build, &format!("cargo build of the static {package}"))?;
    Ok(())
}

/// The variables cargo sets for a crate's tests (prefixes), none of which a
/// shell that runs a `just` recipe has.
const CARGO_SETS_FOR_TESTS: [&str; 8] = [
    "CARGO_PKG_",
    "CARGO_MANIFEST_",
    "CARGO_CRATE_NAME",
    "CARGO_BIN_",
    "CARGO_PRIMARY_PACKAGE",
    "CARGO_TARGET_TMPDIR",
    "CARGO_RUSTC_CURRENT_DIR",
    "OUT_DIR",
];

/// The `RUSTFLAGS` of every image recipe's build: a static binary (it runs on
/// `scratch`), linked without the line tables the release profile keeps (an
/// image is shipped, its binary is not debugged in place: they were 92 MB of
/// the harness image's 118 MB, which is now 26 MB).
const STATIC_RUSTFLAGS: &str = "-C target-feature=+crt-static -C strip=debuginfo";

/// The arguments of every image recipe's `cargo build`, before `-p`.
const STATIC_BUILD: [&str; 5] = [
    "build",
    "--release",
    "--locked",
    "--target",
    "x86_64-unknown-linux-gnu",
];

/// Builds the three images exactly as `just image`, `just image-faults` and
/// `just harness-image` do, one after the other (the server's Dockerfile
/// copies whichever server binary was built last). The builds share their
/// target directory, so unchanged sources make each step near a no-op.
fn build_images(root: &Path) -> Result<(), String> {
    for (image, features) in [(IMAGE, None), (FAULTS_IMAGE, Some("faults"))] {
        static_build(root, "oms-reference-server", features)?;
        docker(
            &[
                "build",
                "-q",
                "-t",
                image,
                "-f",
                "crates/oms-reference-server/Dockerfile",
                ".",
            ],
            BUILD,
        )?;
    }
    the_harness_recipe_is_this_build(root)?;
    static_build(root, "oms-conformance", None)?;
    docker(&HARNESS_DOCKER_BUILD, BUILD)?;
    Ok(())
}

/// The harness image's `docker build`.
const HARNESS_DOCKER_BUILD: [&str; 7] = [
    "build",
    "-q",
    "-t",
    HARNESS_IMAGE,
    "-f",
    "crates/oms-conformance/Dockerfile",
    ".",
];

/// `just harness-image` runs the two commands these tests build the harness
/// image with, and nothing else: what is tested is what the recipe builds.
fn the_harness_recipe_is_this_build(root: &Path) -> Result<(), String> {
    let justfile = std::fs::read_to_string(root.join("justfile"))
        .map_err(|e| format!("cannot read the justfile: {e}"))?;
    let recipe: Vec<&str> = justfile
        .split("\nharness-image:\n")
        .nth(1)
        .ok_or("the justfile has no `harness-image` recipe")?
        .lines()
        .take_while(|line| line.starts_with("    "))
        .map(str::trim)
        .collect();
    let wanted = [
        format!(
            "RUSTFLAGS=\"{STATIC_RUSTFLAGS}\" CARGO_TARGET_DIR=target/image cargo {} -p oms-conformance",
            STATIC_BUILD.join(" ")
        ),
        format!("docker {}", HARNESS_DOCKER_BUILD.join(" ")),
    ];
    if recipe != wanted {
        return Err(format!(
            "`just harness-image` is {recipe:#?}, the tests build with {wanted:#?}"
        ));
    }
    Ok(())
}

/// Containers of the three images, running or not.
fn leftovers() -> Result<Vec<String>, String> {
    let mut ids = Vec::new();
    for image in [IMAGE, FAULTS_IMAGE, HARNESS_IMAGE] {
        let out = docker(
            &["ps", "-a", "-q", "--filter", &format!("ancestor={image}")],
            QUICK,
        )?;
        ids.extend(out.lines().map(str::to_owned));
    }
    Ok(ids)
}

/// Networks these tests created, by any run.
fn leftover_networks() -> Result<Vec<String>, String> {
    let out = docker(
        &["network", "ls", "-q", "--filter", &format!("label={LABEL}")],
        QUICK,
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

/// The emulator image has no fault injection: asked for a fault, the server
/// refuses to start, in one line, with exit 2.
fn the_emulator_image_refuses_a_fault() -> Result<(), String> {
    let name = format!("oms-refuses-a-fault-{}", std::process::id());
    let output = docker_output(
        &[
            "run",
            "--rm",
            "--name",
            &name,
            "-e",
            "OMS_FAULT=delete-running",
            IMAGE,
        ],
        QUICK,
    )?;
    // `--rm` removal may finish just after `docker run` returns; the tests
    // after this one count containers of the image, so wait until it is gone.
    let gone = wait_for(std::time::Duration::from_secs(20), || {
        docker(
            &["ps", "-a", "-q", "--filter", &format!("name={name}")],
            QUICK,
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

/// Reads from `stream` until `want` has arrived, within 10 s.
fn read_until(stream: &mut std::net::TcpStream, want: &[u8]) -> Result<Vec<u8>, String> {
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
    docker(
        &["run", "-d", "--name", &name, "-p", "127.0.0.1::8080", IMAGE],
        QUICK,
    )?;
    let outcome = (|| {
        let port = docker(&["port", &name, "8080/tcp"], QUICK)?;
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
        docker(&["stop", "-t", "10", &name], QUICK)?;
        let took = started.elapsed();
        let code = docker(&["inspect", "-f", "{{.State.ExitCode}}", &name], QUICK)?;
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
    let _ = docker_output(&["rm", "-f", &name], QUICK);
    outcome
}

/// The name of something these tests create: unique to this run and test.
fn unique(tag: &str) -> String {
    format!("oms-ct-{}-{tag}", std::process::id())
}

/// A user-defined Docker network, removed when dropped (after the containers
/// on it, which are declared after it and so dropped first).
struct Network {
    name: String,
}

impl Network {
    fn create(tag: &str) -> Result<Self, String> {
        // The guard exists before the network: a create that times out after
        // the engine made it still has its removal.
        let network = Self { name: unique(tag) };
        docker(
            &["network", "create", "--label", LABEL, &network.name],
            QUICK,
        )?;
        Ok(network)
    }
}

impl Drop for Network {
    fn drop(&mut self) {
        remove(&["network", "rm", &self.name]);
    }
}

/// A container by name, forcibly removed when dropped, whatever became of it.
struct Container {
    name: String,
}

impl Container {
    /// The guard of a container not created yet: every `docker run` that
    /// names it comes after, so no path leaves the container behind.
    fn named(tag: &str) -> Self {
        Self { name: unique(tag) }
    }

    /// Starts `image` detached on `network` with `env`, and waits until its
    /// server says it is listening.
    fn serve(&self, network: &Network, image: &str, env: &[&str]) -> Result<(), String> {
        let mut args = vec![
            "run",
            "-d",
            "--name",
            &self.name,
            "--label",
            LABEL,
            "--network",
            &network.name,
        ];
        for pair in env {
            args.extend(["-e", pair]);
        }
        args.push(image);
        docker(&args, QUICK)?;
        let mut logs = String::new();
        let listening = wait_for(Duration::from_secs(30), || {
            if let Ok(output) = docker_output(&["logs", &self.name], QUICK) {
                logs = String::from_utf8_lossy(&output.stderr).into_owned();
            }
            logs.contains("listening on")
        });
        if !listening {
            return Err(format!(
                "{image} did not say it was listening within 30 s; its log:\n{logs}"
            ));
        }
        Ok(())
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        remove(&["rm", "-f", "-v", &self.name]);
    }
}

/// Runs a removal; one of something that does not exist (a container that
/// was never created) is no failure, any other is reported.
fn remove(args: &[&str]) {
    match docker_output(args, QUICK) {
        Ok(output) if output.status.success() => {}
        Ok(output) => {
            let stderr = String::from_utf8_lossy(&output.stderr);
            if !stderr.contains("No such") && !stderr.contains("not found") {
                eprintln!("docker {}: {}", args.join(" "), stderr.trim());
            }
        }
        Err(why) => eprintln!("{why}"),
    }
}

/// A fresh host directory for a harness container's reports, writable by the
/// image's unprivileged user (65534), as the README tells users to make it.
fn report_dir(tag: &str) -> Result<PathBuf, String> {
    use std::os::unix::fs::PermissionsExt;
    let dir = support::scratch(&format!("harness-{tag}")).join("reports");
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777))
        .map_err(|e| format!("cannot open up {}: {e}", dir.display()))?;
    Ok(dir)
}

/// Runs the harness image to its end (within [`SUITE`]) as the container
/// `container`, on `network` if one is given, with `reports` mounted on
/// `/reports`, `mounts` added as `-v` values, and `args` after the image.
fn run_harness(
    container: &Container,
    network: Option<&Network>,
    reports: &Path,
    mounts: &[String],
    args: &[&str],
) -> Result<Ran, String> {
    let reports_mount = format!("{}:/reports", reports.display());
    let mut docker_args = vec![
        "run",
        "--name",
        &container.name,
        "--label",
        LABEL,
        "-v",
        &reports_mount,
    ];
    if let Some(network) = network {
        docker_args.extend(["--network", &network.name]);
    }
    for mount in mounts {
        docker_args.extend(["-v", mount]);
    }
    docker_args.push(HARNESS_IMAGE);
    docker_args.extend(args);
    let output = docker_output(&docker_args, SUITE)?;
    Ok(Ran {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        report_dir: reports.to_owned(),
    })
}

/// The reports a finished run must leave on the host.
fn reports_present(ran: &Ran) -> Result<(), String> {
    for file in ["junit.xml", "report.html", "results.json"] {
        if !ran.report_dir.join(file).is_file() {
            return Err(format!(
                "no {file} in the mounted directory {}\n{}",
                ran.report_dir.display(),
                ran.explain()
            ));
        }
    }
    Ok(())
}

/// Every rule of `results.json` passed, against `base_url`.
fn every_rule_passed(ran: &Ran, base_url: &str) -> Result<(), String> {
    let results = ran.results();
    if results["base_url"] != base_url {
        return Err(format!(
            "results.json names the base URL {}, not {base_url}",
            results["base_url"]
        ));
    }
    let rules = results["rules"].as_array().cloned().unwrap_or_default();
    if rules.is_empty() {
        return Err(format!("results.json has no rules\n{}", ran.explain()));
    }
    let not_passed: Vec<String> = rules
        .iter()
        .filter(|r| r["verdict"] != "pass")
        .map(|r| format!("{} {} {}", r["dialect"], r["id"], r["verdict"]))
        .collect();
    if !not_passed.is_empty() {
        return Err(format!("rules that did not pass: {not_passed:?}"));
    }
    Ok(())
}

/// The harness image, on a user-defined network, runs the whole suite against
/// the emulator image named by its container name, and only its in-process
/// resolver can have found that name.
///
/// Why the `nsswitch.conf`: the glibc the binary is linked with here (2.36)
/// has the `dns` and `files` lookups built in, so even a static binary's
/// `getaddrinfo` resolves a container name on `scratch`, and a bare run could
/// not tell the two resolvers apart. Told to look in `files` only (a
/// user-defined network's container names are not in `/etc/hosts`), the C
/// library cannot resolve the name, while hickory, which never reads
/// `nsswitch.conf`, asks Docker's DNS as before. With the raw path still on
/// `getaddrinfo`, this run had OMS-DEL-009 in error in both dialects (exit 2).
fn the_harness_image_reaches_the_emulator_by_name() -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let dir = support::scratch("harness-nss");
    let nsswitch = dir.join("nsswitch.conf");
    std::fs::write(&nsswitch, "hosts: files\n")
        .and_then(|()| std::fs::set_permissions(&nsswitch, std::fs::Permissions::from_mode(0o644)))
        .map_err(|e| format!("cannot write {}: {e}", nsswitch.display()))?;
    let network = Network::create("by-name")?;
    let emulator = Container::named("emulator");
    emulator.serve(&network, IMAGE, &[])?;
    let harness = Container::named("harness-by-name");
    let base_url = format!("http://{}:8080", emulator.name);
    let reports = report_dir("by-name")?;
    let ran = run_harness(
        &harness,
        Some(&network),
        &reports,
        &[format!("{}:/etc/nsswitch.conf:ro", nsswitch.display())],
        &["--target", &base_url],
    )?;
    if ran.code != 0 {
        return Err(format!("expected exit 0\n{}", ran.explain()));
    }
    reports_present(&ran)?;
    every_rule_passed(&ran, &base_url)?;
    if ran.results()["target"] != "external" {
        return Err(format!(
            "results.json names the target {}",
            ran.results()["target"]
        ));
    }
    Ok(())
}

/// The same against the faults image with a fault switched on: exit 1, the
/// fault's rule failing.
fn the_harness_image_fails_a_faulty_emulator_by_name() -> Result<(), String> {
    let network = Network::create("fault")?;
    let emulator = Container::named("faulty-emulator");
    emulator.serve(&network, FAULTS_IMAGE, &["OMS_FAULT=delete-running"])?;
    let harness = Container::named("harness-fault");
    let base_url = format!("http://{}:8080", emulator.name);
    let reports = report_dir("fault")?;
    let ran = run_harness(
        &harness,
        Some(&network),
        &reports,
        &[],
        &["--target", &base_url],
    )?;
    if ran.code != 1 {
        return Err(format!("expected exit 1\n{}", ran.explain()));
    }
    reports_present(&ran)?;
    let failing = failing_rules(&ran);
    if !failing.iter().any(|r| r == "OMS-DEL-003") {
        return Err(format!(
            "OMS-DEL-003 is not among the failing rules {failing:?}"
        ));
    }
    Ok(())
}

/// A bad profile mounted into the harness container: exit 2, and exactly one
/// line on stderr saying what is wrong.
fn the_harness_image_refuses_a_bad_profile_in_one_line() -> Result<(), String> {
    let dir = support::scratch("harness-bad-profile");
    let profile = dir.join("bad.toml");
    std::fs::write(&profile, "name = \"bad\"\ncolour = \"blue\"\n")
        .map_err(|e| format!("cannot write {}: {e}", profile.display()))?;
    let harness = Container::named("harness-bad-profile");
    let reports = report_dir("bad-profile")?;
    let mount = format!("{}:/profile.toml:ro", profile.display());
    let ran = run_harness(
        &harness,
        None,
        &reports,
        &[mount],
        &["--profile", "/profile.toml"],
    )?;
    let lines: Vec<&str> = ran.stderr.lines().collect();
    if ran.code != 2 || lines.len() != 1 || !lines[0].contains("/profile.toml") {
        return Err(format!(
            "expected exit 2 and one line naming /profile.toml\n{}",
            ran.explain()
        ));
    }
    Ok(())
}

/// With no target the harness image runs the suite against the reference
/// server embedded in it, as the binary does.
fn the_harness_image_runs_its_embedded_server_with_no_target() -> Result<(), String> {
    let harness = Container::named("harness-embedded");
    let reports = report_dir("embedded")?;
    let ran = run_harness(&harness, None, &reports, &[], &[])?;
    if ran.code != 0 {
        return Err(format!("expected exit 0\n{}", ran.explain()));
    }
    reports_present(&ran)?;
    if ran.results()["target"] != "embedded reference server" {
        return Err(format!(
            "results.json names the target {}",
            ran.results()["target"]
        ));
    }
    Ok(())
}

/// No container of the three images and no network of these tests exists,
/// whichever run made it.
fn nothing_is_left_behind() -> Result<(), String> {
    let containers = leftovers()?;
    let networks = leftover_networks()?;
    if containers.is_empty() && networks.is_empty() {
        return Ok(());
    }
    Err(format!(
        "left behind: containers of {IMAGE}, {FAULTS_IMAGE} or {HARNESS_IMAGE} {containers:?}, \
         networks labelled {LABEL} {networks:?}"
    ))
}

/// A container test: `Err` carries what went wrong.
type Test = fn() -> Result<(), String>;

fn main() -> std::process::ExitCode {
    let started = Instant::now();
    let tests: [(&str, Test); 10] = [
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
        (
            "the_harness_image_reaches_the_emulator_by_name",
            the_harness_image_reaches_the_emulator_by_name,
        ),
        (
            "the_harness_image_fails_a_faulty_emulator_by_name",
            the_harness_image_fails_a_faulty_emulator_by_name,
        ),
        (
            "the_harness_image_refuses_a_bad_profile_in_one_line",
            the_harness_image_refuses_a_bad_profile_in_one_line,
        ),
        (
            "the_harness_image_runs_its_embedded_server_with_no_target",
            the_harness_image_runs_its_embedded_server_with_no_target,
        ),
    ];
    // The image build and the leftover check are tests too.
    let total = tests.len() + 2;
    let names = ["images_build_without_a_registry"]
        .into_iter()
        .chain(tests.iter().map(|(name, _)| *name))
        .chain(["nothing_is_left_behind"]);
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
        eprintln!("\n!!! NO DOCKER ENGINE REACHABLE: the container tests did NOT run !!!\n{why}");
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
    // Each test's wall time as libtest's `--report-time` shows it; `true` if it passed.
    let mut report = |name: &str, test: &dyn Fn() -> Result<(), String>| {
        let began = Instant::now();
        let outcome = test();
        let took = began.elapsed().as_secs_f64();
        match outcome {
            Ok(()) => {
                println!("test {name} ... ok <{took:.3}s>");
                passed += 1;
                true
            }
            Err(why) => {
                println!("test {name} ... FAILED <{took:.3}s>\n{why}");
                failed += 1;
                false
            }
        }
    };
    let ready = report("images_build_without_a_registry", &|| build_images(&root));
    if ready {
        for (name, test) in tests {
            report(name, &test);
        }
    }
    report("nothing_is_left_behind", &nothing_is_left_behind);
    let not_run = if ready { 0 } else { tests.len() };
    finish(passed, failed, not_run)
}
