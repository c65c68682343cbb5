//! Integration tests of the harness: ordinary `#[test]`s that run the built
//! `oms-conformance` binary against the embedded reference server, against
//! deliberately wrong servers (negative controls, the reference server with each
//! injected fault: the kill matrix), against hostile targets, with bad options,
//! and check the suite's tidiness and the HTTP client's promises (its in-process
//! name resolution among them) in-process.

mod aksk;
mod client;
mod faults;
mod hostile;
mod options;
mod resolve;
mod run;
mod support;
mod tidy;
