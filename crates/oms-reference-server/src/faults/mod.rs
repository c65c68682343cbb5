//! Fault injection as one seam. Every build has the same functions here:
//! with the `faults` cargo feature they are real hooks (`live.rs`); without
//! it, the build you ship, they are no-op twins (`inert.rs`) that the
//! optimiser removes. The call sites in `api`, `middleware` and `state` are
//! therefore unconditional, and they sit around the engine's operations in
//! `api::ops`, so every dialect gets the faults without a line of its own.
//!
//! This module is the only place that names the feature: the one switch below
//! picks the implementation. The catalogue of faults is a leaf of plain data,
//! compiled in every build, so `config` and `main` can name a [`Fault`].

pub mod catalogue;

// The one feature switch of the server (the tidy test keeps it the only one).
#[cfg_attr(feature = "faults", path = "live.rs")]
#[cfg_attr(not(feature = "faults"), path = "inert.rs")]
mod hooks;

pub use catalogue::Fault;
pub use hooks::parse_fault;
pub(crate) use hooks::{
    Bend, FaultState, after_delete, before_delete, before_engine_delete, before_start, before_stop,
    bookkeeping, counted_states, deletes_on_action_route, ghost, ghosts_counted, ghosts_listed,
    malformed_id, prepare, rewrite, skip_auth, stopped, untyped_delete, write_back,
    write_backs_due,
};
