//! `oms-conformance`: parses the command line and the `OMS_CONFORMANCE_*`
//! environment (clap applies command line over environment), calls
//! `oms_conformance::run`, and maps the outcome to the exit status: 0 conformant,
//! 1 not conformant, 2 could not judge (bad flag, bad profile, unreachable target,
//! nothing ran, a MUST rule inconclusive).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::Parser;
use oms_conformance::config::{CredentialOverrides, Overrides};
use oms_conformance::container::ImageSpec;
use oms_conformance::secret::Secret;
use oms_conformance::time::parse_duration;

/// Runs the OMS v1 delete-task conformance rules against the bundled reference
/// server (no --target) or any endpoint.
#[derive(Debug, Parser)]
#[command(
    name = "oms-conformance",
    version,
    about,
    after_help = "Exit status: 0 conformant (every MUST rule passed), 1 not conformant (a MUST rule \
                  failed, or an expectation expired), 2 could not judge (bad option or profile, \
                  unreachable target, nothing ran, a MUST rule inconclusive).\n\
                  Reports: junit.xml, cucumber.json, results.json, report.html in --report-dir."
)]
struct Cli {
    /// Base URL of the target, e.g. http://127.0.0.1:8080. Without it (and without
    /// `base_url` in the profile) the reference server is started in-process.
    #[arg(long, env = "OMS_CONFORMANCE_TARGET", value_name = "URL")]
    target: Option<String>,

    /// Run against a container of this local image (NAME[:TAG]), started through
    /// testcontainers and removed afterwards. Nothing is pulled.
    #[arg(
        long,
        env = "OMS_CONFORMANCE_IMAGE",
        value_name = "NAME:TAG",
        conflicts_with = "target"
    )]
    image: Option<String>,

    /// The port the image's server listens on inside the container.
    #[arg(
        long,
        env = "OMS_CONFORMANCE_IMAGE_PORT",
        value_name = "PORT",
        default_value_t = 8080
    )]
    image_port: u16,

    /// An environment variable for the container, KEY=VALUE (repeatable, or comma-separated).
    #[arg(long = "image-env", env = "OMS_CONFORMANCE_IMAGE_ENV", value_name = "KEY=VALUE", value_delimiter = ',', value_parser = parse_key_value)]
    image_env: Vec<(String, String)>,

    /// Deadline for the container to answer HTTP after it is created.
    #[arg(long, env = "OMS_CONFORMANCE_IMAGE_STARTUP_TIMEOUT", value_name = "DURATION", value_parser = parse_duration, default_value = "60s")]
    image_startup_timeout: Duration,

    /// Target profile (TOML): projects, credentials, create bodies, deadlines,
    /// declared values, disabled rules. Default: the built-in reference profile.
    #[arg(long, env = "OMS_CONFORMANCE_PROFILE", value_name = "FILE")]
    profile: Option<PathBuf>,

    /// Expectations file of known failures (overrides the profile's).
    #[arg(long, env = "OMS_CONFORMANCE_EXPECTATIONS", value_name = "FILE")]
    expectations: Option<PathBuf>,

    /// Check the values the profile declares, and let SHOULD rules fail the run.
    #[arg(long, env = "OMS_CONFORMANCE_STRICT")]
    strict: bool,

    /// Seed of the generated malformed task ids (OMS-DEL-009). Default: the clock.
    #[arg(long, env = "OMS_CONFORMANCE_SEED", value_name = "N")]
    seed: Option<u64>,

    /// Where the reports go.
    #[arg(
        long,
        env = "OMS_CONFORMANCE_REPORT_DIR",
        value_name = "DIR",
        default_value = "target/conformance"
    )]
    report_dir: PathBuf,

    /// Read the features from this folder instead of the ones built in.
    #[arg(long, env = "OMS_CONFORMANCE_FEATURES_DIR", value_name = "DIR")]
    features_dir: Option<PathBuf>,

    /// The API dialects the target serves, judged each in turn: `v1`, `v2`
    /// (repeatable, or comma-separated; overrides the profile's `api`).
    #[arg(
        long = "api",
        env = "OMS_CONFORMANCE_API",
        value_name = "DIALECT",
        value_delimiter = ','
    )]
    api: Vec<String>,

    /// Run only these rules (repeatable, or comma-separated).
    #[arg(
        long = "rule",
        env = "OMS_CONFORMANCE_RULES",
        value_name = "ID",
        value_delimiter = ','
    )]
    rules: Vec<String>,

    /// Token of the profile's first project (prefer the environment variable).
    #[arg(
        long,
        env = "OMS_CONFORMANCE_TOKEN_FIRST",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    token_first: Option<String>,

    /// Token of the profile's second project (prefer the environment variable).
    #[arg(
        long,
        env = "OMS_CONFORMANCE_TOKEN_SECOND",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    token_second: Option<String>,

    /// Access key (AK) of the profile's first project, which then signs every
    /// request with AK/SK instead of sending a token.
    #[arg(
        long,
        env = "OMS_CONFORMANCE_AK_FIRST",
        value_name = "AK",
        hide_env_values = true
    )]
    ak_first: Option<String>,

    /// Secret key (SK) of the first project (prefer the environment variable).
    #[arg(
        long,
        env = "OMS_CONFORMANCE_SK_FIRST",
        value_name = "SK",
        hide_env_values = true
    )]
    sk_first: Option<String>,

    /// Security token of the first project's temporary AK/SK.
    #[arg(
        long,
        env = "OMS_CONFORMANCE_SECURITY_TOKEN_FIRST",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    security_token_first: Option<String>,

    /// Access key (AK) of the profile's second project.
    #[arg(
        long,
        env = "OMS_CONFORMANCE_AK_SECOND",
        value_name = "AK",
        hide_env_values = true
    )]
    ak_second: Option<String>,

    /// Secret key (SK) of the second project (prefer the environment variable).
    #[arg(
        long,
        env = "OMS_CONFORMANCE_SK_SECOND",
        value_name = "SK",
        hide_env_values = true
    )]
    sk_second: Option<String>,

    /// Security token of the second project's temporary AK/SK.
    #[arg(
        long,
        env = "OMS_CONFORMANCE_SECURITY_TOKEN_SECOND",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    security_token_second: Option<String>,

    /// Deadline of one HTTP exchange (250ms, 5s, 2m).
    #[arg(long, env = "OMS_CONFORMANCE_REQUEST_TIMEOUT", value_name = "DURATION", value_parser = parse_duration)]
    request_timeout: Option<Duration>,

    /// Deadline for a task to reach a state.
    #[arg(long, env = "OMS_CONFORMANCE_STATE_TIMEOUT", value_name = "DURATION", value_parser = parse_duration)]
    state_timeout: Option<Duration>,

    /// Deadline of the whole run.
    #[arg(long, env = "OMS_CONFORMANCE_RUN_TIMEOUT", value_name = "DURATION", value_parser = parse_duration)]
    run_timeout: Option<Duration>,
}

fn parse_key_value(raw: &str) -> Result<(String, String), String> {
    match raw.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        _ => Err(format!("{raw:?} is not KEY=VALUE")),
    }
}

/// One project's token, AK, SK and security token as given, each kept a [`Secret`].
fn credential_overrides(
    token: Option<String>,
    ak: Option<String>,
    sk: Option<String>,
    security_token: Option<String>,
) -> CredentialOverrides {
    CredentialOverrides {
        token: token.map(Secret::new),
        ak: ak.map(Secret::new),
        sk: sk.map(Secret::new),
        security_token: security_token.map(Secret::new),
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e)
            if matches!(
                e.kind(),
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion
            ) =>
        {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            let rendered = e.render().to_string();
            eprintln!(
                "{}",
                rendered.lines().next().unwrap_or("error: bad command line")
            );
            return ExitCode::from(2);
        }
    };
    let now_unix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let image = match cli
        .image
        .as_deref()
        .map(ImageSpec::parse_reference)
        .transpose()
    {
        Ok(reference) => reference.map(|(name, tag)| ImageSpec {
            name,
            tag,
            port: cli.image_port,
            env: cli.image_env,
            startup: cli.image_startup_timeout,
        }),
        Err(message) => {
            eprintln!("error: --image: {message}");
            return ExitCode::from(2);
        }
    };
    let overrides = Overrides {
        image,
        target: cli.target,
        profile: cli.profile,
        expectations: cli.expectations,
        strict: cli.strict,
        seed: cli.seed,
        report_dir: Some(cli.report_dir),
        features_dir: cli.features_dir,
        rules: cli.rules,
        api: cli.api,
        credentials: [
            credential_overrides(
                cli.token_first,
                cli.ak_first,
                cli.sk_first,
                cli.security_token_first,
            ),
            credential_overrides(
                cli.token_second,
                cli.ak_second,
                cli.sk_second,
                cli.security_token_second,
            ),
        ],
        request_timeout: cli.request_timeout,
        state_timeout: cli.state_timeout,
        run_timeout: cli.run_timeout,
        now_unix,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(oms_conformance::run(overrides)) {
        Ok(outcome) => ExitCode::from(outcome.exit_code),
        Err(e) => {
            eprintln!(
                "error: {}",
                anyhow::Error::from(e).to_string().replace('\n', " ")
            );
            ExitCode::from(2)
        }
    }
}
