//! The bodies of a task's v2 actions: a start (`StartTaskReq`), whose keys
//! and tokens are checked and dropped, and a new bandwidth policy.

use serde::Deserialize;

use super::body::token_len;
use crate::error::ApiError;
use crate::wire::{WindowIn, key_len, optional_key, present, required};

/// `POST …/tasks/{id}/start` (`StartTaskReq`): the destination keys are
/// required, the rest optional; every key and token is checked and dropped.
#[derive(Debug, Deserialize)]
pub struct StartBody {
    #[serde(default, deserialize_with = "present")]
    dst_ak: Option<String>,
    #[serde(default, deserialize_with = "present")]
    dst_sk: Option<String>,
    #[serde(default, deserialize_with = "present")]
    src_ak: Option<String>,
    #[serde(default, deserialize_with = "present")]
    src_sk: Option<String>,
    #[serde(default, deserialize_with = "present")]
    src_security_token: Option<String>,
    #[serde(default, deserialize_with = "present")]
    dst_security_token: Option<String>,
    #[serde(default, deserialize_with = "present")]
    source_cdn_authentication_key: Option<String>,
    // Accepted and type-checked; the simulated source re-transfers the same
    // remainder either way.
    #[serde(
        rename = "migrate_failed_object",
        default,
        deserialize_with = "present"
    )]
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
