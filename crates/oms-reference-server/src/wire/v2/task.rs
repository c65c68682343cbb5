//! The v2 task object (`TaskResp`) of a show and of a list page, rendered
//! from a [`TaskView`]: the settings as v2 codes, the figures, the bandwidth
//! windows; and the list page around it.

use serde::Serialize;
use serde_json::Value;

use super::settings::{
    ConsistencyJson, OverwriteJson, PriorityJson, StoragePolicyJson, TaskTypeJson,
};
use super::status::status_code;
use crate::model::{TaskView, task_name};

/// A bandwidth window as the task object shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WindowJson {
    start: String,
    end: String,
    max_bandwidth: u64,
}

#[derive(Serialize)]
struct ListFileOut<'a> {
    list_file_key: &'a str,
    obs_bucket: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    list_file_num: Option<&'a str>,
}

#[derive(Serialize)]
struct SrcOut<'a> {
    bucket: &'a str,
    cloud_type: &'a str,
    region: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    app_id: Option<&'a str>,
    object_key: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    list_file: Option<ListFileOut<'a>>,
}

#[derive(Serialize)]
struct DstOut<'a> {
    bucket: &'a str,
    region: &'a str,
    save_prefix: &'a str,
}

#[derive(Serialize)]
struct ErrorReason {
    error_code: &'static str,
    error_msg: &'static str,
}

/// The task object of `GET …/tasks/{id}` and of the list (`TaskResp`).
#[derive(Serialize)]
pub struct TaskOut<'a> {
    id: u64,
    name: String,
    status: u8,
    progress: f64,
    task_type: TaskTypeJson,
    description: &'a str,
    group_type: &'static str,
    src_node: SrcOut<'a>,
    dst_node: DstOut<'a>,
    total_num: u64,
    successful_num: u64,
    failed_num: u64,
    skipped_num: u64,
    total_size: u64,
    complete_size: u64,
    real_size: u64,
    migrate_speed: u64,
    start_time: u64,
    left_time: u64,
    total_time: u64,
    migrate_since: i64,
    /// `null` unless the task failed (the docs say `""`, their example `null`;
    /// a typed client models an object).
    error_reason: Option<ErrorReason>,
    failed_object_record: Value,
    bandwidth_policy: Vec<WindowJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_cdn: Option<&'a Value>,
    is_query_over: bool,
    enable_failed_object_recording: bool,
    enable_metadata_migration: bool,
    enable_restore: bool,
    enable_requester_pays: bool,
    object_overwrite_mode: OverwriteJson,
    dst_storage_policy: StoragePolicyJson,
    consistency_check: ConsistencyJson,
    obs_system: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    task_priority: Option<PriorityJson>,
}

impl<'a> From<&TaskView<'a>> for TaskOut<'a> {
    fn from(v: &TaskView<'a>) -> Self {
        let s = v.spec;
        let f = &v.figures;
        TaskOut {
            id: v.id,
            name: task_name(v.id),
            status: status_code(f.status),
            progress: f.progress(),
            task_type: s.task_type.into(),
            description: &s.description,
            group_type: "NORMAL_TASK",
            src_node: SrcOut {
                bucket: &s.src_bucket,
                cloud_type: &s.src_cloud_type,
                region: &s.src_region,
                app_id: s.src_app_id.as_deref(),
                object_key: &s.src_object_key,
                list_file: s.src_list_file.as_ref().map(|l| ListFileOut {
                    list_file_key: &l.list_file_key,
                    obs_bucket: &l.obs_bucket,
                    list_file_num: l.list_file_num.as_deref(),
                }),
            },
            dst_node: DstOut {
                bucket: &s.dst_bucket,
                region: &s.dst_region,
                save_prefix: &s.dst_object_key,
            },
            total_num: f.total_num,
            successful_num: f.success_num,
            failed_num: f.fail_num,
            skipped_num: 0,
            total_size: f.total_size,
            complete_size: f.complete_size,
            real_size: f.complete_size,
            migrate_speed: f.migrate_speed,
            start_time: f.start_time,
            left_time: f.left_time,
            total_time: f.total_time,
            migrate_since: s.migrate_since.saturating_mul(1000),
            error_reason: f.failure.map(|f| ErrorReason {
                error_code: f.code,
                error_msg: f.message,
            }),
            failed_object_record: Value::Null,
            bandwidth_policy: v
                .policy
                .to_specs()
                .into_iter()
                .map(|w| WindowJson {
                    start: w.start,
                    end: w.end,
                    max_bandwidth: w.max_bandwidth,
                })
                .collect(),
            source_cdn: s.source_cdn.as_deref(),
            is_query_over: true,
            enable_failed_object_recording: s.enable_failed_object_recording,
            enable_metadata_migration: s.enable_metadata_migration,
            enable_restore: s.auto_restore,
            enable_requester_pays: s.enable_requester_pays,
            object_overwrite_mode: s.overwrite.into(),
            dst_storage_policy: s.storage_policy.into(),
            consistency_check: s.consistency_check.into(),
            obs_system: "BUCKET",
            task_priority: s.priority.map(PriorityJson::from),
        }
    }
}

/// `{"tasks": […], "count": N}`: a list page and the total for its filter.
#[derive(Serialize)]
pub struct ListOut<'a> {
    pub tasks: Vec<TaskOut<'a>>,
    pub count: usize,
}
