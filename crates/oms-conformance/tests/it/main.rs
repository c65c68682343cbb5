//! Integration tests of the harness: ordinary `#[test]`s that run the built
//! `oms-conformance` binary against the embedded reference server, against
//! deliberately wrong servers (negative controls, the reference server with each
//! injected fault: the kill matrix), against hostile targets, with bad options,
//! and check the suite's tidiness and the HTTP client's promises in-process;
//! and the reports beyond the verdicts: provenance, `summary.md`, `compare`.

mod aksk;
mod client;
mod compare;
mod faults;
mod front_doors;
mod hostile;
mod options;
mod provenance;
mod run;
mod summary;
mod support;
mod tidy;
