//! What every v2 body shares: an absent one reads as `{}`, and a security
//! token, which the create and start bodies both carry, has a limit.

use serde::Deserialize;

use crate::error::ApiError;

const MAX_TOKEN_LEN: usize = 16_384;

/// An absent body (an SDK call without one sends `Content-Length: 0`) reads
/// as `{}`, so a missing required field is named instead of "not JSON".
pub fn parse_body<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, ApiError> {
    crate::wire::parse_json(if bytes.is_empty() { b"{}" } else { bytes })
}

/// A security token: at most 16,384 characters when given.
pub(super) fn token_len(field: &'static str, value: Option<&str>) -> Result<(), ApiError> {
    match value {
        Some(v) if v.chars().count() > MAX_TOKEN_LEN => Err(ApiError::invalid_params(
            format_args!("`{field}` is longer than {MAX_TOKEN_LEN} characters"),
        )),
        _ => Ok(()),
    }
}
