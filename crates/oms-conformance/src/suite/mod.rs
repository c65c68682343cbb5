//! The Gherkin suite and cucumber: loading the features (embedded, or from
//! `--features-dir`), selecting the scenarios a run executes (rules and
//! capabilities disabled in the profile are skipped with their reason), running
//! them concurrently, and recording each scenario's verdict in the `after` hook,
//! which also cleans up the scenario's tasks whatever its outcome. Only this
//! module and its children know cucumber.

mod given;
mod poll;
pub mod race;
pub mod steps;
mod then;
pub mod vocabulary;
mod when;
pub mod world;

use std::collections::BTreeSet;
use std::ops::ControlFlow;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cucumber::feature::Ext as _;
use cucumber::gherkin::{self, GherkinEnv};
use cucumber::{World as _, event};
use futures::future::LocalBoxFuture;

use crate::api::{Api, Delete, Dialect, TaskState};
use crate::catalogue::Catalogue;
use crate::check::{Halt, StatusClass as _};
use crate::config::{CAPABILITIES, RunConfig};
use crate::http::Method;
use crate::verdict::{ScenarioKey, ScenarioRecord, Verdict};
use poll::{Interval, poll_until};
use world::OmsWorld;

/// The features this build embeds, by file name.
const EMBEDDED: [(&str, &str); 1] = [(
    "delete-task.feature",
    include_str!("../../../../features/delete-task.feature"),
)];

/// Tags scenarios may carry besides `@spec:…`, `@needs:…` and `@api:…`.
pub const PLAIN_TAGS: [&str; 3] = ["serial", "whole-run", "settles"];

/// A scenario that ends with a settle period (`@settles`): started first.
const SETTLES_TAG: &str = "settles";
/// Prefix of the tag naming the operation of a feature.
pub const OPERATION_TAG: &str = "operation:";
/// Prefix of the tag that restricts a rule or a scenario to the dialects it
/// names (`@api:v1`); without one it runs in every dialect judged.
pub const API_TAG: &str = "api:";
/// Prefix of the tag the harness gives each dialect's copy of a feature; the
/// features themselves never carry it.
pub const DIALECT_TAG: &str = "dialect:";

tokio::task_local! {
    /// The run a World belongs to; cucumber builds Worlds without arguments.
    pub(crate) static CONTEXT: Arc<RunContext>;
}

/// The features could not be loaded or do not fit the harness.
#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    #[error("cannot read the features in {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("bad feature file {path}: {message}")]
    Parse { path: String, message: String },
    #[error("the features use steps the harness does not define: {0}")]
    UnknownSteps(String),
}

/// A scenario of the suite, as the plan sees it: what the tags and the `Rule:`
/// say of it, read once by [`Planned::of`].
#[derive(Debug, Clone)]
pub struct Planned {
    /// Where it is written, and in which dialect it runs: its identity within
    /// the run.
    pub key: ScenarioKey,
    pub dialect: Dialect,
    pub feature_tags: Vec<String>,
    /// The `@OMS-DEL-…` tags of its `Rule:` (exactly one when the suite is tidy).
    pub rule_tags: Vec<String>,
    pub name: String,
    pub tags: Vec<String>,
    rule: String,
    spec: Vec<String>,
    whole_run: bool,
    serial: bool,
}

impl Planned {
    pub fn of(
        feature: &gherkin::Feature,
        rule: Option<&gherkin::Rule>,
        scenario: &gherkin::Scenario,
    ) -> Self {
        let rule_tags = rule.map(|r| r.tags.clone()).unwrap_or_default();
        let dialect = dialect_of(feature);
        Self {
            key: ScenarioKey {
                file: feature
                    .path
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
                line: scenario.position.line,
                dialect,
            },
            dialect,
            feature_tags: feature.tags.clone(),
            rule: rule_tags.first().cloned().unwrap_or_default(),
            rule_tags,
            name: scenario.name.clone(),
            spec: scenario
                .tags
                .iter()
                .filter_map(|t| t.strip_prefix("spec:"))
                .map(str::to_owned)
                .collect(),
            whole_run: scenario.tags.iter().any(|t| t == "whole-run"),
            serial: scenario.tags.iter().any(|t| t == "serial"),
            tags: scenario.tags.clone(),
        }
    }

    /// The catalogue rule: the first tag of its `Rule:`.
    pub fn rule(&self) -> &str {
        &self.rule
    }

    /// The spec sentences it cites (`@spec:…`).
    pub fn spec(&self) -> &[String] {
        &self.spec
    }

    /// Whether it runs alone (`@serial`).
    pub fn serial(&self) -> bool {
        self.serial
    }

    /// Whether it judges the whole run (`@whole-run`).
    pub fn whole_run(&self) -> bool {
        self.whole_run
    }

    /// Its record with `verdict`, before anything of a run is added to it.
    pub fn record(&self, verdict: Verdict, reason: Option<String>) -> ScenarioRecord {
        ScenarioRecord {
            key: self.key.clone(),
            dialect: self.dialect,
            rule: self.rule.clone(),
            name: self.name.clone(),
            spec: self.spec.clone(),
            verdict,
            reason,
            failure: None,
            observed: Vec::new(),
            duration_ms: 0,
            timelines: Vec::new(),
        }
    }

    /// Its record when it did not run (skipped, or cut short by the run's end).
    pub fn not_run(&self, verdict: Verdict, reason: String) -> ScenarioRecord {
        self.record(verdict, Some(reason))
    }
}

/// One feature file as the run read it: where it came from (for messages),
/// its name relative to its folder (what the features digest hashes, so the
/// built-in features and a copy of `features/` hash alike), and its text.
#[derive(Debug, Clone)]
pub struct FeatureSource {
    pub path: String,
    pub name: String,
    pub text: String,
}

/// Reads the feature files: the built-in ones, or every `*.feature` directly
/// in `dir`, in the order of their paths.
pub fn feature_sources(dir: Option<&Path>) -> Result<Vec<FeatureSource>, SuiteError> {
    let Some(dir) = dir else {
        return Ok(EMBEDDED
            .iter()
            .map(|(name, text)| FeatureSource {
                path: format!("features/{name}"),
                name: (*name).to_owned(),
                text: (*text).to_owned(),
            })
            .collect());
    };
    let read_err = |source| SuiteError::Read {
        path: dir.display().to_string(),
        source,
    };
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .map_err(read_err)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "feature"))
        .collect();
    paths.sort();
    let mut sources = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(&path).map_err(read_err)?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        sources.push(FeatureSource {
            path: path.display().to_string(),
            name,
            text,
        });
    }
    Ok(sources)
}

/// Parses feature files, with their outlines expanded.
pub fn parse_features(sources: &[FeatureSource]) -> Result<Vec<gherkin::Feature>, SuiteError> {
    let mut features = Vec::new();
    for source in sources {
        let parse_err = |message: String| SuiteError::Parse {
            path: source.path.clone(),
            message,
        };
        let mut feature = gherkin::Feature::parse(&source.text, GherkinEnv::default())
            .map_err(|e| parse_err(e.to_string()))?;
        feature.path = Some(source.path.clone().into());
        features.push(
            feature
                .expand_examples()
                .map_err(|e| parse_err(e.to_string()))?,
        );
    }
    Ok(features)
}

/// Loads the features, with their outlines expanded.
pub fn load_features(dir: Option<&Path>) -> Result<Vec<gherkin::Feature>, SuiteError> {
    parse_features(&feature_sources(dir)?)
}

/// The dialect of a feature's copy (see [`in_dialects`]); v1 for a feature
/// that is no copy.
fn dialect_of(feature: &gherkin::Feature) -> Dialect {
    feature
        .tags
        .iter()
        .find_map(|t| Dialect::parse(t.strip_prefix(DIALECT_TAG)?))
        .unwrap_or(Dialect::V1)
}

/// Whether tags that may restrict a rule or scenario to some dialects (`@api:…`)
/// let it run in `dialect`.
fn runs_in(tags: &[String], dialect: Dialect) -> bool {
    let mut named = tags
        .iter()
        .filter_map(|t| t.strip_prefix(API_TAG))
        .peekable();
    named.peek().is_none() || named.any(|name| name == dialect.as_str())
}

/// One copy of every feature per dialect judged, tagged `@dialect:…` and
/// named after it, holding only the rules and scenarios that run in it: the
/// one suite, run once per dialect, concurrently.
pub fn in_dialects(features: &[gherkin::Feature], apis: &[Dialect]) -> Vec<gherkin::Feature> {
    let mut early = Vec::new();
    let mut copies = Vec::new();
    for dialect in apis {
        for feature in features {
            let mut copy = feature.clone();
            copy.tags.push(format!("{DIALECT_TAG}{dialect}"));
            copy.name = format!("{} ({dialect})", feature.name);
            copy.scenarios.retain(|s| runs_in(&s.tags, *dialect));
            copy.rules.retain(|r| runs_in(&r.tags, *dialect));
            for rule in &mut copy.rules {
                rule.scenarios.retain(|s| runs_in(&s.tags, *dialect));
            }
            // The rules with a `@settles` scenario go first, in every dialect:
            // their settle period then overlaps the other scenarios' work
            // instead of following it.
            let (first, rest): (Vec<_>, Vec<_>) = copy.rules.drain(..).partition(|r| {
                r.scenarios
                    .iter()
                    .any(|s| s.tags.iter().any(|t| t == SETTLES_TAG))
            });
            if !first.is_empty() {
                let mut head = copy.clone();
                head.scenarios.clear();
                head.rules = first;
                early.push(head);
            }
            copy.rules = rest;
            copies.push(copy);
        }
    }
    early.extend(copies);
    early
}

/// Every scenario of the features, in order.
pub fn plan(features: &[gherkin::Feature]) -> Vec<Planned> {
    let mut planned = Vec::new();
    for feature in features {
        for scenario in &feature.scenarios {
            planned.push(Planned::of(feature, None, scenario));
        }
        for rule in &feature.rules {
            for scenario in &rule.scenarios {
                planned.push(Planned::of(feature, Some(rule), scenario));
            }
        }
    }
    planned
}

/// Steps of the features that match no step definition, or more than one.
pub fn unmatched_steps(features: &[gherkin::Feature]) -> Vec<String> {
    let collection = OmsWorld::collection();
    let mut unmatched = BTreeSet::new();
    let mut visit = |step: &gherkin::Step| match collection.find(step) {
        Ok(Some(_)) => {}
        Ok(None) => {
            unmatched.insert(format!("`{}` (no definition)", step.value));
        }
        Err(e) => {
            unmatched.insert(format!("`{}` (ambiguous: {e})", step.value));
        }
    };
    for feature in features {
        let scenarios = feature
            .scenarios
            .iter()
            .chain(feature.rules.iter().flat_map(|r| r.scenarios.iter()));
        for scenario in scenarios {
            scenario.steps.iter().for_each(&mut visit);
        }
        feature
            .background
            .iter()
            .flat_map(|b| b.steps.iter())
            .for_each(&mut visit);
    }
    unmatched.into_iter().collect()
}

/// Why a scenario is not run, if it is not: the reason is the profile's.
pub fn skip_reason(config: &RunConfig, scenario: &Planned) -> Option<String> {
    let rule = scenario.rule();
    if !config.only_rules.is_empty() && !config.only_rules.iter().any(|r| r == rule) {
        return Some("not selected (--rule)".to_owned());
    }
    if let Some(reason) = config.disabled_rules.get(rule) {
        return Some(format!("disabled in the profile: {reason}"));
    }
    for capability in CAPABILITIES {
        if scenario
            .tags
            .iter()
            .any(|t| t.strip_prefix("needs:") == Some(capability))
            && let Some(reason) = config.disabled_capabilities.get(capability)
        {
            return Some(format!("capability {capability} disabled: {reason}"));
        }
    }
    let needs_failing = scenario.tags.iter().any(|t| t == "needs:failing-task");
    let no_failing = config
        .bodies_for(scenario.dialect)
        .is_none_or(|set| set.failing.is_none());
    if needs_failing && no_failing {
        return Some(format!(
            "capability failing-task disabled: the profile names no {} create body for a failing task",
            scenario.dialect
        ));
    }
    None
}

/// A task the run created, and whether it was cleaned up.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LedgerEntry {
    /// The dialect it was created through (and is cleaned up through).
    pub dialect: Dialect,
    pub project: String,
    pub id: i64,
    pub cleaned: bool,
    /// Why it could not be cleaned, when it could not.
    pub note: Option<String>,
}

/// Everything a run's scenarios share.
#[derive(Debug)]
pub struct RunContext {
    pub config: Arc<RunConfig>,
    pub catalogue: Arc<Catalogue>,
    /// The target in each dialect judged, in the order of `config.apis`.
    apis: Vec<Arc<Api>>,
    /// The generated malformed task ids of this run's seed.
    pub generated: Vec<String>,
    pub started: Instant,
    records: Mutex<Vec<ScenarioRecord>>,
    ledger: Mutex<Vec<LedgerEntry>>,
    next_home: AtomicUsize,
    /// Scenarios without `@whole-run` that will run, and how many have finished.
    others_total: usize,
    others_finished: AtomicUsize,
    /// Cleanups of `@serial` scenarios still under way (see [`RunContext::finish`]).
    pending_cleanups: AtomicUsize,
}

impl RunContext {
    /// `apis` holds the target in each dialect of `config.apis`, in that order.
    pub fn new(
        config: Arc<RunConfig>,
        catalogue: Arc<Catalogue>,
        apis: Vec<Arc<Api>>,
        generated: Vec<String>,
        others_total: usize,
    ) -> Self {
        assert!(!apis.is_empty(), "a run judges at least one dialect");
        Self {
            config,
            catalogue,
            apis,
            generated,
            started: Instant::now(),
            records: Mutex::new(Vec::new()),
            ledger: Mutex::new(Vec::new()),
            next_home: AtomicUsize::new(0),
            others_total,
            others_finished: AtomicUsize::new(0),
            pending_cleanups: AtomicUsize::new(0),
        }
    }

    /// The project of the next scenario that names none: round robin, so that the
    /// parallel-task quota of one project is not the bottleneck.
    pub fn next_home(&self) -> usize {
        self.next_home.fetch_add(1, Ordering::Relaxed) % self.apis[0].projects().len()
    }

    /// The target in `dialect`; the first dialect's when it is not judged.
    pub fn api(&self, dialect: Dialect) -> &Arc<Api> {
        self.apis
            .iter()
            .find(|a| a.dialect() == dialect)
            .unwrap_or(&self.apis[0])
    }

    /// Whether the target stopped answering (in whichever dialect).
    pub fn target_gone(&self) -> bool {
        self.apis[0].target_gone()
    }

    pub fn others_finished(&self) -> bool {
        self.others_finished.load(Ordering::SeqCst) >= self.others_total
            && self.pending_cleanups.load(Ordering::SeqCst) == 0
    }

    pub fn enter_in_ledger(&self, dialect: Dialect, project: usize, id: i64) {
        if let Ok(mut ledger) = self.ledger.lock() {
            ledger.push(LedgerEntry {
                dialect,
                project: self.apis[0].projects()[project].label.to_owned(),
                id,
                cleaned: false,
                note: None,
            });
        }
    }

    fn mark_cleaned(&self, project: usize, id: i64, outcome: Result<(), String>) {
        let label = self.apis[0].projects()[project].label;
        if let Ok(mut ledger) = self.ledger.lock()
            && let Some(entry) = ledger.iter_mut().find(|e| e.project == label && e.id == id)
        {
            entry.cleaned = outcome.is_ok();
            entry.note = outcome.err();
        }
    }

    /// The ids of every task the run created in project `p`.
    pub fn ledger_ids(&self, p: usize) -> Vec<i64> {
        let label = self.apis[0].projects()[p].label;
        self.ledger()
            .into_iter()
            .filter(|e| e.project == label)
            .map(|e| e.id)
            .collect()
    }

    pub fn ledger(&self) -> Vec<LedgerEntry> {
        self.ledger.lock().map(|l| l.clone()).unwrap_or_default()
    }

    pub fn records(&self) -> Vec<ScenarioRecord> {
        self.records.lock().map(|r| r.clone()).unwrap_or_default()
    }

    pub fn push_record(&self, record: ScenarioRecord) {
        if let Ok(mut records) = self.records.lock() {
            records.push(record);
        }
    }

    /// Stops and deletes every task of the ledger not cleaned yet (after a run
    /// deadline cut scenarios short).
    pub async fn sweep(&self) {
        // The cleanups still under way end first (each within the state deadline).
        let deadline = Instant::now() + self.config.deadlines.state + self.config.deadlines.request;
        let _ = poll_until(deadline, world::POLL, async || {
            if self.pending_cleanups.load(Ordering::SeqCst) == 0 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .await;
        let left: Vec<(Dialect, usize, i64)> = self
            .ledger()
            .into_iter()
            .filter(|e| !e.cleaned && e.note.is_none())
            .map(|e| {
                let project = self.apis[0]
                    .projects()
                    .iter()
                    .position(|p| p.label == e.project);
                (e.dialect, project.unwrap_or(0), e.id)
            })
            .collect();
        if self.target_gone() {
            for (_, project, id) in left {
                let note = format!("task {id} was left: the target stopped answering");
                self.mark_cleaned(project, id, Err(note));
            }
            return;
        }
        let within = self.config.deadlines.state;
        let cleaning = left
            .iter()
            .map(|(d, p, id)| clean(Arc::clone(self.api(*d)), *p, *id, within));
        let outcomes = futures::future::join_all(cleaning).await;
        for ((_, project, id), outcome) in left.into_iter().zip(outcomes) {
            self.mark_cleaned(project, id, outcome);
        }
    }

    /// Stops and deletes the tasks a scenario `created`, and enters how it went
    /// in the ledger.
    async fn clean_up(self: Arc<Self>, created: Vec<(Dialect, usize, i64)>) {
        let within = self.config.deadlines.state;
        // Each cleanup owns what it needs, so that the whole is `Send`.
        let cleaning: Vec<_> = created
            .iter()
            .map(|&(d, p, id)| {
                let api = Arc::clone(self.api(d));
                clean(api, p, id, within)
            })
            .collect();
        let outcomes = futures::future::join_all(cleaning).await;
        for ((_, project, id), outcome) in created.into_iter().zip(outcomes) {
            self.mark_cleaned(project, id, outcome);
        }
    }

    /// The `after` hook: cleans the scenario's tasks, records its verdict, prints a
    /// progress line.
    async fn finish(
        self: &Arc<Self>,
        planned: &Planned,
        finished: &event::ScenarioFinished,
        world: Option<&mut OmsWorld>,
    ) {
        let mut duration_ms = 0;
        let mut timelines = Vec::new();
        let (verdict, reason, failure, observed) = match world {
            None => (
                Verdict::Error,
                Some("the scenario could not start".to_owned()),
                None,
                Vec::new(),
            ),
            Some(world) => {
                duration_ms =
                    u64::try_from(world.started.elapsed().as_millis()).unwrap_or(u64::MAX);
                timelines = world.races.iter().map(|r| r.timeline.clone()).collect();
                let created = std::mem::take(&mut world.created);
                let cleaning = {
                    let ctx = Arc::clone(self);
                    async move { ctx.clean_up(created).await }
                };
                if planned.serial() {
                    // A scenario that runs alone lets the next one start while
                    // its tasks are cleaned up (a stopped task's pause is the
                    // wait): the next one's own tasks initialise meanwhile, and
                    // the run waits for every cleanup before it sweeps and
                    // before a whole-run scenario judges.
                    self.pending_cleanups.fetch_add(1, Ordering::SeqCst);
                    let ctx = Arc::clone(self);
                    tokio::spawn(async move {
                        cleaning.await;
                        ctx.pending_cleanups.fetch_sub(1, Ordering::SeqCst);
                    });
                } else {
                    cleaning.await;
                }
                let mut observed: Vec<String> = world
                    .exchanges
                    .iter()
                    .filter(|e| e.method == Method::Delete)
                    .map(|e| e.observed())
                    .collect();
                observed.sort();
                observed.dedup();
                let (verdict, reason, failure) = match (finished, &world.halted) {
                    (event::ScenarioFinished::StepPassed, _) => (Verdict::Pass, None, None),
                    (event::ScenarioFinished::StepFailed(..), Some(Halt::Failed(f))) => {
                        (Verdict::Fail, Some(f.expectation.clone()), Some(f.clone()))
                    }
                    (event::ScenarioFinished::StepFailed(..), Some(Halt::Inconclusive(r))) => {
                        (Verdict::Inconclusive, Some(r.clone()), None)
                    }
                    (event::ScenarioFinished::StepFailed(..), Some(Halt::Error(r))) => {
                        (Verdict::Error, Some(r.clone()), None)
                    }
                    (event::ScenarioFinished::StepFailed(_, _, e), None) => {
                        (Verdict::Error, Some(e.to_string()), None)
                    }
                    (event::ScenarioFinished::StepSkipped, _) => (
                        Verdict::Error,
                        Some("a step has no definition".to_owned()),
                        None,
                    ),
                    (event::ScenarioFinished::BeforeHookFailed(_), _) => (
                        Verdict::Error,
                        Some("the before hook failed".to_owned()),
                        None,
                    ),
                };
                (verdict, reason, failure, observed)
            }
        };
        print_progress(
            verdict,
            planned.dialect,
            planned.rule(),
            &planned.name,
            reason.as_deref(),
            failure.as_ref(),
            &timelines,
        );
        let mut record = planned.record(verdict, reason);
        record.timelines = timelines;
        record.failure = failure;
        record.observed = observed;
        record.duration_ms = duration_ms;
        self.push_record(record);
        if !planned.whole_run() {
            self.others_finished.fetch_add(1, Ordering::SeqCst);
        }
    }
}

fn print_progress(
    verdict: Verdict,
    dialect: Dialect,
    rule: &str,
    name: &str,
    reason: Option<&str>,
    failure: Option<&crate::check::CheckFailure>,
    timelines: &[race::Timeline],
) {
    say!("{:<12} {dialect} {rule}  {name}", verdict.as_str());
    let detail = match (failure, reason) {
        (Some(f), _) => Some(f.to_string()),
        (None, Some(r)) if verdict != Verdict::Pass => Some(r.to_owned()),
        _ => None,
    };
    if let Some(detail) = detail {
        for line in detail.lines().take(20) {
            say!("             | {line}");
        }
        // A race that did not pass shows how it went, to replay with its seed.
        for timeline in timelines {
            for line in timeline.to_string().lines().take(40) {
                say!("             | {line}");
            }
        }
    }
}

/// Stops a task if it runs, then deletes it; done when `GET` says it is gone
/// (a 2xx to the delete is not taken on trust: a faulty target may say so and
/// keep the task). Retries back off from 20 ms to 500 ms, so a target that
/// keeps refusing is asked a few times a second, not fifty.
async fn clean(api: Arc<Api>, p: usize, id: i64, within: Duration) -> Result<(), String> {
    let deadline = Instant::now() + within;
    let backoff = Interval::doubling(Duration::from_millis(20), Duration::from_millis(500));
    // Closures that return futures rather than `async` closures: the
    // cleanup of a `@serial` scenario runs on a task of its own, and the
    // compiler proves such a closure's futures `Send`.
    let outcome = poll_until(deadline, backoff, move || {
        clean_once(Arc::clone(&api), p, id, deadline)
    })
    .await;
    match outcome {
        ControlFlow::Break(cleaned) => cleaned,
        ControlFlow::Continue(last) => Err(format!("task {id} could not be cleaned up: {last}")),
    }
}

/// One attempt of [`clean`]: done (or given up, when the target is gone), or
/// what the target last answered.
async fn clean_once(
    api: Arc<Api>,
    p: usize,
    id: i64,
    deadline: Instant,
) -> ControlFlow<Result<(), String>, String> {
    let get = settled(Arc::clone(&api), p, id, deadline).await;
    if get.response.is_none() {
        let last = get.error.clone().unwrap_or_default();
        if api.target_gone() {
            return ControlFlow::Break(Err(format!("task {id} could not be cleaned up: {last}")));
        }
        return ControlFlow::Continue(last);
    }
    if get.is_client_error() {
        return ControlFlow::Break(Ok(()));
    }
    // A pausing task is on its way to stopped: it was waited for above, and
    // is not stopped again. A running or retrying one is stopped, waited for
    // the same way, and deleted in the same attempt.
    match api.status(&get) {
        Some(TaskState::Pausing) => {
            return ControlFlow::Continue("the task is still pausing".to_owned());
        }
        Some(state) if state.busy() => {
            let stop = api.stop(p, id).await;
            if !stop.is_success() {
                return ControlFlow::Continue(format!("stop answered {}", stop.observed()));
            }
            let after = settled(Arc::clone(&api), p, id, deadline).await;
            if let Some(state) = api.status(&after).filter(|s| s.busy()) {
                return ControlFlow::Continue(format!("the task is {state} after its stop"));
            }
        }
        _ => {}
    }
    let delete = api.delete(p, &id.to_string(), Delete::default()).await;
    if !delete.is_success() {
        return ControlFlow::Continue(format!("delete answered {}", delete.observed()));
    }
    // Confirmed at once, even when the deadline has just passed.
    let confirm = api.get(p, id).await;
    if confirm.is_client_error() {
        return ControlFlow::Break(Ok(()));
    }
    ControlFlow::Continue(format!(
        "delete answered {} but GET still answers {}",
        delete.observed(),
        confirm.observed()
    ))
}

/// `GET` of the task, polled at the scenarios' pace while it is pausing: a
/// stop on its way is waited for, not backed off from (the backoff of
/// [`clean`] is for a target that refuses).
async fn settled(
    api: Arc<Api>,
    p: usize,
    id: i64,
    deadline: Instant,
) -> Arc<crate::http::Exchange> {
    let outcome = poll_until(deadline, world::POLL, move || {
        let api = Arc::clone(&api);
        async move {
            let get = api.get(p, id).await;
            if api.status(&get) == Some(TaskState::Pausing) {
                ControlFlow::Continue(get)
            } else {
                ControlFlow::Break(get)
            }
        }
    })
    .await;
    match outcome {
        ControlFlow::Break(get) | ControlFlow::Continue(get) => get,
    }
}

/// Runs the selected scenarios of `features`; the records land in `ctx`. The
/// Cucumber JSON report goes to `json`.
pub async fn run(ctx: Arc<RunContext>, features: Vec<gherkin::Feature>, json: std::fs::File) {
    let config = Arc::clone(&ctx.config);
    let filter = move |feature: &gherkin::Feature,
                       rule: Option<&gherkin::Rule>,
                       scenario: &gherkin::Scenario| {
        skip_reason(&config, &Planned::of(feature, rule, scenario)).is_none()
    };
    let cucumber = OmsWorld::cucumber::<&str>()
        .with_parser(Preparsed)
        .with_writer(cucumber::writer::Json::new(json))
        .fail_on_skipped()
        .before(before_hook)
        .after(after_hook)
        .with_default_cli();
    let _writer = CONTEXT
        .scope(ctx, cucumber.filter_run(features, filter))
        .await;
}

/// Puts the World in the dialect of its feature's copy before the first step.
fn before_hook<'a>(
    feature: &'a gherkin::Feature,
    _rule: Option<&'a gherkin::Rule>,
    _scenario: &'a gherkin::Scenario,
    world: &'a mut OmsWorld,
) -> LocalBoxFuture<'a, ()> {
    Box::pin(async move {
        world.enter_dialect(dialect_of(feature));
    })
}

fn after_hook<'a>(
    feature: &'a gherkin::Feature,
    rule: Option<&'a gherkin::Rule>,
    scenario: &'a gherkin::Scenario,
    finished: &'a event::ScenarioFinished,
    world: Option<&'a mut OmsWorld>,
) -> LocalBoxFuture<'a, ()> {
    Box::pin(async move {
        let ctx = CONTEXT.with(Arc::clone);
        ctx.finish(&Planned::of(feature, rule, scenario), finished, world)
            .await;
    })
}

/// Hands cucumber the features already parsed (and checked) by [`load_features`].
struct Preparsed;

impl cucumber::Parser<Vec<gherkin::Feature>> for Preparsed {
    type Cli = cucumber::cli::Empty;
    type Output =
        futures::stream::Iter<std::vec::IntoIter<cucumber::parser::Result<gherkin::Feature>>>;

    fn parse(self, input: Vec<gherkin::Feature>, _cli: Self::Cli) -> Self::Output {
        futures::stream::iter(input.into_iter().map(Ok).collect::<Vec<_>>())
    }
}
