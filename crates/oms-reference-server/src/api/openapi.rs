//! The OpenAPI 3.1 descriptions of both dialects, served as documents:
//! `GET /openapi/v1.yaml` and `GET /openapi/v2.yaml`, with no authentication,
//! so that users can browse them or generate a client from the emulator
//! itself. The bytes are the fixtures' (`fixtures/openapi/`), embedded at
//! compile time: the server reads no file at run time, and its image holds
//! only the binary.

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::state::AppState;

/// The v1 description, as `fixtures/openapi/oms-v1.yaml` holds it.
const V1: &str = include_str!("../../../../fixtures/openapi/oms-v1.yaml");

/// The v2 description, as `fixtures/openapi/oms-v2.yaml` holds it.
const V2: &str = include_str!("../../../../fixtures/openapi/oms-v2.yaml");

/// The media type of YAML (RFC 9512), which defines no `charset` parameter:
/// YAML documents are UTF-8 unless they say otherwise.
const YAML: &str = "application/yaml";

/// The two documents' routes. They sit outside the authentication layer (a
/// description is public, as the API's pages are); a method other than `GET`
/// or `HEAD` gets the router's OMS-shaped 405.
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/openapi/v1.yaml", get(|| async { yaml(V1) }))
        .route("/openapi/v2.yaml", get(|| async { yaml(V2) }))
}

fn yaml(document: &'static str) -> Response {
    let mut response = document.into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(YAML));
    response
}
