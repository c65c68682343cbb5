//! Child processes with a deadline: run one to completion, draining its
//! output on threads, and kill it (failing the test) if it overstays. Used by
//! the Python tests (the SDK interop, schemathesis) and the command-line tests.

use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

pub fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// A finished child process and what it wrote.
pub struct Finished {
    pub status: std::process::ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `command` to completion, killing it and failing the test if it is
/// still running after `deadline`. Its output is drained on threads while it
/// runs, so a chatty child never blocks on a full pipe.
pub fn run_with_deadline(mut command: Command, deadline: Duration, what: &str) -> Finished {
    let mut child = match command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(e) if e.kind() == io::ErrorKind::NotFound => panic!(
            "cannot run {what}: {:?} was not found (the Python tests need python3 on PATH, \
             with the venv module)",
            command.get_program()
        ),
        Err(e) => panic!("cannot run {what}: {e}"),
    };
    let drain = |mut pipe: Box<dyn Read + Send>| {
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = pipe.read_to_end(&mut buf);
            let _ = tx.send(String::from_utf8_lossy(&buf).into_owned());
        });
        rx
    };
    let stdout = drain(Box::new(child.stdout.take().expect("piped stdout")));
    let stderr = drain(Box::new(child.stderr.take().expect("piped stderr")));

    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() < deadline => thread::sleep(Duration::from_millis(20)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                let partial = stderr
                    .recv_timeout(Duration::from_secs(1))
                    .unwrap_or_default();
                panic!(
                    "{what} did not finish within {deadline:?} and was killed\n--- stderr\n{}",
                    tail(&partial, 40)
                );
            }
            Err(e) => panic!("cannot wait for {what}: {e}"),
        }
    };
    // A grandchild that inherited the pipes could hold them open past the
    // child's exit; the output is then cut, not waited for.
    let collect =
        |rx: mpsc::Receiver<String>| rx.recv_timeout(Duration::from_secs(5)).unwrap_or_default();
    Finished {
        status,
        stdout: collect(stdout),
        stderr: collect(stderr),
    }
}

/// A fresh directory under `target/tmp/` for a child process to work in (its
/// `HOME`, its working directory), removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    /// A new empty directory named `{prefix}-{pid}-{nanos}`.
    pub fn new(prefix: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("{prefix}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create a temporary directory");
        Self(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
