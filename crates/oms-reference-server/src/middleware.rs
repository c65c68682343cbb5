//! Cross-cutting layers: the request id and request log around everything,
//! and authentication in front of every matched API route. Authentication is
//! a function of the request alone (an `X-Auth-Token`, or an AK/SK signature
//! over the head and body), so the handlers never know which scheme was used.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::faults;
use crate::signing;
use crate::state::AppState;

/// The id of one request: 32 lowercase hex digits, in the request's
/// extensions and in the `X-Request-Id` header. `Copy` and allocation-free,
/// since every request gets one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestId([u8; 32]);

static COUNTER: AtomicU64 = AtomicU64::new(0);

impl RequestId {
    /// A per-process nonce from the start time, then a counter, so ids never
    /// repeat within a process and rarely across restarts.
    pub(crate) fn next() -> Self {
        static NONCE: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
        let nonce = *NONCE.get_or_init(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64)
                .wrapping_mul(0x9e37_79b9_7f4a_7c15)
        });
        let counter = COUNTER.fetch_add(1, Ordering::Relaxed);
        let mut hex = [0u8; 32];
        for (i, byte) in hex.iter_mut().enumerate() {
            let word = if i < 16 { nonce } else { counter };
            let nibble = (word >> (60 - 4 * (i % 16))) & 0xf;
            *byte = b"0123456789abcdef"[nibble as usize];
        }
        Self(hex)
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII hex digits are ever written.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Gives every request an id, echoes it in `X-Request-Id`, and logs the
/// exchange. The outermost layer, so the header faults rewrite its result last.
pub async fn request_id(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let id = RequestId::next();
    request.extensions_mut().insert(id);
    // The log line costs two allocations; pay them only when it is written.
    let log = tracing::enabled!(tracing::Level::INFO).then(|| {
        (
            Instant::now(),
            request.method().clone(),
            request.uri().path().to_owned(),
        )
    });
    let mut response = next.run(request).await;
    if let Some((started, method, path)) = log {
        let status = response.status().as_u16();
        let elapsed_us = started.elapsed().as_micros() as u64;
        tracing::info!(%method, %path, status, elapsed_us, request_id = %id, "request");
    }
    if let Ok(value) = HeaderValue::from_bytes(&id.0) {
        response.headers_mut().insert("x-request-id", value);
    }
    faults::rewrite(state.faults(), &mut response);
    response
}

/// Refuses requests without a valid credential for the project in the path:
/// an `X-Auth-Token`, or an `Authorization: SDK-HMAC-SHA256 …` signature.
pub async fn authenticate(State(state): State<AppState>, request: Request, next: Next) -> Response {
    // The layer above always sets it; a zero id would only show a wiring bug.
    let request_id = request
        .extensions()
        .get::<RequestId>()
        .copied()
        .unwrap_or(RequestId([b'0'; 32]));
    if faults::skip_auth(state.faults()) {
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
    match checked.and_then(same_project_header) {
        Ok(request) => next.run(request).await,
        Err(refusal) => refusal.into_response(),
    }
}

/// An `X-Project-Id` header (which the SDK signs and Terraform adds unsigned)
/// must name the path's project: a credential of project A naming project B
/// in the header is refused like one used on B's path.
///
/// Given twice it is refused (400 `OMS.0064`, invalid request parameters):
/// checking only the first would let a second name another project
/// unchecked, and which one a gateway or a proxy reads is anybody's guess.
/// The request's parameters are wrong, not its credentials or its rights,
/// so it is neither a 401 nor a 403.
fn same_project_header(request: Request) -> Result<Request, ApiError> {
    let mut given = request.headers().get_all("x-project-id").iter();
    let first = given.next();
    if given.next().is_some() {
        return Err(ApiError::invalid_params(
            "`X-Project-Id` is given more than once",
        ));
    }
    match first {
        Some(header) if Some(header.as_bytes()) != path_project(&request).map(str::as_bytes) => {
            Err(ApiError::forbidden())
        }
        _ => Ok(request),
    }
}

/// Every API route of every dialect is `/{version}/{project_id}/…`; the raw
/// segment is compared, so a percent-encoded or otherwise odd project id
/// simply matches no project.
fn path_project(request: &Request) -> Option<&str> {
    request.uri().path().split('/').nth(2)
}

fn verify_token(
    state: &AppState,
    request: Request,
    request_id: RequestId,
) -> Result<Request, ApiError> {
    let token = request
        .headers()
        .get("x-auth-token")
        .and_then(|v| v.to_str().ok());
    match token.and_then(|t| state.project_of_token(t)) {
        None => Err(ApiError::unauthorized(request_id.to_string())),
        Some(project) if Some(project) != path_project(&request) => Err(ApiError::forbidden()),
        Some(_) => Ok(request),
    }
}

/// Checks an AK/SK signature. The body is part of what is signed, so it is
/// buffered here (within the body limit) and handed on intact.
async fn verify_signature(
    state: &AppState,
    request: Request,
    request_id: RequestId,
) -> Result<Request, ApiError> {
    let (parts, body) = request.into_parts();
    let header_str = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
    let auth = header_str("authorization")
        .and_then(signing::Authorization::parse)
        .ok_or_else(|| {
            ApiError::bad_signature("malformed Authorization header", request_id.to_string())
        })?;
    let (secret, project) = state
        .secret_of_access_key(auth.access)
        .ok_or_else(|| ApiError::bad_signature("unknown access key", request_id.to_string()))?;
    if !auth
        .signed_headers
        .iter()
        .any(|h| h.eq_ignore_ascii_case("x-sdk-date"))
    {
        return Err(ApiError::bad_signature(
            "X-Sdk-Date is not signed",
            request_id.to_string(),
        ));
    }
    let date = header_str("x-sdk-date").unwrap_or_default();
    let at = signing::parse_sdk_date(date).ok_or_else(|| {
        ApiError::bad_signature("X-Sdk-Date is not YYYYMMDDTHHMMSSZ", request_id.to_string())
    })?;
    if state.now().abs_diff(at) > signing::MAX_SKEW_MS {
        return Err(ApiError::sdk_date_skew(request_id.to_string()));
    }
    let bytes = axum::body::to_bytes(body, state.max_body_bytes())
        .await
        .map_err(|err| {
            ApiError::body_timed_out(&err, request_id.as_str())
                .unwrap_or_else(|| ApiError::payload_too_large(state.max_body_bytes()))
        })?;
    let canonical = signing::canonical_request(
        parts.method.as_str(),
        parts.uri.path(),
        parts.uri.query().unwrap_or(""),
        &auth.signed_headers,
        header_str,
        &bytes,
    )
    .ok_or_else(|| ApiError::bad_signature("a signed header is missing", request_id.to_string()))?;
    if !signing::verify(
        secret.expose(),
        &signing::string_to_sign(date, &canonical),
        auth.signature,
    ) {
        return Err(ApiError::bad_signature(
            "the signature does not match",
            request_id.to_string(),
        ));
    }
    let request = Request::from_parts(parts, axum::body::Body::from(bytes));
    if Some(project) != path_project(&request) {
        return Err(ApiError::forbidden());
    }
    Ok(request)
}
