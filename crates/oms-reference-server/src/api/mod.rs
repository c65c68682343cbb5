//! The HTTP surface: one module per API dialect, each a router of its own
//! routes and thin handlers, mounted here with [`Router::nest`] under its
//! version prefix. Below the dialects sit the shared extractors (`extract`)
//! and the operations (`ops`), which lock a project, call the engine and run
//! the fault hooks around it; a dialect only parses and renders.

mod extract;
mod ops;
mod v1;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;

use crate::error::ApiError;
use crate::middleware::{authenticate, request_id};
use crate::state::AppState;

/// The whole API as an axum router.
pub fn router(state: AppState) -> Router {
    Router::new()
        .nest("/v1/{project_id}", v1::routes())
        // Outside the nested routers, so authentication sees the whole path
        // (the signature covers it, and the project id is its second segment).
        .route_layer(middleware::from_fn_with_state(state.clone(), authenticate))
        .fallback(|| async { ApiError::route_not_found() })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .layer(DefaultBodyLimit::max(state.max_body_bytes()))
        .layer(middleware::from_fn_with_state(state.clone(), request_id))
        .with_state(state)
}
