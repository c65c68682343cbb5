//! One store behind both dialects: a task created in one is handled in the
//! other, and neither echoes a CDN authentication key.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::*;

#[tokio::test]
async fn a_task_created_in_v1_is_handled_in_v2() {
    let server = TestServer::new();
    let id = server.create(RUNNING).await;
    assert_eq!(server.status(id).await, 0);
    assert_eq!(server.v2_status(id).await, 1, "v1's 0 shows as 1 in v2");
    server.advance(150);
    let task = server.v2_get(id).await.json();
    assert_eq!(task["status"], 2);
    assert_eq!(
        task["dst_node"]["save_prefix"], "migrated/",
        "v1 object_key is v2 save_prefix"
    );
    assert_eq!(task["src_node"]["bucket"], "long-source");
    assert_eq!(server.v2_stop(id).await.status, StatusCode::OK);
    assert_eq!(server.v2_status(id).await, 7);
    assert_eq!(server.status(id).await, 2, "v1 shows pausing as 2");
    assert_eq!(server.delete(id).await.error_code(), "OMS.0063");
    server.advance(PAUSE_MS);
    assert_eq!(server.status(id).await, 3);
    assert_eq!(server.v2_delete(id).await.status, StatusCode::OK);
    assert_eq!(server.get(id).await.error_code(), "OMS.1009");
    assert_eq!(server.count().await, 0);
}

/// A v1 create body's `source_cdn` is stored opaque, but its
/// `authentication_key` is a secret: neither dialect's answer shows it.
#[tokio::test]
async fn a_cdn_authentication_key_is_never_echoed() {
    let server = TestServer::new();
    let mut body: Value = serde_json::from_str(RUNNING).expect("running body");
    body["source_cdn"] = serde_json::json!({
        "domain": "cdn.example.com",
        "protocol": "https",
        "authentication_type": "QINIU_PRIVATE_AUTHENTICATION",
        "authentication_key": "CDN-SECRET-KEY-1",
    });
    let id = server.create(&body.to_string()).await;
    let v1 = server.get(id).await;
    let v2 = server.v2_get(id).await;
    for (dialect, reply) in [("v1", &v1), ("v2", &v2)] {
        let task = reply.json();
        assert_eq!(task["source_cdn"]["domain"], "cdn.example.com", "{dialect}");
        assert!(
            !task.to_string().contains("CDN-SECRET-KEY-1"),
            "{dialect} echoes the CDN key: {task}"
        );
    }
}

#[tokio::test]
async fn a_task_created_in_v2_is_handled_in_v1() {
    let server = TestServer::new();
    let id = server.v2_create("long-source").await;
    server.advance(150);
    let task = server.get(id).await.json();
    assert_eq!(task["status"], 2);
    assert_eq!(task["dst_node"]["object_key"], "p/");
    assert_eq!(task["thread_num"], 0);
    let v1_count = server
        .call(Method::GET, "/task?totalcount=true&state=2", "")
        .await
        .json();
    assert_eq!(v1_count, json!({"taskcount": 1}));
    server.stop_and_settle(id).await;
    assert_eq!(server.v2_status(id).await, 3);
    assert_eq!(server.delete(id).await.status, StatusCode::OK);
    expect(
        &server.v2_get(id).await,
        400,
        "OMS.1009",
        "v2 show after a v1 delete",
    );
    assert_eq!(server.v2(Method::GET, "", "").await.json()["count"], 0);
}
