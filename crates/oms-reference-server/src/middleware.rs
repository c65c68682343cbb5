//! Cross-cutting layers: the request id and request log around everything,
//! and authentication in front of every matched API route. The auth check is
//! a function of the request head alone, so a second scheme (AK/SK signing)
//! slots in beside the token without touching the handlers.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::state::AppState;

/// The id of one request, in its extensions and in the `X-Request-Id` header.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// 32 hex digits: a per-process nonce from the start time, then a counter, so
/// ids never repeat within a process and rarely across restarts.
fn next_request_id() -> String {
    static NONCE: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    let nonce = *NONCE.get_or_init(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
    });
    format!(
        "{nonce:016x}{:016x}",
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Gives every request an id, echoes it in `X-Request-Id`, and logs the exchange.
pub async fn request_id(mut request: Request, next: Next) -> Response {
    let id = next_request_id();
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    request.extensions_mut().insert(RequestId(id.clone()));
    let mut response = next.run(request).await;
    let status = response.status();
    tracing::info!(%method, %path, status = status.as_u16(), elapsed_us = started.elapsed().as_micros() as u64, request_id = %id, "request");
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

/// Refuses requests without a valid credential for the project in the path.
pub async fn authenticate(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let request_id = request
        .extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    // Every API route is `/v1/{project_id}/…`; the raw segment is compared, so
    // a percent-encoded or otherwise odd project id simply matches no project.
    let path_project = request.uri().path().split('/').nth(2);
    let token = request
        .headers()
        .get("x-auth-token")
        .and_then(|v| v.to_str().ok());
    #[cfg(feature = "faults")]
    if state.faults().is(crate::faults::Fault::SkipAuth) {
        return next.run(request).await;
    }
    match token.and_then(|t| state.project_of_token(t)) {
        None => ApiError::unauthorized(request_id).into_response(),
        Some(project) if Some(project) != path_project => ApiError::forbidden().into_response(),
        Some(_) => next.run(request).await,
    }
}
