//! The routes of the OMS v1 task API and their handlers. Handlers are thin:
//! parse at the edge, lock the project, ask the engine, render.

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde::Serialize;

use crate::engine::Status;
use crate::error::ApiError;
use crate::ids::TaskId;
use crate::middleware::{authenticate, request_id};
use crate::state::AppState;
use crate::wire::{self, CreateBody, Created, Operation, TaskOut};
use crate::workload::Workload;

/// The most tasks one list call returns (`limit`).
const MAX_LIST_LIMIT: usize = 100;

/// The whole API as an axum router.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route(
            "/v1/{project_id}/objectstorage/task",
            get(list_or_count).post(create),
        )
        .route(
            "/v1/{project_id}/objectstorage/task/{task_id}",
            get(query).delete(delete).put(update),
        )
        .route("/v1/{project_id}/objectstorage/version", get(version))
        .route_layer(middleware::from_fn_with_state(state.clone(), authenticate));
    let app = api
        .fallback(|| async { ApiError::route_not_found() })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .layer(DefaultBodyLimit::max(state.max_body_bytes()))
        .layer(middleware::from_fn(request_id));
    #[cfg(feature = "faults")]
    let app = app.layer(middleware::from_fn_with_state(
        state.clone(),
        crate::faults::layer,
    ));
    app.with_state(state)
}

/// The project id of the path (already authorised by [`authenticate`]).
struct ProjectPath(String);

impl<S: Send + Sync> FromRequestParts<S> for ProjectPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(project) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::not_found())?;
        Ok(Self(project))
    }
}

/// The project and task ids of the path; a task id that is not a canonical
/// decimal (or not even UTF-8 once decoded) is `OMS.0054`.
struct TaskPath {
    project: String,
    task: TaskId,
}

impl FromRequestParts<AppState> for TaskPath {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let method = parts.method.clone();
        // `found`: the project and the decoded segment, when the path decoded at all.
        let malformed = |found: Option<(&str, &str)>| {
            #[cfg(feature = "faults")]
            if let Some(response) = crate::faults::malformed_id(state, &method, found) {
                return response;
            }
            let _ = (&method, found);
            ApiError::invalid_task_id().into_response()
        };
        let Path((project, task)) = Path::<(String, String)>::from_request_parts(parts, state)
            .await
            .map_err(|_| malformed(None))?;
        let Some(id) = TaskId::parse(&task) else {
            return Err(malformed(Some((&project, &task))));
        };
        Ok(Self { project, task: id })
    }
}

/// A request body of at most the configured size, not yet parsed.
struct Body(Bytes);

impl FromRequest<AppState> for Body {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        match Bytes::from_request(req, state).await {
            Ok(bytes) => Ok(Self(bytes)),
            Err(rejection @ BytesRejection::FailedToBufferBody(_))
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE =>
            {
                Err(ApiError::payload_too_large(state.max_body_bytes()))
            }
            Err(rejection) => Err(ApiError::not_json(rejection.body_text())),
        }
    }
}

fn json_response(bytes: Vec<u8>) -> Response {
    let mut response = (StatusCode::OK, bytes).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn to_json(value: &impl Serialize) -> Vec<u8> {
    // Our own types hold only strings, numbers and JSON values: serialising cannot fail.
    serde_json::to_vec(value).unwrap_or_default()
}

fn locked<'a>(
    state: &'a AppState,
    project: &str,
) -> Result<std::sync::MutexGuard<'a, crate::engine::Project>, ApiError> {
    state.project(project).ok_or_else(ApiError::not_found)
}

async fn create(
    State(state): State<AppState>,
    ProjectPath(project): ProjectPath,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let (spec, policy) = wire::parse_json::<CreateBody>(&body)?.validate()?;
    let workload = Workload::simulate(
        &spec.src_bucket,
        &spec.src_object_key,
        &spec.dst_bucket,
        &spec.dst_object_key,
    );
    let id = state.next_task_id();
    locked(&state, &project)?.create(id, Box::new(spec), policy, workload, state.now())?;
    Ok(json_response(to_json(&Created {
        id,
        task_name: wire::task_name(id),
    })))
}

async fn query(State(state): State<AppState>, path: TaskPath) -> Result<Response, ApiError> {
    let mut project = locked(&state, &path.project)?;
    match project.get(path.task.0, state.now()) {
        Some(view) => Ok(json_response(wire::task_json(&view))),
        #[cfg(feature = "faults")]
        None if state.faults().is(crate::faults::Fault::GhostInGet) => state
            .faults()
            .ghost(path.task.0, &path.project)
            .map(json_response)
            .ok_or_else(ApiError::not_found),
        None => Err(ApiError::not_found()),
    }
}

// The spec defines no query and no body for delete: both are ignored (OMS-DEL-015).
async fn delete(
    State(state): State<AppState>,
    path: TaskPath,
    uri: Uri,
) -> Result<Response, ApiError> {
    #[cfg(feature = "faults")]
    if state.faults().is_on() {
        return crate::faults::delete(&state, &path.project, path.task.0, uri.query().is_some());
    }
    let _ = uri;
    locked(&state, &path.project)?.delete(path.task.0, state.now())?;
    Ok(StatusCode::OK.into_response())
}

async fn update(
    State(state): State<AppState>,
    path: TaskPath,
    Body(body): Body,
) -> Result<StatusCode, ApiError> {
    let operation = wire::parse_json::<Operation>(&body)?;
    operation.validate()?;
    let now = state.now();
    let mut project = locked(&state, &path.project)?;
    match operation {
        Operation::Start { .. } => project.start(path.task.0, now)?,
        Operation::Stop => {
            project.stop(path.task.0, now)?;
            #[cfg(feature = "faults")]
            state.faults().stopped(path.task.0, now);
        }
        Operation::ChangeBandwidthpolicy { bandwidth_policy } => {
            let policy =
                crate::bandwidth::Policy::parse(&bandwidth_policy).map_err(wire::policy_error)?;
            project.set_policy(path.task.0, policy, now)?;
        }
    }
    Ok(StatusCode::OK)
}

/// The query string of the list and count calls, unparsed so each bad value
/// gets its own code.
#[derive(Debug, Deserialize)]
struct ListParams {
    start: Option<String>,
    limit: Option<String>,
    state: Option<String>,
    totalcount: Option<String>,
}

fn parse_state(raw: Option<&str>) -> Result<Option<Status>, ApiError> {
    raw.map(|s| {
        s.parse::<u8>()
            .ok()
            .and_then(Status::from_code)
            .ok_or_else(ApiError::invalid_state)
    })
    .transpose()
}

fn parse_index(name: &str, raw: Option<&str>) -> Result<usize, ApiError> {
    let raw = raw.ok_or_else(|| ApiError::missing_param(format_args!("`{name}`")))?;
    raw.parse::<usize>().map_err(|_| {
        ApiError::invalid_range(format_args!("`{name}` must be a non-negative integer"))
    })
}

async fn list_or_count(
    State(state): State<AppState>,
    ProjectPath(project): ProjectPath,
    params: Result<Query<ListParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params.map_err(|e| ApiError::invalid_params(e.body_text()))?;
    let status = parse_state(params.state.as_deref())?;
    match params.totalcount.as_deref() {
        Some("true") => {
            let count = locked(&state, &project)?.count(state.now(), status);
            #[cfg(feature = "faults")]
            let count = count + state.faults().ghosts_counted(&project, status.is_none());
            return Ok(json_response(to_json(
                &serde_json::json!({ "taskcount": count }),
            )));
        }
        None | Some("false") => {}
        Some(_) => {
            return Err(ApiError::invalid_params(
                "`totalcount` must be true or false",
            ));
        }
    }
    let start = parse_index("start", params.start.as_deref())?;
    let limit = parse_index("limit", params.limit.as_deref())?;
    if limit == 0 || limit > MAX_LIST_LIMIT {
        return Err(ApiError::invalid_range(format_args!(
            "`limit` must be from 1 to {MAX_LIST_LIMIT}"
        )));
    }
    let mut guard = locked(&state, &project)?;
    let views = guard.list(state.now(), start, limit, status);
    let tasks: Vec<TaskOut<'_>> = views.iter().map(TaskOut::from).collect();
    #[cfg(feature = "faults")]
    if let Some(with_ghosts) = state.faults().listed_with_ghosts(&project, &tasks)
        && start == 0
    {
        return Ok(json_response(with_ghosts));
    }
    Ok(json_response(to_json(&tasks)))
}

async fn version(ProjectPath(project): ProjectPath) -> Response {
    json_response(to_json(&serde_json::json!({
        "versions": [{
            "id": "v1.0",
            "links": [{ "href": format!("/v1/{project}/objectstorage/"), "rel": "self" }],
            "min_version": "",
            "status": "CURRENT",
            "updated": "2016-12-09T00:00:00Z",
            "version": ""
        }]
    })))
}
