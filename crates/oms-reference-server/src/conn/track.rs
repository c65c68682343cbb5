//! What each connection is doing, for its deadlines and for eviction at the
//! connection cap.
//!
//! A connection's [`Track`] is written by its own task only (the framing
//! reader and the service both run inside the hyper connection it polls) and
//! read by the accept loop when it looks for a connection to evict, so its
//! lock is almost never contended.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::task::Waker;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use crate::config::HttpLimits;

/// How long past its body timeout a connection is kept for the answer to a
/// late body (the framed reader fails the body's read at the timeout, and
/// the route answers 408): past it, the connection is closed unanswered.
const LATE_BODY_ANSWER: Duration = Duration::from_secs(1);

/// Where a connection is between requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// No byte of a next request has arrived.
    Waiting,
    /// Part of a head has arrived.
    Head,
    /// A head was passed on and its body is still arriving.
    Body,
}

/// Which deadline ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Timeout {
    Head,
    Body,
    Idle,
}

#[derive(Debug)]
struct State {
    phase: Phase,
    /// When `phase` began.
    since: Instant,
    /// Requests handed to the router and not yet answered.
    in_flight: u32,
    /// When the last answer left the router.
    answered: Option<Instant>,
    /// Heads passed on so far; also the generation an eviction entry names.
    requests: u64,
    /// Answers the router has given so far.
    answers: u64,
    /// The framed reader, waiting for the last answer before it ends the stream.
    end_waiter: Option<Waker>,
    /// The generation last put in the eviction queue.
    queued: Option<u64>,
}

/// One connection's phase, requests in flight and deadline.
#[derive(Debug)]
pub(crate) struct Track {
    state: Mutex<State>,
    /// Woken on every change, so the connection's task recomputes its deadline.
    pub changed: Notify,
    evicted: AtomicBool,
    /// Where the connection goes when it becomes idle, and itself for it.
    queue: Arc<IdleQueue>,
    me: Weak<Track>,
    cap: usize,
}

impl Track {
    /// A new connection's track; it is idle, and queued for eviction at once.
    pub fn new(queue: Arc<IdleQueue>, cap: usize) -> Arc<Self> {
        let track = Arc::new_cyclic(|me| Self {
            state: Mutex::new(State {
                phase: Phase::Waiting,
                since: Instant::now(),
                in_flight: 0,
                answered: None,
                requests: 0,
                answers: 0,
                end_waiter: None,
                queued: None,
            }),
            changed: Notify::new(),
            evicted: AtomicBool::new(false),
            queue,
            me: me.clone(),
            cap,
        });
        track.changed(track.lock());
        track
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding this lock cannot leave the plain fields torn.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records the framing's phase; `head_passed` when a head went to hyper.
    pub fn set_phase(&self, phase: Phase, head_passed: bool) {
        let mut state = self.lock();
        if head_passed {
            state.requests += 1;
        }
        if state.phase == phase && !head_passed {
            return;
        }
        // A first head's clock runs from the accept, not from its first byte.
        let first_head = state.requests == 0 && state.phase == Phase::Waiting;
        if !(first_head && phase == Phase::Head) {
            state.since = Instant::now();
        }
        state.phase = phase;
        self.changed(state);
    }

    /// A request went to the router.
    pub fn begin(&self) {
        self.lock().in_flight += 1;
        self.changed.notify_one();
    }

    /// The router answered a request.
    pub fn end(&self) {
        let mut state = self.lock();
        state.in_flight = state.in_flight.saturating_sub(1);
        state.answered = Some(Instant::now());
        state.answers += 1;
        if let Some(waker) = state.end_waiter.take() {
            waker.wake();
        }
        self.changed(state);
    }

    /// After a change: wakes the connection's task to recompute its deadline,
    /// and puts the connection in the eviction queue if it just became idle
    /// (once a generation). The queue's lock is taken after this one is
    /// released: eviction takes them the other way round.
    fn changed(&self, mut state: MutexGuard<'_, State>) {
        let idle = state.phase != Phase::Body && state.in_flight == 0;
        let enqueue = (idle && state.queued != Some(state.requests)).then(|| {
            state.queued = Some(state.requests);
            state.requests
        });
        drop(state);
        self.changed.notify_one();
        if let Some(generation) = enqueue {
            self.queue.push(self.me.clone(), generation, self.cap);
        }
    }

    /// Whether every head passed on has been answered; if not, `waker` is
    /// woken at the next answer. hyper drops the requests it has read but not
    /// begun when its stream ends, so the end waits for them.
    pub fn all_answered(&self, waker: &Waker) -> bool {
        let mut state = self.lock();
        if state.answers >= state.requests {
            return true;
        }
        state.end_waiter = Some(waker.clone());
        false
    }

    /// The instant the connection's current deadline runs out, and which.
    pub fn deadline(&self, limits: &HttpLimits) -> Option<(Instant, Timeout)> {
        let state = self.lock();
        match state.phase {
            Phase::Body => Some((
                state.since + limits.body_timeout + LATE_BODY_ANSWER,
                Timeout::Body,
            )),
            Phase::Head => Some((state.since + limits.head_timeout, Timeout::Head)),
            Phase::Waiting if state.in_flight > 0 => None,
            Phase::Waiting if state.requests == 0 => {
                Some((state.since + limits.head_timeout, Timeout::Head))
            }
            Phase::Waiting => {
                let since = state.answered.map_or(state.since, |a| a.max(state.since));
                Some((since + limits.idle_timeout, Timeout::Idle))
            }
        }
    }

    pub fn evicted(&self) -> bool {
        self.evicted.load(Ordering::Acquire)
    }

    /// Evicts the connection if it is still idle in generation `generation`.
    fn evict_if_idle(&self, generation: u64) -> bool {
        let state = self.lock();
        let idle = state.phase != Phase::Body && state.in_flight == 0;
        if state.requests != generation || !idle {
            return false;
        }
        drop(state);
        self.evicted.store(true, Ordering::Release);
        self.changed.notify_one();
        true
    }
}

/// The connections that became idle, oldest first: the accept loop evicts
/// from its front when the cap is reached. An entry names the generation in
/// which its connection became idle; one whose connection has moved on (or
/// gone) is stale and skipped. Each entry is pushed once and popped at most
/// once, and the queue is compacted when stale entries outnumber the cap, so
/// pushing and evicting are O(1) amortised.
#[derive(Debug, Default)]
pub(crate) struct IdleQueue {
    entries: Mutex<VecDeque<(Weak<Track>, u64)>>,
}

impl IdleQueue {
    fn lock(&self) -> MutexGuard<'_, VecDeque<(Weak<Track>, u64)>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn push(&self, track: Weak<Track>, generation: u64, cap: usize) {
        let mut entries = self.lock();
        entries.push_back((track, generation));
        if entries.len() > 2 * cap + 64 {
            entries.retain(|(track, generation)| {
                track
                    .upgrade()
                    .is_some_and(|t| !t.evicted() && t.lock().requests == *generation)
            });
        }
    }

    /// Evicts the connection that has been idle longest; false if none is.
    pub fn evict_oldest(&self) -> bool {
        let mut entries = self.lock();
        while let Some((track, generation)) = entries.pop_front() {
            if track.upgrade().is_some_and(|t| t.evict_if_idle(generation)) {
                return true;
            }
        }
        false
    }
}

/// A deadline that never comes, for a connection with none.
pub(crate) fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86_400 * 365)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_idle_connection_is_evicted_and_a_busy_one_never() {
        let queue = Arc::new(IdleQueue::default());
        let a = Track::new(queue.clone(), 4);
        let b = Track::new(queue.clone(), 4);
        // `a` got a request: its entry is stale, so `b` goes.
        a.set_phase(Phase::Body, true);
        a.begin();
        assert!(queue.evict_oldest());
        assert!(b.evicted() && !a.evicted());
        assert!(!queue.evict_oldest(), "a is busy with a body");
        // `a` has its body, then its answer: idle again, in a new generation.
        a.set_phase(Phase::Waiting, false);
        assert!(!queue.evict_oldest(), "a's answer is being made");
        a.end();
        assert!(queue.evict_oldest());
        assert!(a.evicted());
    }

    #[test]
    fn stale_entries_are_compacted() {
        let queue = Arc::new(IdleQueue::default());
        let a = Track::new(queue.clone(), 1);
        for _ in 0..1000 {
            a.set_phase(Phase::Waiting, true);
            a.begin();
            a.end();
        }
        assert!(queue.lock().len() <= 2 + 64 + 1, "{}", queue.lock().len());
        assert!(queue.evict_oldest());
    }

    #[tokio::test(start_paused = true)]
    async fn a_first_head_has_its_timeout_from_the_accept_a_later_one_from_its_first_byte() {
        let limits = HttpLimits::default();
        let track = Track::new(Arc::new(IdleQueue::default()), 4);
        let accepted = track.deadline(&limits).map(|d| d.0);
        tokio::time::advance(Duration::from_millis(5)).await;
        track.set_phase(Phase::Head, false);
        assert_eq!(track.deadline(&limits).map(|d| d.0), accepted);
        track.set_phase(Phase::Waiting, true);
        track.set_phase(Phase::Head, false);
        assert!(track.deadline(&limits).map(|d| d.0) > accepted);
    }

    #[test]
    fn deadlines_follow_the_phase() {
        let limits = HttpLimits::default();
        let track = Track::new(Arc::new(IdleQueue::default()), 4);
        assert_eq!(track.deadline(&limits).map(|d| d.1), Some(Timeout::Head));
        track.set_phase(Phase::Body, true);
        assert_eq!(track.deadline(&limits).map(|d| d.1), Some(Timeout::Body));
        track.begin();
        track.set_phase(Phase::Waiting, false);
        assert_eq!(track.deadline(&limits), None, "an answer is being made");
        track.end();
        assert_eq!(track.deadline(&limits).map(|d| d.1), Some(Timeout::Idle));
        track.set_phase(Phase::Head, false);
        assert_eq!(track.deadline(&limits).map(|d| d.1), Some(Timeout::Head));
    }
}
