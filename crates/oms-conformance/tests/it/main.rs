//! Integration tests of the harness: ordinary `#[test]`s that run the built
//! `oms-conformance` binary against the embedded reference server, against
//! deliberately wrong servers (negative controls), with bad options, and check
//! the suite's tidiness and the HTTP client's promises in-process.

mod client;
mod options;
mod run;
mod support;
mod tidy;
