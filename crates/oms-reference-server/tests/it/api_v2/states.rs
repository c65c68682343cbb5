//! The states v2 adds: pausing (7), which holds its slot and counts as
//! running in v1, retrying (6), which lasts until a stop, and a zero pause.

use axum::http::{Method, StatusCode};
use serde_json::json;

use super::{ids_of, snap};
use crate::support::*;

#[tokio::test]
async fn pausing_holds_the_slot_and_counts_as_running_in_v1() {
    let server = TestServer::with_limits(oms_reference_server::Limits {
        max_parallel: 1,
        ..Default::default()
    });
    let first = server.v2_create("long-source").await;
    let second = server.v2_create("long-source").await;
    server.advance(150);
    assert_eq!(
        (
            server.v2_status(first).await,
            server.v2_status(second).await
        ),
        (2, 1)
    );
    server.v2_stop(first).await;
    assert_eq!(
        server.v2_status(second).await,
        1,
        "the pausing task keeps its slot"
    );
    let pausing = server.v2(Method::GET, "?status=7", "").await.json();
    assert_eq!(
        (ids_of(&pausing), pausing["count"].clone()),
        (vec![first], json!(1))
    );
    let v1_running = server
        .call(Method::GET, "/task?totalcount=true&state=2", "")
        .await
        .json();
    assert_eq!(v1_running, json!({"taskcount": 1}));
    server.advance(PAUSE_MS);
    assert_eq!(
        (
            server.v2_status(first).await,
            server.v2_status(second).await
        ),
        (3, 2)
    );
}

#[tokio::test]
async fn a_retry_source_retries_until_stopped() {
    let server = TestServer::new();
    let id = server.v2_create("retry-source").await;
    server.advance(150);
    let task = server.v2_get(id).await.json();
    assert_eq!(task["status"], 6);
    server.advance(60_000);
    let later = server.v2_get(id).await.json();
    assert_eq!(
        later["status"], 6,
        "it retries for as long as it is scheduled"
    );
    assert_eq!(
        (
            later["complete_size"].clone(),
            later["migrate_speed"].clone()
        ),
        (json!(0), json!(0))
    );
    snap("v2_delete_retrying", &server.v2_delete(id).await);
    expect(
        &server.v2_start(id).await,
        400,
        "OMS.0065",
        "start retrying",
    );
    assert_eq!(server.status(id).await, 2, "v1 shows retrying as 2");
    let v1_running = server
        .call(Method::GET, "/task?totalcount=true&state=2", "")
        .await
        .json();
    assert_eq!(
        v1_running,
        json!({"taskcount": 1}),
        "v1 state=2 includes retrying"
    );
    assert_eq!(
        server.v2(Method::GET, "?status=6", "").await.json()["count"],
        1
    );
    assert_eq!(server.v2_stop(id).await.status, StatusCode::OK);
    assert_eq!(server.v2_status(id).await, 7);
    server.advance(PAUSE_MS);
    assert_eq!(server.v2_status(id).await, 3);
    assert_eq!(server.v2_start(id).await.status, StatusCode::OK);
    assert_eq!(
        server.v2_status(id).await,
        6,
        "started again, it retries again"
    );
    server.v2_stop(id).await;
    server.advance(PAUSE_MS);
    assert_eq!(server.v2_delete(id).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_zero_pause_stops_at_once() {
    let server = TestServer::with_limits(oms_reference_server::Limits {
        pause_ms: 0,
        ..Default::default()
    });
    let id = server.v2_create("long-source").await;
    server.advance(150);
    server.v2_stop(id).await;
    assert_eq!(server.v2_status(id).await, 3);
    assert_eq!(server.v2_delete(id).await.status, StatusCode::OK);
}
