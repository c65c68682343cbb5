//! The settings objects of the v1 create body, `smnInfo` and `source_cdn`,
//! by the shapes the v1 create page gives them (the 2020 MIRROR's
//! `创建任务.md`, tables 7 and 8, which `oms-v1-api.md` §2 points to as "the
//! create page"): each member's type, the required ones present, the
//! enumerated ones documented values. Unknown members are ignored, as
//! everywhere; what is stored and shown is the checked members, less the
//! CDN's `authentication_key`, a secret.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::ApiError;
use crate::wire::{SmnLanguage, non_empty, present};

/// `smnInfo` (table 7): `topicUrn` and `triggerConditions` required,
/// `language` optional. camelCase on the wire, as `smnInfo` itself.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct SmnInfo {
    #[serde(rename = "topicUrn")]
    topic_urn: String,
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "present"
    )]
    language: Option<SmnLanguage>,
    #[serde(rename = "triggerConditions")]
    trigger_conditions: Vec<Trigger>,
}

/// "迁移任务状态的取值范围为SUCCESS或者FAIL" (v2's `smn_config` says FAILURE).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
enum Trigger {
    #[serde(rename = "SUCCESS")]
    Success,
    #[serde(rename = "FAIL")]
    Fail,
}

impl SmnInfo {
    /// The settings as stored and shown; an empty topic or no trigger is
    /// missing (`OMS.1004`), as any empty required member.
    pub(super) fn validate(self) -> Result<Box<Value>, ApiError> {
        non_empty("smnInfo.topicUrn", &self.topic_urn)?;
        if self.trigger_conditions.is_empty() {
            return Err(ApiError::missing_param("`smnInfo.triggerConditions`"));
        }
        // Serialising strings and unit enums cannot fail.
        Ok(Box::new(serde_json::to_value(&self).unwrap_or_default()))
    }
}

/// `source_cdn` (table 8): `protocol`, `domain` and `authentication_type`
/// required, `authentication_key` optional.
#[derive(Debug, Deserialize)]
pub(super) struct SourceCdn {
    protocol: Protocol,
    domain: String,
    authentication_type: AuthenticationType,
    // Type-checked, then dropped: a secret.
    #[serde(rename = "authentication_key", default, deserialize_with = "present")]
    _authentication_key: Option<String>,
}

/// "协议类型：https或http".
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Protocol {
    Http,
    Https,
}

/// The page's six authentication types (v2 documents five more, Azure's and
/// Tencent's, which v1 does not).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
enum AuthenticationType {
    None,
    QiniuPrivateAuthentication,
    AliyunOssA,
    AliyunOssB,
    AliyunOssC,
    KsyunPrivateAuthentication,
}

#[derive(Serialize)]
struct SourceCdnOut {
    domain: String,
    protocol: Protocol,
    authentication_type: AuthenticationType,
}

impl SourceCdn {
    /// The settings as stored and shown: the three members that are no
    /// secret. An empty `domain` is missing (`OMS.1004`).
    pub(super) fn validate(self) -> Result<Box<Value>, ApiError> {
        non_empty("source_cdn.domain", &self.domain)?;
        let shown = SourceCdnOut {
            domain: self.domain,
            protocol: self.protocol,
            authentication_type: self.authentication_type,
        };
        // Serialising strings and unit enums cannot fail.
        Ok(Box::new(serde_json::to_value(&shown).unwrap_or_default()))
    }
}
