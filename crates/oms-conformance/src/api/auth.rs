//! The credentials a request carries: a project's own (token or AK/SK, from the
//! profile), and the deliberately bad ones of the authentication rules
//! (OMS-DEL-011), each built so that it has exactly one thing wrong.

use crate::http::{Auth, Signing};
use crate::project::Credential;
use crate::secret::Secret;

use super::client::Api;

/// The secret key of a "wrong key" signature (another one if it is the real SK).
const WRONG_SECRET: &str = "oms-conformance-wrong-secret-key";

/// Credentials that must not be accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadCredentials {
    /// No credentials at all.
    Missing,
    /// An `X-Auth-Token` the target does not know.
    BadToken,
    /// A well-formed, current signature by an access key the target does not know.
    UnknownKey,
    /// The project's own signature with one hex digit changed.
    TamperedSignature,
    /// Signed with the project's AK but a secret key that is not its SK.
    WrongSecret,
    /// Correctly signed, with an `X-Sdk-Date` this many seconds off the clock.
    SkewedDate(i64),
}

impl Api {
    /// The credentials of project `p`.
    pub fn auth(&self, p: usize) -> Auth {
        let project = &self.projects()[p];
        match &project.credential {
            Credential::Token(token) => Auth::Token {
                token: token.clone(),
                env: project.token_env,
            },
            Credential::AkSk {
                ak,
                sk,
                security_token,
            } => Auth::Signed(Signing {
                ak: ak.clone(),
                sk: sk.clone(),
                security_token: security_token.clone(),
                project_id: project.id.clone(),
                whose: format!("the {} project's AK/SK", project.label),
                clock_offset: 0,
                tamper: false,
            }),
        }
    }

    /// Project `p`'s own signature with an `X-Project-Id` naming project
    /// `named`, signed with the rest as the SDK signs it (`oms-v2-api.md` §7,
    /// OMS-DEL-010); `None` when project `p` authenticates with a token.
    pub fn auth_naming(&self, p: usize, named: usize) -> Option<Auth> {
        match self.auth(p) {
            Auth::Signed(mut signing) => {
                signing.project_id = self.projects()[named].id.clone();
                signing.whose = format!(
                    "{}, with the {} project's X-Project-Id",
                    signing.whose,
                    self.projects()[named].label
                );
                Some(Auth::Signed(signing))
            }
            _ => None,
        }
    }

    /// `bad` credentials for a request through project `p`'s path; `None` when
    /// they spoil a signature and the project authenticates with a token, so
    /// that there is no signature to get wrong.
    pub fn bad_auth(&self, p: usize, bad: BadCredentials) -> Option<Auth> {
        let spoiled = |spoil: &dyn Fn(&mut Signing)| match self.auth(p) {
            Auth::Signed(mut signing) => {
                spoil(&mut signing);
                Some(Auth::Signed(signing))
            }
            _ => None,
        };
        match bad {
            BadCredentials::Missing => Some(Auth::None),
            BadCredentials::BadToken => Some(Auth::Headers(vec![(
                "X-Auth-Token".to_owned(),
                "oms-conformance-invalid-token".to_owned(),
            )])),
            // Everything right but the key, so that a target which checks the
            // date or the signed headers first still has only one reason to refuse.
            BadCredentials::UnknownKey => Some(Auth::Signed(Signing {
                ak: Secret::new("OMSCONFORMANCEUNKNOWNAK"),
                sk: Secret::new("oms-conformance-unknown-secret-key"),
                security_token: None,
                project_id: self.projects()[p].id.clone(),
                whose: "an access key the target does not know".to_owned(),
                clock_offset: 0,
                tamper: false,
            })),
            BadCredentials::TamperedSignature => spoiled(&|s| s.tamper = true),
            BadCredentials::WrongSecret => spoiled(&|s| {
                let wrong = if s.sk.expose() == WRONG_SECRET {
                    format!("{WRONG_SECRET}-2")
                } else {
                    WRONG_SECRET.to_owned()
                };
                s.sk = Secret::new(wrong);
                s.whose = s.whose.replace("AK/SK", "AK and a wrong SK");
            }),
            BadCredentials::SkewedDate(seconds) => spoiled(&|s| s.clock_offset = seconds),
        }
    }
}
