//! AK/SK signed requests (SDK-HMAC-SHA256): accepted when exact, refused with
//! 401 (`APIGW.0301`, or `APIGW.0303` for a stale date) or 403 otherwise, and
//! a refused request changes nothing.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use oms_reference_server::signing;

use crate::support::*;

/// `EPOCH_MS` as an `X-Sdk-Date`.
const NOW: &str = "20261128T000000Z";

struct Signed<'a> {
    method: Method,
    path: String,
    body: &'a str,
    ak: &'a str,
    sk: &'a str,
    date: &'a str,
}

impl<'a> Signed<'a> {
    fn new(method: Method, path: String, body: &'a str) -> Self {
        Self {
            method,
            path,
            body,
            ak: "DUMMYAK",
            sk: "DUMMYSK",
            date: NOW,
        }
    }

    fn signature(&self) -> String {
        let (path, query) = self.path.split_once('?').unwrap_or((&self.path, ""));
        let headers = [
            ("content-type", "application/json"),
            ("host", "127.0.0.1:8080"),
            ("x-sdk-date", self.date),
        ];
        let names: Vec<&str> = headers.iter().map(|(n, _)| *n).collect();
        let lookup = |name: &str| headers.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
        let canonical = signing::canonical_request(
            self.method.as_str(),
            path,
            query,
            &names,
            lookup,
            self.body.as_bytes(),
        )
        .unwrap();
        signing::sign(self.sk, &signing::string_to_sign(self.date, &canonical))
    }

    fn request(&self, signature: &str, body: &str) -> Request<Body> {
        Request::builder()
            .method(self.method.clone())
            .uri(&self.path)
            .header("content-type", "application/json")
            .header("host", "127.0.0.1:8080")
            .header("x-sdk-date", self.date)
            .header(
                "authorization",
                format!(
                    "SDK-HMAC-SHA256 Access={}, SignedHeaders=content-type;host;x-sdk-date, Signature={signature}",
                    self.ak
                ),
            )
            .body(Body::from(body.to_owned()))
            .unwrap()
    }

    fn build(&self) -> Request<Body> {
        self.request(&self.signature(), self.body)
    }
}

fn task_path(project: &str, id: u64) -> String {
    format!("/v1/{project}/objectstorage/task/{id}")
}

#[tokio::test]
async fn signed_requests_work_end_to_end() {
    let server = TestServer::new();
    let create = Signed::new(
        Method::POST,
        format!("/v1/{PROJECT_A}/objectstorage/task"),
        SUCCEEDING,
    );
    let reply = server.send(create.build()).await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "{:?}",
        String::from_utf8_lossy(&reply.bytes)
    );
    let id = reply.json()["id"].as_u64().unwrap();
    server.advance(2_000);
    let list = Signed::new(
        Method::GET,
        format!("/v1/{PROJECT_A}/objectstorage/task?start=0&limit=10"),
        "",
    );
    assert_eq!(server.send(list.build()).await.json()[0]["id"], id);
    let delete = server
        .send(Signed::new(Method::DELETE, task_path(PROJECT_A, id), "").build())
        .await;
    assert_eq!(delete.status, StatusCode::OK);
    assert!(delete.bytes.is_empty());
}

#[tokio::test]
async fn bad_signatures_are_refused_and_change_nothing() {
    let server = TestServer::new();
    let id = server.create(SUCCEEDING).await;
    server.advance(2_000);
    let delete = Signed::new(Method::DELETE, task_path(PROJECT_A, id), "");
    let good = delete.signature();
    let mut tampered = good.clone().into_bytes();
    tampered[10] = if tampered[10] == b'a' { b'b' } else { b'a' };
    let tampered = String::from_utf8(tampered).unwrap();

    let cases: Vec<(&str, Request<Body>, &str)> = vec![
        (
            "tampered signature",
            delete.request(&tampered, ""),
            "APIGW.0301",
        ),
        (
            "wrong secret",
            Signed {
                sk: "WRONG",
                ..Signed::new(Method::DELETE, task_path(PROJECT_A, id), "")
            }
            .build(),
            "APIGW.0301",
        ),
        (
            "unknown access key",
            Signed {
                ak: "NOBODY",
                ..Signed::new(Method::DELETE, task_path(PROJECT_A, id), "")
            }
            .build(),
            "APIGW.0301",
        ),
        (
            "tampered body",
            delete.request(&good, "{\"x\":1}"),
            "APIGW.0301",
        ),
        (
            "date 16 minutes early",
            Signed {
                date: "20261127T234400Z",
                ..Signed::new(Method::DELETE, task_path(PROJECT_A, id), "")
            }
            .build(),
            "APIGW.0303",
        ),
        (
            "date 16 minutes late",
            Signed {
                date: "20261128T001600Z",
                ..Signed::new(Method::DELETE, task_path(PROJECT_A, id), "")
            }
            .build(),
            "APIGW.0303",
        ),
    ];
    for (what, request, code) in cases {
        let reply = server.send(request).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{what}");
        assert_eq!(reply.error_code(), code, "{what}");
        assert!(reply.json()["request_id"].is_string(), "{what}");
    }
    let other = Signed {
        ak: "DUMMYAKB",
        sk: "DUMMYSKB",
        ..Signed::new(Method::DELETE, task_path(PROJECT_A, id), "")
    };
    assert_eq!(
        server.send(other.build()).await.status,
        StatusCode::FORBIDDEN,
        "a key of another project"
    );
    assert_eq!(
        server.status(id).await,
        5,
        "no refused request deleted the task"
    );
    let within = Signed {
        date: "20261128T001400Z",
        ..Signed::new(Method::DELETE, task_path(PROJECT_A, id), "")
    };
    assert_eq!(
        server.send(within.build()).await.status,
        StatusCode::OK,
        "14 minutes off is accepted"
    );
}

#[tokio::test]
async fn malformed_authorization_headers_never_get_a_5xx() {
    let server = TestServer::new();
    let headers = [
        "SDK-HMAC-SHA256",
        "SDK-HMAC-SHA256 ",
        "SDK-HMAC-SHA256 Access=DUMMYAK",
        "SDK-HMAC-SHA256 Access=DUMMYAK, SignedHeaders=, Signature=00",
        "SDK-HMAC-SHA256 Access=DUMMYAK, SignedHeaders=x-sdk-date, Signature=zz",
        "SDK-HMAC-SHA256 Access=DUMMYAK, SignedHeaders=x-sdk-date;missing, Signature=00",
        "SDK-HMAC-SHA256 Access=DUMMYAK, SignedHeaders=host, Signature=00",
        "SDK-HMAC-SHA256 Access=DUMMYAK, SignedHeaders=x-sdk-date, Signature=00, Extra=1",
        "SDK-HMAC-SHA256 ===,,,",
    ];
    for (i, header) in headers.iter().enumerate() {
        let date = if i % 2 == 0 { NOW } else { "not-a-date" };
        let request = Request::builder()
            .method(Method::DELETE)
            .uri(task_path(PROJECT_A, 1))
            .header("x-sdk-date", date)
            .header("authorization", *header)
            .body(Body::empty())
            .unwrap();
        let reply = server.send(request).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{header:?}");
        assert_eq!(reply.error_code(), "APIGW.0301", "{header:?}");
    }
}

#[test]
fn vector_four_is_accepted_by_the_verifier() {
    // The exact v1 delete the Python SDK signs in vector 4 of signing.md.
    let headers = [
        ("content-type", "application/json"),
        ("user-agent", "huaweicloud-usdk-python/3.0"),
        ("x-project-id", "0123456789abcdef0123456789abcdef"),
        ("x-sdk-date", "20240101T000000Z"),
        ("host", "127.0.0.1:18080"),
    ];
    let signed = [
        "content-type",
        "host",
        "user-agent",
        "x-project-id",
        "x-sdk-date",
    ];
    let lookup = |name: &str| headers.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
    let canonical = signing::canonical_request(
        "DELETE",
        "/v1/0123456789abcdef0123456789abcdef/objectstorage/task/1",
        "",
        &signed,
        lookup,
        b"",
    )
    .unwrap();
    let sts = signing::string_to_sign("20240101T000000Z", &canonical);
    assert!(signing::verify(
        "DUMMYSK",
        &sts,
        "aaacdda82d5d381c93d5f00df5cadd26cf488a991862edd0c5e43ed9cd31819b"
    ));
    assert!(!signing::verify(
        "DUMMYSK",
        &sts,
        "aaacdda82d5d381c93d5f00df5cadd26cf488a991862edd0c5e43ed9cd31819c"
    ));
}
