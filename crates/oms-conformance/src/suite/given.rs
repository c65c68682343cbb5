//! The preconditions ("Given"): tasks created through the public API and
//! polled until they reach their state, an id no task has, a full quota, a task
//! deleted before the action, and the wait of the whole-run scenarios. A state
//! not reached in time makes the scenario inconclusive.

use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::api::{Delete, Dialect, TaskState};
use crate::check::{self, Halt, StatusClass as _};
use crate::config::Deadlines;
use crate::http::Exchange;
use crate::suite::poll::{POLL, poll_until};
use crate::suite::stopping::{NotStopped, stop_patiently};
use crate::suite::vocabulary::Kind;
use crate::suite::world::{OmsWorld, Subject};

/// How long a finished or stopped task is left before it is looked at again
/// and used: an engine may still be doing its bookkeeping of the end or of
/// the stop (the Terraform provider retries a delete refused with `OMS.0063`
/// after status 3 for that reason, `oms-v2-api.md` §3). The rules about
/// deleting a task at rest judge it at rest, not a race with its end or its
/// stop (those are OMS-DEL-024's and OMS-DEL-014's, and OMS-DEL-007's remedy
/// deletes at once).
const AT_REST: Duration = Duration::from_millis(400);

/// The state a task created for `kind` reaches by itself (a stopped task is
/// stopped once it runs).
fn reached_by_itself(kind: Kind) -> TaskState {
    match kind {
        Kind::Running | Kind::Stopped => TaskState::Running,
        Kind::Failed => TaskState::Failed,
        Kind::Succeeded => TaskState::Succeeded,
    }
}

/// `want` for a message: "running", or "waiting or running".
fn either(want: &[TaskState]) -> String {
    want.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" or ")
}

impl OmsWorld {
    /// Creates a task of `kind` in the home project and waits until it is there;
    /// the first task created becomes "the task".
    pub async fn given_task(&mut self, kind: Kind) -> Result<(), Halt> {
        self.given_task_of(self.home, kind).await
    }

    /// [`Self::given_task`] in the project of label index `project`.
    pub async fn given_task_in(&mut self, kind: Kind, project: usize) -> Result<(), Halt> {
        self.given_task_of(self.project(project), kind).await
    }

    async fn given_task_of(&mut self, p: usize, kind: Kind) -> Result<(), Halt> {
        let id = self.create(p, kind).await?;
        let snapshot = self.reach(p, id, kind).await?;
        let index = self.adopt(p, id, snapshot);
        if self.subject.is_none() {
            self.make_subject(index);
        }
        Ok(())
    }

    /// Waits until a task created for `kind` is in that state, stopping it first
    /// for [`Kind::Stopped`]; returns its body.
    async fn reach(&mut self, p: usize, id: i64, kind: Kind) -> Result<Value, Halt> {
        let mut reached = self.reach_all(p, &[id], kind).await?;
        Ok(reached.swap_remove(0))
    }

    fn body(&self, kind: Kind) -> Option<Value> {
        let bodies = self.bodies()?;
        match kind {
            Kind::Running | Kind::Stopped => Some(bodies.running.clone()),
            Kind::Succeeded => Some(bodies.succeeding.clone()),
            Kind::Failed => bodies.failing.clone(),
        }
    }

    fn body_or_halt(&mut self, kind: Kind) -> Result<Value, Halt> {
        match self.body(kind) {
            Some(body) => Ok(body),
            None => Err(self.halt(Halt::Error(
                "the profile names no create body for a failing task".to_owned(),
            ))),
        }
    }

    /// Creates a task and enters it in the ledger; returns its id.
    async fn create(&mut self, p: usize, kind: Kind) -> Result<i64, Halt> {
        let body = self.body_or_halt(kind)?;
        self.create_from(p, &body).await
    }

    /// Creates a task from `body` and enters it in the ledger; returns its id.
    async fn create_from(&mut self, p: usize, body: &Value) -> Result<i64, Halt> {
        let exchange = self.api.create(p, body).await;
        let exchange = self.keep(exchange)?;
        self.created(p, &exchange)
    }

    fn created(&mut self, p: usize, exchange: &Arc<Exchange>) -> Result<i64, Halt> {
        let id = exchange
            .response
            .as_ref()
            .filter(|r| r.is_success())
            .and_then(|r| r.json.as_ref()?.get("id")?.as_i64());
        match id {
            Some(id) => {
                self.ctx.enter_in_ledger(self.dialect, p, id);
                self.created.push((self.dialect, p, id));
                Ok(id)
            }
            None => Err(self.inconclusive(format!(
                "creating a task answered {} without an integer `id`\n{}",
                exchange.observed(),
                exchange.render()
            ))),
        }
    }

    /// Polls `GET` until the task is in one of the states `want`; returns its
    /// body. A task waiting for a slot (status 1) has the state deadline from
    /// the last look that saw it waiting, up to `deadlines.queue` more in all.
    pub(super) async fn wait_state(
        &mut self,
        p: usize,
        id: i64,
        want: &[TaskState],
    ) -> Result<Value, Halt> {
        let Deadlines { state, queue, .. } = self.ctx.config.deadlines;
        let started = Instant::now();
        let cap = started + state + queue;
        let mut deadline = started + state;
        // The last look that saw the task waiting for a slot of its project's
        // quota (status 1): the state deadline counts from there, up to the
        // queue allowance in all, since the slots are held by the run's other
        // scenarios, not by the target's slowness.
        let mut waiting_at = None;
        loop {
            let outcome = poll_until(deadline, POLL, async || {
                let seen = self.look_at(p, id, want).await;
                if matches!(seen, ControlFlow::Continue(TaskState::Waiting)) {
                    waiting_at = Some(Instant::now());
                }
                seen
            })
            .await;
            let last = match outcome {
                ControlFlow::Break(reached) => return reached,
                ControlFlow::Continue(last) => last,
            };
            let now = Instant::now();
            if let Some(later) = waiting_at.map(|at| (at + state).min(cap))
                && later > now
            {
                deadline = later;
                continue;
            }
            return Err(self.inconclusive(format!(
                "task {id} did not reach status {} within {} ms (last status {last})",
                either(want),
                now.duration_since(started).as_millis(),
            )));
        }
    }

    /// One look of [`Self::wait_state`]: done with the body, or halted, or the
    /// state it is in still.
    async fn look_at(
        &mut self,
        p: usize,
        id: i64,
        want: &[TaskState],
    ) -> ControlFlow<Result<Value, Halt>, TaskState> {
        let exchange = match self.fetch(p, id).await {
            Ok(exchange) => exchange,
            Err(halt) => return ControlFlow::Break(Err(halt)),
        };
        let json = exchange.response.as_ref().and_then(|r| r.json.clone());
        match self.state_of(&exchange) {
            Some(s) if want.contains(&s) => ControlFlow::Break(Ok(json.unwrap_or_default())),
            Some(s) if s.rests() && !want.iter().any(|w| check::status_consistent(s, *w)) => {
                ControlFlow::Break(Err(self.inconclusive(format!(
                    "task {id} reached status {s} instead of {}",
                    either(want)
                ))))
            }
            Some(s) => ControlFlow::Continue(s),
            None => ControlFlow::Break(Err(self.inconclusive(format!(
                "querying task {id} answered {} without a `status`",
                exchange.observed()
            )))),
        }
    }

    /// Three tasks created back to back while no other scenario of the run creates
    /// tasks in the project, so that their ids are neighbours where the target
    /// numbers tasks in sequence. The middle one becomes "the task".
    pub async fn given_consecutive(&mut self, kind: Kind) -> Result<(), Halt> {
        let p = self.home;
        let body = self.body_or_halt(kind)?;
        let mut ids = Vec::new();
        {
            let api = Arc::clone(&self.api);
            let _exclusive = api.exclusive(p).await;
            for _ in 0..3 {
                let exchange = self.keep(api.create_ungated(p, &body).await)?;
                ids.push(self.created(p, &exchange)?);
            }
        }
        let snapshots = self.reach_all(p, &ids, kind).await?;
        for (id, snapshot) in ids.into_iter().zip(snapshots) {
            self.adopt(p, id, snapshot);
        }
        self.make_subject(self.tasks.len() - 2);
        self.trio = true;
        Ok(())
    }

    /// Tasks `ids` of project `p`, created for `kind`, each waited for until it
    /// reaches its state. For [`Kind::Stopped`] each is stopped the moment it
    /// is seen running (never holding a slot while waiting for another's,
    /// which under a full quota would wait forever), and only then are the
    /// stops waited for, so that their pauses overlap. Returns their bodies.
    async fn reach_all(&mut self, p: usize, ids: &[i64], kind: Kind) -> Result<Vec<Value>, Halt> {
        let mut reached = Vec::new();
        for &id in ids {
            reached.push(self.wait_state(p, id, &[reached_by_itself(kind)]).await?);
            if kind == Kind::Stopped {
                self.stop_for_setup(p, id).await?;
            }
        }
        if matches!(kind, Kind::Succeeded | Kind::Failed) {
            // A task seen the moment it ended is polled until it has been in
            // that state for a while: the rules about deleting a finished task
            // judge a task at rest, not a race with its end (that is OMS-DEL-024's).
            let since = Instant::now();
            reached.clear();
            for &id in ids {
                reached.push(self.at_rest(p, id, reached_by_itself(kind), since).await?);
            }
        }
        if kind != Kind::Stopped {
            return Ok(reached);
        }
        for &id in ids {
            self.wait_state(p, id, &[TaskState::Stopped]).await?;
        }
        // At rest in stopped, as a finished task is above.
        let since = Instant::now();
        reached.clear();
        for &id in ids {
            reached.push(self.at_rest(p, id, TaskState::Stopped, since).await?);
        }
        Ok(reached)
    }

    /// Polls `GET` until the task has been in `state` for [`AT_REST`] since
    /// `since`; returns its body. Leaving the state makes the scenario
    /// inconclusive.
    async fn at_rest(
        &mut self,
        p: usize,
        id: i64,
        state: TaskState,
        since: Instant,
    ) -> Result<Value, Halt> {
        let deadline = since + AT_REST + self.ctx.config.deadlines.state;
        let outcome = poll_until(deadline, POLL, async || {
            match self.look_at(p, id, &[state]).await {
                ControlFlow::Break(Ok(body)) if since.elapsed() >= AT_REST => {
                    ControlFlow::Break(Ok(body))
                }
                ControlFlow::Break(Ok(_)) => ControlFlow::Continue(()),
                ControlFlow::Break(Err(halt)) => ControlFlow::Break(Err(halt)),
                ControlFlow::Continue(now) => ControlFlow::Break(Err(self.inconclusive(format!(
                    "task {id} left status {state} for {now} before it was at rest"
                )))),
            }
        })
        .await;
        match outcome {
            ControlFlow::Break(rested) => rested,
            ControlFlow::Continue(()) => Err(self.inconclusive(format!(
                "task {id} was not seen at rest in status {state} before the state deadline"
            ))),
        }
    }

    /// `n` stopped tasks in the home project, created together; the first
    /// becomes "the task".
    pub async fn given_stopped_tasks(&mut self, n: usize) -> Result<(), Halt> {
        let p = self.home;
        let body = self.body_or_halt(Kind::Running)?;
        let api = Arc::clone(&self.api);
        let creates = futures::future::join_all((0..n).map(|_| api.create(p, &body))).await;
        let mut ids = Vec::new();
        for exchange in creates {
            let exchange = self.keep(exchange)?;
            ids.push(self.created(p, &exchange)?);
        }
        let snapshots = self.reach_all(p, &ids, Kind::Stopped).await?;
        for (id, snapshot) in ids.into_iter().zip(snapshots) {
            let index = self.adopt(p, id, snapshot);
            if self.subject.is_none() {
                self.make_subject(index);
            }
        }
        Ok(())
    }

    /// A task created with the profile's ending body (its succeeding one
    /// where it names none), caught running: it will end by itself. A task
    /// seen only once it has ended (a brief one, a loaded machine polling
    /// late) is the subject too, and the end race, finding it ended, tries
    /// another.
    pub async fn given_running_to_success(&mut self) -> Result<(), Halt> {
        let p = self.home;
        let Some(body) = self.bodies().map(|b| b.ending.clone()) else {
            return Err(self.halt(Halt::Error(
                "the profile names no create body for a task that ends".to_owned(),
            )));
        };
        let id = self.create_from(p, &body).await?;
        let snapshot = self
            .wait_state(p, id, &[TaskState::Running, TaskState::Succeeded])
            .await?;
        let index = self.adopt(p, id, snapshot);
        self.make_subject(index);
        Ok(())
    }

    /// Stops task `id` of project `p` patiently as a precondition, within the
    /// state deadline: a task that cannot be stopped makes the scenario
    /// inconclusive.
    pub(super) async fn stop_for_setup(&mut self, p: usize, id: i64) -> Result<(), Halt> {
        let deadline = Instant::now() + self.ctx.config.deadlines.state;
        match stop_patiently(Arc::clone(&self.api), p, id, deadline).await {
            Ok(_) => Ok(()),
            Err(NotStopped::Unanswered(exchange)) => self.keep(exchange).map(drop),
            Err(NotStopped::Refused { why, .. }) => Err(self.inconclusive(why)),
        }
    }

    /// An id of the right shape that `GET` says no task has.
    pub async fn given_unused_id(&mut self) -> Result<(), Halt> {
        let p = self.home;
        for id in [
            999_999_999_999_999,
            987_654_321_987_654,
            900_000_000_000_001,
        ] {
            let get = self.fetch(p, id).await?;
            if get.is_client_error() {
                self.subject = Some(Subject::Id { project: p, id });
                return Ok(());
            }
        }
        Err(self.inconclusive("every candidate id for a task that does not exist answered a GET"))
    }

    /// Fills the home project's parallel-task quota with running tasks.
    pub async fn fill_quota(&mut self) -> Result<(), Halt> {
        let p = self.home;
        let body = self.body_or_halt(Kind::Running)?;
        let api = Arc::clone(&self.api);
        let quota = self.ctx.config.parallel_quota;
        let creates = futures::future::join_all((0..quota).map(|_| api.create(p, &body))).await;
        let mut ids = Vec::new();
        for exchange in creates {
            let exchange = self.keep(exchange)?;
            ids.push(self.created(p, &exchange)?);
        }
        for id in ids {
            let snapshot = self
                .wait_state(p, id, &[TaskState::Running])
                .await
                .map_err(|halt| match halt {
                    Halt::Inconclusive(reason) => self.inconclusive(format!(
                        "the parallel-task quota could not be filled: {reason}"
                    )),
                    other => other,
                })?;
            self.adopt(p, id, snapshot);
        }
        Ok(())
    }

    /// A task held waiting by the full quota becomes "the task".
    pub async fn given_waiting(&mut self) -> Result<(), Halt> {
        let p = self.home;
        let id = self.create(p, Kind::Running).await?;
        let snapshot = self
            .wait_state(p, id, &[TaskState::Waiting, TaskState::Running])
            .await?;
        if self.api.state(&snapshot) != Some(TaskState::Waiting) {
            return Err(self.inconclusive(format!(
                "task {id} started running although the quota of {} was full",
                self.ctx.config.parallel_quota
            )));
        }
        let index = self.adopt(p, id, snapshot);
        self.make_subject(index);
        Ok(())
    }

    /// A task seen initializing right after its creation becomes "the task".
    pub async fn given_initializing(&mut self) -> Result<(), Halt> {
        let p = self.home;
        self.catch_in_passing(
            TaskState::Initializing,
            5,
            "at its first query",
            async |w| w.create(p, Kind::Running).await,
        )
        .await
    }

    /// A task seen pausing (between its stop and "stopped") becomes "the task".
    pub async fn given_pausing(&mut self) -> Result<(), Halt> {
        let p = self.home;
        self.catch_in_passing(
            TaskState::Pausing,
            3,
            "at its first query after the stop",
            async |w| {
                let id = w.create(p, Kind::Running).await?;
                w.wait_state(p, id, &[TaskState::Running]).await?;
                w.stop_for_setup(p, id).await?;
                Ok(id)
            },
        )
        .await
    }

    /// A state a task passes through only briefly, caught: each attempt
    /// brings a new task in the home project to the moment it should be in
    /// `want` (`prepare` returns its id), and one `GET` looks. The first task
    /// seen in `want` becomes "the task". A busy machine may miss the window,
    /// so `attempts` tasks are tried before the precondition counts as not
    /// reached.
    async fn catch_in_passing(
        &mut self,
        want: TaskState,
        attempts: usize,
        when: &str,
        mut prepare: impl AsyncFnMut(&mut Self) -> Result<i64, Halt>,
    ) -> Result<(), Halt> {
        let p = self.home;
        let mut seen = Vec::new();
        for _attempt in 0..attempts {
            let id = prepare(self).await?;
            let get = self.fetch(p, id).await?;
            let state = self.state_of(&get);
            let snapshot = get
                .response
                .as_ref()
                .and_then(|r| r.json.clone())
                .unwrap_or_default();
            let index = self.adopt(p, id, snapshot);
            if state == Some(want) {
                self.make_subject(index);
                return Ok(());
            }
            seen.push(format!(
                "task {id}: {}",
                state.map_or_else(|| "no status".to_owned(), |s| s.to_string())
            ));
        }
        Err(self.inconclusive(format!(
            "no new task was still {want} {when} ({})",
            seen.join(", ")
        )))
    }

    /// A task of the profile's retrying body, seen retrying, becomes "the task".
    pub async fn given_retrying(&mut self) -> Result<(), Halt> {
        let p = self.home;
        let Some(body) = self.bodies().and_then(|b| b.retrying.clone()) else {
            return Err(self.halt(Halt::Error(
                "the profile names no create body for a retrying task".to_owned(),
            )));
        };
        let exchange = self.api.create(p, &body).await;
        let exchange = self.keep(exchange)?;
        let id = self.created(p, &exchange)?;
        let snapshot = self.wait_state(p, id, &[TaskState::Retrying]).await?;
        let index = self.adopt(p, id, snapshot);
        self.make_subject(index);
        Ok(())
    }

    /// [`Self::given_task`] through `dialect` instead of the scenario's own.
    pub async fn given_task_through(&mut self, kind: Kind, dialect: Dialect) -> Result<(), Halt> {
        self.through(dialect, async |w| w.given_task(kind).await)
            .await
    }

    /// Deletes "the task" with the path project's credentials as a precondition.
    pub async fn given_deleted(&mut self) -> Result<(), Halt> {
        let (p, id) = self.subject()?;
        let delete = self.api.delete(p, &id.to_string(), Delete::default()).await;
        let delete = self.keep(delete)?;
        if !delete.is_success() {
            return Err(self.inconclusive(format!(
                "the first delete of task {id} answered {}",
                delete.observed()
            )));
        }
        Ok(())
    }

    /// Waits until every scenario without `@whole-run` has finished.
    pub async fn wait_for_the_others(&mut self) -> Result<(), Halt> {
        let deadline = self.ctx.started + self.ctx.config.deadlines.run;
        let ctx = Arc::clone(&self.ctx);
        let finished = poll_until(deadline, POLL, async || {
            if ctx.others_finished() {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .await;
        match finished {
            ControlFlow::Break(()) => Ok(()),
            ControlFlow::Continue(()) => Err(self.halt(Halt::Error(
                "the other scenarios did not finish before the run deadline".to_owned(),
            ))),
        }
    }
}
