//! The v2 request bodies refused and accepted: the create body's checks, the
//! bandwidth policy's, unknown fields ignored everywhere, empty required
//! strings missing, integers out of range, empty optional strings accepted.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::snap;
use crate::support::*;

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
        "bandwidth_policy": [{"start": "00:00", "end": "12:00", "max_bandwidth": 5_242_880}]});
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

/// Unknown fields are ignored at every level of every body of both dialects
/// (`oms-v2-api.md` §2.1: "A server should ignore unknown fields"), bandwidth
/// windows included.
#[tokio::test]
async fn unknown_fields_are_ignored_in_every_body() {
    let server = TestServer::new();
    // In the range of both dialects (v1 5 MiB/s–10 GiB/s, v2 1–200 MiB/s).
    let window =
        json!([{"start": "22:00", "end": "06:00", "max_bandwidth": 5_242_880, "note": "night"}]);
    let stored = json!([{"start": "22:00", "end": "06:00", "max_bandwidth": 5_242_880}]);

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
    server.v2_stop(id).await;
    server.advance(PAUSE_MS);
    let start = with_field(V2_START, "/extra", json!(1));
    let reply = server
        .v2(Method::POST, &format!("/{id}/start"), &start)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
}

/// A new task's bandwidth policy set to `policy` is refused (400, `code`),
/// and the task keeps the empty policy it was created with.
async fn expect_policy_refused(server: &TestServer, policy: &str, code: &str, what: &str) {
    let id = server.v2_create("long-source").await;
    expect(
        &server
            .v2(Method::PUT, &format!("/{id}/bandwidth-policy"), policy)
            .await,
        400,
        code,
        what,
    );
    assert_eq!(
        server.v2_get(id).await.json()["bandwidth_policy"],
        json!([])
    );
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
    let policy = json!({"bandwidth_policy": window("")}).to_string();
    expect_policy_refused(&server, &policy, "OMS.1004", "an empty window end").await;
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
    let policy =
        r#"{"bandwidth_policy": [{"end": "12:00", "max_bandwidth": -5, "start": "00:00"}]}"#;
    expect_policy_refused(&server, policy, "OMS.0084", "a negative max_bandwidth").await;
}

#[tokio::test]
async fn v2_empty_optional_strings_are_not_missing() {
    let server = TestServer::new();
    let id = server.v2_create("long-source").await;
    server.advance(150);
    for field in ["src_ak", "src_sk", "source_cdn_authentication_key"] {
        server.v2_stop(id).await;
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
