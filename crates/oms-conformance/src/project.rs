//! A project of the target as the run uses it ([`Project`]: its label, id and
//! [`Credential`]): a leaf that the configuration builds and the API layer
//! sends with, so that neither imports the other for it. How a credential is
//! chosen from the profile and the environment lives in `config/credentials.rs`.

use crate::secret::Secret;

/// How the run authenticates as a project.
#[derive(Debug, Clone)]
pub enum Credential {
    /// `X-Auth-Token`, project-scoped.
    Token(Secret),
    /// Every request signed with SDK-HMAC-SHA256 (`signing.md`). The AK counts as
    /// a secret too: reports name the project, never its key.
    AkSk {
        ak: Secret,
        sk: Secret,
        /// The `X-Security-Token` of a temporary AK/SK.
        security_token: Option<Secret>,
    },
}

impl Credential {
    pub fn is_aksk(&self) -> bool {
        matches!(self, Self::AkSk { .. })
    }

    /// The kind, without any value: `token`, `aksk`, or `aksk+security-token`
    /// (a temporary AK/SK).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Token(_) => "token",
            Self::AkSk {
                security_token: None,
                ..
            } => "aksk",
            Self::AkSk {
                security_token: Some(_),
                ..
            } => "aksk+security-token",
        }
    }
}

/// One project of the target: its id and how to authenticate as it.
#[derive(Debug, Clone)]
pub struct Project {
    /// `first` or `second`, as the features say.
    pub label: &'static str,
    pub id: String,
    pub credential: Credential,
    /// The environment variable a reproducing `curl` line reads the token from.
    pub token_env: &'static str,
}
