//! The task store: every project's engine behind a lock of its own. Projects
//! are fixed by the credential configuration at start-up, so the map itself
//! needs no lock, and two projects never contend.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::engine::{Limits, Project};

#[derive(Debug)]
pub struct Store {
    projects: HashMap<String, Mutex<Project>>,
}

impl Store {
    /// One empty project per id, each with `limits`.
    pub fn new<'a>(ids: impl IntoIterator<Item = &'a String>, limits: Limits) -> Self {
        let projects = ids
            .into_iter()
            .map(|p| (p.clone(), Mutex::new(Project::new(limits))))
            .collect();
        Self { projects }
    }

    /// Locks a project. The engine never panics while holding the lock, but a
    /// poisoned lock must not turn every later request into a 500 either.
    pub fn lock(&self, project_id: &str) -> Option<MutexGuard<'_, Project>> {
        let lock = self.projects.get(project_id)?;
        Some(lock.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Every project's id.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.projects.keys().map(String::as_str)
    }
}
