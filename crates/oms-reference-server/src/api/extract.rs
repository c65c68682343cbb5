//! The extractors every dialect shares: ids parsed once at the edge, bodies
//! capped at the configured size, each rejection an OMS error. Also the one
//! way a JSON answer is written.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::ApiError;
use crate::faults;
use crate::ids::TaskId;
use crate::middleware::RequestId;
use crate::state::AppState;

/// The project id of the path (already authorised by the authentication layer).
pub(super) struct ProjectPath(pub String);

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
pub(super) struct TaskPath {
    pub project: String,
    pub task: TaskId,
}

impl FromRequestParts<AppState> for TaskPath {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let method = parts.method.clone();
        // `found`: the project and the decoded segment, when the path decoded at all.
        let malformed = |found: Option<(&str, &str)>| {
            faults::malformed_id(state.faults(), state.store(), state.now(), &method, found)
                .unwrap_or_else(|| ApiError::invalid_task_id().into_response())
        };
        let Ok(Path((project, task))) =
            Path::<(String, String)>::from_request_parts(parts, state).await
        else {
            return Err(malformed(None));
        };
        let Some(id) = TaskId::parse(&task) else {
            return Err(malformed(Some((&project, &task))));
        };
        Ok(Self { project, task: id })
    }
}

/// What a delete carried besides its path. The spec defines no query and no
/// body for a delete, so the faithful delete ignores both (OMS-DEL-015) and
/// any `Content-Type`; this exists for the faults that do not. Read from the
/// request head without copying it.
#[derive(Debug, Clone, Copy)]
pub(super) struct DeleteShape {
    pub has_query: bool,
    pub has_content_type: bool,
}

impl DeleteShape {
    fn of(parts: &Parts) -> Self {
        Self {
            has_query: parts.uri.query().is_some(),
            has_content_type: parts.headers.contains_key(header::CONTENT_TYPE),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for DeleteShape {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::of(parts))
    }
}

/// A request to a task's action route (`…/stop`, `…/start`,
/// `…/bandwidth-policy`) in a method the route does not serve, which the
/// gateway answers 404. It holds a delete of the task only when a fault makes
/// a `DELETE` there one; only then is the task id parsed, so the faithful
/// answer never depends on the id (nor runs the malformed-id faults).
pub(super) struct ActionDelete(pub Option<(TaskPath, DeleteShape)>);

impl FromRequestParts<AppState> for ActionDelete {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        if parts.method != Method::DELETE || !faults::deletes_on_action_route(state.faults()) {
            return Ok(Self(None));
        }
        let path = TaskPath::from_request_parts(parts, state).await?;
        Ok(Self(Some((path, DeleteShape::of(parts)))))
    }
}

/// A request body of at most the configured size, not yet parsed.
pub(super) struct Body(pub Bytes);

impl FromRequest<AppState> for Body {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let id = req.extensions().get::<RequestId>().copied();
        match Bytes::from_request(req, state).await {
            Ok(bytes) => Ok(Self(bytes)),
            Err(rejection)
                if let Some(late) =
                    id.and_then(|id| ApiError::body_timed_out(&rejection, id.as_str())) =>
            {
                Err(late)
            }
            Err(rejection @ BytesRejection::FailedToBufferBody(_))
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE =>
            {
                Err(ApiError::payload_too_large(state.max_body_bytes()))
            }
            Err(rejection) => Err(ApiError::not_json(rejection.body_text())),
        }
    }
}

/// A 200 answer with `value` as its `application/json` body.
pub(super) fn json(value: &impl Serialize) -> Response {
    // Our own types hold only strings, numbers and JSON values: serialising cannot fail.
    let bytes = serde_json::to_vec(value).unwrap_or_default();
    let mut response = (StatusCode::OK, bytes).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
