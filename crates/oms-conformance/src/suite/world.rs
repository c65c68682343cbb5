//! The World: a per-scenario facade over the API, holding the scenario's tasks,
//! the answers it received and why it stopped. Steps are thin adapters over its
//! methods; every judgement goes through `crate::check`. Preconditions are reached
//! through the public API only and polled with deadlines: a state not reached in
//! time halts the scenario as inconclusive, never as a pass.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::api::Delete;
use crate::check::{self, CheckFailure, Halt};
use crate::config::Answer;
use crate::http::{Auth, Exchange, Method, Signing};
use crate::secret::Secret;
use crate::suite::{CONTEXT, RunContext};

/// Between two polls of a task's state.
const POLL: Duration = Duration::from_millis(20);

/// The secret key of a "wrong key" signature (another one if it is the real SK).
const WRONG_SECRET: &str = "oms-conformance-wrong-secret-key";

/// What a "Given" asks a task to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Running,
    Stopped,
    Failed,
    Succeeded,
}

/// A task the scenario created, with the `GET` body taken once it reached its state.
#[derive(Debug, Clone)]
pub struct Task {
    pub project: usize,
    pub id: i64,
    pub snapshot: Value,
}

/// Which credentials a delete carries.
#[derive(Debug, Clone, Copy)]
pub enum Credentials {
    Project(usize),
    None,
    BadToken,
    /// A well-formed, current signature by an access key the target does not know.
    BadSignature,
    /// The project's own signature with one hex digit changed.
    TamperedSignature,
    /// Signed with the project's AK but a secret key that is not its SK.
    WrongSecret,
    /// Correctly signed, with an `X-Sdk-Date` this many seconds off the clock.
    SkewedDate(i64),
}

/// Which way a delete and a stop are raced.
#[derive(Debug, Clone, Copy)]
pub enum RaceOrder {
    DeleteFirst,
    StopFirst,
}

/// Unexpected input on a delete (OMS-DEL-015).
#[derive(Debug, Clone, Copy)]
pub enum Extra {
    Body,
    Query,
}

#[derive(cucumber::World)]
#[world(init = Self::new)]
pub struct OmsWorld {
    pub(crate) ctx: Arc<RunContext>,
    /// The project scenarios that name none use.
    home: usize,
    pub(crate) tasks: Vec<Task>,
    /// Every task the scenario created, to clean up after it whatever happened.
    pub(crate) created: Vec<(usize, i64)>,
    /// The task the steps call "the task": an index into `tasks`, or an id the
    /// scenario did not create (a well-formed id no task has).
    subject: Option<Subject>,
    /// Answers to the last "When".
    answers: Vec<Arc<Exchange>>,
    /// `GET`s of id neighbours the scenario did not create, taken before the delete.
    foreign: Vec<(usize, i64, Arc<Exchange>)>,
    /// The segments of the malformed-id probes, in the order of `answers`.
    probes: Vec<String>,
    /// The stop of a race, when there was one.
    race_stop: Option<Arc<Exchange>>,
    /// Whether the scenario created a trio of neighbouring tasks.
    trio: bool,
    /// Every DELETE exchange of this scenario (not its cleanup).
    pub(crate) exchanges: Vec<Arc<Exchange>>,
    pub(crate) halted: Option<Halt>,
    /// When the scenario started.
    pub(crate) started: Instant,
}

#[derive(Debug, Clone, Copy)]
enum Subject {
    Task(usize),
    Id { project: usize, id: i64 },
}

impl fmt::Debug for OmsWorld {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // No secrets here: only ids, statuses and the halt reason.
        f.debug_struct("OmsWorld")
            .field("home", &self.ctx.api.projects()[self.home].label)
            .field(
                "tasks",
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
        Self {
            ctx,
            home,
            tasks: Vec::new(),
            created: Vec::new(),
            subject: None,
            answers: Vec::new(),
            foreign: Vec::new(),
            probes: Vec::new(),
            race_stop: None,
            trio: false,
            exchanges: Vec::new(),
            halted: None,
            started: Instant::now(),
        }
    }

    // ----- halting -------------------------------------------------------------

    fn halt(&mut self, halt: Halt) -> Halt {
        self.halted = Some(halt.clone());
        halt
    }

    fn inconclusive(&mut self, reason: impl Into<String>) -> Halt {
        self.halt(Halt::Inconclusive(reason.into()))
    }

    /// Turns a check's result into the step's result, recording a failure.
    fn judge(&mut self, result: Result<(), CheckFailure>) -> Result<(), Halt> {
        result.map_err(|failure| self.halt(Halt::Failed(failure)))
    }

    /// Keeps one exchange; a transport failure halts as an error.
    fn keep(&mut self, exchange: Arc<Exchange>) -> Result<Arc<Exchange>, Halt> {
        if exchange.method == Method::Delete {
            self.exchanges.push(Arc::clone(&exchange));
        }
        if exchange.response.is_some() {
            return Ok(exchange);
        }
        let error = exchange.error.clone().unwrap_or_default();
        let reason = if self.ctx.api.target_gone() {
            format!(
                "the target stopped answering ({} {}: {error})",
                exchange.method.as_str(),
                exchange.url
            )
        } else {
            format!("{} {}: {error}", exchange.method.as_str(), exchange.url)
        };
        Err(self.halt(Halt::Error(reason)))
    }

    fn strict(&self) -> bool {
        self.ctx.config.strict
    }

    fn declared<'a>(&self, answers: &'a [Answer]) -> Option<&'a [Answer]> {
        self.strict().then_some(answers)
    }

    fn project(&self, label_index: usize) -> usize {
        label_index.min(self.ctx.api.projects().len() - 1)
    }

    // ----- tasks ----------------------------------------------------------------

    /// Creates a task of `kind` in `project` (the home project when `None`) and
    /// waits until it is there; the first task created becomes "the task".
    pub async fn given_task(&mut self, kind: Kind, project: Option<usize>) -> Result<(), Halt> {
        let p = project.map_or(self.home, |p| self.project(p));
        let id = self.create(p, kind).await?;
        let snapshot = self.reach(p, id, kind).await?;
        self.adopt(p, id, snapshot);
        Ok(())
    }

    /// Waits until a task created for `kind` is in that state, stopping it first
    /// for [`Kind::Stopped`]; returns its body.
    async fn reach(&mut self, p: usize, id: i64, kind: Kind) -> Result<Value, Halt> {
        let want: &[i64] = match kind {
            Kind::Running | Kind::Stopped => &[2],
            Kind::Failed => &[4],
            Kind::Succeeded => &[5],
        };
        let snapshot = self.wait_status(p, id, want).await?;
        if kind != Kind::Stopped {
            return Ok(snapshot);
        }
        let stop = self.keep(self.ctx.api.stop(p, id).await)?;
        if !stop.status().is_some_and(|s| (200..300).contains(&s)) {
            return Err(
                self.inconclusive(format!("stopping task {id} answered {}", stop.observed()))
            );
        }
        self.wait_status(p, id, &[3]).await
    }

    fn adopt(&mut self, project: usize, id: i64, snapshot: Value) {
        self.tasks.push(Task {
            project,
            id,
            snapshot,
        });
        if self.subject.is_none() {
            self.subject = Some(Subject::Task(self.tasks.len() - 1));
        }
    }

    fn body(&self, kind: Kind) -> Option<Value> {
        let bodies = &self.ctx.config.bodies;
        match kind {
            Kind::Running | Kind::Stopped => Some(bodies.running.clone()),
            Kind::Succeeded => Some(bodies.succeeding.clone()),
            Kind::Failed => bodies.failing.clone(),
        }
    }

    /// Creates a task and enters it in the ledger; returns its id.
    async fn create(&mut self, p: usize, kind: Kind) -> Result<i64, Halt> {
        let Some(body) = self.body(kind) else {
            return Err(self.halt(Halt::Error(
                "the profile names no create body for a failing task".to_owned(),
            )));
        };
        let exchange = self.keep(self.ctx.api.create(p, &body).await)?;
        self.created(p, &exchange)
    }

    fn created(&mut self, p: usize, exchange: &Arc<Exchange>) -> Result<i64, Halt> {
        let id = exchange
            .response
            .as_ref()
            .filter(|r| (200..300).contains(&r.status))
            .and_then(|r| r.json.as_ref()?.get("id")?.as_i64());
        match id {
            Some(id) => {
                self.ctx.enter_in_ledger(p, id);
                self.created.push((p, id));
                Ok(id)
            }
            None => Err(self.inconclusive(format!(
                "creating a task answered {} without an integer `id`\n{}",
                exchange.observed(),
                exchange.render()
            ))),
        }
    }

    /// Polls `GET` until the task's status is one of `want`; returns its body.
    async fn wait_status(&mut self, p: usize, id: i64, want: &[i64]) -> Result<Value, Halt> {
        let deadline = Instant::now() + self.ctx.config.deadlines.state;
        loop {
            let exchange = self.ctx.api.get(p, id).await;
            let exchange = self.keep(exchange)?;
            let json = exchange.response.as_ref().and_then(|r| r.json.clone());
            let status = json.as_ref().and_then(|j| j.get("status")?.as_i64());
            match status {
                Some(s) if want.contains(&s) => return Ok(json.unwrap_or_default()),
                Some(s)
                    if matches!(s, 3..=5)
                        && !want.iter().any(|w| check::status_consistent(s, *w)) =>
                {
                    return Err(self.inconclusive(format!(
                        "task {id} reached status {s} instead of {want:?}"
                    )));
                }
                Some(_) => {}
                None => {
                    return Err(self.inconclusive(format!(
                        "querying task {id} answered {} without a `status`",
                        exchange.observed()
                    )));
                }
            }
            if Instant::now() >= deadline {
                return Err(self.inconclusive(format!(
                    "task {id} did not reach status {want:?} within {} ms (last status {})",
                    self.ctx.config.deadlines.state.as_millis(),
                    status.map_or_else(|| "unknown".to_owned(), |s| s.to_string())
                )));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    fn subject(&mut self) -> Result<(usize, i64), Halt> {
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
        self.subject = Some(Subject::Task(index));
        Ok(())
    }

    /// Three tasks created back to back while no other scenario of the run creates
    /// tasks in the project, so that their ids are neighbours where the target
    /// numbers tasks in sequence. The middle one becomes "the task".
    pub async fn given_consecutive(&mut self, kind: Kind) -> Result<(), Halt> {
        let p = self.home;
        let Some(body) = self.body(kind) else {
            return Err(self.halt(Halt::Error(
                "the profile names no create body for a failing task".to_owned(),
            )));
        };
        let mut ids = Vec::new();
        {
            let api = Arc::clone(&self.ctx.api);
            let _exclusive = api.exclusive(p).await;
            for _ in 0..3 {
                let exchange = self.keep(api.create_ungated(p, &body).await)?;
                ids.push(self.created(p, &exchange)?);
            }
        }
        for id in ids {
            let snapshot = self.reach(p, id, kind).await?;
            self.tasks.push(Task {
                project: p,
                id,
                snapshot,
            });
        }
        self.subject = Some(Subject::Task(self.tasks.len() - 2));
        self.trio = true;
        Ok(())
    }

    /// An id of the right shape that `GET` says no task has.
    pub async fn given_unused_id(&mut self) -> Result<(), Halt> {
        let p = self.home;
        for id in [
            999_999_999_999_999,
            987_654_321_987_654,
            900_000_000_000_001,
        ] {
            let get = self.keep(self.ctx.api.get(p, id).await)?;
            if get.status().is_some_and(|s| (400..500).contains(&s)) {
                self.subject = Some(Subject::Id { project: p, id });
                return Ok(());
            }
        }
        Err(self.inconclusive("every candidate id for a task that does not exist answered a GET"))
    }

    /// Fills the home project's parallel-task quota with running tasks.
    pub async fn fill_quota(&mut self) -> Result<(), Halt> {
        let p = self.home;
        let body = self.ctx.config.bodies.running.clone();
        let api = Arc::clone(&self.ctx.api);
        let quota = self.ctx.config.parallel_quota;
        let creates = futures::future::join_all((0..quota).map(|_| api.create(p, &body))).await;
        let mut ids = Vec::new();
        for exchange in creates {
            let exchange = self.keep(exchange)?;
            ids.push(self.created(p, &exchange)?);
        }
        for id in ids {
            let snapshot = self
                .wait_status(p, id, &[2])
                .await
                .map_err(|halt| match halt {
                    Halt::Inconclusive(reason) => self.inconclusive(format!(
                        "the parallel-task quota could not be filled: {reason}"
                    )),
                    other => other,
                })?;
            self.tasks.push(Task {
                project: p,
                id,
                snapshot,
            });
        }
        Ok(())
    }

    /// A task held in status 1 by the full quota becomes "the task".
    pub async fn given_waiting(&mut self) -> Result<(), Halt> {
        let p = self.home;
        let id = self.create(p, Kind::Running).await?;
        let snapshot = self.wait_status(p, id, &[1, 2]).await?;
        if snapshot.get("status").and_then(Value::as_i64) != Some(1) {
            return Err(self.inconclusive(format!(
                "task {id} started running although the quota of {} was full",
                self.ctx.config.parallel_quota
            )));
        }
        self.tasks.push(Task {
            project: p,
            id,
            snapshot,
        });
        self.subject = Some(Subject::Task(self.tasks.len() - 1));
        Ok(())
    }

    /// A task seen in status 0 right after its creation becomes "the task".
    pub async fn given_initializing(&mut self) -> Result<(), Halt> {
        let p = self.home;
        let mut seen = Vec::new();
        // A task initializes only briefly: a busy machine may miss the window, so
        // a few tasks are tried before the precondition counts as not reached.
        for _attempt in 0..5 {
            let id = self.create(p, Kind::Running).await?;
            let get = self.keep(self.ctx.api.get(p, id).await)?;
            let snapshot = get
                .response
                .as_ref()
                .and_then(|r| r.json.clone())
                .unwrap_or_default();
            let status = snapshot.get("status").and_then(Value::as_i64);
            self.tasks.push(Task {
                project: p,
                id,
                snapshot,
            });
            if status == Some(0) {
                self.subject = Some(Subject::Task(self.tasks.len() - 1));
                return Ok(());
            }
            seen.push(format!("task {id}: {status:?}"));
        }
        Err(self.inconclusive(format!(
            "no new task was still initializing (status 0) at its first query ({})",
            seen.join(", ")
        )))
    }

    /// Deletes "the task" with the path project's credentials as a precondition.
    pub async fn given_deleted(&mut self) -> Result<(), Halt> {
        let (p, id) = self.subject()?;
        let delete = self.keep(
            self.ctx
                .api
                .delete(p, &id.to_string(), Delete::default())
                .await,
        )?;
        if !delete.status().is_some_and(|s| (200..300).contains(&s)) {
            return Err(self.inconclusive(format!(
                "the first delete of task {id} answered {}",
                delete.observed()
            )));
        }
        Ok(())
    }

    // ----- actions ----------------------------------------------------------------

    /// Deletes "the task" through `path_project`'s path (its own when `None`).
    pub async fn delete(
        &mut self,
        path_project: Option<usize>,
        credentials: Option<Credentials>,
    ) -> Result<(), Halt> {
        let (own, id) = self.subject()?;
        let p = path_project.map_or(own, |p| self.project(p));
        if credentials.is_none() && p == own {
            self.remember_neighbours(own, id).await?;
        }
        if p != own {
            // The same id may name a task of the other project, which the run
            // did not create: then it must not send the delete.
            let get = self.keep(self.ctx.api.get(p, id).await)?;
            if get.status() == Some(200) {
                return Err(self.inconclusive(format!(
                    "the {} project has a task {id} of its own: the delete would touch a task the run did not create",
                    self.ctx.api.projects()[p].label
                )));
            }
        }
        let auth = match credentials {
            None => None,
            Some(credentials) => Some(self.credentials(p, credentials)?),
        };
        let options = Delete {
            auth,
            ..Delete::default()
        };
        let answer = self.keep(self.ctx.api.delete(p, &id.to_string(), options).await)?;
        self.answers = vec![answer];
        Ok(())
    }

    /// The `Auth` of `credentials` for a delete through project `p`'s path.
    fn credentials(&mut self, p: usize, credentials: Credentials) -> Result<Auth, Halt> {
        let flawed = |flaw: &dyn Fn(&mut Signing)| match self.ctx.api.auth(p) {
            Auth::Signed(mut signing) => {
                flaw(&mut signing);
                Some(Auth::Signed(signing))
            }
            _ => None,
        };
        let auth = match credentials {
            Credentials::Project(q) => Some(self.ctx.api.auth(self.project(q))),
            Credentials::None => Some(Auth::None),
            Credentials::BadToken => Some(Auth::Headers(vec![(
                "X-Auth-Token".to_owned(),
                "oms-conformance-invalid-token".to_owned(),
            )])),
            // Everything right but the key, so that a target which checks the
            // date or the signed headers first still has only one reason to refuse.
            Credentials::BadSignature => Some(Auth::Signed(Signing {
                ak: Secret::new("OMSCONFORMANCEUNKNOWNAK"),
                sk: Secret::new("oms-conformance-unknown-secret-key"),
                security_token: None,
                project_id: self.ctx.api.projects()[p].id.clone(),
                whose: "an access key the target does not know".to_owned(),
                clock_offset: 0,
                tamper: false,
            })),
            Credentials::TamperedSignature => flawed(&|s| s.tamper = true),
            Credentials::WrongSecret => flawed(&|s| {
                let wrong = if s.sk.expose() == WRONG_SECRET {
                    format!("{WRONG_SECRET}-2")
                } else {
                    WRONG_SECRET.to_owned()
                };
                s.sk = Secret::new(wrong);
                s.whose = s.whose.replace("AK/SK", "AK and a wrong SK");
            }),
            Credentials::SkewedDate(seconds) => flawed(&|s| s.clock_offset = seconds),
        };
        auth.ok_or_else(|| {
            self.halt(Halt::Error(format!(
                "the {} project authenticates with a token: there is no signature to get wrong",
                self.ctx.api.projects()[p].label
            )))
        })
    }

    /// Before deleting a task of a trio, `GET` its id neighbours that the scenario
    /// did not create, so that they can be compared afterwards (never deleted).
    async fn remember_neighbours(&mut self, p: usize, id: i64) -> Result<(), Halt> {
        if !self.trio {
            return Ok(());
        }
        for neighbour in [id - 1, id + 1] {
            if neighbour > 0
                && !self
                    .tasks
                    .iter()
                    .any(|t| t.project == p && t.id == neighbour)
            {
                let get = self.keep(self.ctx.api.get(p, neighbour).await)?;
                self.foreign.push((p, neighbour, get));
            }
        }
        Ok(())
    }

    pub async fn delete_with(&mut self, extra: Extra) -> Result<(), Halt> {
        let (p, id) = self.subject()?;
        let options = match extra {
            Extra::Body => Delete {
                body: Some(serde_json::json!({"force": true, "operation": "delete"})),
                ..Delete::default()
            },
            Extra::Query => Delete {
                query: "?force=true&cascade=1".to_owned(),
                ..Delete::default()
            },
        };
        let answer = self.keep(self.ctx.api.delete(p, &id.to_string(), options).await)?;
        self.answers = vec![answer];
        Ok(())
    }

    pub async fn delete_simultaneously(&mut self, k: usize) -> Result<(), Halt> {
        let (p, id) = self.subject()?;
        let segment = id.to_string();
        let api = Arc::clone(&self.ctx.api);
        let answers =
            futures::future::join_all((0..k).map(|_| api.delete(p, &segment, Delete::default())))
                .await;
        self.answers.clear();
        for answer in answers {
            let answer = self.keep(answer)?;
            self.answers.push(answer);
        }
        Ok(())
    }

    /// Races a delete and a stop of the running task. Delete first: both are in
    /// flight at once, and whichever the target serves first wins. Stop first: the
    /// delete leaves the moment the stop is answered. Sending both at once left the
    /// order to the scheduler, so a target that mishandles a delete right after an
    /// acknowledged stop (the window in which an engine that stops asynchronously
    /// is still stopping) was caught only when the stop happened to arrive first.
    pub async fn race(&mut self, order: RaceOrder) -> Result<(), Halt> {
        let (p, id) = self.subject()?;
        let segment = id.to_string();
        let api = Arc::clone(&self.ctx.api);
        let (delete, stop) = match order {
            RaceOrder::DeleteFirst => {
                tokio::join!(api.delete(p, &segment, Delete::default()), api.stop(p, id))
            }
            RaceOrder::StopFirst => {
                let stop = api.stop(p, id).await;
                let delete = api.delete(p, &segment, Delete::default()).await;
                (delete, stop)
            }
        };
        let delete = self.keep(delete)?;
        let stop = self.keep(stop)?;
        self.answers = vec![delete];
        self.race_stop = Some(stop);
        Ok(())
    }

    /// Deletes each malformed id (the catalogue's, or the generated set), raw.
    pub async fn delete_malformed(&mut self, generated: bool) -> Result<(), Halt> {
        let (p, id) = self.subject()?;
        let segments: Vec<String> = if generated {
            self.ctx.generated.clone()
        } else {
            self.ctx
                .catalogue
                .malformed_ids
                .iter()
                .map(|m| m.segment.replace("{id}", &id.to_string()))
                .collect()
        };
        let api = Arc::clone(&self.ctx.api);
        let probes = segments.iter().map(|s| {
            api.delete(
                p,
                s,
                Delete {
                    raw: true,
                    ..Delete::default()
                },
            )
        });
        let answers = futures::future::join_all(probes).await;
        self.probes = segments.clone();
        self.answers.clear();
        for answer in answers {
            let answer = self.keep(answer)?;
            self.answers.push(answer);
        }
        Ok(())
    }

    pub async fn stop(&mut self) -> Result<(), Halt> {
        let (p, id) = self.subject()?;
        let stop = self.keep(self.ctx.api.stop(p, id).await)?;
        let holds = stop.status().is_some_and(|s| (200..300).contains(&s));
        self.judge(check::check(
            holds,
            || "stopping a running task: a 2xx".to_owned(),
            &[&stop],
        ))
    }

    pub async fn becomes_stopped(&mut self) -> Result<(), Halt> {
        let (p, id) = self.subject()?;
        let deadline = Instant::now() + self.ctx.config.deadlines.state;
        loop {
            let get = self.keep(self.ctx.api.get(p, id).await)?;
            let status = get
                .response
                .as_ref()
                .and_then(|r| r.json.as_ref()?.get("status")?.as_i64());
            if status == Some(3) {
                return Ok(());
            }
            if Instant::now() >= deadline || status.is_none_or(|s| s != 2) {
                let expectation = format!(
                    "a stopped task reaches status 3 within {} ms",
                    self.ctx.config.deadlines.state.as_millis()
                );
                return self.judge(check::check(false, || expectation, &[&get]));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until every scenario without `@whole-run` has finished.
    pub async fn wait_for_the_others(&mut self) -> Result<(), Halt> {
        let deadline = self.ctx.started + self.ctx.config.deadlines.run;
        while !self.ctx.others_finished() {
            if Instant::now() >= deadline {
                return Err(self.halt(Halt::Error(
                    "the other scenarios did not finish before the run deadline".to_owned(),
                )));
            }
            tokio::time::sleep(POLL).await;
        }
        Ok(())
    }

    // ----- outcomes ---------------------------------------------------------------

    fn answer(&mut self) -> Result<Arc<Exchange>, Halt> {
        match self.answers.first() {
            Some(answer) => Ok(Arc::clone(answer)),
            None => Err(self.halt(Halt::Error("no request was sent".to_owned()))),
        }
    }

    pub fn delete_succeeded(&mut self) -> Result<(), Halt> {
        let answer = self.answer()?;
        let declared = self
            .strict()
            .then_some(self.ctx.config.declared.delete_status);
        self.judge(check::succeeded_without_body(&answer, declared))
    }

    pub fn delete_refused(&mut self, refusal: Refusal) -> Result<(), Halt> {
        let answer = self.answer()?;
        let declared = &self.ctx.config.declared;
        let result = match refusal {
            Refusal::Any => check::refused(&answer, "a refused delete", None),
            Refusal::Running => check::refused(
                &answer,
                "deleting a running task",
                self.declared(&declared.running),
            ),
            Refusal::Missing => check::refused(
                &answer,
                "deleting a task that does not exist",
                self.declared(&declared.missing),
            ),
            Refusal::CrossProject => check::refused(
                &answer,
                "deleting through another project's path",
                self.declared(&declared.cross_project),
            ),
            Refusal::Unauthenticated => {
                check::unauthenticated(&answer, self.declared(&declared.unauthenticated))
            }
            Refusal::SkewedDate => {
                check::unauthenticated(&answer, self.declared(&declared.skewed_date))
            }
        };
        self.judge(result)
    }

    pub fn every_malformed_refused(&mut self) -> Result<(), Halt> {
        let declared = &self.ctx.config.declared;
        let malformed = self.declared(&declared.malformed).map(<[Answer]>::to_vec);
        let empty = self
            .declared(&declared.empty_segment)
            .map(<[Answer]>::to_vec);
        let answers = self.answers.clone();
        for (answer, segment) in answers.iter().zip(self.probes.clone()) {
            let declared = if segment.is_empty() {
                empty.as_deref()
            } else {
                malformed.as_deref()
            };
            self.judge(check::refused(
                answer,
                "deleting a malformed task id",
                declared,
            ))?;
        }
        Ok(())
    }

    pub fn exactly_one_succeeded(&mut self) -> Result<(), Halt> {
        let answers = self.answers.clone();
        let successes: Vec<&Arc<Exchange>> = answers
            .iter()
            .filter(|a| a.status().is_some_and(|s| (200..300).contains(&s)))
            .collect();
        self.judge(check::check(
            successes.len() == 1,
            || {
                format!(
                    "exactly one 2xx among {} simultaneous deletes, got {}",
                    answers.len(),
                    successes.len()
                )
            },
            &answers.iter().collect::<Vec<_>>(),
        ))?;
        for answer in answers
            .iter()
            .filter(|a| !a.status().is_some_and(|s| (200..300).contains(&s)))
        {
            self.judge(check::refused(answer, "a losing simultaneous delete", None))?;
        }
        Ok(())
    }

    pub async fn race_consistent(&mut self) -> Result<(), Halt> {
        let delete = self.answer()?;
        let stop = self.race_stop.clone();
        let both: Vec<&Arc<Exchange>> = std::iter::once(&delete).chain(stop.as_ref()).collect();
        self.judge(check::no_server_error(
            both.iter().copied(),
            "a delete racing a stop",
        ))?;
        let (p, id) = self.subject()?;
        match delete.status() {
            Some(s) if (200..300).contains(&s) => self.task_gone(p, id).await,
            _ => {
                self.judge(check::refused(&delete, "a delete that lost the race", None))?;
                let get = self.keep(self.ctx.api.get(p, id).await)?;
                let exists = get.status() == Some(200);
                self.judge(check::check(
                    exists,
                    || "after a refused delete the task still exists (GET 200)".to_owned(),
                    &[&delete, &get],
                ))
            }
        }
    }

    pub async fn unexpected_input_handled(&mut self) -> Result<(), Halt> {
        let answer = self.answer()?;
        let (p, id) = self.subject()?;
        self.judge(check::no_server_error(
            [&answer],
            "a delete with unexpected input",
        ))?;
        let status = answer.status().unwrap_or(0);
        if self.strict() {
            let ignored = self.ctx.config.declared.unexpected_input_ignored;
            let want = if ignored {
                "handled as without it (2xx)"
            } else {
                "refused (4xx)"
            };
            let holds = if ignored {
                (200..300).contains(&status)
            } else {
                (400..500).contains(&status)
            };
            self.judge(check::check(
                holds,
                || format!("the declared behaviour: {want}"),
                &[&answer],
            ))?;
        }
        if (200..300).contains(&status) {
            self.judge(check::succeeded_without_body(&answer, None))?;
            self.task_gone(p, id).await
        } else {
            self.judge(check::refused(
                &answer,
                "a delete refused for its unexpected input",
                None,
            ))?;
            let get = self.keep(self.ctx.api.get(p, id).await)?;
            self.judge(check::check(
                get.status() == Some(200),
                || "after a refused delete the task still exists (GET 200)".to_owned(),
                &[&answer, &get],
            ))
        }
    }

    pub fn answer_has_request_id(&mut self) -> Result<(), Halt> {
        let answer = self.answer()?;
        self.judge(check::has_request_id(&answer))
    }

    pub fn answer_is_json_error(&mut self) -> Result<(), Halt> {
        let answer = self.answer()?;
        self.judge(check::json_error(&answer))?;
        self.judge(check::has_request_id(&answer))
    }

    fn run_deletes(&self) -> Vec<Arc<Exchange>> {
        self.ctx
            .api
            .deletes()
            .into_iter()
            .filter(|e| e.response.is_some())
            .collect()
    }

    pub fn run_has_request_ids(&mut self) -> Result<(), Halt> {
        let deletes = self.run_deletes();
        let missing: Vec<&Arc<Exchange>> = deletes
            .iter()
            .filter(|e| check::has_request_id(e).is_err())
            .collect();
        self.judge(check::check(
            missing.is_empty(),
            || {
                format!(
                    "every delete answer of the run carries X-Request-Id ({} of {} do not)",
                    missing.len(),
                    deletes.len()
                )
            },
            &missing.iter().take(5).copied().collect::<Vec<_>>(),
        ))
    }

    pub fn run_errors_are_json(&mut self) -> Result<(), Halt> {
        let deletes = self.run_deletes();
        let bad: Vec<&Arc<Exchange>> = deletes
            .iter()
            .filter(|e| e.status().is_some_and(|s| s >= 400) && check::json_error(e).is_err())
            .collect();
        self.judge(check::check(
            bad.is_empty(),
            || {
                format!(
                    "every delete error answer of the run is a JSON error body ({} are not)",
                    bad.len()
                )
            },
            &bad.iter().take(5).copied().collect::<Vec<_>>(),
        ))
    }

    pub fn run_has_no_server_error(&mut self) -> Result<(), Halt> {
        let deletes = self.run_deletes();
        self.judge(check::no_server_error(
            &deletes,
            "every delete answer of the run",
        ))
    }

    // ----- the state of tasks -------------------------------------------------------

    pub async fn subject_gone(&mut self) -> Result<(), Halt> {
        let (p, id) = self.subject()?;
        self.task_gone(p, id).await
    }

    /// *Gone*: `GET` answers a 4xx with an error body, and the task is neither listed
    /// nor counted.
    async fn task_gone(&mut self, p: usize, id: i64) -> Result<(), Halt> {
        let get = self.keep(self.ctx.api.get(p, id).await)?;
        self.judge(check::refused(&get, "querying a deleted task", None))?;
        for _attempt in 0..3 {
            let api = Arc::clone(&self.ctx.api);
            let exclusive = api.exclusive(p).await;
            let before = self.keep(api.count(p).await)?;
            let (listed, pages) = self.list_all(p).await?;
            let after = self.keep(api.count(p).await)?;
            drop(exclusive);
            let (Some(c1), Some(c2)) = (taskcount(&before), taskcount(&after)) else {
                return Err(self.inconclusive(format!(
                    "the count answered {} without `taskcount`",
                    before.observed()
                )));
            };
            if c1 != c2 {
                continue;
            }
            let page_with = pages
                .iter()
                .find(|page| ids_of(page).is_some_and(|ids| ids.contains(&id)))
                .cloned();
            self.judge(check::check(
                page_with.is_none(),
                || format!("a deleted task ({id}) is absent from the list"),
                &page_with.iter().collect::<Vec<_>>(),
            ))?;
            let mut evidence = vec![&before];
            evidence.extend(pages.iter());
            self.judge(check::check(
                usize::try_from(c1).ok() == Some(listed.len()),
                || format!("the count ({c1}) agrees with the list ({} tasks) once task {id} is deleted", listed.len()),
                &evidence,
            ))?;
            return Ok(());
        }
        Err(self.inconclusive("the project's task count kept changing while it was read"))
    }

    /// Every task id of the project, page by page.
    async fn list_all(&mut self, p: usize) -> Result<(Vec<i64>, Vec<Arc<Exchange>>), Halt> {
        let mut listed = Vec::new();
        let mut pages = Vec::new();
        for _ in 0..100 {
            let page = self.keep(self.ctx.api.list_page(p, listed.len()).await)?;
            let Some(ids) = ids_of(&page) else {
                return Err(self.inconclusive(format!(
                    "the list answered {} without a JSON array of tasks",
                    page.observed()
                )));
            };
            let full = ids.len() >= 100;
            listed.extend(ids);
            pages.push(page);
            if !full {
                return Ok((listed, pages));
            }
        }
        Err(self.inconclusive("the list has more than 100 pages"))
    }

    pub async fn subject_intact(&mut self) -> Result<(), Halt> {
        let index = match self.subject {
            Some(Subject::Task(i)) => i,
            _ => {
                return Err(self.halt(Halt::Error(
                    "the scenario has no task of its own".to_owned(),
                )));
            }
        };
        self.task_intact(index).await
    }

    async fn task_intact(&mut self, index: usize) -> Result<(), Halt> {
        let task = self.tasks[index].clone();
        let get = self.keep(self.ctx.api.get(task.project, task.id).await)?;
        let problem = get
            .response
            .as_ref()
            .and_then(|r| check::intact_problem(&task.snapshot, r));
        let mut evidence: Vec<&Arc<Exchange>> = self.answers.iter().take(3).collect();
        evidence.push(&get);
        let evidence: Vec<Arc<Exchange>> = evidence.into_iter().cloned().collect();
        self.judge(check::check(
            problem.is_none(),
            || {
                format!(
                    "task {} stays intact: {}",
                    task.id,
                    problem.unwrap_or_default()
                )
            },
            &evidence.iter().collect::<Vec<_>>(),
        ))
    }

    pub async fn others_intact(&mut self) -> Result<(), Halt> {
        let subject = match self.subject {
            Some(Subject::Task(i)) => Some(i),
            _ => None,
        };
        for index in 0..self.tasks.len() {
            if Some(index) != subject {
                self.task_intact(index).await?;
            }
        }
        for (p, id, before) in self.foreign.clone() {
            if before.status() != Some(200) {
                continue;
            }
            let Some(snapshot) = before.response.as_ref().and_then(|r| r.json.clone()) else {
                continue;
            };
            let get = self.keep(self.ctx.api.get(p, id).await)?;
            let problem = get
                .response
                .as_ref()
                .and_then(|r| check::intact_problem(&snapshot, r));
            self.judge(check::check(
                problem.is_none(),
                || {
                    format!(
                        "the id neighbour {id} stays intact: {}",
                        problem.unwrap_or_default()
                    )
                },
                &[&before, &get],
            ))?;
        }
        Ok(())
    }

    pub async fn subject_listed(&mut self) -> Result<(), Halt> {
        let (p, id) = self.subject()?;
        let (listed, pages) = self.list_all(p).await?;
        self.judge(check::check(
            listed.contains(&id),
            || format!("task {id} is still listed"),
            &pages.iter().collect::<Vec<_>>(),
        ))
    }

    pub async fn progress_moves(&mut self) -> Result<(), Halt> {
        let (p, id) = self.subject()?;
        let first = self.keep(self.ctx.api.get(p, id).await)?;
        let start = progress(&first);
        let deadline = Instant::now() + self.ctx.config.deadlines.state;
        loop {
            tokio::time::sleep(POLL).await;
            let get = self.keep(self.ctx.api.get(p, id).await)?;
            let now = progress(&get);
            if now.iter().zip(&start).any(|(n, s)| n > s) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                let expectation = format!(
                    "the running task's progress (progress, complete_size, success_num) moves within {} ms",
                    self.ctx.config.deadlines.state.as_millis()
                );
                return self.judge(check::check(false, || expectation, &[&first, &get]));
            }
        }
    }
}

/// How a delete is expected to be refused.
#[derive(Debug, Clone, Copy)]
pub enum Refusal {
    Any,
    Running,
    Missing,
    CrossProject,
    Unauthenticated,
    /// Unauthenticated for its `X-Sdk-Date` (strict: `declared.skewed_date`).
    SkewedDate,
}

fn taskcount(exchange: &Exchange) -> Option<i64> {
    exchange
        .response
        .as_ref()?
        .json
        .as_ref()?
        .get("taskcount")?
        .as_i64()
}

fn ids_of(exchange: &Exchange) -> Option<Vec<i64>> {
    let array = exchange
        .response
        .as_ref()
        .filter(|r| r.status == 200)?
        .json
        .as_ref()?
        .as_array()?;
    Some(array.iter().filter_map(|t| t.get("id")?.as_i64()).collect())
}

fn progress(exchange: &Exchange) -> Vec<f64> {
    let json = exchange
        .response
        .as_ref()
        .and_then(|r| r.json.clone())
        .unwrap_or_default();
    ["progress", "complete_size", "success_num"]
        .iter()
        .map(|f| json.get(*f).and_then(Value::as_f64).unwrap_or(0.0))
        .collect()
}
