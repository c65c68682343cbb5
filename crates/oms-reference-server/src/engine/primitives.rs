//! The primitives with which fault injection builds a server that does what
//! the API must refuse (delete a running task, skip a pause, write back a
//! stale record, …). No operation of the API calls them; each keeps every
//! count of the project consistent, so a wrong server is wrong only where
//! its fault says.

use super::operations::startable;
use super::{EngineError, Flaps, Project, Record};
use crate::model::Status;

impl Project {
    /// Removes a task whatever its state, running or not. No operation of the
    /// API does this; it is the primitive with which fault injection builds a
    /// server that deletes what it must refuse.
    pub fn remove_unchecked(&mut self, id: u64, now: u64) -> Result<(), EngineError> {
        let now = self.settle(now);
        self.remove(id, now)
    }

    /// Stalls a running task's source: the task stays running but moves
    /// nothing and never finishes, until a stop. No operation of the API does
    /// this; fault injection uses it for a server whose refused delete
    /// breaks the task it refused to delete.
    pub fn stall(&mut self, id: u64, now: u64) {
        let now = self.settle(now);
        let Some(task) = self.tasks.get_mut(&id) else {
            return;
        };
        if task.status != Status::Running || task.stalled {
            return;
        }
        task.done = task.moved_by(now);
        task.ran_ms += now - task.since;
        task.since = now;
        task.stalled = true;
        if let Some(at) = task.event_at.take() {
            self.events.remove(&(at, id));
        }
    }

    /// Ends a pausing task's pause now: it is stopped and frees its slot, as
    /// if its delay had passed. No operation of the API does this; fault
    /// injection uses it for a stop that skips the pause. Any other task is
    /// left as it is.
    pub fn end_pause(&mut self, id: u64, now: u64) {
        let now = self.settle(now);
        let Some(task) = self.tasks.get_mut(&id) else {
            return;
        };
        if task.status != Status::Pausing {
            return;
        }
        if let Some(at) = task.event_at.take() {
            self.events.remove(&(at, id));
        }
        self.finish_pause(id, now);
    }

    /// Whether [`Project::start`] would start the task now, refusing as it
    /// would, without starting it. No operation of the API does this; fault
    /// injection uses it for a start that reads the task before it starts it.
    pub fn check_start(&mut self, id: u64, now: u64) -> Result<(), EngineError> {
        self.settle(now);
        let task = self.tasks.get(&id).ok_or(EngineError::NotFound)?;
        startable(task.status)
    }

    /// When the task succeeded (the instant its run reached its end), as of
    /// `now`; `None` for a task that has not succeeded or does not exist.
    pub fn finished_at(&mut self, id: u64, now: u64) -> Option<u64> {
        self.settle(now);
        self.tasks.get(&id)?.finished_at
    }

    /// When the task was stopped (the instant its pause ended), as of `now`;
    /// `None` for a task that is not stopped or does not exist.
    pub fn stopped_at(&mut self, id: u64, now: u64) -> Option<u64> {
        self.settle(now);
        let task = self.tasks.get(&id)?;
        task.stopped_at.filter(|_| task.status == Status::Stopped)
    }

    /// Gives every task that runs from now on the transient trouble of
    /// `flaps`: it retries (status 6) a while after each stretch of running,
    /// and runs on by itself. No operation of the API does this; fault
    /// injection uses it for a server whose running tasks retry again and
    /// again, as a live engine's may.
    pub fn flap(&mut self, flaps: Flaps) {
        self.flaps = Some(flaps);
    }

    /// Whether the task is retrying only for a while (a flap), so that the
    /// engine runs it on by itself, as of `now`.
    pub fn flapping(&mut self, id: u64, now: u64) -> bool {
        self.settle(now);
        self.tasks
            .get(&id)
            .is_some_and(|t| t.status == Status::Retrying && t.event_at.is_some())
    }

    /// Stops a running task at once (2 → 3, no pause). No operation of the
    /// API does this; fault injection uses it for a server whose refused
    /// delete stops the task it refused to delete.
    pub fn stop_at_once(&mut self, id: u64, now: u64) {
        if self.stop(id, now).is_ok() {
            self.end_pause(id, now);
        }
    }

    /// A copy of a task at rest (stopped, failed or succeeded), as of `now`;
    /// `None` for a task that is not at rest or does not exist. No operation
    /// of the API does this; fault injection uses it, with
    /// [`Project::write_back`], for a server that writes back a record it
    /// read earlier.
    pub fn record(&mut self, id: u64, now: u64) -> Option<Record> {
        self.settle(now);
        let task = self.tasks.get(&id)?;
        at_rest(task.status).then(|| Record(Box::new(task.clone())))
    }

    /// Stores `record` as task `id` at `now`: re-inserts it if the task was
    /// deleted meanwhile, replaces the task otherwise (freeing the slot or the
    /// place in the queue the task held). Every count stays consistent: the
    /// record is at rest, so it brings no slot, no queue place and no pending
    /// transition. No operation of the API does this; fault injection uses it
    /// for a server whose late bookkeeping undoes a delete.
    pub fn write_back(&mut self, id: u64, record: Record, now: u64) {
        let now = self.settle(now);
        if self.tasks.contains_key(&id) {
            // Present, so the removal cannot fail.
            let _ = self.remove(id, now);
        }
        let task = *record.0;
        debug_assert!(at_rest(task.status) && task.event_at.is_none() && task.wait_seq.is_none());
        self.by_status[task.status.slot()] += 1;
        self.tasks.insert(id, task);
    }
}

/// Whether a task in `status` is at rest: it holds no slot, no place in the
/// queue and no pending transition, and only a client's start moves it.
fn at_rest(status: Status) -> bool {
    matches!(status, Status::Stopped | Status::Failed | Status::Succeeded)
}
