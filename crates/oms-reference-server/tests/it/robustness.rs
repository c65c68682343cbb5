//! Bad input never gets a 5xx: malformed and huge ids, unicode and
//! percent-encoded path segments, bad JSON, wrong types, oversized bodies.
//! Every refusal is a 4xx with a JSON error body, and nothing changes.

use axum::http::{Method, StatusCode};
use proptest::prelude::*;

use crate::support::*;

/// Percent-encodes every byte outside RFC 3986's unreserved set.
fn encode(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn assert_refused(reply: &Reply, what: &str) {
    assert!(
        reply.status.is_client_error(),
        "{what}: expected a 4xx, got {} {:?}",
        reply.status,
        String::from_utf8_lossy(&reply.bytes)
    );
    assert_eq!(reply.headers["content-type"], "application/json", "{what}");
    let body = reply.json();
    assert!(
        body["error_code"].as_str().is_some_and(|c| !c.is_empty()),
        "{what}: {body}"
    );
    assert!(
        body["error_msg"].as_str().is_some_and(|m| !m.is_empty()),
        "{what}: {body}"
    );
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[tokio::test]
async fn malformed_task_ids_are_refused_and_delete_nothing() {
    let server = TestServer::new();
    let keep = server.create(SUCCEEDING).await;
    server.advance(2_000);
    let huge = "9".repeat(10_000);
    let raw_segments = [
        "abc",
        "-1",
        "1.5",
        "1e3",
        "0x10",
        "1000000000000000",
        "9223372036854775808",
        "99999999999999999999999",
        "%201",
        "1%20",
        "%E4%BB%BB%E5%8A%A1",
        "%EF%BC%91",
        "1%2F2",
        "%2E%2E",
        "..",
        ".",
        "%00",
        "%FF",
        "%",
        "1%",
        "007",
        &huge,
    ];
    for segment in raw_segments {
        let path = format!("/v1/{PROJECT_A}/objectstorage/task/{segment}");
        for method in [Method::DELETE, Method::GET] {
            let reply = server.raw(method.clone(), &path, Some(TOKEN_A), b"").await;
            assert_refused(&reply, &format!("{method} {segment:.40}"));
        }
    }
    assert_eq!(
        server.status(keep).await,
        5,
        "no malformed delete touched the stored task"
    );
    assert_eq!(server.count().await, 1);
}

#[tokio::test]
async fn an_empty_task_segment_is_a_4xx() {
    let server = TestServer::new();
    let path = format!("/v1/{PROJECT_A}/objectstorage/task/");
    assert_refused(
        &server.raw(Method::DELETE, &path, Some(TOKEN_A), b"").await,
        "empty segment",
    );
}

#[tokio::test]
async fn a_delete_with_a_body_or_query_is_handled_as_without() {
    let server = TestServer::new();
    let id = server.create(SUCCEEDING).await;
    server.advance(2_000);
    let path = format!("/v1/{PROJECT_A}/objectstorage/task/{id}?force=true");
    let reply = server
        .raw(Method::DELETE, &path, Some(TOKEN_A), b"{\"x\":1}")
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(server.count().await, 0);
}

#[tokio::test]
async fn bodies_past_the_limit_get_413_everywhere() {
    let server = TestServer::new();
    let id = server.running_task().await;
    let big = vec![b'{'; 65 * 1024];
    let create = server
        .raw(
            Method::POST,
            &format!("/v1/{PROJECT_A}/objectstorage/task"),
            Some(TOKEN_A),
            &big,
        )
        .await;
    assert_refused(&create, "create");
    assert_eq!(create.status, StatusCode::PAYLOAD_TOO_LARGE);
    let put = server
        .raw(
            Method::PUT,
            &format!("/v1/{PROJECT_A}/objectstorage/task/{id}"),
            Some(TOKEN_A),
            &big,
        )
        .await;
    assert_eq!(put.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(server.status(id).await, 2);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_task_segments_never_get_a_5xx(segment in "\\PC{1,40}|[0-9]{14,25}|-?[0-9. ]{1,20}") {
        let path = format!("/v1/{PROJECT_A}/objectstorage/task/{}", encode(&segment));
        runtime().block_on(async {
            let server = TestServer::new();
            for method in [Method::DELETE, Method::GET, Method::PUT] {
                let reply = server.raw(method, &path, Some(TOKEN_A), b"{\"operation\":\"stop\"}").await;
                if segment.parse::<u64>().is_ok() && reply.status.is_client_error() {
                    // A well-formed id of a task that does not exist.
                    continue;
                }
                assert_refused(&reply, &path);
            }
        });
    }

    #[test]
    fn arbitrary_bodies_never_get_a_5xx(body in proptest::collection::vec(any::<u8>(), 0..300), as_json in any::<bool>()) {
        // Half the cases are JSON-shaped, to get past the syntax check.
        let body = if as_json { serde_json::to_vec(&String::from_utf8_lossy(&body)).unwrap() } else { body };
        runtime().block_on(async {
            let server = TestServer::new();
            let create = server.raw(Method::POST, &format!("/v1/{PROJECT_A}/objectstorage/task"), Some(TOKEN_A), &body).await;
            assert_refused(&create, "create");
            let put = server.raw(Method::PUT, &format!("/v1/{PROJECT_A}/objectstorage/task/1"), Some(TOKEN_A), &body).await;
            assert_refused(&put, "put");
        });
    }

    #[test]
    fn mutated_create_bodies_never_get_a_5xx(field in prop::sample::select(vec![
        "src_node", "dst_node", "enableKMS", "thread_num", "description", "task_type", "bandwidth_policy",
        "migrate_since", "smnInfo", "source_cdn",
    ]), value in prop_oneof![
        Just(serde_json::Value::Null),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(serde_json::Value::from),
        "\\PC{0,30}".prop_map(serde_json::Value::from),
        Just(serde_json::json!([])),
        Just(serde_json::json!({})),
        Just(serde_json::json!([{"start":"x","end":"y","max_bandwidth":-1}])),
    ]) {
        let mut body: serde_json::Value = serde_json::from_str(SUCCEEDING).unwrap();
        body[field] = value;
        runtime().block_on(async {
            let server = TestServer::new();
            let reply = server.call(Method::POST, "/task", &body.to_string()).await;
            if reply.status != StatusCode::OK {
                assert_refused(&reply, &body.to_string());
            }
        });
    }
}
