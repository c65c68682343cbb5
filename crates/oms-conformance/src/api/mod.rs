//! The OMS task API as the harness uses it, in a [`Dialect`]: the operations
//! (create, query, list, census, stop, start, delete), each returning the logged
//! exchange, and the decoding of what the target answered into neutral terms
//! ([`TaskState`], the ids of a list page, a [`Census`]). Everything the World,
//! the checks and the cleanup know of a dialect goes through here; the paths,
//! bodies and JSON shapes of each dialect live in its own module (`v1.rs`,
//! `v2.rs`); the dialects of one run share the target, its gates and its
//! request count ([`Api::in_dialect`]).
//! Judgements still read the raw JSON and headers of the exchanges.
//!
//! Every DELETE exchange of the run is kept here, for the whole-run rules
//! (OMS-DEL-016, OMS-DEL-017); other exchanges are only counted, so that memory
//! stays bounded however long a target makes the run poll.
//!
//! Here: the operations of [`Api`], each dispatched to its dialect; `client`
//! holds the value and its sending, `neutral` the neutral terms, `call` what
//! the dialect modules build with, `auth` each project's credentials.
//!
//! Each project has a gate: requests that create or remove tasks hold it shared,
//! and a census of a project holds it exclusively, so that the run's own
//! concurrent scenarios cannot change the count while it is read.

mod auth;
mod call;
mod client;
mod neutral;
mod v1;
mod v2;

use std::sync::Arc;

use serde_json::Value;

pub use self::auth::BadCredentials;
use self::call::{Call, answered};
pub use self::client::Api;
pub use self::neutral::{
    Census, Counted, Delete, Listing, Page, Route, StartKeys, TaskState, Unread,
};
/// Re-exported: `api::Dialect` is the path the crate's users name.
pub use crate::dialect::Dialect;
use crate::http::Exchange;

/// Attempts at a census whose count keeps changing.
const CENSUS_ATTEMPTS: usize = 3;

impl Api {
    /// Creates a task; holds the project's gate shared.
    pub async fn create(&self, p: usize, body: &Value) -> Arc<Exchange> {
        let _gate = self.shared(p).await;
        self.create_ungated(p, body).await
    }

    /// Creates a task without the gate, for a caller that already holds it.
    pub async fn create_ungated(&self, p: usize, body: &Value) -> Arc<Exchange> {
        let call = match self.dialect() {
            Dialect::V1 => v1::create(self.pid(p), body),
            Dialect::V2 => v2::create(self.pid(p), body),
        };
        self.send_for(p, call).await
    }

    pub async fn get(&self, p: usize, id: i64) -> Arc<Exchange> {
        let call = match self.dialect() {
            Dialect::V1 => v1::get(self.pid(p), id),
            Dialect::V2 => v2::get(self.pid(p), id),
        };
        self.send_for(p, call).await
    }

    /// The cheapest read of a project that needs its credentials, to see that
    /// the target answers and accepts them.
    pub async fn probe(&self, p: usize) -> Arc<Exchange> {
        let call = match self.dialect() {
            Dialect::V1 => v1::count(self.pid(p)),
            Dialect::V2 => v2::probe(self.pid(p)),
        };
        self.send_for(p, call).await
    }

    /// Every page of project `p`'s list.
    pub async fn list(&self, p: usize) -> Result<Listing, Unread> {
        match self.dialect() {
            Dialect::V1 => v1::list(self, p).await,
            Dialect::V2 => v2::list(self, p).await,
        }
    }

    /// Project `p`'s count and list, read under its exclusive gate.
    pub async fn census(&self, p: usize) -> Result<Census, Unread> {
        self.census_of(p, None).await
    }

    /// [`Self::census`] of the tasks in `state` only (the list's status filter).
    pub async fn census_in(&self, p: usize, state: TaskState) -> Result<Census, Unread> {
        self.census_of(p, Some(state)).await
    }

    /// The census, read again while its count kept changing (a task of someone
    /// else's came or went), each attempt under the exclusive gate.
    async fn census_of(&self, p: usize, state: Option<TaskState>) -> Result<Census, Unread> {
        for _attempt in 0..CENSUS_ATTEMPTS {
            let exclusive = self.exclusive(p).await;
            let census = self.census_once(p, state).await?;
            drop(exclusive);
            if let Some(census) = census {
                return Ok(census);
            }
        }
        Err(Unread::Inconclusive(
            "the project's task count kept changing while it was read".to_owned(),
        ))
    }

    /// One census, without the gate; `None` when its count changed meanwhile.
    async fn census_once(
        &self,
        p: usize,
        state: Option<TaskState>,
    ) -> Result<Option<Census>, Unread> {
        let number = match state {
            None => None,
            Some(state) => {
                let number = match self.dialect() {
                    Dialect::V1 => v1::status_number(state),
                    Dialect::V2 => v2::status_number(state),
                };
                let Some(number) = number else {
                    return Err(Unread::Inconclusive(format!(
                        "{} has no status number for a {state} task",
                        self.dialect()
                    )));
                };
                Some(number)
            }
        };
        match self.dialect() {
            Dialect::V1 => v1::census(self, p, number).await,
            Dialect::V2 => v2::census(self, p, number).await,
        }
    }

    /// Deletes task `id` of project `p` between two censuses, all under the
    /// project's exclusive gate, so that no other scenario of the run changes
    /// the project meanwhile.
    pub async fn delete_counted(&self, p: usize, id: i64) -> Result<Counted, Unread> {
        let _exclusive = self.exclusive(p).await;
        let changing = || {
            Unread::Inconclusive(
                "the project's task count changed while it was read: someone else uses the project"
                    .to_owned(),
            )
        };
        let before = self.census_once(p, None).await?.ok_or_else(changing)?;
        let call = self.delete_call(p, &id.to_string());
        let delete = answered(self.send_for(p, call).await)?;
        let after = self.census_once(p, None).await?.ok_or_else(changing)?;
        Ok(Counted {
            before,
            delete,
            after,
        })
    }

    /// The id and state of each task a list page lists.
    pub fn page_states(&self, exchange: &Exchange) -> Vec<(i64, Option<TaskState>)> {
        match self.dialect() {
            Dialect::V1 => v1::page_states(exchange),
            Dialect::V2 => v2::page_states(exchange),
        }
    }

    /// Stops a running task; holds the project's gate shared.
    pub async fn stop(&self, p: usize, id: i64) -> Arc<Exchange> {
        let _gate = self.shared(p).await;
        self.stop_ungated(p, id).await
    }

    /// Stops a running task without the gate, for a caller that holds it.
    pub async fn stop_ungated(&self, p: usize, id: i64) -> Arc<Exchange> {
        let call = match self.dialect() {
            Dialect::V1 => v1::stop(self.pid(p), id),
            Dialect::V2 => v2::stop(self.pid(p), id),
        };
        self.send_for(p, call).await
    }

    /// Starts a stopped or failed task again with the buckets' `keys`; holds the
    /// project's gate shared.
    pub async fn start(&self, p: usize, id: i64, keys: &StartKeys) -> Arc<Exchange> {
        let _gate = self.shared(p).await;
        self.start_ungated(p, id, keys).await
    }

    /// [`Self::start`] without the gate, for a caller that holds it.
    pub async fn start_ungated(&self, p: usize, id: i64, keys: &StartKeys) -> Arc<Exchange> {
        let call = match self.dialect() {
            Dialect::V1 => v1::start(self.pid(p), id, keys),
            Dialect::V2 => v2::start(self.pid(p), id, keys),
        };
        self.send_for(p, call).await
    }

    /// `DELETE` of `segment` (sent as is) through project `path_project`'s path,
    /// with `auth`, an optional body and query.
    pub async fn delete(
        &self,
        path_project: usize,
        segment: &str,
        delete: Delete,
    ) -> Arc<Exchange> {
        let _gate = self.shared(path_project).await;
        self.delete_ungated(path_project, segment, delete).await
    }

    /// [`Self::delete`] without the gate, for a caller that holds it.
    pub async fn delete_ungated(
        &self,
        path_project: usize,
        segment: &str,
        delete: Delete,
    ) -> Arc<Exchange> {
        let auth = delete.auth.unwrap_or_else(|| self.auth(path_project));
        let mut call = self.delete_call(path_project, segment);
        call.target.push_str(&delete.query);
        call.body = delete.body;
        self.send_as(call, auth, delete.raw, delete.shape).await
    }

    /// The dialect's `DELETE` of `segment` (sent as is) in project `p`.
    fn delete_call(&self, p: usize, segment: &str) -> Call {
        match self.dialect() {
            Dialect::V1 => v1::delete(self.pid(p), segment),
            Dialect::V2 => v2::delete(self.pid(p), segment),
        }
    }

    /// `DELETE` of a route beside task `id` that is not the task itself (the
    /// collection, an action of the task, a sibling route): `None` when the
    /// dialect has no such route.
    pub async fn delete_route(&self, p: usize, id: i64, route: Route) -> Option<Arc<Exchange>> {
        let call = match self.dialect() {
            // v1's start, stop and bandwidth are a `PUT` of the task itself:
            // no route of its own sits beside it (OMS-DEL-021 is v2's).
            Dialect::V1 => return None,
            Dialect::V2 => v2::delete_route(self.pid(p), id, route),
        };
        let _gate = self.shared(p).await;
        Some(self.send_for(p, call).await)
    }

    /// The state in a task object (the body of a `GET`, an item of a list).
    pub fn state(&self, task: &Value) -> Option<TaskState> {
        match self.dialect() {
            Dialect::V1 => v1::state(task),
            Dialect::V2 => v2::state(task),
        }
    }

    /// The milliseconds a task object says are left of its work
    /// (`left_time`, named alike in v1 and v2), if it says.
    pub fn left_time(&self, task: &Value) -> Option<u64> {
        task.get("left_time")?.as_u64()
    }

    /// The state of the task a `GET` answered, whatever the HTTP status.
    pub fn status(&self, exchange: &Exchange) -> Option<TaskState> {
        self.state(exchange.response.as_ref()?.json.as_ref()?)
    }

    /// The task ids of a list page; `None` unless it is a page of tasks.
    pub fn page(&self, exchange: &Exchange) -> Option<Vec<i64>> {
        match self.dialect() {
            Dialect::V1 => v1::page(exchange),
            Dialect::V2 => v2::page(exchange),
        }
    }

    /// The fields of a task object that grow while it transfers.
    pub fn progress_fields(&self) -> &'static [&'static str] {
        match self.dialect() {
            Dialect::V1 => &v1::PROGRESS,
            Dialect::V2 => &v2::PROGRESS,
        }
    }

    /// The values of [`Self::progress_fields`] a `GET` answered (0 when absent).
    pub fn progress(&self, exchange: &Exchange) -> Vec<f64> {
        let json = exchange.response.as_ref().and_then(|r| r.json.as_ref());
        self.progress_fields()
            .iter()
            .map(|f| json.and_then(|j| j.get(*f)?.as_f64()).unwrap_or(0.0))
            .collect()
    }
}
