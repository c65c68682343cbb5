//! The harness's HTTP client: the only module that knows reqwest and hyper's client.
//! Every request has a timeout, every response body is read up to a cap (a hostile
//! target may send an endless body), redirects are never followed (a 3xx is
//! reported as is), and every exchange is logged, redacted, for the reports.
//!
//! A project with an AK/SK signs each request here, once its wire form is
//! final (path and query as they go out, `Host`, body), with `crate::signing`;
//! the log shows that a request was signed, never the signature.
//!
//! Request targets that must reach the server byte for byte (percent-encoded `..`
//! and `/`, empty segments) go through hyper's connection API for `http` targets,
//! because reqwest's URL type normalizes dot segments.
//!
//! Host names are resolved in-process, by one resolver per client that both
//! paths share (`resolve`): the harness must reach `http://oms:8080` from a
//! static binary in a `scratch` image, whatever the C library it was linked
//! with can resolve there.
//!
//! `request` holds what a request is, `base` where it goes, `client` the
//! client and its reqwest path, `raw` the hyper path; `exchange` holds what is
//! logged of each request and its answer, `redact` hides secrets in it;
//! `outgoing` builds each request's headers from one list and shows them (in
//! the log, in the `curl` line); `resolve` the names.

mod base;
mod client;
mod exchange;
mod outgoing;
mod raw;
mod redact;
mod request;
mod resolve;

pub use self::base::{HttpError, check_base_url};
pub use self::client::{Client, answers};
pub use self::exchange::{Exchange, Received};
pub use self::redact::Redactor;
pub use self::request::{Auth, Method, Outgoing, Shape, Signing};
pub use self::resolve::{ResolveError, Resolver};
