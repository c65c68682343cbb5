//! OMS v1 (`/v1/{project_id}/objectstorage/…`): its routes and handlers.
//! Each handler parses the v1 request with `wire::v1`, calls one shared
//! operation, and renders the answer in v1's shape.

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;

use super::extract::{Body, DeleteShape, ProjectPath, TaskPath, json};
use super::ops::{self, Page};
use crate::error::ApiError;
use crate::state::AppState;
use crate::wire;
use crate::wire::v1::{CreateBody, Created, ListParams, Operation, TaskOut, task_name};

/// The v1 routes, each under `/v1/{project_id}/objectstorage`.
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/{project_id}/objectstorage/task",
            get(list_or_count).post(create),
        )
        .route(
            "/v1/{project_id}/objectstorage/task/{task_id}",
            get(query).delete(delete).put(update),
        )
        .route("/v1/{project_id}/objectstorage/version", get(version))
}

async fn create(
    State(state): State<AppState>,
    ProjectPath(project): ProjectPath,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let (spec, policy) = wire::parse_json::<CreateBody>(&body)?.validate()?;
    let id = ops::create(&state, &project, spec, policy)?;
    Ok(json(&Created {
        id,
        task_name: task_name(id),
    }))
}

async fn query(State(state): State<AppState>, path: TaskPath) -> Result<Response, ApiError> {
    ops::show(&state, &path.project, path.task.0, |view| {
        json(&TaskOut::from(view))
    })
}

async fn delete(
    State(state): State<AppState>,
    path: TaskPath,
    shape: DeleteShape,
) -> Result<Response, ApiError> {
    ops::delete(&state, &path.project, path.task.0, shape)
}

/// `PUT …/task/{id}`: start, stop or a new bandwidth policy, by `operation`.
async fn update(
    State(state): State<AppState>,
    path: TaskPath,
    Body(body): Body,
) -> Result<StatusCode, ApiError> {
    let (project, id) = (&path.project, path.task.0);
    match Operation::parse(&body)? {
        Operation::Start => ops::start(&state, project, id).await?,
        Operation::Stop => ops::stop(&state, project, id).await?,
        Operation::ChangeBandwidthpolicy(policy) => ops::set_policy(&state, project, id, policy)?,
    }
    Ok(StatusCode::OK)
}

/// `GET …/task`: a page of tasks, or with `totalcount=true` their number.
async fn list_or_count(
    State(state): State<AppState>,
    ProjectPath(project): ProjectPath,
    params: Result<Query<ListParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params.map_err(|e| ApiError::invalid_params(e.body_text()))?;
    let status = params.status()?;
    if params.counting()? {
        let count = ops::count(&state, &project, status)?;
        return Ok(json(&serde_json::json!({ "taskcount": count })));
    }
    let (start, limit) = params.window()?;
    let page = Page {
        start,
        limit,
        status,
    };
    ops::list(&state, &project, page, |views| {
        json(&views.iter().map(TaskOut::from).collect::<Vec<_>>())
    })
}

async fn version(ProjectPath(project): ProjectPath) -> Response {
    json(&serde_json::json!({
        "versions": [{
            "id": "v1.0",
            "links": [{ "href": format!("/v1/{project}/objectstorage/"), "rel": "self" }],
            "min_version": "",
            "status": "CURRENT",
            "updated": "2016-12-09T00:00:00Z",
            "version": ""
        }]
    }))
}
