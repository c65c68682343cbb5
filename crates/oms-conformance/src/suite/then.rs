//! The judgements ("Then"): of the answers to the last "When", of the state of
//! tasks afterwards (gone, intact, listed, progressing, stopped), and of every
//! DELETE answer of the run; those of a busy task's delete are in `busy.rs`. Each goes through a `crate::check` helper, on the
//! raw JSON and headers received; what a dialect says (a state, a census) is
//! decoded by the API.

use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::Instant;

use crate::api::{Dialect, TaskState};
use crate::check::{self, Halt, StatusClass as _};
use crate::config::Answer;
use crate::http::Exchange;
use crate::suite::poll::{POLL, poll_until};
use crate::suite::vocabulary::Refusal;
use crate::suite::world::{OmsWorld, Subject};

impl OmsWorld {
    pub(super) fn answer(&mut self) -> Result<Arc<Exchange>, Halt> {
        match self.answers.first() {
            Some(answer) => Ok(Arc::clone(answer)),
            None => Err(self.halt(Halt::Error("no request was sent".to_owned()))),
        }
    }

    // ----- the answers ------------------------------------------------------------

    pub fn delete_succeeded(&mut self) -> Result<(), Halt> {
        let answer = self.answer()?;
        let declared = self.strict().then_some(self.declarations().delete_status);
        self.judge(check::succeeded_without_body(&answer, declared))
    }

    pub fn delete_refused(&mut self, refusal: Refusal) -> Result<(), Halt> {
        let answer = self.answer()?;
        let declared = self.declarations();
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
        let declared = self.declarations();
        let malformed = self.declared(&declared.malformed).map(<[Answer]>::to_vec);
        let empty = self
            .declared(&declared.empty_segment)
            .map(<[Answer]>::to_vec);
        let answers = self.answers.clone();
        for (answer, segment) in answers.iter().zip(self.probes.clone()) {
            let route = segment.is_empty()
                || self
                    .ctx
                    .catalogue
                    .malformed_ids
                    .iter()
                    .any(|m| m.route && m.segment == segment);
            let declared = if route {
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
        let (successes, losers): (Vec<&Arc<Exchange>>, Vec<&Arc<Exchange>>) =
            answers.iter().partition(|a| a.is_success());
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
        for answer in losers {
            self.judge(check::refused(answer, "a losing simultaneous delete", None))?;
        }
        Ok(())
    }

    /// "The task" stays gone over the settle period (OMS-DEL-013).
    pub async fn subject_stays_gone(&mut self) -> Result<(), Halt> {
        let (p, id) = self.subject()?;
        self.stay_gone(&[(p, id)]).await
    }

    /// Every answer of the last "When" is a refusal with an error body.
    pub fn every_answer_refused(&mut self, what: &str) -> Result<(), Halt> {
        for answer in self.answers.clone() {
            self.judge(check::refused(&answer, what, None))?;
        }
        Ok(())
    }

    /// Around a counted delete: each census's count equals the tasks it
    /// listed, the task was listed before and not after, and both figures
    /// dropped by exactly one.
    pub fn count_dropped_by_one(&mut self) -> Result<(), Halt> {
        let (_, id) = self.subject()?;
        let Some(counted) = self.counted.clone() else {
            return Err(self.halt(Halt::Error("no counted delete was sent".to_owned())));
        };
        let (before, after) = (&counted.before, &counted.after);
        let mut evidence: Vec<&Arc<Exchange>> = before.evidence();
        evidence.push(&counted.delete);
        evidence.extend(after.evidence());
        for (census, when) in [(before, "before"), (after, "after")] {
            let (count, listed) = (census.count, census.listing.len());
            self.judge(check::check(
                usize::try_from(count).ok() == Some(listed),
                || format!("the count {when} the delete ({count}) equals the tasks its pages list ({listed})"),
                &evidence,
            ))?;
        }
        self.judge(check::check(
            before.listing.contains(id) && !after.listing.contains(id),
            || format!("task {id} is listed before the delete and not after it"),
            &evidence,
        ))?;
        let dropped = (
            before.count - after.count,
            before.listing.len() as i64 - after.listing.len() as i64,
        );
        self.judge(check::check(
            dropped == (1, 1),
            || {
                format!(
                    "the count and the pages both drop by one on a delete (count {} -> {}, listed {} -> {})",
                    before.count,
                    after.count,
                    before.listing.len(),
                    after.listing.len()
                )
            },
            &evidence,
        ))
    }

    /// The list filtered by the state of "the task": its count equals the
    /// tasks it lists, every one of them is in that state, "the task" is
    /// among them, and the scenario's tasks in other states are not.
    pub async fn status_filter_consistent(&mut self) -> Result<(), Halt> {
        let (p, id) = self.subject()?;
        let subject = self.fetch(p, id).await?;
        let Some(state) = self.state_of(&subject) else {
            return Err(self.inconclusive(format!(
                "querying task {id} answered {} without a `status`",
                subject.observed()
            )));
        };
        let census = match self.api.census_in(p, state).await {
            Ok(census) => census,
            Err(unread) => return Err(self.unread(unread)),
        };
        let evidence = census.evidence();
        let (count, listed) = (census.count, census.listing.len());
        self.judge(check::check(
            usize::try_from(count).ok() == Some(listed),
            || format!("the count of {state} tasks ({count}) equals the tasks the filtered pages list ({listed})"),
            &evidence,
        ))?;
        let strays: Vec<(i64, Option<TaskState>)> = census
            .listing
            .pages
            .iter()
            .flat_map(|page| self.api.page_states(&page.exchange))
            .filter(|(_, s)| *s != Some(state))
            .collect();
        self.judge(check::check(
            strays.is_empty(),
            || {
                format!(
                    "a list filtered by status lists only {state} tasks (task {} is {})",
                    strays.first().map_or(0, |s| s.0),
                    strays
                        .first()
                        .and_then(|s| s.1)
                        .map_or_else(|| "without a status".to_owned(), |s| s.to_string())
                )
            },
            &evidence,
        ))?;
        self.judge(check::check(
            census.listing.contains(id),
            || format!("task {id} ({state}) is listed among the {state} tasks"),
            &evidence,
        ))?;
        for other in self.tasks.clone() {
            if other.id == id || other.project != p {
                continue;
            }
            let get = self.fetch(other.project, other.id).await?;
            if self.state_of(&get).is_some_and(|s| s != state) {
                self.judge(check::check(
                    !census.listing.contains(other.id),
                    || {
                        format!(
                            "task {} (not {state}) is absent from the {state} tasks",
                            other.id
                        )
                    },
                    &evidence,
                ))?;
            }
        }
        Ok(())
    }

    /// "The task" is gone as `dialect` sees it.
    pub async fn gone_through(&mut self, dialect: Dialect) -> Result<(), Halt> {
        self.through(dialect, async |w| w.subject_gone().await)
            .await
    }

    /// "The task" answers a `GET` through `dialect`, with the same id.
    pub async fn visible_through(&mut self, dialect: Dialect) -> Result<(), Halt> {
        let (p, id) = self.subject()?;
        let get = self
            .through(dialect, async |w| w.fetch(p, id).await)
            .await?;
        let same = get.status() == Some(200)
            && get
                .response
                .as_ref()
                .and_then(|r| r.json.as_ref()?.get("id")?.as_i64())
                == Some(id);
        self.judge(check::check(
            same,
            || format!("task {id} is visible through {dialect} (GET 200 with its id)"),
            &[&get],
        ))
    }

    pub async fn unexpected_input_handled(&mut self) -> Result<(), Halt> {
        let answer = self.answer()?;
        let (p, id) = self.subject()?;
        self.judge(check::no_server_error(
            [&answer],
            "a delete with unexpected input",
        ))?;
        if self.strict() {
            let ignored = self.declarations().unexpected_input_ignored;
            let want = if ignored {
                "handled as without it (2xx)"
            } else {
                "refused (4xx)"
            };
            let holds = if ignored {
                answer.is_success()
            } else {
                answer.is_client_error()
            };
            self.judge(check::check(
                holds,
                || format!("the declared behaviour: {want}"),
                &[&answer],
            ))?;
        }
        if answer.is_success() {
            self.judge(check::succeeded_without_body(&answer, None))?;
            self.task_gone(p, id).await
        } else {
            self.judge(check::refused(
                &answer,
                "a delete refused for its unexpected input",
                None,
            ))?;
            self.still_there(p, id, &answer).await
        }
    }

    /// After the refused `delete`, `GET` still answers 200.
    pub(super) async fn still_there(
        &mut self,
        p: usize,
        id: i64,
        delete: &Arc<Exchange>,
    ) -> Result<(), Halt> {
        let get = self.fetch(p, id).await?;
        self.judge(check::check(
            get.status() == Some(200),
            || "after a refused delete the task still exists (GET 200)".to_owned(),
            &[delete, &get],
        ))
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

    // ----- the whole run ------------------------------------------------------------

    fn run_deletes(&self) -> Vec<Arc<Exchange>> {
        self.api
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
    pub(super) async fn task_gone(&mut self, p: usize, id: i64) -> Result<(), Halt> {
        let get = self.fetch(p, id).await?;
        self.judge(check::refused(&get, "querying a deleted task", None))?;
        let census = match self.api.census(p).await {
            Ok(census) => census,
            Err(unread) => return Err(self.unread(unread)),
        };
        let page_with = census.listing.page_with(id);
        self.judge(check::check(
            page_with.is_none(),
            || format!("a deleted task ({id}) is absent from the list"),
            &page_with.into_iter().collect::<Vec<_>>(),
        ))?;
        let (count, listed) = (census.count, census.listing.len());
        self.judge(check::check(
            usize::try_from(count).ok() == Some(listed),
            || {
                format!(
                    "the count ({count}) agrees with the list ({listed} tasks) once task {id} is deleted"
                )
            },
            &census.evidence(),
        ))
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
        let get = self.fetch(task.project, task.id).await?;
        let was = self.api.state(&task.snapshot);
        let problem = get
            .response
            .as_ref()
            .and_then(|r| check::intact_problem(&task.snapshot, was, r, self.state_of(&get)));
        let mut evidence: Vec<Arc<Exchange>> = self.answers.iter().take(3).cloned().collect();
        evidence.push(get);
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
            let get = self.fetch(p, id).await?;
            let (was, is) = (self.state_of(&before), self.state_of(&get));
            let problem = get
                .response
                .as_ref()
                .and_then(|r| check::intact_problem(&snapshot, was, r, is));
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
        let listing = match self.api.list(p).await {
            Ok(listing) => listing,
            Err(unread) => return Err(self.unread(unread)),
        };
        self.judge(check::check(
            listing.contains(id),
            || format!("task {id} is still listed"),
            &listing.exchanges(),
        ))
    }

    pub async fn progress_moves(&mut self) -> Result<(), Halt> {
        let (p, id) = self.subject()?;
        let first = self.fetch(p, id).await?;
        let start = self.api.progress(&first);
        let deadline = Instant::now() + self.ctx.config.deadlines.state;
        let outcome = poll_until(deadline, POLL, async || {
            let get = match self.fetch(p, id).await {
                Ok(get) => get,
                Err(halt) => return ControlFlow::Break(Err(halt)),
            };
            let now = self.api.progress(&get);
            if now.iter().zip(&start).any(|(n, s)| n > s) {
                ControlFlow::Break(Ok(()))
            } else {
                ControlFlow::Continue(get)
            }
        })
        .await;
        match outcome {
            ControlFlow::Break(moved) => moved,
            ControlFlow::Continue(last) => {
                let expectation = format!(
                    "the running task's progress ({}) moves within {} ms",
                    self.api.progress_fields().join(", "),
                    self.ctx.config.deadlines.state.as_millis()
                );
                self.judge(check::check(false, || expectation, &[&first, &last]))
            }
        }
    }

    pub async fn becomes_stopped(&mut self) -> Result<(), Halt> {
        let (p, id) = self.subject()?;
        let deadline = Instant::now() + self.ctx.config.deadlines.state;
        // Breaks with `None` once stopped, with the answer that left the stop
        // (neither running nor stopped), or with a halt.
        let outcome = poll_until(deadline, POLL, async || {
            let get = match self.fetch(p, id).await {
                Ok(get) => get,
                Err(halt) => return ControlFlow::Break(Err(halt)),
            };
            match self.state_of(&get) {
                Some(TaskState::Stopped) => ControlFlow::Break(Ok(None)),
                // On its way: a stop passes through pausing (v2's 7) to stopped.
                Some(TaskState::Running | TaskState::Pausing) => ControlFlow::Continue(get),
                _ => ControlFlow::Break(Ok(Some(get))),
            }
        })
        .await;
        let last = match outcome {
            ControlFlow::Break(Ok(None)) => return Ok(()),
            ControlFlow::Break(Err(halt)) => return Err(halt),
            ControlFlow::Break(Ok(Some(last))) | ControlFlow::Continue(last) => last,
        };
        let expectation = format!(
            "a stopped task reaches status {} within {} ms",
            TaskState::Stopped,
            self.ctx.config.deadlines.state.as_millis()
        );
        self.judge(check::check(false, || expectation, &[&last]))
    }
}
