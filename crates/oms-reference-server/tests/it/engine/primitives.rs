//! The engine's primitives for fault injection, on a project directly: a
//! record written back, over a deletion or over the task itself, leaves every
//! count as consistent as the API's own operations do.

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
