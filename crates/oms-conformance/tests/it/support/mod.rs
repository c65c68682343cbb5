//! Helpers: running the binary with a deadline (and, watched, with its wall time
//! and peak memory), reading its reports, writing a test profile; the
//! in-process servers live in `servers`.

mod servers;

pub use servers::{
    Alteration, Answer, Seen, altered_reference, collected, json_answer, kit_request,
    recording_server, reference_server, reference_server_with, runtime, send_upstream, serve,
};

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A fresh scratch folder for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("oms-conformance-it-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

/// What one run of the binary left behind.
#[derive(Debug)]
pub struct Ran {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub report_dir: PathBuf,
}

impl Ran {
    pub fn results(&self) -> Value {
        let text =
            std::fs::read_to_string(self.report_dir.join("results.json")).unwrap_or_else(|e| {
                panic!(
                    "no results.json ({e}); stdout:\n{}\nstderr:\n{}",
                    self.stdout, self.stderr
                )
            });
        serde_json::from_str(&text).expect("results.json is JSON")
    }

    /// Rule `id` of the first dialect judged that has it.
    pub fn rule(&self, id: &str) -> Value {
        self.results()["rules"]
            .as_array()
            .and_then(|rules| rules.iter().find(|r| r["id"] == id).cloned())
            .unwrap_or_else(|| panic!("no rule {id} in results.json"))
    }

    /// Rule `id` as judged in `dialect` (`v1`, `v2`).
    pub fn rule_in(&self, dialect: &str, id: &str) -> Value {
        self.results()["rules"]
            .as_array()
            .and_then(|rules| {
                rules
                    .iter()
                    .find(|r| r["id"] == id && r["dialect"] == dialect)
                    .cloned()
            })
            .unwrap_or_else(|| panic!("no rule {id} of {dialect} in results.json"))
    }

    pub fn last_line(&self) -> &str {
        self.stdout.lines().last().unwrap_or_default()
    }

    pub fn explain(&self) -> String {
        format!(
            "exit {}\nstdout:\n{}\nstderr:\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Runs the binary with `args` (and `--report-dir` in a scratch folder), killing
/// it after 60 s.
pub fn run_binary(name: &str, args: &[&str]) -> Ran {
    run_binary_env(name, args, &[])
}

/// [`run_binary`] with extra environment variables.
pub fn run_binary_env(name: &str, args: &[&str], env: &[(&str, &str)]) -> Ran {
    run_watched_env(name, args, env, Duration::from_secs(60)).ran
}

/// A v1 run of OMS-DEL-003 with a 1 ms state deadline, which no task meets:
/// the rule is inconclusive and the run could not judge (exit 2).
pub fn run_inconclusive(name: &str) -> Ran {
    run_binary(
        name,
        &[
            "--api",
            "v1",
            "--rule",
            "OMS-DEL-003",
            "--state-timeout",
            "1ms",
        ],
    )
}

/// Asserts that a `--help` run exited 0 and that what it printed mentions each
/// of `wanted`; `what` names the help in the failure.
pub fn assert_help_mentions(ran: &Ran, what: &str, wanted: &[&str]) {
    assert_eq!(ran.code, 0, "{}", ran.explain());
    for text in wanted {
        assert!(
            ran.stdout.contains(text),
            "{what} does not mention {text}:\n{}",
            ran.stdout
        );
    }
}

/// A run of the binary with what the watchdog measured.
#[derive(Debug)]
pub struct Watched {
    pub ran: Ran,
    /// From spawning the process to its exit.
    pub wall: Duration,
    /// The highest `VmHWM` (peak resident set) read from `/proc/<pid>/status`
    /// while the process ran, in KiB; 0 where `/proc` is not available.
    pub peak_rss_kib: u64,
}

/// Runs the binary with `args` (and `--report-dir` in a scratch folder); kills it
/// and fails the test if it is still running after `watchdog`.
pub fn run_watched(name: &str, args: &[&str], watchdog: Duration) -> Watched {
    run_watched_env(name, args, &[], watchdog)
}

fn run_watched_env(name: &str, args: &[&str], env: &[(&str, &str)], watchdog: Duration) -> Watched {
    watch(name, args, env, watchdog, true)
}

/// Runs the binary with exactly `args` (no `--report-dir`: `compare` takes
/// none) and `env`, killing it after 60 s.
pub fn run_exact(name: &str, args: &[&str], env: &[(&str, &str)]) -> Ran {
    watch(name, args, env, Duration::from_secs(60), false).ran
}

fn watch(
    name: &str,
    args: &[&str],
    env: &[(&str, &str)],
    watchdog: Duration,
    with_report_dir: bool,
) -> Watched {
    let dir = scratch(&format!("run-{name}"));
    let report_dir = dir.join("reports");
    let report_args: Vec<&std::ffi::OsStr> = if with_report_dir {
        vec!["--report-dir".as_ref(), report_dir.as_os_str()]
    } else {
        Vec::new()
    };
    let started = Instant::now();
    let mut peak_rss_kib = 0;
    let ended = run_captured(
        Command::new(env!("CARGO_BIN_EXE_oms-conformance"))
            .args(args)
            .args(report_args)
            .env_remove("CI")
            .envs(env.iter().copied()),
        &dir,
        &format!("oms-conformance {args:?}"),
        started + watchdog,
        // VmHWM is a high-water mark, so the last reading before the exit is the
        // peak up to that moment; it must be read before the child is reaped.
        |pid| peak_rss_kib = peak_rss_kib.max(vm_hwm_kib(pid).unwrap_or(0)),
    )
    .unwrap_or_else(|message| panic!("{message}"));
    Watched {
        ran: Ran {
            code: ended.status.code().unwrap_or(-1),
            stdout: ended.stdout,
            stderr: ended.stderr,
            report_dir,
        },
        wall: started.elapsed(),
        peak_rss_kib,
    }
}

/// A process run to its end, with what it printed.
#[derive(Debug)]
pub struct Ended {
    pub status: std::process::ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `command` (stdin closed, its output captured in `dir/stdout` and
/// `dir/stderr`, files rather than pipes so that nothing has to drain them) to
/// its end through [`wait_for_exit`], calling `tick` with its pid before each
/// look. Past `deadline` it is killed: the error says so, with what it had
/// printed on stdout; so does a command that cannot start.
pub fn run_captured(
    command: &mut Command,
    dir: &Path,
    what: &str,
    deadline: Instant,
    mut tick: impl FnMut(u32),
) -> Result<Ended, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{what}: no folder for its output: {e}"))?;
    let (out, err) = (dir.join("stdout"), dir.join("stderr"));
    let file = |path: &Path| {
        std::fs::File::create(path).map_err(|e| format!("{what}: cannot capture its output: {e}"))
    };
    let mut child = command
        .stdin(Stdio::null())
        .stdout(file(&out)?)
        .stderr(file(&err)?)
        .spawn()
        .map_err(|e| format!("{what}: cannot run: {e}"))?;
    let pid = child.id();
    let read = |path: &Path| std::fs::read_to_string(path).unwrap_or_default();
    let Some(status) = wait_for_exit(&mut child, deadline, || tick(pid)) else {
        return Err(format!(
            "{what} ran past its deadline and was killed; stdout:\n{}",
            read(&out)
        ));
    };
    Ok(Ended {
        status,
        stdout: read(&out),
        stderr: read(&err),
    })
}

/// Polls `child` every 20 ms, calling `tick` before each look, until it exits
/// (its status) or `deadline` passes (then it is killed and reaped: `None`).
pub fn wait_for_exit(
    child: &mut std::process::Child,
    deadline: Instant,
    mut tick: impl FnMut(),
) -> Option<std::process::ExitStatus> {
    loop {
        tick();
        if let Some(status) = child.try_wait().expect("wait") {
            return Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `VmHWM` of a process, in KiB.
fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// A profile like the reference one, with `extra` TOML appended to its top level
/// (before any table) and create bodies by absolute path; returns its path.
pub fn profile(dir: &Path, top: &str, tables: &str) -> PathBuf {
    let fixtures = root().join("fixtures/create");
    let text = format!(
        r#"name = "test"
{top}
[first_project]
id = "0123456789abcdef0123456789abcdef"
token = "dev-token-a"

[second_project]
id = "fedcba9876543210fedcba9876543210"
token = "dev-token-b"

[create]
running = "{running}"
succeeding = "{succeeding}"
failing = "{failing}"

{tables}
"#,
        running = fixtures.join("running.json").display(),
        succeeding = fixtures.join("succeeding.json").display(),
        failing = fixtures.join("failing.json").display(),
    );
    let path = dir.join("profile.toml");
    std::fs::write(&path, text).expect("profile");
    path
}
