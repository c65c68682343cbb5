//! What the scenarios of a run share ([`RunContext`]: the configuration, the
//! target in each dialect, the records and the ledger of every task the run
//! created), handed to each World through a task-local, and the sweep that
//! cleans up what scenarios cut short left behind.

use std::ops::ControlFlow;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::cleanup::clean;
use super::poll::{POLL, poll_until};
use crate::api::Api;
use crate::catalogue::Catalogue;
use crate::config::RunConfig;
use crate::dialect::Dialect;
use crate::verdict::ScenarioRecord;

tokio::task_local! {
    /// The run a World belongs to; cucumber builds Worlds without arguments.
    pub(crate) static CONTEXT: Arc<RunContext>;
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
        let _ = poll_until(deadline, POLL, async || {
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

    /// Cleans up the tasks a scenario `created`, and enters how it went in the
    /// ledger.
    pub(super) async fn clean_up_after(
        self: &Arc<Self>,
        created: Vec<(Dialect, usize, i64)>,
        serial: bool,
    ) {
        let cleaning = {
            let ctx = Arc::clone(self);
            async move { ctx.clean_up(created).await }
        };
        if serial {
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
    }

    /// Counts a finished scenario towards [`Self::others_finished`], unless it
    /// judges the whole run itself.
    pub(super) fn count_finished(&self, whole_run: bool) {
        if !whole_run {
            self.others_finished.fetch_add(1, Ordering::SeqCst);
        }
    }
}
