//! The documents themselves, in process: served byte for byte as YAML
//! without credentials (other methods get the OMS 405), OpenAPI 3.1 with
//! every reference resolved, and every operation declaring the OMS error
//! body for its error answers.

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::{Value, json};

use super::{DOCUMENTS, document, fixture, is_error_body, operations, refs, resolve};
use crate::support::{TOKEN_A, TestServer};

/// The error answers every operation declares: the OMS ones (400, 401, 403,
/// 413) and the connection layer's (408, 414, 429, 431), each with the OMS
/// error body.
const DECLARED_ERRORS: [&str; 8] = ["400", "401", "403", "408", "413", "414", "429", "431"];

#[tokio::test]
async fn both_documents_are_served_byte_for_byte_without_credentials() {
    let server = TestServer::new();
    for (dialect, route) in DOCUMENTS {
        let fixture = std::fs::read(fixture(dialect)).expect("read the fixture");
        for method in [Method::GET, Method::HEAD] {
            // No credentials at all: the documents are public.
            let request = Request::builder()
                .method(method.clone())
                .uri(route)
                .body(Body::empty())
                .expect("request");
            let reply = server.send(request).await;
            assert_eq!(reply.status, StatusCode::OK, "{method} {route}");
            assert_eq!(
                reply.headers["content-type"], "application/yaml",
                "{method} {route}: RFC 9512's media type"
            );
            let id = reply.headers["x-request-id"].to_str().unwrap_or_default();
            assert!(
                id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()),
                "{method} {route} carries an X-Request-Id, got {id:?}"
            );
            let expected: &[u8] = if method == Method::GET { &fixture } else { b"" };
            assert!(
                reply.bytes == expected,
                "{method} {route} serves exactly the bytes of fixtures/openapi/oms-{dialect}.yaml \
                 ({} bytes served, {} expected)",
                reply.bytes.len(),
                expected.len()
            );
            assert_eq!(
                reply.headers["content-length"].to_str().ok(),
                Some(fixture.len().to_string().as_str()),
                "{method} {route}: Content-Length"
            );
        }
        // A token changes nothing, even one the server does not know.
        for token in [TOKEN_A, "not-a-token"] {
            let reply = server.raw(Method::GET, route, Some(token), b"").await;
            assert_eq!(reply.status, StatusCode::OK, "GET {route} with {token}");
            assert!(reply.bytes == fixture, "GET {route} with {token}");
        }
    }
}

#[tokio::test]
async fn other_methods_on_the_documents_get_the_oms_405() {
    let server = TestServer::new();
    for (_, route) in DOCUMENTS {
        for method in [
            Method::POST,
            Method::PUT,
            Method::DELETE,
            Method::PATCH,
            Method::OPTIONS,
        ] {
            for token in [None, Some(TOKEN_A)] {
                let reply = server.raw(method.clone(), route, token, b"{}").await;
                let what = format!("{method} {route} (token {token:?})");
                crate::support::expect(&reply, 405, "APIGW.0101", &what);
                assert_eq!(reply.headers["content-type"], "application/json", "{what}");
                assert_eq!(reply.headers["allow"], "GET,HEAD", "{what}");
                assert!(reply.headers.contains_key("x-request-id"), "{what}");
            }
        }
    }
}

#[test]
fn both_documents_are_openapi_3_1_with_every_reference_resolved() {
    for (dialect, _) in DOCUMENTS {
        let doc = document(dialect);
        let what = format!("oms-{dialect}.yaml");
        assert_eq!(doc["openapi"], "3.1.0", "{what}");
        for field in ["title", "version", "description"] {
            assert!(doc["info"][field].is_string(), "{what}: info.{field}");
        }
        assert!(
            doc["info"]["description"]
                .as_str()
                .is_some_and(|d| d.contains("/openapi/")),
            "{what}: info.description names where the other document is served"
        );
        let mut targets = Vec::new();
        refs(&doc, &mut targets);
        assert!(targets.len() > 50, "{what}: too few $refs found");
        for target in &targets {
            assert!(
                target
                    .strip_prefix('#')
                    .is_some_and(|p| doc.pointer(p).is_some()),
                "{what}: $ref {target} does not resolve"
            );
        }

        // The two ways to authenticate, as alternatives on every operation.
        let schemes = &doc["components"]["securitySchemes"];
        assert_eq!(
            schemes["token"],
            json!({"type": "apiKey", "in": "header", "name": "X-Auth-Token",
                   "description": schemes["token"]["description"]}),
            "{what}: the token scheme"
        );
        assert_eq!(schemes["aksk"]["type"], "http", "{what}");
        assert_eq!(schemes["aksk"]["scheme"], "SDK-HMAC-SHA256", "{what}");
        assert!(
            schemes["aksk"]["description"]
                .as_str()
                .is_some_and(|d| d.contains("signing.md")),
            "{what}: the AK/SK scheme points to signing.md"
        );
        assert_eq!(
            doc["security"],
            json!([{"token": []}, {"aksk": []}]),
            "{what}"
        );

        let mut ids = BTreeSet::new();
        let operations = operations(&doc);
        assert!(operations.len() >= 6, "{what}: too few operations");
        for (method, path, item, operation) in operations {
            let op = format!("{what} {method} {path}");
            let id = operation["operationId"].as_str().expect("an operationId");
            assert!(ids.insert(id.to_owned()), "{op}: operationId {id} twice");
            assert!(operation["description"].is_string(), "{op}: description");

            // Every template parameter is a required path parameter.
            let parameters: Vec<&Value> = item["parameters"]
                .as_array()
                .into_iter()
                .chain(operation["parameters"].as_array())
                .flatten()
                .map(|p| resolve(&doc, p))
                .collect();
            for name in path
                .split('/')
                .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
            {
                assert!(
                    parameters
                        .iter()
                        .any(|p| p["name"] == name && p["in"] == "path" && p["required"] == true),
                    "{op}: the path parameter {name} is not declared"
                );
            }

            let responses = operation["responses"]
                .as_object()
                .expect("responses is an object");
            assert!(responses.contains_key("200"), "{op}: a 200 answer");
            for code in DECLARED_ERRORS {
                assert!(responses.contains_key(code), "{op}: no {code} answer");
            }
            for (code, response) in responses {
                let response = resolve(&doc, response);
                assert!(
                    !code.starts_with('5'),
                    "{op}: declares {code}; the server never means to answer 5xx"
                );
                let header = resolve(&doc, &response["headers"]["X-Request-Id"]);
                assert_eq!(
                    header["required"], true,
                    "{op} {code}: X-Request-Id is declared, required"
                );
                if code.starts_with('4') {
                    let content = response["content"].as_object().expect("content");
                    let keys: Vec<&String> = content.keys().collect();
                    assert_eq!(keys, ["application/json"], "{op} {code}: content");
                    assert!(
                        is_error_body(&doc, &content["application/json"]["schema"]),
                        "{op} {code}: the answer is not the shared OMS error body"
                    );
                }
            }
        }
    }
}
