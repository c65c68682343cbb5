//! Integration tests of the harness: ordinary `#[test]`s that run the built
//! `oms-conformance` binary against the embedded reference server, against
//! deliberately wrong servers (negative controls, the reference server with each
//! injected fault: the kill matrix), against hostile targets, with bad options,
//! and check the suite's tidiness and the HTTP client's promises (its in-process
//! name resolution among them) in-process; the reports beyond the verdicts
//! (provenance, `summary.md`, `compare`); and the CI front doors' shell steps.

mod aksk;
mod client;
mod compare;
mod docs;
mod faults;
mod front_doors;
mod hostile;
mod options;
mod provenance;
mod resolve;
mod run;
mod summary;
mod support;
mod tidy;
