//! The v1 task object of `GET …/task/{id}` and of the list, rendered from a
//! [`TaskView`], with what it shares with the create body: the status codes
//! and the task type; and the bandwidth windows as it shows them.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::bandwidth::WindowSpec;
use crate::model::{Status, TaskType, TaskView, task_name};

/// The v1 status code of a state. v1 has no code for retrying or pausing:
/// both show as 2 (running), since like a running task they hold a slot and
/// refuse delete.
pub fn status_code(status: Status) -> u8 {
    match status {
        Status::Initializing => 0,
        Status::Waiting => 1,
        Status::Running | Status::Retrying | Status::Pausing => 2,
        Status::Stopped => 3,
        Status::Failed => 4,
        Status::Succeeded => 5,
    }
}

/// `task_type` of the create body and the task object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum TaskTypeJson {
    Object,
    List,
    Prefix,
    UrlList,
}

impl From<TaskTypeJson> for TaskType {
    fn from(json: TaskTypeJson) -> Self {
        match json {
            TaskTypeJson::Object => TaskType::Object,
            TaskTypeJson::List => TaskType::List,
            TaskTypeJson::Prefix => TaskType::Prefix,
            TaskTypeJson::UrlList => TaskType::UrlList,
        }
    }
}

impl From<TaskType> for TaskTypeJson {
    fn from(task_type: TaskType) -> Self {
        match task_type {
            TaskType::Object => TaskTypeJson::Object,
            TaskType::List => TaskTypeJson::List,
            TaskType::Prefix => TaskTypeJson::Prefix,
            TaskType::UrlList => TaskTypeJson::UrlList,
        }
    }
}

/// A bandwidth window as the task object shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WindowJson {
    start: String,
    end: String,
    max_bandwidth: u64,
}

impl From<WindowSpec> for WindowJson {
    fn from(spec: WindowSpec) -> Self {
        WindowJson {
            start: spec.start,
            end: spec.end,
            max_bandwidth: spec.max_bandwidth,
        }
    }
}

#[derive(Serialize)]
struct SrcOut<'a> {
    region: &'a str,
    bucket: &'a str,
    object_key: &'a [String],
    cloud_type: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    list_file: Option<ListFileOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    app_id: Option<&'a str>,
}

#[derive(Serialize)]
struct ListFileOut<'a> {
    obs_bucket: &'a str,
    list_file_key: &'a str,
}

#[derive(Serialize)]
struct DstOut<'a> {
    region: &'a str,
    bucket: &'a str,
    object_key: &'a str,
    cloud_type: &'a str,
}

#[derive(Serialize)]
struct ErrorReason {
    error_code: &'static str,
    error_msg: &'static str,
}

/// `error_reason` is an object after a failure and `""` otherwise.
#[derive(Serialize)]
#[serde(untagged)]
enum ErrorReasonOut {
    Failed(ErrorReason),
    None(&'static str),
}

/// The task object of `GET …/task/{id}` and of the list.
#[derive(Serialize)]
pub struct TaskOut<'a> {
    id: u64,
    name: String,
    src_node: SrcOut<'a>,
    dst_node: DstOut<'a>,
    thread_num: u8,
    status: u8,
    progress: f64,
    migrate_speed: u64,
    #[serde(rename = "enableKMS")]
    enable_kms: bool,
    description: &'a str,
    error_reason: ErrorReasonOut,
    total_size: u64,
    complete_size: u64,
    total_num: u64,
    success_num: u64,
    fail_num: u64,
    start_time: u64,
    left_time: u64,
    total_time: u64,
    task_type: TaskTypeJson,
    bandwidth_policy: Vec<WindowJson>,
    migrate_since: i64,
    #[serde(rename = "smnInfo", skip_serializing_if = "Option::is_none")]
    smn_info: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_cdn: Option<&'a Value>,
    auto_restore: bool,
    enable_failed_object_recording: bool,
    failed_object_record: Value,
}

impl<'a> From<&TaskView<'a>> for TaskOut<'a> {
    fn from(v: &TaskView<'a>) -> Self {
        let s = v.spec;
        let f = &v.figures;
        TaskOut {
            id: v.id,
            name: task_name(v.id),
            src_node: SrcOut {
                region: &s.src_region,
                bucket: &s.src_bucket,
                object_key: &s.src_object_key,
                cloud_type: &s.src_cloud_type,
                list_file: s.src_list_file.as_ref().map(|l| ListFileOut {
                    obs_bucket: &l.obs_bucket,
                    list_file_key: &l.list_file_key,
                }),
                app_id: s.src_app_id.as_deref(),
            },
            dst_node: DstOut {
                region: &s.dst_region,
                bucket: &s.dst_bucket,
                object_key: &s.dst_object_key,
                cloud_type: &s.dst_cloud_type,
            },
            thread_num: s.thread_num,
            status: status_code(f.status),
            progress: f.progress(),
            migrate_speed: f.migrate_speed,
            enable_kms: s.enable_kms,
            description: &s.description,
            error_reason: f.failure.map_or(ErrorReasonOut::None(""), |f| {
                ErrorReasonOut::Failed(ErrorReason {
                    error_code: f.code,
                    error_msg: f.message,
                })
            }),
            total_size: f.total_size,
            complete_size: f.complete_size,
            total_num: f.total_num,
            success_num: f.success_num,
            fail_num: f.fail_num,
            start_time: f.start_time,
            left_time: f.left_time,
            total_time: f.total_time,
            task_type: s.task_type.into(),
            bandwidth_policy: v
                .policy
                .to_specs()
                .into_iter()
                .map(WindowJson::from)
                .collect(),
            migrate_since: s.migrate_since,
            smn_info: s.smn_info.as_deref(),
            source_cdn: s.source_cdn.as_deref(),
            auto_restore: s.auto_restore,
            enable_failed_object_recording: s.enable_failed_object_recording,
            failed_object_record: Value::Null,
        }
    }
}
