//! The operations a client asks of a project's tasks: create, delete, stop,
//! start and a new bandwidth policy, each with the refusals of the state
//! machine. Each settles the project up to "now" first (`settle`).

use super::{EngineError, Project, Task};
use crate::bandwidth::Policy;
use crate::model::{Status, TaskSpec};
use crate::workload::Workload;

impl Project {
    /// Stores a new task in status 0 at `now`.
    pub fn create(
        &mut self,
        id: u64,
        spec: Box<TaskSpec>,
        policy: Policy,
        workload: Workload,
        now: u64,
    ) -> Result<(), EngineError> {
        let now = self.settle(now);
        if self.tasks.len() >= self.limits.max_tasks {
            return Err(EngineError::ProjectFull);
        }
        if self.waiting.len() >= self.limits.max_waiting {
            return Err(EngineError::TooManyWaiting);
        }
        let task = Task {
            spec,
            policy,
            workload,
            status: Status::Initializing,
            done: 0,
            since: 0,
            ran_ms: 0,
            first_start: None,
            event_at: None,
            wait_seq: None,
            failed: None,
            recovered: false,
            stalled: false,
            finished_at: None,
            stopped_at: None,
        };
        self.tasks.insert(id, task);
        self.by_status[Status::Initializing.slot()] += 1;
        self.schedule_event(id, now + self.limits.init_ms);
        Ok(())
    }

    /// Removes a task that is not active (running, retrying or pausing).
    pub fn delete(&mut self, id: u64, now: u64) -> Result<(), EngineError> {
        let now = self.settle(now);
        let task = self.tasks.get(&id).ok_or(EngineError::NotFound)?;
        if task.status.is_active() {
            return Err(EngineError::Running);
        }
        self.remove(id, now)
    }

    pub(super) fn remove(&mut self, id: u64, now: u64) -> Result<(), EngineError> {
        let task = self.tasks.remove(&id).ok_or(EngineError::NotFound)?;
        if let Some(at) = task.event_at {
            self.events.remove(&(at, id));
        }
        if let Some(seq) = task.wait_seq {
            self.waiting.remove(&(seq, id));
        }
        self.by_status[task.status.slot()] -= 1;
        if task.status.is_active() {
            self.running -= 1;
            self.schedule_waiting(now);
        }
        Ok(())
    }

    /// Stops a running or retrying task: it pauses (holding its slot) for
    /// `pause_ms`, then is stopped (2/6 → 7 → 3); with `pause_ms` 0 it is
    /// stopped at once.
    pub fn stop(&mut self, id: u64, now: u64) -> Result<(), EngineError> {
        let now = self.settle(now);
        let task = self.tasks.get_mut(&id).ok_or(EngineError::NotFound)?;
        if !matches!(task.status, Status::Running | Status::Retrying) {
            return Err(EngineError::NotRunning);
        }
        task.done = task.moved_by(now);
        if task.status == Status::Running {
            task.ran_ms += now - task.since;
        }
        task.stalled = false;
        let event = task.event_at.take();
        if let Some(at) = event {
            self.events.remove(&(at, id));
        }
        if self.limits.pause_ms == 0 {
            self.finish_pause(id, now);
        } else {
            self.set_status(id, Status::Pausing);
            self.schedule_event(id, now + self.limits.pause_ms);
        }
        Ok(())
    }

    /// Resumes a stopped or failed task (3/4 → 1, then 2 when a slot is free).
    pub fn start(&mut self, id: u64, now: u64) -> Result<(), EngineError> {
        let now = self.settle(now);
        let task = self.tasks.get_mut(&id).ok_or(EngineError::NotFound)?;
        startable(task.status)?;
        if task.status == Status::Failed {
            task.failed = None;
            task.recovered = true;
        }
        self.enqueue(id);
        self.schedule_waiting(now);
        Ok(())
    }

    /// Replaces a task's bandwidth policy; a running task continues at the
    /// new rate from `now`. A succeeded task refuses: it has nothing left to move.
    pub fn set_policy(&mut self, id: u64, policy: Policy, now: u64) -> Result<(), EngineError> {
        let now = self.settle(now);
        let task = self.tasks.get_mut(&id).ok_or(EngineError::NotFound)?;
        if task.status == Status::Succeeded {
            return Err(EngineError::PolicyOfCompleteTask);
        }
        if task.status == Status::Running {
            task.done = task.moved_by(now);
            task.ran_ms += now - task.since;
            task.since = now;
            task.policy = policy;
            self.plan_run_end(id, now);
        } else {
            task.policy = policy;
        }
        Ok(())
    }
}

/// Whether a task in `status` can be started: the refusals of [`Project::start`].
pub(super) fn startable(status: Status) -> Result<(), EngineError> {
    match status {
        Status::Stopped | Status::Failed => Ok(()),
        Status::Succeeded => Err(EngineError::Complete),
        Status::Initializing
        | Status::Waiting
        | Status::Running
        | Status::Retrying
        | Status::Pausing => Err(EngineError::AlreadyStarted),
    }
}
