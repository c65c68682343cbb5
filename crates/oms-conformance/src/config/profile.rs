//! The target profile as it is written: the serde types of the TOML file, which
//! refuse unknown fields, and where the profile came from ([`Origin`]), against
//! which the relative paths inside it resolve. The built-in reference profile and
//! the create bodies it names are embedded, so that the binary runs the default
//! suite from any directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::error::{ConfigError, one_line};

/// The profile that ships for the reference server, used when `--profile` is absent.
const REFERENCE_PROFILE: &str = include_str!("../../../../fixtures/profiles/reference.toml");
/// The create bodies the reference profile names, embedded so that the binary runs
/// the default suite from any directory.
const REFERENCE_BODIES: [(&str, &str); 9] = [
    (
        "../create/running.json",
        include_str!("../../../../fixtures/create/running.json"),
    ),
    (
        "../create/succeeding.json",
        include_str!("../../../../fixtures/create/succeeding.json"),
    ),
    (
        "../create/failing.json",
        include_str!("../../../../fixtures/create/failing.json"),
    ),
    (
        "../create/ending.json",
        include_str!("../../../../fixtures/create/ending.json"),
    ),
    (
        "../create/v2/running.json",
        include_str!("../../../../fixtures/create/v2/running.json"),
    ),
    (
        "../create/v2/succeeding.json",
        include_str!("../../../../fixtures/create/v2/succeeding.json"),
    ),
    (
        "../create/v2/failing.json",
        include_str!("../../../../fixtures/create/v2/failing.json"),
    ),
    (
        "../create/v2/ending.json",
        include_str!("../../../../fixtures/create/v2/ending.json"),
    ),
    (
        "../create/v2/retrying.json",
        include_str!("../../../../fixtures/create/v2/retrying.json"),
    ),
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ProfileFile {
    pub(super) name: String,
    pub(super) base_url: Option<String>,
    /// The dialects the target serves; none named means v1.
    pub(super) api: Option<Vec<String>>,
    pub(super) first_project: ProjectFile,
    pub(super) second_project: Option<ProjectFile>,
    #[serde(default)]
    pub(super) create: CreateFile,
    #[serde(default)]
    pub(super) deadlines: DeadlinesFile,
    /// `[declared]`, and in `[declared.v1]`, `[declared.v2]` a dialect's own
    /// answers; split and read by `declared.rs`, as only it knows the keys
    /// from the dialects.
    #[serde(default)]
    pub(super) declared: toml::Table,
    pub(super) parallel_quota: Option<usize>,
    #[serde(default)]
    pub(super) disabled: DisabledFile,
    pub(super) expectations: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ProjectFile {
    pub(super) id: String,
    pub(super) token: Option<String>,
    pub(super) ak: Option<String>,
    pub(super) sk: Option<String>,
    pub(super) security_token: Option<String>,
}

/// `[create]`: the v1 bodies, and in `[create.v2]` the v2 ones.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateFile {
    pub(super) running: Option<String>,
    pub(super) succeeding: Option<String>,
    pub(super) failing: Option<String>,
    /// A task that succeeds by itself, seen running well before its end
    /// (OMS-DEL-024's end race); the succeeding one where it is not named.
    pub(super) ending: Option<String>,
    pub(super) v2: Option<CreateSetFile>,
}

/// One dialect's create bodies.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateSetFile {
    pub(super) running: String,
    pub(super) succeeding: String,
    pub(super) failing: Option<String>,
    /// As in [`CreateFile::ending`].
    pub(super) ending: Option<String>,
    /// A task that retries (v2 status 6) until stopped, where the target can
    /// make one (OMS-DEL-018).
    pub(super) retrying: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DeadlinesFile {
    pub(super) request: Option<String>,
    pub(super) state: Option<String>,
    pub(super) queue: Option<String>,
    pub(super) run: Option<String>,
    pub(super) settle: Option<String>,
    pub(super) after_stop: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// The declared answers of one table: `[declared]`, or a dialect's own.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DeclaredFile {
    pub(super) delete_status: Option<u16>,
    pub(super) running: Option<OneOrMany>,
    /// Answers, or `"deleted"`.
    pub(super) pausing: Option<OneOrMany>,
    pub(super) missing: Option<OneOrMany>,
    pub(super) malformed: Option<OneOrMany>,
    pub(super) empty_segment: Option<OneOrMany>,
    pub(super) cross_project: Option<OneOrMany>,
    pub(super) unauthenticated: Option<OneOrMany>,
    pub(super) skewed_date: Option<OneOrMany>,
    pub(super) unexpected_input: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DisabledFile {
    #[serde(default)]
    pub(super) rules: BTreeMap<String, String>,
    #[serde(default)]
    pub(super) capabilities: BTreeMap<String, String>,
}

/// Where the profile came from: relative paths inside it resolve against its folder,
/// or, for the built-in reference profile, against the embedded fixtures.
pub(super) enum Origin {
    Builtin,
    File(PathBuf),
}

impl Origin {
    /// Reads and parses the profile at `path`, or the built-in one without a path:
    /// its typed form, and the TOML document as written (comments and layout
    /// aside), which the profile digest hashes once its secrets are removed.
    pub(super) fn load(
        path: Option<&Path>,
    ) -> Result<(Self, ProfileFile, serde_json::Value), ConfigError> {
        let (origin, text) = match path {
            None => (Self::Builtin, REFERENCE_PROFILE.to_owned()),
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    what: "profile",
                    path: path.to_owned(),
                    source,
                })?;
                (Self::File(path.to_owned()), text)
            }
        };
        let file = toml::from_str(&text).map_err(|e| origin.error(one_line(&e.to_string())))?;
        // It parsed as a profile, so it parses as a table.
        let document = toml::from_str::<toml::Table>(&text)
            .map_err(|e| origin.error(one_line(&e.to_string())))
            .and_then(|table| {
                serde_json::to_value(table).map_err(|e| origin.error(e.to_string()))
            })?;
        Ok((origin, file, document))
    }

    /// What is wrong with this profile, as a configuration error naming it.
    pub(super) fn error(&self, message: String) -> ConfigError {
        ConfigError::Profile {
            path: self.describe(),
            message,
        }
    }

    fn describe(&self) -> String {
        match self {
            Self::Builtin => "(built-in reference profile)".to_owned(),
            Self::File(path) => path.display().to_string(),
        }
    }

    /// The file a relative path in a profile file names; `None` for the built-in
    /// profile, whose files are embedded.
    pub(super) fn beside(&self, relative: &str) -> Option<PathBuf> {
        match self {
            Self::Builtin => None,
            Self::File(profile) => Some(profile.parent().unwrap_or(Path::new(".")).join(relative)),
        }
    }

    /// The name and text of the file a relative path in the profile names.
    pub(super) fn read(
        &self,
        relative: &str,
        what: &'static str,
    ) -> Result<(String, String), ConfigError> {
        let Some(path) = self.beside(relative) else {
            return REFERENCE_BODIES
                .iter()
                .find(|(name, _)| *name == relative)
                .map(|(name, text)| ((*name).to_owned(), (*text).to_owned()))
                .ok_or_else(|| self.error(format!("{relative} is not an embedded fixture")));
        };
        let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
            what,
            path: path.clone(),
            source,
        })?;
        Ok((path.display().to_string(), text))
    }
}
