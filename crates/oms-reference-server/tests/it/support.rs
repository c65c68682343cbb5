//! A test server on a manual clock, and helpers to call it and read replies.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use oms_reference_server::clock::ManualClock;
use oms_reference_server::{Config, Limits};
use serde_json::{Value, json};
use tower::ServiceExt;

pub const PROJECT_A: &str = "0123456789abcdef0123456789abcdef";
pub const PROJECT_B: &str = "fedcba9876543210fedcba9876543210";
pub const TOKEN_A: &str = "dev-token-a";
pub const TOKEN_B: &str = "dev-token-b";

pub const RUNNING: &str = include_str!("../../../../fixtures/create/running.json");
pub const SUCCEEDING: &str = include_str!("../../../../fixtures/create/succeeding.json");
pub const FAILING: &str = include_str!("../../../../fixtures/create/failing.json");

/// The engine's default pause: a stopped task shows 2 in v1 (7 in v2) this long, then 3.
pub const PAUSE_MS: u64 = 200;

/// 2026-11-28T00:00:00Z: a fixed start keeps bandwidth windows deterministic.
pub const EPOCH_MS: u64 = 1_795_824_000_000;

/// `EPOCH_MS` as an `X-Sdk-Date`.
pub const SDK_NOW: &str = "20261128T000000Z";

/// The v2 create body the SDK sends in `oms-v2-api.md` §5.1, byte for byte,
/// with the source bucket as `{bucket}` (the keyword picks the fate).
const V2_CREATE_TEMPLATE: &str = r#"{"task_type": "object", "src_node": {"cloud_type": "Aliyun", "region": "cn-hangzhou", "ak": "SRCAK", "sk": "SRCSK", "bucket": "{bucket}", "object_key": [""]}, "dst_node": {"ak": "DSTAK", "sk": "DSTSK", "bucket": "dst-bucket", "save_prefix": "p/", "region": "cn-north-4"}, "description": "d", "bandwidth_policy": [{"end": "23:59", "max_bandwidth": 1048576, "start": "00:00"}], "enable_failed_object_recording": true}"#;

/// The SDK's v2 create body with `bucket` as the source bucket.
pub fn v2_body(bucket: &str) -> String {
    V2_CREATE_TEMPLATE.replace("{bucket}", bucket)
}

/// The SDK's v2 start body (§5.1).
pub const V2_START: &str = r#"{"src_ak": "SRCAK", "src_sk": "SRCSK", "dst_ak": "DSTAK", "dst_sk": "DSTSK", "migrate_failed_object": false}"#;

/// The `Authorization` value signing a request with `headers` (all of them
/// signed) under the development AK/SK at `date`.
pub fn authorization(
    method: &str,
    path_and_query: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    sk: &str,
    date: &str,
) -> String {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let mut names: Vec<String> = headers
        .iter()
        .map(|(n, _)| n.to_ascii_lowercase())
        .collect();
    names.sort();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let lookup = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    };
    let canonical =
        oms_reference_server::signing::canonical_request(method, path, query, &refs, lookup, body)
            .expect("every signed header is given");
    let signature = oms_reference_server::signing::sign(
        sk,
        &oms_reference_server::signing::string_to_sign(date, &canonical),
    );
    format!(
        "SDK-HMAC-SHA256 Access=DUMMYAK, SignedHeaders={}, Signature={signature}",
        names.join(";")
    )
}

pub const START_KEYS: &str = r#"{"operation":"start","source_ak":"sak","source_sk":"ssk","target_ak":"tak","target_sk":"tsk"}"#;

/// Asserts that `reply` is an error answer: `status`, `code` and a non-empty message.
pub fn expect(reply: &Reply, status: u16, code: &str, what: &str) {
    assert_eq!(
        reply.status.as_u16(),
        status,
        "{what}: {:?}",
        String::from_utf8_lossy(&reply.bytes)
    );
    assert_eq!(reply.error_code(), code, "{what}");
    assert!(
        reply.json()["error_msg"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{what}: error_msg"
    );
}

/// Asserts that `reply` is a 400 `code` whose message names `field` (a path
/// in backquotes) and shows no made-up position ("line 0").
pub fn expect_naming(reply: &Reply, code: &str, field: &str, what: &str) {
    expect(reply, 400, code, what);
    let msg = reply.json()["error_msg"].to_string();
    assert!(
        msg.contains(field) && !msg.contains("line 0"),
        "{what}: {msg}"
    );
}

/// Asserts that `reply` is a 200, showing its body otherwise.
pub fn expect_ok(reply: &Reply, what: &str) {
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "{what}: {:?}",
        String::from_utf8_lossy(&reply.bytes)
    );
}

/// `body` with the value at the JSON pointer `pointer` set to `value`; the
/// pointer's last segment is added to its parent object when it is missing.
pub fn with_field(body: &str, pointer: &str, value: Value) -> String {
    let mut body: Value = serde_json::from_str(body).expect("a JSON body");
    let (parent, last) = pointer.rsplit_once('/').expect("a JSON pointer");
    let parent = body
        .pointer_mut(parent)
        .expect("the pointer's parent exists");
    match parent {
        Value::Array(items) => items[last.parse::<usize>().expect("an index")] = value,
        object => object[last] = value,
    }
    body.to_string()
}

pub struct TestServer {
    router: Router,
    pub clock: Arc<ManualClock>,
}

#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub bytes: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {:?}",
                String::from_utf8_lossy(&self.bytes)
            )
        })
    }

    pub fn error_code(&self) -> String {
        self.json()["error_code"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Status, the headers a client relies on, and the body, with the request
    /// id redacted: what the snapshots record.
    pub fn snapshot(&self) -> Value {
        let header = |name: &str| {
            self.headers
                .get(name)
                .map(|v| Value::String(v.to_str().unwrap_or("<non-ascii>").to_owned()))
                .unwrap_or(Value::Null)
        };
        let request_id = header("x-request-id");
        assert!(
            request_id.as_str().is_some_and(|id| id.len() == 32),
            "every response carries a 32-hex X-Request-Id, got {request_id}"
        );
        let mut body = if self.bytes.is_empty() {
            Value::Null
        } else {
            self.json()
        };
        if body.get("request_id").is_some() {
            assert_eq!(
                body["request_id"], request_id,
                "the body's request_id matches the header"
            );
            body["request_id"] = json!("[request-id]");
        }
        json!({
            "status": self.status.as_u16(),
            "content-type": header("content-type"),
            "content-length": header("content-length"),
            "x-request-id": "[request-id]",
            "body": body,
        })
    }
}

impl TestServer {
    pub fn new() -> Self {
        Self::with_limits(Limits::default())
    }

    pub fn with_limits(limits: Limits) -> Self {
        Self::with_config(|config| config.limits = limits)
    }

    pub fn with_config(adjust: impl FnOnce(&mut Config)) -> Self {
        let clock = Arc::new(ManualClock::new(EPOCH_MS));
        let mut config = Config {
            clock: clock.clone(),
            ..Config::default()
        };
        adjust(&mut config);
        Self {
            router: oms_reference_server::router(config),
            clock,
        }
    }

    pub fn advance(&self, ms: u64) {
        self.clock.advance(ms);
    }

    /// Sends a request with a raw path; `token` None sends no credentials.
    pub async fn raw(&self, method: Method, path: &str, token: Option<&str>, body: &[u8]) -> Reply {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            request = request.header("x-auth-token", token);
        }
        let request = request
            .header("content-type", "application/json")
            .body(Body::from(body.to_vec()))
            .expect("valid request");
        self.send(request).await
    }

    /// Sends a fully built request.
    pub async fn send(&self, request: Request<Body>) -> Reply {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes()
            .to_vec();
        Reply {
            status,
            headers,
            bytes,
        }
    }

    /// A request to project A's API with A's token; `rest` follows `/objectstorage`.
    pub async fn call(&self, method: Method, rest: &str, body: &str) -> Reply {
        self.in_project(PROJECT_A, TOKEN_A, method, rest, body)
            .await
    }

    pub async fn in_project(
        &self,
        project: &str,
        token: &str,
        method: Method,
        rest: &str,
        body: &str,
    ) -> Reply {
        let path = format!("/v1/{project}/objectstorage{rest}");
        self.raw(method, &path, Some(token), body.as_bytes()).await
    }

    pub async fn create(&self, body: &str) -> u64 {
        created_id(&self.call(Method::POST, "/task", body).await, "create")
    }

    pub async fn get(&self, id: u64) -> Reply {
        self.call(Method::GET, &format!("/task/{id}"), "").await
    }

    pub async fn status(&self, id: u64) -> u64 {
        let reply = self.get(id).await;
        assert_eq!(reply.status, StatusCode::OK, "get {id}");
        reply.json()["status"].as_u64().expect("status")
    }

    pub async fn delete(&self, id: u64) -> Reply {
        self.call(Method::DELETE, &format!("/task/{id}"), "").await
    }

    pub async fn put(&self, id: u64, body: &str) -> Reply {
        self.call(Method::PUT, &format!("/task/{id}"), body).await
    }

    pub async fn count(&self) -> u64 {
        self.call(Method::GET, "/task?totalcount=true", "")
            .await
            .json()["taskcount"]
            .as_u64()
            .expect("taskcount")
    }

    /// Stops a running task and lets its pause pass: it is then stopped (3).
    pub async fn stop_and_settle(&self, id: u64) {
        let reply = self.put(id, r#"{"operation":"stop"}"#).await;
        assert_eq!(reply.status, StatusCode::OK, "stop {id}");
        assert_eq!(self.status(id).await, 2, "a pausing task shows 2 in v1");
        self.advance(PAUSE_MS);
        assert_eq!(
            self.status(id).await,
            3,
            "task {id} is stopped after the pause"
        );
    }

    /// A v2 request to project A with A's token; `rest` follows `/tasks`.
    pub async fn v2(&self, method: Method, rest: &str, body: &str) -> Reply {
        let path = format!("/v2/{PROJECT_A}/tasks{rest}");
        self.raw(method, &path, Some(TOKEN_A), body.as_bytes())
            .await
    }

    /// Creates a task through v2 with the SDK's body and `bucket` as its
    /// source, without its bandwidth policy (1 MiB/s all day would stretch a
    /// short task to minutes).
    pub async fn v2_create(&self, bucket: &str) -> u64 {
        let mut body: Value = serde_json::from_str(&v2_body(bucket)).expect("JSON");
        body.as_object_mut()
            .expect("object")
            .remove("bandwidth_policy");
        created_id(
            &self.v2(Method::POST, "", &body.to_string()).await,
            "v2 create",
        )
    }

    pub async fn v2_get(&self, id: u64) -> Reply {
        self.v2(Method::GET, &format!("/{id}"), "").await
    }

    /// `DELETE …/tasks/{id}`.
    pub async fn v2_delete(&self, id: u64) -> Reply {
        self.v2(Method::DELETE, &format!("/{id}"), "").await
    }

    /// `POST …/tasks/{id}/stop`, with no body.
    pub async fn v2_stop(&self, id: u64) -> Reply {
        self.v2(Method::POST, &format!("/{id}/stop"), "").await
    }

    /// `POST …/tasks/{id}/start` with the SDK's start body ([`V2_START`]).
    pub async fn v2_start(&self, id: u64) -> Reply {
        self.v2(Method::POST, &format!("/{id}/start"), V2_START)
            .await
    }

    /// The task's v2 status code.
    pub async fn v2_status(&self, id: u64) -> u64 {
        let reply = self.v2_get(id).await;
        assert_eq!(reply.status, StatusCode::OK, "v2 get {id}");
        reply.json()["status"].as_u64().expect("status")
    }

    /// A task in status 2: created and given time to initialise.
    pub async fn running_task(&self) -> u64 {
        let id = self.create(RUNNING).await;
        self.advance(150);
        assert_eq!(self.status(id).await, 2, "task {id} should be running");
        id
    }
}

/// The id a create answered; the answer must be a 200 (`what` names the
/// create in the failure).
fn created_id(reply: &Reply, what: &str) -> u64 {
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "{what}: {:?}",
        String::from_utf8_lossy(&reply.bytes)
    );
    reply.json()["id"].as_u64().expect("numeric id")
}
