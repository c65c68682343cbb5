//! The binary's refusals of bad flags: one line saying what is wrong, exit 2.
//! `--fault` is the flag whose meaning depends on the build: the build users
//! run has no fault injection and refuses every fault; a build with the
//! `faults` feature refuses only unknown ones.

use std::process::Command;
use std::time::Duration;

use crate::process::run_with_deadline;

/// Runs the server binary with `args`; it must exit by itself within 10 s.
fn refused(args: &[&str]) -> (Option<i32>, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_oms-reference-server"));
    command.args(args);
    let finished = run_with_deadline(command, Duration::from_secs(10), "the server binary");
    (finished.status.code(), finished.stderr)
}

#[test]
fn a_fault_the_build_cannot_inject_is_refused_in_one_line() {
    // Whatever the build, this is a fault it cannot inject.
    let (name, why) = if cfg!(feature = "faults") {
        ("no-such-fault", "unknown fault")
    } else {
        ("delete-running", "this build has no fault injection")
    };
    let (code, stderr) = refused(&["--listen", "127.0.0.1:0", "--fault", name]);
    assert_eq!(code, Some(2), "{stderr}");
    let first = stderr.lines().next().unwrap_or_default();
    assert!(
        first.contains(why),
        "expected {why:?} on the first line:\n{stderr}"
    );
}

#[test]
fn a_bad_token_binding_is_refused_in_one_line() {
    let (code, stderr) = refused(&["--listen", "127.0.0.1:0", "--token", "no-project"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr
            .lines()
            .next()
            .unwrap_or_default()
            .contains("TOKEN=PROJECT_ID"),
        "{stderr}"
    );
}
