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
            assert_deleted(&server.v2_delete(v2).await, "v2 delete with a Content-Type");
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

// The faults that lose only inside a race window. The stop's and the start's
// bookkeeping sleep on tokio's clock, which these tests pause: it moves only
// when every request in flight waits on it, so the delete sent while the
// operation sleeps is always inside its window, however slow the machine.

/// A v2 delete of task `id`.
async fn v2_delete(server: &TestServer, id: u64) -> Reply {
    server.v2_delete(id).await
}

/// Runs `operation` and, while it is in flight, a delete of `id`, sent as soon
/// as the task's v2 status is one of `ready` (polled, with a bound): the
/// answers to both.
async fn delete_during(
    server: &TestServer,
    id: u64,
    operation: impl std::future::Future<Output = Reply>,
    ready: &[u64],
) -> (Reply, Reply) {
    let racer = async {
        for _ in 0..1_000 {
            if ready.contains(&server.v2_status(id).await) {
                return v2_delete(server, id).await;
            }
            tokio::task::yield_now().await;
        }
        panic!("task {id} never reached one of the states {ready:?}");
    };
    tokio::join!(operation, racer)
}

/// A stop of `id` through `dialect`.
async fn stop(server: &TestServer, dialect: &str, id: u64) -> Reply {
    match dialect {
        "v1" => server.put(id, r#"{"operation":"stop"}"#).await,
        _ => server.v2_stop(id).await,
    }
}

/// A start of `id` through `dialect`.
async fn start(server: &TestServer, dialect: &str, id: u64) -> Reply {
    match dialect {
        "v1" => server.put(id, START_KEYS).await,
        _ => server.v2_start(id).await,
    }
}

/// A task stopped after running (status 3).
async fn stopped_task(server: &TestServer) -> u64 {
    let id = running_task(server).await;
    assert_eq!(stop(server, "v2", id).await.status, StatusCode::OK);
    server.advance(PAUSE_MS);
    assert_eq!(server.v2_status(id).await, 3, "task {id} should be stopped");
    id
}

#[tokio::test(start_paused = true)]
async fn stop_rewrites_record_undoes_a_delete_accepted_during_the_stop() {
    for dialect in ["v1", "v2"] {
        // Faithful: the stopped task pauses (7), and a delete is refused.
        let faithful = server(None);
        let id = running_task(&faithful).await;
        let (stopped, deleted) =
            delete_during(&faithful, id, stop(&faithful, dialect, id), &[3, 7]).await;
        let what = format!("faithful {dialect} stop");
        assert_eq!(stopped.status, StatusCode::OK, "{what}: {}", text(&stopped));
        assert_refused(&deleted, 400, "OMS.0063", &format!("{what}: delete"));
        assert_eq!(faithful.v2_status(id).await, 7, "{what}: pausing");

        // The fault: the task is stopped at once (3), the delete is accepted,
        // and the stop's late write-back brings the task back.
        let faulty = server(Some(Fault::StopRewritesRecord));
        let id = running_task(&faulty).await;
        let (stopped, deleted) =
            delete_during(&faulty, id, stop(&faulty, dialect, id), &[3, 7]).await;
        let what = format!("faulty {dialect} stop");
        assert_eq!(stopped.status, StatusCode::OK, "{what}: {}", text(&stopped));
        assert_deleted(&deleted, &format!("{what}: delete inside the window"));
        assert_eq!(faulty.v2_status(id).await, 3, "{what}: the task is back");
        assert_eq!(faulty.count().await, 1, "{what}: and counted");

        // Outside the window the fault loses nothing.
        assert_deleted(&v2_delete(&faulty, id).await, &what);
        assert!(v2_gone(&faulty, id).await, "{what}: a later delete holds");
    }
}

#[tokio::test(start_paused = true)]
async fn start_ignores_delete_undoes_a_delete_accepted_during_the_start() {
    // One parallel slot, held by another task: the started task waits (1),
    // which a faithful server lets a delete remove.
    let one_slot = |fault: Option<Fault>| {
        TestServer::with_config(|config| {
            config.fault = fault;
            config.limits.max_parallel = 1;
        })
    };
    for dialect in ["v1", "v2"] {
        for fault in [None, Some(Fault::StartIgnoresDelete)] {
            let server = one_slot(fault);
            let id = stopped_task(&server).await;
            let other = server.v2_create("long-source").await;
            server.advance(150);
            assert_eq!(
                server.v2_status(other).await,
                2,
                "task {other} holds the slot"
            );
            let (started, deleted) =
                delete_during(&server, id, start(&server, dialect, id), &[1, 3]).await;
            let what = format!("{fault:?}: {dialect} start of a task that must wait");
            assert_eq!(started.status, StatusCode::OK, "{what}: {}", text(&started));
            assert_deleted(&deleted, &format!("{what}: delete"));
            if fault.is_some() {
                assert_eq!(server.v2_status(id).await, 1, "{what}: back, waiting");
            } else {
                assert!(v2_gone(&server, id).await, "{what}: gone");
            }
        }

        // With a free slot the started task runs: a faithful server refuses
        // the delete; the faulty one accepts it, and the task runs anyway.
        for fault in [None, Some(Fault::StartIgnoresDelete)] {
            let server = server(fault);
            let id = stopped_task(&server).await;
            let (started, deleted) =
                delete_during(&server, id, start(&server, dialect, id), &[2, 3]).await;
            let what = format!("{fault:?}: {dialect} start");
            assert_eq!(started.status, StatusCode::OK, "{what}: {}", text(&started));
            if fault.is_some() {
                assert_deleted(&deleted, &format!("{what}: delete inside the window"));
            } else {
                assert_refused(&deleted, 400, "OMS.0063", &format!("{what}: delete"));
            }
            assert_eq!(server.v2_status(id).await, 2, "{what}: running");
        }
    }
}

#[tokio::test(start_paused = true)]
async fn start_ignores_delete_refuses_what_the_engine_refuses() {
    let (faithful, faulty) = (server(None), server(Some(Fault::StartIgnoresDelete)));
    let running = (running_task(&faithful).await, running_task(&faulty).await);
    let done = (
        succeeded_task(&faithful).await,
        succeeded_task(&faulty).await,
    );
    for (what, (a, b)) in [
        ("running", running),
        ("succeeded", done),
        ("missing", (999, 999)),
    ] {
        let (expected, got) = (
            start(&faithful, "v2", a).await,
            start(&faulty, "v2", b).await,
        );
        assert!(
            !expected.status.is_success(),
            "start of a {what} task: {}",
            text(&expected)
        );
        assert_eq!(
            (got.status, got.error_code()),
            (expected.status, expected.error_code()),
            "start of a {what} task: refused as the faithful server refuses it"
        );
    }
}

/// A task that has just succeeded, with the clock at the very millisecond of
/// its success (stepped to it a millisecond at a time).
async fn just_succeeded(server: &TestServer) -> u64 {
    let id = server.v2_create("ok-source").await;
    server.advance(150);
    let left = server.v2_get(id).await.json()["left_time"]
        .as_u64()
        .expect("left_time");
    server.advance(left.saturating_sub(5));
    assert_eq!(server.v2_status(id).await, 2, "task {id} is still running");
    for _ in 0..1_000 {
        server.advance(1);
        if server.v2_status(id).await == 5 {
            return id;
        }
    }
    panic!("task {id} never succeeded");
}

#[tokio::test]
async fn finish_reinserts_writes_back_a_task_deleted_just_after_its_success() {
    for fault in [None, Some(Fault::FinishReinserts)] {
        let server = server(fault);
        // Deleted at its success, 249 ms after it, and 250 ms after it.
        for (after, comes_back) in [(0, true), (249, true), (250, false)] {
            let id = just_succeeded(&server).await;
            server.advance(after);
            let what = format!("{fault:?}: delete {after} ms after the success");
            assert_deleted(&v2_delete(&server, id).await, &what);
            assert!(v2_gone(&server, id).await, "{what}: gone at first");
            // Up to the write-back's instant, 250 ms after the success.
            server.advance(249 - after.min(249));
            assert!(v2_gone(&server, id).await, "{what}: still gone at 249 ms");
            server.advance(1);
            if fault.is_some() && comes_back {
                assert_eq!(server.v2_status(id).await, 5, "{what}: back at 250 ms");
                assert_eq!(server.count().await, 1, "{what}: counted");
                let listed = server.v2(Method::GET, "?limit=100", "").await.json();
                assert_eq!(listed["count"], 1, "{what}: listed");
                assert_eq!(listed["tasks"][0]["id"], id, "{what}: listed");
                // Outside the window the fault loses nothing.
                assert_deleted(&v2_delete(&server, id).await, &what);
            }
            server.advance(1_000);
            assert!(v2_gone(&server, id).await, "{what}: gone for good");
            assert_eq!(server.count().await, 0, "{what}: none counted");
        }
    }
}

#[tokio::test]
async fn delete_racing_stop_still_answers_200_and_keeps_the_task() {
    for fault in [None, Some(Fault::DeleteRacingStop)] {
        let server = server(fault);
        let id = running_task(&server).await;
        assert_eq!(stop(&server, "v2", id).await.status, StatusCode::OK);
        server.advance(PAUSE_MS);
        let what = format!("{fault:?}: delete right after a stop");
        assert_deleted(&v2_delete(&server, id).await, &what);
        if fault.is_some() {
            assert_eq!(server.v2_status(id).await, 3, "{what}: the task survives");
        } else {
            assert!(v2_gone(&server, id).await, "{what}: gone");
        }
    }
}

#[tokio::test]
async fn delete_pausing_deletes_a_pausing_task_the_faithful_server_refuses() {
    for fault in [None, Some(Fault::DeletePausing)] {
        let server = server(fault);
        let id = running_task(&server).await;
        assert_eq!(stop(&server, "v2", id).await.status, StatusCode::OK);
        // The clock stands still: the task is still winding down its pause.
        assert_eq!(server.v2_status(id).await, 7, "task {id} should be pausing");
        let what = format!("{fault:?}: delete of a pausing task");
        let reply = v2_delete(&server, id).await;
        if fault.is_some() {
            assert_deleted(&reply, &what);
            assert!(v2_gone(&server, id).await, "{what}: gone");
        } else {
            assert_refused(&reply, 400, "OMS.0063", &what);
            assert_eq!(server.v2_status(id).await, 7, "{what}: still pausing");
        }
        // A running task is none of this fault's business.
        let running = running_task(&server).await;
        assert_refused(&v2_delete(&server, running).await, 400, "OMS.0063", &what);
    }
}
