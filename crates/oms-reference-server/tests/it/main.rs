//! The reference server's integration tests, in one binary: the API driven
//! in-process through `tower::ServiceExt::oneshot` on a manual clock, so no
//! test waits on wall time; and Python tools against a real listener on the
//! wall clock (`wire::InProcess`), each from a cached venv (`venv`): the official SDK
//! (`sdk`), which waits only for the engine's own 100 ms start-up, and
//! schemathesis against the OpenAPI documents (`openapi`); and the connection
//! layer over real sockets, in process (`http_layer`) and in the binary
//! (`connections`), whose waits are polls with deadlines.

mod api;
mod api_v2;
mod cli;
mod connections;
mod engine;
// Only a build with the feature can configure a fault.
#[cfg(feature = "faults")]
mod faults;
mod http_layer;
mod late_body;
mod model;
mod openapi;
mod process;
mod robustness;
mod sdk;
mod signing;
mod support;
mod tidy;
mod venv;
mod wire;
