//! The deletes of one race as they go out: each sent on a task of its own at
//! its place in the schedule (sleeping while far, spinning when close), none
//! once one was accepted; [`around_request`] streams them across a stop or a
//! start in flight, [`around_end`] across the end a target predicts.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::schedule::Schedule;
use crate::api::{Api, Delete};
use crate::check::StatusClass as _;
use crate::http::Exchange;
use crate::timeline::{Row, Timeline};

/// Below this, a wait spins (yielding) instead of sleeping: tokio's timer
/// has a resolution of one millisecond.
const SPIN_BELOW: Duration = Duration::from_millis(2);

/// The gap between the deletes of an end race's approach.
pub(super) const APPROACH_EVERY: Duration = Duration::from_millis(10);
/// µs from `anchor` to `at` (negative before it).
fn since(anchor: Instant, at: Instant) -> i64 {
    match at.checked_duration_since(anchor) {
        Some(after) => i64::try_from(after.as_micros()).unwrap_or(i64::MAX),
        None => -i64::try_from(anchor.duration_since(at).as_micros()).unwrap_or(i64::MAX),
    }
}

/// Waits until `at`: sleeps while it is far, spins (yielding) when close.
async fn until(at: Instant) {
    loop {
        let now = Instant::now();
        if now >= at {
            return;
        }
        let left = at - now;
        if left > SPIN_BELOW {
            tokio::time::sleep(left - SPIN_BELOW).await;
        } else {
            tokio::task::yield_now().await;
        }
    }
}

/// A delete of the race in flight, with its place in the schedule.
struct Sent {
    label: String,
    planned: Instant,
    handle: tokio::task::JoinHandle<(Instant, Instant, Arc<Exchange>)>,
}

/// The deletes of one race: sent on their own tasks, so that each leaves on
/// time whatever the others wait for.
struct Stream {
    api: Arc<Api>,
    project: usize,
    segment: String,
    accepted: Arc<AtomicBool>,
    sent: Vec<Sent>,
}

impl Stream {
    fn new(api: &Arc<Api>, project: usize, id: i64) -> Self {
        Self {
            api: Arc::clone(api),
            project,
            segment: id.to_string(),
            accepted: Arc::new(AtomicBool::new(false)),
            sent: Vec::new(),
        }
    }

    fn accepted(&self) -> bool {
        self.accepted.load(Ordering::SeqCst)
    }

    /// Sends a delete at `at`, unless one was accepted by then.
    async fn send_at(&mut self, at: Instant) {
        until(at).await;
        self.send(at).await;
    }

    /// Sends a delete now (planned for `planned`), unless one was accepted;
    /// returns once its task has begun, so that whatever the race sends next
    /// leaves after it, however the runtime schedules its tasks.
    async fn send(&mut self, planned: Instant) {
        if self.accepted() {
            return;
        }
        let (api, p, segment) = (Arc::clone(&self.api), self.project, self.segment.clone());
        let accepted = Arc::clone(&self.accepted);
        let (began, begun) = tokio::sync::oneshot::channel();
        let handle = tokio::spawn(async move {
            let sent = Instant::now();
            let _ = began.send(());
            let exchange = api.delete_ungated(p, &segment, Delete::default()).await;
            let answered = Instant::now();
            if exchange.is_success() {
                accepted.store(true, Ordering::SeqCst);
            }
            (sent, answered, exchange)
        });
        let _ = begun.await;
        self.sent.push(Sent {
            label: format!("delete {}", self.sent.len() + 1),
            planned,
            handle,
        });
    }

    /// Waits for every delete's answer (each is bounded by the request deadline).
    async fn rows(self, anchor: Instant) -> Vec<Row> {
        let mut rows = Vec::with_capacity(self.sent.len());
        for sent in self.sent {
            if let Ok((at, answered, exchange)) = sent.handle.await {
                rows.push(Row {
                    request: sent.label,
                    planned_us: since(anchor, sent.planned),
                    sent_us: since(anchor, at),
                    answered_us: since(anchor, answered),
                    answer: exchange.observed(),
                    exchange,
                });
            }
        }
        rows
    }
}

/// What a race is about, for its timeline.
pub(crate) struct Race<'a> {
    pub api: &'a Arc<Api>,
    pub project: usize,
    pub id: i64,
    pub seed: u64,
    pub schedule: &'a Schedule,
    /// What was raced: `stop of task 12`.
    pub what: String,
}

/// Races the deletes of `race.schedule` against `anchor` (`name`: `stop` or
/// `start`), sent at the schedule's zero. `hint` is a latency the lead of the
/// first in-flight delete is a fraction of.
pub(crate) async fn around_request(
    race: Race<'_>,
    name: &str,
    hint: Duration,
    anchor: impl Future<Output = Arc<Exchange>> + Send + 'static,
) -> Timeline {
    let schedule = race.schedule;
    // The race holds the project's gate shared from its first send to its
    // last answer, and sends under it: a census that waits for the gate
    // exclusively would otherwise hold every delete back until the stop
    // answered, and the window would never be explored.
    let _gate = race.api.shared(race.project).await;
    let mut stream = Stream::new(race.api, race.project, race.id);
    let lead = schedule.before_us.first().copied().unwrap_or(0);
    let zero = Instant::now() + Duration::from_micros(lead + 200);
    for &before in &schedule.before_us {
        stream.send_at(zero - Duration::from_micros(before)).await;
    }
    until(zero).await;
    let anchor_sent = Instant::now();
    let mut anchor = tokio::spawn(async move {
        let exchange = anchor.await;
        (Instant::now(), exchange)
    });
    let mut at = zero
        + schedule
            .lead_permille
            .map_or(Duration::ZERO, |p| hint.mul_f64(p as f64 / 1000.0))
            .max(Duration::from_micros(schedule.lead_floor_us.unwrap_or(0)));
    let mut answer = None;
    for &gap in &schedule.gaps_us {
        at += Duration::from_micros(gap);
        // The stream ends with the anchor's answer, however long the next gap.
        tokio::select! {
            biased;
            done = &mut anchor => {
                answer = Some(done);
                break;
            }
            () = until(at) => {}
        }
        if stream.accepted() {
            break;
        }
        stream.send(at).await;
    }
    let answer = match answer {
        Some(answer) => answer,
        None => anchor.await,
    };
    let (answered, exchange) = match answer {
        Ok(done) => done,
        Err(join) => unreachable!("the anchor request does not panic: {join}"),
    };
    let latency = answered.saturating_duration_since(anchor_sent);
    for &after in &schedule.after_permille {
        if stream.accepted() {
            break;
        }
        let offset = latency
            .mul_f64(after as f64 / 1000.0)
            .max(Duration::from_micros(50));
        stream.send_at(answered + offset).await;
    }
    // Times are relative to the anchor as it left, not as it was planned.
    let mut rows = stream.rows(anchor_sent).await;
    rows.push(Row {
        request: name.to_owned(),
        planned_us: since(anchor_sent, zero),
        sent_us: 0,
        answered_us: since(anchor_sent, answered),
        answer: exchange.observed(),
        exchange,
    });
    rows.sort_by_key(|r| r.sent_us);
    Timeline {
        race: race.what,
        anchor: format!("the {name} being sent"),
        seed: race.seed,
        schedule: schedule.to_string(),
        rows,
    }
}

/// Sends one delete every [`APPROACH_EVERY`] from now until `start`, the
/// deletes of `race.schedule`'s in-flight part from `start` on (relative to
/// `zero`, the predicted end of the task), then, if none was accepted and
/// `still_busy` says the task is still at work, one delete every `every`
/// until `deadline`: the race with the engine's own end of a task. The
/// approach keeps deletes landing before the end even when a loaded machine
/// sends the schedule's first one late.
///
/// Also whether the window closed on an end: a delete accepted, or the task
/// seen at rest (`false`: still at work at `deadline`, its end never raced).
/// The caller holds the project's gate shared, from before the last approach.
pub(crate) async fn around_end(
    race: Race<'_>,
    zero: Instant,
    start: Instant,
    every: Duration,
    deadline: Instant,
    mut still_busy: impl AsyncFnMut() -> bool,
) -> (Timeline, bool) {
    let mut stream = Stream::new(race.api, race.project, race.id);
    let mut at = Instant::now();
    while at < start && !stream.accepted() {
        stream.send_at(at).await;
        at = (at + APPROACH_EVERY).max(Instant::now());
    }
    let mut at = start.max(at);
    for &gap in &race.schedule.gaps_us {
        if stream.accepted() {
            break;
        }
        stream.send_at(at).await;
        at += Duration::from_micros(gap);
    }
    // The target's prediction was early: go on until it ends, and send one
    // delete after seeing it end.
    let mut ended = false;
    while !stream.accepted() && Instant::now() < deadline {
        let busy = still_busy().await;
        stream.send_at(Instant::now().max(at)).await;
        if !busy {
            ended = true;
            break;
        }
        at = Instant::now() + every;
    }
    let ended = ended || stream.accepted();
    let rows = stream.rows(zero).await;
    let timeline = Timeline {
        race: race.what,
        anchor: "the end the target predicted (now + left_time)".to_owned(),
        seed: race.seed,
        schedule: race.schedule.to_string(),
        rows,
    };
    (timeline, ended)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn until_waits_to_the_microsecond_neighbourhood() {
        let at = Instant::now() + Duration::from_micros(300);
        until(at).await;
        assert!(Instant::now() >= at);
    }

    #[test]
    fn since_is_signed() {
        let zero = Instant::now();
        assert_eq!(since(zero, zero + Duration::from_micros(5)), 5);
        assert_eq!(since(zero + Duration::from_micros(5), zero), -5);
    }
}
