//! The one way the suite waits: look, and look again after a pause, until the
//! look says it is done or a deadline passes. No step sleeps for a fixed time.

use std::ops::ControlFlow;
use std::time::{Duration, Instant};

/// The pause between two looks: from `first`, doubling up to `max`.
#[derive(Debug, Clone, Copy)]
pub struct Interval {
    first: Duration,
    max: Duration,
}

impl Interval {
    /// The same pause every time.
    pub const fn every(pause: Duration) -> Self {
        Self {
            first: pause,
            max: pause,
        }
    }

    /// A pause from `first`, doubled after each look up to `max`: a target that
    /// keeps refusing is asked a few times a second, not fifty.
    pub const fn doubling(first: Duration, max: Duration) -> Self {
        Self { first, max }
    }
}

/// Between two polls of a task's state.
pub(crate) const POLL: Interval = Interval::every(Duration::from_millis(20));

/// Calls `look` until it breaks, or until a look ends at or after `deadline`;
/// there is always at least one look. Returns the break, or the last look's
/// `Continue` when the deadline passed first.
pub async fn poll_until<B, C>(
    deadline: Instant,
    interval: Interval,
    mut look: impl AsyncFnMut() -> ControlFlow<B, C>,
) -> ControlFlow<B, C> {
    let mut pause = interval.first;
    loop {
        let seen = look().await;
        if seen.is_break() || Instant::now() >= deadline {
            return seen;
        }
        tokio::time::sleep(pause.min(deadline.saturating_duration_since(Instant::now()))).await;
        pause = (pause * 2).min(interval.max);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn looks_until_done() {
        let mut looks = 0;
        let far = Instant::now() + Duration::from_secs(60);
        let outcome = poll_until(far, Interval::every(Duration::from_millis(1)), async || {
            looks += 1;
            if looks == 3 {
                ControlFlow::Break(looks)
            } else {
                ControlFlow::Continue(())
            }
        })
        .await;
        assert_eq!(outcome, ControlFlow::Break(3));
    }

    #[tokio::test]
    async fn looks_once_even_past_the_deadline() {
        let mut looks = 0;
        let outcome: ControlFlow<(), usize> = poll_until(
            Instant::now(),
            Interval::every(Duration::from_millis(1)),
            async || {
                looks += 1;
                ControlFlow::Continue(looks)
            },
        )
        .await;
        assert_eq!(outcome, ControlFlow::Continue(1));
    }

    #[tokio::test]
    async fn gives_the_last_look_once_the_deadline_passed() {
        let started = Instant::now();
        let deadline = started + Duration::from_millis(60);
        let mut looks = 0;
        let outcome: ControlFlow<(), usize> = poll_until(
            deadline,
            Interval::doubling(Duration::from_millis(10), Duration::from_millis(20)),
            async || {
                looks += 1;
                ControlFlow::Continue(looks)
            },
        )
        .await;
        assert!(started.elapsed() >= Duration::from_millis(60));
        // However late the sleeps wake on a busy machine, the look after the
        // first pause happens, and the last look is the one returned.
        assert!(matches!(outcome, ControlFlow::Continue(n) if n >= 2 && n == looks));
    }
}
