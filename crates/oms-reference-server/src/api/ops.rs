//! The task operations every dialect shares: lock the project, call the
//! engine, and run the fault hooks around the engine call. They take and give
//! domain types only; the dialect's handler parses the request into them and
//! renders what they return, so a fault bends every dialect alike and the
//! faithful path is the one path.

use std::sync::MutexGuard;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::extract::DeleteShape;
use crate::bandwidth::Policy;
use crate::engine::{Filter, Project};
use crate::error::ApiError;
use crate::faults::{self, Bend};
use crate::model::{StatusSet, TaskSpec, TaskView};
use crate::state::AppState;
use crate::workload::Workload;

/// Locks a project: the one place every operation takes its lock, so the
/// faults' late write-backs fall due here, before the operation looks.
fn locked<'a>(state: &'a AppState, project: &str) -> Result<MutexGuard<'a, Project>, ApiError> {
    let mut guard = state
        .store()
        .lock(project)
        .ok_or_else(ApiError::not_found)?;
    faults::write_backs_due(state.faults(), &mut guard, project, || state.now());
    Ok(guard)
}

/// Creates a task; returns its id.
pub(super) fn create(
    state: &AppState,
    project: &str,
    spec: TaskSpec,
    policy: Policy,
) -> Result<u64, ApiError> {
    let workload = Workload::simulate(
        &spec.src_bucket,
        &spec.src_object_key,
        &spec.dst_bucket,
        &spec.dst_object_key,
    );
    let id = state.next_task_id();
    locked(state, project)?.create(id, Box::new(spec), policy, workload, state.now())?;
    Ok(id)
}

/// Renders one task (or the ghost a fault keeps of a deleted one).
pub(super) fn show<R>(
    state: &AppState,
    project: &str,
    id: u64,
    render: impl FnOnce(&TaskView<'_>) -> R,
) -> Result<R, ApiError> {
    let mut guard = locked(state, project)?;
    if let Some(view) = guard.get(id, state.now()) {
        return Ok(render(&view));
    }
    drop(guard);
    faults::ghost(state.faults(), project, id)
        .map(|ghost| render(&ghost.view()))
        .ok_or_else(ApiError::not_found)
}

/// Renders one page of tasks in id order, optionally of one state.
pub(super) fn list<R>(
    state: &AppState,
    project: &str,
    page: Page,
    render: impl FnOnce(&[TaskView<'_>]) -> R,
) -> Result<R, ApiError> {
    let ghosts = faults::ghosts_listed(state.faults(), project, page.start);
    let mut guard = locked(state, project)?;
    let mut views = guard.list(state.now(), page.start, page.limit, page.status);
    views.extend(ghosts.iter().map(|ghost| ghost.view()));
    Ok(render(&views))
}

/// Renders one page of tasks newest first and the total matching the
/// filter across pages (the v2 list).
pub(super) fn list_newest_first<R>(
    state: &AppState,
    project: &str,
    page: NewestFirst<'_>,
    render: impl FnOnce(&[TaskView<'_>], usize) -> R,
) -> Result<R, ApiError> {
    let ghosts = faults::ghosts_listed(state.faults(), project, page.offset);
    let unfiltered = page.filter.states.is_none()
        && page.filter.name_contains.is_none()
        && page.filter.group_id.is_none();
    let ghosts_counted = faults::ghosts_counted(state.faults(), project, unfiltered);
    let mut guard = locked(state, project)?;
    let now = state.now();
    // A fault may count other states than it lists: a page of none counts them.
    let recounted = faults::counted_states(state.faults(), page.filter.states).map(|states| {
        let filter = Filter {
            states,
            ..page.filter
        };
        guard.list_newest_first(now, 0, 0, &filter).1
    });
    let (mut views, total) = guard.list_newest_first(now, page.offset, page.limit, &page.filter);
    views.extend(ghosts.iter().map(|ghost| ghost.view()));
    Ok(render(&views, recounted.unwrap_or(total) + ghosts_counted))
}

/// Which tasks a newest-first list call asks for.
#[derive(Debug, Clone, Copy)]
pub(super) struct NewestFirst<'a> {
    pub offset: usize,
    pub limit: usize,
    pub filter: Filter<'a>,
}

/// Which tasks a list call asks for.
#[derive(Debug, Clone, Copy)]
pub(super) struct Page {
    pub start: usize,
    pub limit: usize,
    pub status: Option<StatusSet>,
}

/// How many tasks the project holds, optionally of one state.
pub(super) fn count(
    state: &AppState,
    project: &str,
    status: Option<StatusSet>,
) -> Result<usize, ApiError> {
    let counted = faults::counted_states(state.faults(), status).unwrap_or(status);
    let count = locked(state, project)?.count(state.now(), counted);
    Ok(count + faults::ghosts_counted(state.faults(), project, status.is_none()))
}

/// Deletes a task that is not running. The spec defines no query and no body
/// for delete, so both are ignored (OMS-DEL-015), and so is the
/// `Content-Type`; `shape` exists for the faults that do not ignore them.
pub(super) fn delete(
    state: &AppState,
    project_id: &str,
    id: u64,
    shape: DeleteShape,
) -> Result<Response, ApiError> {
    if let Some(refusal) = faults::untyped_delete(state.faults(), shape.has_content_type) {
        return Err(refusal);
    }
    let now = state.now();
    let store = state.store();
    if let Some(answer) = faults::before_delete(state.faults(), store, now, id, shape.has_query) {
        return answer;
    }
    let mut project = locked(state, project_id)?;
    let kept = match faults::before_engine_delete(state.faults(), &mut project, id, now) {
        Bend::Proceed(kept) => kept,
        Bend::Answer(answer) => return answer,
    };
    project.delete(id, now)?;
    let bent = faults::after_delete(state.faults(), &mut project, project_id, id, now, kept);
    Ok(bent.unwrap_or_else(|| StatusCode::OK.into_response()))
}

/// Stops a running task.
pub(super) async fn stop(state: &AppState, project: &str, id: u64) -> Result<(), ApiError> {
    let now = state.now();
    let copied = {
        let mut guard = locked(state, project)?;
        faults::before_stop(state.faults(), &mut guard, id, now)?;
        guard.stop(id, now)?;
        faults::stopped(state.faults(), &mut guard, id, now)
    };
    // Only a fault copies a record, and only then is there bookkeeping left
    // to do with the lock released: the faithful stop never waits.
    if let Some(copied) = copied {
        tokio::time::sleep(faults::bookkeeping(&copied)).await;
        faults::write_back(&mut *locked(state, project)?, copied, state.now());
    }
    Ok(())
}

/// Starts a stopped or failed task again.
pub(super) async fn start(state: &AppState, project: &str, id: u64) -> Result<(), ApiError> {
    let mut now = state.now();
    let copied = faults::before_start(state.faults(), state.store(), project, id, now)?;
    // As in `stop`: the faithful start has no copy, so it never waits.
    if let Some(copied) = &copied {
        tokio::time::sleep(faults::bookkeeping(copied)).await;
        now = state.now();
    }
    let mut guard = locked(state, project)?;
    if let Some(copied) = copied {
        faults::write_back(&mut guard, copied, now);
    }
    guard.start(id, now)?;
    Ok(())
}

/// Replaces a task's bandwidth policy.
pub(super) fn set_policy(
    state: &AppState,
    project: &str,
    id: u64,
    policy: Policy,
) -> Result<(), ApiError> {
    locked(state, project)?.set_policy(id, policy, state.now())?;
    Ok(())
}
