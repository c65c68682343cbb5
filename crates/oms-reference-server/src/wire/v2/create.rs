//! The v2 create body (`CreateTaskReq`): its source and destination nodes,
//! CDN and SMN settings, validated against the create page's limits into a
//! [`TaskSpec`] and a [`Policy`], with every secret dropped; and the create
//! answer.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::bandwidth::policy;
use super::body::token_len;
use super::settings::{
    ConsistencyJson, OverwriteJson, PriorityJson, StoragePolicyJson, TaskTypeJson,
};
use crate::bandwidth::Policy;
use crate::error::ApiError;
use crate::model::{
    ConsistencyCheck, ListFile, OverwriteMode, Priority, StoragePolicy, TaskSpec, TaskType,
};
use crate::wire::{
    ListFileJson, SmnLanguage, WindowIn, documented, key_len, list_file, non_empty, present,
    required, source_keys,
};

const MAX_SAVE_PREFIX_LEN: usize = 1024;
const MAX_DESCRIPTION_LEN: usize = 255;
/// "KMS密钥ID，36个字符" (the SDK's `SrcNodeReq`, `DstNodeReq`, `SourceCdnReq`).
const KMS_KEY_ID_LEN: usize = 36;

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

/// `crypto_type` of a node or the CDN: "加解密类型，默认为DEFAULT，可选类型为
/// DEFAULT、KMS" (the SDK's request models, all three).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
enum CryptoType {
    #[serde(rename = "DEFAULT")]
    Default,
    #[serde(rename = "KMS")]
    Kms,
}

// Every optional field below is `present`: absent is none, and `null` is a
// wrong type (`OMS.0064`), as the OpenAPI document has it (see `wire`). The
// secrets among them (keys, tokens, Azure's and Google's credentials) are
// type-checked and dropped.
#[derive(Debug, Deserialize)]
struct SrcNode {
    #[serde(default, deserialize_with = "present")]
    cloud_type: Option<String>,
    #[serde(default, deserialize_with = "present")]
    region: Option<String>,
    #[serde(default, deserialize_with = "present")]
    ak: Option<String>,
    #[serde(default, deserialize_with = "present")]
    sk: Option<String>,
    #[serde(default, deserialize_with = "present")]
    security_token: Option<String>,
    #[serde(rename = "connection_string", default, deserialize_with = "present")]
    _connection_string: Option<String>,
    #[serde(rename = "json_auth_file", default, deserialize_with = "present")]
    _json_auth_file: Option<String>,
    #[serde(default, deserialize_with = "present")]
    app_id: Option<String>,
    #[serde(default, deserialize_with = "present")]
    bucket: Option<String>,
    #[serde(default, deserialize_with = "present")]
    object_key: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    list_file: Option<ListFileIn>,
    #[serde(rename = "crypto_type", default, deserialize_with = "present")]
    _crypto_type: Option<CryptoType>,
    #[serde(default, deserialize_with = "present")]
    kms_key_id: Option<String>,
}

/// v2's list file (the SDK's `ListFile`): v1's two keys and `list_file_num`,
/// a string ("存放对象列表文件的数量", the number of list files), which the
/// task object shows back (`oms-v2-api.md` §2.2).
#[derive(Debug, Deserialize)]
struct ListFileIn {
    obs_bucket: String,
    list_file_key: String,
    #[serde(default, deserialize_with = "present")]
    list_file_num: Option<String>,
}

#[derive(Debug, Deserialize)]
struct DstNode {
    ak: String,
    sk: String,
    #[serde(default, deserialize_with = "present")]
    security_token: Option<String>,
    bucket: String,
    #[serde(default, deserialize_with = "present")]
    save_prefix: Option<String>,
    region: String,
    #[serde(default, deserialize_with = "present")]
    crypto_type: Option<CryptoType>,
    #[serde(default, deserialize_with = "present")]
    kms_key_id: Option<String>,
}

#[derive(Debug, Deserialize)]
struct SourceCdn {
    domain: String,
    protocol: CdnProtocol,
    #[serde(default, deserialize_with = "present")]
    authentication_type: Option<String>,
    #[serde(rename = "authentication_key", default, deserialize_with = "present")]
    _authentication_key: Option<String>,
    #[serde(rename = "crypto_type", default, deserialize_with = "present")]
    _crypto_type: Option<CryptoType>,
    #[serde(default, deserialize_with = "present")]
    kms_key_id: Option<String>,
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
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "present"
    )]
    language: Option<SmnLanguage>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "present"
    )]
    message_template_name: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
enum Trigger {
    Success,
    Failure,
}

/// `POST /v2/{project_id}/tasks` (`CreateTaskReq`).
#[derive(Debug, Deserialize)]
pub struct CreateBody {
    src_node: SrcNode,
    dst_node: DstNode,
    #[serde(default, deserialize_with = "present")]
    task_type: Option<TaskTypeJson>,
    #[serde(default, deserialize_with = "present")]
    description: Option<String>,
    #[serde(default, deserialize_with = "present")]
    migrate_since: Option<i64>,
    #[serde(default, deserialize_with = "present")]
    bandwidth_policy: Option<Vec<WindowIn>>,
    #[serde(default, deserialize_with = "present")]
    source_cdn: Option<SourceCdn>,
    #[serde(default, deserialize_with = "present")]
    smn_config: Option<SmnConfig>,
    #[serde(default, deserialize_with = "present")]
    enable_metadata_migration: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    enable_restore: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    enable_failed_object_recording: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    enable_requester_pays: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    object_overwrite_mode: Option<OverwriteJson>,
    #[serde(default, deserialize_with = "present")]
    dst_storage_policy: Option<StoragePolicyJson>,
    #[serde(default, deserialize_with = "present")]
    consistency_check: Option<ConsistencyJson>,
    #[serde(default, deserialize_with = "present")]
    task_priority: Option<PriorityJson>,
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
        kms_key_id("src_node.kms_key_id", src.kms_key_id.as_deref())?;
        let (stated_list_file, list_file_num) = match src.list_file {
            Some(l) => (
                Some(ListFileJson {
                    obs_bucket: l.obs_bucket,
                    list_file_key: l.list_file_key,
                }),
                l.list_file_num,
            ),
            None => (None, None),
        };
        let src_list_file =
            list_file(task_type, stated_list_file)?.map(|l| ListFile { list_file_num, ..l });
        key_len("dst_node.ak", &dst.ak)?;
        key_len("dst_node.sk", &dst.sk)?;
        token_len("dst_node.security_token", dst.security_token.as_deref())?;
        non_empty("dst_node.bucket", &dst.bucket)?;
        non_empty("dst_node.region", &dst.region)?;
        kms_key_id("dst_node.kms_key_id", dst.kms_key_id.as_deref())?;
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
                kms_key_id("source_cdn.kms_key_id", cdn.kms_key_id.as_deref())?;
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

/// A KMS key id: 36 characters when given (the SDK's docstring). No source
/// ties it to `crypto_type` (that KMS needs a key, or that DEFAULT takes
/// none, is documented nowhere), so neither is required of the other.
fn kms_key_id(field: &'static str, value: Option<&str>) -> Result<(), ApiError> {
    match value {
        Some(id) if id.chars().count() != KMS_KEY_ID_LEN => Err(ApiError::invalid_params(
            format_args!("`{field}` is not {KMS_KEY_ID_LEN} characters"),
        )),
        _ => Ok(()),
    }
}

/// `{"id", "task_name"}`: the create answer.
#[derive(Debug, Serialize)]
pub struct Created {
    pub id: u64,
    pub task_name: String,
}
