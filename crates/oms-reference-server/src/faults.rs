//! Fault injection, compiled only with the `faults` cargo feature and off
//! unless a [`Fault`] is configured. Each fault breaks exactly one behaviour
//! of the delete operation (or of the answers around it), so the conformance
//! kit can prove that its rules catch real bugs: a rule that no fault can make
//! fail checks nothing.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::engine::{EngineError, Status};
use crate::error::ApiError;
use crate::state::AppState;

/// How long the racing faults remember a stop or a delete, in milliseconds.
const RACE_WINDOW_MS: u64 = 2_000;

macro_rules! faults {
    ($($variant:ident = $name:literal: $doc:literal,)*) => {
        /// A deliberate bug, named on the command line by its kebab-case name.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Fault {
            $(#[doc = $doc] $variant,)*
        }

        impl Fault {
            /// Every fault, in catalogue order.
            pub const ALL: &'static [Fault] = &[$(Fault::$variant,)*];

            /// The kebab-case name of the fault.
            pub fn name(self) -> &'static str {
                match self { $(Fault::$variant => $name,)* }
            }

            /// What the fault breaks, in one line.
            pub fn description(self) -> &'static str {
                match self { $(Fault::$variant => $doc,)* }
            }
        }
    };
}

faults! {
    DeleteRunning = "delete-running": "Deletes a running task (200) instead of refusing it.",
    DeleteWithBody = "delete-with-body": "Answers a successful delete with a JSON body.",
    RefuseButRemove = "refuse-but-remove": "Refuses the delete of a running task with OMS.0063 but removes it anyway.",
    RefusedDeleteFreezes = "refused-delete-freezes": "Refuses the delete of a running task with OMS.0063, but the task stops moving (still status 2).",
    AcceptMissing = "accept-missing": "Answers 200 to the delete of a task that does not exist.",
    GhostInGet = "ghost-in-get": "Keeps a deleted task visible to GET.",
    GhostInList = "ghost-in-list": "Keeps a deleted task in the list.",
    GhostInCount = "ghost-in-count": "Keeps a deleted task in the count.",
    DeleteNeighbour = "delete-neighbour": "Deletes the task and its id neighbour (id + 1).",
    DeleteNeighbourInstead = "delete-neighbour-instead": "Deletes the id neighbour (id + 1) instead of the task.",
    IgnoreProjectScope = "ignore-project-scope": "Deletes a task through another project's path.",
    SkipAuth = "skip-auth": "Skips the credential check on every route.",
    Malformed500 = "malformed-500": "Answers 500 to a malformed task id.",
    MalformedDeletesPrefix = "malformed-deletes-prefix": "Refuses a malformed task id with OMS.0054, but first deletes the task its leading digits name (12abc deletes 12).",
    DoubleDelete = "double-delete": "Lets a second delete of a just-deleted task succeed too (racing deletes both win).",
    DeleteRacingStop = "delete-racing-stop": "A delete right after a stop answers 200 but the task survives.",
    RefuseStopped = "refuse-stopped": "Refuses to delete a stopped task (status 3).",
    RefuseFailed = "refuse-failed": "Refuses to delete a failed task (status 4).",
    RefuseSucceeded = "refuse-succeeded": "Refuses to delete a succeeded task (status 5).",
    RefuseWaiting = "refuse-waiting": "Refuses to delete a task that is initializing or waiting (status 0 or 1).",
    QueryString500 = "query-string-500": "Answers 500 to a delete that carries a query string.",
    NoRequestId = "no-request-id": "Leaves out the X-Request-Id header.",
    TextPlainErrors = "text-plain-errors": "Sends error bodies as text/plain.",
}

impl std::str::FromStr for Fault {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, String> {
        Fault::ALL
            .iter()
            .copied()
            .find(|f| f.name() == name)
            .ok_or_else(|| {
                let names: Vec<_> = Fault::ALL.iter().map(|f| f.name()).collect();
                format!("unknown fault {name:?}; known: {}", names.join(", "))
            })
    }
}

/// What the faults remember between requests.
#[derive(Debug, Default)]
pub(crate) struct FaultState {
    fault: Option<Fault>,
    /// Deleted tasks kept for the ghost faults: id → (project, task JSON).
    tombstones: Mutex<HashMap<u64, (String, Vec<u8>)>>,
    /// When each task was last stopped or deleted, for the racing faults.
    recent: Mutex<HashMap<u64, u64>>,
}

impl FaultState {
    pub(crate) fn new(fault: Option<Fault>) -> Self {
        Self {
            fault,
            ..Self::default()
        }
    }

    pub(crate) fn is_on(&self) -> bool {
        self.fault.is_some()
    }

    pub(crate) fn is(&self, fault: Fault) -> bool {
        self.fault == Some(fault)
    }

    fn remember(&self, id: u64, now: u64) {
        let mut recent = self
            .recent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        recent.retain(|_, at| now.saturating_sub(*at) < RACE_WINDOW_MS);
        recent.insert(id, now);
    }

    fn recently(&self, id: u64, now: u64) -> bool {
        let recent = self
            .recent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        recent
            .get(&id)
            .is_some_and(|at| now.saturating_sub(*at) < RACE_WINDOW_MS)
    }

    /// A stop succeeded: the racing fault remembers it.
    pub(crate) fn stopped(&self, id: u64, now: u64) {
        if self.is(Fault::DeleteRacingStop) {
            self.remember(id, now);
        }
    }

    /// The ghost of a deleted task, if a ghost fault keeps one.
    pub(crate) fn ghost(&self, id: u64, project: &str) -> Option<Vec<u8>> {
        let tombstones = self
            .tombstones
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        tombstones
            .get(&id)
            .filter(|(p, _)| p == project)
            .map(|(_, json)| json.clone())
    }

    /// How many ghosts the count adds (only to the unfiltered count).
    pub(crate) fn ghosts_counted(&self, project: &str, unfiltered: bool) -> usize {
        if self.is(Fault::GhostInCount) && unfiltered {
            self.ghosts(project).len()
        } else {
            0
        }
    }

    /// The first list page with the project's ghosts appended, under [`Fault::GhostInList`].
    pub(crate) fn listed_with_ghosts(
        &self,
        project: &str,
        tasks: &[crate::wire::TaskOut<'_>],
    ) -> Option<Vec<u8>> {
        if !self.is(Fault::GhostInList) {
            return None;
        }
        let mut items: Vec<serde_json::Value> = tasks
            .iter()
            .filter_map(|t| serde_json::to_value(t).ok())
            .collect();
        items.extend(
            self.ghosts(project)
                .iter()
                .filter_map(|g| serde_json::from_slice(g).ok()),
        );
        serde_json::to_vec(&items).ok()
    }

    /// The ghosts of a project, for the list and the count.
    fn ghosts(&self, project: &str) -> Vec<Vec<u8>> {
        let tombstones = self
            .tombstones
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut ghosts: Vec<_> = tombstones
            .iter()
            .filter(|(_, (p, _))| p == project)
            .collect();
        ghosts.sort_by_key(|(id, _)| **id);
        ghosts
            .into_iter()
            .map(|(_, (_, json))| json.clone())
            .collect()
    }
}

fn refused() -> ApiError {
    ApiError {
        status: StatusCode::BAD_REQUEST,
        code: "OMS.0073",
        message: "Failed to delete the task.".into(),
        request_id: None,
    }
}

fn internal() -> Response {
    (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
}

/// The answer to a malformed id under [`Fault::Malformed500`] (a 500) or
/// [`Fault::MalformedDeletesPrefix`] (the usual 400, after deleting the task
/// whose id is the segment's first run of digits, as a lenient parser would).
pub(crate) fn malformed_id(
    state: &AppState,
    method: &axum::http::Method,
    found: Option<(&str, &str)>,
) -> Option<Response> {
    let faults = state.faults();
    if faults.is(Fault::Malformed500) {
        return Some(internal());
    }
    if faults.is(Fault::MalformedDeletesPrefix) && method == axum::http::Method::DELETE {
        let (project, segment) = found?;
        let digits: String = segment
            .chars()
            .skip_while(|c| !c.is_ascii_digit())
            .take_while(char::is_ascii_digit)
            .collect();
        if let (Ok(id), Some(mut guard)) = (digits.parse::<u64>(), state.project(project)) {
            let _ = guard.delete(id, state.now());
        }
        return Some(ApiError::invalid_task_id().into_response());
    }
    None
}

/// The delete operation with the configured fault applied.
pub(crate) fn delete(
    state: &AppState,
    project: &str,
    id: u64,
    has_query: bool,
) -> Result<Response, ApiError> {
    let faults = state.faults();
    let now = state.now();
    let ok = || Ok(StatusCode::OK.into_response());
    if faults.is(Fault::QueryString500) && has_query {
        return Ok(internal());
    }
    if faults.is(Fault::IgnoreProjectScope) {
        for other in state.project_ids() {
            let mut guard = state.project(other).ok_or_else(ApiError::not_found)?;
            if guard.get(id, now).is_some() {
                guard.delete(id, now)?;
                return ok();
            }
        }
    }
    let mut guard = state.project(project).ok_or_else(ApiError::not_found)?;
    let status = guard.get(id, now).map(|v| v.status);
    let kept_json = status.and_then(|_| guard.get(id, now).map(|v| crate::wire::task_json(&v)));
    match (faults.fault, status) {
        (Some(Fault::DeleteRunning), Some(Status::Running)) => {
            guard.remove_even_running(id, now)?;
            return ok();
        }
        (Some(Fault::RefuseButRemove), Some(Status::Running)) => {
            guard.remove_even_running(id, now)?;
            return Err(EngineError::Running.into());
        }
        (Some(Fault::RefusedDeleteFreezes), Some(Status::Running)) => {
            guard.freeze(id, now);
            return Err(EngineError::Running.into());
        }
        (Some(Fault::AcceptMissing), None) => return ok(),
        (Some(Fault::DoubleDelete), None) if faults.recently(id, now) => return ok(),
        (Some(Fault::DeleteRacingStop), Some(_)) if faults.recently(id, now) => return ok(),
        (Some(Fault::RefuseStopped), Some(Status::Stopped))
        | (Some(Fault::RefuseFailed), Some(Status::Failed))
        | (Some(Fault::RefuseSucceeded), Some(Status::Succeeded))
        | (Some(Fault::RefuseWaiting), Some(Status::Initializing | Status::Waiting)) => {
            return Err(refused());
        }
        (Some(Fault::DeleteNeighbourInstead), Some(status)) if status != Status::Running => {
            // The neighbour goes whatever its state; the task itself stays.
            let _ = guard.remove_even_running(id + 1, now);
            return ok();
        }
        _ => {}
    }
    guard.delete(id, now)?;
    if faults.is(Fault::DeleteNeighbour) {
        let _ = guard.remove_even_running(id + 1, now);
    }
    if faults.is(Fault::DoubleDelete) {
        faults.remember(id, now);
    }
    if let Some(json) = kept_json
        && matches!(
            faults.fault,
            Some(Fault::GhostInGet | Fault::GhostInList | Fault::GhostInCount)
        )
    {
        let mut tombstones = faults
            .tombstones
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        tombstones.insert(id, (project.to_owned(), json));
    }
    if faults.is(Fault::DeleteWithBody) {
        let mut response = (StatusCode::OK, r#"{"result":"deleted"}"#).into_response();
        response.headers_mut().insert(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("application/json"),
        );
        return Ok(response);
    }
    ok()
}

/// The outermost layer: rewrites finished responses for the header faults.
pub(crate) async fn layer(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let mut response = next.run(request).await;
    let faults = state.faults();
    if faults.is(Fault::NoRequestId) {
        response.headers_mut().remove("x-request-id");
    }
    if faults.is(Fault::TextPlainErrors) && response.status().is_client_error() {
        response.headers_mut().insert(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("text/plain; charset=utf-8"),
        );
    }
    response
}
