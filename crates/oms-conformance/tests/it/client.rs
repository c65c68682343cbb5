//! The HTTP client's promises, in-process: raw request targets reach the server
//! unnormalized, bodies are capped, a silent server times out, redirects are not
//! followed, and tokens never appear in a logged exchange.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use oms_conformance::http::{Auth, Client, Method, Outgoing, Redactor, Shape};
use oms_conformance::secret::Secret;

use crate::support;

fn client(addr: std::net::SocketAddr, timeout: Duration) -> Client {
    let redactor = Arc::new(Redactor::new(vec!["secret-token".to_owned()]));
    Client::new(&format!("http://{addr}"), timeout, 4096, redactor).expect("client")
}

fn delete(target: &str, raw: bool) -> Outgoing {
    let auth = Auth::Token {
        token: Secret::new("secret-token"),
        env: "OMS_CONFORMANCE_TOKEN_FIRST",
    };
    support::kit_request(Method::Delete, target, auth, raw)
}

fn error_answer() -> hyper::Response<Full<Bytes>> {
    support::json_answer(
        400,
        br#"{"error_code":"OMS.0054","error_msg":"Invalid task ID."}"#,
    )
}

fn endless_answer() -> hyper::Response<Full<Bytes>> {
    hyper::Response::new(Full::new(Bytes::from(vec![b'x'; 1 << 20])))
}

fn redirect_answer() -> hyper::Response<Full<Bytes>> {
    hyper::Response::builder()
        .status(302)
        .header("location", "/elsewhere")
        .body(Full::new(Bytes::new()))
        .expect("answer")
}

#[test]
fn raw_targets_reach_the_server_unnormalized() {
    let rt = support::runtime();
    let (addr, seen) = support::recording_server(&rt, error_answer);
    let client = client(addr, Duration::from_secs(5));
    let target = "/v1/p/objectstorage/task/%2E%2E";
    let raw = rt.block_on(client.send(&delete(target, true)));
    assert_eq!(raw.status(), Some(400), "{}", raw.render());
    assert_eq!(raw.observed(), "400 OMS.0054");
    let normalized = rt.block_on(client.send(&delete(target, false)));
    assert!(normalized.response.is_some());
    let seen = seen.lock().expect("log").clone();
    assert_eq!(
        seen[0].target, target,
        "the raw probe was altered on the way"
    );
    // Why raw probes exist: the URL type turns `%2E%2E` into a dot-dot segment.
    assert_ne!(seen[1].target, target);
    for exchange in [&raw, &normalized] {
        let text = serde_json::to_string(exchange).expect("exchange");
        assert!(
            !text.contains("secret-token") && !format!("{exchange:?}").contains("secret-token")
        );
        assert!(
            exchange.curl.contains("$OMS_CONFORMANCE_TOKEN_FIRST"),
            "{}",
            exchange.curl
        );
    }
    assert!(raw.curl.contains("--path-as-is"), "{}", raw.curl);
}

#[test]
fn bodies_are_capped_and_redirects_not_followed() {
    let rt = support::runtime();
    let (endless, _) = support::recording_server(&rt, endless_answer);
    let capped = rt.block_on(client(endless, Duration::from_secs(5)).send(&delete("/x", false)));
    let response = capped.response.as_ref().expect("an answer");
    assert_eq!(response.body_len, 4096);
    assert!(response.body_truncated);
    let capped_raw = rt.block_on(client(endless, Duration::from_secs(5)).send(&delete("/x", true)));
    assert!(
        capped_raw
            .response
            .as_ref()
            .is_some_and(|r| r.body_truncated && r.body_len == 4096)
    );

    let (redirecting, seen) = support::recording_server(&rt, redirect_answer);
    let answer =
        rt.block_on(client(redirecting, Duration::from_secs(5)).send(&delete("/x", false)));
    assert_eq!(answer.status(), Some(302));
    assert_eq!(
        seen.lock().expect("log").len(),
        1,
        "the redirect was followed"
    );
}

#[test]
fn a_silent_server_times_out() {
    let rt = support::runtime();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    // Accepts connections and never answers.
    rt.spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let client = client(addr, Duration::from_millis(300));
    for raw in [false, true] {
        let started = Instant::now();
        let exchange = rt.block_on(client.send(&delete("/x", raw)));
        assert!(exchange.response.is_none());
        assert!(exchange.error.is_some());
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "no timeout (raw: {raw})"
        );
    }
}

fn ok_answer() -> hyper::Response<Full<Bytes>> {
    hyper::Response::new(Full::new(Bytes::new()))
}

/// The client-shaped deletes of OMS-DEL-019 go on the wire as those clients
/// send them (`oms-v2-api.md` §5.1, §5.2), signed as they sign them.
#[test]
fn sdk_and_terraform_shaped_deletes_carry_the_headers_those_clients_send() {
    let rt = support::runtime();
    let (addr, seen) = support::recording_server(&rt, ok_answer);
    let client = client(addr, Duration::from_secs(5));
    let signed = |shape| Outgoing {
        auth: Auth::Signed(oms_conformance::http::Signing {
            ak: Secret::new("DUMMYAK"),
            sk: Secret::new("DUMMYSK"),
            security_token: None,
            project_id: "p".to_owned(),
            whose: "the first project's AK/SK".to_owned(),
            clock_offset: 0,
            tamper: false,
        }),
        shape,
        ..delete("/v2/p/tasks/1", false)
    };
    for shape in [Shape::Sdk, Shape::Terraform] {
        let exchange = rt.block_on(client.send(&signed(shape)));
        assert_eq!(exchange.status(), Some(200), "{}", exchange.render());
    }
    let seen = seen.lock().expect("log").clone();
    let (sdk, terraform) = (&seen[0], &seen[1]);
    let signed_headers = |seen: &support::Seen| {
        let authorization = seen.header("authorization").unwrap_or_default();
        authorization
            .split("SignedHeaders=")
            .nth(1)
            .and_then(|rest| rest.split(',').next())
            .unwrap_or_default()
            .to_owned()
    };

    assert_eq!(sdk.header("content-type"), Some("application/json"));
    assert_eq!(sdk.header("content-length"), Some("0"));
    assert_eq!(
        sdk.header("user-agent"),
        Some("huaweicloud-usdk-python/3.0")
    );
    assert_eq!(sdk.header("accept"), Some("*/*"));
    assert_eq!(sdk.header("x-project-id"), Some("p"));
    // Exactly what the SDK signs (`oms-v2-api.md` §5.1).
    assert_eq!(
        signed_headers(sdk),
        "content-type;host;user-agent;x-project-id;x-sdk-date"
    );

    assert_eq!(terraform.header("content-type"), None, "{terraform:?}");
    assert_eq!(terraform.header("content-length"), None, "{terraform:?}");
    assert_eq!(terraform.header("transfer-encoding"), None, "{terraform:?}");
    assert_eq!(terraform.header("accept"), Some("application/json"));
    assert_eq!(terraform.header("x-project-id"), Some("p"));
    assert!(
        !signed_headers(terraform).contains("x-project-id"),
        "golangsdk sets X-Project-Id after signing: {terraform:?}"
    );
}
