//! The harness image run as a container: on a user-defined Docker network
//! against the emulator addressed by its container name (exit 0, the reports on
//! a mounted directory), the same against the faults image (exit 1), with a bad
//! profile (exit 2, one line) and with no target at all (its embedded server).

use std::path::{Path, PathBuf};

use crate::checks::{every_rule_passed, exits, fails_rule, names_target, reports_present};
use crate::docker::docker_output;
use crate::guards::{Container, Network};
use crate::support::{self, Ran};
use crate::{FAULTS_IMAGE, HARNESS_IMAGE, IMAGE, LABEL, SUITE};

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

/// On a network of its own (`tag`), the emulator `image` with `env` as the
/// container `emulator`, and the harness image (as `harness-<tag>`, with
/// `mounts`) run against it by its container name: the harness's run and that
/// base URL. The containers and the network are removed before this returns;
/// the reports stay on the host.
fn by_name(
    tag: &str,
    emulator: &str,
    image: &str,
    env: &[&str],
    mounts: &[String],
) -> Result<(Ran, String), String> {
    let network = Network::create(tag)?;
    let emulator = Container::named(emulator);
    emulator.serve(&network, image, env)?;
    let harness = Container::named(&format!("harness-{tag}"));
    let base_url = format!("http://{}:8080", emulator.name);
    let reports = report_dir(tag)?;
    let ran = run_harness(
        &harness,
        Some(&network),
        &reports,
        mounts,
        &["--target", &base_url],
    )?;
    Ok((ran, base_url))
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
pub fn the_harness_image_reaches_the_emulator_by_name() -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let dir = support::scratch("harness-nss");
    let nsswitch = dir.join("nsswitch.conf");
    std::fs::write(&nsswitch, "hosts: files\n")
        .and_then(|()| std::fs::set_permissions(&nsswitch, std::fs::Permissions::from_mode(0o644)))
        .map_err(|e| format!("cannot write {}: {e}", nsswitch.display()))?;
    let mount = format!("{}:/etc/nsswitch.conf:ro", nsswitch.display());
    let (ran, base_url) = by_name("by-name", "emulator", IMAGE, &[], &[mount])?;
    exits(&ran, 0)?;
    reports_present(&ran)?;
    every_rule_passed(&ran, &base_url)?;
    names_target(&ran, "external")
}

/// The same against the faults image with a fault switched on: exit 1, the
/// fault's rule failing.
pub fn the_harness_image_fails_a_faulty_emulator_by_name() -> Result<(), String> {
    let fault = ["OMS_FAULT=delete-running"];
    let (ran, _) = by_name("fault", "faulty-emulator", FAULTS_IMAGE, &fault, &[])?;
    exits(&ran, 1)?;
    reports_present(&ran)?;
    fails_rule(&ran, "OMS-DEL-003")
}

/// A bad profile mounted into the harness container: exit 2, and exactly one
/// line on stderr saying what is wrong.
pub fn the_harness_image_refuses_a_bad_profile_in_one_line() -> Result<(), String> {
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
pub fn the_harness_image_runs_its_embedded_server_with_no_target() -> Result<(), String> {
    let harness = Container::named("harness-embedded");
    let reports = report_dir("embedded")?;
    let ran = run_harness(&harness, None, &reports, &[], &[])?;
    exits(&ran, 0)?;
    reports_present(&ran)?;
    names_target(&ran, "embedded reference server")
}
