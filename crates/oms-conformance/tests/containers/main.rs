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
//!
//! Here the images' names, the deadlines and the runner; `docker` runs a
//! command with a deadline, `images` builds the images, `image_option` runs the
//! binary with `--image`, `emulator` checks the emulator container itself,
//! `harness_image` runs the harness image, `checks` judges a run, and `guards`
//! removes what the tests create and finds what any run left behind.

#[path = "../it/support/mod.rs"]
#[allow(
    dead_code,
    unused_imports,
    reason = "the shared helpers, and their re-exports, serve the `it` target too"
)]
mod support;

mod checks;
mod docker;
mod emulator;
mod guards;
mod harness_image;
mod image_option;
mod images;

use std::time::{Duration, Instant};

use docker::engine;
use emulator::{docker_stop_with_half_sent_requests_exits_0, the_emulator_image_refuses_a_fault};
use guards::nothing_is_left_behind;
use harness_image::{
    the_harness_image_fails_a_faulty_emulator_by_name,
    the_harness_image_reaches_the_emulator_by_name,
    the_harness_image_refuses_a_bad_profile_in_one_line,
    the_harness_image_runs_its_embedded_server_with_no_target,
};
use image_option::{
    a_fault_in_the_faults_image_fails_its_rule, a_missing_image_is_one_clear_line,
    an_interrupted_run_removes_its_container, suite_passes_against_the_image,
};
use images::build_images;
use support::root;

/// The emulator image, as `just image` builds it: no fault injection.
pub const IMAGE: &str = "oms-reference-server:local";
/// The same server with fault injection compiled in, as `just image-faults` builds it.
pub const FAULTS_IMAGE: &str = "oms-reference-server:faults";
/// The harness, as `just harness-image` builds it.
pub const HARNESS_IMAGE: &str = "oms-conformance:local";

/// The label of every network and container these tests create, so that the
/// final check finds whatever any run of them left behind.
pub const LABEL: &str = "oms-conformance.containers-test";

/// Deadline of a quick `docker` command (ps, inspect, network, rm, run -d).
pub const QUICK: Duration = Duration::from_secs(60);
/// Deadline of a `docker build` (a local build context, nothing pulled).
pub const BUILD: Duration = Duration::from_secs(300);
/// Deadline of a harness container's whole run (the suite takes seconds).
pub const SUITE: Duration = Duration::from_secs(180);

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
