//! OMS v1 on the wire (`oms-v1-api.md`): the create, `PUT` and list request
//! forms, validated into the domain's [`TaskSpec`] and [`Policy`], and the task
//! object and status codes rendered from a [`TaskView`]. Unknown fields are
//! ignored at every level of every body, as in v2 (see `wire`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{
    Integer, ListFileJson, WindowIn, documented, key_len, list_file, non_empty, optional_key,
    parse_json, policy_error, required, source_keys, windows,
};
use crate::bandwidth::{Policy, WindowSpec};
use crate::error::ApiError;
use crate::model::{
    ConsistencyCheck, OverwriteMode, Status, StatusSet, StoragePolicy, TaskSpec, TaskType, TaskView,
};

const MAX_OBJECT_KEY_LEN: usize = 1024;
const MAX_DESCRIPTION_LEN: usize = 255;
const MAX_THREAD_NUM: u8 = 50;

/// The cloud types `oms-v1-api.md` §2 lists for `src_node.cloud_type`
/// (default Aliyun). It lists `dst_node.cloud_type` with no values: that the
/// same set applies there is inferred, the page naming one set of cloud types
/// (default HuaweiCloud, the service's own). v2 documents three more (Azure,
/// Google, UCloud, `wire::v2`), which v1 does not.
const CLOUD_TYPES: [&str; 9] = [
    "AWS",
    "Aliyun",
    "Tencent",
    "HuaweiCloud",
    "QingCloud",
    "KingsoftCloud",
    "Baidu",
    "Qiniu",
    "URLSource",
];

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

/// The states a v1 status code names (`state=2` includes retrying and
/// pausing), if it names any.
pub fn states_of_code(code: u8) -> Option<StatusSet> {
    super::states_named(code, status_code)
}

/// `task_type` of the create body and the task object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum TaskTypeJson {
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

/// Validates a policy as the create and `PUT` bodies state it. A v1
/// `max_bandwidth` may be any positive 64-bit integer (the v1 page's 5 MB/s to
/// 10 GB/s, quoted in `oms-v2-api.md` §6, is not enforced); anything else, a
/// negative or huge integer too, gets the code of a `max_bandwidth` of 0
/// (`policy_error`).
fn policy(stated: Vec<WindowIn>) -> Result<Policy, ApiError> {
    Policy::parse(&windows(stated, 1..=u64::MAX, "OMS.0087")?).map_err(policy_error)
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum ObjectKey {
    One(String),
    Many(Vec<String>),
    Keys { path: String, keys: Vec<String> },
}

#[derive(Debug, Deserialize)]
struct SrcNode {
    region: String,
    ak: Option<String>,
    sk: Option<String>,
    bucket: Option<String>,
    object_key: Option<ObjectKey>,
    list_file: Option<ListFileJson>,
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
    thread_num: Integer,
    description: Option<String>,
    task_type: Option<TaskTypeJson>,
    bandwidth_policy: Option<Vec<WindowIn>>,
    // Objects on the create page (SmnInfo, SourceCdn): kept opaque, but an
    // object, so a string or a number is a wrong type (`OMS.0064`) instead of
    // a value the task object would echo where its clients read an object.
    #[serde(rename = "smnInfo")]
    smn_info: Option<Map<String, Value>>,
    source_cdn: Option<Map<String, Value>>,
    migrate_since: Option<i64>,
    auto_restore: Option<bool>,
    enable_failed_object_recording: Option<bool>,
}

impl CreateBody {
    /// Validates the body against the create page's limits.
    pub fn validate(self) -> Result<(TaskSpec, Policy), ApiError> {
        let task_type = self
            .task_type
            .map_or_else(TaskType::default, TaskType::from);
        let src = self.src_node;
        let dst = self.dst_node;
        non_empty("src_node.region", &src.region)?;
        source_keys(task_type, src.ak.as_deref(), src.sk.as_deref())?;
        let src_bucket = if task_type == TaskType::UrlList {
            src.bucket.unwrap_or_default()
        } else {
            required("src_node.bucket", src.bucket)?
        };
        let (path, keys) = match src.object_key {
            Some(ObjectKey::One(key)) => (String::new(), vec![key]),
            Some(ObjectKey::Many(keys)) => (String::new(), keys),
            Some(ObjectKey::Keys { path, keys }) => (path, keys),
            None => (String::new(), Vec::new()),
        };
        // An object or prefix task must name what it migrates, and an empty
        // key names nothing: missing, like an empty list. (v2 differs: its
        // `[""]` is documented to migrate the whole bucket.)
        if matches!(task_type, TaskType::Object | TaskType::Prefix)
            && (keys.is_empty() || keys.iter().any(String::is_empty))
        {
            return Err(ApiError::missing_param("`src_node.object_key`"));
        }
        let src_object_key = keys.into_iter().map(|k| format!("{path}{k}")).collect();
        let src_list_file = list_file(task_type, src.list_file)?;
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
        // Any integer outside 0–50, a huge or a negative one too, is the
        // documented OMS.0059; a number that is no integer is a wrong type.
        let thread_num = self
            .thread_num
            .get::<u8>()
            .filter(|n| *n <= MAX_THREAD_NUM)
            .ok_or_else(ApiError::invalid_thread_num)?;
        let description = self.description.unwrap_or_default();
        if description.chars().count() > MAX_DESCRIPTION_LEN
            || description.contains(['<', '>', '(', ')', '"', '\'', '&'])
        {
            return Err(ApiError::invalid_description());
        }
        let src_cloud_type = src.cloud_type.unwrap_or_else(|| "Aliyun".to_owned());
        documented(
            "src_node.cloud_type",
            &src_cloud_type,
            &CLOUD_TYPES,
            "cloud type",
        )?;
        let dst_cloud_type = dst.cloud_type.unwrap_or_else(|| "HuaweiCloud".to_owned());
        documented(
            "dst_node.cloud_type",
            &dst_cloud_type,
            &CLOUD_TYPES,
            "cloud type",
        )?;
        let policy = policy(self.bandwidth_policy.unwrap_or_default())?;
        let spec = TaskSpec {
            src_region: src.region,
            src_bucket,
            src_object_key,
            src_cloud_type,
            src_list_file,
            src_app_id: src.app_id,
            dst_region: dst.region,
            dst_bucket: dst.bucket,
            dst_object_key: dst.object_key,
            dst_cloud_type,
            enable_kms: self.enable_kms,
            thread_num,
            description,
            task_type,
            migrate_since: self.migrate_since.unwrap_or(0),
            smn_info: self.smn_info.map(|smn| Box::new(Value::Object(smn))),
            source_cdn: self
                .source_cdn
                .map(|cdn| Box::new(Value::Object(without_secrets(cdn)))),
            auto_restore: self.auto_restore.unwrap_or(false),
            enable_failed_object_recording: self.enable_failed_object_recording.unwrap_or(false),
            enable_metadata_migration: false,
            enable_requester_pays: false,
            overwrite: OverwriteMode::default(),
            storage_policy: StoragePolicy::default(),
            consistency_check: ConsistencyCheck::default(),
            priority: None,
        };
        Ok((spec, policy))
    }
}

/// The CDN settings of a create body as they are stored and shown: opaque,
/// less their `authentication_key`, a secret that no answer may echo (v2
/// keeps the same three fields that remain).
fn without_secrets(mut source_cdn: Map<String, Value>) -> Map<String, Value> {
    source_cdn.remove("authentication_key");
    source_cdn
}

/// The operations of `PUT …/task/{id}`, which the body's `operation` names.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum OperationName {
    Start,
    Stop,
    ChangeBandwidthpolicy,
}

/// The field every `PUT` body has.
#[derive(Debug, Deserialize)]
struct Tagged {
    operation: OperationName,
}

/// The keys of a start: the four required, the CDN key optional.
#[derive(Debug, Deserialize)]
struct StartKeys {
    source_ak: String,
    source_sk: String,
    target_ak: String,
    target_sk: String,
    source_cdn_authentication_key: Option<String>,
    // Accepted and validated as a bool; the simulated source re-transfers the
    // same remainder either way.
    #[serde(rename = "migration_failed_object")]
    _migration_failed_object: Option<bool>,
}

impl StartKeys {
    /// Checks the keys: the four required ones present, non-empty, and each
    /// key at most 100 characters.
    fn validate(&self) -> Result<(), ApiError> {
        key_len("source_ak", &self.source_ak)?;
        key_len("source_sk", &self.source_sk)?;
        key_len("target_ak", &self.target_ak)?;
        key_len("target_sk", &self.target_sk)?;
        optional_key(
            "source_cdn_authentication_key",
            self.source_cdn_authentication_key.as_deref(),
        )
    }
}

#[derive(Debug, Deserialize)]
struct PolicyChange {
    bandwidth_policy: Vec<WindowIn>,
}

/// `PUT …/task/{id}`: start, stop or a new bandwidth policy, validated.
#[derive(Debug)]
pub enum Operation {
    Start,
    Stop,
    ChangeBandwidthpolicy(Policy),
}

impl Operation {
    /// Parses and validates a `PUT` body: first its `operation`, then the
    /// body again as that operation's form. (An internally tagged enum would
    /// read the form from a copy serde buffers, where an error loses its
    /// field and its position in the body.)
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        let Tagged { operation } = parse_json(body)?;
        Ok(match operation {
            OperationName::Start => {
                parse_json::<StartKeys>(body)?.validate()?;
                Self::Start
            }
            OperationName::Stop => Self::Stop,
            OperationName::ChangeBandwidthpolicy => Self::ChangeBandwidthpolicy(policy(
                parse_json::<PolicyChange>(body)?.bandwidth_policy,
            )?),
        })
    }
}

/// `{"id", "task_name"}`: the create answer.
#[derive(Debug, Serialize)]
pub struct Created {
    pub id: u64,
    pub task_name: String,
}

pub use crate::model::task_name;

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

/// The most tasks one list call returns (`limit`).
const MAX_LIST_LIMIT: usize = 100;

/// The query string of the list and count calls, unparsed so each bad value
/// gets its own code.
#[derive(Debug, Deserialize)]
pub struct ListParams {
    start: Option<String>,
    limit: Option<String>,
    state: Option<String>,
    totalcount: Option<String>,
}

impl ListParams {
    /// The `state` filter: a v1 status code (`OMS.0052` otherwise).
    pub fn status(&self) -> Result<Option<StatusSet>, ApiError> {
        self.state
            .as_deref()
            .map(|s| {
                s.parse::<u8>()
                    .ok()
                    .and_then(states_of_code)
                    .ok_or_else(ApiError::invalid_state)
            })
            .transpose()
    }

    /// Whether the call asks for the count (`totalcount=true`) instead of a page.
    pub fn counting(&self) -> Result<bool, ApiError> {
        match self.totalcount.as_deref() {
            Some("true") => Ok(true),
            None | Some("false") => Ok(false),
            Some(_) => Err(ApiError::invalid_params(
                "`totalcount` must be true or false",
            )),
        }
    }

    /// `start` and `limit` of a page (`OMS.0051` when either is off).
    pub fn window(&self) -> Result<(usize, usize), ApiError> {
        let start = index("start", self.start.as_deref())?;
        let limit = index("limit", self.limit.as_deref())?;
        if limit == 0 || limit > MAX_LIST_LIMIT {
            return Err(ApiError::invalid_range(format_args!(
                "`limit` must be from 1 to {MAX_LIST_LIMIT}"
            )));
        }
        Ok((start, limit))
    }
}

fn index(name: &str, raw: Option<&str>) -> Result<usize, ApiError> {
    let raw = raw.ok_or_else(|| ApiError::missing_param(format_args!("`{name}`")))?;
    raw.parse::<usize>().map_err(|_| {
        ApiError::invalid_range(format_args!("`{name}` must be a non-negative integer"))
    })
}
