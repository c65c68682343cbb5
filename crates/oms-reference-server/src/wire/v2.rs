//! OMS v2 on the wire (`oms-v2-api.md` §2): the create, start, bandwidth and
//! list request forms, validated into the domain's [`TaskSpec`] and
//! [`Policy`], and the task object and status codes rendered from a
//! [`TaskView`]. Unknown fields are ignored at every level of every body
//! (see `wire`), and secrets are dropped here.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{
    ListFileJson, WindowIn, documented, key_len, list_file, non_empty, optional_key, required,
    source_keys, windows,
};
use crate::bandwidth::{Policy, PolicyError};
use crate::error::ApiError;
use crate::model::{
    ConsistencyCheck, OverwriteMode, Priority, Status, StatusSet, StoragePolicy, TaskSpec,
    TaskType, TaskView, task_name,
};

const MAX_SAVE_PREFIX_LEN: usize = 1024;
const MAX_DESCRIPTION_LEN: usize = 255;
const MAX_TOKEN_LEN: usize = 16_384;
const MAX_TASK_NAME_FILTER_LEN: usize = 255;
const MAX_GROUP_ID_LEN: usize = 100;
/// The documented `max_bandwidth` range, bytes per second (1–200 MiB/s).
const MIN_BANDWIDTH: u64 = 1_048_576;
const MAX_BANDWIDTH: u64 = 209_715_200;
/// The most tasks one list call returns, and the default page.
const MAX_LIST_LIMIT: usize = 100;
const DEFAULT_LIST_LIMIT: usize = 10;
/// The largest `offset` the intl/en pages allow (the zh copy says 10000).
const MAX_LIST_OFFSET: usize = 2_147_483_647;

/// `src_node.cloud_type` values of the SDK's `SrcNodeReq`.
const CLOUD_TYPES: [&str; 12] = [
    "AWS",
    "Azure",
    "Aliyun",
    "Tencent",
    "HuaweiCloud",
    "QingCloud",
    "KingsoftCloud",
    "Baidu",
    "Qiniu",
    "Google",
    "URLSource",
    "UCloud",
];

/// `source_cdn.authentication_type` values.
const CDN_AUTHENTICATION_TYPES: [&str; 11] = [
    "NONE",
    "QINIU_PRIVATE_AUTHENTICATION",
    "ALIYUN_OSS_A",
    "ALIYUN_OSS_B",
    "ALIYUN_OSS_C",
    "KSYUN_PRIVATE_AUTHENTICATION",
    "AZURE_SAS_TOKEN",
    "TENCENT_COS_A",
    "TENCENT_COS_B",
    "TENCENT_COS_C",
    "TENCENT_COS_D",
];

/// The v2 status code of a state. v2 has no code for initializing: it shows
/// as 1, which the console labels "background initialising or waiting".
pub fn status_code(status: Status) -> u8 {
    match status {
        Status::Initializing | Status::Waiting => 1,
        Status::Running => 2,
        Status::Stopped => 3,
        Status::Failed => 4,
        Status::Succeeded => 5,
        Status::Retrying => 6,
        Status::Pausing => 7,
    }
}

/// The states a v2 status code names (`status=1` includes initializing).
pub fn states_of_code(code: u8) -> Option<StatusSet> {
    super::states_named(code, status_code)
}

/// An absent body (an SDK call without one sends `Content-Length: 0`) reads
/// as `{}`, so a missing required field is named instead of "not JSON".
pub fn parse_body<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, ApiError> {
    super::parse_json(if bytes.is_empty() { b"{}" } else { bytes })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum TaskTypeJson {
    Object,
    List,
    UrlList,
    Prefix,
}

impl From<TaskTypeJson> for TaskType {
    fn from(json: TaskTypeJson) -> Self {
        match json {
            TaskTypeJson::Object => TaskType::Object,
            TaskTypeJson::List => TaskType::List,
            TaskTypeJson::UrlList => TaskType::UrlList,
            TaskTypeJson::Prefix => TaskType::Prefix,
        }
    }
}

impl From<TaskType> for TaskTypeJson {
    fn from(task_type: TaskType) -> Self {
        match task_type {
            TaskType::Object => TaskTypeJson::Object,
            TaskType::List => TaskTypeJson::List,
            TaskType::UrlList => TaskTypeJson::UrlList,
            TaskType::Prefix => TaskTypeJson::Prefix,
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
enum OverwriteJson {
    #[serde(rename = "NO_OVERWRITE")]
    No,
    #[serde(rename = "SIZE_LAST_MODIFIED_COMPARISON_OVERWRITE")]
    SizeLastModifiedComparison,
    #[serde(rename = "CRC64_COMPARISON_OVERWRITE")]
    Crc64Comparison,
    #[serde(rename = "FULL_OVERWRITE")]
    Full,
}

impl From<OverwriteJson> for OverwriteMode {
    fn from(json: OverwriteJson) -> Self {
        match json {
            OverwriteJson::No => OverwriteMode::Never,
            OverwriteJson::SizeLastModifiedComparison => OverwriteMode::SizeLastModified,
            OverwriteJson::Crc64Comparison => OverwriteMode::Crc64,
            OverwriteJson::Full => OverwriteMode::Always,
        }
    }
}

impl From<OverwriteMode> for OverwriteJson {
    fn from(mode: OverwriteMode) -> Self {
        match mode {
            OverwriteMode::Never => OverwriteJson::No,
            OverwriteMode::SizeLastModified => OverwriteJson::SizeLastModifiedComparison,
            OverwriteMode::Crc64 => OverwriteJson::Crc64Comparison,
            OverwriteMode::Always => OverwriteJson::Full,
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
enum StoragePolicyJson {
    #[serde(rename = "STANDARD")]
    Standard,
    #[serde(rename = "IA")]
    Ia,
    #[serde(rename = "ARCHIVE")]
    Archive,
    #[serde(rename = "DEEP_ARCHIVE")]
    DeepArchive,
    #[serde(rename = "SRC_STORAGE_MAPPING")]
    SrcStorageMapping,
}

impl From<StoragePolicyJson> for StoragePolicy {
    fn from(json: StoragePolicyJson) -> Self {
        match json {
            StoragePolicyJson::Standard => StoragePolicy::Standard,
            StoragePolicyJson::Ia => StoragePolicy::InfrequentAccess,
            StoragePolicyJson::Archive => StoragePolicy::Archive,
            StoragePolicyJson::DeepArchive => StoragePolicy::DeepArchive,
            StoragePolicyJson::SrcStorageMapping => StoragePolicy::SourceMapping,
        }
    }
}

impl From<StoragePolicy> for StoragePolicyJson {
    fn from(policy: StoragePolicy) -> Self {
        match policy {
            StoragePolicy::Standard => StoragePolicyJson::Standard,
            StoragePolicy::InfrequentAccess => StoragePolicyJson::Ia,
            StoragePolicy::Archive => StoragePolicyJson::Archive,
            StoragePolicy::DeepArchive => StoragePolicyJson::DeepArchive,
            StoragePolicy::SourceMapping => StoragePolicyJson::SrcStorageMapping,
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum ConsistencyJson {
    SizeLastModified,
    Crc64,
    NoCheck,
}

impl From<ConsistencyJson> for ConsistencyCheck {
    fn from(json: ConsistencyJson) -> Self {
        match json {
            ConsistencyJson::SizeLastModified => ConsistencyCheck::SizeLastModified,
            ConsistencyJson::Crc64 => ConsistencyCheck::Crc64,
            ConsistencyJson::NoCheck => ConsistencyCheck::None,
        }
    }
}

impl From<ConsistencyCheck> for ConsistencyJson {
    fn from(check: ConsistencyCheck) -> Self {
        match check {
            ConsistencyCheck::SizeLastModified => ConsistencyJson::SizeLastModified,
            ConsistencyCheck::Crc64 => ConsistencyJson::Crc64,
            ConsistencyCheck::None => ConsistencyJson::NoCheck,
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
enum PriorityJson {
    High,
    Medium,
    Low,
}

impl From<PriorityJson> for Priority {
    fn from(json: PriorityJson) -> Self {
        match json {
            PriorityJson::High => Priority::High,
            PriorityJson::Medium => Priority::Medium,
            PriorityJson::Low => Priority::Low,
        }
    }
}

impl From<Priority> for PriorityJson {
    fn from(priority: Priority) -> Self {
        match priority {
            Priority::High => PriorityJson::High,
            Priority::Medium => PriorityJson::Medium,
            Priority::Low => PriorityJson::Low,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
enum CryptoType {
    #[serde(rename = "DEFAULT")]
    Default,
    #[serde(rename = "KMS")]
    Kms,
}

/// A bandwidth window as the task object shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WindowJson {
    start: String,
    end: String,
    max_bandwidth: u64,
}

/// Maps a policy refusal to the v2 code table: too many / range / overlap /
/// update failed / bad window = `OMS.0083` / `0084` / `0085` / `0086` / `0087`.
fn policy_error(err: PolicyError) -> ApiError {
    let code = match err {
        PolicyError::TooMany(_) => "OMS.0083",
        PolicyError::ZeroBandwidth(_) => "OMS.0084",
        PolicyError::Overlap(_) => "OMS.0085",
        PolicyError::BadTime(_) | PolicyError::EmptyWindow(_) => "OMS.0087",
    };
    ApiError::bandwidth(code, err)
}

/// Validates a policy as the create and bandwidth-policy bodies state it
/// (`BandwidthPolicyDto`); a `max_bandwidth` outside the documented range is
/// "range" (`OMS.0084`).
pub fn policy(stated: Vec<WindowIn>) -> Result<Policy, ApiError> {
    let specs = windows(stated, MIN_BANDWIDTH..=MAX_BANDWIDTH, "OMS.0084")?;
    Policy::parse(&specs).map_err(policy_error)
}

#[derive(Debug, Deserialize)]
struct SrcNode {
    cloud_type: Option<String>,
    region: Option<String>,
    ak: Option<String>,
    sk: Option<String>,
    security_token: Option<String>,
    app_id: Option<String>,
    bucket: Option<String>,
    object_key: Option<Vec<String>>,
    list_file: Option<ListFileJson>,
}

#[derive(Debug, Deserialize)]
struct DstNode {
    ak: String,
    sk: String,
    security_token: Option<String>,
    bucket: String,
    save_prefix: Option<String>,
    region: String,
    crypto_type: Option<CryptoType>,
}

#[derive(Debug, Deserialize)]
struct SourceCdn {
    domain: String,
    protocol: CdnProtocol,
    authentication_type: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum CdnProtocol {
    Http,
    Https,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct SmnConfig {
    topic_urn: String,
    trigger_conditions: Vec<Trigger>,
    #[serde(skip_serializing_if = "Option::is_none")]
    language: Option<Language>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message_template_name: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
enum Trigger {
    Success,
    Failure,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
enum Language {
    #[serde(rename = "zh-cn")]
    ZhCn,
    #[serde(rename = "en-us")]
    EnUs,
}

/// `POST /v2/{project_id}/tasks` (`CreateTaskReq`).
#[derive(Debug, Deserialize)]
pub struct CreateBody {
    src_node: SrcNode,
    dst_node: DstNode,
    task_type: Option<TaskTypeJson>,
    description: Option<String>,
    migrate_since: Option<i64>,
    bandwidth_policy: Option<Vec<WindowIn>>,
    source_cdn: Option<SourceCdn>,
    smn_config: Option<SmnConfig>,
    enable_metadata_migration: Option<bool>,
    enable_restore: Option<bool>,
    enable_failed_object_recording: Option<bool>,
    enable_requester_pays: Option<bool>,
    object_overwrite_mode: Option<OverwriteJson>,
    dst_storage_policy: Option<StoragePolicyJson>,
    consistency_check: Option<ConsistencyJson>,
    task_priority: Option<PriorityJson>,
}

fn token_len(field: &'static str, value: Option<&str>) -> Result<(), ApiError> {
    match value {
        Some(v) if v.chars().count() > MAX_TOKEN_LEN => Err(ApiError::invalid_params(
            format_args!("`{field}` is longer than {MAX_TOKEN_LEN} characters"),
        )),
        _ => Ok(()),
    }
}

impl CreateBody {
    /// Validates the body against the create page's limits.
    pub fn validate(self) -> Result<(TaskSpec, Policy), ApiError> {
        let task_type = self
            .task_type
            .map_or_else(TaskType::default, TaskType::from);
        let src = self.src_node;
        let dst = self.dst_node;
        let cloud_type = src.cloud_type.unwrap_or_else(|| "Aliyun".to_owned());
        documented(
            "src_node.cloud_type",
            &cloud_type,
            &CLOUD_TYPES,
            "cloud type",
        )?;
        source_keys(task_type, src.ak.as_deref(), src.sk.as_deref())?;
        let (src_region, src_bucket) = if task_type == TaskType::UrlList {
            (
                src.region.unwrap_or_default(),
                src.bucket.unwrap_or_default(),
            )
        } else {
            (
                required("src_node.region", src.region)?,
                required("src_node.bucket", src.bucket)?,
            )
        };
        token_len("src_node.security_token", src.security_token.as_deref())?;
        let src_list_file = list_file(task_type, src.list_file)?;
        key_len("dst_node.ak", &dst.ak)?;
        key_len("dst_node.sk", &dst.sk)?;
        token_len("dst_node.security_token", dst.security_token.as_deref())?;
        non_empty("dst_node.bucket", &dst.bucket)?;
        non_empty("dst_node.region", &dst.region)?;
        let save_prefix = dst.save_prefix.unwrap_or_default();
        if save_prefix.chars().count() > MAX_SAVE_PREFIX_LEN {
            return Err(ApiError::invalid_params(format_args!(
                "`dst_node.save_prefix` is longer than {MAX_SAVE_PREFIX_LEN} characters"
            )));
        }
        let description = self.description.unwrap_or_default();
        // The SDK's docstring forbids `^<>&"'` (the 2020 docs said `<>()"'&`);
        // the SDK is generated from the current API definition.
        if description.chars().count() > MAX_DESCRIPTION_LEN
            || description.contains(['^', '<', '>', '&', '"', '\''])
        {
            return Err(ApiError::invalid_description_v2());
        }
        let migrate_since = self.migrate_since.unwrap_or(0);
        if migrate_since < 0 {
            return Err(ApiError::invalid_params(
                "`migrate_since` must be seconds since the epoch",
            ));
        }
        let source_cdn = match self.source_cdn {
            Some(cdn) => {
                let authentication_type = cdn.authentication_type.unwrap_or_else(|| "NONE".into());
                documented(
                    "source_cdn.authentication_type",
                    &authentication_type,
                    &CDN_AUTHENTICATION_TYPES,
                    "type",
                )?;
                non_empty("source_cdn.domain", &cdn.domain)?;
                // `authentication_key` is a secret: only these three are kept.
                Some(Box::new(json!({
                    "domain": cdn.domain,
                    "protocol": cdn.protocol,
                    "authentication_type": authentication_type,
                })))
            }
            None => None,
        };
        let smn_info = match self.smn_config {
            Some(smn) => {
                non_empty("smn_config.topic_urn", &smn.topic_urn)?;
                if smn.trigger_conditions.is_empty() {
                    return Err(ApiError::missing_param("`smn_config.trigger_conditions`"));
                }
                Some(Box::new(serde_json::to_value(&smn).unwrap_or_default()))
            }
            None => None,
        };
        let policy = policy(self.bandwidth_policy.unwrap_or_default())?;
        let spec = TaskSpec {
            src_region,
            src_bucket,
            src_object_key: src.object_key.unwrap_or_default(),
            src_cloud_type: cloud_type,
            src_list_file,
            src_app_id: src.app_id,
            dst_region: dst.region,
            dst_bucket: dst.bucket,
            dst_object_key: save_prefix,
            dst_cloud_type: "HuaweiCloud".to_owned(),
            enable_kms: dst.crypto_type == Some(CryptoType::Kms),
            thread_num: 0,
            description,
            task_type,
            migrate_since,
            smn_info,
            source_cdn,
            auto_restore: self.enable_restore.unwrap_or(false),
            enable_failed_object_recording: self.enable_failed_object_recording.unwrap_or(true),
            enable_metadata_migration: self.enable_metadata_migration.unwrap_or(false),
            enable_requester_pays: self.enable_requester_pays.unwrap_or(false),
            overwrite: self
                .object_overwrite_mode
                .map_or_else(OverwriteMode::default, OverwriteMode::from),
            storage_policy: self
                .dst_storage_policy
                .map_or_else(StoragePolicy::default, StoragePolicy::from),
            consistency_check: self
                .consistency_check
                .map_or_else(ConsistencyCheck::default, ConsistencyCheck::from),
            priority: self.task_priority.map(Priority::from),
        };
        Ok((spec, policy))
    }
}

/// `POST …/tasks/{id}/start` (`StartTaskReq`): the destination keys are
/// required, the rest optional; every key and token is checked and dropped.
#[derive(Debug, Deserialize)]
pub struct StartBody {
    dst_ak: Option<String>,
    dst_sk: Option<String>,
    src_ak: Option<String>,
    src_sk: Option<String>,
    src_security_token: Option<String>,
    dst_security_token: Option<String>,
    source_cdn_authentication_key: Option<String>,
    // Accepted and type-checked; the simulated source re-transfers the same
    // remainder either way.
    #[serde(rename = "migrate_failed_object")]
    _migrate_failed_object: Option<bool>,
}

impl StartBody {
    pub fn validate(&self) -> Result<(), ApiError> {
        key_len("dst_ak", &required("dst_ak", self.dst_ak.clone())?)?;
        key_len("dst_sk", &required("dst_sk", self.dst_sk.clone())?)?;
        for (field, value) in [
            ("src_ak", &self.src_ak),
            ("src_sk", &self.src_sk),
            (
                "source_cdn_authentication_key",
                &self.source_cdn_authentication_key,
            ),
        ] {
            optional_key(field, value.as_deref())?;
        }
        token_len("src_security_token", self.src_security_token.as_deref())?;
        token_len("dst_security_token", self.dst_security_token.as_deref())
    }
}

/// `PUT …/tasks/{id}/bandwidth-policy`.
#[derive(Debug, Deserialize)]
pub struct BandwidthBody {
    pub bandwidth_policy: Vec<WindowIn>,
}

/// `{"id", "task_name"}`: the create answer.
#[derive(Debug, Serialize)]
pub struct Created {
    pub id: u64,
    pub task_name: String,
}

/// The list query, unparsed so each bad value gets its own code.
#[derive(Debug, Deserialize)]
pub struct ListParams {
    offset: Option<String>,
    limit: Option<String>,
    status: Option<String>,
    task_name: Option<String>,
    group_id: Option<String>,
}

impl ListParams {
    /// `offset` (a start index, default 0) and `limit` (1–100, default 10); `OMS.0051` when off.
    pub fn window(&self) -> Result<(usize, usize), ApiError> {
        let offset = match self.offset.as_deref() {
            None => 0,
            Some(raw) => raw
                .parse::<usize>()
                .ok()
                .filter(|o| *o <= MAX_LIST_OFFSET)
                .ok_or_else(|| {
                    ApiError::invalid_range(format_args!(
                        "`offset` must be an integer from 0 to {MAX_LIST_OFFSET}"
                    ))
                })?,
        };
        let limit = match self.limit.as_deref() {
            None => DEFAULT_LIST_LIMIT,
            Some(raw) => raw
                .parse::<usize>()
                .ok()
                .filter(|l| (1..=MAX_LIST_LIMIT).contains(l))
                .ok_or_else(|| {
                    ApiError::invalid_range(format_args!(
                        "`limit` must be an integer from 1 to {MAX_LIST_LIMIT}"
                    ))
                })?,
        };
        Ok((offset, limit))
    }

    /// The `status` filter: a v2 status code 1–7 (`OMS.0052` otherwise).
    pub fn status(&self) -> Result<Option<StatusSet>, ApiError> {
        self.status
            .as_deref()
            .map(|s| {
                s.parse::<u8>()
                    .ok()
                    .and_then(states_of_code)
                    .ok_or_else(ApiError::invalid_status_v2)
            })
            .transpose()
    }

    /// The `task_name` filter (a substring of the name, at most 255 characters).
    pub fn task_name(&self) -> Result<Option<&str>, ApiError> {
        match self.task_name.as_deref() {
            Some(name) if name.chars().count() > MAX_TASK_NAME_FILTER_LEN => {
                Err(ApiError::invalid_params(format_args!(
                    "`task_name` is longer than {MAX_TASK_NAME_FILTER_LEN} characters"
                )))
            }
            other => Ok(other),
        }
    }

    /// The `group_id` filter (1–100 characters).
    pub fn group_id(&self) -> Result<Option<&str>, ApiError> {
        match self.group_id.as_deref() {
            Some(id) if id.is_empty() || id.chars().count() > MAX_GROUP_ID_LEN => {
                Err(ApiError::invalid_params(format_args!(
                    "`group_id` must be 1 to {MAX_GROUP_ID_LEN} characters"
                )))
            }
            other => Ok(other),
        }
    }
}

#[derive(Serialize)]
struct ListFileOut<'a> {
    list_file_key: &'a str,
    obs_bucket: &'a str,
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
