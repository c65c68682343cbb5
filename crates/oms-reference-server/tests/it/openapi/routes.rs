//! The documents true to the router in both directions: every route the
//! source declares is probed with every method, and a method is served
//! exactly when a document describes it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use axum::http::{Method, StatusCode};

use super::{DOCUMENTS, document, operations};
use crate::support::{PROJECT_A, SUCCEEDING, TOKEN_A, TestServer};

/// The methods probed on every route: the four the API uses, and two it
/// does not. `HEAD` is left out: axum answers it on every `GET` route as the
/// `GET` without a body (RFC 9110 §9.3.2), as the documents say.
const PROBED: [&str; 6] = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"];

/// The route templates the server's source declares (`.route("…", …)` in
/// `src/api/`): the list the documents are checked against, so a route
/// added without its description fails here.
fn source_routes() -> BTreeSet<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/api");
    let mut routes = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).expect("read src/api") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("read a source file");
        for (at, _) in text.match_indices(".route(") {
            let literal = text[at..]
                .split('"')
                .nth(1)
                .expect("a route's path is a string literal");
            routes.insert(literal.to_owned());
        }
    }
    routes
}

/// A route template made concrete: project A, and `task` for a task id.
fn concrete(template: &str, task: u64) -> String {
    template
        .replace("{project_id}", PROJECT_A)
        .replace("{task_id}", &task.to_string())
}

/// Whether the router serves `method` on `path`: anything but its
/// route-not-found 404 `APIGW.0101` and its 405.
async fn served(server: &TestServer, method: &str, path: &str) -> bool {
    let method = Method::from_bytes(method.as_bytes()).expect("a method");
    let reply = server.raw(method, path, Some(TOKEN_A), b"{}").await;
    let route_not_found =
        reply.status == StatusCode::NOT_FOUND && reply.error_code() == "APIGW.0101";
    !(route_not_found || reply.status == StatusCode::METHOD_NOT_ALLOWED)
}

#[tokio::test]
async fn every_route_served_is_described_and_every_operation_described_is_served() {
    // What the documents describe, plus the documents themselves.
    let mut described: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (dialect, route) in DOCUMENTS {
        let doc = document(dialect);
        for (method, path, _, _) in operations(&doc) {
            described.entry(path).or_default().insert(method);
        }
        described
            .entry(route.to_owned())
            .or_default()
            .insert("GET".to_owned());
    }
    // The routes the source declares; those beyond the documents' paths are
    // the two documents and the v2 route the emulator refuses on purpose.
    let routes = source_routes();
    let undescribed: BTreeSet<&str> = routes
        .iter()
        .filter(|r| !described.contains_key(r.as_str()))
        .map(String::as_str)
        .collect();
    assert_eq!(
        undescribed,
        BTreeSet::from(["/v2/{project_id}/tasks/batch-update"]),
        "routes in src/api/ that no document describes (batch-update alone is expected: it \
         answers 404 to every method, as the v2 document says)"
    );
    let unrouted: Vec<&String> = described.keys().filter(|p| !routes.contains(*p)).collect();
    assert!(
        unrouted.is_empty(),
        "paths the documents describe that src/api/ does not route: {unrouted:?}"
    );

    let server = TestServer::new();
    let task = server.create(SUCCEEDING).await;
    let mut wrong = Vec::new();
    for template in &routes {
        let expected = described.get(template).cloned().unwrap_or_default();
        for method in PROBED {
            let path = concrete(template, task);
            let is_served = served(&server, method, &path).await;
            if is_served != expected.contains(method) {
                wrong.push(format!(
                    "{method} {template}: {} but {}",
                    if is_served { "served" } else { "not served" },
                    if expected.contains(method) {
                        "described"
                    } else {
                        "not described"
                    }
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "the router and the documents disagree:\n  {}",
        wrong.join("\n  ")
    );
    let probed_ops: usize = described.values().map(BTreeSet::len).sum();
    assert!(probed_ops >= 15, "too few operations probed: {described:?}");
}
