//! The v2 status codes of the domain's states, both ways: v2 shows
//! initializing and waiting as 1, and has codes of its own for retrying (6)
//! and pausing (7).

use crate::model::{Status, StatusSet};

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
    crate::wire::states_named(code, status_code)
}
