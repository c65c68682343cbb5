//! The OpenAPI descriptions of both dialects (`fixtures/openapi/oms-v1.yaml`
//! and `oms-v2.yaml`). In process: the emulator serves them byte for byte,
//! as YAML, without credentials; they are OpenAPI 3.1 whose references all
//! resolve; they are true to the router in both directions (every route the
//! source declares is probed with every method, and a method is served exactly
//! when a document describes it); and every operation declares the one OMS
//! error body for its 4xx answers. Then schemathesis (pinned in
//! `schemathesis_requirements.txt`, in a cached venv, configured by
//! `schemathesis.toml`) runs against a live server for each document with its
//! server-error, status-code, content-type and response-schema checks: it must
//! exit 0 with no failed check and no 5xx, show a test case for every
//! operation, and in its stateful phase, following the documents' links, get
//! a 2xx from stop, start and delete. A negative control proves the same run
//! fails when a document and the server disagree.
//!
//! One file a topic: the documents themselves (`documents`), the documents
//! against the router (`routes`) and the schemathesis runs (`schemathesis`).
//! This module holds what they share: the fixtures and the walk over a
//! document's operations and references.

mod documents;
mod routes;
mod schemathesis;

use std::path::{Path, PathBuf};

use serde_json::Value;

/// The dialects, and the routes that serve their documents.
const DOCUMENTS: [(&str, &str); 2] = [("v1", "/openapi/v1.yaml"), ("v2", "/openapi/v2.yaml")];

/// The operation keys of an OpenAPI path item.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn fixture(dialect: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/openapi")
        .join(format!("oms-{dialect}.yaml"))
}

fn document(dialect: &str) -> Value {
    let path = fixture(dialect);
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    yaml_serde::from_str(&text).unwrap_or_else(|e| panic!("{} is not YAML: {e}", path.display()))
}

/// A reference's target, following `$ref` chains (local references only).
fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    let mut value = value;
    for _ in 0..16 {
        let Some(target) = value.get("$ref").and_then(Value::as_str) else {
            return value;
        };
        value = target
            .strip_prefix('#')
            .and_then(|pointer| doc.pointer(pointer))
            .unwrap_or_else(|| panic!("unresolvable $ref {target}"));
    }
    panic!("a $ref chain longer than 16");
}

/// Every operation of a document: (method in capitals, path template, its
/// path item, the operation).
fn operations(doc: &Value) -> Vec<(String, String, &Value, &Value)> {
    let paths = doc["paths"].as_object().expect("paths is an object");
    let mut out = Vec::new();
    for (path, item) in paths {
        for method in METHODS {
            if let Some(operation) = item.get(method) {
                out.push((method.to_uppercase(), path.clone(), item, operation));
            }
        }
    }
    out
}

/// Every `$ref` in `value`.
fn refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("$ref") {
                out.push(target.clone());
            }
            map.values().for_each(|v| refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

/// Whether `schema` is the OMS error body: its component, or an `allOf`
/// that includes it (the gateway's body, which requires `request_id`).
fn is_error_body(doc: &Value, schema: &Value) -> bool {
    let error_body = "#/components/schemas/ErrorBody";
    if schema.get("$ref").and_then(Value::as_str) == Some(error_body) {
        return true;
    }
    let schema = resolve(doc, schema);
    schema["allOf"]
        .as_array()
        .is_some_and(|parts| parts.iter().any(|p| is_error_body(doc, p)))
}
