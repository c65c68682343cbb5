//! Running a command to its end: cargo, whose cold build takes what it
//! takes, and `docker` within a deadline, so that a hung engine fails the test
//! that waits on it instead of hanging it; and polling a probe until a
//! deadline.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::QUICK;
use crate::support::{self, root};

/// Runs a command to completion, failing with its output if it fails. For
/// cargo, whose cold build takes what it takes; `docker` goes through
/// [`docker`], which has a deadline.
pub fn must(command: &mut Command, what: &str) -> Result<String, String> {
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
pub fn docker_output(args: &[&str], deadline: Duration) -> Result<Output, String> {
    within(
        Command::new("docker").current_dir(root()).args(args),
        &format!("docker {}", args.join(" ")),
        deadline,
    )
}

/// `docker ARGS` within `deadline`; its stdout, or an error if it failed.
pub fn docker(args: &[&str], deadline: Duration) -> Result<String, String> {
    let what = format!("docker {}", args.first().copied().unwrap_or_default());
    succeeded(docker_output(args, deadline)?, &what)
}

/// Whether a Docker engine answers, and its version or why not.
pub fn engine() -> Result<String, String> {
    docker(&["version", "--format", "{{.Server.Version}}"], QUICK).map(|v| v.trim().to_owned())
}

/// Polls `probe` every 50 ms until it holds or `deadline` passes.
pub fn wait_for(deadline: std::time::Duration, mut probe: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + deadline;
    while Instant::now() < until {
        if probe() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    false
}
