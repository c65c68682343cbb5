//! What the gateway in front of the API answers (unknown routes and methods,
//! missing or bad tokens, another project's path), unique request ids, and
//! configured tokens.

use axum::http::{Method, StatusCode};

use super::snap;
use crate::support::*;

#[tokio::test]
async fn gateway_answers() {
    let server = TestServer::new();
    let id = server.running_task().await;
    let path = format!("/v1/{PROJECT_A}/objectstorage/task/{id}");
    let no_token = server.raw(Method::DELETE, &path, None, b"").await;
    snap("unauthorized_no_token", &no_token);
    assert_eq!(
        no_token.json()["request_id"].as_str(),
        no_token.headers["x-request-id"].to_str().ok()
    );
    snap(
        "unauthorized_bad_token",
        &server.raw(Method::DELETE, &path, Some("nope"), b"").await,
    );
    snap(
        "forbidden_other_project",
        &server.raw(Method::DELETE, &path, Some(TOKEN_B), b"").await,
    );
    let b_path = format!("/v1/{PROJECT_B}/objectstorage/task/{id}");
    snap(
        "other_project_path",
        &server
            .raw(Method::DELETE, &b_path, Some(TOKEN_B), b"")
            .await,
    );
    assert_eq!(
        server.status(id).await,
        2,
        "refused requests change nothing"
    );
    snap(
        "route_not_found",
        &server
            .raw(Method::GET, "/v2/whatever", Some(TOKEN_A), b"")
            .await,
    );
    snap(
        "method_not_allowed",
        &server.raw(Method::PATCH, &path, Some(TOKEN_A), b"").await,
    );
}

#[tokio::test]
async fn request_ids_are_unique() {
    let server = TestServer::new();
    let mut seen = std::collections::HashSet::new();
    for _ in 0..200 {
        let reply = server.call(Method::GET, "/task?totalcount=true", "").await;
        assert!(seen.insert(reply.headers["x-request-id"].to_str().unwrap().to_owned()));
    }
}

#[tokio::test]
async fn tokens_can_be_configured() {
    let server = TestServer::with_config(|config| {
        config.tokens = vec![oms_reference_server::TokenBinding {
            token: oms_reference_server::Secret::new("vendor-token"),
            project_id: PROJECT_B.to_owned(),
        }];
    });
    let count = format!("/v1/{PROJECT_B}/objectstorage/task?totalcount=true");
    assert_eq!(
        server
            .raw(Method::GET, &count, Some("vendor-token"), b"")
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        server
            .raw(Method::GET, &count, Some(TOKEN_B), b"")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let secret = format!("{:?}", oms_reference_server::Secret::new("vendor-token"));
    assert!(
        !secret.contains("vendor-token"),
        "Debug redacts secrets: {secret}"
    );
}
