//! The bandwidth policy as the v2 create and bandwidth-policy bodies state
//! it (`BandwidthPolicyDto`): its windows checked against v2's range, and
//! a refusal mapped to v2's code table.

use crate::bandwidth::{Policy, PolicyError};
use crate::error::ApiError;
use crate::wire::{WindowIn, windows};

/// The documented `max_bandwidth` range, bytes per second (1–200 MiB/s).
const MIN_BANDWIDTH: u64 = 1_048_576;
const MAX_BANDWIDTH: u64 = 209_715_200;

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
