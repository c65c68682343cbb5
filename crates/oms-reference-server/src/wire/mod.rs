//! The server's wire formats, one module per API dialect. Each converts its
//! request bodies into the domain types of `model` (validating them on the way
//! and dropping secrets at the edge) and renders domain views back, and owns
//! the dialect's status codes. The harness never sees these types: it judges
//! the JSON it receives.
//!
//! This module holds what every dialect's bodies share: JSON parsing with OMS
//! error codes, and the field checks of the create and start bodies.

pub mod v1;
pub mod v2;

use serde::Deserialize;

use crate::bandwidth::PolicyError;
use crate::error::ApiError;
use crate::model::{Status, StatusSet};

const MAX_KEY_LEN: usize = 100;

/// The states a dialect's status code names (several where the dialect
/// shows several states as one code), if it names any.
pub(crate) fn states_named(code: u8, status_code: fn(Status) -> u8) -> Option<StatusSet> {
    let states: Vec<Status> = Status::ALL
        .into_iter()
        .filter(|s| status_code(*s) == code)
        .collect();
    (!states.is_empty()).then(|| StatusSet::of(&states))
}

/// Parses a JSON body, mapping serde's failure to the OMS code for it.
pub fn parse_json<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|err| {
        let msg = err.to_string();
        if err.is_data() {
            // serde's "missing field `x`" names no value, so it is safe to echo;
            // other data errors may quote a value (a secret), so only the position is given.
            if msg.starts_with("missing field") {
                ApiError::missing_param(msg)
            } else {
                ApiError::invalid_params(format_args!(
                    "wrong type or value at line {} column {}",
                    err.line(),
                    err.column()
                ))
            }
        } else {
            ApiError::not_json(format_args!("line {} column {}", err.line(), err.column()))
        }
    })
}

pub(crate) fn required(field: &'static str, value: Option<String>) -> Result<String, ApiError> {
    match value {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(ApiError::missing_param(format_args!("`{field}`"))),
    }
}

pub(crate) fn non_empty(field: &'static str, value: &str) -> Result<(), ApiError> {
    if value.is_empty() {
        return Err(ApiError::missing_param(format_args!("`{field}`")));
    }
    Ok(())
}

pub(crate) fn key_len(field: &'static str, value: &str) -> Result<(), ApiError> {
    non_empty(field, value)?;
    if value.chars().count() > MAX_KEY_LEN {
        return Err(ApiError::invalid_params(format_args!(
            "`{field}` is longer than {MAX_KEY_LEN} characters"
        )));
    }
    Ok(())
}

/// Maps a policy refusal to its code (OMS.0083–0087, the reference's choice).
pub fn policy_error(err: PolicyError) -> ApiError {
    let code = match err {
        PolicyError::BadTime(_) => "OMS.0083",
        PolicyError::EmptyWindow(_) => "OMS.0084",
        PolicyError::Overlap(_) => "OMS.0085",
        PolicyError::TooMany(_) => "OMS.0086",
        PolicyError::ZeroBandwidth(_) => "OMS.0087",
    };
    ApiError::bandwidth(code, err)
}
