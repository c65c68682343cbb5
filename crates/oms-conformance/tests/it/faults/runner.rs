//! The runs of the kill matrix: one harness process per job against a fresh
//! reference server with the job's fault, in this test's process, on a few
//! worker threads; each job's outcome (its run, or the panic that ended it,
//! and its `results.json`), and the rules the runs report.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use oms_reference_server::faults::Fault;
use serde_json::Value;

use super::plan::{Job, Mode, must_fail};
use crate::support::{self, Watched};

/// Harness runs at once. Each is a harness process plus a reference server in
/// this test's process; on two cores four keep both busy without starving the
/// servers (measured: the whole matrix in about a third of its serial time).
pub(super) const WORKERS: usize = 4;

/// The state deadline of the matrix runs. Faults that refuse deletes leave tasks
/// the harness cannot clean up, and each cleanup retries until this deadline;
/// the reference server reaches every state in well under a second.
pub(super) const STATE_TIMEOUT: &str = "5s";

#[derive(Debug)]
pub(super) struct Outcome {
    pub(super) fault: Option<Fault>,
    pub(super) mode: Mode,
    /// The run, or the message of the panic that ended the job before it had one
    /// (a server that did not start, the watchdog): a cell of the matrix, not a
    /// panic of the test, so the matrix is still written and names the cell.
    pub(super) watched: Result<Watched, String>,
    pub(super) results: Option<Value>,
}

/// A rule as judged in one dialect: (dialect, id).
pub(super) type Judged = (String, String);

impl Outcome {
    pub(super) fn job(&self) -> Job {
        Job {
            fault: self.fault,
            mode: self.mode,
        }
    }

    /// The harness's exit code; none when the job panicked.
    pub(super) fn code(&self) -> Option<i32> {
        self.watched.as_ref().ok().map(|w| w.ran.code)
    }

    /// The exit code as the matrix shows it.
    pub(super) fn exit_text(&self) -> String {
        self.code()
            .map_or_else(|| "panic".to_owned(), |code| code.to_string())
    }

    /// The judged rules of `results.json`; none when it could not be read.
    fn rules(&self) -> Option<&Vec<Value>> {
        self.results.as_ref()?["rules"].as_array()
    }

    /// (dialect, rule id) → verdict, from `results.json`.
    pub(super) fn verdicts(&self) -> BTreeMap<Judged, String> {
        self.rules()
            .map(|rules| {
                rules
                    .iter()
                    .map(|r| {
                        let text = |key: &str| r[key].as_str().unwrap_or_default().to_owned();
                        ((text("dialect"), text("id")), text("verdict"))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The cells of `reference` in `dialects` whose verdict this run does not
    /// share: (the cell, the reference's verdict).
    pub(super) fn unlike(&self, reference: &Outcome, dialects: &[&str]) -> Vec<(Judged, String)> {
        let verdicts = self.verdicts();
        reference
            .verdicts()
            .into_iter()
            .filter(|((dialect, _), _)| dialects.contains(&dialect.as_str()))
            .filter(|(key, verdict)| verdicts.get(key) != Some(verdict))
            .collect()
    }

    pub(super) fn rule(&self, dialect: &str, id: &str) -> Value {
        self.rules()
            .and_then(|rules| {
                rules
                    .iter()
                    .find(|r| r["id"] == id && r["dialect"] == dialect)
                    .cloned()
            })
            .unwrap_or(Value::Null)
    }
}

/// The reference server with `fault` (or none: the faithful server) on
/// `127.0.0.1:0`, in `rt`.
fn faulty_server(rt: &tokio::runtime::Runtime, fault: Option<Fault>) -> SocketAddr {
    support::reference_server_with(
        rt,
        oms_reference_server::Config {
            fault,
            ..oms_reference_server::Config::default()
        },
    )
}

/// Runs `job` (as run `k` of the matrix); a panic inside becomes the outcome's
/// `watched` error.
fn run_job(job: &Job, k: usize) -> Outcome {
    let ran = std::panic::catch_unwind(AssertUnwindSafe(|| run_harness(job, k)));
    let watched = ran.map_err(|panic| {
        panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_else(|| "a panic without a message".to_owned())
    });
    let results = watched.as_ref().ok().and_then(|w| {
        let text = std::fs::read_to_string(w.ran.report_dir.join("results.json")).ok()?;
        serde_json::from_str(&text).ok()
    });
    Outcome {
        fault: job.fault,
        mode: job.mode,
        watched,
        results,
    }
}

fn run_harness(job: &Job, k: usize) -> Watched {
    // A fresh server per run: a fault's tombstones and race memory, and the tasks
    // a refusing fault leaves behind, must not leak into another run.
    let rt = support::runtime();
    let addr = faulty_server(&rt, job.fault);
    let target = format!("http://{addr}");
    let mut args = vec![
        "--target",
        target.as_str(),
        "--seed",
        "7",
        "--state-timeout",
        STATE_TIMEOUT,
        "--run-timeout",
        "60s",
    ];
    let own = must_fail(job.fault).first().copied().unwrap_or_default();
    // `run.rs` already runs one named `reference`; scratch folders are per name,
    // and per run of the matrix so that a repeat keeps each run's reports.
    let base = job.fault.map_or(format!("kill{k}-no-fault"), |f| {
        format!("kill{k}-fault-{}", f.name())
    });
    let name = match job.mode {
        Mode::Default => base,
        Mode::Strict => {
            args.extend(["--strict", "--rule", own]);
            format!("{base}-strict")
        }
        Mode::StrictAll => {
            args.push("--strict");
            format!("{base}-strict-all")
        }
    };
    let watched = support::run_watched(&name, &args, Duration::from_secs(90));
    drop(rt);
    watched
}

/// Runs every job (as run `k`) on [`WORKERS`] threads; the outcomes come back in
/// job order.
pub(super) fn run_all(jobs: &[Job], k: usize) -> Vec<Outcome> {
    let next = AtomicUsize::new(0);
    let done = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..WORKERS {
            scope.spawn(|| {
                while let Some(job) = jobs.get(next.fetch_add(1, Ordering::SeqCst)) {
                    let outcome = run_job(job, k);
                    done.lock().expect("outcomes").push(outcome);
                }
            });
        }
    });
    let mut outcomes = done.into_inner().expect("outcomes");
    outcomes.sort_by_key(|o| {
        jobs.iter()
            .position(|j| j.fault == o.fault && j.mode == o.mode)
    });
    outcomes
}

/// The rules as the runs report them: (dialect, id, level), in report order.
pub(super) fn catalogue(outcomes: &[Outcome]) -> Vec<(String, String, String)> {
    outcomes
        .iter()
        .find_map(|o| o.rules().cloned())
        .unwrap_or_default()
        .iter()
        .map(|r| {
            let text = |key: &str| r[key].as_str().unwrap_or_default().to_owned();
            (text("dialect"), text("id"), text("level"))
        })
        .collect()
}
