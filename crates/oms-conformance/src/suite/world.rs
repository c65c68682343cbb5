//! The World: a per-scenario facade over the API, holding the scenario's tasks,
//! the answers it received and why it stopped. Steps are thin adapters over its
//! methods, which live by concept: preconditions in `given.rs`, requests in
//! `when.rs`, judgements in `then.rs`; this file keeps the state, halting and
//! "the task". Every judgement goes through `crate::check`. Preconditions are
//! reached through the public API only and polled with deadlines: a state not
//! reached in time halts the scenario as inconclusive, never as a pass.

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use serde_json::Value;

use crate::api::{Api, Counted, Dialect, TaskState, Unread};
use crate::check::{CheckFailure, Halt};
use crate::config::{Answer, CreateBodies, Declared};
use crate::http::{Exchange, Method};
use crate::suite::context::{CONTEXT, RunContext};
use crate::timeline::Raced;

/// A task the scenario created, with the `GET` body taken once it reached its state.
#[derive(Debug, Clone)]
pub struct Task {
    pub project: usize,
    pub id: i64,
    pub snapshot: Value,
}

#[derive(cucumber::World)]
#[world(init = Self::new)]
pub struct OmsWorld {
    pub(crate) ctx: Arc<RunContext>,
    /// The dialect the scenario runs in (its feature copy's), and the target in it.
    pub(crate) dialect: Dialect,
    pub(crate) api: Arc<Api>,
    /// The project scenarios that name none use.
    pub(super) home: usize,
    pub(crate) tasks: Vec<Task>,
    /// Every task the scenario created (in which dialect, which project), to
    /// clean up after it whatever happened.
    pub(crate) created: Vec<(Dialect, usize, i64)>,
    /// The task the steps call "the task": an index into `tasks`, or an id the
    /// scenario did not create (a well-formed id no task has).
    pub(super) subject: Option<Subject>,
    /// Answers to the last "When".
    pub(super) answers: Vec<Arc<Exchange>>,
    /// `GET`s of id neighbours the scenario did not create, taken before the delete.
    pub(super) foreign: Vec<(usize, i64, Arc<Exchange>)>,
    /// The segments of the malformed-id probes, in the order of `answers`.
    pub(super) probes: Vec<String>,
    /// The races of the scenario, with their timelines.
    pub(crate) races: Vec<Raced>,
    /// The censuses around a counted delete, when there was one.
    pub(super) counted: Option<Counted>,
    /// Whether the scenario created a trio of neighbouring tasks.
    pub(super) trio: bool,
    /// Every DELETE exchange of this scenario (not its cleanup).
    pub(crate) exchanges: Vec<Arc<Exchange>>,
    pub(crate) halted: Option<Halt>,
    /// When the scenario started.
    pub(crate) started: Instant,
}

#[derive(Debug, Clone, Copy)]
pub(super) enum Subject {
    Task(usize),
    Id { project: usize, id: i64 },
}

impl fmt::Debug for OmsWorld {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // No secrets here: only ids, statuses and the halt reason.
        f.debug_struct("OmsWorld")
            .field("dialect", &self.dialect)
            .field("home", &self.api.projects()[self.home].label)
            .field(
                "own_tasks",
                &self
                    .tasks
                    .iter()
                    .map(|t| (t.project, t.id))
                    .collect::<Vec<_>>(),
            )
            .field("subject", &self.subject)
            .field(
                "answers",
                &self
                    .answers
                    .iter()
                    .map(|a| a.observed())
                    .collect::<Vec<_>>(),
            )
            .field("exchanges", &self.exchanges.len())
            .field("halted", &self.halted.as_ref().map(ToString::to_string))
            .finish()
    }
}

impl OmsWorld {
    fn new() -> Self {
        let ctx = CONTEXT.with(Arc::clone);
        let home = ctx.next_home();
        // The before hook puts the World in its scenario's dialect.
        let dialect = ctx.config.apis[0];
        let api = Arc::clone(ctx.api(dialect));
        Self {
            ctx,
            dialect,
            api,
            home,
            tasks: Vec::new(),
            created: Vec::new(),
            subject: None,
            answers: Vec::new(),
            foreign: Vec::new(),
            probes: Vec::new(),
            races: Vec::new(),
            counted: None,
            trio: false,
            exchanges: Vec::new(),
            halted: None,
            started: Instant::now(),
        }
    }

    /// Runs the scenario in `dialect`.
    pub(crate) fn enter_dialect(&mut self, dialect: Dialect) {
        self.dialect = dialect;
        self.api = Arc::clone(self.ctx.api(dialect));
    }

    /// Runs `step` with the World in `dialect`, then back in its own: the
    /// steps of a rule about two dialects (OMS-DEL-023).
    pub(super) async fn through<T>(
        &mut self,
        dialect: Dialect,
        step: impl AsyncFnOnce(&mut Self) -> T,
    ) -> T {
        let own = self.dialect;
        self.enter_dialect(dialect);
        let outcome = step(self).await;
        self.enter_dialect(own);
        outcome
    }

    /// The profile's create bodies for the scenario's dialect.
    pub(super) fn bodies(&self) -> Option<&CreateBodies> {
        self.ctx.config.bodies_for(self.dialect)
    }

    // ----- halting -------------------------------------------------------------

    pub(super) fn halt(&mut self, halt: Halt) -> Halt {
        self.halted = Some(halt.clone());
        halt
    }

    pub(super) fn inconclusive(&mut self, reason: impl Into<String>) -> Halt {
        self.halt(Halt::Inconclusive(reason.into()))
    }

    /// Turns a check's result into the step's result, recording a failure.
    pub(super) fn judge(&mut self, result: Result<(), CheckFailure>) -> Result<(), Halt> {
        result.map_err(|failure| self.halt(Halt::Failed(failure)))
    }

    /// Keeps one exchange; a transport failure halts as an error.
    pub(super) fn keep(&mut self, exchange: Arc<Exchange>) -> Result<Arc<Exchange>, Halt> {
        if exchange.method == Method::Delete {
            self.exchanges.push(Arc::clone(&exchange));
        }
        if exchange.response.is_some() {
            return Ok(exchange);
        }
        Err(self.unanswered(&exchange))
    }

    /// Halts as an error for a request that got no answer.
    fn unanswered(&mut self, exchange: &Exchange) -> Halt {
        let error = exchange.error.clone().unwrap_or_default();
        let reason = if self.api.target_gone() {
            format!(
                "the target stopped answering ({} {}: {error})",
                exchange.method.as_str(),
                exchange.url
            )
        } else {
            format!("{} {}: {error}", exchange.method.as_str(), exchange.url)
        };
        self.halt(Halt::Error(reason))
    }

    /// Halts for a list or census that could not be read.
    pub(super) fn unread(&mut self, unread: Unread) -> Halt {
        match unread {
            Unread::Transport(exchange) => self.unanswered(&exchange),
            Unread::Inconclusive(reason) => self.inconclusive(reason),
        }
    }

    /// `GET` of task `id` of project `p`, kept.
    pub(super) async fn fetch(&mut self, p: usize, id: i64) -> Result<Arc<Exchange>, Halt> {
        let get = self.api.get(p, id).await;
        self.keep(get)
    }

    /// The state a `GET` answered, in the target's dialect.
    pub(super) fn state_of(&self, exchange: &Exchange) -> Option<TaskState> {
        self.api.status(exchange)
    }

    pub(super) fn strict(&self) -> bool {
        self.ctx.config.strict
    }

    /// The answers the profile declares for the scenario's dialect.
    pub(super) fn declarations(&self) -> &Declared {
        self.ctx.config.declared.of(self.dialect)
    }

    pub(super) fn declared<'a>(&self, answers: &'a [Answer]) -> Option<&'a [Answer]> {
        self.strict().then_some(answers)
    }

    /// The project of a label index, the last one when the profile has fewer.
    pub(super) fn project(&self, label_index: usize) -> usize {
        label_index.min(self.api.projects().len() - 1)
    }

    // ----- the task ------------------------------------------------------------

    /// Adds a task that reached its state; returns its index.
    pub(super) fn adopt(&mut self, project: usize, id: i64, snapshot: Value) -> usize {
        self.tasks.push(Task {
            project,
            id,
            snapshot,
        });
        self.tasks.len() - 1
    }

    /// Makes task `index` "the task".
    pub(super) fn make_subject(&mut self, index: usize) {
        self.subject = Some(Subject::Task(index));
    }

    /// The project and id of "the task".
    pub(super) fn subject(&mut self) -> Result<(usize, i64), Halt> {
        match self.subject {
            Some(Subject::Task(i)) => Ok((self.tasks[i].project, self.tasks[i].id)),
            Some(Subject::Id { project, id }) => Ok((project, id)),
            None => Err(self.halt(Halt::Error("the scenario has no task".to_owned()))),
        }
    }

    /// "The middle task" or "the first task".
    pub fn choose_subject(&mut self, index: usize) -> Result<(), Halt> {
        if index >= self.tasks.len() {
            return Err(self.halt(Halt::Error(format!(
                "the scenario has no task number {}",
                index + 1
            ))));
        }
        self.make_subject(index);
        Ok(())
    }
}
