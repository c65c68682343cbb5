//! OMS v2 (`/v2/{project_id}/tasks…`): its routes and handlers. Each handler
//! parses the v2 request with `wire::v2`, calls one shared operation, and
//! renders the answer in v2's shape. Over the same engine and store as v1, so
//! a task created through one dialect is seen and handled through the other.

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{MethodRouter, any, get, post, put};

use super::extract::{ActionDelete, Body, DeleteShape, ProjectPath, TaskPath, json};
use super::ops::{self, NewestFirst};
use crate::engine::Filter;
use crate::error::ApiError;
use crate::state::AppState;
use crate::wire::v2::{
    self, BandwidthBody, CreateBody, Created, ListOut, ListParams, StartBody, TaskOut,
};

/// The v2 routes, each under `/v2/{project_id}/tasks`. A method a route does
/// not serve gets the gateway's 404 `APIGW.0101` (§2: "unknown path or
/// method"), and so does `/tasks/batch-update`, which the emulator does not
/// serve: a `DELETE` of it must not reach the delete of a task.
pub(super) fn routes() -> Router<AppState> {
    let not_found = || async { ApiError::route_not_found() };
    let only = |route: MethodRouter<AppState>| route.fallback(not_found);
    // The action routes answer the same 404 through a fallback of their own,
    // not a `DELETE` route, so the faithful answers (their `Allow` header
    // too) stay those of every other route.
    let action = |route: MethodRouter<AppState>| route.fallback(beside_task);
    Router::new()
        .route("/v2/{project_id}/tasks", only(get(list).post(create)))
        .route("/v2/{project_id}/tasks/batch-update", any(not_found))
        .route(
            "/v2/{project_id}/tasks/{task_id}",
            only(get(show).delete(delete)),
        )
        .route("/v2/{project_id}/tasks/{task_id}/stop", action(post(stop)))
        .route(
            "/v2/{project_id}/tasks/{task_id}/start",
            action(post(start)),
        )
        .route(
            "/v2/{project_id}/tasks/{task_id}/bandwidth-policy",
            action(put(set_policy)),
        )
}

/// A method a task's action route does not serve: the gateway's 404, unless
/// a fault makes a `DELETE` there a delete of the task, through the one
/// delete operation.
async fn beside_task(
    State(state): State<AppState>,
    ActionDelete(delete): ActionDelete,
) -> Result<Response, ApiError> {
    let Some((path, shape)) = delete else {
        return Err(ApiError::route_not_found());
    };
    ops::delete(&state, &path.project, path.task.0, shape)
}

async fn create(
    State(state): State<AppState>,
    ProjectPath(project): ProjectPath,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let (spec, policy) = v2::parse_body::<CreateBody>(&body)?.validate()?;
    let id = ops::create(&state, &project, spec, policy)?;
    Ok(json(&Created {
        id,
        task_name: crate::model::task_name(id),
    }))
}

async fn show(State(state): State<AppState>, path: TaskPath) -> Result<Response, ApiError> {
    ops::show(&state, &path.project, path.task.0, |view| {
        json(&TaskOut::from(view))
    })
}

async fn list(
    State(state): State<AppState>,
    ProjectPath(project): ProjectPath,
    params: Result<Query<ListParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params.map_err(|e| ApiError::invalid_params(e.body_text()))?;
    let (offset, limit) = params.window()?;
    let page = NewestFirst {
        offset,
        limit,
        filter: Filter {
            states: params.status()?,
            name_contains: params.task_name()?,
            group_id: params.group_id()?,
        },
    };
    ops::list_newest_first(&state, &project, page, |views, count| {
        json(&ListOut {
            tasks: views.iter().map(TaskOut::from).collect(),
            count,
        })
    })
}

async fn delete(
    State(state): State<AppState>,
    path: TaskPath,
    shape: DeleteShape,
) -> Result<Response, ApiError> {
    ops::delete(&state, &path.project, path.task.0, shape)
}

/// `POST …/stop` has no body (`StopTaskRequest` holds only the id); any body is ignored.
async fn stop(State(state): State<AppState>, path: TaskPath) -> Result<StatusCode, ApiError> {
    ops::stop(&state, &path.project, path.task.0).await?;
    Ok(StatusCode::OK)
}

async fn start(
    State(state): State<AppState>,
    path: TaskPath,
    Body(body): Body,
) -> Result<StatusCode, ApiError> {
    v2::parse_body::<StartBody>(&body)?.validate()?;
    ops::start(&state, &path.project, path.task.0).await?;
    Ok(StatusCode::OK)
}

async fn set_policy(
    State(state): State<AppState>,
    path: TaskPath,
    Body(body): Body,
) -> Result<StatusCode, ApiError> {
    let body = v2::parse_body::<BandwidthBody>(&body)?;
    let policy = v2::policy(body.bandwidth_policy)?;
    ops::set_policy(&state, &path.project, path.task.0, policy)?;
    Ok(StatusCode::OK)
}
