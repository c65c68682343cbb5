//! The deadlines of a run ([`Deadlines`]): one HTTP exchange, a task reaching
//! a state, the queue allowance, the whole run, the settle period and the
//! after-stop window, each the one given over the profile's over the default.

use std::time::Duration;

use super::profile::DeadlinesFile;
use crate::time::parse_duration;

/// Every wait and every request is bounded by one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadlines {
    /// One HTTP exchange, connect to last body byte.
    pub request: Duration,
    /// Waiting for a task to reach a state.
    pub state: Duration,
    /// What a task still waiting for a slot of its project's quota (status 1)
    /// is given beyond `state`, in all: the kit's own concurrent scenarios
    /// fill the quota, and the target schedules waiting tasks in turn.
    pub queue: Duration,
    /// The whole run.
    pub run: Duration,
    /// How long a task a race deleted must stay gone, polled (OMS-DEL-013,
    /// -014, -024): a resurrection that comes later is not seen.
    pub settle: Duration,
    /// How long v2's remedy (OMS-DEL-007) retries a delete of the stopped
    /// task refused with `OMS.0063`, as the Terraform provider does
    /// (`oms-v2-api.md` §3, §7).
    pub after_stop: Duration,
}

impl Default for Deadlines {
    fn default() -> Self {
        Self {
            request: Duration::from_secs(5),
            state: Duration::from_secs(30),
            queue: Duration::from_secs(30),
            run: Duration::from_secs(300),
            settle: Duration::from_secs(1),
            after_stop: Duration::from_secs(30),
        }
    }
}

/// The request, state and run deadlines, the queue allowance, the settle
/// period and the after-stop window: each the one given over the profile's
/// over the default (the last three have no flag).
pub(super) fn deadlines(
    file: &DeadlinesFile,
    request: Option<Duration>,
    state: Option<Duration>,
    run: Option<Duration>,
) -> Result<Deadlines, String> {
    let defaults = Deadlines::default();
    let deadline =
        |given: Option<Duration>, in_profile: &Option<String>, name: &str, default| match (
            given,
            in_profile.as_deref(),
        ) {
            (Some(given), _) => Ok(given),
            (None, Some(text)) => {
                parse_duration(text).map_err(|m| format!("deadlines.{name}: {m}"))
            }
            (None, None) => Ok(default),
        };
    Ok(Deadlines {
        request: deadline(request, &file.request, "request", defaults.request)?,
        state: deadline(state, &file.state, "state", defaults.state)?,
        queue: deadline(None, &file.queue, "queue", defaults.queue)?,
        run: deadline(run, &file.run, "run", defaults.run)?,
        settle: deadline(None, &file.settle, "settle", defaults.settle)?,
        after_stop: deadline(None, &file.after_stop, "after_stop", defaults.after_stop)?,
    })
}
