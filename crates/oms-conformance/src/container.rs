//! `--image`: runs the suite against a container image through testcontainers.
//! The image must already be on the local Docker engine (nothing is pulled: a
//! CI gate checks the image it built, not whatever a registry serves). The
//! container is removed when the run ends, also when it fails or is
//! interrupted. This is the only module that knows testcontainers.

use std::time::{Duration, Instant};

use testcontainers::bollard::Docker;
use testcontainers::bollard::query_parameters::LogsOptions;
use testcontainers::core::IntoContainerPort;
use testcontainers::runners::AsyncRunner;
use testcontainers::{ContainerAsync, GenericImage, ImageExt};

/// How many of the container's last log lines an error shows.
const LOG_TAIL: usize = 10;

/// How often readiness is probed.
const PROBE_EVERY: Duration = Duration::from_millis(100);

/// What to start: `name:tag`, the port the server listens on inside, its environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageSpec {
    pub name: String,
    pub tag: String,
    pub port: u16,
    pub env: Vec<(String, String)>,
    /// Deadline for the container to answer HTTP after it was created.
    pub startup: Duration,
}

impl ImageSpec {
    /// Parses `NAME[:TAG]` (the tag defaults to `latest`, as Docker's does).
    pub fn parse_reference(reference: &str) -> Result<(String, String), String> {
        // A ':' after the last '/' separates the tag; one before it is a registry port.
        let slash = reference.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match reference[slash..].rfind(':') {
            Some(i) => (&reference[..slash + i], &reference[slash + i + 1..]),
            None => (reference, "latest"),
        };
        if name.is_empty() || tag.is_empty() || reference.contains(char::is_whitespace) {
            return Err(format!(
                "{reference:?} is not an image reference (NAME[:TAG])"
            ));
        }
        Ok((name.to_owned(), tag.to_owned()))
    }

    pub fn reference(&self) -> String {
        format!("{}:{}", self.name, self.tag)
    }
}

/// Why the container could not serve the run. Each renders as one line.
#[derive(Debug, thiserror::Error)]
pub enum ContainerError {
    #[error("no Docker engine reachable ({0}); --image needs a running Docker engine")]
    NoEngine(String),
    #[error(
        "image {0} is not present on the local Docker engine and will not be pulled; build it first (for the reference server: just image)"
    )]
    ImageMissing(String),
    #[error("cannot start a container of {image}: {reason}")]
    Start { image: String, reason: String },
    #[error(
        "the container of {image} exited with status {status} before answering; last log lines: {logs}"
    )]
    Exited {
        image: String,
        status: String,
        logs: String,
    },
    #[error(
        "the container of {image} did not answer HTTP on port {port} within {secs} s; last log lines: {logs}"
    )]
    NeverAnswered {
        image: String,
        port: u16,
        secs: u64,
        logs: String,
    },
    #[error("interrupted while the container of {0} was starting; it was removed")]
    Interrupted(String),
}

/// A started container; [`Running::remove`] stops and removes it.
#[derive(Debug)]
pub struct Running {
    container: ContainerAsync<GenericImage>,
    docker: Docker,
    base_url: String,
}

impl Running {
    /// Starts `spec` and waits until it answers any HTTP request on its mapped
    /// port, or `interrupt` resolves, or the start-up deadline passes.
    pub async fn start(
        spec: &ImageSpec,
        answers: impl AsyncFn(&str) -> bool,
        mut interrupt: tokio::sync::watch::Receiver<bool>,
    ) -> Result<Self, ContainerError> {
        let docker = Docker::connect_with_local_defaults()
            .map_err(|e| ContainerError::NoEngine(e.to_string()))?;
        docker
            .ping()
            .await
            .map_err(|e| ContainerError::NoEngine(e.to_string()))?;
        let reference = spec.reference();
        if docker.inspect_image(&reference).await.is_err() {
            return Err(ContainerError::ImageMissing(reference));
        }
        let mut request = GenericImage::new(&spec.name, &spec.tag)
            .with_exposed_port(spec.port.tcp())
            .with_startup_timeout(spec.startup);
        for (key, value) in &spec.env {
            request = request.with_env_var(key, value);
        }
        let started = Instant::now();
        let container = request.start().await.map_err(|e| ContainerError::Start {
            image: reference.clone(),
            reason: e.to_string().replace('\n', " "),
        })?;
        let mut running = Self {
            container,
            docker,
            base_url: String::new(),
        };
        // Creation is never cancelled half-way (that would orphan the container);
        // a signal that arrived meanwhile is honoured now, then during the wait.
        let outcome = if *interrupt.borrow() {
            Err(ContainerError::Interrupted(reference))
        } else {
            tokio::select! {
                outcome = running.wait_until_ready(spec, started, answers) => outcome,
                _ = interrupt.wait_for(|seen| *seen) => Err(ContainerError::Interrupted(reference)),
            }
        };
        match outcome {
            Ok(()) => Ok(running),
            Err(err) => {
                running.remove().await;
                Err(err)
            }
        }
    }

    async fn wait_until_ready(
        &mut self,
        spec: &ImageSpec,
        started: Instant,
        answers: impl AsyncFn(&str) -> bool,
    ) -> Result<(), ContainerError> {
        let reference = spec.reference();
        loop {
            if self.container.is_running().await.ok() == Some(false) {
                let status = match self.container.exit_code().await {
                    Ok(Some(code)) => code.to_string(),
                    _ => "unknown".to_owned(),
                };
                return Err(ContainerError::Exited {
                    image: reference,
                    status,
                    logs: self.last_logs().await,
                });
            }
            if self.base_url.is_empty()
                && let Ok(port) = self.container.get_host_port_ipv4(spec.port.tcp()).await
            {
                self.base_url = format!("http://127.0.0.1:{port}");
            }
            if !self.base_url.is_empty() && answers(&self.base_url).await {
                return Ok(());
            }
            if started.elapsed() >= spec.startup {
                return Err(ContainerError::NeverAnswered {
                    image: reference,
                    port: spec.port,
                    secs: spec.startup.as_secs(),
                    logs: self.last_logs().await,
                });
            }
            tokio::time::sleep(PROBE_EVERY).await;
        }
    }

    /// The container's last log lines (stdout and stderr), on one line.
    async fn last_logs(&self) -> String {
        use futures::StreamExt as _;
        let options = LogsOptions {
            stdout: true,
            stderr: true,
            tail: LOG_TAIL.to_string(),
            ..Default::default()
        };
        let mut stream = self.docker.logs(self.container.id(), Some(options));
        let mut lines = Vec::new();
        let deadline = tokio::time::sleep(Duration::from_secs(2));
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                item = stream.next() => match item {
                    Some(Ok(output)) => lines.push(output.to_string().trim_end().to_owned()),
                    _ => break,
                },
                () = &mut deadline => break,
            }
        }
        if lines.is_empty() {
            "(none)".to_owned()
        } else {
            lines.join(" | ")
        }
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Stops and removes the container; a failure is reported, not fatal.
    pub async fn remove(self) {
        let id = self.container.id().to_owned();
        if let Err(err) = self.container.rm().await {
            eprintln!("oms-conformance: could not remove container {id}: {err}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ImageSpec;

    #[test]
    fn parses_image_references() {
        let parse = ImageSpec::parse_reference;
        assert_eq!(
            parse("oms-reference-server:local"),
            Ok(("oms-reference-server".into(), "local".into()))
        );
        assert_eq!(
            parse("vendor/oms"),
            Ok(("vendor/oms".into(), "latest".into()))
        );
        assert_eq!(
            parse("registry.example:5000/vendor/oms:1.2"),
            Ok(("registry.example:5000/vendor/oms".into(), "1.2".into()))
        );
        assert!(parse("").is_err());
        assert!(parse("oms:").is_err());
        assert!(parse("a b:c").is_err());
    }
}
