//! The requests real clients send: the SDK's exact bytes, signed as it signs,
//! and Terraform's shape (no `Content-Type`, no `Content-Length`) over a raw
//! socket to a server on the manual clock.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};

use crate::support::*;

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
    let stop = || {
        sdk_request(
            Method::POST,
            &format!("{task}/stop"),
            "application/json",
            b"",
        )
    };
    assert_eq!(server.send(stop()).await.status, StatusCode::OK);
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
    server.send(stop()).await;
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
