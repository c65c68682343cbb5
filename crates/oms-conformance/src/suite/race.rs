//! Races: a stream of deletes of a task spread over the whole span of
//! something else that changes it: a stop in flight (OMS-DEL-014), a start in
//! flight, or the engine's own end of the task (OMS-DEL-024). Two points (a
//! delete and a stop sent together, a delete the moment the stop answered) miss
//! a stop that is not atomic; a stream catches a delete landing *while* the
//! other request is being processed.
//!
//! The stream's schedule is drawn from the run's seed (and the race's name), so
//! `--seed` replays it; what the target made of it is kept as a [`Timeline`]
//! of every request of the race, relative to its anchor, for the report.
//!
//! A schedule has three parts, bounded in number:
//! - deletes sent just *before* the anchor (a fraction of a millisecond);
//! - deletes sent *while it is in flight*, at gaps growing geometrically from a
//!   fraction of a millisecond, so that a fast target is probed densely and a
//!   slow one still over its whole latency;
//! - deletes sent *after its answer*, at fractions of its observed latency.
//!
//! Once a delete is accepted no further delete is sent: the task is gone, and
//! what is left to judge is whether it stays gone.

use std::fmt::{self, Write as _};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;

use std::ops::ControlFlow;

use crate::api::{Api, Delete, Dialect, StartKeys, TaskState};
use crate::check::{self, Halt, StatusClass as _};
use crate::http::Exchange;
use crate::suite::poll::poll_until;
use crate::suite::world::{OmsWorld, POLL};

/// Deletes sent before the anchor, at most.
const MAX_BEFORE: u64 = 3;
/// Deletes sent while the anchor is in flight, at most.
const MAX_IN_FLIGHT: usize = 32;
/// Deletes sent after the anchor's answer, at most.
const MAX_AFTER: u64 = 6;
/// Below this, a wait spins (yielding) instead of sleeping: tokio's timer
/// has a resolution of one millisecond.
const SPIN_BELOW: Duration = Duration::from_millis(2);

/// A small deterministic generator (SplitMix64) seeded by the run's seed and
/// the race's name: the same seed and race give the same schedule.
#[derive(Debug, Clone)]
pub(crate) struct Draw(u64);

impl Draw {
    pub(crate) fn new(seed: u64, race: &str) -> Self {
        // FNV-1a of the name, mixed with the seed.
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in race.bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        Self(seed ^ hash)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A whole number in `lo..=hi`.
    fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}

/// When each delete of a race is sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Schedule {
    /// Deletes sent before the anchor: how long before it, in µs, earliest first.
    pub before_us: Vec<u64>,
    /// The wait before the first in-flight delete, in per mille of the latency
    /// `hint` the race is given (none: the first gap)...
    pub lead_permille: Option<u64>,
    /// ...and at least this many µs.
    pub lead_floor_us: Option<u64>,
    /// The gaps between in-flight deletes, in µs (the first from the anchor).
    pub gaps_us: Vec<u64>,
    /// Deletes sent after the anchor's answer, in per mille of its observed
    /// latency (at least 1 ms) after the answer, increasing.
    pub after_permille: Vec<u64>,
    /// How much each in-flight gap grows on the one before, in per cent.
    pub growth_percent: u64,
}

/// The shape of a schedule: which parts it has.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shape {
    pub before: bool,
    /// The first in-flight delete's lead: per mille of the hint, and a floor in µs.
    pub lead: Option<(u64, u64)>,
    pub lead_floor: Option<(u64, u64)>,
    pub after: bool,
    /// The largest in-flight gap, in µs.
    pub max_gap_us: u64,
}

impl Schedule {
    /// Draws a schedule of `shape`.
    pub(crate) fn draw(draw: &mut Draw, shape: Shape) -> Self {
        let before_us = if shape.before {
            let mut before: Vec<u64> = (0..draw.between(1, MAX_BEFORE))
                .map(|_| draw.between(50, 1_000))
                .collect();
            before.sort_unstable_by(|a, b| b.cmp(a));
            before
        } else {
            Vec::new()
        };
        let lead_permille = shape.lead.map(|(lo, hi)| draw.between(lo, hi));
        let lead_floor_us = shape.lead_floor.map(|(lo, hi)| draw.between(lo, hi));
        // From 0.1–0.3 ms, each gap 1.3–1.5 times the one before (±20 %):
        // 32 of them cover at least a second and a half of flight.
        let base = draw.between(100, 300) as f64;
        let growth_percent = draw.between(130, 150);
        let ratio = growth_percent as f64 / 100.0;
        let mut gap = base;
        let gaps_us = (0..MAX_IN_FLIGHT)
            .map(|_| {
                let jitter = draw.between(80, 120) as f64 / 100.0;
                let this = (gap * jitter).round() as u64;
                gap *= ratio;
                this.clamp(50, shape.max_gap_us)
            })
            .collect();
        let after_permille = if shape.after {
            let mut after: Vec<u64> = (0..draw.between(3, MAX_AFTER))
                .map(|_| draw.between(50, 1_000))
                .collect();
            after.sort_unstable();
            after.dedup();
            after
        } else {
            Vec::new()
        };
        Self {
            before_us,
            lead_permille,
            lead_floor_us,
            gaps_us,
            after_permille,
            growth_percent,
        }
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = |us: u64| format!("{:.2}", us as f64 / 1000.0);
        let mut parts = Vec::new();
        if !self.before_us.is_empty() {
            let before: Vec<String> = self
                .before_us
                .iter()
                .map(|&b| format!("-{}", ms(b)))
                .collect();
            parts.push(format!("before at {} ms", before.join(", ")));
        }
        if let Some(lead) = self.lead_permille {
            parts.push(format!(
                "in flight from {:.2} × latency, at least {} ms",
                lead as f64 / 1000.0,
                ms(self.lead_floor_us.unwrap_or(0))
            ));
        }
        if let Some(first) = self.gaps_us.first() {
            parts.push(format!(
                "up to {} in flight, gaps from {} ms growing {}% each",
                self.gaps_us.len(),
                ms(*first),
                self.growth_percent
            ));
        }
        if !self.after_permille.is_empty() {
            let after: Vec<String> = self
                .after_permille
                .iter()
                .map(|&a| format!("{:.2}", a as f64 / 1000.0))
                .collect();
            parts.push(format!(
                "after the answer at {} × latency",
                after.join(", ")
            ));
        }
        f.write_str(&parts.join("; "))
    }
}

/// One request of a race, as it went.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// `delete 3`, `stop`, `start`.
    pub request: String,
    /// When the schedule meant to send it, in µs from the anchor.
    pub planned_us: i64,
    /// When it was sent and answered, in µs from the anchor.
    pub sent_us: i64,
    pub answered_us: i64,
    /// `STATUS` or `STATUS CODE`, or `transport error`.
    pub answer: String,
    #[serde(skip)]
    pub exchange: Arc<Exchange>,
}

/// Every request of one race, relative to its anchor (the send of the stop or
/// start; the end of the task the target predicted), in send order.
#[derive(Debug, Clone, Serialize)]
pub struct Timeline {
    /// What was raced: `stop of task 12`.
    pub race: String,
    /// What the times are relative to.
    pub anchor: String,
    pub seed: u64,
    pub schedule: String,
    pub rows: Vec<Row>,
}

impl Timeline {
    /// The deletes of the race, in send order.
    pub fn deletes(&self) -> impl Iterator<Item = &Arc<Exchange>> {
        self.rows
            .iter()
            .filter(|r| r.request.starts_with("delete"))
            .map(|r| &r.exchange)
    }

    /// The anchor request (stop or start), if the race had one.
    pub fn anchor_exchange(&self) -> Option<&Arc<Exchange>> {
        self.rows
            .iter()
            .find(|r| !r.request.starts_with("delete"))
            .map(|r| &r.exchange)
    }

    /// Every exchange of the race.
    pub fn exchanges(&self) -> impl Iterator<Item = &Arc<Exchange>> {
        self.rows.iter().map(|r| &r.exchange)
    }
}

impl fmt::Display for Timeline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "race: {} (seed {}; {}); times in ms from {}",
            self.race, self.seed, self.schedule, self.anchor
        )?;
        let ms = |us: i64| format!("{:+.2}", us as f64 / 1000.0);
        let mut text = String::new();
        let _ = writeln!(
            text,
            "  {:<10} {:>9} {:>9} {:>9}  answer",
            "request", "planned", "sent", "answered"
        );
        for row in &self.rows {
            let _ = writeln!(
                text,
                "  {:<10} {:>9} {:>9} {:>9}  {}",
                row.request,
                ms(row.planned_us),
                ms(row.sent_us),
                ms(row.answered_us),
                row.answer
            );
        }
        f.write_str(&text)
    }
}

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
pub(crate) async fn around_end(
    race: Race<'_>,
    zero: Instant,
    start: Instant,
    every: Duration,
    deadline: Instant,
    mut still_busy: impl AsyncFnMut() -> bool,
) -> (Timeline, bool) {
    let _gate = race.api.shared(race.project).await;
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

    const STOP: Shape = Shape {
        before: true,
        lead: None,
        lead_floor: None,
        after: true,
        max_gap_us: 1_000_000,
    };

    #[test]
    fn the_same_seed_and_race_draw_the_same_schedule() {
        let a = Schedule::draw(&mut Draw::new(7, "v1 stop"), STOP);
        let b = Schedule::draw(&mut Draw::new(7, "v1 stop"), STOP);
        assert_eq!(a, b);
        let other_seed = Schedule::draw(&mut Draw::new(8, "v1 stop"), STOP);
        let other_race = Schedule::draw(&mut Draw::new(7, "v2 stop"), STOP);
        assert_ne!(a, other_seed);
        assert_ne!(a, other_race);
    }

    #[test]
    fn a_schedule_spans_before_during_and_after_within_its_bounds() {
        for seed in 0..200 {
            let s = Schedule::draw(&mut Draw::new(seed, "race"), STOP);
            assert!(
                (1..=MAX_BEFORE as usize).contains(&s.before_us.len()),
                "{s:?}"
            );
            assert!(s.before_us.windows(2).all(|w| w[0] >= w[1]), "{s:?}");
            assert!(
                s.before_us.iter().all(|b| (50..=1_000).contains(b)),
                "{s:?}"
            );
            assert_eq!(s.gaps_us.len(), MAX_IN_FLIGHT);
            // A fraction of a millisecond first, growing to tens of milliseconds.
            assert!(s.gaps_us[0] < 1_000, "{s:?}");
            let covered: u64 = s.gaps_us.iter().sum();
            assert!(covered > 20_000, "{s:?} covers {covered} µs");
            assert!(
                (1..=MAX_AFTER as usize).contains(&s.after_permille.len()),
                "{s:?}"
            );
            assert!(s.after_permille.windows(2).all(|w| w[0] < w[1]), "{s:?}");
            assert!(
                s.after_permille.iter().all(|a| (50..=1_000).contains(a)),
                "{s:?}"
            );
        }
    }

    #[test]
    fn gaps_never_pass_the_shape_cap() {
        let capped = Shape {
            max_gap_us: 2_000,
            ..STOP
        };
        for seed in 0..50 {
            let s = Schedule::draw(&mut Draw::new(seed, "end"), capped);
            assert!(
                s.gaps_us.iter().all(|&g| (50..=2_000).contains(&g)),
                "{s:?}"
            );
        }
    }

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

// ----- the races of a scenario ------------------------------------------------

/// What a race raced the deletes against, and so what a task no delete won
/// must be afterwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Against {
    /// A stop of a running task: no winning delete leaves it stopped.
    Stop,
    /// A start of a stopped task: no winning delete leaves it there.
    Start,
    /// The engine's own end of a running task: no winning delete leaves it there.
    End,
}

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

/// One race of a scenario: against what, on which task, and how it went.
#[derive(Debug, Clone)]
pub(crate) struct Raced {
    pub against: Against,
    pub project: usize,
    pub id: i64,
    pub timeline: Timeline,
}

/// The in-flight part of every schedule is cut short by the anchor's answer;
/// this only bounds a gap of a target that answers in seconds.
const MAX_GAP_US: u64 = 1_000_000;
/// Around a task's end, gaps stay short: the window of a resurrection may be
/// a few milliseconds after it.
const END_MAX_GAP_US: u64 = 2_000;
/// How close to its predicted end a task is when the deletes begin: one
/// every [`APPROACH_EVERY`] until the schedule's own, 5–15 ms before it.
const NEAR_END: Duration = Duration::from_millis(250);
/// The gap between the deletes of an end race's approach.
const APPROACH_EVERY: Duration = Duration::from_millis(10);
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
    /// out before, during and after the stop.
    pub async fn race_stop(&mut self) -> Result<(), Halt> {
        let (p, id) = self.subject()?;
        let schedule = self.schedule(
            "stop",
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
        self.keep_race(Against::Stop, p, id, timeline)
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

    /// One try of [`Self::race_end`], on task `id` of project `p`.
    async fn race_one_end(&mut self, p: usize, id: i64) -> Result<EndTry, Halt> {
        let deadline = Instant::now() + self.ctx.config.deadlines.state;
        let looked = poll_until(deadline, POLL, async || self.near_end(p, id).await).await;
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
        let api = Arc::clone(&self.api);
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

    /// One look of [`Self::race_end`]: the end is near (when the target
    /// predicts it: now + `left_time`; now when it predicts nothing), or the
    /// task has already ended, or it is still far.
    async fn near_end(&mut self, p: usize, id: i64) -> ControlFlow<Result<Near, Halt>> {
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
            Some(left) if left > NEAR_END => ControlFlow::Continue(()),
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
            let stop = self.api.stop(p, id).await;
            self.keep(stop)?;
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
    pub(super) async fn stay_gone(&mut self, gone: &[(usize, i64)]) -> Result<(), Halt> {
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

impl Against {
    fn name(self) -> &'static str {
        match self {
            Self::Stop => "stop",
            Self::Start => "start",
            Self::End => "end",
        }
    }
}
