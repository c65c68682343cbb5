//! The dialects of the OMS task API the kit speaks ([`Dialect`]: v1, v2), by
//! name only: a leaf that the API layer, the configuration, the catalogue and
//! the reports all import downward. What a dialect sends and how it reads the
//! answers lives in `api/v1.rs` and `api/v2.rs`.

use std::fmt;

/// A version of the OMS task API a target speaks.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    /// The v1 API of `shared/spec/oms-v1-api.md` (`v1.rs`).
    V1,
    /// The v2 API of `shared/spec/oms-v2-api.md` (`v2.rs`), which the SDKs send.
    V2,
}

impl Dialect {
    /// Every dialect the kit speaks, in report order.
    pub const ALL: [Dialect; 2] = [Dialect::V1, Dialect::V2];

    /// Its name in profiles, tags and reports: `v1`, `v2`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V1 => "v1",
            Self::V2 => "v2",
        }
    }

    /// The dialect a name names, if any.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == name)
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
