//! The neutral terms the API layer decodes a dialect's answers into, and asks
//! with: a [`TaskState`] whatever number a dialect gives it, the pages of a
//! [`Listing`], a [`Census`], why one could not be read ([`Unread`]), the
//! [`StartKeys`] of a start, the options of a [`Delete`] and a [`Route`]
//! beside a task. No dialect's number or path is here.

use std::fmt;
use std::sync::Arc;

use serde_json::Value;

use crate::http::{Auth, Exchange, Shape};
use crate::secret::Secret;

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
