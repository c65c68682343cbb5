//! The reference implementation of the Huawei Cloud OMS v1 and v2 task APIs, and a
//! local OMS emulator: an axum server over a simulated migration engine.
//!
//! Entry points: [`router`] for in-process tests, [`serve`] to run on a
//! listener until a shutdown future resolves.

mod api;
pub mod bandwidth;
pub mod clock;
pub mod config;
pub mod engine;
mod error;
pub mod faults;
mod ids;
mod middleware;
pub mod model;
pub mod signing;
mod state;
pub mod store;
mod wire;
pub mod workload;

use std::future::Future;

pub use config::{AkSkBinding, Config, DEV_AKSK, DEV_TOKENS, Secret, TokenBinding};
pub use engine::Limits;
pub use state::AppState;

/// The API as a router over fresh state built from `config`.
pub fn router(config: Config) -> axum::Router {
    api::router(AppState::new(config))
}

/// Serves the API on `listener` until `shutdown` resolves, then finishes the
/// requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(config))
        .with_graceful_shutdown(shutdown)
        .await
}
