//! Building the three registry-free images exactly as their `just` recipes do
//! (`just image`, `just image-faults`, `just harness-image`): the static
//! release builds in their own target directory, then `docker build`; and the
//! check that the harness recipe is this build.

use std::path::Path;
use std::process::Command;

use crate::docker::{docker, must};
use crate::{BUILD, FAULTS_IMAGE, HARNESS_IMAGE, IMAGE};

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
pub fn build_images(root: &Path) -> Result<(), String> {
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
