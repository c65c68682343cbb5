//! A v2 task's life through the API: create, show and list, the task object
//! as create stated it, a failure's reason, and stop, start and delete with
//! their refusals.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::snap;
use crate::support::*;

#[tokio::test]
async fn create_show_and_list() {
    let server = TestServer::new();
    let created = server.v2(Method::POST, "", &v2_body("long-source")).await;
    snap("v2_create", &created);
    let id = created.json()["id"].as_u64().unwrap();
    assert_eq!(created.json()["task_name"], format!("oms-task-{id}"));
    let initializing = server.v2_get(id).await;
    assert_eq!(
        initializing.json()["status"],
        1,
        "v2 shows initializing as 1"
    );
    let waiting = server.v2(Method::GET, "?status=1", "").await.json();
    assert_eq!(waiting["count"], 1, "status=1 includes initializing");
    server.advance(1_100);
    let task = server.v2_get(id).await;
    snap("v2_show_running", &task);
    let text = String::from_utf8_lossy(&task.bytes);
    for secret in ["SRCAK", "SRCSK", "DSTAK", "DSTSK"] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
    snap("v2_list", &server.v2(Method::GET, "", "").await);
}

#[tokio::test]
async fn the_task_object_keeps_what_create_said() {
    let server = TestServer::new();
    let mut body: Value = serde_json::from_str(&v2_body("ok-source")).unwrap();
    body.as_object_mut().unwrap().remove("bandwidth_policy");
    body["migrate_since"] = json!(1_700_000_000);
    body["object_overwrite_mode"] = json!("CRC64_COMPARISON_OVERWRITE");
    body["dst_storage_policy"] = json!("IA");
    body["consistency_check"] = json!("crc64");
    body["task_priority"] = json!("HIGH");
    body["enable_restore"] = json!(true);
    body["enable_kms"] = json!(true); // unknown in SDK 3.1.219: ignored
    body["source_cdn"] = json!({"domain": "cdn.example.com", "protocol": "https",
        "authentication_type": "NONE", "authentication_key": "CDNSECRET"});
    let created = server.v2(Method::POST, "", &body.to_string()).await;
    assert_eq!(created.status, StatusCode::OK);
    let id = created.json()["id"].as_u64().unwrap();
    server.advance(2_000);
    let task = server.v2_get(id).await;
    snap("v2_show_succeeded_with_settings", &task);
    assert!(!String::from_utf8_lossy(&task.bytes).contains("CDNSECRET"));
    let task = task.json();
    assert_eq!(
        task["migrate_since"], 1_700_000_000_000u64,
        "seconds in, ms out"
    );
    assert_eq!(task["status"], 5);
    assert_eq!(task["successful_num"], task["total_num"]);
}

#[tokio::test]
async fn failed_tasks_show_their_reason() {
    let server = TestServer::new();
    let id = server.v2_create("fail-source").await;
    server.advance(2_000);
    let task = server.v2_get(id).await.json();
    assert_eq!(task["status"], 4);
    assert_eq!(task["error_reason"]["error_code"], "OMS.0031");
    assert_eq!(task["failed_num"], 1);
    assert_eq!(server.v2_start(id).await.status, StatusCode::OK);
    server.advance(2_000);
    let task = server.v2_get(id).await.json();
    assert_eq!(task["status"], 5);
    assert_eq!(task["error_reason"], Value::Null);
}

#[tokio::test]
async fn stop_start_delete_and_their_refusals() {
    let server = TestServer::new();
    let id = server.v2_create("long-source").await;
    server.advance(150);
    assert_eq!(server.v2_status(id).await, 2);
    snap("v2_delete_running", &server.v2_delete(id).await);
    snap("v2_start_running", &server.v2_start(id).await);
    // The stop ignores any body.
    let stopped = server
        .v2(Method::POST, &format!("/{id}/stop"), "{\"x\":1}")
        .await;
    snap("v2_stop_ok", &stopped);
    assert_eq!(server.v2_status(id).await, 7, "pausing");
    snap("v2_delete_pausing", &server.v2_delete(id).await);
    snap("v2_stop_pausing", &server.v2_stop(id).await);
    expect(
        &server.v2_start(id).await,
        400,
        "OMS.0065",
        "start of a pausing task",
    );
    server.advance(PAUSE_MS);
    assert_eq!(server.v2_status(id).await, 3);
    expect(
        &server.v2_stop(id).await,
        400,
        "OMS.0066",
        "stop of a stopped task",
    );
    snap(
        "v2_start_missing_keys",
        &server
            .v2(Method::POST, &format!("/{id}/start"), r#"{"src_ak": "a"}"#)
            .await,
    );
    expect(
        &server.v2(Method::POST, &format!("/{id}/start"), "").await,
        400,
        "OMS.1004",
        "start without a body",
    );
    expect(
        &server
            .v2(
                Method::POST,
                &format!("/{id}/start"),
                &format!(r#"{{"dst_ak": "{}", "dst_sk": "k"}}"#, "a".repeat(101)),
            )
            .await,
        400,
        "OMS.0064",
        "start with a key over 100 characters",
    );
    snap("v2_start_ok", &server.v2_start(id).await);
    assert_eq!(
        server.v2_status(id).await,
        2,
        "a free slot: running again at once"
    );
    server.v2_stop(id).await;
    server.advance(PAUSE_MS);
    let deleted = server.v2_delete(id).await;
    snap("v2_delete_ok", &deleted);
    assert!(deleted.bytes.is_empty());
    snap("v2_delete_again", &server.v2_delete(id).await);
    snap("v2_show_missing", &server.v2_get(id).await);
    for (method, rest, body) in [
        (Method::POST, format!("/{id}/stop"), ""),
        (Method::POST, format!("/{id}/start"), V2_START),
        (
            Method::PUT,
            format!("/{id}/bandwidth-policy"),
            r#"{"bandwidth_policy": []}"#,
        ),
    ] {
        expect(
            &server.v2(method.clone(), &rest, body).await,
            400,
            "OMS.1009",
            &format!("{method} {rest}"),
        );
    }

    let done = server.v2_create("ok-source").await;
    server.advance(2_000);
    snap("v2_start_succeeded", &server.v2_start(done).await);
}
