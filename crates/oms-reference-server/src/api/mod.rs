//! The HTTP surface: one module per API dialect, each a router of its own
//! routes under its version prefix and thin handlers, merged here. Below the
//! dialects sit the shared extractors (`extract`) and the operations (`ops`),
//! which lock a project, call the engine and run the fault hooks around it; a
//! dialect only parses and renders. Beside the dialects, `openapi` serves the
//! OpenAPI descriptions of both, outside the authentication.
//!
//! A dialect's router is merged, not nested with `Router::nest`: nesting wraps
//! every route in layers that rebuild the request's URI and record the nested
//! path, which cost 15 % more instructions per request on the path every
//! request takes (callgrind, 2,000 in-process GETs of one task: 48,000
//! instructions each nested, 41,600 merged, 41,300 before the dialect split).

mod extract;
mod openapi;
mod ops;
mod v1;
mod v2;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;

use crate::error::ApiError;
use crate::middleware::{authenticate, request_id};
use crate::state::AppState;

/// The whole API as an axum router. The authentication is a `route_layer`
/// over the dialects' routes only: the OpenAPI documents, merged after it,
/// need no credentials; the fallbacks, the body limit and the request id
/// cover every route.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(v1::routes())
        .merge(v2::routes())
        .route_layer(middleware::from_fn_with_state(state.clone(), authenticate))
        .merge(openapi::routes())
        .fallback(|| async { ApiError::route_not_found() })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .layer(DefaultBodyLimit::max(state.max_body_bytes()))
        .layer(middleware::from_fn_with_state(state.clone(), request_id))
        .with_state(state)
}
