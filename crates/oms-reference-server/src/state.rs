//! Shared server state: one lock per project, the token table and the task id
//! counter. Projects are fixed by the credential configuration at start-up, so
//! the map itself needs no lock; two projects never contend.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::clock::Clock;
use crate::config::{Config, Secret};
use crate::engine::Project;
use crate::faults::FaultState;

/// Cheap to clone; handed to every handler through `State`.
#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    projects: HashMap<String, Mutex<Project>>,
    /// Token → the project it is scoped to.
    tokens: HashMap<String, String>,
    /// Access key → (secret key, the project it is bound to).
    aksk: HashMap<String, (Secret, String)>,
    next_id: AtomicU64,
    clock: Arc<dyn Clock>,
    max_body_bytes: usize,
    /// Empty in a build without the `faults` feature.
    faults: FaultState,
}

impl AppState {
    pub fn new(config: Config) -> Self {
        let projects = config
            .tokens
            .iter()
            .map(|b| &b.project_id)
            .chain(config.aksk.iter().map(|b| &b.project_id))
            .map(|p| (p.clone(), Mutex::new(Project::new(config.limits))))
            .collect();
        let tokens = config
            .tokens
            .iter()
            .map(|b| (b.token.expose().to_owned(), b.project_id.clone()))
            .collect();
        let aksk = config
            .aksk
            .iter()
            .map(|b| (b.ak.clone(), (b.sk.clone(), b.project_id.clone())))
            .collect();
        Self {
            inner: Arc::new(Inner {
                projects,
                tokens,
                aksk,
                next_id: AtomicU64::new(1),
                clock: config.clock,
                max_body_bytes: config.max_body_bytes,
                faults: FaultState::new(config.fault),
            }),
        }
    }

    pub fn now(&self) -> u64 {
        self.inner.clock.now_ms()
    }

    pub fn max_body_bytes(&self) -> usize {
        self.inner.max_body_bytes
    }

    /// The project a token is scoped to.
    pub fn project_of_token(&self, token: &str) -> Option<&str> {
        self.inner.tokens.get(token).map(String::as_str)
    }

    /// The secret key of an access key and the project it is bound to.
    pub fn secret_of_access_key(&self, ak: &str) -> Option<(&Secret, &str)> {
        self.inner.aksk.get(ak).map(|(sk, p)| (sk, p.as_str()))
    }

    /// Locks a project. The engine never panics while holding the lock, but a
    /// poisoned lock must not turn every later request into a 500 either.
    pub fn project(&self, project_id: &str) -> Option<MutexGuard<'_, Project>> {
        let lock = self.inner.projects.get(project_id)?;
        Some(lock.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// The configured fault and its memory, for the hooks of `faults`.
    pub(crate) fn faults(&self) -> &FaultState {
        &self.inner.faults
    }

    /// Every configured project.
    pub fn project_ids(&self) -> impl Iterator<Item = &str> {
        self.inner.projects.keys().map(String::as_str)
    }

    /// A fresh task id, unique across projects.
    pub fn next_task_id(&self) -> u64 {
        self.inner.next_id.fetch_add(1, Ordering::Relaxed)
    }
}
