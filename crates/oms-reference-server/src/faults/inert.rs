//! The fault hooks of the build you ship (no `faults` feature): the same
//! functions as `live.rs`, each doing nothing, so every call site stays
//! unconditional and the optimiser removes it. `FaultState` is empty, and no
//! fault can be configured: `--fault` is refused, and a [`Config`] that names
//! one is a programming error caught when the state is built.
//!
//! [`Config`]: crate::Config

use std::time::Duration;

use axum::http::Method;
use axum::response::Response;

use super::catalogue::Fault;
use crate::engine::{EngineError, Project};
use crate::error::ApiError;
use crate::model::{Snapshot, StatusSet};
use crate::store::Store;

/// Refuses `--fault`: this build has none.
pub fn parse_fault(name: &str) -> Result<Fault, String> {
    Err(format!(
        "cannot inject {name:?}: this build has no fault injection (it was built without the `faults` feature)"
    ))
}

/// Nothing to remember.
#[derive(Debug, Default)]
pub(crate) struct FaultState;

impl FaultState {
    pub(crate) fn new(fault: Option<Fault>) -> Self {
        assert!(
            fault.is_none(),
            "fault {fault:?} configured, but this build has no fault injection (enable the `faults` feature)"
        );
        Self
    }
}

/// Always [`Bend::Proceed`].
pub(crate) enum Bend {
    Proceed(Kept),
    #[expect(
        dead_code,
        reason = "never built without faults; present so the call site reads the same in both builds"
    )]
    Answer(Result<Response, ApiError>),
}

/// Nothing is kept.
#[derive(Debug, Default)]
pub(crate) struct Kept;

pub(crate) fn prepare(_faults: &FaultState, _store: &Store) {}

pub(crate) fn before_stop(
    _faults: &FaultState,
    _project: &mut Project,
    _id: u64,
    _now: u64,
) -> Result<(), EngineError> {
    Ok(())
}

pub(crate) fn malformed_id(
    _faults: &FaultState,
    _store: &Store,
    _now: u64,
    _method: &Method,
    _found: Option<(&str, &str)>,
) -> Option<Response> {
    None
}

pub(crate) fn before_delete(
    _faults: &FaultState,
    _store: &Store,
    _now: u64,
    _id: u64,
    _has_query: bool,
) -> Option<Result<Response, ApiError>> {
    None
}

pub(crate) fn untyped_delete(_faults: &FaultState, _has_content_type: bool) -> Option<ApiError> {
    None
}

pub(crate) fn deletes_on_action_route(_faults: &FaultState) -> bool {
    false
}

pub(crate) fn before_engine_delete(
    _faults: &FaultState,
    _project: &mut Project,
    _id: u64,
    _now: u64,
) -> Bend {
    Bend::Proceed(Kept)
}

pub(crate) fn after_delete(
    _faults: &FaultState,
    _project: &mut Project,
    _project_id: &str,
    _id: u64,
    _now: u64,
    _kept: Kept,
) -> Option<Response> {
    None
}

/// Nothing is copied.
#[derive(Debug)]
pub(crate) struct Copied;

pub(crate) fn stopped(
    _faults: &FaultState,
    _project: &mut Project,
    _id: u64,
    _now: u64,
) -> Option<Copied> {
    None
}

pub(crate) fn before_start(
    _faults: &FaultState,
    _store: &Store,
    _project_id: &str,
    _id: u64,
    _now: u64,
) -> Result<Option<Copied>, EngineError> {
    Ok(None)
}

pub(crate) fn bookkeeping(_copied: &Copied) -> Duration {
    Duration::ZERO
}

pub(crate) fn write_back(_project: &mut Project, _copied: Copied, _now: u64) {}

pub(crate) fn write_backs_due(
    _faults: &FaultState,
    _project: &mut Project,
    _project_id: &str,
    _now: impl FnOnce() -> u64,
) {
}

pub(crate) fn ghost(_faults: &FaultState, _project: &str, _id: u64) -> Option<Snapshot> {
    None
}

pub(crate) fn ghosts_listed(_faults: &FaultState, _project: &str, _start: usize) -> Vec<Snapshot> {
    Vec::new()
}

pub(crate) fn ghosts_counted(_faults: &FaultState, _project: &str, _unfiltered: bool) -> usize {
    0
}

pub(crate) fn counted_states(
    _faults: &FaultState,
    _states: Option<StatusSet>,
) -> Option<Option<StatusSet>> {
    None
}

pub(crate) fn skip_auth(_faults: &FaultState) -> bool {
    false
}

pub(crate) fn rewrite(_faults: &FaultState, _response: &mut Response) {}
