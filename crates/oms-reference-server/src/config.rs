//! The server's typed configuration. `main.rs` builds it from flags and
//! `OMS_*` variables; tests build it directly. Nothing below reads the
//! process environment.

use std::fmt;
use std::sync::Arc;

use crate::clock::{Clock, SystemClock};
use crate::engine::Limits;
use crate::faults::catalogue::Fault;

/// A credential that must never reach a log, a report or a `Debug` string.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// An `X-Auth-Token` and the one project it is scoped to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenBinding {
    pub token: Secret,
    pub project_id: String,
}

/// An access key, its secret, and the one project it is bound to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AkSkBinding {
    pub ak: String,
    pub sk: Secret,
    pub project_id: String,
}

/// The development AK/SK pairs used when none are configured, one per
/// development project. Public by design, like [`DEV_TOKENS`]; the first is the
/// pair of the known-answer vectors in `signing.md`.
pub const DEV_AKSK: [(&str, &str, &str); 2] = [
    ("DUMMYAK", "DUMMYSK", "0123456789abcdef0123456789abcdef"),
    ("DUMMYAKB", "DUMMYSKB", "fedcba9876543210fedcba9876543210"),
];

/// The development credentials used when none are configured: two tokens for
/// two projects, so project-isolation rules can run out of the box. They are
/// public by design and printed at start-up; never use them outside a laptop or CI.
pub const DEV_TOKENS: [(&str, &str); 2] = [
    ("dev-token-a", "0123456789abcdef0123456789abcdef"),
    ("dev-token-b", "fedcba9876543210fedcba9876543210"),
];

/// Everything the server needs to run.
#[derive(Debug, Clone)]
pub struct Config {
    pub tokens: Vec<TokenBinding>,
    pub aksk: Vec<AkSkBinding>,
    pub limits: Limits,
    /// Largest accepted request body, in bytes; larger ones get 413.
    pub max_body_bytes: usize,
    pub clock: Arc<dyn Clock>,
    /// A deliberate bug to inject; `None` is the faithful server. Only a
    /// build with the `faults` feature can inject one: the others refuse a
    /// `Some` when the state is built.
    pub fault: Option<Fault>,
}

impl Config {
    /// The development AK/SK set.
    pub fn dev_aksk() -> Vec<AkSkBinding> {
        DEV_AKSK
            .iter()
            .map(|(ak, sk, project)| AkSkBinding {
                ak: (*ak).to_owned(),
                sk: Secret::new(*sk),
                project_id: (*project).to_owned(),
            })
            .collect()
    }

    /// The development token set.
    pub fn dev_tokens() -> Vec<TokenBinding> {
        DEV_TOKENS
            .iter()
            .map(|(token, project)| TokenBinding {
                token: Secret::new(*token),
                project_id: (*project).to_owned(),
            })
            .collect()
    }
}

impl Default for Config {
    /// Development credentials, default limits, the wall clock.
    fn default() -> Self {
        Self {
            tokens: Self::dev_tokens(),
            aksk: Self::dev_aksk(),
            limits: Limits::default(),
            max_body_bytes: 64 * 1024,
            clock: Arc::new(SystemClock),
            fault: None,
        }
    }
}
