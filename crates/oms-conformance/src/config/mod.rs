//! The typed run configuration: the merge of command-line overrides over the
//! target profile over defaults. Only `main.rs` reads arguments and the
//! environment; it hands the values it got to [`RunConfig::resolve`], and
//! everything below receives a [`RunConfig`]. Secrets live in
//! [`crate::secret::Secret`], whose `Debug` never shows them.
//!
//! The parts: `profile` (the TOML file as written), `credentials` (a project's
//! token or AK/SK), `bodies` (the create bodies), `deadlines`, `declared` (the
//! answers a target declares), `disabled` (the rules and capabilities left
//! out) and `expectations` (its known failures), each refusing with an
//! `error`; this module resolves them into one [`RunConfig`], one named step
//! per part.

mod bodies;
mod credentials;
mod deadlines;
mod declared;
mod disabled;
mod error;
mod expectations;
mod profile;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

pub use self::bodies::CreateBodies;
pub use self::deadlines::Deadlines;
pub use self::disabled::CAPABILITIES;
pub use self::error::ConfigError;
/// Re-exported: `config::Project` and `config::Credential` are the paths the
/// crate's users name.
pub use crate::project::{Credential, Project};
pub use credentials::CredentialOverrides;
pub use declared::{Answer, Declarations, Declared, Disposition};
pub use expectations::Expectation;

use self::profile::{Origin, ProfileFile};
use crate::catalogue::Catalogue;
use crate::dialect::Dialect;
use crate::secret::{CREDENTIAL_KEYS, SECRET_FIELDS, collect_secret_fields, without_keys};
use crate::time::civil_date;

/// The labels of the two projects a profile may name, in the order of
/// [`Overrides::credentials`].
const PROJECT_LABELS: [&str; 2] = ["first", "second"];

/// Where the run goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The reference server, started in-process on `127.0.0.1:0`.
    Embedded,
    /// Any endpoint, by base URL (`http://host:port`).
    External(String),
    /// A container image, started through testcontainers (`--image`).
    Image(crate::container::ImageSpec),
}

/// The fully resolved configuration of one run.
#[derive(Debug, Clone)]
pub struct RunConfig {
    pub profile_name: String,
    pub target: Target,
    /// The dialects judged, in report order; never empty.
    pub apis: Vec<Dialect>,
    pub projects: Vec<Project>,
    /// The create bodies of each dialect of `apis`, in that order.
    pub bodies: Vec<(Dialect, CreateBodies)>,
    pub deadlines: Deadlines,
    pub strict: bool,
    /// The answers declared for strict mode, per dialect ([`Declarations::of`]).
    pub declared: Declarations,
    pub parallel_quota: usize,
    pub disabled_rules: BTreeMap<String, String>,
    pub disabled_capabilities: BTreeMap<String, String>,
    pub expectations: Vec<Expectation>,
    pub seed: u64,
    pub generated_ids: usize,
    pub report_dir: PathBuf,
    pub features_dir: Option<PathBuf>,
    /// Only these rules run (all when empty).
    pub only_rules: Vec<String>,
    /// Response bodies are read up to this many bytes.
    pub body_cap: usize,
    /// Today's date as `YYYY-MM-DD`, for expectation expiry.
    pub today: String,
    /// The profile as the run used it, with every secret removed: what the
    /// profile digest of `results.json` hashes ([`as_used`]).
    pub profile_as_used: serde_json::Value,
}

/// The values `main.rs` collected from the command line and the environment
/// (clap applies command line over environment). `None` means "not given".
#[derive(Debug, Default)]
pub struct Overrides {
    pub target: Option<String>,
    pub profile: Option<PathBuf>,
    pub expectations: Option<PathBuf>,
    pub strict: bool,
    pub seed: Option<u64>,
    pub report_dir: Option<PathBuf>,
    pub features_dir: Option<PathBuf>,
    pub rules: Vec<String>,
    /// `--api`: the dialects to judge, over the profile's `api`.
    pub api: Vec<String>,
    /// Token, AK, SK and security token of the first and second projects, in
    /// that order, over the profile's (`OMS_CONFORMANCE_TOKEN_FIRST`,
    /// `…_AK_FIRST`, …, `…_SECURITY_TOKEN_SECOND`).
    pub credentials: [CredentialOverrides; 2],
    /// `--image`: run against a container of this image instead of a URL.
    pub image: Option<crate::container::ImageSpec>,
    pub request_timeout: Option<Duration>,
    pub state_timeout: Option<Duration>,
    pub run_timeout: Option<Duration>,
    /// Seconds since the Unix epoch, for the default seed and today's date.
    pub now_unix: u64,
}

impl RunConfig {
    /// Merges the overrides over the profile over the defaults, reads the files the
    /// profile names, and checks every rule id and capability against the catalogue.
    /// The steps run in this order, so the first problem found is the one reported.
    pub fn resolve(overrides: Overrides, catalogue: &Catalogue) -> Result<Self, ConfigError> {
        let (origin, file, document) = Origin::load(overrides.profile.as_deref())?;
        let projects = projects(&file, &overrides.credentials).map_err(|m| origin.error(m))?;
        let apis = apis(&overrides.api, file.api.as_deref()).map_err(|e| match e {
            ApiChoice::Option(message) => ConfigError::Option {
                option: "--api",
                message,
            },
            ApiChoice::Profile(message) => origin.error(message),
        })?;
        let bodies = bodies::bodies(&origin, &file.create, &apis)?;
        let deadlines = deadlines::deadlines(
            &file.deadlines,
            overrides.request_timeout,
            overrides.state_timeout,
            overrides.run_timeout,
        )
        .map_err(|m| origin.error(m))?;
        let declared = declared::declarations(&file.declared).map_err(|m| origin.error(m))?;
        let disabled_rules =
            disabled::disabled_rules(&file.disabled, catalogue).map_err(|m| origin.error(m))?;
        let disabled_capabilities =
            disabled::disabled_capabilities(&file.disabled, &projects, &bodies, &apis)
                .map_err(|m| origin.error(m))?;
        let today = civil_date(overrides.now_unix);
        let expectations = match expectations::path(
            overrides.expectations.as_deref(),
            file.expectations.as_deref(),
            &origin,
        )? {
            Some(path) => expectations::load(&path, catalogue, &today)?,
            None => Vec::new(),
        };
        check_rules(&overrides.rules, catalogue)?;
        let target = target(overrides.image, overrides.target.or(file.base_url));
        let profile_as_used = as_used(&document, &projects, &bodies);
        Ok(Self {
            profile_name: file.name,
            target,
            apis,
            projects,
            bodies,
            deadlines,
            strict: overrides.strict,
            declared,
            parallel_quota: file.parallel_quota.unwrap_or(5),
            disabled_rules,
            disabled_capabilities,
            expectations,
            seed: overrides.seed.unwrap_or(overrides.now_unix),
            generated_ids: 24,
            report_dir: overrides
                .report_dir
                .unwrap_or_else(|| PathBuf::from("target/conformance")),
            features_dir: overrides.features_dir,
            only_rules: overrides.rules,
            body_cap: 64 * 1024,
            today,
            profile_as_used,
        })
    }

    /// The create bodies of `dialect` (one of [`Self::apis`]).
    pub fn bodies_for(&self, dialect: Dialect) -> Option<&CreateBodies> {
        self.bodies
            .iter()
            .find(|(d, _)| *d == dialect)
            .map(|(_, set)| set)
    }

    /// Every secret value of the run, for redaction of anything that is logged.
    pub fn secrets(&self) -> Vec<String> {
        let mut secrets: Vec<String> = Vec::new();
        for project in &self.projects {
            match &project.credential {
                Credential::Token(token) => secrets.push(token.expose().to_owned()),
                Credential::AkSk {
                    ak,
                    sk,
                    security_token,
                } => {
                    let values = [Some(ak), Some(sk), security_token.as_ref()];
                    secrets.extend(values.into_iter().flatten().map(|s| s.expose().to_owned()));
                }
            }
        }
        for (_, set) in &self.bodies {
            let bodies = [
                Some(&set.running),
                Some(&set.succeeding),
                set.failing.as_ref(),
                set.retrying.as_ref(),
            ];
            for body in bodies.into_iter().flatten() {
                collect_secret_fields(body, &mut secrets);
            }
        }
        secrets.retain(|s| s.len() >= 4);
        secrets.sort();
        secrets.dedup();
        secrets
    }
}

/// The projects the profile names, each with its credential from the overrides
/// over the profile; the overrides of a project the profile does not name are
/// not used.
fn projects(
    file: &ProfileFile,
    overrides: &[CredentialOverrides; 2],
) -> Result<Vec<Project>, String> {
    let files = [Some(&file.first_project), file.second_project.as_ref()];
    let mut projects: Vec<Project> = Vec::new();
    for ((label, file), overrides) in PROJECT_LABELS.into_iter().zip(files).zip(overrides) {
        let Some(file) = file else { continue };
        let project = credentials::project(label, file, overrides.clone())?;
        if projects.iter().any(|p| p.id == project.id) {
            return Err("the two projects have the same id".to_owned());
        }
        projects.push(project);
    }
    Ok(projects)
}

/// The profile as the run used it, with every secret removed: the profile's
/// TOML (as parsed: comments and layout do not count) without any credential
/// key (`token`, `ak`, `sk`, `security_token`) or secret field of a create body
/// ([`SECRET_FIELDS`]) wherever it appears; each project's kind of credential,
/// also where the credential came from the environment; and each create body
/// the run read, by dialect and role, without its secret fields. A secret's
/// value leaves no trace here, nor whether it came from the file or the
/// environment, so the same profile with other secrets gives the same document.
fn as_used(
    document: &serde_json::Value,
    projects: &[Project],
    bodies: &[(Dialect, CreateBodies)],
) -> serde_json::Value {
    let secret_keys: Vec<&str> = CREDENTIAL_KEYS
        .iter()
        .chain(SECRET_FIELDS.iter())
        .copied()
        .collect();
    let clean = |body: &serde_json::Value| without_keys(body, &secret_keys);
    let credentials: serde_json::Map<String, serde_json::Value> = projects
        .iter()
        .map(|p| (p.label.to_owned(), p.credential.kind().into()))
        .collect();
    let create: serde_json::Map<String, serde_json::Value> = bodies
        .iter()
        .map(|(dialect, set)| {
            let set = serde_json::json!({
                "running": clean(&set.running),
                "succeeding": clean(&set.succeeding),
                "failing": set.failing.as_ref().map(clean),
                "retrying": set.retrying.as_ref().map(clean),
            });
            (dialect.as_str().to_owned(), set)
        })
        .collect();
    serde_json::json!({
        "profile": clean(document),
        "credentials": credentials,
        "create": create,
    })
}

/// Why the dialects could not be chosen: a bad `--api`, or a bad `api` in the profile.
enum ApiChoice {
    Option(String),
    Profile(String),
}

/// The dialects to judge: `--api` over the profile's `api` over v1, each named
/// once.
fn apis(given: &[String], in_profile: Option<&[String]>) -> Result<Vec<Dialect>, ApiChoice> {
    let (names, wrap): (&[String], fn(String) -> ApiChoice) = if given.is_empty() {
        (in_profile.unwrap_or_default(), ApiChoice::Profile)
    } else {
        (given, ApiChoice::Option)
    };
    if names.is_empty() {
        return match in_profile {
            Some([]) => Err(wrap("api is empty: name v1, v2 or both".to_owned())),
            _ => Ok(vec![Dialect::V1]),
        };
    }
    let mut apis = Vec::new();
    for name in names {
        let Some(dialect) = Dialect::parse(name.trim()) else {
            let known: Vec<&str> = Dialect::ALL.iter().map(|d| d.as_str()).collect();
            return Err(wrap(format!(
                "unknown API dialect `{name}` (known: {})",
                known.join(", ")
            )));
        };
        if apis.contains(&dialect) {
            return Err(wrap(format!("API dialect `{name}` is named twice")));
        }
        apis.push(dialect);
    }
    apis.sort();
    Ok(apis)
}

/// Every rule `--rule` names must be in the catalogue.
fn check_rules(rules: &[String], catalogue: &Catalogue) -> Result<(), ConfigError> {
    match rules.iter().find(|rule| catalogue.rule(rule).is_none()) {
        Some(rule) => Err(ConfigError::Option {
            option: "--rule",
            message: format!("{rule} is not in the catalogue"),
        }),
        None => Ok(()),
    }
}

/// Where the run goes: an image on the command line beats a base URL, and
/// without either the reference server is started in-process.
fn target(image: Option<crate::container::ImageSpec>, base_url: Option<String>) -> Target {
    match (image, base_url) {
        (Some(image), _) => Target::Image(image),
        (None, Some(url)) => Target::External(url.trim_end_matches('/').to_owned()),
        (None, None) => Target::Embedded,
    }
}
