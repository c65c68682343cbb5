//! The simulated migration engine: one project's tasks and their state machine,
//! over the domain types of `model` (the engine knows no wire format).
//!
//! Nothing runs in the background. Every operation first *settles* the project
//! up to "now": it replays, in time order, the transitions that became due
//! since the last call (0 → 1 after initialisation, 1 → 2 (or 6, retrying)
//! when a parallel slot frees, 2 → 4/5 when the work is done, pausing → 3 when
//! the pause delay has passed). A task's progress is a pure function
//! of its state and the clock, so results do not depend on who looks when, and
//! every operation is O(log n) in the number of stored tasks plus the number of
//! transitions it replays. The caller holds the project's lock across the whole
//! operation, which is what makes each state change atomic.

use std::collections::{BTreeMap, BTreeSet};

use crate::bandwidth::Policy;
use crate::model::{FailureReason, Figures, Status, StatusSet, TaskSpec, TaskView, task_name};
use crate::workload::{BASE_RATE, Fate, Workload};

/// How many rate changes `finish_time` walks before deferring (a few days of windows).
const HORIZON_SEGMENTS: usize = 64;

/// Per-project limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// `MaxParallelTaskNum`: tasks running at once; the rest wait in status 1.
    pub max_parallel: usize,
    /// No new task while this many wait (`OMS.0077`).
    pub max_waiting: usize,
    /// Tasks stored at once.
    pub max_tasks: usize,
    /// How long a new task stays in status 0, in milliseconds.
    pub init_ms: u64,
    /// How long a stopped task stays pausing (holding its slot) before it is
    /// stopped, in milliseconds; 0 stops at once.
    pub pause_ms: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_parallel: 5,
            max_waiting: 50,
            max_tasks: 10_000_000,
            init_ms: 100,
            pause_ms: 50,
        }
    }
}

/// Why the engine refused an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    #[error("no such task")]
    NotFound,
    #[error("the task is running")]
    Running,
    #[error("the task is not running")]
    NotRunning,
    #[error("the task has already started")]
    AlreadyStarted,
    #[error("the task is complete")]
    Complete,
    #[error("the task is complete: its bandwidth policy can no longer change")]
    PolicyOfCompleteTask,
    #[error("too many tasks are waiting")]
    TooManyWaiting,
    #[error("the project holds the maximum number of tasks")]
    ProjectFull,
}

/// What the simulated source reports when a `fail-…` task fails.
pub const SIMULATED_FAILURE: FailureReason = FailureReason {
    code: "OMS.0031",
    message: "Simulated source failure: the source refused to list objects.",
};

/// One stored task.
#[derive(Debug, Clone)]
struct Task {
    spec: Box<TaskSpec>,
    policy: Policy,
    workload: Workload,
    status: Status,
    /// Bytes moved before `since`.
    done: u64,
    /// When the current run began (status 2 and 6 only).
    since: u64,
    /// Milliseconds spent running before `since`.
    ran_ms: u64,
    /// When the task first ran.
    first_start: Option<u64>,
    /// The key of the task's pending event in `Project::events`.
    event_at: Option<u64>,
    /// The key of the task's place in `Project::waiting`.
    wait_seq: Option<u64>,
    failed: Option<FailureReason>,
    /// Set by a restart after failure: the transient fault is gone.
    recovered: bool,
    /// The source stopped delivering: the task stays running but moves
    /// nothing, until it is stopped (see [`Project::stall`]).
    stalled: bool,
    /// When the task succeeded: the instant its run reached its end.
    finished_at: Option<u64>,
}

impl Task {
    /// Bytes at which the current run ends, by success or by failure.
    fn target(&self) -> u64 {
        match self.workload.fate {
            Fate::Fail { at_bytes } if !self.recovered => at_bytes,
            _ => self.workload.total_size,
        }
    }

    /// Whether the task moves data now: running, and its source not stalled.
    fn moving(&self) -> bool {
        self.status == Status::Running && !self.stalled
    }

    fn moved_by(&self, now: u64) -> u64 {
        if self.moving() {
            let moved = self
                .policy
                .transferred(BASE_RATE, self.since, now.max(self.since));
            (self.done + moved).min(self.target())
        } else {
            self.done
        }
    }
}

/// A copy of one stored task at rest (stopped, failed or succeeded: it holds
/// no parallel slot, no place in the queue and no pending transition), to
/// write back with [`Project::write_back`]. Opaque: only the engine reads it.
#[derive(Debug, Clone)]
pub struct Record(Box<Task>);

/// Which tasks a newest-first list asks for.
#[derive(Debug, Clone, Copy, Default)]
pub struct Filter<'a> {
    /// Only tasks in one of these states.
    pub states: Option<StatusSet>,
    /// Only tasks whose name contains this.
    pub name_contains: Option<&'a str>,
    /// Only tasks created by this task group. No task of this engine belongs
    /// to a group, so such a filter matches nothing.
    pub group_id: Option<&'a str>,
}

/// One project's tasks.
#[derive(Debug)]
pub struct Project {
    limits: Limits,
    tasks: BTreeMap<u64, Task>,
    /// Due transitions: (when, task id). A task has at most one.
    events: BTreeSet<(u64, u64)>,
    /// Tasks in status 1, first come first served: (sequence, task id).
    waiting: BTreeSet<(u64, u64)>,
    next_seq: u64,
    /// The latest "now" the project has seen: time never runs backwards here.
    latest: u64,
    running: usize,
    by_status: [usize; Status::ALL.len()],
}

impl Project {
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            tasks: BTreeMap::new(),
            events: BTreeSet::new(),
            waiting: BTreeSet::new(),
            next_seq: 0,
            latest: 0,
            running: 0,
            by_status: [0; Status::ALL.len()],
        }
    }

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
        };
        self.tasks.insert(id, task);
        self.by_status[Status::Initializing.slot()] += 1;
        self.schedule_event(id, now + self.limits.init_ms);
        Ok(())
    }

    pub fn get(&mut self, id: u64, now: u64) -> Option<TaskView<'_>> {
        let now = self.settle(now);
        let task = self.tasks.get(&id)?;
        Some(view(id, task, now))
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

    /// Removes a task whatever its state, running or not. No operation of the
    /// API does this; it is the primitive with which fault injection builds a
    /// server that deletes what it must refuse.
    pub fn remove_unchecked(&mut self, id: u64, now: u64) -> Result<(), EngineError> {
        let now = self.settle(now);
        self.remove(id, now)
    }

    fn remove(&mut self, id: u64, now: u64) -> Result<(), EngineError> {
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

    /// A pausing task's delay is over: it is stopped and frees its slot.
    fn finish_pause(&mut self, id: u64, at: u64) {
        self.set_status(id, Status::Stopped);
        self.running -= 1;
        self.schedule_waiting(at);
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

    /// Tasks in id order, optionally in one of `states`, from index `start`.
    pub fn list(
        &mut self,
        now: u64,
        start: usize,
        limit: usize,
        states: Option<StatusSet>,
    ) -> Vec<TaskView<'_>> {
        let now = self.settle(now);
        self.tasks
            .iter()
            .filter(|(_, t)| states.is_none_or(|s| s.contains(t.status)))
            .skip(start)
            .take(limit)
            .map(|(&id, t)| view(id, t, now))
            .collect()
    }

    /// Tasks newest first (id descending) that pass `filter`, from index
    /// `offset`, and how many pass it in all. Without a name filter the page
    /// costs O(offset + limit) and the total O(1); a name filter scans.
    pub fn list_newest_first(
        &mut self,
        now: u64,
        offset: usize,
        limit: usize,
        filter: &Filter<'_>,
    ) -> (Vec<TaskView<'_>>, usize) {
        let now = self.settle(now);
        if filter.group_id.is_some() {
            return (Vec::new(), 0);
        }
        let passes = |id: u64, t: &Task| {
            filter.states.is_none_or(|s| s.contains(t.status))
                && filter
                    .name_contains
                    .is_none_or(|needle| task_name(id).contains(needle))
        };
        let total = match filter.name_contains {
            None => self.count_settled(filter.states),
            Some(_) => self.tasks.iter().filter(|&(&id, t)| passes(id, t)).count(),
        };
        let page = self
            .tasks
            .iter()
            .rev()
            .filter(|&(&id, t)| passes(id, t))
            .skip(offset)
            .take(limit)
            .map(|(&id, t)| view(id, t, now))
            .collect();
        (page, total)
    }

    /// How many tasks there are, optionally in one of `states`: O(1).
    pub fn count(&mut self, now: u64, states: Option<StatusSet>) -> usize {
        self.settle(now);
        self.count_settled(states)
    }

    fn count_settled(&self, states: Option<StatusSet>) -> usize {
        states.map_or(self.tasks.len(), |set| {
            set.iter().map(|s| self.by_status[s.slot()]).sum()
        })
    }

    /// Replays every transition due by `now`, in time order.
    ///
    /// Returns the effective "now": never earlier than one already seen, so a
    /// wall clock stepped back, or two requests that read the clock in one
    /// order and take the lock in the other, cannot make time run backwards
    /// (every duration below is `now - earlier`).
    fn settle(&mut self, now: u64) -> u64 {
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
            self.plan_run_end(id, at);
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

    /// Starts waiting tasks while parallel slots are free.
    fn schedule_waiting(&mut self, now: u64) {
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
    fn plan_run_end(&mut self, id: u64, now: u64) {
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
        self.schedule_event(id, at);
    }

    fn schedule_event(&mut self, id: u64, at: u64) {
        let Some(task) = self.tasks.get_mut(&id) else {
            return;
        };
        if let Some(old) = task.event_at.replace(at) {
            self.events.remove(&(old, id));
        }
        self.events.insert((at, id));
    }

    fn enqueue(&mut self, id: u64) {
        let seq = self.next_seq;
        self.next_seq += 1;
        if let Some(task) = self.tasks.get_mut(&id) {
            task.wait_seq = Some(seq);
            self.waiting.insert((seq, id));
            self.set_status(id, Status::Waiting);
        }
    }

    fn set_status(&mut self, id: u64, status: Status) {
        if let Some(task) = self.tasks.get_mut(&id) {
            self.by_status[task.status.slot()] -= 1;
            self.by_status[status.slot()] += 1;
            task.status = status;
        }
    }
}

/// Whether a task in `status` can be started: the refusals of [`Project::start`].
fn startable(status: Status) -> Result<(), EngineError> {
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

/// Whether a task in `status` is at rest: it holds no slot, no place in the
/// queue and no pending transition, and only a client's start moves it.
fn at_rest(status: Status) -> bool {
    matches!(status, Status::Stopped | Status::Failed | Status::Succeeded)
}

fn view(id: u64, task: &Task, now: u64) -> TaskView<'_> {
    let complete_size = task.moved_by(now);
    let w = &task.workload;
    let running = task.status == Status::Running;
    let rate = if task.moving() {
        task.policy.rate_at(BASE_RATE, now)
    } else {
        0
    };
    let (success_num, fail_num) = match task.status {
        Status::Succeeded => (w.total_num, 0),
        Status::Failed => (w.total_num * complete_size / w.total_size.max(1), 1),
        _ => (w.total_num * complete_size / w.total_size.max(1), 0),
    };
    TaskView {
        id,
        spec: &task.spec,
        policy: &task.policy,
        figures: Figures {
            status: task.status,
            total_size: w.total_size,
            complete_size,
            total_num: w.total_num,
            success_num,
            fail_num,
            migrate_speed: rate,
            start_time: task.first_start.unwrap_or(0),
            total_time: task.ran_ms
                + if running {
                    now.saturating_sub(task.since)
                } else {
                    0
                },
            left_time: (w.total_size - complete_size)
                .saturating_mul(1000)
                .checked_div(rate)
                .unwrap_or(0),
            failure: task.failed,
        },
    }
}
