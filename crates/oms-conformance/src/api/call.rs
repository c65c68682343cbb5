//! What a dialect module builds and reads with: a [`Call`] (a request before
//! its credentials), the most pages a list reads, the ids and states of a
//! list page's task objects, and an exchange that must have been answered.

use std::sync::Arc;

use serde_json::Value;

use super::neutral::{TaskState, Unread};
use crate::http::{Exchange, Method};

/// A request of a dialect, before it gets its credentials.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Call {
    pub(super) method: Method,
    /// Path and query below the base URL.
    pub(super) target: String,
    pub(super) body: Option<Value>,
}

impl Call {
    pub(super) fn new(method: Method, target: String, body: Option<Value>) -> Self {
        Self {
            method,
            target,
            body,
        }
    }
}

/// Pages of a list a dialect reads at most.
pub(super) const MAX_PAGES: usize = 100;

/// The id and state of each task object of a list page, in a dialect's
/// `state` reading.
pub(super) fn tasks_and_states(
    tasks: Option<&Vec<Value>>,
    state: fn(&Value) -> Option<TaskState>,
) -> Vec<(i64, Option<TaskState>)> {
    tasks
        .into_iter()
        .flatten()
        .filter_map(|t| Some((t.get("id")?.as_i64()?, state(t))))
        .collect()
}

/// `exchange` if it got an answer.
pub(super) fn answered(exchange: Arc<Exchange>) -> Result<Arc<Exchange>, Unread> {
    if exchange.response.is_some() {
        Ok(exchange)
    } else {
        Err(Unread::Transport(exchange))
    }
}
