//! The v1 create body's settings and limits as the v1 create page documents
//! them: `migrate_since` seconds, never negative; `max_bandwidth` 5 MiB/s to
//! 10 GiB/s; `smnInfo` and `source_cdn` objects of their tables' shapes; and
//! `null` a wrong type on every optional field, as on every other.

use axum::http::Method;
use serde_json::{Value, json};

use crate::support::*;

const MIN_BANDWIDTH: u64 = 5 * 1_048_576;
const MAX_BANDWIDTH: u64 = 10 * 1_073_741_824;

#[tokio::test]
async fn migrate_since_is_never_negative() {
    let server = TestServer::new();
    for raw in [json!(-1), json!(i64::MIN)] {
        let body = with_field(SUCCEEDING, "/migrate_since", raw.clone());
        let reply = server.call(Method::POST, "/task", &body).await;
        expect_naming(&reply, "OMS.0064", "`migrate_since`", &raw.to_string());
    }
    assert_eq!(server.count().await, 0, "refused creates store nothing");
    for since in [0, 1_700_000_000] {
        let body = with_field(SUCCEEDING, "/migrate_since", json!(since));
        let id = server.create(&body).await;
        assert_eq!(server.get(id).await.json()["migrate_since"], since);
    }
}

fn window(max: u64) -> Value {
    json!([{"start": "00:00", "end": "12:00", "max_bandwidth": max}])
}

#[tokio::test]
async fn max_bandwidth_is_five_mib_to_ten_gib_a_second() {
    let server = TestServer::new();
    for max in [1, 1_048_576, MIN_BANDWIDTH - 1, MAX_BANDWIDTH + 1] {
        let body = with_field(SUCCEEDING, "/bandwidth_policy", window(max));
        let reply = server.call(Method::POST, "/task", &body).await;
        expect(&reply, 400, "OMS.0087", &format!("create with {max} B/s"));
    }
    assert_eq!(server.count().await, 0, "refused creates store nothing");
    for max in [MIN_BANDWIDTH, MAX_BANDWIDTH] {
        let body = with_field(SUCCEEDING, "/bandwidth_policy", window(max));
        let id = server.create(&body).await;
        assert_eq!(server.get(id).await.json()["bandwidth_policy"], window(max));
    }
    let id = server.running_task().await;
    let change = |max: u64| {
        json!({"operation": "change_bandwidthpolicy", "bandwidth_policy": window(max)}).to_string()
    };
    for max in [MIN_BANDWIDTH - 1, MAX_BANDWIDTH + 1] {
        let reply = server.put(id, &change(max)).await;
        expect(&reply, 400, "OMS.0087", &format!("PUT with {max} B/s"));
    }
    assert_eq!(server.get(id).await.json()["bandwidth_policy"], json!([]));
    expect_ok(
        &server.put(id, &change(MIN_BANDWIDTH)).await,
        "PUT at 5 MiB/s",
    );
}

/// `smnInfo` and `source_cdn` are objects on the create page: a string, a
/// number, a bool or an array is a wrong type, never echoed back where a
/// client of the task object reads an object (schemathesis found
/// `"smnInfo": 0` stored and listed back).
#[tokio::test]
async fn create_settings_are_objects() {
    let server = TestServer::new();
    for field in ["smnInfo", "source_cdn"] {
        for value in [json!("AAA"), json!(0), json!(false), json!([null, null])] {
            let body = with_field(SUCCEEDING, &format!("/{field}"), value.clone());
            let reply = server.call(Method::POST, "/task", &body).await;
            expect_naming(&reply, "OMS.0064", &format!("`{field}`"), &body);
        }
    }
    assert_eq!(server.count().await, 0, "refused creates store nothing");
}

const SMN: &str = r#"{"topicUrn": "urn:smn:cn-north-4:0123:topic", "language": "en-us", "triggerConditions": ["SUCCESS", "FAIL"]}"#;
const CDN: &str = r#"{"protocol": "https", "domain": "cdn.example.com", "authentication_type": "ALIYUN_OSS_A", "authentication_key": "secret"}"#;

/// Each setting's members are checked by the create page's tables 7 and 8:
/// the required ones present and non-empty, each of its type, the
/// enumerated ones documented; the checked members are shown back, the
/// CDN's key never.
#[tokio::test]
async fn smn_info_and_source_cdn_have_their_documented_shapes() {
    let server = TestServer::new();
    let without = |setting: &str, member: &str| {
        let mut value: Value = serde_json::from_str(setting).unwrap();
        value.as_object_mut().unwrap().remove(member);
        value
    };
    let smn = |pointer: &str, value: Value| with_field(SMN, pointer, value);
    let cdn = |pointer: &str, value: Value| with_field(CDN, pointer, value);
    let cases = [
        (
            "smnInfo",
            without(SMN, "topicUrn"),
            "OMS.1004",
            "`smnInfo.topicUrn`",
        ),
        (
            "smnInfo",
            without(SMN, "triggerConditions"),
            "OMS.1004",
            "`smnInfo.triggerConditions`",
        ),
        (
            "smnInfo",
            raw(&smn("/topicUrn", json!(""))),
            "OMS.1004",
            "`smnInfo.topicUrn`",
        ),
        (
            "smnInfo",
            raw(&smn("/triggerConditions", json!([]))),
            "OMS.1004",
            "`smnInfo.triggerConditions`",
        ),
        (
            "smnInfo",
            raw(&smn("/topicUrn", json!(5))),
            "OMS.0064",
            "`smnInfo.topicUrn`",
        ),
        (
            "smnInfo",
            raw(&smn("/triggerConditions", json!(["FAILURE"]))),
            "OMS.0064",
            "`smnInfo.triggerConditions[0]`",
        ),
        (
            "smnInfo",
            raw(&smn("/triggerConditions", json!("SUCCESS"))),
            "OMS.0064",
            "`smnInfo.triggerConditions`",
        ),
        (
            "smnInfo",
            raw(&smn("/language", json!("fr-fr"))),
            "OMS.0064",
            "`smnInfo.language`",
        ),
        (
            "source_cdn",
            without(CDN, "protocol"),
            "OMS.1004",
            "`source_cdn.protocol`",
        ),
        (
            "source_cdn",
            without(CDN, "domain"),
            "OMS.1004",
            "`source_cdn.domain`",
        ),
        (
            "source_cdn",
            without(CDN, "authentication_type"),
            "OMS.1004",
            "`source_cdn.authentication_type`",
        ),
        (
            "source_cdn",
            raw(&cdn("/domain", json!(""))),
            "OMS.1004",
            "`source_cdn.domain`",
        ),
        (
            "source_cdn",
            raw(&cdn("/protocol", json!("ftp"))),
            "OMS.0064",
            "`source_cdn.protocol`",
        ),
        // v2 documents Azure's and Tencent's types; the v1 page does not.
        (
            "source_cdn",
            raw(&cdn("/authentication_type", json!("AZURE_SAS_TOKEN"))),
            "OMS.0064",
            "`source_cdn.authentication_type`",
        ),
        (
            "source_cdn",
            raw(&cdn("/authentication_key", json!(5))),
            "OMS.0064",
            "`source_cdn.authentication_key`",
        ),
    ];
    for (field, value, code, named) in cases {
        let body = with_field(SUCCEEDING, &format!("/{field}"), value);
        let reply = server.call(Method::POST, "/task", &body).await;
        expect_naming(&reply, code, named, &body);
    }
    assert_eq!(server.count().await, 0, "refused creates store nothing");

    let body = with_field(SUCCEEDING, "/smnInfo", raw(&smn("/extra", json!(1))));
    let body = with_field(&body, "/source_cdn", raw(CDN));
    let task = server.get(server.create(&body).await).await.json();
    assert_eq!(
        task["smnInfo"],
        raw(SMN),
        "shown as checked, less unknown members"
    );
    assert_eq!(
        task["source_cdn"],
        json!({"domain": "cdn.example.com", "protocol": "https", "authentication_type": "ALIYUN_OSS_A"}),
        "shown less its authentication_key"
    );
    let bare = json!({"topicUrn": "urn:smn:x", "triggerConditions": ["FAIL"]});
    let id = server
        .create(&with_field(SUCCEEDING, "/smnInfo", bare.clone()))
        .await;
    assert_eq!(
        server.get(id).await.json()["smnInfo"],
        bare,
        "language is optional"
    );
}

fn raw(json: &str) -> Value {
    serde_json::from_str(json).unwrap()
}

/// `null` is a wrong type on every field, an optional one included: no
/// request schema of the OpenAPI document admits it, and the SDK never sends
/// it. It is never read as the field's absence.
#[tokio::test]
async fn null_is_a_wrong_type_on_optional_fields() {
    let server = TestServer::new();
    let create_fields = [
        "/description",
        "/task_type",
        "/bandwidth_policy",
        "/smnInfo",
        "/source_cdn",
        "/migrate_since",
        "/auto_restore",
        "/enable_failed_object_recording",
        "/src_node/cloud_type",
        "/src_node/app_id",
        "/src_node/list_file",
        "/dst_node/cloud_type",
        "/smnInfo/language",
        "/source_cdn/authentication_key",
    ];
    for pointer in create_fields {
        let body = with_field(SUCCEEDING, "/smnInfo", raw(SMN));
        let body = with_field(&body, "/source_cdn", raw(CDN));
        let body = with_field(&body, pointer, json!(null));
        let reply = server.call(Method::POST, "/task", &body).await;
        let named = format!("`{}`", pointer[1..].replace('/', "."));
        expect_naming(&reply, "OMS.0064", &named, pointer);
    }
    assert_eq!(server.count().await, 0, "refused creates store nothing");
    let id = server.running_task().await;
    server.stop_and_settle(id).await;
    for field in ["source_cdn_authentication_key", "migration_failed_object"] {
        let start = with_field(START_KEYS, &format!("/{field}"), json!(null));
        let reply = server.put(id, &start).await;
        expect_naming(&reply, "OMS.0064", &format!("`{field}`"), field);
    }
    assert_eq!(server.status(id).await, 3, "refused starts change nothing");
}
