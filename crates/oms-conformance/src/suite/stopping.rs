//! The kit's own stop, made as a patient client makes it. Stop applies only
//! to a running task (`oms-v2-api.md` §3: otherwise `OMS.0066`), and a running
//! task may be retrying (6) for a moment, which the engine leaves by itself;
//! the Terraform provider waits such a task back into 2 and stops it then.
//! So a refused stop is not the end: the task is looked at, and stopped again
//! once it is seen running, until a deadline. Setup, cleanup and the remedy
//! of OMS-DEL-007 stop this way (`given.rs` and `when.rs` hold the World's
//! two uses); a race's stop is one request, judged as sent. This module knows
//! no World, so that the cleanup, which runs without one, can use it.

use std::ops::ControlFlow;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::poll::{Interval, poll_until};
use crate::api::{Api, TaskState};
use crate::check::StatusClass as _;
use crate::http::Exchange;

/// Between a refused stop's look and the next: from 20 ms, doubling to 200 ms.
const PATIENCE: Interval =
    Interval::doubling(Duration::from_millis(20), Duration::from_millis(200));

/// How a patient stop ended well.
#[derive(Debug)]
pub(super) enum Stopped {
    /// A stop was accepted.
    Accepted,
    /// The task was found pausing or stopped after a refused stop: nothing
    /// more to stop.
    Unneeded(TaskState),
}

/// Why a patient stop did not stop the task.
#[derive(Debug)]
pub(super) enum NotStopped {
    /// A request got no answer.
    Unanswered(Arc<Exchange>),
    /// Still refused when the deadline passed, or the task is in a state no
    /// stop applies to (it ended, or answers no status): the last answers.
    Refused {
        why: String,
        evidence: Vec<Arc<Exchange>>,
    },
}

/// Stops task `id` of project `p`: a stop, and while it is refused, a look
/// at the task and another stop once it is seen running (or a first look
/// that finds it pausing or stopped), until `deadline`. Every request holds
/// the project's gate shared, as a stop does.
pub(super) async fn stop_patiently(
    api: Arc<Api>,
    p: usize,
    id: i64,
    deadline: Instant,
) -> Result<Stopped, NotStopped> {
    // Shared with each look's future rather than borrowed by an `async`
    // closure: the cleanup of a `@serial` scenario runs on a task of its own,
    // and the compiler proves such futures `Send`.
    let seen = Arc::new(Mutex::new(Seen {
        stop_next: true,
        refusal: None,
        look: None,
    }));
    let outcome = poll_until(deadline, PATIENCE, {
        let seen = Arc::clone(&seen);
        move || try_once(Arc::clone(&api), p, id, Arc::clone(&seen))
    })
    .await;
    match outcome {
        ControlFlow::Break(ended) => ended,
        ControlFlow::Continue(()) => {
            let seen = lock(&seen);
            Err(NotStopped::Refused {
                why: format!(
                    "the stop of task {id} was still refused (last {}) when the deadline passed",
                    seen.refusal
                        .as_ref()
                        .map_or_else(String::new, |r| r.observed())
                ),
                evidence: seen.refusal.iter().chain(&seen.look).cloned().collect(),
            })
        }
    }
}

/// What the tries of a patient stop saw so far.
struct Seen {
    /// Whether the next try sends a stop (the first does, and each after a
    /// look that saw the task running).
    stop_next: bool,
    refusal: Option<Arc<Exchange>>,
    look: Option<Arc<Exchange>>,
}

fn lock(seen: &Mutex<Seen>) -> std::sync::MutexGuard<'_, Seen> {
    seen.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// One try of [`stop_patiently`]: a stop if one is due, then a look.
async fn try_once(
    api: Arc<Api>,
    p: usize,
    id: i64,
    seen: Arc<Mutex<Seen>>,
) -> ControlFlow<Result<Stopped, NotStopped>> {
    let stop_next = lock(&seen).stop_next;
    if stop_next {
        let stop = api.stop(p, id).await;
        if stop.response.is_none() {
            return ControlFlow::Break(Err(NotStopped::Unanswered(stop)));
        }
        if stop.is_success() {
            return ControlFlow::Break(Ok(Stopped::Accepted));
        }
        lock(&seen).refusal = Some(stop);
    }
    let get = api.get(p, id).await;
    if get.response.is_none() {
        return ControlFlow::Break(Err(NotStopped::Unanswered(get)));
    }
    let state = api.status(&get);
    let mut seen = lock(&seen);
    seen.look = Some(Arc::clone(&get));
    match state {
        Some(s @ (TaskState::Pausing | TaskState::Stopped)) => {
            ControlFlow::Break(Ok(Stopped::Unneeded(s)))
        }
        // Left by the engine by itself: looked at again, stopped once it runs.
        Some(TaskState::Initializing | TaskState::Waiting | TaskState::Retrying) => {
            seen.stop_next = false;
            ControlFlow::Continue(())
        }
        // Running now (it may have been retrying when the stop came, or it is
        // in a dialect that shows retrying as running): stopped again.
        Some(TaskState::Running) => {
            seen.stop_next = true;
            ControlFlow::Continue(())
        }
        other => {
            let shown = other.map_or_else(|| "answers no status".to_owned(), |s| format!("is {s}"));
            ControlFlow::Break(Err(NotStopped::Refused {
                why: format!("the stop of task {id} was refused and the task {shown}"),
                evidence: seen.refusal.iter().chain([&get]).cloned().collect(),
            }))
        }
    }
}
