//! The task settings of a v2 create body and task object, each a code of
//! v2 mapped to and from its domain type: the task type, the overwrite mode,
//! the storage policy, the consistency check and the priority.

use serde::{Deserialize, Serialize};

use crate::model::{ConsistencyCheck, OverwriteMode, Priority, StoragePolicy, TaskType};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum TaskTypeJson {
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
pub(super) enum OverwriteJson {
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
pub(super) enum StoragePolicyJson {
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
pub(super) enum ConsistencyJson {
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
pub(super) enum PriorityJson {
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
