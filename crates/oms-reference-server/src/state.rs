//! Shared server state: the task store, the credential tables, the task id
//! counter, the clock and the fault hooks' memory.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::clock::Clock;
use crate::config::{Config, Secret};
use crate::faults::{self, FaultState};
use crate::store::Store;

/// Cheap to clone; handed to every handler through `State`.
#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Store,
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
        let project_ids = config
            .tokens
            .iter()
            .map(|b| &b.project_id)
            .chain(config.aksk.iter().map(|b| &b.project_id));
        let store = Store::new(project_ids, config.limits);
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
        let faults = FaultState::new(config.fault);
        faults::prepare(&faults, &store);
        Self {
            inner: Arc::new(Inner {
                store,
                tokens,
                aksk,
                next_id: AtomicU64::new(1),
                clock: config.clock,
                max_body_bytes: config.max_body_bytes,
                faults,
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

    /// The task store.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The configured fault and its memory, for the hooks of `faults`.
    pub(crate) fn faults(&self) -> &FaultState {
        &self.inner.faults
    }

    /// A fresh task id, unique across projects.
    pub fn next_task_id(&self) -> u64 {
        self.inner.next_id.fetch_add(1, Ordering::Relaxed)
    }
}
