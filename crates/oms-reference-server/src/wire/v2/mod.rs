//! OMS v2 on the wire (`oms-v2-api.md` §2): the create, start, bandwidth and
//! list request forms, validated into the domain's [`TaskSpec`] and
//! [`Policy`], and the task object and status codes rendered from a
//! [`TaskView`]. Unknown fields are ignored at every level of every body
//! (see `wire`), and secrets are dropped here.
//!
//! One file a body or answer: the create body (`create`), the start and
//! bandwidth-policy bodies (`actions`), the list query (`list`) and the task
//! object (`task`), over the task settings' codes in both directions
//! (`settings`). This module holds what several of them share: the status
//! codes, the reading of an absent body, the token limit and the
//! bandwidth-policy checks.

mod actions;
mod create;
mod list;
mod settings;
mod task;

use serde::Deserialize;

use super::{WindowIn, windows};
use crate::bandwidth::{Policy, PolicyError};
use crate::error::ApiError;
use crate::model::{Status, StatusSet};

pub use actions::{BandwidthBody, StartBody};
pub use create::{CreateBody, Created};
pub use list::ListParams;
pub use task::{ListOut, TaskOut};

const MAX_TOKEN_LEN: usize = 16_384;
/// The documented `max_bandwidth` range, bytes per second (1–200 MiB/s).
const MIN_BANDWIDTH: u64 = 1_048_576;
const MAX_BANDWIDTH: u64 = 209_715_200;

/// The v2 status code of a state. v2 has no code for initializing: it shows
/// as 1, which the console labels "background initialising or waiting".
pub fn status_code(status: Status) -> u8 {
    match status {
        Status::Initializing | Status::Waiting => 1,
        Status::Running => 2,
        Status::Stopped => 3,
        Status::Failed => 4,
        Status::Succeeded => 5,
        Status::Retrying => 6,
        Status::Pausing => 7,
    }
}

/// The states a v2 status code names (`status=1` includes initializing).
pub fn states_of_code(code: u8) -> Option<StatusSet> {
    super::states_named(code, status_code)
}

/// An absent body (an SDK call without one sends `Content-Length: 0`) reads
/// as `{}`, so a missing required field is named instead of "not JSON".
pub fn parse_body<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, ApiError> {
    super::parse_json(if bytes.is_empty() { b"{}" } else { bytes })
}

/// Maps a policy refusal to the v2 code table: too many / range / overlap /
/// update failed / bad window = `OMS.0083` / `0084` / `0085` / `0086` / `0087`.
fn policy_error(err: PolicyError) -> ApiError {
    let code = match err {
        PolicyError::TooMany(_) => "OMS.0083",
        PolicyError::ZeroBandwidth(_) => "OMS.0084",
        PolicyError::Overlap(_) => "OMS.0085",
        PolicyError::BadTime(_) | PolicyError::EmptyWindow(_) => "OMS.0087",
    };
    ApiError::bandwidth(code, err)
}

/// Validates a policy as the create and bandwidth-policy bodies state it
/// (`BandwidthPolicyDto`); a `max_bandwidth` outside the documented range is
/// "range" (`OMS.0084`).
pub fn policy(stated: Vec<WindowIn>) -> Result<Policy, ApiError> {
    let specs = windows(stated, MIN_BANDWIDTH..=MAX_BANDWIDTH, "OMS.0084")?;
    Policy::parse(&specs).map_err(policy_error)
}

/// A security token: at most 16,384 characters when given (the create and
/// start bodies both carry them).
pub(super) fn token_len(field: &'static str, value: Option<&str>) -> Result<(), ApiError> {
    match value {
        Some(v) if v.chars().count() > MAX_TOKEN_LEN => Err(ApiError::invalid_params(
            format_args!("`{field}` is longer than {MAX_TOKEN_LEN} characters"),
        )),
        _ => Ok(()),
    }
}
