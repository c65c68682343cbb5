//! OMS v1 on the wire (`oms-v1-api.md`): the create, `PUT` and list request
//! forms, validated into the domain's [`TaskSpec`] and [`Policy`], and the task
//! object and status codes rendered from a [`TaskView`] (`task`). Unknown
//! fields are ignored at every level of every body, as in v2 (see `wire`).
//! The create body's settings objects have a file of their own (`settings`).
//!
//! [`TaskView`]: crate::model::TaskView

mod settings;
mod task;

use serde::{Deserialize, Serialize};

use super::{
    Integer, ListFileJson, Object, WindowIn, documented, key_len, list_file, non_empty,
    optional_key, parse_json, policy_error, present, required, source_keys, windows,
};
use crate::bandwidth::Policy;
use crate::error::ApiError;
use crate::model::{ConsistencyCheck, OverwriteMode, StatusSet, StoragePolicy, TaskSpec, TaskType};
use settings::{SmnInfo, SourceCdn};
use task::TaskTypeJson;

pub use task::{TaskOut, status_code};

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

/// The states a v1 status code names (`state=2` includes retrying and
/// pausing), if it names any.
pub fn states_of_code(code: u8) -> Option<StatusSet> {
    super::states_named(code, status_code)
}

/// The documented `max_bandwidth` range, bytes per second: "单位Byte/s，取值范围为
/// \>= 5MB/s且<=10GB/s" (the 2020 v1 create page, MIRROR `创建任务.md`, table
/// 9; `oms-v2-api.md` §6). MB and GB are read as 2^20 and 2^30 bytes, as v2's
/// documented 1048576–209715200 is "1–200 MiB/s".
const MIN_BANDWIDTH: u64 = 5 * 1_048_576;
const MAX_BANDWIDTH: u64 = 10 * 1_073_741_824;

/// Validates a policy as the create and `PUT` bodies state it. A
/// `max_bandwidth` outside 5 MiB/s–10 GiB/s, however large or negative, gets
/// the code of a bad bandwidth (`OMS.0087`, `policy_error`).
fn policy(stated: Vec<WindowIn>) -> Result<Policy, ApiError> {
    Policy::parse(&windows(stated, MIN_BANDWIDTH..=MAX_BANDWIDTH, "OMS.0087")?)
        .map_err(policy_error)
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum ObjectKey {
    One(String),
    Many(Vec<String>),
    Keys { path: String, keys: Vec<String> },
}

// Every optional field below is `present`: absent is none, and `null` is a
// wrong type (`OMS.0064`), as the OpenAPI document has it (see `wire`).
#[derive(Debug, Deserialize)]
struct SrcNode {
    region: String,
    #[serde(default, deserialize_with = "present")]
    ak: Option<String>,
    #[serde(default, deserialize_with = "present")]
    sk: Option<String>,
    #[serde(default, deserialize_with = "present")]
    bucket: Option<String>,
    #[serde(default, deserialize_with = "present")]
    object_key: Option<ObjectKey>,
    #[serde(default, deserialize_with = "present")]
    list_file: Option<ListFileJson>,
    #[serde(default, deserialize_with = "present")]
    app_id: Option<String>,
    #[serde(default, deserialize_with = "present")]
    cloud_type: Option<String>,
}

#[derive(Debug, Deserialize)]
struct DstNode {
    region: String,
    ak: String,
    sk: String,
    bucket: String,
    object_key: String,
    #[serde(default, deserialize_with = "present")]
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
    #[serde(default, deserialize_with = "present")]
    description: Option<String>,
    #[serde(default, deserialize_with = "present")]
    task_type: Option<TaskTypeJson>,
    #[serde(default, deserialize_with = "present")]
    bandwidth_policy: Option<Vec<WindowIn>>,
    // The create page's objects (its tables 7 and 8), checked member by
    // member (`settings`); an array or any other value is a wrong type.
    #[serde(rename = "smnInfo", default, deserialize_with = "present")]
    smn_info: Option<Object<SmnInfo>>,
    #[serde(default, deserialize_with = "present")]
    source_cdn: Option<Object<SourceCdn>>,
    #[serde(default, deserialize_with = "present")]
    migrate_since: Option<i64>,
    #[serde(default, deserialize_with = "present")]
    auto_restore: Option<bool>,
    #[serde(default, deserialize_with = "present")]
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
        // Seconds since the epoch (the create page: "单位：s"), as in v2.
        let migrate_since = self.migrate_since.unwrap_or(0);
        if migrate_since < 0 {
            return Err(ApiError::invalid_params(
                "`migrate_since` must be seconds since the epoch",
            ));
        }
        let smn_info = self.smn_info.map(|o| o.0.validate()).transpose()?;
        let source_cdn = self.source_cdn.map(|o| o.0.validate()).transpose()?;
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
            migrate_since,
            smn_info,
            source_cdn,
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
    #[serde(default, deserialize_with = "present")]
    source_cdn_authentication_key: Option<String>,
    // Accepted and validated as a bool; the simulated source re-transfers the
    // same remainder either way.
    #[serde(
        rename = "migration_failed_object",
        default,
        deserialize_with = "present"
    )]
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
