//! What the tests create on the Docker engine and how it goes away: a unique
//! name per run, a network and a container guard that remove theirs when
//! dropped, and the final check that no container of the three images and no
//! network of these tests is left behind, whichever run made it.

use std::time::Duration;

use crate::docker::{docker, docker_output, wait_for};
use crate::{FAULTS_IMAGE, HARNESS_IMAGE, IMAGE, LABEL, QUICK};

/// Containers of the three images, running or not.
pub fn leftovers() -> Result<Vec<String>, String> {
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

/// The name of something these tests create: unique to this run and test.
fn unique(tag: &str) -> String {
    format!("oms-ct-{}-{tag}", std::process::id())
}

/// A user-defined Docker network, removed when dropped (after the containers
/// on it, which are declared after it and so dropped first).
pub struct Network {
    pub name: String,
}

impl Network {
    pub fn create(tag: &str) -> Result<Self, String> {
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
pub struct Container {
    pub name: String,
}

impl Container {
    /// The guard of a container not created yet: every `docker run` that
    /// names it comes after, so no path leaves the container behind.
    pub fn named(tag: &str) -> Self {
        Self { name: unique(tag) }
    }

    /// Starts `image` detached on `network` with `env`, and waits until its
    /// server says it is listening.
    pub fn serve(&self, network: &Network, image: &str, env: &[&str]) -> Result<(), String> {
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

/// No container of the three images and no network of these tests exists,
/// whichever run made it.
pub fn nothing_is_left_behind() -> Result<(), String> {
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
