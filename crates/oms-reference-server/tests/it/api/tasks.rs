//! A v1 task's operations and their answers: create, query, list, count and
//! the version; delete in every state; start and stop with their refusals.

use axum::http::{Method, StatusCode};

use super::snap;
use crate::support::*;

#[tokio::test]
async fn create_query_list_count_and_version() {
    let server = TestServer::new();
    let reply = server.call(Method::POST, "/task", RUNNING).await;
    snap("create", &reply);
    let id = reply.json()["id"].as_u64().unwrap();
    snap("query_initializing", &server.get(id).await);
    server.advance(1_100);
    let task = server.get(id).await;
    snap("query_running", &task);
    let body = task.json();
    assert!(
        body.get("ak").is_none()
            && !String::from_utf8_lossy(&task.bytes).contains("SRC-SK-EXAMPLE")
    );
    snap(
        "list",
        &server
            .call(Method::GET, "/task?start=0&limit=100", "")
            .await,
    );
    snap(
        "list_empty_page",
        &server
            .call(Method::GET, "/task?start=1&limit=100", "")
            .await,
    );
    snap(
        "count",
        &server.call(Method::GET, "/task?totalcount=true", "").await,
    );
    snap(
        "count_state",
        &server
            .call(Method::GET, "/task?totalcount=true&state=3", "")
            .await,
    );
    snap("version", &server.call(Method::GET, "/version", "").await);
}

#[tokio::test]
async fn delete_answers() {
    let server = TestServer::new();
    let running = server.running_task().await;
    snap("delete_running", &server.delete(running).await);
    assert_eq!(
        server.status(running).await,
        2,
        "a refused delete changes nothing"
    );

    assert_eq!(
        server.put(running, r#"{"operation":"stop"}"#).await.status,
        StatusCode::OK
    );
    // Pausing: v1 shows it as running, and refuses its delete the same way.
    assert_eq!(server.status(running).await, 2);
    assert_eq!(server.delete(running).await.error_code(), "OMS.0063");
    server.advance(PAUSE_MS);
    assert_eq!(server.status(running).await, 3);
    let deleted = server.delete(running).await;
    snap("delete_ok", &deleted);
    assert!(deleted.bytes.is_empty());
    snap("delete_again", &server.delete(running).await);
    assert_eq!(server.get(running).await.error_code(), "OMS.1009");
    snap("delete_missing", &server.delete(999_999).await);
    snap(
        "delete_malformed",
        &server.call(Method::DELETE, "/task/abc", "").await,
    );
}

#[tokio::test]
async fn every_non_running_state_is_deletable() {
    let server = TestServer::with_limits(oms_reference_server::Limits {
        max_parallel: 1,
        ..Default::default()
    });
    let initializing = server.create(RUNNING).await;
    assert_eq!(server.status(initializing).await, 0);
    assert_eq!(server.delete(initializing).await.status, StatusCode::OK);

    let running = server.running_task().await;
    let waiting = server.create(RUNNING).await;
    server.advance(150);
    assert_eq!(server.status(waiting).await, 1, "the only slot is taken");
    assert_eq!(server.delete(waiting).await.status, StatusCode::OK);
    assert_eq!(
        server.put(running, r#"{"operation":"stop"}"#).await.status,
        StatusCode::OK
    );

    let ok = server.create(SUCCEEDING).await;
    let bad = server.create(FAILING).await;
    server.advance(5_000);
    assert_eq!(server.status(ok).await, 5);
    assert_eq!(server.status(bad).await, 4);
    assert_eq!(server.status(running).await, 3);
    for id in [ok, bad, running] {
        assert_eq!(server.delete(id).await.status, StatusCode::OK, "task {id}");
    }
    assert_eq!(server.count().await, 0);
}

#[tokio::test]
async fn start_and_stop_answers() {
    let server = TestServer::new();
    let id = server.running_task().await;
    snap("start_running", &server.put(id, START_KEYS).await);
    snap("stop_ok", &server.put(id, r#"{"operation":"stop"}"#).await);
    // Pausing: neither stopped again nor started, until the pause has passed.
    assert_eq!(
        server.put(id, r#"{"operation":"stop"}"#).await.error_code(),
        "OMS.0066"
    );
    assert_eq!(server.put(id, START_KEYS).await.error_code(), "OMS.0065");
    server.advance(PAUSE_MS);
    snap(
        "stop_stopped",
        &server.put(id, r#"{"operation":"stop"}"#).await,
    );
    snap(
        "start_missing_keys",
        &server
            .put(id, r#"{"operation":"start","source_ak":"a"}"#)
            .await,
    );
    snap("start_ok", &server.put(id, START_KEYS).await);
    server.advance(10);
    assert_eq!(server.status(id).await, 2, "a started task resumes");

    let done = server.create(SUCCEEDING).await;
    server.advance(5_000);
    snap("start_succeeded", &server.put(done, START_KEYS).await);
    snap(
        "unknown_operation",
        &server.put(done, r#"{"operation":"explode"}"#).await,
    );
    snap("operation_missing", &server.put(done, r#"{}"#).await);
    snap(
        "put_missing_task",
        &server.put(424_242, r#"{"operation":"stop"}"#).await,
    );
}
