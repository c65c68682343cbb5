//! Cleaning up one task of the run: stopped if it runs, deleted, and done only
//! once a `GET` says it is gone, retried with a backoff within a deadline.

use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::poll::{Interval, POLL, poll_until};
use super::stopping::{NotStopped, stop_patiently};
use crate::api::{Api, Delete, TaskState};
use crate::check::StatusClass as _;
use crate::http::Exchange;

/// Stops a task if it runs, then deletes it; done when `GET` says it is gone
/// (a 2xx to the delete is not taken on trust: a faulty target may say so and
/// keep the task). Retries back off from 20 ms to 500 ms, so a target that
/// keeps refusing is asked a few times a second, not fifty.
pub(super) async fn clean(
    api: Arc<Api>,
    p: usize,
    id: i64,
    within: Duration,
) -> Result<(), String> {
    let deadline = Instant::now() + within;
    let backoff = Interval::doubling(Duration::from_millis(20), Duration::from_millis(500));
    // Closures that return futures rather than `async` closures: the
    // cleanup of a `@serial` scenario runs on a task of its own, and the
    // compiler proves such a closure's futures `Send`.
    let outcome = poll_until(deadline, backoff, move || {
        clean_once(Arc::clone(&api), p, id, deadline)
    })
    .await;
    match outcome {
        ControlFlow::Break(cleaned) => cleaned,
        ControlFlow::Continue(last) => Err(format!("task {id} could not be cleaned up: {last}")),
    }
}

/// One attempt of [`clean`]: done (or given up, when the target is gone), or
/// what the target last answered.
async fn clean_once(
    api: Arc<Api>,
    p: usize,
    id: i64,
    deadline: Instant,
) -> ControlFlow<Result<(), String>, String> {
    let get = settled(Arc::clone(&api), p, id, deadline).await;
    if get.response.is_none() {
        let last = get.error.clone().unwrap_or_default();
        if api.target_gone() {
            return ControlFlow::Break(Err(format!("task {id} could not be cleaned up: {last}")));
        }
        return ControlFlow::Continue(last);
    }
    if get.is_client_error() {
        return ControlFlow::Break(Ok(()));
    }
    // A pausing task is on its way to stopped: it was waited for above, and
    // is not stopped again. A running or retrying one is stopped patiently (a
    // stop refused while it retries is sent again once it runs), waited for
    // the same way, and deleted in the same attempt.
    match api.status(&get) {
        Some(TaskState::Pausing) => {
            return ControlFlow::Continue("the task is still pausing".to_owned());
        }
        Some(state) if state.busy() => {
            match stop_patiently(Arc::clone(&api), p, id, deadline).await {
                Ok(_) => {}
                Err(NotStopped::Unanswered(stop)) => {
                    return ControlFlow::Continue(stop.error.clone().unwrap_or_default());
                }
                Err(NotStopped::Refused { why, .. }) => return ControlFlow::Continue(why),
            }
            let after = settled(Arc::clone(&api), p, id, deadline).await;
            if let Some(state) = api.status(&after).filter(|s| s.busy()) {
                return ControlFlow::Continue(format!("the task is {state} after its stop"));
            }
        }
        _ => {}
    }
    let delete = api.delete(p, &id.to_string(), Delete::default()).await;
    if !delete.is_success() {
        return ControlFlow::Continue(format!("delete answered {}", delete.observed()));
    }
    // Confirmed at once, even when the deadline has just passed.
    let confirm = api.get(p, id).await;
    if confirm.is_client_error() {
        return ControlFlow::Break(Ok(()));
    }
    ControlFlow::Continue(format!(
        "delete answered {} but GET still answers {}",
        delete.observed(),
        confirm.observed()
    ))
}

/// `GET` of the task, polled at the scenarios' pace while it is pausing: a
/// stop on its way is waited for, not backed off from (the backoff of
/// [`clean`] is for a target that refuses).
async fn settled(api: Arc<Api>, p: usize, id: i64, deadline: Instant) -> Arc<Exchange> {
    let outcome = poll_until(deadline, POLL, move || {
        let api = Arc::clone(&api);
        async move {
            let get = api.get(p, id).await;
            if api.status(&get) == Some(TaskState::Pausing) {
                ControlFlow::Continue(get)
            } else {
                ControlFlow::Break(get)
            }
        }
    })
    .await;
    match outcome {
        ControlFlow::Break(get) | ControlFlow::Continue(get) => get,
    }
}
