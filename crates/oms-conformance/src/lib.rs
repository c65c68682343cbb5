//! The OMS conformance kit: runs the rule catalogue of `conformance-rules.md`,
//! written as Gherkin in `features/`, against the bundled reference server
//! (started in-process) or any endpoint, and writes JUnit, Cucumber JSON,
//! `results.json`, `report.html` and `summary.md`. [`run`] is the whole job;
//! `main.rs` only parses options into [`config::Overrides`] and maps the outcome
//! to an exit code. [`compare::run`] sets the `results.json` of several runs
//! side by side (`oms-conformance compare`).

/// Prints a line on stdout, ignoring a closed pipe: `oms-conformance | head`
/// must not panic.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

pub mod api;
pub mod catalogue;
pub mod check;
pub mod compare;
pub mod config;
pub mod container;
pub mod dialect;
pub mod embedded;
pub mod http;
pub mod malformed;
pub mod markdown;
pub mod project;
pub mod provenance;
pub mod report;
pub mod reported;
pub mod secret;
pub mod signing;
pub mod suite;
pub mod summary;
pub mod time;
pub mod timeline;
pub mod verdict;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use crate::catalogue::Catalogue;
use crate::config::{ConfigError, Overrides, RunConfig, Target};
use crate::provenance::Provenance;
use crate::verdict::{Judgement, ScenarioRecord, Verdict};

/// Why a run could not even start. Renders as one line.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Catalogue(#[from] catalogue::CatalogueError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Suite(#[from] suite::SuiteError),
    #[error(transparent)]
    Http(#[from] http::HttpError),
    #[error("cannot start the embedded reference server: {0}")]
    Embedded(#[source] std::io::Error),
    #[error(transparent)]
    Container(#[from] container::ContainerError),
    #[error("cannot write the reports in {path}: {source}")]
    Reports {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// What a finished run hands back to `main`.
#[derive(Debug)]
pub struct Outcome {
    pub exit_code: u8,
    pub report_dir: PathBuf,
}

/// Resolves the configuration, runs the suite and writes the reports.
pub async fn run(overrides: Overrides) -> Result<Outcome, RunError> {
    let catalogue = Arc::new(Catalogue::embedded()?);
    let config = Arc::new(RunConfig::resolve(overrides, &catalogue)?);
    let (features, provenance) = load_suite(&config)?;
    check_target(&config)?;
    let json = open_reports(&config)?;

    let started = Instant::now();
    // Installed before anything is launched: from here on a SIGINT or SIGTERM
    // never meets the default action, which would leave a container behind.
    let interrupt = Interrupt::install();
    let launched = Launched::start(&config, &interrupt).await?;
    let base_url = launched.base_url();
    let apis = match connect(&config, &base_url) {
        Ok(apis) => apis,
        // Whatever was launched goes with the run, also when it ends here.
        Err(err) => {
            launched.stop().await;
            return Err(err);
        }
    };

    let planned = plan(&config, &features);
    let generated = malformed::generate(config.seed, config.generated_ids);
    announce(&config, &base_url);
    let selection = select(&config, &planned);
    let ctx = Arc::new(suite::RunContext::new(
        Arc::clone(&config),
        Arc::clone(&catalogue),
        apis.clone(),
        generated,
        selection.others_total,
    ));
    let aborted = if selection.selected > 0 {
        execute(&ctx, &apis, features, json, &interrupt).await
    } else {
        None
    };
    let records = records(&ctx, &planned, selection.skipped, aborted.as_deref());
    launched.stop().await;

    let judgement = judge(&catalogue, &config, &records, aborted);
    let ledger = ctx.ledger();
    let run = report::Run {
        config: &config,
        catalogue: &catalogue,
        judgement: &judgement,
        provenance: &provenance,
        ledger: &ledger,
        base_url: &base_url,
        generated: &ctx.generated,
        exchanges: apis[0].sent(),
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    };
    report::write_all(&run).map_err(|source| reports_error(&config, source))?;
    report::print_summary(&run);
    Ok(Outcome {
        exit_code: judgement.exit_code,
        report_dir: config.report_dir.clone(),
    })
}

/// Reads and parses the features, refuses steps without a definition, and
/// makes the one suite into a copy per dialect judged; with the provenance of
/// what judges the run.
fn load_suite(config: &RunConfig) -> Result<(Vec<suite::Feature>, Provenance), RunError> {
    let sources = suite::feature_sources(config.features_dir.as_deref())?;
    let written = suite::parse_features(&sources)?;
    let unmatched = suite::unmatched_steps(&written);
    if !unmatched.is_empty() {
        return Err(suite::SuiteError::UnknownSteps(unmatched.join(", ")).into());
    }
    let provenance = Provenance::new(
        catalogue::embedded_text(),
        &config
            .features_dir
            .as_ref()
            .map_or_else(|| "built-in".to_owned(), |dir| dir.display().to_string()),
        &sources
            .iter()
            .map(|s| provenance::FeatureFile {
                name: &s.name,
                text: &s.text,
            })
            .collect::<Vec<_>>(),
        &config.profile_name,
        &config.profile_as_used,
    );
    // The one suite, once per dialect judged.
    Ok((suite::in_dialects(&written, &config.apis), provenance))
}

/// An external target's base URL must be usable before anything starts.
fn check_target(config: &RunConfig) -> Result<(), RunError> {
    if let Target::External(url) = &config.target {
        http::check_base_url(url)?;
    }
    Ok(())
}

/// Creates the report folder and the Cucumber JSON report cucumber writes into.
fn open_reports(config: &RunConfig) -> Result<std::fs::File, RunError> {
    std::fs::create_dir_all(&config.report_dir).map_err(|e| reports_error(config, e))?;
    std::fs::File::create(config.report_dir.join("cucumber.json"))
        .map_err(|e| reports_error(config, e))
}

fn reports_error(config: &RunConfig, source: std::io::Error) -> RunError {
    RunError::Reports {
        path: config.report_dir.clone(),
        source,
    }
}

/// The target at `base_url` in each dialect judged. One target, seen in each
/// dialect: one client and one set of project gates, so that a census in one
/// dialect holds off the other's creates.
fn connect(config: &RunConfig, base_url: &str) -> Result<Vec<Arc<api::Api>>, RunError> {
    let redactor = Arc::new(http::Redactor::new(config.secrets()));
    let client = http::Client::new(
        base_url,
        config.deadlines.request,
        config.body_cap,
        redactor,
    )?;
    let first = api::Api::new(client, config.apis[0], config.projects.clone());
    Ok(config
        .apis
        .iter()
        .map(|d| Arc::new(first.in_dialect(*d)))
        .collect())
}

/// Every scenario of the run: scenarios of rules not selected with `--rule`
/// are not part of it at all.
fn plan(config: &RunConfig, features: &[suite::Feature]) -> Vec<suite::Planned> {
    suite::plan(features)
        .into_iter()
        .filter(|s| config.only_rules.is_empty() || config.only_rules.iter().any(|r| r == s.rule()))
        .collect()
}

/// The line that says what the run judges, before anything is sent.
fn announce(config: &RunConfig, base_url: &str) {
    say!(
        "oms-conformance: target {} ({}), profile {}, api {}, seed {}{}",
        match &config.target {
            Target::Embedded => "embedded reference server",
            Target::External(_) => "external",
            Target::Image(_) => "container image",
        },
        base_url,
        config.profile_name,
        config
            .apis
            .iter()
            .map(|d| d.as_str())
            .collect::<Vec<_>>()
            .join(" + "),
        config.seed,
        if config.strict { ", strict" } else { "" }
    );
}

/// Which planned scenarios run, and the records of those that do not.
struct Selection {
    /// The records of the scenarios the profile skips, with their reasons.
    skipped: Vec<ScenarioRecord>,
    /// Scenarios that run.
    selected: usize,
    /// Scenarios that run and do not judge the whole run.
    others_total: usize,
}

fn select(config: &RunConfig, planned: &[suite::Planned]) -> Selection {
    let mut selection = Selection {
        skipped: Vec::new(),
        selected: 0,
        others_total: 0,
    };
    for scenario in planned {
        match suite::skip_reason(config, scenario) {
            Some(reason) => selection
                .skipped
                .push(scenario.not_run(Verdict::Skipped, reason)),
            None => {
                selection.selected += 1;
                if !scenario.whole_run() {
                    selection.others_total += 1;
                }
            }
        }
    }
    selection
}

/// Checks the target, runs the suite within the run deadline or until an
/// interrupt, and sweeps up the tasks of the ledger; why the run was cut
/// short, when it was.
async fn execute(
    ctx: &Arc<suite::RunContext>,
    apis: &[Arc<api::Api>],
    features: Vec<suite::Feature>,
    json: std::fs::File,
    interrupt: &Interrupt,
) -> Option<String> {
    if let Err(reason) = preflight(apis).await {
        return Some(reason);
    }
    let mut aborted = None;
    let run = suite::run(Arc::clone(ctx), features, json);
    // On the deadline or an interrupt the scenarios stop where they
    // are; the sweep below still cleans up every task of the ledger.
    tokio::select! {
        finished = tokio::time::timeout(ctx.config.deadlines.run, run) => {
            if finished.is_err() {
                aborted = Some(format!(
                    "the run deadline of {} s passed before every scenario finished",
                    ctx.config.deadlines.run.as_secs()
                ));
            }
        }
        () = interrupt.wait() => {
            aborted = Some("interrupted: cleaning up the run's tasks".to_owned());
        }
    }
    ctx.sweep().await;
    aborted
}

/// The record of every planned scenario, in the order of the features: those
/// that ran, those the profile skipped, and, when the run was cut short, those
/// it never reached, as errors.
fn records(
    ctx: &suite::RunContext,
    planned: &[suite::Planned],
    skipped: Vec<ScenarioRecord>,
    aborted: Option<&str>,
) -> Vec<ScenarioRecord> {
    let mut records = ctx.records();
    if let Some(reason) = aborted {
        eprintln!("oms-conformance: {reason}");
        for scenario in planned {
            let done = records
                .iter()
                .chain(&skipped)
                .any(|r| r.key == scenario.key);
            if !done {
                records.push(scenario.not_run(Verdict::Error, reason.to_owned()));
            }
        }
    }
    records.extend(skipped);
    // Report in the order of the features, whatever order the scenarios ended in.
    records.sort_by_key(|r| {
        planned
            .iter()
            .position(|p| p.key == r.key)
            .unwrap_or(usize::MAX)
    });
    records
}

/// The judgement of the records; a run cut short says why first, and cannot
/// exit better than "could not judge".
fn judge(
    catalogue: &Catalogue,
    config: &RunConfig,
    records: &[ScenarioRecord],
    aborted: Option<String>,
) -> Judgement {
    let mut judgement = verdict::judge(catalogue, config, records);
    if let Some(reason) = aborted {
        judgement.notes.insert(0, reason);
        judgement.exit_code = judgement.exit_code.max(2);
    }
    judgement
}

/// What the run started to have a target, and stops when it ends.
enum Launched {
    Embedded(embedded::Embedded),
    // Boxed: a container handle is far larger than the other variants.
    Container(Box<container::Running>),
    External(String),
}

impl Launched {
    async fn start(config: &RunConfig, interrupt: &Interrupt) -> Result<Self, RunError> {
        Ok(match &config.target {
            Target::Embedded => Self::Embedded(
                embedded::Embedded::start()
                    .await
                    .map_err(RunError::Embedded)?,
            ),
            Target::External(url) => Self::External(url.clone()),
            Target::Image(spec) => {
                say!(
                    "oms-conformance: starting a container of {}",
                    spec.reference()
                );
                let probe_timeout = config.deadlines.request;
                let answers = async |base_url: &str| http::answers(base_url, probe_timeout).await;
                let running = container::Running::start(spec, answers, interrupt.0.clone()).await?;
                Self::Container(Box::new(running))
            }
        })
    }

    fn base_url(&self) -> String {
        match self {
            Self::Embedded(server) => server.base_url(),
            Self::Container(running) => running.base_url().to_owned(),
            Self::External(url) => url.clone(),
        }
    }

    async fn stop(self) {
        match self {
            Self::Embedded(server) => server.stop().await,
            Self::Container(running) => running.remove().await,
            Self::External(_) => {}
        }
    }
}

/// SIGINT (Ctrl-C) or SIGTERM (what CI runners and `docker stop` send) seen.
struct Interrupt(tokio::sync::watch::Receiver<bool>);

impl Interrupt {
    /// Registers the handlers now, before the first `.await` that launches anything.
    fn install() -> Self {
        let (seen, receiver) = tokio::sync::watch::channel(false);
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let handlers = signal(SignalKind::interrupt())
                .and_then(|i| Ok((i, signal(SignalKind::terminate())?)));
            match handlers {
                Ok((mut int, mut term)) => {
                    tokio::spawn(async move {
                        tokio::select! {
                            _ = int.recv() => {}
                            _ = term.recv() => {}
                        }
                        let _ = seen.send(true);
                    });
                }
                // Without handlers the default action stays: nothing better to do.
                Err(err) => eprintln!("oms-conformance: cannot install signal handlers: {err}"),
            }
        }
        #[cfg(not(unix))]
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                let _ = seen.send(true);
            }
        });
        Self(receiver)
    }

    /// Resolves once a signal was seen.
    async fn wait(&self) {
        let mut receiver = self.0.clone();
        // An error means the listener ended without a signal: never resolve.
        if receiver.wait_for(|seen| *seen).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// Checks that the target answers, in each dialect judged, and accepts each
/// project's credentials.
async fn preflight(apis: &[Arc<api::Api>]) -> Result<(), String> {
    for api in apis {
        for (p, project) in api.projects().iter().enumerate() {
            let probe = api.probe(p).await;
            match probe.status() {
                None => {
                    return Err(format!(
                        "the target is unreachable: {}",
                        probe.error.clone().unwrap_or_default()
                    ));
                }
                Some(200) => {}
                Some(status) => {
                    return Err(format!(
                        "the target refused the {} project's {} list ({status}): check its id and credentials, and that it serves {}",
                        project.label,
                        api.dialect(),
                        api.dialect()
                    ));
                }
            }
        }
    }
    Ok(())
}
