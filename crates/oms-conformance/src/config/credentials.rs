//! How the run authenticates as each project, and the state machine that picks a
//! project's credential kind: a token or an AK/SK pair, from the profile or from
//! the values `main.rs` collected, never a mix of the two kinds.

use super::profile::ProjectFile;
use crate::project::{Credential, Project};
use crate::secret::Secret;

/// Credential values from the environment or the command line, for one project
/// (`OMS_CONFORMANCE_TOKEN_FIRST`, `…_AK_FIRST`, `…_SK_FIRST`,
/// `…_SECURITY_TOKEN_FIRST`, and the same for `SECOND`).
#[derive(Debug, Clone, Default)]
pub struct CredentialOverrides {
    pub token: Option<Secret>,
    pub ak: Option<Secret>,
    pub sk: Option<Secret>,
    pub security_token: Option<Secret>,
}

impl CredentialOverrides {
    fn has_aksk(&self) -> bool {
        self.ak.is_some() || self.sk.is_some() || self.security_token.is_some()
    }
}

/// A project's credential: a token, or an AK/SK pair. The kind is the one the
/// profile gives (`token`, or `ak`/`sk`); a profile that gives neither takes it
/// from the overrides. A value of the other kind is refused rather than
/// silently ignored, so that a stray variable cannot change what is tested.
pub(super) fn project(
    label: &'static str,
    file: &ProjectFile,
    overrides: CredentialOverrides,
) -> Result<Project, String> {
    let token_env = if label == "first" {
        "OMS_CONFORMANCE_TOKEN_FIRST"
    } else {
        "OMS_CONFORMANCE_TOKEN_SECOND"
    };
    if file.id.is_empty() || file.id.contains(['/', '?', '#', '%', ' ']) {
        return Err(format!(
            "{label}_project.id must be a non-empty path segment"
        ));
    }
    let credential = if signs(label, token_env, file, &overrides)? {
        aksk(label, file, overrides)?
    } else {
        token(label, token_env, file, overrides)?
    };
    Ok(Project {
        label,
        id: file.id.clone(),
        credential,
        token_env,
    })
}

/// Whether the project signs with an AK/SK (else it sends a token), or why the
/// values given do not say one kind.
fn signs(
    label: &str,
    token_env: &str,
    file: &ProjectFile,
    overrides: &CredentialOverrides,
) -> Result<bool, String> {
    let suffix = label.to_ascii_uppercase();
    let profile_token = file.token.is_some();
    let profile_aksk = file.ak.is_some() || file.sk.is_some() || file.security_token.is_some();
    let override_token = overrides.token.is_some();
    let override_aksk = overrides.has_aksk();
    match (profile_token, profile_aksk) {
        (true, true) => Err(format!(
            "{label}_project gives both a token and ak/sk; give one kind of credential"
        )),
        (true, false) if override_aksk => Err(format!(
            "{label}_project authenticates with a token, but an AK/SK is set \
             (OMS_CONFORMANCE_AK_{suffix}, …_SK_{suffix} or …_SECURITY_TOKEN_{suffix})"
        )),
        (false, true) if override_token => Err(format!(
            "{label}_project authenticates with ak/sk, but a token is set ({token_env})"
        )),
        (true, false) => Ok(false),
        (false, true) => Ok(true),
        (false, false) if override_token && override_aksk => Err(format!(
            "both a token and an AK/SK are set for the {label} project; set one kind"
        )),
        (false, false) => Ok(override_aksk),
    }
}

/// The AK/SK credential, each value from the overrides over the profile.
fn aksk(
    label: &str,
    file: &ProjectFile,
    overrides: CredentialOverrides,
) -> Result<Credential, String> {
    let suffix = label.to_ascii_uppercase();
    let missing = |what: &str| {
        format!(
            "{label}_project has no {what} (set `{what}` in the profile or OMS_CONFORMANCE_{}_{suffix})",
            what.to_ascii_uppercase()
        )
    };
    let ak = overrides
        .ak
        .or_else(|| file.ak.clone().map(Secret::new))
        .ok_or_else(|| missing("ak"))?;
    let sk = overrides
        .sk
        .or_else(|| file.sk.clone().map(Secret::new))
        .ok_or_else(|| missing("sk"))?;
    let security_token = overrides
        .security_token
        .or_else(|| file.security_token.clone().map(Secret::new));
    // The AK goes into `Authorization: … Access=<AK>, …` and the security
    // token into a header of its own: each must fit there as it is.
    if ak.expose().is_empty()
        || !ak
            .expose()
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b',')
    {
        return Err(format!(
            "{label}_project.ak must be printable ASCII without spaces or commas"
        ));
    }
    if sk.expose().is_empty() {
        return Err(format!("{label}_project.sk is empty"));
    }
    if security_token
        .as_ref()
        .is_some_and(|t| t.expose().is_empty() || !t.expose().bytes().all(|b| b.is_ascii_graphic()))
    {
        return Err(format!(
            "{label}_project.security_token must be printable ASCII without spaces"
        ));
    }
    Ok(Credential::AkSk {
        ak,
        sk,
        security_token,
    })
}

/// The token credential, from the overrides over the profile.
fn token(
    label: &str,
    token_env: &str,
    file: &ProjectFile,
    overrides: CredentialOverrides,
) -> Result<Credential, String> {
    let suffix = label.to_ascii_uppercase();
    let token = overrides
        .token
        .or_else(|| file.token.clone().map(Secret::new))
        .ok_or_else(|| {
            format!(
                "{label}_project has no credentials (set `token`, or `ak` and `sk`, in the \
                 profile, or {token_env}, or OMS_CONFORMANCE_AK_{suffix} and …_SK_{suffix})"
            )
        })?;
    Ok(Credential::Token(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project_file(token: Option<&str>, ak: Option<&str>, sk: Option<&str>) -> ProjectFile {
        ProjectFile {
            id: "0123456789abcdef0123456789abcdef".to_owned(),
            token: token.map(str::to_owned),
            ak: ak.map(str::to_owned),
            sk: sk.map(str::to_owned),
            security_token: None,
        }
    }

    fn no_overrides() -> CredentialOverrides {
        CredentialOverrides {
            token: None,
            ak: None,
            sk: None,
            security_token: None,
        }
    }

    #[test]
    fn a_project_has_a_token_or_an_aksk_never_both() {
        let token = project(
            "first",
            &project_file(Some("t"), None, None),
            no_overrides(),
        );
        assert!(matches!(
            token.map(|p| p.credential),
            Ok(Credential::Token(_))
        ));
        let aksk = project(
            "first",
            &project_file(None, Some("AK"), Some("SK")),
            no_overrides(),
        );
        assert!(aksk.is_ok_and(|p| p.credential.is_aksk()));
        let both = project(
            "first",
            &project_file(Some("t"), Some("AK"), Some("SK")),
            no_overrides(),
        );
        assert!(both.is_err_and(|e| e.contains("one kind")));
        let no_sk = project(
            "first",
            &project_file(None, Some("AK"), None),
            no_overrides(),
        );
        assert!(no_sk.is_err_and(|e| e.contains("OMS_CONFORMANCE_SK_FIRST")));
        let bad_ak = project(
            "second",
            &project_file(None, Some("A K"), Some("SK")),
            no_overrides(),
        );
        assert!(bad_ak.is_err());
        let nothing = project("second", &project_file(None, None, None), no_overrides());
        assert!(nothing.is_err_and(|e| e.contains("OMS_CONFORMANCE_TOKEN_SECOND")));
    }

    #[test]
    fn overrides_give_values_of_the_profiles_kind_only() {
        let from_env = project(
            "first",
            &project_file(None, Some("AK"), None),
            CredentialOverrides {
                sk: Some(Secret::new("ENV-SK")),
                ..no_overrides()
            },
        );
        match from_env.map(|p| p.credential) {
            Ok(Credential::AkSk { ak, sk, .. }) => {
                assert_eq!((ak.expose(), sk.expose()), ("AK", "ENV-SK"));
            }
            other => panic!("{other:?}"),
        }
        let env_only = project(
            "first",
            &project_file(None, None, None),
            CredentialOverrides {
                ak: Some(Secret::new("AK")),
                sk: Some(Secret::new("SK")),
                ..no_overrides()
            },
        );
        assert!(env_only.is_ok_and(|p| p.credential.is_aksk()));
        let stray_sk = project(
            "first",
            &project_file(Some("t"), None, None),
            CredentialOverrides {
                sk: Some(Secret::new("SK")),
                ..no_overrides()
            },
        );
        assert!(stray_sk.is_err_and(|e| e.contains("authenticates with a token")));
        let stray_token = project(
            "first",
            &project_file(None, Some("AK"), Some("SK")),
            CredentialOverrides {
                token: Some(Secret::new("t")),
                ..no_overrides()
            },
        );
        assert!(stray_token.is_err_and(|e| e.contains("OMS_CONFORMANCE_TOKEN_FIRST")));
    }

    #[test]
    fn aksk_credentials_do_not_show_in_debug() {
        let project = project(
            "first",
            &project_file(None, Some("THE-AK"), Some("THE-SK")),
            no_overrides(),
        );
        let debug = format!("{project:?}");
        assert!(
            !debug.contains("THE-AK") && !debug.contains("THE-SK"),
            "{debug}"
        );
    }
}
