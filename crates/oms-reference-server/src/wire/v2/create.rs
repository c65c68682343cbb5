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
use crate::model::{ConsistencyCheck, OverwriteMode, Priority, StoragePolicy, TaskSpec, TaskType};
use crate::wire::{
    ListFileJson, WindowIn, documented, key_len, list_file, non_empty, required, source_keys,
};

const MAX_SAVE_PREFIX_LEN: usize = 1024;
const MAX_DESCRIPTION_LEN: usize = 255;

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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
enum CryptoType {
    #[serde(rename = "DEFAULT")]
    Default,
    #[serde(rename = "KMS")]
    Kms,
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

/// `{"id", "task_name"}`: the create answer.
#[derive(Debug, Serialize)]
pub struct Created {
    pub id: u64,
    pub task_name: String,
}
