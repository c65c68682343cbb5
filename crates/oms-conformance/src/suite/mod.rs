//! The Gherkin suite and cucumber: loading the features (embedded, or from
//! `--features-dir`), selecting the scenarios a run executes (rules and
//! capabilities disabled in the profile are skipped with their reason), running
//! them concurrently, and recording each scenario's verdict in the `after` hook,
//! which also cleans up the scenario's tasks whatever its outcome. Only this
//! module and its children know cucumber.
//!
//! Here: the run itself (cucumber, its hooks, each scenario's record);
//! `features` loads the features, `plan` selects the scenarios, `context` is
//! what they share, `cleanup` removes a task, `world` is a scenario's state.

mod busy;
mod cleanup;
mod context;
mod features;
mod given;
mod plan;
mod poll;
pub mod race;
pub mod steps;
mod stopping;
mod then;
pub mod vocabulary;
mod when;
pub mod world;

use std::collections::BTreeSet;
use std::sync::Arc;

use cucumber::gherkin;
use cucumber::{World as _, event};
use futures::future::LocalBoxFuture;

use self::context::CONTEXT;
pub use self::context::{LedgerEntry, RunContext};
use self::features::dialect_of;
pub use self::features::{
    API_TAG, DIALECT_TAG, FeatureSource, OPERATION_TAG, PLAIN_TAGS, SuiteError, feature_sources,
    in_dialects, load_features, parse_features,
};
pub use self::plan::{Planned, plan, skip_reason};
use self::race::Timeline;
use self::world::OmsWorld;
use crate::check::{CheckFailure, Halt};
use crate::dialect::Dialect;
use crate::http::Method;
use crate::verdict::Verdict;

/// A feature as the suite parsed it: what the crate hands from loading to
/// running without knowing cucumber.
pub type Feature = gherkin::Feature;

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
        finish(&ctx, &Planned::of(feature, rule, scenario), finished, world).await;
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

/// The `after` hook: cleans the scenario's tasks, records its verdict, prints a
/// progress line.
async fn finish(
    ctx: &Arc<RunContext>,
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
            duration_ms = u64::try_from(world.started.elapsed().as_millis()).unwrap_or(u64::MAX);
            timelines = world.races.iter().map(|r| r.timeline.clone()).collect();
            let created = std::mem::take(&mut world.created);
            ctx.clean_up_after(created, planned.serial()).await;
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
    ctx.push_record(record);
    ctx.count_finished(planned.whole_run());
}

fn print_progress(
    verdict: Verdict,
    dialect: Dialect,
    rule: &str,
    name: &str,
    reason: Option<&str>,
    failure: Option<&CheckFailure>,
    timelines: &[Timeline],
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
