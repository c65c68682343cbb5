//! The typed run configuration: the target profile (TOML), the expectations file
//! of known failures, and the merge of command-line overrides over the profile over
//! defaults. Only `main.rs` reads arguments and the environment; it hands the
//! values it got to [`RunConfig::resolve`], and everything below receives a
//! [`RunConfig`]. Secrets live in [`Secret`], whose `Debug` never shows them.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::catalogue::Catalogue;

/// The profile that ships for the reference server, used when `--profile` is absent.
const REFERENCE_PROFILE: &str = include_str!("../../../fixtures/profiles/reference.toml");
/// The create bodies the reference profile names, embedded so that the binary runs
/// the default suite from any directory.
const REFERENCE_BODIES: [(&str, &str); 3] = [
    (
        "../create/running.json",
        include_str!("../../../fixtures/create/running.json"),
    ),
    (
        "../create/succeeding.json",
        include_str!("../../../fixtures/create/succeeding.json"),
    ),
    (
        "../create/failing.json",
        include_str!("../../../fixtures/create/failing.json"),
    ),
];

/// Capabilities a profile may disable; scenarios name the ones they need with
/// `@needs:<capability>` tags. `aksk` (signing with each project's AK/SK) is off
/// by itself when a project authenticates with a token.
pub const CAPABILITIES: [&str; 4] = ["quota", "failing-task", "second-project", "aksk"];

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

/// A credential or other secret value. `Debug` prints `***`; the value is reached
/// only through [`Secret::expose`], by the HTTP client module.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

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

/// The three create bodies a profile names. They carry the source and target
/// AK/SK, so `Debug` shows them with those fields redacted.
#[derive(Clone)]
pub struct CreateBodies {
    pub running: serde_json::Value,
    pub succeeding: serde_json::Value,
    pub failing: Option<serde_json::Value>,
}

impl fmt::Debug for CreateBodies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreateBodies")
            .field("running", &redacted(&self.running))
            .field("succeeding", &redacted(&self.succeeding))
            .field("failing", &self.failing.as_ref().map(redacted))
            .finish()
    }
}

/// A copy of `value` with every [`SECRET_FIELDS`] string replaced by `***`.
pub fn redacted(value: &serde_json::Value) -> serde_json::Value {
    let mut copy = value.clone();
    redact_fields(&mut copy);
    copy
}

fn redact_fields(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                if SECRET_FIELDS.contains(&key.as_str()) && value.is_string() {
                    *value = serde_json::Value::String("***".to_owned());
                } else {
                    redact_fields(value);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(redact_fields),
        _ => {}
    }
}

/// Every wait and every request is bounded by one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadlines {
    /// One HTTP exchange, connect to last body byte.
    pub request: Duration,
    /// Waiting for a task to reach a state.
    pub state: Duration,
    /// The whole run.
    pub run: Duration,
}

impl Default for Deadlines {
    fn default() -> Self {
        Self {
            request: Duration::from_secs(5),
            state: Duration::from_secs(30),
            run: Duration::from_secs(300),
        }
    }
}

/// An expected answer, `STATUS` or `STATUS CODE` (`"400 OMS.0063"`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Answer {
    pub status: u16,
    pub code: Option<String>,
}

impl Answer {
    fn parse(text: &str) -> Result<Self, String> {
        let mut parts = text.split_whitespace();
        let status = parts
            .next()
            .and_then(|s| s.parse::<u16>().ok())
            .filter(|s| (100..600).contains(s))
            .ok_or_else(|| format!("`{text}` does not start with an HTTP status"))?;
        let code = parts.next().map(str::to_owned);
        if parts.next().is_some() {
            return Err(format!("`{text}` is not `STATUS` or `STATUS CODE`"));
        }
        Ok(Self { status, code })
    }

    /// Whether an answer with this status and error code matches.
    pub fn matches(&self, status: u16, code: Option<&str>) -> bool {
        self.status == status && self.code.as_deref().is_none_or(|c| Some(c) == code)
    }
}

impl fmt::Display for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.code {
            Some(code) => write!(f, "{} {code}", self.status),
            None => write!(f, "{}", self.status),
        }
    }
}

/// What the target declares for the values the spec leaves open; checked in
/// strict mode only.
#[derive(Debug, Clone)]
pub struct Declared {
    pub delete_status: u16,
    pub running: Vec<Answer>,
    pub missing: Vec<Answer>,
    pub malformed: Vec<Answer>,
    /// The empty task id (`…/task/`), which a router may treat as another route.
    pub empty_segment: Vec<Answer>,
    pub cross_project: Vec<Answer>,
    pub unauthenticated: Vec<Answer>,
    /// A correctly signed request whose `X-Sdk-Date` is more than 15 minutes off.
    pub skewed_date: Vec<Answer>,
    /// `true`: a delete with an unexpected body or query is handled as without it.
    pub unexpected_input_ignored: bool,
}

/// A known failure of the target, excused until its expiry date.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Expectation {
    pub rule: String,
    pub reason: String,
    /// `YYYY-MM-DD`.
    pub expires: String,
    pub expired: bool,
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
    pub projects: Vec<Project>,
    pub bodies: CreateBodies,
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
    pub token_first: Option<Secret>,
    pub token_second: Option<Secret>,
    /// AK, SK and security token of the first and second projects, over the
    /// profile's (`OMS_CONFORMANCE_AK_FIRST`, `…_SK_FIRST`, …).
    pub ak_first: Option<Secret>,
    pub sk_first: Option<Secret>,
    pub security_token_first: Option<Secret>,
    pub ak_second: Option<Secret>,
    pub sk_second: Option<Secret>,
    pub security_token_second: Option<Secret>,
    /// `--image`: run against a container of this image instead of a URL.
    pub image: Option<crate::container::ImageSpec>,
    pub request_timeout: Option<Duration>,
    pub state_timeout: Option<Duration>,
    pub run_timeout: Option<Duration>,
    /// Seconds since the Unix epoch, for the default seed and today's date.
    pub now_unix: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileFile {
    name: String,
    base_url: Option<String>,
    first_project: ProjectFile,
    second_project: Option<ProjectFile>,
    create: CreateFile,
    #[serde(default)]
    deadlines: DeadlinesFile,
    #[serde(default)]
    declared: DeclaredFile,
    parallel_quota: Option<usize>,
    #[serde(default)]
    disabled: DisabledFile,
    expectations: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProjectFile {
    id: String,
    token: Option<String>,
    ak: Option<String>,
    sk: Option<String>,
    security_token: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateFile {
    running: String,
    succeeding: String,
    failing: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeadlinesFile {
    request: Option<String>,
    state: Option<String>,
    run: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeclaredFile {
    delete_status: Option<u16>,
    running: Option<OneOrMany>,
    missing: Option<OneOrMany>,
    malformed: Option<OneOrMany>,
    empty_segment: Option<OneOrMany>,
    cross_project: Option<OneOrMany>,
    unauthenticated: Option<OneOrMany>,
    skewed_date: Option<OneOrMany>,
    unexpected_input: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DisabledFile {
    #[serde(default)]
    rules: BTreeMap<String, String>,
    #[serde(default)]
    capabilities: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectationsFile {
    #[serde(default)]
    known_failure: Vec<KnownFailureFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KnownFailureFile {
    rule: String,
    reason: String,
    expires: toml::value::Datetime,
}

/// Where the profile came from: relative paths inside it resolve against its folder,
/// or, for the built-in reference profile, against the embedded fixtures.
enum Origin {
    Builtin,
    File(PathBuf),
}

impl Origin {
    fn describe(&self) -> String {
        match self {
            Self::Builtin => "(built-in reference profile)".to_owned(),
            Self::File(path) => path.display().to_string(),
        }
    }

    fn read(&self, relative: &str, what: &'static str) -> Result<(String, String), ConfigError> {
        match self {
            Self::Builtin => REFERENCE_BODIES
                .iter()
                .find(|(name, _)| *name == relative)
                .map(|(name, text)| ((*name).to_owned(), (*text).to_owned()))
                .ok_or_else(|| ConfigError::Profile {
                    path: self.describe(),
                    message: format!("{relative} is not an embedded fixture"),
                }),
            Self::File(profile) => {
                let path = profile.parent().unwrap_or(Path::new(".")).join(relative);
                let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
                    what,
                    path: path.clone(),
                    source,
                })?;
                Ok((path.display().to_string(), text))
            }
        }
    }
}

impl RunConfig {
    /// Merges the overrides over the profile over the defaults, reads the files the
    /// profile names, and checks every rule id and capability against the catalogue.
    pub fn resolve(overrides: Overrides, catalogue: &Catalogue) -> Result<Self, ConfigError> {
        let (origin, text) = match &overrides.profile {
            None => (Origin::Builtin, REFERENCE_PROFILE.to_owned()),
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    what: "profile",
                    path: path.clone(),
                    source,
                })?;
                (Origin::File(path.clone()), text)
            }
        };
        let profile_err = |message: String| ConfigError::Profile {
            path: origin.describe(),
            message,
        };
        let file: ProfileFile =
            toml::from_str(&text).map_err(|e| profile_err(one_line(&e.to_string())))?;

        let first = project(
            "first",
            &file.first_project,
            CredentialOverrides {
                token: overrides.token_first.clone(),
                ak: overrides.ak_first.clone(),
                sk: overrides.sk_first.clone(),
                security_token: overrides.security_token_first.clone(),
            },
        )
        .map_err(profile_err)?;
        let mut projects = vec![first];
        if let Some(second) = &file.second_project {
            let second = project(
                "second",
                second,
                CredentialOverrides {
                    token: overrides.token_second.clone(),
                    ak: overrides.ak_second.clone(),
                    sk: overrides.sk_second.clone(),
                    security_token: overrides.security_token_second.clone(),
                },
            )
            .map_err(profile_err)?;
            if second.id == projects[0].id {
                return Err(profile_err("the two projects have the same id".to_owned()));
            }
            projects.push(second);
        }

        let body = |relative: &str| -> Result<serde_json::Value, ConfigError> {
            let (path, text) = origin.read(relative, "create body")?;
            let value: serde_json::Value =
                serde_json::from_str(&text).map_err(|source| ConfigError::CreateBody {
                    path: path.clone(),
                    source,
                })?;
            if !value.is_object() {
                return Err(ConfigError::Profile {
                    path: origin.describe(),
                    message: format!("create body {path} is not a JSON object"),
                });
            }
            Ok(value)
        };
        let bodies = CreateBodies {
            running: body(&file.create.running)?,
            succeeding: body(&file.create.succeeding)?,
            failing: file.create.failing.as_deref().map(body).transpose()?,
        };

        let defaults = Deadlines::default();
        let deadline = |value: &Option<String>, name: &str, default: Duration| {
            value
                .as_deref()
                .map(|v| {
                    parse_duration(v).map_err(|m| profile_err(format!("deadlines.{name}: {m}")))
                })
                .transpose()
                .map(|d| d.unwrap_or(default))
        };
        let deadlines = Deadlines {
            request: match overrides.request_timeout {
                Some(d) => d,
                None => deadline(&file.deadlines.request, "request", defaults.request)?,
            },
            state: match overrides.state_timeout {
                Some(d) => d,
                None => deadline(&file.deadlines.state, "state", defaults.state)?,
            },
            run: match overrides.run_timeout {
                Some(d) => d,
                None => deadline(&file.deadlines.run, "run", defaults.run)?,
            },
        };

        let declared = declared(&file.declared).map_err(profile_err)?;

        let mut disabled_rules = BTreeMap::new();
        for (rule, reason) in &file.disabled.rules {
            if catalogue.rule(rule).is_none() {
                return Err(profile_err(format!(
                    "disabled rule {rule} is not in the catalogue"
                )));
            }
            disabled_rules.insert(rule.clone(), reason.clone());
        }
        let mut disabled_capabilities = BTreeMap::new();
        for (capability, reason) in &file.disabled.capabilities {
            if !CAPABILITIES.contains(&capability.as_str()) {
                return Err(profile_err(format!(
                    "unknown capability {capability} (known: {})",
                    CAPABILITIES.join(", ")
                )));
            }
            disabled_capabilities.insert(capability.clone(), reason.clone());
        }
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
        if bodies.failing.is_none() {
            disabled_capabilities
                .entry("failing-task".to_owned())
                .or_insert_with(|| {
                    "the profile names no create body for a failing task".to_owned()
                });
        }

        let today = civil_date(overrides.now_unix);
        let expectations_path = match (&overrides.expectations, &file.expectations, &origin) {
            (Some(path), _, _) => Some(path.clone()),
            (None, Some(relative), Origin::File(profile)) => {
                Some(profile.parent().unwrap_or(Path::new(".")).join(relative))
            }
            (None, Some(_), Origin::Builtin) => {
                return Err(profile_err(
                    "the built-in profile cannot name an expectations file".to_owned(),
                ));
            }
            (None, None, _) => None,
        };
        let expectations = match expectations_path {
            Some(path) => load_expectations(&path, catalogue, &today)?,
            None => Vec::new(),
        };

        for rule in &overrides.rules {
            if catalogue.rule(rule).is_none() {
                return Err(ConfigError::Option {
                    option: "--rule",
                    message: format!("{rule} is not in the catalogue"),
                });
            }
        }

        // An image on the command line beats a base URL in the profile.
        let target = match (overrides.image, overrides.target.or(file.base_url)) {
            (Some(image), _) => Target::Image(image),
            (None, Some(url)) => Target::External(url.trim_end_matches('/').to_owned()),
            (None, None) => Target::Embedded,
        };

        Ok(Self {
            profile_name: file.name,
            target,
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
        })
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
        let bodies = [
            Some(&self.bodies.running),
            Some(&self.bodies.succeeding),
            self.bodies.failing.as_ref(),
        ];
        for body in bodies.into_iter().flatten() {
            collect_secret_fields(body, &mut secrets);
        }
        secrets.retain(|s| s.len() >= 4);
        secrets.sort();
        secrets.dedup();
        secrets
    }
}

/// Names of JSON fields whose values are secrets wherever they appear.
pub const SECRET_FIELDS: [&str; 6] = [
    "ak",
    "sk",
    "source_ak",
    "source_sk",
    "target_ak",
    "target_sk",
];

fn collect_secret_fields(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, value) in map {
                match value {
                    serde_json::Value::String(s) if SECRET_FIELDS.contains(&key.as_str()) => {
                        out.push(s.clone());
                    }
                    other => collect_secret_fields(other, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_secret_fields(v, out)),
        _ => {}
    }
}

/// Credential values from the environment or the command line, for one project.
struct CredentialOverrides {
    token: Option<Secret>,
    ak: Option<Secret>,
    sk: Option<Secret>,
    security_token: Option<Secret>,
}

/// A project's credential: a token, or an AK/SK pair. The kind is the one the
/// profile gives (`token`, or `ak`/`sk`); a profile that gives neither takes it
/// from the overrides. A value of the other kind is refused rather than
/// silently ignored, so that a stray variable cannot change what is tested.
fn project(
    label: &'static str,
    file: &ProjectFile,
    overrides: CredentialOverrides,
) -> Result<Project, String> {
    let suffix = label.to_ascii_uppercase();
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
    let profile_token = file.token.is_some();
    let profile_aksk = file.ak.is_some() || file.sk.is_some() || file.security_token.is_some();
    let override_token = overrides.token.is_some();
    let override_aksk =
        overrides.ak.is_some() || overrides.sk.is_some() || overrides.security_token.is_some();
    let aksk = match (profile_token, profile_aksk) {
        (true, true) => {
            return Err(format!(
                "{label}_project gives both a token and ak/sk; give one kind of credential"
            ));
        }
        (true, false) if override_aksk => {
            return Err(format!(
                "{label}_project authenticates with a token, but an AK/SK is set \
                 (OMS_CONFORMANCE_AK_{suffix}, …_SK_{suffix} or …_SECURITY_TOKEN_{suffix})"
            ));
        }
        (false, true) if override_token => {
            return Err(format!(
                "{label}_project authenticates with ak/sk, but a token is set ({token_env})"
            ));
        }
        (true, false) => false,
        (false, true) => true,
        (false, false) if override_token && override_aksk => {
            return Err(format!(
                "both a token and an AK/SK are set for the {label} project; set one kind"
            ));
        }
        (false, false) => override_aksk,
    };
    let credential = if aksk {
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
        if security_token.as_ref().is_some_and(|t| {
            t.expose().is_empty() || !t.expose().bytes().all(|b| b.is_ascii_graphic())
        }) {
            return Err(format!(
                "{label}_project.security_token must be printable ASCII without spaces"
            ));
        }
        Credential::AkSk {
            ak,
            sk,
            security_token,
        }
    } else {
        let token = overrides
            .token
            .or_else(|| file.token.clone().map(Secret::new))
            .ok_or_else(|| {
                format!(
                    "{label}_project has no credentials (set `token`, or `ak` and `sk`, in the \
                     profile, or {token_env}, or OMS_CONFORMANCE_AK_{suffix} and …_SK_{suffix})"
                )
            })?;
        Credential::Token(token)
    };
    Ok(Project {
        label,
        id: file.id.clone(),
        credential,
        token_env,
    })
}

fn answers(value: &Option<OneOrMany>, name: &str, default: &[&str]) -> Result<Vec<Answer>, String> {
    let texts: Vec<String> = match value {
        None => default.iter().map(|s| (*s).to_owned()).collect(),
        Some(OneOrMany::One(one)) => vec![one.clone()],
        Some(OneOrMany::Many(many)) => many.clone(),
    };
    if texts.is_empty() {
        return Err(format!("declared.{name} is empty"));
    }
    texts
        .iter()
        .map(|t| Answer::parse(t).map_err(|m| format!("declared.{name}: {m}")))
        .collect()
}

fn declared(file: &DeclaredFile) -> Result<Declared, String> {
    let unexpected_input_ignored = match file.unexpected_input.as_deref() {
        None | Some("ignored") => true,
        Some("refused") => false,
        Some(other) => {
            return Err(format!(
                "declared.unexpected_input is `{other}`; expected `ignored` or `refused`"
            ));
        }
    };
    let delete_status = file.delete_status.unwrap_or(200);
    if !(200..300).contains(&delete_status) {
        return Err(format!(
            "declared.delete_status {delete_status} is not a 2xx"
        ));
    }
    Ok(Declared {
        delete_status,
        running: answers(&file.running, "running", &["400 OMS.0063"])?,
        missing: answers(&file.missing, "missing", &["400 OMS.1009"])?,
        malformed: answers(&file.malformed, "malformed", &["400 OMS.0054"])?,
        empty_segment: answers(&file.empty_segment, "empty_segment", &["404 APIGW.0101"])?,
        cross_project: answers(
            &file.cross_project,
            "cross_project",
            &["403", "400 OMS.1009"],
        )?,
        unauthenticated: answers(
            &file.unauthenticated,
            "unauthenticated",
            &["401 APIGW.0301"],
        )?,
        skewed_date: answers(&file.skewed_date, "skewed_date", &["401 APIGW.0303"])?,
        unexpected_input_ignored,
    })
}

fn load_expectations(
    path: &Path,
    catalogue: &Catalogue,
    today: &str,
) -> Result<Vec<Expectation>, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        what: "expectations file",
        path: path.to_owned(),
        source,
    })?;
    let err = |message: String| ConfigError::Expectations {
        path: path.display().to_string(),
        message,
    };
    let file: ExpectationsFile =
        toml::from_str(&text).map_err(|e| err(one_line(&e.to_string())))?;
    file.known_failure
        .into_iter()
        .map(|entry| {
            if catalogue.rule(&entry.rule).is_none() {
                return Err(err(format!("rule {} is not in the catalogue", entry.rule)));
            }
            if entry.reason.trim().is_empty() {
                return Err(err(format!("the entry for {} gives no reason", entry.rule)));
            }
            let date = entry
                .expires
                .date
                .filter(|_| entry.expires.time.is_none())
                .ok_or_else(|| {
                    err(format!(
                        "the entry for {} needs `expires = YYYY-MM-DD`",
                        entry.rule
                    ))
                })?;
            let expires = format!("{:04}-{:02}-{:02}", date.year, date.month, date.day);
            Ok(Expectation {
                expired: expires.as_str() < today,
                rule: entry.rule,
                reason: entry.reason,
                expires,
            })
        })
        .collect()
}

/// Parses `250ms`, `5s`, `2m`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("`{text}` has no unit (ms, s or m)"))?;
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` does not start with a number"))?;
    let duration = match unit {
        "ms" => Duration::from_millis(number),
        "s" => Duration::from_secs(number),
        "m" => Duration::from_secs(number.saturating_mul(60)),
        _ => return Err(format!("`{text}` has an unknown unit (ms, s or m)")),
    };
    if duration.is_zero() {
        return Err(format!("`{text}` is zero"));
    }
    Ok(duration)
}

/// `YYYY-MM-DD` (UTC) of a Unix time, by Howard Hinnant's `civil_from_days`.
pub fn civil_date(unix_seconds: u64) -> String {
    let days = i64::try_from(unix_seconds / 86_400).unwrap_or(0) + 719_468;
    let era = days.div_euclid(146_097);
    let doe = days.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert!(parse_duration("5").is_err());
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("5h").is_err());
    }

    #[test]
    fn civil_dates_are_right_around_leap_days() {
        assert_eq!(civil_date(0), "1970-01-01");
        assert_eq!(civil_date(951_782_400), "2000-02-29");
        assert_eq!(civil_date(1_709_164_800), "2024-02-29");
    }

    #[test]
    fn answers_parse_status_and_code() {
        assert_eq!(
            Answer::parse("400 OMS.0063"),
            Ok(Answer {
                status: 400,
                code: Some("OMS.0063".to_owned())
            })
        );
        assert!(Answer::parse("4xx").is_err());
        assert!(Answer::parse("400 A B").is_err());
        let any_code = Answer::parse("403").unwrap();
        assert!(any_code.matches(403, Some("OMS.0072")));
        assert!(!any_code.matches(401, None));
    }

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

    #[test]
    fn secrets_do_not_show_in_debug() {
        let secret = Secret::new("dev-token-a");
        assert_eq!(format!("{secret:?}"), "Secret(***)");
        let body =
            serde_json::json!({"src_node": {"ak": "REAL-AK", "sk": "REAL-SK", "bucket": "b"}});
        let bodies = CreateBodies {
            running: body.clone(),
            succeeding: body,
            failing: None,
        };
        let debug = format!("{bodies:?}");
        assert!(
            !debug.contains("REAL-AK") && !debug.contains("REAL-SK") && debug.contains("bucket"),
            "{debug}"
        );
    }
}
