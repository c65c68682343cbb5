//! Cross-cutting layers: the request id and request log around everything,
//! and authentication in front of every matched API route. The auth check is
//! a function of the request head alone, so a second scheme (AK/SK signing)
//! is an X-Auth-Token or an AK/SK signature, without the handlers knowing which.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::signing;
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

/// Refuses requests without a valid credential for the project in the path:
/// an `X-Auth-Token`, or an `Authorization: SDK-HMAC-SHA256 …` signature.
pub async fn authenticate(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let request_id = request
        .extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    #[cfg(feature = "faults")]
    if state.faults().is(crate::faults::Fault::SkipAuth) {
        return next.run(request).await;
    }
    let signed = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(signing::ALGORITHM));
    let checked = if signed {
        verify_signature(&state, request, request_id).await
    } else {
        verify_token(&state, request, request_id)
    };
    match checked {
        Ok(request) => next.run(request).await,
        Err(refusal) => refusal.into_response(),
    }
}

/// Every API route is `/v1/{project_id}/…`; the raw segment is compared, so a
/// percent-encoded or otherwise odd project id simply matches no project.
fn path_project(request: &Request) -> Option<&str> {
    request.uri().path().split('/').nth(2)
}

fn verify_token(
    state: &AppState,
    request: Request,
    request_id: String,
) -> Result<Request, ApiError> {
    let token = request
        .headers()
        .get("x-auth-token")
        .and_then(|v| v.to_str().ok());
    match token.and_then(|t| state.project_of_token(t)) {
        None => Err(ApiError::unauthorized(request_id)),
        Some(project) if Some(project) != path_project(&request) => Err(ApiError::forbidden()),
        Some(_) => Ok(request),
    }
}

/// Checks an AK/SK signature. The body is part of what is signed, so it is
/// buffered here (within the body limit) and handed on intact.
async fn verify_signature(
    state: &AppState,
    request: Request,
    request_id: String,
) -> Result<Request, ApiError> {
    let (parts, body) = request.into_parts();
    let header_str = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
    let auth = header_str("authorization")
        .and_then(signing::Authorization::parse)
        .ok_or_else(|| {
            ApiError::bad_signature("malformed Authorization header", request_id.clone())
        })?;
    let (secret, project) = state
        .secret_of_access_key(auth.access)
        .ok_or_else(|| ApiError::bad_signature("unknown access key", request_id.clone()))?;
    if !auth
        .signed_headers
        .iter()
        .any(|h| h.eq_ignore_ascii_case("x-sdk-date"))
    {
        return Err(ApiError::bad_signature(
            "X-Sdk-Date is not signed",
            request_id,
        ));
    }
    let date = header_str("x-sdk-date").unwrap_or_default();
    let at = signing::parse_sdk_date(date).ok_or_else(|| {
        ApiError::bad_signature("X-Sdk-Date is not YYYYMMDDTHHMMSSZ", request_id.clone())
    })?;
    if state.now().abs_diff(at) > signing::MAX_SKEW_MS {
        return Err(ApiError::sdk_date_skew(request_id));
    }
    let bytes = axum::body::to_bytes(body, state.max_body_bytes())
        .await
        .map_err(|_| ApiError::payload_too_large(state.max_body_bytes()))?;
    let canonical = signing::canonical_request(
        parts.method.as_str(),
        parts.uri.path(),
        parts.uri.query().unwrap_or(""),
        &auth.signed_headers,
        header_str,
        &bytes,
    )
    .ok_or_else(|| ApiError::bad_signature("a signed header is missing", request_id.clone()))?;
    if !signing::verify(
        secret.expose(),
        &signing::string_to_sign(date, &canonical),
        auth.signature,
    ) {
        return Err(ApiError::bad_signature(
            "the signature does not match",
            request_id,
        ));
    }
    let request = Request::from_parts(parts, axum::body::Body::from(bytes));
    if Some(project) != path_project(&request) {
        return Err(ApiError::forbidden());
    }
    Ok(request)
}
