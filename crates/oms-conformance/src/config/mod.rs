//! The typed run configuration: the merge of command-line overrides over the
//! target profile over defaults. Only `main.rs` reads arguments and the
//! environment; it hands the values it got to [`RunConfig::resolve`], and
//! everything below receives a [`RunConfig`]. Secrets live in
//! [`crate::secret::Secret`], whose `Debug` never shows them.
//!
//! The parts: `profile` (the TOML file as written), `credentials` (a project's
//! token or AK/SK), `declared` (the answers a target declares) and
//! `expectations` (its known failures); this module resolves them into one
//! [`RunConfig`], one named step per part.

mod credentials;
mod declared;
mod expectations;
mod profile;

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// Re-exported: `config::Project` and `config::Credential` are the paths the
/// crate's users name.
pub use crate::project::{Credential, Project};
pub use credentials::CredentialOverrides;
pub use declared::{Answer, Declared};
pub use expectations::Expectation;

use self::profile::{CreateFile, CreateSetFile, DeadlinesFile, DisabledFile, Origin, ProfileFile};
use crate::catalogue::Catalogue;
use crate::dialect::Dialect;
use crate::secret::{
    CREDENTIAL_KEYS, SECRET_FIELDS, collect_secret_fields, redacted, without_keys,
};
use crate::time::{civil_date, parse_duration};

/// Capabilities a profile may disable; scenarios name the ones they need with
/// `@needs:<capability>` tags. `aksk` (signing with each project's AK/SK) is off
/// by itself when a project authenticates with a token, `both-dialects` (one
/// task seen through v1 and v2) when the run judges one dialect.
pub const CAPABILITIES: [&str; 6] = [
    "quota",
    "failing-task",
    "retrying-task",
    "second-project",
    "aksk",
    "both-dialects",
];

/// The labels of the two projects a profile may name, in the order of
/// [`Overrides::credentials`].
const PROJECT_LABELS: [&str; 2] = ["first", "second"];

/// What went wrong while building the configuration. Each renders as one line.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {what} {path}: {source}")]
    Read {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("bad profile {path}: {message}")]
    Profile { path: String, message: String },
    #[error("bad expectations file {path}: {message}")]
    Expectations { path: String, message: String },
    #[error("bad create body {path}: {source}")]
    CreateBody {
        path: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("bad option {option}: {message}")]
    Option {
        option: &'static str,
        message: String,
    },
}

/// The three create bodies a profile names for one dialect. They carry the source and target
/// AK/SK, so `Debug` shows them with those fields redacted.
#[derive(Clone)]
pub struct CreateBodies {
    pub running: serde_json::Value,
    pub succeeding: serde_json::Value,
    pub failing: Option<serde_json::Value>,
    /// A task that retries until stopped (v2 only).
    pub retrying: Option<serde_json::Value>,
}

impl fmt::Debug for CreateBodies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreateBodies")
            .field("running", &redacted(&self.running))
            .field("succeeding", &redacted(&self.succeeding))
            .field("failing", &self.failing.as_ref().map(redacted))
            .field("retrying", &self.retrying.as_ref().map(redacted))
            .finish()
    }
}

/// Every wait and every request is bounded by one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadlines {
    /// One HTTP exchange, connect to last body byte.
    pub request: Duration,
    /// Waiting for a task to reach a state.
    pub state: Duration,
    /// What a task still waiting for a slot of its project's quota (status 1)
    /// is given beyond `state`, in all: the kit's own concurrent scenarios
    /// fill the quota, and the target schedules waiting tasks in turn.
    pub queue: Duration,
    /// The whole run.
    pub run: Duration,
    /// How long a task a race deleted must stay gone, polled (OMS-DEL-013,
    /// -014, -024): a resurrection that comes later is not seen.
    pub settle: Duration,
}

impl Default for Deadlines {
    fn default() -> Self {
        Self {
            request: Duration::from_secs(5),
            state: Duration::from_secs(30),
            queue: Duration::from_secs(30),
            run: Duration::from_secs(300),
            settle: Duration::from_secs(1),
        }
    }
}

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
    pub declared: Declared,
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
        let bodies = bodies(&origin, &file.create, &apis)?;
        let deadlines = deadlines(&file.deadlines, &overrides).map_err(|m| origin.error(m))?;
        let declared = declared::declared(&file.declared).map_err(|m| origin.error(m))?;
        let disabled_rules =
            disabled_rules(&file.disabled, catalogue).map_err(|m| origin.error(m))?;
        let disabled_capabilities =
            disabled_capabilities(&file.disabled, &projects, &bodies, &apis)
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

/// The create bodies the profile names for each dialect judged: `[create]` for
/// v1, `[create.v2]` for v2.
fn bodies(
    origin: &Origin,
    create: &CreateFile,
    apis: &[Dialect],
) -> Result<Vec<(Dialect, CreateBodies)>, ConfigError> {
    let mut sets = Vec::new();
    for dialect in apis {
        let set = match dialect {
            Dialect::V1 => match (&create.running, &create.succeeding) {
                (Some(running), Some(succeeding)) => CreateSetFile {
                    running: running.clone(),
                    succeeding: succeeding.clone(),
                    failing: create.failing.clone(),
                    retrying: None,
                },
                _ => {
                    return Err(origin.error(
                        "v1 is judged but [create] does not name `running` and `succeeding` bodies"
                            .to_owned(),
                    ));
                }
            },
            Dialect::V2 => match &create.v2 {
                Some(set) => CreateSetFile {
                    running: set.running.clone(),
                    succeeding: set.succeeding.clone(),
                    failing: set.failing.clone(),
                    retrying: set.retrying.clone(),
                },
                None => {
                    return Err(origin.error(
                        "v2 is judged but the profile has no [create.v2] bodies".to_owned(),
                    ));
                }
            },
        };
        sets.push((*dialect, bodies_of(origin, &set)?));
    }
    Ok(sets)
}

/// One dialect's create bodies, each a JSON object.
fn bodies_of(origin: &Origin, create: &CreateSetFile) -> Result<CreateBodies, ConfigError> {
    let body = |relative: &str| -> Result<serde_json::Value, ConfigError> {
        let (path, text) = origin.read(relative, "create body")?;
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|source| ConfigError::CreateBody {
                path: path.clone(),
                source,
            })?;
        if !value.is_object() {
            return Err(origin.error(format!("create body {path} is not a JSON object")));
        }
        Ok(value)
    };
    Ok(CreateBodies {
        running: body(&create.running)?,
        succeeding: body(&create.succeeding)?,
        failing: create.failing.as_deref().map(body).transpose()?,
        retrying: create.retrying.as_deref().map(body).transpose()?,
    })
}

/// The request, state and run deadlines, the queue allowance and the settle
/// period: each the one given over the profile's over the default (the queue
/// allowance and the settle period have no flag).
fn deadlines(file: &DeadlinesFile, overrides: &Overrides) -> Result<Deadlines, String> {
    let defaults = Deadlines::default();
    let deadline =
        |given: Option<Duration>, in_profile: &Option<String>, name: &str, default| match (
            given,
            in_profile.as_deref(),
        ) {
            (Some(given), _) => Ok(given),
            (None, Some(text)) => {
                parse_duration(text).map_err(|m| format!("deadlines.{name}: {m}"))
            }
            (None, None) => Ok(default),
        };
    Ok(Deadlines {
        request: deadline(
            overrides.request_timeout,
            &file.request,
            "request",
            defaults.request,
        )?,
        state: deadline(
            overrides.state_timeout,
            &file.state,
            "state",
            defaults.state,
        )?,
        queue: deadline(None, &file.queue, "queue", defaults.queue)?,
        run: deadline(overrides.run_timeout, &file.run, "run", defaults.run)?,
        settle: deadline(None, &file.settle, "settle", defaults.settle)?,
    })
}

/// The rules the profile disables, each with its reason; every one must be in
/// the catalogue.
fn disabled_rules(
    disabled: &DisabledFile,
    catalogue: &Catalogue,
) -> Result<BTreeMap<String, String>, String> {
    for rule in disabled.rules.keys() {
        if catalogue.rule(rule).is_none() {
            return Err(format!("disabled rule {rule} is not in the catalogue"));
        }
    }
    Ok(disabled.rules.clone())
}

/// The capabilities the profile disables, and those the rest of the profile
/// rules out (a second project, AK/SK signing, a failing task), each with its
/// reason; a reason the profile gives comes first.
fn disabled_capabilities(
    disabled: &DisabledFile,
    projects: &[Project],
    bodies: &[(Dialect, CreateBodies)],
    apis: &[Dialect],
) -> Result<BTreeMap<String, String>, String> {
    if let Some(capability) = disabled
        .capabilities
        .keys()
        .find(|c| !CAPABILITIES.contains(&c.as_str()))
    {
        return Err(format!(
            "unknown capability {capability} (known: {})",
            CAPABILITIES.join(", ")
        ));
    }
    let mut disabled_capabilities = disabled.capabilities.clone();
    if projects.len() < 2 {
        disabled_capabilities
            .entry("second-project".to_owned())
            .or_insert_with(|| "the profile names one project only".to_owned());
    }
    if let Some(project) = projects.iter().find(|p| !p.credential.is_aksk()) {
        disabled_capabilities
            .entry("aksk".to_owned())
            .or_insert_with(|| {
                format!(
                    "the {} project authenticates with a token; signatures are checked with an AK/SK profile",
                    project.label
                )
            });
    }
    if bodies.iter().all(|(_, set)| set.failing.is_none()) {
        disabled_capabilities
            .entry("failing-task".to_owned())
            .or_insert_with(|| "the profile names no create body for a failing task".to_owned());
    }
    if bodies.iter().all(|(_, set)| set.retrying.is_none()) {
        disabled_capabilities
            .entry("retrying-task".to_owned())
            .or_insert_with(|| "the profile names no create body for a retrying task".to_owned());
    }
    if apis.len() < 2 {
        disabled_capabilities
            .entry("both-dialects".to_owned())
            .or_insert_with(|| format!("the run judges {} only", apis[0]));
    }
    Ok(disabled_capabilities)
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

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_bodies_do_not_show_secret_fields_in_debug() {
        let body =
            serde_json::json!({"src_node": {"ak": "REAL-AK", "sk": "REAL-SK", "bucket": "b"}});
        let bodies = CreateBodies {
            running: body.clone(),
            succeeding: body,
            failing: None,
            retrying: None,
        };
        let debug = format!("{bodies:?}");
        assert!(
            !debug.contains("REAL-AK") && !debug.contains("REAL-SK") && debug.contains("bucket"),
            "{debug}"
        );
    }
}
