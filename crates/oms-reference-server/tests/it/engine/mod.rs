//! The simulated engine seen through the API: scheduling, progress, the
//! bandwidth policy, failure and resume, and atomicity under concurrency.
//!
//! The engine's primitives for fault injection are tested on a project
//! directly, in `primitives`.

mod primitives;

use std::sync::Arc;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::*;

#[tokio::test]
async fn tasks_move_through_the_states_by_themselves() {
    let server = TestServer::new();
    let ok = server.create(SUCCEEDING).await;
    let bad = server.create(FAILING).await;
    assert_eq!(server.status(ok).await, 0);
    server.advance(100);
    assert_eq!(server.status(ok).await, 2);
    server.advance(1_000);
    assert_eq!(
        server.status(ok).await,
        5,
        "a succeeding task is done within about a second"
    );
    let failed = server.get(bad).await.json();
    assert_eq!(failed["status"], 4);
    assert_eq!(failed["error_reason"]["error_code"], "OMS.0031");
    assert!(failed["fail_num"].as_u64().unwrap() > 0);
    let done = server.get(ok).await.json();
    assert_eq!(done["progress"], 1.0);
    assert_eq!(done["complete_size"], done["total_size"]);
    assert_eq!(done["success_num"], done["total_num"]);
    assert_eq!(done["migrate_speed"], 0);
}

#[tokio::test]
async fn at_most_max_parallel_tasks_run_and_the_rest_wait_in_order() {
    let server = TestServer::new();
    let mut ids = Vec::new();
    for _ in 0..7 {
        ids.push(server.create(RUNNING).await);
    }
    server.advance(150);
    let mut statuses = Vec::new();
    for &id in &ids {
        statuses.push(server.status(id).await);
    }
    assert_eq!(statuses, [2, 2, 2, 2, 2, 1, 1]);
    assert_eq!(
        server.put(ids[0], r#"{"operation":"stop"}"#).await.status,
        StatusCode::OK
    );
    assert_eq!(
        server.status(ids[5]).await,
        1,
        "a pausing task still holds its slot"
    );
    server.advance(PAUSE_MS);
    assert_eq!(
        server.status(ids[5]).await,
        2,
        "the first waiting task takes the freed slot"
    );
    assert_eq!(server.status(ids[6]).await, 1);
}

#[tokio::test]
async fn progress_advances_consistently_and_resumes_after_stop() {
    let server = TestServer::new();
    let id = server.running_task().await;
    let at = |v: &Value, k: &str| v[k].as_u64().unwrap();
    let first = server.get(id).await.json();
    server.advance(10_000);
    let second = server.get(id).await.json();
    assert!(at(&second, "complete_size") > at(&first, "complete_size"));
    assert!(at(&second, "success_num") >= at(&first, "success_num"));
    assert!(at(&second, "total_time") == at(&first, "total_time") + 10_000);
    assert!(second["progress"].as_f64().unwrap() >= first["progress"].as_f64().unwrap());
    assert_eq!(
        at(&second, "migrate_speed"),
        oms_reference_server::workload::BASE_RATE
    );
    assert!(at(&second, "left_time") < at(&first, "left_time"));

    server.put(id, r#"{"operation":"stop"}"#).await;
    let stopped = server.get(id).await.json();
    server.advance(60_000);
    let later = server.get(id).await.json();
    assert_eq!(
        stopped["complete_size"], later["complete_size"],
        "a stopped task does not move"
    );
    assert_eq!(later["migrate_speed"], 0);

    server.put(id, START_KEYS).await;
    server.advance(1_000);
    let resumed = server.get(id).await.json();
    assert_eq!(resumed["status"], 2);
    assert!(
        at(&resumed, "complete_size") > at(&later, "complete_size"),
        "resumes where it stopped"
    );
    assert_eq!(
        resumed["start_time"], first["start_time"],
        "start_time is the first start"
    );
}

#[tokio::test]
async fn bandwidth_policy_caps_the_rate_inside_its_window() {
    let server = TestServer::new();
    let id = server.running_task().await;
    // EPOCH_MS is midnight UTC; this window covers 00:00–12:00.
    let policy = json!({"operation":"change_bandwidthpolicy",
        "bandwidth_policy":[{"start":"00:00","end":"12:00","max_bandwidth":5_242_880}]});
    assert_eq!(
        server.put(id, &policy.to_string()).await.status,
        StatusCode::OK
    );
    let before = server.get(id).await.json();
    assert_eq!(before["migrate_speed"], 5_242_880);
    server.advance(10_000);
    let after = server.get(id).await.json();
    assert_eq!(
        after["complete_size"].as_u64().unwrap() - before["complete_size"].as_u64().unwrap(),
        52_428_800,
        "ten seconds at 5 MiB/s"
    );
    let bad = json!({"operation":"change_bandwidthpolicy","bandwidth_policy":[{"start":"25:00","end":"12:00","max_bandwidth":5_242_880}]});
    assert_eq!(
        server.put(id, &bad.to_string()).await.error_code(),
        "OMS.0083"
    );
}

#[tokio::test]
async fn a_failed_task_restarts_and_succeeds() {
    let server = TestServer::new();
    let id = server.create(FAILING).await;
    server.advance(2_000);
    assert_eq!(server.status(id).await, 4);
    assert_eq!(server.put(id, START_KEYS).await.status, StatusCode::OK);
    server.advance(2_000);
    let task = server.get(id).await.json();
    assert_eq!(task["status"], 5);
    assert_eq!(task["error_reason"], "");
}

#[tokio::test]
async fn waiting_tasks_are_capped() {
    let server = TestServer::with_limits(oms_reference_server::Limits {
        max_parallel: 0,
        max_waiting: 2,
        ..Default::default()
    });
    server.create(RUNNING).await;
    server.create(RUNNING).await;
    server.advance(150);
    let refused = server.call(Method::POST, "/task", RUNNING).await;
    assert_eq!(refused.error_code(), "OMS.0077");
    assert_eq!(server.count().await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_deletes_give_exactly_one_success() {
    let server = Arc::new(TestServer::new());
    for _ in 0..20 {
        let id = server.create(SUCCEEDING).await;
        server.advance(2_000);
        let handles: Vec<_> = (0..16)
            .map(|_| {
                let server = server.clone();
                tokio::spawn(async move { server.delete(id).await })
            })
            .collect();
        let mut ok = 0;
        for handle in handles {
            let reply = handle.await.unwrap();
            match reply.status {
                StatusCode::OK => ok += 1,
                _ => assert_eq!(reply.error_code(), "OMS.1009"),
            }
        }
        assert_eq!(ok, 1, "task {id}: exactly one delete wins");
        assert_eq!(server.get(id).await.error_code(), "OMS.1009");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn delete_racing_stop_and_start_never_leaves_a_deleted_task_running() {
    let server = Arc::new(TestServer::new());
    for _ in 0..30 {
        let id = server.running_task().await;
        let ops = [
            (Method::PUT, r#"{"operation":"stop"}"#),
            (Method::DELETE, ""),
            (Method::PUT, START_KEYS),
            (Method::DELETE, ""),
            (Method::PUT, r#"{"operation":"stop"}"#),
        ];
        let handles: Vec<_> = ops
            .into_iter()
            .map(|(method, body)| {
                let server = server.clone();
                tokio::spawn(async move {
                    let is_delete = method == Method::DELETE;
                    (
                        is_delete,
                        server.call(method, &format!("/task/{id}"), body).await,
                    )
                })
            })
            .collect();
        let mut deleted = false;
        for handle in handles {
            let (is_delete, reply) = handle.await.unwrap();
            assert!(reply.status.is_success() || reply.status == StatusCode::BAD_REQUEST);
            deleted |= is_delete && reply.status == StatusCode::OK;
        }
        let after = server.get(id).await;
        if deleted {
            assert_eq!(
                after.error_code(),
                "OMS.1009",
                "a successful delete means gone"
            );
            let list = server
                .call(Method::GET, "/task?start=0&limit=100", "")
                .await
                .json();
            assert!(list.as_array().unwrap().iter().all(|t| t["id"] != id));
        } else {
            assert_eq!(
                after.status,
                StatusCode::OK,
                "a refused delete means the task exists"
            );
            // Leave the project clean for the next round.
            server.put(id, r#"{"operation":"stop"}"#).await;
            server.advance(PAUSE_MS);
            assert_eq!(server.delete(id).await.status, StatusCode::OK);
        }
    }
    assert_eq!(server.count().await, 0);
}

/// A wall clock that NTP can step back.
#[derive(Debug)]
struct SteppedClock(std::sync::atomic::AtomicU64);

impl oms_reference_server::clock::Clock for SteppedClock {
    fn now_ms(&self) -> u64 {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

#[tokio::test]
async fn a_clock_stepped_back_never_makes_time_run_backwards() {
    use std::sync::atomic::Ordering::SeqCst;
    let clock = Arc::new(SteppedClock(std::sync::atomic::AtomicU64::new(EPOCH_MS)));
    let router = oms_reference_server::router(oms_reference_server::Config {
        clock: clock.clone(),
        ..oms_reference_server::Config::default()
    });
    let call = |method: Method, rest: String, body: &'static str| {
        let router = router.clone();
        async move {
            let request = axum::http::Request::builder()
                .method(method)
                .uri(format!("/v1/{PROJECT_A}/objectstorage{rest}"))
                .header("x-auth-token", TOKEN_A)
                .body(axum::body::Body::from(body))
                .unwrap();
            let response = tower::ServiceExt::oneshot(router, request).await.unwrap();
            let status = response.status();
            let bytes = http_body_util::BodyExt::collect(response.into_body())
                .await
                .unwrap()
                .to_bytes();
            (
                status,
                serde_json::from_slice::<Value>(&bytes).unwrap_or(Value::Null),
            )
        }
    };
    let (_, created) = call(Method::POST, "/task".into(), RUNNING).await;
    let id = created["id"].as_u64().unwrap();
    clock.0.store(EPOCH_MS + 10_000, SeqCst);
    let (_, before) = call(Method::GET, format!("/task/{id}"), "").await;
    assert_eq!(before["status"], 2);
    // NTP steps the clock back by a minute: nothing panics, nothing runs backwards.
    clock.0.store(EPOCH_MS - 50_000, SeqCst);
    let (_, after) = call(Method::GET, format!("/task/{id}"), "").await;
    assert!(after["total_time"].as_u64() >= before["total_time"].as_u64());
    assert!(after["complete_size"].as_u64() >= before["complete_size"].as_u64());
    let (stopped, _) = call(
        Method::PUT,
        format!("/task/{id}"),
        r#"{"operation":"stop"}"#,
    )
    .await;
    assert_eq!(stopped, StatusCode::OK);
    // The pause runs from the latest instant seen, not the stepped-back clock.
    let (pausing, _) = call(Method::DELETE, format!("/task/{id}"), "").await;
    assert_eq!(pausing, StatusCode::BAD_REQUEST);
    clock.0.store(EPOCH_MS + 10_000 + PAUSE_MS, SeqCst);
    let (deleted, _) = call(Method::DELETE, format!("/task/{id}"), "").await;
    assert_eq!(deleted, StatusCode::OK);
}
