//! The [`Api`] value: one target in one dialect. The dialects of one run share
//! its HTTP client, its projects and their gates, the count of requests and
//! whether the target still answers ([`Api::in_dialect`]); each keeps its own
//! log of DELETE exchanges. Every request of every operation goes out through
//! [`Api::send`], which keeps that count and that log.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::RwLock;

use super::call::Call;
use crate::dialect::Dialect;
use crate::http::{Auth, Client, Exchange, Method, Outgoing, Shape};
use crate::project::Project;

/// Consecutive transport failures after which the target counts as gone.
const GIVE_UP_AFTER: usize = 8;

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
    pub(super) async fn send_as(
        &self,
        call: Call,
        auth: Auth,
        raw: bool,
        shape: Shape,
    ) -> Arc<Exchange> {
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
    pub(super) async fn send_for(&self, p: usize, call: Call) -> Arc<Exchange> {
        self.send_as(call, self.auth(p), false, Shape::Kit).await
    }

    pub(super) fn pid(&self, p: usize) -> &str {
        &self.shared.projects[p].id
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
}
