//! Which requests reach a v2 task: malformed ids, the routes beside a task
//! that no `DELETE` may reach, and an `X-Project-Id` of another project or
//! given twice.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};

use super::snap;
use crate::support::*;

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

/// Two `X-Project-Id` headers are refused, whatever they name: only the
/// first was checked, so a second could name another project unchecked.
/// 400 `OMS.0064`: the request's parameters are wrong, not its credentials
/// (401) or its rights (403).
#[tokio::test]
async fn a_repeated_x_project_id_is_refused() {
    let server = TestServer::new();
    let id = server.v2_create("ok-source").await;
    server.advance(2_000);
    let path = format!("/v2/{PROJECT_A}/tasks/{id}");
    for second in [PROJECT_B, PROJECT_A] {
        let request = Request::builder()
            .method(Method::DELETE)
            .uri(&path)
            .header("x-auth-token", TOKEN_A)
            .header("x-project-id", PROJECT_A)
            .header("x-project-id", second)
            .body(Body::empty())
            .unwrap();
        let reply = server.send(request).await;
        expect_naming(&reply, "OMS.0064", "`X-Project-Id`", second);
        assert!(reply.headers.contains_key("x-request-id"));
    }
    let v1 = Request::builder()
        .method(Method::DELETE)
        .uri(format!("/v1/{PROJECT_A}/objectstorage/task/{id}"))
        .header("x-auth-token", TOKEN_A)
        .header("x-project-id", PROJECT_A)
        .header("x-project-id", PROJECT_B)
        .body(Body::empty())
        .unwrap();
    expect(
        &server.send(v1).await,
        400,
        "OMS.0064",
        "v1, two X-Project-Id",
    );
    assert_eq!(
        server.v2_status(id).await,
        5,
        "refused requests change nothing"
    );
}
