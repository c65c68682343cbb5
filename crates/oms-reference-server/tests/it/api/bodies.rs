//! The v1 request bodies refused and accepted: the create body's checks,
//! errors that name their field, the documented cloud types, empty required
//! strings missing, integers out of range, empty optional strings accepted
//! (the settings objects and `null` are `settings`).

use axum::http::Method;
use serde_json::json;

use super::snap;
use crate::support::*;

#[tokio::test]
async fn create_validation() {
    let server = TestServer::new();
    let mut body: serde_json::Value = serde_json::from_str(SUCCEEDING).unwrap();
    let cases = [
        (
            "create_missing_field",
            json!({"src_node": body["src_node"], "dst_node": body["dst_node"], "enableKMS": false}),
        ),
        ("create_thread_num", {
            let mut b = body.clone();
            b["thread_num"] = json!(51);
            b
        }),
        ("create_description", {
            let mut b = body.clone();
            b["description"] = json!("<script>");
            b
        }),
        ("create_wrong_type", {
            let mut b = body.clone();
            b["enableKMS"] = json!("yes");
            b
        }),
        ("create_bandwidth_overlap", {
            let mut b = body.clone();
            b["bandwidth_policy"] = json!([
            {"start":"01:00","end":"03:00","max_bandwidth":5_242_880},
            {"start":"02:00","end":"04:00","max_bandwidth":5_242_880}]);
            b
        }),
        ("create_long_ak", {
            let mut b = body.clone();
            b["dst_node"]["ak"] = json!("k".repeat(101));
            b
        }),
    ];
    for (name, case) in cases {
        snap(
            name,
            &server.call(Method::POST, "/task", &case.to_string()).await,
        );
    }
    snap(
        "create_not_json",
        &server.call(Method::POST, "/task", "{not json").await,
    );
    snap(
        "create_empty_body",
        &server.call(Method::POST, "/task", "").await,
    );
    let huge = format!(r#"{{"description":"{}"}}"#, "x".repeat(70 * 1024));
    snap(
        "create_too_large",
        &server.call(Method::POST, "/task", &huge).await,
    );

    body["bandwidth_policy"] = json!([{"start":"22:00","end":"06:00","max_bandwidth":5_242_880}]);
    let id = server.create(&body.to_string()).await;
    assert_eq!(
        server.get(id).await.json()["bandwidth_policy"],
        json!([{"start":"22:00","end":"06:00","max_bandwidth":5_242_880}])
    );
    assert_eq!(server.count().await, 1, "refused creates store nothing");
}

/// A create body with its `thread_num` written as `raw`, verbatim: a JSON
/// value cannot hold an integer past 64 bits.
fn with_thread_num(raw: &str) -> String {
    let body = SUCCEEDING.replace("\"thread_num\": 5", &format!("\"thread_num\": {raw}"));
    assert_ne!(body, SUCCEEDING, "the fixture states thread_num 5");
    body
}

#[tokio::test]
async fn body_errors_name_the_field() {
    let server = TestServer::new();
    let id = server.running_task().await;
    server.stop_and_settle(id).await;
    let start = with_field(START_KEYS, "/source_ak", json!(5));
    let policy = json!({"operation": "change_bandwidthpolicy",
        "bandwidth_policy": [{"start": "00:00", "end": "01:00", "max_bandwidth": "fast"}]});
    let nested = with_field(SUCCEEDING, "/src_node/region", json!(5));
    let mut missing: serde_json::Value = serde_json::from_str(SUCCEEDING).unwrap();
    missing["src_node"]
        .as_object_mut()
        .unwrap()
        .remove("region");
    let cases = [
        (
            "put_start_wrong_type",
            server.put(id, &start).await,
            "OMS.0064",
            "`source_ak`",
        ),
        (
            "put_bandwidth_wrong_type",
            server.put(id, &policy.to_string()).await,
            "OMS.0064",
            "`bandwidth_policy[0].max_bandwidth`",
        ),
        (
            "create_nested_wrong_type",
            server.call(Method::POST, "/task", &nested).await,
            "OMS.0064",
            "`src_node.region`",
        ),
        (
            "create_nested_missing_field",
            server
                .call(Method::POST, "/task", &missing.to_string())
                .await,
            "OMS.1004",
            "`src_node.region`",
        ),
    ];
    for (name, reply, code, field) in cases {
        snap(name, &reply);
        expect_naming(&reply, code, field, name);
    }
    let task = server.get(id).await.json();
    assert_eq!(
        (task["status"].clone(), task["bandwidth_policy"].clone()),
        (json!(3), json!([])),
        "refused PUTs change nothing"
    );
    assert_eq!(server.count().await, 1, "refused creates store nothing");
}

/// The cloud types of `oms-v1-api.md` §2.
const V1_CLOUD_TYPES: [&str; 9] = [
    "AWS",
    "Aliyun",
    "Tencent",
    "HuaweiCloud",
    "QingCloud",
    "KingsoftCloud",
    "Baidu",
    "Qiniu",
    "URLSource",
];

#[tokio::test]
async fn create_refuses_undocumented_cloud_types() {
    let server = TestServer::new();
    for (name, pointer) in [
        ("create_bad_cloud_type", "/src_node/cloud_type"),
        ("create_bad_dst_cloud_type", "/dst_node/cloud_type"),
    ] {
        let reply = server
            .call(
                Method::POST,
                "/task",
                &with_field(SUCCEEDING, pointer, json!("Mars")),
            )
            .await;
        snap(name, &reply);
        expect(&reply, 400, "OMS.0064", pointer);
        // Case matters; empty is no cloud type; Azure is documented for v2 only.
        for other in ["aws", "", "Azure"] {
            let body = with_field(SUCCEEDING, pointer, json!(other));
            let reply = server.call(Method::POST, "/task", &body).await;
            expect(&reply, 400, "OMS.0064", &format!("{pointer} {other:?}"));
        }
    }
    assert_eq!(server.count().await, 0, "refused creates store nothing");
    for cloud_type in V1_CLOUD_TYPES {
        for node in ["src_node", "dst_node"] {
            let body = with_field(
                SUCCEEDING,
                &format!("/{node}/cloud_type"),
                json!(cloud_type),
            );
            let id = server.create(&body).await;
            assert_eq!(server.get(id).await.json()[node]["cloud_type"], cloud_type);
        }
    }
}

#[tokio::test]
async fn empty_required_strings_are_missing() {
    let server = TestServer::new();
    let object_key = |key: serde_json::Value| with_field(SUCCEEDING, "/src_node/object_key", key);
    let list = |list_file: serde_json::Value| {
        let body = with_field(SUCCEEDING, "/task_type", json!("list"));
        with_field(&body, "/src_node/list_file", list_file)
    };
    let window =
        |start: &str| json!([{"start": start, "end": "06:00", "max_bandwidth": 1_048_576}]);
    let cases = [
        (
            "create_empty_object_key",
            object_key(json!("")),
            "`src_node.object_key`",
        ),
        ("", object_key(json!([""])), "`src_node.object_key`"),
        (
            "",
            object_key(json!(["archive/", ""])),
            "`src_node.object_key`",
        ),
        (
            "",
            object_key(json!({"path": "archive/", "keys": [""]})),
            "`src_node.object_key`",
        ),
        (
            "create_empty_list_file_key",
            list(json!({"obs_bucket": "lists", "list_file_key": ""})),
            "`src_node.list_file.list_file_key`",
        ),
        (
            "",
            list(json!({"obs_bucket": "", "list_file_key": "list.txt"})),
            "`src_node.list_file.obs_bucket`",
        ),
        (
            "create_empty_window_time",
            with_field(SUCCEEDING, "/bandwidth_policy", window("")),
            "`bandwidth_policy[0].start`",
        ),
    ];
    for (name, body, field) in cases {
        let reply = server.call(Method::POST, "/task", &body).await;
        if !name.is_empty() {
            snap(name, &reply);
        }
        expect_naming(&reply, "OMS.1004", field, &body);
    }
    assert_eq!(server.count().await, 0, "refused creates store nothing");
    let id = server
        .create(&list(
            json!({"obs_bucket": "lists", "list_file_key": "list.txt"}),
        ))
        .await;
    let change = json!({"operation": "change_bandwidthpolicy", "bandwidth_policy": window("")});
    let reply = server.put(id, &change.to_string()).await;
    expect(&reply, 400, "OMS.1004", "PUT with an empty window start");
    assert_eq!(server.get(id).await.json()["bandwidth_policy"], json!([]));
}

#[tokio::test]
async fn integers_out_of_range_are_range_errors() {
    let server = TestServer::new();
    for raw in [
        "99999999999999999999999",
        "9223372036854775808",
        "18446744073709551616",
        "-1",
        "-99999999999999999999999",
        "51",
    ] {
        let reply = server
            .call(Method::POST, "/task", &with_thread_num(raw))
            .await;
        if raw == "99999999999999999999999" {
            snap("create_thread_num_huge", &reply);
        }
        expect(&reply, 400, "OMS.0059", raw);
    }
    // A number with a fraction or an exponent is no integer: a wrong type,
    // like any other field's.
    for raw in ["5.5", "5.0", "1e2", "\"5\"", "true", "null", "[5]"] {
        let reply = server
            .call(Method::POST, "/task", &with_thread_num(raw))
            .await;
        if raw == "5.5" {
            snap("create_thread_num_float", &reply);
        }
        expect_naming(&reply, "OMS.0064", "`thread_num`", raw);
    }
    for raw in ["-1", "99999999999999999999999", "18446744073709551616"] {
        let body = SUCCEEDING.replace(
            "\"thread_num\": 5,",
            &format!(
                r#""thread_num": 5, "bandwidth_policy": [{{"start": "00:00", "end": "01:00", "max_bandwidth": {raw}}}],"#
            ),
        );
        let reply = server.call(Method::POST, "/task", &body).await;
        if raw == "-1" {
            snap("create_bandwidth_negative", &reply);
        }
        expect(&reply, 400, "OMS.0087", raw);
    }
    assert_eq!(server.count().await, 0, "refused creates store nothing");
    for bound in ["0", "50"] {
        let id = server.create(&with_thread_num(bound)).await;
        assert_eq!(server.get(id).await.json()["thread_num"].to_string(), bound);
    }
    let id = server.running_task().await;
    let change = r#"{"operation": "change_bandwidthpolicy", "bandwidth_policy": [{"start": "00:00", "end": "01:00", "max_bandwidth": 99999999999999999999999}]}"#;
    expect(&server.put(id, change).await, 400, "OMS.0087", "PUT");
    assert_eq!(server.get(id).await.json()["bandwidth_policy"], json!([]));
}

#[tokio::test]
async fn empty_optional_strings_are_not_missing() {
    let server = TestServer::new();
    let id = server.running_task().await;
    server.stop_and_settle(id).await;
    let start = with_field(START_KEYS, "/source_cdn_authentication_key", json!(""));
    expect_ok(&server.put(id, &start).await, "an empty optional key");
    server.advance(10);
    assert_eq!(server.status(id).await, 2, "started");
    server.stop_and_settle(id).await;
    let long = with_field(
        START_KEYS,
        "/source_cdn_authentication_key",
        json!("k".repeat(101)),
    );
    expect(
        &server.put(id, &long).await,
        400,
        "OMS.0064",
        "a long optional key",
    );

    // The create body's CDN key is optional too.
    let cdn = json!({"domain": "cdn.example.com", "protocol": "https",
        "authentication_type": "NONE", "authentication_key": ""});
    server
        .create(&with_field(SUCCEEDING, "/source_cdn", cdn))
        .await;

    // A url_list task needs no source keys; those it is given are checked.
    let mut by_url: serde_json::Value = serde_json::from_str(SUCCEEDING).unwrap();
    by_url["task_type"] = json!("url_list");
    by_url["src_node"]["list_file"] = json!({"obs_bucket": "lists", "list_file_key": "urls.txt"});
    let by_url = by_url.to_string();
    for (field, value) in [("ak", ""), ("sk", "")] {
        let body = with_field(&by_url, &format!("/src_node/{field}"), json!(value));
        server.create(&body).await;
    }
    let long = with_field(&by_url, "/src_node/ak", json!("k".repeat(101)));
    let reply = server.call(Method::POST, "/task", &long).await;
    snap("create_url_list_long_ak", &reply);
    expect(
        &reply,
        400,
        "OMS.0064",
        "a url_list source key over 100 characters",
    );
    assert_eq!(server.count().await, 4);
}
