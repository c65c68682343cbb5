//! What a race did: a [`Timeline`] of every request of the race, relative to
//! its anchor, as the reports show it and a failure replays it, and the
//! [`Raced`] record of a scenario's race (against what, on which task).

use std::fmt::{self, Write as _};
use std::sync::Arc;

use serde::Serialize;

use crate::http::Exchange;

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

/// One race of a scenario: against what, on which task, and how it went.
#[derive(Debug, Clone)]
pub(crate) struct Raced {
    pub against: Against,
    pub project: usize,
    pub id: i64,
    pub timeline: Timeline,
}

impl Against {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Stop => "stop",
            Self::Start => "start",
            Self::End => "end",
        }
    }
}
