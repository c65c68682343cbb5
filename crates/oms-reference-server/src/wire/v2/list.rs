//! The v2 list query: paging by `offset` and `limit`, and the `status`,
//! `task_name` and `group_id` filters, each bad value with its own code.

use serde::Deserialize;

use super::status::states_of_code;
use crate::error::ApiError;
use crate::model::StatusSet;

const MAX_TASK_NAME_FILTER_LEN: usize = 255;
const MAX_GROUP_ID_LEN: usize = 100;
/// The most tasks one list call returns, and the default page.
const MAX_LIST_LIMIT: usize = 100;
const DEFAULT_LIST_LIMIT: usize = 10;
/// The largest `offset` the intl/en pages allow (the zh copy says 10000).
const MAX_LIST_OFFSET: usize = 2_147_483_647;

/// The list query, unparsed so each bad value gets its own code.
#[derive(Debug, Deserialize)]
pub struct ListParams {
    offset: Option<String>,
    limit: Option<String>,
    status: Option<String>,
    task_name: Option<String>,
    group_id: Option<String>,
}

impl ListParams {
    /// `offset` (a start index, default 0) and `limit` (1–100, default 10); `OMS.0051` when off.
    pub fn window(&self) -> Result<(usize, usize), ApiError> {
        let offset = match self.offset.as_deref() {
            None => 0,
            Some(raw) => raw
                .parse::<usize>()
                .ok()
                .filter(|o| *o <= MAX_LIST_OFFSET)
                .ok_or_else(|| {
                    ApiError::invalid_range(format_args!(
                        "`offset` must be an integer from 0 to {MAX_LIST_OFFSET}"
                    ))
                })?,
        };
        let limit = match self.limit.as_deref() {
            None => DEFAULT_LIST_LIMIT,
            Some(raw) => raw
                .parse::<usize>()
                .ok()
                .filter(|l| (1..=MAX_LIST_LIMIT).contains(l))
                .ok_or_else(|| {
                    ApiError::invalid_range(format_args!(
                        "`limit` must be an integer from 1 to {MAX_LIST_LIMIT}"
                    ))
                })?,
        };
        Ok((offset, limit))
    }

    /// The `status` filter: a v2 status code 1–7 (`OMS.0052` otherwise).
    pub fn status(&self) -> Result<Option<StatusSet>, ApiError> {
        self.status
            .as_deref()
            .map(|s| {
                s.parse::<u8>()
                    .ok()
                    .and_then(states_of_code)
                    .ok_or_else(ApiError::invalid_status_v2)
            })
            .transpose()
    }

    /// The `task_name` filter (a substring of the name, at most 255 characters).
    pub fn task_name(&self) -> Result<Option<&str>, ApiError> {
        match self.task_name.as_deref() {
            Some(name) if name.chars().count() > MAX_TASK_NAME_FILTER_LEN => {
                Err(ApiError::invalid_params(format_args!(
                    "`task_name` is longer than {MAX_TASK_NAME_FILTER_LEN} characters"
                )))
            }
            other => Ok(other),
        }
    }

    /// The `group_id` filter (1–100 characters).
    pub fn group_id(&self) -> Result<Option<&str>, ApiError> {
        match self.group_id.as_deref() {
            Some(id) if id.is_empty() || id.chars().count() > MAX_GROUP_ID_LEN => {
                Err(ApiError::invalid_params(format_args!(
                    "`group_id` must be 1 to {MAX_GROUP_ID_LEN} characters"
                )))
            }
            other => Ok(other),
        }
    }
}
