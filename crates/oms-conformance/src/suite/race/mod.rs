//! Races: a stream of deletes of a task spread over the whole span of
//! something else that changes it: a stop in flight (OMS-DEL-014), a start in
//! flight, or the engine's own end of the task (OMS-DEL-024). Two points (a
//! delete and a stop sent together, a delete the moment the stop answered) miss
//! a stop that is not atomic; a stream catches a delete landing *while* the
//! other request is being processed.
//!
//! Once a delete is accepted no further delete is sent: the task is gone, and
//! what is left to judge is whether it stays gone.
//!
//! This file runs the races of a scenario (a stop, the starts, a task's end);
//! `schedule` draws when the deletes go, `stream` sends them, `timeline` keeps
//! what happened and `judgement` judges it.

mod judgement;
mod schedule;
mod stream;

use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use self::schedule::Schedule;
use self::schedule::{Draw, Shape};
use self::stream::{APPROACH_EVERY, Race, around_end, around_request};
use crate::api::{Api, StartKeys, TaskState};
use crate::check::{Halt, StatusClass as _};
use crate::suite::poll::{POLL, poll_until};
use crate::suite::world::OmsWorld;
use crate::timeline::{Against, Raced};
pub use crate::timeline::{Row, Timeline};

/// How one try of an end race went.
enum EndTry {
    /// Its deletes straddled the end: the first was refused, and the window
    /// closed on an accepted delete or on the task seen at rest.
    Raced,
    /// The task ended, in this state, before the deletes could begin.
    Ended(TaskState),
    /// Its first delete was accepted: every delete came after the end.
    Late,
}

/// What a look at a task whose end is to be raced found.
enum Near {
    /// Its end is near: at `at`, as the target predicted it, or now when it
    /// predicts nothing (`predicted: false`).
    End { at: Instant, predicted: bool },
    /// It has already ended, in this state.
    Ended(TaskState),
}

/// Stop races run on one task at most, when each before the last was void
/// (its stop refused, no delete won: [`OmsWorld::race_stop`]).
const STOP_ATTEMPTS: usize = 5;
/// The in-flight part of every schedule is cut short by the anchor's answer;
/// this only bounds a gap of a target that answers in seconds.
const MAX_GAP_US: u64 = 1_000_000;
/// Around a task's end, gaps stay short: the window of a resurrection may be
/// a few milliseconds after it.
const END_MAX_GAP_US: u64 = 2_000;
/// How close to its predicted end a task is when the deletes begin: one
/// every [`APPROACH_EVERY`] until the schedule's own, 5–15 ms before it.
const NEAR_END: Duration = Duration::from_millis(250);
/// How close to its predicted end a task is when the race takes its
/// project's gate (shared), before the last approach: a census of another
/// scenario, which holds the gate exclusively, then waits for the race
/// instead of holding up its deletes as the end comes.
const GATE_AHEAD: Duration = Duration::from_millis(600);
/// How long after the end a target predicted an end race goes on waiting for
/// it: the reference ends on time; a coarse prediction may be this late.
const END_TAIL: Duration = Duration::from_secs(1);
/// Tasks whose end a race tries, at most, when one ends before its deletes
/// begin or after its first delete was accepted. Five ran out once in a
/// clean-clone `.ci/run` (the AK/SK profile's run beside the kill matrix's
/// four: the fifth task, of 0.15–0.25 s, was first seen 1.3 ms before its
/// end, and its first delete, sent 4.2 ms after it, was accepted).
const END_ATTEMPTS: usize = 10;

/// The shape of the schedule of round `round` of a start race: the first round
/// deletes just before the start is sent, the second as it leaves, the later
/// ones from a fraction of the latency of an earlier round's accepted start
/// and at least some milliseconds on (a delete without a body overtakes a
/// start with one, so a start's span begins at the server later than it
/// leaves), so that each round's first delete lands at another point of the
/// start's span.
fn start_round(round: usize) -> Shape {
    let (lead, lead_floor) = match round {
        0 | 1 => (None, None),
        2 => (Some((150, 450)), Some((1_000, 4_000))),
        _ => (Some((500, 950)), Some((10_000, 40_000))),
    };
    Shape {
        before: round == 0,
        lead,
        lead_floor,
        after: true,
        max_gap_us: MAX_GAP_US,
    }
}

impl OmsWorld {
    /// The schedule drawn for race `name` of this scenario's dialect.
    fn schedule(&self, name: &str, shape: Shape) -> Schedule {
        let race = format!("{} {name}", self.dialect);
        Schedule::draw(&mut Draw::new(self.ctx.config.seed, &race), shape)
    }

    /// A race of this run (its seed) on task `id` of project `p`.
    fn race<'a>(
        &self,
        api: &'a Arc<Api>,
        (p, id): (usize, i64),
        schedule: &'a Schedule,
        what: String,
    ) -> Race<'a> {
        Race {
            api,
            project: p,
            id,
            seed: self.ctx.config.seed,
            schedule,
            what,
        }
    }

    /// Keeps a race's exchanges (a transport failure halts the scenario).
    fn keep_race(
        &mut self,
        against: Against,
        p: usize,
        id: i64,
        timeline: Timeline,
    ) -> Result<(), Halt> {
        for exchange in timeline.exchanges().cloned().collect::<Vec<_>>() {
            self.keep(exchange)?;
        }
        self.races.push(Raced {
            against,
            project: p,
            id,
            timeline,
        });
        Ok(())
    }

    /// OMS-DEL-014: stops the running task while a stream of its deletes goes
    /// out before, during and after the stop. A race whose stop was refused
    /// while no delete won is void (a task retrying for a moment refuses a
    /// stop with `OMS.0066`, `oms-v2-api.md` §3): its exchanges are kept, the
    /// task is waited for until it runs, and the race is run again with a
    /// schedule of its own, up to [`STOP_ATTEMPTS`] in all.
    pub async fn race_stop(&mut self) -> Result<(), Halt> {
        let (p, id) = self.subject()?;
        let mut attempt = 1;
        loop {
            let name = match attempt {
                1 => "stop".to_owned(),
                n => format!("stop {n}"),
            };
            let schedule = self.schedule(
                &name,
                Shape {
                    before: true,
                    lead: None,
                    lead_floor: None,
                    after: true,
                    max_gap_us: MAX_GAP_US,
                },
            );
            let api = Arc::clone(&self.api);
            let stop = {
                let api = Arc::clone(&api);
                async move { api.stop_ungated(p, id).await }
            };
            let race = self.race(&api, (p, id), &schedule, format!("stop of task {id}"));
            let timeline = around_request(race, "stop", Duration::ZERO, stop).await;
            let refused = timeline
                .anchor_exchange()
                .is_some_and(|s| s.is_client_error());
            let void = refused && !timeline.deletes().any(|d| d.is_success());
            if !void || attempt == STOP_ATTEMPTS {
                return self.keep_race(Against::Stop, p, id, timeline);
            }
            for exchange in timeline.exchanges().cloned().collect::<Vec<_>>() {
                self.keep(exchange)?;
            }
            self.wait_state(p, id, &[TaskState::Running]).await?;
            attempt += 1;
        }
    }

    /// OMS-DEL-024: starts each of the scenario's stopped tasks in turn, one
    /// round each, while a stream of its deletes goes out around the start.
    pub async fn race_starts(&mut self) -> Result<(), Halt> {
        let api = Arc::clone(&self.api);
        let Some(keys) = self
            .bodies()
            .and_then(|b| StartKeys::from_create_body(&b.running))
        else {
            return Err(self.halt(Halt::Error(
                "the running create body names no source and target ak/sk for a start".to_owned(),
            )));
        };
        let keys = Arc::new(keys);
        let mut hint = Duration::ZERO;
        for (round, task) in self.tasks.clone().into_iter().enumerate() {
            let (p, id) = (task.project, task.id);
            let schedule = self.schedule(&format!("start {round}"), start_round(round));
            let start = {
                let (api, keys) = (Arc::clone(&api), Arc::clone(&keys));
                async move { api.start_ungated(p, id, &keys).await }
            };
            let what = format!(
                "start of task {id} (round {} of {})",
                round + 1,
                self.tasks.len()
            );
            let race = self.race(&api, (p, id), &schedule, what);
            let timeline = around_request(race, "start", hint, start).await;
            // The hint is the longest latency of a start the target accepted
            // (a start refused because a delete won says nothing of its span).
            if let Some(row) = timeline
                .rows
                .iter()
                .find(|r| r.request == "start" && r.exchange.is_success())
            {
                let micros = u64::try_from(row.answered_us - row.sent_us).unwrap_or(0);
                hint = hint.max(Duration::from_micros(micros));
            }
            self.keep_race(Against::Start, p, id, timeline)?;
        }
        Ok(())
    }

    /// OMS-DEL-024: waits until the running task is near the end its target
    /// predicts (`left_time`), then sends a stream of its deletes across that
    /// moment until one is accepted or the task is seen to have ended. A task
    /// that ended before the deletes began, or whose first delete was already
    /// accepted (they all came after its end: a loaded machine, a gate held
    /// by a census), did not have its end raced: another one is tried, up to
    /// [`END_ATTEMPTS`] in all. Every race run is kept and judged.
    pub async fn race_end(&mut self) -> Result<(), Halt> {
        let mut attempts = 1;
        loop {
            let (p, id) = self.subject()?;
            let missed = match self.race_one_end(p, id).await? {
                EndTry::Raced => return Ok(()),
                EndTry::Ended(state) => format!("reached status {state} before its deletes began"),
                EndTry::Late => "had ended when its first delete arrived (accepted)".to_owned(),
            };
            if attempts == END_ATTEMPTS {
                return Err(self.inconclusive(format!(
                    "the end of no task could be raced ({attempts} tasks tried): the last, task {id}, {missed}"
                )));
            }
            attempts += 1;
            self.given_running_to_success().await?;
        }
    }

    /// One try of [`Self::race_end`], on task `id` of project `p`: the task
    /// followed until it is [`GATE_AHEAD`] of its end, the project's gate
    /// taken shared, then followed again until [`NEAR_END`] (the last
    /// approach), and its end raced with the gate held.
    async fn race_one_end(&mut self, p: usize, id: i64) -> Result<EndTry, Halt> {
        let deadline = Instant::now() + self.ctx.config.deadlines.state;
        let looked = poll_until(deadline, POLL, async || {
            self.near_end(p, id, GATE_AHEAD).await
        })
        .await;
        match looked {
            ControlFlow::Break(Ok(Near::End { .. })) => {}
            ControlFlow::Break(Ok(Near::Ended(state))) => return Ok(EndTry::Ended(state)),
            ControlFlow::Break(Err(halt)) => return Err(halt),
            ControlFlow::Continue(()) => {
                return Err(self.inconclusive(format!(
                    "task {id} did not come within {} ms of its end before the state deadline",
                    GATE_AHEAD.as_millis()
                )));
            }
        }
        let api = Arc::clone(&self.api);
        let _gate = api.shared(p).await;
        let looked = poll_until(deadline, POLL, async || {
            self.near_end(p, id, NEAR_END).await
        })
        .await;
        let (zero, predicted) = match looked {
            ControlFlow::Break(Ok(Near::End { at, predicted })) => (at, predicted),
            ControlFlow::Break(Ok(Near::Ended(state))) => return Ok(EndTry::Ended(state)),
            ControlFlow::Break(Err(halt)) => return Err(halt),
            ControlFlow::Continue(()) => {
                return Err(self.inconclusive(format!(
                    "task {id} did not come within {} ms of its end before the state deadline",
                    NEAR_END.as_millis()
                )));
            }
        };
        let mut draw = Draw::new(self.ctx.config.seed, &format!("{} end", self.dialect));
        let lead = Duration::from_micros(draw.between(5_000, 15_000));
        let schedule = Schedule::draw(
            &mut draw,
            Shape {
                before: false,
                lead: None,
                lead_floor: None,
                after: false,
                max_gap_us: END_MAX_GAP_US,
            },
        );
        let what = format!(
            "the end of task {id} (a delete every {} ms from {} ms before it, then from {:.1} ms before it)",
            APPROACH_EVERY.as_millis(),
            NEAR_END.as_millis(),
            lead.as_secs_f64() * 1000.0
        );
        let race = self.race(&api, (p, id), &schedule, what);
        let start = zero.checked_sub(lead).unwrap_or(zero).max(Instant::now());
        let every = Duration::from_millis(5);
        let still_busy = async || {
            let get = api.get(p, id).await;
            api.status(&get)
                .is_some_and(|s| s.busy() || s == TaskState::Waiting)
        };
        // A predicted end bounds the window: a task still at work well after
        // it (one whose refused delete froze it, say) is not followed until
        // the state deadline, holding a slot and drawing a delete every 5 ms.
        let (until, after) = if predicted {
            (
                deadline.min(zero + END_TAIL),
                format!("{} ms after the end it predicted", END_TAIL.as_millis()),
            )
        } else {
            (deadline, "at the state deadline".to_owned())
        };
        let (timeline, ended) = around_end(race, zero, start, every, until, still_busy).await;
        let late = timeline.deletes().next().is_some_and(|d| d.is_success());
        self.keep_race(Against::End, p, id, timeline)?;
        if late {
            return Ok(EndTry::Late);
        }
        if ended {
            return Ok(EndTry::Raced);
        }
        Err(self.inconclusive(format!(
            "task {id} was still at work {after}: its end was not raced"
        )))
    }

    /// One look of [`Self::race_end`]: the end is within `near` (when the
    /// target predicts it: now + `left_time`; now when it predicts nothing),
    /// or the task has already ended, or it is still far.
    async fn near_end(
        &mut self,
        p: usize,
        id: i64,
        near: Duration,
    ) -> ControlFlow<Result<Near, Halt>> {
        let asked = Instant::now();
        let get = match self.fetch(p, id).await {
            Ok(get) => get,
            Err(halt) => return ControlFlow::Break(Err(halt)),
        };
        match self.state_of(&get) {
            Some(TaskState::Running | TaskState::Retrying) => {}
            Some(ended) if ended.rests() => return ControlFlow::Break(Ok(Near::Ended(ended))),
            Some(other) => {
                return ControlFlow::Break(Err(self.inconclusive(format!(
                    "task {id} reached status {other} before its end could be raced"
                ))));
            }
            None => {
                return ControlFlow::Break(Err(self.inconclusive(format!(
                    "querying task {id} answered {} without a `status`",
                    get.observed()
                ))));
            }
        }
        let left = get
            .response
            .as_ref()
            .and_then(|r| r.json.as_ref())
            .and_then(|task| self.api.left_time(task))
            .filter(|&ms| ms > 0)
            .map(Duration::from_millis);
        match left {
            Some(left) if left > near => ControlFlow::Continue(()),
            Some(left) => ControlFlow::Break(Ok(Near::End {
                at: asked + left,
                predicted: true,
            })),
            None => ControlFlow::Break(Ok(Near::End {
                at: Instant::now(),
                predicted: false,
            })),
        }
    }
}
