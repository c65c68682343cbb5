//! The server's own wire types: the request bodies it accepts (validated into
//! a [`TaskSpec`] that keeps no secrets) and the task object it renders.
//! The harness never sees these; it judges the JSON it receives.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::bandwidth::{Policy, PolicyError, WireWindow};
use crate::engine::TaskView;
use crate::error::ApiError;

const MAX_KEY_LEN: usize = 100;
const MAX_OBJECT_KEY_LEN: usize = 1024;
const MAX_DESCRIPTION_LEN: usize = 255;
const MAX_THREAD_NUM: i64 = 50;

/// Parses a JSON body, mapping serde's failure to the OMS code for it.
pub fn parse_json<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|err| {
        let msg = err.to_string();
        if err.is_data() {
            // serde's "missing field `x`" names no value, so it is safe to echo;
            // other data errors may quote a value (a secret), so only the position is given.
            if msg.starts_with("missing field") {
                ApiError::missing_param(msg)
            } else {
                ApiError::invalid_params(format_args!(
                    "wrong type or value at line {} column {}",
                    err.line(),
                    err.column()
                ))
            }
        } else {
            ApiError::not_json(format_args!("line {} column {}", err.line(), err.column()))
        }
    })
}

/// `task_type` of the create body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskType {
    #[default]
    Object,
    List,
    Prefix,
    UrlList,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum ObjectKey {
    One(String),
    Many(Vec<String>),
    Keys { path: String, keys: Vec<String> },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListFile {
    pub obs_bucket: String,
    pub list_file_key: String,
}

#[derive(Debug, Deserialize)]
struct SrcNode {
    region: String,
    ak: Option<String>,
    sk: Option<String>,
    bucket: Option<String>,
    object_key: Option<ObjectKey>,
    list_file: Option<ListFile>,
    app_id: Option<String>,
    cloud_type: Option<String>,
}

#[derive(Debug, Deserialize)]
struct DstNode {
    region: String,
    ak: String,
    sk: String,
    bucket: String,
    object_key: String,
    cloud_type: Option<String>,
}

/// `POST …/task`.
#[derive(Debug, Deserialize)]
pub struct CreateBody {
    src_node: SrcNode,
    dst_node: DstNode,
    #[serde(rename = "enableKMS")]
    enable_kms: bool,
    thread_num: i64,
    description: Option<String>,
    task_type: Option<TaskType>,
    bandwidth_policy: Option<Vec<WireWindow>>,
    #[serde(rename = "smnInfo")]
    smn_info: Option<Value>,
    source_cdn: Option<Value>,
    migrate_since: Option<i64>,
    auto_restore: Option<bool>,
    enable_failed_object_recording: Option<bool>,
}

/// What a task remembers of its create body. Secrets are dropped at the edge.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskSpec {
    pub src_region: String,
    pub src_bucket: String,
    pub src_object_key: Vec<String>,
    pub src_cloud_type: String,
    pub src_list_file: Option<ListFile>,
    pub src_app_id: Option<String>,
    pub dst_region: String,
    pub dst_bucket: String,
    pub dst_object_key: String,
    pub dst_cloud_type: String,
    pub enable_kms: bool,
    pub thread_num: u8,
    pub description: String,
    pub task_type: TaskType,
    pub migrate_since: i64,
    pub smn_info: Option<Box<Value>>,
    pub source_cdn: Option<Box<Value>>,
    pub auto_restore: bool,
    pub enable_failed_object_recording: bool,
}

fn required(field: &'static str, value: Option<String>) -> Result<String, ApiError> {
    match value {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(ApiError::missing_param(format_args!("`{field}`"))),
    }
}

fn non_empty(field: &'static str, value: &str) -> Result<(), ApiError> {
    if value.is_empty() {
        return Err(ApiError::missing_param(format_args!("`{field}`")));
    }
    Ok(())
}

fn key_len(field: &'static str, value: &str) -> Result<(), ApiError> {
    non_empty(field, value)?;
    if value.chars().count() > MAX_KEY_LEN {
        return Err(ApiError::invalid_params(format_args!(
            "`{field}` is longer than {MAX_KEY_LEN} characters"
        )));
    }
    Ok(())
}

/// Maps a policy refusal to its code (OMS.0083–0087, the reference's choice).
pub fn policy_error(err: PolicyError) -> ApiError {
    let code = match err {
        PolicyError::BadTime(_) => "OMS.0083",
        PolicyError::EmptyWindow(_) => "OMS.0084",
        PolicyError::Overlap(_) => "OMS.0085",
        PolicyError::TooMany(_) => "OMS.0086",
        PolicyError::ZeroBandwidth(_) => "OMS.0087",
    };
    ApiError::bandwidth(code, err)
}

impl CreateBody {
    /// Validates the body against the create page's limits.
    pub fn validate(self) -> Result<(TaskSpec, Policy), ApiError> {
        let task_type = self.task_type.unwrap_or_default();
        let src = self.src_node;
        let dst = self.dst_node;
        let by_url = task_type == TaskType::UrlList;
        non_empty("src_node.region", &src.region)?;
        let src_bucket = if by_url {
            src.bucket.unwrap_or_default()
        } else {
            key_len("src_node.ak", src.ak.as_deref().unwrap_or_default())?;
            key_len("src_node.sk", src.sk.as_deref().unwrap_or_default())?;
            required("src_node.bucket", src.bucket)?
        };
        let src_object_key = match src.object_key {
            Some(ObjectKey::One(key)) => vec![key],
            Some(ObjectKey::Many(keys)) => keys,
            Some(ObjectKey::Keys { path, keys }) => {
                keys.into_iter().map(|k| format!("{path}{k}")).collect()
            }
            None => Vec::new(),
        };
        if matches!(task_type, TaskType::Object | TaskType::Prefix) && src_object_key.is_empty() {
            return Err(ApiError::missing_param("`src_node.object_key`"));
        }
        if matches!(task_type, TaskType::List | TaskType::UrlList) && src.list_file.is_none() {
            return Err(ApiError::missing_param("`src_node.list_file`"));
        }
        non_empty("dst_node.region", &dst.region)?;
        key_len("dst_node.ak", &dst.ak)?;
        key_len("dst_node.sk", &dst.sk)?;
        non_empty("dst_node.bucket", &dst.bucket)?;
        non_empty("dst_node.object_key", &dst.object_key)?;
        if dst.object_key.chars().count() > MAX_OBJECT_KEY_LEN {
            return Err(ApiError::invalid_params(format_args!(
                "`dst_node.object_key` is longer than {MAX_OBJECT_KEY_LEN} characters"
            )));
        }
        let thread_num = u8::try_from(self.thread_num)
            .ok()
            .filter(|n| i64::from(*n) <= MAX_THREAD_NUM)
            .ok_or_else(ApiError::invalid_thread_num)?;
        let description = self.description.unwrap_or_default();
        if description.chars().count() > MAX_DESCRIPTION_LEN
            || description.contains(['<', '>', '(', ')', '"', '\'', '&'])
        {
            return Err(ApiError::invalid_description());
        }
        let policy = Policy::parse(self.bandwidth_policy.as_deref().unwrap_or_default())
            .map_err(policy_error)?;
        let spec = TaskSpec {
            src_region: src.region,
            src_bucket,
            src_object_key,
            src_cloud_type: src.cloud_type.unwrap_or_else(|| "Aliyun".to_owned()),
            src_list_file: src.list_file,
            src_app_id: src.app_id,
            dst_region: dst.region,
            dst_bucket: dst.bucket,
            dst_object_key: dst.object_key,
            dst_cloud_type: dst.cloud_type.unwrap_or_else(|| "HuaweiCloud".to_owned()),
            enable_kms: self.enable_kms,
            thread_num,
            description,
            task_type,
            migrate_since: self.migrate_since.unwrap_or(0),
            smn_info: self.smn_info.map(Box::new),
            source_cdn: self.source_cdn.map(Box::new),
            auto_restore: self.auto_restore.unwrap_or(false),
            enable_failed_object_recording: self.enable_failed_object_recording.unwrap_or(false),
        };
        Ok((spec, policy))
    }
}

/// `PUT …/task/{id}`: the body's `operation` picks the variant.
#[derive(Debug, Deserialize)]
#[serde(tag = "operation", rename_all = "snake_case")]
pub enum Operation {
    Start {
        source_ak: String,
        source_sk: String,
        target_ak: String,
        target_sk: String,
        source_cdn_authentication_key: Option<String>,
        // Accepted and validated as a bool; the simulated source re-transfers the
        // same remainder either way.
        #[serde(rename = "migration_failed_object")]
        _migration_failed_object: Option<bool>,
    },
    Stop,
    ChangeBandwidthpolicy {
        bandwidth_policy: Vec<WireWindow>,
    },
}

impl Operation {
    /// Checks the start keys: each present, non-empty, at most 100 characters.
    pub fn validate(&self) -> Result<(), ApiError> {
        if let Operation::Start {
            source_ak,
            source_sk,
            target_ak,
            target_sk,
            source_cdn_authentication_key,
            ..
        } = self
        {
            key_len("source_ak", source_ak)?;
            key_len("source_sk", source_sk)?;
            key_len("target_ak", target_ak)?;
            key_len("target_sk", target_sk)?;
            if let Some(key) = source_cdn_authentication_key {
                key_len("source_cdn_authentication_key", key)?;
            }
        }
        Ok(())
    }
}

/// `{"id", "task_name"}`: the create answer.
#[derive(Debug, Serialize)]
pub struct Created {
    pub id: u64,
    pub task_name: String,
}

/// A task view rendered as the JSON of `GET …/task/{id}`.
pub fn task_json(view: &TaskView<'_>) -> Vec<u8> {
    // Strings, numbers and JSON values only: serialising cannot fail.
    serde_json::to_vec(&TaskOut::from(view)).unwrap_or_default()
}

/// The name a task is given: OMS v1 create bodies carry none.
pub fn task_name(id: u64) -> String {
    format!("oms-task-{id}")
}

#[derive(Serialize)]
struct SrcOut<'a> {
    region: &'a str,
    bucket: &'a str,
    object_key: &'a [String],
    cloud_type: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    list_file: Option<&'a ListFile>,
    #[serde(skip_serializing_if = "Option::is_none")]
    app_id: Option<&'a str>,
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
    task_type: TaskType,
    bandwidth_policy: Vec<WireWindow>,
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
        TaskOut {
            id: v.id,
            name: task_name(v.id),
            src_node: SrcOut {
                region: &s.src_region,
                bucket: &s.src_bucket,
                object_key: &s.src_object_key,
                cloud_type: &s.src_cloud_type,
                list_file: s.src_list_file.as_ref(),
                app_id: s.src_app_id.as_deref(),
            },
            dst_node: DstOut {
                region: &s.dst_region,
                bucket: &s.dst_bucket,
                object_key: &s.dst_object_key,
                cloud_type: &s.dst_cloud_type,
            },
            thread_num: s.thread_num,
            status: v.status.code(),
            progress: v.progress(),
            migrate_speed: v.migrate_speed,
            enable_kms: s.enable_kms,
            description: &s.description,
            error_reason: v.failure.map_or(ErrorReasonOut::None(""), |f| {
                ErrorReasonOut::Failed(ErrorReason {
                    error_code: f.code,
                    error_msg: f.message,
                })
            }),
            total_size: v.total_size,
            complete_size: v.complete_size,
            total_num: v.total_num,
            success_num: v.success_num,
            fail_num: v.fail_num,
            start_time: v.start_time,
            left_time: v.left_time,
            total_time: v.total_time,
            task_type: s.task_type,
            bandwidth_policy: v.policy.to_wire(),
            migrate_since: s.migrate_since,
            smn_info: s.smn_info.as_deref(),
            source_cdn: s.source_cdn.as_deref(),
            auto_restore: s.auto_restore,
            enable_failed_object_recording: s.enable_failed_object_recording,
            failed_object_record: Value::Null,
        }
    }
}
