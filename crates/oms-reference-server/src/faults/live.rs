//! The fault hooks of a build with the `faults` feature. Each fault breaks
//! exactly one behaviour of the delete operation (or of the answers around
//! it), so the conformance kit can prove that its rules catch real bugs: a
//! rule that no fault can make fail checks nothing.
//!
//! The hooks bend the faithful code path; they never replace it. They are
//! called around the engine's operations in `api::ops`, which every dialect
//! goes through, and they work on domain types (a [`Snapshot`] of a deleted
//! task, not its JSON), so a ghost renders in whichever dialect asks.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::catalogue::Fault;
use crate::engine::{EngineError, Flaps, Project, Record};
use crate::error::ApiError;
use crate::model::{Snapshot, Status, StatusSet};
use crate::store::Store;

/// How long the racing faults remember a stop or a delete, in milliseconds.
const RACE_WINDOW_MS: u64 = 2_000;

/// How long the stop of [`Fault::StopRewritesRecord`] and the start of
/// [`Fault::StartIgnoresDelete`] spend on their bookkeeping with the lock
/// released, in milliseconds: the window in which a delete is undone. Wide
/// enough that a machine running the kill matrix beside two CPU hogs (where a
/// request may wait 100 ms for a thread) still serves a delete inside it; an
/// engine's bookkeeping of a quarter of a second is no caricature.
const BOOKKEEPING_MS: u64 = 250;

/// How long after a task's success [`Fault::FinishReinserts`] writes back a
/// task deleted meanwhile, in milliseconds (as wide, for the same reason).
const FINISH_BOOKKEEPING_MS: u64 = 250;

/// The flaps of [`Fault::RunningRetries`].
const FLAPS: Flaps = Flaps {
    run_ms: 350,
    retry_ms: 150,
};

/// How long after its stop [`Fault::SlowAfterStop`] refuses a task's delete,
/// in milliseconds.
const AFTER_STOP_MS: u64 = 300;

/// Names a fault for `--fault`.
pub fn parse_fault(name: &str) -> Result<Fault, String> {
    name.parse()
}

/// The configured fault and what it remembers between requests.
#[derive(Debug, Default)]
pub(crate) struct FaultState {
    fault: Option<Fault>,
    /// Deleted tasks kept for the ghost faults: id → (project, the task as it was).
    tombstones: Mutex<HashMap<u64, (String, Snapshot)>>,
    /// When each task was last stopped or deleted, for the racing faults.
    recent: Mutex<HashMap<u64, u64>>,
    /// Deleted tasks [`Fault::FinishReinserts`] writes back when they fall due.
    write_backs: Mutex<Vec<WriteBack>>,
}

/// A deleted task to write back into its project at `due`.
#[derive(Debug)]
struct WriteBack {
    project: String,
    id: u64,
    due: u64,
    record: Record,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl FaultState {
    pub(crate) fn new(fault: Option<Fault>) -> Self {
        Self {
            fault,
            ..Self::default()
        }
    }

    fn is(&self, fault: Fault) -> bool {
        self.fault == Some(fault)
    }

    fn remember(&self, id: u64, now: u64) {
        let mut recent = lock(&self.recent);
        recent.retain(|_, at| now.saturating_sub(*at) < RACE_WINDOW_MS);
        recent.insert(id, now);
    }

    fn recently(&self, id: u64, now: u64) -> bool {
        lock(&self.recent)
            .get(&id)
            .is_some_and(|at| now.saturating_sub(*at) < RACE_WINDOW_MS)
    }

    /// The ghosts of a project, in id order.
    fn ghosts(&self, project: &str) -> Vec<Snapshot> {
        let tombstones = lock(&self.tombstones);
        let mut ghosts: Vec<_> = tombstones
            .iter()
            .filter(|(_, (p, _))| p == project)
            .collect();
        ghosts.sort_by_key(|(id, _)| **id);
        ghosts.into_iter().map(|(_, (_, s))| s.clone()).collect()
    }
}

/// What [`before_engine_delete`] decided.
pub(crate) enum Bend {
    /// Let the engine delete; hand `Kept` to [`after_delete`].
    Proceed(Kept),
    /// Answer this instead; the engine's delete is not called.
    Answer(Result<Response, ApiError>),
}

/// What a fault keeps of a task from before its delete to after it.
#[derive(Debug, Default)]
pub(crate) struct Kept {
    // Boxed: a snapshot is large, and most deletes keep none.
    ghost: Option<Box<Snapshot>>,
    /// For [`Fault::FinishReinserts`]: when to write the task back, and its record.
    write_back: Option<(u64, Record)>,
}

/// A task's record that a fault copied under the lock, to write back once
/// its bookkeeping with the lock released is done.
#[derive(Debug)]
pub(crate) struct Copied {
    id: u64,
    record: Record,
}

fn internal_error() -> Response {
    // A crash, not an OMS refusal: a bare text body, as a broken proxy sends.
    (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
}

/// Once, as the server starts: [`Fault::RunningRetries`] gives every project
/// its flaps.
pub(crate) fn prepare(faults: &FaultState, store: &Store) {
    if !faults.is(Fault::RunningRetries) {
        return;
    }
    for id in store.ids() {
        if let Some(mut project) = store.lock(id) {
            project.flap(FLAPS);
        }
    }
}

/// Under the project's lock, before the engine's stop: [`Fault::RunningRetries`]
/// refuses to stop a task that retries for a while (as the spec's "stop only
/// in 2" allows), where the engine would stop it.
pub(crate) fn before_stop(
    faults: &FaultState,
    project: &mut Project,
    id: u64,
    now: u64,
) -> Result<(), EngineError> {
    if faults.is(Fault::RunningRetries) && project.flapping(id, now) {
        return Err(EngineError::NotRunning);
    }
    Ok(())
}

/// A malformed task id under [`Fault::Malformed500`] (a 500) or
/// [`Fault::MalformedDeletesPrefix`] (the usual 400, after deleting the task
/// whose id is the segment's first run of digits, as a lenient parser would).
pub(crate) fn malformed_id(
    faults: &FaultState,
    store: &Store,
    now: u64,
    method: &Method,
    found: Option<(&str, &str)>,
) -> Option<Response> {
    if faults.is(Fault::Malformed500) {
        return Some(internal_error());
    }
    if faults.is(Fault::MalformedDeletesPrefix) && method == Method::DELETE {
        let (project, segment) = found?;
        let digits: String = segment
            .chars()
            .skip_while(|c| !c.is_ascii_digit())
            .take_while(char::is_ascii_digit)
            .collect();
        if let (Ok(id), Some(mut guard)) = (digits.parse::<u64>(), store.lock(project)) {
            let _ = guard.delete(id, now);
        }
        return Some(ApiError::invalid_task_id().into_response());
    }
    None
}

/// Before a delete takes its project's lock: the faults that answer without
/// it ([`Fault::QueryString500`]) or that reach into other projects
/// ([`Fault::IgnoreProjectScope`], which must not hold one project's lock
/// while it takes another's).
pub(crate) fn before_delete(
    faults: &FaultState,
    store: &Store,
    now: u64,
    id: u64,
    has_query: bool,
) -> Option<Result<Response, ApiError>> {
    if faults.is(Fault::QueryString500) && has_query {
        return Some(Ok(internal_error()));
    }
    if faults.is(Fault::IgnoreProjectScope) {
        for other in store.ids() {
            let mut guard = store.lock(other)?;
            if guard.get(id, now).is_some() {
                let deleted = guard.delete(id, now);
                return Some(
                    deleted
                        .map(|()| StatusCode::OK.into_response())
                        .map_err(ApiError::from),
                );
            }
        }
    }
    None
}

/// A delete without a `Content-Type` under [`Fault::DeleteNeedsContentType`]:
/// refused as not JSON, as a server that insists on a JSON content type
/// refuses the body-less delete Terraform sends.
pub(crate) fn untyped_delete(faults: &FaultState, has_content_type: bool) -> Option<ApiError> {
    (faults.is(Fault::DeleteNeedsContentType) && !has_content_type).then(|| {
        ApiError::bad_request(
            "OMS.0067",
            "The request body is not valid JSON: the Content-Type must be application/json.",
        )
    })
}

/// Whether [`Fault::DeleteOnActionRoute`] makes a `DELETE` on a task's action
/// route (`…/stop`, `…/start`, `…/bandwidth-policy`) a delete of the task.
pub(crate) fn deletes_on_action_route(faults: &FaultState) -> bool {
    faults.is(Fault::DeleteOnActionRoute)
}

/// Under the project's lock, before the engine's delete.
pub(crate) fn before_engine_delete(
    faults: &FaultState,
    project: &mut Project,
    id: u64,
    now: u64,
) -> Bend {
    let Some(fault) = faults.fault else {
        return Bend::Proceed(Kept::default());
    };
    let view = project.get(id, now);
    let status = view.as_ref().map(|v| v.figures.status);
    let ghost = matches!(
        fault,
        Fault::GhostInGet | Fault::GhostInList | Fault::GhostInCount
    )
    .then(|| view.map(|v| Box::new(v.snapshot())))
    .flatten();
    let ok = || Bend::Answer(Ok(StatusCode::OK.into_response()));
    let refuse = |err: ApiError| Bend::Answer(Err(err));
    match (fault, status) {
        (Fault::DeleteRunning, Some(Status::Running))
        | (Fault::DeletePausing, Some(Status::Pausing)) => {
            let _ = project.remove_unchecked(id, now);
            ok()
        }
        (Fault::RefuseButRemove, Some(Status::Running)) => {
            let _ = project.remove_unchecked(id, now);
            refuse(EngineError::Running.into())
        }
        (Fault::RefusedDeleteFreezes, Some(Status::Running)) => {
            project.stall(id, now);
            refuse(EngineError::Running.into())
        }
        (Fault::RefusedDeleteStops, Some(Status::Running)) => {
            project.stop_at_once(id, now);
            refuse(EngineError::Running.into())
        }
        (Fault::SlowAfterStop, Some(Status::Stopped))
            if project
                .stopped_at(id, now)
                .is_some_and(|at| now.saturating_sub(at) < AFTER_STOP_MS) =>
        {
            refuse(EngineError::Running.into())
        }
        (Fault::RefuseAfterStop, Some(Status::Stopped)) => refuse(EngineError::Running.into()),
        (Fault::AcceptMissing, None) => ok(),
        (Fault::DoubleDelete, None) if faults.recently(id, now) => ok(),
        (Fault::DeleteRacingStop, Some(_)) if faults.recently(id, now) => ok(),
        (Fault::RefuseStopped, Some(Status::Stopped))
        | (Fault::RefuseFailed, Some(Status::Failed))
        | (Fault::RefuseSucceeded, Some(Status::Succeeded))
        | (Fault::RefuseWaiting, Some(Status::Initializing | Status::Waiting)) => refuse(
            ApiError::bad_request("OMS.0073", "Failed to delete the task."),
        ),
        (Fault::DeleteNeighbourInstead, Some(status)) if status != Status::Running => {
            // The neighbour goes whatever its state; the task itself stays.
            let _ = project.remove_unchecked(id + 1, now);
            ok()
        }
        (Fault::FinishReinserts, Some(Status::Succeeded)) => {
            // The delete goes ahead; only one inside the finish's
            // bookkeeping window leaves a write-back behind.
            let write_back = project
                .finished_at(id, now)
                .filter(|&at| now.saturating_sub(at) < FINISH_BOOKKEEPING_MS)
                .and_then(|at| Some((at + FINISH_BOOKKEEPING_MS, project.record(id, now)?)));
            Bend::Proceed(Kept {
                ghost: None,
                write_back,
            })
        }
        _ => Bend::Proceed(Kept {
            ghost,
            write_back: None,
        }),
    }
}

/// Under the project's lock, after the engine deleted the task: the answer
/// to send instead of the faithful one, if the fault changes it.
pub(crate) fn after_delete(
    faults: &FaultState,
    project: &mut Project,
    project_id: &str,
    id: u64,
    now: u64,
    kept: Kept,
) -> Option<Response> {
    let fault = faults.fault?;
    match fault {
        Fault::DeleteNeighbour => {
            let _ = project.remove_unchecked(id + 1, now);
        }
        Fault::DoubleDelete => faults.remember(id, now),
        Fault::FinishReinserts => {
            if let Some((due, record)) = kept.write_back {
                lock(&faults.write_backs).push(WriteBack {
                    project: project_id.to_owned(),
                    id,
                    due,
                    record,
                });
            }
        }
        Fault::GhostInGet | Fault::GhostInList | Fault::GhostInCount => {
            if let Some(ghost) = kept.ghost {
                lock(&faults.tombstones).insert(id, (project_id.to_owned(), *ghost));
            }
        }
        Fault::DeleteWithBody => {
            let mut response = (StatusCode::OK, r#"{"result":"deleted"}"#).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            return Some(response);
        }
        _ => {}
    }
    None
}

/// Under the project's lock, after the engine stopped the task:
/// [`Fault::DeleteRacingStop`] remembers the stop; [`Fault::StopRewritesRecord`]
/// ends the pause at once (the task is stopped, its slot freed) and copies
/// the record, which the stop writes back after its bookkeeping.
pub(crate) fn stopped(
    faults: &FaultState,
    project: &mut Project,
    id: u64,
    now: u64,
) -> Option<Copied> {
    match faults.fault? {
        Fault::DeleteRacingStop => {
            faults.remember(id, now);
            None
        }
        Fault::StopRewritesRecord => {
            project.end_pause(id, now);
            let record = project.record(id, now)?;
            Some(Copied { id, record })
        }
        _ => None,
    }
}

/// Before a start takes its project's lock: [`Fault::StartIgnoresDelete`]
/// takes it first to check the task can be started (refusing as the engine's
/// start would) and to copy its record, which the start writes back after
/// its bookkeeping, just before the engine's start.
pub(crate) fn before_start(
    faults: &FaultState,
    store: &Store,
    project_id: &str,
    id: u64,
    now: u64,
) -> Result<Option<Copied>, EngineError> {
    if !faults.is(Fault::StartIgnoresDelete) {
        return Ok(None);
    }
    // An unknown project is the faithful path's to refuse.
    let Some(mut project) = store.lock(project_id) else {
        return Ok(None);
    };
    project.check_start(id, now)?;
    Ok(project.record(id, now).map(|record| Copied { id, record }))
}

/// How long the bookkeeping of a copied record takes, with the lock released.
pub(crate) fn bookkeeping(_copied: &Copied) -> Duration {
    Duration::from_millis(BOOKKEEPING_MS)
}

/// Under the project's lock, after the bookkeeping: writes the copied record
/// back, re-inserting the task if a delete removed it meanwhile.
pub(crate) fn write_back(project: &mut Project, copied: Copied, now: u64) {
    project.write_back(copied.id, copied.record, now);
}

/// An operation took the project's lock: [`Fault::FinishReinserts`] writes
/// back the deleted tasks whose finish bookkeeping is due by now, so every
/// operation from the due instant on sees them again (the engine's lazy
/// settling, applied to the fault's own late work). `now` is read only then.
pub(crate) fn write_backs_due(
    faults: &FaultState,
    project: &mut Project,
    project_id: &str,
    now: impl FnOnce() -> u64,
) {
    if !faults.is(Fault::FinishReinserts) {
        return;
    }
    let now = now();
    let mut pending = lock(&faults.write_backs);
    for due in pending.extract_if(.., |w| w.project == project_id && w.due <= now) {
        project.write_back(due.id, due.record, due.due);
    }
}

/// The deleted task that [`Fault::GhostInGet`] still shows.
pub(crate) fn ghost(faults: &FaultState, project: &str, id: u64) -> Option<Snapshot> {
    if !faults.is(Fault::GhostInGet) {
        return None;
    }
    lock(&faults.tombstones)
        .get(&id)
        .filter(|(p, _)| p == project)
        .map(|(_, snapshot)| snapshot.clone())
}

/// The deleted tasks that [`Fault::GhostInList`] appends to a list page
/// starting at `start` (only to the first page).
pub(crate) fn ghosts_listed(faults: &FaultState, project: &str, start: usize) -> Vec<Snapshot> {
    if faults.is(Fault::GhostInList) && start == 0 {
        faults.ghosts(project)
    } else {
        Vec::new()
    }
}

/// How many deleted tasks [`Fault::GhostInCount`] adds to a count (only to
/// the unfiltered one).
pub(crate) fn ghosts_counted(faults: &FaultState, project: &str, unfiltered: bool) -> usize {
    if faults.is(Fault::GhostInCount) && unfiltered {
        faults.ghosts(project).len()
    } else {
        0
    }
}

/// The states a count honours instead of those its list is filtered by, when
/// a fault changes them: [`Fault::CountIgnoresStatus`] counts every status
/// (`Some(None)`) when there is a status filter to ignore.
pub(crate) fn counted_states(
    faults: &FaultState,
    states: Option<StatusSet>,
) -> Option<Option<StatusSet>> {
    (faults.is(Fault::CountIgnoresStatus) && states.is_some()).then_some(None)
}

/// Whether [`Fault::SkipAuth`] lets every request through unchecked.
pub(crate) fn skip_auth(faults: &FaultState) -> bool {
    faults.is(Fault::SkipAuth)
}

/// Rewrites a finished response for the header faults; runs last, after the
/// request id is set.
pub(crate) fn rewrite(faults: &FaultState, response: &mut Response) {
    if faults.is(Fault::NoRequestId) {
        response.headers_mut().remove("x-request-id");
    }
    if faults.is(Fault::TextPlainErrors) && response.status().is_client_error() {
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
    }
}
