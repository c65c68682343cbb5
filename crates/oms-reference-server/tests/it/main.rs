//! The reference server's integration tests, in one binary: the API driven
//! in-process through `tower::ServiceExt::oneshot`, with a manual clock so no
//! test waits on wall time.

mod api;
mod engine;
mod model;
mod robustness;
mod sdk;
mod signing;
mod support;
