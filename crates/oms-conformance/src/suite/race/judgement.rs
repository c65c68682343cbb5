//! How the races of a scenario are judged: no 5xx, at most one delete
//! accepted and every other refused with an error body, a deleted task gone
//! and staying gone over the settle period, a task no delete won still there
//! (and stopped, after a stop).

use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::Instant;

use crate::api::{Dialect, TaskState};
use crate::check::{self, Halt, StatusClass as _};
use crate::http::Exchange;
use crate::suite::poll::{POLL, poll_until};
use crate::suite::world::OmsWorld;
use crate::timeline::{Against, Raced};

impl OmsWorld {
    /// Each race of the scenario: no 5xx; at most one 2xx delete, every other
    /// delete refused with an error body; a 2xx delete leaves the task gone
    /// (GET, list, count) and gone over the settle period; no 2xx leaves it
    /// there (stopped, after a stop).
    pub async fn races_consistent(&mut self) -> Result<(), Halt> {
        let races = self.races.clone();
        if races.is_empty() {
            return Err(self.halt(Halt::Error("the scenario raced nothing".to_owned())));
        }
        let mut gone = Vec::new();
        for raced in &races {
            let t = &raced.timeline;
            self.judge(check::no_server_error(
                t.exchanges(),
                &format!("a race with the {}", t.race),
            ))?;
            let deletes: Vec<&Arc<Exchange>> = t.deletes().collect();
            let won: Vec<&Arc<Exchange>> =
                deletes.iter().copied().filter(|d| d.is_success()).collect();
            self.judge(check::check(
                won.len() <= 1,
                || {
                    format!(
                        "at most one delete of task {} succeeds in a race with its {}, got {}",
                        raced.id,
                        raced.against.name(),
                        won.len()
                    )
                },
                &won,
            ))?;
            for delete in deletes.iter().filter(|d| !d.is_success()) {
                self.judge(check::refused(delete, "a delete that lost the race", None))?;
            }
            if won.is_empty() {
                self.survived(raced).await?;
            } else {
                self.task_gone(raced.project, raced.id).await?;
                gone.push((raced.project, raced.id));
            }
        }
        self.stay_gone(&gone).await
    }

    /// After a race no delete won: the task is there, and after a stop it is
    /// stopped once its pause is over.
    async fn survived(&mut self, raced: &Raced) -> Result<(), Halt> {
        let (p, id, t) = (raced.project, raced.id, &raced.timeline);
        if raced.against == Against::Stop {
            let (state, get) = self.settled_state(p, id).await?;
            let stop = t.anchor_exchange().cloned();
            if get.status() == Some(200)
                && let Some(stop) = stop.filter(|s| !s.is_success())
            {
                return Err(self.inconclusive(format!(
                    "the stop of running task {id} answered {} and no delete won: nothing to judge",
                    stop.observed()
                )));
            }
            if state == Some(TaskState::Stopped) {
                return Ok(());
            }
            let seen = state.map_or_else(|| get.observed(), |s| s.to_string());
            let evidence: Vec<&Arc<Exchange>> = t.exchanges().chain([&get]).collect();
            return self.judge(check::check(
                false,
                || format!("no delete won the race with the stop of task {id}: it still exists and is stopped afterwards, but it is {seen}"),
                &evidence,
            ));
        }
        let get = self.fetch(p, id).await?;
        let evidence: Vec<&Arc<Exchange>> = t.exchanges().chain([&get]).collect();
        self.judge(check::check(
            get.status() == Some(200),
            || format!("no delete won the race with the {} of task {id}: the task still exists (GET 200)", raced.against.name()),
            &evidence,
        ))?;
        if raced.against == Against::Start && self.state_of(&get).is_some_and(TaskState::busy) {
            // Judged: stopped now rather than at cleanup, so that it does not
            // hold one of the project's slots through the settle period.
            self.stop_for_setup(p, id).await?;
        }
        Ok(())
    }

    /// Polls `GET` until the task no longer pauses (a stop's pause ends by
    /// itself); its state then, and the last `GET`.
    async fn settled_state(
        &mut self,
        p: usize,
        id: i64,
    ) -> Result<(Option<TaskState>, Arc<Exchange>), Halt> {
        let deadline = Instant::now() + self.ctx.config.deadlines.state;
        let outcome = poll_until(deadline, POLL, async || match self.fetch(p, id).await {
            Ok(get) => match self.state_of(&get) {
                Some(TaskState::Pausing) => ControlFlow::Continue(get),
                // v1 shows a pause as running: wait for it to end too.
                Some(TaskState::Running) if self.dialect == Dialect::V1 => {
                    ControlFlow::Continue(get)
                }
                state => ControlFlow::Break(Ok((state, get))),
            },
            Err(halt) => ControlFlow::Break(Err(halt)),
        })
        .await;
        match outcome {
            ControlFlow::Break(settled) => settled,
            ControlFlow::Continue(get) => Ok((self.state_of(&get), get)),
        }
    }

    /// The tasks `gone` stay gone over the settle period: `GET` polled, then
    /// the list and the count read again.
    pub(in crate::suite) async fn stay_gone(&mut self, gone: &[(usize, i64)]) -> Result<(), Halt> {
        if gone.is_empty() {
            return Ok(());
        }
        let settle = self.ctx.config.deadlines.settle;
        let started = Instant::now();
        let end = started + settle;
        let api = Arc::clone(&self.api);
        let outcome = poll_until(end, POLL, async || {
            let gets = futures::future::join_all(gone.iter().map(|&(p, id)| api.get(p, id))).await;
            match gets
                .into_iter()
                .find(|g| g.is_success() || g.response.is_none())
            {
                Some(back) => ControlFlow::Break(back),
                None => ControlFlow::Continue(()),
            }
        })
        .await;
        if let ControlFlow::Break(back) = outcome {
            let back = self.keep(back)?;
            let after = started.elapsed().as_millis();
            return self.judge(check::check(
                false,
                || format!("a deleted task stays gone for the settle period ({} ms), but it is back {after} ms after the check began", settle.as_millis()),
                &[&back],
            ));
        }
        for &(p, id) in gone {
            self.task_gone(p, id).await?;
        }
        Ok(())
    }
}
