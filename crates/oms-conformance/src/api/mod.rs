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
//! Each project has a gate: requests that create or remove tasks hold it shared,
//! and a census of a project holds it exclusively, so that the run's own
//! concurrent scenarios cannot change the count while it is read.

mod auth;
mod v1;
mod v2;

/// Re-exported: `api::Dialect` is the path the crate's users name.
pub use crate::dialect::Dialect;
pub use auth::BadCredentials;

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::sync::RwLock;

use crate::http::{Auth, Client, Exchange, Method, Outgoing, Shape};
use crate::project::Project;
use crate::secret::Secret;

/// Consecutive transport failures after which the target counts as gone.
const GIVE_UP_AFTER: usize = 8;

/// Attempts at a census whose count keeps changing.
const CENSUS_ATTEMPTS: usize = 3;

/// A task's state, whatever number a dialect gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskState {
    /// Created, not yet schedulable (v1 only: v2 has no such state).
    Initializing,
    /// Waiting to be scheduled (the parallel-task quota is full).
    Waiting,
    Running,
    Stopped,
    Failed,
    Succeeded,
    /// Retrying after transient failures (v2 only: 6).
    Retrying,
    /// Being stopped: between the stop and "stopped" (v2 only: 7).
    Pausing,
    /// A status value the dialect does not define, as the target sent it.
    Other(i64),
}

impl TaskState {
    /// Whether the engine moves a task in this state no further by itself.
    pub fn rests(self) -> bool {
        matches!(self, Self::Stopped | Self::Failed | Self::Succeeded)
    }

    /// Whether the task is at work, so that its delete is refused: running,
    /// retrying or pausing.
    pub fn busy(self) -> bool {
        matches!(self, Self::Running | Self::Retrying | Self::Pausing)
    }
}

impl fmt::Display for TaskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Initializing => f.write_str("initializing"),
            Self::Waiting => f.write_str("waiting"),
            Self::Running => f.write_str("running"),
            Self::Stopped => f.write_str("stopped"),
            Self::Failed => f.write_str("failed"),
            Self::Succeeded => f.write_str("succeeded"),
            Self::Retrying => f.write_str("retrying"),
            Self::Pausing => f.write_str("pausing"),
            Self::Other(value) => write!(f, "{value} (undefined)"),
        }
    }
}

/// One page of a project's list, and the task ids on it.
#[derive(Debug, Clone)]
pub struct Page {
    pub exchange: Arc<Exchange>,
    pub ids: Vec<i64>,
}

/// Every page of a project's list, in order.
#[derive(Debug, Clone, Default)]
pub struct Listing {
    pub pages: Vec<Page>,
}

impl Listing {
    /// How many tasks the pages list.
    pub fn len(&self) -> usize {
        self.pages.iter().map(|p| p.ids.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn contains(&self, id: i64) -> bool {
        self.page_with(id).is_some()
    }

    /// The first page that lists `id`.
    pub fn page_with(&self, id: i64) -> Option<&Arc<Exchange>> {
        self.pages
            .iter()
            .find(|p| p.ids.contains(&id))
            .map(|p| &p.exchange)
    }

    pub fn exchanges(&self) -> Vec<&Arc<Exchange>> {
        self.pages.iter().map(|p| &p.exchange).collect()
    }
}

/// A project's task count and its list, read while the run changed nothing in
/// the project and the count did not change.
#[derive(Debug, Clone)]
pub struct Census {
    pub count: i64,
    /// The answer that gave the count, when it is not a page of the list.
    pub count_answer: Option<Arc<Exchange>>,
    pub listing: Listing,
}

impl Census {
    /// The answers behind the census: the count's, then the pages.
    pub fn evidence(&self) -> Vec<&Arc<Exchange>> {
        self.count_answer
            .iter()
            .chain(self.listing.pages.iter().map(|p| &p.exchange))
            .collect()
    }
}

/// A delete between two censuses of its project ([`Api::delete_counted`]).
#[derive(Debug, Clone)]
pub struct Counted {
    pub before: Census,
    pub delete: Arc<Exchange>,
    pub after: Census,
}

/// Why a list or a census could not be read.
#[derive(Debug, Clone)]
pub enum Unread {
    /// A request got no answer: the exchange says why.
    Transport(Arc<Exchange>),
    /// The answers did not say what was asked (a precondition of the judgement
    /// not met), with what was wrong.
    Inconclusive(String),
}

/// The keys a start needs: those of the source and the target bucket.
#[derive(Debug, Clone)]
pub struct StartKeys {
    pub source_ak: Secret,
    pub source_sk: Secret,
    pub target_ak: Secret,
    pub target_sk: Secret,
}

impl StartKeys {
    /// The keys of a create body: `src_node.ak`/`sk` and `dst_node.ak`/`sk`,
    /// which v1 and v2 name alike.
    pub fn from_create_body(body: &Value) -> Option<Self> {
        let key = |node: &str, name: &str| body.get(node)?.get(name)?.as_str().map(Secret::new);
        Some(Self {
            source_ak: key("src_node", "ak")?,
            source_sk: key("src_node", "sk")?,
            target_ak: key("dst_node", "ak")?,
            target_sk: key("dst_node", "sk")?,
        })
    }
}

/// A request of a dialect, before it gets its credentials.
#[derive(Debug, Clone, PartialEq)]
struct Call {
    method: Method,
    /// Path and query below the base URL.
    target: String,
    body: Option<Value>,
}

impl Call {
    fn new(method: Method, target: String, body: Option<Value>) -> Self {
        Self {
            method,
            target,
            body,
        }
    }
}

/// Pages of a list a dialect reads at most.
const MAX_PAGES: usize = 100;

/// The id and state of each task object of a list page, in a dialect's
/// `state` reading.
fn tasks_and_states(
    tasks: Option<&Vec<Value>>,
    state: fn(&Value) -> Option<TaskState>,
) -> Vec<(i64, Option<TaskState>)> {
    tasks
        .into_iter()
        .flatten()
        .filter_map(|t| Some((t.get("id")?.as_i64()?, state(t))))
        .collect()
}

/// What the dialects of one run share: the target, its projects and their
/// gates (a census in one dialect must hold off creates in the other), and
/// whether the target still answers.
#[derive(Debug)]
struct Shared {
    http: Client,
    projects: Vec<Project>,
    gates: Vec<RwLock<()>>,
    sent: AtomicUsize,
    failures_in_a_row: AtomicUsize,
    target_gone: AtomicBool,
}

/// The task API of one target in one dialect.
#[derive(Debug)]
pub struct Api {
    shared: Arc<Shared>,
    dialect: Dialect,
    /// This dialect's DELETE exchanges, for its whole-run rules.
    deletes: Mutex<Vec<Arc<Exchange>>>,
}

impl Api {
    pub fn new(http: Client, dialect: Dialect, projects: Vec<Project>) -> Self {
        let gates = projects.iter().map(|_| RwLock::new(())).collect();
        let shared = Shared {
            http,
            projects,
            gates,
            sent: AtomicUsize::new(0),
            failures_in_a_row: AtomicUsize::new(0),
            target_gone: AtomicBool::new(false),
        };
        Self {
            shared: Arc::new(shared),
            dialect,
            deletes: Mutex::new(Vec::new()),
        }
    }

    /// The same target in `dialect`: one client, one set of gates, one count
    /// of requests; a log of deletes of its own.
    pub fn in_dialect(&self, dialect: Dialect) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
            dialect,
            deletes: Mutex::new(Vec::new()),
        }
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    pub fn base_url(&self) -> &str {
        self.shared.http.base_url()
    }

    pub fn projects(&self) -> &[Project] {
        &self.shared.projects
    }

    /// Whether the target stopped answering (many transport failures in a row).
    pub fn target_gone(&self) -> bool {
        self.shared.target_gone.load(Ordering::Relaxed)
    }

    /// Every DELETE exchange so far, in the order they completed.
    pub fn deletes(&self) -> Vec<Arc<Exchange>> {
        self.deletes
            .lock()
            .map(|log| log.clone())
            .unwrap_or_default()
    }

    /// How many requests the run sent.
    pub fn sent(&self) -> usize {
        self.shared.sent.load(Ordering::Relaxed)
    }

    pub async fn send(&self, out: Outgoing) -> Arc<Exchange> {
        let exchange = Arc::new(self.shared.http.send(&out).await);
        if exchange.response.is_some() {
            self.shared.failures_in_a_row.store(0, Ordering::Relaxed);
        } else if self
            .shared
            .failures_in_a_row
            .fetch_add(1, Ordering::Relaxed)
            + 1
            >= GIVE_UP_AFTER
        {
            self.shared.target_gone.store(true, Ordering::Relaxed);
        }
        self.shared.sent.fetch_add(1, Ordering::Relaxed);
        if exchange.method == Method::Delete
            && let Ok(mut log) = self.deletes.lock()
        {
            log.push(Arc::clone(&exchange));
        }
        exchange
    }

    /// Sends `call` with `auth`, in the kit's own shape unless `shape` says.
    async fn send_as(&self, call: Call, auth: Auth, raw: bool, shape: Shape) -> Arc<Exchange> {
        self.send(Outgoing {
            method: call.method,
            target: call.target,
            auth,
            body: call.body.map(|b| b.to_string().into_bytes()),
            raw,
            shape,
        })
        .await
    }

    /// Sends `call` with project `p`'s credentials.
    async fn send_for(&self, p: usize, call: Call) -> Arc<Exchange> {
        self.send_as(call, self.auth(p), false, Shape::Kit).await
    }

    fn pid(&self, p: usize) -> &str {
        &self.shared.projects[p].id
    }

    /// Creates a task; holds the project's gate shared.
    pub async fn create(&self, p: usize, body: &Value) -> Arc<Exchange> {
        let _gate = self.shared.gates[p].read().await;
        self.create_ungated(p, body).await
    }

    /// Creates a task without the gate, for a caller that already holds it.
    pub async fn create_ungated(&self, p: usize, body: &Value) -> Arc<Exchange> {
        let call = match self.dialect {
            Dialect::V1 => v1::create(self.pid(p), body),
            Dialect::V2 => v2::create(self.pid(p), body),
        };
        self.send_for(p, call).await
    }

    pub async fn get(&self, p: usize, id: i64) -> Arc<Exchange> {
        let call = match self.dialect {
            Dialect::V1 => v1::get(self.pid(p), id),
            Dialect::V2 => v2::get(self.pid(p), id),
        };
        self.send_for(p, call).await
    }

    /// The cheapest read of a project that needs its credentials, to see that
    /// the target answers and accepts them.
    pub async fn probe(&self, p: usize) -> Arc<Exchange> {
        let call = match self.dialect {
            Dialect::V1 => v1::count(self.pid(p)),
            Dialect::V2 => v2::probe(self.pid(p)),
        };
        self.send_for(p, call).await
    }

    /// Every page of project `p`'s list.
    pub async fn list(&self, p: usize) -> Result<Listing, Unread> {
        match self.dialect {
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
                let number = match self.dialect {
                    Dialect::V1 => v1::status_number(state),
                    Dialect::V2 => v2::status_number(state),
                };
                let Some(number) = number else {
                    return Err(Unread::Inconclusive(format!(
                        "{} has no status number for a {state} task",
                        self.dialect
                    )));
                };
                Some(number)
            }
        };
        match self.dialect {
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
        match self.dialect {
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
        let call = match self.dialect {
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
        let call = match self.dialect {
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
        match self.dialect {
            Dialect::V1 => v1::delete(self.pid(p), segment),
            Dialect::V2 => v2::delete(self.pid(p), segment),
        }
    }

    /// `DELETE` of a route beside task `id` that is not the task itself (the
    /// collection, an action of the task, a sibling route): `None` when the
    /// dialect has no such route.
    pub async fn delete_route(&self, p: usize, id: i64, route: Route) -> Option<Arc<Exchange>> {
        let call = match self.dialect {
            // v1's start, stop and bandwidth are a `PUT` of the task itself:
            // no route of its own sits beside it (OMS-DEL-021 is v2's).
            Dialect::V1 => return None,
            Dialect::V2 => v2::delete_route(self.pid(p), id, route),
        };
        let _gate = self.shared.gates[p].read().await;
        Some(self.send_for(p, call).await)
    }

    /// Holds project `p`'s gate shared, for a caller that sends several
    /// requests under it (a race, whose deletes must not queue behind a census
    /// waiting for the gate while the race's stop is in flight).
    pub async fn shared(&self, p: usize) -> tokio::sync::RwLockReadGuard<'_, ()> {
        self.shared.gates[p].read().await
    }

    /// Holds project `p`'s gate exclusively: no task of the run is created or
    /// removed there until the guard drops.
    pub async fn exclusive(&self, p: usize) -> tokio::sync::RwLockWriteGuard<'_, ()> {
        self.shared.gates[p].write().await
    }

    /// The state in a task object (the body of a `GET`, an item of a list).
    pub fn state(&self, task: &Value) -> Option<TaskState> {
        match self.dialect {
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
        match self.dialect {
            Dialect::V1 => v1::page(exchange),
            Dialect::V2 => v2::page(exchange),
        }
    }

    /// The fields of a task object that grow while it transfers.
    pub fn progress_fields(&self) -> &'static [&'static str] {
        match self.dialect {
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

/// `exchange` if it got an answer.
fn answered(exchange: Arc<Exchange>) -> Result<Arc<Exchange>, Unread> {
    if exchange.response.is_some() {
        Ok(exchange)
    } else {
        Err(Unread::Transport(exchange))
    }
}

/// Options of a `DELETE`; the default is a plain delete with the path project's
/// credentials.
#[derive(Debug, Default)]
pub struct Delete {
    /// Other credentials than the path project's.
    pub auth: Option<Auth>,
    pub body: Option<Value>,
    /// Appended to the path as is, `?` included.
    pub query: String,
    /// Send the request target unnormalized.
    pub raw: bool,
    /// Whose request it looks like (the kit's, the SDK's, Terraform's).
    pub shape: Shape,
}

/// A route beside a task's own that a `DELETE` must not treat as the task
/// (`oms-v2-api.md` §2: sibling routes share the `/tasks/…` namespace).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// The collection itself (`…/tasks`).
    Collection,
    /// `…/tasks/batch-update`, a sibling route whose last segment is not an id.
    BatchUpdate,
    /// `…/tasks/{id}/stop`.
    Stop,
    /// `…/tasks/{id}/start`.
    Start,
    /// `…/tasks/{id}/bandwidth-policy`.
    BandwidthPolicy,
}

impl Route {
    pub const ALL: [Route; 5] = [
        Route::Collection,
        Route::BatchUpdate,
        Route::Stop,
        Route::Start,
        Route::BandwidthPolicy,
    ];
}
