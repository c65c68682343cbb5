//! The faults of the v2 rules, with the `faults` feature on: each does what
//! its catalogue line says, and the faithful server (no fault) does not. One
//! test per fault, each driving the same requests through both servers, so
//! the difference the kit must catch is the only difference shown.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use oms_reference_server::faults::Fault;
use serde_json::Value;

use crate::support::*;

fn server(fault: Option<Fault>) -> TestServer {
    TestServer::with_config(|config| config.fault = fault)
}

/// A task that has succeeded (status 5 in both dialects): deletable.
async fn succeeded_task(server: &TestServer) -> u64 {
    let id = server.v2_create("ok-source").await;
    server.advance(2_000);
    assert_eq!(
        server.v2_status(id).await,
        5,
        "task {id} should have succeeded"
    );
    id
}

/// A task that is running (status 2 in both dialects): not deletable.
async fn running_task(server: &TestServer) -> u64 {
    let id = server.v2_create("long-source").await;
    server.advance(150);
    assert_eq!(server.v2_status(id).await, 2, "task {id} should be running");
    id
}

/// A `DELETE` of `path` as Terraform sends it: no `Content-Type`, no
/// `Content-Length`, no body (here with a token rather than a signature).
async fn untyped_delete(server: &TestServer, path: &str) -> Reply {
    let request = Request::builder()
        .method(Method::DELETE)
        .uri(path)
        .header("x-auth-token", TOKEN_A)
        .body(Body::empty())
        .expect("valid request");
    server.send(request).await
}

fn text(reply: &Reply) -> String {
    String::from_utf8_lossy(&reply.bytes).into_owned()
}

fn assert_deleted(reply: &Reply, what: &str) {
    assert_eq!(reply.status, StatusCode::OK, "{what}: {}", text(reply));
    assert!(
        reply.bytes.is_empty(),
        "{what}: no body, got {}",
        text(reply)
    );
}

fn assert_refused(reply: &Reply, status: u16, code: &str, what: &str) {
    assert_eq!(reply.status.as_u16(), status, "{what}: {}", text(reply));
    assert_eq!(reply.error_code(), code, "{what}");
}

async fn v2_gone(server: &TestServer, id: u64) -> bool {
    server.v2_get(id).await.error_code() == "OMS.1009"
}

#[tokio::test]
async fn delete_needs_content_type_refuses_a_terraform_shaped_delete() {
    for (fault, refused) in [(None, false), (Some(Fault::DeleteNeedsContentType), true)] {
        let server = server(fault);
        let (v2, v1) = (succeeded_task(&server).await, succeeded_task(&server).await);
        let paths = [
            (v2, format!("/v2/{PROJECT_A}/tasks/{v2}")),
            (v1, format!("/v1/{PROJECT_A}/objectstorage/task/{v1}")),
        ];
        for (id, path) in &paths {
            let reply = untyped_delete(&server, path).await;
            let what = format!("{fault:?}: DELETE {path} without Content-Type");
            if refused {
                assert_refused(&reply, 400, "OMS.0067", &what);
                assert_eq!(server.v2_status(*id).await, 5, "{what}: the task stays");
            } else {
                assert_deleted(&reply, &what);
                assert!(v2_gone(&server, *id).await, "{what}: the task is gone");
            }
        }
        if refused {
            // Only the missing header is refused: the kit's own deletes, which
            // carry `Content-Type: application/json`, still succeed.
            assert_deleted(
                &server.v2(Method::DELETE, &format!("/{v2}"), "").await,
                "v2 delete with a Content-Type",
            );
            assert_deleted(&server.delete(v1).await, "v1 delete with a Content-Type");
            assert!(v2_gone(&server, v2).await && v2_gone(&server, v1).await);
        }
    }
}

/// The v2 list filtered by `status`, as (count, ids listed).
async fn v2_filtered(server: &TestServer, status: u64) -> (u64, Vec<u64>) {
    let page = server
        .v2(Method::GET, &format!("?status={status}"), "")
        .await;
    let page = page.json();
    let ids = page["tasks"]
        .as_array()
        .expect("a tasks array")
        .iter()
        .map(|t| t["id"].as_u64().expect("id"))
        .collect();
    (page["count"].as_u64().expect("count"), ids)
}

/// The v1 count filtered by `state`, and the ids of its page.
async fn v1_filtered(server: &TestServer, state: u64) -> (u64, Vec<u64>) {
    let count = server
        .call(
            Method::GET,
            &format!("/task?totalcount=true&state={state}"),
            "",
        )
        .await
        .json()["taskcount"]
        .as_u64()
        .expect("taskcount");
    let page = server
        .call(
            Method::GET,
            &format!("/task?start=0&limit=100&state={state}"),
            "",
        )
        .await
        .json();
    let ids = page
        .as_array()
        .expect("a v1 page is an array")
        .iter()
        .map(|t| t["id"].as_u64().expect("id"))
        .collect();
    (count, ids)
}

#[tokio::test]
async fn count_ignores_status_counts_every_task_in_a_filtered_count() {
    for fault in [None, Some(Fault::CountIgnoresStatus)] {
        let server = server(fault);
        let done = succeeded_task(&server).await;
        let running = running_task(&server).await;
        // The unfiltered counts are right either way.
        let all = server.v2(Method::GET, "", "").await.json();
        assert_eq!(all["count"], 2, "{fault:?}: v2 unfiltered count");
        assert_eq!(server.count().await, 2, "{fault:?}: v1 unfiltered count");
        // The pages list only the status asked for either way; the counts differ.
        let filtered_count = if fault.is_some() { 2 } else { 1 };
        for (status, id) in [(5, done), (2, running)] {
            assert_eq!(
                v2_filtered(&server, status).await,
                (filtered_count, vec![id]),
                "{fault:?}: v2 status={status}"
            );
            assert_eq!(
                v1_filtered(&server, status).await,
                (filtered_count, vec![id]),
                "{fault:?}: v1 state={status}"
            );
        }
    }
}

#[tokio::test]
async fn delete_on_action_route_deletes_the_task_through_its_action_route() {
    let actions = [
        ("stop", "POST"),
        ("start", "POST"),
        ("bandwidth-policy", "PUT"),
    ];
    let route = |id: u64, action: &str| format!("/{id}/{action}");

    // Faithful: the gateway's 404 on every action route, `Allow` header and
    // all, and the task is intact.
    let faithful = server(None);
    let keep = succeeded_task(&faithful).await;
    for (action, allow) in actions {
        let reply = faithful.v2(Method::DELETE, &route(keep, action), "").await;
        let what = format!("faithful DELETE …/{action}");
        assert_refused(&reply, 404, "APIGW.0101", &what);
        assert_eq!(reply.headers["allow"], allow, "{what}");
        assert_eq!(faithful.v2_status(keep).await, 5, "{what}: the task stays");
    }
    // …and whatever the id: the route answers before any id is parsed.
    let reply = faithful.v2(Method::DELETE, "/abc/stop", "").await;
    assert_refused(&reply, 404, "APIGW.0101", "faithful DELETE /abc/stop");

    // The fault: a DELETE there is a delete of the task, refused if it runs.
    let faulty = server(Some(Fault::DeleteOnActionRoute));
    for (action, _) in actions {
        let what = format!("faulty DELETE …/{action}");
        let running = running_task(&faulty).await;
        let reply = faulty.v2(Method::DELETE, &route(running, action), "").await;
        assert_refused(
            &reply,
            400,
            "OMS.0063",
            &format!("{what} of a running task"),
        );
        assert_eq!(faulty.v2_status(running).await, 2, "{what}: still running");

        let id = succeeded_task(&faulty).await;
        let reply = faulty.v2(Method::DELETE, &route(id, action), "").await;
        assert_deleted(&reply, &what);
        assert!(v2_gone(&faulty, id).await, "{what}: the task is gone");
        let listed: Value = faulty.v2(Method::GET, "?limit=100", "").await.json();
        assert!(
            !listed["tasks"]
                .as_array()
                .expect("tasks")
                .iter()
                .any(|t| t["id"] == id),
            "{what}: the task is no longer listed"
        );
    }
    // Only DELETE is bent, and only behind the credential check: another
    // method the route does not serve is still 404, a DELETE without a token 401.
    let id = succeeded_task(&faulty).await;
    let path = format!("/v2/{PROJECT_A}/tasks/{id}/stop");
    let reply = faulty.raw(Method::DELETE, &path, None, b"").await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", text(&reply));
    let reply = faulty.v2(Method::GET, &route(id, "stop"), "").await;
    assert_refused(&reply, 404, "APIGW.0101", "faulty GET …/stop");
    assert_eq!(faulty.v2_status(id).await, 5, "GET …/stop deletes nothing");
}
