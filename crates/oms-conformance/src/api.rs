//! The OMS v1 task API as the harness uses it: paths, credentials and the
//! operations (create, query, list, count, stop, delete), each returning the logged
//! exchange. Every DELETE exchange of the run is kept here, for the whole-run rules
//! (OMS-DEL-016, OMS-DEL-017); other exchanges are only counted, so that memory
//! stays bounded however long a target makes the run poll.
//!
//! Each project has a gate: requests that create or remove tasks hold it shared,
//! and a census of a project (list plus count) holds it exclusively, so that the
//! run's own concurrent scenarios cannot change the count while it is read.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::sync::RwLock;

use crate::config::{Credential, Project};
use crate::http::{Auth, Client, Exchange, Method, Outgoing, Signing};

/// Consecutive transport failures after which the target counts as gone.
const GIVE_UP_AFTER: usize = 8;

#[derive(Debug)]
pub struct Api {
    http: Client,
    projects: Vec<Project>,
    gates: Vec<RwLock<()>>,
    deletes: Mutex<Vec<Arc<Exchange>>>,
    sent: AtomicUsize,
    failures_in_a_row: AtomicUsize,
    target_gone: AtomicBool,
}

impl Api {
    pub fn new(http: Client, projects: Vec<Project>) -> Self {
        let gates = projects.iter().map(|_| RwLock::new(())).collect();
        Self {
            http,
            projects,
            gates,
            deletes: Mutex::new(Vec::new()),
            sent: AtomicUsize::new(0),
            failures_in_a_row: AtomicUsize::new(0),
            target_gone: AtomicBool::new(false),
        }
    }

    pub fn base_url(&self) -> &str {
        self.http.base_url()
    }

    pub fn projects(&self) -> &[Project] {
        &self.projects
    }

    /// Whether the target stopped answering (many transport failures in a row).
    pub fn target_gone(&self) -> bool {
        self.target_gone.load(Ordering::Relaxed)
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
        self.sent.load(Ordering::Relaxed)
    }

    /// The credentials of project `p`.
    pub fn auth(&self, p: usize) -> Auth {
        let project = &self.projects[p];
        match &project.credential {
            Credential::Token(token) => Auth::Token {
                token: token.clone(),
                env: project.token_env,
            },
            Credential::AkSk {
                ak,
                sk,
                security_token,
            } => Auth::Signed(Signing {
                ak: ak.clone(),
                sk: sk.clone(),
                security_token: security_token.clone(),
                project_id: project.id.clone(),
                whose: format!("the {} project's AK/SK", project.label),
                clock_offset: 0,
                tamper: false,
            }),
        }
    }

    /// `/v1/{project_id}/objectstorage/task` plus `suffix`.
    pub fn tasks_path(&self, p: usize, suffix: &str) -> String {
        format!("/v1/{}/objectstorage/task{suffix}", self.projects[p].id)
    }

    pub async fn send(&self, out: Outgoing) -> Arc<Exchange> {
        let exchange = Arc::new(self.http.send(&out).await);
        if exchange.response.is_some() {
            self.failures_in_a_row.store(0, Ordering::Relaxed);
        } else if self.failures_in_a_row.fetch_add(1, Ordering::Relaxed) + 1 >= GIVE_UP_AFTER {
            self.target_gone.store(true, Ordering::Relaxed);
        }
        self.sent.fetch_add(1, Ordering::Relaxed);
        if exchange.method == Method::Delete
            && let Ok(mut log) = self.deletes.lock()
        {
            log.push(Arc::clone(&exchange));
        }
        exchange
    }

    fn request(
        &self,
        method: Method,
        target: String,
        auth: Auth,
        body: Option<&Value>,
    ) -> Outgoing {
        Outgoing {
            method,
            target,
            auth,
            body: body.map(|b| b.to_string().into_bytes()),
            raw: false,
        }
    }

    /// Creates a task; holds the project's gate shared.
    pub async fn create(&self, p: usize, body: &Value) -> Arc<Exchange> {
        let _gate = self.gates[p].read().await;
        self.create_ungated(p, body).await
    }

    /// Creates a task without the gate, for a caller that already holds it.
    pub async fn create_ungated(&self, p: usize, body: &Value) -> Arc<Exchange> {
        let out = self.request(
            Method::Post,
            self.tasks_path(p, ""),
            self.auth(p),
            Some(body),
        );
        self.send(out).await
    }

    pub async fn get(&self, p: usize, id: i64) -> Arc<Exchange> {
        let out = self.request(
            Method::Get,
            self.tasks_path(p, &format!("/{id}")),
            self.auth(p),
            None,
        );
        self.send(out).await
    }

    pub async fn list_page(&self, p: usize, start: usize) -> Arc<Exchange> {
        let target = self.tasks_path(p, &format!("?start={start}&limit=100"));
        self.send(self.request(Method::Get, target, self.auth(p), None))
            .await
    }

    pub async fn count(&self, p: usize) -> Arc<Exchange> {
        let target = self.tasks_path(p, "?totalcount=true");
        self.send(self.request(Method::Get, target, self.auth(p), None))
            .await
    }

    pub async fn stop(&self, p: usize, id: i64) -> Arc<Exchange> {
        let _gate = self.gates[p].read().await;
        let body = serde_json::json!({"operation": "stop"});
        let out = self.request(
            Method::Put,
            self.tasks_path(p, &format!("/{id}")),
            self.auth(p),
            Some(&body),
        );
        self.send(out).await
    }

    /// `DELETE` of `segment` (sent as is) through project `path_project`'s path,
    /// with `auth`, an optional body and query.
    pub async fn delete(
        &self,
        path_project: usize,
        segment: &str,
        delete: Delete,
    ) -> Arc<Exchange> {
        let _gate = self.gates[path_project].read().await;
        let auth = delete.auth.unwrap_or_else(|| self.auth(path_project));
        let target = self.tasks_path(path_project, &format!("/{segment}{}", delete.query));
        let mut out = self.request(Method::Delete, target, auth, delete.body.as_ref());
        out.raw = delete.raw;
        self.send(out).await
    }

    /// Holds project `p`'s gate exclusively: no task of the run is created or
    /// removed there until the guard drops.
    pub async fn exclusive(&self, p: usize) -> tokio::sync::RwLockWriteGuard<'_, ()> {
        self.gates[p].write().await
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
}
