//! The v2 dialect (`oms-v2-api.md`): every operation and every answer of §4,
//! paging and filters, the states 6 and 7, one store shared with v1, and the
//! requests real clients send (the SDK's exact bytes, Terraform's shape over
//! a raw socket). Answers are pinned by insta snapshots.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::{Value, json};

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
    assert_eq!(
        server
            .v2(Method::POST, &format!("/{id}/start"), V2_START)
            .await
            .status,
        StatusCode::OK
    );
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
    snap(
        "v2_delete_running",
        &server.v2(Method::DELETE, &format!("/{id}"), "").await,
    );
    snap(
        "v2_start_running",
        &server
            .v2(Method::POST, &format!("/{id}/start"), V2_START)
            .await,
    );
    // The stop ignores any body.
    let stopped = server
        .v2(Method::POST, &format!("/{id}/stop"), "{\"x\":1}")
        .await;
    snap("v2_stop_ok", &stopped);
    assert_eq!(server.v2_status(id).await, 7, "pausing");
    snap(
        "v2_delete_pausing",
        &server.v2(Method::DELETE, &format!("/{id}"), "").await,
    );
    snap(
        "v2_stop_pausing",
        &server.v2(Method::POST, &format!("/{id}/stop"), "").await,
    );
    expect(
        &server
            .v2(Method::POST, &format!("/{id}/start"), V2_START)
            .await,
        400,
        "OMS.0065",
        "start of a pausing task",
    );
    server.advance(PAUSE_MS);
    assert_eq!(server.v2_status(id).await, 3);
    expect(
        &server.v2(Method::POST, &format!("/{id}/stop"), "").await,
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
    snap(
        "v2_start_ok",
        &server
            .v2(Method::POST, &format!("/{id}/start"), V2_START)
            .await,
    );
    assert_eq!(
        server.v2_status(id).await,
        2,
        "a free slot: running again at once"
    );
    server.v2(Method::POST, &format!("/{id}/stop"), "").await;
    server.advance(PAUSE_MS);
    let deleted = server.v2(Method::DELETE, &format!("/{id}"), "").await;
    snap("v2_delete_ok", &deleted);
    assert!(deleted.bytes.is_empty());
    snap(
        "v2_delete_again",
        &server.v2(Method::DELETE, &format!("/{id}"), "").await,
    );
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
    snap(
        "v2_start_succeeded",
        &server
            .v2(Method::POST, &format!("/{done}/start"), V2_START)
            .await,
    );
}

#[tokio::test]
async fn malformed_ids_and_route_isolation() {
    let server = TestServer::new();
    let keep = server.v2_create("ok-source").await;
    server.advance(2_000);
    snap(
        "v2_delete_malformed",
        &server.v2(Method::DELETE, "/abc", "").await,
    );
    for segment in [
        "abc",
        "-1",
        "1.5",
        "1000000000000000",
        "%7Btask_id%7D",
        "a%20b%2Fc",
        "007",
    ] {
        for method in [Method::GET, Method::DELETE] {
            let reply = server.v2(method.clone(), &format!("/{segment}"), "").await;
            assert!(
                reply.status.is_client_error(),
                "{method} {segment}: {}",
                reply.status
            );
            assert!(!reply.error_code().is_empty(), "{method} {segment}");
        }
    }
    expect(
        &server.v2(Method::GET, "/abc", "").await,
        400,
        "OMS.0054",
        "GET malformed",
    );
    snap(
        "v2_delete_collection",
        &server.v2(Method::DELETE, "", "").await,
    );
    for rest in [
        "/batch-update".to_owned(),
        format!("/{keep}/stop"),
        format!("/{keep}/start"),
        format!("/{keep}/bandwidth-policy"),
    ] {
        expect(
            &server.v2(Method::DELETE, &rest, "").await,
            404,
            "APIGW.0101",
            &format!("DELETE {rest}"),
        );
    }
    assert_eq!(server.v2_status(keep).await, 5, "no route deleted the task");
}

#[tokio::test]
async fn create_validation() {
    let server = TestServer::new();
    let body: Value = serde_json::from_str(&v2_body("ok-source")).unwrap();
    let sdk_body = v2_body("ok-source");
    let with = |pointer: &str, value: Value| with_field(&sdk_body, pointer, value);
    let without = |field: &str| {
        let mut b = body.clone();
        b.as_object_mut().unwrap().remove(field);
        b.to_string()
    };
    let cases = [
        ("v2_create_not_json", "{not json".to_owned(), "OMS.1006"),
        ("v2_create_empty_body", String::new(), "OMS.1004"),
        (
            "v2_create_missing_dst_node",
            without("dst_node"),
            "OMS.1004",
        ),
        (
            "v2_create_description",
            with("/description", json!("a^b")),
            "OMS.0078",
        ),
        (
            "v2_create_bad_enum",
            with("/task_type", json!("everything")),
            "OMS.0064",
        ),
        (
            "v2_create_bad_cloud_type",
            with("/src_node/cloud_type", json!("Mars")),
            "OMS.0064",
        ),
        (
            "v2_create_long_ak",
            with("/dst_node/ak", json!("k".repeat(101))),
            "OMS.0064",
        ),
        (
            "v2_create_bandwidth_range",
            with("/bandwidth_policy/0/max_bandwidth", json!(1_048_575)),
            "OMS.0084",
        ),
    ];
    for (name, case, code) in cases {
        let reply = server.v2(Method::POST, "", &case).await;
        snap(name, &reply);
        assert_eq!(reply.error_code(), code, "{name}");
    }
    let missing_region = {
        let mut b = body.clone();
        b["dst_node"].as_object_mut().unwrap().remove("region");
        b.to_string()
    };
    expect(
        &server.v2(Method::POST, "", &missing_region).await,
        400,
        "OMS.1004",
        "dst_node.region",
    );
    let window = |start: &str, end: &str, max: u64| json!({"start": start, "end": end, "max_bandwidth": max});
    for (policy, code) in [
        (
            json!(
                (0..6)
                    .map(|h| window(&format!("0{h}:00"), &format!("0{h}:30"), 1_048_576))
                    .collect::<Vec<_>>()
            ),
            "OMS.0083",
        ),
        (json!([window("00:00", "01:00", 209_715_201)]), "OMS.0084"),
        (
            json!([
                window("01:00", "03:00", 1_048_576),
                window("02:00", "04:00", 1_048_576)
            ]),
            "OMS.0085",
        ),
        (json!([window("25:00", "03:00", 1_048_576)]), "OMS.0087"),
        (json!([window("03:00", "03:00", 1_048_576)]), "OMS.0087"),
    ] {
        let reply = server
            .v2(Method::POST, "", &with("/bandwidth_policy", policy.clone()))
            .await;
        expect(&reply, 400, code, &policy.to_string());
    }
    expect(
        &server
            .v2(Method::POST, "", &with("/migrate_since", json!(-1)))
            .await,
        400,
        "OMS.0064",
        "negative migrate_since",
    );
    let count = server.v2(Method::GET, "", "").await.json()["count"].clone();
    assert_eq!(count, 0, "refused creates store nothing");
}

#[tokio::test]
async fn bandwidth_policy_updates() {
    let server = TestServer::new();
    let id = server.v2_create("long-source").await;
    server.advance(150);
    let path = format!("/{id}/bandwidth-policy");
    // Exactly the SDK's bytes (§5.1); midnight UTC, so the window is open.
    let sdk =
        r#"{"bandwidth_policy": [{"end": "12:00", "max_bandwidth": 209715200, "start": "00:00"}]}"#;
    snap("v2_bandwidth_ok", &server.v2(Method::PUT, &path, sdk).await);
    let policy = |max: u64| {
        json!({"bandwidth_policy": [{"start": "00:00", "end": "12:00", "max_bandwidth": max}]})
            .to_string()
    };
    assert_eq!(
        server
            .v2(Method::PUT, &path, &policy(1_048_576))
            .await
            .status,
        StatusCode::OK
    );
    let task = server.v2_get(id).await.json();
    assert_eq!(task["migrate_speed"], 1_048_576);
    assert_eq!(
        task["bandwidth_policy"],
        json!([{"start": "00:00", "end": "12:00", "max_bandwidth": 1_048_576}])
    );
    snap(
        "v2_bandwidth_range",
        &server.v2(Method::PUT, &path, &policy(1)).await,
    );
    expect(
        &server.v2(Method::PUT, &path, "{}").await,
        400,
        "OMS.1004",
        "no bandwidth_policy",
    );
    let done = server.v2_create("ok-source").await;
    server.advance(2_000);
    let v1 = json!({"operation": "change_bandwidthpolicy",
        "bandwidth_policy": [{"start": "00:00", "end": "12:00", "max_bandwidth": 1_048_576}]});
    expect(
        &server.put(done, &v1.to_string()).await,
        400,
        "OMS.0086",
        "v1 policy of a succeeded task",
    );
    snap(
        "v2_bandwidth_complete",
        &server
            .v2(
                Method::PUT,
                &format!("/{done}/bandwidth-policy"),
                &policy(1_048_576),
            )
            .await,
    );
}

#[tokio::test]
async fn list_pages_counts_filters_and_order() {
    let server = TestServer::new();
    let mut ids = Vec::new();
    for _ in 0..25 {
        ids.push(server.v2_create("ok-source").await);
    }
    let long = server.v2_create("long-source").await;
    ids.push(long);
    // Five slots, 25 tasks of under a second each, then the long one.
    server.advance(20_000);
    let newest_first: Vec<u64> = ids.iter().rev().copied().collect();

    let first = server.v2(Method::GET, "", "").await.json();
    assert_eq!(
        ids_of(&first),
        newest_first[..10],
        "default limit 10, id descending"
    );
    assert_eq!(first["count"], 26);
    let mut seen = Vec::new();
    let mut offset = 0;
    loop {
        let page = server
            .v2(Method::GET, &format!("?limit=7&offset={offset}"), "")
            .await
            .json();
        assert_eq!(page["count"], 26, "count is the total, not the page");
        let page_ids = ids_of(&page);
        offset += page_ids.len();
        let short = page_ids.len() < 7;
        seen.extend(page_ids);
        if short {
            break;
        }
    }
    assert_eq!(seen, newest_first, "pages cover every task once, in order");
    let past = server.v2(Method::GET, "?offset=100", "").await.json();
    assert_eq!((ids_of(&past).len(), past["count"].clone()), (0, json!(26)));

    let running = server.v2(Method::GET, "?status=2", "").await.json();
    assert_eq!(
        (ids_of(&running), running["count"].clone()),
        (vec![long], json!(1))
    );
    let succeeded = server
        .v2(Method::GET, "?status=5&limit=100", "")
        .await
        .json();
    assert_eq!(succeeded["count"], 25);
    assert_eq!(ids_of(&succeeded).len(), 25);

    let needle = format!("oms-task-{}", ids[1]);
    let expected: Vec<u64> = newest_first
        .iter()
        .copied()
        .filter(|id| format!("oms-task-{id}").contains(&needle))
        .collect();
    let named = server
        .v2(Method::GET, &format!("?task_name={needle}&limit=100"), "")
        .await
        .json();
    assert_eq!(ids_of(&named), expected);
    assert_eq!(named["count"], expected.len());
    let grouped = server.v2(Method::GET, "?group_id=g-1", "").await.json();
    assert_eq!(
        grouped,
        json!({"tasks": [], "count": 0}),
        "no task here belongs to a group"
    );
    // The SDK's query with every field set (§5.1).
    let all = server
        .v2(
            Method::GET,
            "?group_id=g-1&limit=100&offset=0&status=2&task_name=oms",
            "",
        )
        .await;
    assert_eq!(all.status, StatusCode::OK);

    for (query, code) in [
        ("?limit=0", "OMS.0051"),
        ("?limit=101", "OMS.0051"),
        ("?limit=x", "OMS.0051"),
        ("?offset=-1", "OMS.0051"),
        ("?status=0", "OMS.0052"),
        ("?status=8", "OMS.0052"),
        ("?offset=2147483648", "OMS.0051"),
        ("?group_id=", "OMS.0064"),
    ] {
        let reply = server.v2(Method::GET, query, "").await;
        expect(&reply, 400, code, query);
    }
    let long_group = format!("?group_id={}", "g".repeat(101));
    expect(
        &server.v2(Method::GET, &long_group, "").await,
        400,
        "OMS.0064",
        "group_id of 101",
    );
    snap(
        "v2_list_bad_status",
        &server.v2(Method::GET, "?status=0", "").await,
    );
    snap(
        "v2_list_bad_limit",
        &server.v2(Method::GET, "?limit=101", "").await,
    );
}

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
    assert_eq!(
        server
            .v2(Method::POST, &format!("/{id}/stop"), "")
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(server.v2_status(id).await, 7);
    assert_eq!(server.status(id).await, 2, "v1 shows pausing as 2");
    assert_eq!(server.delete(id).await.error_code(), "OMS.0063");
    server.advance(PAUSE_MS);
    assert_eq!(server.status(id).await, 3);
    assert_eq!(
        server
            .v2(Method::DELETE, &format!("/{id}"), "")
            .await
            .status,
        StatusCode::OK
    );
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
    server.v2(Method::POST, &format!("/{first}/stop"), "").await;
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
    snap(
        "v2_delete_retrying",
        &server.v2(Method::DELETE, &format!("/{id}"), "").await,
    );
    expect(
        &server
            .v2(Method::POST, &format!("/{id}/start"), V2_START)
            .await,
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
    assert_eq!(
        server
            .v2(Method::POST, &format!("/{id}/stop"), "")
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(server.v2_status(id).await, 7);
    server.advance(PAUSE_MS);
    assert_eq!(server.v2_status(id).await, 3);
    assert_eq!(
        server
            .v2(Method::POST, &format!("/{id}/start"), V2_START)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        server.v2_status(id).await,
        6,
        "started again, it retries again"
    );
    server.v2(Method::POST, &format!("/{id}/stop"), "").await;
    server.advance(PAUSE_MS);
    assert_eq!(
        server
            .v2(Method::DELETE, &format!("/{id}"), "")
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_zero_pause_stops_at_once() {
    let server = TestServer::with_limits(oms_reference_server::Limits {
        pause_ms: 0,
        ..Default::default()
    });
    let id = server.v2_create("long-source").await;
    server.advance(150);
    server.v2(Method::POST, &format!("/{id}/stop"), "").await;
    assert_eq!(server.v2_status(id).await, 3);
    assert_eq!(
        server
            .v2(Method::DELETE, &format!("/{id}"), "")
            .await
            .status,
        StatusCode::OK
    );
}

/// The SDK's request (§5.1): every header it sends, signed the way it signs.
fn sdk_request(method: Method, path: &str, content_type: &str, body: &[u8]) -> Request<Body> {
    let headers = [
        ("user-agent", "huaweicloud-usdk-python/3.0"),
        ("content-type", content_type),
        ("x-project-id", PROJECT_A),
        ("x-sdk-date", SDK_NOW),
        ("host", "127.0.0.1:8080"),
    ];
    let mut request = Request::builder().method(method.clone()).uri(path);
    for (name, value) in headers {
        request = request.header(name, value);
    }
    request
        .header("accept", "*/*")
        .header("content-length", body.len())
        .header(
            "authorization",
            authorization(method.as_str(), path, &headers, body, "DUMMYSK", SDK_NOW),
        )
        .body(Body::from(body.to_vec()))
        .unwrap()
}

#[tokio::test]
async fn the_sdks_requests_are_accepted() {
    let server = TestServer::new();
    let tasks = format!("/v2/{PROJECT_A}/tasks");
    let utf8 = "application/json;charset=utf-8";
    let created = server
        .send(sdk_request(
            Method::POST,
            &tasks,
            utf8,
            v2_body("long-source").as_bytes(),
        ))
        .await;
    assert_eq!(
        created.status,
        StatusCode::OK,
        "{:?}",
        String::from_utf8_lossy(&created.bytes)
    );
    let id = created.json()["id"].as_u64().unwrap();
    server.advance(150);
    let task = format!("{tasks}/{id}");
    let shown = server
        .send(sdk_request(Method::GET, &task, "application/json", b""))
        .await;
    assert_eq!(shown.json()["status"], 2);
    let listed = server
        .send(sdk_request(
            Method::GET,
            &format!("{tasks}?limit=100&offset=0&status=2"),
            "application/json",
            b"",
        ))
        .await;
    assert_eq!(listed.json()["count"], 1);
    let stop = server
        .send(sdk_request(
            Method::POST,
            &format!("{task}/stop"),
            "application/json",
            b"",
        ))
        .await;
    assert_eq!(stop.status, StatusCode::OK);
    server.advance(PAUSE_MS);
    let start = server
        .send(sdk_request(
            Method::POST,
            &format!("{task}/start"),
            utf8,
            V2_START.as_bytes(),
        ))
        .await;
    assert_eq!(start.status, StatusCode::OK);
    server
        .send(sdk_request(
            Method::POST,
            &format!("{task}/stop"),
            "application/json",
            b"",
        ))
        .await;
    server.advance(PAUSE_MS);
    let deleted = server
        .send(sdk_request(Method::DELETE, &task, "application/json", b""))
        .await;
    assert_eq!(deleted.status, StatusCode::OK);
    assert!(deleted.bytes.is_empty());
    // An id the SDK sends percent-encoded, `%2F` included, is signed over the
    // decoded path: the signature holds and the id is refused as malformed.
    let odd = server
        .send(sdk_request(
            Method::DELETE,
            &format!("{tasks}/a%20b%2Fc"),
            "application/json",
            b"",
        ))
        .await;
    assert_eq!(
        (odd.status, odd.error_code()),
        (StatusCode::BAD_REQUEST, "OMS.0054".to_owned())
    );
}

#[tokio::test]
async fn an_x_project_id_of_another_project_is_forbidden() {
    let server = TestServer::new();
    let id = server.v2_create("ok-source").await;
    server.advance(2_000);
    let path = format!("/v2/{PROJECT_A}/tasks/{id}");
    let token = Request::builder()
        .method(Method::DELETE)
        .uri(&path)
        .header("x-auth-token", TOKEN_A)
        .header("x-project-id", PROJECT_B)
        .body(Body::empty())
        .unwrap();
    snap("v2_x_project_id_mismatch", &server.send(token).await);
    // Signed by the SDK with B's project in the header, on A's path.
    let headers = [
        ("content-type", "application/json"),
        ("x-project-id", PROJECT_B),
        ("x-sdk-date", SDK_NOW),
        ("host", "127.0.0.1:8080"),
    ];
    let mut signed = Request::builder().method(Method::DELETE).uri(&path);
    for (name, value) in headers {
        signed = signed.header(name, value);
    }
    let signed = signed
        .header(
            "authorization",
            authorization("DELETE", &path, &headers, b"", "DUMMYSK", SDK_NOW),
        )
        .body(Body::empty())
        .unwrap();
    expect(
        &server.send(signed).await,
        403,
        "OMS.0072",
        "AK/SK with another X-Project-Id",
    );
    assert_eq!(
        server.v2_status(id).await,
        5,
        "refused requests change nothing"
    );
    let matching = Request::builder()
        .method(Method::GET)
        .uri(&path)
        .header("x-auth-token", TOKEN_A)
        .header("x-project-id", PROJECT_A)
        .body(Body::empty())
        .unwrap();
    assert_eq!(server.send(matching).await.status, StatusCode::OK);
}

/// The server on a TCP listener, on the manual clock of a [`TestServer`], so
/// requests can be sent as raw bytes (what `oneshot` cannot show: a request
/// with neither `Content-Length` nor `Transfer-Encoding`).
struct TcpServer {
    addr: std::net::SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl TcpServer {
    async fn start(on: &TestServer) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let config = oms_reference_server::Config {
            clock: on.clock.clone(),
            ..Default::default()
        };
        let task = tokio::spawn(oms_reference_server::serve(listener, config, async {
            let _ = stopped.await;
        }));
        Self { addr, stop, task }
    }

    /// Sends `request` (which asks for `Connection: close`) and returns the
    /// status code and the whole answer.
    async fn exchange(&self, request: &str) -> (u16, String) {
        let (addr, request) = (self.addr, request.to_owned());
        // Blocking std I/O on a blocking thread: the answer is read to EOF
        // with a deadline, while the server runs on this test's runtime.
        let answer = tokio::task::spawn_blocking(move || {
            use std::io::{Read, Write};
            let mut stream = std::net::TcpStream::connect(addr).unwrap();
            stream
                .set_read_timeout(Some(std::time::Duration::from_secs(10)))
                .unwrap();
            stream.write_all(request.as_bytes()).unwrap();
            let mut answer = Vec::new();
            stream
                .read_to_end(&mut answer)
                .expect("the server answers and closes within 10 s");
            answer
        })
        .await
        .unwrap();
        let answer = String::from_utf8_lossy(&answer).into_owned();
        let status = answer
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        (status, answer)
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        self.task.await.unwrap().unwrap();
    }
}

/// Terraform's request (§5.2): no `Content-Type`, no `Content-Length`, no
/// body, `X-Project-Id` added after signing, so not among the signed headers.
fn terraform_request(method: &str, path: &str) -> String {
    let headers = [("host", "127.0.0.1:8080"), ("x-sdk-date", SDK_NOW)];
    let auth = authorization(method, path, &headers, b"", "DUMMYSK", SDK_NOW);
    format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nX-Sdk-Date: {SDK_NOW}\r\n\
         Authorization: {auth}\r\nAccept: application/json\r\nX-Project-Id: {PROJECT_A}\r\n\
         Connection: close\r\n\r\n"
    )
}

#[tokio::test]
async fn terraform_shaped_requests_are_accepted() {
    let clock = TestServer::new();
    let server = TcpServer::start(&clock).await;
    let body = v2_body("long-source");
    let path = format!("/v2/{PROJECT_A}/tasks");
    let headers = [("host", "127.0.0.1:8080"), ("x-sdk-date", SDK_NOW)];
    let create = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nX-Sdk-Date: {SDK_NOW}\r\n\
         Authorization: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         X-Project-Id: {PROJECT_A}\r\nConnection: close\r\n\r\n{body}",
        authorization("POST", &path, &headers, body.as_bytes(), "DUMMYSK", SDK_NOW),
        body.len()
    );
    let (status, answer) = server.exchange(&create).await;
    assert_eq!(status, 200, "{answer}");
    let id: u64 = answer
        .split("\"id\":")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .and_then(|id| id.parse().ok())
        .expect("an id in the create answer");
    clock.advance(150);
    let task = format!("{path}/{id}");
    let (status, answer) = server
        .exchange(&terraform_request("POST", &format!("{task}/stop")))
        .await;
    assert_eq!(status, 200, "stop: {answer}");
    clock.advance(PAUSE_MS);
    let (status, answer) = server.exchange(&terraform_request("DELETE", &task)).await;
    assert_eq!(status, 200, "delete: {answer}");
    let (status, answer) = server.exchange(&terraform_request("GET", &task)).await;
    assert_eq!(status, 400, "get: {answer}");
    assert!(answer.contains("OMS.1009"), "get: {answer}");
    server.stop().await;
}

/// Unknown fields are ignored at every level of every body of both dialects
/// (`oms-v2-api.md` §2.1: "A server should ignore unknown fields"), bandwidth
/// windows included.
#[tokio::test]
async fn unknown_fields_are_ignored_in_every_body() {
    let server = TestServer::new();
    let window =
        json!([{"start": "22:00", "end": "06:00", "max_bandwidth": 1_048_576, "note": "night"}]);
    let stored = json!([{"start": "22:00", "end": "06:00", "max_bandwidth": 1_048_576}]);

    let mut v1: Value = serde_json::from_str(RUNNING).unwrap();
    v1["extra"] = json!(1);
    v1["src_node"]["extra"] = json!("x");
    v1["dst_node"]["extra"] = json!(true);
    v1["bandwidth_policy"] = window.clone();
    let id = server.create(&v1.to_string()).await;
    assert_eq!(server.get(id).await.json()["bandwidth_policy"], stored);
    server.advance(150);
    let change =
        json!({"operation": "change_bandwidthpolicy", "bandwidth_policy": window, "extra": 1});
    for body in [
        change.to_string(),
        r#"{"operation": "stop", "extra": 1}"#.to_owned(),
    ] {
        expect_ok(&server.put(id, &body).await, &format!("v1 PUT {body}"));
    }
    assert_eq!(server.get(id).await.json()["bandwidth_policy"], stored);
    server.advance(PAUSE_MS);
    let start = with_field(START_KEYS, "/extra", json!(1));
    assert_eq!(server.put(id, &start).await.status, StatusCode::OK);

    let mut v2: Value = serde_json::from_str(&v2_body("long-source")).unwrap();
    v2["extra"] = json!(1);
    v2["src_node"]["extra"] = json!("x");
    v2["dst_node"]["extra"] = json!(true);
    v2["bandwidth_policy"] = window.clone();
    v2["source_cdn"] = json!({"domain": "cdn.example.com", "protocol": "https", "extra": 1});
    v2["smn_config"] =
        json!({"topic_urn": "urn:smn:x", "trigger_conditions": ["SUCCESS"], "extra": 1});
    let reply = server.v2(Method::POST, "", &v2.to_string()).await;
    expect_ok(&reply, "v2 create");
    let id = reply.json()["id"].as_u64().unwrap();
    assert_eq!(server.v2_get(id).await.json()["bandwidth_policy"], stored);
    server.advance(150);
    let policy = json!({"bandwidth_policy": window, "extra": 1}).to_string();
    let path = format!("/{id}/bandwidth-policy");
    assert_eq!(
        server.v2(Method::PUT, &path, &policy).await.status,
        StatusCode::OK
    );
    server.v2(Method::POST, &format!("/{id}/stop"), "").await;
    server.advance(PAUSE_MS);
    let start = with_field(V2_START, "/extra", json!(1));
    let reply = server
        .v2(Method::POST, &format!("/{id}/start"), &start)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
}

#[tokio::test]
async fn v2_empty_required_strings_are_missing() {
    let server = TestServer::new();
    let list = |list_file: Value| {
        let body = with_field(&v2_body("ok-source"), "/task_type", json!("list"));
        with_field(&body, "/src_node/list_file", list_file)
    };
    let window = |end: &str| json!([{"start": "00:00", "end": end, "max_bandwidth": 1_048_576}]);
    let cases = [
        (
            "v2_create_empty_list_file_key",
            list(json!({"list_file_key": "", "obs_bucket": "lists"})),
            "`src_node.list_file.list_file_key`",
        ),
        (
            "",
            list(json!({"list_file_key": "list.txt", "obs_bucket": ""})),
            "`src_node.list_file.obs_bucket`",
        ),
        (
            "v2_create_empty_window_time",
            with_field(&v2_body("ok-source"), "/bandwidth_policy", window("")),
            "`bandwidth_policy[0].end`",
        ),
    ];
    for (name, body, field) in cases {
        let reply = server.v2(Method::POST, "", &body).await;
        if !name.is_empty() {
            snap(name, &reply);
        }
        expect_naming(&reply, "OMS.1004", field, &body);
    }
    assert_eq!(server.v2(Method::GET, "", "").await.json()["count"], 0);
    let id = server.v2_create("long-source").await;
    let policy = json!({"bandwidth_policy": window("")}).to_string();
    expect(
        &server
            .v2(Method::PUT, &format!("/{id}/bandwidth-policy"), &policy)
            .await,
        400,
        "OMS.1004",
        "an empty window end",
    );
    assert_eq!(
        server.v2_get(id).await.json()["bandwidth_policy"],
        json!([])
    );
}

#[tokio::test]
async fn v2_integers_out_of_range_are_range_errors() {
    let server = TestServer::new();
    let with_max = |raw: &str| {
        v2_body("ok-source").replace(
            "\"max_bandwidth\": 1048576",
            &format!("\"max_bandwidth\": {raw}"),
        )
    };
    for raw in ["-1", "99999999999999999999999", "18446744073709551616", "0"] {
        let reply = server.v2(Method::POST, "", &with_max(raw)).await;
        if raw == "99999999999999999999999" {
            snap("v2_create_bandwidth_huge", &reply);
        }
        expect(&reply, 400, "OMS.0084", raw);
    }
    for raw in ["1048576.5", "\"fast\"", "null"] {
        let reply = server.v2(Method::POST, "", &with_max(raw)).await;
        expect_naming(
            &reply,
            "OMS.0064",
            "`bandwidth_policy[0].max_bandwidth`",
            raw,
        );
    }
    assert_eq!(server.v2(Method::GET, "", "").await.json()["count"], 0);
    let id = server.v2_create("long-source").await;
    let policy =
        r#"{"bandwidth_policy": [{"end": "12:00", "max_bandwidth": -5, "start": "00:00"}]}"#;
    expect(
        &server
            .v2(Method::PUT, &format!("/{id}/bandwidth-policy"), policy)
            .await,
        400,
        "OMS.0084",
        "a negative max_bandwidth",
    );
    assert_eq!(
        server.v2_get(id).await.json()["bandwidth_policy"],
        json!([])
    );
}

#[tokio::test]
async fn v2_empty_optional_strings_are_not_missing() {
    let server = TestServer::new();
    let id = server.v2_create("long-source").await;
    server.advance(150);
    for field in ["src_ak", "src_sk", "source_cdn_authentication_key"] {
        server.v2(Method::POST, &format!("/{id}/stop"), "").await;
        server.advance(PAUSE_MS);
        let start = with_field(V2_START, &format!("/{field}"), json!(""));
        let reply = server
            .v2(Method::POST, &format!("/{id}/start"), &start)
            .await;
        expect_ok(&reply, &format!("an empty {field}"));
    }
    let cdn = json!({"domain": "cdn.example.com", "protocol": "https",
        "authentication_type": "NONE", "authentication_key": ""});
    let with_cdn = with_field(&v2_body("ok-source"), "/source_cdn", cdn);
    expect_ok(
        &server.v2(Method::POST, "", &with_cdn).await,
        "an empty source_cdn.authentication_key",
    );
    let mut by_url: Value = serde_json::from_str(&v2_body("ok-source")).unwrap();
    by_url["task_type"] = json!("url_list");
    by_url["src_node"] = json!({"list_file": {"list_file_key": "urls.txt", "obs_bucket": "lists"}});
    let by_url = by_url.to_string();
    let long = with_field(&by_url, "/src_node/sk", json!("k".repeat(101)));
    let reply = server.v2(Method::POST, "", &long).await;
    snap("v2_create_url_list_long_sk", &reply);
    expect(
        &reply,
        400,
        "OMS.0064",
        "a url_list source key over 100 characters",
    );
    let short = with_field(&by_url, "/src_node/sk", json!(""));
    assert_eq!(
        server.v2(Method::POST, "", &short).await.status,
        StatusCode::OK
    );
    assert_eq!(server.v2(Method::GET, "", "").await.json()["count"], 3);
}
