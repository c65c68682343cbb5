//! The reference implementation of the Huawei Cloud OMS v1 and v2 task APIs, and a
//! local OMS emulator: an axum server over a simulated migration engine.
//!
//! Entry points: [`router`] for in-process tests, [`serve`] to run on a
//! listener until a shutdown future resolves.

mod api;
pub mod bandwidth;
pub mod clock;
pub mod config;
mod conn;
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

pub use config::{AkSkBinding, Config, DEV_AKSK, DEV_TOKENS, HttpLimits, Secret, TokenBinding};
pub use engine::Limits;
pub use state::AppState;

/// The API as a router over fresh state built from `config`.
pub fn router(config: Config) -> axum::Router {
    api::router(AppState::new(config))
}

/// Serves the API on `listener` until `shutdown` resolves, then drains: the
/// listener closes, requests in flight get `config.http.drain_timeout` to
/// finish, and what is left is closed. The connection layer's limits and
/// deadlines are `config.http`.
pub async fn serve(
    listener: tokio::net::TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = config.http.clone();
    conn::serve(listener, router(config), limits, shutdown).await
}

/// Binds a listener on `addr` with a listen backlog of `backlog` (the kernel
/// caps it at `net.core.somaxconn`).
pub fn bind(addr: std::net::SocketAddr, backlog: u32) -> std::io::Result<tokio::net::TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    // A restarted emulator rebinds its port at once, whatever TIME_WAIT holds.
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(backlog)
}
