//! Lazy settling and scheduling: the transitions due by "now" replayed in
//! time order, and what plans them (the parallel slots, the waiting queue,
//! the end of a run under its bandwidth policy, the pending events).

use super::{Project, SIMULATED_FAILURE};
use crate::model::Status;
use crate::workload::{BASE_RATE, Fate};

/// How many rate changes `finish_time` walks before deferring (a few days of windows).
const HORIZON_SEGMENTS: usize = 64;

impl Project {
    /// Replays every transition due by `now`, in time order.
    ///
    /// Returns the effective "now": never earlier than one already seen, so a
    /// wall clock stepped back, or two requests that read the clock in one
    /// order and take the lock in the other, cannot make time run backwards
    /// (every duration below is `now - earlier`).
    pub(super) fn settle(&mut self, now: u64) -> u64 {
        let now = now.max(self.latest);
        self.latest = now;
        while let Some(&(at, id)) = self.events.first() {
            if at > now {
                break;
            }
            self.events.pop_first();
            let Some(task) = self.tasks.get_mut(&id) else {
                continue;
            };
            task.event_at = None;
            match task.status {
                Status::Initializing => {
                    self.set_status(id, Status::Waiting);
                    self.enqueue(id);
                    self.schedule_waiting(at);
                }
                Status::Running => self.reach(id, at),
                // Only a flap's retry holds an event (a `retry-…` source
                // retries until stopped): it is over, and the task runs on.
                Status::Retrying => self.run_on(id, at),
                Status::Pausing => self.finish_pause(id, at),
                // Other states never hold an event.
                _ => {}
            }
        }
        now
    }

    /// A running task's event fired at `at`: finish it, or plan further if a
    /// bandwidth policy put the end beyond the horizon.
    fn reach(&mut self, id: u64, at: u64) {
        let Some(task) = self.tasks.get_mut(&id) else {
            return;
        };
        let moved = task.moved_by(at);
        task.ran_ms += at - task.since;
        task.since = at;
        task.done = moved;
        if moved < task.target() {
            match self.flaps {
                // The end of a run between two flaps: the task retries a while.
                Some(flaps) => {
                    self.set_status(id, Status::Retrying);
                    self.schedule_event(id, at + flaps.retry_ms);
                }
                None => self.plan_run_end(id, at),
            }
            return;
        }
        let outcome = match task.workload.fate {
            Fate::Fail { .. } if !task.recovered => {
                task.failed = Some(SIMULATED_FAILURE);
                Status::Failed
            }
            _ => {
                task.finished_at = Some(at);
                Status::Succeeded
            }
        };
        self.set_status(id, outcome);
        self.running -= 1;
        self.schedule_waiting(at);
    }

    /// A flap's retry is over at `at`: the task runs on from where it was.
    fn run_on(&mut self, id: u64, at: u64) {
        let Some(task) = self.tasks.get_mut(&id) else {
            return;
        };
        task.since = at;
        self.set_status(id, Status::Running);
        self.plan_run_end(id, at);
    }

    /// A pausing task's delay is over: it is stopped and frees its slot.
    pub(super) fn finish_pause(&mut self, id: u64, at: u64) {
        if let Some(task) = self.tasks.get_mut(&id) {
            task.stopped_at = Some(at);
        }
        self.set_status(id, Status::Stopped);
        self.running -= 1;
        self.schedule_waiting(at);
    }

    /// Starts waiting tasks while parallel slots are free.
    pub(super) fn schedule_waiting(&mut self, now: u64) {
        while self.running < self.limits.max_parallel {
            let Some((_, id)) = self.waiting.pop_first() else {
                break;
            };
            let Some(task) = self.tasks.get_mut(&id) else {
                continue;
            };
            task.wait_seq = None;
            task.since = now;
            task.first_start.get_or_insert(now);
            let retries = task.workload.fate == Fate::Retry;
            self.running += 1;
            if retries {
                // Retries its source until stopped: no run end to plan.
                self.set_status(id, Status::Retrying);
            } else {
                self.set_status(id, Status::Running);
                self.plan_run_end(id, now);
            }
        }
    }

    /// Schedules the end of a running task's current run.
    pub(super) fn plan_run_end(&mut self, id: u64, now: u64) {
        let Some(task) = self.tasks.get(&id) else {
            return;
        };
        let left = task.target().saturating_sub(task.done);
        let at = match task
            .policy
            .finish_time(BASE_RATE, now, left, HORIZON_SEGMENTS)
        {
            Ok(at) | Err(at) => at,
        };
        // Under flaps a run lasts `run_ms` at most before the next retry.
        let at = self.flaps.map_or(at, |f| at.min(now + f.run_ms));
        self.schedule_event(id, at);
    }

    pub(super) fn schedule_event(&mut self, id: u64, at: u64) {
        let Some(task) = self.tasks.get_mut(&id) else {
            return;
        };
        if let Some(old) = task.event_at.replace(at) {
            self.events.remove(&(old, id));
        }
        self.events.insert((at, id));
    }

    pub(super) fn enqueue(&mut self, id: u64) {
        let seq = self.next_seq;
        self.next_seq += 1;
        if let Some(task) = self.tasks.get_mut(&id) {
            task.wait_seq = Some(seq);
            self.waiting.insert((seq, id));
            self.set_status(id, Status::Waiting);
        }
    }

    pub(super) fn set_status(&mut self, id: u64, status: Status) {
        if let Some(task) = self.tasks.get_mut(&id) {
            self.by_status[task.status.slot()] -= 1;
            self.by_status[status.slot()] += 1;
            task.status = status;
        }
    }
}
