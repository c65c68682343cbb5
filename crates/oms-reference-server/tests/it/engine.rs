//! The simulated engine seen through the API: scheduling, progress, the
//! bandwidth policy, failure and resume, and atomicity under concurrency.

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
        "bandwidth_policy":[{"start":"00:00","end":"12:00","max_bandwidth":1000}]});
    assert_eq!(
        server.put(id, &policy.to_string()).await.status,
        StatusCode::OK
    );
    let before = server.get(id).await.json();
    assert_eq!(before["migrate_speed"], 1000);
    server.advance(10_000);
    let after = server.get(id).await.json();
    assert_eq!(
        after["complete_size"].as_u64().unwrap() - before["complete_size"].as_u64().unwrap(),
        10_000,
        "ten seconds at 1000 B/s"
    );
    let bad = json!({"operation":"change_bandwidthpolicy","bandwidth_policy":[{"start":"25:00","end":"12:00","max_bandwidth":1}]});
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

// The engine's primitives for fault injection, on a project directly: a
// record written back, over a deletion or over the task itself, leaves every
// count as consistent as the API's own operations do.

mod primitives {
    use oms_reference_server::Limits;
    use oms_reference_server::bandwidth::Policy;
    use oms_reference_server::engine::{EngineError, Project};
    use oms_reference_server::model::{Status, StatusSet, TaskSpec};
    use oms_reference_server::workload::{BASE_RATE, Fate, Workload};
    use proptest::prelude::*;

    const T0: u64 = 1_000_000;

    fn spec() -> Box<TaskSpec> {
        Box::new(TaskSpec {
            src_region: "r".into(),
            src_bucket: "b".into(),
            src_object_key: vec![String::new()],
            src_cloud_type: "Aliyun".into(),
            src_list_file: None,
            src_app_id: None,
            dst_region: "r".into(),
            dst_bucket: "d".into(),
            dst_object_key: String::new(),
            dst_cloud_type: "HuaweiCloud".into(),
            enable_kms: false,
            thread_num: 0,
            description: String::new(),
            task_type: Default::default(),
            migrate_since: 0,
            smn_info: None,
            source_cdn: None,
            auto_restore: false,
            enable_failed_object_recording: false,
            enable_metadata_migration: false,
            enable_requester_pays: false,
            overwrite: Default::default(),
            storage_policy: Default::default(),
            consistency_check: Default::default(),
            priority: None,
        })
    }

    /// One second of work at the base rate, or an hour when `long`.
    fn workload(long: bool) -> Workload {
        Workload {
            total_size: BASE_RATE * if long { 3_600 } else { 1 },
            total_num: 10,
            fate: Fate::Succeed,
        }
    }

    fn limits(max_parallel: usize) -> Limits {
        Limits {
            max_parallel,
            init_ms: 10,
            pause_ms: 50,
            ..Limits::default()
        }
    }

    fn create(project: &mut Project, id: u64, long: bool, now: u64) {
        project
            .create(id, spec(), Policy::default(), workload(long), now)
            .expect("create");
    }

    fn status(project: &mut Project, id: u64, now: u64) -> Option<Status> {
        project.get(id, now).map(|v| v.figures.status)
    }

    /// Every per-state count agrees with the tasks listed in that state, and
    /// the states add up to the total.
    fn assert_counts_consistent(project: &mut Project, now: u64) {
        let total = project.count(now, None);
        let mut sum = 0;
        for s in Status::ALL {
            let set = StatusSet::of(&[s]);
            let counted = project.count(now, Some(set));
            let listed = project.list(now, 0, usize::MAX, Some(set)).len();
            assert_eq!(counted, listed, "{s:?}: counted {counted}, listed {listed}");
            sum += counted;
        }
        assert_eq!(sum, total, "the states add up to the total");
        assert_eq!(project.list(now, 0, usize::MAX, None).len(), total);
    }

    /// A task created at `at` and stopped once running; returns when.
    fn stopped_task(project: &mut Project, id: u64, at: u64) -> u64 {
        create(project, id, true, at);
        let now = at + 100;
        assert_eq!(status(project, id, now), Some(Status::Running));
        project.stop(id, now).expect("stop");
        project.end_pause(id, now);
        assert_eq!(status(project, id, now), Some(Status::Stopped));
        now
    }

    #[test]
    fn end_pause_stops_a_pausing_task_at_once_and_frees_its_slot() {
        let mut project = Project::new(limits(1));
        create(&mut project, 1, true, T0);
        create(&mut project, 2, true, T0);
        let now = T0 + 100;
        assert_eq!(status(&mut project, 2, now), Some(Status::Waiting));
        project.stop(1, now).expect("stop");
        assert_eq!(status(&mut project, 1, now), Some(Status::Pausing));
        project.end_pause(1, now);
        assert_eq!(status(&mut project, 1, now), Some(Status::Stopped));
        assert_eq!(
            status(&mut project, 2, now),
            Some(Status::Running),
            "the freed slot goes to the waiting task"
        );
        // Past the pause the engine has nothing left to do for task 1.
        assert_eq!(status(&mut project, 1, now + 1_000), Some(Status::Stopped));
        assert_counts_consistent(&mut project, now + 1_000);
    }

    #[test]
    fn a_record_is_taken_only_of_a_task_at_rest() {
        let mut project = Project::new(limits(5));
        create(&mut project, 1, true, T0);
        assert!(project.record(1, T0).is_none(), "initializing");
        assert!(project.record(1, T0 + 100).is_none(), "running");
        project.stop(1, T0 + 100).expect("stop");
        assert!(project.record(1, T0 + 100).is_none(), "pausing");
        assert!(project.record(1, T0 + 200).is_some(), "stopped");
        assert!(project.record(9, T0 + 200).is_none(), "missing");
    }

    #[test]
    fn write_back_of_a_deleted_stopped_record_restores_its_counts() {
        let mut project = Project::new(limits(5));
        let now = stopped_task(&mut project, 1, T0);
        let record = project.record(1, now).expect("a stopped task is at rest");
        project.delete(1, now).expect("a stopped task is deletable");
        assert_eq!(project.count(now, None), 0);
        project.write_back(1, record, now + 20);
        let stopped = StatusSet::of(&[Status::Stopped]);
        assert_eq!(project.count(now + 20, None), 1);
        assert_eq!(project.count(now + 20, Some(stopped)), 1);
        assert_eq!(status(&mut project, 1, now + 20), Some(Status::Stopped));
        assert_counts_consistent(&mut project, now + 20);
        // It is a task like any other again: it starts, runs and stops.
        project.start(1, now + 30).expect("start");
        assert_eq!(status(&mut project, 1, now + 30), Some(Status::Running));
        assert_counts_consistent(&mut project, now + 30);
    }

    #[test]
    fn write_back_over_the_task_itself_does_not_double_count() {
        let mut project = Project::new(limits(1));
        let now = stopped_task(&mut project, 1, T0);
        let record = project.record(1, now).expect("at rest");
        project.write_back(1, record.clone(), now);
        assert_eq!(project.count(now, None), 1);
        assert_counts_consistent(&mut project, now);

        // Over a task started meanwhile: its slot is freed, not leaked.
        create(&mut project, 2, true, now);
        project.start(1, now).expect("start");
        assert_eq!(status(&mut project, 1, now), Some(Status::Running));
        assert_eq!(status(&mut project, 2, now + 10), Some(Status::Waiting));
        project.write_back(1, record, now + 10);
        assert_eq!(status(&mut project, 1, now + 10), Some(Status::Stopped));
        assert_eq!(
            status(&mut project, 2, now + 10),
            Some(Status::Running),
            "the slot task 1 held goes to the waiting task"
        );
        assert_eq!(project.count(now + 10, None), 2);
        assert_counts_consistent(&mut project, now + 10);
    }

    #[test]
    fn check_start_refuses_as_start_does_and_changes_nothing() {
        let mut project = Project::new(limits(5));
        create(&mut project, 1, false, T0);
        assert_eq!(project.check_start(9, T0), Err(EngineError::NotFound));
        assert_eq!(project.check_start(1, T0), Err(EngineError::AlreadyStarted));
        assert_eq!(project.start(1, T0), Err(EngineError::AlreadyStarted));
        let done = T0 + 5_000;
        assert_eq!(project.check_start(1, done), Err(EngineError::Complete));
        assert_eq!(project.start(1, done), Err(EngineError::Complete));
        let now = stopped_task(&mut project, 2, done);
        assert_eq!(project.check_start(2, now), Ok(()));
        assert_eq!(status(&mut project, 2, now), Some(Status::Stopped));
    }

    #[test]
    fn finished_at_is_the_instant_the_run_ended() {
        let mut project = Project::new(limits(5));
        create(&mut project, 1, false, T0);
        // Initialised at T0 + 10, then one second of work at the base rate.
        assert_eq!(project.finished_at(1, T0 + 1_009), None);
        assert_eq!(status(&mut project, 1, T0 + 1_009), Some(Status::Running));
        assert_eq!(project.finished_at(1, T0 + 5_000), Some(T0 + 1_010));
        assert_eq!(project.finished_at(9, T0 + 5_000), None);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Create { long: bool },
        Advance(u64),
        Stop(usize),
        EndPause(usize),
        Start(usize),
        Delete(usize),
        Copy(usize),
        WriteBack(usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            2 => any::<bool>().prop_map(|long| Op::Create { long }),
            3 => (0u64..700).prop_map(Op::Advance),
            2 => (0usize..8).prop_map(Op::Stop),
            1 => (0usize..8).prop_map(Op::EndPause),
            2 => (0usize..8).prop_map(Op::Start),
            2 => (0usize..8).prop_map(Op::Delete),
            2 => (0usize..8).prop_map(Op::Copy),
            2 => (0usize..8).prop_map(Op::WriteBack),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

        /// Whatever the API's operations and the fault primitives do, in any
        /// order, the counts agree with the tasks, and a slot is never idle
        /// while a task waits nor taken beyond the limit.
        #[test]
        fn write_backs_keep_the_counts_consistent(ops in proptest::collection::vec(op(), 1..60)) {
            let max_parallel = 2;
            let mut project = Project::new(limits(max_parallel));
            let mut now = T0;
            let mut ids: Vec<u64> = Vec::new();
            let mut records = Vec::new();
            for op in ops {
                let task = |i: usize| ids.get(i % ids.len().max(1)).copied();
                match op {
                    Op::Create { long } => {
                        let id = ids.len() as u64 + 1;
                        let created = project.create(id, spec(), Policy::default(), workload(long), now);
                        if created.is_ok() {
                            ids.push(id);
                        }
                    }
                    Op::Advance(ms) => now += ms,
                    Op::Stop(i) => {
                        if let Some(id) = task(i) {
                            let _ = project.stop(id, now);
                        }
                    }
                    Op::EndPause(i) => {
                        if let Some(id) = task(i) {
                            project.end_pause(id, now);
                        }
                    }
                    Op::Start(i) => {
                        if let Some(id) = task(i) {
                            let _ = project.start(id, now);
                        }
                    }
                    Op::Delete(i) => {
                        if let Some(id) = task(i) {
                            let _ = project.delete(id, now);
                        }
                    }
                    Op::Copy(i) => {
                        if let Some((id, record)) = task(i).and_then(|id| Some((id, project.record(id, now)?))) {
                            records.push((id, record));
                        }
                    }
                    Op::WriteBack(i) => {
                        if !records.is_empty() {
                            let (id, record) = records.swap_remove(i % records.len());
                            project.write_back(id, record, now);
                        }
                    }
                }
                assert_counts_consistent(&mut project, now);
                let active = StatusSet::of(&[Status::Running, Status::Retrying, Status::Pausing]);
                let waiting = StatusSet::of(&[Status::Waiting]);
                let (active, waiting) = (project.count(now, Some(active)), project.count(now, Some(waiting)));
                prop_assert!(active <= max_parallel, "{active} active over the limit");
                prop_assert!(waiting == 0 || active == max_parallel, "{waiting} waiting beside a free slot");
            }
        }
    }
}
