//! `oms-conformance`: parses the command line and the `OMS_CONFORMANCE_*`
//! environment (clap applies command line over environment), calls
//! `oms_conformance::run`, and maps the outcome to the exit status: 0 conformant,
//! 1 not conformant, 2 could not judge (bad flag, bad profile, unreachable target,
//! nothing ran, a MUST rule inconclusive). `oms-conformance compare FILE…` calls
//! `oms_conformance::compare::run` instead: 0 compared, 1 verdicts differ (with
//! `--fail-on-difference`), 2 refused.

use std::ffi::OsString;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::{Args, Parser, Subcommand};
use oms_conformance::compare::{self, Format};
use oms_conformance::config::{CredentialOverrides, Overrides};
use oms_conformance::container::ImageSpec;
use oms_conformance::secret::Secret;
use oms_conformance::time::parse_duration;

/// Runs the OMS delete-task conformance rules, v1 and v2, against the bundled
/// reference server (no --target) or any endpoint.
#[derive(Debug, Parser)]
#[command(
    name = "oms-conformance",
    version,
    about,
    args_conflicts_with_subcommands = true,
    after_help = "Exit status: 0 conformant (every MUST rule passed), 1 not conformant (a MUST rule \
                  failed, or an expectation expired), 2 could not judge (bad option or profile, \
                  unreachable target, nothing ran, a MUST rule inconclusive).\n\
                  Reports: junit.xml, cucumber.json, results.json, report.html, summary.md in --report-dir."
)]
struct Cli {
    /// Without a command the suite runs.
    #[command(subcommand)]
    command: Option<Command>,

    #[command(flatten)]
    run: RunArgs,
}

/// The end of `compare`'s help, wherever clap prints it (`compare --help`,
/// `help compare`).
const COMPARE_AFTER_HELP: &str = "Marks: ! the verdicts differ, ~ only the observed answers \
                                  differ, ? a run did not judge the rule.\n\
                                  Exit status: 0 compared, 1 some verdicts differ (only with \
                                  --fail-on-difference), 2 refused (a file missing or not a \
                                  results.json, fewer than two, or runs of different kit versions \
                                  or catalogues without --allow-mixed).";

#[derive(Debug, Subcommand)]
enum Command {
    /// Compare the results.json of two or more runs: a row per rule and
    /// dialect, a column per run, the rows where they differ marked.
    // `main` parses `compare` with `CompareCli` before this parser sees it;
    // the variant lists the command in `--help` and serves `help compare`.
    #[command(after_help = COMPARE_AFTER_HELP)]
    Compare(CompareArgs),
}

// `oms-conformance compare`, parsed on its own so that the suite's options
// and their `OMS_CONFORMANCE_*` variables (clap applies and checks a parent's
// environment even when a subcommand runs) never stand in the way of a
// comparison.
/// Compare the results.json of two or more runs: a row per rule and dialect, a
/// column per run, the rows where they differ marked.
#[derive(Debug, Parser)]
#[command(
    name = "oms-conformance compare",
    version,
    after_help = COMPARE_AFTER_HELP
)]
struct CompareCli {
    #[command(flatten)]
    args: CompareArgs,
}

#[derive(Debug, Args)]
struct CompareArgs {
    /// The results.json of each run (two or more); each column is named by the
    /// run's folder.
    #[arg(value_name = "RESULTS_JSON")]
    files: Vec<PathBuf>,

    /// text, markdown or html. Default: from the --output file's extension
    /// (.md, .html), else text.
    #[arg(long, env = "OMS_CONFORMANCE_COMPARE_FORMAT", value_name = "FORMAT", value_parser = parse_format)]
    format: Option<Format>,

    /// Write the comparison to this file instead of stdout.
    #[arg(long, env = "OMS_CONFORMANCE_COMPARE_OUTPUT", value_name = "FILE")]
    output: Option<PathBuf>,

    /// Compare runs judged by different kit versions or catalogues, with a
    /// warning, instead of refusing.
    #[arg(long, env = "OMS_CONFORMANCE_COMPARE_ALLOW_MIXED")]
    allow_mixed: bool,

    /// Exit 1 when the verdicts of some rule differ between the runs (a SHOULD
    /// rule's change is invisible in a run's own exit status).
    #[arg(long, env = "OMS_CONFORMANCE_COMPARE_FAIL_ON_DIFFERENCE")]
    fail_on_difference: bool,
}

fn parse_format(name: &str) -> Result<Format, String> {
    Format::parse(name).ok_or_else(|| format!("unknown format `{name}` (text, markdown, html)"))
}

/// The suite's options.
#[derive(Debug, Args)]
struct RunArgs {
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

/// Parses `args` with `parse`: clap's help and version are printed (exit 0), a
/// bad command line is one line (exit 2).
fn parsed<T>(parse: impl FnOnce() -> Result<T, clap::Error>) -> Result<T, ExitCode> {
    match parse() {
        Ok(parsed) => Ok(parsed),
        Err(e)
            if matches!(
                e.kind(),
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion
            ) =>
        {
            let _ = e.print();
            Err(ExitCode::SUCCESS)
        }
        Err(e) => {
            let rendered = e.render().to_string();
            eprintln!(
                "{}",
                rendered.lines().next().unwrap_or("error: bad command line")
            );
            Err(ExitCode::from(2))
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    // `compare` first: its own parser, blind to the suite's options.
    if args.get(1).is_some_and(|a| a == "compare") {
        let rest = std::iter::once(OsString::from("oms-conformance compare"))
            .chain(args.into_iter().skip(2));
        return match parsed(|| CompareCli::try_parse_from(rest)) {
            Ok(cli) => run_compare(cli.args),
            Err(code) => code,
        };
    }
    match parsed(|| Cli::try_parse_from(args)) {
        Ok(Cli {
            command: Some(Command::Compare(args)),
            ..
        }) => run_compare(args),
        Ok(Cli { command: None, run }) => run_suite(run),
        Err(code) => code,
    }
}

fn run_compare(args: CompareArgs) -> ExitCode {
    let options = compare::Options {
        files: args.files,
        format: args.format,
        output: args.output,
        allow_mixed: args.allow_mixed,
        fail_on_difference: args.fail_on_difference,
    };
    match compare::run(&options) {
        Ok(outcome) => {
            for warning in &outcome.warnings {
                eprintln!("{warning}");
            }
            if let Some(document) = outcome.stdout {
                // A closed pipe (`| head`) is not an error of the comparison.
                let _ = std::io::stdout().write_all(document.as_bytes());
            }
            ExitCode::from(outcome.exit_code)
        }
        Err(e) => {
            eprintln!(
                "error: {}",
                anyhow::Error::from(e).to_string().replace('\n', " ")
            );
            ExitCode::from(2)
        }
    }
}

fn run_suite(cli: RunArgs) -> ExitCode {
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
