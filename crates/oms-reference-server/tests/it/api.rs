//! Every operation and every documented answer of the API, each pinned by an
//! insta snapshot of status, content headers and body (request id redacted).
//!
//! One file a topic, below `api/`. [`snap`] stays in this file rather than
//! in `api/mod.rs`: insta names a snapshot after the module that calls its
//! macro and keeps it beside the file that calls it, so here every snapshot
//! stays `it__api__…` in `snapshots/`.

mod bodies;
mod gateway;
mod lists;
mod settings;
mod tasks;

use crate::support::*;

fn snap(name: &str, reply: &Reply) {
    insta::assert_json_snapshot!(name, reply.snapshot());
}
