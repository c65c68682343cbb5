//! The queries of a project's tasks: one task, a page in id order or newest
//! first with its filters, and the counts, each as a [`TaskView`] of the
//! settled state (a task's figures computed from its state and the clock).

use super::{Filter, Project, Task};
use crate::model::{Figures, Status, StatusSet, TaskView, task_name};
use crate::workload::BASE_RATE;

impl Project {
    /// One task as of `now`, if it exists.
    pub fn get(&mut self, id: u64, now: u64) -> Option<TaskView<'_>> {
        let now = self.settle(now);
        let task = self.tasks.get(&id)?;
        Some(view(id, task, now))
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
