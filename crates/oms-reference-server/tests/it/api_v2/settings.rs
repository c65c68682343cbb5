//! The v2 create body's crypto settings and list file as `oms-v2-api.md`
//! §2.1 and the SDK's models document them: `crypto_type` DEFAULT or KMS
//! and `kms_key_id` 36 characters, on either node and the CDN;
//! `list_file_num` a string, shown back in the task object (§2.2); and
//! `null` a wrong type on every optional field, as on every other.

use axum::http::Method;
use serde_json::{Value, json};

use crate::support::*;

const KMS_KEY_ID: &str = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
const CDN: &str = r#"{"domain": "cdn.example.com", "protocol": "https"}"#;

fn list_task(list_file: Value) -> String {
    let body = with_field(&v2_body("ok-source"), "/task_type", json!("list"));
    with_field(&body, "/src_node/list_file", list_file)
}

#[tokio::test]
async fn crypto_settings_are_documented_values() {
    let server = TestServer::new();
    let with_cdn = with_field(
        &v2_body("ok-source"),
        "/source_cdn",
        serde_json::from_str(CDN).unwrap(),
    );
    for owner in ["src_node", "dst_node", "source_cdn"] {
        let cases = [
            ("crypto_type", json!("kms")),
            ("crypto_type", json!("")),
            ("crypto_type", json!(true)),
            ("kms_key_id", json!(&KMS_KEY_ID[1..])),
            ("kms_key_id", json!(format!("{KMS_KEY_ID}0"))),
            ("kms_key_id", json!("")),
            ("kms_key_id", json!(36)),
        ];
        for (field, value) in cases {
            let body = with_field(&with_cdn, &format!("/{owner}/{field}"), value.clone());
            let reply = server.v2(Method::POST, "", &body).await;
            expect_naming(&reply, "OMS.0064", &format!("`{owner}.{field}`"), &body);
        }
        for crypto_type in ["DEFAULT", "KMS"] {
            let body = with_field(
                &with_cdn,
                &format!("/{owner}/crypto_type"),
                json!(crypto_type),
            );
            let body = with_field(&body, &format!("/{owner}/kms_key_id"), json!(KMS_KEY_ID));
            expect_ok(&server.v2(Method::POST, "", &body).await, &body);
        }
    }
    // No source ties the two together: KMS without a key, a key without KMS.
    let kms = with_field(&with_cdn, "/dst_node/crypto_type", json!("KMS"));
    expect_ok(&server.v2(Method::POST, "", &kms).await, "KMS, no key");
    let key = with_field(&with_cdn, "/dst_node/kms_key_id", json!(KMS_KEY_ID));
    expect_ok(
        &server.v2(Method::POST, "", &key).await,
        "a key, no crypto type",
    );
    // Neither is part of the task object (§2.2); the key never is.
    let id = server.v2(Method::POST, "", &key).await.json()["id"]
        .as_u64()
        .unwrap();
    let shown = server.v2_get(id).await.bytes;
    assert!(!String::from_utf8_lossy(&shown).contains(KMS_KEY_ID));
}

#[tokio::test]
async fn list_file_num_is_a_string_shown_back() {
    let server = TestServer::new();
    let list_file = |num: Value| json!({"list_file_key": "list.txt", "obs_bucket": "lists", "list_file_num": num});
    for num in [json!(3), json!(["3"]), json!(null)] {
        let reply = server
            .v2(Method::POST, "", &list_task(list_file(num.clone())))
            .await;
        expect_naming(
            &reply,
            "OMS.0064",
            "`src_node.list_file.list_file_num`",
            &num.to_string(),
        );
    }
    assert_eq!(server.v2(Method::GET, "", "").await.json()["count"], 0);
    let reply = server
        .v2(Method::POST, "", &list_task(list_file(json!("3"))))
        .await;
    let id = reply.json()["id"].as_u64().unwrap();
    assert_eq!(
        server.v2_get(id).await.json()["src_node"]["list_file"],
        list_file(json!("3"))
    );
    let without = json!({"list_file_key": "list.txt", "obs_bucket": "lists"});
    let reply = server
        .v2(Method::POST, "", &list_task(without.clone()))
        .await;
    let id = reply.json()["id"].as_u64().unwrap();
    assert_eq!(
        server.v2_get(id).await.json()["src_node"]["list_file"],
        without
    );
}

/// `null` is a wrong type on every field, an optional one included: no
/// request schema of the OpenAPI document admits it, and the SDK never sends
/// it (`sanitize_for_serialization` drops unset attributes). It is never
/// read as the field's absence.
#[tokio::test]
async fn null_is_a_wrong_type_on_optional_fields() {
    let server = TestServer::new();
    let smn = json!({"topic_urn": "urn:smn:x", "trigger_conditions": ["SUCCESS"]});
    let full = with_field(
        &v2_body("ok-source"),
        "/source_cdn",
        serde_json::from_str(CDN).unwrap(),
    );
    let full = with_field(&full, "/smn_config", smn);
    let create_fields = [
        "/task_type",
        "/description",
        "/migrate_since",
        "/bandwidth_policy",
        "/source_cdn",
        "/smn_config",
        "/enable_metadata_migration",
        "/enable_restore",
        "/enable_failed_object_recording",
        "/enable_requester_pays",
        "/object_overwrite_mode",
        "/dst_storage_policy",
        "/consistency_check",
        "/task_priority",
        "/src_node/cloud_type",
        "/src_node/security_token",
        "/src_node/app_id",
        "/src_node/object_key",
        "/src_node/list_file",
        "/src_node/connection_string",
        "/src_node/json_auth_file",
        "/src_node/crypto_type",
        "/src_node/kms_key_id",
        "/dst_node/security_token",
        "/dst_node/save_prefix",
        "/dst_node/crypto_type",
        "/dst_node/kms_key_id",
        "/source_cdn/authentication_type",
        "/source_cdn/authentication_key",
        "/smn_config/language",
        "/smn_config/message_template_name",
    ];
    for pointer in create_fields {
        let body = with_field(&full, pointer, json!(null));
        let reply = server.v2(Method::POST, "", &body).await;
        let named = format!("`{}`", pointer[1..].replace('/', "."));
        expect_naming(&reply, "OMS.0064", &named, pointer);
    }
    assert_eq!(server.v2(Method::GET, "", "").await.json()["count"], 0);
    let id = server.v2_create("long-source").await;
    server.advance(150);
    server.v2_stop(id).await;
    server.advance(PAUSE_MS);
    let start_fields = [
        "dst_ak",
        "src_ak",
        "src_sk",
        "src_security_token",
        "dst_security_token",
        "source_cdn_authentication_key",
        "migrate_failed_object",
    ];
    for field in start_fields {
        let start = with_field(V2_START, &format!("/{field}"), json!(null));
        let reply = server
            .v2(Method::POST, &format!("/{id}/start"), &start)
            .await;
        expect_naming(&reply, "OMS.0064", &format!("`{field}`"), field);
    }
    assert_eq!(
        server.v2_status(id).await,
        3,
        "refused starts change nothing"
    );
}
