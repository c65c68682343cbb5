//! The v2 dialect (`oms-v2-api.md`): every operation and every answer of §4,
//! paging and filters, the states 6 and 7, one store shared with v1, and the
//! requests real clients send (the SDK's exact bytes, Terraform's shape over
//! a raw socket). Answers are pinned by insta snapshots.
//!
//! One file a topic, below `api_v2/`. The helpers they share stay in this
//! file rather than in `api_v2/mod.rs`: insta names a snapshot after the
//! module that calls its macro and keeps it beside the file that calls it,
//! so [`snap`] here keeps every snapshot `it__api_v2__…` in `snapshots/`.

mod bodies;
mod clients;
mod dialects;
mod lists;
mod routes;
mod settings;
mod states;
mod tasks;

use serde_json::Value;

use crate::support::*;

fn snap(name: &str, reply: &Reply) {
    insta::assert_json_snapshot!(name, reply.snapshot());
}

fn ids_of(page: &Value) -> Vec<u64> {
    page["tasks"]
        .as_array()
        .expect("a tasks array")
        .iter()
        .map(|t| t["id"].as_u64().expect("id"))
        .collect()
}
