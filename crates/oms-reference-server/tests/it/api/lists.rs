//! The v1 list and count: their query's checks, pages and filters.

use axum::http::Method;
use serde_json::json;

use super::snap;
use crate::support::*;

#[tokio::test]
async fn list_and_count_validation() {
    let server = TestServer::new();
    snap(
        "list_limit_too_big",
        &server
            .call(Method::GET, "/task?start=0&limit=101", "")
            .await,
    );
    snap(
        "list_missing_start",
        &server.call(Method::GET, "/task?limit=10", "").await,
    );
    snap(
        "list_bad_state",
        &server
            .call(Method::GET, "/task?start=0&limit=10&state=9", "")
            .await,
    );
    snap(
        "list_negative_start",
        &server
            .call(Method::GET, "/task?start=-1&limit=10", "")
            .await,
    );
    snap(
        "count_bad_flag",
        &server.call(Method::GET, "/task?totalcount=maybe", "").await,
    );
}

#[tokio::test]
async fn list_pages_and_filters() {
    let server = TestServer::new();
    let ids: Vec<u64> = futures_ids(&server, 7).await;
    server.advance(5_000);
    let page = |start: usize, limit: usize| format!("/task?start={start}&limit={limit}");
    let first = server.call(Method::GET, &page(0, 4), "").await.json();
    let second = server.call(Method::GET, &page(4, 4), "").await.json();
    let seen: Vec<u64> = first
        .as_array()
        .unwrap()
        .iter()
        .chain(second.as_array().unwrap())
        .map(|t| t["id"].as_u64().unwrap())
        .collect();
    assert_eq!(seen, ids, "pages are in id order, without gaps or repeats");
    let succeeded = server
        .call(Method::GET, "/task?start=0&limit=100&state=5", "")
        .await
        .json();
    assert_eq!(succeeded.as_array().unwrap().len(), 7);
    let count = server
        .call(Method::GET, "/task?totalcount=true&state=5", "")
        .await
        .json();
    assert_eq!(count, json!({"taskcount": 7}));
}

async fn futures_ids(server: &TestServer, n: usize) -> Vec<u64> {
    let mut ids = Vec::new();
    for _ in 0..n {
        ids.push(server.create(SUCCEEDING).await);
    }
    ids
}
